/*
 * judge.h: judging a ClientHello seen in passing (a capture, the kernel's
 * packet queue), where hushd is not the proxy: the verdict, and the event
 * that records it.
 */
#ifndef HUSHD_JUDGE_H
#define HUSHD_JUDGE_H

#include <stdint.h>
#include <sys/socket.h>

#include "policy.h"

struct oui;
struct seen;
struct tlshello;

/*
 * Judges the hello client sent to dst with policy: its SNI, and whether a
 * DNS answer gave client dst (seen, at now_s on seen's clock). Writes a
 * "tls" or "quic" event (kind) with version ("v1", "v2" or NULL). oui and
 * seen may be NULL. The verdict goes to out.
 */
void judge_hello(const struct policy *policy, const struct client_ident *client,
    const struct sockaddr *dst, const struct tlshello *hello,
    struct seen *seen, uint64_t now_s, struct oui *oui, const char *kind,
    const char *version, struct verdict *out);

#endif
