/*
 * metrics.c: "hushctl stats" and Prometheus /metrics.
 *
 * Both read the same view: the counters of every worker (and of the TLS
 * proxy), summed here; the running snapshot's lists and geolocation
 * databases; the remote lists' state. Metric names follow Prometheus'
 * conventions: hushd_ prefix, _total for counters, _seconds for times.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "remote.h"

struct totals {
	uint64_t	queries, cache_hits, cache_misses, refused_acl;
	uint64_t	rate_limited, malformed, servfail, tcp_rejected;
	uint64_t	action[TALLY_COLUMNS];	/* pass, log, block */
};

static void
add_action(void *arg, const char *name, const uint64_t n[TALLY_COLUMNS])
{
	struct totals *t = arg;

	(void)name;
	for (unsigned c = 0; c < TALLY_COLUMNS; c++)
		t->action[c] += n[c];
}

static void
sum_workers(const struct metrics_view *v, struct totals *t)
{
	struct tally *groups[v->n_workers + 1];

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < v->n_workers; i++) {
		const struct worker_stats *w = v->workers[i];
		t->queries += counter_get(&w->queries);
		t->cache_hits += counter_get(&w->cache_hits);
		t->cache_misses += counter_get(&w->cache_misses);
		t->refused_acl += counter_get(&w->refused_acl);
		t->rate_limited += counter_get(&w->rate_limited);
		t->malformed += counter_get(&w->malformed);
		t->servfail += counter_get(&w->servfail);
		t->tcp_rejected += counter_get(&w->tcp_rejected);
		groups[i] = &v->workers[i]->by_group;
	}
	tally_sum(groups, v->n_workers, add_action, t);
}

void
metrics_totals(const struct metrics_view *v, uint64_t *queries,
    uint64_t action[3])
{
	struct totals t;

	sum_workers(v, &t);
	*queries = t.queries;
	for (int i = 0; i < 3; i++)
		action[i] = t.action[i];
}

/* Per upstream: answers, failures, latency; summed over the workers. */
struct upstream_sum {
	const char	*name;
	uint64_t	 bucket[HIST_BUCKETS];
	uint64_t	 count, sum_us, failures;
};

static size_t
sum_upstreams(const struct metrics_view *v, struct upstream_sum *out,
    size_t max)
{
	size_t n = 0, j;

	for (size_t i = 0; i < v->n_workers; i++) {
		struct histset *hs = &v->workers[i]->upstreams;
		unsigned used = atomic_load_explicit(&hs->used,
		    memory_order_acquire);
		for (unsigned k = 0; k < used; k++) {
			const struct histset_slot *s = &hs->slot[k];
			for (j = 0; j < n; j++)
				if (strcmp(out[j].name, s->name) == 0)
					break;
			if (j == n) {
				if (n == max)
					continue;
				memset(&out[n], 0, sizeof(out[n]));
				out[n++].name = s->name;
			}
			for (unsigned b = 0; b < HIST_BUCKETS; b++)
				out[j].bucket[b] += counter_get(&s->h.bucket[b]);
			out[j].count += counter_get(&s->h.count);
			out[j].sum_us += counter_get(&s->h.sum_us);
			out[j].failures += counter_get(&s->failures);
		}
	}
	return n;
}

