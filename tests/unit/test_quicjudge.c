/*
 * test_quicjudge.c: live QUIC verdicts as the packet queue asks for them:
 * raw IPv4 and IPv6 datagrams carrying the client Initials of RFC 9001
 * and RFC 9369 (Appendix A.2 of each: a ClientHello for example.com), in
 * through quicjudge_datagram(), verdict and mark out.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "neigh.h"
#include "nfqueue.h"
#include "policy.h"

#define FIXTURES	HUSHD_SRCDIR "/tests/fixtures/quic/"

static char dir[] = "/tmp/hushd-quicjudge-XXXXXX";
static uint8_t v1[1500], v2[1500];
static size_t v1_len, v2_len;

/* A hex fixture: lines starting with # are comments. */
static size_t
read_hex(const char *path, uint8_t *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		for (char *c = line; c[0] && c[1]; c += 2) {
			unsigned byte;
			if (c[0] == '\n' || sscanf(c, "%2x", &byte) != 1)
				break;
			assert_true(n < cap);
			out[n++] = (uint8_t)byte;
		}
	}
	fclose(f);
	return n;
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	v1_len = read_hex(FIXTURES "rfc9001-a2-client-initial.hex", v1,
	    sizeof(v1));
	v2_len = read_hex(FIXTURES "rfc9369-a2-client-initial-v2.hex", v2,
	    sizeof(v2));
	return v1_len == 1200 && v2_len == 1200 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* An IPv4 or IPv6 datagram from port 50000 to port 443 around payload. */
static size_t
datagram(bool v6, const uint8_t *payload, size_t len, uint8_t *out)
{
	size_t ip = v6 ? 40 : 20, ulen = 8 + len;

	memset(out, 0, ip + 8);
	if (v6) {
		out[0] = 0x60;
		out[4] = (uint8_t)(ulen >> 8);
		out[5] = (uint8_t)ulen;
		out[6] = 17;
		out[7] = 64;
		inet_pton(AF_INET6, "fd00::23", out + 8);
		inet_pton(AF_INET6, "2001:db8::443", out + 24);
	} else {
		out[0] = 0x45;
		out[2] = (uint8_t)((ip + ulen) >> 8);
		out[3] = (uint8_t)(ip + ulen);
		out[8] = 64;
		out[9] = 17;
		inet_pton(AF_INET, "192.168.1.23", out + 12);
		inet_pton(AF_INET, "203.0.113.7", out + 16);
	}
	out[ip] = 50000 >> 8;
	out[ip + 1] = 50000 & 0xff;
	out[ip + 2] = 443 >> 8;
	out[ip + 3] = 443 & 0xff;
	out[ip + 4] = (uint8_t)(ulen >> 8);
	out[ip + 5] = (uint8_t)ulen;
	memcpy(out + ip + 8, payload, len);
	return ip + ulen;
}

static struct policy *
build(const char *text)
{
	char path[512], err[1024], list[512];
	struct conf *conf;
	FILE *f;

	snprintf(list, sizeof(list), "%s/quic.txt", dir);
	f = fopen(list, "w");
	assert_non_null(f);
	fputs("example.com\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/hushd.conf", dir);
	conf = conf_parse(path, text, strlen(text), "/dev/null", err,
	    sizeof(err));
	if (conf == NULL)
		fail_msg("configuration refused: %s", err);
	struct policy *p = policy_build(conf, NULL, NULL, err, sizeof(err));
	if (p == NULL)
		fail_msg("policy: %s", err);
	return p;
}

#define BASE "listen 127.0.0.1:5300\nupstream 192.0.2.53\n"

static enum quicjudge_verdict
judge(struct policy *p, bool v6, const uint8_t *payload, size_t len,
    uint64_t now_ms)
{
	struct neigh *neigh = neigh_new();
	struct frontend_shared shared = { .neigh = neigh };
	struct quicjudge *j = quicjudge_new(&shared);
	uint8_t buf[1600];
	size_t n = datagram(v6, payload, len, buf);
	enum quicjudge_verdict v = quicjudge_datagram(j, p, buf, n, now_ms);

	quicjudge_free(j);
	neigh_free(neigh);
	return v;
}

