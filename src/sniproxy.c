/*
 * sniproxy.c: the transparent TCP/443 proxy.
 *
 *   accept → read the ClientHello (tlshello.c, at most TLSHELLO_MAX bytes,
 *   within sni-timeout) → judge (policy_sni) → block: a fatal
 *   access_denied alert (RFC 8446 §6.2) and close; pass: connect to the
 *   original destination (SO_ORIGINAL_DST, or the forced "to"), send the
 *   bytes read so far, then relay both ways with splice(2) through a pipe
 *   per direction, half-closes passed on, until both sides are done or the
 *   connection idles out. One "tls" event per connection, at its close.
 *
 * A struct sni_conn owns its sockets, pipes, events and buffer;
 * sni_conn_close() copes with every stage. A connection whose destination
 * is one of hushd's own sni-listen addresses is refused (loop guard).
 *
 * Limits: Linux only (splice, SO_ORIGINAL_DST). A ClientHello that does
 * not parse is judged as one without SNI (sni-missing).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "events.h"
#include "lists.h"
#include "log.h"
#include "loop.h"
#include "neigh.h"
#include "pause.h"
#include "seen.h"
#include "sniproxy.h"
#include "tlshello.h"

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST		80	/* linux/netfilter_ipv4.h */
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST	80	/* linux/netfilter_ipv6/ip6_tables.h */
#endif

#define CONNECT_TIMEOUT_MS	10000
#define PIPE_SIZE		(1 << 20)	/* asked of each pipe: fewer, larger splices */
#define SPARE_PIPES		256	/* empty pipes kept for the next connections */
#define CLIENT_SLOTS		1024	/* buckets of the per-client counts */

enum conn_state {
	CONN_HELLO,		/* reading the ClientHello */
	CONN_CONNECTING,	/* to the destination */
	CONN_RELAY,
};

/* One direction of the relay: from one socket, through a pipe, to the other. */
struct relay {
	struct sni_conn	*conn;
	int		 from;
	int		 to;
	int		 pipe[2];
	size_t		 pending;	/* bytes in the pipe */
	bool		 eof;		/* from has closed its side */
	bool		 done;		/* eof passed on to the other side */
	uint64_t	 bytes;
	struct event	*readable;	/* on from */
	struct event	*writable;	/* on to */
};

struct client_count {
	LIST_ENTRY(client_count) entry;
	struct sockaddr_storage	 addr;
	unsigned		 count;
};

struct sni_conn {
	struct sniproxy		*sp;
	LIST_ENTRY(sni_conn)	 entry;
	struct policy		*policy;
	struct client_count	*counted;
	enum conn_state		 state;
	int			 cfd;
	int			 sfd;
	struct addr		 client;
	struct addr		 dst;
	struct timespec		 start;
	uint8_t			*hello;		/* TLSHELLO_MAX bytes */
	size_t			 hello_len;
	size_t			 hello_sent;
	struct event		*hello_ev;	/* client readable, in CONN_HELLO */
	struct event		*connect_ev;	/* server writable, connecting */
	struct event		*timer;		/* hello, connect or idle deadline */
	struct relay		 up;		/* client → server */
	struct relay		 down;		/* server → client */
	/* what was found and decided */
	struct tlshello		 th;
	enum tlshello_status	 th_status;
	char			 sni[LIST_NAME_MAX + 1];
	char			 alpn[64];
	struct client_ident	 ident;
	struct verdict		 verdict;
	struct geo_info		 geo;
	bool			 dns_seen;
	char			 dns_name[SEEN_NAME_MAX];
	const char		*error;
};

struct sni_listener {
	LIST_ENTRY(sni_listener) entry;
	struct sniproxy		*sp;
	struct evconnlistener	*evl;
	struct addr		 addr;
	bool			 forced;
	struct addr		 to;
};

