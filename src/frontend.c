/*
 * frontend.c: listeners and the path of a query, in one worker thread.
 *
 *   udp_readable / tcp_readable → handle_query → refuse (ACL), answer an
 *   error (malformed), answer blocked, answer from the cache, or defer it
 *   to upstream.c → upstream_done → answer.
 *
 * The common cases (blocked, cached, refused) are answered on the spot
 * from a struct query on the stack, into buffers the worker owns: nothing
 * is allocated. UDP is read and answered in batches (recvmmsg/sendmmsg).
 * Only a query that must wait for an upstream is copied to the heap, with
 * a reference to its snapshot; query_free() copes with it at any stage.
 *
 * A TCP connection may carry many queries at once (RFC 7766 §6.2.1): the
 * answers go out as each completes, in any order. When the client goes
 * away first, its queries finish without a place to send the answer.
 *
 * With several workers, each client address is steered to one worker (a
 * classic BPF program chooses among the workers' sockets on an address by
 * the client's address), so a device's repeated questions meet the cache
 * that holds its earlier answers, whatever source port each one uses.
 *
 * Limits: a UDP listener on a wildcard address answers from the address
 * the kernel picks; listen on the LAN address itself (as the shipped
 * configuration does). Refused clients are logged once a minute per
 * address by each worker.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cache.h"
#include "dnsmsg.h"
#include "events.h"
#include "frontend.h"
#include "log.h"
#include "loop.h"
#include "neigh.h"
#include "pause.h"
#include "ratelimit.h"
#include "seen.h"
#include "udpsend.h"
#include "upstream.h"

#define UDP_BATCH		32	/* datagrams read per system call */
#define UDP_QUERY_MAX		4096	/* larger UDP queries are truncated: FORMERR */
#define TCP_MAX_INFLIGHT	64	/* queries in flight per connection */
#define ACL_LOG_SLOTS		256
#define ACL_LOG_INTERVAL	60	/* seconds between logs per address */
#define SEEN_GRACE		300	/* seconds an answer's address stays known past its TTL */

struct tcp_conn;

struct listener {
	struct listener		*next;
	struct frontend		*fe;
	int			 udp_fd;
	struct event		*udp_ev;
	struct evconnlistener	*tcp;
};

/* Where an answer on the spot to a UDP query goes: a slot of the batch. */
struct udp_slot {
	size_t			len;	/* 0: nothing to send */
	uint8_t			buf[DNSMSG_UDP_MAX];
};

struct query {
	struct frontend		*fe;
	struct policy		*policy;	/* a reference once deferred */
	struct addr		 client;
	int			 udp_fd;	/* -1 over TCP */
	struct udp_slot		*slot;		/* UDP, answered on the spot */
	struct tcp_conn		*conn;		/* TCP, while the client is there */
	TAILQ_ENTRY(query)	 conn_entry;
	TAILQ_ENTRY(query)	 pending_entry;
	const uint8_t		*wire;
	size_t			 len;
	struct timespec		 start;
	struct upstream_query	*uq;
	bool			 deferred;	/* on the heap, owns wire */
	/* Filled by parsing and judging; not cleared beforehand. */
	struct dnsq		 q;
	struct verdict		 verdict;
	struct client_ident	 ident;		/* ident.addr: &client.ss */
};

TAILQ_HEAD(query_list, query);

struct tcp_conn {
	struct frontend		*fe;
	TAILQ_ENTRY(tcp_conn)	 entry;
	struct bufferevent	*bev;
	struct addr		 client;
	struct query_list	 queries;
	unsigned		 inflight;
	bool			 eof;		/* client finished sending */
};

TAILQ_HEAD(tcp_conn_list, tcp_conn);

struct acl_log_slot {
	struct addr	addr;
	time_t		last;
};

struct udp_batch {
	struct mmsghdr		rx[UDP_BATCH];
	struct iovec		rx_iov[UDP_BATCH];
	struct sockaddr_storage	rx_addr[UDP_BATCH];
	uint8_t			rx_buf[UDP_BATCH][UDP_QUERY_MAX];
	struct mmsghdr		tx[UDP_BATCH];
	struct iovec		tx_iov[UDP_BATCH];
	struct udp_slot		tx_slot[UDP_BATCH];
};

/*
 * Answers to UDP queries that waited for an upstream, gathered over one
 * pass of the event loop and sent with one sendmmsg (instead of a sendto
 * each): replies from several upstream sockets come in together.
 */
