/*
 * audit.c: "hushd audit [-c FILE] [--json] [--html FILE] CAPTURE…".
 *
 * State is bounded whatever the capture holds: AUDIT_DNS_PENDING queries
 * waiting for their answer, AUDIT_FLOWS TCP connections whose ClientHello
 * is being put together (each buffer at most TLSHELLO_MAX bytes, freed
 * once the hello is judged), the oldest dropped first. A packet that
 * cannot be read (cut by the snaplen, a header that lies, an unknown link
 * type) is counted under its reason and skipped; the counts end the
 * report, so the owner knows what the audit could not see.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "audit.h"
#include "conf.h"
#include "dnsmsg.h"
#include "events.h"
#include "judge.h"
#include "log.h"
#include "neigh.h"
#include "packet.h"
#include "policy.h"
#include "quic.h"
#include "report.h"
#include "seen.h"
#include "tlshello.h"

#define SA(p)			((const struct sockaddr *)(p))
#define AUDIT_DNS_PENDING	4096
#define AUDIT_FLOWS		4096	/* a power of two */
#define AUDIT_FLOW_PROBES	8	/* slots a flow may take from its hash */
#define AUDIT_SEEN		65536
#define AUDIT_QUIC_CONNS	1024
#define OUI_REGISTRY		"/usr/share/ieee-data/oui.txt"

/* Why packets were skipped, for the report's last lines. */
enum skip_reason {
	SKIP_LINK,		/* link-layer header unreadable */
	SKIP_NOT_IP,
	SKIP_TRUNCATED,
	SKIP_MALFORMED,
	SKIP_FRAGMENT,
	SKIP_DNS,		/* UDP/53 that is not DNS */
	SKIP_TLS,		/* a ClientHello that does not parse */
	SKIP_QUIC,		/* QUIC Initials that could not be read */
	SKIP_REASONS,
};

static const char *skip_names[SKIP_REASONS] = {
	"unreadable link-layer header", "not IP", "cut short (snaplen)",
	"malformed IP/UDP/TCP header", "IP fragment", "malformed DNS",
	"malformed TLS ClientHello", "unreadable QUIC Initial",
};

struct pending_dns {
	bool			 used;
	uint64_t		 seq;		/* for oldest-first eviction */
	struct sockaddr_storage	 client;
	bool			 has_mac;
	uint8_t			 mac[6];
	struct timespec		 ts;
	struct dnsq		 q;
};

struct flow {
	bool			 used;
	uint64_t		 seq_used;
	struct sockaddr_storage	 src, dst;
	bool			 has_mac;
	uint8_t			 mac[6];
	bool			 have_next;
	uint32_t		 next;		/* next byte of the stream */
	uint8_t			*buf;		/* NULL until payload */
	size_t			 len;
	bool			 done;		/* judged, or not TLS */
};

struct audit {
	struct policy		*policy;
	struct oui		*oui;
	struct seen		*seen;
	struct quic_table	*quic;
	struct pending_dns	*pending;
	struct flow		*flows;
	uint64_t		 counter;
	uint64_t		 packets;
	uint64_t		 skipped[SKIP_REASONS];
	struct timespec		 ts;		/* of the packet being read */
	uint64_t		 first_s;	/* capture time, for seen.c */
	struct report		*report;
};

/* ------------------------------------------------------------ helpers */

/* Monotonic seconds for seen.c: capture time from its first packet. */
static uint64_t
capture_seconds(const struct audit *a)
{
	return (uint64_t)a->ts.tv_sec - a->first_s + 1;
}

static void
ident_of(struct client_ident *ident, const struct sockaddr_storage *addr,
    bool has_mac, const uint8_t *mac)
{
	memset(ident, 0, sizeof(*ident));
	ident->addr = SA(addr);
	ident->has_mac = has_mac;
	if (has_mac)
		memcpy(ident->mac, mac, 6);
}

/* ---------------------------------------------------------------- DNS */

static size_t
pending_slot(const struct sockaddr_storage *client, uint16_t id)
{
	struct seen_addr sa;
	uint32_t h = 2166136261u;

	seen_addr_from(SA(client), &sa);
	for (size_t i = 0; i < 16; i++)
		h = (h ^ sa.bytes[i]) * 16777619u;
	h = (h ^ addr_port(SA(client))) * 16777619u;
	h = (h ^ id) * 16777619u;
	return h % AUDIT_DNS_PENDING;
}

