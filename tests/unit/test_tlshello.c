/*
 * test_tlshello.c: the ClientHello parser.
 *
 * Real hellos: openssl s_client, curl, gnutls-cli and Python's ssl module
 * connect to a loopback listener (tests/tools/capture-clienthello.py) that
 * keeps their first flight; a client that is not installed is skipped with
 * a message. Built hellos: split over records at every boundary, lengths
 * one too long and one too short, duplicated extensions, bad and empty
 * host names, not TLS at all, ECH, GREASE, a post-quantum key share.
 * Every hello that parses is also fed one byte at a time: each prefix must
 * want more. The same hello without the record layer, as QUIC carries it.
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

#include <cmocka.h>

#include "tlshello.h"

#define CAPTURE		HUSHD_SRCDIR "/tests/tools/capture-clienthello.py"
#define BUILD_MAX	(2 * TLSHELLO_MAX)
#define MAX_FIELDS	64
#define MAX_OPEN	8
#define MAX_SPANS	(1 + 16)
#define RECORD_HEADER	5

#define EXT_SERVER_NAME	0x0000
#define EXT_SIG_ALGS	0x000d
#define EXT_ALPN	0x0010
#define EXT_EMS		0x0017
#define EXT_PADDING	0x0015
#define EXT_VERSIONS	0x002b
#define EXT_KEY_SHARE	0x0033
#define EXT_ECH		0xfe0d

#define X25519MLKEM768_SHARE	1216

static char tmpdir[64];

/*
 * A handshake message being built. Length fields are opened before their
 * contents and filled in when closed; each is remembered (unless inside
 * data the parser does not look at) so a test can make it lie.
 */
struct builder {
	uint8_t	msg[BUILD_MAX];
	size_t	len;
	size_t	open[MAX_OPEN];
	size_t	depth;
	int	opaque;
	struct {
		size_t	off, width;
		bool	opaque;
	}	field[MAX_FIELDS];
	size_t	n_fields;
	/* Fields reported as spans: a record boundary inside one is fatal. */
	size_t	span_off[MAX_SPANS], span_len[MAX_SPANS];
	size_t	n_spans;
};

static void
put(struct builder *b, const void *data, size_t n)
{
	assert_true(BUILD_MAX - b->len >= n);
	if (n > 0)
		memcpy(b->msg + b->len, data, n);
	b->len += n;
}

static void
put_fill(struct builder *b, uint8_t byte, size_t n)
{
	assert_true(BUILD_MAX - b->len >= n);
	memset(b->msg + b->len, byte, n);
	b->len += n;
}

static void
put_u8(struct builder *b, uint8_t value)
{
	put(b, &value, 1);
}

static void
put_u16(struct builder *b, uint16_t value)
{
	uint8_t bytes[2] = { (uint8_t)(value >> 8), (uint8_t)value };

	put(b, bytes, 2);
}

static void
length_open(struct builder *b, size_t width)
{
	assert_true(b->n_fields < MAX_FIELDS && b->depth < MAX_OPEN);
	b->field[b->n_fields].off = b->len;
	b->field[b->n_fields].width = width;
	b->field[b->n_fields].opaque = b->opaque > 0;
	b->open[b->depth++] = b->n_fields++;
	put_fill(b, 0, width);
}

static void
length_close(struct builder *b)
{
	size_t i, off, width, value;

	assert_true(b->depth > 0);
	i = b->open[--b->depth];
	off = b->field[i].off;
	width = b->field[i].width;
	value = b->len - off - width;
	assert_true(width == 3 || value < (size_t)1 << (8 * width));
	for (size_t k = 0; k < width; k++)
		b->msg[off + k] = (uint8_t)(value >> (8 * (width - 1 - k)));
}

static void
mark_span(struct builder *b, size_t len)
{
	assert_true(b->n_spans < MAX_SPANS);
	b->span_off[b->n_spans] = b->len;
	b->span_len[b->n_spans] = len;
	b->n_spans++;
}

/* Handshake header and ClientHello fields before the extensions. */
static void
hello_fields(struct builder *b, size_t session_id_len, size_t cipher_bytes,
    size_t compression_len)
{
	memset(b, 0, sizeof(*b));
	put_u8(b, 1);
	length_open(b, 3);
	put_u16(b, 0x0303);
	for (uint8_t i = 0; i < 32; i++)
		put_u8(b, i);
	length_open(b, 1);
	put_fill(b, 0xaa, session_id_len);
	length_close(b);
	length_open(b, 2);
	for (size_t i = 0; i < cipher_bytes; i++)
		put_u8(b, (uint8_t)(i % 2 == 0 ? 0x13 : 1 + i / 2));
	length_close(b);
	length_open(b, 1);
	put_fill(b, 0, compression_len);
	length_close(b);
}

/* As a TLS 1.3 client writes it; the extensions are left open. */
static void
hello_begin(struct builder *b)
{
	hello_fields(b, 32, 8, 1);
	length_open(b, 2);
}

static size_t
hello_end(struct builder *b)
{
	while (b->depth > 0)
		length_close(b);
	return b->len;
}

static void
ext_begin(struct builder *b, uint16_t type)
{
	put_u16(b, type);
	length_open(b, 2);
}

static void
ext_raw(struct builder *b, uint16_t type, const void *data, size_t len)
{
	ext_begin(b, type);
	put(b, data, len);
	length_close(b);
}

static void
ext_sni(struct builder *b, const char *name, size_t name_len)
{
	ext_begin(b, EXT_SERVER_NAME);
	length_open(b, 2);
	put_u8(b, 0);
	length_open(b, 2);
	mark_span(b, name_len);
	put(b, name, name_len);
	length_close(b);
	length_close(b);
	length_close(b);
}

/* protocols: NULL-terminated. */
static void
ext_alpn(struct builder *b, const char *const *protocols)
{
	ext_begin(b, EXT_ALPN);
	length_open(b, 2);
	for (size_t i = 0; protocols[i] != NULL; i++) {
		size_t len = strlen(protocols[i]);

		length_open(b, 1);
		if (i < TLSHELLO_MAX_ALPN)
			mark_span(b, len);
		put(b, protocols[i], len);
		length_close(b);
	}
	length_close(b);
	length_close(b);
}

