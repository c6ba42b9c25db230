/*
 * cache.c: the answer cache (RFC 1035 §7.3 aging, RFC 2308 §5 negative
 * answers are stored and aged the same way).
 *
 * A chained hash table finds entries; a doubly linked list orders them by
 * use, most recent first, so eviction takes the tail in O(1). The bucket
 * count is fixed when the cache is made (the next power of two at or above
 * max_entries, capped), so the table never rehashes on the query path.
 *
 * Query names come from clients: with a predictable hash, one client could
 * pile every entry into one bucket. The hash is SipHash-1-3 keyed with
 * random bytes drawn per cache.
 *
 * Not done here: parsing DNS (the caller gives the TTL offsets), prefetch,
 * serving stale answers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "cache.h"
#include "siphash.h"
#include "log.h"

/* 2^20 buckets (8 MB of pointers) keep chains short for millions of entries. */
#define CACHE_MAX_BUCKETS	((size_t)1 << 20)
/* The largest DNS message; ttl offsets are 16-bit for the same reason. */
#define CACHE_MAX_WIRE		65535

struct cache_entry {
	struct cache_entry	*chain_next;	/* same bucket */
	struct cache_entry	*lru_prev;	/* more recently used */
	struct cache_entry	*lru_next;	/* less recently used */
	uint64_t		 hash;
	uint64_t		 inserted;
	uint64_t		 expires;
	uint16_t		 qtype;
	uint16_t		 qclass;
	bool			 do_bit;
	size_t			 qname_len;
	size_t			 wire_len;
	size_t			 n_offsets;
	/* followed by the wire, then the qname, in the same allocation */
	uint16_t		 ttl_offsets[];
};

struct cache {
	struct cache_entry	**buckets;
	size_t			  bucket_mask;
	size_t			  max_entries;
	struct cache_entry	 *lru_head;
	struct cache_entry	 *lru_tail;
	uint64_t		  seed[2];
	struct cache_stats	  stats;
};

static uint8_t *
entry_wire(struct cache_entry *entry)
{
	return (uint8_t *)(entry->ttl_offsets + entry->n_offsets);
}

static char *
entry_qname(struct cache_entry *entry)
{
	return (char *)entry_wire(entry) + entry->wire_len;
}

/* SipHash-1-3 of the qname followed by qtype, qclass and the DO bit. */
static uint64_t
cache_hash(const struct cache *cache, const struct cache_key *key)
{
	uint8_t buf[1100];
	/* A longer name hashes by its start; entry_matches() compares it all. */
	size_t n = key->qname_len < sizeof(buf) - 5 ? key->qname_len :
	    sizeof(buf) - 5;

	memcpy(buf, key->qname, n);
	put_be16(buf + n, key->qtype);
	put_be16(buf + n + 2, key->qclass);
	buf[n + 4] = key->do_bit;
	return siphash13(cache->seed, buf, n + 5);
}

static bool
entry_matches(struct cache_entry *entry, uint64_t hash,
    const struct cache_key *key)
{
	return entry->hash == hash && entry->qtype == key->qtype &&
	    entry->qclass == key->qclass && entry->do_bit == key->do_bit &&
	    entry->qname_len == key->qname_len &&
	    memcmp(entry_qname(entry), key->qname, key->qname_len) == 0;
}

static struct cache_entry **
cache_find_slot(struct cache *cache, uint64_t hash,
    const struct cache_key *key)
{
	struct cache_entry **slot = &cache->buckets[hash & cache->bucket_mask];

	while (*slot != NULL && !entry_matches(*slot, hash, key))
		slot = &(*slot)->chain_next;
	return slot;
}

static void
lru_unlink(struct cache *cache, struct cache_entry *entry)
{
	if (entry->lru_prev != NULL)
		entry->lru_prev->lru_next = entry->lru_next;
	else
		cache->lru_head = entry->lru_next;
	if (entry->lru_next != NULL)
		entry->lru_next->lru_prev = entry->lru_prev;
	else
		cache->lru_tail = entry->lru_prev;
	entry->lru_prev = entry->lru_next = NULL;
}

static void
lru_push_front(struct cache *cache, struct cache_entry *entry)
{
	entry->lru_prev = NULL;
	entry->lru_next = cache->lru_head;
	if (cache->lru_head != NULL)
		cache->lru_head->lru_prev = entry;
	else
		cache->lru_tail = entry;
	cache->lru_head = entry;
}

/* Unlinks and frees the entry that *slot points to. */
static void
cache_remove_slot(struct cache *cache, struct cache_entry **slot)
{
	struct cache_entry *entry = *slot;

	*slot = entry->chain_next;
	lru_unlink(cache, entry);
	free(entry);
	cache->stats.entries--;
}

