/*
 * upstream.c: forwarding queries to upstream resolvers over UDP, TCP and
 * TLS (RFC 7858).
 *
 * One struct upstream_query per client query that missed the cache. It
 * holds a copy of the query, the upstream being tried and how. UDP tries
 * go out on a small pool of connected sockets per upstream, each from its
 * own random port and renewed every few hundred queries, with a fresh
 * random ID per try (see struct udp_sock); the tries of one loop pass
 * leave together at its end, one sendmmsg per socket. TCP (after TC=1) and TLS go over a struct stream: one
 * persistent connection per upstream in each worker, carrying many queries
 * at once, told apart by their IDs (RFC 7766 §6.2.1.1). A stream that
 * fails to connect is left alone for a back-off period that doubles up to
 * a minute; TLS streams verify the certificate chain and the upstream's
 * name, and resume their session on reconnect.
 *
 * upstream_query_free() copes with every stage, so every exit goes
 * through it; a stream outlives its queries and closes when idle.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <ldns/ldns.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "loop.h"
#include "stats.h"
#include "tlsclient.h"
#include "udpsend.h"
#include "upstream.h"

#define STREAM_IDLE_SECONDS	10	/* close a stream unused this long */
#define UDP_POOL_SOCKETS	8	/* UDP sockets in use per upstream */
#define UDP_SOCKET_QUERIES	256	/* queries a socket carries, then a new port */
#define UDP_SEND_BATCH		64	/* UDP queries sent together, at most */
#define UDP_READ_BATCH		8	/* UDP replies read together, at most */
#define UDP_READ_ROUNDS		4	/* batches read per readable event */
#define STREAM_MAX_INFLIGHT	256	/* queries on one stream at once */
#define BACKOFF_FIRST_SECONDS	1
#define BACKOFF_MAX_SECONDS	60

enum try_state {
	TRY_NONE,
	TRY_UDP,
	TRY_STREAM,
};

struct upstream_query;
TAILQ_HEAD(uq_list, upstream_query);

struct stream {
	struct upstream_ctx	*ctx;
	LIST_ENTRY(stream)	 entry;
	struct addr		 addr;
	bool			 tls;
	char			*tls_name;
	char			*ca_file;
	SSL_CTX			*ssl_ctx;
	SSL_SESSION		*session;	/* for resumption */
	struct bufferevent	*bev;		/* NULL when not connected */
	bool			 answered;	/* this connection has worked */
	struct uq_list		 inflight;
	unsigned		 n_inflight;
	struct event		*idle_timer;
	uint64_t		 retry_at;	/* back-off: no connect before */
	unsigned		 backoff;
};

/*
 * A UDP socket connected to one upstream from its own random port. It
 * carries up to UDP_SOCKET_QUERIES queries, then is retired (closed once
 * its last query is over) and a fresh socket, with a fresh port, takes its
 * place: creating a socket per query costs more system calls than the
 * query itself, while a handful of ports in turn, renewed every few hundred
 * queries, still leaves a spoofer guessing port and ID (RFC 5452 §9.2).
 */
struct udp_sock {
	struct udp_pool		*pool;
	LIST_ENTRY(udp_sock)	 retired_entry;
	int			 fd;
	struct event		*readable;
	unsigned		 sent;
	unsigned		 n_inflight;
	struct uq_list		 inflight;
	bool			 retired;
	bool			 reading;	/* in udp_readable: free it there */
};

struct udp_pool {
	struct upstream_ctx	*ctx;
	LIST_ENTRY(udp_pool)	 entry;
	struct addr		 addr;
	struct udp_sock		*socks[UDP_POOL_SOCKETS];
	unsigned		 next;
	LIST_HEAD(, udp_sock)	 retired;
};

