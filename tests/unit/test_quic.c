/*
 * test_quic.c: the QUIC Initial reader.
 *
 * The client Initials of RFC 9001 Appendix A.2 (v1) and RFC 9369 Appendix
 * A.2 (v2), carried here as the RFCs print them, and every prefix of them.
 * Initials built here with OpenSSL (TLS13-KDF for the key schedule, checked
 * against RFC 9001 A.1 and RFC 9369 A.1, AES-128-GCM and header protection)
 * carry ClientHellos split over packets in every order, in overlapping and
 * repeated CRYPTO frames among PING, PADDING and ACK frames, coalesced in
 * one datagram, with bad tags, lying lengths and long connection IDs; and
 * exercise the table's bounds: eviction, expiry, packet and byte limits.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "quic.h"
#include "quic_vector.h"
#include "tlshello.h"

#define DATAGRAM_MAX	65535
#define HELLO_MAX	(2 * TLSHELLO_MAX)

/* RFC 9369 Appendix A.2: the same for QUIC v2. */
static const char rfc9369_a2_hex[] =
	"d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
	"dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
	"9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
	"250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
	"12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
	"cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
	"18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
	"12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
	"d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
	"6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
	"bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
	"636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
	"ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
	"16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
	"4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
	"fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
	"8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
	"14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
	"9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
	"abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
	"80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
	"848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
	"d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
	"c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
	"7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
	"f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
	"10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
	"3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
	"06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
	"8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
	"34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
	"e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
	"5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
	"8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
	"d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
	"6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
	"9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
	"a18b2faa745b6fe189cf772a9f84cbfc";

static const uint8_t rfc_dcid[] = {
	0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08,
};
static const uint8_t dcid_a[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t dcid_b[] = { 9, 10, 11, 12, 13, 14, 15, 16, 17 };
static const uint8_t server_cid[] = { 0xf0, 0x67, 0xa5, 0x50, 0x2a };

static struct sockaddr_storage client, client2, client3, server;

/* ---------------------------------------------------------------- helpers */

static size_t
from_hex(const char *hex, uint8_t *out, size_t out_size)
{
	size_t n = strlen(hex) / 2;
	unsigned byte;

	assert_true(n <= out_size);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
	return n;
}

static struct sockaddr_storage
endpoint(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return ss;
}

static const struct sockaddr *
sa(const struct sockaddr_storage *ss)
{
	return (const struct sockaddr *)ss;
}

/*
 * The Initial keys, derived apart from quic.c's code: HKDF-Extract as the
 * HMAC it is (RFC 5869 §2.2), HKDF-Expand-Label with OpenSSL's TLS13-KDF.
 */
struct keys {
	uint8_t	key[16], iv[12], hp[16];
};

static void
tls13_expand(const uint8_t secret[32], const char *label, uint8_t *out,
    size_t len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *ctx;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
		    (void *)secret, 32),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX,
		    (void *)"tls13 ", 6),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL,
		    (void *)label, strlen(label)),
		OSSL_PARAM_construct_end(),
	};

	assert_non_null(kdf);
	ctx = EVP_KDF_CTX_new(kdf);
	assert_non_null(ctx);
	assert_int_equal(EVP_KDF_derive(ctx, out, len, params), 1);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

static void
keys_for(uint32_t version, const uint8_t *dcid, size_t dcid_len,
    struct keys *k)
{
	static const char v1_salt[] =
	    "38762cf7f55934b34d179ae6a4c80cadccbb7f0a";
	static const char v2_salt[] =
	    "0dede3def700a6db819381be6e269dcbf9bd2ed9";
	bool v2 = version == QUIC_V2;
	uint8_t salt[20], initial[32], secret[32];
	unsigned secret_len = 0;