static void
ext_versions(struct builder *b, const uint16_t *versions, size_t n)
{
	ext_begin(b, EXT_VERSIONS);
	length_open(b, 1);
	for (size_t i = 0; i < n; i++)
		put_u16(b, versions[i]);
	length_close(b);
	length_close(b);
}

/* X25519, and X25519MLKEM768 before it when post_quantum. */
static void
ext_key_share(struct builder *b, bool post_quantum)
{
	ext_begin(b, EXT_KEY_SHARE);
	b->opaque++;
	length_open(b, 2);
	if (post_quantum) {
		put_u16(b, 0x11ec);
		length_open(b, 2);
		put_fill(b, 0x5c, X25519MLKEM768_SHARE);
		length_close(b);
	}
	put_u16(b, 0x001d);
	length_open(b, 2);
	put_fill(b, 0x42, 32);
	length_close(b);
	length_close(b);
	b->opaque--;
	length_close(b);
}

static const char *const h2_http11[] = { "h2", "http/1.1", NULL };
static const uint16_t tls13_versions[] = { 0x2a2a, 0x0304, 0x0303 };
static const uint8_t sig_algs[] = { 0x00, 0x04, 0x04, 0x03, 0x08, 0x04 };

/* What a browser sends, in brief: GREASE, SNI, ALPN, versions, a share. */
static void
typical_extensions(struct builder *b, const char *sni)
{
	ext_raw(b, 0x1a1a, NULL, 0);
	if (sni != NULL)
		ext_sni(b, sni, strlen(sni));
	ext_alpn(b, h2_http11);
	ext_versions(b, tls13_versions, 3);
	ext_raw(b, EXT_SIG_ALGS, sig_algs, sizeof(sig_algs));
}

static size_t
typical_hello(struct builder *b, const char *sni)
{
	hello_begin(b);
	typical_extensions(b, sni);
	ext_key_share(b, false);
	return hello_end(b);
}

/* A padding extension (RFC 7685) that makes the message msg_len bytes. */
static void
ext_padding_to(struct builder *b, size_t msg_len)
{
	ext_begin(b, EXT_PADDING);
	assert_true(msg_len >= b->len);
	put_fill(b, 0, msg_len - b->len);
	length_close(b);
}

/*
 * Wraps msg in handshake records ending at the offsets in ends (rising,
 * the last one msg_len). The first record says TLS 1.0, as clients write.
 */
static size_t
frame(const uint8_t *msg, size_t msg_len, const size_t *ends, size_t n_ends,
    uint8_t *out, size_t out_size)
{
	size_t len = 0, start = 0;

	for (size_t i = 0; i < n_ends; i++) {
		size_t fragment = ends[i] - start;

		assert_true(ends[i] > start && ends[i] <= msg_len);
		assert_true(out_size - len >= RECORD_HEADER + fragment);
		out[len++] = 22;
		out[len++] = 3;
		out[len++] = i == 0 ? 1 : 3;
		out[len++] = (uint8_t)(fragment >> 8);
		out[len++] = (uint8_t)fragment;
		memcpy(out + len, msg + start, fragment);
		len += fragment;
		start = ends[i];
	}
	assert_int_equal(start, msg_len);
	return len;
}

static size_t
frame_one(const struct builder *b, uint8_t *out, size_t out_size)
{
	return frame(b->msg, b->len, &b->len, 1, out, out_size);
}

/* Records of fragment bytes each (the last may be shorter). */
static size_t
frame_fragments(const uint8_t *msg, size_t msg_len, size_t fragment,
    uint8_t *out, size_t out_size)
{
	static size_t ends[BUILD_MAX];
	size_t n = 0;

	for (size_t end = fragment; ; end += fragment) {
		ends[n++] = end < msg_len ? end : msg_len;
		if (end >= msg_len)
			break;
	}
	return frame(msg, msg_len, ends, n, out, out_size);
}

static bool
span_inside(struct tlshello_span span, const uint8_t *buf, size_t len)
{
	return span.ptr >= buf && span.len <= len &&
	    (size_t)(span.ptr - buf) <= len - span.len;
}

static void
assert_span(struct tlshello_span span, const char *expected)
{
	assert_non_null(span.ptr);
	assert_int_equal(span.len, strlen(expected));
	assert_memory_equal(span.ptr, expected, span.len);
}

static void
assert_spans_inside(const struct tlshello *h, const uint8_t *buf, size_t len)
{
	if (h->has_sni)
		assert_true(span_inside(h->sni, buf, len));
	assert_true(h->n_alpn <= TLSHELLO_MAX_ALPN);
	for (size_t i = 0; i < h->n_alpn; i++)
		assert_true(span_inside(h->alpn[i], buf, len));
}

/* Both parse the same hello, from buffers a and b. */
static void
assert_same_hello(const struct tlshello *x, const uint8_t *a,
    const struct tlshello *y, const uint8_t *b)
{
	assert_int_equal(x->record_version, y->record_version);
	assert_int_equal(x->legacy_version, y->legacy_version);
	assert_int_equal(x->max_version, y->max_version);
	assert_int_equal(x->has_sni, y->has_sni);
	assert_int_equal(x->sni_valid, y->sni_valid);
	assert_int_equal(x->ech, y->ech);
	assert_int_equal(x->hello_len, y->hello_len);
	assert_int_equal(x->consumed, y->consumed);
	if (x->has_sni)
		assert_int_equal(x->sni.ptr - a, y->sni.ptr - b);
	assert_int_equal(x->n_alpn, y->n_alpn);
	for (size_t i = 0; i < x->n_alpn; i++)
		assert_int_equal(x->alpn[i].ptr - a, y->alpn[i].ptr - b);
}

