/*
 * mkcapture.c: a synthetic household capture for the audit benchmark.
 *
 *   mkcapture [-s SIZE] [-o FILE] [-q HEXFILE] [-b LISTFILE] [-S SEED]
 *             [-n CLIENTS]
 *
 *   -s SIZE      stop once the file holds SIZE bytes (K, M, G suffixes, of
 *                1024; default 64M); the last flows are cut, as when a
 *                real capture is stopped
 *   -o FILE      the capture (default: standard output)
 *   -q HEXFILE   a QUIC client Initial in hex, '#' lines are comments
 *                (tests/fixtures/quic/rfc9001-a2-client-initial.hex): the
 *                UDP payload of every QUIC Initial, only the addresses and
 *                ports change; without it no QUIC Initial is written (the
 *                QUIC share is then short-header packets only)
 *   -b LISTFILE  writes the names that the capture asks for and that a
 *                block list should hold (one a line, 1 in 300 of the names)
 *   -S SEED      the seed (default 20261125): the same seed and size give
 *                the same file on any machine (own PRNG, not the libc's)
 *   -n CLIENTS   how many devices (default 48, at most 200)
 *
 * A classic little-endian pcap, link type Ethernet, microsecond times from
 * 2026-11-25 12:00:00 UTC. The household: devices with their own MAC,
 * IPv4 address and (two in three) IPv6 address, one in eight on VLAN 20
 * (802.1Q tagged), a router at .1 answering DNS. What they do, in packets
 * (near these shares):
 *   ~70% bulk: server-to-client TLS application data of established HTTPS
 *        connections and the client's ACKs
 *   ~15% DNS over UDP/53: A, AAAA and HTTPS queries of names drawn (skewed
 *        to the popular ones) from a generated list of 3000, answered with
 *        A/AAAA records, one name in five behind a CNAME, some NXDOMAIN
 *   ~10% TCP/443 handshakes: SYN, SYN-ACK, ACK, a TLS 1.3 ClientHello with
 *        SNI and ALPN (a third of them with an X25519MLKEM768 key share,
 *        which puts them over two segments), the server's first flight,
 *        the client's Finished; then, after the bulk, FIN both ways
 *   ~5%  QUIC on udp/443: client Initials (one per connection) and
 *        short-header packets both ways
 * Most connections go to an address that a DNS answer in the capture gave
 * the same device a little earlier.
 *
 * Prints one line to standard error at the end:
 *   mkcapture: packets=N bytes=N dns=N queries=N handshake=N bulk=N
 *   quic=N connections=N hellos=N hellos_split=N initials=N
 *   sni_distinct=N seconds=N open=N
 * (hellos counts the ClientHellos written whole, sni_distinct their SNIs;
 * the Initials all name example.com; seconds is the capture's time span,
 * open the TCP connections still open at its end).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_NAMES		3000
#define MAX_CLIENTS	200
#define MSS4		1448
#define MSS6		1428
#define MAX_HELLO	2048
#define START_TIME	1795608000u	/* 2026-11-25 12:00:00 UTC */

/* ------------------------------------------------------------ random */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* A uniform double in [0, 1). */
static double
unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void
fill_random(uint8_t *p, size_t n)
{
	while (n > 0) {
		uint64_t r = rnd();
		size_t k = n < 8 ? n : 8;
		memcpy(p, &r, k);
		p += k;
		n -= k;
	}
}

static void
die(const char *msg)
{
	fprintf(stderr, "mkcapture: %s\n", msg);
	exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* ------------------------------------------------------------ the household */

struct client {
	uint8_t		mac[6];
	uint8_t		ip4[4];
	uint8_t		ip6[16];
	bool		has_ip6;
	uint16_t	vlan;		/* 0: untagged */
};

struct name {
	char		name[80];
	char		cname[96];	/* "" when none */
	uint8_t		ip4[4];
	uint8_t		ip6[16];
	bool		has_aaaa;
	bool		nx;		/* answered NXDOMAIN */
	bool		sni_written;	/* a whole ClientHello named it */
	uint32_t	ttl;
};

static struct client clients[MAX_CLIENTS];
static unsigned n_clients = 48;
static struct name names[N_NAMES];
static const uint8_t router_mac[6] = { 0x00, 0x0d, 0xb9, 0x4a, 0x21, 0x07 };
static const uint8_t router_ip4[2][4] = { { 192, 168, 1, 1 },
    { 192, 168, 20, 1 } };
static const uint8_t router_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 1 };

/* Some makers' OUIs; the other devices have random, locally administered
 * MACs, as phones do on Wi-Fi. */
static const uint8_t ouis[][3] = {
	{ 0xb8, 0x27, 0xeb }, { 0xdc, 0xa6, 0x32 }, { 0x00, 0x17, 0x88 },
	{ 0x18, 0xb4, 0x30 }, { 0x44, 0x65, 0x0d }, { 0x74, 0xc2, 0x46 },
	{ 0x00, 0x11, 0x32 }, { 0x28, 0x6c, 0x07 }, { 0x64, 0x09, 0x80 },
	{ 0x3c, 0x5a, 0xb4 }, { 0xf4, 0xf5, 0xd8 }, { 0x00, 0x04, 0x4b },
};

static const char *const tlds[] = {
	"com", "net", "org", "io", "de", "tv", "co.uk", "fr", "app", "cloud",
};
static const char *const hosts[] = {
	"www", "api", "cdn", "img", "static", "edge", "update", "telemetry",
	"push", "time", "v", "m", "login", "media", "metrics", "config",
};
static const char *const cdns[] = {
	"edgesuite.net", "cloudfront.net", "akamaiedge.net", "fastly.net",
	"azureedge.net",
};