struct sniproxy {
	struct loop			 loop;	/* thread, event base, snapshot */
	struct frontend_shared		 shared;
	LIST_HEAD(, sni_listener)	 listeners;
	LIST_HEAD(, sni_conn)		 conns;
	unsigned			 n_conns;
	LIST_HEAD(, client_count)	 clients[CLIENT_SLOTS];
	int				 spare[SPARE_PIPES][2];
	unsigned			 n_spare;
	struct worker_stats		 stats;	/* connections by group */
	struct window			*window;
};

static void conn_close(struct sni_conn *c, const char *error);
static void relay_pump(struct sni_conn *c, struct relay *r);

static void
arm_timer(struct sni_conn *c, unsigned ms)
{
	struct timeval tv = loop_timeval(ms);

	evtimer_add(c->timer, &tv);
}

/* ---------------------------------------------------------- client caps */

static unsigned
client_slot(const struct sockaddr *sa)
{
	const uint8_t *b;
	size_t n;
	uint32_t hash = 2166136261u;

	if (sa->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = 4;
	} else {
		b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		hash = (hash ^ b[i]) * 16777619u;
	return hash % CLIENT_SLOTS;
}

static bool
same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	struct sockaddr_storage x, y;

	memcpy(&x, a, a->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6));
	memcpy(&y, b, b->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6));
	if (x.ss_family == AF_INET)
		((struct sockaddr_in *)&x)->sin_port =
		    ((struct sockaddr_in *)&y)->sin_port;
	else if (x.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&x)->sin6_port =
		    ((struct sockaddr_in6 *)&y)->sin6_port;
	return addr_equal((struct sockaddr *)&x, (struct sockaddr *)&y);
}