	from_hex(v2 ? v2_salt : v1_salt, salt, sizeof(salt));
	assert_non_null(HMAC(EVP_sha256(), salt, sizeof(salt), dcid, dcid_len,
	    initial, &secret_len));
	assert_int_equal(secret_len, 32);
	tls13_expand(initial, "client in", secret, 32);
	tls13_expand(secret, v2 ? "quicv2 key" : "quic key", k->key, 16);
	tls13_expand(secret, v2 ? "quicv2 iv" : "quic iv", k->iv, 12);
	tls13_expand(secret, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

static void
put_varint(uint8_t *out, size_t *n, uint64_t value)
{
	if (value < 64) {
		out[(*n)++] = (uint8_t)value;
	} else if (value < 16384) {
		out[(*n)++] = (uint8_t)(0x40 | value >> 8);
		out[(*n)++] = (uint8_t)value;
	} else {
		assert_true(value < (1u << 30));
		out[(*n)++] = (uint8_t)(0x80 | value >> 24);
		out[(*n)++] = (uint8_t)(value >> 16);
		out[(*n)++] = (uint8_t)(value >> 8);
		out[(*n)++] = (uint8_t)value;
	}
}

struct frames {
	uint8_t	buf[DATAGRAM_MAX];
	size_t	len;
};

static void
frame_byte(struct frames *f, uint8_t byte)
{
	f->buf[f->len++] = byte;
}

static void
frame_varint(struct frames *f, uint64_t value)
{
	put_varint(f->buf, &f->len, value);
}

static void
frame_crypto(struct frames *f, const uint8_t *data, size_t offset, size_t n)
{
	frame_byte(f, 0x06);
	frame_varint(f, offset);
	frame_varint(f, n);
	memcpy(f->buf + f->len, data + offset, n);
	f->len += n;
}

/* A client Initial to be built; initial_defaults() fills in the rest. */
struct initial {
	uint32_t	 version;
	const uint8_t	*dcid;
	size_t		 dcid_len;
	const uint8_t	*key_dcid;	/* keys from this DCID, if not NULL */
	size_t		 key_dcid_len;
	size_t		 scid_len, token_len;
	uint64_t	 pn;
	size_t		 pn_len;
	const struct frames *frames;
	size_t		 size;		/* padded to at least this */
};

static struct initial
initial_defaults(const struct frames *f, uint64_t pn)
{
	return (struct initial){
		.version = QUIC_V1, .dcid = dcid_a, .dcid_len = sizeof(dcid_a),
		.scid_len = 8, .pn = pn, .pn_len = 2, .frames = f,
		.size = 1200,
	};
}

/*
 * RFC 9000 §17.2.2, protected as RFC 9001 §5.3 and §5.4 say: AES-128-GCM
 * over the payload with the header as AAD, then header protection.
 */
static size_t
initial_build(const struct initial *in, uint8_t *out)
{
	unsigned type_bits = in->version == QUIC_V2 ? 1 : 0;
	size_t n = 0, pn_offset, length, payload_len, header_len;
	uint8_t nonce[12], mask[16];
	struct keys k;
	EVP_CIPHER_CTX *ctx;
	int outl;

	keys_for(in->version, in->key_dcid != NULL ? in->key_dcid : in->dcid,
	    in->key_dcid != NULL ? in->key_dcid_len : in->dcid_len, &k);
	out[n++] = (uint8_t)(0xc0 | type_bits << 4 | (in->pn_len - 1));
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(in->version >> (8 * i));
	out[n++] = (uint8_t)in->dcid_len;
	memcpy(out + n, in->dcid, in->dcid_len);
	n += in->dcid_len;
	out[n++] = (uint8_t)in->scid_len;
	memset(out + n, 0x5c, in->scid_len);
	n += in->scid_len;
	put_varint(out, &n, in->token_len);
	memset(out + n, 0x7e, in->token_len);
	n += in->token_len;

	payload_len = in->frames->len;
	header_len = n + 2 + in->pn_len;
	if (in->size > header_len + payload_len + 16)
		payload_len = in->size - header_len - 16;
	length = in->pn_len + payload_len + 16;
	assert_true(length >= 20 && length < 16384);
	out[n++] = (uint8_t)(0x40 | length >> 8);
	out[n++] = (uint8_t)length;
	pn_offset = n;
	for (size_t i = 0; i < in->pn_len; i++)
		out[n++] = (uint8_t)(in->pn >> (8 * (in->pn_len - 1 - i)));
	memcpy(out + n, in->frames->buf, in->frames->len);
	memset(out + n + in->frames->len, 0, payload_len - in->frames->len);

	memcpy(nonce, k.iv, 12);
	for (size_t i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(in->pn >> (8 * i));
	ctx = EVP_CIPHER_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL,
	    k.key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &outl, out, (int)n), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, out + n, &outl, out + n,
	    (int)payload_len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + n + payload_len,
	    &outl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16,
	    out + n + payload_len), 1);
	n += payload_len + 16;

	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL,
	    k.hp, NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, mask, &outl,
	    out + pn_offset + 4, 16), 1);
	EVP_CIPHER_CTX_free(ctx);
	out[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < in->pn_len; i++)
		out[pn_offset + i] ^= mask[1 + i];
	return n;
}

static void
put_u16(uint8_t *out, size_t *n, size_t value)
{
	out[(*n)++] = (uint8_t)(value >> 8);
	out[(*n)++] = (uint8_t)value;
}

/*
 * A bare ClientHello (RFC 8446 §4.1.2) of at least size bytes: SNI,
 * supported_versions, ALPN "h3" and a padding extension.
 */
