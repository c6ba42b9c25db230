/*
 * frontend.c: listeners and the path of a query.
 *
 *   udp_readable / tcp_readable → handle_query → refuse (ACL), answer an
 *   error (malformed), answer blocked, answer from cache, or hand it to
 *   upstream.c → upstream_done → answer.
 *
 * A struct query owns everything of one query; query_free() copes with any
 * stage. A TCP connection may carry many queries at once (RFC 7766 §6.2.1):
 * their answers go out as each completes, in any order. When the client
 * goes away first, its queries finish without a place to send the answer.
 *
 * Limits: a UDP listener on a wildcard address answers from the address
 * the kernel picks; listen on the LAN address itself (as the shipped
 * configuration does).
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "dnsmsg.h"
#include "events.h"
#include "frontend.h"
#include "log.h"
#include "upstream.h"

#define UDP_BATCH		32	/* datagrams read per wakeup */
#define TCP_MAX_INFLIGHT	64	/* queries in flight per connection */
#define ACL_LOG_SLOTS		256
#define ACL_LOG_INTERVAL	60	/* seconds between logs per address */

struct listener {
	struct listener		*next;
	struct server		*srv;
	int			 udp_fd;
	struct event		*udp_ev;
	struct evconnlistener	*tcp;
};

struct tcp_conn;

struct query {
	struct server		*srv;
	struct policy		*policy;	/* snapshot it started with */
	struct addr		 client;
	int			 udp_fd;	/* -1 over TCP */
	struct tcp_conn		*conn;		/* NULL over UDP or once gone */
	TAILQ_ENTRY(query)	 conn_entry;
	TAILQ_ENTRY(query)	 pending_entry;	/* while uq != NULL */
	uint8_t			*wire;
	size_t			 len;
	struct dnsq		 q;
	struct verdict		 verdict;
	struct timespec		 start;
	struct upstream_query	*uq;
};

struct tcp_conn {
	struct server		*srv;
	TAILQ_ENTRY(tcp_conn)	 entry;
	struct bufferevent	*bev;
	struct addr		 client;
	struct query_list	 queries;
	unsigned		 inflight;
	bool			 eof;		/* client finished sending */
};

struct acl_log_slot {
	struct addr	addr;
	time_t		last;
};

static struct acl_log_slot acl_log[ACL_LOG_SLOTS];

static void tcp_conn_free(struct tcp_conn *conn);
static void tcp_conn_maybe_close(struct tcp_conn *conn);

static uint64_t
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static double
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void
query_free(struct query *query)
{
	if (query == NULL)
		return;
	if (query->uq != NULL) {
		upstream_cancel(query->uq);
		TAILQ_REMOVE(&query->srv->pending, query, pending_entry);
	}
	if (query->conn != NULL) {
		TAILQ_REMOVE(&query->conn->queries, query, conn_entry);
		query->conn->inflight--;
	}
	policy_unref(query->policy);
	free(query->wire);
	free(query);
}

/* Sends an answer to the query's client, over whatever it came by. */
static void
send_answer(struct query *query, uint8_t *msg, size_t len, size_t cap)
{
	bool udp = query->udp_fd != -1;

	len = dnsmsg_fit(msg, len, cap, &query->q, udp);
	if (len == 0)
		return;
	if (udp) {
		if (sendto(query->udp_fd, msg, len, 0,
		    (struct sockaddr *)&query->client.ss,
		    query->client.len) == -1)
			log_debug("sendto: %s", strerror(errno));
		return;
	}
	if (query->conn == NULL)
		return;		/* the client has gone */
	uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	struct bufferevent *bev = query->conn->bev;
	bufferevent_write(bev, prefix, sizeof(prefix));
	bufferevent_write(bev, msg, len);
}

static void
log_event(struct query *query, uint8_t rcode, const struct dnsreply *reply,
    const struct conf_upstream *from, bool cached)
{
	const struct conf *conf = query->policy->conf;
	char upstream[ADDR_STRLEN];

	if (!events_enabled() ||
	    (query->verdict.action == POLICY_PASS && !conf->log_allowed))
		return;
	struct dns_event ev = {
		.client = (struct sockaddr *)&query->client.ss,
		.q = &query->q,
		.verdict = &query->verdict,
		.rcode = rcode,
		.reply = reply,
		.upstream = from ? addr_ntop_port(
		    (const struct sockaddr *)&from->addr.ss, upstream,
		    sizeof(upstream)) : NULL,
		.cached = cached,
		.ms = elapsed_ms(&query->start),
	};
	events_dns(&ev);
}

