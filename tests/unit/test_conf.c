/*
 * test_conf.c: the configuration parser, good files and every way a file
 * can be wrong. Errors must name the file and the line.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"

#define MINIMAL "listen 127.0.0.1:5300\nupstream 192.0.2.53\n"

static char err[1024];

static struct conf *
parse(const char *text)
{
	err[0] = '\0';
	return conf_parse("/etc/hushd/hushd.conf", text, strlen(text),
	    "/nonexistent/resolv.conf", err, sizeof(err));
}

/* Parses text expecting failure with exactly this message. */
static void
expect_error(const char *text, const char *message)
{
	struct conf *conf = parse(text);

	if (conf != NULL || strcmp(err, message) != 0)
		fail_msg("for:\n%s\nexpected: %s\n     got: %s", text, message,
		    conf ? "(accepted)" : err);
	conf_free(conf);
}

static void
test_full_configuration(void **state)
{
	(void)state;
	struct conf *c = parse(
	    "# comment line\n"
	    "listen 127.0.0.1:5300   # trailing comment\n"
	    "listen [::1]:5300\n"
	    "upstream 192.0.2.53\n"
	    "upstream [2001:db8::53]:5353\n"
	    "upstream-timeout 250ms; query-timeout 3s\n"
	    "cache-size 0\n"
	    "block-mode nxdomain\n"
	    "block-ttl 2m\n"
	    "allow-clients 10.0.0.0/8 ::1\n"
	    "events \"/var/log/hushd/events log.jsonl\"\n"
	    "log-allowed no\n"
	    "tcp-idle-timeout 5s\n"
	    "tcp-max-connections 10\n"
	    "list ads lists/ads.txt\n"
	    "list tel /abs/tel.txt\n"
	    "allowlist allow.txt\n"
	    "device tv 10.0.0.23\n"
	    "group iot {\n"
	    "    clients tv 10.1.0.0/16\n"
	    "    block ads; log tel\n"
	    "}\n"
	    "group default { block tel }\n");

	assert_non_null(c);
	assert_int_equal(c->n_listen, 2);
	assert_int_equal(addr_port((struct sockaddr *)&c->listen[1].ss), 5300);
	assert_int_equal(c->listen[1].ss.ss_family, AF_INET6);
	assert_int_equal(c->n_upstreams, 2);
	assert_int_equal(addr_port((struct sockaddr *)&c->upstreams[0].addr.ss), 53);
	assert_int_equal(c->upstreams[1].line, 5);
	assert_int_equal(c->upstream_timeout_ms, 250);
	assert_int_equal(c->query_timeout_ms, 3000);
	assert_int_equal(c->cache_size, 0);
	assert_int_equal(c->block_mode, BLOCK_MODE_NXDOMAIN);
	assert_int_equal(c->block_ttl, 120);
	assert_int_equal(c->n_allow_clients, 2);
	assert_string_equal(c->events, "/var/log/hushd/events log.jsonl");
	assert_false(c->log_allowed);
	assert_int_equal(c->tcp_idle_timeout_ms, 5000);
	assert_int_equal(c->tcp_max_connections, 10);
	assert_int_equal(c->n_lists, 2);
	assert_string_equal(c->lists[0].path, "/etc/hushd/lists/ads.txt");
	assert_string_equal(c->lists[1].path, "/abs/tel.txt");
	assert_string_equal(c->allowlist, "/etc/hushd/allow.txt");
	assert_int_equal(c->n_groups, 2);
	assert_string_equal(c->groups[0].name, "iot");
	assert_int_equal(c->groups[0].n_clients, 2);
	assert_int_equal(c->groups[0].clients[0].device, 0);
	assert_int_equal(c->groups[0].clients[1].device, -1);
	assert_int_equal(c->groups[0].n_block, 1);
	assert_int_equal(c->groups[0].block[0], 0);
	assert_int_equal(c->groups[0].n_log, 1);
	assert_int_equal(c->groups[0].log[0], 1);
	assert_int_equal(c->groups[1].n_block, 1);
	assert_int_equal(conf_find_list(c, "tel"), 1);
	assert_int_equal(conf_find_list(c, "nope"), -1);
	conf_free(c);
}