static size_t
hello_build(uint8_t *out, const char *sni, size_t size)
{
	size_t n = 4, sni_len = strlen(sni), ext_start, pad;

	put_u16(out, &n, 0x0303);
	memset(out + n, 0x11, 32);
	n += 32;
	out[n++] = 0;
	put_u16(out, &n, 2);
	put_u16(out, &n, 0x1301);
	out[n++] = 1;
	out[n++] = 0;
	ext_start = n;
	n += 2;
	put_u16(out, &n, 0x0000);
	put_u16(out, &n, sni_len + 5);
	put_u16(out, &n, sni_len + 3);
	out[n++] = 0;
	put_u16(out, &n, sni_len);
	memcpy(out + n, sni, sni_len);
	n += sni_len;
	put_u16(out, &n, 0x002b);
	put_u16(out, &n, 3);
	out[n++] = 2;
	put_u16(out, &n, 0x0304);
	put_u16(out, &n, 0x0010);
	put_u16(out, &n, 5);
	put_u16(out, &n, 3);
	out[n++] = 2;
	memcpy(out + n, "h3", 2);
	n += 2;
	if (size > n + 4) {
		pad = size - n - 4;
		put_u16(out, &n, 0x0015);
		put_u16(out, &n, pad);
		memset(out + n, 0, pad);
		n += pad;
	}
	out[0] = 1;
	out[1] = (uint8_t)((n - 4) >> 16);
	out[2] = (uint8_t)((n - 4) >> 8);
	out[3] = (uint8_t)(n - 4);
	out[ext_start] = (uint8_t)((n - ext_start - 2) >> 8);
	out[ext_start + 1] = (uint8_t)(n - ext_start - 2);
	return n;
}

struct datagram {
	uint8_t	buf[DATAGRAM_MAX];
	size_t	len;
};

/* The hello's bytes [from, to) in one Initial of its own. */
static void
hello_part(struct datagram *d, const struct initial *proto,
    const uint8_t *hello, size_t from, size_t to, uint64_t pn)
{
	static struct frames f;
	struct initial in = *proto;

	f.len = 0;
	frame_crypto(&f, hello, from, to - from);
	in.frames = &f;
	in.pn = pn;
	d->len = initial_build(&in, d->buf);
}

static enum quic_status
feed(struct quic_table *t, const struct sockaddr_storage *src,
    const struct datagram *d, uint64_t now_ms, struct quic_hello *out,
    const char **why)
{
	return quic_datagram(t, sa(src), sa(&server), d->buf, d->len, now_ms,
	    out, why);
}

/* why is read after the call that sets it: arguments have no order. */
static void
assert_status(enum quic_status status, enum quic_status expected,
    const char *const *why)
{
	if (status != expected)
		fail_msg("status %d, expected %d (%s)", status, expected,
		    *why != NULL ? *why : "no reason");
}

static void
assert_hello(const struct quic_hello *h, uint32_t version, const char *sni)
{
	assert_int_equal(h->version, version);
	assert_true(h->hello.has_sni);
	assert_int_equal(h->hello.sni.len, strlen(sni));
	assert_memory_equal(h->hello.sni.ptr, sni, strlen(sni));
	assert_true(h->hello.sni_valid);
	assert_int_equal(h->hello.max_version, 0x0304);
}

static void
assert_error(enum quic_status status, const char *const *why,
    const char *expected)
{
	assert_status(status, QUIC_ERROR, why);
	assert_non_null(*why);
	assert_string_equal(*why, expected);
}

/* ---------------------------------------------------------------- RFC vectors */

static void
check_rfc_vector(const char *hex, uint32_t version)
{
	static struct datagram d;
	struct quic_table *t = quic_table_new(16);
	struct quic_hello h;
	const char *why;

	d.len = from_hex(hex, d.buf, sizeof(d.buf));
	assert_int_equal(d.len, 1200);
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, version, "example.com");
	assert_string_equal(quic_version_name(h.version),
	    version == QUIC_V1 ? "v1" : "v2");
	assert_int_equal(h.hello.hello_len, 0xed);
	assert_int_equal(h.hello.legacy_version, 0x0303);
	/* Zeros after the packet, as clients pad datagrams, change nothing. */
	memset(d.buf + d.len, 0, 100);
	d.len += 100;
	assert_status(feed(t, &client, &d, 1, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, version, "example.com");
	quic_table_free(t);
}

static void
test_rfc9001_v1(void **state)
{
	(void)state;
	check_rfc_vector(rfc9001_a2_hex, QUIC_V1);
}

static void
test_rfc9369_v2(void **state)
{
	(void)state;
	check_rfc_vector(rfc9369_a2_hex, QUIC_V2);
}