/* One DNS decision: the query, and the answer when there was one. */
static void
dns_event(struct audit *a, struct pending_dns *p, const struct dnsreply *r)
{
	struct client_ident ident;
	struct verdict v;
	struct geo_info geo[DNSMSG_MAX_ADDRS];
	uint8_t rcode = r ? r->rcode : 0;

	ident_of(&ident, &p->client, p->has_mac, p->mac);
	policy_query(a->policy, &ident, p->q.qname, p->q.qname_len, &v);
	memset(geo, 0, sizeof(geo));
	if (r != NULL && v.action != POLICY_BLOCK)
		policy_answer(a->policy, r, geo, &v);
	if (r != NULL) {
		struct seen_addr client, addr;
		seen_addr_from(SA(&p->client), &client);
		struct seen_addr device;
		if (p->has_mac)
			seen_addr_mac(p->mac, &device);
		for (size_t i = 0; i < r->n_addrs; i++) {
			addr.family = r->addrs[i].family;
			memcpy(addr.bytes, r->addrs[i].bytes, 16);
			seen_put(a->seen, &client, &addr, p->q.qname,
			    r->min_ttl, capture_seconds(a));
			if (p->has_mac)
				seen_put(a->seen, &device, &addr, p->q.qname,
				    r->min_ttl, capture_seconds(a));
		}
	}
	struct dns_event ev = {
		.client = SA(&p->client),
		.mac = p->has_mac ? p->mac : NULL,
		.vendor = p->has_mac ? oui_vendor(a->oui, p->mac) : NULL,
		.q = &p->q,
		.verdict = &v,
		.rcode = rcode,
		.reply = r,
		.geo = r != NULL && geo_enabled(a->policy->geo) ? geo : NULL,
		.ms = r ? (double)(a->ts.tv_sec - p->ts.tv_sec) * 1000 +
		    (double)(a->ts.tv_nsec - p->ts.tv_nsec) / 1e6 : 0,
	};
	events_set_time(&p->ts);
	events_dns(&ev);
	events_set_time(&a->ts);
	p->used = false;
}

static void
dns_packet(struct audit *a, const struct packet *pk, bool has_mac,
    const uint8_t *src_mac)
{
	struct dnsq q;
	struct dnsreply reply;
	struct pending_dns *p;
	enum dnsmsg_status st;

	if (pk->payload_len < 12) {
		a->skipped[SKIP_DNS]++;
		return;
	}
	if ((pk->payload[2] & 0x80) == 0) {		/* a query */
		if ((st = dnsmsg_parse_query(pk->payload, pk->payload_len,
		    &q)) != DNSMSG_OK) {
			a->skipped[SKIP_DNS]++;
			return;
		}
		p = &a->pending[pending_slot(&pk->src, q.id)];
		if (p->used)
			dns_event(a, p, NULL);	/* never answered */
		p->used = true;
		p->seq = a->counter++;
		memcpy(&p->client, &pk->src, sizeof(p->client));
		p->has_mac = has_mac;
		if (has_mac)
			memcpy(p->mac, src_mac, 6);
		p->ts = a->ts;
		p->q = q;
		return;
	}
	/* An answer: to the query from its destination with its ID. */
	uint16_t id = (uint16_t)(pk->payload[0] << 8 | pk->payload[1]);
	p = &a->pending[pending_slot(&pk->dst, id)];
	if (!p->used || !addr_equal(SA(&p->client), SA(&pk->dst)))
		return;		/* its query is not in the capture */
	st = dnsmsg_parse_reply(pk->payload, pk->payload_len, &p->q, id,
	    &reply);
	if (st != DNSMSG_OK) {
		a->skipped[SKIP_DNS]++;
		return;
	}
	dns_event(a, p, &reply);
}

/* ------------------------------------------------------------ TLS/QUIC */

static void
conn_event(struct audit *a, const char *kind,
    const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
    bool has_mac, const uint8_t *mac, const struct tlshello *th,
    const char *version)
{
	struct client_ident ident;
	struct verdict v;

	ident_of(&ident, src, has_mac, mac);
	judge_hello(a->policy, &ident, SA(dst), th,
	    a->seen, capture_seconds(a), a->oui, kind, version, &v);
}

/* FNV-1a over both endpoints: where a flow's probes start. */
static size_t
flow_hash(const struct packet *pk)
{
	struct seen_addr s, d;
	uint32_t h = 2166136261u;
	uint16_t ports[2] = { addr_port(SA(&pk->src)),
	    addr_port(SA(&pk->dst)) };

	seen_addr_from(SA(&pk->src), &s);
	seen_addr_from(SA(&pk->dst), &d);
	for (size_t i = 0; i < 16; i++)
		h = ((h ^ s.bytes[i]) * 16777619u ^ d.bytes[i]) * 16777619u;
	for (size_t i = 0; i < 2; i++)
		h = ((h ^ (ports[i] & 0xff)) * 16777619u ^ (ports[i] >> 8)) *
		    16777619u;
	return h & (AUDIT_FLOWS - 1);
}

