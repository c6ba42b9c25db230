/*
 * sniproxy.c: the transparent TCP/443 proxy.
 *
 *   accept → read the ClientHello (tlshello.c, at most TLSHELLO_MAX bytes,
 *   within sni-timeout) → judge (policy_sni) → block: a fatal
 *   access_denied alert (RFC 8446 §6.2) and close; pass: connect to the
 *   original destination (SO_ORIGINAL_DST, or the forced "to"), send the
 *   bytes read so far, then relay both ways, half-closes passed on, until
 *   both sides are done or the connection idles out. One "tls" event per
 *   connection, at its close.
 *
 * Each socket has one edge-triggered event, added once, that reports
 * readable, writable and the peer's FIN; a relay remembers what it was
 * told and stops at EAGAIN, so no epoll_ctl follows the first. Small
 * reads (most replies of a short connection) are copied through one
 * buffer the proxy shares; once a read fills it, the direction switches
 * to splice(2) through a pipe of its own, taken from a pool. A read that
 * comes short after the peer's FIN was seen is the end of the stream: no
 * read is spent to learn it, and the FIN goes out with the last data.
 *
 * A struct sni_conn owns its sockets, pipes, events and buffers;
 * conn_close() copes with every stage. A connection whose destination
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
#include <stddef.h>
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
#define COPY_SIZE		TLSHELLO_MAX	/* reads this large switch to splice */
#define SPARE_PIPES		256	/* empty pipes kept for the next connections */
#define CLIENT_SLOTS		1024	/* buckets of the per-client counts */

enum conn_state {
	CONN_HELLO,		/* reading the ClientHello */
	CONN_CONNECTING,	/* to the destination */
	CONN_RELAY,
};

/*
 * One direction of the relay: from one socket to the other, copied or,
 * once it carries bulk, spliced through a pipe. What the events said is
 * kept until a system call says otherwise (EAGAIN, a short read).
 */
struct relay {
	int		 from;
	int		 to;
	int		 pipe[2];	/* -1 until needed */
	size_t		 pending;	/* bytes in the pipe */
	uint8_t		*rest;		/* of a copy, not yet taken by to */
	size_t		 rest_len;
	size_t		 rest_off;	/* sent of it */
	bool		 splicing;	/* a read filled the copy buffer */
	bool		 readable;	/* from may have data, or its end */
	bool		 writable;	/* to may take more */
	bool		 fin_seen;	/* from's peer has sent its FIN */
	bool		 eof;		/* from has nothing more */
	bool		 done;		/* eof passed on to the other side */
	uint64_t	 bytes;
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
	uint8_t			*partial;	/* a ClientHello come in pieces */
	uint8_t			*hello;		/* its copy while connecting */
	size_t			 hello_len;
	size_t			 hello_sent;
	struct event		*client_ev;	/* on cfd, once it is waited for */
	struct event		*server_ev;	/* on sfd, likewise */
	struct event		*timer;		/* hello, connect or idle deadline */
	uint64_t		 active_ms;	/* last event while relaying */
	struct relay		 up;		/* client → server */
	struct relay		 down;		/* server → client */
	/* what was found and decided */
	bool			 has_mac;
	uint8_t			 mac[CONF_MAC_LEN];
	bool			 ech;
	char			 sni[LIST_NAME_MAX + 1];
	char			 alpn[64];
	struct verdict		 verdict;
	struct geo_info		 geo;
	bool			 dns_seen;
	char			 dns_name[SEEN_NAME_MAX];
	const char		*error;
	/* room for the three events, allocated with the struct */
	max_align_t		 event_room[];
};

enum { EVENT_TIMER, EVENT_CLIENT, EVENT_SERVER, EVENTS_PER_CONN };

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
	uint8_t				 copy[COPY_SIZE];	/* one read at a time */
	struct worker_stats		 stats;	/* connections by group */
	struct window			*window;
};

static void conn_close(struct sni_conn *c, const char *error);
static void conn_event(evutil_socket_t fd, short what, void *arg);

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

