/*
 * upstream.h: resolving a query through the configured upstreams.
 *
 * Each try uses a fresh UDP socket (so a fresh, kernel-randomised source
 * port) and a fresh random 16-bit ID; the socket is connected, so the
 * kernel drops datagrams from any other address or port, and a reply is
 * taken only when its ID and question match too. TC=1 retries the same
 * upstream over TCP. Timeouts, SERVFAIL and REFUSED move to the next
 * upstream; when every upstream has failed, or the query's deadline has
 * passed, the query fails.
 */
#ifndef HUSHD_UPSTREAM_H
#define HUSHD_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "dnsmsg.h"

struct event_base;
struct upstream_ctx;
struct upstream_query;

/*
 * Called once per query. On success reply is the upstream's message
 * (with the upstream's ID), parsed in *parsed, and from names the upstream;
 * on failure reply is NULL.
 */
typedef void (*upstream_done_fn)(void *arg, const uint8_t *reply, size_t len,
    const struct dnsreply *parsed, const struct conf_upstream *from);

struct upstream_stats {
	uint64_t	sent_udp;
	uint64_t	sent_tcp;
	uint64_t	timeouts;
	uint64_t	mismatched;	/* wrong ID/question or malformed: dropped */
	uint64_t	failed;		/* queries no upstream answered */
};

/* One per worker thread: its event base, its sockets, its counters. */
struct upstream_ctx *upstream_ctx_new(struct event_base *base);
/* Frees the context; every query started with it must be over. */
void upstream_ctx_free(struct upstream_ctx *ctx);

/*
 * Starts resolving query (len bytes, parsed as q) with the upstreams of
 * conf, which must outlive the query. The query bytes are copied. done is
 * always called from the event loop, never from within this call.
 */
struct upstream_query *upstream_resolve(struct upstream_ctx *ctx,
    const struct conf *conf, const uint8_t *query, size_t len,
    const struct dnsq *q, upstream_done_fn done, void *arg);

/* Abandons a query: done will not be called. */
void upstream_cancel(struct upstream_query *uq);

/* Where each failed try is counted, per upstream (owned by the caller). */
struct histset;
void upstream_set_health(struct upstream_ctx *ctx, struct histset *health);

const struct upstream_stats *upstream_get_stats(const struct upstream_ctx *ctx);

#endif
