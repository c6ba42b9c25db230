/*
 * dnsmsg.c: DNS messages on the wire.
 *
 * Every message is first walked by walk_message(), which checks its
 * structure (names, pointers, record lengths, one OPT) with bounds checked
 * by subtraction, and notes where things are: the end of the question, the
 * OPT record, the TTL fields the cache ages. The per-query path (parsing a
 * query or a reply, building a blocked answer) then reads the wire form
 * directly and allocates nothing; the rare rewrites (error answers,
 * stripping OPT, truncation) go through ldns, which is given only messages
 * the walk accepted.
 *
 * Implements: RFC 1035 §4.1 (format), RFC 2308 §5 (negative caching TTL),
 * RFC 6891 §6.2 (EDNS OPT, payload size), RFC 1035 §4.2.1 / RFC 7766 (TC).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "dnsmsg.h"
#include "log.h"

#define DNS_HEADER_LEN	12
#define DNS_FLAG_QR	0x80	/* in byte 2 */
#define DNS_FLAG_TC	0x02	/* in byte 2 */

void
dnsmsg_set_id(uint8_t *buf, uint16_t id)
{
	put_be16(buf, id);
}

/*
 * Skips the name at *pos. A compression pointer must point before the
 * name it ends (RFC 1035 §4.1.4 only ever points back), which also rules
 * out loops.
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

enum name_char {
	NAME_CHAR_DECIMAL = 0,	/* written \\DDD */
	NAME_CHAR_PLAIN,
	NAME_CHAR_ESCAPED,	/* written with a backslash before it */
};

/* How a byte of a label is written in text. */
static enum name_char
name_char_of(uint8_t c)
{
	if (c < 0x21 || c > 0x7e)
		return NAME_CHAR_DECIMAL;
	switch (c) {
	case '.': case ';': case '(': case ')': case '\\': case '"':
	case '@': case '$':
		return NAME_CHAR_ESCAPED;
	}
	return NAME_CHAR_PLAIN;
}

/*
 * The text form of the name at pos, as a zone file writes it: lowercase,
 * no trailing dot ("" for the root), "\." and the like for special
 * characters, "\DDD" for bytes outside printable ASCII. Pointers were
 * checked by walk_message() to point back, so following them ends.
 */
static bool
name_text(const uint8_t *buf, size_t len, size_t pos, char *out,
    size_t outlen, size_t *out_len)
{
	size_t n = 0, wire_len = 0;

	for (;;) {
		if (pos >= len)
			return false;
		uint8_t label = buf[pos];
		if ((label & 0xc0) == 0xc0) {
			if (len - pos < 2)
				return false;
			size_t target = (size_t)(label & 0x3f) << 8 | buf[pos + 1];
			if (target >= pos)
				return false;
			pos = target;
			continue;
		}
		if (label == 0)
			break;
		if ((label & 0xc0) != 0 || len - pos - 1 < label)
			return false;
		wire_len += 1 + (size_t)label;
		if (wire_len > 254)
			return false;	/* RFC 1035 §2.3.4: 255 with the root */
		if (n > 0) {
			if (outlen - n < 2)
				return false;
			out[n++] = '.';
		}
		if (outlen - n <= (size_t)label * 4)
			return false;	/* room even if every byte needs \\DDD */
		for (size_t i = 1; i <= label; i++) {
			uint8_t c = buf[pos + i];
			switch (name_char_of(c)) {
			case NAME_CHAR_PLAIN:
				out[n++] = (char)(c | ((c >= 'A' && c <= 'Z') ?
				    0x20 : 0));
				break;
			case NAME_CHAR_ESCAPED:
				out[n++] = '\\';
				out[n++] = (char)c;
				break;
			default:
				out[n++] = '\\';
				out[n++] = (char)('0' + c / 100);
				out[n++] = (char)('0' + c / 10 % 10);
				out[n++] = (char)('0' + c % 10);
			}
		}
		pos += 1 + (size_t)label;
	}
	if (outlen - n < 1)
		return false;
	out[n] = '\0';
	if (out_len != NULL)
		*out_len = n;
	return true;
}

