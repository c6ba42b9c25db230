/*
 * test_domainset.c: suffix matching, the two entry kinds, duplicates and
 * growth of the set in domainset.c.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domainset.h"
#include "siphash.h"

static bool
add(struct domainset *set, const char *name, enum domainset_kind kind,
    uint32_t line)
{
	return domainset_add(set, name, strlen(name), kind, line);
}

static bool
match(const struct domainset *set, const char *qname,
    struct domainset_match *out)
{
	return domainset_match(set, qname, strlen(qname), out);
}

/* Asserts that qname is covered by the entry rule added at line. */
static void
assert_match(const struct domainset *set, const char *qname, const char *rule,
    enum domainset_kind kind, uint32_t line)
{
	struct domainset_match m;

	assert_true(match(set, qname, &m));
	assert_int_equal(m.len, strlen(rule));
	assert_memory_equal(m.name, rule, m.len);
	assert_int_equal(m.kind, kind);
	assert_int_equal(m.line, line);
}

static void
test_empty(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	assert_int_equal(domainset_count(set), 0);
	assert_false(match(set, "example.com", NULL));
	assert_false(match(set, "", NULL));
	domainset_free(set);
	domainset_free(NULL);
}

static void
test_exact_and_parent(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	assert_true(add(set, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 7));
	assert_int_equal(domainset_count(set), 1);
	assert_match(set, "example.com", "example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 7);
	assert_match(set, "www.example.com", "example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 7);
	assert_match(set, "a.b.c.example.com", "example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 7);
	assert_false(match(set, "com", NULL));
	assert_false(match(set, "example.org", NULL));
	/* A caller may pass no result. */
	assert_true(match(set, "www.example.com", NULL));
	domainset_free(set);
}

static void
test_subdomains_only(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	assert_true(add(set, "example.com", DOMAINSET_SUBDOMAINS_ONLY, 3));
	assert_false(match(set, "example.com", NULL));
	assert_match(set, "www.example.com", "example.com",
	    DOMAINSET_SUBDOMAINS_ONLY, 3);
	assert_match(set, "a.www.example.com", "example.com",
	    DOMAINSET_SUBDOMAINS_ONLY, 3);
	assert_false(match(set, "com", NULL));
	domainset_free(set);
}

/* A subdomains-only entry for the name itself gives way to its parent. */
static void
test_subdomains_only_falls_back_to_parent(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	add(set, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	add(set, "www.example.com", DOMAINSET_SUBDOMAINS_ONLY, 2);
	assert_match(set, "www.example.com", "example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	assert_match(set, "a.www.example.com", "www.example.com",
	    DOMAINSET_SUBDOMAINS_ONLY, 2);
	domainset_free(set);
}

static void
test_most_specific(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	add(set, "com", DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	add(set, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 2);
	add(set, "ads.example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	assert_match(set, "x.ads.example.com", "ads.example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	assert_match(set, "ads.example.com", "ads.example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	assert_match(set, "www.example.com", "example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 2);
	assert_match(set, "other.com", "com", DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	assert_match(set, "com", "com", DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	assert_false(match(set, "example.org", NULL));
	domainset_free(set);
}

static void
test_label_boundaries(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	add(set, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	assert_false(match(set, "badexample.com", NULL));
	assert_false(match(set, "www.badexample.com", NULL));
	assert_false(match(set, "xample.com", NULL));
	assert_false(match(set, "example.co", NULL));
	assert_false(match(set, "example.comm", NULL));
	assert_false(match(set, "example.com.au", NULL));
	assert_false(match(set, "-example.com", NULL));
	domainset_free(set);
}

static void
test_duplicates(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	assert_true(add(set, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 1));
	assert_false(add(set, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 2));
	assert_false(add(set, "example.com", DOMAINSET_SUBDOMAINS_ONLY, 3));
	assert_int_equal(domainset_count(set), 1);
	assert_match(set, "example.com", "example.com",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	domainset_free(set);
}

/* "*.a.com" then "a.com": the entry covers a.com itself, line unchanged. */
static void
test_duplicate_upgrades_kind(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	assert_true(add(set, "a.com", DOMAINSET_SUBDOMAINS_ONLY, 10));
	assert_false(match(set, "a.com", NULL));
	assert_false(add(set, "a.com", DOMAINSET_NAME_AND_SUBDOMAINS, 20));
	assert_int_equal(domainset_count(set), 1);
	assert_match(set, "a.com", "a.com", DOMAINSET_NAME_AND_SUBDOMAINS, 10);
	assert_match(set, "x.a.com", "a.com", DOMAINSET_NAME_AND_SUBDOMAINS,
	    10);
	domainset_free(set);
}

static void
test_bounds(void **state)
{
	struct domainset *set = domainset_new();
	char name[300];

	(void)state;
	assert_false(domainset_add(set, "", 0, DOMAINSET_NAME_AND_SUBDOMAINS,
	    1));
	memset(name, 'a', sizeof(name));
	for (size_t i = 63; i < sizeof(name); i += 64)
		name[i] = '.';
	assert_false(domainset_add(set, name, 254,
	    DOMAINSET_NAME_AND_SUBDOMAINS, 1));
	assert_true(domainset_add(set, name + 1, 253,
	    DOMAINSET_NAME_AND_SUBDOMAINS, 2));
	assert_int_equal(domainset_count(set), 1);
	assert_true(domainset_match(set, name + 1, 253, NULL));
	assert_false(domainset_match(set, name, 254, NULL));
	assert_false(domainset_match(set, name, 0, NULL));
	/* Not normalised, still no crash and no empty suffix looked up. */
	add(set, "b", DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	assert_false(match(set, "a..", NULL));
	assert_true(match(set, "..b", NULL));
	assert_false(match(set, ".", NULL));
	domainset_free(set);
}

/*
 * A name of 127 one-byte labels is matched through its last suffix, and a
 * name prepared once gives every set the answer domainset_match() gives.
 */
static void
test_prepared_name(void **state)
{
	struct domainset *a = domainset_new(), *b = domainset_new();
	struct domainset_name qn;
	struct domainset_match m;
	char name[253];

	(void)state;
	for (size_t i = 0; i < sizeof(name); i++)
		name[i] = i % 2 == 0 ? (char)('a' + i / 2 % 26) : '.';
	assert_true(domainset_add(a, name + 252, 1, DOMAINSET_SUBDOMAINS_ONLY,
	    7));
	add(b, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 9);
	domainset_name_prepare(&qn, name, sizeof(name));
	assert_int_equal(qn.nsuffix, 127);
	assert_true(domainset_match_name(a, &qn, &m));
	assert_int_equal(m.line, 7);
	assert_int_equal(m.len, 1);
	assert_false(domainset_match_name(b, &qn, NULL));
	assert_true(domainset_match(a, name, sizeof(name), NULL));

	domainset_name_prepare(&qn, "www.example.com", 15);
	assert_int_equal(qn.nsuffix, 3);
	assert_true(domainset_match_name(b, &qn, &m));
	assert_int_equal(m.line, 9);
	assert_false(domainset_match_name(a, &qn, NULL));
	domainset_name_prepare(&qn, "", 0);
	assert_int_equal(qn.nsuffix, 0);
	assert_false(domainset_match_name(b, &qn, NULL));
	domainset_free(a);
	domainset_free(b);
}

/*
 * Suffixes with a number of labels that no entry has are not looked up;
 * what is left must still find every entry, with a prepared name shared
 * by sets that skip different suffixes.
 */
static void
test_label_counts(void **state)
{
	struct domainset *two = domainset_new(), *four = domainset_new();
	struct domainset *tld = domainset_new();
	struct domainset_name qn;
	struct domainset_match m;
	const char *q = "a.b.c.example.com";

	(void)state;
	add(two, "example.com", DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	add(four, "b.c.example.com", DOMAINSET_SUBDOMAINS_ONLY, 2);
	add(tld, "com", DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	for (int order = 0; order < 3; order++) {
		domainset_name_prepare(&qn, q, strlen(q));
		assert_int_equal(qn.nsuffix, 5);
		struct domainset *sets[3] = { two, four, tld };
		uint32_t lines[3] = { 1, 2, 3 };
		for (int k = 0; k < 3; k++) {
			int j = (k + order) % 3;
			assert_true(domainset_match_name(sets[j], &qn, &m));
			assert_int_equal(m.line, lines[j]);
		}
	}
	assert_match(four, "x.b.c.example.com", "b.c.example.com",
	    DOMAINSET_SUBDOMAINS_ONLY, 2);
	assert_false(match(four, "b.c.example.com", NULL));
	assert_false(match(four, "c.example.com", NULL));
	assert_false(match(two, "com", NULL));
	assert_match(tld, "com", "com", DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	assert_false(match(tld, "example.org", NULL));

	/* 63 labels and more share one count: 70 labels must still match. */
	char deep[160], entry[160];
	size_t off = 0;
	for (int i = 0; i < 70; i++)
		off += (size_t)snprintf(deep + off, sizeof(deep) - off, "%s%c",
		    i ? "." : "", 'a' + i % 26);
	memcpy(entry, deep + 2, off - 2);	/* 69 labels */
	entry[off - 2] = '\0';
	add(two, entry, DOMAINSET_NAME_AND_SUBDOMAINS, 4);
	assert_match(two, deep, entry, DOMAINSET_NAME_AND_SUBDOMAINS, 4);
	domainset_free(two);
	domainset_free(four);
	domainset_free(tld);
}

/*
 * The hash sees exactly the bytes it is given: every one of them counts,
 * and those around them (which the read of the last partial word passes
 * over) do not.
 */
static void
test_hash_reads_its_bytes(void **state)
{
	static const uint64_t key[2] = { 0x0706050403020100ULL,
	    0x0f0e0d0c0b0a0908ULL };
	uint8_t buf[96];
	uint64_t h;

	(void)state;
	for (size_t len = 0; len <= 40; len++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i * 7 + len);
		h = siphash13(key, buf + 16, len);
		for (size_t i = 0; i < 16; i++)
			buf[i] ^= 0xa5;
		for (size_t i = 16 + len; i < sizeof(buf); i++)
			buf[i] ^= 0x5a;
		assert_true(siphash13(key, buf + 16, len) == h);
		for (size_t i = 16; i < 16 + len; i++) {
			buf[i] ^= 1;
			assert_true(siphash13(key, buf + 16, len) != h);
			buf[i] ^= 1;
		}
		if (len > 0)
			assert_true(siphash13(key, buf + 16, len - 1) != h);
	}
}

/* Names differing only after the first 8 bytes, or only in length. */
static void
test_similar_names(void **state)
{
	struct domainset *set = domainset_new();

	(void)state;
	add(set, "abcdefgh.a", DOMAINSET_NAME_AND_SUBDOMAINS, 1);
	add(set, "abcdefgh.b", DOMAINSET_NAME_AND_SUBDOMAINS, 2);
	add(set, "abcdefgh", DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	add(set, "abcdefghabcdefgh", DOMAINSET_NAME_AND_SUBDOMAINS, 4);
	assert_int_equal(domainset_count(set), 4);
	assert_match(set, "abcdefgh.b", "abcdefgh.b",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 2);
	assert_match(set, "abcdefgh", "abcdefgh",
	    DOMAINSET_NAME_AND_SUBDOMAINS, 3);
	assert_false(match(set, "abcdefgh.c", NULL));
	assert_false(match(set, "abcdefghabcdefg", NULL));
	domainset_free(set);
}

/*
 * The line and kind share a variable-length number in the arena: lines
 * of every width come back whole, and the kind can still be raised when
 * the number takes several bytes.
 */
static void
test_line_numbers(void **state)
{
	static const uint32_t lines[] = {
		0, 1, 63, 64, 127, 128, 8191, 8192, 1048575, 1048576,
		(uint32_t)1 << 27, ((uint32_t)1 << 31) - 1, (uint32_t)1 << 31,
		UINT32_MAX - 1, UINT32_MAX,
	};
	struct domainset *set = domainset_new();
	char name[32], sub[40];

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(name, sizeof(name), "n%zu.example", i);
		assert_true(add(set, name, i % 2 ? DOMAINSET_SUBDOMAINS_ONLY :
		    DOMAINSET_NAME_AND_SUBDOMAINS, lines[i]));
	}
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(name, sizeof(name), "n%zu.example", i);
		snprintf(sub, sizeof(sub), "www.%s", name);
		assert_match(set, sub, name, i % 2 ? DOMAINSET_SUBDOMAINS_ONLY :
		    DOMAINSET_NAME_AND_SUBDOMAINS, lines[i]);
		assert_int_equal(match(set, name, NULL), i % 2 == 0);
		/* A later plain rule covers the name; the first line stays. */
		assert_false(add(set, name, DOMAINSET_NAME_AND_SUBDOMAINS, 5));
		assert_match(set, name, name, DOMAINSET_NAME_AND_SUBDOMAINS,
		    lines[i]);
		assert_match(set, sub, name, DOMAINSET_NAME_AND_SUBDOMAINS,
		    lines[i]);
	}
	domainset_free(set);
}

#define MANY	200000

static void
test_growth(void **state)
{
	struct domainset *set = domainset_new();
	struct domainset_match m;
	char name[80], rule[64];
	int len;

	(void)state;
	for (uint32_t i = 0; i < MANY; i++) {
		len = snprintf(name, sizeof(name), "n%u.host-%u.test", i,
		    i % 977);
		assert_true(domainset_add(set, name, (size_t)len,
		    i % 3 == 0 ? DOMAINSET_SUBDOMAINS_ONLY :
		    DOMAINSET_NAME_AND_SUBDOMAINS, i + 1));
	}
	assert_int_equal(domainset_count(set), MANY);
	for (uint32_t i = 0; i < MANY; i++) {
		len = snprintf(rule, sizeof(rule), "n%u.host-%u.test", i,
		    i % 977);
		snprintf(name, sizeof(name), "www.%s", rule);
		assert_true(match(set, name, &m));
		assert_int_equal(m.line, i + 1);
		assert_int_equal(m.len, (size_t)len);
		assert_memory_equal(m.name, rule, m.len);
		assert_int_equal(match(set, rule, NULL), i % 3 != 0);
	}
	for (uint32_t i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%u.host-%u.test", MANY + i,
		    i % 977);
		assert_false(match(set, name, NULL));
	}
	domainset_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_exact_and_parent),
		cmocka_unit_test(test_subdomains_only),
		cmocka_unit_test(test_subdomains_only_falls_back_to_parent),
		cmocka_unit_test(test_most_specific),
		cmocka_unit_test(test_label_boundaries),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_duplicate_upgrades_kind),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_similar_names),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_prepared_name),
		cmocka_unit_test(test_hash_reads_its_bytes),
		cmocka_unit_test(test_label_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
