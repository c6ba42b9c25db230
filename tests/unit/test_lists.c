/*
 * test_lists.c: every line format lists.c accepts, the warning for every
 * line it rejects, exceptions, line endings, and hostile input (every
 * prefix of a valid list, binary bytes, overlong lines).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lists.h"
#include "log.h"

#define WARNINGS_KEPT	16

struct warnings {
	char	*msg[WARNINGS_KEPT];
	size_t	 count;
};

static void
collect(void *arg, const char *message)
{
	struct warnings *w = arg;

	if (w->count < WARNINGS_KEPT)
		w->msg[w->count] = xstrdup(message);
	w->count++;
}

static void
warnings_clear(struct warnings *w)
{
	for (size_t i = 0; i < w->count && i < WARNINGS_KEPT; i++)
		free(w->msg[i]);
	w->count = 0;
}

static struct list *
parse(const char *text, struct warnings *w)
{
	return list_parse("test", "t.txt", text, strlen(text), collect, w);
}

static bool
matches(const struct list *list, const char *qname)
{
	return list_match(list, qname, strlen(qname), NULL);
}

/* Asserts that qname is blocked by rule, written on line. */
static void
assert_rule(const struct list *list, const char *qname, const char *rule,
    bool subdomains_only, uint32_t line)
{
	struct list_match m;

	assert_true(list_match(list, qname, strlen(qname), &m));
	assert_int_equal(m.rule_len, strlen(rule));
	assert_memory_equal(m.rule, rule, m.rule_len);
	assert_int_equal(m.subdomains_only, subdomains_only);
	assert_int_equal(m.line, line);
}