/* The test's own key schedule gives the keys of RFC 9001 A.1, 9369 A.1. */
static void
test_key_schedule(void **state)
{
	uint8_t key[16], iv[12], hp[16];
	struct keys k;

	(void)state;
	keys_for(QUIC_V1, rfc_dcid, sizeof(rfc_dcid), &k);
	from_hex("1f369613dd76d5467730efcbe3b1a22d", key, sizeof(key));
	from_hex("fa044b2f42a3fd3b46fb255c", iv, sizeof(iv));
	from_hex("9f50449e04a0e810283a1e9933adedd2", hp, sizeof(hp));
	assert_memory_equal(k.key, key, 16);
	assert_memory_equal(k.iv, iv, 12);
	assert_memory_equal(k.hp, hp, 16);

	keys_for(QUIC_V2, rfc_dcid, sizeof(rfc_dcid), &k);
	from_hex("8b1a0bc121284290a29e0971b5cd045d", key, sizeof(key));
	from_hex("91f73e2351d8fa91660e909f", iv, sizeof(iv));
	from_hex("45b95e15235d6f45a6b19cbcb0294ba9", hp, sizeof(hp));
	assert_memory_equal(k.key, key, 16);
	assert_memory_equal(k.iv, iv, 12);
	assert_memory_equal(k.hp, hp, 16);
}

/* Every prefix of the vectors: never a crash, never a hello. */
static void
test_truncated_vectors(void **state)
{
	static struct datagram whole, d;
	const char *hexes[] = { rfc9001_a2_hex, rfc9369_a2_hex };
	struct quic_table *t = quic_table_new(16);
	enum quic_status status;
	struct quic_hello h;
	const char *why;

	(void)state;
	for (size_t v = 0; v < 2; v++) {
		whole.len = from_hex(hexes[v], whole.buf, sizeof(whole.buf));
		for (d.len = 0; d.len < whole.len; d.len++) {
			memcpy(d.buf, whole.buf, d.len);
			status = feed(t, &client, &d, 0, &h, &why);
			if (status != QUIC_NOT_INITIAL && status != QUIC_ERROR)
				fail_msg("prefix of %zu bytes: %d", d.len,
				    status);
			assert_true(status == QUIC_ERROR ? why != NULL :
			    why == NULL);
		}
		assert_status(feed(t, &client, &whole, 0, &h, &why),
		    QUIC_DONE, &why);
	}
	quic_table_free(t);
}

/* ---------------------------------------------------------------- reassembly */

/* A ClientHello of 3000 bytes in three Initials, in each of 6 orders. */
static void
test_split_orders(void **state)
{
	static const size_t orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	static uint8_t hello[HELLO_MAX];
	static struct datagram parts[3];
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "split.example.net", 3000);
	struct quic_hello h;
	const char *why;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		hello_part(&parts[i], &proto, hello, i * 1000,
		    i == 2 ? len : (i + 1) * 1000, i);
	for (size_t o = 0; o < 6; o++) {
		for (size_t i = 0; i < 3; i++)
			assert_status(feed(t, &client, &parts[orders[o][i]],
			    o * 20000 + i, &h, &why),
			    i < 2 ? QUIC_NEED_MORE : QUIC_DONE, &why);
		assert_hello(&h, QUIC_V1, "split.example.net");
		assert_int_equal(h.hello.hello_len, len - 4);
	}
	quic_table_free(t);
}