/*
 * buf holds a whole ClientHello (and maybe what follows it). Every prefix
 * short of its end wants more, both as prefixes of buf and as a receive
 * buffer that grows by one byte per call; the whole is DONE, with spans
 * into whichever buffer was parsed.
 */
static void
parse_done(const uint8_t *buf, size_t len, struct tlshello *out)
{
	static uint8_t received[BUILD_MAX];
	enum tlshello_status status;
	struct tlshello h;
	size_t i;

	assert_true(len <= sizeof(received));
	status = tlshello_parse(buf, len, out);
	if (status != TLSHELLO_DONE)
		fail_msg("%zu bytes: %s", len, tlshello_status_name(status));
	assert_true(out->consumed <= len);
	assert_spans_inside(out, buf, out->consumed);
	for (i = 0; i < out->consumed; i++) {
		status = tlshello_parse(buf, i, &h);
		if (status != TLSHELLO_NEED_MORE)
			fail_msg("prefix of %zu of %zu bytes: %s", i,
			    out->consumed, tlshello_status_name(status));
		received[i] = buf[i];
		status = tlshello_parse(received, i + 1, &h);
		if (status != (i + 1 < out->consumed ? TLSHELLO_NEED_MORE :
		    TLSHELLO_DONE))
			fail_msg("byte %zu of %zu: %s", i + 1, out->consumed,
			    tlshello_status_name(status));
	}
	assert_spans_inside(&h, received, out->consumed);
	assert_same_hello(out, buf, &h, received);
}

static enum tlshello_status
parse_status(const uint8_t *buf, size_t len)
{
	struct tlshello h;

	return tlshello_parse(buf, len, &h);
}

/* The result on buf, and no prefix of it is DONE. */
static void
assert_status(const uint8_t *buf, size_t len, enum tlshello_status expected)
{
	enum tlshello_status status = parse_status(buf, len);

	if (status != expected)
		fail_msg("%s, expected %s", tlshello_status_name(status),
		    tlshello_status_name(expected));
	for (size_t i = 0; i < len; i++)
		assert_int_not_equal(parse_status(buf, i), TLSHELLO_DONE);
}

static void
assert_built(const struct builder *b, enum tlshello_status expected)
{
	static uint8_t buf[BUILD_MAX];
	size_t len = frame_one(b, buf, sizeof(buf));

	assert_status(buf, len, expected);
}

/* A hello whose only extension, type with data, is MALFORMED. */
static void
assert_malformed_extension(uint16_t type, const void *data, size_t len)
{
	static struct builder b;

	hello_begin(&b);
	ext_raw(&b, type, data, len);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);
}

/* Builds, frames in one record and parses, which must succeed. */
static void
parse_built(const struct builder *b, uint8_t *buf, struct tlshello *h)
{
	size_t len = frame_one(b, buf, BUILD_MAX);

	parse_done(buf, len, h);
	assert_int_equal(h->consumed, len);
	assert_int_equal(h->hello_len, b->len - 4);
}

/* Whether a record boundary at offset split of the message cuts a span. */
static bool
splits_span(const struct builder *b, size_t split)
{
	for (size_t i = 0; i < b->n_spans; i++)
		if (split > b->span_off[i] &&
		    split < b->span_off[i] + b->span_len[i])
			return true;
	return false;
}

/*
 * The message in two records, split at every offset: the same hello, its
 * spans moved by the second record header, except where the split cuts
 * the host name or an ALPN protocol. With prefixes, each one is also fed
 * byte by byte.
 */
static void
check_every_split(const struct builder *b, bool prefixes)
{
	static uint8_t one[BUILD_MAX], two[BUILD_MAX];
	struct tlshello whole, h;
	size_t len;

	parse_built(b, one, &whole);
	for (size_t split = 1; split < b->len; split++) {
		size_t ends[2] = { split, b->len };

		len = frame(b->msg, b->len, ends, 2, two, sizeof(two));
		if (splits_span(b, split)) {
			if (prefixes)
				assert_status(two, len, TLSHELLO_MALFORMED);
			else
				assert_int_equal(parse_status(two, len),
				    TLSHELLO_MALFORMED);
			continue;
		}
		if (prefixes)
			parse_done(two, len, &h);
		else
			assert_int_equal(tlshello_parse(two, len, &h),
			    TLSHELLO_DONE);
		assert_int_equal(h.consumed, len);
		assert_int_equal(h.max_version, whole.max_version);
		assert_int_equal(h.hello_len, whole.hello_len);
		assert_int_equal(h.n_alpn, whole.n_alpn);
		assert_int_equal(h.has_sni, whole.has_sni);
		if (h.has_sni) {
			size_t at = (size_t)(whole.sni.ptr - one) - RECORD_HEADER;

			assert_int_equal(h.sni.ptr - two, at < split ?
			    at + RECORD_HEADER : at + 2 * RECORD_HEADER);
			assert_memory_equal(h.sni.ptr, whole.sni.ptr,
			    whole.sni.len);
		}
		for (size_t i = 0; i < h.n_alpn; i++)
			assert_memory_equal(h.alpn[i].ptr, whole.alpn[i].ptr,
			    whole.alpn[i].len);
	}
}

/* ---------------------------------------------------------------- captured */

struct client {
	const char	*name;
	const char	*program;	/* skipped when it is not installed */
	const char	*package;	/* the Debian package that has it */
	const char	*args;		/* after capture-clienthello.py OUT */
	const char	*alpn;		/* offered, comma-separated */
	uint16_t	 max_version;
};

#define OPENSSL	"openssl s_client -connect '127.0.0.1:{port}' " \
		"-servername www.example.com"
#define CURL	"curl -s -k --max-time 5 --resolve " \
		"'www.example.com:{port}:127.0.0.1' " \
		"'https://www.example.com:{port}/'"
#define GNUTLS	"gnutls-cli --insecure --sni-hostname=www.example.com " \
		"-p '{port}' 127.0.0.1"

