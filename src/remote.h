/*
 * remote.h: remote lists, "list NAME https://… [refresh DUR]".
 *
 * Each is downloaded over HTTPS (certificate and host name verified) into
 * state-dir, so a restart without network still has the last good copy;
 * policy.c loads that copy like any list file. Downloads are conditional
 * (ETag, Last-Modified), capped in size and time, and checked before they
 * replace the copy: a failed, truncated or garbled download keeps the last
 * good copy and is logged with the reason. Runs on the main thread's event
 * loop; when a copy changed, the changed callback asks for a reload.
 */
#ifndef HUSHD_REMOTE_H
#define HUSHD_REMOTE_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

struct event_base;
struct remote;

typedef void (*remote_changed_fn)(void *arg);

struct remote *remote_new(struct event_base *base, remote_changed_fn changed,
    void *arg);
void remote_free(struct remote *r);

/*
 * Follows the remote lists of conf: new ones are scheduled (at once when
 * there is no copy or it is older than its refresh), changed ones start
 * over, dropped ones are cancelled. Unchanged lists keep their schedule.
 */
void remote_configure(struct remote *r, const struct conf *conf);

/* Starts a download of every remote list now; returns how many started. */
unsigned remote_update(struct remote *r);

/* One line per remote list: name, state, last check, last change, size. */
void remote_status(const struct remote *r, bool json, FILE *out);

/*
 * Checks a download before it replaces the last good copy: NULL when
 * it is a list, else why not. rules and skipped get its counts.
 */
const char *remote_check_body(const char *name, const char *body,
    size_t len, size_t *rules, size_t *skipped);

#endif