/* The size of a struct event, rounded up to keep the next one aligned. */
static size_t
event_slot_size(void)
{
	size_t n = event_get_struct_event_size();

	return (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	    sizeof(max_align_t);
}

/* Event slot i in c's own room: no allocation of its own. */
static struct event *
conn_event_slot(struct sni_conn *c, unsigned i)
{
	return (struct event *)(void *)((char *)c->event_room +
	    i * event_slot_size());
}

/* Waits for fd with the one event it keeps for the connection's life. */
static void
watch(struct sni_conn *c, struct event **ev, int fd)
{
	if (*ev != NULL)
		return;
	*ev = conn_event_slot(c, ev == &c->client_ev ? EVENT_CLIENT :
	    EVENT_SERVER);
	event_assign(*ev, c->sp->loop.base, fd, EV_READ | EV_WRITE |
	    EV_CLOSED | EV_ET | EV_PERSIST, conn_event, c);
	event_add(*ev, NULL);
}

/* Counts the connection and keeps it among the recent decisions. */
static void
note_decision(struct sni_conn *c)
{
	struct sniproxy *sp = c->sp;
	const struct verdict *v = &c->verdict;
	struct window_entry e = { .t = loop_now_seconds(), .kind = 1 };
	struct client_ident id = {
		.addr = (struct sockaddr *)&c->client.ss,
		.has_mac = c->has_mac,
	};

	if (v->group == NULL)
		return;		/* refused before it was judged */
	memcpy(id.mac, c->mac, sizeof(id.mac));
	tally_add(&sp->stats.by_group, v->group, v->action);
	if (v->action == POLICY_BLOCK)
		tally_add(&sp->stats.blocked_by_list, v->list ? v->list :
		    policy_reason_name(v->reason), 0);
	window_entry_fill(&e, v, &id,
	    c->sni[0] != '\0' ? c->sni : c->dns_seen ? c->dns_name : "");
	if (geo_enabled(c->policy->geo)) {
		memcpy(e.cc, c->geo.cc, sizeof(e.cc));
		e.asn = c->geo.asn;
	}
	window_add(sp->window, &e);
}

/* The connection's "tls" event, built only when there is a log to take it. */
static void
conn_event_write(struct sni_conn *c)
{
	struct conn_event ev = {
		.event = "tls",
		.client = (struct sockaddr *)&c->client.ss,
		.mac = c->has_mac ? c->mac : NULL,
		.vendor = c->has_mac ? oui_vendor(c->sp->shared.oui, c->mac) :
		    NULL,
		.dst = (struct sockaddr *)&c->dst.ss,
		.sni = c->sni[0] != '\0' ? c->sni : NULL,
		.ech = c->ech,
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
}

static void
conn_log(struct sni_conn *c)
{
	if (events_enabled())
		conn_event_write(c);
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
	if (c->client_ev != NULL)
		event_del(c->client_ev);
	if (c->server_ev != NULL)
		event_del(c->server_ev);
	event_del(c->timer);
	pipe_give(c->sp, c->up.pipe, c->up.pending == 0);
	pipe_give(c->sp, c->down.pipe, c->down.pending == 0);
	free(c->up.rest);
	free(c->down.rest);
	if (c->cfd != -1)
		close(c->cfd);
	if (c->sfd != -1)
		close(c->sfd);
	policy_unref(c->policy);
	free(c->partial);
	free(c->hello);
	free(c);
}

/*
 * The idle timer is armed once and, when it goes off, armed again for what
 * is left if there was activity meanwhile: cheaper than moving it on
 * every event.
 */
static void
conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sni_conn *c = arg;
	uint64_t idle;
	unsigned limit;

	(void)fd;
	(void)what;
	if (c->state == CONN_RELAY) {
		idle = loop_now_ms() - c->active_ms;
		limit = c->policy->conf->sni_idle_timeout_ms;
		if (idle < limit) {
			arm_timer(c, limit - (unsigned)idle);
			return;
		}
	}
	conn_close(c, c->state == CONN_HELLO ? "no ClientHello in time" :
	    c->state == CONN_CONNECTING ? "connect timed out" : "idle");
}

/* ---------------------------------------------------------- relay */

static struct relay *
other_relay(struct sni_conn *c, struct relay *r)
{
	return r == &c->up ? &c->down : &c->up;
}

/* Moves what is in r's pipe to its destination; false if c was closed. */
static bool
relay_drain(struct sni_conn *c, struct relay *r)
{
	ssize_t n;

	n = splice(r->pipe[0], NULL, r->to, NULL, r->pending,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (r->eof ? SPLICE_F_MORE : 0));
	if (n > 0) {
		r->pending -= (size_t)n;
		r->bytes += (uint64_t)n;
		/* Short only when the socket is full; its event comes. */
		r->writable = r->pending == 0;
		return true;
	}
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0 && errno != EAGAIN) {
		conn_close(c, strerror(errno));
		return false;
	}
	r->writable = false;
	return true;
}