/* Counts a connection of client; NULL when the client is over its cap. */
static struct client_count *
client_take(struct sniproxy *sp, const struct sockaddr *client, unsigned cap)
{
	unsigned slot = client_slot(client);
	struct client_count *cc;

	LIST_FOREACH(cc, &sp->clients[slot], entry)
		if (same_host((struct sockaddr *)&cc->addr, client))
			break;
	if (cc == NULL) {
		cc = xcalloc(1, sizeof(*cc));
		memcpy(&cc->addr, client, client->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		LIST_INSERT_HEAD(&sp->clients[slot], cc, entry);
	}
	if (cc->count >= cap)
		return NULL;
	cc->count++;
	return cc;
}

static void
client_release(struct client_count *cc)
{
	if (cc == NULL || --cc->count > 0)
		return;
	LIST_REMOVE(cc, entry);
	free(cc);
}

/* ---------------------------------------------------------- closing */

/*
 * A pipe for a relay: an empty one kept from an earlier connection, or a
 * new one, made as large as the system allows.
 */
static bool
pipe_take(struct sniproxy *sp, int fds[2])
{
	if (sp->n_spare > 0) {
		sp->n_spare--;
		fds[0] = sp->spare[sp->n_spare][0];
		fds[1] = sp->spare[sp->n_spare][1];
		return true;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		return false;
	(void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_SIZE);	/* best effort */
	return true;
}

/* Keeps an empty pipe for the next connection, or closes it. */
static void
pipe_give(struct sniproxy *sp, int fds[2], bool empty)
{
	if (fds[0] == -1)
		return;
	if (empty && sp->n_spare < SPARE_PIPES) {
		sp->spare[sp->n_spare][0] = fds[0];
		sp->spare[sp->n_spare][1] = fds[1];
		sp->n_spare++;
	} else {
		close(fds[0]);
		close(fds[1]);
	}
	fds[0] = fds[1] = -1;
}

static void
relay_free(struct sniproxy *sp, struct relay *r)
{
	if (r->readable != NULL)
		event_free(r->readable);
	if (r->writable != NULL)
		event_free(r->writable);
	pipe_give(sp, r->pipe, r->pending == 0);
}

/* Counts the connection and keeps it among the recent decisions. */
static void
note_decision(struct sni_conn *c)
{
	struct sniproxy *sp = c->sp;
	const struct verdict *v = &c->verdict;
	struct window_entry e = { .t = loop_now_seconds(), .kind = 1 };

	if (v->group == NULL)
		return;		/* refused before it was judged */
	tally_add(&sp->stats.by_group, v->group, v->action);
	if (v->action == POLICY_BLOCK)
		tally_add(&sp->stats.blocked_by_list, v->list ? v->list :
		    policy_reason_name(v->reason), 0);
	window_entry_fill(&e, v, &c->ident,
	    c->sni[0] != '\0' ? c->sni : c->dns_seen ? c->dns_name : "");
	if (geo_enabled(c->policy->geo)) {
		memcpy(e.cc, c->geo.cc, sizeof(e.cc));
		e.asn = c->geo.asn;
	}
	window_add(sp->window, &e);
}

static void
conn_log(struct sni_conn *c)
{
	const struct client_ident *id = &c->ident;
	struct conn_event ev = {
		.event = "tls",
		.client = (struct sockaddr *)&c->client.ss,
		.mac = id->has_mac ? id->mac : NULL,
		.vendor = id->has_mac ? oui_vendor(c->sp->shared.oui, id->mac) :
		    NULL,
		.dst = (struct sockaddr *)&c->dst.ss,
		.sni = c->sni[0] != '\0' ? c->sni : NULL,
		.ech = c->th_status == TLSHELLO_DONE && c->th.ech,
		.dns_seen = c->dns_seen,
		.dns_name = c->dns_seen ? c->dns_name : NULL,
		.geo = geo_enabled(c->policy->geo) ? &c->geo : NULL,
		.verdict = &c->verdict,
		.alpn = c->alpn[0] != '\0' ? c->alpn : NULL,
		.bytes_up = c->up.bytes,
		.bytes_down = c->down.bytes,
		.ms = loop_elapsed_ms(&c->start),
		.error = c->error,
	};
	events_conn(&ev);
	note_decision(c);
}

/*
 * Ends a connection at any stage. Connections refused before they were
 * judged (caps, no destination) are logged too, with the error.
 */
static void
conn_close(struct sni_conn *c, const char *error)
{
	if (c->error == NULL)
		c->error = error;
	if (c->dst.len > 0)
		conn_log(c);
	LIST_REMOVE(c, entry);
	c->sp->n_conns--;
	client_release(c->counted);
	if (c->hello_ev != NULL)
		event_free(c->hello_ev);
	if (c->connect_ev != NULL)
		event_free(c->connect_ev);
	if (c->timer != NULL)
		event_free(c->timer);
	relay_free(c->sp, &c->up);
	relay_free(c->sp, &c->down);
	if (c->cfd != -1)
		close(c->cfd);
	if (c->sfd != -1)
		close(c->sfd);
	policy_unref(c->policy);
	free(c->hello);
	free(c);
}

static void
conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sni_conn *c = arg;

	(void)fd;
	(void)what;
	conn_close(c, c->state == CONN_HELLO ? "no ClientHello in time" :
	    c->state == CONN_CONNECTING ? "connect timed out" : "idle");
}

/* ---------------------------------------------------------- relay */

static void
relay_ready(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	relay_pump(r->conn, r);
}

/* Moves what it can through one direction; then waits for what it needs. */
static void
relay_pump(struct sni_conn *c, struct relay *r)
{
	ssize_t n;

	for (;;) {
		if (r->pending == 0 && !r->eof) {
			n = splice(r->from, NULL, r->pipe[1], NULL, PIPE_SIZE,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0)
				r->pending = (size_t)n;
			else if (n == 0)
				r->eof = true;
			else if (errno != EAGAIN && errno != EINTR) {
				conn_close(c, strerror(errno));
				return;
			}
		}
		if (r->pending > 0) {
			n = splice(r->pipe[0], NULL, r->to, NULL, r->pending,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				r->pending -= (size_t)n;
				r->bytes += (uint64_t)n;
				continue;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				conn_close(c, strerror(errno));
				return;
			}
			break;		/* the other side must drain first */
		}
		if (r->eof || r->pending == 0)
			break;
	}
	if (r->eof && r->pending == 0 && !r->done) {
		shutdown(r->to, SHUT_WR);
		r->done = true;
	}
	if (c->up.done && c->down.done) {
		conn_close(c, NULL);
		return;
	}
	if (r->pending > 0) {
		event_del(r->readable);
		event_add(r->writable, NULL);
	} else {
		event_del(r->writable);
		if (!r->eof)
			event_add(r->readable, NULL);
		else
			event_del(r->readable);
	}
	arm_timer(c, c->policy->conf->sni_idle_timeout_ms);
}

static bool
relay_init(struct sni_conn *c, struct relay *r, int from, int to)
{
	r->conn = c;
	r->from = from;
	r->to = to;
	if (!pipe_take(c->sp, r->pipe))
		return false;
	r->readable = event_new(c->sp->loop.base, from, EV_READ | EV_PERSIST,
	    relay_ready, r);
	r->writable = event_new(c->sp->loop.base, to, EV_WRITE | EV_PERSIST,
	    relay_ready, r);
	return r->readable != NULL && r->writable != NULL;
}

/* Everything is in place: the ClientHello is on its way, start relaying. */
static void
start_relay(struct sni_conn *c)
{
	c->state = CONN_RELAY;
	if (!relay_init(c, &c->up, c->cfd, c->sfd) ||
	    !relay_init(c, &c->down, c->sfd, c->cfd)) {
		conn_close(c, "out of pipes");
		return;
	}
	c->up.bytes = c->hello_len;
	event_add(c->up.readable, NULL);
	event_add(c->down.readable, NULL);
	arm_timer(c, c->policy->conf->sni_idle_timeout_ms);
}

/* ---------------------------------------------------------- connecting */

/*
 * Sends the ClientHello, first straight after connect(): over loopback or
 * a fast LAN the handshake is often done by then. A send on a socket still
 * connecting fails with EAGAIN, and one whose connect failed with the
 * connect's error, so no SO_ERROR is asked for.
 */
static void
send_hello(evutil_socket_t fd, short what, void *arg)
{
	struct sni_conn *c = arg;
	ssize_t n;

	(void)what;
	while (c->hello_sent < c->hello_len) {
		n = send(fd, c->hello + c->hello_sent, c->hello_len -
		    c->hello_sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				conn_close(c, strerror(errno));
				return;
			}
			if (c->connect_ev == NULL) {
				c->connect_ev = event_new(c->sp->loop.base,
				    c->sfd, EV_WRITE | EV_PERSIST, send_hello,
				    c);
				event_add(c->connect_ev, NULL);
				arm_timer(c, CONNECT_TIMEOUT_MS);
			}
			return;		/* the event comes back */
		}
		c->hello_sent += (size_t)n;
	}
	if (c->connect_ev != NULL) {
		event_free(c->connect_ev);
		c->connect_ev = NULL;
	}
	/* Sent: what was learnt from it is copied; spare idle connections. */
	free(c->hello);
	c->hello = NULL;
	start_relay(c);
}