static void
test_remote_lists(void **state)
{
	(void)state;
	struct conf *c = parse(MINIMAL "list local l.txt\n"
	    "list big https://lists.example.org:8443/hosts?v=2 refresh 12h "
	    "timeout 30s max-size 8M ca ca.pem\n"
	    "list small https://example.org/x\n"
	    "state-dir state\n"
	    "doh-canary no\n");

	assert_non_null(c);
	assert_int_equal(c->n_lists, 3);
	assert_null(c->lists[0].url);
	assert_string_equal(c->lists[0].path, "/etc/hushd/l.txt");
	assert_string_equal(c->lists[1].url,
	    "https://lists.example.org:8443/hosts?v=2");
	/* The copy lives in state-dir, even when it is set further down. */
	assert_string_equal(c->lists[1].path, "/etc/hushd/state/lists/big");
	assert_string_equal(c->lists[1].ca_file, "/etc/hushd/ca.pem");
	assert_int_equal(c->lists[1].refresh_ms, 12 * 3600 * 1000);
	assert_int_equal(c->lists[1].timeout_ms, 30 * 1000);
	assert_int_equal(c->lists[1].max_size, 8 << 20);
	assert_null(c->lists[2].ca_file);
	assert_int_equal(c->lists[2].refresh_ms, CONF_LIST_REFRESH_MS);
	assert_int_equal(c->lists[2].timeout_ms, CONF_LIST_TIMEOUT_MS);
	assert_int_equal(c->lists[2].max_size, CONF_LIST_MAX_SIZE);
	assert_false(c->doh_canary);
	conf_free(c);
}

static void
test_defaults(void **state)
{
	(void)state;
	struct conf *c = parse(MINIMAL);

	assert_non_null(c);
	assert_int_equal(c->upstream_timeout_ms, 1000);
	assert_int_equal(c->query_timeout_ms, 4000);
	assert_int_equal(c->cache_size, 20000);
	assert_int_equal(c->block_mode, BLOCK_MODE_NULL);
	assert_int_equal(c->block_ttl, 60);
	assert_true(c->log_allowed);
	assert_true(c->doh_canary);
	assert_string_equal(c->state_dir, "/var/lib/hushd");
	assert_null(c->events);
	/* Loopback and the private ranges are served by default. */
	assert_true(c->n_allow_clients > 2);
	conf_free(c);
}

static void
test_events_stdout_and_crlf(void **state)
{
	(void)state;
	struct conf *c = parse("listen 127.0.0.1\r\nupstream 192.0.2.1\r\n"
	    "events -\r\n");

	assert_non_null(c);
	assert_string_equal(c->events, "-");
	assert_int_equal(addr_port((struct sockaddr *)&c->listen[0].ss), 53);
	conf_free(c);
}