static const struct client clients[] = {
	{ "openssl s_client, TLS 1.3", "openssl", "openssl",
	    OPENSSL, "", 0x0304 },
	{ "openssl s_client, TLS 1.3, ALPN", "openssl", "openssl",
	    OPENSSL " -alpn h2,http/1.1", "h2,http/1.1", 0x0304 },
	{ "openssl s_client, TLS 1.2", "openssl", "openssl",
	    OPENSSL " -tls1_2", "", 0x0303 },
	{ "openssl s_client, TLS 1.2, ALPN", "openssl", "openssl",
	    OPENSSL " -tls1_2 -alpn h2,http/1.1", "h2,http/1.1", 0x0303 },
	{ "curl", "curl", "curl",
	    CURL, "h2,http/1.1", 0x0304 },
	{ "curl --http1.1", "curl", "curl",
	    CURL " --http1.1", "http/1.1", 0x0304 },
	{ "gnutls-cli, ALPN", "gnutls-cli", "gnutls-bin",
	    GNUTLS " --alpn=h2 --alpn=http/1.1", "h2,http/1.1", 0x0304 },
	{ "gnutls-cli, TLS 1.2", "gnutls-cli", "gnutls-bin",
	    GNUTLS " --priority=NORMAL:-VERS-ALL:+VERS-TLS1.2", "", 0x0303 },
	{ "python ssl", "python3", "python3",
	    "--python-ssl www.example.com", "", 0x0304 },
	{ "python ssl, ALPN", "python3", "python3",
	    "--python-ssl www.example.com h2 http/1.1", "h2,http/1.1",
	    0x0304 },
};

static bool
installed(const char *program)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", program);
	return system(cmd) == 0;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	static uint8_t data[BUILD_MAX];
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	*len = fread(data, 1, sizeof(data), f);
	assert_true(*len > 0 && feof(f));
	fclose(f);
	return data;
}

static void
assert_alpn(const struct tlshello *h, const char *expected)
{
	size_t n = 0;

	while (*expected != '\0') {
		size_t len = strcspn(expected, ",");

		assert_true(n < h->n_alpn);
		assert_int_equal(h->alpn[n].len, len);
		assert_memory_equal(h->alpn[n].ptr, expected, len);
		n++;
		expected += len;
		if (*expected == ',')
			expected++;
	}
	assert_int_equal(h->n_alpn, n);
}

/* The hello in a capture, as a builder with its spans marked. */
static void
builder_from_capture(const uint8_t *data, size_t len,
    const struct tlshello *h, struct builder *b)
{
	memset(b, 0, sizeof(*b));
	assert_true(len > RECORD_HEADER);
	assert_int_equal((size_t)data[3] << 8 | data[4], len - RECORD_HEADER);
	put(b, data + RECORD_HEADER, len - RECORD_HEADER);
	b->span_off[b->n_spans] = (size_t)(h->sni.ptr - data) - RECORD_HEADER;
	b->span_len[b->n_spans++] = h->sni.len;
	for (size_t i = 0; i < h->n_alpn; i++) {
		b->span_off[b->n_spans] =
		    (size_t)(h->alpn[i].ptr - data) - RECORD_HEADER;
		b->span_len[b->n_spans++] = h->alpn[i].len;
	}
}

static void
test_captured(void **state)
{
	const struct client *client = *state;
	static struct builder b;
	char out[128], cmd[1024];
	struct tlshello h;
	uint8_t *data;
	size_t len;

	/*
	 * Not cmocka's skip(): its TAP output says "not ok ... # SKIP", which
	 * tests/run-tests.sh would count as a failure.
	 */
	if (!installed("python3") || !installed(client->program)) {
		print_message("%s is not installed (Debian: %s): skipped\n",
		    installed("python3") ? client->program : "python3",
		    installed("python3") ? client->package : "python3");
		return;
	}
	snprintf(out, sizeof(out), "%s/hello", tmpdir);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' %s", CAPTURE, out,
	    client->args);
	if (system(cmd) != 0)
		fail_msg("no ClientHello captured: %s", cmd);
	data = read_file(out, &len);

	parse_done(data, len, &h);
	assert_int_equal(h.consumed, len);
	assert_int_equal(h.hello_len,
	    (size_t)data[6] << 16 | (size_t)data[7] << 8 | data[8]);
	assert_int_equal(h.record_version >> 8, 3);
	assert_int_equal(h.legacy_version, 0x0303);
	assert_true(h.has_sni);
	assert_span(h.sni, "www.example.com");
	assert_true(h.sni_valid);
	assert_alpn(&h, client->alpn);
	assert_int_equal(h.max_version, client->max_version);
	assert_false(h.ech);

	builder_from_capture(data, len, &h, &b);
	check_every_split(&b, false);
	assert_int_equal(remove(out), 0);
}

/* ---------------------------------------------------------------- built */

static void
test_typical(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;

	(void)state;
	typical_hello(&b, "www.example.com");
	parse_built(&b, buf, &h);
	assert_int_equal(h.record_version, 0x0301);
	assert_int_equal(h.legacy_version, 0x0303);
	assert_int_equal(h.max_version, 0x0304);
	assert_true(h.has_sni);
	assert_span(h.sni, "www.example.com");
	assert_true(h.sni_valid);
	assert_alpn(&h, "h2,http/1.1");
	assert_false(h.ech);
}

/* Two records, split at every offset; then three, at every pair. */
static void
test_split_records(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;
	size_t len;

	(void)state;
	typical_hello(&b, "www.example.com");
	check_every_split(&b, true);
	for (size_t i = 1; i < b.len; i++) {
		for (size_t j = i + 1; j < b.len; j++) {
			size_t ends[3] = { i, j, b.len };

			len = frame(b.msg, b.len, ends, 3, buf, sizeof(buf));
			if (splits_span(&b, i) || splits_span(&b, j)) {
				assert_int_equal(parse_status(buf, len),
				    TLSHELLO_MALFORMED);
				continue;
			}
			assert_int_equal(tlshello_parse(buf, len, &h),
			    TLSHELLO_DONE);
			assert_int_equal(h.consumed, len);
			assert_span(h.sni, "www.example.com");
			assert_alpn(&h, "h2,http/1.1");
		}
	}
}

