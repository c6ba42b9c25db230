/*
 * quic.c: reads the ClientHello in a client's QUIC Initial packets.
 *
 * Implements: the long header and Initial packet of RFC 9000 §17.2 and
 * §17.2.2 (QUIC v1) and RFC 9369 §3.2 (v2, whose Initial type bits are
 * 0b01), coalesced packets (RFC 9000 §12.2), variable-length integers
 * (§16), packet number decoding (§17.1, Appendix A.3); the Initial
 * secrets of RFC 9001 §5.2 and RFC 9369 §3.3.1 (salt, and HKDF-Expand-
 * Label of RFC 8446 §7.1 through OpenSSL's HKDF), header protection
 * (RFC 9001 §5.4.1, §5.4.3: AES-128-ECB of a sample) and AEAD_AES_128_GCM
 * (§5.3); PADDING, PING, ACK and CRYPTO frames (RFC 9000 §19.1-19.3, §19.6).
 *
 * A connection (the two addresses, as the caller gives them) gets state
 * only once one of its Initials authenticates, so noise costs no memory.
 * It keeps the keys of the DCID of its first Initial, and tries them
 * first on every later Initial: the client keeps them after the server
 * has chosen a new connection ID (RFC 9001 §5.2). Only when they fail and
 * the DCID differs are new keys derived; if those work, the client has
 * started a new connection from the same port. CRYPTO bytes go into a
 * buffer of TLSHELLO_MAX bytes at their offset; the first copy of a byte
 * wins, as in servers, and a bitmap says which have come. Once the bytes
 * from offset 0 hold the whole handshake message it goes to tlshello.
 *
 * Bounds: TLSHELLO_MAX bytes of CRYPTO data and CONN_MAX_PACKETS Initials
 * per connection, CONN_MAX_AGE_MS of age, max_conns connections (the least
 * recently used is evicted). A connection's keys outlive its ClientHello
 * (the client's next Initials, acknowledging the server's, still
 * authenticate); its CRYPTO buffer does not.
 *
 * Does not: read the server's packets (a datagram whose reverse addresses
 * are a connection being read is the server's, and NOT_INITIAL; a server
 * Initial seen alone fails authentication), Retry, 0-RTT or Handshake
 * packets (0-RTT and Handshake packets after an Initial are skipped), or
 * any frame past the first of another type. It does not insist on the
 * fixed bit (RFC 9287 lets a client clear it), on 1200-byte datagrams or
 * on 8-byte first DCIDs (RFC 9000 §14.1, §7.2): a server drops those, so
 * reading them loses nothing. Trailing bytes after the ClientHello in the
 * CRYPTO stream are not looked at.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "bytes.h"
#include "log.h"
#include "quic.h"
#include "siphash.h"
#include "tlshello.h"

#define DATAGRAM_MAX		65535	/* no UDP payload is longer */
#define CID_MAX			20	/* RFC 9000 §17.2 */
#define SALT_LEN		20
#define SECRET_LEN		32	/* SHA-256 */
#define KEY_LEN			16	/* AES-128 */
#define IV_LEN			12
#define HP_KEY_LEN		16
#define SAMPLE_LEN		16	/* RFC 9001 §5.4.2 */
#define TAG_LEN			16
#define PN_MAX_LEN		4
#define LABEL_MAX		64	/* an HkdfLabel of ours */
#define HANDSHAKE_HEADER_LEN	4
#define HANDSHAKE_CLIENT_HELLO	1

#define HEADER_FORM_LONG	0x80
#define LONG_TYPE_SHIFT		4
#define LONG_PROTECTED_BITS	0x0f	/* reserved and packet number length */

#define CONN_MAX_PACKETS	16
#define CONN_MAX_AGE_MS		10000
#define ADDRS_LEN		(2 * 18)	/* two (IPv6 address, port) */
#define BITMAP_WORDS		(TLSHELLO_MAX / 64)

#define FRAME_PADDING		0x00
#define FRAME_PING		0x01
#define FRAME_ACK		0x02
#define FRAME_ACK_ECN		0x03
#define FRAME_CRYPTO		0x06

