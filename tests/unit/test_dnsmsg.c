/*
 * test_dnsmsg.c: the DNS wire helpers. Queries and replies are built with
 * ldns itself, malformed ones by hand; every answer dnsmsg builds is parsed
 * back with ldns. Hostile input: every truncated prefix of a valid query and
 * reply, pointers that do not point back, records running past the end.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "dnsmsg.h"

#define QUERY_ID	0x1234
#define HEADER_LEN	12
#define OPT_LEN		11	/* an OPT record without options */
#define WIRE_MAX	16384

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put_u16(uint8_t *p, uint16_t value)
{
	p[0] = (uint8_t)(value >> 8);
	p[1] = (uint8_t)value;
}

/* Header fields of a message on the wire. */
#define QR(m)		(((m)[2] & 0x80) != 0)
#define OPCODE(m)	(((m)[2] >> 3) & 0x0f)
#define TC(m)		(((m)[2] & 0x02) != 0)
#define RD(m)		(((m)[2] & 0x01) != 0)
#define RA(m)		(((m)[3] & 0x80) != 0)
#define RCODE(m)	((m)[3] & 0x0f)
#define QDCOUNT(m)	get_u16((m) + 4)
#define ANCOUNT(m)	get_u16((m) + 6)
#define NSCOUNT(m)	get_u16((m) + 8)
#define ARCOUNT(m)	get_u16((m) + 10)

/* The length of pkt on the wire; pkt is kept. */
static size_t
wire_len(const ldns_pkt *pkt)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	assert_int_equal(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
	free(wire);
	return size;
}

/* Writes pkt into out and frees it. */
static size_t
to_wire(ldns_pkt *pkt, uint8_t *out, size_t outlen)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	assert_int_equal(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
	assert_true(size <= outlen);
	memcpy(out, wire, size);
	free(wire);
	ldns_pkt_free(pkt);
	return size;
}

/* A query with ID QUERY_ID and RD set; with an OPT when edns_size > 0. */
static size_t
make_query(const char *name, uint16_t qtype, uint16_t qclass,
    uint16_t edns_size, bool do_bit, uint8_t *out, size_t outlen)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(name);
	ldns_pkt *pkt;

	assert_non_null(owner);
	pkt = ldns_pkt_query_new(owner, qtype, qclass, LDNS_RD);
	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, QUERY_ID);
	if (edns_size > 0) {
		ldns_pkt_set_edns_udp_size(pkt, edns_size);
		ldns_pkt_set_edns_do(pkt, do_bit);
	}
	return to_wire(pkt, out, outlen);
}

/* Parses a query built by make_query() into q, which must succeed. */
static void
query_for(const char *name, uint16_t qtype, uint16_t edns_size, bool do_bit,
    struct dnsq *q)
{
	uint8_t buf[512];
	size_t len = make_query(name, qtype, LDNS_RR_CLASS_IN, edns_size,
	    do_bit, buf, sizeof(buf));

	assert_int_equal(dnsmsg_parse_query(buf, len, q), DNSMSG_OK);
}

/* A reply (QR, RD, RA) to question, written as "a.test. IN A"; no records. */
static ldns_pkt *
reply_new(uint16_t id, const char *question, uint8_t rcode)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rr *rr = NULL;

	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_rd(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	ldns_pkt_set_rcode(pkt, rcode);
	assert_int_equal(ldns_rr_new_question_frm_str(&rr, question, NULL,
	    NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, rr);
	return pkt;
}

static void
push_rr(ldns_pkt *pkt, ldns_pkt_section section, const char *text)
{
	ldns_rr *rr = NULL;

	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	ldns_pkt_push_rr(pkt, section, rr);
}

/* Parses a message with ldns, which must accept it. */
static ldns_pkt *
parse_with_ldns(const uint8_t *buf, size_t len)
{
	ldns_pkt *pkt = NULL;

	assert_int_equal(ldns_wire2pkt(&pkt, buf, len), LDNS_STATUS_OK);
	return pkt;
}

/* The text form of a name, as ldns writes it (case kept). */
static void
assert_name(const ldns_rdf *name, const char *expected)
{
	char *text = ldns_rdf2str(name);

	assert_non_null(text);
	assert_string_equal(text, expected);
	free(text);
}

/* A header: ID 0x1234, RD, and the four section counts. */
#define HEADER(qd, an, ns, ar) \
	0x12, 0x34, 0x01, 0x00, 0x00, (qd), 0x00, (an), 0x00, (ns), 0x00, (ar)

/*
 * "a.test" A IN, RD, with an OPT (payload 4096, DO), written out so that
 * single fields can be broken: question name at 12, qtype at 20, qclass at
 * 22, OPT owner at 24, its payload at 27, flags at 31, rdlength at 33.
 */
static const uint8_t edns_query[] = {
	HEADER(1, 0, 0, 1),
	0x01, 'a', 0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
};

static enum dnsmsg_status
parse_query(const uint8_t *buf, size_t len)
{
	struct dnsq q;

	return dnsmsg_parse_query(buf, len, &q);
}

/* ------------------------------------------------------------ queries */

#define N_ELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Queries that parse, and what dnsmsg_parse_query() makes of them. */
static const struct {
	const char	*name;
	uint16_t	 qtype;
	uint16_t	 qclass;
	uint16_t	 edns_size;	/* 0: no OPT */
	bool		 do_bit;
	const char	*qname;
	uint16_t	 udp_size;
} good_queries[] = {
	{ "WWW.Example.COM.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, false,
	    "www.example.com", 512 },
	{ ".", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, 0, false, "", 512 },
	{ "version.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 0, false,
	    "version.bind", 512 },
	{ "a.test.", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 4096, true,
	    "a.test", 4096 },
	{ "a.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1232, false,
	    "a.test", 1232 },
	/* RFC 6891 §6.2.5: a payload size under 512 is taken as 512. */
	{ "a.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 100, false,
	    "a.test", 512 },
	{ "a.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 511, true,
	    "a.test", 512 },
	{ "a.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 65535, true,
	    "a.test", 65535 },
	/* Bytes that are not plain in a name come back as ldns escapes them. */
	{ "a\\032b.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, false,
	    "a\\032b.test", 512 },
	{ "A\\.B.Test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, false,
	    "a\\.b.test", 512 },
	{ "x\\000y.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, false,
	    "x\\000y.test", 512 },
	{ "Caf\\233.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, false,
	    "caf\\233.test", 512 },
};

static void
test_query_good(void **state)
{
	uint8_t buf[512];
	struct dnsq q;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(good_queries); i++) {
		size_t len = make_query(good_queries[i].name,
		    good_queries[i].qtype, good_queries[i].qclass,
		    good_queries[i].edns_size, good_queries[i].do_bit, buf,
		    sizeof(buf));

		assert_int_equal(dnsmsg_parse_query(buf, len, &q), DNSMSG_OK);
		assert_int_equal(q.id, QUERY_ID);
		assert_int_equal(q.qtype, good_queries[i].qtype);
		assert_int_equal(q.qclass, good_queries[i].qclass);
		assert_string_equal(q.qname, good_queries[i].qname);
		assert_int_equal(q.qname_len, strlen(good_queries[i].qname));
		assert_int_equal(q.has_edns, good_queries[i].edns_size > 0);
		assert_int_equal(q.do_bit, good_queries[i].do_bit);
		assert_int_equal(q.udp_size, good_queries[i].udp_size);
	}
}

/* The hand-written query, and an OPT with a payload size of 0. */
static void
test_query_edns_by_hand(void **state)
{
	uint8_t buf[sizeof(edns_query)];
	struct dnsq q;

	(void)state;
	assert_int_equal(dnsmsg_parse_query(edns_query, sizeof(edns_query),
	    &q), DNSMSG_OK);
	assert_string_equal(q.qname, "a.test");
	assert_true(q.has_edns);
	assert_true(q.do_bit);
	assert_int_equal(q.udp_size, 4096);

	memcpy(buf, edns_query, sizeof(buf));
	put_u16(buf + 27, 0);
	buf[31] = 0;
	assert_int_equal(dnsmsg_parse_query(buf, sizeof(buf), &q), DNSMSG_OK);
	assert_true(q.has_edns);
	assert_false(q.do_bit);
	assert_int_equal(q.udp_size, 512);
}

/* The longest name there is, all bytes escaped, still fits qname. */
static void
test_query_longest_name(void **state)
{
	uint8_t buf[512];
	struct dnsq q;
	size_t len = HEADER_LEN;

	(void)state;
	memcpy(buf, edns_query, HEADER_LEN);
	put_u16(buf + 10, 0);
	/* 3 labels of 63 and one of 61: 255 bytes with the root. */
	for (int label = 0; label < 4; label++) {
		uint8_t size = label < 3 ? 63 : 61;
		buf[len++] = size;
		memset(buf + len, 0x01, size);
		len += size;
	}
	buf[len++] = 0;
	assert_int_equal(len - HEADER_LEN, 255);
	put_u16(buf + len, LDNS_RR_TYPE_A);
	put_u16(buf + len + 2, LDNS_RR_CLASS_IN);
	len += 4;
	assert_int_equal(dnsmsg_parse_query(buf, len, &q), DNSMSG_OK);
	assert_int_equal(q.qname_len, 250 * 4 + 3);
	assert_int_equal(strlen(q.qname), q.qname_len);
	assert_memory_equal(q.qname, "\\001\\001", 8);
}