static void
answer_error(struct query *query, uint8_t rcode)
{
	uint8_t out[512];
	size_t len = dnsmsg_error(query->wire, query->len, rcode, out,
	    sizeof(out));

	if (len > 0)
		send_answer(query, out, len, sizeof(out));
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

static void
upstream_done(void *arg, const uint8_t *reply, size_t len,
    const struct dnsreply *parsed, const struct conf_upstream *from)
{
	struct query *query = arg;
	struct server *srv = query->srv;

	query->uq = NULL;
	TAILQ_REMOVE(&srv->pending, query, pending_entry);
	if (reply == NULL) {
		srv->stats.servfail++;
		answer_error(query, LDNS_RCODE_SERVFAIL);
		log_event(query, LDNS_RCODE_SERVFAIL, NULL, NULL, false);
		goto done;
	}
	if (srv->cache != NULL && parsed->cache_ttl > 0) {
		struct cache_key key = cache_key_of(&query->q);
		cache_put(srv->cache, &key, reply, len, parsed->cache_ttl,
		    parsed->ttl_offsets, parsed->n_ttl_offsets,
		    monotonic_seconds());
	}
	uint8_t *out = xmalloc(DNSMSG_MAX);
	memcpy(out, reply, len);
	dnsmsg_set_id(out, query->q.id);
	send_answer(query, out, len, DNSMSG_MAX);
	free(out);
	log_event(query, parsed->rcode, parsed, from, false);
done:
	if (query->conn != NULL) {
		struct tcp_conn *conn = query->conn;
		query_free(query);
		tcp_conn_maybe_close(conn);
	} else
		query_free(query);
}

static bool
answer_from_cache(struct query *query)
{
	struct server *srv = query->srv;
	struct cache_key key = cache_key_of(&query->q);
	struct dnsreply *parsed;
	uint8_t *out;
	size_t len;

	if (srv->cache == NULL)
		return false;
	out = xmalloc(DNSMSG_MAX);
	len = cache_get(srv->cache, &key, query->q.id, out, DNSMSG_MAX,
	    monotonic_seconds());
	if (len == 0) {
		free(out);
		return false;
	}
	parsed = xmalloc(sizeof(*parsed));
	if (dnsmsg_parse_reply(out, len, &query->q, query->q.id, parsed) !=
	    DNSMSG_OK) {
		free(parsed);
		free(out);
		return false;
	}
	send_answer(query, out, len, DNSMSG_MAX);
	log_event(query, parsed->rcode, parsed, NULL, true);
	free(parsed);
	free(out);
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
log_refused(const struct addr *client)
{
	char text[ADDR_STRLEN];
	uint32_t hash = 2166136261u;
	const uint8_t *b = (const uint8_t *)&client->ss;
	time_t now = (time_t)monotonic_seconds();

	for (socklen_t i = 0; i < client->len; i++)
		hash = (hash ^ b[i]) * 16777619u;
	struct acl_log_slot *slot = &acl_log[hash % ACL_LOG_SLOTS];
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
 * Takes a query from a client. The query owns the copy of buf; over TCP it
 * is linked to conn until it completes.
 */
static void
handle_query(struct server *srv, const struct addr *client, int udp_fd,
    struct tcp_conn *conn, const uint8_t *buf, size_t len)
{
	struct query *query = xcalloc(1, sizeof(*query));
	const struct sockaddr *sa = (const struct sockaddr *)&client->ss;
	enum dnsmsg_status status;

	clock_gettime(CLOCK_MONOTONIC, &query->start);
	query->srv = srv;
	query->policy = policy_ref(srv->policy);
	query->client = *client;
	query->udp_fd = udp_fd;
	query->wire = xmalloc(len ? len : 1);
	memcpy(query->wire, buf, len);
	query->len = len;
	if (conn != NULL) {
		query->conn = conn;
		TAILQ_INSERT_TAIL(&conn->queries, query, conn_entry);
		conn->inflight++;
	}
	srv->stats.queries++;

	if (!client_allowed(query->policy->conf, sa)) {
		srv->stats.refused_acl++;
		log_refused(client);
		answer_error(query, LDNS_RCODE_REFUSED);
		goto done;
	}
	status = dnsmsg_parse_query(buf, len, &query->q);
	if (status != DNSMSG_OK) {
		srv->stats.malformed++;
		if (status == DNSMSG_FORMERR)
			answer_error(query, LDNS_RCODE_FORMERR);
		else if (status == DNSMSG_NOTIMP)
			answer_error(query, LDNS_RCODE_NOTIMPL);
		goto done;
	}
	policy_query(query->policy, sa, query->q.qname, query->q.qname_len,
	    &query->verdict);
	if (query->verdict.action == POLICY_BLOCK) {
		const struct conf *conf = query->policy->conf;
		uint8_t out[1024];
		srv->stats.blocked++;
		len = dnsmsg_blocked(buf, len, &query->q, conf->block_mode,
		    conf->block_ttl, out, sizeof(out));
		if (len > 0) {
			send_answer(query, out, len, sizeof(out));
			log_event(query, out[3] & 0x0f, NULL, NULL, false);
		}
		goto done;
	}
	if (query->verdict.action == POLICY_LOG)
		srv->stats.logged++;
	if (answer_from_cache(query))
		goto done;
	query->uq = upstream_resolve(srv->base, query->policy->conf,
	    query->wire, query->len, &query->q, upstream_done, query);
	TAILQ_INSERT_TAIL(&srv->pending, query, pending_entry);
	return;
done:
	query_free(query);
}

/* ---------------------------------------------------------------- UDP */

static void
udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	uint8_t buf[DNSMSG_MAX];
	struct addr client;
	ssize_t n;

	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		client.len = sizeof(client.ss);
		n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&client.ss, &client.len);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_debug("recvfrom: %s", strerror(errno));
			return;
		}
		handle_query(l->srv, &client, fd, NULL, buf, (size_t)n);
	}
}