/* Long header packet types, as RFC 9000 §17.2 numbers them for v1. */
enum packet_kind {
	KIND_INITIAL,
	KIND_0RTT,
	KIND_HANDSHAKE,
	KIND_RETRY,
};

struct quic_version {
	uint32_t	 version;
	const char	*name;
	uint8_t		 salt[SALT_LEN];
	unsigned	 initial_type;	/* type bits of an Initial */
	const char	*key_label, *iv_label, *hp_label;
};

static const struct quic_version versions[] = {
	{	/* RFC 9001 §5.2 */
		.version = QUIC_V1, .name = "v1",
		.salt = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d,
		    0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f,
		    0x0a },
		.initial_type = 0,
		.key_label = "quic key", .iv_label = "quic iv",
		.hp_label = "quic hp",
	},
	{	/* RFC 9369 §3.3.1, §3.3.2 */
		.version = QUIC_V2, .name = "v2",
		.salt = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81,
		    0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e,
		    0xd9 },
		.initial_type = 1,
		.key_label = "quicv2 key", .iv_label = "quicv2 iv",
		.hp_label = "quicv2 hp",
	},
};

struct quic_keys {
	const struct quic_version *version;
	uint8_t		dcid[CID_MAX];
	size_t		dcid_len;
	uint8_t		key[KEY_LEN], iv[IV_LEN], hp[HP_KEY_LEN];
};

/* The CRYPTO bytes of one connection's ClientHello, by offset. */
struct crypto_stream {
	size_t		contiguous;	/* bytes received from offset 0 */
	uint64_t	have[BITMAP_WORDS];
	uint8_t		data[TLSHELLO_MAX];
};

struct quic_conn {
	struct quic_conn	*hash_next;
	struct quic_conn	*lru_prev, *lru_next;	/* head: most recent */
	uint64_t		 hash;
	uint8_t			 addrs[ADDRS_LEN];
	uint64_t		 created_ms, used_ms;
	struct quic_keys	 keys;
	uint64_t		 next_pn;	/* largest seen + 1 */
	unsigned		 packets;	/* Initials since the last hello */
	struct crypto_stream	*stream;	/* NULL until CRYPTO data */
};

struct quic_table {
	struct quic_conn	**buckets;
	size_t			  n_buckets;	/* a power of two */
	size_t			  n_conns, max_conns;
	struct quic_conn	 *lru_head, *lru_tail;
	uint64_t		  hash_key[2];
	/*
	 * One spare stream: a finished hello's, which out->hello points
	 * into until the next call, and then the next connection's.
	 */
	struct crypto_stream	 *spare;
	EVP_KDF_CTX		 *hkdf;
	EVP_CIPHER		 *aes_gcm, *aes_ecb;
	EVP_CIPHER_CTX		 *aead, *hp;
	uint8_t			  packet[DATAGRAM_MAX];	/* being opened */
};

/* A long header packet as parsed, still protected. */
struct packet {
	const uint8_t			*start;
	size_t				 len;	/* to the end of its payload */
	const struct quic_version	*version;
	enum packet_kind		 kind;
	const uint8_t			*dcid;
	size_t				 dcid_len;
	size_t				 pn_offset;
};

enum header_result {
	HEADER_OK,
	HEADER_NOT_QUIC,	/* not a long header of a known version */
	HEADER_MALFORMED,	/* one, but its lengths do not fit */
};

/* ---------------------------------------------------------------- wire */

/* RFC 9000 §16: the two top bits of the first byte give the length. */
static bool
read_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *value)
{
	size_t n;

	if (len - *off < 1)
		return false;
	n = (size_t)1 << (p[*off] >> 6);
	if (len - *off < n)
		return false;
	*value = p[*off] & 0x3f;
	for (size_t i = 1; i < n; i++)
		*value = *value << 8 | p[*off + i];
	*off += n;
	return true;
}

