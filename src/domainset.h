/*
 * domainset.h: a compact set of domain names with suffix matching.
 *
 * Names are kept in one string arena and indexed by an open-addressing hash
 * table, so a million names cost little more than their text. Names given
 * to this module are already normalised by the caller: lowercase ASCII,
 * labels separated by single dots, no trailing dot, at most 253 bytes.
 * The set does not log and does not validate beyond bounds.
 */
#ifndef HUSHD_DOMAINSET_H
#define HUSHD_DOMAINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum domainset_kind {
	DOMAINSET_NAME_AND_SUBDOMAINS = 0,	/* "example.com", "||example.com^" */
	DOMAINSET_SUBDOMAINS_ONLY = 1,		/* "*.example.com" */
};

struct domainset;

/* Labels in the longest name: 253 bytes of one-byte labels and dots. */
#define DOMAINSET_SUFFIX_MAX	127

/*
 * A query name made ready for matching: where each of its suffixes starts
 * and the hashes of those looked up so far. Prepared once per query, it
 * serves every set the name is matched against (all sets of a process
 * share the hash key), so no suffix is hashed twice.
 */
struct domainset_name {
	const char	*name;
	size_t		 len;
	size_t		 nsuffix;	/* 0 for a name no set can hold */
	uint8_t		 start[DOMAINSET_SUFFIX_MAX];	/* start[0] is 0 */
	uint64_t	 hashed[2];	/* bit i: hash[i] is known */
	uint64_t	 hash[DOMAINSET_SUFFIX_MAX];
};

struct domainset_match {
	const char		*name;	/* the entry, inside the set's arena */
	size_t			 len;
	enum domainset_kind	 kind;
	uint32_t		 line;	/* as given to domainset_add */
};

struct domainset *domainset_new(void);
void domainset_free(struct domainset *set);

/*
 * Adds name (len bytes, normalised). Returns true when the name was new.
 * A name added twice keeps its first line; if either addition covers the
 * name itself (DOMAINSET_NAME_AND_SUBDOMAINS), the entry covers it.
 */
bool domainset_add(struct domainset *set, const char *name, size_t len,
    enum domainset_kind kind, uint32_t line);

size_t domainset_count(const struct domainset *set);

/*
 * Finds the most specific entry covering qname (normalised, len bytes):
 * qname itself when its entry is DOMAINSET_NAME_AND_SUBDOMAINS, else the
 * nearest listed parent of either kind. Returns false when none covers it.
 */
bool domainset_match(const struct domainset *set, const char *qname,
    size_t len, struct domainset_match *out);

/* Prepares qname (normalised, len bytes) for domainset_match_name(). */
void domainset_name_prepare(struct domainset_name *qn, const char *qname,
    size_t len);

/* domainset_match() for a prepared name. */
bool domainset_match_name(const struct domainset *set,
    struct domainset_name *qn, struct domainset_match *out);

/*
 * Finds the entry for exactly name, of either kind (no suffix search).
 * For explaining matches, not for the hot path.
 */
bool domainset_get(const struct domainset *set, const char *name, size_t len,
    struct domainset_match *out);

#endif