static void
test_query_drop(void **state)
{
	uint8_t buf[sizeof(edns_query)];

	(void)state;
	for (size_t len = 0; len < HEADER_LEN; len++)
		assert_int_equal(parse_query(edns_query, len), DNSMSG_DROP);
	memcpy(buf, edns_query, sizeof(buf));
	buf[2] |= 0x80;		/* QR: a response, never answered */
	assert_int_equal(parse_query(buf, sizeof(buf)), DNSMSG_DROP);
	assert_int_equal(parse_query(buf, HEADER_LEN), DNSMSG_DROP);
}

static void
test_query_notimp(void **state)
{
	static const uint8_t opcodes[] = {
		LDNS_PACKET_IQUERY, LDNS_PACKET_STATUS, LDNS_PACKET_NOTIFY,
		LDNS_PACKET_UPDATE, 8, 15,
	};
	uint8_t buf[sizeof(edns_query)];
	struct dnsq q;

	(void)state;
	for (size_t i = 0; i < sizeof(opcodes); i++) {
		memcpy(buf, edns_query, sizeof(buf));
		buf[0] = 0xbe;
		buf[1] = 0xef;
		buf[2] = (uint8_t)((buf[2] & 0x87) | opcodes[i] << 3);
		assert_int_equal(dnsmsg_parse_query(buf, sizeof(buf), &q),
		    DNSMSG_NOTIMP);
		assert_int_equal(q.id, 0xbeef);
		/* Even a bare header is worth a NOTIMP. */
		assert_int_equal(dnsmsg_parse_query(buf, HEADER_LEN, &q),
		    DNSMSG_NOTIMP);
		assert_int_equal(q.id, 0xbeef);
	}
}

static void
assert_formerr(const uint8_t *buf, size_t len)
{
	struct dnsq q;

	assert_int_equal(dnsmsg_parse_query(buf, len, &q), DNSMSG_FORMERR);
	assert_int_equal(q.id, get_u16(buf));
}

static void
test_query_formerr_counts(void **state)
{
	uint8_t buf[sizeof(edns_query)];

	(void)state;
	memcpy(buf, edns_query, sizeof(buf));
	put_u16(buf + 4, 0);
	assert_formerr(buf, sizeof(buf));
	put_u16(buf + 4, 2);
	assert_formerr(buf, sizeof(buf));

	memcpy(buf, edns_query, sizeof(buf));
	put_u16(buf + 6, 1);
	assert_formerr(buf, sizeof(buf));

	memcpy(buf, edns_query, sizeof(buf));
	put_u16(buf + 8, 1);
	assert_formerr(buf, sizeof(buf));

	/* An arcount promising a record that is not there. */
	memcpy(buf, edns_query, sizeof(buf));
	put_u16(buf + 10, 2);
	assert_formerr(buf, sizeof(buf));
}

/* "a.test. IN A" with a well-formed A record in section. */
static size_t
make_query_with_record(ldns_pkt_section section, uint8_t *out, size_t outlen)
{
	ldns_pkt *pkt = ldns_pkt_query_new(ldns_dname_new_frm_str("a.test."),
	    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);

	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, QUERY_ID);
	push_rr(pkt, section, "a.test. 300 IN A 192.0.2.1");
	return to_wire(pkt, out, outlen);
}

/* A question has no answer or authority yet; additional records it may. */
static void
test_query_formerr_records(void **state)
{
	uint8_t buf[512];
	size_t len;

	(void)state;
	len = make_query_with_record(LDNS_SECTION_ANSWER, buf, sizeof(buf));
	assert_formerr(buf, len);
	len = make_query_with_record(LDNS_SECTION_AUTHORITY, buf, sizeof(buf));
	assert_formerr(buf, len);
	len = make_query_with_record(LDNS_SECTION_ADDITIONAL, buf,
	    sizeof(buf));
	assert_int_equal(parse_query(buf, len), DNSMSG_OK);
}

/* Two questions, both present: still one too many. */
static void
test_query_formerr_two_questions(void **state)
{
	static const uint8_t buf[] = {
		HEADER(2, 0, 0, 0),
		0x01, 'a', 0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01,
		0x00, 0x01,
		0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01,
	};

	(void)state;
	assert_formerr(buf, sizeof(buf));
}

/* RFC 6891 §6.1.1: more than one OPT is a FORMERR. */
static void
test_query_formerr_two_opts(void **state)
{
	uint8_t buf[sizeof(edns_query) + OPT_LEN];

	(void)state;
	memcpy(buf, edns_query, sizeof(edns_query));
	memcpy(buf + sizeof(edns_query), edns_query + 24, OPT_LEN);
	put_u16(buf + 10, 2);
	assert_formerr(buf, sizeof(buf));
}

/*
 * RFC 8945 §5.1: a TSIG is the last record. Two of them are refused before
 * ldns sees them (it would keep only the last), and so is one followed by
 * another record; the error answer is the header alone.
 */
static void
test_query_formerr_tsig_not_last(void **state)
{
#define TSIG_EMPTY	0x00, 0x00, 0xfa, 0x00, 0xff, 0, 0, 0, 0, 0x00, 0x00
	static const uint8_t two[] = {
		HEADER(1, 0, 0, 2),
		0x01, 'a', 0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01, 0x00, 0x01,
		TSIG_EMPTY, TSIG_EMPTY,
	};
	static const uint8_t then_opt[] = {
		HEADER(1, 0, 0, 2),
		0x01, 'a', 0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01, 0x00, 0x01,
		TSIG_EMPTY,
		0x00, 0x00, 0x29, 0x10, 0x00, 0, 0, 0, 0, 0x00, 0x00,
	};
#undef TSIG_EMPTY
	uint8_t out[512];

	(void)state;
	assert_formerr(two, sizeof(two));
	assert_formerr(then_opt, sizeof(then_opt));
	assert_int_equal(dnsmsg_error(two, sizeof(two), LDNS_RCODE_FORMERR, out,
	    sizeof(out)), HEADER_LEN);
}

static void
test_query_formerr_pointers(void **state)
{
	/* The question's name is a pointer to itself. */
	static const uint8_t self[] = {
		HEADER(1, 0, 0, 0),
		0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
	};
	/*
	 * The question's name points forward, to a well-formed name in the
	 * additional section: ldns follows it, the structure check must not.
	 */
	static const uint8_t forward[] = {
		HEADER(1, 0, 0, 1),
		0xc0, 0x12, 0x00, 0x01, 0x00, 0x01,
		0x01, 'a', 0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01,
		0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04,
		192, 0, 2, 1,
	};
	/* A pointer into the header. */
	static const uint8_t header[] = {
		HEADER(1, 0, 0, 0),
		0xc0, 0x04, 0x00, 0x01, 0x00, 0x01,
	};
	/* A label then a pointer back into that same name. */
	static const uint8_t inside[] = {
		HEADER(1, 0, 0, 0),
		0x01, 'a', 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
	};
	/* A pointer cut after its first byte. */
	static const uint8_t half[] = {
		HEADER(1, 0, 0, 0),
		0xc0,
	};
	ldns_pkt *pkt = NULL;

	(void)state;
	assert_formerr(self, sizeof(self));
	assert_formerr(header, sizeof(header));
	assert_formerr(inside, sizeof(inside));
	assert_formerr(half, sizeof(half));
	assert_int_equal(ldns_wire2pkt(&pkt, forward, sizeof(forward)),
	    LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	assert_formerr(forward, sizeof(forward));
}

static void
test_query_formerr_overruns(void **state)
{
	/* A 5-byte label with 2 bytes left. */
	static const uint8_t label[] = {
		HEADER(1, 0, 0, 0),
		0x05, 'a', 'b',
	};
	/* An extended label type (0x40), retired by RFC 6891 §5. */
	static const uint8_t extended[] = {
		HEADER(1, 0, 0, 0),
		0x41, 'a', 0x00, 0x00, 0x01, 0x00, 0x01,
	};
	/* The name ends, the type and class do not follow. */
	static const uint8_t question[] = {
		HEADER(1, 0, 0, 0),
		0x01, 'a', 0x00, 0x00, 0x01, 0x00,
	};
	uint8_t buf[sizeof(edns_query)];

	(void)state;
	assert_formerr(label, sizeof(label));
	assert_formerr(extended, sizeof(extended));
	assert_formerr(question, sizeof(question));

	/* The OPT's rdlength says 4, nothing follows. */
	memcpy(buf, edns_query, sizeof(buf));
	put_u16(buf + 33, 4);
	assert_formerr(buf, sizeof(buf));
	put_u16(buf + 33, 0xffff);
	assert_formerr(buf, sizeof(buf));
}

/* Every prefix is too short to be a header, or cut inside a record. */
static void
test_query_truncated_prefixes(void **state)
{
	uint8_t built[512];
	const uint8_t *inputs[2] = { edns_query, built };
	size_t lens[2] = { sizeof(edns_query), 0 };

	(void)state;
	lens[1] = make_query("a.long.name.example.", LDNS_RR_TYPE_AAAA,
	    LDNS_RR_CLASS_IN, 4096, true, built, sizeof(built));
	assert_int_equal(parse_query(built, lens[1]), DNSMSG_OK);
	for (size_t i = 0; i < 2; i++) {
		for (size_t len = 0; len < lens[i]; len++) {
			/* Exactly len bytes, so a read past them is caught. */
			uint8_t *prefix = malloc(len > 0 ? len : 1);
			uint8_t out[512];

			assert_non_null(prefix);
			memcpy(prefix, inputs[i], len);
			assert_int_equal(parse_query(prefix, len),
			    len < HEADER_LEN ? DNSMSG_DROP : DNSMSG_FORMERR);
			assert_int_equal(dnsmsg_error(prefix, len,
			    LDNS_RCODE_FORMERR, out, sizeof(out)),
			    len < HEADER_LEN ? 0 : HEADER_LEN);
			free(prefix);
		}
	}
}

/* ------------------------------------------------------------ replies */

/*
 * A reply to "www.test. IN A" with an OPT: two CNAMEs, addresses, an NS in
 * authority and an address in additional, every TTL different.
 */
static const struct {
	const char	*text;
	ldns_pkt_section section;
	uint16_t	 type;
	uint32_t	 ttl;
} rich_records[] = {
	{ "www.test. 3600 IN CNAME Edge.Test.", LDNS_SECTION_ANSWER,
	    LDNS_RR_TYPE_CNAME, 3600 },
	{ "edge.test. 1800 IN CNAME cdn.test.", LDNS_SECTION_ANSWER,
	    LDNS_RR_TYPE_CNAME, 1800 },
	{ "cdn.test. 120 IN A 192.0.2.1", LDNS_SECTION_ANSWER,
	    LDNS_RR_TYPE_A, 120 },
	{ "cdn.test. 240 IN AAAA 2001:db8::1", LDNS_SECTION_ANSWER,
	    LDNS_RR_TYPE_AAAA, 240 },
	{ "cdn.test. 90 IN A 192.0.2.2", LDNS_SECTION_ANSWER,
	    LDNS_RR_TYPE_A, 90 },
	{ "test. 7200 IN NS ns.test.", LDNS_SECTION_AUTHORITY,
	    LDNS_RR_TYPE_NS, 7200 },
	{ "ns.test. 7201 IN A 192.0.2.53", LDNS_SECTION_ADDITIONAL,
	    LDNS_RR_TYPE_A, 7201 },
};
#define N_RICH	N_ELEMS(rich_records)

static size_t
make_rich_reply(uint8_t *out, size_t outlen)
{
	ldns_pkt *pkt = reply_new(QUERY_ID, "www.test. IN A",
	    LDNS_RCODE_NOERROR);

	for (size_t i = 0; i < N_RICH; i++)
		push_rr(pkt, rich_records[i].section, rich_records[i].text);
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	ldns_pkt_set_edns_do(pkt, true);
	return to_wire(pkt, out, outlen);
}

static void
test_reply_rich(void **state)
{
	static const uint8_t a1[4] = { 192, 0, 2, 1 }, a2[4] = { 192, 0, 2, 2 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct dnsreply reply;
	struct dnsq q;
	uint8_t buf[1024];
	size_t len;

	(void)state;
	query_for("WWW.test.", LDNS_RR_TYPE_A, 4096, true, &q);
	len = make_rich_reply(buf, sizeof(buf));
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID, &reply),
	    DNSMSG_OK);
	assert_int_equal(reply.rcode, LDNS_RCODE_NOERROR);
	assert_false(reply.tc);
	assert_true(reply.has_opt);
	assert_false(reply.uncacheable);
	assert_int_equal(reply.cache_ttl, 90);

	assert_int_equal(reply.n_cnames, 2);
	assert_string_equal(reply.cnames[0], "edge.test");
	assert_string_equal(reply.cnames[1], "cdn.test");

	/* The answer's addresses, in order; not the additional one. */
	assert_int_equal(reply.n_addrs, 3);
	assert_int_equal(reply.addrs[0].family, AF_INET);
	assert_memory_equal(reply.addrs[0].bytes, a1, 4);
	assert_int_equal(reply.addrs[1].family, AF_INET6);
	assert_memory_equal(reply.addrs[1].bytes, a6, 16);
	assert_int_equal(reply.addrs[2].family, AF_INET);
	assert_memory_equal(reply.addrs[2].bytes, a2, 4);
}