static const struct quic_version *
version_find(uint32_t version)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].version == version)
			return &versions[i];
	return NULL;
}

const char *
quic_version_name(uint32_t version)
{
	const struct quic_version *v = version_find(version);

	return v != NULL ? v->name : NULL;
}

/*
 * A long header packet at the start of p (RFC 9000 §17.2, §17.2.2). Its
 * Length field must fit in len; an Initial's must also hold the longest
 * packet number and a header protection sample (RFC 9001 §5.4.2).
 */
static enum header_result
packet_header(const uint8_t *p, size_t len, struct packet *pk,
    const char **why)
{
	uint64_t token_len, length;
	unsigned type_bits;
	size_t off;

	if (len < 5 || !(p[0] & HEADER_FORM_LONG))
		return HEADER_NOT_QUIC;
	if ((pk->version = version_find(get_be32(p + 1))) == NULL)
		return HEADER_NOT_QUIC;
	/* v2 rotates the type bits by one: Initial 1, 0-RTT 2, ... Retry 0. */
	type_bits = (p[0] >> LONG_TYPE_SHIFT) & 3;
	pk->kind = (enum packet_kind)((type_bits + 4 -
	    pk->version->initial_type) % 4);
	if (pk->kind == KIND_RETRY)
		return HEADER_NOT_QUIC;	/* only servers send Retry */
	pk->start = p;

	off = 5;
	if (len - off < 1 || (pk->dcid_len = p[off++]) > CID_MAX ||
	    len - off < pk->dcid_len) {
		*why = len - off < 1 || pk->dcid_len <= CID_MAX ?
		    "truncated header" : "connection ID longer than 20 bytes";
		return HEADER_MALFORMED;
	}
	pk->dcid = p + off;
	off += pk->dcid_len;
	if (len - off < 1 || p[off] > CID_MAX || len - off - 1 < p[off]) {
		*why = len - off < 1 || p[off] <= CID_MAX ?
		    "truncated header" : "connection ID longer than 20 bytes";
		return HEADER_MALFORMED;
	}
	off += 1 + p[off];
	if (pk->kind == KIND_INITIAL) {
		if (!read_varint(p, len, &off, &token_len)) {
			*why = "truncated header";
			return HEADER_MALFORMED;
		}
		if (len - off < token_len) {
			*why = "token beyond the datagram";
			return HEADER_MALFORMED;
		}
		off += token_len;
	}
	if (!read_varint(p, len, &off, &length)) {
		*why = "truncated header";
		return HEADER_MALFORMED;
	}
	if (len - off < length) {
		*why = "length beyond the datagram";
		return HEADER_MALFORMED;
	}
	if (pk->kind == KIND_INITIAL && length < PN_MAX_LEN + SAMPLE_LEN) {
		*why = "packet too short";
		return HEADER_MALFORMED;
	}
	pk->pn_offset = off;
	pk->len = off + length;
	return HEADER_OK;
}

/* ---------------------------------------------------------------- keys */

static bool
hkdf_extract(struct quic_table *t, const uint8_t *salt, size_t salt_len,
    const uint8_t *ikm, size_t ikm_len, uint8_t prk[SECRET_LEN])
{
	static const uint8_t empty[1];
	int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, salt_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
		    (void *)(ikm_len > 0 ? ikm : empty), ikm_len),
		OSSL_PARAM_construct_end(),
	};

	return EVP_KDF_derive(t->hkdf, prk, SECRET_LEN, params) == 1;
}

/* HKDF-Expand-Label (RFC 8446 §7.1) with an empty context. */
static bool
hkdf_expand_label(struct quic_table *t, const uint8_t secret[SECRET_LEN],
    const char *label, uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	uint8_t info[LABEL_MAX];
	size_t label_len = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;

	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(sizeof(prefix) - 1 + label_len);
	memcpy(info + n, prefix, sizeof(prefix) - 1);
	n += sizeof(prefix) - 1;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = 0;	/* context */

	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
		    (void *)secret, SECRET_LEN),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
		OSSL_PARAM_construct_end(),
	};

	return EVP_KDF_derive(t->hkdf, out, out_len, params) == 1;
}