static void
make_word(char *out, unsigned min, unsigned max)
{
	static const char cons[] = "bcdfghklmnprstvz", vow[] = "aeiou";
	unsigned len = min + below(max - min + 1);

	for (unsigned i = 0; i < len; i++)
		out[i] = i % 2 ? vow[below(5)] : cons[below(16)];
	out[len] = '\0';
}

static void
make_household(void)
{
	for (unsigned i = 0; i < n_clients; i++) {
		struct client *c = &clients[i];

		if (i % 3 == 0) {
			memcpy(c->mac, ouis[below(sizeof(ouis) / 3)], 3);
			fill_random(c->mac + 3, 3);
		} else {
			fill_random(c->mac, 6);
			c->mac[0] = (uint8_t)((c->mac[0] & 0xfc) | 0x02);
		}
		c->vlan = i % 8 == 7 ? 20 : 0;
		c->ip4[0] = 192;
		c->ip4[1] = 168;
		c->ip4[2] = c->vlan ? 20 : 1;
		c->ip4[3] = (uint8_t)(10 + i);
		c->has_ip6 = c->vlan == 0 && i % 3 != 2;
		memcpy(c->ip6, router_ip6, 8);
		fill_random(c->ip6 + 8, 8);
	}
	for (unsigned i = 0; i < N_NAMES; i++) {
		struct name *n = &names[i];
		char a[16], b[16];

		make_word(a, 3, 6);
		make_word(b, 4, 9);
		if (below(4) == 0)
			snprintf(n->name, sizeof(n->name), "%s%u.%s.%s",
			    hosts[below(16)], i, b, tlds[below(10)]);
		else
			snprintf(n->name, sizeof(n->name), "%s.%s%u.%s", a, b,
			    i, tlds[below(10)]);
		if (below(5) == 0)
			snprintf(n->cname, sizeof(n->cname), "%s%u.%s", a, i,
			    cdns[below(5)]);
		/* 198.18.0.0/15 and 2001:2::/48: the benchmarking ranges. */
		n->ip4[0] = 198;
		n->ip4[1] = (uint8_t)(18 + below(2));
		n->ip4[2] = (uint8_t)below(256);
		n->ip4[3] = (uint8_t)(1 + below(254));
		memset(n->ip6, 0, 16);
		n->ip6[0] = 0x20;
		n->ip6[1] = 0x01;
		n->ip6[3] = 0x02;
		fill_random(n->ip6 + 6, 10);
		n->has_aaaa = below(2) == 0;
		n->nx = below(60) == 0;
		n->ttl = (const uint32_t[]){ 60, 300, 300, 3600 }[below(4)];
	}
}

/* Popular names come up far more often than the rest. */
static unsigned
pick_name(void)
{
	double u = unit();

	return (unsigned)(u * u * u * N_NAMES);
}

/* ------------------------------------------------------------ output */

static FILE *out;
static uint64_t bytes_out, limit = 64ULL << 20;
static uint64_t now_us = (uint64_t)START_TIME * 1000000;
static uint64_t n_packets, n_dns, n_queries, n_handshake, n_bulk, n_quic;
static uint64_t n_conns, n_hellos, n_split, n_initials;
static unsigned n_sni;
static uint16_t ip_id;

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put24(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
write_frame(const uint8_t *frame, size_t len)
{
	uint8_t rec[16];

	now_us += 1 + below(400);
	le32(rec, (uint32_t)(now_us / 1000000));
	le32(rec + 4, (uint32_t)(now_us % 1000000));
	le32(rec + 8, (uint32_t)len);
	le32(rec + 12, (uint32_t)len);
	if (fwrite(rec, 1, 16, out) != 16 || fwrite(frame, 1, len, out) != len)
		die(strerror(errno));
	bytes_out += 16 + len;
	n_packets++;
}

/* One end of a conversation. */
struct end {
	const uint8_t	*mac;
	const uint8_t	*ip;		/* 4 or 16 bytes */
	uint16_t	 port;
};

/*
 * Writes a frame from a to b: Ethernet (with the VLAN tag), IPv4 or IPv6,
 * then the transport header th (thlen bytes, checksum field at ck) and the
 * payload; the checksum is computed here.
 */
static void
emit(int family, uint16_t vlan, const struct end *a, const struct end *b,
    uint8_t proto, uint8_t *th, size_t thlen, size_t ck,
    const uint8_t *payload, size_t plen)
{
	static uint8_t frame[4096];
	size_t off = 12, iplen = 20, tlen = thlen + plen;
	uint32_t sum;

	memcpy(frame, b->mac, 6);
	memcpy(frame + 6, a->mac, 6);
	if (vlan) {
		put16(frame + 12, 0x8100);
		put16(frame + 14, vlan);
		off += 4;
	}
	put16(frame + off, family == 4 ? 0x0800 : 0x86dd);
	off += 2;
	uint8_t *ip = frame + off;
	if (family == 4) {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (unsigned)(20 + tlen));
		put16(ip + 4, ip_id++);
		put16(ip + 6, 0x4000);	/* DF */
		ip[8] = 64;
		ip[9] = proto;
		put16(ip + 10, 0);
		memcpy(ip + 12, a->ip, 4);
		memcpy(ip + 16, b->ip, 4);
		put16(ip + 10, fold(sum16(ip, 20, 0)));
		sum = sum16(ip + 12, 8, 0);
	} else {
		iplen = 40;
		put32(ip, 0x60000000u | (uint32_t)(a->port ^ b->port));
		put16(ip + 4, (unsigned)tlen);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, a->ip, 16);
		memcpy(ip + 24, b->ip, 16);
		sum = sum16(ip + 8, 32, 0);
	}
	sum += proto + (uint32_t)tlen;
	uint8_t *t = ip + iplen;
	put16(th + ck, 0);
	memcpy(t, th, thlen);
	memcpy(t + thlen, payload, plen);
	sum = sum16(t, tlen, sum);
	uint16_t c = fold(sum);
	if (proto == 17 && c == 0)
		c = 0xffff;
	put16(t + ck, c);
	write_frame(frame, off + iplen + tlen);
}