/* As above in two v2 Initials, in order and in reverse. */
static void
test_split_v2(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram first, second;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "v2.example.org", 1800);
	struct quic_hello h;
	const char *why;

	(void)state;
	proto.version = QUIC_V2;
	hello_part(&first, &proto, hello, 0, 900, 0);
	hello_part(&second, &proto, hello, 900, len, 1);
	assert_status(feed(t, &client, &first, 0, &h, &why), QUIC_NEED_MORE,
	    &why);
	assert_status(feed(t, &client, &second, 1, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, QUIC_V2, "v2.example.org");
	assert_status(feed(t, &client, &second, 2, &h, &why), QUIC_NEED_MORE,
	    &why);
	assert_status(feed(t, &client, &first, 3, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, QUIC_V2, "v2.example.org");
	quic_table_free(t);
}

/*
 * CRYPTO frames out of order, overlapping and repeated within and across
 * packets, among PING, PADDING and ACK frames (as Chrome scatters them);
 * bytes that come again with other values are ignored: the first wins.
 */
static void
test_overlapping_frames(void **state)
{
	static uint8_t hello[HELLO_MAX], forged[HELLO_MAX];
	static struct frames f;
	static struct datagram d;
	struct initial in = initial_defaults(&f, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "scatter.example.com", 1000);
	size_t sni_at = 4 + 2 + 32 + 1 + 4 + 2 + 2 + 9;
	struct quic_hello h;
	const char *why;

	(void)state;
	memcpy(forged, hello, len);
	memcpy(forged + sni_at, "xxxxxxx", 7);
	assert_memory_equal(hello + sni_at, "scatter", 7);

	frame_byte(&f, 0x01);				/* PING */
	frame_crypto(&f, hello, 500, 300);
	frame_byte(&f, 0x00);
	frame_byte(&f, 0x00);
	frame_crypto(&f, hello, 100, 250);
	frame_byte(&f, 0x02);				/* ACK */
	frame_varint(&f, 5);
	frame_varint(&f, 100);
	frame_varint(&f, 2);
	frame_varint(&f, 0);
	frame_varint(&f, 1);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_crypto(&f, hello, 100, 250);		/* the same again */
	frame_crypto(&f, hello, 40, 100);
	frame_crypto(&f, forged, 40, 100);		/* SNI, other bytes */
	frame_crypto(&f, hello, 300, 500);		/* overlaps both */
	d.len = initial_build(&in, d.buf);
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NEED_MORE, &why);

	f.len = 0;
	frame_byte(&f, 0x03);				/* ACK with ECN */
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 1);
	frame_varint(&f, 2);
	frame_varint(&f, 3);
	frame_crypto(&f, forged, 0, len);		/* all but 0..40 known */
	frame_crypto(&f, hello, 0, 60);
	in.pn = 1;
	d.len = initial_build(&in, d.buf);
	assert_status(feed(t, &client, &d, 1, &h, &why), QUIC_DONE, &why);
	/* The SNI came from hello first; forged differs only there. */
	assert_hello(&h, QUIC_V1, "scatter.example.com");
	quic_table_free(t);
}

/* Two Initials in one datagram, then a 0-RTT packet, then a short header. */
static void
test_coalesced(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram one, two, both;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "coalesced.example.com", 1500);
	struct quic_hello h;
	const char *why;
	size_t n;

	(void)state;
	proto.size = 0;
	hello_part(&one, &proto, hello, 700, len, 0);
	hello_part(&two, &proto, hello, 0, 700, 1);
	memcpy(both.buf, one.buf, one.len);
	memcpy(both.buf + one.len, two.buf, two.len);
	n = one.len + two.len;
	/* 0-RTT (type 1 in v1): skipped by its Length. */
	both.buf[n++] = 0xd0;
	both.buf[n++] = 0;
	both.buf[n++] = 0;
	both.buf[n++] = 0;
	both.buf[n++] = 1;
	both.buf[n++] = 0;
	both.buf[n++] = 0;
	both.buf[n++] = 0x40;
	both.buf[n++] = 30;
	memset(both.buf + n, 0xee, 30);
	n += 30;
	both.buf[n++] = 0x40;	/* a short header packet: the end */
	memset(both.buf + n, 0xab, 60);
	both.len = n + 60;
	assert_status(feed(t, &client, &both, 0, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, QUIC_V1, "coalesced.example.com");

	/* The second Initial broken: the datagram is an error. */
	both.buf[one.len + two.len - 1] ^= 1;
	assert_error(feed(t, &client, &both, 1, &h, &why), &why,
	    "authentication failed");
	quic_table_free(t);
}

/*
 * After the server has answered, the client's Initials carry the DCID the
 * server chose but keep the keys of the first (RFC 9001 §5.2).
 */
static void
test_server_chosen_dcid(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram first, second, ack;
	static struct frames f;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "later.example.com", 1600);
	struct quic_hello h;
	const char *why;

	(void)state;
	hello_part(&first, &proto, hello, 0, 1000, 0);
	proto.dcid = server_cid;
	proto.dcid_len = sizeof(server_cid);
	proto.key_dcid = dcid_a;
	proto.key_dcid_len = sizeof(dcid_a);
	hello_part(&second, &proto, hello, 1000, len, 1);
	assert_status(feed(t, &client, &first, 0, &h, &why), QUIC_NEED_MORE,
	    &why);
	assert_status(feed(t, &client, &second, 1, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, QUIC_V1, "later.example.com");

	/* An Initial with only an ACK, after the hello: readable, no hello. */
	frame_byte(&f, 0x02);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	proto.frames = &f;
	proto.pn = 2;
	ack.len = initial_build(&proto, ack.buf);
	assert_status(feed(t, &client, &ack, 2, &h, &why), QUIC_NEED_MORE,
	    &why);
	/* The first again: the hello starts over. */
	hello_part(&first, &proto, hello, 0, len, 3);
	assert_status(feed(t, &client, &first, 3, &h, &why), QUIC_DONE, &why);

	/* A new connection from the same port, with keys of its own DCID. */
	proto = initial_defaults(NULL, 0);
	proto.dcid = dcid_b;
	proto.dcid_len = sizeof(dcid_b);
	hello_part(&first, &proto, hello, 0, 1000, 0);
	hello_part(&second, &proto, hello, 1000, len, 1);
	assert_status(feed(t, &client, &first, 4, &h, &why), QUIC_NEED_MORE,
	    &why);
	assert_status(feed(t, &client, &second, 5, &h, &why), QUIC_DONE, &why);
	quic_table_free(t);
}