#define OUTQ_MAX		32

struct outq_entry {
	int			fd;
	struct sockaddr_storage	addr;
	socklen_t		addr_len;
	size_t			len;
	uint8_t			buf[DNSMSG_UDP_MAX];
};

struct frontend {
	unsigned		 index;
	struct frontend_shared	 shared;
	struct loop		 loop;		/* thread, event base, snapshot */
	struct cache		*cache;
	struct upstream_ctx	*upstream;
	struct listener		*listeners;
	unsigned		 tcp_connections;
	struct query_list	 pending;	/* waiting for an upstream */
	struct tcp_conn_list	 conns;
	struct worker_stats	 stats;
	struct window		*window;	/* recent decisions */
	struct acl_log_slot	 acl_log[ACL_LOG_SLOTS];
	uint8_t			 scratch[DNSMSG_MAX];	/* answers being built */
	struct dnsreply		 reply;		/* a cached answer, parsed */
	struct geo_info		 geo[DNSMSG_MAX_ADDRS];	/* of the answer judged */
	struct udp_batch	 batch;
	struct outq_entry	 outq[OUTQ_MAX];
	unsigned		 n_outq;
	struct event		*outq_ev;	/* sends them, after the pass */
};

static void tcp_conn_free(struct tcp_conn *conn);
static void tcp_conn_maybe_close(struct tcp_conn *conn);

/* Frees a deferred query; a query on the stack needs nothing. */
static void
query_free(struct query *query)
{
	if (query == NULL || !query->deferred)
		return;
	if (query->uq != NULL) {
		upstream_cancel(query->uq);
		TAILQ_REMOVE(&query->fe->pending, query, pending_entry);
	}
	if (query->conn != NULL) {
		TAILQ_REMOVE(&query->conn->queries, query, conn_entry);
		query->conn->inflight--;
	}
	policy_unref(query->policy);
	free(query);	/* the wire too: it follows the struct */
}

/* A UDP answer the kernel would not send: the client asks again. */
static void
udp_unsent(unsigned i, void *arg)
{
	(void)i;
	(void)arg;
	log_debug("sendmmsg: %s", strerror(errno));
}

/* Sends every queued UDP answer: one sendmmsg per run of one socket. */
static void
outq_flush(struct frontend *fe)
{
	struct mmsghdr msgs[OUTQ_MAX];
	struct iovec iov[OUTQ_MAX];
	unsigned first, end;

	memset(msgs, 0, sizeof(msgs[0]) * fe->n_outq);
	for (unsigned i = 0; i < fe->n_outq; i++) {
		struct outq_entry *e = &fe->outq[i];
		iov[i].iov_base = e->buf;
		iov[i].iov_len = e->len;
		msgs[i].msg_hdr.msg_name = &e->addr;
		msgs[i].msg_hdr.msg_namelen = e->addr_len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (first = 0; first < fe->n_outq; first = end) {
		for (end = first; end < fe->n_outq &&
		    fe->outq[end].fd == fe->outq[first].fd; end++)
			;
		udpsend_batch(fe->outq[first].fd, msgs + first, end - first,
		    udp_unsent, NULL);
	}
	fe->n_outq = 0;
}

static void
outq_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	outq_flush(arg);
}

/* Queues a UDP answer of a query that waited (see outq_flush). */
static void
outq_add(struct query *query, const uint8_t *msg, size_t len)
{
	struct frontend *fe = query->fe;
	struct outq_entry *e;

	if (len > sizeof(e->buf)) {
		if (sendto(query->udp_fd, msg, len, 0,
		    (struct sockaddr *)&query->client.ss,
		    query->client.len) == -1)
			log_debug("sendto: %s", strerror(errno));
		return;
	}
	if (fe->n_outq == OUTQ_MAX)
		outq_flush(fe);
	if (fe->n_outq == 0)
		event_active(fe->outq_ev, EV_TIMEOUT, 0);
	e = &fe->outq[fe->n_outq++];
	e->fd = query->udp_fd;
	memcpy(&e->addr, &query->client.ss, query->client.len);
	e->addr_len = query->client.len;
	e->len = len;
	memcpy(e->buf, msg, len);
}

