/*
 * window.c: rings of recent decisions and their top counts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "policy.h"
#include "window.h"

struct window *
window_new(void)
{
	struct window *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->lock, NULL);
	return w;
}

void
window_free(struct window *w)
{
	if (w == NULL)
		return;
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void
window_add(struct window *w, const struct window_entry *e)
{
	pthread_mutex_lock(&w->lock);
	w->ring[w->next] = *e;
	w->next = (w->next + 1) % WINDOW_ENTRIES;
	if (w->count < WINDOW_ENTRIES)
		w->count++;
	pthread_mutex_unlock(&w->lock);
}

struct top_row {
	char		key[96];
	uint64_t	count;
	uint64_t	blocked;
};

static int
by_count(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int
by_key(const void *a, const void *b)
{
	return strcmp(((const struct top_row *)a)->key,
	    ((const struct top_row *)b)->key);
}

/* The key of an entry, or false when it has none (no country known). */
static bool
entry_key(const struct window_entry *e, enum window_key key, char *out,
    size_t len)
{
	switch (key) {
	case WINDOW_DEVICES:
		snprintf(out, len, "%s", e->client);
		return true;
	case WINDOW_NAMES:
		snprintf(out, len, "%s", e->name);
		return e->name[0] != '\0';
	case WINDOW_COUNTRIES:
		snprintf(out, len, "%s", e->cc);
		return e->cc[0] != '\0';
	case WINDOW_ASNS:
		snprintf(out, len, "AS%u", e->asn);
		return e->asn != 0;
	}
	return false;
}

void
window_top(struct window *const *w, size_t n_windows, enum window_key key,
    bool blocked, size_t n, uint32_t now, bool json, FILE *out)
{
	static const char *titles[] = { "device", "name", "country", "asn" };
	struct top_row *rows = xcalloc(n_windows * WINDOW_ENTRIES + 1,
	    sizeof(*rows));
	size_t n_rows = 0, merged = 0;

	for (size_t i = 0; i < n_windows; i++) {
		pthread_mutex_lock(&w[i]->lock);
		for (size_t k = 0; k < w[i]->count; k++) {
			const struct window_entry *e = &w[i]->ring[k];
			bool is_block = e->action == POLICY_BLOCK;
			if (now - e->t > WINDOW_SECONDS || (blocked &&
			    !is_block) || !entry_key(e, key,
			    rows[n_rows].key, sizeof(rows[n_rows].key)))
				continue;
			rows[n_rows].count = 1;
			rows[n_rows].blocked = is_block;
			n_rows++;
		}
		pthread_mutex_unlock(&w[i]->lock);
	}
	/* Merge equal keys, then order by count. */
	qsort(rows, n_rows, sizeof(*rows), by_key);
	for (size_t i = 0; i < n_rows; i++) {
		if (merged > 0 && strcmp(rows[merged - 1].key, rows[i].key) ==
		    0) {
			rows[merged - 1].count += rows[i].count;
			rows[merged - 1].blocked += rows[i].blocked;
		} else
			rows[merged++] = rows[i];
	}
	qsort(rows, merged, sizeof(*rows), by_count);
	if (merged > n)
		merged = n;
	if (json) {
		fputs("[", out);
		for (size_t i = 0; i < merged; i++) {
			fprintf(out, "%s{\"%s\":", i ? "," : "", titles[key]);
			json_fput_string(out, rows[i].key);
			fprintf(out, ",\"count\":%llu,\"blocked\":%llu}",
			    (unsigned long long)rows[i].count,
			    (unsigned long long)rows[i].blocked);
		}
		fputs("]\n", out);
	} else {
		fprintf(out, "%-40s %10s %10s\n", titles[key], "count",
		    "blocked");
		for (size_t i = 0; i < merged; i++)
			fprintf(out, "%-40s %10llu %10llu\n", rows[i].key,
			    (unsigned long long)rows[i].count,
			    (unsigned long long)rows[i].blocked);
	}
	free(rows);
}
