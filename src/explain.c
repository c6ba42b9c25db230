/*
 * explain.c: the verdict for a name and every rule behind it.
 *
 * The verdict comes from policy_query(), the function that judges real
 * queries, so the explanation can never disagree with what hushd does.
 * The rules are found by looking up every suffix of the name in every
 * list (and the allowlist); each is reported with what it does for the
 * client's group: block, log, or nothing (a list the group does not use),
 * and exceptions (@@ rules) as such.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "explain.h"
#include "json.h"

#define EXPLAIN_MAX_HITS	128	/* rules of one list for one name */

/* What a list does for the group. */
static const char *
list_role(const struct policy_group *g, const struct list *list)
{
	for (size_t i = 0; i < g->n_block; i++)
		if (g->block[i] == list)
			return "block";
	for (size_t i = 0; i < g->n_log; i++)
		if (g->log[i] == list)
			return "log";
	return "unused";
}

struct explain_out {
	FILE	*f;
	bool	 json;
	size_t	 rules;		/* written so far */
};

static void
write_hit(struct explain_out *o, const struct list *list, const char *role,
    const struct list_hit *h)
{
	char rule[LIST_NAME_MAX + 5];

	snprintf(rule, sizeof(rule), "%s%s%.*s", h->exception ? "@@" : "",
	    h->match.subdomains_only ? "*." : "", (int)h->match.rule_len,
	    h->match.rule);
	if (o->json) {
		fputs(o->rules++ ? "," : "", o->f);
		fputs("{\"list\":", o->f);
		json_fput_string(o->f, list->name);
		fputs(",\"role\":", o->f);
		json_fput_string(o->f, h->exception ? "exception" : role);
		fputs(",\"rule\":", o->f);
		json_fput_string(o->f, rule);
		fputs(",\"file\":", o->f);
		json_fput_string(o->f, list->path);
		fprintf(o->f, ",\"line\":%u}", h->match.line);
		return;
	}
	o->rules++;
	fprintf(o->f, "  %-9s %-20s %-30s %s:%u\n",
	    h->exception ? "exception" : role, list->name, rule, list->path,
	    h->match.line);
}

static void
write_list(struct explain_out *o, const struct list *list, const char *role,
    const char *qname, size_t len)
{
	struct list_hit hits[EXPLAIN_MAX_HITS];
	size_t n = list_match_all(list, qname, len, hits, EXPLAIN_MAX_HITS);

	for (size_t i = 0; i < n && i < EXPLAIN_MAX_HITS; i++)
		write_hit(o, list, role, &hits[i]);
}

static void
write_verdict(struct explain_out *o, const char *qname, const char *client,
    const struct verdict *v)
{
	const char *reason = policy_reason_name(v->reason);

	if (o->json) {
		fputs("{\"name\":", o->f);
		json_fput_string(o->f, qname);
		fputs(",\"client\":", o->f);
		json_fput_string(o->f, client);
		fputs(",\"device\":", o->f);
		json_fput_string(o->f, v->device);
		fputs(",\"group\":", o->f);
		json_fput_string(o->f, v->group);
		fputs(",\"action\":", o->f);
		json_fput_string(o->f, policy_action_name(v->action));
		fputs(",\"reason\":", o->f);
		json_fput_string(o->f, v->allowlisted ? "allowlist" : reason);
		fputs(",\"list\":", o->f);
		json_fput_string(o->f, v->list);
		fputs(",\"rule\":", o->f);
		json_fput_string(o->f, v->rule[0] ? v->rule : NULL);
		fputs(",\"rules\":[", o->f);
		return;
	}
	fprintf(o->f, "%s: %s\n", qname, policy_action_name(v->action));
	fprintf(o->f, "  client    %s%s%s, group %s\n", client,
	    v->device ? ", device " : "", v->device ? v->device : "",
	    v->group);
	if (v->allowlisted)
		fprintf(o->f, "  why       on the allowlist, which wins over "
		    "every list\n");
	else if (v->reason == POLICY_REASON_CANARY)
		fprintf(o->f, "  why       the browsers' DoH canary name, "
		    "answered NXDOMAIN (doh-canary)\n");
	else if (reason != NULL)
		fprintf(o->f, "  why       %s %s, rule %s\n", reason,
		    v->list ? v->list : "", v->rule);
	else
		fprintf(o->f, "  why       no list of group %s covers it "
		    "(answers may still be judged by country and AS)\n",
		    v->group);
}

bool
explain_name(const struct policy *p, const struct client_ident *client,
    const char *name, bool json, FILE *f, enum policy_action *action)
{
	char qname[LIST_NAME_MAX + 1], who[INET6_ADDRSTRLEN + 24];
	const char *err;
	struct explain_out o = { .f = f, .json = json };
	struct verdict v;
	size_t len;

	if ((err = list_normalize_name(name, strlen(name), qname, &len)) !=
	    NULL) {
		if (json) {
			fputs("{\"error\":", f);
			json_fput_string(f, err);
			fputs("}\n", f);
		} else
			fprintf(f, "%s: %s\n", name, err);
		return false;
	}
	if (client->addr->sa_family != AF_UNSPEC)
		addr_ntop(client->addr, who, sizeof(who));
	else if (client->has_mac)
		snprintf(who, sizeof(who), "%02x:%02x:%02x:%02x:%02x:%02x",
		    client->mac[0], client->mac[1], client->mac[2],
		    client->mac[3], client->mac[4], client->mac[5]);
	else
		snprintf(who, sizeof(who), "any");
	policy_query(p, client, qname, len, &v);
	*action = v.action;
	write_verdict(&o, qname, who, &v);
	if (!json)
		fprintf(f, "  rules covering the name:\n");
	if (p->allowlist != NULL)
		write_list(&o, p->allowlist, "allow", qname, len);
	for (size_t i = 0; i < p->conf->n_lists; i++)
		write_list(&o, p->lists[i], list_role(v.rules, p->lists[i]),
		    qname, len);
	if (json)
		fputs("]}\n", f);
	else if (o.rules == 0)
		fprintf(f, "  (none)\n");
	return true;
}

bool
explain_client(const char *text, struct sockaddr_storage *ss,
    struct client_ident *ident)
{
	struct addr a;

	memset(ss, 0, sizeof(*ss));
	memset(ident, 0, sizeof(*ident));
	ss->ss_family = AF_UNSPEC;
	ident->addr = (const struct sockaddr *)ss;
	if (text == NULL)
		return true;
	if (conf_parse_mac(text, ident->mac)) {
		ident->has_mac = true;
		return true;
	}
	if (addr_parse(text, 0, &a) != NULL)
		return false;
	memcpy(ss, &a.ss, a.len);
	return true;
}
