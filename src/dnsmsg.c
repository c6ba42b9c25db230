/*
 * dnsmsg.c: DNS messages on the wire, parsed and built with ldns.
 *
 * ldns does the parsing (it bounds-checks names, compression and record
 * data). On top of it this file checks what hushd relies on: one question,
 * opcode QUERY, a reply's ID and question matching the query. The one
 * thing ldns cannot tell is where the TTL fields sit in the wire form, which
 * the cache needs to age replies without re-encoding them; walk_message()
 * finds them, and first checks the structure of every message, bounds-checked by subtraction.
 *
 * Implements: RFC 1035 §4.1 (format), RFC 2308 §5 (negative caching TTL),
 * RFC 6891 §6.2 (EDNS OPT, payload size), RFC 1035 §4.2.1 / RFC 7766 (TC).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsmsg.h"

#define DNS_HEADER_LEN	12
#define DNS_FLAG_QR	0x80	/* in byte 2 */
#define DNS_FLAG_TC	0x02	/* in byte 2 */

static uint16_t
read16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void
dnsmsg_set_id(uint8_t *buf, uint16_t id)
{
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
}

/* The text form of a name, lowercased, without the trailing dot. */
static bool
name_text(const ldns_rdf *name, char *out, size_t outlen, size_t *out_len)
{
	ldns_rdf *copy = ldns_rdf_clone(name);
	char *text;
	size_t len;

	if (copy == NULL)
		return false;
	ldns_dname2canonical(copy);
	text = ldns_rdf2str(copy);
	ldns_rdf_deep_free(copy);
	if (text == NULL)
		return false;
	len = strlen(text);
	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len >= outlen) {
		LDNS_FREE(text);
		return false;
	}
	memcpy(out, text, len);
	out[len] = '\0';
	LDNS_FREE(text);
	if (out_len != NULL)
		*out_len = len;
	return true;
}

/*
 * Skips the name at *pos. A compression pointer must point before the
 * name it ends (RFC 1035 §4.1.4 only ever points back), which also rules
 * out loops; the target is not followed, ldns reads it later.
 */
static bool
skip_name(const uint8_t *buf, size_t len, size_t *pos)
{
	size_t off = *pos;

	for (;;) {
		if (off >= len)
			return false;
		uint8_t label = buf[off];
		if ((label & 0xc0) == 0xc0) {
			if (len - off < 2)
				return false;
			size_t target = (size_t)(label & 0x3f) << 8 | buf[off + 1];
			if (target < DNS_HEADER_LEN || target >= *pos)
				return false;
			*pos = off + 2;
			return true;
		}
		if ((label & 0xc0) != 0)
			return false;
		if (len - off - 1 < label)
			return false;
		off += 1 + (size_t)label;
		if (label == 0) {
			*pos = off;
			return true;
		}
	}
}

/*
 * Walks every section of a message before ldns sees it, refusing what it
 * should never be given: records running past the end, pointers that do
 * not point back, more than one OPT (RFC 6891 §6.1.1). When ttls is not
 * NULL, records the offset of every TTL field but the OPT record's.
 */
static bool
walk_message(const uint8_t *buf, size_t len, struct dnsreply *ttls)
{
	size_t pos = DNS_HEADER_LEN;
	unsigned qd = read16(buf + 4), opts = 0;
	unsigned rrs = (unsigned)read16(buf + 6) + read16(buf + 8) +
	    read16(buf + 10);

	for (unsigned i = 0; i < qd; i++) {
		if (!skip_name(buf, len, &pos) || len - pos < 4)
			return false;
		pos += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		if (!skip_name(buf, len, &pos) || len - pos < 10)
			return false;
		uint16_t type = read16(buf + pos);
		uint16_t rdlen = read16(buf + pos + 8);
		if (type == LDNS_RR_TYPE_OPT) {
			if (++opts > 1)
				return false;
		} else if (ttls != NULL) {
			if (ttls->n_ttl_offsets == DNSMSG_MAX_TTLS ||
			    pos + 4 > UINT16_MAX) {
				ttls->uncacheable = true;	/* too many to age */
				ttls = NULL;
			} else
				ttls->ttl_offsets[ttls->n_ttl_offsets++] =
				    (uint16_t)(pos + 4);
		}
		pos += 10;
		if (len - pos < rdlen)
			return false;
		pos += rdlen;
	}
	return true;
}