/*
 * Each offset is the TTL field of the next record: the type and class
 * before it, the rdlength after it; the OPT record has none.
 */
static void
test_reply_ttl_offsets(void **state)
{
	struct dnsreply reply;
	struct dnsq q;
	uint8_t buf[1024];
	size_t len;

	(void)state;
	query_for("www.test.", LDNS_RR_TYPE_A, 4096, true, &q);
	len = make_rich_reply(buf, sizeof(buf));
	assert_int_equal(ARCOUNT(buf), 2);
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID, &reply),
	    DNSMSG_OK);
	assert_int_equal(reply.n_ttl_offsets, N_RICH);
	for (size_t i = 0; i < N_RICH; i++) {
		size_t off = reply.ttl_offsets[i];

		assert_true(off >= HEADER_LEN + 4);
		assert_true(off + 6 <= len);
		if (i > 0)
			assert_true(off > reply.ttl_offsets[i - 1]);
		assert_int_equal(get_u32(buf + off), rich_records[i].ttl);
		assert_int_equal(get_u16(buf + off - 4), rich_records[i].type);
		assert_int_equal(get_u16(buf + off - 2), LDNS_RR_CLASS_IN);
	}
	/* After the last one: its rdata (4 bytes), then the OPT. */
	size_t opt = reply.ttl_offsets[N_RICH - 1] + 4 + 2 + 4;
	assert_int_equal(len - opt, OPT_LEN);
	assert_int_equal(get_u16(buf + opt + 1), LDNS_RR_TYPE_OPT);
}

/* What dnsmsg_parse_reply() says of an empty reply to question, for q. */
static enum dnsmsg_status
judge_question(const char *question, const struct dnsq *q)
{
	static struct dnsreply reply;
	uint8_t buf[512];
	size_t len = to_wire(reply_new(QUERY_ID, question, LDNS_RCODE_NOERROR),
	    buf, sizeof(buf));

	return dnsmsg_parse_reply(buf, len, q, QUERY_ID, &reply);
}

static void
test_reply_mismatch(void **state)
{
	struct dnsreply reply;
	struct dnsq q;
	uint8_t buf[512];
	size_t len;
	ldns_pkt *pkt;

	(void)state;
	query_for("a.test.", LDNS_RR_TYPE_A, 0, false, &q);

	pkt = reply_new(QUERY_ID, "a.test. IN A", LDNS_RCODE_NOERROR);
	push_rr(pkt, LDNS_SECTION_ANSWER, "a.test. 300 IN A 192.0.2.1");
	len = to_wire(pkt, buf, sizeof(buf));
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID, &reply),
	    DNSMSG_OK);
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID + 1,
	    &reply), DNSMSG_MISMATCH);
	buf[2] &= 0x7f;		/* QR clear: a query, not a reply */
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID, &reply),
	    DNSMSG_MISMATCH);

	assert_int_equal(judge_question("a.test. IN A", &q), DNSMSG_OK);
	assert_int_equal(judge_question("b.test. IN A", &q), DNSMSG_MISMATCH);
	/* A name under it or above it is another name. */
	assert_int_equal(judge_question("a.test.x. IN A", &q),
	    DNSMSG_MISMATCH);
	assert_int_equal(judge_question("x.a.test. IN A", &q),
	    DNSMSG_MISMATCH);
	assert_int_equal(judge_question("test. IN A", &q), DNSMSG_MISMATCH);
	assert_int_equal(judge_question("a.test. IN AAAA", &q),
	    DNSMSG_MISMATCH);
	assert_int_equal(judge_question("a.test. CH A", &q), DNSMSG_MISMATCH);

	/* No question at all cannot be matched either. */
	pkt = ldns_pkt_new();
	ldns_pkt_set_id(pkt, QUERY_ID);
	ldns_pkt_set_qr(pkt, true);
	len = to_wire(pkt, buf, sizeof(buf));
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID, &reply),
	    DNSMSG_MISMATCH);
}

/* Names compare without regard to case (RFC 4343), "A.TEST" is "a.test". */
static void
test_reply_name_case(void **state)
{
	struct dnsq q;

	(void)state;
	query_for("a.test.", LDNS_RR_TYPE_A, 0, false, &q);
	assert_int_equal(judge_question("A.TEST. IN A", &q), DNSMSG_OK);
	assert_int_equal(judge_question("a.TeSt. IN A", &q), DNSMSG_OK);

	query_for("A.TeSt.", LDNS_RR_TYPE_A, 0, false, &q);
	assert_int_equal(judge_question("a.test. IN A", &q), DNSMSG_OK);
	assert_int_equal(judge_question("b.test. IN A", &q), DNSMSG_MISMATCH);
}

/* A SOA with TTL and MINIMUM as given (RFC 2308 §5 takes the smaller). */
#define SOA(ttl, minimum)	"test. " #ttl " IN SOA ns.test. admin.test. " \
				"1 7200 3600 1209600 " #minimum

/* Parses a reply to "a.test. IN A" built from pkt, which must match. */
static void
parse_ok(ldns_pkt *pkt, struct dnsreply *reply)
{
	uint8_t buf[8192];
	struct dnsq q;
	size_t len;

	query_for("a.test.", LDNS_RR_TYPE_A, 0, false, &q);
	len = to_wire(pkt, buf, sizeof(buf));
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID, reply),
	    DNSMSG_OK);
}