/* Offsets found by walk_message(). */
struct layout {
	size_t	question_end;	/* first byte after the question */
	size_t	answer_end;	/* first byte after the answer section */
	size_t	opt;		/* the OPT record's TYPE field, or 0 */
};

/*
 * Walks every section of a message before anything reads it, refusing
 * what must never be parsed further: records running past the end,
 * pointers that do not point back, more than one OPT (RFC 6891 §6.1.1),
 * a TSIG that is not the last record (RFC 8945 §5.1; ldns would also
 * lose all but the last of several).
 * When ttls is not NULL, records the offset of every TTL field but the OPT
 * record's.
 */
static bool
walk_message(const uint8_t *buf, size_t len, struct layout *layout,
    struct dnsreply *ttls)
{
	size_t pos = DNS_HEADER_LEN;
	unsigned qd = get_be16(buf + 4), an = get_be16(buf + 6);
	unsigned rrs = an + get_be16(buf + 8) + get_be16(buf + 10);

	memset(layout, 0, sizeof(*layout));
	for (unsigned i = 0; i < qd; i++) {
		if (!skip_name(buf, len, &pos) || len - pos < 4)
			return false;
		pos += 4;
	}
	layout->question_end = pos;
	layout->answer_end = pos;
	for (unsigned i = 0; i < rrs; i++) {
		size_t owner = pos;
		if (!skip_name(buf, len, &pos) || len - pos < 10)
			return false;
		uint16_t type = get_be16(buf + pos);
		uint16_t rdlen = get_be16(buf + pos + 8);
		if (type == LDNS_RR_TYPE_TSIG && i + 1 != rrs)
			return false;
		if (type == LDNS_RR_TYPE_OPT) {
			if (layout->opt != 0 || buf[owner] != 0)
				return false;
			layout->opt = pos;
		} else if (ttls != NULL) {
			uint32_t ttl = get_be32(buf + pos + 4);
			if (ttl < ttls->min_ttl)
				ttls->min_ttl = ttl;
			if (ttls->uncacheable)
				;	/* offsets no longer recorded */
			else if (ttls->n_ttl_offsets == DNSMSG_MAX_TTLS ||
			    pos + 4 > UINT16_MAX) {
				ttls->uncacheable = true;	/* too many to age */
			} else
				ttls->ttl_offsets[ttls->n_ttl_offsets++] =
				    (uint16_t)(pos + 4);
		}
		pos += 10;
		if (len - pos < rdlen)
			return false;
		pos += rdlen;
		if (i + 1 == an)
			layout->answer_end = pos;
	}
	return true;
}

/* ldns_wire2pkt, for messages walk_message() accepts only. */
static bool
wire_to_pkt(const uint8_t *buf, size_t len, ldns_pkt **pkt)
{
	struct layout layout;

	*pkt = NULL;
	if (len < DNS_HEADER_LEN || !walk_message(buf, len, &layout, NULL))
		return false;
	return ldns_wire2pkt(pkt, buf, len) == LDNS_STATUS_OK;
}