/* RFC 9001 §5.2: the client's Initial keys for a DCID. */
static bool
keys_derive(struct quic_table *t, const struct quic_version *version,
    const uint8_t *dcid, size_t dcid_len, struct quic_keys *k)
{
	uint8_t initial[SECRET_LEN], client[SECRET_LEN];

	k->version = version;
	memcpy(k->dcid, dcid, dcid_len);
	k->dcid_len = dcid_len;
	return hkdf_extract(t, version->salt, SALT_LEN, dcid, dcid_len,
	    initial) &&
	    hkdf_expand_label(t, initial, "client in", client, SECRET_LEN) &&
	    hkdf_expand_label(t, client, version->key_label, k->key, KEY_LEN) &&
	    hkdf_expand_label(t, client, version->iv_label, k->iv, IV_LEN) &&
	    hkdf_expand_label(t, client, version->hp_label, k->hp, HP_KEY_LEN);
}

static bool
keys_match(const struct quic_keys *k, const struct packet *pk)
{
	return k->version == pk->version && k->dcid_len == pk->dcid_len &&
	    memcmp(k->dcid, pk->dcid, pk->dcid_len) == 0;
}

/* RFC 9000 Appendix A.3. */
static uint64_t
pn_decode(uint64_t expected, uint64_t truncated, size_t pn_len)
{
	uint64_t window = (uint64_t)1 << (8 * pn_len);
	uint64_t half = window / 2;
	uint64_t candidate = (expected & ~(window - 1)) | truncated;

	if (candidate + half <= expected &&
	    candidate < ((uint64_t)1 << 62) - window)
		return candidate + window;
	if (candidate > expected + half && candidate >= window)
		return candidate - window;
	return candidate;
}

/*
 * Copies the packet to t->packet, removes header protection (RFC 9001
 * §5.4.1) and decrypts the payload in place (§5.3). On success *plain and
 * *plain_len are the frames and *pn the packet number.
 */
static bool
packet_open(struct quic_table *t, const struct quic_keys *k,
    uint64_t expected_pn, const struct packet *pk, const uint8_t **plain,
    size_t *plain_len, uint64_t *pn)
{
	uint8_t *p = t->packet;
	uint8_t mask[SAMPLE_LEN], nonce[IV_LEN];
	size_t pn_len, header_len, ciphertext_len;
	uint64_t truncated = 0;
	int outl;

	memcpy(p, pk->start, pk->len);
	if (EVP_EncryptInit_ex(t->hp, NULL, NULL, k->hp, NULL) != 1 ||
	    EVP_EncryptUpdate(t->hp, mask, &outl,
	    p + pk->pn_offset + PN_MAX_LEN, SAMPLE_LEN) != 1 ||
	    outl != SAMPLE_LEN)
		return false;
	p[0] ^= mask[0] & LONG_PROTECTED_BITS;
	pn_len = (p[0] & 3) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		p[pk->pn_offset + i] ^= mask[1 + i];
		truncated = truncated << 8 | p[pk->pn_offset + i];
	}
	*pn = pn_decode(expected_pn, truncated, pn_len);

	memcpy(nonce, k->iv, IV_LEN);
	for (size_t i = 0; i < 8; i++)
		nonce[IV_LEN - 1 - i] ^= (uint8_t)(*pn >> (8 * i));
	header_len = pk->pn_offset + pn_len;
	ciphertext_len = pk->len - header_len - TAG_LEN;
	if (EVP_DecryptInit_ex(t->aead, NULL, NULL, k->key, nonce) != 1 ||
	    EVP_DecryptUpdate(t->aead, NULL, &outl, p, (int)header_len) != 1 ||
	    EVP_DecryptUpdate(t->aead, p + header_len, &outl, p + header_len,
	    (int)ciphertext_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->aead, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
	    p + header_len + ciphertext_len) != 1 ||
	    EVP_DecryptFinal_ex(t->aead, p + header_len + ciphertext_len,
	    &outl) != 1)
		return false;
	*plain = p + header_len;
	*plain_len = ciphertext_len;
	return true;
}