/* How long replies to "a.test. IN A" may be cached. */
static const struct {
	const char	*why;
	uint8_t		 rcode;
	bool		 tc;
	const char	*answer[2];
	const char	*authority;
	uint32_t	 cache_ttl;
} cache_ttl_cases[] = {
	{ "the smallest answer TTL", LDNS_RCODE_NOERROR, false,
	    { "a.test. 300 IN A 192.0.2.1", "a.test. 200 IN A 192.0.2.2" },
	    NULL, 200 },
	{ "a zero TTL: not cached", LDNS_RCODE_NOERROR, false,
	    { "a.test. 300 IN A 192.0.2.1", "a.test. 0 IN A 192.0.2.2" },
	    NULL, 0 },
	{ "NXDOMAIN: SOA MINIMUM under its TTL", LDNS_RCODE_NXDOMAIN, false,
	    { NULL }, SOA(600, 300), 300 },
	{ "NXDOMAIN: SOA TTL under its MINIMUM", LDNS_RCODE_NXDOMAIN, false,
	    { NULL }, SOA(120, 300), 120 },
	{ "NODATA: SOA MINIMUM", LDNS_RCODE_NOERROR, false,
	    { NULL }, SOA(600, 300), 300 },
	{ "NODATA: SOA TTL", LDNS_RCODE_NOERROR, false,
	    { NULL }, SOA(45, 300), 45 },
	{ "NXDOMAIN without SOA", LDNS_RCODE_NXDOMAIN, false,
	    { NULL }, NULL, 0 },
	{ "NODATA without SOA", LDNS_RCODE_NOERROR, false,
	    { NULL }, "test. 600 IN NS ns.test.", 0 },
	{ "SERVFAIL", LDNS_RCODE_SERVFAIL, false,
	    { NULL }, NULL, 0 },
	{ "SERVFAIL with records", LDNS_RCODE_SERVFAIL, false,
	    { "a.test. 300 IN A 192.0.2.1" }, SOA(600, 300), 0 },
	{ "REFUSED with a SOA", LDNS_RCODE_REFUSED, false,
	    { NULL }, SOA(600, 300), 0 },
	{ "truncated", LDNS_RCODE_NOERROR, true,
	    { "a.test. 300 IN A 192.0.2.1" }, NULL, 0 },
	{ "truncated NXDOMAIN", LDNS_RCODE_NXDOMAIN, true,
	    { NULL }, SOA(600, 300), 0 },
	{ "answer TTL above the cap", LDNS_RCODE_NOERROR, false,
	    { "a.test. 100000 IN A 192.0.2.1" }, NULL,
	    DNSMSG_MAX_CACHE_TTL },
	{ "answer TTL at the cap", LDNS_RCODE_NOERROR, false,
	    { "a.test. 86400 IN A 192.0.2.1" }, NULL, 86400 },
	{ "negative TTL above the cap", LDNS_RCODE_NXDOMAIN, false,
	    { NULL }, SOA(200000, 100000), DNSMSG_MAX_CACHE_TTL },
	{ "an authority record shorter-lived than the answer",
	    LDNS_RCODE_NOERROR, false, { "a.test. 300 IN A 192.0.2.1" },
	    "test. 30 IN NS ns.test.", 30 },
	{ "NXDOMAIN after a CNAME shorter-lived than the SOA",
	    LDNS_RCODE_NXDOMAIN, false, { "a.test. 20 IN CNAME b.test." },
	    SOA(600, 300), 20 },
};

static void
test_reply_cache_ttl(void **state)
{
	struct dnsreply reply;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cache_ttl_cases); i++) {
		ldns_pkt *pkt = reply_new(QUERY_ID, "a.test. IN A",
		    cache_ttl_cases[i].rcode);
		size_t n_answers = 0;

		ldns_pkt_set_tc(pkt, cache_ttl_cases[i].tc);
		for (size_t a = 0; a < 2; a++) {
			if (cache_ttl_cases[i].answer[a] == NULL)
				continue;
			push_rr(pkt, LDNS_SECTION_ANSWER,
			    cache_ttl_cases[i].answer[a]);
			n_answers++;
		}
		if (cache_ttl_cases[i].authority != NULL)
			push_rr(pkt, LDNS_SECTION_AUTHORITY,
			    cache_ttl_cases[i].authority);
		parse_ok(pkt, &reply);
		if (reply.cache_ttl != cache_ttl_cases[i].cache_ttl)
			fail_msg("%s: cache_ttl %u, expected %u",
			    cache_ttl_cases[i].why, (unsigned)reply.cache_ttl,
			    (unsigned)cache_ttl_cases[i].cache_ttl);
		assert_int_equal(reply.rcode, cache_ttl_cases[i].rcode);
		assert_int_equal(reply.tc, cache_ttl_cases[i].tc);
		assert_int_equal(reply.n_addrs + reply.n_cnames, n_answers);
		assert_int_equal(reply.n_ttl_offsets, n_answers +
		    (cache_ttl_cases[i].authority != NULL));
	}
}

/* Parses a reply to "a.test. IN A" with n addresses 10.0.0.0, 10.0.0.1... */
static void
parse_many_addrs(int n, struct dnsreply *reply)
{
	ldns_pkt *pkt = reply_new(QUERY_ID, "a.test. IN A", LDNS_RCODE_NOERROR);
	char text[64];

	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "a.test. 300 IN A 10.0.%d.%d",
		    i / 256, i % 256);
		push_rr(pkt, LDNS_SECTION_ANSWER, text);
	}
	parse_ok(pkt, reply);
}

/* The first DNSMSG_MAX_ADDRS are kept, the rest only counted for TTLs. */
static void
test_reply_many_addrs(void **state)
{
	struct dnsreply reply;

	(void)state;
	parse_many_addrs(DNSMSG_MAX_ADDRS + 8, &reply);
	assert_int_equal(reply.n_addrs, DNSMSG_MAX_ADDRS);
	for (size_t i = 0; i < DNSMSG_MAX_ADDRS; i++) {
		assert_int_equal(reply.addrs[i].family, AF_INET);
		assert_int_equal(reply.addrs[i].bytes[3], i);
	}
	assert_int_equal(reply.n_ttl_offsets, DNSMSG_MAX_ADDRS + 8);
	assert_int_equal(reply.cache_ttl, 300);
}

static void
test_reply_many_cnames(void **state)
{
	struct dnsreply reply;
	char text[64];
	ldns_pkt *pkt;

	(void)state;
	pkt = reply_new(QUERY_ID, "a.test. IN A", LDNS_RCODE_NOERROR);
	for (int i = 0; i < DNSMSG_MAX_CNAMES + 4; i++) {
		snprintf(text, sizeof(text), "c%d.test. 300 IN CNAME c%d.test.",
		    i, i + 1);
		push_rr(pkt, LDNS_SECTION_ANSWER, text);
	}
	parse_ok(pkt, &reply);
	assert_int_equal(reply.n_cnames, DNSMSG_MAX_CNAMES);
	assert_string_equal(reply.cnames[0], "c1.test");
	assert_string_equal(reply.cnames[DNSMSG_MAX_CNAMES - 1], "c16.test");
}

/* More TTLs than the cache could age: the reply is passed, not cached. */
static void
test_reply_too_many_ttls(void **state)
{
	struct dnsreply reply;

	(void)state;
	parse_many_addrs(DNSMSG_MAX_TTLS + 1, &reply);
	assert_true(reply.uncacheable);
	assert_int_equal(reply.n_ttl_offsets, DNSMSG_MAX_TTLS);
	assert_int_equal(reply.cache_ttl, 0);
	assert_int_equal(reply.n_addrs, DNSMSG_MAX_ADDRS);

	parse_many_addrs(DNSMSG_MAX_TTLS, &reply);
	assert_false(reply.uncacheable);
	assert_int_equal(reply.n_ttl_offsets, DNSMSG_MAX_TTLS);
	assert_int_equal(reply.cache_ttl, 300);
}

