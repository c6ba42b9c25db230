/*
 * policy.h: the immutable policy snapshot and the decisions made with it.
 *
 * A snapshot owns its configuration and every list loaded for it. It is
 * built whole, off the hot path, and only then published (hushd.c swaps
 * the pointer); readers never lock. Queries in flight keep a reference to
 * the snapshot they started with, so a reload never pulls state from under
 * them. References are counted atomically: worker threads share snapshots.
 */
#ifndef HUSHD_POLICY_H
#define HUSHD_POLICY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "dnsmsg.h"
#include "geo.h"
#include "lists.h"

enum policy_action {
	POLICY_PASS,
	POLICY_LOG,
	POLICY_BLOCK,
};

enum policy_reason {
	POLICY_REASON_NONE,
	POLICY_REASON_LIST,
	POLICY_REASON_CNAME,
	POLICY_REASON_COUNTRY,
	POLICY_REASON_ASN,
	POLICY_REASON_NO_SNI,
	POLICY_REASON_UNRESOLVED_IP,
	POLICY_REASON_ACL,
	POLICY_REASON_RATE_LIMIT,
	POLICY_REASON_CANARY,	/* use-application-dns.net */
};

/*
 * Browsers that would send their queries to a DoH provider first ask for
 * this name; an NXDOMAIN answer tells them the network wants its own
 * resolver used (Mozilla's "canary domain"). doh-canary decides.
 */
#define DOH_CANARY	"use-application-dns.net"

struct policy_group {
	const char		 *name;
	const struct conf_group	 *conf;		/* NULL: the implicit default */
	struct list		**block;
	size_t			  n_block;
	struct list		**log;
	size_t			  n_log;
};

struct policy {
	struct conf		 *conf;
	struct list		**lists;	/* parallel to conf->lists */
	struct list		 *allowlist;	/* may be NULL */
	struct policy_group	 *groups;	/* conf->groups, then default */
	size_t			  n_groups;
	struct policy_group	 *default_group;
	struct geo		 *geo;		/* may hold no database */
	atomic_uint		  refs;		/* workers and queries in flight */
};

/*
 * Who asks: the address, and what the kernel's neighbour table says of it
 * (its MAC, and the other addresses the same MAC uses: a phone's IPv4
 * address and its rotating IPv6 ones are one device).
 */
#define POLICY_MAX_SIBLINGS	8

struct client_ident {
	const struct sockaddr	*addr;
	bool			 has_mac;
	uint8_t			 mac[CONF_MAC_LEN];
	size_t			 n_siblings;
	struct sockaddr_storage	 siblings[POLICY_MAX_SIBLINGS];
};

struct verdict {
	enum policy_action	 action;
	enum policy_reason	 reason;
	const struct policy_group *rules;	/* the client's group */
	const char		*group;
	const char		*device;	/* NULL when the client has none */
	const char		*list;		/* matching list, or NULL */
	bool			 allowlisted;
	uint32_t		 line;		/* of the rule in its list */
	char			 rule[LIST_NAME_MAX + 3];	/* "*." + name */
};

/*
 * Builds a snapshot from conf, taking ownership of it, and loads every
 * list and geolocation database. Malformed list lines and geo warnings
 * (a missing database, an old one) go to warn. A list that cannot be read
 * or a corrupt database fails the build: NULL, with "file:line: list NAME:
 * path: reason" (or "path: reason") in err, and conf freed.
 */
struct policy *policy_build(struct conf *conf, list_warn_fn warn,
    void *warn_arg, char *err, size_t errlen);

struct policy *policy_ref(struct policy *policy);
void policy_unref(struct policy *policy);

/*
 * Fills group and device of the verdict for client; action PASS. A device
 * named by MAC wins, then one whose prefix holds the address, then one
 * holding an address with the same MAC. The group is the device's, else
 * the one whose clients hold the address (or a sibling), else default.
 */
void policy_client(const struct policy *policy,
    const struct client_ident *client, struct verdict *out);

/*
 * Judges qname (normalised: lowercase, no trailing dot) for client: the
 * allowlist wins, then the group's block lists, then its log lists.
 */
void policy_query(const struct policy *policy,
    const struct client_ident *client, const char *qname, size_t len,
    struct verdict *out);

/*
 * Judges an upstream answer to a query already judged into v (pass or
 * log): a name of its CNAME chain on the group's lists (reason "cname"),
 * an address in a country or AS the group blocks or logs. Fills geo[i]
 * for each reply->addrs[i] when a database is open (geo may be NULL).
 * Allowlisted names are not judged again.
 */
void policy_answer(const struct policy *policy, const struct dnsreply *reply,
    struct geo_info *geo, struct verdict *v);

/*
 * Judges a TLS (or QUIC) connection of client to dst: its SNI (normalised,
 * or NULL when it sent none) against the allowlist and the group's lists,
 * the group's sni-missing rule when there is no SNI or only an ECH outer
 * one (ech), the country and AS of dst, and the unresolved-ip rule when
 * no DNS answer gave this client dst (dns_seen false). geo may be NULL.
 */
void policy_sni(const struct policy *policy,
    const struct client_ident *client, const char *sni, size_t len,
    bool ech, const struct sockaddr *dst, bool dns_seen,
    struct geo_info *geo, struct verdict *out);

/*
 * The names a parsed ClientHello offers: its SNI as sent into sni (cut to
 * LIST_NAME_MAX; NUL-terminated, "" without one) and the first ALPN
 * protocol into alpn (alpn_len bytes). Returns the SNI normalised (in sni,
 * *sni_len bytes) when it is a valid host name, else NULL: the judge then
 * treats the connection as one without SNI.
 */
struct tlshello;
const char *policy_hello_names(const struct tlshello *th,
    char sni[LIST_NAME_MAX + 1], size_t *sni_len, char *alpn,
    size_t alpn_len);

const char *policy_action_name(enum policy_action action);
/* NULL for POLICY_REASON_NONE. */
const char *policy_reason_name(enum policy_reason reason);

#endif