static void
connect_destination(struct sni_conn *c)
{
	int on = 1;

	c->state = CONN_CONNECTING;
	c->sfd = socket(c->dst.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->sfd == -1) {
		conn_close(c, strerror(errno));
		return;
	}
	setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c->sfd, (struct sockaddr *)&c->dst.ss, c->dst.len) == -1 &&
	    errno != EINPROGRESS) {
		conn_close(c, strerror(errno));
		return;
	}
	send_hello(c->sfd, EV_WRITE, c);
}

/* ---------------------------------------------------------- judging */

static void
send_alert_and_close(struct sni_conn *c)
{
	/* TLS 1.2 record, alert: fatal (2), access_denied (49). */
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02,
	    0x31 };

	(void)send(c->cfd, alert, sizeof(alert), MSG_NOSIGNAL | MSG_DONTWAIT);
	conn_close(c, NULL);
}

/* Whether DNS gave this client the destination, and under what name. */
static void
look_up_seen(struct sni_conn *c)
{
	struct seen_addr client, dst;

	if (c->sp->shared.seen == NULL)
		return;
	seen_addr_from((struct sockaddr *)&c->client.ss, &client);
	seen_addr_from((struct sockaddr *)&c->dst.ss, &dst);
	c->dns_seen = seen_get(c->sp->shared.seen, &client, &dst,
	    loop_now_seconds(), c->dns_name);
}

