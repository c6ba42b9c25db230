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
};

struct policy_group {
	const char	 *name;
	struct list	**block;
	size_t		  n_block;
	struct list	**log;
	size_t		  n_log;
};

struct policy {
	struct conf		 *conf;
	struct list		**lists;	/* parallel to conf->lists */
	struct list		 *allowlist;	/* may be NULL */
	struct policy_group	 *groups;	/* conf->groups, then default */
	size_t			  n_groups;
	struct policy_group	 *default_group;
	atomic_uint		  refs;		/* workers and queries in flight */
};

struct verdict {
	enum policy_action	 action;
	enum policy_reason	 reason;
	const char		*group;
	const char		*device;	/* NULL when the client has none */
	const char		*list;		/* matching list, or NULL */
	bool			 allowlisted;
	uint32_t		 line;		/* of the rule in its list */
	char			 rule[LIST_NAME_MAX + 3];	/* "*." + name */
};

/*
 * Builds a snapshot from conf, taking ownership of it, and loads every
 * list. Malformed list lines go to warn. A list that cannot be read fails
 * the build: NULL, with "file:line: list NAME: path: reason" in err, and
 * conf freed.
 */
struct policy *policy_build(struct conf *conf, list_warn_fn warn,
    void *warn_arg, char *err, size_t errlen);

struct policy *policy_ref(struct policy *policy);
void policy_unref(struct policy *policy);

/* Fills group and device of the verdict for client; action PASS. */
void policy_client(const struct policy *policy, const struct sockaddr *client,
    struct verdict *out);

/*
 * Judges qname (normalised: lowercase, no trailing dot) for client: the
 * allowlist wins, then the group's block lists, then its log lists.
 */
void policy_query(const struct policy *policy, const struct sockaddr *client,
    const char *qname, size_t len, struct verdict *out);

const char *policy_action_name(enum policy_action action);
/* NULL for POLICY_REASON_NONE. */
const char *policy_reason_name(enum policy_reason reason);

#endif