/* Sends what is left of a copy; false if c was closed. */
static bool
relay_send_rest(struct sni_conn *c, struct relay *r)
{
	ssize_t n;

	n = send(r->to, r->rest + r->rest_off, r->rest_len - r->rest_off,
	    MSG_NOSIGNAL | MSG_DONTWAIT | (r->eof ? MSG_MORE : 0));
	if (n < 0) {
		if (errno == EAGAIN)
			r->writable = false;
		else if (errno != EINTR) {
			conn_close(c, strerror(errno));
			return false;
		}
		return true;
	}
	r->rest_off += (size_t)n;
	r->bytes += (uint64_t)n;
	if (r->rest_off < r->rest_len) {
		/* Short only when the socket is full; its event comes. */
		r->writable = false;
		return true;
	}
	free(r->rest);
	r->rest = NULL;
	return true;
}

/*
 * A read from r's source that gave no data (n is 0 or -1): the end of the
 * stream, nothing yet, or an error. False if c was closed.
 */
static bool
relay_read_ended(struct sni_conn *c, struct relay *r, ssize_t n)
{
	if (n == 0)
		r->eof = true;
	else if (errno == EAGAIN)
		r->readable = false;
	else if (errno != EINTR) {
		conn_close(c, strerror(errno));
		return false;
	}
	return true;
}

/*
 * A read through the shared buffer, sent on at once; what the destination
 * does not take waits in a buffer of its own. False if c was closed.
 */
static bool
relay_copy(struct sni_conn *c, struct relay *r)
{
	uint8_t *buf = c->sp->copy;
	ssize_t n, sent = 0;

	n = recv(r->from, buf, COPY_SIZE, 0);
	if (n <= 0)
		return relay_read_ended(c, r, n);
	if (n < COPY_SIZE) {
		/* Drained; after the FIN, nothing more will come. */
		r->readable = false;
		r->eof = r->fin_seen;
	} else
		r->splicing = true;
	if (r->writable) {
		/* With the end known, the FIN can go in the same segment. */
		sent = send(r->to, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT |
		    (r->eof ? MSG_MORE : 0));
		if (sent < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(c, strerror(errno));
			return false;
		}
		/* Short or EAGAIN only when the socket is full. */
		r->writable = sent == n || (sent < 0 && errno == EINTR);
		if (sent < 0)
			sent = 0;
		r->bytes += (uint64_t)sent;
	}
	if (sent == n)
		return true;
	r->rest_len = (size_t)(n - sent);
	r->rest_off = 0;
	r->rest = xmalloc(r->rest_len);
	memcpy(r->rest, buf + sent, r->rest_len);
	return true;
}

/* A read spliced into r's (empty) pipe. False if c was closed. */
static bool
relay_splice(struct sni_conn *c, struct relay *r)
{
	ssize_t n;

	if (r->pipe[0] == -1 && !pipe_take(c->sp, r->pipe)) {
		conn_close(c, "out of pipes");
		return false;
	}
	n = splice(r->from, NULL, r->pipe[1], NULL, PIPE_SIZE,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n <= 0)
		return relay_read_ended(c, r, n);
	r->pending = (size_t)n;
	return true;
}

/*
 * Moves what it can through one direction, until a system call says to
 * wait; the end passed on as a half-close, or left to the close when the
 * other direction has ended too. False if c was closed.
 */
static bool
relay_pump(struct sni_conn *c, struct relay *r)
{
	while (!r->done) {
		if (r->rest != NULL) {
			if (!r->writable)
				return true;
			if (!relay_send_rest(c, r))
				return false;
			continue;
		}
		if (r->pending > 0) {
			if (!r->writable)
				return true;
			if (!relay_drain(c, r))
				return false;
			continue;
		}
		if (r->eof) {
			r->done = true;
			if (!other_relay(c, r)->done)
				shutdown(r->to, SHUT_WR);
			return true;
		}
		if (!r->readable)
			return true;
		if (!(r->splicing ? relay_splice(c, r) : relay_copy(c, r)))
			return false;
	}
	return true;
}