/* The server's datagrams, while the client's hello is read, are not it. */
static void
test_server_side(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram d;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "side.example.com", 1600);
	struct quic_hello h;
	const char *why;

	(void)state;
	hello_part(&d, &proto, hello, 0, 1000, 0);
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NEED_MORE, &why);
	proto.dcid = server_cid;
	proto.dcid_len = sizeof(server_cid);
	hello_part(&d, &proto, hello, 0, len, 0);
	assert_status(quic_datagram(t, sa(&server), sa(&client), d.buf, d.len,
	    1, &h, &why), QUIC_NOT_INITIAL, &why);
	quic_table_free(t);
}

/* ---------------------------------------------------------------- bad input */

static void
test_corrupted(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram d, bad;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "tag.example.com", 600);
	size_t where[] = { 0, 6, 30, 600, 1183, 1199 };
	struct quic_hello h;
	const char *why;

	(void)state;
	hello_part(&d, &proto, hello, 0, len, 0);
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		/* A reserved bit, the DCID (other keys), payload, tag. */
		bad = d;
		bad.buf[where[i]] ^= 0x04;
		assert_error(feed(t, &client, &bad, 0, &h, &why), &why,
		    "authentication failed");
	}
	/* A forged packet cost the connection nothing. */
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_DONE, &why);
	quic_table_free(t);
}

static void
test_not_initial(void **state)
{
	static struct datagram d;
	struct quic_table *t = quic_table_new(16);
	struct quic_hello h;
	const char *why;

	(void)state;
	d.len = from_hex(rfc9001_a2_hex, d.buf, sizeof(d.buf));
	d.buf[4] = 2;				/* version 2, not v2 */
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NOT_INITIAL,
	    &why);
	assert_null(why);
	memcpy(d.buf + 1, "\x00\x00\x00\x00", 4);	/* version negotiation */
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NOT_INITIAL,
	    &why);
	memcpy(d.buf + 1, "\xff\x00\x00\x1d", 4);	/* draft-29 */
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NOT_INITIAL,
	    &why);
	memcpy(d.buf + 1, "\x00\x00\x00\x01", 4);
	d.buf[0] = 0x40;			/* short header */
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NOT_INITIAL,
	    &why);
	d.buf[0] = 0xe0;			/* Handshake */
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NOT_INITIAL,
	    &why);
	d.buf[0] = 0xf0;			/* Retry */
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NOT_INITIAL,
	    &why);
	d.len = 0;
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NOT_INITIAL,
	    &why);
	quic_table_free(t);
}

/* A long header Initial with lengths that do not fit. */
static size_t
raw_initial(uint8_t *out, size_t dcid_len, size_t scid_len, uint64_t token,
    uint64_t length, size_t total)
{
	size_t n = 0;

	memset(out, 0, total);
	out[n++] = 0xc3;
	memcpy(out + n, "\x00\x00\x00\x01", 4);
	n += 4;
	out[n++] = (uint8_t)dcid_len;
	n += dcid_len;
	out[n++] = (uint8_t)scid_len;
	n += scid_len;
	put_varint(out, &n, token);
	put_varint(out, &n, length);
	assert_true(n <= total);
	return total;
}

static void
test_lying_lengths(void **state)
{
	static struct datagram d;
	struct quic_table *t = quic_table_new(16);
	struct quic_hello h;
	const char *why;

	(void)state;
	d.len = raw_initial(d.buf, 8, 0, 0, 1200, 1200);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "length beyond the datagram");
	d.len = raw_initial(d.buf, 8, 0, 5000, 100, 1200);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "token beyond the datagram");
	d.len = raw_initial(d.buf, 21, 0, 0, 100, 1200);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "connection ID longer than 20 bytes");
	d.len = raw_initial(d.buf, 8, 21, 0, 100, 1200);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "connection ID longer than 20 bytes");
	d.len = raw_initial(d.buf, 8, 0, 0, 19, 1200);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "packet too short");
	d.len = raw_initial(d.buf, 20, 20, 0, 1000, 1200);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "authentication failed");
	d.len = 60000 + 30;
	memset(d.buf, 0, d.len);
	raw_initial(d.buf, 8, 0, 0, 60000, d.len);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "authentication failed");
	quic_table_free(t);
}

