/*
 * packet.h: IPv4 and IPv6 datagrams, as a capture or the kernel's packet
 * queue hands them over, down to their UDP or TCP payload.
 *
 * Every length is checked against the bytes present: a packet cut short
 * by the capture's snaplen, a header that claims more than there is, a
 * fragment (only a first fragment's transport header can be read; later
 * fragments carry none) are reported, never read past. IPv6 extension
 * headers (hop-by-hop, routing, destination options, fragment) are
 * walked; ESP and anything unknown end the walk.
 */
#ifndef HUSHD_PACKET_H
#define HUSHD_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum packet_status {
	PACKET_OK,
	PACKET_TRUNCATED,	/* fewer bytes than the headers say */
	PACKET_MALFORMED,	/* a header that makes no sense */
	PACKET_FRAGMENT,	/* not the first fragment: no transport header */
	PACKET_OTHER,		/* neither TCP nor UDP, or not IP */
};

#define PACKET_TCP_SYN	0x02
#define PACKET_TCP_RST	0x04
#define PACKET_TCP_FIN	0x01
#define PACKET_TCP_ACK	0x10

struct packet {
	uint8_t			 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	struct sockaddr_storage	 src;		/* address and port */
	struct sockaddr_storage	 dst;
	socklen_t		 addr_len;
	uint32_t		 seq;		/* TCP only */
	uint8_t			 tcp_flags;
	const uint8_t		*payload;
	size_t			 payload_len;
	bool			 cut;		/* payload shorter than sent */
};

/*
 * Parses an IP datagram of which caplen bytes were captured; the IP
 * header says how long it was sent (out->cut when the payload is short).
 */
enum packet_status packet_parse_ip(const uint8_t *buf, size_t caplen,
    struct packet *out);

const char *packet_status_name(enum packet_status status);

#endif