/* One byte per record: fine without spans, MALFORMED with them. */
static void
test_one_byte_records(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;
	size_t len;

	(void)state;
	hello_begin(&b);
	ext_versions(&b, tls13_versions, 3);
	ext_key_share(&b, false);
	hello_end(&b);
	len = frame_fragments(b.msg, b.len, 1, buf, sizeof(buf));
	assert_int_equal(len, b.len * (RECORD_HEADER + 1));
	parse_done(buf, len, &h);
	assert_int_equal(h.consumed, len);
	assert_int_equal(h.max_version, 0x0304);
	assert_false(h.has_sni);

	typical_hello(&b, "www.example.com");
	len = frame_fragments(b.msg, b.len, 1, buf, sizeof(buf));
	assert_status(buf, len, TLSHELLO_MALFORMED);
}

/*
 * Every length field parsed, one too long and one too short, in a hello in
 * one record: the containers are exact, so each lie shows (MALFORMED) as
 * soon as the field is read; the record length one too short leaves the
 * hello's last byte (0x42) where a record header should start.
 */
static void
test_lying_lengths(void **state)
{
	static struct builder b;
	static uint8_t good[BUILD_MAX], bad[BUILD_MAX];
	size_t len, tried = 0;

	(void)state;
	typical_hello(&b, "www.example.com");
	len = frame_one(&b, good, sizeof(good));
	for (size_t i = 0; i <= b.n_fields; i++) {
		/* Field b.n_fields stands for the record length. */
		size_t off = i < b.n_fields ? RECORD_HEADER + b.field[i].off : 3;
		size_t width = i < b.n_fields ? b.field[i].width : 2;
		size_t value = 0;

		if (i < b.n_fields && b.field[i].opaque)
			continue;
		for (size_t k = 0; k < width; k++)
			value = value << 8 | good[off + k];
		for (int delta = -1; delta <= 1; delta += 2) {
			size_t lie = value + (size_t)delta;

			if (value == 0 && delta < 0)
				continue;
			memcpy(bad, good, len);
			for (size_t k = 0; k < width; k++)
				bad[off + k] =
				    (uint8_t)(lie >> (8 * (width - 1 - k)));
			assert_status(bad, len, TLSHELLO_MALFORMED);
			tried++;
		}
	}
	assert_true(tried >= 20);
}

/* The record length one too long, with more to come: the hello is done. */
static void
test_record_longer_than_hello(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];

	(void)state;
	typical_hello(&b, "www.example.com");
	frame_one(&b, buf, sizeof(buf));
	/* The record holds one byte more than the hello. */
	buf[3] = (uint8_t)((b.len + 1) >> 8);
	buf[4] = (uint8_t)(b.len + 1);
	buf[RECORD_HEADER + b.len] = 0;
	assert_status(buf, RECORD_HEADER + b.len + 1, TLSHELLO_MALFORMED);
	/* Only the record's last byte missing: still a broken record. */
	assert_int_equal(parse_status(buf, RECORD_HEADER + b.len),
	    TLSHELLO_MALFORMED);
}

static void
test_duplicate_extensions(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;

	(void)state;
	hello_begin(&b);
	ext_sni(&b, "a.example", 9);
	ext_sni(&b, "a.example", 9);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);

	hello_begin(&b);
	ext_raw(&b, EXT_EMS, NULL, 0);
	ext_sni(&b, "a.example", 9);
	ext_raw(&b, EXT_EMS, NULL, 0);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);

	hello_begin(&b);
	ext_versions(&b, tls13_versions, 3);
	ext_versions(&b, tls13_versions, 3);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);

	/* Two GREASE extensions of different values are two types. */
	hello_begin(&b);
	ext_raw(&b, 0x0a0a, NULL, 0);
	ext_sni(&b, "a.example", 9);
	ext_raw(&b, 0xfafa, "\0", 1);
	hello_end(&b);
	parse_built(&b, buf, &h);
	assert_span(h.sni, "a.example");

	/* Many types above 63: kept in a list, then in a bitmap. */
	for (size_t n = 30; n <= 40; n++) {
		for (size_t dup = 0; dup < n; dup += 8) {
			hello_begin(&b);
			ext_sni(&b, "a.example", 9);
			for (size_t i = 0; i < n; i++)
				ext_raw(&b, (uint16_t)(0x1000 + i * 3), NULL,
				    0);
			ext_raw(&b, (uint16_t)(0x1000 + dup * 3), NULL, 0);
			hello_end(&b);
			assert_built(&b, TLSHELLO_MALFORMED);
		}
		hello_begin(&b);
		for (size_t i = 0; i < n; i++)
			ext_raw(&b, (uint16_t)(0x1000 + i * 3), NULL, 0);
		ext_sni(&b, "a.example", 9);
		hello_end(&b);
		parse_built(&b, buf, &h);
		assert_span(h.sni, "a.example");
	}
}

struct name_case {
	const char	*name;
	bool		 valid;
};

static void
check_host_name(const char *name, size_t len, bool valid)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;

	hello_begin(&b);
	ext_sni(&b, name, len);
	hello_end(&b);
	parse_built(&b, buf, &h);
	assert_true(h.has_sni);
	assert_int_equal(h.sni.len, len);
	assert_memory_equal(h.sni.ptr, name, len);
	if (h.sni_valid != valid)
		fail_msg("\"%.*s\" (%zu bytes): sni_valid %d", (int)len, name,
		    len, h.sni_valid);
}

