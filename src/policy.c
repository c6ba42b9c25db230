/*
 * policy.c: builds policy snapshots and judges names with them.
 *
 * Lookup cost is one hash probe per label of the name per list of the
 * client's group; with a dozen lists that is well under a microsecond.
 * Clients are matched against devices and groups linearly, which is fine
 * for the tens of entries a household has.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "tlshello.h"

static void
group_from_conf(struct policy *p, struct policy_group *g,
    const struct conf_group *cg)
{
	g->name = cg->name;
	g->conf = cg;
	g->n_block = cg->n_block;
	g->block = xcalloc(cg->n_block, sizeof(*g->block));
	for (size_t i = 0; i < cg->n_block; i++)
		g->block[i] = p->lists[cg->block[i]];
	g->n_log = cg->n_log;
	g->log = xcalloc(cg->n_log, sizeof(*g->log));
	for (size_t i = 0; i < cg->n_log; i++)
		g->log[i] = p->lists[cg->log[i]];
}

/* Removes list from the n entries of *lists; true if it was there. */
static bool
drop_list(struct list **lists, size_t *n, const struct list *list)
{
	for (size_t i = 0; i < *n; i++)
		if (lists[i] == list) {
			memmove(&lists[i], &lists[i + 1],
			    (*n - i - 1) * sizeof(*lists));
			(*n)--;
			return true;
		}
	return false;
}

/*
 * state-dir/overrides: "GROUP LIST block|log" lines the web page writes
 * when the owner switches a list for a group. They apply over the
 * configuration, so the switch survives reloads and restarts without
 * hushd rewriting hushd.conf. A line naming what does not exist warns.
 */
static void
apply_overrides(struct policy *p, list_warn_fn warn, void *warn_arg)
{
	char *path, line[512], msg[768], group[128], list[128], mode[16];
	unsigned number = 0;
	FILE *f;

	if (asprintf(&path, "%s/overrides", p->conf->state_dir) < 0)
		fatalx("out of memory");
	if ((f = fopen(path, "r")) == NULL) {
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct policy_group *g = NULL;
		long index;
		number++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (sscanf(line, "%127s %127s %15s", group, list, mode) != 3 ||
		    (strcmp(mode, "block") != 0 && strcmp(mode, "log") != 0)) {
			snprintf(msg, sizeof(msg), "%s:%u: expected GROUP LIST "
			    "block|log", path, number);
			goto warn;
		}
		for (size_t i = 0; i < p->n_groups; i++)
			if (strcmp(p->groups[i].name, group) == 0)
				g = &p->groups[i];
		if (g == NULL || (index = conf_find_list(p->conf, list)) < 0) {
			snprintf(msg, sizeof(msg), "%s:%u: no %s called '%s'",
			    path, number, g == NULL ? "group" : "list",
			    g == NULL ? group : list);
			goto warn;
		}
		struct list *l = p->lists[index];
		drop_list(g->block, &g->n_block, l);
		drop_list(g->log, &g->n_log, l);
		if (strcmp(mode, "block") == 0) {
			g->block = xreallocarray(g->block, g->n_block + 1,
			    sizeof(*g->block));
			g->block[g->n_block++] = l;
		} else {
			g->log = xreallocarray(g->log, g->n_log + 1,
			    sizeof(*g->log));
			g->log[g->n_log++] = l;
		}
		continue;
warn:
		if (warn != NULL)
			warn(warn_arg, msg);
	}
	fclose(f);
	free(path);
}

struct skipped_lines {
	size_t	count;
	char	first[512];
};

static void
count_skipped(void *arg, const char *message)
{
	struct skipped_lines *s = arg;

	if (s->count++ == 0)
		snprintf(s->first, sizeof(s->first), "%s", message);
}

