/*
 * neigh.h: who a client is, from the kernel's neighbour table: the MAC
 * address behind an IP address, and the other addresses using the same
 * MAC (a phone's IPv4 address and its rotating IPv6 privacy addresses are
 * one device). Also the vendor of a MAC, from the IEEE OUI registry.
 *
 * The table is read with rtnetlink (RTM_GETNEIGH) by neigh_refresh(),
 * which the main thread calls every few seconds; workers look addresses
 * up concurrently under a read lock. Linux only; elsewhere the table stays
 * empty and clients are known by address alone.
 */
#ifndef HUSHD_NEIGH_H
#define HUSHD_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "policy.h"

#define NEIGH_VENDOR_MAX	96

struct neigh;
struct oui;

struct neigh *neigh_new(void);
void neigh_free(struct neigh *neigh);

/*
 * Re-reads the kernel's table. Returns false with err set when it cannot
 * (the previous contents stay).
 */
bool neigh_refresh(struct neigh *neigh, char *err, size_t errlen);

/*
 * Replaces the table with entries from text, one "ADDRESS MAC" per line
 * (blank lines and # comments ignored). For tests and for systems whose
 * table hushd cannot read. Returns false and sets err on a bad line.
 */
bool neigh_load_text(struct neigh *neigh, const char *text, char *err,
    size_t errlen);

/* Fills out->has_mac, out->mac and out->siblings for out->addr. */
void neigh_identify(struct neigh *neigh, struct client_ident *out);

size_t neigh_count(struct neigh *neigh);

/*
 * The IEEE registry (oui.txt of Debian's ieee-data); NULL when the file
 * cannot be read. It is read on the first oui_vendor() call. Lines other
 * than "XX-XX-XX   (hex)   Vendor" are ignored.
 */
struct oui *oui_load(const char *path);
void oui_free(struct oui *oui);
/* The vendor of mac, or NULL. oui may be NULL. Safe from any thread. */
const char *oui_vendor(struct oui *oui, const uint8_t mac[6]);

#endif