static void
emit_udp(int family, uint16_t vlan, const struct end *a, const struct end *b,
    const uint8_t *payload, size_t plen)
{
	uint8_t uh[8];

	put16(uh, a->port);
	put16(uh + 2, b->port);
	put16(uh + 4, (unsigned)(8 + plen));
	emit(family, vlan, a, b, 17, uh, 8, 6, payload, plen);
}

#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_PSH	0x08
#define TCP_ACK	0x10

static void
emit_tcp(int family, uint16_t vlan, const struct end *a, const struct end *b,
    uint32_t seq, uint32_t ack, unsigned flags, const uint8_t *payload,
    size_t plen)
{
	uint8_t th[40];
	size_t len;
	uint32_t tsval = (uint32_t)(now_us / 1000);

	put16(th, a->port);
	put16(th + 2, b->port);
	put32(th + 4, seq);
	put32(th + 8, flags & TCP_ACK ? ack : 0);
	put16(th + 14, flags & TCP_SYN ? 64240 : 501);
	put16(th + 16, 0);
	put16(th + 18, 0);
	if (flags & TCP_SYN) {
		/* MSS, SACK permitted, timestamps, window scale. */
		uint8_t *o = th + 20;
		o[0] = 2; o[1] = 4;
		put16(o + 2, family == 4 ? MSS4 : MSS6);
		o[4] = 4; o[5] = 2;
		o[6] = 8; o[7] = 10;
		put32(o + 8, tsval);
		put32(o + 12, 0);
		o[16] = 1; o[17] = 3; o[18] = 3; o[19] = 7;
		len = 40;
	} else {
		uint8_t *o = th + 20;
		o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
		put32(o + 4, tsval);
		put32(o + 8, tsval - 7);
		len = 32;
	}
	th[12] = (uint8_t)(len / 4 << 4);
	th[13] = (uint8_t)flags;
	emit(family, vlan, a, b, 6, th, len, 16, payload, plen);
}

/* ------------------------------------------------------------ DNS */

struct answer {
	uint64_t	due;		/* packet number */
	unsigned	client, name;
	int		family;
	uint16_t	port, id, qtype;
};

#define ANSWERS	256
static struct answer answers[ANSWERS];
static unsigned n_answers;

/* Connections to open soon: a client asked for the name and got it. */
struct intent {
	unsigned	client, name;
	int		family;
	bool		quic;
};

#define INTENTS	1024
static struct intent intents[INTENTS];
static unsigned intent_head, intent_count;

static void
ends_dns(const struct answer *q, struct end *client, struct end *server)
{
	const struct client *c = &clients[q->client];

	client->mac = c->mac;
	client->ip = q->family == 4 ? c->ip4 : c->ip6;
	client->port = q->port;
	server->mac = router_mac;
	server->ip = q->family == 4 ? router_ip4[c->vlan ? 1 : 0] : router_ip6;
	server->port = 53;
}

static size_t
put_name(uint8_t *p, const char *name)
{
	size_t off = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		p[off++] = (uint8_t)len;
		memcpy(p + off, name, len);
		off += len;
		name += len + (dot != NULL);
	}
	p[off++] = 0;
	return off;
}

/* The question section and EDNS OPT record of a message; header by caller. */
static size_t
dns_question(uint8_t *msg, const struct answer *q)
{
	size_t off = 12 + put_name(msg + 12, names[q->name].name);

	put16(msg + off, q->qtype);
	put16(msg + off + 2, 1);
	return off + 4;
}

static size_t
dns_opt(uint8_t *p)
{
	p[0] = 0;
	put16(p + 1, 41);
	put16(p + 3, 1232);
	put32(p + 5, 0);
	put16(p + 9, 0);
	return 11;
}

static void
dns_query(void)
{
	struct answer q;
	uint8_t msg[512];
	struct end cl, sv;
	const struct client *c;

	if (n_answers == ANSWERS)
		return;
	q.client = below(n_clients);
	c = &clients[q.client];
	q.name = pick_name();
	q.family = c->has_ip6 && below(2) ? 6 : 4;
	q.port = (uint16_t)(32768 + below(28232));
	q.id = (uint16_t)below(65536);
	unsigned r = below(10);
	q.qtype = r < 6 ? 1 : r < 9 ? (c->has_ip6 ? 28 : 1) : 65;
	q.due = n_packets + 1 + below(24);
	memset(msg, 0, 12);
	put16(msg, q.id);
	put16(msg + 2, 0x0100);
	put16(msg + 4, 1);
	put16(msg + 10, 1);
	size_t len = dns_question(msg, &q);
	len += dns_opt(msg + len);
	ends_dns(&q, &cl, &sv);
	emit_udp(q.family, c->vlan, &cl, &sv, msg, len);
	answers[n_answers++] = q;
	n_dns++;
	n_queries++;
}

