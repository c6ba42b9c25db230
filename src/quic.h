/*
 * quic.h: the ClientHello inside a client's QUIC Initial packets.
 *
 * QUIC v1 (RFC 9000, RFC 9001) and v2 (RFC 9369) protect Initial packets
 * with keys derived from the client's first Destination Connection ID, so
 * anyone on the path can read them (RFC 9001 §5.2). quic_datagram() takes
 * each UDP datagram a client sends; it parses the long-header Initial
 * packets in it (several may be coalesced), removes header protection,
 * decrypts them, and puts the CRYPTO frames' bytes back in order, across
 * packets (a large ClientHello, e.g. with a post-quantum key share, spans
 * two or more Initials, in any order). Once the ClientHello is whole it is
 * parsed with tlshello.c.
 *
 * State per connection (client address and port, server address and port)
 * is bounded in bytes, packets and time, and the table evicts the least
 * recently used connection. Every length read from the wire is checked;
 * nothing is read past the datagram.
 */
#ifndef HUSHD_QUIC_H
#define HUSHD_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tlshello.h"

#define QUIC_V1		0x00000001u
#define QUIC_V2		0x6b3343cfu

enum quic_status {
	QUIC_NOT_INITIAL,	/* not a client Initial of a known version */
	QUIC_NEED_MORE,		/* part of a ClientHello: send the next datagram */
	QUIC_DONE,		/* out->hello holds the ClientHello */
	QUIC_ERROR,		/* a client Initial that cannot be read: *why */
};

struct quic_hello {
	uint32_t	version;
	struct tlshello	hello;	/* points into the table: valid until the
				   next call on it */
};

struct quic_table;

/* Holds at most max_conns connections' partial ClientHellos. */
struct quic_table *quic_table_new(size_t max_conns);
void quic_table_free(struct quic_table *t);

/*
 * One UDP datagram (payload of len bytes) from src to dst at now_ms (any
 * monotonic millisecond clock). On QUIC_DONE the connection's ClientHello
 * is forgotten: a later Initial of it starts over. Its keys are kept (for
 * at most 10 s), so the client's later Initials, which go to the
 * connection ID the server chose, still authenticate; and a datagram the
 * other way is the server's, NOT_INITIAL. On QUIC_ERROR *why says what
 * was wrong (a static string); otherwise *why is NULL.
 */
enum quic_status quic_datagram(struct quic_table *t,
    const struct sockaddr *src, const struct sockaddr *dst,
    const uint8_t *payload, size_t len, uint64_t now_ms,
    struct quic_hello *out, const char **why);

/* "v1", "v2", or NULL for other versions. */
const char *quic_version_name(uint32_t version);

#endif