static void
test_listed_sni_blocked_v4_v6_and_both_versions(void **state)
{
	(void)state;
	struct policy *p = build(BASE "list quic quic.txt\n");

	assert_int_equal(judge(p, false, v1, v1_len, 1000), QUICJUDGE_BLOCK);
	assert_int_equal(judge(p, true, v1, v1_len, 1000), QUICJUDGE_BLOCK);
	assert_int_equal(judge(p, false, v2, v2_len, 1000), QUICJUDGE_BLOCK);
	assert_int_equal(judge(p, true, v2, v2_len, 1000), QUICJUDGE_BLOCK);
	assert_int_equal(quicjudge_mark(QUICJUDGE_BLOCK), QUIC_MARK_BLOCK);
	policy_unref(p);
}

static void
test_unlisted_sni_passes(void **state)
{
	(void)state;
	struct policy *p = build(BASE);

	assert_int_equal(judge(p, false, v1, v1_len, 1000), QUICJUDGE_PASS);
	assert_int_equal(judge(p, true, v2, v2_len, 1000), QUICJUDGE_PASS);
	assert_int_equal(quicjudge_mark(QUICJUDGE_PASS), QUIC_MARK_PASS);
	assert_int_equal(quicjudge_mark(QUICJUDGE_PENDING), 0);
	policy_unref(p);
}

static void
test_unknown_flows_follow_quic_unknown(void **state)
{
	(void)state;
	uint8_t junk[64];
	struct policy *p;

	memset(junk, 0x40, sizeof(junk));	/* a short header packet */
	p = build(BASE);
	assert_int_equal(judge(p, false, junk, sizeof(junk), 1000),
	    QUICJUDGE_PASS);
	policy_unref(p);
	p = build(BASE "quic-unknown block\n");
	assert_int_equal(judge(p, false, junk, sizeof(junk), 1000),
	    QUICJUDGE_BLOCK);
	/* A corrupted Initial cannot be read either. */
	uint8_t bad[1200];
	memcpy(bad, v1, sizeof(bad));
	bad[600] ^= 0xff;
	assert_int_equal(judge(p, false, bad, sizeof(bad), 1000),
	    QUICJUDGE_BLOCK);
	policy_unref(p);
}

static void
test_quic_block_drops_everything(void **state)
{
	(void)state;
	struct policy *p = build(BASE "quic block\n");

	assert_int_equal(judge(p, false, v1, v1_len, 1000), QUICJUDGE_BLOCK);
	policy_unref(p);
}

static void
test_not_udp_or_not_ip_is_left_alone(void **state)
{
	(void)state;
	struct policy *p = build(BASE "quic-unknown block\n");
	struct neigh *neigh = neigh_new();
	struct frontend_shared shared = { .neigh = neigh };
	struct quicjudge *j = quicjudge_new(&shared);
	uint8_t buf[1600];
	size_t n = datagram(false, v1, v1_len, buf);

	buf[9] = 6;	/* TCP */
	assert_int_equal(quicjudge_datagram(j, p, buf, n, 0),
	    QUICJUDGE_PENDING);
	assert_int_equal(quicjudge_datagram(j, p, buf, 10, 0),
	    QUICJUDGE_PENDING);
	quicjudge_free(j);
	neigh_free(neigh);
	policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed_sni_blocked_v4_v6_and_both_versions),
		cmocka_unit_test(test_unlisted_sni_passes),
		cmocka_unit_test(test_unknown_flows_follow_quic_unknown),
		cmocka_unit_test(test_quic_block_drops_everything),
		cmocka_unit_test(test_not_udp_or_not_ip_is_left_alone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
