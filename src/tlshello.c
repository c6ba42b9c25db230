/*
 * tlshello.c: reads a TLS ClientHello from the bytes a client has sent so
 * far, without allocating and without reading past what it was given.
 *
 * Implements: the record layer of RFC 8446 §5.1 (handshake records of 1 to
 * 2^14 bytes; a handshake message may be split over several records, and no
 * other record type may come between its fragments); the handshake header
 * and ClientHello of RFC 8446 §4 and §4.1.2 and RFC 5246 §7.4.1.2 (where
 * extensions may be absent); one extension of each type at most (RFC 8446
 * §4.2); server_name (RFC 6066 §3), ALPN (RFC 7301 §3.1),
 * supported_versions (RFC 8446 §4.2.1), with GREASE values (RFC 8701 §2)
 * ignored, and the presence of encrypted_client_hello (RFC 9849).
 *
 * Each call parses from the first byte again, with a cursor that walks the
 * handshake bytes and hops over the record headers between them, so every
 * span reported points into the caller's buffer. The price: a host_name or
 * a reported ALPN protocol split between two records has no single span,
 * and is MALFORMED. No client splits those; tools that split a ClientHello
 * to slip its SNI past a filter do, and are reported rather than missed.
 * Parsing again from the start costs O(len) per call, which is small: most
 * ClientHellos arrive in one segment.
 *
 * Also MALFORMED: a record that could not end within TLSHELLO_MAX bytes
 * (as soon as its header says so), and handshake bytes after the hello in
 * its last record (a client sends nothing more until the server answers).
 * max_version is legacy_version when supported_versions is absent, and 0
 * when it offers nothing but GREASE.
 *
 * tlshello_parse_handshake() reads the same ClientHello without the record
 * layer, as QUIC carries it in CRYPTO frames (RFC 9001 §4.1.3); bytes after
 * the message are then the caller's business.
 *
 * Does not: check cipher suites, compression methods or any extension but
 * the four above; decrypt ECH (the SNI seen is the outer one); accept
 * SSL 2.0 compatible hellos (NOT_TLS).
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tlshello.h"

#define RECORD_HEADER_LEN	5
#define RECORD_MAX_LEN		16384	/* 2^14, RFC 8446 §5.1 */
#define CONTENT_HANDSHAKE	22
#define RECORD_MAJOR_VERSION	3	/* SSL 3.0 and every TLS */
#define HANDSHAKE_HEADER_LEN	4
#define HANDSHAKE_CLIENT_HELLO	1
#define RANDOM_LEN		32
#define SESSION_ID_MAX		32

#define EXT_SERVER_NAME		0x0000
#define EXT_ALPN		0x0010
#define EXT_SUPPORTED_VERSIONS	0x002b
#define EXT_ECH			0xfe0d
#define NAME_TYPE_HOST_NAME	0

#define HOST_NAME_MAX_LEN	253
#define LABEL_MAX_LEN		63

/*
 * Walks the handshake bytes of consecutive handshake records. hoff counts
 * handshake bytes taken so far; containers (the message, an extension, a
 * list) are ends in that count, so "end - c->hoff < n" checks a read
 * against its container without adding to offsets.
 *
 * The helpers below return TLSHELLO_DONE when their step went through, or
 * the status the whole parse must stop with.
 */
struct cursor {
	const uint8_t	*buf;
	size_t		 len;	/* received, at most TLSHELLO_MAX */
	size_t		 pos;	/* offset in buf of the next byte */
	size_t		 record_left;	/* payload left in this record */
	size_t		 hoff;	/* handshake bytes taken */
	uint16_t	 record_version;	/* of the first record */
};

/*
 * Reads the header of the record at c->pos. The first record decides
 * whether this is TLS at all, byte by byte as they arrive; a later one that
 * is not a handshake record is a broken ClientHello. A record that could
 * not end within TLSHELLO_MAX bytes is MALFORMED at once: waiting for it
 * would wait for ever.
 */