/* Sends a message that fits the client as it is. */
static void
deliver(struct query *query, const uint8_t *msg, size_t len)
{
	bool udp = query->udp_fd != -1;

	if (query->slot != NULL) {
		if (len > sizeof(query->slot->buf))
			return;		/* cannot happen: fitted or small */
		memcpy(query->slot->buf, msg, len);
		query->slot->len = len;
	} else if (udp) {
		outq_add(query, msg, len);
	} else if (query->conn != NULL) {
		uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };
		bufferevent_write(query->conn->bev, prefix, sizeof(prefix));
		bufferevent_write(query->conn->bev, msg, len);
	}
}

/* Sends an answer (msg, len; room for cap) fitted to the query's client. */
static void
send_answer(struct query *query, uint8_t *msg, size_t len, size_t cap)
{
	len = dnsmsg_fit(msg, len, cap, &query->q, query->udp_fd != -1);
	if (len > 0)
		deliver(query, msg, len);
}

static void
log_event(struct query *query, uint8_t rcode, const struct dnsreply *reply,
    const struct conf_upstream *from, bool cached)
{
	const struct client_ident *ident = &query->ident;
	bool geo = reply != NULL && geo_enabled(query->policy->geo);

	struct dns_event ev = {
		.client = (struct sockaddr *)&query->client.ss,
		.mac = ident->has_mac ? ident->mac : NULL,
		.vendor = ident->has_mac ? oui_vendor(query->fe->shared.oui,
		    ident->mac) : NULL,
		.geo = geo ? query->fe->geo : NULL,
		.q = &query->q,
		.verdict = &query->verdict,
		.rcode = rcode,
		.reply = reply,
		.upstream = from ? from->name : NULL,
		.cached = cached,
		.ms = loop_elapsed_ms(&query->start),
	};
	events_dns(&ev);
}

/*
 * Counts a decision (by group and action, blocked ones by list) and
 * keeps it in the window of recent ones, for metrics and hushctl.
 */
static void
note_decision(struct query *query, const struct dnsreply *reply)
{
	struct frontend *fe = query->fe;
	const struct verdict *v = &query->verdict;
	struct window_entry e = { .t = loop_now_seconds() };

	tally_add(&fe->stats.by_group, v->group, v->action);
	if (v->action == POLICY_BLOCK)
		tally_add(&fe->stats.blocked_by_list, v->list ? v->list :
		    policy_reason_name(v->reason), 0);
	window_entry_fill(&e, v, &query->ident, query->q.qname);
	if (reply != NULL && reply->n_addrs > 0 &&
	    geo_enabled(query->policy->geo)) {
		memcpy(e.cc, fe->geo[0].cc, sizeof(e.cc));
		e.asn = fe->geo[0].asn;
	}
	window_add(fe->window, &e);
}

/* While blocking is paused, a block becomes a log (the canary stays). */
static void
unless_paused(struct query *query)
{
	struct verdict *v = &query->verdict;

	if (v->action == POLICY_BLOCK && v->reason != POLICY_REASON_CANARY &&
	    query->fe->shared.pause != NULL &&
	    pause_active(query->fe->shared.pause, v->group, time(NULL)))
		v->action = POLICY_LOG;
}

/* Whether this query's decision goes to the event log. */
static bool
wants_event(const struct query *query)
{
	return events_enabled() && (query->verdict.action != POLICY_PASS ||
	    query->policy->conf->log_allowed);
}

static void
answer_error(struct query *query, uint8_t rcode)
{
	uint8_t *out = query->fe->scratch;
	size_t len = dnsmsg_error(query->wire, query->len, rcode, out,
	    sizeof(query->fe->scratch));

	/* Small, and with an OPT only when the query had one: as it is. */
	if (len > 0)
		deliver(query, out, len);
}

static struct cache_key
cache_key_of(const struct dnsq *q)
{
	struct cache_key key = {
		.qname = q->qname, .qname_len = q->qname_len,
		.qtype = q->qtype, .qclass = q->qclass, .do_bit = q->do_bit,
	};
	return key;
}

/* How a blocked query is answered: the canary always with NXDOMAIN. */
static enum block_mode
block_mode_of(const struct query *query)
{
	return query->verdict.reason == POLICY_REASON_CANARY ?
	    BLOCK_MODE_NXDOMAIN : query->policy->conf->block_mode;
}

/* Answers the query as blocked (after its answer was judged so). */
static void
answer_blocked(struct query *query)
{
	const struct conf *conf = query->policy->conf;
	struct frontend *fe = query->fe;
	size_t len = dnsmsg_blocked(query->wire, query->len, &query->q,
	    block_mode_of(query), conf->block_ttl, fe->scratch,
	    sizeof(fe->scratch));

	if (len > 0)
		send_answer(query, fe->scratch, len, sizeof(fe->scratch));
}