struct upstream_ctx {
	struct event_base	*base;
	struct upstream_stats	 stats;
	struct histset		*health;	/* failures per upstream, or NULL */
	struct dnsreply		 reply;		/* scratch for the reply being judged */
	LIST_HEAD(, stream)	 streams;
	LIST_HEAD(, udp_pool)	 pools;
	/*
	 * UDP queries of this loop pass, sent at its end with one sendmmsg
	 * per socket: a slot is NULL when its query ended before that.
	 */
	struct upstream_query	*unsent[UDP_SEND_BATCH];
	unsigned		 n_unsent;
	struct event		*send_ev;
	/* Where a batch of UDP replies is read, each the largest possible. */
	uint8_t			(*rx)[DNSMSG_MAX];
};

struct upstream_query {
	struct upstream_ctx	*ctx;
	const struct conf	*conf;
	size_t			 len;
	struct dnsq		 q;
	upstream_done_fn	 done;
	void			*arg;

	size_t			 current;	/* index into conf->upstreams */
	uint64_t		 dead;		/* upstreams that failed for good */
	bool			 want_tcp;	/* the UDP answer was truncated */
	bool			 retried;	/* a broken stream was retried once */
	bool			 try_failed;	/* could not even send */
	bool			 unsent;	/* in ctx->unsent */
	enum try_state		 state;
	uint16_t		 id;
	struct udp_sock		*usock;		/* the UDP socket of this try */
	struct stream		*stream;	/* or the stream */
	TAILQ_ENTRY(upstream_query) stream_entry;	/* on usock or stream */
	/* In the struct, not allocated: one allocation per query in all. */
	struct event		 try_timer;
	struct event		 deadline;
	uint8_t			 query[];	/* len bytes, its ID rewritten per try */
};

static void try_upstream(struct upstream_query *uq);
static void udp_sock_free(struct udp_sock *us);
static void next_upstream(struct upstream_query *uq, bool definitive);
static void stream_close(struct stream *s);

/*
 * Message IDs come from the kernel's generator (OpenSSL's if that fails),
 * drawn a few kilobytes at a time: one call costs thousands of
 * instructions, more than all the rest of a query's path. Each thread
 * keeps its own supply.
 */
static uint16_t
random_id(void)
{
	static _Thread_local uint16_t supply[2048];
	static _Thread_local size_t left;

	if (left == 0) {
		/* OpenSSL's would bring 2 MiB of its code into memory. */
		if (getrandom(supply, sizeof(supply), 0) !=
		    (ssize_t)sizeof(supply) &&
		    RAND_bytes((unsigned char *)supply, sizeof(supply)) != 1)
			fatalx("no random numbers for query IDs");
		left = sizeof(supply) / sizeof(supply[0]);
	}
	return supply[--left];
}

/* ---------------------------------------------------------------- queries */

/* Ends the current try, whatever its transport. */
static void
close_try(struct upstream_query *uq)
{
	if (uq->unsent) {
		for (unsigned i = 0; i < uq->ctx->n_unsent; i++)
			if (uq->ctx->unsent[i] == uq)
				uq->ctx->unsent[i] = NULL;
		uq->unsent = false;
	}
	if (uq->usock != NULL) {
		struct udp_sock *us = uq->usock;
		TAILQ_REMOVE(&us->inflight, uq, stream_entry);
		us->n_inflight--;
		uq->usock = NULL;
		if (us->retired && us->n_inflight == 0 && !us->reading)
			udp_sock_free(us);
	}
	if (uq->stream != NULL) {
		TAILQ_REMOVE(&uq->stream->inflight, uq, stream_entry);
		uq->stream->n_inflight--;
		uq->stream = NULL;
	}
	evtimer_del(&uq->try_timer);
	uq->state = TRY_NONE;
}

static void
upstream_query_free(struct upstream_query *uq)
{
	if (uq == NULL)
		return;
	close_try(uq);
	evtimer_del(&uq->deadline);
	free(uq);
}

void
upstream_cancel(struct upstream_query *uq)
{
	upstream_query_free(uq);
}