/* ldns_wire2pkt, for messages walk_message() accepts only. */
static bool
wire_to_pkt(const uint8_t *buf, size_t len, struct dnsreply *ttls,
    ldns_pkt **pkt)
{
	*pkt = NULL;
	if (len < DNS_HEADER_LEN || !walk_message(buf, len, ttls))
		return false;
	return ldns_wire2pkt(pkt, buf, len) == LDNS_STATUS_OK;
}

enum dnsmsg_status
dnsmsg_parse_query(const uint8_t *buf, size_t len, struct dnsq *q)
{
	ldns_pkt *pkt = NULL;
	enum dnsmsg_status status = DNSMSG_FORMERR;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_LEN || (buf[2] & DNS_FLAG_QR) != 0)
		return DNSMSG_DROP;
	q->id = read16(buf);
	if (((buf[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY)
		return DNSMSG_NOTIMP;
	if (read16(buf + 4) != 1 || read16(buf + 6) != 0 ||
	    read16(buf + 8) != 0)
		return DNSMSG_FORMERR;
	if (!wire_to_pkt(buf, len, NULL, &pkt))
		return DNSMSG_FORMERR;
	ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	if (question == NULL)
		goto done;
	if (!name_text(ldns_rr_owner(question), q->qname, sizeof(q->qname),
	    &q->qname_len))
		goto done;
	q->qtype = ldns_rr_get_type(question);
	q->qclass = ldns_rr_get_class(question);
	q->has_edns = ldns_pkt_edns(pkt);
	q->do_bit = ldns_pkt_edns_do(pkt);
	q->udp_size = q->has_edns ? ldns_pkt_edns_udp_size(pkt) : 512;
	if (q->udp_size < 512)
		q->udp_size = 512;
	status = DNSMSG_OK;
done:
	ldns_pkt_free(pkt);
	return status;
}

static bool
same_question(const ldns_pkt *pkt, const struct dnsq *q)
{
	char name[DNSMSG_NAME_MAX];
	ldns_rr *question;

	if (ldns_pkt_qdcount(pkt) != 1)
		return false;
	question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	if (question == NULL || ldns_rr_get_type(question) != q->qtype ||
	    ldns_rr_get_class(question) != q->qclass)
		return false;
	if (!name_text(ldns_rr_owner(question), name, sizeof(name), NULL))
		return false;
	return strcmp(name, q->qname) == 0;
}

static void
collect_answers(const ldns_pkt *pkt, struct dnsreply *out)
{
	ldns_rr_list *answer = ldns_pkt_answer(pkt);
	uint32_t min_ttl = DNSMSG_MAX_CACHE_TTL;

	for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		ldns_rr *rr = ldns_rr_list_rr(answer, i);
		ldns_rdf *rdf = ldns_rr_rdf(rr, 0);
		ldns_rr_type type = ldns_rr_get_type(rr);

		if (ldns_rr_ttl(rr) < min_ttl)
			min_ttl = ldns_rr_ttl(rr);
		if (rdf == NULL)
			continue;
		if ((type == LDNS_RR_TYPE_A && ldns_rdf_size(rdf) == 4) ||
		    (type == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rdf) == 16)) {
			if (out->n_addrs == DNSMSG_MAX_ADDRS)
				continue;
			struct dnsaddr *a = &out->addrs[out->n_addrs++];
			a->family = type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
			memcpy(a->bytes, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		} else if (type == LDNS_RR_TYPE_CNAME &&
		    out->n_cnames < DNSMSG_MAX_CNAMES) {
			if (name_text(rdf, out->cnames[out->n_cnames],
			    sizeof(out->cnames[0]), NULL))
				out->n_cnames++;
		}
	}
	out->cache_ttl = min_ttl;
}

/* RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM). */
static uint32_t
negative_ttl(const ldns_pkt *pkt)
{
	ldns_rr_list *authority = ldns_pkt_authority(pkt);

	for (size_t i = 0; i < ldns_rr_list_rr_count(authority); i++) {
		ldns_rr *rr = ldns_rr_list_rr(authority, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
		    ldns_rr_rd_count(rr) < 7)
			continue;
		uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		uint32_t ttl = ldns_rr_ttl(rr);
		ttl = ttl < minimum ? ttl : minimum;
		return ttl < DNSMSG_MAX_CACHE_TTL ? ttl : DNSMSG_MAX_CACHE_TTL;
	}
	return 0;	/* no SOA: not cached (RFC 2308 §5) */
}

enum dnsmsg_status
dnsmsg_parse_reply(const uint8_t *buf, size_t len, const struct dnsq *q,
    uint16_t id, struct dnsreply *out)
{
	ldns_pkt *pkt = NULL;
	enum dnsmsg_status status = DNSMSG_MISMATCH;

	memset(out, 0, sizeof(*out));
	if (len < DNS_HEADER_LEN)
		return DNSMSG_FORMERR;
	if (read16(buf) != id || (buf[2] & DNS_FLAG_QR) == 0)
		return DNSMSG_MISMATCH;
	if (!wire_to_pkt(buf, len, out, &pkt))
		return DNSMSG_FORMERR;
	if (!same_question(pkt, q))
		goto done;
	out->rcode = ldns_pkt_get_rcode(pkt);
	out->tc = ldns_pkt_tc(pkt);
	out->has_opt = ldns_pkt_edns(pkt);
	collect_answers(pkt, out);
	if (out->rcode == LDNS_RCODE_NXDOMAIN ||
	    (out->rcode == LDNS_RCODE_NOERROR &&
	    ldns_pkt_ancount(pkt) == 0))
		out->cache_ttl = negative_ttl(pkt);
	else if (out->rcode != LDNS_RCODE_NOERROR)
		out->cache_ttl = 0;
	if (out->tc || out->uncacheable)
		out->cache_ttl = 0;
	status = DNSMSG_OK;
done:
	ldns_pkt_free(pkt);
	return status;
}

/* Serialises pkt into out. Returns the length, 0 if it does not fit. */
static size_t
pkt_to_wire(ldns_pkt *pkt, uint8_t *out, size_t outlen)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK ||
	    size > outlen) {
		LDNS_FREE(wire);
		return 0;
	}
	memcpy(out, wire, size);
	LDNS_FREE(wire);
	return size;
}

