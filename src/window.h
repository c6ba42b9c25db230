/*
 * window.h: the recent decisions, kept in memory for "hushctl top".
 *
 * Each thread that decides (workers, the TLS proxy) has its own ring of
 * the last WINDOW_ENTRIES decisions behind its own lock, which only the
 * rare reader contends for. A reader copies every ring and counts by
 * device, name, country or AS over the entries younger than the window.
 */
#ifndef HUSHD_WINDOW_H
#define HUSHD_WINDOW_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "seen.h"

#define WINDOW_ENTRIES	4096		/* per thread */
#define WINDOW_SECONDS	3600		/* entries older are not counted */

struct window_entry {
	uint32_t	t;		/* loop_now_seconds() */
	uint32_t	asn;		/* of the first answer address, or 0 */
	uint8_t		kind;		/* 0 dns, 1 tls */
	uint8_t		action;		/* enum policy_action */
	char		cc[3];		/* "" when unknown */
	char		client[40];	/* device name, or "": then addr */
	struct seen_addr addr;		/* formatted only when read */
	char		name[96];	/* qname or SNI, cut */
	char		group[24];
	bool		has_mac;
	uint8_t		mac[6];
};

struct window {
	pthread_mutex_t		lock;
	struct window_entry	ring[WINDOW_ENTRIES];
	size_t			next;
	size_t			count;
};

struct window *window_new(void);
void window_free(struct window *w);

/* Records one decision (the owning thread). */
void window_add(struct window *w, const struct window_entry *e);

/*
 * Fills who decided what in e: the client (its device's name, else its
 * address), the group, the MAC, the action; name is cut to fit.
 */
struct verdict;
struct client_ident;
void window_entry_fill(struct window_entry *e, const struct verdict *v,
    const struct client_ident *ident, const char *name);

enum window_key {
	WINDOW_DEVICES,
	WINDOW_NAMES,
	WINDOW_COUNTRIES,
	WINDOW_ASNS,
};

/*
 * Writes the top n keys over every window (blocked decisions only when
 * blocked) as a table, or a JSON array. now is loop_now_seconds().
 */
void window_top(struct window *const *w, size_t n_windows, enum window_key key,
    bool blocked, size_t n, uint32_t now, bool json, FILE *out);

/*
 * JSON for the web page: every device of the windows (count, blocked,
 * logged, group, MAC and its vendor, countries and ASNs reached, last
 * seen: seconds ago), most blocked first; and one device's latest limit
 * decisions, newest first. vendor_of may be NULL.
 */
typedef const char *(*window_vendor_fn)(void *arg, const uint8_t mac[6]);
void window_devices_json(struct window *const *w, size_t n_windows,
    uint32_t now, window_vendor_fn vendor_of, void *arg, FILE *out);
void window_recent_json(struct window *const *w, size_t n_windows,
    const char *device, size_t limit, uint32_t now, FILE *out);

#endif