/* ---------------------------------------------------------------- CRYPTO */

/* The first bit at or after from, below limit, that is clear (or set). */
static size_t
bits_find(const uint64_t *bits, size_t from, size_t limit, bool set)
{
	while (from < limit) {
		uint64_t word = bits[from / 64];

		if (!set)
			word = ~word;
		word >>= from % 64;
		if (word != 0) {
			from += (size_t)__builtin_ctzll(word);
			return from < limit ? from : limit;
		}
		from += 64 - from % 64;
	}
	return limit;
}

static void
bits_set(uint64_t *bits, size_t from, size_t to)
{
	while (from < to) {
		size_t shift = from % 64;
		size_t n = to - from < 64 - shift ? to - from : 64 - shift;
		uint64_t mask = n == 64 ? ~(uint64_t)0 :
		    (((uint64_t)1 << n) - 1) << shift;

		bits[from / 64] |= mask;
		from += n;
	}
}

static struct crypto_stream *
stream_new(struct quic_table *t)
{
	struct crypto_stream *s = t->spare;

	if (s != NULL)
		t->spare = NULL;
	else
		s = xmalloc(sizeof(*s));
	s->contiguous = 0;
	memset(s->have, 0, sizeof(s->have));
	return s;
}

/*
 * The stream released last becomes the spare: it may be the one out
 * points into, which must live until the next call.
 */
static void
stream_release(struct quic_table *t, struct crypto_stream *s)
{
	if (s == NULL)
		return;
	free(t->spare);
	t->spare = s;
}

/* Stores the bytes not yet received; those already there are kept. */
static void
stream_store(struct crypto_stream *s, size_t offset, const uint8_t *data,
    size_t n)
{
	size_t pos = offset, end = offset + n, gap_end;

	while ((pos = bits_find(s->have, pos, end, false)) < end) {
		gap_end = bits_find(s->have, pos, end, true);
		memcpy(s->data + pos, data + (pos - offset), gap_end - pos);
		bits_set(s->have, pos, gap_end);
		pos = gap_end;
	}
	s->contiguous = bits_find(s->have, s->contiguous, TLSHELLO_MAX, false);
}

/* RFC 9000 §19.3: skips an ACK frame's fields after its type. */
static bool
skip_ack(const uint8_t *p, size_t len, size_t *off, bool ecn)
{
	uint64_t value, ranges;

	if (!read_varint(p, len, off, &value) ||	/* largest acknowledged */
	    !read_varint(p, len, off, &value) ||	/* ACK delay */
	    !read_varint(p, len, off, &ranges) ||
	    !read_varint(p, len, off, &value))		/* first range */
		return false;
	/* Each range takes two bytes at least: the payload bounds the loop. */
	for (uint64_t i = 0; i < ranges; i++)
		if (!read_varint(p, len, off, &value) ||	/* gap */
		    !read_varint(p, len, off, &value))	/* range length */
			return false;
	if (ecn)
		for (int i = 0; i < 3; i++)	/* ECT0, ECT1, ECN-CE */
			if (!read_varint(p, len, off, &value))
				return false;
	return true;
}

/*
 * Walks the frames of a decrypted Initial, storing CRYPTO data. A frame of
 * another type ends the walk: a client's Initial carries nothing else we
 * need, and past an unknown frame the rest cannot be delimited.
 */