static enum tlshello_status
cursor_next_record(struct cursor *c)
{
	enum tlshello_status not_handshake = c->pos == 0 ? TLSHELLO_NOT_TLS :
	    TLSHELLO_MALFORMED;
	size_t avail = c->len - c->pos;
	const uint8_t *p;
	size_t record_len;

	if (TLSHELLO_MAX - c->pos < RECORD_HEADER_LEN)
		return TLSHELLO_MALFORMED;
	if (avail < 1)
		return TLSHELLO_NEED_MORE;
	p = c->buf + c->pos;
	if (p[0] != CONTENT_HANDSHAKE)
		return not_handshake;
	if (avail < 2)
		return TLSHELLO_NEED_MORE;
	if (p[1] != RECORD_MAJOR_VERSION)
		return not_handshake;
	if (avail < RECORD_HEADER_LEN)
		return TLSHELLO_NEED_MORE;
	record_len = (size_t)p[3] << 8 | p[4];
	if (record_len == 0 || record_len > RECORD_MAX_LEN)
		return TLSHELLO_MALFORMED;
	if (TLSHELLO_MAX - c->pos - RECORD_HEADER_LEN < record_len)
		return TLSHELLO_MALFORMED;	/* it cannot be buffered */
	if (c->pos == 0)
		c->record_version = (uint16_t)(p[1] << 8 | p[2]);
	c->pos += RECORD_HEADER_LEN;
	c->record_left = record_len;
	return TLSHELLO_DONE;
}

/* Makes sure the cursor stands inside a record's payload. */
static enum tlshello_status
cursor_in_record(struct cursor *c)
{
	if (c->record_left > 0)
		return TLSHELLO_DONE;
	return cursor_next_record(c);
}

static enum tlshello_status
cursor_u8(struct cursor *c, size_t end, uint8_t *value)
{
	enum tlshello_status status;

	if (end - c->hoff < 1)
		return TLSHELLO_MALFORMED;
	if ((status = cursor_in_record(c)) != TLSHELLO_DONE)
		return status;
	if (c->len - c->pos < 1)
		return TLSHELLO_NEED_MORE;
	*value = c->buf[c->pos];
	c->pos++;
	c->record_left--;
	c->hoff++;
	return TLSHELLO_DONE;
}

/* A big-endian number of n bytes (n <= 3); its bytes may span records. */
static enum tlshello_status
cursor_number(struct cursor *c, size_t end, size_t n, size_t *value)
{
	enum tlshello_status status;
	uint8_t byte;

	if (end - c->hoff < n)
		return TLSHELLO_MALFORMED;
	*value = 0;
	if (c->record_left >= n && c->len - c->pos >= n) {
		/* The usual case: all n bytes here, in this record. */
		for (size_t i = 0; i < n; i++)
			*value = *value << 8 | c->buf[c->pos + i];
		c->pos += n;
		c->record_left -= n;
		c->hoff += n;
		return TLSHELLO_DONE;
	}
	for (size_t i = 0; i < n; i++) {
		if ((status = cursor_u8(c, end, &byte)) != TLSHELLO_DONE)
			return status;
		*value = *value << 8 | byte;
	}
	return TLSHELLO_DONE;
}

static enum tlshello_status
cursor_skip(struct cursor *c, size_t end, size_t n)
{
	enum tlshello_status status;
	size_t take;

	if (end - c->hoff < n)
		return TLSHELLO_MALFORMED;
	while (n > 0) {
		if ((status = cursor_in_record(c)) != TLSHELLO_DONE)
			return status;
		take = n < c->record_left ? n : c->record_left;
		if (c->len - c->pos < take)
			return TLSHELLO_NEED_MORE;
		c->pos += take;
		c->record_left -= take;
		c->hoff += take;
		n -= take;
	}
	return TLSHELLO_DONE;
}

/* n >= 1 bytes that must lie in one record, as a span of the buffer. */
static enum tlshello_status
cursor_span(struct cursor *c, size_t end, size_t n, struct tlshello_span *span)
{
	enum tlshello_status status;

	if (end - c->hoff < n)
		return TLSHELLO_MALFORMED;
	if ((status = cursor_in_record(c)) != TLSHELLO_DONE)
		return status;
	if (c->record_left < n)
		return TLSHELLO_MALFORMED;	/* split between records */
	if (c->len - c->pos < n)
		return TLSHELLO_NEED_MORE;
	span->ptr = c->buf + c->pos;
	span->len = n;
	c->pos += n;
	c->record_left -= n;
	c->hoff += n;
	return TLSHELLO_DONE;
}

/* Reads a length of n bytes; the data it announces must fit before end. */
static enum tlshello_status
cursor_length(struct cursor *c, size_t end, size_t n, size_t *length)
{
	enum tlshello_status status;

	if ((status = cursor_number(c, end, n, length)) != TLSHELLO_DONE)
		return status;
	if (end - c->hoff < *length)
		return TLSHELLO_MALFORMED;
	return TLSHELLO_DONE;
}

/*
 * RFC 8701 reserves 0x0A0A, 0x1A1A, ... 0xFAFA. Any 0x?A?A is skipped
 * here: no real protocol version has that shape, so nothing is lost.
 */