static void
test_host_names(void **state)
{
	static const struct name_case cases[] = {
		{ "www.example.com", true },
		{ "www.example.com.", true },
		{ "localhost", true },
		{ "WWW.Example.COM", true },
		{ "xn--bcher-kva.example", true },
		{ "_dmarc.example.com", true },
		{ "a-b.c_d.example", true },
		{ "1.2.3.4.example", true },
		{ "www.example.com ", false },
		{ "www example.com", false },
		{ "www..example.com", false },
		{ ".example.com", false },
		{ "example.com..", false },
		{ ".", false },
		{ "..", false },
		{ "*.example.com", false },
		{ "ex/ample.com", false },
		{ "b\xc3\xbc" "cher.example", false },
		{ "1.2.3.4", false },
		{ "1.2.3.4.", false },
		{ "127.1", false },
		{ "2130706433", false },
		{ "0x7f000001", false },
		{ "host.0x7F", false },
		{ "::1", false },
		{ "[2001:db8::1]", false },
	};
	char name[400];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_host_name(cases[i].name, strlen(cases[i].name),
		    cases[i].valid);
	check_host_name("exa\0mple.com", 12, false);

	/* Labels of 63 bytes are fine, of 64 are not. */
	memset(name, 'a', 64);
	memcpy(name + 64, ".example", 8);
	check_host_name(name + 1, 71, true);
	check_host_name(name, 72, false);

	/* 253 bytes are fine (254 with a trailing dot); 254 and 300 not. */
	for (size_t i = 0; i < sizeof(name); i++)
		name[i] = i % 4 == 3 ? '.' : 'a';
	name[252] = 'b';
	check_host_name(name, 253, true);
	name[253] = '.';
	check_host_name(name, 254, true);
	name[253] = 'c';
	check_host_name(name, 254, false);
	check_host_name(name, 300, false);
}