struct policy *
policy_build(struct conf *conf, list_warn_fn warn, void *warn_arg, char *err,
    size_t errlen)
{
	struct policy *p = xcalloc(1, sizeof(*p));
	char lerr[512];

	p->conf = conf;
	atomic_init(&p->refs, 1);
	p->lists = xcalloc(conf->n_lists, sizeof(*p->lists));
	for (size_t i = 0; i < conf->n_lists; i++) {
		const struct conf_list *cl = &conf->lists[i];
		struct skipped_lines skipped = { 0 };
		/* Downloaded lists warn once, not once per line. */
		p->lists[i] = list_load(cl->name, cl->path, cl->url ?
		    count_skipped : warn, cl->url ? (void *)&skipped :
		    warn_arg, lerr, sizeof(lerr));
		if (skipped.count > 0 && warn != NULL) {
			char summary[sizeof(skipped.first) + 256];
			snprintf(summary, sizeof(summary), "%s:%u: list %s: "
			    "%zu lines skipped, the first: %s", conf->path,
			    cl->line, cl->name, skipped.count, skipped.first);
			warn(warn_arg, summary);
		}
		if (p->lists[i] == NULL && cl->url != NULL &&
		    access(cl->path, F_OK) == -1 && errno == ENOENT) {
			/* Not downloaded yet: empty until the first copy. */
			snprintf(lerr, sizeof(lerr), "%s:%u: list %s: no copy "
			    "of %s downloaded yet", conf->path, cl->line,
			    cl->name, cl->url);
			if (warn != NULL)
				warn(warn_arg, lerr);
			p->lists[i] = list_parse(cl->name, cl->path, "", 0,
			    NULL, NULL);
		}
		if (p->lists[i] == NULL) {
			snprintf(err, errlen, "%s:%u: list %s: %s", conf->path,
			    cl->line, cl->name, lerr);
			goto fail;
		}
	}
	if (conf->allowlist != NULL) {
		p->allowlist = list_load("allowlist", conf->allowlist, warn,
		    warn_arg, lerr, sizeof(lerr));
		if (p->allowlist == NULL) {
			snprintf(err, errlen, "%s: allowlist: %s", conf->path,
			    lerr);
			goto fail;
		}
	}

	char warnings[1024] = "";
	p->geo = geo_open(conf->geoip_country, conf->geoip_asn, time(NULL),
	    warnings, sizeof(warnings), lerr, sizeof(lerr));
	if (p->geo == NULL) {
		snprintf(err, errlen, "%s", lerr);
		goto fail;
	}
	for (char *line = strtok(warnings, "\n"); line != NULL && warn;
	    line = strtok(NULL, "\n"))
		warn(warn_arg, line);

	/* Configured groups, then the default group (configured or not). */
	p->groups = xcalloc(conf->n_groups + 1, sizeof(*p->groups));
	for (size_t i = 0; i < conf->n_groups; i++) {
		struct policy_group *g = &p->groups[p->n_groups++];
		group_from_conf(p, g, &conf->groups[i]);
		if (strcmp(g->name, "default") == 0)
			p->default_group = g;
	}
	if (p->default_group == NULL) {
		/* No "group default": every list blocks for everyone else. */
		struct policy_group *g = &p->groups[p->n_groups++];
		g->name = "default";
		g->n_block = conf->n_lists;
		g->block = xcalloc(conf->n_lists, sizeof(*g->block));
		memcpy(g->block, p->lists, conf->n_lists * sizeof(*g->block));
		g->log = xcalloc(0, sizeof(*g->log));
		p->default_group = g;
	}
	apply_overrides(p, warn, warn_arg);
	return p;
fail:
	policy_unref(p);
	return NULL;
}

struct policy *
policy_ref(struct policy *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void
policy_unref(struct policy *p)
{
	if (p == NULL ||
	    atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) > 1)
		return;
	for (size_t i = 0; i < p->n_groups; i++) {
		free(p->groups[i].block);
		free(p->groups[i].log);
	}
	free(p->groups);
	for (size_t i = 0; p->lists != NULL && i < p->conf->n_lists; i++)
		list_free(p->lists[i]);
	free(p->lists);
	list_free(p->allowlist);
	geo_close(p->geo);
	conf_free(p->conf);
	free(p);
}

static bool
ident_in(const struct cidr *cidr, const struct client_ident *client)
{
	if (cidr_contains(cidr, client->addr))
		return true;
	for (size_t i = 0; i < client->n_siblings; i++)
		if (cidr_contains(cidr,
		    (const struct sockaddr *)&client->siblings[i]))
			return true;
	return false;
}

/* The device of client, by MAC, own address, then sibling addresses. */
static long
client_device(const struct conf *c, const struct client_ident *client)
{
	long best = -1;

	for (size_t i = 0; client->has_mac && i < c->n_devices; i++)
		if (c->devices[i].by_mac && memcmp(c->devices[i].mac,
		    client->mac, CONF_MAC_LEN) == 0)
			return (long)i;
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct conf_device *d = &c->devices[i];
		if (!d->by_mac && cidr_contains(&d->cidr, client->addr) &&
		    (best < 0 || d->cidr.prefix > c->devices[best].cidr.prefix))
			best = (long)i;
	}
	if (best >= 0)
		return best;
	for (size_t i = 0; i < c->n_devices; i++)
		if (!c->devices[i].by_mac && ident_in(&c->devices[i].cidr,
		    client))
			return (long)i;
	return -1;
}

/* Fills the verdict's device and group; returns the group. */
static const struct policy_group *
client_group(const struct policy *p, const struct client_ident *client,
    struct verdict *out)
{
	const struct conf *c = p->conf;
	long device = client_device(c, client);

