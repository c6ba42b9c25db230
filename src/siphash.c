/*
 * siphash.c: SipHash-1-3 over a buffer, and a random key for it.
 *
 * Words are read with memcpy and taken as little-endian, so the hash is
 * the same on every host and needs no aligned input. The last partial
 * word of an input of 8 bytes or more is read as the input's last 8 bytes
 * shifted down, instead of byte by byte.
 */
#include "config.h"

#include <endian.h>

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "siphash.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sipstate {
	uint64_t	v0, v1, v2, v3;
};

static inline void
sipround(struct sipstate *s)
{
	s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static inline void
sipcompress(struct sipstate *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s);
	s->v0 ^= m;
}

void
siphash_random_key(uint64_t key[2])
{
	uint8_t *p = (uint8_t *)key;
	size_t want = 2 * sizeof(key[0]);
	struct timespec ts;
	ssize_t got;

	while (want > 0) {
		got = getrandom(p, want, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		p += got;
		want -= (size_t)got;
	}
	if (want > 0) {
		/* Only kernels before 3.17 get here: a weaker secret. */
		clock_gettime(CLOCK_REALTIME, &ts);
		key[0] ^= (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec;
		key[1] ^= (uint64_t)getpid() ^ (uint64_t)(uintptr_t)key;
	}
}

uint64_t
siphash13(const uint64_t key[2], const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct sipstate s = {
		key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
		key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL
	};
	uint64_t m;
	size_t i, words;

	for (words = len / 8; words > 0; words--, p += 8) {
		memcpy(&m, p, 8);
		sipcompress(&s, le64toh(m));	/* SipHash reads words little-endian */
	}
	m = 0;
	if (len >= 8 && len % 8 != 0) {
		/* The last 8 bytes in one read, less those already taken. */
		memcpy(&m, p + len % 8 - 8, 8);
		m = le64toh(m) >> (64 - 8 * (len % 8));
	} else {
		for (i = 0; i < len % 8; i++)
			m |= (uint64_t)p[i] << (8 * i);
	}
	m |= (uint64_t)len << 56;
	sipcompress(&s, m);
	s.v2 ^= 0xff;
	sipround(&s);
	sipround(&s);
	sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