static void
dns_answer(unsigned i)
{
	struct answer q = answers[i];
	const struct name *n = &names[q.name];
	uint8_t msg[512];
	struct end cl, sv;
	unsigned an = 0, owner = 0x0c;		/* the question's name */
	size_t len;

	answers[i] = answers[--n_answers];
	memset(msg, 0, 12);
	put16(msg, q.id);
	put16(msg + 2, n->nx ? 0x8183 : 0x8180);
	put16(msg + 4, 1);
	put16(msg + 10, 1);
	len = dns_question(msg, &q);
	if (!n->nx && n->cname[0] && q.qtype != 65) {
		put16(msg + len, 0xc00c);
		put16(msg + len + 2, 5);
		put16(msg + len + 4, 1);
		put32(msg + len + 6, n->ttl);
		size_t tl = put_name(msg + len + 12, n->cname);
		put16(msg + len + 10, (unsigned)tl);
		owner = (unsigned)(len + 12);
		len += 12 + tl;
		an++;
	}
	if (!n->nx && (q.qtype == 1 || (q.qtype == 28 && n->has_aaaa))) {
		unsigned count = 1 + (q.name % 3 == 0);
		for (unsigned k = 0; k < count; k++) {
			put16(msg + len, 0xc000 | owner);
			put16(msg + len + 2, q.qtype);
			put16(msg + len + 4, 1);
			put32(msg + len + 6, n->ttl);
			if (q.qtype == 1) {
				put16(msg + len + 10, 4);
				memcpy(msg + len + 12, n->ip4, 4);
				msg[len + 15] = (uint8_t)(msg[len + 15] + k);
				len += 16;
			} else {
				put16(msg + len + 10, 16);
				memcpy(msg + len + 12, n->ip6, 16);
				msg[len + 27] = (uint8_t)(msg[len + 27] + k);
				len += 28;
			}
			an++;
		}
	}
	put16(msg + 6, an);
	len += dns_opt(msg + len);
	ends_dns(&q, &cl, &sv);
	emit_udp(q.family, clients[q.client].vlan, &sv, &cl, msg, len);
	n_dns++;
	/* Most answers are followed by a connection to what they gave. */
	if (n->nx || q.qtype == 65 || (q.qtype == 28 && !n->has_aaaa) ||
	    below(10) >= 7 || intent_count == INTENTS)
		return;
	struct intent *in = &intents[(intent_head + intent_count++) % INTENTS];
	in->client = q.client;
	in->name = q.name;
	in->family = q.qtype == 28 ? 6 : 4;
	in->quic = below(8) == 0;
}

static void
dns_step(void)
{
	for (unsigned i = 0; i < n_answers; i++)
		if (answers[i].due <= n_packets) {
			dns_answer(i);
			return;
		}
	dns_query();
}

/* ------------------------------------------------------------ TLS */

static const uint16_t grease[] = {
	0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a,
	0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa,
};

/* Opens extension type t at p; returns where its data starts. */
static uint8_t *
ext(uint8_t **p, unsigned t)
{
	put16(*p, t);
	*p += 4;
	return *p;
}

static void
ext_end(uint8_t **p, uint8_t *data, uint8_t *end)
{
	put16(data - 2, (unsigned)(end - data));
	*p = end;
}

/*
 * A TLS 1.3 ClientHello record for sni: kind 0 a browser with a
 * post-quantum key share (about 1.8 KB), 1 a browser without (padded to
 * 512 bytes), 2 a small device (TLS 1.2 and 1.3, no ALPN). Returns its
 * length.
 */