static bool
is_grease(uint16_t value)
{
	return (value & 0x0f0f) == 0x0a0a;
}

static bool
is_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

static bool
is_hex_digit(uint8_t ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

/*
 * Whether the last label reads as a number, as the WHATWG URL Standard's
 * "ends in a number checker" decides: then the whole name is taken for an
 * IPv4 address ("10.1", "0x7f000001" and "2130706433" included). No top
 * level domain is all digits.
 */
static bool
label_is_number(const uint8_t *label, size_t len)
{
	size_t i = 0;
	bool hex = len >= 2 && label[0] == '0' &&
	    (label[1] == 'x' || label[1] == 'X');

	if (hex)
		i = 2;
	for (; i < len; i++)
		if (hex ? !is_hex_digit(label[i]) : !is_digit(label[i]))
			return false;
	return true;
}

/*
 * A plausible DNS host name (RFC 1123 §2.1, RFC 6066 §3): 1 to 253 bytes
 * of letters, digits, '-', '_' and '.', in labels of 1 to 63, one trailing
 * dot allowed, and not an IP literal. Underscores and hyphens at the ends
 * of labels are let through: such names are registered and resolved.
 */
static bool
host_name_valid(const uint8_t *name, size_t len)
{
	size_t label_len = 0, last_label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = name[i];

		if (ch == '.') {
			if (label_len == 0)
				return false;
			label_len = 0;
			last_label = i + 1;
			continue;
		}
		if (!is_digit(ch) && !(ch >= 'a' && ch <= 'z') &&
		    !(ch >= 'A' && ch <= 'Z') && ch != '-' && ch != '_')
			return false;
		if (++label_len > LABEL_MAX_LEN)
			return false;
	}
	if (label_len == 0)
		return false;
	return !label_is_number(name + last_label, len - last_label);
}

/*
 * RFC 6066 §3: a list holding exactly one host_name. An empty extension is
 * what a server answers with, never what a client sends.
 */
static enum tlshello_status
parse_server_name(struct cursor *c, size_t end, struct tlshello *out)
{
	enum tlshello_status status;
	size_t list_len, name_len;
	uint8_t name_type;

	if ((status = cursor_length(c, end, 2, &list_len)) != TLSHELLO_DONE)
		return status;
	if (list_len != end - c->hoff)
		return TLSHELLO_MALFORMED;
	if ((status = cursor_u8(c, end, &name_type)) != TLSHELLO_DONE)
		return status;
	if (name_type != NAME_TYPE_HOST_NAME)
		return TLSHELLO_MALFORMED;
	if ((status = cursor_length(c, end, 2, &name_len)) != TLSHELLO_DONE)
		return status;
	if (name_len == 0 || name_len != end - c->hoff)
		return TLSHELLO_MALFORMED;	/* empty, or a second entry */
	if ((status = cursor_span(c, end, name_len, &out->sni)) !=
	    TLSHELLO_DONE)
		return status;
	out->has_sni = true;
	out->sni_valid = host_name_valid(out->sni.ptr, out->sni.len);
	return TLSHELLO_DONE;
}

/*
 * RFC 7301 §3.1: protocol_name_list<2..2^16-1> of ProtocolName<1..2^8-1>.
 * Protocols past TLSHELLO_MAX_ALPN are checked but not reported.
 */
static enum tlshello_status
parse_alpn(struct cursor *c, size_t end, struct tlshello *out)
{
	enum tlshello_status status;
	size_t list_len, name_len;

	if ((status = cursor_length(c, end, 2, &list_len)) != TLSHELLO_DONE)
		return status;
	if (list_len < 2 || list_len != end - c->hoff)
		return TLSHELLO_MALFORMED;
	while (c->hoff != end) {
		if ((status = cursor_length(c, end, 1, &name_len)) !=
		    TLSHELLO_DONE)
			return status;
		if (name_len == 0)
			return TLSHELLO_MALFORMED;
		if (out->n_alpn < TLSHELLO_MAX_ALPN)
			status = cursor_span(c, end, name_len,
			    &out->alpn[out->n_alpn++]);
		else
			status = cursor_skip(c, end, name_len);
		if (status != TLSHELLO_DONE)
			return status;
	}
	return TLSHELLO_DONE;
}

/*
 * RFC 8446 §4.2.1: in a ClientHello, versions<2..254>. A list of nothing
 * but GREASE offers no version at all: max_version is then 0.
 */
