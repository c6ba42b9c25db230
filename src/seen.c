/*
 * seen.c: the table of addresses DNS answers gave to each client.
 *
 * The table is SEEN_SHARDS shards, chosen by a keyed hash of the client
 * alone, each with its own mutex, chained hash and LRU list. Keeping a
 * client's entries in one shard means a client that looks up names without
 * end evicts only entries of the clients that share its shard; the price is
 * that one client holds at most its shard's share of max_entries (a sixteenth
 * once max_entries reaches SEEN_SHARDS), so size the table for the busiest
 * client, not for the average.
 *
 * Every entry a shard can hold is allocated when the table is made, with
 * indices instead of pointers; a record takes a free entry or the least
 * recently used one, so seen_put never allocates. The allocation is
 * zero-filled and large, so the kernel maps its pages when they are first
 * written: memory grows with use up to max_entries (about 310 bytes each).
 *
 * Expired entries are removed when a lookup meets them, or reused from the
 * LRU tail; there is no sweep. Answer addresses come from upstream answers
 * and so partly from strangers: buckets are chosen by SipHash with a key
 * drawn per table.
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "seen.h"
#include "siphash.h"

#define SEEN_SHARDS	16
#define SEEN_NONE	UINT32_MAX
/* A shard's entries are numbered in 32 bits, SEEN_NONE excluded. */
#define SEEN_SHARD_MAX	((size_t)1 << 30)

/* A family byte and 16 address bytes; a key is client's, then addr's. */
#define SEEN_ADDR_LEN	17
#define SEEN_KEY_LEN	(2 * SEEN_ADDR_LEN)

struct seen_entry {
	uint64_t	expires;
	uint32_t	chain_next;	/* same bucket, or the free list */
	uint32_t	lru_prev;	/* more recently used */
	uint32_t	lru_next;	/* less recently used */
	uint8_t		key[SEEN_KEY_LEN];
	char		name[SEEN_NAME_MAX];
};

struct seen_shard {
	pthread_mutex_t		 lock;
	struct seen_entry	*entries;
	uint32_t		*buckets;	/* heads of chains */
	uint32_t		 bucket_mask;
	uint32_t		 capacity;
	uint32_t		 used;		/* entries ever handed out */
	uint32_t		 free_head;	/* removed, chained */
	uint32_t		 lru_head;
	uint32_t		 lru_tail;
	atomic_size_t		 count;		/* read without the lock */
};

struct seen {
	struct seen_shard	*shards;
	size_t			 nshards;
	uint32_t		 grace;
	uint64_t		 hash_key[2];
};

/* The key bytes of (client, addr); false for an unknown family. */
static bool
seen_key(const struct seen_addr *client, const struct seen_addr *addr,
    uint8_t key[SEEN_KEY_LEN])
{
	const struct seen_addr *a[2] = { client, addr };
	int i;

	memset(key, 0, SEEN_KEY_LEN);
	for (i = 0; i < 2; i++) {
		if (a[i]->family == AF_INET) {
			key[i * SEEN_ADDR_LEN] = 4;
			memcpy(key + i * SEEN_ADDR_LEN + 1, a[i]->bytes, 4);
		} else if (a[i]->family == AF_INET6) {
			key[i * SEEN_ADDR_LEN] = 6;
			memcpy(key + i * SEEN_ADDR_LEN + 1, a[i]->bytes, 16);
		} else
			return false;
	}
	return true;
}

struct seen *
seen_new(size_t max_entries, uint32_t grace)
{
	struct seen *seen = xcalloc(1, sizeof(*seen));
	struct seen_shard *shard;
	size_t i, capacity, buckets;

	if (max_entries == 0)
		max_entries = 1;
	seen->nshards = max_entries < SEEN_SHARDS ? max_entries : SEEN_SHARDS;
	seen->shards = xcalloc(seen->nshards, sizeof(*seen->shards));
	seen->grace = grace;
	siphash_random_key(seen->hash_key);
	for (i = 0; i < seen->nshards; i++) {
		shard = &seen->shards[i];
		capacity = max_entries / seen->nshards +
		    (i < max_entries % seen->nshards);
		if (capacity > SEEN_SHARD_MAX)
			capacity = SEEN_SHARD_MAX;
		for (buckets = 1; buckets < capacity; buckets <<= 1)
			;
		if (pthread_mutex_init(&shard->lock, NULL) != 0)
			fatalx("seen: pthread_mutex_init failed");
		shard->entries = xcalloc(capacity, sizeof(*shard->entries));
		shard->buckets = xreallocarray(NULL, buckets,
		    sizeof(*shard->buckets));
		memset(shard->buckets, 0xff, buckets * sizeof(*shard->buckets));
		shard->bucket_mask = (uint32_t)(buckets - 1);
		shard->capacity = (uint32_t)capacity;
		shard->free_head = SEEN_NONE;
		shard->lru_head = SEEN_NONE;
		shard->lru_tail = SEEN_NONE;
		atomic_init(&shard->count, 0);
	}
	return seen;
}

void
seen_free(struct seen *seen)
{
	size_t i;

	if (seen == NULL)
		return;
	for (i = 0; i < seen->nshards; i++) {
		pthread_mutex_destroy(&seen->shards[i].lock);
		free(seen->shards[i].entries);
		free(seen->shards[i].buckets);
	}
	free(seen->shards);
	free(seen);
}

static struct seen_shard *
seen_shard(const struct seen *seen, const uint8_t key[SEEN_KEY_LEN])
{
	/* The client half of the key alone picks the shard. */
	return &seen->shards[siphash13(seen->hash_key, key, SEEN_ADDR_LEN) %
	    seen->nshards];
}

