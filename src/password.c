/*
 * password.c: the web page's password, kept as a PBKDF2-HMAC-SHA256 hash
 * (OpenSSL), "pbkdf2-sha256$ITERATIONS$SALT$HASH" with base64 salt and hash.
 * Shared by hushd (checking) and hushctl passwd (making one).
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "password.h"

#define WEB_PBKDF2_ITER		200000


bool
password_hash(const char *password, char *out, size_t outlen)
{
	unsigned char salt[16], hash[32];
	char salt64[32], hash64[48];

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
	    sizeof(salt), WEB_PBKDF2_ITER, EVP_sha256(), sizeof(hash),
	    hash) != 1)
		return false;
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
	snprintf(out, outlen, "pbkdf2-sha256$%d$%s$%s", WEB_PBKDF2_ITER,
	    salt64, hash64);
	return true;
}

bool
password_check(const char *stored, const char *password)
{
	char salt64[64], hash64[64];
	unsigned char salt[48], want[48], got[32];
	long iter;
	int salt_len, want_len;

	if (stored == NULL || sscanf(stored, "pbkdf2-sha256$%ld$%63[^$]$%63s",
	    &iter, salt64, hash64) != 3 || iter < 1000 || iter > 10000000)
		return false;
	salt_len = EVP_DecodeBlock(salt, (unsigned char *)salt64,
	    (int)strlen(salt64));
	want_len = EVP_DecodeBlock(want, (unsigned char *)hash64,
	    (int)strlen(hash64));
	/* EVP_DecodeBlock counts padding as zero bytes. */
	salt_len -= (int)(strlen(salt64) - strcspn(salt64, "="));
	want_len -= (int)(strlen(hash64) - strcspn(hash64, "="));
	if (salt_len <= 0 || want_len != (int)sizeof(got))
		return false;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len,
	    (int)iter, EVP_sha256(), sizeof(got), got) != 1)
		return false;
	return CRYPTO_memcmp(got, want, sizeof(got)) == 0;
}