static enum tlshello_status
parse_supported_versions(struct cursor *c, size_t end, struct tlshello *out)
{
	enum tlshello_status status;
	size_t list_len, version;

	if ((status = cursor_length(c, end, 1, &list_len)) != TLSHELLO_DONE)
		return status;
	if (list_len < 2 || list_len % 2 != 0 || list_len != end - c->hoff)
		return TLSHELLO_MALFORMED;
	out->max_version = 0;
	while (c->hoff != end) {
		if ((status = cursor_number(c, end, 2, &version)) !=
		    TLSHELLO_DONE)
			return status;
		if (!is_grease((uint16_t)version) && version > out->max_version)
			out->max_version = (uint16_t)version;
	}
	return TLSHELLO_DONE;
}

static enum tlshello_status
parse_extension(struct cursor *c, uint16_t type, size_t end,
    struct tlshello *out)
{
	switch (type) {
	case EXT_SERVER_NAME:
		return parse_server_name(c, end, out);
	case EXT_ALPN:
		return parse_alpn(c, end, out);
	case EXT_SUPPORTED_VERSIONS:
		return parse_supported_versions(c, end, out);
	case EXT_ECH:
		out->ech = true;
		return cursor_skip(c, end, end - c->hoff);
	default:
		return cursor_skip(c, end, end - c->hoff);
	}
}

/* Extensions up to end, each type at most once (RFC 8446 §4.2). */
/*
 * The extension types met so far, to refuse a duplicate: those below 64
 * (the registry's usual ones) in a bit mask, a few others in a list and,
 * past that, every type in a bitmap, cleared only when a ClientHello
 * needs it, since clearing 8 KiB for each one is most of a parse.
 */
#define SEEN_HIGH_MAX	32

struct seen_types {
	uint64_t	 low;
	size_t		 n_high;
	uint16_t	 high[SEEN_HIGH_MAX];
	uint8_t		 all[65536 / 8];	/* once n_high is past the list */
};

/* Notes type; false if it was met before. */
static bool
seen_add(struct seen_types *seen, uint16_t type)
{
	if (type < 64) {
		if (seen->low & (UINT64_C(1) << type))
			return false;
		seen->low |= UINT64_C(1) << type;
		return true;
	}
	if (seen->n_high == SEEN_HIGH_MAX) {
		memset(seen->all, 0, sizeof(seen->all));
		for (size_t i = 0; i < SEEN_HIGH_MAX; i++)
			seen->all[seen->high[i] / 8] |=
			    (uint8_t)(1u << (seen->high[i] % 8));
		seen->n_high++;
	}
	if (seen->n_high > SEEN_HIGH_MAX) {
		if (seen->all[type / 8] & (1u << (type % 8)))
			return false;
		seen->all[type / 8] |= (uint8_t)(1u << (type % 8));
		return true;
	}
	for (size_t i = 0; i < seen->n_high; i++)
		if (seen->high[i] == type)
			return false;
	seen->high[seen->n_high++] = type;
	return true;
}

static enum tlshello_status
parse_extensions(struct cursor *c, size_t end, struct tlshello *out)
{
	struct seen_types seen;		/* seen.all is cleared if needed */
	enum tlshello_status status;
	size_t type, data_len, data_end;

	seen.low = 0;
	seen.n_high = 0;

	while (c->hoff != end) {
		if ((status = cursor_number(c, end, 2, &type)) != TLSHELLO_DONE)
			return status;
		if (!seen_add(&seen, (uint16_t)type))
			return TLSHELLO_MALFORMED;
		if ((status = cursor_length(c, end, 2, &data_len)) !=
		    TLSHELLO_DONE)
			return status;
		data_end = c->hoff + data_len;
		if ((status = parse_extension(c, (uint16_t)type, data_end,
		    out)) != TLSHELLO_DONE)
			return status;
		if (c->hoff != data_end)
			return TLSHELLO_MALFORMED;
	}
	return TLSHELLO_DONE;
}

/*
 * Skips a vector<min..max> with a length of width bytes, in elements of
 * unit bytes, as RFC 8446 §3.4 writes them.
 */
static enum tlshello_status
skip_vector(struct cursor *c, size_t end, size_t width, size_t min,
    size_t max, size_t unit)
{
	enum tlshello_status status;
	size_t length;

	if ((status = cursor_length(c, end, width, &length)) != TLSHELLO_DONE)
		return status;
	if (length < min || length > max || length % unit != 0)
		return TLSHELLO_MALFORMED;
	return cursor_skip(c, end, length);
}