/* Remembers which addresses this client was given, and under what name. */
static void
remember_answer(struct query *query, const struct dnsreply *reply)
{
	struct seen *seen = query->fe->shared.seen;
	struct seen_addr client, addr;
	const struct sockaddr *sa = query->ident.addr;

	if (seen == NULL || reply->n_addrs == 0)
		return;
	seen_addr_from(sa, &client);
	for (size_t i = 0; i < reply->n_addrs; i++) {
		addr.family = reply->addrs[i].family;
		memcpy(addr.bytes, reply->addrs[i].bytes, 16);
		seen_put(seen, &client, &addr, query->q.qname, reply->min_ttl,
		    loop_now_seconds());
	}
}

/*
 * Judges an answer (from upstream or the cache: wire, len, parsed) and
 * sends it, or the blocked answer in its place. The event goes first:
 * whoever has the answer finds it logged.
 */
static void
answer_judged(struct query *query, uint8_t *wire, size_t len, size_t cap,
    const struct dnsreply *parsed, const struct conf_upstream *from,
    bool cached)
{
	struct frontend *fe = query->fe;

	memset(fe->geo, 0, sizeof(fe->geo[0]) * parsed->n_addrs);
	policy_answer(query->policy, parsed, fe->geo, &query->verdict);
	unless_paused(query);
	note_decision(query, parsed);
	if (query->verdict.action == POLICY_BLOCK) {
				if (wants_event(query))
			log_event(query, dnsmsg_block_rcode(
			    block_mode_of(query)), parsed, from, cached);
		answer_blocked(query);
		return;
	}
	remember_answer(query, parsed);
	if (wants_event(query))
		log_event(query, parsed->rcode, parsed, from, cached);
	if (query->policy->conf->ech_strip &&
	    (query->q.qtype == LDNS_RR_TYPE_HTTPS ||
	    query->q.qtype == LDNS_RR_TYPE_SVCB))
		len = dnsmsg_strip_ech(wire, len, cap);
	send_answer(query, wire, len, cap);
}

static void
upstream_done(void *arg, const uint8_t *reply, size_t len,
    const struct dnsreply *parsed, const struct conf_upstream *from)
{
	struct query *query = arg;
	struct frontend *fe = query->fe;
	struct tcp_conn *conn = query->conn;

	query->uq = NULL;
	TAILQ_REMOVE(&fe->pending, query, pending_entry);
	if (reply == NULL) {
		counter_add(&fe->stats.servfail, 1);
		note_decision(query, NULL);
		if (wants_event(query))
			log_event(query, LDNS_RCODE_SERVFAIL, NULL, NULL, false);
		answer_error(query, LDNS_RCODE_SERVFAIL);
	} else {
		struct histset_slot *h = histset_get(&fe->stats.upstreams,
		    from->name);
		if (h != NULL)
			hist_add(&h->h, loop_elapsed_ms(&query->start) / 1000);
		if (fe->cache != NULL && parsed->cache_ttl > 0) {
			struct cache_key key = cache_key_of(&query->q);
			cache_put(fe->cache, &key, reply, len,
			    parsed->cache_ttl, parsed->ttl_offsets,
			    parsed->n_ttl_offsets, loop_now_seconds());
		}
		memcpy(fe->scratch, reply, len);
		dnsmsg_set_id(fe->scratch, query->q.id);
		answer_judged(query, fe->scratch, len, sizeof(fe->scratch),
		    parsed, from, false);
	}
	query_free(query);
	if (conn != NULL)
		tcp_conn_maybe_close(conn);
}

static bool
answer_from_cache(struct query *query)
{
	struct frontend *fe = query->fe;
	struct cache_key key = cache_key_of(&query->q);
	size_t len;

	if (fe->cache == NULL)
		return false;
	len = cache_get(fe->cache, &key, query->q.id, fe->scratch,
	    sizeof(fe->scratch), loop_now_seconds());
	if (len == 0 || dnsmsg_parse_reply(fe->scratch, len, &query->q,
	    query->q.id, &fe->reply) != DNSMSG_OK)
		return false;	/* parsed before it was cached: cannot fail */
	counter_add(&fe->stats.cache_hits, 1);
	answer_judged(query, fe->scratch, len, sizeof(fe->scratch), &fe->reply,
	    NULL, true);
	return true;
}