static uint32_t
seen_bucket(const struct seen *seen, const struct seen_shard *shard,
    const uint8_t key[SEEN_KEY_LEN])
{
	return (uint32_t)siphash13(seen->hash_key, key, SEEN_KEY_LEN) &
	    shard->bucket_mask;
}

static uint32_t
seen_find(struct seen_shard *shard, uint32_t bucket,
    const uint8_t key[SEEN_KEY_LEN])
{
	uint32_t i;

	for (i = shard->buckets[bucket]; i != SEEN_NONE;
	    i = shard->entries[i].chain_next)
		if (memcmp(shard->entries[i].key, key, SEEN_KEY_LEN) == 0)
			return i;
	return SEEN_NONE;
}

static void
lru_unlink(struct seen_shard *shard, uint32_t i)
{
	struct seen_entry *e = &shard->entries[i];

	if (e->lru_prev != SEEN_NONE)
		shard->entries[e->lru_prev].lru_next = e->lru_next;
	else
		shard->lru_head = e->lru_next;
	if (e->lru_next != SEEN_NONE)
		shard->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		shard->lru_tail = e->lru_prev;
}

static void
lru_push_head(struct seen_shard *shard, uint32_t i)
{
	struct seen_entry *e = &shard->entries[i];

	e->lru_prev = SEEN_NONE;
	e->lru_next = shard->lru_head;
	if (shard->lru_head != SEEN_NONE)
		shard->entries[shard->lru_head].lru_prev = i;
	else
		shard->lru_tail = i;
	shard->lru_head = i;
}

/* Takes entry i out of its chain and the LRU list; it stays allocated. */
static void
seen_unlink(const struct seen *seen, struct seen_shard *shard, uint32_t i)
{
	uint32_t *link = &shard->buckets[seen_bucket(seen, shard,
	    shard->entries[i].key)];

	while (*link != i)
		link = &shard->entries[*link].chain_next;
	*link = shard->entries[i].chain_next;
	lru_unlink(shard, i);
	atomic_fetch_sub_explicit(&shard->count, 1, memory_order_relaxed);
}

/* A free entry: one never used, one removed, or the least recently used. */
static uint32_t
seen_take(const struct seen *seen, struct seen_shard *shard)
{
	uint32_t i;

	if (shard->free_head != SEEN_NONE) {
		i = shard->free_head;
		shard->free_head = shard->entries[i].chain_next;
	} else if (shard->used < shard->capacity)
		i = shard->used++;
	else {
		i = shard->lru_tail;
		seen_unlink(seen, shard, i);
	}
	return i;
}

static void
seen_copy_name(char *dst, const char *src)
{
	size_t len = strnlen(src, SEEN_NAME_MAX - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

void
seen_put(struct seen *seen, const struct seen_addr *client,
    const struct seen_addr *addr, const char *name, uint32_t ttl,
    uint64_t now)
{
	uint8_t key[SEEN_KEY_LEN];
	struct seen_shard *shard;
	struct seen_entry *e;
	uint64_t life = (uint64_t)ttl + seen->grace;
	uint32_t bucket, i;

	if (!seen_key(client, addr, key))
		return;
	shard = seen_shard(seen, key);
	bucket = seen_bucket(seen, shard, key);
	pthread_mutex_lock(&shard->lock);
	i = seen_find(shard, bucket, key);
	if (i != SEEN_NONE)
		lru_unlink(shard, i);
	else {
		i = seen_take(seen, shard);
		e = &shard->entries[i];
		memcpy(e->key, key, SEEN_KEY_LEN);
		e->chain_next = shard->buckets[bucket];
		shard->buckets[bucket] = i;
		atomic_fetch_add_explicit(&shard->count, 1,
		    memory_order_relaxed);
	}
	e = &shard->entries[i];
	e->expires = now > UINT64_MAX - life ? UINT64_MAX : now + life;
	seen_copy_name(e->name, name);
	lru_push_head(shard, i);
	pthread_mutex_unlock(&shard->lock);
}

bool
seen_get(struct seen *seen, const struct seen_addr *client,
    const struct seen_addr *addr, uint64_t now, char *name)
{
	uint8_t key[SEEN_KEY_LEN];
	struct seen_shard *shard;
	uint32_t i;
	bool hit = false;

	if (!seen_key(client, addr, key))
		return false;
	shard = seen_shard(seen, key);
	pthread_mutex_lock(&shard->lock);
	i = seen_find(shard, seen_bucket(seen, shard, key), key);
	if (i != SEEN_NONE && now >= shard->entries[i].expires) {
		seen_unlink(seen, shard, i);
		shard->entries[i].chain_next = shard->free_head;
		shard->free_head = i;
	} else if (i != SEEN_NONE) {
		seen_copy_name(name, shard->entries[i].name);
		lru_unlink(shard, i);
		lru_push_head(shard, i);
		hit = true;
	}
	pthread_mutex_unlock(&shard->lock);
	return hit;
}

size_t
seen_count(const struct seen *seen)
{
	size_t i, total = 0;

	for (i = 0; i < seen->nshards; i++)
		total += atomic_load_explicit(&seen->shards[i].count,
		    memory_order_relaxed);
	return total;
}

void
seen_addr_from(const struct sockaddr *sa, struct seen_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr,
		    4);
	else
		memcpy(out->bytes,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

void
seen_addr_mac(const uint8_t mac[6], struct seen_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_PACKET;
	memcpy(out->bytes, mac, 6);
}