static void
judge(struct sni_conn *c)
{
	const char *sni = NULL;
	size_t sni_len = 0;

	event_free(c->hello_ev);
	c->hello_ev = NULL;
	if (c->th_status == TLSHELLO_DONE)
		sni = policy_hello_names(&c->th, c->sni, &sni_len, c->alpn,
		    sizeof(c->alpn));
	look_up_seen(c);
	policy_sni(c->policy, &c->ident, sni, sni_len,
	    c->th_status == TLSHELLO_DONE && c->th.ech,
	    (struct sockaddr *)&c->dst.ss, c->dns_seen, &c->geo, &c->verdict);
	if (c->verdict.action == POLICY_BLOCK && c->sp->shared.pause != NULL &&
	    pause_active(c->sp->shared.pause, c->verdict.group, time(NULL)))
		c->verdict.action = POLICY_LOG;
	if (c->verdict.action == POLICY_BLOCK)
		send_alert_and_close(c);
	else
		connect_destination(c);
}

static void
read_hello(evutil_socket_t fd, short what, void *arg)
{
	struct sni_conn *c = arg;
	ssize_t n;

	(void)what;
	n = recv(fd, c->hello + c->hello_len, TLSHELLO_MAX - c->hello_len, 0);
	if (n == 0) {
		conn_close(c, "client closed before its ClientHello");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c, strerror(errno));
		return;
	}
	c->hello_len += (size_t)n;
	c->th_status = tlshello_parse(c->hello, c->hello_len, &c->th);
	if (c->th_status == TLSHELLO_NEED_MORE &&
	    c->hello_len < TLSHELLO_MAX)
		return;
	judge(c);
}

/* ---------------------------------------------------------- accepting */

static bool
original_destination(int fd, const struct sockaddr *local, struct addr *out)
{
	out->len = sizeof(out->ss);
	if (local->sa_family == AF_INET)
		return getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &out->ss,
		    &out->len) == 0;
	return getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &out->ss,
	    &out->len) == 0;
}

/* A destination that is one of our own listeners would loop back to us. */
static bool
is_own_listener(struct sniproxy *sp, const struct addr *dst)
{
	struct sni_listener *l;

	LIST_FOREACH(l, &sp->listeners, entry)
		if (addr_equal((const struct sockaddr *)&l->addr.ss,
		    (const struct sockaddr *)&dst->ss))
			return true;
	return false;
}

static void read_hello(evutil_socket_t fd, short what, void *arg);

