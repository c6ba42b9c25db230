/*
 * upstream.c: forwarding queries to upstream resolvers over UDP and TCP.
 *
 * One struct upstream_query per client query that missed the cache. It
 * holds a copy of the query, the index of the upstream being tried, and the
 * transport of the current try. upstream_query_free() copes with every
 * stage, so every exit path goes through it.
 *
 * Limits: a TCP fallback opens one connection per query (fine for the rare
 * truncated answer); UDP sockets are opened per try, which costs a system
 * call or two but gives each try its own source port (RFC 5452 §9.2).
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "upstream.h"

enum upstream_try_state {
	TRY_NONE,
	TRY_UDP,
	TRY_TCP,
};

struct upstream_ctx {
	struct event_base		*base;
	struct upstream_stats		 stats;
	struct dnsreply			 reply;		/* scratch for the reply being judged */
};

struct upstream_query {
	struct upstream_ctx		*ctx;
	struct event_base		*base;
	const struct conf		*conf;
	uint8_t				*query;
	size_t				 len;
	struct dnsq			 q;
	upstream_done_fn		 done;
	void				*arg;

	size_t				 current;	/* index into conf->upstreams */
	bool				*dead;		/* upstreams that failed for good */
	enum upstream_try_state		 state;
	bool				 try_failed;	/* could not even send */
	uint16_t			 id;
	int				 fd;
	struct event			*read_ev;
	struct bufferevent		*bev;
	struct event			*try_timer;
	struct event			*deadline;
};

static void try_upstream(struct upstream_query *uq);

struct upstream_ctx *
upstream_ctx_new(struct event_base *base)
{
	struct upstream_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->base = base;
	return ctx;
}

void
upstream_ctx_free(struct upstream_ctx *ctx)
{
	free(ctx);
}

const struct upstream_stats *
upstream_get_stats(const struct upstream_ctx *ctx)
{
	return &ctx->stats;
}

static uint16_t
random_id(void)
{
	uint16_t id;

	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
		fatalx("RAND_bytes failed");
	return id;
}

/* Ends the current try, whatever its transport. */
static void
close_try(struct upstream_query *uq)
{
	if (uq->read_ev != NULL) {
		event_free(uq->read_ev);
		uq->read_ev = NULL;
	}
	if (uq->fd != -1) {
		close(uq->fd);
		uq->fd = -1;
	}
	if (uq->bev != NULL) {
		bufferevent_free(uq->bev);
		uq->bev = NULL;
	}
	if (uq->try_timer != NULL)
		evtimer_del(uq->try_timer);
	uq->state = TRY_NONE;
}