static void
test_upstream_system(void **state)
{
	(void)state;
	char path[] = "/tmp/hushd-resolv-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "# generated\nsearch lan\nnameserver 192.0.2.7\n"
	    "nameserver fe80::1%eth0\nnameserver 2001:db8::7\noptions edns0\n";
	const char *conf_text = "listen 127.0.0.1:5300\nupstream system\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct conf *c = conf_parse("h.conf", conf_text, strlen(conf_text),
	    path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->n_upstreams, 2);
	assert_int_equal(c->upstreams[1].addr.ss.ss_family, AF_INET6);
	conf_free(c);

	/* A resolv.conf without a usable nameserver is an error. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "search lan\n", 11), 11);
	close(fd);
	c = conf_parse("h.conf", conf_text, strlen(conf_text), path, err,
	    sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "h.conf:2: upstream system: no usable nameserver"));
	unlink(path);

	expect_error("listen 127.0.0.1\nupstream system\n",
	    "/etc/hushd/hushd.conf:2: upstream system: cannot read "
	    "/nonexistent/resolv.conf: No such file or directory");
}

static void
test_tls_upstreams(void **state)
{
	(void)state;
	struct conf *c = parse("listen 127.0.0.1\n"
	    "upstream 192.0.2.1 tls name=dns.example ca=certs/ca.pem\n"
	    "upstream [2001:db8::1]:8853 tls name=other.example\n");

	assert_non_null(c);
	assert_true(c->upstreams[0].tls);
	assert_int_equal(addr_port((struct sockaddr *)&c->upstreams[0].addr.ss), 853);
	assert_string_equal(c->upstreams[0].tls_name, "dns.example");
	assert_string_equal(c->upstreams[0].ca_file, "/etc/hushd/certs/ca.pem");
	assert_int_equal(addr_port((struct sockaddr *)&c->upstreams[1].addr.ss), 8853);
	assert_null(c->upstreams[1].ca_file);
	conf_free(c);

	expect_error("listen 127.0.0.1\nupstream 192.0.2.1 tls\n",
	    "/etc/hushd/hushd.conf:2: upstream '192.0.2.1': tls needs "
	    "name=HOST, the name its certificate must carry");
	expect_error("listen 127.0.0.1\nupstream 192.0.2.1 name=x\n",
	    "/etc/hushd/hushd.conf:2: upstream '192.0.2.1': unexpected 'name=x' "
	    "(expected: tls name=HOST [ca=FILE])");
	expect_error("listen 127.0.0.1\nupstream 192.0.2.1 tls name=a name=b\n",
	    "/etc/hushd/hushd.conf:2: upstream '192.0.2.1': unexpected 'name=b' "
	    "(expected: tls name=HOST [ca=FILE])");
	expect_error("listen 127.0.0.1\nupstream system tls\n",
	    "/etc/hushd/hushd.conf:2: 'upstream system' takes no options");
	expect_error(MINIMAL "workers 0\n",
	    "/etc/hushd/hushd.conf:3: 'workers' must be auto or 1 to 64");
	expect_error(MINIMAL "workers 65\n",
	    "/etc/hushd/hushd.conf:3: 'workers': 65 is larger than 64");
}

static void
test_geo_devices_and_rules(void **state)
{
	(void)state;
	struct conf *c = parse(MINIMAL
	    "geoip-country GeoLite2-Country.mmdb\n"
	    "geoip-asn /var/lib/GeoIP/GeoLite2-ASN.mmdb\n"
	    "device phone 64:09:80:AB:cd:EF\n"
	    "device tablet 64-09-80-00-00-01\n"
	    "group kids {\n clients phone\n block-country cn ru\n"
	    " log-country BY\n block-asn 4134 AS4837\n log-asn 45102\n}\n"
	    "group teens {\n clients tablet 192.168.1.0/24\n}\n");

	assert_non_null(c);
	assert_string_equal(c->geoip_country, "/etc/hushd/GeoLite2-Country.mmdb");
	assert_string_equal(c->geoip_asn, "/var/lib/GeoIP/GeoLite2-ASN.mmdb");
	assert_true(c->devices[0].by_mac);
	assert_memory_equal(c->devices[0].mac, "\x64\x09\x80\xab\xcd\xef", 6);
	const struct conf_group *g = &c->groups[0];
	assert_int_equal(g->n_block_country, 2);
	assert_string_equal(g->block_country[0], "CN");
	assert_string_equal(g->block_country[1], "RU");
	assert_string_equal(g->log_country[0], "BY");
	assert_int_equal(g->n_block_asn, 2);
	assert_int_equal(g->block_asn[1], 4837);
	assert_int_equal(g->log_asn[0], 45102);
	conf_free(c);

	expect_error(MINIMAL "group g {\n block-country CHN\n}\n",
	    "/etc/hushd/hushd.conf:4: 'block-country': 'CHN' is not a "
	    "two-letter ISO 3166 country code");
	expect_error(MINIMAL "group g {\n log-asn AS0\n}\n",
	    "/etc/hushd/hushd.conf:4: 'log-asn': 0 is not an AS number");
	expect_error(MINIMAL "group g {\n block-asn 99999999999\n}\n",
	    "/etc/hushd/hushd.conf:4: 'block-asn': 99999999999 is larger than "
	    "4294967295");
	expect_error(MINIMAL "device a 02:00:00:00:00:01\n"
	    "device b 02-00-00-00-00-01\n"
	    "group g1 {\n clients a\n}\ngroup g2 {\n clients b\n}\n",
	    "/etc/hushd/hushd.conf:9: a client of group 'g2' is also in group "
	    "'g1' (line 6)");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	expect_error(MINIMAL "frobnicate yes\n",
	    "/etc/hushd/hushd.conf:3: unknown key 'frobnicate'");
	expect_error(MINIMAL "events \"/tmp/x\n",
	    "/etc/hushd/hushd.conf:3: unterminated quote");
	expect_error(MINIMAL "events \"/tmp/x",
	    "/etc/hushd/hushd.conf:3: unterminated quote");
	expect_error(MINIMAL "list a a.txt\ngroup g {\n  block a\n",
	    "/etc/hushd/hushd.conf:4: group 'g': missing '}'");
	expect_error(MINIMAL "}\n",
	    "/etc/hushd/hushd.conf:3: unexpected '}'");
	expect_error(MINIMAL "{\n",
	    "/etc/hushd/hushd.conf:3: unexpected '{'");
	expect_error(MINIMAL "cache-size 10 {\n}\n",
	    "/etc/hushd/hushd.conf:3: 'cache-size' does not take a '{' block");
	expect_error(MINIMAL "group g {\n group h {\n }\n}\n",
	    "/etc/hushd/hushd.conf:4: unexpected '{' inside group 'g'");
	expect_error(MINIMAL "group g\n",
	    "/etc/hushd/hushd.conf:3: expected 'group NAME {'");
	expect_error(MINIMAL "group g {\n  colour blue\n}\n",
	    "/etc/hushd/hushd.conf:4: unknown key 'colour' in group 'g'");
	expect_error(MINIMAL "cache-size\n",
	    "/etc/hushd/hushd.conf:3: 'cache-size' needs a value");
	expect_error(MINIMAL "cache-size 1 2\n",
	    "/etc/hushd/hushd.conf:3: 'cache-size': unexpected value '2'");
	expect_error(MINIMAL "events /tmp/a\x01" "b\n",
	    "/etc/hushd/hushd.conf:3: control character 0x01");
}

static void
test_nul_and_long_words(void **state)
{
	(void)state;
	char text[4096];
	struct conf *c;

	memcpy(text, "listen\0" "127.0.0.1\n", 17);
	c = conf_parse("x.conf", text, 17, "/dev/null", err, sizeof(err));
	assert_null(c);
	assert_string_equal(err, "x.conf:1: file contains a NUL byte");

	memset(text, 'a', sizeof(text));
	memcpy(text, "events ", 7);
	text[sizeof(text) - 1] = '\0';
	expect_error(text, "/etc/hushd/hushd.conf:1: word longer than 1023 bytes");
}

static void
test_value_errors(void **state)
{
	(void)state;
	expect_error("listen 127.0.0.1:99999\n",
	    "/etc/hushd/hushd.conf:1: listen '127.0.0.1:99999': port must be a "
	    "number from 1 to 65535");
	expect_error("listen localhost\n",
	    "/etc/hushd/hushd.conf:1: listen 'localhost': not an IP address");
	expect_error("listen [::1:53\n",
	    "/etc/hushd/hushd.conf:1: listen '[::1:53': missing ']' after IPv6 "
	    "address");
	expect_error(MINIMAL "upstream 300.1.1.1\n",
	    "/etc/hushd/hushd.conf:3: upstream '300.1.1.1': not an IP address");
	expect_error(MINIMAL "block-mode drop\n",
	    "/etc/hushd/hushd.conf:3: block-mode must be null, nxdomain or "
	    "refused, not 'drop'");
	expect_error(MINIMAL "block-ttl 5 minutes\n",
	    "/etc/hushd/hushd.conf:3: 'block-ttl': unexpected value 'minutes'");
	expect_error(MINIMAL "block-ttl 5y\n",
	    "/etc/hushd/hushd.conf:3: 'block-ttl': bad duration '5y' (use e.g. "
	    "500ms, 2s, 5m, 1h, 1d)");
	expect_error(MINIMAL "query-timeout 99999999999999999999999s\n",
	    "/etc/hushd/hushd.conf:3: 'query-timeout': bad duration "
	    "'99999999999999999999999s' (use e.g. 500ms, 2s, 5m, 1h, 1d)");
	expect_error(MINIMAL "query-timeout 2d\n",
	    "/etc/hushd/hushd.conf:3: 'query-timeout': duration '2d' is too long");
	expect_error(MINIMAL "upstream-timeout 0s\n",
	    "/etc/hushd/hushd.conf:3: 'upstream-timeout' must be longer than 0");
	expect_error(MINIMAL "cache-size -1\n",
	    "/etc/hushd/hushd.conf:3: 'cache-size': '-1' is not a number");
	expect_error(MINIMAL "cache-size 99999999999\n",
	    "/etc/hushd/hushd.conf:3: 'cache-size': 99999999999 is larger than "
	    "10000000");
	expect_error(MINIMAL "tcp-max-connections 0\n",
	    "/etc/hushd/hushd.conf:3: 'tcp-max-connections' must be at least 1");
	expect_error(MINIMAL "log-allowed maybe\n",
	    "/etc/hushd/hushd.conf:3: 'log-allowed': expected yes or no, not "
	    "'maybe'");
	expect_error(MINIMAL "allow-clients 10.0.0.0/33\n",
	    "/etc/hushd/hushd.conf:3: allow-clients '10.0.0.0/33': prefix length "
	    "out of range");
	expect_error(MINIMAL "upstream-timeout 5s\n",
	    "/etc/hushd/hushd.conf:4: query-timeout is shorter than "
	    "upstream-timeout");
	expect_error("upstream 192.0.2.1\n",
	    "/etc/hushd/hushd.conf:2: no 'listen' address");
	expect_error("listen 127.0.0.1\n",
	    "/etc/hushd/hushd.conf:2: no 'upstream'");
}

static void
test_reference_errors(void **state)
{
	(void)state;
	expect_error(MINIMAL "list a a.txt\nlist a b.txt\n",
	    "/etc/hushd/hushd.conf:4: list 'a' is already defined on line 3");
	expect_error(MINIMAL "list a/b a.txt\n",
	    "/etc/hushd/hushd.conf:3: list name 'a/b' may use only letters, "
	    "digits, '-', '_', '.'");
	expect_error(MINIMAL "list big http://example.org/hosts\n",
	    "/etc/hushd/hushd.conf:3: list 'big': only https:// lists are "
	    "fetched");
	expect_error(MINIMAL "list big https://example.org/h refresh 500ms\n",
	    "/etc/hushd/hushd.conf:3: list 'big': refresh must be at least 1s");
	expect_error(MINIMAL "list big https://example.org/h max-size 0\n",
	    "/etc/hushd/hushd.conf:3: 'list': size '0' must be between 1 and "
	    "1073741824 bytes");
	expect_error(MINIMAL "list big https://u@example.org/h\n",
	    "/etc/hushd/hushd.conf:3: list 'big': 'https://u@example.org/h' is "
	    "not an https://HOST/PATH address");
	expect_error(MINIMAL "group g {\n block nosuch\n}\n",
	    "/etc/hushd/hushd.conf:4: 'block': no list called 'nosuch'");
	expect_error(MINIMAL "group g {\n clients tv\n}\n",
	    "/etc/hushd/hushd.conf:4: clients: 'tv' is neither an address, a "
	    "prefix nor a device defined above");
	expect_error(MINIMAL "device tv 10.0.0.1\ndevice tv 10.0.0.2\n",
	    "/etc/hushd/hushd.conf:4: device 'tv' is already defined on line 3");
	expect_error(MINIMAL "device tv tv.lan\n",
	    "/etc/hushd/hushd.conf:3: device 'tv': 'tv.lan' is neither an "
	    "address, a prefix nor a MAC address");
	expect_error(MINIMAL "device tv 64:09:80:12:34\n",
	    "/etc/hushd/hushd.conf:3: device 'tv': '64:09:80:12:34' is neither "
	    "an address, a prefix nor a MAC address");
	expect_error(MINIMAL "group g {\n}\ngroup g {\n}\n",
	    "/etc/hushd/hushd.conf:5: group 'g' is already defined on line 3");
	expect_error(MINIMAL "group default {\n clients 10.0.0.1\n}\n",
	    "/etc/hushd/hushd.conf:4: group default holds every client in no "
	    "other group; it takes no 'clients'");
}

static void
test_client_in_two_groups(void **state)
{
	(void)state;
	expect_error(MINIMAL
	    "device tv 192.168.1.23\n"
	    "group a {\n clients 192.168.1.0/24\n}\n"
	    "group b {\n clients 10.0.0.0/8\n clients tv\n}\n",
	    "/etc/hushd/hushd.conf:9: a client of group 'b' is also in group "
	    "'a' (line 5)");
	/* Neighbouring prefixes do not overlap. */
	struct conf *c = parse(MINIMAL
	    "group a { clients 192.168.1.0/25 }\n"
	    "group b { clients 192.168.1.128/25 ::1 }\n");
	assert_non_null(c);
	conf_free(c);
}

static void
test_missing_file(void **state)
{
	(void)state;
	struct conf *c = conf_load("/nonexistent/hushd.conf", "/dev/null",
	    err, sizeof(err));
	assert_null(c);
	assert_string_equal(err,
	    "/nonexistent/hushd.conf: No such file or directory");
}

static void
test_every_prefix(void **state)
{
	(void)state;
	const char *text = MINIMAL "list a \"a b.txt\"\ndevice tv ::1\n"
	    "group g {\n clients tv; block a\n}\n";
	size_t len = strlen(text);

	/* Every truncation parses or fails cleanly, never crashes. */
	for (size_t i = 0; i <= len; i++) {
		struct conf *c = conf_parse("p.conf", text, i, "/dev/null",
		    err, sizeof(err));
		if (c == NULL)
			assert_true(strncmp(err, "p.conf:", 7) == 0);
		conf_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_configuration),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_remote_lists),
		cmocka_unit_test(test_events_stdout_and_crlf),
		cmocka_unit_test(test_upstream_system),
		cmocka_unit_test(test_tls_upstreams),
		cmocka_unit_test(test_geo_devices_and_rules),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nul_and_long_words),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_reference_errors),
		cmocka_unit_test(test_client_in_two_groups),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