static void
accept_conn(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct sni_listener *l = arg;
	struct sniproxy *sp = l->sp;
	const struct conf *conf = sp->loop.policy->conf;
	struct sni_conn *c;

	(void)evl;
	if (sp->n_conns >= conf->sni_max_connections) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->sp = sp;
	c->cfd = fd;
	c->sfd = -1;
	c->up.pipe[0] = c->up.pipe[1] = -1;
	c->down.pipe[0] = c->down.pipe[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	memcpy(&c->client.ss, sa, (size_t)salen);
	c->client.len = (socklen_t)salen;
	LIST_INSERT_HEAD(&sp->conns, c, entry);
	sp->n_conns++;
	c->timer = evtimer_new(sp->loop.base, conn_timeout, c);
	if ((c->counted = client_take(sp, sa, conf->sni_max_per_client)) ==
	    NULL) {
		conn_close(c, "too many connections from this client");
		return;
	}
	/* Who it is, for the event even if it ends before it is judged. */
	c->policy = policy_ref(sp->loop.policy);
	c->ident.addr = (struct sockaddr *)&c->client.ss;
	neigh_identify(sp->shared.neigh, &c->ident);
	policy_client(c->policy, &c->ident, &c->verdict);
	if (l->forced)
		c->dst = l->to;
	else if (!original_destination(fd, sa, &c->dst) ||
	    is_own_listener(sp, &c->dst)) {
		c->dst.len = 0;		/* nothing to log: not redirected */
		conn_close(c, "no original destination");
		return;
	}
	c->hello = xmalloc(TLSHELLO_MAX);
	c->hello_ev = event_new(sp->loop.base, fd, EV_READ | EV_PERSIST, read_hello,
	    c);
	event_add(c->hello_ev, NULL);
	arm_timer(c, conf->sni_timeout_ms);
	/*
	 * By the time the listener is woken the ClientHello has often come
	 * too: read it now, without a pass through the loop; the event added
	 * above then costs no system call (c may be gone after this).
	 */
	read_hello(fd, EV_READ, c);
}

/* ---------------------------------------------------------- the proxy */

struct sniproxy *
sniproxy_new(struct policy *policy, const struct frontend_shared *shared)
{
	const struct conf *conf = policy->conf;
	struct sniproxy *sp;
	char text[ADDR_STRLEN];
	int on = 1;

	if (conf->n_sni_listen == 0)
		return NULL;
	sp = xcalloc(1, sizeof(*sp));
	sp->window = window_new();
	sp->shared = *shared;
	loop_init(&sp->loop, policy, NULL, NULL);
	LIST_INIT(&sp->listeners);
	LIST_INIT(&sp->conns);
	for (size_t i = 0; i < conf->n_sni_listen; i++) {
		const struct conf_sni_listen *cl = &conf->sni_listen[i];
		struct sni_listener *l = xcalloc(1, sizeof(*l));
		int fd = socket(cl->listen.ss.ss_family, SOCK_STREAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			fatal("socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (cl->listen.ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		addr_ntop_full((const struct sockaddr *)&cl->listen.ss, text,
		    sizeof(text));
		if (bind(fd, (const struct sockaddr *)&cl->listen.ss,
		    cl->listen.len) == -1)
			fatal("bind sni-listen %s", text);
		l->sp = sp;
		l->addr = cl->listen;
		l->forced = cl->forced;
		l->to = cl->to;
		l->evl = evconnlistener_new(sp->loop.base, accept_conn, l,
		    LEV_OPT_CLOSE_ON_FREE, 512, fd);
		if (l->evl == NULL)
			fatal("listen sni-listen %s", text);
		LIST_INSERT_HEAD(&sp->listeners, l, entry);
	}
	return sp;
}

struct worker_stats *
sniproxy_stats(struct sniproxy *sp)
{
	return &sp->stats;
}

struct window *
sniproxy_window(struct sniproxy *sp)
{
	return sp->window;
}

struct loop *
sniproxy_loop(struct sniproxy *sp)
{
	return &sp->loop;
}

void
sniproxy_free(struct sniproxy *sp)
{
	struct sni_listener *l;
	struct sni_conn *c;

	if (sp == NULL)
		return;
	while ((c = LIST_FIRST(&sp->conns)) != NULL)
		conn_close(c, "hushd stopping");
	while (sp->n_spare > 0) {
		sp->n_spare--;
		close(sp->spare[sp->n_spare][0]);
		close(sp->spare[sp->n_spare][1]);
	}
	while ((l = LIST_FIRST(&sp->listeners)) != NULL) {
		LIST_REMOVE(l, entry);
		evconnlistener_free(l->evl);
		free(l);
	}
	loop_destroy(&sp->loop);
	window_free(sp->window);
	free(sp);
}