static void
upstream_query_free(struct upstream_query *uq)
{
	if (uq == NULL)
		return;
	close_try(uq);
	if (uq->try_timer != NULL)
		event_free(uq->try_timer);
	if (uq->deadline != NULL)
		event_free(uq->deadline);
	free(uq->dead);
	free(uq->query);
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
 * this query (it refused, or answered SERVFAIL); a timeout does not, and
 * the upstream may be tried again while the deadline allows.
 */
static void
next_upstream(struct upstream_query *uq, bool definitive)
{
	size_t n = uq->conf->n_upstreams;

	close_try(uq);
	if (definitive)
		uq->dead[uq->current] = true;
	for (size_t step = 1; step <= n; step++) {
		size_t candidate = (uq->current + step) % n;
		if (!uq->dead[candidate]) {
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
handle_reply(struct upstream_query *uq, const uint8_t *buf, size_t len,
    bool over_tcp)
{
	struct dnsreply *reply = &uq->ctx->reply;
	enum dnsmsg_status status;

	status = dnsmsg_parse_reply(buf, len, &uq->q, uq->id, reply);
	if (status != DNSMSG_OK) {
		uq->ctx->stats.mismatched++;
		if (!over_tcp)
			return false;
		/* A TCP stream cannot be spoofed: this one is broken. */
		next_upstream(uq, true);
		return true;
	}
	if (reply->tc && !over_tcp) {
		close_try(uq);
		uq->state = TRY_TCP;
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

static void
udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_query *uq = arg;
	uint8_t buf[DNSMSG_MAX];
	ssize_t n;

	(void)what;
	/* A few datagrams at most: spoofed ones must not starve the loop. */
	for (int i = 0; i < 8; i++) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* ECONNREFUSED and the like: nobody listens there. */
			next_upstream(uq, true);
			return;
		}
		if (handle_reply(uq, buf, (size_t)n, false))
			return;		/* finished, or moved on */
	}
}

static bool
start_udp(struct upstream_query *uq, const struct addr *to)
{
	int fd = socket(to->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);

	if (fd == -1) {
		log_warn("upstream socket");
		return false;
	}
	if (connect(fd, (const struct sockaddr *)&to->ss, to->len) == -1 ||
	    send(fd, uq->query, uq->len, 0) == -1) {
		close(fd);
		return false;
	}
	uq->fd = fd;
	uq->read_ev = event_new(uq->base, fd, EV_READ | EV_PERSIST,
	    udp_readable, uq);
	event_add(uq->read_ev, NULL);
	uq->ctx->stats.sent_udp++;
	return true;
}

static void
tcp_readable(struct bufferevent *bev, void *arg)
{
	struct upstream_query *uq = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t prefix[2];
	size_t len;

	if (evbuffer_copyout(in, prefix, 2) != 2)
		return;
	len = (size_t)prefix[0] << 8 | prefix[1];
	if (evbuffer_get_length(in) < 2 + len)
		return;
	uint8_t *buf = xmalloc(len ? len : 1);
	evbuffer_drain(in, 2);
	evbuffer_remove(in, buf, len);
	handle_reply(uq, buf, len, true);
	free(buf);
}

static void
tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct upstream_query *uq = arg;

	(void)bev;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
		next_upstream(uq, true);
}

static bool
start_tcp(struct upstream_query *uq, const struct addr *to)
{
	uint8_t prefix[2] = { (uint8_t)(uq->len >> 8), (uint8_t)uq->len };

	uq->bev = bufferevent_socket_new(uq->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (uq->bev == NULL)
		return false;
	bufferevent_setcb(uq->bev, tcp_readable, NULL, tcp_event, uq);
	bufferevent_enable(uq->bev, EV_READ);
	bufferevent_write(uq->bev, prefix, sizeof(prefix));
	bufferevent_write(uq->bev, uq->query, uq->len);
	if (bufferevent_socket_connect(uq->bev,
	    (const struct sockaddr *)&to->ss, (int)to->len) == -1) {
		bufferevent_free(uq->bev);
		uq->bev = NULL;
		return false;
	}
	uq->ctx->stats.sent_tcp++;
	return true;
}

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
	const struct addr *to = &uq->conf->upstreams[uq->current].addr;
	bool tcp = uq->state == TRY_TCP;
	struct timeval tv = {
		.tv_sec = uq->conf->upstream_timeout_ms / 1000,
		.tv_usec = (uq->conf->upstream_timeout_ms % 1000) * 1000,
	};

	uq->id = random_id();
	dnsmsg_set_id(uq->query, uq->id);
	if (!(tcp ? start_tcp(uq, to) : start_udp(uq, to))) {
		/*
		 * Move on from the event loop, never from here: the caller
		 * (upstream_resolve among them) still holds uq.
		 */
		uq->try_failed = true;
		event_active(uq->try_timer, EV_TIMEOUT, 0);
		return;
	}
	uq->try_failed = false;
	uq->state = tcp ? TRY_TCP : TRY_UDP;
	evtimer_add(uq->try_timer, &tv);
}

struct upstream_query *
upstream_resolve(struct upstream_ctx *ctx, const struct conf *conf,
    const uint8_t *query, size_t len, const struct dnsq *q,
    upstream_done_fn done, void *arg)
{
	struct upstream_query *uq = xcalloc(1, sizeof(*uq));
	struct timeval tv = {
		.tv_sec = conf->query_timeout_ms / 1000,
		.tv_usec = (conf->query_timeout_ms % 1000) * 1000,
	};

	uq->ctx = ctx;
	uq->base = ctx->base;
	uq->conf = conf;
	uq->query = xmalloc(len);
	memcpy(uq->query, query, len);
	uq->len = len;
	uq->q = *q;
	uq->done = done;
	uq->arg = arg;
	uq->fd = -1;
	uq->dead = xcalloc(conf->n_upstreams, sizeof(*uq->dead));
	uq->try_timer = evtimer_new(uq->base, try_timeout, uq);
	uq->deadline = evtimer_new(uq->base, deadline_passed, uq);
	evtimer_add(uq->deadline, &tv);
	try_upstream(uq);
	return uq;
}
