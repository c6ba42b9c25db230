/*
 * quicbench.c: how many new QUIC connections one core judges per second,
 * from the client's first Initial to its ClientHello, without any network
 * around it.
 *
 *   quicbench [THOUSANDS [ROUNDS]]
 *
 * Takes the client Initial of RFC 9001 Appendix A.2 (1200 bytes, SNI
 * example.com), decrypts it once with the RFC's keys, and protects its
 * payload again under POOL fresh random DCIDs. Each round then feeds
 * THOUSANDS thousand of those datagrams to quic_datagram(), each from
 * another client port, so every one is a new connection: keys derived
 * (HKDF), header protection and AES-128-GCM removed, CRYPTO frame read,
 * ClientHello parsed, and a table entry made (evicting the oldest).
 * Prints one line per round and the median, in judgements per second.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "quic.h"
#include "../tests/unit/quic_vector.h"

#define POOL		1024
#define PACKET_LEN	1200
#define DCID_LEN	8
#define PN_OFFSET	(1 + 4 + 1 + DCID_LEN + 1 + 1 + 2)	/* no SCID */
#define ROUNDS_MAX	15
#define TABLE_CONNS	4096

/* RFC 9001 Appendix A.1: the client's key, IV and header protection key. */
static const char rfc_key_hex[] = "1f369613dd76d5467730efcbe3b1a22d";
static const char rfc_iv_hex[] = "fa044b2f42a3fd3b46fb255c";
static const char rfc_hp_hex[] = "9f50449e04a0e810283a1e9933adedd2";

struct keys {
	uint8_t	key[16], iv[12], hp[16];
};

static void
die(const char *what)
{
	fprintf(stderr, "quicbench: %s\n", what);
	exit(1);
}

static void
from_hex(const char *hex, uint8_t *out)
{
	unsigned byte;

	for (size_t i = 0; hex[2 * i] != '\0'; i++) {
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			die("bad hex");
		out[i] = (uint8_t)byte;
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
expand_label(const uint8_t secret[32], const char *label, uint8_t *out,
    size_t len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
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

	if (ctx == NULL || EVP_KDF_derive(ctx, out, len, params) != 1)
		die("TLS13-KDF failed");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

/* RFC 9001 §5.2, for building the pool. */
static void
keys_for(const uint8_t *dcid, struct keys *k)
{
	uint8_t salt[20], initial[32], secret[32];
	unsigned len = 0;

	from_hex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a", salt);
	if (HMAC(EVP_sha256(), salt, sizeof(salt), dcid, DCID_LEN, initial,
	    &len) == NULL)
		die("HMAC failed");
	expand_label(initial, "client in", secret, 32);
	expand_label(secret, "quic key", k->key, 16);
	expand_label(secret, "quic iv", k->iv, 12);
	expand_label(secret, "quic hp", k->hp, 16);
}

static void
hp_mask(const struct keys *k, const uint8_t *packet, uint8_t mask[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl;

	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k->hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, mask, &outl, packet + PN_OFFSET + 4, 16) !=
	    1)
		die("AES-128-ECB failed");
	EVP_CIPHER_CTX_free(ctx);
}

/*
 * AES-128-GCM over the packet after its header (hdr_len bytes): encrypt
 * (tag written after the ciphertext) or decrypt (tag checked).
 */
static void
gcm(const struct keys *k, uint8_t *packet, size_t hdr_len, uint32_t pn,
    int encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t body = PACKET_LEN - hdr_len - 16;
	uint8_t nonce[12];
	int outl, ok;

	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	ok = ctx != NULL && EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), NULL,
	    k->key, nonce, encrypt) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &outl, packet, (int)hdr_len) == 1;
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
		    packet + hdr_len + body) == 1;
	ok = ok && EVP_CipherUpdate(ctx, packet + hdr_len, &outl,
	    packet + hdr_len, (int)body) == 1 &&
	    EVP_CipherFinal_ex(ctx, packet + hdr_len + body, &outl) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16,
		    packet + hdr_len + body) == 1;
	if (!ok)
		die("AES-128-GCM failed");
	EVP_CIPHER_CTX_free(ctx);
}

