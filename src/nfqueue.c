/*
 * nfqueue.c: QUIC verdicts from the kernel's packet queue (see nfqueue.h).
 *
 * A flow is judged once: when its ClientHello is whole (one Initial, or
 * two for a large hello), or at once under "quic block". A datagram that
 * is not a client Initial hushd can read (a flow that started before
 * hushd, an unknown QUIC version, garbage) follows "quic-unknown". Until
 * then packets are accepted unmarked, so the kernel queues the flow's next
 * packet too. The queue is read by a thread of its own, with its own
 * event loop following the policy snapshots, like the TLS proxy.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_NFQUEUE
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#endif

#include "events.h"
#include "judge.h"
#include "log.h"
#include "loop.h"
#include "neigh.h"
#include "nfqueue.h"
#include "packet.h"
#include "quic.h"

#define QUIC_CONNS	4096	/* flows with a ClientHello in progress */

struct quicjudge {
	struct frontend_shared	 shared;
	struct quic_table	*quic;
};

struct quicjudge *
quicjudge_new(const struct frontend_shared *shared)
{
	struct quicjudge *j = xcalloc(1, sizeof(*j));

	j->shared = *shared;
	j->quic = quic_table_new(QUIC_CONNS);
	return j;
}

void
quicjudge_free(struct quicjudge *j)
{
	if (j == NULL)
		return;
	quic_table_free(j->quic);
	free(j);
}

uint32_t
quicjudge_mark(enum quicjudge_verdict v)
{
	return v == QUICJUDGE_PASS ? QUIC_MARK_PASS :
	    v == QUICJUDGE_BLOCK ? QUIC_MARK_BLOCK : 0;
}

/* The event of a flow judged without a ClientHello. */
static void
unread_event(const struct policy *p, const struct client_ident *client,
    const struct sockaddr *dst, enum policy_action action, const char *why)
{
	struct verdict v;

	policy_client(p, client, &v);
	v.action = action;
	struct conn_event ev = {
		.event = "quic",
		.client = client->addr,
		.mac = client->has_mac ? client->mac : NULL,
		.dst = dst,
		.verdict = &v,
		.error = why,
	};
	events_conn(&ev);
}

enum quicjudge_verdict
quicjudge_datagram(struct quicjudge *j, const struct policy *p,
    const uint8_t *ip, size_t len, uint64_t now_ms)
{
	struct client_ident client = { 0 };
	struct quic_hello qh;
	struct verdict v;
	struct packet pk;
	const char *why = NULL;
	enum quic_status st;
	bool unknown_block = p->conf->quic_unknown_block;

	if (packet_parse_ip(ip, len, &pk) != PACKET_OK ||
	    pk.proto != IPPROTO_UDP)
		return QUICJUDGE_PENDING;	/* not ours to judge */
	client.addr = (const struct sockaddr *)&pk.src;
	neigh_identify(j->shared.neigh, &client);
	if (p->conf->quic_block) {
		unread_event(p, &client, (const struct sockaddr *)&pk.dst,
		    POLICY_BLOCK, "quic block: QUIC is dropped, clients fall "
		    "back to TLS over TCP");
		return QUICJUDGE_BLOCK;
	}
	st = quic_datagram(j->quic, (const struct sockaddr *)&pk.src,
	    (const struct sockaddr *)&pk.dst, pk.payload, pk.payload_len,
	    now_ms, &qh, &why);
	switch (st) {
	case QUIC_NEED_MORE:
		return QUICJUDGE_PENDING;
	case QUIC_DONE:
		judge_hello(p, &client, (const struct sockaddr *)&pk.dst,
		    &qh.hello, j->shared.seen, now_ms / 1000, j->shared.oui,
		    "quic", quic_version_name(qh.version), &v);
		return v.action == POLICY_BLOCK ? QUICJUDGE_BLOCK :
		    QUICJUDGE_PASS;
	case QUIC_NOT_INITIAL:
		why = "not a QUIC Initial hushd can read";
		break;
	case QUIC_ERROR:
		break;
	}
	unread_event(p, &client, (const struct sockaddr *)&pk.dst,
	    unknown_block ? POLICY_BLOCK : POLICY_LOG, why);
	return unknown_block ? QUICJUDGE_BLOCK : QUICJUDGE_PASS;
}

