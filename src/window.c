/*
 * window.c: rings of recent decisions and their top counts.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
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

/* src into out (size bytes), cut to fit: snprintf's result, at a fraction
 * of its cost, which counted on every decision. */
static void
copy_text(char *out, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(out, src, n);
	out[n] = '\0';
}

void
window_entry_fill(struct window_entry *e, const struct verdict *v,
    const struct client_ident *ident, const char *name)
{
	e->action = (uint8_t)v->action;
	if (v->device != NULL)
		copy_text(e->client, sizeof(e->client), v->device);
	else
		seen_addr_from(ident->addr, &e->addr);	/* text when read */
	copy_text(e->name, sizeof(e->name), name);
	copy_text(e->group, sizeof(e->group), v->group);
	e->has_mac = ident->has_mac;
	memcpy(e->mac, ident->mac, sizeof(e->mac));
}

/* The client of an entry as text: its device, else its address. */
static void
entry_client(const struct window_entry *e, char *out, size_t len)
{
	struct sockaddr_storage ss;

	if (e->client[0] != '\0') {
		snprintf(out, len, "%s", e->client);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)e->addr.family;
	if (e->addr.family == AF_INET)
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, e->addr.bytes, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, e->addr.bytes,
		    16);
	addr_ntop((struct sockaddr *)&ss, out, len);
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
		entry_client(e, out, len);
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

/* Every entry of every window younger than the window, copied. */
static struct window_entry *
window_copy(struct window *const *w, size_t n_windows, uint32_t now,
    size_t *n)
{
	struct window_entry *all = xcalloc(n_windows * WINDOW_ENTRIES + 1,
	    sizeof(*all));

	*n = 0;
	for (size_t i = 0; i < n_windows; i++) {
		pthread_mutex_lock(&w[i]->lock);
		for (size_t k = 0; k < w[i]->count; k++)
			if (now - w[i]->ring[k].t <= WINDOW_SECONDS)
				all[(*n)++] = w[i]->ring[k];
		pthread_mutex_unlock(&w[i]->lock);
	}
	/* Addresses become text here, not when the decision was made. */
	for (size_t i = 0; i < *n; i++)
		if (all[i].client[0] == '\0')
			entry_client(&all[i], all[i].client,
			    sizeof(all[i].client));
	return all;
}

static int
by_client_then_time(const void *a, const void *b)
{
	const struct window_entry *x = a, *y = b;
	int c = strcmp(x->client, y->client);

	if (c != 0)
		return c;
	return x->t < y->t ? -1 : x->t > y->t;
}

/* Adds key to the small (key, count) table; at most max keys. */
static void
count_key(char keys[][16], unsigned *counts, size_t *n, size_t max,
    const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(keys[i], key) == 0) {
			counts[i]++;
			return;
		}
	if (*n < max) {
		snprintf(keys[*n], 16, "%s", key);
		counts[(*n)++] = 1;
	}
}

void
window_devices_json(struct window *const *w, size_t n_windows, uint32_t now,
    window_vendor_fn vendor_of, void *arg, FILE *out)
{
	size_t n, first = 0;
	struct window_entry *all = window_copy(w, n_windows, now, &n);
	bool any = false;

	qsort(all, n, sizeof(*all), by_client_then_time);
	fputs("[", out);
	while (first < n) {
		size_t last = first, n_cc = 0, n_as = 0;
		unsigned counts[3] = { 0 }, cc_n[16], as_n[16];
		char cc[16][16], as[16][16];
		const struct window_entry *newest;
		while (last < n && strcmp(all[last].client,
		    all[first].client) == 0) {
			const struct window_entry *e = &all[last++];
			if (e->action < 3)
				counts[e->action]++;
			if (e->cc[0] != '\0')
				count_key(cc, cc_n, &n_cc, 16, e->cc);
			if (e->asn != 0) {
				char key[16];
				snprintf(key, sizeof(key), "AS%u", e->asn);
				count_key(as, as_n, &n_as, 16, key);
			}
		}
		newest = &all[last - 1];
		fputs(any ? ",{\"device\":" : "{\"device\":", out);
		any = true;
		json_fput_string(out, newest->client);
		fputs(",\"group\":", out);
		json_fput_string(out, newest->group);
		if (newest->has_mac) {
			char mac[18];
			snprintf(mac, sizeof(mac),
			    "%02x:%02x:%02x:%02x:%02x:%02x", newest->mac[0],
			    newest->mac[1], newest->mac[2], newest->mac[3],
			    newest->mac[4], newest->mac[5]);
			fputs(",\"mac\":", out);
			json_fput_string(out, mac);
			fputs(",\"vendor\":", out);
			json_fput_string(out, vendor_of ? vendor_of(arg,
			    newest->mac) : NULL);
		}
		fprintf(out, ",\"count\":%zu,\"passed\":%u,\"logged\":%u,"
		    "\"blocked\":%u,\"last_seen_s\":%u,\"countries\":{",
		    last - first, counts[0], counts[1], counts[2],
		    now - newest->t);
		for (size_t i = 0; i < n_cc; i++) {
			fputs(i ? "," : "", out);
			json_fput_string(out, cc[i]);
			fprintf(out, ":%u", cc_n[i]);
		}
		fputs("},\"asns\":{", out);
		for (size_t i = 0; i < n_as; i++) {
			fputs(i ? "," : "", out);
			json_fput_string(out, as[i]);
			fprintf(out, ":%u", as_n[i]);
		}
		fputs("}}", out);
		first = last;
	}
	fputs("]\n", out);
	free(all);
}

void
window_recent_json(struct window *const *w, size_t n_windows,
    const char *device, size_t limit, uint32_t now, FILE *out)
{
	static const char *actions[] = { "pass", "log", "block" };
	size_t n, shown = 0;
	struct window_entry *all = window_copy(w, n_windows, now, &n);

	qsort(all, n, sizeof(*all), by_client_then_time);
	fputs("[", out);
	for (size_t i = n; i-- > 0 && shown < limit;) {
		const struct window_entry *e = &all[i];
		if (strcmp(e->client, device) != 0)
			continue;
		fputs(shown++ ? ",{\"kind\":" : "{\"kind\":", out);
		json_fput_string(out, e->kind ? "tls" : "dns");
		fputs(",\"name\":", out);
		json_fput_string(out, e->name);
		fprintf(out, ",\"action\":\"%s\",\"ago_s\":%u,\"cc\":",
		    e->action < 3 ? actions[e->action] : "pass", now - e->t);
		json_fput_string(out, e->cc[0] ? e->cc : NULL);
		fprintf(out, ",\"asn\":%u}", e->asn);
	}
	fputs("]\n", out);
	free(all);
}
