/*
 * test_seen.c: the seen-address table: round trip, names cut to size,
 * expiry at TTL plus grace, replacement, LRU eviction per client shard,
 * address families kept apart, and two threads at once.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "seen.h"

#define GRACE	30

static struct seen_addr
addr(const char *text)
{
	struct seen_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, text, a.bytes), 1);
		a.family = AF_INET6;
	}
	return a;
}

static void
put(struct seen *seen, const char *client, const char *answer,
    const char *name, uint32_t ttl, uint64_t now)
{
	struct seen_addr c = addr(client), a = addr(answer);

	seen_put(seen, &c, &a, name, ttl, now);
}

/* The name found for (client, answer), or NULL. */
static const char *
get(struct seen *seen, const char *client, const char *answer, uint64_t now)
{
	static char name[SEEN_NAME_MAX];
	struct seen_addr c = addr(client), a = addr(answer);

	memset(name, 'x', sizeof(name));
	return seen_get(seen, &c, &a, now, name) ? name : NULL;
}

static void
test_put_get(void **state)
{
	struct seen *seen = seen_new(1000, GRACE);

	(void)state;
	assert_int_equal(seen_count(seen), 0);
	assert_null(get(seen, "192.168.1.23", "203.0.113.7", 100));
	put(seen, "192.168.1.23", "203.0.113.7", "api.example.com", 60, 100);
	put(seen, "192.168.1.23", "203.0.113.8", "cdn.example.com", 60, 100);
	put(seen, "192.168.1.24", "203.0.113.7", "other.example", 60, 100);
	assert_int_equal(seen_count(seen), 3);
	assert_string_equal(get(seen, "192.168.1.23", "203.0.113.7", 101),
	    "api.example.com");
	assert_string_equal(get(seen, "192.168.1.23", "203.0.113.8", 101),
	    "cdn.example.com");
	assert_string_equal(get(seen, "192.168.1.24", "203.0.113.7", 101),
	    "other.example");
	assert_null(get(seen, "192.168.1.25", "203.0.113.7", 101));
	assert_null(get(seen, "192.168.1.23", "203.0.113.9", 101));
	seen_free(seen);
	seen_free(NULL);
}

static void
test_names(void **state)
{
	struct seen *seen = seen_new(100, GRACE);
	char longest[SEEN_NAME_MAX], longer[SEEN_NAME_MAX + 40];

	(void)state;
	put(seen, "10.0.0.1", "203.0.113.1", "", 60, 0);
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.1", 1), "");

	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	put(seen, "10.0.0.1", "203.0.113.2", longest, 60, 0);
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.2", 1), longest);

	memset(longer, 'b', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	put(seen, "10.0.0.1", "203.0.113.3", longer, 60, 0);
	assert_int_equal(strlen(get(seen, "10.0.0.1", "203.0.113.3", 1)),
	    SEEN_NAME_MAX - 1);
	assert_memory_equal(get(seen, "10.0.0.1", "203.0.113.3", 1), longer,
	    SEEN_NAME_MAX - 1);

	/* The table keeps its own copy. */
	longest[0] = 'z';
	assert_int_equal(get(seen, "10.0.0.1", "203.0.113.2", 1)[0], 'a');
	seen_free(seen);
}

static void
test_expiry(void **state)
{
	struct seen *seen = seen_new(100, GRACE);

	(void)state;
	put(seen, "10.0.0.1", "203.0.113.1", "a.example", 60, 1000);
	put(seen, "10.0.0.1", "203.0.113.2", "b.example", 0, 1000);
	assert_non_null(get(seen, "10.0.0.1", "203.0.113.1",
	    1000 + 60 + GRACE - 1));
	assert_non_null(get(seen, "10.0.0.1", "203.0.113.2",
	    1000 + GRACE - 1));
	assert_int_equal(seen_count(seen), 2);
	assert_null(get(seen, "10.0.0.1", "203.0.113.1", 1000 + 60 + GRACE));
	assert_int_equal(seen_count(seen), 1);
	assert_null(get(seen, "10.0.0.1", "203.0.113.1", 1000));
	assert_null(get(seen, "10.0.0.1", "203.0.113.2", 1000 + GRACE));
	assert_int_equal(seen_count(seen), 0);

	/* A removed entry is used again, and times do not wrap. */
	put(seen, "10.0.0.1", "203.0.113.3", "c.example", UINT32_MAX,
	    UINT64_MAX - 10);
	assert_non_null(get(seen, "10.0.0.1", "203.0.113.3", UINT64_MAX - 1));
	assert_int_equal(seen_count(seen), 1);
	seen_free(seen);
}

static void
test_replace(void **state)
{
	struct seen *seen = seen_new(100, GRACE);

	(void)state;
	put(seen, "10.0.0.1", "203.0.113.1", "first.example", 10, 0);
	put(seen, "10.0.0.1", "203.0.113.1", "second.example", 300, 5);
	assert_int_equal(seen_count(seen), 1);
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.1", 100),
	    "second.example");
	/* A shorter TTL replaces a longer one too: the latest answer counts. */
	put(seen, "10.0.0.1", "203.0.113.1", "third.example", 1, 100);
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.1", 100),
	    "third.example");
	assert_null(get(seen, "10.0.0.1", "203.0.113.1", 101 + GRACE));
	seen_free(seen);
}