/* An answer skeleton for query: header flags and question copied. */
static ldns_pkt *
answer_for(const ldns_pkt *query, uint8_t rcode)
{
	ldns_pkt *pkt = ldns_pkt_new();

	if (pkt == NULL)
		return NULL;
	ldns_pkt_set_id(pkt, ldns_pkt_id(query));
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_opcode(pkt, ldns_pkt_get_opcode(query));
	ldns_pkt_set_rd(pkt, ldns_pkt_rd(query));
	ldns_pkt_set_cd(pkt, ldns_pkt_cd(query));
	ldns_pkt_set_ra(pkt, true);
	ldns_pkt_set_rcode(pkt, rcode);
	ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	if (question != NULL && ldns_pkt_qdcount(query) == 1)
		ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION,
		    ldns_rr_clone(question));
	if (ldns_pkt_edns(query)) {
		ldns_pkt_set_edns_udp_size(pkt, DNSMSG_UDP_MAX);
		ldns_pkt_set_edns_do(pkt, ldns_pkt_edns_do(query));
	}
	return pkt;
}

size_t
dnsmsg_blocked(const uint8_t *query, size_t query_len, const struct dnsq *q,
    enum block_mode mode, uint32_t ttl, uint8_t *out, size_t outlen)
{
	static const uint8_t zero[16];
	ldns_pkt *qpkt = NULL, *pkt;
	size_t size = 0;
	uint8_t rcode = mode == BLOCK_MODE_NXDOMAIN ? LDNS_RCODE_NXDOMAIN :
	    mode == BLOCK_MODE_REFUSED ? LDNS_RCODE_REFUSED :
	    LDNS_RCODE_NOERROR;

