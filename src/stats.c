/*
 * stats.c: labelled counters and histograms (see stats.h).
 */
#include "config.h"

#include <string.h>

#include "stats.h"

const double hist_bounds[HIST_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	-1,	/* +Inf */
};

/* The slot named name among the first used, or NULL. */
static struct tally_slot *
tally_find(struct tally *t, const char *name, unsigned used)
{
	for (unsigned i = 0; i < used; i++)
		if (strcmp(t->slot[i].name, name) == 0)
			return &t->slot[i];
	return NULL;
}

void
tally_add(struct tally *t, const char *name, unsigned col)
{
	unsigned used = atomic_load_explicit(&t->used, memory_order_relaxed);
	struct tally_slot *s = tally_find(t, name, used);

	if (s == NULL) {
		/* The last slot is kept for every label past the others. */
		if (used == TALLY_SLOTS - 1 ||
		    strlen(name) >= TALLY_NAME_MAX)
			name = "other";
		if ((s = tally_find(t, name, used)) == NULL) {
			if (used == TALLY_SLOTS)
				return;
			s = &t->slot[used];
			strcpy(s->name, name);
			atomic_store_explicit(&t->used, used + 1,
			    memory_order_release);
		}
	}
	counter_add(&s->n[col], 1);
}

void
tally_sum(struct tally *const *t, size_t n, tally_fn fn, void *arg)
{
	struct {
		const char	*name;
		uint64_t	 n[TALLY_COLUMNS];
	} sums[TALLY_SLOTS * 4];
	size_t n_sums = 0, j;

	for (size_t i = 0; i < n; i++) {
		unsigned used = atomic_load_explicit(&t[i]->used,
		    memory_order_acquire);
		for (unsigned k = 0; k < used; k++) {
			const struct tally_slot *s = &t[i]->slot[k];
			for (j = 0; j < n_sums; j++)
				if (strcmp(sums[j].name, s->name) == 0)
					break;
			if (j == n_sums) {
				if (n_sums == sizeof(sums) / sizeof(sums[0]))
					continue;
				sums[n_sums].name = s->name;
				memset(sums[n_sums].n, 0, sizeof(sums[0].n));
				n_sums++;
			}
			for (unsigned c = 0; c < TALLY_COLUMNS; c++)
				sums[j].n[c] += counter_get(&s->n[c]);
		}
	}
	for (j = 0; j < n_sums; j++)
		fn(arg, sums[j].name, sums[j].n);
}

void
hist_add(struct hist *h, double seconds)
{
	unsigned b = 0;

	while (b < HIST_BUCKETS - 1 && seconds > hist_bounds[b])
		b++;
	counter_add(&h->bucket[b], 1);
	counter_add(&h->count, 1);
	counter_add(&h->sum_us, (uint64_t)(seconds * 1e6));
}

struct histset_slot *
histset_get(struct histset *s, const char *name)
{
	unsigned used = atomic_load_explicit(&s->used, memory_order_relaxed);

	for (unsigned i = 0; i < used; i++)
		if (strcmp(s->slot[i].name, name) == 0)
			return &s->slot[i];
	if (used == HISTSET_SLOTS || strlen(name) >= TALLY_NAME_MAX)
		return NULL;
	strcpy(s->slot[used].name, name);
	atomic_store_explicit(&s->used, used + 1, memory_order_release);
	return &s->slot[used];
}
