/*
 * ratelimit.c: per-client token buckets (see ratelimit.h).
 *
 * 64 shards of 256 entries in sets of 4: the address hash (SipHash, keyed
 * per process, so addresses cannot be chosen to collide) picks a shard
 * and a set; the entry with the address is used, else the one least
 * recently used is taken over. Tokens are kept in thousandths, so that
 * refilling needs no floating point.
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"
#include "siphash.h"

#define SHARDS		64
#define SETS		64	/* per shard */
#define WAYS		4
#define MILLI		1000ULL
#define FLOOD_FACTOR	4	/* past rate x this a second: drop */
#define LOG_EVERY_MS	60000

struct bucket {
	uint8_t		addr[16];
	uint8_t		family;
	uint64_t	tokens;		/* thousandths */
	uint64_t	last_ms;	/* last refill, and last use */
	uint64_t	second_ms;	/* start of the current second */
	uint32_t	in_second;	/* queries in it */
	uint64_t	logged_ms;	/* last log line, 0: never */
};

struct shard {
	pthread_mutex_t	lock;
	struct bucket	sets[SETS][WAYS];
};

struct ratelimit {
	uint64_t	key[2];
	struct shard	shards[SHARDS];
};

struct ratelimit *
ratelimit_new(void)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	siphash_random_key(rl->key);
	for (size_t i = 0; i < SHARDS; i++)
		pthread_mutex_init(&rl->shards[i].lock, NULL);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	for (size_t i = 0; i < SHARDS; i++)
		pthread_mutex_destroy(&rl->shards[i].lock);
	free(rl);
}

/* The address bytes of client (4 or 16) into out; its length. */
static size_t
address_of(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 4;
	}
	memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	return 16;
}

enum ratelimit_verdict
ratelimit_check(struct ratelimit *rl, const struct sockaddr *client,
    unsigned rate, unsigned burst, uint64_t now_ms, bool *log)
{
	uint8_t addr[16] = { 0 };
	size_t len = address_of(client, addr);
	uint64_t hash = siphash13(rl->key, addr, len);
	struct shard *shard = &rl->shards[hash % SHARDS];
	struct bucket *set = shard->sets[(hash / SHARDS) % SETS], *b = NULL;
	enum ratelimit_verdict verdict;
	uint64_t cap = (uint64_t)(burst > 0 ? burst : rate) * MILLI;

	*log = false;
	pthread_mutex_lock(&shard->lock);
	for (size_t i = 0; i < WAYS; i++)
		if (set[i].family == client->sa_family &&
		    memcmp(set[i].addr, addr, 16) == 0) {
			b = &set[i];
			break;
		}
	if (b == NULL) {
		b = &set[0];
		for (size_t i = 1; i < WAYS; i++)
			if (set[i].last_ms < b->last_ms)
				b = &set[i];
		memset(b, 0, sizeof(*b));
		memcpy(b->addr, addr, 16);
		b->family = (uint8_t)client->sa_family;
		b->tokens = cap;
		b->last_ms = now_ms;
		b->second_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		b->tokens += (now_ms - b->last_ms) * rate;	/* ms x rate/s */
		if (b->tokens > cap)
			b->tokens = cap;
		b->last_ms = now_ms;
	}
	if (now_ms - b->second_ms >= 1000) {
		b->second_ms = now_ms;
		b->in_second = 0;
	}
	b->in_second++;
	if (b->tokens >= MILLI) {
		b->tokens -= MILLI;
		verdict = RATELIMIT_PASS;
	} else
		verdict = (uint64_t)b->in_second > (uint64_t)rate *
		    FLOOD_FACTOR ? RATELIMIT_DROP : RATELIMIT_REFUSE;
	if (verdict != RATELIMIT_PASS && (b->logged_ms == 0 ||
	    now_ms - b->logged_ms >= LOG_EVERY_MS)) {
		b->logged_ms = now_ms;
		*log = true;
	}
	pthread_mutex_unlock(&shard->lock);
	return verdict;
}