static void
test_bad_frames(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct frames f;
	static struct datagram d;
	struct initial in = initial_defaults(&f, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "frames.example.com", 300);
	struct quic_hello h;
	const char *why;

	(void)state;
	/* A CRYPTO frame longer than its packet. */
	frame_byte(&f, 0x06);
	frame_varint(&f, 0);
	frame_varint(&f, 5000);
	in.size = 0;
	d.len = initial_build(&in, d.buf);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "malformed CRYPTO frame");
	/* Data past TLSHELLO_MAX. */
	f.len = 0;
	frame_byte(&f, 0x06);
	frame_varint(&f, TLSHELLO_MAX - 2);
	frame_varint(&f, 3);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	in.size = 1200;
	in.pn = 1;
	d.len = initial_build(&in, d.buf);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "ClientHello too large");
	/* A hello that says it is longer than TLSHELLO_MAX. */
	memcpy(hello + 1, "\x00\x40\x00", 3);
	hello_part(&d, &in, hello, 0, 300, 2);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "ClientHello too large");
	/* A ServerHello. */
	hello_build(hello, "frames.example.com", 300);
	hello[0] = 2;
	hello_part(&d, &in, hello, 0, len, 3);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "not a ClientHello");
	/* A ClientHello whose extensions run past it. */
	hello[0] = 1;
	hello[4 + 2 + 32 + 1 + 4 + 2] ^= 0x10;
	hello_part(&d, &in, hello, 0, len, 4);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "malformed ClientHello");
	/* A truncated ACK frame. */
	f.len = 0;
	frame_byte(&f, 0x02);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 1000);
	in.pn = 5;
	d.len = initial_build(&in, d.buf);
	assert_error(feed(t, &client, &d, 0, &h, &why), &why,
	    "malformed ACK frame");
	/* CONNECTION_CLOSE: the CRYPTO frame after it is not read. */
	hello[4 + 2 + 32 + 1 + 4 + 2] ^= 0x10;
	f.len = 0;
	frame_byte(&f, 0x1c);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_varint(&f, 0);
	frame_crypto(&f, hello, 0, len);
	in.pn = 6;
	d.len = initial_build(&in, d.buf);
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_NEED_MORE, &why);
	quic_table_free(t);
}

/* One byte of CRYPTO data per Initial: the seventeenth is too many. */
static void
test_too_many_packets(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram d;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	struct quic_hello h;
	const char *why;

	(void)state;
	hello_build(hello, "many.example.com", 100);
	for (size_t i = 0; i < 16; i++) {
		hello_part(&d, &proto, hello, i, i + 1, i);
		assert_status(feed(t, &client, &d, i, &h, &why),
		    QUIC_NEED_MORE, &why);
	}
	hello_part(&d, &proto, hello, 16, 100, 16);
	assert_error(feed(t, &client, &d, 16, &h, &why), &why,
	    "too many Initial packets");
	/* That hello is gone; a whole one in one packet is read afresh. */
	hello_part(&d, &proto, hello, 0, 100, 17);
	assert_status(feed(t, &client, &d, 17, &h, &why), QUIC_DONE, &why);
	quic_table_free(t);
}

/* ---------------------------------------------------------------- the table */

static void
test_eviction(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram first, second;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(2);
	size_t len = hello_build(hello, "lru.example.com", 1500);
	struct quic_hello h;
	const char *why;

	(void)state;
	hello_part(&first, &proto, hello, 0, 800, 0);
	hello_part(&second, &proto, hello, 800, len, 1);
	assert_status(feed(t, &client, &first, 0, &h, &why), QUIC_NEED_MORE,
	    &why);
	assert_status(feed(t, &client2, &first, 1, &h, &why), QUIC_NEED_MORE,
	    &why);
	/* client was used last now: client2 goes when client3 comes. */
	assert_status(feed(t, &client, &first, 2, &h, &why), QUIC_NEED_MORE,
	    &why);
	assert_status(feed(t, &client3, &first, 3, &h, &why), QUIC_NEED_MORE,
	    &why);
	assert_status(feed(t, &client2, &second, 4, &h, &why), QUIC_NEED_MORE,
	    &why);
	/* client2's second half made a connection in place of client's. */
	assert_status(feed(t, &client3, &second, 5, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, QUIC_V1, "lru.example.com");
	assert_status(feed(t, &client, &second, 6, &h, &why), QUIC_NEED_MORE,
	    &why);
	quic_table_free(t);
}

static void
test_expiry(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram first, second;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "old.example.com", 1500);
	struct quic_hello h;
	const char *why;

	(void)state;
	hello_part(&first, &proto, hello, 0, 800, 0);
	hello_part(&second, &proto, hello, 800, len, 1);
	assert_status(feed(t, &client, &first, 1000, &h, &why),
	    QUIC_NEED_MORE, &why);
	assert_status(feed(t, &client, &second, 11000, &h, &why),
	    QUIC_DONE, &why);

	assert_status(feed(t, &client, &first, 20000, &h, &why),
	    QUIC_NEED_MORE, &why);
	assert_status(feed(t, &client, &second, 30001, &h, &why),
	    QUIC_NEED_MORE, &why);	/* idle for more than 10 s */

	/* Busy, but older than 10 s: dropped all the same. */
	assert_status(feed(t, &client2, &first, 40000, &h, &why),
	    QUIC_NEED_MORE, &why);
	assert_status(feed(t, &client2, &first, 46000, &h, &why),
	    QUIC_NEED_MORE, &why);
	assert_status(feed(t, &client2, &second, 50001, &h, &why),
	    QUIC_NEED_MORE, &why);
	quic_table_free(t);
}