static void
relay(struct sni_conn *c)
{
	if (!relay_pump(c, &c->up) || !relay_pump(c, &c->down))
		return;
	if (c->up.done && c->down.done)
		conn_close(c, NULL);
}

/* Everything is in place: the ClientHello is on its way, start relaying. */
static void
start_relay(struct sni_conn *c)
{
	c->state = CONN_RELAY;
	c->up.from = c->down.to = c->cfd;
	c->up.to = c->down.from = c->sfd;
	c->up.bytes = c->hello_len;
	watch(c, &c->client_ev, c->cfd);
	watch(c, &c->server_ev, c->sfd);
	c->active_ms = loop_now_ms();
	arm_timer(c, c->policy->conf->sni_idle_timeout_ms);
	relay(c);
}

/* ---------------------------------------------------------- connecting */

/*
 * Sends the ClientHello, first straight after connect(): over loopback or
 * a fast LAN the handshake is often done by then. A send on a socket still
 * connecting fails with EAGAIN, and one whose connect failed with the
 * connect's error, so no SO_ERROR is asked for.
 */
static void
send_hello(struct sni_conn *c, const uint8_t *hello)
{
	ssize_t n;

	while (c->hello_sent < c->hello_len) {
		n = send(c->sfd, hello + c->hello_sent, c->hello_len -
		    c->hello_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				conn_close(c, strerror(errno));
				return;
			}
			if (c->hello == NULL) {
				/* hello is borrowed: keep it till sent. */
				c->hello = xmalloc(c->hello_len);
				memcpy(c->hello, hello, c->hello_len);
				watch(c, &c->server_ev, c->sfd);
				arm_timer(c, CONNECT_TIMEOUT_MS);
			}
			c->up.writable = false;
			return;		/* the event comes back */
		}
		c->hello_sent += (size_t)n;
	}
	/* Sent: what was learnt from it is copied; spare idle connections. */
	free(c->hello);
	c->hello = NULL;
	start_relay(c);
}

/* Connects to the destination and passes hello (hello_len bytes) on. */
static void
connect_destination(struct sni_conn *c, const uint8_t *hello)
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
	send_hello(c, hello);
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

/*
 * Judges the ClientHello in hello (c->hello_len bytes), parsed into th.
 * The client is identified again: the neighbour table may have learnt it
 * since accept.
 */
static void
judge(struct sni_conn *c, const uint8_t *hello, const struct tlshello *th,
    enum tlshello_status status)
{
	struct client_ident ident;
	const char *sni = NULL;
	size_t sni_len = 0;

	ident.addr = (struct sockaddr *)&c->client.ss;
	neigh_identify(c->sp->shared.neigh, &ident);
	c->has_mac = ident.has_mac;
	if (ident.has_mac)
		memcpy(c->mac, ident.mac, sizeof(c->mac));
	c->ech = status == TLSHELLO_DONE && th->ech;
	if (status == TLSHELLO_DONE)
		sni = policy_hello_names(th, c->sni, &sni_len, c->alpn,
		    sizeof(c->alpn));
	look_up_seen(c);
	policy_sni(c->policy, &ident, sni, sni_len, c->ech,
	    (struct sockaddr *)&c->dst.ss, c->dns_seen, &c->geo, &c->verdict);
	if (c->verdict.action == POLICY_BLOCK && c->sp->shared.pause != NULL &&
	    pause_active(c->sp->shared.pause, c->verdict.group, time(NULL)))
		c->verdict.action = POLICY_LOG;
	free(c->partial);
	c->partial = NULL;
	if (c->verdict.action == POLICY_BLOCK)
		send_alert_and_close(c);
	else
		connect_destination(c, hello);
}

/*
 * Reads what has come of the ClientHello, after what came before, into
 * the shared buffer; judges it once whole (or once TLSHELLO_MAX bytes are
 * in), else keeps it, in a buffer of its size, and waits for more.
 */