static void
cache_remove(struct cache *cache, struct cache_entry *entry)
{
	struct cache_entry **slot = &cache->buckets[entry->hash &
	    cache->bucket_mask];

	while (*slot != entry)
		slot = &(*slot)->chain_next;
	cache_remove_slot(cache, slot);
}

struct cache *
cache_new(size_t max_entries)
{
	struct cache *cache = xcalloc(1, sizeof(*cache));
	size_t buckets = 1;

	while (buckets < max_entries && buckets < CACHE_MAX_BUCKETS)
		buckets <<= 1;
	cache->buckets = xcalloc(buckets, sizeof(*cache->buckets));
	cache->bucket_mask = buckets - 1;
	cache->max_entries = max_entries;
	siphash_random_key(cache->seed);
	return cache;
}

void
cache_free(struct cache *cache)
{
	struct cache_entry *entry, *next;

	if (cache == NULL)
		return;
	for (entry = cache->lru_head; entry != NULL; entry = next) {
		next = entry->lru_next;
		free(entry);
	}
	free(cache->buckets);
	free(cache);
}

static bool
offsets_fit(const uint16_t *ttl_offsets, size_t n_offsets, size_t len)
{
	for (size_t i = 0; i < n_offsets; i++)
		if (len < 4 || ttl_offsets[i] > len - 4)
			return false;
	return true;
}

/*
 * A reply too short for its ID or with a TTL offset outside it is not
 * stored: serving it would write outside the copy.
 */
void
cache_put(struct cache *cache, const struct cache_key *key,
    const uint8_t *wire, size_t len, uint32_t ttl,
    const uint16_t *ttl_offsets, size_t n_offsets, uint64_t now)
{
	struct cache_entry *entry, **slot;
	uint64_t hash;

	if (cache->max_entries == 0 || ttl == 0 || len < 2 ||
	    len > CACHE_MAX_WIRE || !offsets_fit(ttl_offsets, n_offsets, len))
		return;

	hash = cache_hash(cache, key);
	slot = cache_find_slot(cache, hash, key);
	if (*slot != NULL)
		cache_remove_slot(cache, slot);
	else if (cache->stats.entries >= cache->max_entries) {
		cache_remove(cache, cache->lru_tail);
		cache->stats.evictions++;
	}

	entry = xmalloc(sizeof(*entry) + n_offsets * sizeof(uint16_t) + len +
	    key->qname_len);
	memset(entry, 0, sizeof(*entry));
	entry->hash = hash;
	entry->inserted = now;
	entry->expires = now + ttl;
	entry->qtype = key->qtype;
	entry->qclass = key->qclass;
	entry->do_bit = key->do_bit;
	entry->qname_len = key->qname_len;
	entry->wire_len = len;
	entry->n_offsets = n_offsets;
	if (n_offsets > 0)
		memcpy(entry->ttl_offsets, ttl_offsets,
		    n_offsets * sizeof(uint16_t));
	memcpy(entry_wire(entry), wire, len);
	memcpy(entry_qname(entry), key->qname, key->qname_len);

	slot = &cache->buckets[hash & cache->bucket_mask];
	entry->chain_next = *slot;
	*slot = entry;
	lru_push_front(cache, entry);
	cache->stats.entries++;
	cache->stats.inserts++;
}

size_t
cache_get(struct cache *cache, const struct cache_key *key,
    uint16_t id, uint8_t *out, size_t outlen, uint64_t now)
{
	struct cache_entry *entry, **slot;
	uint64_t elapsed;

	slot = cache_find_slot(cache, cache_hash(cache, key), key);
	entry = *slot;
	if (entry == NULL) {
		cache->stats.misses++;
		return 0;
	}
	if (now >= entry->expires) {
		cache_remove_slot(cache, slot);
		cache->stats.misses++;
		return 0;
	}
	if (entry->wire_len > outlen) {
		cache->stats.misses++;
		return 0;
	}

	memcpy(out, entry_wire(entry), entry->wire_len);
	put_be16(out, id);
	elapsed = now > entry->inserted ? now - entry->inserted : 0;
	for (size_t i = 0; i < entry->n_offsets; i++) {
		uint8_t *field = out + entry->ttl_offsets[i];
		uint32_t ttl = get_be32(field);
		put_be32(field, ttl > elapsed ? (uint32_t)(ttl - elapsed) : 0);
	}

	lru_unlink(cache, entry);
	lru_push_front(cache, entry);
	cache->stats.hits++;
	return entry->wire_len;
}

void
cache_get_stats(const struct cache *cache, struct cache_stats *out)
{
	*out = cache->stats;
}