static bool
client_allowed(const struct conf *conf, const struct sockaddr *client)
{
	for (size_t i = 0; i < conf->n_allow_clients; i++)
		if (cidr_contains(&conf->allow_clients[i], client))
			return true;
	return false;
}

/* Logs a refused client at most once a minute per address. */
static void
log_refused(struct frontend *fe, const struct addr *client)
{
	char text[ADDR_STRLEN];
	uint32_t hash = 2166136261u;
	const uint8_t *b = (const uint8_t *)&client->ss;
	time_t now = (time_t)loop_now_seconds();

	for (socklen_t i = 0; i < client->len; i++)
		hash = (hash ^ b[i]) * 16777619u;
	struct acl_log_slot *slot = &fe->acl_log[hash % ACL_LOG_SLOTS];
	if (slot->addr.len == client->len &&
	    memcmp(&slot->addr.ss, &client->ss, client->len) == 0 &&
	    now - slot->last < ACL_LOG_INTERVAL)
		return;
	slot->addr = *client;
	slot->last = now;
	log_info("refused queries from %s (not in allow-clients)",
	    addr_ntop((const struct sockaddr *)&client->ss, text,
	    sizeof(text)));
}

/*
 * Moves a query from the stack to the heap to wait for an upstream, its
 * wire in the same allocation, right after the struct.
 */
static void
defer_to_upstream(struct query *stack)
{
	struct frontend *fe = stack->fe;
	struct query *query = xmalloc(sizeof(*query) + stack->len);
	uint8_t *wire = (uint8_t *)(query + 1);

	*query = *stack;
	memcpy(wire, stack->wire, stack->len);
	query->wire = wire;
	query->ident.addr = (struct sockaddr *)&query->client.ss;
	query->deferred = true;
	query->slot = NULL;
	policy_ref(query->policy);
	if (query->conn != NULL) {
		TAILQ_INSERT_TAIL(&query->conn->queries, query, conn_entry);
		query->conn->inflight++;
	}
	TAILQ_INSERT_TAIL(&fe->pending, query, pending_entry);
	query->uq = upstream_resolve(fe->upstream, query->policy->conf,
	    query->wire, query->len, &query->q, upstream_done, query);
}

/*
 * Applies rate-limit: true when the query is refused or dropped. The
 * first refusal, then one a minute, is logged per client.
 */
static bool
over_rate(struct query *query)
{
	struct frontend *fe = query->fe;
	const struct conf *conf = query->policy->conf;
	const struct sockaddr *sa = (const struct sockaddr *)&query->client.ss;
	uint64_t now_ms = (uint64_t)query->start.tv_sec * 1000 +
	    (uint64_t)query->start.tv_nsec / 1000000;
	char text[ADDR_STRLEN];
	bool log;
	enum ratelimit_verdict rv = ratelimit_check(fe->shared.ratelimit, sa,
	    conf->rate_limit, conf->rate_burst, now_ms, &log);

	if (rv == RATELIMIT_PASS)
		return false;
	counter_add(&fe->stats.rate_limited, 1);
	if (log)
		log_warnx("client %s is over rate-limit %u/s: %s",
		    addr_ntop(sa, text, sizeof(text)), conf->rate_limit,
		    rv == RATELIMIT_DROP ? "dropping its queries (flood)" :
		    "refusing its queries");
	if (rv == RATELIMIT_REFUSE) {
		memset(&query->q, 0, sizeof(query->q));
		answer_error(query, LDNS_RCODE_REFUSED);
	}
	return true;
}

/*
 * Takes a query from a client: over UDP with slot set (the answer goes
 * into the batch), over TCP with conn set.
 */