static void
read_hello(struct sni_conn *c)
{
	uint8_t *buf = c->sp->copy;
	size_t room = TLSHELLO_MAX - c->hello_len;
	enum tlshello_status status;
	struct tlshello th;
	ssize_t n;

	if (c->partial != NULL)
		memcpy(buf, c->partial, c->hello_len);
	n = recv(c->cfd, buf + c->hello_len, room, MSG_DONTWAIT);
	if (n == 0) {
		conn_close(c, "client closed before its ClientHello");
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN)
			c->up.readable = false;
		else if (errno != EINTR)
			conn_close(c, strerror(errno));
		return;
	}
	c->hello_len += (size_t)n;
	status = tlshello_parse(buf, c->hello_len, &th);
	if (status != TLSHELLO_NEED_MORE || c->hello_len == TLSHELLO_MAX) {
		c->up.readable = (size_t)n == room;
		judge(c, buf, &th, status);
		return;
	}
	/* Drained: after the FIN nothing more will come. */
	c->up.readable = false;
	if (c->up.fin_seen) {
		conn_close(c, "client closed before its ClientHello");
		return;
	}
	c->partial = xreallocarray(c->partial, 1, c->hello_len);
	memcpy(c->partial, buf, c->hello_len);
}

/*
 * Every event of a connection's two sockets: noted in the relays, then
 * acted on as the connection's stage wants.
 */
static void
conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct sni_conn *c = arg;
	struct relay *in = fd == c->cfd ? &c->up : &c->down;

	if (what & EV_READ)
		in->readable = true;
	if (what & EV_CLOSED)
		in->fin_seen = true;
	if (what & EV_WRITE)
		other_relay(c, in)->writable = true;
	switch (c->state) {
	case CONN_HELLO:
		if (in == &c->up && in->readable)
			read_hello(c);
		break;
	case CONN_CONNECTING:
		if (in == &c->down && (what & EV_WRITE))
			send_hello(c, c->hello);
		break;
	case CONN_RELAY:
		c->active_ms = loop_now_ms();
		relay(c);
		break;
	}
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

static void
accept_conn(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct sni_listener *l = arg;
	struct sniproxy *sp = l->sp;
	const struct conf *conf = sp->loop.policy->conf;
	struct client_ident ident;
	struct sni_conn *c;

	(void)evl;
	if (sp->n_conns >= conf->sni_max_connections) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c) + EVENTS_PER_CONN * event_slot_size());
	c->sp = sp;
	c->cfd = fd;
	c->sfd = -1;
	c->up.pipe[0] = c->up.pipe[1] = -1;
	c->down.pipe[0] = c->down.pipe[1] = -1;
	c->up.writable = c->down.writable = true;
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	memcpy(&c->client.ss, sa, (size_t)salen);
	c->client.len = (socklen_t)salen;
	LIST_INSERT_HEAD(&sp->conns, c, entry);
	sp->n_conns++;
	c->timer = conn_event_slot(c, EVENT_TIMER);
	evtimer_assign(c->timer, sp->loop.base, conn_timeout, c);
	if ((c->counted = client_take(sp, sa, conf->sni_max_per_client)) ==
	    NULL) {
		conn_close(c, "too many connections from this client");
		return;
	}
	/* Who it is, for the event even if it ends before it is judged. */
	c->policy = policy_ref(sp->loop.policy);
	ident.addr = (struct sockaddr *)&c->client.ss;
	neigh_identify(sp->shared.neigh, &ident);
	c->has_mac = ident.has_mac;
	if (ident.has_mac)
		memcpy(c->mac, ident.mac, sizeof(c->mac));
	policy_client(c->policy, &ident, &c->verdict);
	if (l->forced)
		c->dst = l->to;
	else if (!original_destination(fd, sa, &c->dst) ||
	    is_own_listener(sp, &c->dst)) {
		c->dst.len = 0;		/* nothing to log: not redirected */
		conn_close(c, "no original destination");
		return;
	}
	/*
	 * The ClientHello is read when the socket says it has come: mostly
	 * at once, as the connection was held back until its first bytes.
	 */
	watch(c, &c->client_ev, fd);
	arm_timer(c, conf->sni_timeout_ms);
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
	/* A level-triggered writable event would fire on every pass. */
	if (!(event_base_get_features(sp->loop.base) & EV_FEATURE_ET))
		fatalx("sni-listen needs edge-triggered events (epoll)");
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
		/* Inherited by every accepted socket: a relay adds no delay. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		/*
		 * The client speaks first: a connection is taken once its
		 * first bytes have come (or, from a silent client, after a
		 * second), so accepting it and reading its ClientHello need
		 * one wake-up, not two.
		 */
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &on, sizeof(on));
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