/*
 * One client's entries share a shard: with 16 shards of 4, its fifth
 * address evicts the least recently used of its four.
 */
static void
test_lru(void **state)
{
	struct seen *seen = seen_new(64, GRACE);
	char answer[32], name[32];
	int i;

	(void)state;
	for (i = 1; i <= 4; i++) {
		snprintf(answer, sizeof(answer), "203.0.113.%d", i);
		snprintf(name, sizeof(name), "n%d.example", i);
		put(seen, "10.0.0.1", answer, name, 60, 0);
	}
	/* Using the oldest makes the second the least recently used. */
	assert_non_null(get(seen, "10.0.0.1", "203.0.113.1", 1));
	put(seen, "10.0.0.1", "203.0.113.5", "n5.example", 60, 2);
	assert_int_equal(seen_count(seen), 4);
	assert_null(get(seen, "10.0.0.1", "203.0.113.2", 3));
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.1", 3),
	    "n1.example");
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.3", 3),
	    "n3.example");
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.5", 3),
	    "n5.example");

	/* A replacement is a use as well. */
	put(seen, "10.0.0.1", "203.0.113.4", "n4-again.example", 60, 4);
	put(seen, "10.0.0.1", "203.0.113.6", "n6.example", 60, 5);
	assert_null(get(seen, "10.0.0.1", "203.0.113.1", 6));
	assert_string_equal(get(seen, "10.0.0.1", "203.0.113.4", 6),
	    "n4-again.example");
	seen_free(seen);
}

/* The whole table stays within max_entries, however it is filled. */
static void
test_bounded(void **state)
{
	struct seen *seen = seen_new(100, GRACE);
	struct seen_addr client, answer;
	int i;

	(void)state;
	client = addr("10.0.0.1");
	answer = addr("2001:db8::");
	for (i = 0; i < 5000; i++) {
		client.bytes[3] = (uint8_t)(i % 50);
		answer.bytes[14] = (uint8_t)(i >> 8);
		answer.bytes[15] = (uint8_t)i;
		seen_put(seen, &client, &answer, "x.example", 60, (uint64_t)i);
		assert_true(seen_count(seen) <= 100);
	}
	assert_true(seen_count(seen) > 50);
	seen_free(seen);

	/* Fewer entries than shards: each still holds one. */
	seen = seen_new(1, GRACE);
	put(seen, "10.0.0.1", "203.0.113.1", "a.example", 60, 0);
	put(seen, "10.0.0.2", "203.0.113.2", "b.example", 60, 0);
	assert_int_equal(seen_count(seen), 1);
	assert_string_equal(get(seen, "10.0.0.2", "203.0.113.2", 1),
	    "b.example");
	seen_free(seen);
}