static void
handle_query(struct frontend *fe, const struct addr *client, int udp_fd,
    struct udp_slot *slot, struct tcp_conn *conn, const uint8_t *buf,
    size_t len)
{
	struct query query;
	const struct sockaddr *sa = (const struct sockaddr *)&client->ss;
	const struct conf *conf = fe->loop.policy->conf;
	enum dnsmsg_status status;

	memset(&query, 0, offsetof(struct query, q));
	clock_gettime(CLOCK_MONOTONIC, &query.start);
	query.fe = fe;
	query.policy = fe->loop.policy;
	query.client = *client;
	query.udp_fd = udp_fd;
	query.slot = slot;
	query.conn = conn;
	query.wire = buf;
	query.len = len;
	counter_add(&fe->stats.queries, 1);

	if (!client_allowed(conf, sa)) {
		counter_add(&fe->stats.refused_acl, 1);
		log_refused(fe, client);
		memset(&query.q, 0, sizeof(query.q));
		answer_error(&query, LDNS_RCODE_REFUSED);
		return;
	}
	if (conf->rate_limit > 0 && over_rate(&query))
		return;
	status = dnsmsg_parse_query(buf, len, &query.q);
	if (status != DNSMSG_OK) {
		counter_add(&fe->stats.malformed, 1);
		if (status == DNSMSG_FORMERR)
			answer_error(&query, LDNS_RCODE_FORMERR);
		else if (status == DNSMSG_NOTIMP)
			answer_error(&query, LDNS_RCODE_NOTIMPL);
		return;
	}
	query.ident.addr = (const struct sockaddr *)&query.client.ss;
	neigh_identify(fe->shared.neigh, &query.ident);
	policy_query(query.policy, &query.ident, query.q.qname,
	    query.q.qname_len, &query.verdict);
	unless_paused(&query);
	if (query.verdict.action == POLICY_BLOCK) {
		note_decision(&query, NULL);
				if (wants_event(&query))
			log_event(&query,
			    dnsmsg_block_rcode(block_mode_of(&query)), NULL,
			    NULL, false);
		answer_blocked(&query);
		return;
	}
	if (!answer_from_cache(&query)) {
		counter_add(&fe->stats.cache_misses, 1);
		defer_to_upstream(&query);
	}
}

/* ---------------------------------------------------------------- UDP */

#ifdef HAVE_RECVMMSG
static void
udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct frontend *fe = l->fe;
	struct udp_batch *b = &fe->batch;
	struct addr client;
	int n, out = 0;

	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		b->rx_iov[i].iov_base = b->rx_buf[i];
		b->rx_iov[i].iov_len = sizeof(b->rx_buf[i]);
		memset(&b->rx[i].msg_hdr, 0, sizeof(b->rx[i].msg_hdr));
		b->rx[i].msg_hdr.msg_iov = &b->rx_iov[i];
		b->rx[i].msg_hdr.msg_iovlen = 1;
		b->rx[i].msg_hdr.msg_name = &b->rx_addr[i];
		b->rx[i].msg_hdr.msg_namelen = sizeof(b->rx_addr[i]);
	}
	n = recvmmsg(fd, b->rx, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_debug("recvmmsg: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		struct udp_slot *slot = &b->tx_slot[out];
		client.len = b->rx[i].msg_hdr.msg_namelen;
		memcpy(&client.ss, &b->rx_addr[i], client.len);
		slot->len = 0;
		handle_query(fe, &client, fd, slot, NULL, b->rx_buf[i],
		    b->rx[i].msg_len);
		if (slot->len == 0)
			continue;
		b->tx_iov[out].iov_base = slot->buf;
		b->tx_iov[out].iov_len = slot->len;
		memset(&b->tx[out].msg_hdr, 0, sizeof(b->tx[out].msg_hdr));
		b->tx[out].msg_hdr.msg_iov = &b->tx_iov[out];
		b->tx[out].msg_hdr.msg_iovlen = 1;
		/* The client's address stays in rx_addr[i] until we send. */
		b->tx[out].msg_hdr.msg_name = &b->rx_addr[i];
		b->tx[out].msg_hdr.msg_namelen = client.len;
		out++;
	}
	udpsend_batch(fd, b->tx, (unsigned)out, udp_unsent, NULL);
}
#else
static void
udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct frontend *fe = l->fe;
	struct udp_slot *slot = &fe->batch.tx_slot[0];
	uint8_t *buf = fe->batch.rx_buf[0];
	struct addr client;
	ssize_t n;

	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		client.len = sizeof(client.ss);
		n = recvfrom(fd, buf, UDP_QUERY_MAX, MSG_DONTWAIT,
		    (struct sockaddr *)&client.ss, &client.len);
		if (n == -1)
			return;
		slot->len = 0;
		handle_query(fe, &client, fd, slot, NULL, buf, (size_t)n);
		if (slot->len > 0 && sendto(fd, slot->buf, slot->len, 0,
		    (struct sockaddr *)&client.ss, client.len) == -1)
			log_debug("sendto: %s", strerror(errno));
	}
}
#endif