/* ------------------------------------------------------------ the queue */

#ifdef HAVE_NFQUEUE

struct nfqueue {
	struct loop		 loop;
	struct quicjudge	*judge;
	struct nfq_handle	*h;
	struct nfq_q_handle	*qh;
	struct event		*readable;
	uint8_t			 buf[65536 + 4096];
};

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
    struct nfq_data *nfa, void *arg)
{
	struct nfqueue *q = arg;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	unsigned char *payload;
	struct timespec now;
	enum quicjudge_verdict v = QUICJUDGE_PENDING;
	int len;

	(void)msg;
	if (ph == NULL)
		return 0;
	len = nfq_get_payload(nfa, &payload);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (len > 0)
		v = quicjudge_datagram(q->judge, q->loop.policy, payload,
		    (size_t)len, (uint64_t)now.tv_sec * 1000 +
		    (uint64_t)now.tv_nsec / 1000000);
	/*
	 * A judged packet goes through the hook again with its mark, so that
	 * the ruleset copies the mark to the connection and accepts or drops
	 * it (and every later packet of the flow) by that mark.
	 */
	if (v == QUICJUDGE_PENDING)
		return nfq_set_verdict(qh, ntohl(ph->packet_id), NF_ACCEPT, 0,
		    NULL);
	return nfq_set_verdict2(qh, ntohl(ph->packet_id), NF_REPEAT,
	    quicjudge_mark(v), 0, NULL);
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct nfqueue *q = arg;

	(void)what;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, q->buf, sizeof(q->buf), MSG_DONTWAIT);
		if (n <= 0) {
			if (n == -1 && errno == ENOBUFS)
				log_warnx("quic-queue: the kernel dropped queued "
				    "packets (hushd too slow); they were "
				    "accepted (bypass)");
			return;
		}
		nfq_handle_packet(q->h, (char *)q->buf, (int)n);
	}
}

struct nfqueue *
nfqueue_new(struct policy *policy, const struct frontend_shared *shared)
{
	int num = policy->conf->quic_queue;
	struct nfqueue *q;

	if (num < 0)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	loop_init(&q->loop, policy, NULL, NULL);
	q->judge = quicjudge_new(shared);
	if ((q->h = nfq_open()) == NULL)
		fatal("quic-queue %d: opening the netfilter queue", num);
	if ((q->qh = nfq_create_queue(q->h, (uint16_t)num, on_packet, q)) ==
	    NULL)
		fatal("quic-queue %d: binding the queue (another program on "
		    "it? not root?)", num);
	if (nfq_set_mode(q->qh, NFQNL_COPY_PACKET, 0xffff) < 0)
		fatal("quic-queue %d: setting copy mode", num);
	nfq_set_queue_maxlen(q->qh, 4096);
	q->readable = event_new(q->loop.base, nfq_fd(q->h),
	    EV_READ | EV_PERSIST, on_readable, q);
	event_add(q->readable, NULL);
	log_info("quic-queue %d: judging QUIC flows", num);
	return q;
}

void
nfqueue_free(struct nfqueue *q)
{
	if (q == NULL)
		return;
	event_free(q->readable);
	nfq_destroy_queue(q->qh);
	nfq_close(q->h);
	quicjudge_free(q->judge);
	loop_destroy(&q->loop);
	free(q);
}

bool
nfqueue_supported(void)
{
	return true;
}

#else	/* !HAVE_NFQUEUE */

struct nfqueue {
	struct loop	loop;
};

struct nfqueue *
nfqueue_new(struct policy *policy, const struct frontend_shared *shared)
{
	(void)shared;
	if (policy->conf->quic_queue >= 0)
		fatalx("quic-queue: this hushd was built without "
		    "libnetfilter_queue (install libnetfilter-queue-dev and "
		    "build again)");
	return NULL;
}

void
nfqueue_free(struct nfqueue *q)
{
	(void)q;
}

bool
nfqueue_supported(void)
{
	return false;
}

#endif

struct loop *
nfqueue_loop(struct nfqueue *q)
{
	return &q->loop;
}
