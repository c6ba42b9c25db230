/*
 * explain.h: why a name gets its verdict ("hushd --explain", "hushctl
 * check"): the verdict the policy gives a client, its group, and every
 * rule of every list that covers the name, with the file and line that
 * holds it, so the owner can fix the right file.
 */
#ifndef HUSHD_EXPLAIN_H
#define HUSHD_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"

/*
 * Judges name (any case, trailing dot allowed) for client and writes the
 * explanation to out, as text or as one JSON object. Returns false (and
 * writes why) when name is not a valid domain name. *action gets the
 * verdict.
 */
bool explain_name(const struct policy *policy,
    const struct client_ident *client, const char *name, bool json,
    FILE *out, enum policy_action *action);

/*
 * Reads a client given as an address or a MAC ("aa:bb:cc:dd:ee:ff") into
 * ident, with ss as the storage of its address (unspecified for a MAC).
 * NULL text: a client in no group. False when text is neither.
 */
bool explain_client(const char *text, struct sockaddr_storage *ss,
    struct client_ident *ident);

#endif