static void
test_reply_formerr(void **state)
{
	struct dnsreply reply;
	struct dnsq q;
	uint8_t buf[1024], bad[1024];
	ldns_pkt *pkt = NULL;
	size_t len, first_owner, second_owner, last_ttl;

	(void)state;
	query_for("www.test.", LDNS_RR_TYPE_A, 4096, true, &q);
	len = make_rich_reply(buf, sizeof(buf));
	assert_int_equal(dnsmsg_parse_reply(buf, len, &q, QUERY_ID, &reply),
	    DNSMSG_OK);
	/* The first owner is a pointer to the question's name. */
	first_owner = reply.ttl_offsets[0] - 4 - 2;
	assert_int_equal(buf[first_owner] & 0xc0, 0xc0);
	/* The second begins after the first record's TTL, rdlength, rdata. */
	second_owner = reply.ttl_offsets[0] + 4 + 2 +
	    get_u16(buf + reply.ttl_offsets[0] + 4);
	last_ttl = reply.ttl_offsets[N_RICH - 1];

	/* One answer more than there is. */
	memcpy(bad, buf, len);
	put_u16(bad + 6, (uint16_t)(ANCOUNT(buf) + 1));
	assert_int_equal(dnsmsg_parse_reply(bad, len, &q, QUERY_ID, &reply),
	    DNSMSG_FORMERR);

	/* The last record's rdata running over the OPT and past the end. */
	memcpy(bad, buf, len);
	put_u16(bad + last_ttl + 4, 4 + OPT_LEN + 1);
	assert_int_equal(dnsmsg_parse_reply(bad, len, &q, QUERY_ID, &reply),
	    DNSMSG_FORMERR);
	put_u16(bad + last_ttl + 4, 0xffff);
	assert_int_equal(dnsmsg_parse_reply(bad, len, &q, QUERY_ID, &reply),
	    DNSMSG_FORMERR);

	/* A second OPT. */
	memcpy(bad, buf, len);
	memcpy(bad + len, buf + len - OPT_LEN, OPT_LEN);
	put_u16(bad + 10, (uint16_t)(ARCOUNT(buf) + 1));
	assert_int_equal(dnsmsg_parse_reply(bad, len + OPT_LEN, &q, QUERY_ID,
	    &reply), DNSMSG_FORMERR);

	/* The first answer's owner pointing at itself. */
	memcpy(bad, buf, len);
	put_u16(bad + first_owner, (uint16_t)(0xc000 | first_owner));
	assert_int_equal(dnsmsg_parse_reply(bad, len, &q, QUERY_ID, &reply),
	    DNSMSG_FORMERR);

	/* Pointing forward, at the next owner: ldns would take it. */
	put_u16(bad + first_owner, (uint16_t)(0xc000 | second_owner));
	assert_int_equal(ldns_wire2pkt(&pkt, bad, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	assert_int_equal(dnsmsg_parse_reply(bad, len, &q, QUERY_ID, &reply),
	    DNSMSG_FORMERR);

	/* Shorter than a header. */
	assert_int_equal(dnsmsg_parse_reply(buf, HEADER_LEN - 1, &q, QUERY_ID,
	    &reply), DNSMSG_FORMERR);
}

static void
test_reply_truncated_prefixes(void **state)
{
	struct dnsreply reply;
	struct dnsq q;
	uint8_t buf[1024];
	size_t full;

	(void)state;
	query_for("www.test.", LDNS_RR_TYPE_A, 4096, true, &q);
	full = make_rich_reply(buf, sizeof(buf));
	for (size_t len = 0; len < full; len++) {
		uint8_t *prefix = malloc(len > 0 ? len : 1);

		assert_non_null(prefix);
		memcpy(prefix, buf, len);
		assert_int_not_equal(dnsmsg_parse_reply(prefix, len, &q,
		    QUERY_ID, &reply), DNSMSG_OK);
		free(prefix);
	}
}

/*
 * Every byte of a valid reply set to values that mean something in a
 * header, a length or a pointer: whatever comes out, nothing is read or
 * written out of bounds, and an accepted reply has its TTLs inside it.
 */
static void
test_reply_byte_changes(void **state)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x3f, 0x40, 0xc0, 0xff };
	struct dnsreply reply;
	struct dnsq q;
	uint8_t buf[1024], out[1024];
	size_t len;

	(void)state;
	query_for("www.test.", LDNS_RR_TYPE_A, 0, false, &q);
	len = make_rich_reply(buf, sizeof(buf));
	for (size_t pos = 0; pos < len; pos++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			uint8_t *msg = malloc(len);

			assert_non_null(msg);
			memcpy(msg, buf, len);
			msg[pos] = values[v];
			if (dnsmsg_parse_reply(msg, len, &q, QUERY_ID,
			    &reply) == DNSMSG_OK) {
				assert_true(reply.n_addrs <= DNSMSG_MAX_ADDRS);
				for (size_t i = 0; i < reply.n_ttl_offsets; i++)
					assert_true(reply.ttl_offsets[i] + 4u <=
					    len);
			}
			(void)parse_query(msg, len);
			assert_true(dnsmsg_error(msg, len, LDNS_RCODE_SERVFAIL,
			    out, sizeof(out)) >= HEADER_LEN);
			memcpy(out, msg, len);
			assert_true(dnsmsg_fit(out, len, sizeof(out), &q,
			    true) <= 512);
			free(msg);
		}
	}
}

/* ------------------------------------------------------------ blocked */

/*
 * The blocked answer (TTL 123) to a query built from the arguments, parsed
 * back by ldns once its header is checked: ID, QR, RA, RD, one question.
 */
static ldns_pkt *
blocked(const char *name, uint16_t qtype, uint16_t edns_size, bool do_bit,
    enum block_mode mode)
{
	uint8_t query[512], out[512];
	struct dnsq q;
	size_t query_len, len;

	query_len = make_query(name, qtype, LDNS_RR_CLASS_IN, edns_size,
	    do_bit, query, sizeof(query));
	assert_int_equal(dnsmsg_parse_query(query, query_len, &q), DNSMSG_OK);
	len = dnsmsg_blocked(query, query_len, &q, mode, 123, out,
	    sizeof(out));
	assert_true(len >= HEADER_LEN);
	/* Header as the client expects it. */
	assert_memory_equal(out, query, 2);
	assert_true(QR(out));
	assert_true(RA(out));
	assert_true(RD(out));
	assert_false(TC(out));
	assert_int_equal(OPCODE(out), LDNS_PACKET_QUERY);
	assert_int_equal(QDCOUNT(out), 1);
	assert_int_equal(NSCOUNT(out), 0);
	assert_int_equal(ARCOUNT(out), edns_size > 0 ? 1 : 0);
	return parse_with_ldns(out, len);
}

/* Null mode: 0.0.0.0 for A, :: for AAAA, owned by the name as asked. */
static void
test_blocked_null_addresses(void **state)
{
	static const uint8_t zero[16];
	static const struct {
		uint16_t	qtype;
		size_t		rdlen;
	} cases[] = {
		{ LDNS_RR_TYPE_A, 4 },
		{ LDNS_RR_TYPE_AAAA, 16 },
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		ldns_pkt *pkt = blocked("WWW.Example.COM.", cases[i].qtype, 0,
		    false, BLOCK_MODE_NULL);
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);

		assert_int_equal(ldns_pkt_get_rcode(pkt), LDNS_RCODE_NOERROR);
		assert_int_equal(ldns_pkt_ancount(pkt), 1);
		assert_int_equal(ldns_rr_get_type(rr), cases[i].qtype);
		assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
		assert_int_equal(ldns_rr_ttl(rr), 123);
		assert_name(ldns_rr_owner(rr), "WWW.Example.COM.");
		assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, 0)),
		    cases[i].rdlen);
		assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, 0)), zero,
		    cases[i].rdlen);
		rr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
		assert_name(ldns_rr_owner(rr), "WWW.Example.COM.");
		assert_int_equal(ldns_rr_get_type(rr), cases[i].qtype);
		assert_false(ldns_pkt_edns(pkt));
		ldns_pkt_free(pkt);
	}
}

/*
 * Answers without records: null mode has no address to give other types,
 * the other modes give none at all.
 */
static void
test_blocked_empty(void **state)
{
	static const struct {
		enum block_mode	mode;
		uint16_t	qtype;
		uint8_t		rcode;
	} cases[] = {
		{ BLOCK_MODE_NULL, LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR },
		{ BLOCK_MODE_NULL, LDNS_RR_TYPE_HTTPS, LDNS_RCODE_NOERROR },
		{ BLOCK_MODE_NXDOMAIN, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN },
		{ BLOCK_MODE_NXDOMAIN, LDNS_RR_TYPE_AAAA, LDNS_RCODE_NXDOMAIN },
		{ BLOCK_MODE_NXDOMAIN, LDNS_RR_TYPE_MX, LDNS_RCODE_NXDOMAIN },
		{ BLOCK_MODE_REFUSED, LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED },
		{ BLOCK_MODE_REFUSED, LDNS_RR_TYPE_AAAA, LDNS_RCODE_REFUSED },
		{ BLOCK_MODE_REFUSED, LDNS_RR_TYPE_MX, LDNS_RCODE_REFUSED },
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		ldns_pkt *pkt = blocked("Ads.Test.", cases[i].qtype, 0, false,
		    cases[i].mode);
		ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);

		assert_int_equal(ldns_pkt_get_rcode(pkt), cases[i].rcode);
		assert_int_equal(ldns_pkt_ancount(pkt), 0);
		assert_name(ldns_rr_owner(question), "Ads.Test.");
		assert_int_equal(ldns_rr_get_type(question), cases[i].qtype);
		ldns_pkt_free(pkt);
	}
}

/* The question comes back byte for byte, case included (RFC 1035 §7.3). */
static void
test_blocked_question_bytes(void **state)
{
	uint8_t query[512], out[512];
	struct dnsq q;
	size_t query_len, len;

	(void)state;
	query_len = make_query("MiXeD.CaSe.Example.", LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, 0, false, query, sizeof(query));
	assert_int_equal(dnsmsg_parse_query(query, query_len, &q), DNSMSG_OK);
	assert_string_equal(q.qname, "mixed.case.example");
	for (int mode = BLOCK_MODE_NULL; mode <= BLOCK_MODE_REFUSED; mode++) {
		len = dnsmsg_blocked(query, query_len, &q,
		    (enum block_mode)mode, 60, out, sizeof(out));
		assert_true(len >= query_len);
		assert_memory_equal(out + HEADER_LEN, query + HEADER_LEN,
		    query_len - HEADER_LEN);
	}
}

static void
test_blocked_flags(void **state)
{
	uint8_t query[512], out[512];
	struct dnsq q;
	size_t query_len, len;

	(void)state;
	query_len = make_query("ads.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
	    0, false, query, sizeof(query));
	put_u16(query, 0xfeed);
	query[2] &= (uint8_t)~0x01;	/* RD clear */
	assert_int_equal(dnsmsg_parse_query(query, query_len, &q), DNSMSG_OK);
	len = dnsmsg_blocked(query, query_len, &q, BLOCK_MODE_NULL, 60, out,
	    sizeof(out));
	assert_true(len > HEADER_LEN);
	assert_int_equal(get_u16(out), 0xfeed);
	assert_false(RD(out));
	assert_true(QR(out));
	assert_true(RA(out));
	assert_int_equal(RCODE(out), LDNS_RCODE_NOERROR);
	assert_int_equal(ANCOUNT(out), 1);
}

