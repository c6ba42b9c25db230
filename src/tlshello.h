/*
 * tlshello.h: an incremental parser of a TLS ClientHello (RFC 8446 §4.1.2,
 * RFC 5246 §7.4.1.2) as it arrives on a TCP connection: record layer
 * (RFC 8446 §5.1; a ClientHello may span several records and many
 * segments), handshake header, and the extensions hushd judges by:
 * server_name (RFC 6066 §3), ALPN (RFC 7301), supported_versions
 * (RFC 8446 §4.2.1) and encrypted_client_hello (RFC 9849; the SNI seen
 * is then the outer one). The same ClientHello without the record layer,
 * as QUIC carries it, is read by tlshello_parse_handshake().
 *
 * The caller keeps the bytes received so far in one buffer and calls
 * tlshello_parse() again with the whole buffer each time more arrive;
 * results point into that buffer. Nothing is allocated; nothing is read
 * past len. At most TLSHELLO_MAX bytes are looked at: a ClientHello that
 * needs more is malformed.
 */
#ifndef HUSHD_TLSHELLO_H
#define HUSHD_TLSHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSHELLO_MAX		16384	/* bytes buffered at most */
#define TLSHELLO_MAX_ALPN	8	/* protocols reported */

enum tlshello_status {
	TLSHELLO_DONE,		/* a whole ClientHello was parsed */
	TLSHELLO_NEED_MORE,	/* so far so good: read more */
	TLSHELLO_NOT_TLS,	/* the first bytes are not a TLS handshake record */
	TLSHELLO_MALFORMED,	/* TLS, but not a ClientHello that makes sense */
};

struct tlshello_span {
	const uint8_t	*ptr;	/* into the caller's buffer; NULL if absent */
	size_t		 len;
};

struct tlshello {
	uint16_t		record_version;	/* of the first record */
	uint16_t		legacy_version;	/* client_version field */
	uint16_t		max_version;	/* highest offered (supported_versions) */
	bool			has_sni;
	struct tlshello_span	sni;		/* host_name, as sent */
	bool			sni_valid;	/* a plausible DNS host name */
	size_t			n_alpn;
	struct tlshello_span	alpn[TLSHELLO_MAX_ALPN];
	bool			ech;		/* encrypted_client_hello present */
	size_t			hello_len;	/* handshake message length */
	size_t			consumed;	/* bytes of buf the ClientHello took */
};

/*
 * Parses buf (len bytes received so far on the connection). On DONE, out
 * describes the ClientHello; on other results out is unspecified. A
 * duplicated extension, an SNI list with other than one host_name, or any
 * length that runs past its container is MALFORMED.
 */
enum tlshello_status tlshello_parse(const uint8_t *buf, size_t len,
    struct tlshello *out);

/*
 * The same for a bare handshake message, without the record layer: QUIC
 * carries the ClientHello so (RFC 9001 §4.1.3). record_version is then 0;
 * consumed is the message's length (header included), and bytes after it
 * are not looked at.
 */
enum tlshello_status tlshello_parse_handshake(const uint8_t *buf, size_t len,
    struct tlshello *out);

const char *tlshello_status_name(enum tlshello_status status);

#endif
