/*
 * metrics.h: the daemon's numbers, for "hushctl stats" (a table or JSON)
 * and for Prometheus ("metrics-listen", text exposition format 0.0.4 on
 * GET /metrics, served with libevent's evhttp from the main thread).
 */
#ifndef HUSHD_METRICS_H
#define HUSHD_METRICS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "addr.h"
#include "policy.h"
#include "stats.h"

struct event_base;
struct remote;

/* What the numbers are read from, at the moment they are asked for. */
struct metrics_view {
	time_t			  started;
	struct worker_stats	**workers;
	size_t			  n_workers;
	struct worker_stats	 *tls;		/* NULL without sni-listen */
	const struct policy	 *policy;
	const struct remote	 *remote;
};

typedef void (*metrics_view_fn)(void *arg, struct metrics_view *out);

/* Queries so far, and decisions by action (pass, log, block). */
void metrics_totals(const struct metrics_view *v, uint64_t *queries,
    uint64_t action[3]);

void metrics_write_stats(const struct metrics_view *v, bool json, FILE *out);
void metrics_write_prometheus(const struct metrics_view *v, FILE *out);

struct metrics;

/* Serves /metrics on listen; NULL with err when it cannot bind. */
struct metrics *metrics_new(struct event_base *base, const struct addr *listen,
    metrics_view_fn fn, void *arg, char *err, size_t errlen);
void metrics_free(struct metrics *m);

#endif