static void
finish(struct upstream_query *uq, const uint8_t *reply, size_t len,
    const struct dnsreply *parsed)
{
	const struct conf_upstream *from = reply ?
	    &uq->conf->upstreams[uq->current] : NULL;

	if (reply == NULL)
		uq->ctx->stats.failed++;
	close_try(uq);
	uq->done(uq->arg, reply, len, parsed, from);
	upstream_query_free(uq);
}

/*
 * Moves on from the current upstream. definitive marks it as failed for
 * this query (it refused, answered SERVFAIL, or cannot be reached); a
 * timeout does not, and the upstream may be tried again while the
 * deadline allows.
 */
static void
next_upstream(struct upstream_query *uq, bool definitive)
{
	size_t n = uq->conf->n_upstreams;
	struct histset_slot *h;

	if (uq->ctx->health != NULL && (h = histset_get(uq->ctx->health,
	    uq->conf->upstreams[uq->current].name)) != NULL)
		counter_add(&h->failures, 1);
	close_try(uq);
	uq->want_tcp = false;
	uq->retried = false;
	if (definitive)
		uq->dead |= (uint64_t)1 << uq->current;
	for (size_t step = 1; step <= n; step++) {
		size_t candidate = (uq->current + step) % n;
		if (!(uq->dead & (uint64_t)1 << candidate)) {
			uq->current = candidate;
			try_upstream(uq);
			return;
		}
	}
	finish(uq, NULL, 0, NULL);
}

/*
 * Judges a complete reply. Returns false when the reply was dropped and the
 * current try goes on; true when the try is over (uq may be freed).
 */
static bool
handle_reply(struct upstream_query *uq, const uint8_t *buf, size_t len)
{
	struct dnsreply *reply = &uq->ctx->reply;
	bool over_stream = uq->state == TRY_STREAM;

	if (dnsmsg_parse_reply(buf, len, &uq->q, uq->id, reply) != DNSMSG_OK) {
		uq->ctx->stats.mismatched++;
		if (!over_stream)
			return false;
		/* On a stream the ID matched: the upstream sent garbage. */
		next_upstream(uq, true);
		return true;
	}
	if (reply->tc && !over_stream) {
		close_try(uq);
		uq->want_tcp = true;
		try_upstream(uq);
		return true;
	}
	if (reply->rcode == LDNS_RCODE_SERVFAIL ||
	    reply->rcode == LDNS_RCODE_REFUSED) {
		next_upstream(uq, true);
		return true;
	}
	finish(uq, buf, len, reply);
	return true;
}

/* The query in flight on list that a reply's ID names, or NULL. */
static struct upstream_query *
inflight_for(struct uq_list *list, const uint8_t *msg, size_t len)
{
	struct upstream_query *uq;

	if (len < 2)
		return NULL;
	TAILQ_FOREACH(uq, list, stream_entry)
		if (uq->id == get_be16(msg))
			return uq;
	return NULL;
}

/* ---------------------------------------------------------------- UDP */

/* Every query on a socket the kernel reports unreachable moves on. */
static void
udp_sock_failed(struct udp_sock *us)
{
	struct uq_list orphans = TAILQ_HEAD_INITIALIZER(orphans);
	struct upstream_query *uq;

	TAILQ_CONCAT(&orphans, &us->inflight, stream_entry);
	us->n_inflight = 0;
	if (!us->retired) {
		/* Take it out of the pool: the next query gets a new socket. */
		for (unsigned i = 0; i < UDP_POOL_SOCKETS; i++)
			if (us->pool->socks[i] == us)
				us->pool->socks[i] = NULL;
		us->retired = true;
		LIST_INSERT_HEAD(&us->pool->retired, us, retired_entry);
	}
	TAILQ_FOREACH(uq, &orphans, stream_entry)
		uq->usock = NULL;
	while ((uq = TAILQ_FIRST(&orphans)) != NULL) {
		TAILQ_REMOVE(&orphans, uq, stream_entry);
		next_upstream(uq, true);
	}
	udp_sock_free(us);
}

