/*
 * geo.h: where an address is, from MaxMind DB files (libmaxminddb):
 * the ISO country code (GeoLite2/GeoIP2 Country or City, DB-IP lite
 * country) and the autonomous system number and organisation (GeoLite2/
 * GeoIP2 ASN, DB-IP lite ASN).
 *
 * A struct geo holds both databases, opened with MMDB_MODE_MMAP and
 * checked whole before use (libmaxminddb 1.7 exports no verification, so
 * geo.c walks the tree and data itself), so a corrupt file is refused when
 * it is opened rather than misread later. Lookups are
 * read-only and safe from several threads at once. This module does not
 * log: problems come back as messages for the caller.
 */
#ifndef HUSHD_GEO_H
#define HUSHD_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define GEO_ORG_MAX	128

struct geo;

struct geo_info {
	char		cc[3];		/* "CN"; "" when unknown */
	uint32_t	asn;		/* 0 when unknown */
	char		org[GEO_ORG_MAX];	/* "" when unknown */
};

/*
 * Opens the databases; either path may be NULL. A file that does not exist
 * is not an error: it is left out and a message "FILE: not found, running
 * without country data" (or "ASN data") is appended to warnings. A file
 * that exists but is not a valid MaxMind DB (or fails verification) is an
 * error: NULL with "FILE: why" in err. A database built more than a year
 * before now adds "FILE: built on YYYY-MM-DD, more than a year ago" to
 * warnings. warnings may be NULL; messages are separated by newlines.
 */
struct geo *geo_open(const char *country_path, const char *asn_path,
    time_t now, char *warnings, size_t warnings_len, char *err,
    size_t errlen);

void geo_close(struct geo *geo);

/* Whether any database is open. */
bool geo_enabled(const struct geo *geo);

/*
 * Looks addr up (IPv4 or IPv6; IPv4-mapped IPv6 is looked up as IPv4).
 * Fields not found stay empty/0. Returns false only when nothing at all was
 * found.
 */
bool geo_lookup(const struct geo *geo, const struct sockaddr *addr,
    struct geo_info *out);

/* Same, from raw address bytes (family AF_INET: 4 bytes, AF_INET6: 16). */
bool geo_lookup_bytes(const struct geo *geo, int family, const uint8_t *bytes,
    struct geo_info *out);

/* Build time of each database (0 when not open), for reports. */
time_t geo_country_built(const struct geo *geo);
time_t geo_asn_built(const struct geo *geo);

#endif
