/*
 * stats.h: counters each thread keeps for itself and any thread reads.
 *
 * A counter has one writer (the worker that owns it), so an increment is
 * a relaxed load and store, no locked instruction; readers (the main
 * thread, for hushctl stats and /metrics) load it relaxed and sum over
 * the threads. Labelled counters ("tallies": per group and action, per
 * list) keep a fixed number of slots found by name; names are copied, so
 * they outlive the snapshot that gave them. Histograms have fixed buckets.
 */
#ifndef HUSHD_STATS_H
#define HUSHD_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef _Atomic uint64_t counter_t;

static inline void
counter_add(counter_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t
counter_get(const counter_t *c)
{
	return atomic_load_explicit((counter_t *)c, memory_order_relaxed);
}

#define TALLY_SLOTS	64	/* labels per tally; more go to "other" */
#define TALLY_COLUMNS	3	/* e.g. pass, log, block */
#define TALLY_NAME_MAX	64

struct tally_slot {
	char		name[TALLY_NAME_MAX];
	counter_t	n[TALLY_COLUMNS];
};

struct tally {
	struct tally_slot	slot[TALLY_SLOTS];
	_Atomic unsigned	used;		/* slots with a name */
};

/* Adds 1 to column col of label name (writer thread only). */
void tally_add(struct tally *t, const char *name, unsigned col);

/* Sums tallies of every thread: calls fn once per label. */
typedef void (*tally_fn)(void *arg, const char *name,
    const uint64_t n[TALLY_COLUMNS]);
void tally_sum(struct tally *const *t, size_t n, tally_fn fn, void *arg);

/* Upstream latency, seconds: Prometheus-style cumulative on output. */
#define HIST_BUCKETS	12
extern const double hist_bounds[HIST_BUCKETS];	/* last is +Inf */

struct hist {
	counter_t	bucket[HIST_BUCKETS];	/* not cumulative */
	counter_t	count;
	counter_t	sum_us;
};

void hist_add(struct hist *h, double seconds);

/* One per label (an upstream): slots found by name as in tallies. */
#define HISTSET_SLOTS	64

struct histset_slot {
	char		name[TALLY_NAME_MAX];
	struct hist	h;
	counter_t	failures;	/* timeouts and errors */
};

struct histset {
	struct histset_slot	slot[HISTSET_SLOTS];
	_Atomic unsigned	used;
};

struct histset_slot *histset_get(struct histset *s, const char *name);

/* What a worker counts. */
struct worker_stats {
	counter_t	queries;
	counter_t	cache_hits;
	counter_t	cache_misses;
	counter_t	refused_acl;
	counter_t	rate_limited;
	counter_t	malformed;	/* dropped or answered FORMERR/NOTIMP */
	counter_t	servfail;
	counter_t	tcp_rejected;	/* connections over tcp-max-connections */
	struct tally	by_group;	/* columns: pass, log, block */
	struct tally	blocked_by_list;	/* column 0 */
	struct histset	upstreams;
};

#endif
