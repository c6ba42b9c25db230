/*
 * judge.c: a ClientHello's verdict and event, for the audit and the
 * QUIC packet queue.
 */
#include "config.h"

#include <string.h>

#include "events.h"
#include "judge.h"
#include "neigh.h"
#include "seen.h"
#include "tlshello.h"

void
judge_hello(const struct policy *p, const struct client_ident *client,
    const struct sockaddr *dst, const struct tlshello *th,
    struct seen *seen, uint64_t now_s, struct oui *oui, const char *kind,
    const char *version, struct verdict *v)
{
	struct seen_addr from, to;
	struct geo_info geo;
	char sni[LIST_NAME_MAX + 1], alpn[64], dns_name[SEEN_NAME_MAX];
	const char *name;
	size_t sni_len;
	bool dns_seen = false;

	name = policy_hello_names(th, sni, &sni_len, alpn, sizeof(alpn));
	if (seen != NULL) {
		seen_addr_from(client->addr, &from);
		seen_addr_from(dst, &to);
		dns_seen = seen_get(seen, &from, &to, now_s, dns_name);
		if (!dns_seen && client->has_mac) {
			seen_addr_mac(client->mac, &from);
			dns_seen = seen_get(seen, &from, &to, now_s, dns_name);
		}
	}
	memset(&geo, 0, sizeof(geo));
	policy_sni(p, client, name, sni_len, th->ech, dst, dns_seen, &geo, v);
	struct conn_event ev = {
		.event = kind,
		.client = client->addr,
		.mac = client->has_mac ? client->mac : NULL,
		.vendor = client->has_mac ? oui_vendor(oui, client->mac) : NULL,
		.dst = dst,
		.sni = sni[0] ? sni : NULL,
		.ech = th->ech,
		.dns_seen = dns_seen,
		.dns_name = dns_seen ? dns_name : NULL,
		.geo = geo_enabled(p->geo) ? &geo : NULL,
		.verdict = v,
		.alpn = alpn[0] ? alpn : NULL,
		.version = version,
	};
	events_conn(&ev);
}
