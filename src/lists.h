/*
 * lists.h: block and allow list files → domainsets.
 *
 * One rule per line; the format is recognised per line, as Pi-hole and
 * AdGuard Home lists are written:
 *   example.com                  the name and its subdomains
 *   0.0.0.0 a.com b.com          hosts file (also 127.0.0.1, ::, ::1, …)
 *   ||example.com^               adblock basic syntax
 *   *.example.com                subdomains only
 *   @@||example.com^             exception: not matched by this list
 *   # comment, ! comment         ignored, as are blank lines
 * Case is folded, a trailing dot ignored. Internationalised names must be
 * given in punycode (xn--…). Any other line is skipped with a warning
 * "file:line: why", and the rest of the file is loaded.
 */
#ifndef HUSHD_LISTS_H
#define HUSHD_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domainset.h"

#define LIST_NAME_MAX 253	/* longest normalised domain name, in bytes */

struct list {
	char			*name;		/* list name in the configuration */
	char			*path;		/* file it was read from */
	struct domainset	*rules;
	struct domainset	*exceptions;	/* @@ rules */
	size_t			 skipped;	/* lines skipped with a warning */
};

/* Receives one warning, already formatted as "file:line: message". */
typedef void (*list_warn_fn)(void *arg, const char *message);

/*
 * Parses a list held in memory (buf, len; need not be NUL-terminated).
 * path is used only in warnings. warn may be NULL. Never fails.
 */
struct list *list_parse(const char *name, const char *path, const char *buf,
    size_t len, list_warn_fn warn, void *warn_arg);

/*
 * Reads and parses the file at path. Returns NULL and writes
 * "path: reason" into err when the file cannot be read.
 */
struct list *list_load(const char *name, const char *path, list_warn_fn warn,
    void *warn_arg, char *err, size_t errlen);

void list_free(struct list *list);

/* Number of rules (exceptions included). */
size_t list_size(const struct list *list);

struct list_match {
	const char	*rule;		/* the matching entry's name */
	size_t		 rule_len;
	bool		 subdomains_only;	/* written "*.rule" */
	uint32_t	 line;
};

/*
 * True when qname (normalised) is covered by a rule of the list and by no
 * exception of the same list. An exception on the name or any parent wins
 * over every rule, as in AdGuard Home.
 */
bool list_match(const struct list *list, const char *qname, size_t len,
    struct list_match *out);

/* list_match() for a name prepared once for every list it meets. */
bool list_match_name(const struct list *list,
    struct domainset_name *qn, struct list_match *out);

/* One rule of a list that covers a name, for explaining a verdict. */
struct list_hit {
	struct list_match	 match;
	bool			 exception;	/* an @@ rule */
};

/*
 * Every rule and exception of the list covering qname, most specific
 * first; fills at most max hits and returns how many there are.
 */
size_t list_match_all(const struct list *list, const char *qname, size_t len,
    struct list_hit *hits, size_t max);

/*
 * Normalises a domain name: folds case, drops one trailing dot, checks
 * label syntax (1–63 bytes of a-z 0-9 - _, no leading or trailing hyphen
 * except in "_"-labels) and total length (≤ 253). Writes the result, NUL
 * terminated, to out (LIST_NAME_MAX + 1 bytes). Returns NULL on success or
 * a static string saying what is wrong.
 */
const char *list_normalize_name(const char *in, size_t len, char *out,
    size_t *out_len);

#endif