static size_t
client_hello(uint8_t *rec, const char *sni, int kind)
{
	uint8_t *p = rec + 9, *d, *e;
	uint16_t g = grease[below(16)];
	size_t snilen = strlen(sni);

	put16(p, 0x0303);
	fill_random(p + 2, 32);
	p += 34;
	*p++ = 32;
	fill_random(p, 32);
	p += 32;
	static const uint16_t browser_suites[] = { 0x1301, 0x1302, 0x1303,
	    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
	    0x009c, 0x009d, 0x002f, 0x0035 };
	static const uint16_t device_suites[] = { 0x1301, 0x1303, 0xc02b,
	    0xc02f, 0xcca9, 0xcca8, 0x00ff };
	const uint16_t *suites = kind < 2 ? browser_suites : device_suites;
	unsigned ns = kind < 2 ? 15 : 7;
	put16(p, 2 * (ns + (kind < 2)));
	p += 2;
	if (kind < 2) {
		put16(p, g);
		p += 2;
	}
	for (unsigned i = 0; i < ns; i++, p += 2)
		put16(p, suites[i]);
	*p++ = 1;
	*p++ = 0;
	uint8_t *exts = p;
	p += 2;
	if (kind < 2) {
		d = ext(&p, g);
		ext_end(&p, d, d);
	}
	d = ext(&p, 0x0000);			/* server_name */
	put16(d, (unsigned)(snilen + 3));
	d[2] = 0;
	put16(d + 3, (unsigned)snilen);
	memcpy(d + 5, sni, snilen);
	ext_end(&p, d, d + 5 + snilen);
	d = ext(&p, 0x0017);			/* extended_master_secret */
	ext_end(&p, d, d);
	d = ext(&p, 0xff01);			/* renegotiation_info */
	d[0] = 0;
	ext_end(&p, d, d + 1);
	d = ext(&p, 0x000a);			/* supported_groups */
	e = d + 2;
	if (kind < 2) {
		put16(e, g);
		e += 2;
	}
	if (kind == 0) {
		put16(e, 0x11ec);
		e += 2;
	}
	put16(e, 0x001d);
	put16(e + 2, 0x0017);
	put16(e + 4, 0x0018);
	e += 6;
	put16(d, (unsigned)(e - d - 2));
	ext_end(&p, d, e);
	d = ext(&p, 0x000b);			/* ec_point_formats */
	d[0] = 1;
	d[1] = 0;
	ext_end(&p, d, d + 2);
	if (kind < 2) {
		d = ext(&p, 0x0023);		/* session_ticket */
		ext_end(&p, d, d);
		d = ext(&p, 0x0010);		/* ALPN: h2, http/1.1 */
		static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h',
		    't', 't', 'p', '/', '1', '.', '1' };
		memcpy(d, alpn, sizeof(alpn));
		ext_end(&p, d, d + sizeof(alpn));
		d = ext(&p, 0x0005);		/* status_request */
		memcpy(d, "\1\0\0\0\0", 5);
		ext_end(&p, d, d + 5);
	}
	d = ext(&p, 0x000d);			/* signature_algorithms */
	static const uint16_t sigs[] = { 0x0403, 0x0804, 0x0401, 0x0503,
	    0x0805, 0x0501, 0x0806, 0x0601 };
	put16(d, 16);
	for (unsigned i = 0; i < 8; i++)
		put16(d + 2 + 2 * i, sigs[i]);
	ext_end(&p, d, d + 18);
	if (kind < 2) {
		d = ext(&p, 0x0012);		/* signed_certificate_timestamp */
		ext_end(&p, d, d);
	}
	d = ext(&p, 0x0033);			/* key_share */
	e = d + 2;
	if (kind < 2) {
		put16(e, g);
		put16(e + 2, 1);
		e[4] = 0;
		e += 5;
	}
	if (kind == 0) {
		put16(e, 0x11ec);
		put16(e + 2, 1216);
		fill_random(e + 4, 1216);
		e += 4 + 1216;
	}
	put16(e, 0x001d);
	put16(e + 2, 32);
	fill_random(e + 4, 32);
	e += 36;
	put16(d, (unsigned)(e - d - 2));
	ext_end(&p, d, e);
	d = ext(&p, 0x002d);			/* psk_key_exchange_modes */
	d[0] = 1;
	d[1] = 1;
	ext_end(&p, d, d + 2);
	d = ext(&p, 0x002b);			/* supported_versions */
	e = d + 1;
	if (kind < 2) {
		put16(e, g);
		e += 2;
	}
	put16(e, 0x0304);
	put16(e + 2, 0x0303);
	e += 4;
	d[0] = (uint8_t)(e - d - 1);
	ext_end(&p, d, e);
	if (kind < 2) {
		d = ext(&p, 0x001b);		/* compress_certificate */
		memcpy(d, "\2\0\2", 3);
		ext_end(&p, d, d + 3);
		d = ext(&p, g ^ 0x1010);	/* a second GREASE */
		d[0] = 0;
		ext_end(&p, d, d + 1);
	}
	if (kind == 1) {
		/* padding (BoringSSL): the handshake message to 512 bytes */
		size_t hs = (size_t)(p - rec) - 5 + 4;
		if (hs < 512) {
			size_t pad = 512 - hs;
			d = ext(&p, 0x0015);
			memset(d, 0, pad);
			ext_end(&p, d, d + pad);
		}
	}
	put16(exts, (unsigned)(p - exts - 2));
	size_t len = (size_t)(p - rec);
	rec[0] = 0x16;
	put16(rec + 1, 0x0301);
	put16(rec + 3, (unsigned)(len - 5));
	rec[5] = 1;
	put24(rec + 6, (unsigned)(len - 9));
	return len;
}

/* ------------------------------------------------------------ TCP */

enum state {
	S_SYN, S_SYNACK, S_ACK, S_HELLO, S_HELLO2, S_FLIGHT, S_FLIGHT2,
	S_FINISHED, S_BULK, S_FIN, S_FINACK, S_LASTACK,
};

struct conn {
	enum state	state;
	unsigned	client, name;
	int		family;
	uint8_t		sip[16];
	uint16_t	cport;
	uint32_t	cseq, sseq;
	uint32_t	bulk;		/* data segments left */
	uint32_t	rec_left;	/* of the server's current record */
	uint8_t		rec_hdr[5];
	unsigned	rec_hdr_off;	/* 5: the header is written */
	uint8_t		hello[MAX_HELLO];
	size_t		hello_len, sent;
};

struct connlist {
	struct conn	**c;
	size_t		  n, cap;
};

static struct connlist handshaking, established;

static void
list_add(struct connlist *l, struct conn *c)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->c = realloc(l->c, l->cap * sizeof(*l->c));
		if (l->c == NULL)
			die("out of memory");
	}
	l->c[l->n++] = c;
}

static struct conn *
list_take(struct connlist *l, size_t i)
{
	struct conn *c = l->c[i];

	l->c[i] = l->c[--l->n];
	return c;
}

/* Bulk segments of a connection: mostly short, some long (streams). */
static uint32_t
bulk_segments(void)
{
	unsigned r = below(20);

	if (r < 10)
		return 1 + below(12);
	if (r < 17)
		return 12 + below(88);
	return 100 + below(400);
}

