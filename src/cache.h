/*
 * cache.h: the answer cache.
 *
 * Keyed by (qname, qtype, qclass, DO bit). An entry holds the reply as
 * received from upstream (wire format) and the offsets of the TTL fields
 * in it; what is served has every TTL reduced by the time the entry has
 * spent in the cache (RFC 1035 §7.3, RFC 2308 for negative answers). The
 * number of entries is bounded; the least recently used entry is evicted.
 * Times are whole seconds of a monotonic clock, given by the caller.
 * The cache does not parse DNS: dnsmsg.c finds the TTL offsets.
 */
#ifndef HUSHD_CACHE_H
#define HUSHD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache;

struct cache_key {
	const char	*qname;		/* normalised text, no trailing dot */
	size_t		 qname_len;
	uint16_t	 qtype;
	uint16_t	 qclass;
	bool		 do_bit;
};

struct cache_stats {
	uint64_t	hits;
	uint64_t	misses;
	uint64_t	inserts;
	uint64_t	evictions;
	size_t		entries;
};

/* max_entries 0 gives a cache that stores nothing. */
struct cache *cache_new(size_t max_entries);
void cache_free(struct cache *cache);

/*
 * Stores a copy of wire (len bytes) for ttl seconds from now. ttl_offsets
 * lists the byte offsets of the 32-bit TTL fields to age. An entry with
 * the same key is replaced. ttl 0 stores nothing.
 */
void cache_put(struct cache *cache, const struct cache_key *key,
    const uint8_t *wire, size_t len, uint32_t ttl,
    const uint16_t *ttl_offsets, size_t n_offsets, uint64_t now);

/*
 * On a hit, copies the entry into out (at most outlen bytes), sets the
 * message ID to id, reduces every TTL by the seconds spent in the cache and
 * returns the length. Returns 0 on a miss, an expired entry (which is
 * removed) or an entry longer than outlen.
 */
size_t cache_get(struct cache *cache, const struct cache_key *key,
    uint16_t id, uint8_t *out, size_t outlen, uint64_t now);

void cache_get_stats(const struct cache *cache, struct cache_stats *out);

#endif
