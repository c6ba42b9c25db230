/*
 * frontend.h: the client-facing side: UDP and TCP listeners, the ACL, and
 * the life of one query from its arrival to its answer.
 */
#ifndef HUSHD_FRONTEND_H
#define HUSHD_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "cache.h"
#include "policy.h"

struct event_base;
struct listener;
struct query;
struct tcp_conn;

TAILQ_HEAD(query_list, query);
TAILQ_HEAD(tcp_conn_list, tcp_conn);

struct frontend_stats {
	uint64_t	queries;
	uint64_t	blocked;
	uint64_t	logged;
	uint64_t	refused_acl;
	uint64_t	malformed;	/* dropped or answered FORMERR/NOTIMP */
	uint64_t	servfail;
	uint64_t	tcp_rejected;	/* connections over tcp-max-connections */
};

struct server {
	struct event_base	*base;
	struct policy		*policy;	/* current snapshot */
	struct cache		*cache;
	struct listener		*listeners;
	unsigned		 tcp_connections;
	struct query_list	 pending;	/* waiting for an upstream */
	struct tcp_conn_list	 conns;
	struct frontend_stats	 stats;
};

/*
 * Binds UDP and TCP on every listen address of the policy's conf; fatal on
 * failure.
 */
void frontend_listen(struct server *srv);
/* Closes listeners and connections and drops queries still in flight. */
void frontend_close(struct server *srv);

#endif
