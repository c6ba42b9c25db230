/*
 * test_neigh.c: the neighbour table (from text, and from the kernel where
 * rtnetlink can be read) and the OUI registry.
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

#include "neigh.h"

static struct sockaddr_storage
address(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static void
identify(struct neigh *n, const char *who, struct client_ident *out)
{
	static struct sockaddr_storage ss;

	ss = address(who);
	memset(out, 0, sizeof(*out));
	out->addr = (struct sockaddr *)&ss;
	neigh_identify(n, out);
}

static void
test_siblings_share_a_mac(void **state)
{
	(void)state;
	struct neigh *n = neigh_new();
	struct client_ident id;
	char err[128];
	char text[64];

	assert_true(neigh_load_text(n,
	    "# address mac\n"
	    "192.168.1.23 64:09:80:12:34:56\n"
	    "\n"
	    "fd00::1:2:3:4 64:09:80:12:34:56\n"
	    "fd00::9:9:9:9 64-09-80-12-34-56\n"
	    "192.168.1.50 02:00:00:00:00:50\n", err, sizeof(err)));
	assert_int_equal(neigh_count(n), 4);

	identify(n, "fd00::9:9:9:9", &id);
	assert_true(id.has_mac);
	assert_memory_equal(id.mac, "\x64\x09\x80\x12\x34\x56", 6);
	assert_int_equal(id.n_siblings, 2);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&id.siblings[0])->sin_addr,
	    text, sizeof(text));
	assert_string_equal(text, "192.168.1.23");

	/* An IPv4-mapped client is the IPv4 entry. */
	identify(n, "::ffff:192.168.1.50", &id);
	assert_true(id.has_mac);
	assert_int_equal(id.n_siblings, 0);

	identify(n, "192.168.1.77", &id);
	assert_false(id.has_mac);
	assert_int_equal(id.n_siblings, 0);
	neigh_free(n);
}

static void
test_bad_text_keeps_table(void **state)
{
	(void)state;
	struct neigh *n = neigh_new();
	char err[128];

	assert_true(neigh_load_text(n, "10.0.0.1 02:00:00:00:00:01\n", err,
	    sizeof(err)));
	assert_false(neigh_load_text(n, "10.0.0.2 02:00:00:00:00:02\n"
	    "10.0.0.3 not-a-mac\n", err, sizeof(err)));
	assert_string_equal(err, "line 2: expected \"ADDRESS MAC\"");
	assert_false(neigh_load_text(n, "host.lan 02:00:00:00:00:02\n", err,
	    sizeof(err)));
	assert_false(neigh_load_text(n, "10.0.0.4 02:00:00:00:00:0\n", err,
	    sizeof(err)));
	assert_int_equal(neigh_count(n), 1);
	neigh_free(n);
}

static void
test_kernel_table(void **state)
{
	(void)state;
	struct neigh *n = neigh_new();
	char err[128];

	/* Whatever the table holds, reading it works (or says why). */
	if (!neigh_refresh(n, err, sizeof(err)))
		assert_non_null(strstr(err, "rtnetlink"));
	neigh_free(n);
}

static void
test_oui_registry(void **state)
{
	(void)state;
	char path[] = "/tmp/hushd-oui-XXXXXX";
	int fd = mkstemp(path);
	const char *text =
	    "OUI/MA-L                                                    Organization\n"
	    "company_id                                                  Organization\n"
	    "                                                            Address\n"
	    "\n"
	    "64-09-80   (hex)\t\tXiaomi Communications Co Ltd\r\n"
	    "640980     (base 16)\t\tXiaomi Communications Co Ltd\r\n"
	    "\t\t\t\tThe Rainbow City of China Resources\r\n"
	    "00-00-0C   (hex)\t\tCisco Systems, Inc\n"
	    "FC-FB-FB   (hex)\t\tCisco Systems, Inc\n"
	    "zz-00-00   (hex)\t\tNot a prefix\n";
	uint8_t xiaomi[6] = { 0x64, 0x09, 0x80, 1, 2, 3 };
	uint8_t cisco[6] = { 0xfc, 0xfb, 0xfb, 0, 0, 1 };
	uint8_t nobody[6] = { 0x02, 0, 0, 0, 0, 1 };

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct oui *oui = oui_load(path);
	assert_non_null(oui);
	assert_string_equal(oui_vendor(oui, xiaomi),
	    "Xiaomi Communications Co Ltd");
	assert_string_equal(oui_vendor(oui, cisco), "Cisco Systems, Inc");
	assert_null(oui_vendor(oui, nobody));
	assert_null(oui_vendor(NULL, xiaomi));
	unlink(path);
	oui_free(oui);
	assert_null(oui_load("/nonexistent/oui.txt"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siblings_share_a_mac),
		cmocka_unit_test(test_bad_text_keeps_table),
		cmocka_unit_test(test_kernel_table),
		cmocka_unit_test(test_oui_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