/*
 * The flow of the packet's direction: found among the AUDIT_FLOW_PROBES
 * slots after its hash, or (create) put in a free one, else in the one
 * used least recently. Constant time whatever the capture holds.
 */
static struct flow *
flow_find(struct audit *a, const struct packet *pk, bool create)
{
	size_t start = flow_hash(pk);
	struct flow *oldest = NULL;

	for (size_t i = 0; i < AUDIT_FLOW_PROBES; i++) {
		struct flow *f = &a->flows[(start + i) & (AUDIT_FLOWS - 1)];
		if (f->used && addr_equal(SA(&f->src), SA(&pk->src)) &&
		    addr_equal(SA(&f->dst), SA(&pk->dst)))
			return f;
		if (oldest == NULL || (oldest->used && (!f->used ||
		    f->seq_used < oldest->seq_used)))
			oldest = f;
	}
	if (!create)
		return NULL;
	free(oldest->buf);
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = true;
	oldest->src = pk->src;
	oldest->dst = pk->dst;
	oldest->seq_used = a->counter++;
	return oldest;
}

static void
flow_end(struct flow *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
	f->done = true;
}

/* Adds a segment's bytes in stream order; out-of-order ones are lost. */
static void
tcp_packet(struct audit *a, const struct packet *pk, bool has_mac,
    const uint8_t *mac)
{
	struct flow *f;
	struct tlshello th;
	enum tlshello_status st;

	if (pk->tcp_flags & PACKET_TCP_SYN) {
		/* A new connection (perhaps on a port used before). */
		f = flow_find(a, pk, true);
		flow_end(f);
		f->seq_used = a->counter++;
		if (pk->tcp_flags & PACKET_TCP_ACK)
			return;		/* the server's side: never a hello */
		f->done = false;
		f->have_next = true;
		f->next = pk->seq + 1;
		f->has_mac = has_mac;
		if (has_mac)
			memcpy(f->mac, mac, 6);
		f->seq_used = a->counter++;
		return;
	}
	if (pk->payload_len == 0)
		return;
	if ((f = flow_find(a, pk, false)) == NULL) {
		/* The SYN is not in the capture: start at a hello's first byte. */
		if (pk->payload[0] != 0x16)
			return;
		f = flow_find(a, pk, true);
		f->have_next = true;
		f->next = pk->seq;
		f->has_mac = has_mac;
		if (has_mac)
			memcpy(f->mac, mac, 6);
	}
	f->seq_used = a->counter++;
	if (f->done || !f->have_next)
		return;
	uint32_t skip = f->next - pk->seq;	/* retransmitted bytes */
	if ((int32_t)skip < 0 || skip >= pk->payload_len)
		return;		/* a gap, or nothing new */
	size_t n = pk->payload_len - skip;
	if (f->buf == NULL)
		f->buf = xmalloc(TLSHELLO_MAX);
	if (n > TLSHELLO_MAX - f->len)
		n = TLSHELLO_MAX - f->len;
	memcpy(f->buf + f->len, pk->payload + skip, n);
	f->len += n;
	f->next += (uint32_t)n;
	st = tlshello_parse(f->buf, f->len, &th);
	if (st == TLSHELLO_NEED_MORE && f->len < TLSHELLO_MAX)
		return;
	if (st == TLSHELLO_DONE)
		conn_event(a, "tls", &f->src, &f->dst, f->has_mac, f->mac, &th,
		    NULL);
	else if (st != TLSHELLO_NOT_TLS)
		a->skipped[SKIP_TLS]++;
	flow_end(f);
}

static void
quic_packet(struct audit *a, const struct packet *pk, bool has_mac,
    const uint8_t *mac)
{
	struct quic_hello qh;
	const char *why = NULL;
	enum quic_status st = quic_datagram(a->quic,
	    SA(&pk->src), SA(&pk->dst),
	    pk->payload, pk->payload_len,
	    (uint64_t)a->ts.tv_sec * 1000 + (uint64_t)a->ts.tv_nsec / 1000000,
	    &qh, &why);

	if (st == QUIC_DONE)
		conn_event(a, "quic", &pk->src, &pk->dst, has_mac, mac,
		    &qh.hello, quic_version_name(qh.version));
	else if (st == QUIC_ERROR)
		a->skipped[SKIP_QUIC]++;
}