static void
test_ipv6(void **state)
{
	static uint8_t hello[HELLO_MAX];
	static struct datagram first, second;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	struct sockaddr_storage c6 = endpoint("2001:db8::5", 50000);
	struct sockaddr_storage s6 = endpoint("2001:db8::443", 443);
	size_t len = hello_build(hello, "six.example.com", 1500);
	struct quic_hello h;
	const char *why;

	(void)state;
	hello_part(&first, &proto, hello, 0, 800, 0);
	hello_part(&second, &proto, hello, 800, len, 1);
	assert_status(quic_datagram(t, sa(&c6), sa(&s6), first.buf, first.len,
	    0, &h, &why), QUIC_NEED_MORE, &why);
	assert_status(quic_datagram(t, sa(&c6), sa(&server), second.buf,
	    second.len, 0, &h, &why), QUIC_NEED_MORE, &why);
	assert_status(quic_datagram(t, sa(&c6), sa(&s6), second.buf,
	    second.len, 0, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, QUIC_V1, "six.example.com");
	quic_table_free(t);
}

/* Connection IDs of 0 and 20 bytes: servers may choose either. */
static void
test_dcid_lengths(void **state)
{
	static const uint8_t long_cid[20] = { 20, 19, 18, 17, 16 };
	static uint8_t hello[HELLO_MAX];
	static struct datagram d;
	struct initial proto = initial_defaults(NULL, 0);
	struct quic_table *t = quic_table_new(16);
	size_t len = hello_build(hello, "cid.example.com", 500);
	struct quic_hello h;
	const char *why;

	(void)state;
	proto.dcid = long_cid;
	proto.dcid_len = sizeof(long_cid);
	proto.scid_len = 20;
	proto.token_len = 100;
	proto.pn_len = 4;
	hello_part(&d, &proto, hello, 0, len, 0);
	assert_status(feed(t, &client, &d, 0, &h, &why), QUIC_DONE, &why);
	proto.dcid_len = 0;
	proto.scid_len = 0;
	proto.pn_len = 1;
	hello_part(&d, &proto, hello, 0, len, 0);
	assert_status(feed(t, &client2, &d, 0, &h, &why), QUIC_DONE, &why);
	assert_hello(&h, QUIC_V1, "cid.example.com");
	quic_table_free(t);
}

static void
test_version_names(void **state)
{
	(void)state;
	assert_string_equal(quic_version_name(QUIC_V1), "v1");
	assert_string_equal(quic_version_name(QUIC_V2), "v2");
	assert_null(quic_version_name(0));
	assert_null(quic_version_name(0xff00001d));
}

static int
setup(void **state)
{
	(void)state;
	client = endpoint("192.0.2.10", 50000);
	client2 = endpoint("192.0.2.11", 50000);
	client3 = endpoint("192.0.2.10", 50001);
	server = endpoint("198.51.100.1", 443);
	return 0;
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc9001_v1),
		cmocka_unit_test(test_rfc9369_v2),
		cmocka_unit_test(test_key_schedule),
		cmocka_unit_test(test_truncated_vectors),
		cmocka_unit_test(test_split_orders),
		cmocka_unit_test(test_split_v2),
		cmocka_unit_test(test_overlapping_frames),
		cmocka_unit_test(test_coalesced),
		cmocka_unit_test(test_server_chosen_dcid),
		cmocka_unit_test(test_server_side),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_not_initial),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_too_many_packets),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_dcid_lengths),
		cmocka_unit_test(test_version_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
