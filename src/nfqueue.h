/*
 * nfqueue.h: live verdicts on QUIC (HTTP/3) flows, "quic-queue N".
 *
 * nftables hands hushd the first packets of each new client flow to
 * udp/443 through NFQUEUE (conf/nftables-hushd.nft). hushd reads the
 * ClientHello inside the QUIC Initial packets, judges its SNI with the same
 * policy as TLS, and answers ACCEPT or DROP with a mark that nftables
 * copies to the connection (connmark), so the kernel accepts or drops the
 * rest of the flow by itself. The queue rule has "bypass": if hushd is not
 * running, traffic flows.
 *
 * The kernel glue is thin and optional (libnetfilter_queue); the decision
 * is quicjudge_datagram(), raw IP datagram in, verdict and event out,
 * which the tests drive directly.
 */
#ifndef HUSHD_NFQUEUE_H
#define HUSHD_NFQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend.h"
#include "policy.h"

/* Marks set on judged packets; nftables keeps them as the flow's ct mark. */
#define QUIC_MARK_PASS		0x00010000u
#define QUIC_MARK_BLOCK		0x00020000u
#define QUIC_MARK_MASK		0x00030000u

enum quicjudge_verdict {
	QUICJUDGE_PENDING,	/* accept, unmarked: the hello is not whole yet */
	QUICJUDGE_PASS,		/* accept, mark the flow passed */
	QUICJUDGE_BLOCK,	/* drop, mark the flow blocked */
};

struct quicjudge;

struct quicjudge *quicjudge_new(const struct frontend_shared *shared);
void quicjudge_free(struct quicjudge *j);

/*
 * Judges one IP datagram (IPv4 or IPv6, UDP) a client sent, at now_ms
 * (monotonic), with policy; writes the flow's "quic" event once it is
 * judged.
 */
enum quicjudge_verdict quicjudge_datagram(struct quicjudge *j,
    const struct policy *policy, const uint8_t *ip, size_t len,
    uint64_t now_ms);

uint32_t quicjudge_mark(enum quicjudge_verdict v);

/* The queue reader: NULL without quic-queue; fatal when it cannot bind. */
struct nfqueue;
struct nfqueue *nfqueue_new(struct policy *policy,
    const struct frontend_shared *shared);
struct loop *nfqueue_loop(struct nfqueue *q);
void nfqueue_free(struct nfqueue *q);

/* Whether this hushd was built with libnetfilter_queue. */
bool nfqueue_supported(void);

#endif
