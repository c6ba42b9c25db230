/*
 * fuzz_dnsmsg.c: libFuzzer target for the DNS wire helpers. The input is
 * used as a client query (parse, then the blocked and error answers, then
 * fitting an answer to the client) and as an upstream reply to the query
 * it parsed to, so both directions of hostile input are covered. Where
 * ldns also accepts a query hushd's own parser took, both must read the
 * same question (ldns is stricter about the data of records hushd does not
 * look at, such as those of the additional section).
 */
#include "config.h"

#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNSMSG_MAX];
	static struct dnsreply reply;
	struct dnsq q;
	enum dnsmsg_status status;
	size_t len;

	if (size > DNSMSG_MAX)
		return 0;
	status = dnsmsg_parse_query(data, size, &q);
	dnsmsg_error(data, size, 2, out, sizeof(out));
	if (status != DNSMSG_OK) {
		/* Still judge it as a reply to some query. */
		memset(&q, 0, sizeof(q));
		q.qtype = 1;
		q.qclass = 1;
		q.udp_size = 512;
	} else {
		ldns_pkt *pkt = NULL;
		if (ldns_wire2pkt(&pkt, data, size) == LDNS_STATUS_OK) {
			ldns_rr *question =
			    ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
			if (question == NULL ||
			    ldns_rr_get_type(question) != q.qtype ||
			    ldns_rr_get_class(question) != q.qclass ||
			    ldns_pkt_edns_do(pkt) != q.do_bit)
				abort();
		}
		ldns_pkt_free(pkt);
		for (int mode = BLOCK_MODE_NULL; mode <= BLOCK_MODE_REFUSED;
		    mode++)
			dnsmsg_blocked(data, size, &q, (enum block_mode)mode, 60,
			    out, sizeof(out));
	}
	if (size >= 2 && dnsmsg_parse_reply(data, size, &q,
	    (uint16_t)(data[0] << 8 | data[1]), &reply) == DNSMSG_OK) {
		for (size_t i = 0; i < reply.n_ttl_offsets; i++)
			if ((size_t)reply.ttl_offsets[i] + 4 > size)
				abort();	/* offsets must lie inside */
	}
	memcpy(out, data, size);
	len = dnsmsg_fit(out, size, sizeof(out), &q, true);
	if (len > sizeof(out))
		abort();
	return 0;
}
