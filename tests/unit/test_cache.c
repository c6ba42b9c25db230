/*
 * test_cache.c: the answer cache: round trip, ID rewrite, TTL aging and
 * expiry, LRU eviction, key fields, bounds and counters.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"

#define QTYPE_A		1
#define QTYPE_AAAA	28
#define QCLASS_IN	1
#define QCLASS_CH	3

/* Where the fake replies below carry their TTL fields. */
#define TTL_AT_1	30
#define TTL_AT_2	50

static struct cache_key
make_key(const char *qname, uint16_t qtype, bool do_bit)
{
	return (struct cache_key){ .qname = qname, .qname_len = strlen(qname),
	    .qtype = qtype, .qclass = QCLASS_IN, .do_bit = do_bit };
}

static void
put_u32(uint8_t *p, uint32_t value)
{
	p[0] = (uint8_t)(value >> 24);
	p[1] = (uint8_t)(value >> 16);
	p[2] = (uint8_t)(value >> 8);
	p[3] = (uint8_t)value;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A 64-byte reply: ID 0x1234, a fill pattern, and two TTL fields. */
static void
make_wire(uint8_t wire[64], uint8_t fill, uint32_t ttl1, uint32_t ttl2)
{
	memset(wire, fill, 64);
	wire[0] = 0x12;
	wire[1] = 0x34;
	put_u32(wire + TTL_AT_1, ttl1);
	put_u32(wire + TTL_AT_2, ttl2);
}

static const uint16_t offsets[] = { TTL_AT_1, TTL_AT_2 };

static void
put_simple(struct cache *cache, const char *qname, uint8_t fill,
    uint64_t now)
{
	struct cache_key key = make_key(qname, QTYPE_A, false);
	uint8_t wire[64];

	make_wire(wire, fill, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, now);
}

static bool
present(struct cache *cache, const char *qname, uint64_t now)
{
	struct cache_key key = make_key(qname, QTYPE_A, false);
	uint8_t out[64];

	return cache_get(cache, &key, 1, out, sizeof(out), now) != 0;
}

static void
test_roundtrip(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	uint8_t wire[64], out[128];

	(void)state;
	make_wire(wire, 0xab, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, 1000);
	assert_int_equal(cache_get(cache, &key, 0x1234, out, sizeof(out), 1000),
	    sizeof(wire));
	assert_memory_equal(out, wire, sizeof(wire));
	cache_free(cache);
}

static void
test_id_rewrite(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	uint8_t wire[64], out[64];

	(void)state;
	make_wire(wire, 0xab, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, 1000);
	assert_int_equal(cache_get(cache, &key, 0xbeef, out, sizeof(out), 1000),
	    sizeof(wire));
	assert_int_equal(out[0], 0xbe);
	assert_int_equal(out[1], 0xef);
	assert_memory_equal(out + 2, wire + 2, sizeof(wire) - 2);
	cache_free(cache);
}

static void
test_ttl_aging(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	uint8_t wire[64], out[64];

	(void)state;
	/* The second record's TTL runs out before the entry does. */
	make_wire(wire, 0xab, 300, 30);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, 100);
	assert_int_equal(cache_get(cache, &key, 7, out, sizeof(out), 160),
	    sizeof(wire));
	assert_int_equal(get_u32(out + TTL_AT_1), 240);
	assert_int_equal(get_u32(out + TTL_AT_2), 0);
	/* Only the TTL fields and the ID change. */
	assert_memory_equal(out + 2, wire + 2, TTL_AT_1 - 2);
	/* Aging is computed from the stored copy, not from the last reply. */
	assert_int_equal(cache_get(cache, &key, 7, out, sizeof(out), 161),
	    sizeof(wire));
	assert_int_equal(get_u32(out + TTL_AT_1), 239);
	cache_free(cache);
}

static void
test_expiry_at_ttl(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	struct cache_stats stats;
	uint8_t wire[64], out[64];

	(void)state;
	make_wire(wire, 0xab, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, 100);
	assert_int_equal(cache_get(cache, &key, 7, out, sizeof(out), 399),
	    sizeof(wire));
	assert_int_equal(get_u32(out + TTL_AT_1), 1);
	assert_int_equal(cache_get(cache, &key, 7, out, sizeof(out), 400), 0);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 0);
	assert_int_equal(stats.hits, 1);
	assert_int_equal(stats.misses, 1);
	assert_int_equal(stats.evictions, 0);
	/* Removed, not merely hidden: a later get is a plain miss. */
	assert_int_equal(cache_get(cache, &key, 7, out, sizeof(out), 100), 0);
	cache_free(cache);
}

