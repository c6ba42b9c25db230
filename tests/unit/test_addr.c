/*
 * test_addr.c: address and prefix parsing as the configuration writes
 * them, prefix matching of client addresses, and the printed forms.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

/* A client address as a socket would report it. */
static struct sockaddr_storage
client(const char *text, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return ss;
}

static bool
contains(const char *prefix, const char *address)
{
	struct cidr cidr;
	struct sockaddr_storage ss = client(address, 1234);

	assert_null(cidr_parse(prefix, &cidr));
	return cidr_contains(&cidr, (struct sockaddr *)&ss);
}

static void
assert_addr_parses(const char *text, uint16_t default_port, int family,
    const char *host, uint16_t port)
{
	struct addr addr;
	char buf[ADDR_STRLEN];

	assert_null(addr_parse(text, default_port, &addr));
	assert_int_equal(addr.ss.ss_family, family);
	assert_int_equal(addr.len, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	assert_int_equal(addr_port((struct sockaddr *)&addr.ss), port);
	assert_string_equal(addr_ntop((struct sockaddr *)&addr.ss, buf,
	    sizeof(buf)), host);
}

static void
assert_addr_fails(const char *text)
{
	struct addr addr;
	const char *err = addr_parse(text, 53, &addr);

	if (err == NULL)
		fail_msg("\"%s\" parsed as an address", text);
	assert_true(err[0] != '\0');
}

static void
test_addr_parse_ipv4(void **state)
{
	(void)state;
	assert_addr_parses("127.0.0.1", 53, AF_INET, "127.0.0.1", 53);
	assert_addr_parses("127.0.0.1", 5300, AF_INET, "127.0.0.1", 5300);
	assert_addr_parses("192.0.2.1:5353", 53, AF_INET, "192.0.2.1", 5353);
	assert_addr_parses("0.0.0.0:1", 53, AF_INET, "0.0.0.0", 1);
	assert_addr_parses("10.1.2.3:65535", 53, AF_INET, "10.1.2.3", 65535);
}

static void
test_addr_parse_ipv6(void **state)
{
	(void)state;
	assert_addr_parses("[::1]:5300", 53, AF_INET6, "::1", 5300);
	assert_addr_parses("[2001:db8::1]", 853, AF_INET6, "2001:db8::1", 853);
	assert_addr_parses("::1", 53, AF_INET6, "::1", 53);
	assert_addr_parses("2001:db8::53", 5300, AF_INET6, "2001:db8::53",
	    5300);
	assert_addr_parses("fe80::1:2:3:4", 53, AF_INET6, "fe80::1:2:3:4", 53);
}

static void
test_addr_parse_errors(void **state)
{
	(void)state;
	assert_addr_fails("");
	assert_addr_fails("[::1");
	assert_addr_fails("[::1]:");
	assert_addr_fails("[::1]x");
	assert_addr_fails("[]:53");
	assert_addr_fails("127.0.0.1:0");
	assert_addr_fails("127.0.0.1:70000");
	assert_addr_fails("127.0.0.1:65536");
	assert_addr_fails("127.0.0.1:-1");
	assert_addr_fails("127.0.0.1:+53");
	assert_addr_fails("127.0.0.1:53x");
	assert_addr_fails("127.0.0.1:dns");
	assert_addr_fails("1.2.3.4:");
	assert_addr_fails(":53");
	assert_addr_fails("1.2.3");
	assert_addr_fails("256.1.1.1");
	assert_addr_fails("example.com");
	assert_addr_fails("example.com:53");
	assert_addr_fails("garbage");
	assert_addr_fails("::1::2");
	assert_addr_fails("[::1]:99999999999999999999");
	assert_addr_fails("1111111111111111111111111111111111111111111111111111");
}

static void
test_addr_parse_error_messages(void **state)
{
	struct addr addr;

	(void)state;
	assert_string_equal(addr_parse("[::1", 53, &addr),
	    "missing ']' after IPv6 address");
	assert_string_equal(addr_parse("1.2.3.4:", 53, &addr),
	    "missing port after ':'");
	assert_string_equal(addr_parse("1.2.3.4:0", 53, &addr),
	    "port must be a number from 1 to 65535");
	assert_string_equal(addr_parse("nonsense", 53, &addr),
	    "not an IP address");
}

static void
test_cidr_parse(void **state)
{
	struct cidr cidr;
	const uint8_t net10[4] = { 10, 0, 0, 0 };
	const uint8_t host[4] = { 192, 168, 1, 7 };
	const uint8_t net26[4] = { 192, 168, 1, 192 };
	const uint8_t v6net[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56,
	    0x80 };

	(void)state;
	assert_null(cidr_parse("10.0.0.0/8", &cidr));
	assert_int_equal(cidr.family, AF_INET);
	assert_int_equal(cidr.prefix, 8);
	assert_memory_equal(cidr.bytes, net10, 4);

	/* A bare address is a host prefix. */
	assert_null(cidr_parse("192.168.1.7", &cidr));
	assert_int_equal(cidr.prefix, 32);
	assert_memory_equal(cidr.bytes, host, 4);
	assert_null(cidr_parse("::1", &cidr));
	assert_int_equal(cidr.family, AF_INET6);
	assert_int_equal(cidr.prefix, 128);

	/* Host bits beyond the prefix are cleared, also mid-byte. */
	assert_null(cidr_parse("10.1.2.3/8", &cidr));
	assert_memory_equal(cidr.bytes, net10, 4);
	assert_null(cidr_parse("192.168.1.200/26", &cidr));
	assert_memory_equal(cidr.bytes, net26, 4);
	assert_null(cidr_parse("2001:db8:1234:56ff:ffff::1/57", &cidr));
	assert_int_equal(cidr.prefix, 57);
	assert_memory_equal(cidr.bytes, v6net, 16);
	assert_null(cidr_parse("0.0.0.0/0", &cidr));
	assert_int_equal(cidr.prefix, 0);
	assert_null(cidr_parse("ffff::/0", &cidr));
	assert_int_equal(cidr.bytes[0], 0);
}

static void
test_cidr_parse_errors(void **state)
{
	struct cidr cidr;
	const char *bad[] = { "", "/8", "10.0.0.0/", "10.0.0.0/33",
	    "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8x",
	    "10.0.0.0/8/8", "::/129", "::1/1000000000000000000000",
	    "10.0.0/8", "example.com/8", "10.0.0.0//8", "garbage" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = cidr_parse(bad[i], &cidr);
		if (err == NULL)
			fail_msg("\"%s\" parsed as a prefix", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void
test_cidr_contains_ipv4(void **state)
{
	(void)state;
	assert_true(contains("10.0.0.0/8", "10.255.1.2"));
	assert_false(contains("10.0.0.0/8", "11.0.0.1"));
	assert_true(contains("192.168.1.7/32", "192.168.1.7"));
	assert_false(contains("192.168.1.7/32", "192.168.1.6"));
	assert_true(contains("0.0.0.0/0", "203.0.113.9"));
	/* /26: 192.168.1.64 - 192.168.1.127 */
	assert_false(contains("192.168.1.64/26", "192.168.1.63"));
	assert_true(contains("192.168.1.64/26", "192.168.1.64"));
	assert_true(contains("192.168.1.64/26", "192.168.1.127"));
	assert_false(contains("192.168.1.64/26", "192.168.1.128"));
	/* Written with host bits, the prefix still means its network. */
	assert_true(contains("192.168.1.100/26", "192.168.1.64"));
	assert_true(contains("127.0.0.0/31", "127.0.0.1"));
	assert_false(contains("127.0.0.0/31", "127.0.0.2"));
}

static void
test_cidr_contains_ipv6(void **state)
{
	(void)state;
	assert_true(contains("::1", "::1"));
	assert_true(contains("::1/128", "::1"));
	assert_false(contains("::1/128", "::2"));
	assert_true(contains("::/0", "2001:db8::1"));
	assert_true(contains("fd00::/8", "fdab:cdef::1"));
	assert_false(contains("fd00::/8", "fe80::1"));
	/* /57 splits the eighth byte after its first bit. */
	assert_true(contains("2001:db8:0:80::/57", "2001:db8:0:ff::1"));
	assert_true(contains("2001:db8:0:80::/57", "2001:db8:0:80::"));
	assert_false(contains("2001:db8:0:80::/57", "2001:db8:0:7f::1"));
	assert_false(contains("2001:db8:0:80::/57", "2001:db8:0:100::1"));
}

static void
test_cidr_contains_across_families(void **state)
{
	(void)state;
	/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
	assert_true(contains("127.0.0.0/8", "::ffff:127.0.0.1"));
	assert_true(contains("192.168.1.64/26", "::ffff:192.168.1.100"));
	assert_false(contains("192.168.1.64/26", "::ffff:192.168.1.1"));
	assert_true(contains("0.0.0.0/0", "::ffff:8.8.8.8"));
	assert_false(contains("0.0.0.0/0", "::1"));
	assert_false(contains("127.0.0.1", "::1"));
	assert_false(contains("::1", "127.0.0.1"));
	assert_false(contains("::/0", "127.0.0.1"));
	/* A prefix written in the mapped form matches the same clients. */
	assert_true(contains("::ffff:192.168.1.0/120", "192.168.1.9"));
	assert_true(contains("::ffff:192.168.1.0/120", "::ffff:192.168.1.9"));
	assert_false(contains("::ffff:192.168.1.0/120", "192.168.2.9"));
	assert_true(contains("::ffff:10.0.0.1", "10.0.0.1"));
}

static void
test_cidr_contains_other_family(void **state)
{
	struct cidr cidr;
	struct sockaddr_storage ss;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_null(cidr_parse("0.0.0.0/0", &cidr));
	assert_false(cidr_contains(&cidr, (struct sockaddr *)&ss));
}

static void
test_addr_equal(void **state)
{
	struct sockaddr_storage a = client("127.0.0.1", 53);
	struct sockaddr_storage b = client("127.0.0.1", 53);
	struct sockaddr_storage c = client("127.0.0.1", 54);
	struct sockaddr_storage d = client("::1", 53);
	struct sockaddr_storage e = client("::1", 53);
	struct sockaddr_storage f = client("::2", 53);

	(void)state;
	assert_true(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	assert_false(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&c));
	assert_false(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&d));
	assert_true(addr_equal((struct sockaddr *)&d, (struct sockaddr *)&e));
	assert_false(addr_equal((struct sockaddr *)&d, (struct sockaddr *)&f));
}

static void
assert_ntop_port(const char *address, uint16_t port, const char *want)
{
	struct sockaddr_storage ss = client(address, port);
	char buf[ADDR_STRLEN];

	assert_string_equal(addr_ntop_port((struct sockaddr *)&ss, buf,
	    sizeof(buf)), want);
}

static void
test_addr_ntop_port(void **state)
{
	struct sockaddr_storage ss;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_ntop_port("192.0.2.1", 53, "192.0.2.1");
	assert_ntop_port("192.0.2.1", 5300, "192.0.2.1:5300");
	assert_ntop_port("2001:db8::1", 53, "2001:db8::1");
	assert_ntop_port("2001:db8::1", 853, "[2001:db8::1]:853");
	assert_ntop_port("::1", 65535, "[::1]:65535");
	assert_ntop_port("::ffff:192.0.2.1", 5300, "192.0.2.1:5300");
	assert_ntop_port("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

	ss = client("::ffff:192.0.2.1", 53);
	assert_string_equal(addr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2.1");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_string_equal(addr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "?");
	assert_int_equal(addr_port((struct sockaddr *)&ss), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_ipv4),
		cmocka_unit_test(test_addr_parse_ipv6),
		cmocka_unit_test(test_addr_parse_errors),
		cmocka_unit_test(test_addr_parse_error_messages),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_parse_errors),
		cmocka_unit_test(test_cidr_contains_ipv4),
		cmocka_unit_test(test_cidr_contains_ipv6),
		cmocka_unit_test(test_cidr_contains_across_families),
		cmocka_unit_test(test_cidr_contains_other_family),
		cmocka_unit_test(test_addr_equal),
		cmocka_unit_test(test_addr_ntop_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