/* The header of the next record, of c->rec_left bytes, is to be written. */
static void
record_header(struct conn *c)
{
	c->rec_hdr[0] = 0x17;
	put16(c->rec_hdr + 1, 0x0303);
	put16(c->rec_hdr + 3, c->rec_left);
	c->rec_hdr_off = 0;
}

/*
 * n bytes of the server's side after its first flight: TLS application
 * data records of 16 KiB (plus the AEAD tag) over the segments, as a
 * server streams; the ciphertext is random (only its first bytes are
 * renewed, for speed).
 */
static void
server_stream(struct conn *c, uint8_t *p, size_t n)
{
	fill_random(p, n < 64 ? n : 64);
	while (n > 0) {
		if (c->rec_hdr_off < 5) {
			*p++ = c->rec_hdr[c->rec_hdr_off++];
			n--;
			continue;
		}
		if (c->rec_left == 0) {
			c->rec_left = 16384 + 17;
			record_header(c);
			continue;
		}
		size_t k = n < c->rec_left ? n : c->rec_left;
		p += k;
		n -= k;
		c->rec_left -= (uint32_t)k;
	}
}

/* A TLS 1.3 ServerHello record and ChangeCipherSpec: 133 bytes. */
static size_t
server_hello(uint8_t *p)
{
	static const uint8_t head[] = { 0x16, 0x03, 0x03, 0x00, 0x7a, 0x02,
	    0x00, 0x00, 0x76, 0x03, 0x03 };
	uint8_t *q = p + sizeof(head);

	memcpy(p, head, sizeof(head));
	fill_random(q, 32);			/* random */
	q[32] = 32;				/* the client's session ID */
	fill_random(q + 33, 32);
	q += 65;
	put16(q, 0x1301);			/* TLS_AES_128_GCM_SHA256 */
	q[2] = 0;
	put16(q + 3, 46);
	put16(q + 5, 0x002b);			/* supported_versions */
	put16(q + 7, 2);
	put16(q + 9, 0x0304);
	put16(q + 11, 0x0033);			/* key_share: x25519 */
	put16(q + 13, 36);
	put16(q + 15, 0x001d);
	put16(q + 17, 32);
	fill_random(q + 19, 32);
	q += 51;
	memcpy(q, "\x14\x03\x03\x00\x01\x01", 6);
	return (size_t)(q + 6 - p);
}

static void
conn_ends(const struct conn *c, struct end *cl, struct end *sv)
{
	const struct client *k = &clients[c->client];

	cl->mac = k->mac;
	cl->ip = c->family == 4 ? k->ip4 : k->ip6;
	cl->port = c->cport;
	sv->mac = router_mac;
	sv->ip = c->sip;
	sv->port = 443;
}

static struct conn *
conn_new(unsigned client, unsigned name, int family)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	const struct name *n = &names[name];

	c->client = client;
	c->name = name;
	c->family = family;
	if (family == 4)
		memcpy(c->sip, n->ip4, 4);
	else
		memcpy(c->sip, n->ip6, 16);
	c->cport = (uint16_t)(32768 + below(28232));
	c->cseq = (uint32_t)rnd();
	c->sseq = (uint32_t)rnd();
	c->bulk = bulk_segments();
	/* A third of the hellos carry a post-quantum key share. */
	unsigned r = below(12);
	c->hello_len = client_hello(c->hello, n->name, r < 4 ? 0 : r < 10 ?
	    1 : 2);
	return c;
}

static void
quic_open(unsigned client, unsigned name, int family);