static void
format_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0) {
		snprintf(buf, len, "none");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

static void
format_uptime(time_t s, char *buf, size_t len)
{
	snprintf(buf, len, "%lldd %02lld:%02lld:%02lld", (long long)s / 86400,
	    (long long)s % 86400 / 3600, (long long)s % 3600 / 60,
	    (long long)s % 60);
}

struct tls_text {
	FILE	*out;
	bool	 json;
	bool	 first;
};

static void
write_tls_group(void *arg, const char *name, const uint64_t n[TALLY_COLUMNS])
{
	struct tls_text *t = arg;

	if (t->json) {
		fputs(t->first ? "" : ",", t->out);
		json_fput_string(t->out, name);
		fprintf(t->out, ":{\"pass\":%llu,\"log\":%llu,\"block\":%llu}",
		    (unsigned long long)n[0], (unsigned long long)n[1],
		    (unsigned long long)n[2]);
	} else
		fprintf(t->out, "  %-20s %10llu %10llu %10llu\n", name,
		    (unsigned long long)n[0], (unsigned long long)n[1],
		    (unsigned long long)n[2]);
	t->first = false;
}

static void
write_stats_json(const struct metrics_view *v, const struct totals *t,
    const struct upstream_sum *ups, size_t n_ups, FILE *out)
{
	const struct conf *conf = v->policy->conf;
	char country[16], asn[16];
	uint64_t lookups = t->cache_hits + t->cache_misses;

	fprintf(out, "{\"uptime_seconds\":%lld,\"queries\":%llu,"
	    "\"passed\":%llu,\"logged\":%llu,\"blocked\":%llu,"
	    "\"cache_hits\":%llu,\"cache_misses\":%llu,"
	    "\"cache_hit_rate\":%.4f,\"refused_acl\":%llu,"
	    "\"rate_limited\":%llu,\"malformed\":%llu,\"servfail\":%llu,"
	    "\"tcp_rejected\":%llu,\"events_dropped\":%llu,\"workers\":[",
	    (long long)(time(NULL) - v->started),
	    (unsigned long long)t->queries,
	    (unsigned long long)t->action[POLICY_PASS],
	    (unsigned long long)t->action[POLICY_LOG],
	    (unsigned long long)t->action[POLICY_BLOCK],
	    (unsigned long long)t->cache_hits,
	    (unsigned long long)t->cache_misses,
	    lookups ? (double)t->cache_hits / (double)lookups : 0.0,
	    (unsigned long long)t->refused_acl,
	    (unsigned long long)t->rate_limited,
	    (unsigned long long)t->malformed,
	    (unsigned long long)t->servfail,
	    (unsigned long long)t->tcp_rejected,
	    (unsigned long long)events_dropped_count());
	for (size_t i = 0; i < v->n_workers; i++)
		fprintf(out, "%s{\"queries\":%llu}", i ? "," : "",
		    (unsigned long long)counter_get(&v->workers[i]->queries));
	fputs("],\"upstreams\":[", out);
	for (size_t i = 0; i < n_ups; i++) {
		fputs(i ? ",{\"upstream\":" : "{\"upstream\":", out);
		json_fput_string(out, ups[i].name);
		fprintf(out, ",\"answers\":%llu,\"failures\":%llu,"
		    "\"latency_avg_ms\":%.3f}", (unsigned long long)ups[i].count,
		    (unsigned long long)ups[i].failures, ups[i].count ?
		    (double)ups[i].sum_us / 1000.0 / (double)ups[i].count : 0.0);
	}
	fputs("],\"lists\":[", out);
	for (size_t i = 0; i < conf->n_lists; i++) {
		fputs(i ? ",{\"list\":" : "{\"list\":", out);
		json_fput_string(out, conf->lists[i].name);
		fprintf(out, ",\"rules\":%zu,\"skipped\":%zu,\"file\":",
		    list_size(v->policy->lists[i]),
		    v->policy->lists[i]->skipped);
		json_fput_string(out, conf->lists[i].path);
		fputs(",\"url\":", out);
		json_fput_string(out, conf->lists[i].url);
		fputs("}", out);
	}
	format_date(geo_country_built(v->policy->geo), country,
	    sizeof(country));
	format_date(geo_asn_built(v->policy->geo), asn, sizeof(asn));
	fputs("],\"geo\":{\"country_built\":", out);
	json_fput_string(out, strcmp(country, "none") ? country : NULL);
	fputs(",\"asn_built\":", out);
	json_fput_string(out, strcmp(asn, "none") ? asn : NULL);
	fputs("},\"remote\":", out);
	remote_status(v->remote, true, out);
	fputs(",\"tls\":{", out);
	if (v->tls != NULL) {
		struct tally *tls = &v->tls->by_group;
		struct tls_text tt = { .out = out, .json = true, .first = true };
		tally_sum(&tls, 1, write_tls_group, &tt);
	}
	fputs("}}\n", out);
}

void
metrics_write_stats(const struct metrics_view *v, bool json, FILE *out)
{
	const struct conf *conf = v->policy->conf;
	struct upstream_sum ups[HISTSET_SLOTS];
	size_t n_ups = sum_upstreams(v, ups, HISTSET_SLOTS);
	struct totals t;
	char text[64], country[16], asn[16];
	uint64_t lookups;

	sum_workers(v, &t);
	if (json) {
		write_stats_json(v, &t, ups, n_ups, out);
		return;
	}
	lookups = t.cache_hits + t.cache_misses;
	format_uptime(time(NULL) - v->started, text, sizeof(text));
	fprintf(out, "uptime          %s\n", text);
	fprintf(out, "queries         %llu\n", (unsigned long long)t.queries);
	fprintf(out, "  passed        %llu\n",
	    (unsigned long long)t.action[POLICY_PASS]);
	fprintf(out, "  logged        %llu\n",
	    (unsigned long long)t.action[POLICY_LOG]);
	fprintf(out, "  blocked       %llu\n",
	    (unsigned long long)t.action[POLICY_BLOCK]);
	fprintf(out, "cache hit rate  %.1f%% (%llu of %llu)\n", lookups ?
	    100.0 * (double)t.cache_hits / (double)lookups : 0.0,
	    (unsigned long long)t.cache_hits, (unsigned long long)lookups);
	fprintf(out, "refused         %llu (not allowed), %llu (rate limit)\n",
	    (unsigned long long)t.refused_acl,
	    (unsigned long long)t.rate_limited);
	fprintf(out, "malformed       %llu\n", (unsigned long long)t.malformed);
	fprintf(out, "servfail        %llu\n", (unsigned long long)t.servfail);
	fprintf(out, "events dropped  %llu\n",
	    (unsigned long long)events_dropped_count());
	fprintf(out, "workers        ");
	for (size_t i = 0; i < v->n_workers; i++)
		fprintf(out, " %llu",
		    (unsigned long long)counter_get(&v->workers[i]->queries));
	fprintf(out, " (queries each)\n");
	fprintf(out, "\nupstream                    answers   failures  "
	    "avg latency\n");
	for (size_t i = 0; i < n_ups; i++)
		fprintf(out, "  %-24s %9llu %10llu  %8.2f ms\n", ups[i].name,
		    (unsigned long long)ups[i].count,
		    (unsigned long long)ups[i].failures, ups[i].count ?
		    (double)ups[i].sum_us / 1000.0 / (double)ups[i].count : 0.0);
	fprintf(out, "\nlist                        rules    skipped  file\n");
	for (size_t i = 0; i < conf->n_lists; i++)
		fprintf(out, "  %-24s %7zu %10zu  %s\n", conf->lists[i].name,
		    list_size(v->policy->lists[i]),
		    v->policy->lists[i]->skipped, conf->lists[i].url ?
		    conf->lists[i].url : conf->lists[i].path);
	format_date(geo_country_built(v->policy->geo), country,
	    sizeof(country));
	format_date(geo_asn_built(v->policy->geo), asn, sizeof(asn));
	fprintf(out, "\ngeo databases   country built %s, asn built %s\n",
	    country, asn);
	if (conf->n_lists > 0) {
		bool any = false;
		for (size_t i = 0; i < conf->n_lists; i++)
			any = any || conf->lists[i].url != NULL;
		if (any) {
			fprintf(out, "\nremote list          state               "
			    "checked              changed              \n");
			remote_status(v->remote, false, out);
		}
	}
	if (v->tls != NULL) {
		struct tally *tls = &v->tls->by_group;
		struct tls_text tt = { .out = out, .first = true };
		fprintf(out, "\ntls connections            pass        log"
		    "      block\n");
		tally_sum(&tls, 1, write_tls_group, &tt);
	}
}

/* ------------------------------------------------------------ Prometheus */

static void
prom_label(FILE *out, const char *value)
{
	for (const char *c = value; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', out);
		if (*c == '\n') {
			fputs("\\n", out);
			continue;
		}
		fputc(*c, out);
	}
}

struct prom {
	FILE		*out;
	const char	*metric;
	const char	*label;
};

static void
prom_actions(void *arg, const char *name, const uint64_t n[TALLY_COLUMNS])
{
	struct prom *p = arg;
	static const char *actions[TALLY_COLUMNS] = { "pass", "log", "block" };

	for (unsigned c = 0; c < TALLY_COLUMNS; c++) {
		fprintf(p->out, "%s{action=\"%s\",%s=\"", p->metric, actions[c],
		    p->label);
		prom_label(p->out, name);
		fprintf(p->out, "\"} %llu\n", (unsigned long long)n[c]);
	}
}

static void
prom_single(void *arg, const char *name, const uint64_t n[TALLY_COLUMNS])
{
	struct prom *p = arg;

	fprintf(p->out, "%s{%s=\"", p->metric, p->label);
	prom_label(p->out, name);
	fprintf(p->out, "\"} %llu\n", (unsigned long long)n[0]);
}

static void
prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_counter(FILE *out, const char *name, const char *help, uint64_t value)
{
	prom_head(out, name, "counter", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)value);
}