static bool
frames_read(struct quic_table *t, struct quic_conn *c, const uint8_t *p,
    size_t len, const char **why)
{
	uint64_t offset, length;
	size_t off = 0;

	while (off < len) {
		switch (p[off++]) {
		case FRAME_PADDING:
		case FRAME_PING:
			break;
		case FRAME_ACK:
		case FRAME_ACK_ECN:
			if (!skip_ack(p, len, &off, p[off - 1] == FRAME_ACK_ECN)) {
				*why = "malformed ACK frame";
				return false;
			}
			break;
		case FRAME_CRYPTO:
			if (!read_varint(p, len, &off, &offset) ||
			    !read_varint(p, len, &off, &length) ||
			    len - off < length) {
				*why = "malformed CRYPTO frame";
				return false;
			}
			if (offset > TLSHELLO_MAX ||
			    length > TLSHELLO_MAX - offset) {
				*why = "ClientHello too large";
				return false;
			}
			if (c->stream == NULL)
				c->stream = stream_new(t);
			stream_store(c->stream, (size_t)offset, p + off,
			    (size_t)length);
			off += (size_t)length;
			break;
		default:	/* CONNECTION_CLOSE among others */
			return true;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- table */

static void
endpoint_put(uint8_t *out, const struct sockaddr *sa)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(out, 0, 18);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		memcpy(out, v4_mapped, sizeof(v4_mapped));
		memcpy(out + 12, &sin->sin_addr, 4);
		memcpy(out + 16, &sin->sin_port, 2);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		memcpy(out, &sin6->sin6_addr, 16);
		memcpy(out + 16, &sin6->sin6_port, 2);
	}
}

static void
addrs_make(uint8_t addrs[ADDRS_LEN], const struct sockaddr *src,
    const struct sockaddr *dst)
{
	endpoint_put(addrs, src);
	endpoint_put(addrs + ADDRS_LEN / 2, dst);
}

struct quic_table *
quic_table_new(size_t max_conns)
{
	struct quic_table *t = xcalloc(1, sizeof(*t));
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_KDF *kdf;

	t->max_conns = max_conns > 0 ? max_conns : 1;
	t->n_buckets = 16;
	while (t->n_buckets < t->max_conns)
		t->n_buckets *= 2;
	t->buckets = xcalloc(t->n_buckets, sizeof(*t->buckets));
	siphash_random_key(t->hash_key);

	/* Fetched once: an implicit fetch per packet would cost more. */
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (t->hkdf = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_CTX_set_params(t->hkdf, params) != 1)
		fatalx("quic: OpenSSL has no HKDF with SHA-256");
	EVP_KDF_free(kdf);
	if ((t->aes_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL)) ==
	    NULL || (t->aes_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB",
	    NULL)) == NULL ||
	    (t->aead = EVP_CIPHER_CTX_new()) == NULL ||
	    (t->hp = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(t->aead, t->aes_gcm, NULL, NULL, NULL) != 1 ||
	    EVP_EncryptInit_ex(t->hp, t->aes_ecb, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(t->hp, 0) != 1)
		fatalx("quic: OpenSSL has no AES-128-GCM or AES-128-ECB");
	return t;
}

static struct quic_conn **
table_slot(struct quic_table *t, const struct quic_conn *c)
{
	struct quic_conn **slot = &t->buckets[c->hash & (t->n_buckets - 1)];

	while (*slot != c)
		slot = &(*slot)->hash_next;
	return slot;
}

static void
lru_unlink(struct quic_table *t, struct quic_conn *c)
{
	if (c->lru_prev != NULL)
		c->lru_prev->lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next != NULL)
		c->lru_next->lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void
lru_push(struct quic_table *t, struct quic_conn *c)
{
	c->lru_next = t->lru_head;
	c->lru_prev = NULL;
	if (t->lru_head != NULL)
		t->lru_head->lru_prev = c;
	else
		t->lru_tail = c;
	t->lru_head = c;
}

static void
conn_drop(struct quic_table *t, struct quic_conn *c)
{
	struct quic_conn **slot = table_slot(t, c);

	*slot = c->hash_next;
	lru_unlink(t, c);
	stream_release(t, c->stream);
	free(c);
	t->n_conns--;
}

static struct quic_conn *
table_find(struct quic_table *t, const uint8_t addrs[ADDRS_LEN],
    uint64_t hash)
{
	struct quic_conn *c = t->buckets[hash & (t->n_buckets - 1)];

	while (c != NULL && (c->hash != hash ||
	    memcmp(c->addrs, addrs, ADDRS_LEN) != 0))
		c = c->hash_next;
	return c;
}

static bool
older_than(uint64_t now_ms, uint64_t then_ms, uint64_t age_ms)
{
	return now_ms > then_ms && now_ms - then_ms > age_ms;
}

/* The least recently used come last: stop at the first still in use. */
static void
table_expire(struct quic_table *t, uint64_t now_ms)
{
	while (t->lru_tail != NULL &&
	    older_than(now_ms, t->lru_tail->used_ms, CONN_MAX_AGE_MS))
		conn_drop(t, t->lru_tail);
}

static struct quic_conn *
conn_new(struct quic_table *t, const uint8_t addrs[ADDRS_LEN],
    uint64_t hash, uint64_t now_ms)
{
	struct quic_conn *c;
	size_t bucket = hash & (t->n_buckets - 1);

	if (t->n_conns >= t->max_conns)
		conn_drop(t, t->lru_tail);
	c = xcalloc(1, sizeof(*c));
	c->hash = hash;
	memcpy(c->addrs, addrs, ADDRS_LEN);
	c->created_ms = c->used_ms = now_ms;
	c->hash_next = t->buckets[bucket];
	t->buckets[bucket] = c;
	lru_push(t, c);
	t->n_conns++;
	return c;
}

/* Forgets the ClientHello so far; the keys stay. */
static void
conn_hello_forget(struct quic_table *t, struct quic_conn *c)
{
	stream_release(t, c->stream);
	c->stream = NULL;
	c->packets = 0;
}

void
quic_table_free(struct quic_table *t)
{
	if (t == NULL)
		return;
	while (t->lru_head != NULL)
		conn_drop(t, t->lru_head);
	free(t->spare);
	free(t->buckets);
	EVP_CIPHER_CTX_free(t->aead);
	EVP_CIPHER_CTX_free(t->hp);
	EVP_CIPHER_free(t->aes_gcm);
	EVP_CIPHER_free(t->aes_ecb);
	EVP_KDF_CTX_free(t->hkdf);
	free(t);
}

/* ---------------------------------------------------------------- datagrams */

/* What one datagram is being read for: its connection, once known. */
struct reading {
	struct quic_conn	*conn;
	uint8_t			 addrs[ADDRS_LEN];
	uint64_t		 hash;
	uint64_t		 now_ms;
};

enum read_result {
	READ_OK,
	READ_UNAUTHENTICATED,	/* nothing changed: anyone can send those */
	READ_INVALID,		/* authentic, but its ClientHello is lost */
};

/*
 * One Initial: opened with the connection's keys, or with keys of its own
 * DCID (a new connection, or a new one from the same port), then its
 * frames read.
 */
static enum read_result
initial_read(struct quic_table *t, struct reading *r, const struct packet *pk,
    const char **why)
{
	struct quic_conn *c = r->conn;
	struct quic_keys fresh;
	const uint8_t *plain;
	size_t plain_len;
	uint64_t pn;

	if (c == NULL || !packet_open(t, &c->keys, c->next_pn, pk, &plain,
	    &plain_len, &pn)) {
		if (c != NULL && keys_match(&c->keys, pk)) {
			*why = "authentication failed";
			return READ_UNAUTHENTICATED;
		}
		if (!keys_derive(t, pk->version, pk->dcid, pk->dcid_len,
		    &fresh)) {
			*why = "key derivation failed";
			return READ_UNAUTHENTICATED;
		}
		if (!packet_open(t, &fresh, 0, pk, &plain, &plain_len, &pn)) {
			*why = "authentication failed";
			return READ_UNAUTHENTICATED;
		}
		if (c == NULL)
			c = r->conn = conn_new(t, r->addrs, r->hash, r->now_ms);
		else
			conn_hello_forget(t, c);
		c->keys = fresh;
		c->next_pn = 0;
		c->created_ms = r->now_ms;
	}
	c->used_ms = r->now_ms;
	lru_unlink(t, c);
	lru_push(t, c);
	if (pn + 1 > c->next_pn)
		c->next_pn = pn + 1;
	if (++c->packets > CONN_MAX_PACKETS) {
		*why = "too many Initial packets";
		return READ_INVALID;
	}
	return frames_read(t, c, plain, plain_len, why) ? READ_OK :
	    READ_INVALID;
}

/* Whether the CRYPTO bytes from offset 0 hold the whole ClientHello. */
static enum quic_status
conn_hello(struct quic_conn *c, struct quic_hello *out, const char **why)
{
	struct crypto_stream *s = c->stream;
	size_t msg_len;

	if (s == NULL || s->contiguous < HANDSHAKE_HEADER_LEN)
		return QUIC_NEED_MORE;
	if (s->data[0] != HANDSHAKE_CLIENT_HELLO) {
		*why = "not a ClientHello";
		return QUIC_ERROR;
	}
	msg_len = (size_t)s->data[1] << 16 | (size_t)s->data[2] << 8 |
	    s->data[3];
	if (msg_len > TLSHELLO_MAX - HANDSHAKE_HEADER_LEN) {
		*why = "ClientHello too large";
		return QUIC_ERROR;
	}
	msg_len += HANDSHAKE_HEADER_LEN;
	if (s->contiguous < msg_len)
		return QUIC_NEED_MORE;
	if (tlshello_parse_handshake(s->data, msg_len, &out->hello) !=
	    TLSHELLO_DONE) {
		*why = "malformed ClientHello";
		return QUIC_ERROR;
	}
	out->version = c->keys.version->version;
	return QUIC_DONE;
}

enum quic_status
quic_datagram(struct quic_table *t, const struct sockaddr *src,
    const struct sockaddr *dst, const uint8_t *payload, size_t len,
    uint64_t now_ms, struct quic_hello *out, const char **why)
{
	struct reading r = { .now_ms = now_ms };
	uint8_t reverse[ADDRS_LEN];
	enum quic_status status;
	enum read_result result;
	struct packet pk;
	size_t off = 0;

	*why = NULL;
	memset(out, 0, sizeof(*out));
	table_expire(t, now_ms);
	if (len > DATAGRAM_MAX)
		return QUIC_NOT_INITIAL;
	switch (packet_header(payload, len, &pk, why)) {
	case HEADER_NOT_QUIC:
		return QUIC_NOT_INITIAL;
	case HEADER_MALFORMED:
		if (pk.kind == KIND_INITIAL)
			return QUIC_ERROR;
		*why = NULL;
		return QUIC_NOT_INITIAL;
	case HEADER_OK:
		break;
	}
	if (pk.kind != KIND_INITIAL) {
		*why = NULL;
		return QUIC_NOT_INITIAL;
	}

	addrs_make(r.addrs, src, dst);
	addrs_make(reverse, dst, src);
	if (table_find(t, reverse, siphash13(t->hash_key, reverse,
	    ADDRS_LEN)) != NULL)
		return QUIC_NOT_INITIAL;	/* the server's answer */
	r.hash = siphash13(t->hash_key, r.addrs, ADDRS_LEN);
	r.conn = table_find(t, r.addrs, r.hash);
	if (r.conn != NULL &&
	    older_than(now_ms, r.conn->created_ms, CONN_MAX_AGE_MS)) {
		conn_drop(t, r.conn);
		r.conn = NULL;
	}

	/* Coalesced packets (RFC 9000 §12.2) until one is not ours. */
	for (;;) {
		if (pk.kind == KIND_INITIAL &&
		    (result = initial_read(t, &r, &pk, why)) != READ_OK) {
			if (result == READ_INVALID)
				conn_hello_forget(t, r.conn);
			return QUIC_ERROR;
		}
		off += pk.len;
		if (packet_header(payload + off, len - off, &pk, why) !=
		    HEADER_OK)
			break;
	}
	*why = NULL;

	status = conn_hello(r.conn, out, why);
	if (status != QUIC_NEED_MORE)
		conn_hello_forget(t, r.conn);
	return status;
}