static void
tcp_packet(struct conn *c, struct connlist *from, size_t idx)
{
	struct end cl, sv;
	uint16_t vlan = clients[c->client].vlan;
	size_t mss = c->family == 4 ? MSS4 : MSS6;
	static uint8_t data[MSS4];

	conn_ends(c, &cl, &sv);
	switch (c->state) {
	case S_SYN:
		emit_tcp(c->family, vlan, &cl, &sv, c->cseq++, 0, TCP_SYN,
		    NULL, 0);
		c->state = S_SYNACK;
		break;
	case S_SYNACK:
		emit_tcp(c->family, vlan, &sv, &cl, c->sseq++, c->cseq,
		    TCP_SYN | TCP_ACK, NULL, 0);
		c->state = S_ACK;
		break;
	case S_ACK:
		emit_tcp(c->family, vlan, &cl, &sv, c->cseq, c->sseq, TCP_ACK,
		    NULL, 0);
		c->state = S_HELLO;
		break;
	case S_HELLO:
	case S_HELLO2: {
		size_t n = c->hello_len - c->sent;
		if (n > mss)
			n = mss;
		emit_tcp(c->family, vlan, &cl, &sv, c->cseq, c->sseq,
		    TCP_ACK | TCP_PSH, c->hello + c->sent, n);
		c->cseq += (uint32_t)n;
		c->sent += n;
		if (c->sent == c->hello_len) {
			n_hellos++;
			n_split += c->state == S_HELLO2;
			if (!names[c->name].sni_written) {
				names[c->name].sni_written = true;
				n_sni++;
			}
		}
		c->state = c->sent < c->hello_len ? S_HELLO2 : S_FLIGHT;
		break;
	}
	case S_FLIGHT:
	case S_FLIGHT2: {
		/* ServerHello, ChangeCipherSpec, then encrypted records. */
		size_t n = c->state == S_FLIGHT ? mss : 200 + below(1000), at = 0;
		if (c->state == S_FLIGHT) {
			at = server_hello(data);
			c->rec_left = 2000 + below(2500);	/* certificates */
			record_header(c);
		}
		server_stream(c, data + at, n - at);
		emit_tcp(c->family, vlan, &sv, &cl, c->sseq, c->cseq,
		    TCP_ACK | (c->state == S_FLIGHT2 ? TCP_PSH : 0), data, n);
		c->sseq += (uint32_t)n;
		c->state = c->state == S_FLIGHT ? S_FLIGHT2 : S_FINISHED;
		break;
	}
	case S_FINISHED: {
		static const uint8_t fin[] = { 0x14, 0x03, 0x03, 0x00, 0x01,
		    0x01, 0x17, 0x03, 0x03, 0x00, 0x35 };
		memcpy(data, fin, sizeof(fin));
		fill_random(data + sizeof(fin), 0x35);
		emit_tcp(c->family, vlan, &cl, &sv, c->cseq, c->sseq,
		    TCP_ACK | TCP_PSH, data, sizeof(fin) + 0x35);
		c->cseq += (uint32_t)(sizeof(fin) + 0x35);
		c->state = S_BULK;
		list_add(&established, list_take(from, idx));
		break;
	}
	case S_BULK:
		/* Two data segments from the server, then the client's ACK. */
		if (c->bulk % 3 == 0) {
			emit_tcp(c->family, vlan, &cl, &sv, c->cseq, c->sseq,
			    TCP_ACK, NULL, 0);
		} else {
			size_t n = c->bulk % 17 == 1 ? 100 + below(mss - 100) :
			    mss;
			server_stream(c, data, n);
			emit_tcp(c->family, vlan, &sv, &cl, c->sseq, c->cseq,
			    TCP_ACK | (n < mss ? TCP_PSH : 0), data, n);
			c->sseq += (uint32_t)n;
		}
		if (--c->bulk == 0) {
			c->state = S_FIN;
			list_add(&handshaking, list_take(from, idx));
		}
		break;
	case S_FIN:
		emit_tcp(c->family, vlan, &cl, &sv, c->cseq++, c->sseq,
		    TCP_FIN | TCP_ACK, NULL, 0);
		c->state = S_FINACK;
		break;
	case S_FINACK:
		emit_tcp(c->family, vlan, &sv, &cl, c->sseq++, c->cseq,
		    TCP_FIN | TCP_ACK, NULL, 0);
		c->state = S_LASTACK;
		break;
	case S_LASTACK:
		emit_tcp(c->family, vlan, &cl, &sv, c->cseq, c->sseq, TCP_ACK,
		    NULL, 0);
		free(list_take(from, idx));
		break;
	}
}

/* For an intent from a DNS answer, or a device that had the name cached. */
static void
open_conn(bool quic_too)
{
	unsigned client, name;
	int family;

	while (intent_count > 0) {
		struct intent in = intents[intent_head];
		intent_head = (intent_head + 1) % INTENTS;
		intent_count--;
		if (in.quic && quic_too) {
			quic_open(in.client, in.name, in.family);
			continue;
		}
		list_add(&handshaking, conn_new(in.client, in.name,
		    in.family));
		n_conns++;
		return;
	}
	/* Nothing resolved in the capture: the device had it cached. */
	client = below(n_clients);
	do
		name = pick_name();
	while (names[name].nx);
	family = clients[client].has_ip6 && names[name].has_aaaa &&
	    below(3) == 0 ? 6 : 4;
	list_add(&handshaking, conn_new(client, name, family));
	n_conns++;
}

static void
handshake_step(void)
{
	/* A few connections at a time in their handshake or close. */
	if (handshaking.n < 4 || below(11) == 0)
		open_conn(true);
	size_t i = below((unsigned)handshaking.n);
	tcp_packet(handshaking.c[i], &handshaking, i);
	n_handshake++;
}

static void
bulk_step(void)
{
	if (established.n == 0) {
		/* A stream from before the capture began. */
		struct conn *c = conn_new(below(n_clients), pick_name(), 4);
		c->state = S_BULK;
		c->bulk = 300 + below(600);
		c->rec_left = 1 + below(16401);		/* mid-record */
		c->rec_hdr_off = 5;
		list_add(&established, c);
	}
	size_t i = below((unsigned)established.n);
	tcp_packet(established.c[i], &established, i);
	n_bulk++;
}

/* ------------------------------------------------------------ QUIC */

struct qconn {
	unsigned	client;
	int		family;
	uint8_t		sip[16];
	uint16_t	cport;
	uint8_t		dcid[8];
};

#define QCONNS	64
static struct qconn qconns[QCONNS];
static unsigned n_qconns, q_next;
static uint8_t *initial;
static size_t initial_len;

static void
qconn_ends(const struct qconn *q, struct end *cl, struct end *sv)
{
	const struct client *k = &clients[q->client];

	cl->mac = k->mac;
	cl->ip = q->family == 4 ? k->ip4 : k->ip6;
	cl->port = q->cport;
	sv->mac = router_mac;
	sv->ip = q->sip;
	sv->port = 443;
}

static void
quic_open(unsigned client, unsigned name, int family)
{
	struct qconn *q = &qconns[q_next];
	struct end cl, sv;

	q_next = (q_next + 1) % QCONNS;
	if (n_qconns < QCONNS)
		n_qconns++;
	q->client = client;
	q->family = family;
	if (family == 4)
		memcpy(q->sip, names[name].ip4, 4);
	else
		memcpy(q->sip, names[name].ip6, 16);
	q->cport = (uint16_t)(32768 + below(28232));
	fill_random(q->dcid, 8);
	if (initial == NULL)
		return;		/* no Initial to send: short packets only */
	qconn_ends(q, &cl, &sv);
	emit_udp(family, clients[client].vlan, &cl, &sv, initial, initial_len);
	n_initials++;
	n_quic++;
}

