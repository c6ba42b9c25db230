/*
 * genlist.c: deterministic inputs for the benchmark.
 *
 *   genlist list SEED COUNT      COUNT distinct names of 2 to 4 labels, one
 *                                a line, the same for the same SEED on any
 *                                machine (own PRNG, not the libc's)
 *   genlist queries TAG COUNT    dnsperf input: COUNT distinct A queries
 *                                "<n>.TAG.bench A", for a wildcard zone
 *
 * Listed names never end in "bench", so the upstream's zone and the block
 * list do not overlap. A list of N names is a prefix of the list of M > N
 * names made with the same seed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tlds[] = {
	"com", "net", "org", "io", "de", "info", "co", "uk", "fr", "nl", "ru",
	"jp", "cn", "br", "it", "pl", "au", "in", "app", "dev", "xyz", "biz",
	"tv", "me", "eu", "us", "ca", "es", "se", "ch",
};
#define N_TLDS	(sizeof(tlds) / sizeof(tlds[0]))

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
#define N_ALPHABET	(sizeof(alphabet) - 1)

/* splitmix64: small, fast and the same everywhere. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
below(uint64_t *state, unsigned n)
{
	return (unsigned)(next_random(state) % n);
}

/*
 * One label of min..max characters; now and then a hyphen, never at an end
 * nor beside another.
 */
static size_t
put_label(uint64_t *state, char *out, unsigned min, unsigned max)
{
	unsigned len = min + below(state, max - min + 1);

	for (unsigned i = 0; i < len; i++) {
		if (i > 0 && i + 1 < len && out[i - 1] != '-' &&
		    below(state, 16) == 0)
			out[i] = '-';
		else
			out[i] = alphabet[below(state, N_ALPHABET)];
	}
	return len;
}

static uint64_t
hash_name(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
	return h | 1;	/* 0 marks an empty slot */
}

/* Open addressing over 64-bit hashes: a clash of two names is negligible. */
static bool
seen_before(uint64_t *table, size_t mask, uint64_t h)
{
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (table[i] == h)
			return true;
		if (table[i] == 0) {
			table[i] = h;
			return false;
		}
	}
}

static int
make_list(uint64_t seed, unsigned long count)
{
	size_t size = 1024;
	uint64_t state = seed, *table;
	char name[256];

	while (size < count * 2)
		size <<= 1;
	if ((table = calloc(size, sizeof(*table))) == NULL) {
		perror("genlist");
		return 1;
	}
	for (unsigned long made = 0; made < count; ) {
		unsigned labels = 2 + below(&state, 3);
		size_t len = 0;

		for (unsigned i = 2; i < labels; i++) {
			len += put_label(&state, name + len, 1, 10);
			name[len++] = '.';
		}
		len += put_label(&state, name + len, 3, 14);
		name[len++] = '.';
		const char *tld = tlds[below(&state, N_TLDS)];
		memcpy(name + len, tld, strlen(tld));
		len += strlen(tld);
		if (seen_before(table, size - 1, hash_name(name, len)))
			continue;
		name[len++] = '\n';
		fwrite(name, 1, len, stdout);
		made++;
	}
	free(table);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
make_queries(const char *tag, unsigned long count)
{
	for (unsigned long i = 0; i < count; i++)
		printf("q%lx.%s.bench A\n", i, tag);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	if (argc == 4 && strcmp(argv[1], "list") == 0)
		return make_list(strtoull(argv[2], NULL, 10),
		    strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "queries") == 0)
		return make_queries(argv[2], strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: genlist list SEED COUNT\n"
	    "       genlist queries TAG COUNT\n");
	return 2;
}