enum dnsmsg_status
dnsmsg_parse_query(const uint8_t *buf, size_t len, struct dnsq *q)
{
	struct layout layout;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_LEN || (buf[2] & DNS_FLAG_QR) != 0)
		return DNSMSG_DROP;
	q->id = get_be16(buf);
	if (((buf[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY)
		return DNSMSG_NOTIMP;
	if (get_be16(buf + 4) != 1 || get_be16(buf + 6) != 0 ||
	    get_be16(buf + 8) != 0)
		return DNSMSG_FORMERR;
	if (!walk_message(buf, len, &layout, NULL) ||
	    !name_text(buf, len, DNS_HEADER_LEN, q->qname, sizeof(q->qname),
	    &q->qname_len))
		return DNSMSG_FORMERR;
	q->qtype = get_be16(buf + layout.question_end - 4);
	q->qclass = get_be16(buf + layout.question_end - 2);
	q->question_end = layout.question_end;
	q->udp_size = 512;
	if (layout.opt != 0) {
		uint16_t size = get_be16(buf + layout.opt + 2);
		q->has_edns = true;
		q->do_bit = (buf[layout.opt + 6] & 0x80) != 0;
		q->udp_size = size < 512 ? 512 : size;
	}
	return DNSMSG_OK;
}

/* RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM). */
static uint32_t
negative_ttl(const uint8_t *buf, size_t len, size_t pos, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		if (!skip_name(buf, len, &pos) || len - pos < 10)
			return 0;
		uint16_t type = get_be16(buf + pos);
		uint32_t ttl = get_be32(buf + pos + 4);
		size_t rdata = pos + 10, end = rdata + get_be16(buf + pos + 8);
		pos = end;
		if (type != LDNS_RR_TYPE_SOA)
			continue;
		/* MNAME, RNAME, then five 32-bit fields; MINIMUM is last. */
		if (!skip_name(buf, end, &rdata) ||
		    !skip_name(buf, end, &rdata) || end - rdata != 20)
			return 0;
		uint32_t minimum = get_be32(buf + rdata + 16);
		ttl = ttl < minimum ? ttl : minimum;
		return ttl < DNSMSG_MAX_CACHE_TTL ? ttl : DNSMSG_MAX_CACHE_TTL;
	}
	return 0;	/* no SOA: not cached (RFC 2308 §5) */
}

/* Addresses and CNAME (and DNAME) targets of the answer section. */
static void
collect_answers(const uint8_t *buf, size_t len, const struct layout *layout,
    struct dnsreply *out)
{
	size_t pos = layout->question_end;

	while (pos < layout->answer_end) {
		skip_name(buf, len, &pos);	/* checked by walk_message() */
		uint16_t type = get_be16(buf + pos);
		uint16_t rdlen = get_be16(buf + pos + 8);
		size_t rdata = pos + 10;

		pos = rdata + rdlen;
		if ((type == LDNS_RR_TYPE_A && rdlen == 4) ||
		    (type == LDNS_RR_TYPE_AAAA && rdlen == 16)) {
			if (out->n_addrs == DNSMSG_MAX_ADDRS)
				continue;
			struct dnsaddr *a = &out->addrs[out->n_addrs++];
			a->family = type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
			memcpy(a->bytes, buf + rdata, rdlen);
		} else if ((type == LDNS_RR_TYPE_CNAME ||
		    type == LDNS_RR_TYPE_DNAME) &&
		    out->n_cnames < DNSMSG_MAX_CNAMES) {
			size_t end = rdata;
			if (skip_name(buf, pos, &end) && end == pos &&
			    name_text(buf, pos, rdata, out->cnames[out->n_cnames],
			    sizeof(out->cnames[0]), NULL))
				out->n_cnames++;
		}
	}
}

enum dnsmsg_status
dnsmsg_parse_reply(const uint8_t *buf, size_t len, const struct dnsq *q,
    uint16_t id, struct dnsreply *out)
{
	struct layout layout;
	char name[DNSMSG_NAME_MAX];

	memset(out, 0, offsetof(struct dnsreply, addrs));
	out->n_addrs = out->n_cnames = out->n_ttl_offsets = 0;
	out->min_ttl = DNSMSG_MAX_CACHE_TTL;
	if (len < DNS_HEADER_LEN)
		return DNSMSG_FORMERR;
	if (get_be16(buf) != id || (buf[2] & DNS_FLAG_QR) == 0)
		return DNSMSG_MISMATCH;
	if (!walk_message(buf, len, &layout, out))
		return DNSMSG_FORMERR;
	if (get_be16(buf + 4) != 1 ||
	    !name_text(buf, len, DNS_HEADER_LEN, name, sizeof(name), NULL) ||
	    strcmp(name, q->qname) != 0 ||
	    get_be16(buf + layout.question_end - 4) != q->qtype ||
	    get_be16(buf + layout.question_end - 2) != q->qclass)
		return DNSMSG_MISMATCH;
	out->rcode = buf[3] & 0x0f;
	out->tc = (buf[2] & DNS_FLAG_TC) != 0;
	out->has_opt = layout.opt != 0;
	collect_answers(buf, len, &layout, out);
	/*
	 * Kept no longer than its shortest-lived record, so that nothing is
	 * served with a TTL run out; a negative answer no longer than its SOA
	 * says (RFC 2308 §5).
	 */
	out->cache_ttl = out->min_ttl;
	if (out->rcode == LDNS_RCODE_NXDOMAIN ||
	    (out->rcode == LDNS_RCODE_NOERROR && get_be16(buf + 6) == 0)) {
		uint32_t negative = negative_ttl(buf, len, layout.answer_end,
		    get_be16(buf + 8));
		if (negative < out->cache_ttl)
			out->cache_ttl = negative;
	} else if (out->rcode != LDNS_RCODE_NOERROR)
		out->cache_ttl = 0;
	if (out->tc || out->uncacheable)
		out->cache_ttl = 0;
	return DNSMSG_OK;
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

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
	put_be16(p, v);
	return p + 2;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	put_be32(p, v);
	return p + 4;
}

uint8_t
dnsmsg_block_rcode(enum block_mode mode)
{
	switch (mode) {
	case BLOCK_MODE_NXDOMAIN:
		return LDNS_RCODE_NXDOMAIN;
	case BLOCK_MODE_REFUSED:
		return LDNS_RCODE_REFUSED;
	case BLOCK_MODE_NULL:
		break;
	}
	return LDNS_RCODE_NOERROR;
}

/*
 * Written directly rather than through ldns: this is the hot path of a
 * filter, and the answer is the query's header and question plus at most
 * two fixed records.
 */
size_t
dnsmsg_blocked(const uint8_t *query, size_t query_len, const struct dnsq *q,
    enum block_mode mode, uint32_t ttl, uint8_t *out, size_t outlen)
{
	static const uint8_t zero[16];
	uint8_t rcode = dnsmsg_block_rcode(mode);
	bool address = mode == BLOCK_MODE_NULL &&
	    q->qclass == LDNS_RR_CLASS_IN &&
	    (q->qtype == LDNS_RR_TYPE_A || q->qtype == LDNS_RR_TYPE_AAAA);
	size_t rdlen = q->qtype == LDNS_RR_TYPE_A ? 4 : 16;
	size_t need = q->question_end + (address ? 12 + rdlen : 0) +
	    (q->has_edns ? 11 : 0);
	uint8_t *p;

	if (q->question_end > query_len || need > outlen)
		return 0;
	memcpy(out, query, q->question_end);
	out[2] = (uint8_t)(DNS_FLAG_QR | (query[2] & 0x79));	/* opcode, RD */
	out[3] = (uint8_t)(0x80 | (query[3] & 0x10) | rcode);	/* RA, CD */
	p = put16(out + 6, address ? 1 : 0);
	p = put16(p, 0);
	put16(p, q->has_edns ? 1 : 0);
	p = out + q->question_end;
	if (address) {
		p = put16(p, 0xc000 | DNS_HEADER_LEN);	/* the question's name */
		p = put16(p, q->qtype);
		p = put16(p, LDNS_RR_CLASS_IN);
		p = put32(p, ttl);
		p = put16(p, (uint16_t)rdlen);
		memcpy(p, zero, rdlen);
		p += rdlen;
	}
	if (q->has_edns) {
		*p++ = 0;				/* root */
		p = put16(p, LDNS_RR_TYPE_OPT);
		p = put16(p, DNSMSG_UDP_MAX);
		p = put32(p, q->do_bit ? 0x8000 : 0);	/* version 0, DO */
		p = put16(p, 0);
	}
	return (size_t)(p - out);
}

size_t
dnsmsg_error(const uint8_t *buf, size_t len, uint8_t rcode, uint8_t *out,
    size_t outlen)
{
	ldns_pkt *qpkt = NULL, *pkt;
	size_t size = 0;

	if (len < DNS_HEADER_LEN || outlen < DNS_HEADER_LEN)
		return 0;
	if (wire_to_pkt(buf, len, &qpkt) &&
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

/*
 * Removes a reply's OPT record without parsing the reply, when it is the
 * last record, as it nearly always is: nothing can point into a record
 * after all others, so cutting it off leaves every name intact. Also true
 * when the reply has no OPT. False when the reply needs the full rebuild.
 */
static bool
strip_last_opt(uint8_t *reply, size_t *len)
{
	struct layout layout;
	unsigned ar = get_be16(reply + 10);

	if (!walk_message(reply, *len, &layout, NULL))
		return false;
	if (layout.opt == 0)
		return true;
	if (layout.opt + 10 + get_be16(reply + layout.opt + 8) != *len)
		return false;
	*len = layout.opt - 1;		/* the OPT's owner, the root */
	put_be16(reply + 10, (uint16_t)(ar - 1));
	return true;
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
	strip_opt = !q->has_edns && get_be16(reply + 10) != 0;
	if (strip_opt && strip_last_opt(reply, &len))
		strip_opt = false;
	if (!strip_opt && !(udp && len > limit))
		return len;
	if (!wire_to_pkt(reply, len, &pkt))
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

/*
 * The SvcParams of one SVCB/HTTPS record without the "ech" key (RFC 9460
 * §14.3.2, key 5). NULL when there was none, or the data is malformed.
 */
static ldns_rdf *
params_without_ech(const ldns_rdf *params)
{
	const uint8_t *data = ldns_rdf_data(params);
	size_t len = ldns_rdf_size(params), off = 0, kept = 0;
	bool found = false;
	uint8_t *copy;
	ldns_rdf *out;

	copy = xmalloc(len ? len : 1);
	while (off < len) {
		if (len - off < 4)
			goto malformed;
		uint16_t key = get_be16(data + off);
		size_t value = get_be16(data + off + 2);
		if (len - off - 4 < value)
			goto malformed;
		if (key == 5)
			found = true;
		else {
			memcpy(copy + kept, data + off, 4 + value);
			kept += 4 + value;
		}
		off += 4 + value;
	}
	if (!found)
		goto malformed;
	out = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_SVCPARAMS, kept, copy);
	free(copy);
	return out;
malformed:
	free(copy);
	return NULL;
}

size_t
dnsmsg_strip_ech(uint8_t *msg, size_t len, size_t cap)
{
	ldns_pkt *pkt = NULL;
	ldns_rr_list *answer;
	bool changed = false;

	if (!wire_to_pkt(msg, len, &pkt))
		return len;
	answer = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		ldns_rr *rr = ldns_rr_list_rr(answer, i);
		ldns_rr_type type = ldns_rr_get_type(rr);
		ldns_rdf *params, *stripped;
		if ((type != LDNS_RR_TYPE_SVCB && type != LDNS_RR_TYPE_HTTPS) ||
		    ldns_rr_rd_count(rr) < 3 ||
		    (params = ldns_rr_rdf(rr, 2)) == NULL ||
		    (stripped = params_without_ech(params)) == NULL)
			continue;
		ldns_rdf_deep_free(ldns_rr_set_rdf(rr, stripped, 2));
		changed = true;
	}
	if (changed) {
		size_t out = pkt_to_wire(pkt, msg, cap);
		if (out > 0)
			len = out;
	}
	ldns_pkt_free(pkt);
	return len;
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