static int
bind_udp(const struct addr *a)
{
	int fd, on = 1;
	char text[ADDR_STRLEN];

	fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		fatal("socket");
	if (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("IPV6_V6ONLY");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1)
		fatal("bind udp %s", addr_ntop_port(
		    (const struct sockaddr *)&a->ss, text, sizeof(text)));
	return fd;
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
	TAILQ_REMOVE(&conn->srv->conns, conn, entry);
	conn->srv->tcp_connections--;
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
		/* A zero-length message is garbage: handle_query answers nothing. */
		handle_query(conn->srv, &conn->client, -1, conn,
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

	(void)bev;
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
	struct server *srv = l->srv;
	const struct conf *conf = srv->policy->conf;
	struct tcp_conn *conn;

	(void)evl;
	if (srv->tcp_connections >= conf->tcp_max_connections) {
		srv->stats.tcp_rejected++;
		close(fd);
		return;
	}
	conn = xcalloc(1, sizeof(*conn));
	conn->srv = srv;
	memcpy(&conn->client.ss, sa, (size_t)salen);
	conn->client.len = (socklen_t)salen;
	TAILQ_INIT(&conn->queries);
	conn->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		close(fd);
		free(conn);
		return;
	}
	srv->tcp_connections++;
	TAILQ_INSERT_TAIL(&srv->conns, conn, entry);
	struct timeval idle = {
		.tv_sec = conf->tcp_idle_timeout_ms / 1000,
		.tv_usec = (conf->tcp_idle_timeout_ms % 1000) * 1000,
	};
	bufferevent_set_timeouts(conn->bev, &idle, &idle);
	bufferevent_setcb(conn->bev, tcp_readable, tcp_written, tcp_event,
	    conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

static struct evconnlistener *
bind_tcp(struct listener *l, const struct addr *a)
{
	char text[ADDR_STRLEN];
	int fd, on = 1;
	struct evconnlistener *evl;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		fatal("socket");
	if (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("IPV6_V6ONLY");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1)
		fatal("bind tcp %s", addr_ntop_port(
		    (const struct sockaddr *)&a->ss, text, sizeof(text)));
	evl = evconnlistener_new(l->srv->base, tcp_accept, l,
	    LEV_OPT_CLOSE_ON_FREE, 128, fd);
	if (evl == NULL)
		fatal("listen tcp %s", addr_ntop_port(
		    (const struct sockaddr *)&a->ss, text, sizeof(text)));
	return evl;
}

void
frontend_listen(struct server *srv)
{
	const struct conf *conf = srv->policy->conf;

	TAILQ_INIT(&srv->pending);
	TAILQ_INIT(&srv->conns);
	for (size_t i = 0; i < conf->n_listen; i++) {
		struct listener *l = xcalloc(1, sizeof(*l));
		l->srv = srv;
		l->udp_fd = bind_udp(&conf->listen[i]);
		l->udp_ev = event_new(srv->base, l->udp_fd,
		    EV_READ | EV_PERSIST, udp_readable, l);
		event_add(l->udp_ev, NULL);
		l->tcp = bind_tcp(l, &conf->listen[i]);
		l->next = srv->listeners;
		srv->listeners = l;
	}
}

void
frontend_close(struct server *srv)
{
	struct listener *l;
	struct tcp_conn *conn;
	struct query *query;

	while ((conn = TAILQ_FIRST(&srv->conns)) != NULL)
		tcp_conn_free(conn);
	while ((query = TAILQ_FIRST(&srv->pending)) != NULL)
		query_free(query);

	while ((l = srv->listeners) != NULL) {
		srv->listeners = l->next;
		event_free(l->udp_ev);
		close(l->udp_fd);
		evconnlistener_free(l->tcp);
		free(l);
	}
}