void
metrics_write_prometheus(const struct metrics_view *v, FILE *out)
{
	const struct conf *conf = v->policy->conf;
	struct upstream_sum ups[HISTSET_SLOTS];
	size_t n_ups = sum_upstreams(v, ups, HISTSET_SLOTS);
	struct tally *t[v->n_workers + 1];
	struct prom p = { .out = out };
	struct totals tot;

	sum_workers(v, &tot);
	prom_head(out, "hushd_uptime_seconds", "gauge",
	    "Seconds since hushd started.");
	fprintf(out, "hushd_uptime_seconds %lld\n",
	    (long long)(time(NULL) - v->started));

	prom_head(out, "hushd_queries_total", "counter",
	    "DNS queries decided, by action and client group.");
	for (size_t i = 0; i < v->n_workers; i++)
		t[i] = &v->workers[i]->by_group;
	p.metric = "hushd_queries_total";
	p.label = "group";
	tally_sum(t, v->n_workers, prom_actions, &p);

	prom_head(out, "hushd_blocked_total", "counter",
	    "DNS queries blocked, by the list (or reason) that blocked them.");
	for (size_t i = 0; i < v->n_workers; i++)
		t[i] = &v->workers[i]->blocked_by_list;
	p.metric = "hushd_blocked_total";
	p.label = "list";
	tally_sum(t, v->n_workers, prom_single, &p);

	prom_counter(out, "hushd_cache_hits_total",
	    "Queries answered from the cache.", tot.cache_hits);
	prom_counter(out, "hushd_cache_misses_total",
	    "Queries sent upstream.", tot.cache_misses);
	prom_counter(out, "hushd_refused_total",
	    "Queries refused: client not allowed.", tot.refused_acl);
	prom_counter(out, "hushd_rate_limited_total",
	    "Queries refused or dropped by the rate limit.", tot.rate_limited);
	prom_counter(out, "hushd_malformed_total",
	    "Malformed queries dropped or answered FORMERR/NOTIMP.",
	    tot.malformed);
	prom_counter(out, "hushd_servfail_total",
	    "Queries no upstream answered.", tot.servfail);
	prom_counter(out, "hushd_events_dropped_total",
	    "Events that could not be written to the event log.",
	    events_dropped_count());

	prom_head(out, "hushd_worker_queries_total", "counter",
	    "DNS queries received, by worker thread.");
	for (size_t i = 0; i < v->n_workers; i++)
		fprintf(out, "hushd_worker_queries_total{worker=\"%zu\"} %llu\n",
		    i, (unsigned long long)counter_get(&v->workers[i]->queries));

	prom_head(out, "hushd_upstream_latency_seconds", "histogram",
	    "Time from a query's arrival to its upstream answer.");
	for (size_t i = 0; i < n_ups; i++) {
		uint64_t cumulative = 0;
		for (unsigned b = 0; b < HIST_BUCKETS; b++) {
			cumulative += ups[i].bucket[b];
			fputs("hushd_upstream_latency_seconds_bucket{upstream=\"",
			    out);
			prom_label(out, ups[i].name);
			if (hist_bounds[b] < 0)
				fputs("\",le=\"+Inf\"}", out);
			else
				fprintf(out, "\",le=\"%g\"}", hist_bounds[b]);
			fprintf(out, " %llu\n", (unsigned long long)cumulative);
		}
		fputs("hushd_upstream_latency_seconds_sum{upstream=\"", out);
		prom_label(out, ups[i].name);
		fprintf(out, "\"} %.6f\n", (double)ups[i].sum_us / 1e6);
		fputs("hushd_upstream_latency_seconds_count{upstream=\"", out);
		prom_label(out, ups[i].name);
		fprintf(out, "\"} %llu\n", (unsigned long long)ups[i].count);
	}
	prom_head(out, "hushd_upstream_failures_total", "counter",
	    "Tries an upstream did not answer in time or answered with an "
	    "error.");
	for (size_t i = 0; i < n_ups; i++) {
		fputs("hushd_upstream_failures_total{upstream=\"", out);
		prom_label(out, ups[i].name);
		fprintf(out, "\"} %llu\n", (unsigned long long)ups[i].failures);
	}

	prom_head(out, "hushd_list_rules", "gauge",
	    "Rules loaded from each list.");
	for (size_t i = 0; i < conf->n_lists; i++) {
		fputs("hushd_list_rules{list=\"", out);
		prom_label(out, conf->lists[i].name);
		fprintf(out, "\"} %zu\n", list_size(v->policy->lists[i]));
	}
	prom_head(out, "hushd_geo_database_build_timestamp_seconds", "gauge",
	    "When each geolocation database was built (0: none open).");
	fprintf(out, "hushd_geo_database_build_timestamp_seconds{database="
	    "\"country\"} %lld\n", (long long)geo_country_built(v->policy->geo));
	fprintf(out, "hushd_geo_database_build_timestamp_seconds{database="
	    "\"asn\"} %lld\n", (long long)geo_asn_built(v->policy->geo));

	if (v->tls != NULL) {
		struct tally *tls = &v->tls->by_group;
		prom_head(out, "hushd_tls_connections_total", "counter",
		    "TLS connections through the proxy, by action and group.");
		p.metric = "hushd_tls_connections_total";
		p.label = "group";
		tally_sum(&tls, 1, prom_actions, &p);
	}
}