/* The RFC packet, unprotected with the RFC's keys: header, then payload. */
static size_t
rfc_plaintext(uint8_t packet[PACKET_LEN], uint32_t *pn)
{
	struct keys k;
	uint8_t mask[16];
	size_t pn_len;

	from_hex(rfc9001_a2_hex, packet);
	from_hex(rfc_key_hex, k.key);
	from_hex(rfc_iv_hex, k.iv);
	from_hex(rfc_hp_hex, k.hp);
	hp_mask(&k, packet, mask);
	packet[0] ^= mask[0] & 0x0f;
	pn_len = (packet[0] & 3) + 1;
	*pn = 0;
	for (size_t i = 0; i < pn_len; i++) {
		packet[PN_OFFSET + i] ^= mask[1 + i];
		*pn = *pn << 8 | packet[PN_OFFSET + i];
	}
	gcm(&k, packet, PN_OFFSET + pn_len, *pn, 0);
	return PN_OFFSET + pn_len;
}

/* The same payload under a random DCID: its own keys, protected anew. */
static void
protect_fresh(const uint8_t *plain, size_t hdr_len, uint32_t pn,
    uint8_t packet[PACKET_LEN])
{
	struct keys k;
	uint8_t mask[16];

	memcpy(packet, plain, PACKET_LEN);
	if (RAND_bytes(packet + 6, DCID_LEN) != 1)
		die("RAND_bytes failed");
	keys_for(packet + 6, &k);
	gcm(&k, packet, hdr_len, pn, 1);
	hp_mask(&k, packet, mask);
	packet[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < hdr_len - PN_OFFSET; i++)
		packet[PN_OFFSET + i] ^= mask[1 + i];
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static uint8_t pool[POOL][PACKET_LEN], plain[PACKET_LEN];
	long thousands = argc > 1 ? atol(argv[1]) : 200;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double rate[ROUNDS_MAX];
	struct sockaddr_in client = { .sin_family = AF_INET };
	struct sockaddr_in server = { .sin_family = AF_INET,
	    .sin_port = htons(443) };
	struct quic_table *t;
	struct quic_hello out;
	const char *why;
	size_t hdr_len;
	uint32_t pn;
	long n, judged = 0;

	if (thousands < 1 || rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: quicbench [THOUSANDS [ROUNDS <= %d]]\n",
		    ROUNDS_MAX);
		return 2;
	}
	n = thousands * 1000;
	inet_pton(AF_INET, "192.168.1.20", &client.sin_addr);
	inet_pton(AF_INET, "203.0.113.7", &server.sin_addr);
	hdr_len = rfc_plaintext(plain, &pn);
	for (size_t i = 0; i < POOL; i++)
		protect_fresh(plain, hdr_len, pn, pool[i]);

	t = quic_table_new(TABLE_CONNS);
	printf("%ld judgements of a %d-byte v1 Initial per round, each a new "
	    "connection with a fresh DCID\n", n, PACKET_LEN);
	for (int r = 0; r < rounds; r++) {
		double start = now_s(), elapsed;

		for (long i = 0; i < n; i++) {
			client.sin_port = htons((uint16_t)(1024 +
			    (judged % 60000)));
			if (quic_datagram(t, (struct sockaddr *)&client,
			    (struct sockaddr *)&server, pool[judged % POOL],
			    PACKET_LEN, (uint64_t)judged / 1000, &out, &why) !=
			    QUIC_DONE || out.hello.sni.len != 11)
				die(why != NULL ? why : "no ClientHello");
			judged++;
		}
		elapsed = now_s() - start;
		rate[r] = n / elapsed;
		printf("round %d: %.3f s, %.0f judgements/s, %.2f us each\n",
		    r + 1, elapsed, rate[r], elapsed * 1e6 / n);
	}
	qsort(rate, (size_t)rounds, sizeof(rate[0]), compare_double);
	printf("median: %.0f judgements/s\n", rate[rounds / 2]);
	quic_table_free(t);
	return 0;
}