	if (!wire_to_pkt(query, query_len, NULL, &qpkt))
		return 0;
	if ((pkt = answer_for(qpkt, rcode)) == NULL)
		goto done;
	if (mode == BLOCK_MODE_NULL && q->qclass == LDNS_RR_CLASS_IN &&
	    (q->qtype == LDNS_RR_TYPE_A || q->qtype == LDNS_RR_TYPE_AAAA)) {
		ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(qpkt), 0);
		ldns_rr *rr = ldns_rr_new();
		size_t rdlen = q->qtype == LDNS_RR_TYPE_A ? 4 : 16;
		ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(question)));
		ldns_rr_set_type(rr, q->qtype);
		ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
		ldns_rr_set_ttl(rr, ttl);
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(
		    rdlen == 4 ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, rdlen,
		    zero));
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	size = pkt_to_wire(pkt, out, outlen);
	ldns_pkt_free(pkt);
done:
	ldns_pkt_free(qpkt);
	return size;
}

size_t
dnsmsg_error(const uint8_t *buf, size_t len, uint8_t rcode, uint8_t *out,
    size_t outlen)
{
	ldns_pkt *qpkt = NULL, *pkt;
	size_t size = 0;

	if (len < DNS_HEADER_LEN || outlen < DNS_HEADER_LEN)
		return 0;
	if (wire_to_pkt(buf, len, NULL, &qpkt) &&
	    (pkt = answer_for(qpkt, rcode)) != NULL) {
		size = pkt_to_wire(pkt, out, outlen);
		ldns_pkt_free(pkt);
	}
	ldns_pkt_free(qpkt);
	if (size > 0)
		return size;
	/* Unparseable: the header alone, counts zeroed, QR and rcode set. */
	memset(out, 0, DNS_HEADER_LEN);
	memcpy(out, buf, 2);
	out[2] = (uint8_t)(DNS_FLAG_QR | (buf[2] & 0x79));	/* opcode, RD */
	out[3] = (uint8_t)(0x80 | (rcode & 0x0f));		/* RA */
	return DNS_HEADER_LEN;
}

/* Appends copies of the records of list to a section of pkt. */
static void
push_copies(ldns_pkt *pkt, ldns_pkt_section section, const ldns_rr_list *list)
{
	ldns_rr_list *copies = ldns_rr_list_clone(list);

	if (copies == NULL)
		return;
	ldns_pkt_push_rr_list(pkt, section, copies);
	ldns_rr_list_free(copies);	/* the records now belong to pkt */
}

/*
 * A copy of pkt's header and question, with its records when records is
 * set and an OPT (our payload size, the original DO bit and extended rcode)
 * when edns is set.
 */