/* A socket of its own for this worker on a shared address. */
static int
bind_socket(const struct addr *a, int type)
{
	int fd, on = 1;
	char text[ADDR_STRLEN];

	fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	if (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("IPV6_V6ONLY");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		fatal("SO_REUSEPORT");
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1)
		fatal("bind %s %s", type == SOCK_DGRAM ? "udp" : "tcp",
		    addr_ntop_port((const struct sockaddr *)&a->ss, text,
		    sizeof(text)));
	return fd;
}

/*
 * Sends every packet from one client address to the same worker's socket
 * among the n sockets on fd's address (the kernel numbers them in the
 * order they joined the group: worker 0 first). The program reads the source
 * address from the network header: the IPv4 address, or the four words
 * of an IPv6 address folded with xor. Without it (an old kernel) the
 * kernel spreads packets by their ports: every worker still answers, but
 * a repeated question may miss a cache that another worker filled.
 */
static bool
steer_by_client(int fd, int family, unsigned n)
{
	struct sock_filter v4[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter v6[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 8),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 16),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 20),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog;

	if (n < 2)
		return true;
	if (family == AF_INET6) {
		prog.len = sizeof(v6) / sizeof(v6[0]);
		prog.filter = v6;
	} else {
		prog.len = sizeof(v4) / sizeof(v4[0]);
		prog.filter = v4;
	}
#ifdef SO_ATTACH_REUSEPORT_CBPF
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	    sizeof(prog)) == 0;
#else
	(void)fd;
	return false;
#endif
}

/* ---------------------------------------------------------------- TCP */

static void
tcp_conn_free(struct tcp_conn *conn)
{
	struct query *query;

	/* Queries still in flight finish without a client to answer. */
	while ((query = TAILQ_FIRST(&conn->queries)) != NULL) {
		TAILQ_REMOVE(&conn->queries, query, conn_entry);
		query->conn = NULL;
	}
	bufferevent_free(conn->bev);
	TAILQ_REMOVE(&conn->fe->conns, conn, entry);
	conn->fe->tcp_connections--;
	free(conn);
}

/* Closes a connection whose client is done once nothing is left to send. */
static void
tcp_conn_maybe_close(struct tcp_conn *conn)
{
	if (conn->inflight < TCP_MAX_INFLIGHT)
		bufferevent_enable(conn->bev, EV_READ);
	if (conn->eof && conn->inflight == 0 &&
	    evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
		tcp_conn_free(conn);
}

static void
tcp_readable(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t prefix[2], *msg;
	size_t len;

	while (conn->inflight < TCP_MAX_INFLIGHT &&
	    evbuffer_copyout(in, prefix, 2) == 2) {
		len = (size_t)prefix[0] << 8 | prefix[1];
		if (evbuffer_get_length(in) < 2 + len)
			return;
		evbuffer_drain(in, 2);
		msg = evbuffer_pullup(in, (ev_ssize_t)len);
		/* A zero-length message is garbage: handle_query drops it. */
		handle_query(conn->fe, &conn->client, -1, NULL, conn,
		    msg ? msg : prefix, len);
		evbuffer_drain(in, len);
	}
	if (conn->inflight >= TCP_MAX_INFLIGHT)
		bufferevent_disable(bev, EV_READ);	/* back-pressure */
}

static void
tcp_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	tcp_conn_maybe_close(arg);
}

static void
tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *conn = arg;

	if (what & BEV_EVENT_EOF) {
		conn->eof = true;
		tcp_conn_maybe_close(conn);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && conn->inflight > 0) {
		/* Idle only counts when nothing is pending. */
		bufferevent_enable(bev, EV_READ);
		return;
	}
	tcp_conn_free(conn);
}

