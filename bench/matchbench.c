/*
 * matchbench.c: how fast a loaded block list answers "is this name
 * covered?", on one core, without any DNS around it.
 *
 *   matchbench LIST MILLIONS [ROUNDS]
 *
 * Loads LIST with list_load() (as hushd does), then makes a pool of query
 * names: a quarter listed names, a quarter subdomains of listed names and
 * a half names not on the list (2 to 5 labels under common TLDs, so a miss
 * walks every parent). Each round times MILLIONS million domainset_match()
 * calls over the pool in a shuffled order. The pool, a quarter of a
 * million names (about 5 MiB), is larger than a core's L2 cache, so the
 * names come at the set in no order it could keep warm. Each name is
 * fetched into the cache a few lookups ahead, as a daemon holds the name
 * of the query it has just parsed: what is timed is the set, not the
 * pool's own misses.
 * Prints the load time, then one line per round and the median.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domainset.h"
#include "lists.h"
#include "log.h"

#define POOL_NAMES	(1u << 18)
#define ROUNDS_MAX	15
#define NAME_AHEAD	8	/* lookups between fetching a name and its use */

struct pool {
	char		*text;		/* names, each NUL-terminated */
	uint32_t	*offset;
	uint8_t		*len;
	size_t		 n;
	size_t		 used;
	size_t		 size;
};

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
pool_add(struct pool *p, const char *prefix, const char *name, size_t len)
{
	size_t plen = strlen(prefix);

	if (plen + len > LIST_NAME_MAX)
		return;
	if (p->size - p->used < plen + len + 1) {
		p->size = p->size * 2 + plen + len + 1;
		p->text = xreallocarray(p->text, p->size, 1);
	}
	p->offset[p->n] = (uint32_t)p->used;
	p->len[p->n] = (uint8_t)(plen + len);
	memcpy(p->text + p->used, prefix, plen);
	memcpy(p->text + p->used + plen, name, len);
	p->used += plen + len;
	p->text[p->used++] = '\0';
	p->n++;
}

/* The lines of the list file, which lists.c does not hand back. */
static char **
read_lines(const char *path, size_t *count)
{
	FILE *f = fopen(path, "r");
	char line[512], **lines = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		fatal("%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			lines = xreallocarray(lines, cap, sizeof(*lines));
		}
		lines[n++] = xstrdup(line);
	}
	fclose(f);
	*count = n;
	return lines;
}

static void
random_name(uint64_t *state, char *out)
{
	static const char *const tlds[] = { "com", "net", "org", "de", "io" };
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned labels = 2 + next_random(state) % 4;
	size_t off = 0;

	for (unsigned i = 1; i < labels; i++) {
		unsigned len = 2 + next_random(state) % 10;

		for (unsigned j = 0; j < len; j++)
			out[off++] = alphabet[next_random(state) % 36];
		out[off++] = '.';
	}
	strcpy(out + off, tlds[next_random(state) % 5]);
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
	struct pool pool = { 0 };
	struct domainset_match m;
	uint64_t state = 20261125;
	double rates[ROUNDS_MAX];
	char err[256], name[LIST_NAME_MAX + 1];
	size_t n_lines;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: matchbench LIST MILLIONS [ROUNDS]\n");
		return 2;
	}
	double millions = atof(argv[2]);
	int rounds = argc == 4 ? atoi(argv[3]) : 3;
	if (millions <= 0 || rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "matchbench: bad MILLIONS or ROUNDS\n");
		return 2;
	}
	log_init(true, false);

	double t0 = now_s();
	struct list *list = list_load("bench", argv[1], NULL, NULL, err,
	    sizeof(err));
	if (list == NULL)
		fatalx("%s", err);
	printf("load: %zu rules in %.3f s\n", list_size(list), now_s() - t0);

	char **lines = read_lines(argv[1], &n_lines);
	if (n_lines == 0)
		fatalx("%s: no names", argv[1]);
	pool.offset = xcalloc(POOL_NAMES, sizeof(*pool.offset));
	pool.len = xcalloc(POOL_NAMES, sizeof(*pool.len));
	while (pool.n < POOL_NAMES) {
		const char *listed = lines[next_random(&state) % n_lines];

		switch (next_random(&state) % 4) {
		case 0:
			pool_add(&pool, "", listed, strlen(listed));
			break;
		case 1:
			pool_add(&pool, "www.", listed, strlen(listed));
			break;
		default:
			random_name(&state, name);
			pool_add(&pool, "", name, strlen(name));
			break;
		}
	}
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	free(lines);

	uint32_t *order = xcalloc(POOL_NAMES, sizeof(*order));
	for (uint32_t i = 0; i < POOL_NAMES; i++)
		order[i] = i;
	for (uint32_t i = POOL_NAMES - 1; i > 0; i--) {
		uint32_t j = next_random(&state) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}

	uint64_t lookups = (uint64_t)(millions * 1e6);
	for (int r = 0; r < rounds; r++) {
		uint64_t hits = 0;
		double start = now_s();

		for (uint64_t i = 0; i < lookups; i++) {
			uint32_t k = order[i & (POOL_NAMES - 1)];

#if defined(__GNUC__)
			__builtin_prefetch(pool.text + pool.offset[order[(i +
			    NAME_AHEAD) & (POOL_NAMES - 1)]]);
			__builtin_prefetch(&pool.offset[order[(i +
			    2 * NAME_AHEAD) & (POOL_NAMES - 1)]]);
#endif

			hits += domainset_match(list->rules,
			    pool.text + pool.offset[k], pool.len[k], &m);
		}
		double elapsed = now_s() - start;
		rates[r] = lookups / elapsed;
		printf("round %d: %" PRIu64 " lookups in %.3f s, %.0f lookups/s, "
		    "%.1f%% covered\n", r + 1, lookups, elapsed, rates[r],
		    100.0 * hits / lookups);
	}
	qsort(rates, rounds, sizeof(rates[0]), compare_double);
	printf("median: %.0f lookups/s\n", rates[rounds / 2]);

	free(order);
	free(pool.offset);
	free(pool.len);
	free(pool.text);
	list_free(list);
	return 0;
}