static void
test_empty_and_odd_sni(void **state)
{
	static const uint8_t empty_list[] = { 0, 0 };
	static const uint8_t empty_name[] = { 0, 3, 0, 0, 0 };
	static const uint8_t two_names[] = {
		0, 16, 0, 0, 5, 'a', '.', 'e', 'x', 'a',
		0, 0, 5, 'b', '.', 'e', 'x', 'a',
	};
	static const uint8_t not_host_name[] = {
		0, 8, 1, 0, 5, 'a', '.', 'e', 'x', 'a',
	};
	static const uint8_t list_short[] = { 0, 0, 0, 0, 1, 'a' };
	static const struct {
		const uint8_t	*data;
		size_t		 len;
	} cases[] = {
		{ NULL, 0 },	/* empty: what a server sends back */
		{ empty_list, sizeof(empty_list) },
		{ empty_name, sizeof(empty_name) },
		{ two_names, sizeof(two_names) },
		{ not_host_name, sizeof(not_host_name) },
		{ list_short, sizeof(list_short) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_malformed_extension(EXT_SERVER_NAME, cases[i].data,
		    cases[i].len);
}

static void
test_alpn(void **state)
{
	static const char *const many[] = {
		"h2", "http/1.1", "h3", "spdy/3", "stun.turn", "webrtc",
		"c-webrtc", "ftp", "imap", "pop3", NULL,
	};
	static const uint8_t empty_protocol[] = { 0, 4, 2, 'h', '2', 0 };
	static const uint8_t short_list[] = { 0, 1, 0 };
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;

	(void)state;
	hello_begin(&b);
	ext_alpn(&b, many);
	hello_end(&b);
	parse_built(&b, buf, &h);
	assert_alpn(&h, "h2,http/1.1,h3,spdy/3,stun.turn,webrtc,c-webrtc,ftp");
	/* Past the eighth, a split protocol is not reported: no harm. */
	check_every_split(&b, false);

	assert_malformed_extension(EXT_ALPN, empty_protocol,
	    sizeof(empty_protocol));
	assert_malformed_extension(EXT_ALPN, short_list, sizeof(short_list));
	assert_malformed_extension(EXT_ALPN, NULL, 0);
}

static void
test_not_tls(void **state)
{
	static const char *const texts[] = {
		"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
		"\x80\x2e\x01\x03\x01",	/* an SSL 2.0 compatible hello */
		"\x16\x02\x01\x01\x10",	/* not version 3 */
		"\x16\x04\x01\x01\x10",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const uint8_t *text = (const uint8_t *)texts[i];
		size_t len = strlen(texts[i]);

		for (size_t k = 1; k <= len; k++)
			assert_int_equal(parse_status(text, k),
			    k == 1 && text[0] == 22 ? TLSHELLO_NEED_MORE :
			    TLSHELLO_NOT_TLS);
	}
	assert_int_equal(parse_status((const uint8_t *)"", 0),
	    TLSHELLO_NEED_MORE);
	assert_int_equal(parse_status(NULL, 0), TLSHELLO_NEED_MORE);
}

/* Records other than handshake: first, between fragments, and after. */
static void
test_other_records(void **state)
{
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 };
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
	static const uint8_t app_data[] = { 23, 3, 3, 0, 2, 0xde, 0xad };
	static struct builder b;
	static uint8_t hello[BUILD_MAX], buf[BUILD_MAX];
	struct tlshello h;
	size_t ends[2], hello_len, first;

	(void)state;
	assert_status(alert, sizeof(alert), TLSHELLO_NOT_TLS);
	assert_status(ccs, sizeof(ccs), TLSHELLO_NOT_TLS);
	assert_status(app_data, sizeof(app_data), TLSHELLO_NOT_TLS);

	typical_hello(&b, "www.example.com");
	ends[0] = 50;	/* in the random */
	ends[1] = b.len;
	hello_len = frame(b.msg, b.len, ends, 2, hello, sizeof(hello));
	first = RECORD_HEADER + ends[0];
	for (size_t i = 0; i < 2; i++) {
		const uint8_t *record = i == 0 ? alert : ccs;
		size_t record_len = i == 0 ? sizeof(alert) : sizeof(ccs);

		memcpy(buf, hello, first);
		memcpy(buf + first, record, record_len);
		memcpy(buf + first + record_len, hello + first,
		    hello_len - first);
		assert_status(buf, hello_len + record_len,
		    TLSHELLO_MALFORMED);
	}

	/* What follows the hello is not looked at. */
	memcpy(buf, hello, hello_len);
	memcpy(buf + hello_len, ccs, sizeof(ccs));
	memcpy(buf + hello_len + sizeof(ccs), app_data, sizeof(app_data));
	parse_done(buf, hello_len + sizeof(ccs) + sizeof(app_data), &h);
	assert_int_equal(h.consumed, hello_len);
	assert_span(h.sni, "www.example.com");
}

static void
test_record_limits(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;
	size_t len, ends[2];

	(void)state;
	/* Empty and oversized records. */
	assert_status((const uint8_t *)"\x16\x03\x01\x00\x00\x01", 6,
	    TLSHELLO_MALFORMED);
	assert_status((const uint8_t *)"\x16\x03\x01\x40\x01\x01", 6,
	    TLSHELLO_MALFORMED);
	/* Not a ClientHello: a ServerHello, a Finished. */
	assert_status((const uint8_t *)"\x16\x03\x03\x00\x04\x02\x00\x00\x00",
	    9, TLSHELLO_MALFORMED);
	assert_status((const uint8_t *)"\x16\x03\x03\x00\x04\x14\x00\x00\x00",
	    9, TLSHELLO_MALFORMED);
	/* A handshake length past what is ever buffered. */
	assert_status((const uint8_t *)"\x16\x03\x01\x00\x04\x01\x00\x3f\xfd",
	    9, TLSHELLO_MALFORMED);
	/* An empty ClientHello. */
	assert_status((const uint8_t *)"\x16\x03\x01\x00\x04\x01\x00\x00\x00",
	    9, TLSHELLO_MALFORMED);

	/* Padded until the record ends exactly at TLSHELLO_MAX. */
	hello_begin(&b);
	typical_extensions(&b, "www.example.com");
	ext_padding_to(&b, TLSHELLO_MAX - RECORD_HEADER);
	hello_end(&b);
	len = frame_one(&b, buf, sizeof(buf));
	assert_int_equal(len, TLSHELLO_MAX);
	assert_int_equal(tlshello_parse(buf, len, &h), TLSHELLO_DONE);
	assert_int_equal(h.consumed, TLSHELLO_MAX);
	assert_span(h.sni, "www.example.com");
	/* A longer buffer is looked at only as far as TLSHELLO_MAX. */
	memset(buf + len, 0xff, 100);
	assert_int_equal(tlshello_parse(buf, len + 100, &h), TLSHELLO_DONE);
	assert_int_equal(h.consumed, TLSHELLO_MAX);

	/* One byte more: the record cannot be buffered, known at once. */
	hello_begin(&b);
	typical_extensions(&b, "www.example.com");
	ext_padding_to(&b, TLSHELLO_MAX - RECORD_HEADER + 1);
	hello_end(&b);
	len = frame_one(&b, buf, sizeof(buf));
	assert_int_equal(len, TLSHELLO_MAX + 1);
	assert_int_equal(parse_status(buf, RECORD_HEADER), TLSHELLO_MALFORMED);
	assert_int_equal(parse_status(buf, len), TLSHELLO_MALFORMED);
	/* The same in 1000-byte records: the last record does not fit. */
	len = frame_fragments(b.msg, b.len, 1000, buf, sizeof(buf));
	assert_status(buf, len, TLSHELLO_MALFORMED);

	/*
	 * A first record that fills the buffer, and the hello not done: the
	 * header of the next record can never be buffered.
	 */
	ends[0] = TLSHELLO_MAX - RECORD_HEADER;
	ends[1] = b.len;
	len = frame(b.msg, b.len, ends, 2, buf, sizeof(buf));
	assert_int_equal(parse_status(buf, TLSHELLO_MAX - 1),
	    TLSHELLO_NEED_MORE);
	assert_int_equal(parse_status(buf, TLSHELLO_MAX), TLSHELLO_MALFORMED);
	assert_int_equal(parse_status(buf, len), TLSHELLO_MALFORMED);
}

static void
test_hello_fields(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;

	(void)state;
	/* A TLS 1.2 hello without extensions, and with an empty block. */
	hello_fields(&b, 0, 2, 1);
	hello_end(&b);
	parse_built(&b, buf, &h);
	assert_int_equal(h.max_version, 0x0303);
	assert_false(h.has_sni);
	assert_int_equal(h.n_alpn, 0);
	hello_fields(&b, 0, 2, 1);
	length_open(&b, 2);
	hello_end(&b);
	parse_built(&b, buf, &h);

	/* One byte where the extensions should start. */
	hello_fields(&b, 0, 2, 1);
	put_u8(&b, 0);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);

	hello_fields(&b, 33, 2, 1);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);
	hello_fields(&b, 32, 3, 1);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);
	hello_fields(&b, 32, 0, 1);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);
	hello_fields(&b, 32, 2, 0);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);

	/* Trailing bytes inside the handshake, outside the extensions. */
	hello_begin(&b);
	ext_raw(&b, EXT_EMS, NULL, 0);
	length_close(&b);
	put_u16(&b, 0);
	hello_end(&b);
	assert_built(&b, TLSHELLO_MALFORMED);
}

static void
test_ech(void **state)
{
	/* An outer ECH: type, KDF, AEAD, config id, enc, payload. */
	static const uint8_t ech[] = {
		0, 0, 1, 0, 1, 0x2a, 0, 4, 1, 2, 3, 4, 0, 3, 5, 6, 7,
	};
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;

	(void)state;
	hello_begin(&b);
	ext_sni(&b, "public.example.com", 18);
	ext_versions(&b, tls13_versions, 3);
	ext_raw(&b, EXT_ECH, ech, sizeof(ech));
	hello_end(&b);
	parse_built(&b, buf, &h);
	assert_true(h.ech);
	assert_span(h.sni, "public.example.com");
	assert_true(h.sni_valid);

	typical_hello(&b, "www.example.com");
	parse_built(&b, buf, &h);
	assert_false(h.ech);
}