static void
test_plain(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse("example.com\nads.example.org\ncom\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_string_equal(list->name, "test");
	assert_string_equal(list->path, "t.txt");
	assert_int_equal(list_size(list), 3);
	assert_int_equal(list->skipped, 0);
	assert_rule(list, "example.com", "example.com", false, 1);
	assert_rule(list, "www.example.com", "example.com", false, 1);
	assert_rule(list, "x.ads.example.org", "ads.example.org", false, 2);
	assert_false(matches(list, "example.org"));
	assert_rule(list, "anything.com", "com", false, 3);
	list_free(list);
	list_free(NULL);
}

static void
test_hosts(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse(
	    "0.0.0.0 a.com b.com\n"
	    "127.0.0.1 c.com\n"
	    ":: d.com\n"
	    "::1\te.com\n"
	    "0:0:0:0:0:0:0:0 f.com\n"
	    "192.168.1.10  g.com \t h.com\n"
	    "2001:db8::1 i.com\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_int_equal(list_size(list), 9);
	assert_rule(list, "a.com", "a.com", false, 1);
	assert_rule(list, "x.b.com", "b.com", false, 1);
	assert_rule(list, "c.com", "c.com", false, 2);
	assert_rule(list, "d.com", "d.com", false, 3);
	assert_rule(list, "e.com", "e.com", false, 4);
	assert_rule(list, "f.com", "f.com", false, 5);
	assert_rule(list, "g.com", "g.com", false, 6);
	assert_rule(list, "h.com", "h.com", false, 6);
	assert_rule(list, "i.com", "i.com", false, 7);
	list_free(list);
}

/* The entries a hosts file carries for the machine itself. */
static void
test_hosts_builtin_names(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse(
	    "127.0.0.1 localhost\n"
	    "127.0.0.1 localhost.localdomain LocalHost.\n"
	    "127.0.0.1 local\n"
	    "255.255.255.255 broadcasthost\n"
	    "::1 localhost ip6-localhost ip6-loopback\n"
	    "fe80::1%lo0 localhost\n"
	    "fe00::0 ip6-localnet\n"
	    "ff00::0 ip6-mcastprefix\n"
	    "ff02::1 ip6-allnodes\n"
	    "ff02::2 ip6-allrouters\n"
	    "ff02::3 ip6-allhosts\n"
	    "0.0.0.0 0.0.0.0\n"
	    "0.0.0.0 tracker.com\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_int_equal(list->skipped, 0);
	assert_int_equal(list_size(list), 1);
	assert_false(matches(list, "localhost"));
	assert_false(matches(list, "local"));
	assert_rule(list, "tracker.com", "tracker.com", false, 13);
	list_free(list);
}

static void
test_adblock(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse(
	    "[Adblock Plus 2.0]\n"
	    "! Title: test\n"
	    "||ads.example.com^\n"
	    "||Tracker.NET^\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_int_equal(list_size(list), 2);
	assert_rule(list, "ads.example.com", "ads.example.com", false, 3);
	assert_rule(list, "a.ads.example.com", "ads.example.com", false, 3);
	assert_rule(list, "tracker.net", "tracker.net", false, 4);
	assert_false(matches(list, "example.com"));
	list_free(list);
}

static void
test_wildcard(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse("*.example.com\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_false(matches(list, "example.com"));
	assert_rule(list, "www.example.com", "example.com", true, 1);
	assert_rule(list, "a.b.example.com", "example.com", true, 1);
	list_free(list);
}

/* "*.a.com" and "a.com" in one list: a.com itself is blocked too. */
static void
test_wildcard_and_name(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse("*.a.com\n0.0.0.0 a.com\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_int_equal(list_size(list), 1);
	assert_rule(list, "a.com", "a.com", false, 1);
	list_free(list);
}

static void
test_exceptions(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse(
	    "example.com\n"
	    "ads.good.example.com\n"
	    "@@||good.example.com^\n"
	    "@@||Allowed.ORG^\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_int_equal(list_size(list), 4);
	assert_int_equal(domainset_count(list->rules), 2);
	assert_int_equal(domainset_count(list->exceptions), 2);
	assert_rule(list, "example.com", "example.com", false, 1);
	assert_rule(list, "bad.example.com", "example.com", false, 1);
	assert_false(matches(list, "good.example.com"));
	assert_false(matches(list, "x.good.example.com"));
	/* The exception wins over a more specific rule. */
	assert_false(matches(list, "ads.good.example.com"));
	assert_false(matches(list, "x.ads.good.example.com"));
	/* An exception alone blocks nothing. */
	assert_false(matches(list, "allowed.org"));
	list_free(list);
}

static void
test_comments_and_blanks(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse(
	    "# comment\n"
	    "! comment\n"
	    "\n"
	    "   \t \n"
	    "  # indented comment\n"
	    "a.com # trailing comment\n"
	    "b.com#no blank before it\n"
	    "0.0.0.0 c.com d.com # hosts comment ## with hashes\n"
	    "\te.com\t\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_int_equal(list_size(list), 5);
	assert_rule(list, "a.com", "a.com", false, 6);
	assert_rule(list, "b.com", "b.com", false, 7);
	assert_rule(list, "d.com", "d.com", false, 8);
	assert_rule(list, "e.com", "e.com", false, 9);
	list_free(list);
}

static void
test_case_and_trailing_dot(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse("ExAmple.COM.\n||ADS.Net.^\n", &w);

	(void)state;
	assert_int_equal(w.count, 0);
	assert_rule(list, "example.com", "example.com", false, 1);
	assert_rule(list, "ads.net", "ads.net", false, 2);
	list_free(list);
}

static void
test_crlf_and_bom(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse(
	    "\xef\xbb\xbf" "a.com\r\n"
	    "# comment\r\n"
	    "\r\n"
	    "0.0.0.0 b.com\r\n"
	    "bad!\r\n"
	    "c.com", &w);

	(void)state;
	assert_int_equal(w.count, 1);
	assert_string_equal(w.msg[0], "t.txt:5: invalid character "
	    "(allowed: a-z 0-9 - _ .): bad!");
	assert_int_equal(list_size(list), 3);
	assert_rule(list, "a.com", "a.com", false, 1);
	assert_rule(list, "b.com", "b.com", false, 4);
	assert_rule(list, "c.com", "c.com", false, 6);
	warnings_clear(&w);
	list_free(list);
}

/* Only the first bytes of the file may be a byte order mark. */
static void
test_bom_elsewhere(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse("a.com\n\xef\xbb\xbf" "b.com\n", &w);

	(void)state;
	assert_int_equal(w.count, 1);
	assert_string_equal(w.msg[0], "t.txt:2: not ASCII: write "
	    "internationalised names in punycode (xn--...): "
	    "\\xef\\xbb\\xbfb.com");
	warnings_clear(&w);
	list_free(list);
}

static void
test_empty_input(void **state)
{
	struct warnings w = { 0 };
	struct list *list = list_parse("test", "t.txt", NULL, 0, collect, &w);

	(void)state;
	assert_int_equal(list_size(list), 0);
	assert_false(matches(list, "example.com"));
	list_free(list);
	list = parse("\xef\xbb\xbf", &w);
	assert_int_equal(list_size(list), 0);
	list_free(list);
	list = list_parse("test", "t.txt", "\n\n\n", 3, NULL, NULL);
	assert_int_equal(list_size(list), 0);
	list_free(list);
	assert_int_equal(w.count, 0);
}

struct bad_line {
	const char	*line;
	const char	*warning;	/* after "t.txt:1: " */
};

static const struct bad_line bad_lines[] = {
	{ "||example.com^$third-party",
	  "adblock modifiers ($...) are not supported: "
	  "||example.com^$third-party" },
	{ "@@||example.com^$important",
	  "adblock modifiers ($...) are not supported: "
	  "@@||example.com^$important" },
	{ "||example.com/ads^",
	  "URLs and paths are not supported, only names: "
	  "||example.com/ads^" },
	{ "||example.com/ads",
	  "URLs and paths are not supported, only names: ||example.com/ads" },
	{ "||example.com",
	  "adblock rule without '^' is not supported: ||example.com" },
	{ "||example.com^|",
	  "unsupported adblock syntax after '^': ||example.com^|" },
	{ "||ads*.example.com^",
	  "'*' is supported only as a leading \"*.\": ||ads*.example.com^" },
	{ "||^", "empty name: ||^" },
	{ "||1.2.3.4^", "an IP address is not a domain: ||1.2.3.4^" },
	{ "/banner[0-9]+/",
	  "adblock rules other than ||name^ are not supported: "
	  "/banner[0-9]+/" },
	{ "|https://example.com/",
	  "adblock rules other than ||name^ are not supported: "
	  "|https://example.com/" },
	{ "example.com##.banner",
	  "cosmetic (element hiding) rules are not supported: "
	  "example.com##.banner" },
	{ "example.com#@#.banner",
	  "cosmetic (element hiding) rules are not supported: "
	  "example.com#@#.banner" },
	{ "example.com#?#div:has(a)",
	  "cosmetic (element hiding) rules are not supported: "
	  "example.com#?#div:has(a)" },
	{ "@@example.com",
	  "exceptions must be written @@||name^: @@example.com" },
	{ "example.com$important",
	  "adblock modifiers ($...) are not supported: "
	  "example.com$important" },
	{ "https://example.com/path",
	  "URLs and paths are not supported, only names: "
	  "https://example.com/path" },
	{ "*", "'*' is supported only as a leading \"*.\": *" },
	{ "*.*.example.com",
	  "'*' is supported only as a leading \"*.\": *.*.example.com" },
	{ "*.", "empty name: *." },
	{ ".", "empty name: ." },
	{ "a..b.com", "empty label: a..b.com" },
	{ ".example.com", "empty label: .example.com" },
	{ "example.com..", "empty label: example.com.." },
	{ "ex!ample.com",
	  "invalid character (allowed: a-z 0-9 - _ .): ex!ample.com" },
	{ "-example.com", "label begins or ends with '-': -example.com" },
	{ "example-.com", "label begins or ends with '-': example-.com" },
	{ "b\xc3\xbc" "cher.de",
	  "not ASCII: write internationalised names in punycode (xn--...): "
	  "b\\xc3\\xbccher.de" },
	{ "exa\x01mple.com",
	  "invalid character (allowed: a-z 0-9 - _ .): exa\\x01mple.com" },
	{ "exa\\mple\x7f.com",
	  "invalid character (allowed: a-z 0-9 - _ .): exa\\\\mple\\x7f.com" },
	{ "exa\rmple.com",
	  "invalid character (allowed: a-z 0-9 - _ .): exa\\x0dmple.com" },
	{ "example.com example.org",
	  "expected one name, or an address and names: "
	  "example.com example.org" },
	{ "1.2.3.4", "an IP address alone is not a domain: 1.2.3.4" },
	{ "0.0.0.0", "an IP address alone is not a domain: 0.0.0.0" },
	{ "::1 # comment", "an IP address alone is not a domain: ::1" },
	{ "fe80::1%lo0", "an IP address alone is not a domain: fe80::1%lo0" },
	{ "fe80::zz x.com",
	  "expected one name, or an address and names: fe80::zz x.com" },
	{ "01.2.3.4 x.com",
	  "expected one name, or an address and names: 01.2.3.4 x.com" },
	{ "127.0.0.1 10.0.0.1", "an IP address is not a domain: 10.0.0.1" },
	{ "0.0.0.0 bad!name",
	  "invalid character (allowed: a-z 0-9 - _ .): bad!name" },
};

static void
test_bad_lines(void **state)
{
	struct warnings w = { 0 };
	struct list *list;
	char expected[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		list = parse(bad_lines[i].line, &w);
		snprintf(expected, sizeof(expected), "t.txt:1: %s",
		    bad_lines[i].warning);
		if (w.count != 1 || strcmp(w.msg[0], expected) != 0)
			print_error("line %zu \"%s\": got %zu warnings, "
			    "first \"%s\"\n", i, bad_lines[i].line, w.count,
			    w.count > 0 ? w.msg[0] : "");
		assert_int_equal(w.count, 1);
		assert_string_equal(w.msg[0], expected);
		assert_int_equal(list_size(list), 0);
		assert_int_equal(list->skipped, 1);
		warnings_clear(&w);
		list_free(list);
	}
}

/* A bad name on a hosts line skips that name only. */
static void
test_hosts_line_partly_bad(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse("0.0.0.0 a.com bad!name b.com\n", &w);

	(void)state;
	assert_int_equal(w.count, 1);
	assert_string_equal(w.msg[0], "t.txt:1: invalid character "
	    "(allowed: a-z 0-9 - _ .): bad!name");
	assert_int_equal(list->skipped, 1);
	assert_true(matches(list, "a.com"));
	assert_true(matches(list, "b.com"));
	warnings_clear(&w);
	list_free(list);
}

static void
test_warning_line_numbers(void **state)
{
	struct warnings w = { 0 };
	struct list *list = parse("a.com\nbad!\n\n# x\nb.com\nworse!\n", &w);

	(void)state;
	assert_int_equal(w.count, 2);
	assert_int_equal(list->skipped, 2);
	assert_true(strncmp(w.msg[0], "t.txt:2: ", 9) == 0);
	assert_true(strncmp(w.msg[1], "t.txt:6: ", 9) == 0);
	warnings_clear(&w);
	list_free(list);
}

/* Quoted text stops after 60 bytes of input. */
static void
test_warning_truncated(void **state)
{
	struct warnings w = { 0 };
	struct list *list;
	char line[300], expected[512];

	(void)state;
	memset(line, 'a', 64);
	memcpy(line + 64, ".com", 5);
	list = parse(line, &w);
	snprintf(expected, sizeof(expected),
	    "t.txt:1: label longer than 63 bytes: %.60s...", line);
	assert_int_equal(w.count, 1);
	assert_string_equal(w.msg[0], expected);
	warnings_clear(&w);
	list_free(list);

	/* Escapes are never cut in half. */
	memset(line, '\x01', 61);
	line[61] = '\0';
	list = parse(line, &w);
	assert_int_equal(w.count, 1);
	assert_int_equal(strlen(w.msg[0]), strlen("t.txt:1: invalid "
	    "character (allowed: a-z 0-9 - _ .): ") + 60 * 4 + 3);
	warnings_clear(&w);
	list_free(list);
}

static void
test_name_limits(void **state)
{
	struct warnings w = { 0 };
	struct list *list;
	char name[300];

	(void)state;
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes */
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	list = parse(name, &w);
	assert_int_equal(w.count, 0);
	assert_true(matches(list, name));
	list_free(list);

	name[253] = 'a';
	name[254] = '\0';
	list = parse(name, &w);
	assert_int_equal(w.count, 1);
	assert_true(strncmp(w.msg[0], "t.txt:1: name longer than 253 bytes: ",
	    37) == 0);
	warnings_clear(&w);
	list_free(list);

	/* With its trailing dot, a 253-byte name is 254 bytes long. */
	name[253] = '.';
	list = parse(name, &w);
	assert_int_equal(w.count, 0);
	assert_int_equal(list_size(list), 1);
	list_free(list);
}

static void
test_long_lines(void **state)
{
	struct warnings w = { 0 };
	struct list *list;
	char *buf = xmalloc(8192);
	size_t len = 0, names = 0;
	int n;

	(void)state;
	/* A hosts line of exactly 4096 bytes is read in full... */
	len = (size_t)snprintf(buf, 8192, "0.0.0.0");
	for (;;) {
		char next[32];
		n = snprintf(next, sizeof(next), " h%zu.com", names);
		if (len + (size_t)n > 4096)
			break;
		memcpy(buf + len, next, (size_t)n);
		len += (size_t)n;
		names++;
	}
	memset(buf + len, ' ', 4096 - len);
	len = 4096;
	memcpy(buf + len, "\r\nz.com", 7);
	list = list_parse("test", "t.txt", buf, len + 7, collect, &w);
	assert_int_equal(w.count, 0);
	assert_int_equal(list_size(list), names + 1);
	list_free(list);

	/* ...one byte more is not. */
	memmove(buf + 1, buf, len + 7);
	buf[0] = ' ';
	list = list_parse("test", "t.txt", buf, len + 8, collect, &w);
	assert_int_equal(w.count, 1);
	assert_string_equal(w.msg[0], "t.txt:1: line longer than 4096 bytes: "
	    " 0.0.0.0 h0.com h1.com h2.com h3.com h4.com h5.com h6.com h7...");
	assert_int_equal(list_size(list), 1);
	assert_true(matches(list, "z.com"));
	warnings_clear(&w);
	list_free(list);
	free(buf);
}

/* NUL bytes are data: lines are delimited by length, not by strings. */
static void
test_nul_bytes(void **state)
{
	static const char buf[] = "a.com\nb\0.com\nc.com";
	struct warnings w = { 0 };
	struct list *list = list_parse("test", "t.txt", buf, sizeof(buf) - 1,
	    collect, &w);

	(void)state;
	assert_int_equal(w.count, 1);
	assert_string_equal(w.msg[0], "t.txt:2: invalid character "
	    "(allowed: a-z 0-9 - _ .): b\\x00.com");
	assert_int_equal(list_size(list), 2);
	warnings_clear(&w);
	list_free(list);
}

static const char valid_list[] =
    "\xef\xbb\xbf# a list in every format\r\n"
    "[Adblock Plus 2.0]\r\n"
    "! comment\n"
    "example.com\n"
    "0.0.0.0 a.com b.com # hosts\n"
    "::1 localhost\n"
    "||ads.example.net^\n"
    "@@||ok.example.net^\n"
    "*.wild.org\n"
    "Upper.Case.ORG.\n"
    "||x.y^$third-party\n"
    "bad..name\n"
    "0.0.0.0 c.com";

/*
 * Every prefix of a valid list, each in a buffer of exactly its size so
 * that the address sanitizer catches a read past its end.
 */
static void
test_every_prefix(void **state)
{
	static const char *const queries[] = { "example.com", "a.com",
	    "b.com", "ads.example.net", "ok.example.net", "x.wild.org",
	    "upper.case.org", "c.com", "com" };
	size_t len = sizeof(valid_list) - 1;
	struct warnings w = { 0 };
	struct list *list;
	char *buf;

	(void)state;
	for (size_t n = 0; n <= len; n++) {
		buf = xmalloc(n);
		memcpy(buf, valid_list, n);
		list = list_parse("test", "t.txt", buf, n, collect, &w);
		for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]);
		    q++)
			matches(list, queries[q]);
		assert_true(list->skipped <= 3);
		warnings_clear(&w);
		list_free(list);
		free(buf);
	}
	/* The whole list, to show that the prefixes covered every form. */
	list = list_parse("test", "t.txt", valid_list, len, collect, &w);
	assert_int_equal(w.count, 2);
	assert_int_equal(list_size(list), 8);
	assert_true(matches(list, "www.example.com"));
	assert_true(matches(list, "a.com"));
	assert_true(matches(list, "ads.example.net"));
	assert_false(matches(list, "ok.example.net"));
	assert_false(matches(list, "wild.org"));
	assert_true(matches(list, "x.wild.org"));
	assert_true(matches(list, "upper.case.org"));
	assert_true(matches(list, "c.com"));
	warnings_clear(&w);
	list_free(list);
}

static void
test_normalize_name(void **state)
{
	char out[LIST_NAME_MAX + 1], in[300];
	size_t len;

	(void)state;
	assert_null(list_normalize_name("WWW.Example.COM.", 16, out, &len));
	assert_string_equal(out, "www.example.com");
	assert_int_equal(len, 15);
	assert_null(list_normalize_name("_dmarc.x-y.com", 14, out, &len));
	assert_null(list_normalize_name("_sip-._tcp.com", 14, out, &len));
	assert_null(list_normalize_name("xn--bcher-kva.de", 16, out, &len));
	assert_null(list_normalize_name("com", 3, out, &len));
	assert_null(list_normalize_name("123.45", 6, out, &len));
	/* Only len bytes are read. */
	assert_null(list_normalize_name("a.com!", 5, out, &len));
	assert_string_equal(out, "a.com");

	assert_string_equal(list_normalize_name("", 0, out, &len),
	    "empty name");
	assert_string_equal(list_normalize_name(".", 1, out, &len),
	    "empty name");
	assert_string_equal(list_normalize_name("..", 2, out, &len),
	    "empty label");
	assert_string_equal(list_normalize_name("a-.com", 6, out, &len),
	    "label begins or ends with '-'");
	assert_string_equal(list_normalize_name("a.-", 3, out, &len),
	    "label begins or ends with '-'");
	assert_string_equal(list_normalize_name("a b", 3, out, &len),
	    "invalid character (allowed: a-z 0-9 - _ .)");
	assert_string_equal(list_normalize_name("\xff", 1, out, &len),
	    "not ASCII: write internationalised names in punycode (xn--...)");

	memset(in, 'a', sizeof(in));
	assert_null(list_normalize_name(in, 63, out, &len));
	assert_string_equal(list_normalize_name(in, 64, out, &len),
	    "label longer than 63 bytes");
	in[63] = in[127] = in[191] = '.';
	assert_null(list_normalize_name(in, 253, out, &len));
	assert_int_equal(len, 253);
	assert_int_equal(strlen(out), 253);
	assert_string_equal(list_normalize_name(in, 254, out, &len),
	    "name longer than 253 bytes");
	in[253] = '.';
	assert_null(list_normalize_name(in, 254, out, &len));
	assert_int_equal(len, 253);
}

static void
test_load(void **state)
{
	char path[] = "/tmp/test_lists.XXXXXX", err[PATH_MAX + 64];
	static const char text[] = "a.com\nbad!\n||b.com^\n";
	struct warnings w = { 0 };
	struct list *list;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	list = list_load("mine", path, collect, &w, err, sizeof(err));
	assert_non_null(list);
	assert_string_equal(list->name, "mine");
	assert_string_equal(list->path, path);
	assert_int_equal(list_size(list), 2);
	assert_true(matches(list, "x.b.com"));
	assert_int_equal(w.count, 1);
	assert_true(strncmp(w.msg[0], path, strlen(path)) == 0);
	assert_string_equal(w.msg[0] + strlen(path),
	    ":2: invalid character (allowed: a-z 0-9 - _ .): bad!");
	warnings_clear(&w);
	list_free(list);
	unlink(path);
}

static void
test_load_errors(void **state)
{
	char err[PATH_MAX + 64], expected[PATH_MAX + 64];

	(void)state;
	assert_null(list_load("x", "/nonexistent/hushd-list.txt", NULL, NULL,
	    err, sizeof(err)));
	snprintf(expected, sizeof(expected), "/nonexistent/hushd-list.txt: %s",
	    strerror(ENOENT));
	assert_string_equal(err, expected);

	assert_null(list_load("x", "/tmp", NULL, NULL, err, sizeof(err)));
	snprintf(expected, sizeof(expected), "/tmp: %s", strerror(EISDIR));
	assert_string_equal(err, expected);

	/* A short buffer is cut, not overrun; none at all is allowed. */
	assert_null(list_load("x", "/nonexistent", NULL, NULL, err, 5));
	assert_string_equal(err, "/non");
	assert_null(list_load("x", "/nonexistent", NULL, NULL, NULL, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_hosts_builtin_names),
		cmocka_unit_test(test_adblock),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_wildcard_and_name),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_case_and_trailing_dot),
		cmocka_unit_test(test_crlf_and_bom),
		cmocka_unit_test(test_bom_elsewhere),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_hosts_line_partly_bad),
		cmocka_unit_test(test_warning_line_numbers),
		cmocka_unit_test(test_warning_truncated),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_normalize_name),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