/* IPv4 and IPv6 with the same leading bytes are different addresses. */
static void
test_families(void **state)
{
	struct seen *seen = seen_new(100, GRACE);
	struct seen_addr v4 = addr("10.0.0.1"), v6, odd;
	struct seen_addr a4 = addr("203.0.113.1"), a6, a4_junk;
	char name[SEEN_NAME_MAX];

	(void)state;
	v6 = v4;
	v6.family = AF_INET6;
	a6 = a4;
	a6.family = AF_INET6;
	seen_put(seen, &v4, &a4, "v4-v4", 60, 0);
	seen_put(seen, &v6, &a4, "v6-v4", 60, 0);
	seen_put(seen, &v4, &a6, "v4-v6", 60, 0);
	seen_put(seen, &v6, &a6, "v6-v6", 60, 0);
	assert_int_equal(seen_count(seen), 4);
	assert_true(seen_get(seen, &v4, &a4, 1, name));
	assert_string_equal(name, "v4-v4");
	assert_true(seen_get(seen, &v6, &a4, 1, name));
	assert_string_equal(name, "v6-v4");
	assert_true(seen_get(seen, &v4, &a6, 1, name));
	assert_string_equal(name, "v4-v6");
	assert_true(seen_get(seen, &v6, &a6, 1, name));
	assert_string_equal(name, "v6-v6");

	/* Bytes past an IPv4 address do not count. */
	a4_junk = a4;
	memset(a4_junk.bytes + 4, 0xee, 12);
	assert_true(seen_get(seen, &v4, &a4_junk, 1, name));
	assert_string_equal(name, "v4-v4");

	put(seen, "2001:db8::1", "2001:db8:1::1", "six.example", 60, 0);
	assert_string_equal(get(seen, "2001:db8::1", "2001:db8:1::1", 1),
	    "six.example");
	assert_null(get(seen, "2001:db8::2", "2001:db8:1::1", 1));

	/* Neither family: ignored. */
	odd = v4;
	odd.family = AF_UNIX;
	seen_put(seen, &odd, &a4, "odd", 60, 0);
	seen_put(seen, &v4, &odd, "odd", 60, 0);
	assert_int_equal(seen_count(seen), 5);
	assert_false(seen_get(seen, &odd, &a4, 1, name));
	seen_free(seen);
}

#define THREAD_ROUNDS	20000

struct worker {
	struct seen	*seen;
	int		 id;
	int		 hits;
};

/* Each thread records and finds its own names, in shards it shares. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct seen_addr client, answer;
	char name[SEEN_NAME_MAX], expect[32];
	int i;

	memset(&client, 0, sizeof(client));
	memset(&answer, 0, sizeof(answer));
	client.family = AF_INET;
	answer.family = AF_INET;
	for (i = 0; i < THREAD_ROUNDS; i++) {
		client.bytes[0] = 10;
		client.bytes[3] = (uint8_t)(i % 8);
		answer.bytes[0] = (uint8_t)w->id;
		answer.bytes[2] = (uint8_t)(i >> 8);
		answer.bytes[3] = (uint8_t)i;
		snprintf(expect, sizeof(expect), "t%d-%d.example", w->id, i);
		seen_put(w->seen, &client, &answer, expect, 60, (uint64_t)i);
		if (seen_get(w->seen, &client, &answer, (uint64_t)i, name) &&
		    strcmp(name, expect) == 0)
			w->hits++;
		/* Something the other thread may have put, or evicted. */
		answer.bytes[0] = (uint8_t)(w->id ^ 1);
		seen_get(w->seen, &client, &answer, (uint64_t)i, name);
		(void)seen_count(w->seen);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct seen *seen = seen_new(256, GRACE);
	struct worker workers[2];
	pthread_t threads[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		workers[i] = (struct worker){ .seen = seen, .id = i };
		assert_int_equal(pthread_create(&threads[i], NULL, worker_run,
		    &workers[i]), 0);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	/*
	 * The other thread can evict a name between its put and get, but
	 * with 8 clients over 16 shards of 16 that is rare.
	 */
	for (i = 0; i < 2; i++)
		assert_true(workers[i].hits > THREAD_ROUNDS * 9 / 10);
	assert_true(seen_count(seen) <= 256);
	seen_free(seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