/*
 * Reads up to UDP_READ_BATCH replies in one call into ctx->rx; returns
 * how many, 0 when there are none, or -1 when the socket failed.
 */
static int
udp_read_batch(struct upstream_ctx *ctx, int fd, size_t len[UDP_READ_BATCH])
{
	int n;

#ifdef HAVE_RECVMMSG
	struct mmsghdr msgs[UDP_READ_BATCH];
	struct iovec iov[UDP_READ_BATCH];

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < UDP_READ_BATCH; i++) {
		iov[i].iov_base = ctx->rx[i];
		iov[i].iov_len = sizeof(ctx->rx[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(fd, msgs, UDP_READ_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++)
		len[i] = msgs[i].msg_len;
#else
	ssize_t got = 0;

	for (n = 0; n < UDP_READ_BATCH; n++) {
		got = recv(fd, ctx->rx[n], sizeof(ctx->rx[n]), MSG_DONTWAIT);
		if (got == -1)
			break;
		len[n] = (size_t)got;
	}
	if (n > 0)
		return n;	/* an error shows again on the next call */
	n = -1;
#endif
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	/* ECONNREFUSED and the like: nobody listens there. */
	return n;
}

static void
udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *us = arg;
	struct upstream_ctx *ctx = us->pool->ctx;
	size_t len[UDP_READ_BATCH];
	struct upstream_query *uq;
	const uint8_t *buf;
	int n;

	(void)what;
	/* Bounded: a flood of spoofed replies must not starve the loop. */
	for (int round = 0; round < UDP_READ_ROUNDS; round++) {
		if ((n = udp_read_batch(ctx, fd, len)) == -1) {
			udp_sock_failed(us);
			return;
		}
		for (int i = 0; i < n; i++) {
			buf = ctx->rx[i];
			if ((uq = inflight_for(&us->inflight, buf,
			    len[i])) == NULL) {
				ctx->stats.mismatched++;	/* late or forged */
				continue;
			}
			us->reading = true;
			handle_reply(uq, buf, len[i]);
			us->reading = false;
			if (us->retired && us->n_inflight == 0) {
				/* It went with its last query. */
				ctx->stats.mismatched += (uint64_t)(n - 1 - i);
				udp_sock_free(us);
				return;
			}
		}
		/* Fewer than asked for: the queue was empty. */
		if (n < UDP_READ_BATCH)
			return;
	}
}

static void
udp_sock_free(struct udp_sock *us)
{
	if (us->retired)
		LIST_REMOVE(us, retired_entry);
	event_free(us->readable);
	close(us->fd);
	free(us);
}

static struct udp_sock *
udp_sock_new(struct udp_pool *pool)
{
	struct udp_sock *us;
	int fd = socket(pool->addr.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);

	if (fd == -1) {
		log_warn("upstream socket");
		return NULL;
	}
	/* connect(): the kernel drops datagrams from any other address or port. */
	if (connect(fd, (const struct sockaddr *)&pool->addr.ss,
	    pool->addr.len) == -1) {
		close(fd);
		return NULL;
	}
	us = xcalloc(1, sizeof(*us));
	us->pool = pool;
	us->fd = fd;
	TAILQ_INIT(&us->inflight);
	us->readable = event_new(pool->ctx->base, fd, EV_READ | EV_PERSIST,
	    udp_readable, us);
	event_add(us->readable, NULL);
	return us;
}

static struct udp_pool *
udp_pool_for(struct upstream_ctx *ctx, const struct addr *to)
{
	struct udp_pool *pool;

	LIST_FOREACH(pool, &ctx->pools, entry)
		if (addr_equal((const struct sockaddr *)&pool->addr.ss,
		    (const struct sockaddr *)&to->ss))
			return pool;
	pool = xcalloc(1, sizeof(*pool));
	pool->ctx = ctx;
	pool->addr = *to;
	LIST_INIT(&pool->retired);
	LIST_INSERT_HEAD(&ctx->pools, pool, entry);
	return pool;
}

static void
udp_pool_free(struct udp_pool *pool)
{
	struct udp_sock *us;

	for (unsigned i = 0; i < UDP_POOL_SOCKETS; i++)
		if (pool->socks[i] != NULL)
			udp_sock_free(pool->socks[i]);
	while ((us = LIST_FIRST(&pool->retired)) != NULL)
		udp_sock_free(us);
	LIST_REMOVE(pool, entry);
	free(pool);
}

/* Query i of a batch could not be sent: it moves on, from the event loop. */
static void
udp_send_failed(unsigned i, void *arg)
{
	struct upstream_query *uq = ((struct upstream_query **)arg)[i];

	log_debug("upstream send: %s", strerror(errno));
	uq->try_failed = true;
	event_active(&uq->try_timer, EV_TIMEOUT, 0);
}

/*
 * Sends the queries of a loop pass: those on one socket go in one
 * sendmmsg, so the upstream is woken once for all of them rather than
 * once each.
 */
static void
udp_flush(struct upstream_ctx *ctx)
{
	struct upstream_query *batch[UDP_SEND_BATCH], *uq;
	struct mmsghdr msgs[UDP_SEND_BATCH];
	struct iovec iov[UDP_SEND_BATCH];
	unsigned n_unsent = ctx->n_unsent, n, i, j;
	struct udp_sock *us;

	ctx->n_unsent = 0;	/* what fails below is never queued again */
	for (i = 0; i < n_unsent; i++) {
		if ((uq = ctx->unsent[i]) == NULL)
			continue;
		us = uq->usock;
		for (n = 0, j = i; j < n_unsent; j++) {
			if (ctx->unsent[j] == NULL ||
			    ctx->unsent[j]->usock != us)
				continue;
			batch[n++] = ctx->unsent[j];
			ctx->unsent[j]->unsent = false;
			ctx->unsent[j] = NULL;
		}
		memset(msgs, 0, sizeof(msgs[0]) * n);
		for (j = 0; j < n; j++) {
			iov[j].iov_base = batch[j]->query;
			iov[j].iov_len = batch[j]->len;
			msgs[j].msg_hdr.msg_iov = &iov[j];
			msgs[j].msg_hdr.msg_iovlen = 1;
		}
		udpsend_batch(us->fd, msgs, n, udp_send_failed, batch);
	}
}

static void
udp_flush_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	udp_flush(arg);
}

