/*
 * packet.c: IPv4/IPv6 and UDP/TCP headers (RFC 791, 8200, 768, 9293).
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "bytes.h"
#include "packet.h"

/* Transport header at buf (len bytes present, of full bytes sent). */
static enum packet_status
transport(const uint8_t *buf, size_t len, size_t full, struct packet *out)
{
	size_t hlen;
	uint16_t sport, dport;

	if (out->proto == IPPROTO_UDP) {
		if (len < 8)
			return PACKET_TRUNCATED;
		size_t ulen = get_be16(buf + 4);
		if (ulen < 8 || ulen > full)
			return PACKET_MALFORMED;
		hlen = 8;
		full = ulen;
	} else if (out->proto == IPPROTO_TCP) {
		if (len < 20)
			return PACKET_TRUNCATED;
		hlen = (size_t)(buf[12] >> 4) * 4;
		if (hlen < 20 || hlen > full)
			return PACKET_MALFORMED;
		if (len < hlen)
			return PACKET_TRUNCATED;
		out->seq = get_be32(buf + 4);
		out->tcp_flags = buf[13];
	} else
		return PACKET_OTHER;
	sport = get_be16(buf);
	dport = get_be16(buf + 2);
	if (out->src.ss_family == AF_INET) {
		((struct sockaddr_in *)&out->src)->sin_port = htons(sport);
		((struct sockaddr_in *)&out->dst)->sin_port = htons(dport);
	} else {
		((struct sockaddr_in6 *)&out->src)->sin6_port = htons(sport);
		((struct sockaddr_in6 *)&out->dst)->sin6_port = htons(dport);
	}
	out->payload = buf + hlen;
	out->payload_len = (len < full ? len : full) - hlen;
	out->cut = len < full;
	return PACKET_OK;
}

static enum packet_status
parse_v4(const uint8_t *buf, size_t caplen, struct packet *out)
{
	struct sockaddr_in *src = (struct sockaddr_in *)&out->src;
	struct sockaddr_in *dst = (struct sockaddr_in *)&out->dst;
	size_t hlen, total;

	if (caplen < 20)
		return PACKET_TRUNCATED;
	hlen = (size_t)(buf[0] & 0x0f) * 4;
	total = get_be16(buf + 2);
	if (hlen < 20 || total < hlen)
		return PACKET_MALFORMED;
	if (caplen < hlen)
		return PACKET_TRUNCATED;
	if ((get_be16(buf + 6) & 0x1fff) != 0)
		return PACKET_FRAGMENT;		/* offset > 0 */
	src->sin_family = dst->sin_family = AF_INET;
	memcpy(&src->sin_addr, buf + 12, 4);
	memcpy(&dst->sin_addr, buf + 16, 4);
	out->addr_len = sizeof(struct sockaddr_in);
	out->proto = buf[9];
	return transport(buf + hlen, (caplen < total ? caplen : total) - hlen,
	    total - hlen, out);
}

static enum packet_status
parse_v6(const uint8_t *buf, size_t caplen, struct packet *out)
{
	struct sockaddr_in6 *src = (struct sockaddr_in6 *)&out->src;
	struct sockaddr_in6 *dst = (struct sockaddr_in6 *)&out->dst;
	size_t off = 40, total;
	uint8_t next;

	if (caplen < 40)
		return PACKET_TRUNCATED;
	total = 40 + (size_t)get_be16(buf + 4);
	src->sin6_family = dst->sin6_family = AF_INET6;
	memcpy(&src->sin6_addr, buf + 8, 16);
	memcpy(&dst->sin6_addr, buf + 24, 16);
	out->addr_len = sizeof(struct sockaddr_in6);
	next = buf[6];
	for (int hops = 0; hops < 8; hops++) {
		size_t have = caplen < total ? caplen : total;
		switch (next) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (have < off + 8)
				return PACKET_TRUNCATED;
			next = buf[off];
			off += 8 + (size_t)buf[off + 1] * 8;
			if (off > total)
				return PACKET_MALFORMED;
			continue;
		case 44:	/* fragment */
			if (have < off + 8)
				return PACKET_TRUNCATED;
			if ((get_be16(buf + off + 2) & 0xfff8) != 0)
				return PACKET_FRAGMENT;
			next = buf[off];
			off += 8;
			continue;
		default:
			if (off > have)
				return PACKET_TRUNCATED;
			out->proto = next;
			return transport(buf + off, have - off, total - off,
			    out);
		}
	}
	return PACKET_MALFORMED;
}

enum packet_status
packet_parse_ip(const uint8_t *buf, size_t caplen, struct packet *out)
{
	memset(out, 0, sizeof(*out));
	if (caplen < 1)
		return PACKET_TRUNCATED;
	switch (buf[0] >> 4) {
	case 4:
		return parse_v4(buf, caplen, out);
	case 6:
		return parse_v6(buf, caplen, out);
	default:
		return PACKET_OTHER;
	}
}

const char *
packet_status_name(enum packet_status status)
{
	switch (status) {
	case PACKET_OK:
		return "ok";
	case PACKET_TRUNCATED:
		return "truncated";
	case PACKET_MALFORMED:
		return "malformed";
	case PACKET_FRAGMENT:
		return "fragment";
	case PACKET_OTHER:
		return "not TCP or UDP";
	}
	return "?";
}