/*
 * The ClientHello body, RFC 8446 §4.1.2 and RFC 5246 §7.4.1.2: version,
 * random, session_id<0..32>, cipher_suites<2..2^16-2>,
 * compression_methods<1..2^8-1>, and extensions when any bytes are left.
 */
static enum tlshello_status
parse_client_hello(struct cursor *c, size_t end, struct tlshello *out)
{
	enum tlshello_status status;
	size_t version, length;

	if ((status = cursor_number(c, end, 2, &version)) != TLSHELLO_DONE)
		return status;
	out->legacy_version = (uint16_t)version;
	out->max_version = out->legacy_version;
	if ((status = cursor_skip(c, end, RANDOM_LEN)) != TLSHELLO_DONE ||
	    (status = skip_vector(c, end, 1, 0, SESSION_ID_MAX, 1)) !=
	    TLSHELLO_DONE ||
	    (status = skip_vector(c, end, 2, 2, 65534, 2)) != TLSHELLO_DONE ||
	    (status = skip_vector(c, end, 1, 1, 255, 1)) != TLSHELLO_DONE)
		return status;

	if (c->hoff == end)
		return TLSHELLO_DONE;	/* no extensions: TLS 1.2 or older */
	if ((status = cursor_length(c, end, 2, &length)) != TLSHELLO_DONE)
		return status;
	if (length != end - c->hoff)
		return TLSHELLO_MALFORMED;
	return parse_extensions(c, end, out);
}

/*
 * The handshake message at the cursor: its header (RFC 8446 §4), which
 * must announce a ClientHello that fits in TLSHELLO_MAX bytes, and the
 * ClientHello itself. Both entry points below share it.
 */
static enum tlshello_status
parse_handshake_message(struct cursor *c, struct tlshello *out)
{
	enum tlshello_status status;
	size_t type, hello_len;

	if ((status = cursor_number(c, HANDSHAKE_HEADER_LEN, 1, &type)) !=
	    TLSHELLO_DONE)
		return status;
	if (type != HANDSHAKE_CLIENT_HELLO)
		return TLSHELLO_MALFORMED;
	if ((status = cursor_number(c, HANDSHAKE_HEADER_LEN, 3,
	    &hello_len)) != TLSHELLO_DONE)
		return status;
	if (hello_len > TLSHELLO_MAX - HANDSHAKE_HEADER_LEN)
		return TLSHELLO_MALFORMED;
	if ((status = parse_client_hello(c, HANDSHAKE_HEADER_LEN + hello_len,
	    out)) != TLSHELLO_DONE)
		return status;
	out->hello_len = hello_len;
	return TLSHELLO_DONE;
}

/*
 * Both entry points: at most TLSHELLO_MAX bytes, out cleared, then the
 * handshake message from where the cursor stands.
 */
static enum tlshello_status
parse_from(struct cursor *c, struct tlshello *out)
{
	if (c->len > TLSHELLO_MAX)
		c->len = TLSHELLO_MAX;
	memset(out, 0, sizeof(*out));
	return parse_handshake_message(c, out);
}

enum tlshello_status
tlshello_parse(const uint8_t *buf, size_t len, struct tlshello *out)
{
	struct cursor c = { .buf = buf, .len = len };
	enum tlshello_status status;

	if ((status = parse_from(&c, out)) != TLSHELLO_DONE)
		return status;
	if (c.record_left != 0)
		return TLSHELLO_MALFORMED;
	out->record_version = c.record_version;
	out->consumed = c.pos;
	return TLSHELLO_DONE;
}

/*
 * The bare message is read as if it were the payload of one record of
 * TLSHELLO_MAX bytes: the cursor never looks for a record header, since
 * the message header already bounds every read to TLSHELLO_MAX bytes.
 */
enum tlshello_status
tlshello_parse_handshake(const uint8_t *buf, size_t len,
    struct tlshello *out)
{
	struct cursor c = { .buf = buf, .len = len,
	    .record_left = TLSHELLO_MAX };
	enum tlshello_status status;

	if ((status = parse_from(&c, out)) != TLSHELLO_DONE)
		return status;
	out->consumed = c.pos;
	return TLSHELLO_DONE;
}

const char *
tlshello_status_name(enum tlshello_status status)
{
	switch (status) {
	case TLSHELLO_DONE:
		return "done";
	case TLSHELLO_NEED_MORE:
		return "need-more";
	case TLSHELLO_NOT_TLS:
		return "not-tls";
	case TLSHELLO_MALFORMED:
		return "malformed";
	}
	return "unknown";
}