/* Queues a UDP query for the end of the loop pass (see udp_flush). */
static void
udp_queue(struct upstream_query *uq)
{
	struct upstream_ctx *ctx = uq->ctx;

	if (ctx->n_unsent == UDP_SEND_BATCH)
		udp_flush(ctx);
	if (ctx->n_unsent == 0)
		event_active(ctx->send_ev, EV_TIMEOUT, 0);
	ctx->unsent[ctx->n_unsent++] = uq;
	uq->unsent = true;
}

static bool
start_udp(struct upstream_query *uq, const struct addr *to)
{
	struct udp_pool *pool = udp_pool_for(uq->ctx, to);
	unsigned slot = pool->next++ % UDP_POOL_SOCKETS;
	struct udp_sock *us = pool->socks[slot];
	struct upstream_query *other;

	if (us != NULL && us->sent >= UDP_SOCKET_QUERIES) {
		pool->socks[slot] = NULL;
		us->retired = true;
		LIST_INSERT_HEAD(&pool->retired, us, retired_entry);
		if (us->n_inflight == 0 && !us->reading)
			udp_sock_free(us);
		us = NULL;
	}
	if (us == NULL && (us = pool->socks[slot] = udp_sock_new(pool)) ==
	    NULL)
		return false;
	/* IDs of the queries in flight on one socket must differ. */
	do {
		uq->id = random_id();
		TAILQ_FOREACH(other, &us->inflight, stream_entry)
			if (other->id == uq->id)
				break;
	} while (other != NULL);
	dnsmsg_set_id(uq->query, uq->id);
	udp_queue(uq);
	us->sent++;
	uq->usock = us;
	TAILQ_INSERT_TAIL(&us->inflight, uq, stream_entry);
	us->n_inflight++;
	uq->ctx->stats.sent_udp++;
	return true;
}

