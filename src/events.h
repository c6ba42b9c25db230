/*
 * events.h: the event log, one JSON object per line (see DESIGN.md for the
 * fields). "-" writes to stdout. SIGUSR1 makes hushd reopen the file, for
 * log rotation. Lines are written whole and flushed, so `tail -f | jq`
 * sees each decision as it is made.
 */
#ifndef HUSHD_EVENTS_H
#define HUSHD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsmsg.h"
#include "policy.h"

struct dns_event {
	const struct sockaddr	*client;
	const uint8_t		*mac;		/* NULL: not known */
	const char		*vendor;	/* of the MAC, or NULL */
	const struct dnsq	*q;
	const struct verdict	*verdict;
	uint8_t			 rcode;
	const struct dnsreply	*reply;		/* NULL: none from upstream */
	const struct geo_info	*geo;		/* per reply->addrs[i], or NULL */
	const char		*upstream;	/* text, or NULL */
	bool			 cached;
	double			 ms;
};

/* One TLS (or QUIC) connection, at its close. */
struct conn_event {
	const char		*event;		/* "tls" or "quic" */
	const struct sockaddr	*client;
	const uint8_t		*mac;
	const char		*vendor;
	const struct sockaddr	*dst;
	const char		*sni;		/* NULL: none */
	bool			 ech;
	bool			 dns_seen;
	const char		*dns_name;	/* NULL: none */
	const struct geo_info	*geo;		/* of dst, or NULL */
	const struct verdict	*verdict;
	const char		*alpn;		/* first protocol offered, or NULL */
	const char		*version;	/* "v1", "v2" for QUIC, or NULL */
	uint64_t		 bytes_up;
	uint64_t		 bytes_down;
	double			 ms;		/* connection lifetime */
	const char		*error;		/* why it ended early, or NULL */
};

/* Opens path ("-" for stdout); NULL path closes. On error writes err. */
bool events_open(const char *path, char *err, size_t errlen);
/* Reopens the current file (after rotation); warns and keeps the old one on failure. */
void events_reopen(void);
void events_close(void);
bool events_enabled(void);
/* Frees the calling thread's line buffer; call before a thread ends. */
void events_thread_exit(void);

/*
 * Taps see every event line as written (for "hushctl tail"), called from
 * the writing thread with the event log's lock held: they must not block.
 * An arg identifies the tap for removal. At most EVENTS_MAX_TAPS.
 */
#define EVENTS_MAX_TAPS	16
typedef void (*events_tap_fn)(void *arg, const char *line, size_t len);
bool events_tap_add(events_tap_fn fn, void *arg);
void events_tap_remove(void *arg);

/*
 * Events of the calling thread carry ts instead of the clock's time (an
 * audited packet's); NULL returns to the clock. ts must stay valid.
 */
struct timespec;
void events_set_time(const struct timespec *ts);

/* Events that could not be written (disk full, unwritable file). */
uint64_t events_dropped_count(void);

/* An owner's action (from the web page): who, what, on what. */
void events_admin(const char *client, const char *action,
    const char *detail);

void events_dns(const struct dns_event *ev);
void events_conn(const struct conn_event *ev);

#endif