/* An OPT for a client that sent one, with its DO bit (RFC 6891 §7). */
static void
test_blocked_edns(void **state)
{
	ldns_pkt *pkt;

	(void)state;
	pkt = blocked("ads.test.", LDNS_RR_TYPE_A, 4096, true,
	    BLOCK_MODE_NULL);
	assert_true(ldns_pkt_edns(pkt));
	assert_true(ldns_pkt_edns_do(pkt));
	assert_int_equal(ldns_pkt_edns_udp_size(pkt), DNSMSG_UDP_MAX);
	assert_int_equal(ldns_pkt_ancount(pkt), 1);
	ldns_pkt_free(pkt);

	pkt = blocked("ads.test.", LDNS_RR_TYPE_A, 1232, false,
	    BLOCK_MODE_NXDOMAIN);
	assert_true(ldns_pkt_edns(pkt));
	assert_false(ldns_pkt_edns_do(pkt));
	ldns_pkt_free(pkt);

	pkt = blocked("ads.test.", LDNS_RR_TYPE_A, 0, false, BLOCK_MODE_NULL);
	assert_false(ldns_pkt_edns(pkt));
	ldns_pkt_free(pkt);
}

static void
test_blocked_out_too_small(void **state)
{
	uint8_t query[512], out[512];
	struct dnsq q;
	size_t query_len, len;

	(void)state;
	query_len = make_query("ads.test.", LDNS_RR_TYPE_AAAA,
	    LDNS_RR_CLASS_IN, 4096, true, query, sizeof(query));
	assert_int_equal(dnsmsg_parse_query(query, query_len, &q), DNSMSG_OK);
	len = dnsmsg_blocked(query, query_len, &q, BLOCK_MODE_NULL, 60, out,
	    sizeof(out));
	assert_true(len > HEADER_LEN);
	assert_int_equal(dnsmsg_blocked(query, query_len, &q, BLOCK_MODE_NULL,
	    60, out, len - 1), 0);
	assert_int_equal(dnsmsg_blocked(query, query_len, &q, BLOCK_MODE_NULL,
	    60, out, 0), 0);
	assert_int_equal(dnsmsg_blocked(query, query_len, &q, BLOCK_MODE_NULL,
	    60, out, len), len);
}

/* A query that does not parse has nothing to answer for. */
static void
test_blocked_unparseable(void **state)
{
	uint8_t out[512];
	struct dnsq q;

	(void)state;
	/* q must describe the query: one cut short of its question is refused. */
	assert_int_equal(dnsmsg_parse_query(edns_query, sizeof(edns_query),
	    &q), DNSMSG_OK);
	assert_int_equal(dnsmsg_blocked(edns_query, q.question_end - 1, &q,
	    BLOCK_MODE_NULL, 60, out, sizeof(out)), 0);
	assert_int_equal(dnsmsg_blocked(edns_query, HEADER_LEN - 1, &q,
	    BLOCK_MODE_NXDOMAIN, 60, out, sizeof(out)), 0);
}

/* ------------------------------------------------------------ errors */

static void
test_error_echoes_question(void **state)
{
	static const uint8_t rcodes[] = {
		LDNS_RCODE_FORMERR, LDNS_RCODE_SERVFAIL, LDNS_RCODE_REFUSED,
		LDNS_RCODE_NOTIMPL,
	};
	uint8_t query[512], out[512];
	size_t query_len, len;

	(void)state;
	query_len = make_query("Some.Name.test.", LDNS_RR_TYPE_MX,
	    LDNS_RR_CLASS_IN, 0, false, query, sizeof(query));
	for (size_t i = 0; i < sizeof(rcodes); i++) {
		len = dnsmsg_error(query, query_len, rcodes[i], out,
		    sizeof(out));
		assert_int_equal(len, query_len);
		assert_int_equal(get_u16(out), QUERY_ID);
		assert_true(QR(out));
		assert_true(RD(out));
		assert_int_equal(RCODE(out), rcodes[i]);
		assert_int_equal(QDCOUNT(out), 1);
		assert_int_equal(ANCOUNT(out), 0);
		assert_int_equal(NSCOUNT(out), 0);
		assert_int_equal(ARCOUNT(out), 0);
		assert_memory_equal(out + HEADER_LEN, query + HEADER_LEN,
		    query_len - HEADER_LEN);
		ldns_pkt_free(parse_with_ldns(out, len));
	}
}

static void
test_error_edns_query(void **state)
{
	uint8_t out[512];
	ldns_pkt *pkt;
	size_t len;

	(void)state;
	len = dnsmsg_error(edns_query, sizeof(edns_query), LDNS_RCODE_SERVFAIL,
	    out, sizeof(out));
	assert_true(len > HEADER_LEN);
	pkt = parse_with_ldns(out, len);
	assert_int_equal(ldns_pkt_get_rcode(pkt), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_qdcount(pkt), 1);
	assert_true(ldns_pkt_edns(pkt));
	assert_true(ldns_pkt_edns_do(pkt));
	ldns_pkt_free(pkt);
}

/* A NOTIMP for an opcode we do not serve keeps that opcode. */
static void
test_error_notimp_opcode(void **state)
{
	uint8_t query[sizeof(edns_query)], out[512];
	struct dnsq q;
	size_t len;

	(void)state;
	memcpy(query, edns_query, sizeof(query));
	query[2] = (uint8_t)(LDNS_PACKET_NOTIFY << 3);
	assert_int_equal(dnsmsg_parse_query(query, sizeof(query), &q),
	    DNSMSG_NOTIMP);
	len = dnsmsg_error(query, sizeof(query), LDNS_RCODE_NOTIMPL, out,
	    sizeof(out));
	assert_true(len > HEADER_LEN);
	assert_int_equal(get_u16(out), q.id);
	assert_true(QR(out));
	assert_int_equal(OPCODE(out), LDNS_PACKET_NOTIFY);
	assert_int_equal(RCODE(out), LDNS_RCODE_NOTIMPL);
}

static void
assert_header_only(const uint8_t *msg, size_t len, uint8_t rcode)
{
	uint8_t out[512];

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(dnsmsg_error(msg, len, rcode, out, sizeof(out)),
	    HEADER_LEN);
	assert_memory_equal(out, msg, 2);
	assert_true(QR(out));
	assert_true(RA(out));
	assert_int_equal(OPCODE(out), OPCODE(msg));
	assert_int_equal(RD(out), RD(msg));
	assert_false(TC(out));
	assert_int_equal(RCODE(out), rcode);
	assert_int_equal(QDCOUNT(out), 0);
	assert_int_equal(ANCOUNT(out), 0);
	assert_int_equal(NSCOUNT(out), 0);
	assert_int_equal(ARCOUNT(out), 0);
}

static void
test_error_unparseable(void **state)
{
	/* A header promising a question and records, and nothing else. */
	static const uint8_t bare[] = {
		0xbe, 0xef, 0x03, 0x0f, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03,
		0x00, 0x04,
	};
	/* A label running past the end. */
	static const uint8_t label[] = {
		0xca, 0xfe, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00,
		0x3f, 'a', 'b', 'c',
	};
	uint8_t bad[sizeof(edns_query)];

	(void)state;
	assert_header_only(bare, sizeof(bare), LDNS_RCODE_FORMERR);
	assert_header_only(bare, sizeof(bare), LDNS_RCODE_SERVFAIL);
	assert_header_only(label, sizeof(label), LDNS_RCODE_FORMERR);
	assert_header_only(label, sizeof(label), LDNS_RCODE_REFUSED);

	/* A pointer to itself: structurally bad, though within bounds. */
	memcpy(bad, edns_query, sizeof(bad));
	bad[12] = 0xc0;
	bad[13] = 0x0c;
	assert_header_only(bad, sizeof(bad), LDNS_RCODE_FORMERR);
}

static void
test_error_short(void **state)
{
	uint8_t out[512];

	(void)state;
	for (size_t len = 0; len < HEADER_LEN; len++)
		assert_int_equal(dnsmsg_error(edns_query, len,
		    LDNS_RCODE_FORMERR, out, sizeof(out)), 0);
	/* No room for even a header. */
	assert_int_equal(dnsmsg_error(edns_query, sizeof(edns_query),
	    LDNS_RCODE_FORMERR, out, HEADER_LEN - 1), 0);
	/* Room for a header only: the header. */
	assert_int_equal(dnsmsg_error(edns_query, sizeof(edns_query),
	    LDNS_RCODE_FORMERR, out, HEADER_LEN), HEADER_LEN);
	assert_int_equal(RCODE(out), LDNS_RCODE_FORMERR);
	assert_int_equal(QDCOUNT(out), 0);
}

/* ------------------------------------------------------------ fitting */

/* What a reply made by make_sized_reply() carries besides its answer. */
struct sized {
	bool	opt;		/* an OPT record */
	bool	extra;		/* an NS in authority, an A in additional */
	uint8_t	rcode;
};

/*
 * A reply to "big.test. IN TXT" of exactly size bytes, its answer filled
 * with TXT records.
 */