	memset(out, 0, sizeof(*out));
	out->action = POLICY_PASS;
	out->device = device >= 0 ? c->devices[device].name : NULL;
	out->rules = p->default_group;
	/* A group that names the device, then one holding an address. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t g = 0; g < c->n_groups; g++)
			for (size_t i = 0; i < c->groups[g].n_clients; i++) {
				const struct conf_client *cl =
				    &c->groups[g].clients[i];
				bool hit = pass == 0 ? device >= 0 &&
				    cl->device == device :
				    (cl->device < 0 ||
				    !c->devices[cl->device].by_mac) &&
				    ident_in(&cl->cidr, client);
				if (hit) {
					out->rules = &p->groups[g];
					goto found;
				}
			}
found:
	out->group = out->rules->name;
	return out->rules;
}

void
policy_client(const struct policy *p, const struct client_ident *client,
    struct verdict *out)
{
	client_group(p, client, out);
}

static bool
match_lists(struct list *const *lists, size_t n,
    struct domainset_name *qn, struct verdict *out)
{
	struct list_match m;

	for (size_t i = 0; i < n; i++) {
		if (!list_match_name(lists[i], qn, &m))
			continue;
		out->list = lists[i]->name;
		out->line = m.line;
		snprintf(out->rule, sizeof(out->rule), "%s%.*s",
		    m.subdomains_only ? "*." : "", (int)m.rule_len, m.rule);
		return true;
	}
	return false;
}

void
policy_query(const struct policy *p, const struct client_ident *client,
    const char *qname, size_t len, struct verdict *out)
{
	const struct policy_group *g = client_group(p, client, out);
	struct domainset_name qn;
	struct list_match m;

	/* Each suffix of the name is hashed once, for every list below. */
	domainset_name_prepare(&qn, qname, len);
	if (p->allowlist != NULL && list_match_name(p->allowlist, &qn, &m)) {
		out->allowlisted = true;
		return;
	}
	if (p->conf->doh_canary && len == sizeof(DOH_CANARY) - 1 &&
	    memcmp(qname, DOH_CANARY, len) == 0) {
		out->action = POLICY_BLOCK;
		out->reason = POLICY_REASON_CANARY;
		return;
	}
	if (match_lists(g->block, g->n_block, &qn, out)) {
		out->action = POLICY_BLOCK;
		out->reason = POLICY_REASON_LIST;
	} else if (match_lists(g->log, g->n_log, &qn, out)) {
		out->action = POLICY_LOG;
		out->reason = POLICY_REASON_LIST;
	}
}

static bool
has_country(char (*codes)[3], size_t n, const char *cc)
{
	for (size_t i = 0; i < n; i++)
		if (codes[i][0] == cc[0] && codes[i][1] == cc[1])
			return true;
	return false;
}

static bool
has_asn(const uint32_t *asns, size_t n, uint32_t asn)
{
	for (size_t i = 0; i < n; i++)
		if (asns[i] == asn)
			return true;
	return false;
}

/* Raises the verdict to action for reason; a block is never lowered. */
static void
escalate(struct verdict *v, enum policy_action action,
    enum policy_reason reason, const char *list, const char *rule)
{
	if (v->action >= action)
		return;
	v->action = action;
	v->reason = reason;
	v->list = list;
	v->line = 0;
	snprintf(v->rule, sizeof(v->rule), "%s", rule);
}

static enum policy_action
sni_rule_action(enum sni_rule rule)
{
	return rule == SNI_RULE_BLOCK ? POLICY_BLOCK :
	    rule == SNI_RULE_LOG ? POLICY_LOG : POLICY_PASS;
}

/* Country and AS rules of the group for one address. */
static void
judge_address(const struct policy *p, const struct conf_group *cg,
    int family, const uint8_t *bytes, struct geo_info *geo,
    struct verdict *v)
{
	char as[16];

	if (!geo_enabled(p->geo))
		return;
	geo_lookup_bytes(p->geo, family, bytes, geo);
	if (cg == NULL)
		return;
	snprintf(as, sizeof(as), "AS%u", geo->asn);
	if (geo->cc[0] != '\0' && has_country(cg->block_country,
	    cg->n_block_country, geo->cc))
		escalate(v, POLICY_BLOCK, POLICY_REASON_COUNTRY, NULL, geo->cc);
	else if (geo->asn != 0 && has_asn(cg->block_asn, cg->n_block_asn,
	    geo->asn))
		escalate(v, POLICY_BLOCK, POLICY_REASON_ASN, NULL, as);
	else if (geo->cc[0] != '\0' && has_country(cg->log_country,
	    cg->n_log_country, geo->cc))
		escalate(v, POLICY_LOG, POLICY_REASON_COUNTRY, NULL, geo->cc);
	else if (geo->asn != 0 && has_asn(cg->log_asn, cg->n_log_asn,
	    geo->asn))
		escalate(v, POLICY_LOG, POLICY_REASON_ASN, NULL, as);
}

