/*
 * frontend.h: the client-facing side of one worker thread: its UDP and TCP
 * listeners (SO_REUSEPORT, so that every worker has its own sockets on the
 * same addresses), its cache shard, its upstream sockets, and the life of
 * each query from arrival to answer.
 *
 * A frontend runs its own event loop in its own thread. It reads policy
 * from the snapshot it holds; the main thread hands it a new one with
 * loop_publish() and the frontend switches between two events, so no
 * lock is taken on the query path.
 */
#ifndef HUSHD_FRONTEND_H
#define HUSHD_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "stats.h"
#include "window.h"

struct frontend;
struct loop;
struct neigh;
struct oui;
struct pause;
struct ratelimit;
struct seen;

/* What all workers share: read-only, or locked inside. */
struct frontend_shared {
	struct neigh		*neigh;		/* the kernel's neighbour table */
	struct oui		*oui;		/* MAC vendors; may be NULL */
	struct seen		*seen;		/* answers given, for TLS/QUIC */
	struct ratelimit	*ratelimit;	/* per-client query rates */
	struct pause		*pause;		/* blocking paused, or NULL */
	unsigned		 workers;	/* how many share the listeners */
};


/*
 * Creates worker number index with a reference to policy, binding UDP and
 * TCP on every listen address of its configuration; fatal on failure.
 */
struct frontend *frontend_new(unsigned index, struct policy *policy,
    const struct frontend_shared *shared);

/* Its thread and event loop: loop_start(), loop_publish(), loop_stop(). */
struct loop *frontend_loop(struct frontend *fe);

/* Its counters and recent decisions, read by the main thread. */
struct worker_stats *frontend_stats(struct frontend *fe);
struct window *frontend_window(struct frontend *fe);

/* Closes sockets, drops queries still in flight and frees the worker. */
void frontend_free(struct frontend *fe);

#endif
