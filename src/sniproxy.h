/*
 * sniproxy.h: the transparent TCP/443 proxy. The router's nftables
 * redirects the LAN's HTTPS connections to a sni-listen address; hushd
 * reads the TLS ClientHello, judges its SNI and destination with the same
 * policy as DNS, and either refuses the connection with a TLS alert or
 * connects to where it was going and relays both directions untouched
 * (splice(2), zero copy). No TLS is terminated; no certificate is involved.
 *
 * It runs in a thread of its own with its own event loop, and takes new
 * policy snapshots as the DNS workers do.
 */
#ifndef HUSHD_SNIPROXY_H
#define HUSHD_SNIPROXY_H

#include "frontend.h"
#include "policy.h"

struct sniproxy;

/*
 * Binds every sni-listen address of the policy's configuration (fatal on
 * failure). Returns NULL when there is none.
 */
struct sniproxy *sniproxy_new(struct policy *policy,
    const struct frontend_shared *shared);
/* Its thread and event loop: loop_start(), loop_publish(), loop_stop(). */
struct loop *sniproxy_loop(struct sniproxy *sp);
/* Its counters (connections by group and action) and recent decisions. */
struct worker_stats *sniproxy_stats(struct sniproxy *sp);
struct window *sniproxy_window(struct sniproxy *sp);
/* Closes every connection (each gets its event) and frees the proxy. */
void sniproxy_free(struct sniproxy *sp);

#endif