static ldns_pkt *
pkt_rebuild(const ldns_pkt *pkt, bool records, bool edns)
{
	ldns_pkt *copy = ldns_pkt_new();

	if (copy == NULL)
		return NULL;
	ldns_pkt_set_id(copy, ldns_pkt_id(pkt));
	ldns_pkt_set_qr(copy, ldns_pkt_qr(pkt));
	ldns_pkt_set_opcode(copy, ldns_pkt_get_opcode(pkt));
	ldns_pkt_set_aa(copy, ldns_pkt_aa(pkt));
	ldns_pkt_set_tc(copy, ldns_pkt_tc(pkt) || !records);
	ldns_pkt_set_rd(copy, ldns_pkt_rd(pkt));
	ldns_pkt_set_ra(copy, ldns_pkt_ra(pkt));
	ldns_pkt_set_ad(copy, ldns_pkt_ad(pkt));
	ldns_pkt_set_cd(copy, ldns_pkt_cd(pkt));
	ldns_pkt_set_rcode(copy, ldns_pkt_get_rcode(pkt));
	push_copies(copy, LDNS_SECTION_QUESTION, ldns_pkt_question(pkt));
	if (records) {
		push_copies(copy, LDNS_SECTION_ANSWER, ldns_pkt_answer(pkt));
		push_copies(copy, LDNS_SECTION_AUTHORITY,
		    ldns_pkt_authority(pkt));
		push_copies(copy, LDNS_SECTION_ADDITIONAL,
		    ldns_pkt_additional(pkt));
	}
	if (edns) {
		ldns_pkt_set_edns_udp_size(copy, DNSMSG_UDP_MAX);
		ldns_pkt_set_edns_do(copy, ldns_pkt_edns_do(pkt));
		ldns_pkt_set_edns_extended_rcode(copy,
		    ldns_pkt_edns_extended_rcode(pkt));
	}
	return copy;
}

size_t
dnsmsg_fit(uint8_t *reply, size_t len, size_t cap, const struct dnsq *q,
    bool udp)
{
	size_t limit = q->udp_size < DNSMSG_UDP_MAX ? q->udp_size :
	    DNSMSG_UDP_MAX;
	ldns_pkt *pkt = NULL, *copy;
	bool strip_opt;

	if (len < DNS_HEADER_LEN)
		return 0;
	if (!q->has_edns)
		limit = 512;
	/* An additional section may hold an OPT the client did not ask for. */
	strip_opt = !q->has_edns && read16(reply + 10) != 0;
	if (!strip_opt && !(udp && len > limit))
		return len;
	if (!wire_to_pkt(reply, len, NULL, &pkt))
		return 0;
	if (strip_opt && ldns_pkt_edns(pkt)) {
		if ((copy = pkt_rebuild(pkt, true, false)) == NULL)
			goto fail;
		len = pkt_to_wire(copy, reply, cap);
		ldns_pkt_free(copy);
	}
	if (udp && len > limit) {
		/* Header, question and OPT; the client retries over TCP. */
		if ((copy = pkt_rebuild(pkt, false, q->has_edns)) == NULL)
			goto fail;
		len = pkt_to_wire(copy, reply, cap);
		ldns_pkt_free(copy);
	}
	ldns_pkt_free(pkt);
	return len;
fail:
	ldns_pkt_free(pkt);
	return 0;
}

/*
 * ldns describes the types a record can have; the types only a question
 * asks for (RFC 1035 §3.2.3, RFC 1995) have no descriptor name.
 */
static const char *
qtype_only_name(uint16_t type)
{
	switch (type) {
	case LDNS_RR_TYPE_IXFR:
		return "IXFR";
	case LDNS_RR_TYPE_AXFR:
		return "AXFR";
	case LDNS_RR_TYPE_MAILB:
		return "MAILB";
	case LDNS_RR_TYPE_MAILA:
		return "MAILA";
	case LDNS_RR_TYPE_ANY:
		return "ANY";
	default:
		return NULL;
	}
}

const char *
dnsmsg_type_name(uint16_t type, char *buf, size_t len)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	const char *name = qtype_only_name(type);

	if (name == NULL && d != NULL)
		name = d->_name;
	if (name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "TYPE%u", type);
	return buf;
}

const char *
dnsmsg_rcode_name(uint8_t rcode, char *buf, size_t len)
{
	const ldns_lookup_table *entry = ldns_lookup_by_id(ldns_rcodes, rcode);

	if (entry != NULL && entry->name != NULL)
		snprintf(buf, len, "%s", entry->name);
	else
		snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}