/* ---------------------------------------------------------------- streams */

static void
stream_idle(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	if (s->n_inflight == 0)
		stream_close(s);
}

static void
stream_touch(struct stream *s)
{
	struct timeval tv = { .tv_sec = STREAM_IDLE_SECONDS };

	evtimer_add(s->idle_timer, &tv);
}

/*
 * Closes the connection. Its queries are retried once on a new connection
 * when this one had worked before (the upstream may simply have closed it
 * while idle), else they move on to the next upstream.
 */
static void
stream_close(struct stream *s)
{
	struct upstream_query *uq;
	bool had_worked = s->answered;

	if (s->bev != NULL) {
		SSL *ssl = s->tls ? bufferevent_openssl_get_ssl(s->bev) : NULL;
		if (ssl != NULL) {
			SSL_SESSION *session = SSL_get0_session(ssl);
			if (s->session == NULL && session != NULL &&
			    SSL_SESSION_is_resumable(session))
				s->session = SSL_get1_session(ssl);
			/*
			 * A TLS connection freed without close_notify has its
			 * session marked unusable; end it properly.
			 */
			SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
			SSL_shutdown(ssl);
		}
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->answered = false;
	evtimer_del(s->idle_timer);
	/* Take the queries off first: a retry may land on this stream again. */
	struct uq_list orphans = TAILQ_HEAD_INITIALIZER(orphans);
	TAILQ_CONCAT(&orphans, &s->inflight, stream_entry);
	TAILQ_FOREACH(uq, &orphans, stream_entry)
		uq->stream = NULL;
	s->n_inflight = 0;
	while ((uq = TAILQ_FIRST(&orphans)) != NULL) {
		TAILQ_REMOVE(&orphans, uq, stream_entry);
		close_try(uq);
		if (had_worked && !uq->retried) {
			uq->retried = true;
			try_upstream(uq);
		} else
			next_upstream(uq, true);
	}
}

static void
stream_failed(struct stream *s, const char *why)
{
	char text[ADDR_STRLEN];

	s->backoff = s->backoff == 0 ? BACKOFF_FIRST_SECONDS :
	    s->backoff * 2 > BACKOFF_MAX_SECONDS ? BACKOFF_MAX_SECONDS :
	    s->backoff * 2;
	s->retry_at = loop_now_seconds() + s->backoff;
	log_warnx("upstream %s%s: %s; next try in %us",
	    addr_ntop_port((const struct sockaddr *)&s->addr.ss, text,
	    sizeof(text)), s->tls ? " (tls)" : "", why, s->backoff);
}

static void
stream_readable(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t prefix[2], *msg;
	struct upstream_query *uq;
	size_t len;

	while (s->bev == bev && evbuffer_copyout(in, prefix, 2) == 2) {
		len = (size_t)prefix[0] << 8 | prefix[1];
		if (evbuffer_get_length(in) < 2 + len)
			break;
		evbuffer_drain(in, 2);
		msg = evbuffer_pullup(in, (ev_ssize_t)len);
		s->answered = true;
		s->backoff = 0;
		if ((uq = inflight_for(&s->inflight, msg, len)) != NULL)
			handle_reply(uq, msg, len);
		else
			s->ctx->stats.mismatched++;	/* late or unknown */
		evbuffer_drain(in, len);
	}
	if (s->bev == bev)
		stream_touch(s);
}

static void
stream_event(struct bufferevent *bev, short what, void *arg)
{
	struct stream *s = arg;
	char why[256] = "connection closed";

	if (what & BEV_EVENT_CONNECTED) {
		if (s->tls) {
			SSL *ssl = bufferevent_openssl_get_ssl(bev);
			log_debug("upstream tls session %s",
			    SSL_session_reused(ssl) ? "resumed" : "new");
		}
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		tlsclient_error(bev, why, sizeof(why));
		if (!s->answered)
			stream_failed(s, why);
	}
	stream_close(s);
}

static struct stream *
stream_for(struct upstream_ctx *ctx, const struct conf_upstream *u)
{
	struct stream *s;

	LIST_FOREACH(s, &ctx->streams, entry) {
		if (addr_equal((const struct sockaddr *)&s->addr.ss,
		    (const struct sockaddr *)&u->addr.ss) && s->tls == u->tls &&
		    (!u->tls || (strcmp(s->tls_name, u->tls_name) == 0 &&
		    (s->ca_file == NULL) == (u->ca_file == NULL) &&
		    (s->ca_file == NULL || strcmp(s->ca_file, u->ca_file) == 0))))
			return s;
	}
	s = xcalloc(1, sizeof(*s));
	s->ctx = ctx;
	s->addr = u->addr;
	s->tls = u->tls;
	if (u->tls) {
		s->tls_name = xstrdup(u->tls_name);
		s->ca_file = u->ca_file ? xstrdup(u->ca_file) : NULL;
		s->ssl_ctx = tlsclient_ctx(u->ca_file, "upstream tls");
	}
	TAILQ_INIT(&s->inflight);
	s->idle_timer = evtimer_new(ctx->base, stream_idle, s);
	LIST_INSERT_HEAD(&ctx->streams, s, entry);
	return s;
}

static bool
stream_connect(struct stream *s)
{
	struct event_base *base = s->ctx->base;
	SSL *ssl;

	if (s->tls) {
		if (s->ssl_ctx == NULL || (ssl = SSL_new(s->ssl_ctx)) == NULL)
			return false;
		if (!tlsclient_expect_host(ssl, s->tls_name)) {
			SSL_free(ssl);
			return false;
		}
		if (s->session != NULL) {
			SSL_set_session(ssl, s->session);
			SSL_SESSION_free(s->session);
			s->session = NULL;
		}
		s->bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	} else
		s->bev = bufferevent_socket_new(base, -1,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL)
		return false;
	bufferevent_setcb(s->bev, stream_readable, NULL, stream_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(s->bev,
	    (const struct sockaddr *)&s->addr.ss, (int)s->addr.len) == -1) {
		bufferevent_free(s->bev);
		s->bev = NULL;
		stream_failed(s, "connect failed");
		return false;
	}
	stream_touch(s);
	return true;
}

/* Sends the query on the upstream's stream, connecting it if need be. */
static bool
start_stream(struct upstream_query *uq, const struct conf_upstream *u)
{
	struct stream *s = stream_for(uq->ctx, u);
	uint8_t prefix[2] = { (uint8_t)(uq->len >> 8), (uint8_t)uq->len };
	struct upstream_query *other;

	if (s->n_inflight >= STREAM_MAX_INFLIGHT)
		return false;
	if (s->bev == NULL && (loop_now_seconds() < s->retry_at ||
	    !stream_connect(s)))
		return false;
	/* IDs on one connection must differ (RFC 7766 §7). */
	do {
		uq->id = random_id();
		TAILQ_FOREACH(other, &s->inflight, stream_entry)
			if (other->id == uq->id)
				break;
	} while (other != NULL);
	dnsmsg_set_id(uq->query, uq->id);
	bufferevent_write(s->bev, prefix, sizeof(prefix));
	bufferevent_write(s->bev, uq->query, uq->len);
	uq->stream = s;
	TAILQ_INSERT_TAIL(&s->inflight, uq, stream_entry);
	s->n_inflight++;
	uq->ctx->stats.sent_tcp++;
	return true;
}

static void
stream_free(struct stream *s)
{
	stream_close(s);
	LIST_REMOVE(s, entry);
	event_free(s->idle_timer);
	SSL_SESSION_free(s->session);
	SSL_CTX_free(s->ssl_ctx);
	free(s->tls_name);
	free(s->ca_file);
	free(s);
}

/* ---------------------------------------------------------------- tries */

static void
try_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_query *uq = arg;

	(void)fd;
	(void)what;
	if (!uq->try_failed)
		uq->ctx->stats.timeouts++;
	next_upstream(uq, uq->try_failed);
}