static size_t
make_sized_reply(size_t size, struct sized with, uint8_t *out,
    size_t outlen)
{
	char filler[256], text[320];
	ldns_pkt *pkt = reply_new(QUERY_ID, "big.test. IN TXT", with.rcode),
	    *trial;
	size_t len, record, remaining;

	memset(filler, 'x', sizeof(filler) - 1);
	filler[sizeof(filler) - 1] = '\0';
	if (with.opt)
		ldns_pkt_set_edns_udp_size(pkt, 4096);
	if (with.extra) {
		push_rr(pkt, LDNS_SECTION_AUTHORITY,
		    "big.test. 300 IN NS ns.big.test.");
		push_rr(pkt, LDNS_SECTION_ADDITIONAL,
		    "ns.big.test. 300 IN A 192.0.2.53");
	}
	len = wire_len(pkt);
	/* What a TXT record holding one empty string costs. */
	trial = ldns_pkt_clone(pkt);
	assert_non_null(trial);
	push_rr(trial, LDNS_SECTION_ANSWER, "big.test. 300 IN TXT \"\"");
	record = wire_len(trial) - len;
	ldns_pkt_free(trial);

	assert_true(size >= len + record);
	remaining = size - len;
	while (remaining > record + 255) {
		snprintf(text, sizeof(text), "big.test. 300 IN TXT \"%.200s\"",
		    filler);
		push_rr(pkt, LDNS_SECTION_ANSWER, text);
		remaining -= record + 200;
	}
	snprintf(text, sizeof(text), "big.test. 300 IN TXT \"%.*s\"",
	    (int)(remaining - record), filler);
	push_rr(pkt, LDNS_SECTION_ANSWER, text);
	len = to_wire(pkt, out, outlen);
	assert_int_equal(len, size);
	return len;
}

/* Parses a fitted reply with ldns; it must still be a reply to q. */
static ldns_pkt *
assert_fitted(const uint8_t *reply, size_t len, const struct dnsq *q)
{
	struct dnsreply parsed;

	assert_int_equal(dnsmsg_parse_reply(reply, len, q, QUERY_ID, &parsed),
	    DNSMSG_OK);
	return parse_with_ldns(reply, len);
}

/* The question of "big.test. IN TXT": name, type, class. */
#define BIG_QUESTION_LEN	(10 + 4)

static const struct sized plain = { .opt = false };
static const struct sized with_opt = { .opt = true };
static const struct sized with_both = { .opt = true, .extra = true };

/* Header, question, OPT if the client has EDNS; TC set, rcode kept. */
static void
assert_truncated(const uint8_t *reply, size_t len, const struct dnsq *q,
    size_t limit, uint8_t rcode)
{
	ldns_pkt *pkt;

	assert_true(len <= limit);
	assert_int_equal(len, HEADER_LEN + BIG_QUESTION_LEN +
	    (q->has_edns ? OPT_LEN : 0));
	assert_int_equal(get_u16(reply), QUERY_ID);
	assert_true(QR(reply));
	assert_true(TC(reply));
	assert_true(RD(reply));
	assert_true(RA(reply));
	assert_int_equal(RCODE(reply), rcode);
	assert_int_equal(QDCOUNT(reply), 1);
	assert_int_equal(ANCOUNT(reply), 0);
	assert_int_equal(NSCOUNT(reply), 0);
	assert_int_equal(ARCOUNT(reply), q->has_edns ? 1 : 0);
	pkt = assert_fitted(reply, len, q);
	assert_int_equal(ldns_pkt_edns(pkt), q->has_edns);
	if (q->has_edns)
		assert_int_equal(ldns_pkt_edns_udp_size(pkt), DNSMSG_UDP_MAX);
	assert_name(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)),
	    "big.test.");
	ldns_pkt_free(pkt);
}

/* A reply of limit bytes passes untouched, one of limit + 1 is cut. */
static void
assert_udp_limit(uint16_t edns_size, size_t limit)
{
	static uint8_t reply[WIRE_MAX], copy[WIRE_MAX];
	struct dnsq q;
	size_t len;

	query_for("big.test.", LDNS_RR_TYPE_TXT, edns_size, false, &q);
	const struct sized answer_only = { .opt = q.has_edns };
	const struct sized nxdomain = { .opt = q.has_edns, .extra = true,
	    .rcode = LDNS_RCODE_NXDOMAIN };

	len = make_sized_reply(limit, answer_only, reply, sizeof(reply));
	memcpy(copy, reply, len);
	assert_int_equal(dnsmsg_fit(reply, len, sizeof(reply), &q, true), len);
	assert_memory_equal(reply, copy, len);

	len = make_sized_reply(limit + 1, answer_only, reply, sizeof(reply));
	len = dnsmsg_fit(reply, len, sizeof(reply), &q, true);
	assert_truncated(reply, len, &q, limit, LDNS_RCODE_NOERROR);

	/* Every section goes, the rcode stays. */
	len = make_sized_reply(4000, nxdomain, reply, sizeof(reply));
	len = dnsmsg_fit(reply, len, sizeof(reply), &q, true);
	assert_truncated(reply, len, &q, limit, LDNS_RCODE_NXDOMAIN);
}

/*
 * The client's size: 512 without EDNS, its own with EDNS but never under
 * 512 (RFC 6891 §6.2.5) nor over DNSMSG_UDP_MAX.
 */
static void
test_fit_udp_limits(void **state)
{
	(void)state;
	assert_udp_limit(0, 512);
	assert_udp_limit(100, 512);
	assert_udp_limit(800, 800);
	assert_udp_limit(4096, DNSMSG_UDP_MAX);
	assert_udp_limit(65535, DNSMSG_UDP_MAX);
}

/*
 * Replies a client can take as they are, byte for byte: within its size,
 * or over TCP (up to 64 KiB), with an OPT only if it sent one.
 */
static void
test_fit_untouched(void **state)
{
	static const struct {
		uint16_t	edns_size;
		struct sized	with;
		size_t		size;
		bool		udp;
	} cases[] = {
		{ 0, { .extra = true }, 400, true },
		{ 0, { .extra = true }, 5000, false },
		{ 1232, { .opt = true, .extra = true }, 400, true },
		{ 1232, { .opt = true, .extra = true }, 5000, false },
		/* Upstream sent none: the client does without. */
		{ 1232, { .extra = true }, 1232, true },
	};
	static uint8_t reply[WIRE_MAX], copy[WIRE_MAX];
	struct dnsq q;
	size_t len;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		query_for("big.test.", LDNS_RR_TYPE_TXT, cases[i].edns_size,
		    true, &q);
		len = make_sized_reply(cases[i].size, cases[i].with, reply,
		    sizeof(reply));
		memcpy(copy, reply, len);
		assert_int_equal(dnsmsg_fit(reply, len, sizeof(reply), &q,
		    cases[i].udp), len);
		assert_memory_equal(reply, copy, len);
	}

	query_for("www.test.", LDNS_RR_TYPE_A, 4096, true, &q);
	len = make_rich_reply(reply, sizeof(reply));
	memcpy(copy, reply, len);
	assert_int_equal(dnsmsg_fit(reply, len, sizeof(reply), &q, true), len);
	assert_memory_equal(reply, copy, len);
}

/*
 * The sections of a reply fitted for a client without EDNS: the OPT gone,
 * everything else as it was.
 */
static void
assert_opt_stripped(const uint8_t *before, size_t before_len,
    const uint8_t *after, size_t after_len, const struct dnsq *q)
{
	ldns_pkt *a = parse_with_ldns(before, before_len);
	ldns_pkt *b = assert_fitted(after, after_len, q);

	assert_int_equal(after_len, before_len - OPT_LEN);
	assert_true(ldns_pkt_edns(a));
	assert_false(ldns_pkt_edns(b));
	assert_int_equal(ARCOUNT(after), ARCOUNT(before) - 1);
	assert_int_equal(get_u16(after), get_u16(before));
	assert_int_equal(after[2], before[2]);
	assert_int_equal(after[3], before[3]);
	assert_int_equal(ldns_rr_list_compare(ldns_pkt_question(a),
	    ldns_pkt_question(b)), 0);
	assert_int_equal(ldns_rr_list_compare(ldns_pkt_answer(a),
	    ldns_pkt_answer(b)), 0);
	assert_int_equal(ldns_rr_list_compare(ldns_pkt_authority(a),
	    ldns_pkt_authority(b)), 0);
	assert_int_equal(ldns_rr_list_compare(ldns_pkt_additional(a),
	    ldns_pkt_additional(b)), 0);
	ldns_pkt_free(a);
	ldns_pkt_free(b);
}

/* RFC 6891 §7: no OPT to a client that sent none, over UDP or TCP. */
static void
test_fit_strips_opt(void **state)
{
	static uint8_t reply[WIRE_MAX], copy[WIRE_MAX];
	const struct sized nxdomain = { .opt = true, .extra = true,
	    .rcode = LDNS_RCODE_NXDOMAIN };
	struct dnsq q;
	size_t len, fitted;

	(void)state;
	query_for("big.test.", LDNS_RR_TYPE_TXT, 0, false, &q);
	for (int udp = 0; udp <= 1; udp++) {
		len = make_sized_reply(300, with_both, reply, sizeof(reply));
		memcpy(copy, reply, len);
		fitted = dnsmsg_fit(reply, len, sizeof(reply), &q, udp);
		assert_opt_stripped(copy, len, reply, fitted, &q);

		len = make_sized_reply(300, nxdomain, reply, sizeof(reply));
		memcpy(copy, reply, len);
		fitted = dnsmsg_fit(reply, len, sizeof(reply), &q, udp);
		assert_int_equal(RCODE(reply), LDNS_RCODE_NXDOMAIN);
		assert_opt_stripped(copy, len, reply, fitted, &q);
	}

	/* 520 bytes with the OPT, 509 without: fits 512 once it is gone. */
	len = make_sized_reply(520, with_opt, reply, sizeof(reply));
	memcpy(copy, reply, len);
	fitted = dnsmsg_fit(reply, len, sizeof(reply), &q, true);
	assert_false(TC(reply));
	assert_opt_stripped(copy, len, reply, fitted, &q);

	/* Over TCP a large one keeps all its records. */
	len = make_sized_reply(5000, with_both, reply, sizeof(reply));
	memcpy(copy, reply, len);
	fitted = dnsmsg_fit(reply, len, sizeof(reply), &q, false);
	assert_opt_stripped(copy, len, reply, fitted, &q);

	/* Over UDP it is stripped and cut. */
	len = make_sized_reply(600, with_both, reply, sizeof(reply));
	fitted = dnsmsg_fit(reply, len, sizeof(reply), &q, true);
	assert_truncated(reply, fitted, &q, 512, LDNS_RCODE_NOERROR);
}