/* ------------------------------------------------------------ capture */

/* The IP datagram inside a frame of link type dlt; NULL if none. */
static const uint8_t *
link_payload(int dlt, const uint8_t *frame, size_t caplen, size_t *len,
    const uint8_t **src_mac, const uint8_t **dst_mac, bool *not_ip)
{
	size_t off;
	uint16_t type;

	*src_mac = *dst_mac = NULL;
	*not_ip = false;
	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return NULL;
		*dst_mac = frame;
		*src_mac = frame + 6;
		off = 12;
		type = (uint16_t)(frame[off] << 8 | frame[off + 1]);
		/* Up to two VLAN tags (802.1Q, 802.1ad). */
		for (int tags = 0; tags < 2 && (type == 0x8100 ||
		    type == 0x88a8); tags++) {
			off += 4;
			if (caplen < off + 2)
				return NULL;
			type = (uint16_t)(frame[off] << 8 | frame[off + 1]);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return NULL;
		type = (uint16_t)(frame[14] << 8 | frame[15]);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return NULL;
		type = (uint16_t)(frame[0] << 8 | frame[1]);
		off = 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*len = caplen;
		return frame;
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen < 4)
			return NULL;
		*len = caplen - 4;
		return frame + 4;
	default:
		return NULL;
	}
	if (type != 0x0800 && type != 0x86dd) {
		*not_ip = true;
		return NULL;
	}
	*len = caplen - off;
	return frame + off;
}

static void
audit_packet(struct audit *a, int dlt, const struct pcap_pkthdr *h,
    const uint8_t *frame)
{
	const uint8_t *ip, *src_mac, *dst_mac;
	struct packet pk;
	enum packet_status st;
	size_t len;
	bool not_ip;

	a->packets++;
	a->ts.tv_sec = h->ts.tv_sec;
	a->ts.tv_nsec = (long)h->ts.tv_usec * 1000;
	if (a->first_s == 0)
		a->first_s = (uint64_t)h->ts.tv_sec;
	events_set_time(&a->ts);
	ip = link_payload(dlt, frame, h->caplen, &len, &src_mac, &dst_mac,
	    &not_ip);
	if (ip == NULL) {
		a->skipped[not_ip ? SKIP_NOT_IP : SKIP_LINK]++;
		return;
	}
	st = packet_parse_ip(ip, len, &pk);
	switch (st) {
	case PACKET_OK:
		break;
	case PACKET_TRUNCATED:
		a->skipped[SKIP_TRUNCATED]++;
		return;
	case PACKET_MALFORMED:
		a->skipped[SKIP_MALFORMED]++;
		return;
	case PACKET_FRAGMENT:
		a->skipped[SKIP_FRAGMENT]++;
		return;
	case PACKET_OTHER:
		return;		/* ICMP and the like: nothing to judge */
	}
	/* Loopback captures carry zero MACs; multicast ones are no device. */
	bool has_mac = src_mac != NULL && (src_mac[0] & 1) == 0 &&
	    memcmp(src_mac, "\0\0\0\0\0\0", 6) != 0;
	if (pk.proto == IPPROTO_UDP && (addr_port(SA(&pk.dst)) == 53 ||
	    addr_port(SA(&pk.src)) == 53)) {
		if (pk.cut)
			a->skipped[SKIP_TRUNCATED]++;
		else
			dns_packet(a, &pk, has_mac, src_mac);
	} else if (pk.proto == IPPROTO_TCP)
		tcp_packet(a, &pk, has_mac, src_mac);
	else if (pk.proto == IPPROTO_UDP && addr_port(SA(&pk.dst)) == 443)
		quic_packet(a, &pk, has_mac, src_mac);
}

/*
 * Reads one capture: opened from path, or from f (then path names it in
 * messages). False when it could not be read to its end.
 */
bool
audit_read(struct audit *a, const char *path, FILE *f)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *frame;
	pcap_t *p;
	int dlt, rc;

	p = f != NULL ? pcap_fopen_offline(f, errbuf) :
	    pcap_open_offline(path, errbuf);
	if (p == NULL) {
		fprintf(stderr, "hushd audit: %s: %s\n", path, errbuf);
		if (f != NULL)
			fclose(f);
		return false;
	}
	dlt = pcap_datalink(p);
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		break;
	default:
		fprintf(stderr, "hushd audit: %s: link type %s (%d) is not "
		    "supported (Ethernet, Linux cooked, raw IP, loopback)\n",
		    path, pcap_datalink_val_to_name(dlt) ?
		    pcap_datalink_val_to_name(dlt) : "?", dlt);
		pcap_close(p);
		return false;
	}
	while ((rc = pcap_next_ex(p, &h, &frame)) == 1)
		audit_packet(a, dlt, h, frame);
	if (rc == PCAP_ERROR)
		fprintf(stderr, "hushd audit: %s: %s; the packets before it "
		    "were read\n", path, pcap_geterr(p));
	pcap_close(p);
	return rc != PCAP_ERROR;
}