static void
quic_step(void)
{
	static uint8_t pkt[1400];
	struct end cl, sv;

	if (n_qconns == 0 || below(8) == 0) {
		unsigned before = n_initials;
		if (intent_count > 0 && intents[intent_head].quic) {
			struct intent in = intents[intent_head];
			intent_head = (intent_head + 1) % INTENTS;
			intent_count--;
			quic_open(in.client, in.name, in.family);
		} else {
			unsigned client = below(n_clients), name;
			do
				name = pick_name();
			while (names[name].nx);
			quic_open(client, name, 4);
		}
		if (n_initials != before)
			return;
	}
	/* 1-RTT packets: short header, mostly from the server. */
	struct qconn *q = &qconns[below(n_qconns)];
	bool down = below(4) != 0;
	size_t n = down ? 1200 + below(152) : 40 + below(60);
	fill_random(pkt, n);
	pkt[0] = (uint8_t)(0x40 | (pkt[0] & 0x3f));
	memcpy(pkt + 1, q->dcid, 8);
	qconn_ends(q, &cl, &sv);
	if (down)
		emit_udp(q->family, clients[q->client].vlan, &sv, &cl, pkt, n);
	else
		emit_udp(q->family, clients[q->client].vlan, &cl, &sv, pkt, n);
	n_quic++;
}

static void
read_initial(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int hi = -1;

	if (f == NULL) {
		fprintf(stderr, "mkcapture: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	initial = xcalloc(1, 4096);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		for (char *s = line; *s; s++) {
			int v;
			if (*s >= '0' && *s <= '9')
				v = *s - '0';
			else if (*s >= 'a' && *s <= 'f')
				v = *s - 'a' + 10;
			else if (*s >= 'A' && *s <= 'F')
				v = *s - 'A' + 10;
			else
				continue;
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (initial_len == 4096)
				die("the QUIC Initial is longer than 4096 bytes");
			initial[initial_len++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
	if (initial_len < 1200 || (initial[0] & 0xf0) != 0xc0)
		die("the hex file is not a QUIC client Initial (long header, "
		    "1200 bytes or more)");
	if (initial_len > 1452)
		die("the QUIC Initial does not fit in one IPv6 datagram");
}

/* ------------------------------------------------------------ main */

static uint64_t
parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (end == s || *end != '\0' || v < 4096)
		die("-s takes a size of 4K or more (K, M, G of 1024)");
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mkcapture [-s SIZE] [-o FILE] [-q HEXFILE] "
	    "[-b LISTFILE] [-S SEED] [-n CLIENTS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *listpath = NULL;
	uint64_t seed = 20261125;
	int ch;

	while ((ch = getopt(argc, argv, "s:o:q:b:S:n:")) != -1) {
		switch (ch) {
		case 's': limit = parse_size(optarg); break;
		case 'o': path = optarg; break;
		case 'q': read_initial(optarg); break;
		case 'b': listpath = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'n':
			n_clients = (unsigned)atoi(optarg);
			if (n_clients < 1 || n_clients > MAX_CLIENTS)
				die("-n takes 1 to 200");
			break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	rng_state = seed;
	make_household();
	if (listpath != NULL) {
		FILE *f = fopen(listpath, "w");
		if (f == NULL)
			die(strerror(errno));
		for (unsigned i = 7; i < N_NAMES; i += 300)
			fprintf(f, "%s\n", names[i].name);
		if (fclose(f) != 0)
			die(strerror(errno));
	}
	out = stdout;
	if (path != NULL && (out = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "mkcapture: %s: %s\n", path, strerror(errno));
		return 1;
	}
	static char buf[1 << 20];
	setvbuf(out, buf, _IOFBF, sizeof(buf));
	uint8_t hdr[24];
	le32(hdr, 0xa1b2c3d4);
	hdr[4] = 2; hdr[5] = 0; hdr[6] = 4; hdr[7] = 0;
	le32(hdr + 8, 0);
	le32(hdr + 12, 0);
	le32(hdr + 16, 65535);
	le32(hdr + 20, 1);		/* LINKTYPE_ETHERNET */
	if (fwrite(hdr, 1, 24, out) != 24)
		die(strerror(errno));
	bytes_out = 24;

	while (bytes_out < limit) {
		unsigned r = below(100);
		if (r < 70)
			bulk_step();
		else if (r < 85)
			dns_step();
		else if (r < 95)
			handshake_step();
		else
			quic_step();
	}
	if (fflush(out) != 0 || (path != NULL && fclose(out) != 0))
		die(strerror(errno));

	fprintf(stderr, "mkcapture: packets=%llu bytes=%llu dns=%llu "
	    "queries=%llu handshake=%llu bulk=%llu quic=%llu connections=%llu "
	    "hellos=%llu hellos_split=%llu initials=%llu sni_distinct=%u "
	    "seconds=%llu open=%zu\n",
	    (unsigned long long)n_packets, (unsigned long long)bytes_out,
	    (unsigned long long)n_dns, (unsigned long long)n_queries,
	    (unsigned long long)n_handshake, (unsigned long long)n_bulk,
	    (unsigned long long)n_quic, (unsigned long long)n_conns,
	    (unsigned long long)n_hellos, (unsigned long long)n_split,
	    (unsigned long long)n_initials, n_sni,
	    (unsigned long long)(now_us / 1000000 - START_TIME),
	    established.n + handshaking.n);
	return 0;
}