static void
test_grease_versions(void **state)
{
	static const struct {
		uint16_t	versions[4];
		size_t		n;
		uint16_t	max;
	} cases[] = {
		{ { 0xfafa, 0x0304, 0x0303 }, 3, 0x0304 },
		{ { 0x0303, 0x0304, 0x8a8a }, 3, 0x0304 },
		{ { 0x0302, 0x0a0a }, 2, 0x0302 },
		{ { 0x0303 }, 1, 0x0303 },
		{ { 0x7f1c, 0x0304 }, 2, 0x7f1c },	/* a draft, as sent */
		{ { 0x1a1a, 0x2a2a }, 2, 0 },		/* none offered */
	};
	static const uint8_t odd[] = { 3, 3, 4, 3 };
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hello_begin(&b);
		ext_versions(&b, cases[i].versions, cases[i].n);
		hello_end(&b);
		parse_built(&b, buf, &h);
		assert_int_equal(h.max_version, cases[i].max);
	}
	assert_malformed_extension(EXT_VERSIONS, odd, sizeof(odd));
	assert_malformed_extension(EXT_VERSIONS, NULL, 0);
}

/* As Chrome sends with X25519MLKEM768: 2 KB, here in 512-byte records. */
static void
test_post_quantum(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h;
	size_t len, records;

	(void)state;
	hello_begin(&b);
	typical_extensions(&b, "www.example.com");
	ext_key_share(&b, true);
	ext_padding_to(&b, 2048);
	hello_end(&b);
	assert_int_equal(b.len, 2048);

	len = frame_fragments(b.msg, b.len, 512, buf, sizeof(buf));
	records = (b.len + 511) / 512;
	assert_int_equal(len, b.len + records * RECORD_HEADER);
	parse_done(buf, len, &h);
	assert_int_equal(h.consumed, len);
	assert_int_equal(h.hello_len, 2044);
	assert_span(h.sni, "www.example.com");
	assert_alpn(&h, "h2,http/1.1");
	assert_int_equal(h.max_version, 0x0304);

	check_every_split(&b, false);
}

/*
 * Without the record layer, as QUIC carries it: the same hello, every
 * prefix wanting more, bytes after it left alone, a wrong message type
 * and a message too long to buffer MALFORMED.
 */
static void
test_bare_handshake(void **state)
{
	static struct builder b;
	static uint8_t buf[BUILD_MAX];
	struct tlshello h, framed;
	enum tlshello_status status;

	(void)state;
	hello_begin(&b);
	typical_extensions(&b, "www.example.com");
	ext_key_share(&b, true);
	hello_end(&b);
	parse_built(&b, buf, &framed);

	assert_int_equal(tlshello_parse_handshake(b.msg, b.len, &h),
	    TLSHELLO_DONE);
	assert_int_equal(h.record_version, 0);
	assert_int_equal(h.consumed, b.len);
	assert_int_equal(h.hello_len, b.len - 4);
	assert_int_equal(h.max_version, 0x0304);
	assert_span(h.sni, "www.example.com");
	assert_true(h.sni_valid);
	assert_alpn(&h, "h2,http/1.1");
	assert_int_equal(h.sni.ptr - b.msg,
	    framed.sni.ptr - buf - RECORD_HEADER);
	for (size_t i = 0; i < b.len; i++) {
		status = tlshello_parse_handshake(b.msg, i, &h);
		if (status != TLSHELLO_NEED_MORE)
			fail_msg("prefix of %zu of %zu bytes: %s", i, b.len,
			    tlshello_status_name(status));
	}

	memcpy(buf, b.msg, b.len);
	memset(buf + b.len, 0x16, 100);
	assert_int_equal(tlshello_parse_handshake(buf, b.len + 100, &h),
	    TLSHELLO_DONE);
	assert_int_equal(h.consumed, b.len);

	buf[0] = 2;	/* ServerHello */
	assert_int_equal(tlshello_parse_handshake(buf, b.len, &h),
	    TLSHELLO_MALFORMED);
	buf[0] = 22;	/* a record header is not a handshake header */
	assert_int_equal(tlshello_parse_handshake(buf, b.len, &h),
	    TLSHELLO_MALFORMED);
	buf[0] = 1;
	buf[1] = 0;
	buf[2] = (uint8_t)(TLSHELLO_MAX >> 8);
	buf[3] = 0;
	assert_int_equal(tlshello_parse_handshake(buf, b.len, &h),
	    TLSHELLO_MALFORMED);
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_string_equal(tlshello_status_name(TLSHELLO_DONE), "done");
	assert_string_equal(tlshello_status_name(TLSHELLO_NEED_MORE),
	    "need-more");
	assert_string_equal(tlshello_status_name(TLSHELLO_NOT_TLS), "not-tls");
	assert_string_equal(tlshello_status_name(TLSHELLO_MALFORMED),
	    "malformed");
}

static int
setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/hushd-tlshello-XXXXXX",
	    base != NULL && strlen(base) < 40 ? base : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#define N_CLIENTS	(sizeof(clients) / sizeof(clients[0]))

int
main(void)
{
	static const struct CMUnitTest built[] = {
		cmocka_unit_test(test_typical),
		cmocka_unit_test(test_split_records),
		cmocka_unit_test(test_one_byte_records),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_record_longer_than_hello),
		cmocka_unit_test(test_duplicate_extensions),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_empty_and_odd_sni),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_other_records),
		cmocka_unit_test(test_record_limits),
		cmocka_unit_test(test_hello_fields),
		cmocka_unit_test(test_ech),
		cmocka_unit_test(test_grease_versions),
		cmocka_unit_test(test_post_quantum),
		cmocka_unit_test(test_bare_handshake),
		cmocka_unit_test(test_status_names),
	};
	struct CMUnitTest tests[sizeof(built) / sizeof(built[0]) + N_CLIENTS];
	size_t n = 0;

	for (size_t i = 0; i < N_CLIENTS; i++)
		tests[n++] = (struct CMUnitTest){
			.name = clients[i].name,
			.test_func = test_captured,
			.initial_state = (void *)&clients[i],
		};
	for (size_t i = 0; i < sizeof(built) / sizeof(built[0]); i++)
		tests[n++] = built[i];
	return _cmocka_run_group_tests("test_tlshello", tests, n, setup,
	    teardown);
}