/* Queries still waiting for their answer at the end: judged alone. */
static void
flush_pending(struct audit *a)
{
	for (;;) {
		struct pending_dns *oldest = NULL;
		for (size_t i = 0; i < AUDIT_DNS_PENDING; i++)
			if (a->pending[i].used && (oldest == NULL ||
			    a->pending[i].seq < oldest->seq))
				oldest = &a->pending[i];
		if (oldest == NULL)
			break;
		dns_event(a, oldest, NULL);
	}
}

static void
collect_line(void *arg, const char *line, size_t len)
{
	report_add_line(arg, line, len);
}

struct audit *
audit_new(struct policy *policy, const char *source, bool print_events)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	char err[256];

	a->policy = policy_ref(policy);
	a->oui = oui_load(OUI_REGISTRY);
	a->seen = seen_new(AUDIT_SEEN, 300);
	a->quic = quic_table_new(AUDIT_QUIC_CONNS);
	a->pending = xcalloc(AUDIT_DNS_PENDING, sizeof(*a->pending));
	a->flows = xcalloc(AUDIT_FLOWS, sizeof(*a->flows));
	a->report = report_new(source);
	/* Events to stdout (for people and jq alike), and to the report. */
	if (!events_open(print_events ? "-" : NULL, err, sizeof(err)))
		fatalx("events: %s", err);
	events_tap_add(collect_line, a->report);
	return a;
}

struct report *
audit_finish(struct audit *a)
{
	char skipped[1024], note[1200];
	size_t off = 0;

	flush_pending(a);
	events_set_time(NULL);
	events_tap_remove(a->report);
	events_close();
	skipped[0] = '\0';
	for (int r = 0; r < SKIP_REASONS; r++)
		if (a->skipped[r] > 0 && off < sizeof(skipped))
			off += (size_t)snprintf(skipped + off,
			    sizeof(skipped) - off, "%s%llu %s", off ? ", " : "",
			    (unsigned long long)a->skipped[r], skip_names[r]);
	snprintf(note, sizeof(note), "%llu packets read%s%s",
	    (unsigned long long)a->packets, skipped[0] ? "; skipped: " : "",
	    skipped);
	report_set_note(a->report, note);
	return a->report;
}

void
audit_free(struct audit *a)
{
	if (a == NULL)
		return;
	report_free(a->report);
	for (size_t f = 0; f < AUDIT_FLOWS; f++)
		free(a->flows[f].buf);
	free(a->flows);
	free(a->pending);
	quic_table_free(a->quic);
	seen_free(a->seen);
	oui_free(a->oui);
	policy_unref(a->policy);
	free(a);
}

static void
usage(void)
{
	fprintf(stderr, "usage: hushd audit [-c FILE] [--json] [--html FILE] "
	    "CAPTURE.pcap...\n");
	exit(2);
}

int
audit_main(int argc, char **argv, const char *default_conf)
{
	const char *conf_path = default_conf, *html = NULL;
	struct policy *policy;
	struct report *report;
	struct audit *a;
	bool json = false, ok = true;
	char err[1024];
	int i, status = 0;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf_path = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
			html = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			usage();
	}
	if (i == argc)
		usage();
	struct conf *conf = conf_load(conf_path, "/etc/resolv.conf", err,
	    sizeof(err));
	if (conf == NULL ||
	    (policy = policy_build(conf, NULL, NULL, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "hushd audit: %s\n", err);
		return 2;
	}
	a = audit_new(policy, argv[i], !json);
	policy_unref(policy);
	for (; i < argc; i++)
		ok = audit_read(a, argv[i], NULL) && ok;
	report = audit_finish(a);
	if (json)
		report_write_json(report, stdout);
	else {
		fputs("\n", stdout);
		report_write_text(report, stdout);
	}
	if (html != NULL) {
		FILE *f = fopen(html, "w");
		if (f != NULL)
			report_write_html(report, f);
		if (f == NULL || fclose(f) != 0) {
			fprintf(stderr, "hushd audit: %s: %s\n", html,
			    strerror(errno));
			status = 1;
		}
	}
	if (!ok)
		status = 1;
	audit_free(a);
	return status;
}
