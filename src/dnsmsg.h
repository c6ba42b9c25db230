/*
 * dnsmsg.h: DNS wire helpers over ldns.
 *
 * Parses client queries and upstream replies (bounds-checked by ldns,
 * then checked again here for what hushd relies on), builds the answers
 * hushd synthesises (blocked names, errors), and fits replies to what a
 * client can take over UDP (RFC 1035 §4.2.1, RFC 6891 §6.2.5, §7).
 */
#ifndef HUSHD_DNSMSG_H
#define HUSHD_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define DNSMSG_MAX		65535
#define DNSMSG_NAME_MAX		1024	/* text form, with \DDD escapes */
#define DNSMSG_UDP_MAX		1232	/* largest UDP answer we send (DNS flag day 2020) */
#define DNSMSG_MAX_ADDRS	32
#define DNSMSG_MAX_CNAMES	16
#define DNSMSG_MAX_TTLS		256
#define DNSMSG_MAX_CACHE_TTL	86400

enum dnsmsg_status {
	DNSMSG_OK,
	DNSMSG_DROP,		/* not worth an answer: short, or QR set */
	DNSMSG_FORMERR,
	DNSMSG_NOTIMP,		/* opcode other than QUERY */
	DNSMSG_MISMATCH,	/* reply: ID or question differ from the query */
};

struct dnsq {
	uint16_t	id;
	uint16_t	qtype;
	uint16_t	qclass;
	bool		has_edns;
	bool		do_bit;
	uint16_t	udp_size;	/* client's, or 512 without EDNS */
	size_t		question_end;	/* offset of the first byte after the question */
	size_t		qname_len;
	/* lowercase, no trailing dot ("" for the root), \DDD escapes */
	char		qname[DNSMSG_NAME_MAX];
};

struct dnsaddr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		bytes[16];
};

struct dnsreply {
	uint8_t		rcode;
	bool		tc;
	bool		has_opt;
	uint32_t	cache_ttl;	/* 0: do not cache */
	uint32_t	min_ttl;	/* smallest TTL of any record but OPT */
	bool		uncacheable;	/* more TTLs than ttl_offsets holds */
	size_t		n_addrs;	/* A and AAAA of the answer section */
	struct dnsaddr	addrs[DNSMSG_MAX_ADDRS];
	size_t		n_cnames;	/* CNAME and DNAME targets, in order */
	char		cnames[DNSMSG_MAX_CNAMES][DNSMSG_NAME_MAX];
	size_t		n_ttl_offsets;	/* TTL fields, for cache aging */
	uint16_t	ttl_offsets[DNSMSG_MAX_TTLS];
};

/*
 * Parses a client's query. On DNSMSG_FORMERR and DNSMSG_NOTIMP, q->id is
 * valid and dnsmsg_error() can answer; on DNSMSG_DROP nothing should be
 * sent.
 */
enum dnsmsg_status dnsmsg_parse_query(const uint8_t *buf, size_t len,
    struct dnsq *q);

/*
 * Parses an upstream reply to q sent with id. DNSMSG_MISMATCH when the ID
 * or the question differs; DNSMSG_FORMERR when the reply is malformed.
 */
enum dnsmsg_status dnsmsg_parse_reply(const uint8_t *buf, size_t len,
    const struct dnsq *q, uint16_t id, struct dnsreply *out);

/* Sets the message ID of a message in place (len >= 2). */
void dnsmsg_set_id(uint8_t *buf, uint16_t id);

/*
 * Builds the answer for a blocked query (query_len bytes, parsed by
 * dnsmsg_parse_query into q) in out:
 * null mode answers A with 0.0.0.0 and AAAA with ::, other types with an
 * empty NOERROR; nxdomain and refused set that rcode. Returns its length
 * or 0 when out is too small.
 */
/* The rcode of a blocked answer in mode. */
uint8_t dnsmsg_block_rcode(enum block_mode mode);

size_t dnsmsg_blocked(const uint8_t *query, size_t query_len,
    const struct dnsq *q, enum block_mode mode,
    uint32_t ttl, uint8_t *out, size_t outlen);

/*
 * Builds an empty answer with rcode (FORMERR, SERVFAIL, REFUSED, NOTIMP...)
 * echoing the question of query (buf, len) when it can be parsed, else
 * only the header. Returns the length, 0 when buf is shorter than a header.
 */
size_t dnsmsg_error(const uint8_t *buf, size_t len, uint8_t rcode,
    uint8_t *out, size_t outlen);

/*
 * Makes the reply fit the client: removes an OPT the client did not ask
 * for (RFC 6891 §7), and over UDP truncates an answer larger than the
 * client's buffer (at most DNSMSG_UDP_MAX) to header, question and OPT
 * with TC set. Returns the new length (the reply may be rewritten in
 * place), or 0 if the reply cannot be parsed.
 */
size_t dnsmsg_fit(uint8_t *reply, size_t len, size_t cap, const struct dnsq *q,
    bool udp);

/*
 * Removes the "ech" SvcParam from the SVCB and HTTPS records of an answer
 * (rewritten in place; cap bytes of room), so that clients do not hide
 * the real server name behind Encrypted Client Hello. Returns the new
 * length; an answer with nothing to remove is left as it is.
 */
size_t dnsmsg_strip_ech(uint8_t *msg, size_t len, size_t cap);

/* Text forms for logs and events: "A", "TYPE65280"; "NOERROR", "RCODE12". */
const char *dnsmsg_type_name(uint16_t type, char *buf, size_t len);
const char *dnsmsg_rcode_name(uint8_t rcode, char *buf, size_t len);

#endif