void
policy_answer(const struct policy *p, const struct dnsreply *reply,
    struct geo_info *geo, struct verdict *v)
{
	const struct policy_group *g = v->rules;
	const struct conf_group *cg = g->conf;
	struct domainset_name qn;
	struct verdict found;

	if (v->allowlisted || v->action == POLICY_BLOCK)
		return;
	for (size_t i = 0; i < reply->n_cnames; i++) {
		domainset_name_prepare(&qn, reply->cnames[i],
		    strlen(reply->cnames[i]));
		if (match_lists(g->block, g->n_block, &qn, &found)) {
			escalate(v, POLICY_BLOCK, POLICY_REASON_CNAME,
			    found.list, found.rule);
			return;
		}
		if (match_lists(g->log, g->n_log, &qn, &found))
			escalate(v, POLICY_LOG, POLICY_REASON_CNAME,
			    found.list, found.rule);
	}
	if (geo == NULL || !geo_enabled(p->geo))
		return;
	for (size_t i = 0; i < reply->n_addrs; i++)
		judge_address(p, cg, reply->addrs[i].family,
		    reply->addrs[i].bytes, &geo[i], v);
}

void
policy_sni(const struct policy *p, const struct client_ident *client,
    const char *sni, size_t len, bool ech, const struct sockaddr *dst,
    bool dns_seen, struct geo_info *geo, struct verdict *v)
{
	struct geo_info unused;
	const struct conf_group *cg;
	int family;
	const uint8_t *bytes;

	if (sni != NULL)
		policy_query(p, client, sni, len, v);
	else
		client_group(p, client, v);
	if (v->allowlisted)
		return;
	cg = v->rules->conf;
	if ((sni == NULL || ech) && cg != NULL)
		escalate(v, sni_rule_action(cg->sni_missing),
		    POLICY_REASON_NO_SNI, NULL, "");
	if (dst->sa_family == AF_INET) {
		family = AF_INET;
		bytes = (const uint8_t *)&((const struct sockaddr_in *)dst)->sin_addr;
	} else {
		family = AF_INET6;
		bytes = ((const struct sockaddr_in6 *)dst)->sin6_addr.s6_addr;
	}
	judge_address(p, cg, family, bytes, geo ? geo : &unused, v);
	if (!dns_seen && cg != NULL)
		escalate(v, sni_rule_action(cg->unresolved_ip),
		    POLICY_REASON_UNRESOLVED_IP, NULL, "");
}

const char *
policy_action_name(enum policy_action action)
{
	switch (action) {
	case POLICY_PASS:
		return "pass";
	case POLICY_LOG:
		return "log";
	case POLICY_BLOCK:
		return "block";
	}
	return "?";
}

const char *
policy_reason_name(enum policy_reason reason)
{
	static const char *names[] = {
		[POLICY_REASON_NONE] = NULL,
		[POLICY_REASON_LIST] = "list",
		[POLICY_REASON_CNAME] = "cname",
		[POLICY_REASON_COUNTRY] = "country",
		[POLICY_REASON_ASN] = "asn",
		[POLICY_REASON_NO_SNI] = "no-sni",
		[POLICY_REASON_UNRESOLVED_IP] = "unresolved-ip",
		[POLICY_REASON_ACL] = "acl",
		[POLICY_REASON_RATE_LIMIT] = "rate-limit",
		[POLICY_REASON_CANARY] = "canary",
	};

	if ((size_t)reason >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[reason];
}

const char *
policy_hello_names(const struct tlshello *th, char sni[LIST_NAME_MAX + 1],
    size_t *sni_len, char *alpn, size_t alpn_len)
{
	char raw[LIST_NAME_MAX + 1];
	const char *out = NULL;
	size_t n;

	sni[0] = '\0';
	*sni_len = 0;
	if (alpn_len > 0)
		alpn[0] = '\0';
	if (th->has_sni) {
		n = th->sni.len < LIST_NAME_MAX ? th->sni.len : LIST_NAME_MAX;
		memcpy(raw, th->sni.ptr, n);
		raw[n] = '\0';
		if (th->sni_valid && list_normalize_name(raw, n, sni,
		    sni_len) == NULL)
			out = sni;
		else
			memcpy(sni, raw, n + 1);
	}
	if (th->n_alpn > 0 && alpn_len > 0) {
		n = th->alpn[0].len < alpn_len - 1 ? th->alpn[0].len :
		    alpn_len - 1;
		memcpy(alpn, th->alpn[0].ptr, n);
		alpn[n] = '\0';
	}
	return out;
}
