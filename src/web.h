/*
 * web.h: the dashboard on the LAN ("web-listen"): a page for phones and
 * desktops, and the JSON API under /api/ it uses (see hushd.conf(5)).
 *
 * Served by libevent's evhttp from the main thread, over HTTPS when
 * web-cert and web-key are set. Every page and call but the log-in needs a
 * session (a cookie set by logging in with web-password); every call that
 * changes something also needs the session's CSRF token in the
 * X-CSRF-Token header. Every action is written to the event log.
 */
#ifndef HUSHD_WEB_H
#define HUSHD_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct event_base;
struct window;
struct pause;
struct neigh;
struct oui;
struct web;

/* What the web page reads and does, provided by the daemon. */
struct web_ops {
	void		 (*view)(void *arg, struct metrics_view *out);
	bool		 (*reload)(void *arg, char *err, size_t errlen);
	unsigned	 (*update)(void *arg);
	void		  *arg;
	struct window	**windows;
	size_t		   n_windows;
	struct pause	  *pause;
	struct neigh	  *neigh;
	struct oui	  *oui;
	const char	  *root;	/* the page's static files */
};

/* Listens on conf's web-listen; NULL with err when it cannot. */
struct web *web_new(struct event_base *base, const struct conf *conf,
    const struct web_ops *ops, char *err, size_t errlen);
void web_free(struct web *w);

#endif