/* ------------------------------------------------------------ HTTP server */

struct metrics {
	struct evhttp	*http;
	metrics_view_fn	 fn;
	void		*arg;
};

static void
serve_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct metrics_view v;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if ((f = open_memstream(&text, &len)) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	m->fn(m->arg, &v);
	metrics_write_prometheus(&v, f);
	fclose(f);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	struct evbuffer *body = evbuffer_new();
	evbuffer_add(body, text, len);
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
	free(text);
}

static void
serve_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "Not Found: try /metrics");
}

struct metrics *
metrics_new(struct event_base *base, const struct addr *at,
    metrics_view_fn fn, void *arg, char *err, size_t errlen)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	evutil_socket_t fd;
	int on = 1;

	m->fn = fn;
	m->arg = arg;
	m->http = evhttp_new(base);
	fd = socket(at->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (m->http == NULL || fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (const struct sockaddr *)&at->ss, at->len) == -1 ||
	    listen(fd, 64) == -1 ||
	    evhttp_accept_socket(m->http, fd) == -1) {
		char where[ADDR_STRLEN];
		snprintf(err, errlen, "metrics-listen %s: %s",
		    addr_ntop_port((const struct sockaddr *)&at->ss, where,
		    sizeof(where)), strerror(errno));
		if (fd != -1)
			close(fd);
		metrics_free(m);
		return NULL;
	}
	evhttp_set_timeout(m->http, 10);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET);
	evhttp_set_cb(m->http, "/metrics", serve_metrics, m);
	evhttp_set_gencb(m->http, serve_other, m);
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
}
