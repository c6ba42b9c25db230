/*
 * ratelimit.h: queries per second per client address ("rate-limit").
 *
 * A token bucket per address: rate tokens a second, at most burst saved.
 * A query with a token passes; one without is refused (REFUSED); once a
 * client sends more than four times the rate within a second, its
 * queries are dropped without an answer, so a flood costs hushd no
 * upstream traffic and earns the sender nothing. Shared by every worker
 * (one client's queries may reach any of them), with one lock per shard.
 * The table has a fixed number of entries; a new address takes the
 * oldest entry of its bucket's set, so memory does not grow with the
 * number of addresses seen.
 */
#ifndef HUSHD_RATELIMIT_H
#define HUSHD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum ratelimit_verdict {
	RATELIMIT_PASS,
	RATELIMIT_REFUSE,
	RATELIMIT_DROP,
};

struct ratelimit;

struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit *rl);

/*
 * Judges one query of client at now_ms (monotonic) for rate and burst.
 * *log is set when this client should be logged (at most once a minute).
 */
enum ratelimit_verdict ratelimit_check(struct ratelimit *rl,
    const struct sockaddr *client, unsigned rate, unsigned burst,
    uint64_t now_ms, bool *log);

#endif