static void
test_lru_eviction(void **state)
{
	struct cache *cache = cache_new(3);
	struct cache_stats stats;

	(void)state;
	put_simple(cache, "a.example", 1, 10);
	put_simple(cache, "b.example", 2, 11);
	put_simple(cache, "c.example", 3, 12);
	/* a becomes the most recent, so b is now the oldest. */
	assert_true(present(cache, "a.example", 13));
	put_simple(cache, "d.example", 4, 14);
	assert_false(present(cache, "b.example", 15));
	assert_true(present(cache, "a.example", 15));
	assert_true(present(cache, "c.example", 15));
	assert_true(present(cache, "d.example", 15));
	/* Recency is now a, c, d (oldest first): e pushes a out. */
	put_simple(cache, "e.example", 5, 16);
	assert_false(present(cache, "a.example", 17));
	assert_true(present(cache, "c.example", 17));
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 3);
	assert_int_equal(stats.evictions, 2);
	cache_free(cache);
}

static void
test_replace_same_key(void **state)
{
	struct cache *cache = cache_new(2);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	struct cache_stats stats;
	uint8_t first[64], second[40], out[64];
	const uint16_t one_offset[] = { 8 };

	(void)state;
	make_wire(first, 0x11, 300, 300);
	memset(second, 0x22, sizeof(second));
	put_u32(second + 8, 60);
	put_simple(cache, "other.example", 9, 100);
	cache_put(cache, &key, first, sizeof(first), 300, offsets, 2, 100);
	cache_put(cache, &key, second, sizeof(second), 60, one_offset, 1, 200);
	/* Replacing frees a slot of its own: nothing else is evicted. */
	assert_true(present(cache, "other.example", 200));
	assert_int_equal(cache_get(cache, &key, 0x2222, out, sizeof(out), 210),
	    sizeof(second));
	assert_int_equal(get_u32(out + 8), 50);
	assert_memory_equal(out + 12, second + 12, sizeof(second) - 12);
	/* The replacement keeps its own lifetime, not the first one's. */
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 260), 0);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.inserts, 3);
	assert_int_equal(stats.evictions, 0);
	assert_int_equal(stats.entries, 1);
	cache_free(cache);
}

static void
test_key_fields_distinguish(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	struct cache_key other;
	uint8_t wire[64], out[64];

	(void)state;
	make_wire(wire, 0xab, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, 100);

	other = make_key("example.com", QTYPE_A, true);
	assert_int_equal(cache_get(cache, &other, 1, out, sizeof(out), 100), 0);
	other = make_key("example.com", QTYPE_AAAA, false);
	assert_int_equal(cache_get(cache, &other, 1, out, sizeof(out), 100), 0);
	other = make_key("example.com", QTYPE_A, false);
	other.qclass = QCLASS_CH;
	assert_int_equal(cache_get(cache, &other, 1, out, sizeof(out), 100), 0);
	other = make_key("example.co", QTYPE_A, false);
	assert_int_equal(cache_get(cache, &other, 1, out, sizeof(out), 100), 0);
	other = make_key("example.comm", QTYPE_A, false);
	assert_int_equal(cache_get(cache, &other, 1, out, sizeof(out), 100), 0);

	/* With DO set, a second entry lives beside the first. */
	other = make_key("example.com", QTYPE_A, true);
	make_wire(wire, 0xcd, 300, 300);
	cache_put(cache, &other, wire, sizeof(wire), 300, offsets, 2, 100);
	assert_int_equal(cache_get(cache, &other, 1, out, sizeof(out), 100),
	    sizeof(wire));
	assert_int_equal(out[2], 0xcd);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100),
	    sizeof(wire));
	assert_int_equal(out[2], 0xab);
	cache_free(cache);
}