static void
deadline_passed(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_query *uq = arg;

	(void)fd;
	(void)what;
	uq->ctx->stats.timeouts++;
	finish(uq, NULL, 0, NULL);
}

static void
try_upstream(struct upstream_query *uq)
{
	const struct conf_upstream *u = &uq->conf->upstreams[uq->current];
	bool stream = u->tls || uq->want_tcp;
	struct timeval tv = loop_timeval(uq->conf->upstream_timeout_ms);

	if (!(stream ? start_stream(uq, u) : start_udp(uq, &u->addr))) {
		/*
		 * Move on from the event loop, never from here: the caller
		 * (upstream_resolve among them) still holds uq.
		 */
		uq->try_failed = true;
		event_active(&uq->try_timer, EV_TIMEOUT, 0);
		return;
	}
	uq->try_failed = false;
	uq->state = stream ? TRY_STREAM : TRY_UDP;
	evtimer_add(&uq->try_timer, &tv);
}

struct upstream_query *
upstream_resolve(struct upstream_ctx *ctx, const struct conf *conf,
    const uint8_t *query, size_t len, const struct dnsq *q,
    upstream_done_fn done, void *arg)
{
	struct upstream_query *uq = xcalloc(1, sizeof(*uq) + len);
	struct timeval tv = loop_timeval(conf->query_timeout_ms);

	uq->ctx = ctx;
	uq->conf = conf;
	memcpy(uq->query, query, len);
	uq->len = len;
	uq->q = *q;
	uq->done = done;
	uq->arg = arg;
	evtimer_assign(&uq->try_timer, ctx->base, try_timeout, uq);
	evtimer_assign(&uq->deadline, ctx->base, deadline_passed, uq);
	evtimer_add(&uq->deadline, &tv);
	try_upstream(uq);
	return uq;
}

struct upstream_ctx *
upstream_ctx_new(struct event_base *base)
{
	struct upstream_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->base = base;
	LIST_INIT(&ctx->streams);
	LIST_INIT(&ctx->pools);
	ctx->send_ev = event_new(base, -1, 0, udp_flush_ready, ctx);
	event_priority_set(ctx->send_ev, LOOP_PRIORITY_LAST);
	/* Half a megabyte of address space; only what replies fill is used. */
	ctx->rx = xreallocarray(NULL, UDP_READ_BATCH, sizeof(*ctx->rx));
	return ctx;
}

void
upstream_ctx_free(struct upstream_ctx *ctx)
{
	struct stream *s;

	if (ctx == NULL)
		return;
	while ((s = LIST_FIRST(&ctx->streams)) != NULL)
		stream_free(s);
	while (!LIST_EMPTY(&ctx->pools))
		udp_pool_free(LIST_FIRST(&ctx->pools));
	event_free(ctx->send_ev);
	free(ctx->rx);
	free(ctx);
}

void
upstream_set_health(struct upstream_ctx *ctx, struct histset *health)
{
	ctx->health = health;
}

const struct upstream_stats *
upstream_get_stats(const struct upstream_ctx *ctx)
{
	return &ctx->stats;
}