/* An OPT that is not the last record is taken out of the middle. */
static void
test_fit_strips_opt_not_last(void **state)
{
	static const uint8_t a_record[] = {
		1, 'x', 0, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1
	};
	static uint8_t reply[WIRE_MAX];
	struct dnsq q;
	ldns_pkt *pkt;
	size_t len, fitted;

	(void)state;
	query_for("big.test.", LDNS_RR_TYPE_TXT, 0, false, &q);
	len = make_sized_reply(300, with_opt, reply, sizeof(reply));
	memcpy(reply + len, a_record, sizeof(a_record));
	len += sizeof(a_record);
	put_u16(reply + 10, (uint16_t)(ARCOUNT(reply) + 1));
	fitted = dnsmsg_fit(reply, len, sizeof(reply), &q, true);
	assert_int_equal(fitted, len - OPT_LEN);
	pkt = assert_fitted(reply, fitted, &q);
	assert_false(ldns_pkt_edns(pkt));
	assert_int_equal(ldns_pkt_arcount(pkt), 1);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(
	    ldns_pkt_additional(pkt), 0)), LDNS_RR_TYPE_A);
	ldns_pkt_free(pkt);
}

/*
 * A query that did not parse leaves q with its ID only, no size: the error
 * answer to it still goes out whole over UDP.
 */
static void
test_fit_error_answer(void **state)
{
	uint8_t query[24], out[512], copy[512];
	struct dnsq q;
	size_t len;

	(void)state;
	memcpy(query, edns_query, sizeof(query));	/* without the OPT */
	put_u16(query + 10, 0);
	query[2] = (uint8_t)(LDNS_PACKET_UPDATE << 3);
	assert_int_equal(dnsmsg_parse_query(query, sizeof(query), &q),
	    DNSMSG_NOTIMP);
	len = dnsmsg_error(query, sizeof(query), LDNS_RCODE_NOTIMPL, out,
	    sizeof(out));
	assert_int_equal(len, sizeof(query));
	memcpy(copy, out, len);
	assert_int_equal(dnsmsg_fit(out, len, sizeof(out), &q, true), len);
	assert_memory_equal(out, copy, len);
}

static void
test_fit_unparseable(void **state)
{
	uint8_t reply[1024];
	struct dnsq q;
	size_t len;

	(void)state;
	query_for("big.test.", LDNS_RR_TYPE_TXT, 0, false, &q);
	assert_int_equal(dnsmsg_fit(reply, 0, sizeof(reply), &q, true), 0);
	memcpy(reply, edns_query, HEADER_LEN);
	assert_int_equal(dnsmsg_fit(reply, HEADER_LEN - 1, sizeof(reply), &q,
	    true), 0);

	/* Too large for UDP and cut short: nothing sensible to send. */
	len = make_sized_reply(700, plain, reply, sizeof(reply));
	put_u16(reply + 6, (uint16_t)(ANCOUNT(reply) + 1));
	assert_int_equal(dnsmsg_fit(reply, len, sizeof(reply), &q, true), 0);

	/* An OPT to strip in a reply that does not parse. */
	len = make_sized_reply(300, with_opt, reply, sizeof(reply));
	assert_int_equal(dnsmsg_fit(reply, len - 1, sizeof(reply), &q, false),
	    0);
}

/* ------------------------------------------------------------ small ones */

static void
test_set_id(void **state)
{
	uint8_t buf[sizeof(edns_query)];

	(void)state;
	memcpy(buf, edns_query, sizeof(buf));
	dnsmsg_set_id(buf, 0xabcd);
	assert_int_equal(buf[0], 0xab);
	assert_int_equal(buf[1], 0xcd);
	assert_memory_equal(buf + 2, edns_query + 2, sizeof(buf) - 2);
	dnsmsg_set_id(buf, 0);
	assert_int_equal(get_u16(buf), 0);
	dnsmsg_set_id(buf, 0xffff);
	assert_int_equal(get_u16(buf), 0xffff);
}

static void
test_type_name(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(dnsmsg_type_name(1, buf, sizeof(buf)), "A");
	assert_string_equal(dnsmsg_type_name(28, buf, sizeof(buf)), "AAAA");
	assert_string_equal(dnsmsg_type_name(65, buf, sizeof(buf)), "HTTPS");
	assert_string_equal(dnsmsg_type_name(64, buf, sizeof(buf)), "SVCB");
	/* Types only a question asks for have names too. */
	assert_string_equal(dnsmsg_type_name(255, buf, sizeof(buf)), "ANY");
	assert_string_equal(dnsmsg_type_name(252, buf, sizeof(buf)), "AXFR");
	assert_string_equal(dnsmsg_type_name(251, buf, sizeof(buf)), "IXFR");
	assert_string_equal(dnsmsg_type_name(254, buf, sizeof(buf)), "MAILA");
	assert_string_equal(dnsmsg_type_name(250, buf, sizeof(buf)), "TSIG");
	assert_string_equal(dnsmsg_type_name(256, buf, sizeof(buf)), "URI");
	assert_string_equal(dnsmsg_type_name(65280, buf, sizeof(buf)),
	    "TYPE65280");
	assert_string_equal(dnsmsg_type_name(65535, buf, sizeof(buf)),
	    "TYPE65535");
	assert_string_equal(dnsmsg_type_name(0, buf, sizeof(buf)), "TYPE0");
	/* A short buffer is cut, never overrun. */
	assert_string_equal(dnsmsg_type_name(65280, buf, 5), "TYPE");
}

static void
test_rcode_name(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(dnsmsg_rcode_name(0, buf, sizeof(buf)), "NOERROR");
	assert_string_equal(dnsmsg_rcode_name(1, buf, sizeof(buf)), "FORMERR");
	assert_string_equal(dnsmsg_rcode_name(2, buf, sizeof(buf)),
	    "SERVFAIL");
	assert_string_equal(dnsmsg_rcode_name(3, buf, sizeof(buf)),
	    "NXDOMAIN");
	assert_string_equal(dnsmsg_rcode_name(5, buf, sizeof(buf)), "REFUSED");
	assert_string_equal(dnsmsg_rcode_name(12, buf, sizeof(buf)),
	    "RCODE12");
	assert_string_equal(dnsmsg_rcode_name(15, buf, sizeof(buf)),
	    "RCODE15");
	assert_string_equal(dnsmsg_rcode_name(255, buf, sizeof(buf)),
	    "RCODE255");
	assert_string_equal(dnsmsg_rcode_name(3, buf, 3), "NX");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_good),
		cmocka_unit_test(test_query_edns_by_hand),
		cmocka_unit_test(test_query_longest_name),
		cmocka_unit_test(test_query_drop),
		cmocka_unit_test(test_query_notimp),
		cmocka_unit_test(test_query_formerr_counts),
		cmocka_unit_test(test_query_formerr_records),
		cmocka_unit_test(test_query_formerr_two_questions),
		cmocka_unit_test(test_query_formerr_two_opts),
		cmocka_unit_test(test_query_formerr_tsig_not_last),
		cmocka_unit_test(test_query_formerr_pointers),
		cmocka_unit_test(test_query_formerr_overruns),
		cmocka_unit_test(test_query_truncated_prefixes),
		cmocka_unit_test(test_reply_rich),
		cmocka_unit_test(test_reply_ttl_offsets),
		cmocka_unit_test(test_reply_mismatch),
		cmocka_unit_test(test_reply_name_case),
		cmocka_unit_test(test_reply_cache_ttl),
		cmocka_unit_test(test_reply_many_addrs),
		cmocka_unit_test(test_reply_many_cnames),
		cmocka_unit_test(test_reply_too_many_ttls),
		cmocka_unit_test(test_reply_formerr),
		cmocka_unit_test(test_reply_truncated_prefixes),
		cmocka_unit_test(test_reply_byte_changes),
		cmocka_unit_test(test_blocked_null_addresses),
		cmocka_unit_test(test_blocked_empty),
		cmocka_unit_test(test_blocked_question_bytes),
		cmocka_unit_test(test_blocked_flags),
		cmocka_unit_test(test_blocked_edns),
		cmocka_unit_test(test_blocked_out_too_small),
		cmocka_unit_test(test_blocked_unparseable),
		cmocka_unit_test(test_error_echoes_question),
		cmocka_unit_test(test_error_edns_query),
		cmocka_unit_test(test_error_notimp_opcode),
		cmocka_unit_test(test_error_unparseable),
		cmocka_unit_test(test_error_short),
		cmocka_unit_test(test_fit_udp_limits),
		cmocka_unit_test(test_fit_untouched),
		cmocka_unit_test(test_fit_strips_opt),
		cmocka_unit_test(test_fit_strips_opt_not_last),
		cmocka_unit_test(test_fit_error_answer),
		cmocka_unit_test(test_fit_unparseable),
		cmocka_unit_test(test_set_id),
		cmocka_unit_test(test_type_name),
		cmocka_unit_test(test_rcode_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