static void
tcp_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	struct frontend *fe = l->fe;
	const struct conf *conf = fe->loop.policy->conf;
	struct tcp_conn *conn;

	(void)evl;
	if (fe->tcp_connections >= conf->tcp_max_connections) {
		counter_add(&fe->stats.tcp_rejected, 1);
		close(fd);
		return;
	}
	conn = xcalloc(1, sizeof(*conn));
	conn->fe = fe;
	memcpy(&conn->client.ss, sa, (size_t)salen);
	conn->client.len = (socklen_t)salen;
	TAILQ_INIT(&conn->queries);
	conn->bev = bufferevent_socket_new(fe->loop.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		close(fd);
		free(conn);
		return;
	}
	fe->tcp_connections++;
	TAILQ_INSERT_TAIL(&fe->conns, conn, entry);
	struct timeval idle = loop_timeval(conf->tcp_idle_timeout_ms);
	bufferevent_set_timeouts(conn->bev, &idle, &idle);
	bufferevent_setcb(conn->bev, tcp_readable, tcp_written, tcp_event,
	    conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

/* ---------------------------------------------------------------- worker */

/* A new snapshot may size the cache differently. */
static void
policy_changed(void *arg, const struct policy *old)
{
	struct frontend *fe = arg;
	size_t size = fe->loop.policy->conf->cache_size;

	if (size == old->conf->cache_size)
		return;
	cache_free(fe->cache);
	fe->cache = size ? cache_new(size) : NULL;
}

struct frontend *
frontend_new(unsigned index, struct policy *policy,
    const struct frontend_shared *shared)
{
	struct frontend *fe = xcalloc(1, sizeof(*fe));

	fe->window = window_new();
	const struct conf *conf = policy->conf;
	char text[ADDR_STRLEN];

	fe->index = index;
	fe->shared = *shared;
	loop_init(&fe->loop, policy, policy_changed, fe);
	TAILQ_INIT(&fe->pending);
	TAILQ_INIT(&fe->conns);
	fe->upstream = upstream_ctx_new(fe->loop.base);
	upstream_set_health(fe->upstream, &fe->stats.upstreams);
	/* After the pass's other events: the answers they queued go at once. */
	fe->outq_ev = event_new(fe->loop.base, -1, 0, outq_ready, fe);
	event_priority_set(fe->outq_ev, LOOP_PRIORITY_LAST);
	if (conf->cache_size > 0)
		fe->cache = cache_new(conf->cache_size);
	for (size_t i = 0; i < conf->n_listen; i++) {
		struct listener *l = xcalloc(1, sizeof(*l));
		const struct addr *a = &conf->listen[i];
		l->fe = fe;
		l->udp_fd = bind_socket(a, SOCK_DGRAM);
		l->udp_ev = event_new(fe->loop.base, l->udp_fd,
		    EV_READ | EV_PERSIST, udp_readable, l);
		event_add(l->udp_ev, NULL);
		l->tcp = evconnlistener_new(fe->loop.base, tcp_accept, l,
		    LEV_OPT_CLOSE_ON_FREE, 128, bind_socket(a, SOCK_STREAM));
		if (l->tcp == NULL)
			fatal("listen tcp %s", addr_ntop_port(
			    (const struct sockaddr *)&a->ss, text,
			    sizeof(text)));
		/*
		 * The program belongs to the group of sockets on the address,
		 * which the later workers' sockets join (a TCP one when it
		 * listens): worker 0 attaches it once for all.
		 */
		if (index == 0 && (!steer_by_client(l->udp_fd,
		    a->ss.ss_family, shared->workers) ||
		    !steer_by_client(evconnlistener_get_fd(l->tcp),
		    a->ss.ss_family, shared->workers)))
			log_warn("listen %s: clients not steered to workers",
			    addr_ntop_port((const struct sockaddr *)&a->ss,
			    text, sizeof(text)));
		l->next = fe->listeners;
		fe->listeners = l;
	}
	return fe;
}

struct worker_stats *
frontend_stats(struct frontend *fe)
{
	return &fe->stats;
}

struct window *
frontend_window(struct frontend *fe)
{
	return fe->window;
}

struct loop *
frontend_loop(struct frontend *fe)
{
	return &fe->loop;
}

void
frontend_free(struct frontend *fe)
{
	struct listener *l;
	struct tcp_conn *conn;
	struct query *query;

	while ((conn = TAILQ_FIRST(&fe->conns)) != NULL)
		tcp_conn_free(conn);
	while ((query = TAILQ_FIRST(&fe->pending)) != NULL)
		query_free(query);
	outq_flush(fe);		/* answers queued in the last pass */
	while ((l = fe->listeners) != NULL) {
		fe->listeners = l->next;
		event_free(l->udp_ev);
		close(l->udp_fd);
		evconnlistener_free(l->tcp);
		free(l);
	}
	upstream_ctx_free(fe->upstream);
	event_free(fe->outq_ev);
	cache_free(fe->cache);
	loop_destroy(&fe->loop);
	window_free(fe->window);
	free(fe);
}