static void
test_root_name(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("", 2, false);
	uint8_t wire[64], out[64];

	(void)state;
	make_wire(wire, 0xab, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, 100);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100),
	    sizeof(wire));
	cache_free(cache);
}

static void
test_zero_entries_stores_nothing(void **state)
{
	struct cache *cache = cache_new(0);
	struct cache_stats stats;

	(void)state;
	put_simple(cache, "example.com", 1, 100);
	assert_false(present(cache, "example.com", 100));
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 0);
	assert_int_equal(stats.inserts, 0);
	assert_int_equal(stats.evictions, 0);
	assert_int_equal(stats.misses, 1);
	cache_free(cache);
}

static void
test_zero_ttl_stores_nothing(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	uint8_t wire[64], out[64];

	(void)state;
	make_wire(wire, 0xab, 0, 0);
	cache_put(cache, &key, wire, sizeof(wire), 0, offsets, 2, 100);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100), 0);
	cache_free(cache);
}

static void
test_outlen_too_small(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	uint8_t wire[64], out[64];

	(void)state;
	make_wire(wire, 0xab, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, offsets, 2, 100);
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(wire) - 1, 100),
	    0);
	assert_int_equal(out[0], 0x5a);
	/* The entry stays for a caller with room enough. */
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(wire), 100),
	    sizeof(wire));
	cache_free(cache);
}

static void
test_offsets_outside_wire(void **state)
{
	struct cache *cache = cache_new(10);
	struct cache_key key = make_key("example.com", QTYPE_A, false);
	uint8_t wire[64], out[64];
	const uint16_t last_fits[] = { 60 }, one_past[] = { 61 };
	const uint16_t far[] = { TTL_AT_1, 65535 };

	(void)state;
	make_wire(wire, 0xab, 300, 300);
	cache_put(cache, &key, wire, sizeof(wire), 300, one_past, 1, 100);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100), 0);
	cache_put(cache, &key, wire, sizeof(wire), 300, far, 2, 100);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100), 0);
	/* Too short to carry an ID. */
	cache_put(cache, &key, wire, 1, 300, NULL, 0, 100);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100), 0);
	cache_put(cache, &key, wire, 3, 300, NULL, 0, 100);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100), 3);
	cache_put(cache, &key, wire, sizeof(wire), 300, last_fits, 1, 100);
	assert_int_equal(cache_get(cache, &key, 1, out, sizeof(out), 100),
	    sizeof(wire));
	cache_free(cache);
}

static void
test_stats_counters(void **state)
{
	struct cache *cache = cache_new(2);
	struct cache_stats stats;

	(void)state;
	put_simple(cache, "a.example", 1, 100);
	put_simple(cache, "b.example", 2, 100);
	assert_true(present(cache, "a.example", 100));
	assert_true(present(cache, "b.example", 101));
	assert_false(present(cache, "c.example", 101));
	put_simple(cache, "c.example", 3, 102);		/* evicts a */
	assert_false(present(cache, "a.example", 103));
	assert_false(present(cache, "b.example", 400));	/* expired */
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.hits, 2);
	assert_int_equal(stats.misses, 3);
	assert_int_equal(stats.inserts, 3);
	assert_int_equal(stats.evictions, 1);
	assert_int_equal(stats.entries, 1);
	cache_free(cache);
}

/* More entries than buckets: chains and evictions through them hold up. */
static void
test_many_entries(void **state)
{
	struct cache *cache = cache_new(100);
	struct cache_stats stats;
	char name[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		put_simple(cache, name, (uint8_t)i, 100);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		assert_int_equal(present(cache, name, 101), i >= 900);
	}
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 100);
	assert_int_equal(stats.evictions, 900);
	cache_free(cache);
	cache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_id_rewrite),
		cmocka_unit_test(test_ttl_aging),
		cmocka_unit_test(test_expiry_at_ttl),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_replace_same_key),
		cmocka_unit_test(test_key_fields_distinguish),
		cmocka_unit_test(test_root_name),
		cmocka_unit_test(test_zero_entries_stores_nothing),
		cmocka_unit_test(test_zero_ttl_stores_nothing),
		cmocka_unit_test(test_outlen_too_small),
		cmocka_unit_test(test_offsets_outside_wire),
		cmocka_unit_test(test_stats_counters),
		cmocka_unit_test(test_many_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
