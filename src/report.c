/*
 * report.c: "hushctl report", a summary per device of hushd's event log
 * (DESIGN.md, "Event log"): lookups, what was blocked, where the answers
 * pointed (countries, networks), names reached over TLS or QUIC without a
 * lookup, and connections to addresses no lookup gave. Written as text, as
 * one JSON object, or as one HTML page that needs nothing else: inline CSS
 * and SVG, no scripts, nothing fetched.
 *
 * The log is hostile input. jansson parses each line; a line that is longer
 * than LINE_MAX_BYTES, is not a JSON object, or holds a field of the wrong
 * type is skipped and counted, never half-used. Every text from the log is
 * escaped for where it goes: control characters for the terminal, markup
 * for HTML. Memory is bounded: at most DEVICES_MAX devices, NAMES_MAX keys
 * per table of a device and ENTRIES_MAX keys over all (about 50 MB at
 * worst); what does not fit is counted in an "other" bucket.
 *
 * It reads one file once, in order: not rotated (.1, .gz) files, and it does
 * not follow a growing log.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "report.h"
#include "siphash.h"

#define DEFAULT_EVENTS	"/var/log/hushd/events.jsonl"
#define LINE_MAX_BYTES	(64 * 1024)	/* hushd's own lines stay below 4 KB */
#define KEY_MAX		255	/* longest name, address, device or org kept */
#define DEVICES_MAX	1000
#define NAMES_MAX	10000
#define COUNTRIES_MAX	300
#define ENTRIES_MAX	100000
#define TOP_BLOCKED	10
#define TOP_PLACES	10
#define TOP_HIDDEN	20

#define EX_USAGE	64
#define EX_NOINPUT	66
#define EX_IOERR	74
#define EX_CANTCREAT	73

/* The columns of a table of names. */
enum { COL_QUERIES, COL_BLOCKED, COL_CONNECTIONS, COL_COUNT };

struct tally_entry {
	struct tally_entry *next;
	uint64_t hash;
	long long n[COL_COUNT];
	long long rank;		/* the column being sorted by */
	char *note;		/* an ASN's org, an address's SNI */
	void *value;		/* a device's struct device */
	char key[];
};

/* Counts by string key, up to max keys; the rest go to other[]. */
struct tally {
	struct tally_entry **buckets;
	size_t n_buckets;
	size_t len;
	size_t max;
	long long other[COL_COUNT];
	bool full;
};

struct device {
	const char *name;
	bool other;		/* the bucket for devices beyond DEVICES_MAX */
	char *vendor;
	long long queries, blocked, logged;
	long long connections, connections_blocked, unresolved;
	long long addresses;	/* answer addresses of passed and logged queries */
	struct tally names;	/* qnames and SNIs, by COL_* */
	struct tally countries;	/* answer addresses by cc ("" unknown) */
	struct tally asns;	/* answer addresses by AS number ("" unknown) */
	struct tally destinations; /* unresolved connections by address */
};

struct report {
	uint64_t hash_key[2];
	struct tally devices;
	struct device *other_devices;
	size_t entries;
	long long now_ms, since_ms;	/* since_ms 0: the whole log */
	const char *since_text;
	long long first_ms, last_ms;
	long long lines, skipped, outside, events;
	const char *path;
	char *note;		/* said after the totals, or NULL */
};

enum event_kind { EVENT_DNS, EVENT_TLS, EVENT_QUIC };
enum event_action { ACTION_PASS, ACTION_LOG, ACTION_BLOCK, ACTION_OTHER };
enum line_status { LINE_EVENT, LINE_IGNORED, LINE_MALFORMED };

/* One event of the log, checked; strings point into the parsed line. */
struct event {
	enum event_kind kind;
	enum event_action action;
	long long ts_ms;
	char device[KEY_MAX + 1];
	const char *vendor;
	char name[KEY_MAX + 1];	/* qname or SNI, lower case; "" without */
	char dst[KEY_MAX + 1];	/* destination address without its port */
	bool unresolved;	/* "dns_seen":false */
	json_t *answers;
};

/* The rows of one section: the first n of a sorted table, and the rest. */
struct top {
	struct tally_entry **rows;
	size_t n;
	long long rest;		/* the column's sum over rows not shown */
	size_t rest_keys;	/* tracked keys not shown (not the other bucket) */
};

struct device_summary {
	struct device *d;
	struct top blocked, countries, asns, hidden, destinations;
};

/* ------------------------------------------------------------ tallies */

static void
tally_init(struct tally *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
}

static void
tally_grow(struct tally *t)
{
	size_t n = t->n_buckets ? t->n_buckets * 2 : 16;
	struct tally_entry **buckets = xcalloc(n, sizeof(*buckets));

	for (size_t b = 0; b < t->n_buckets; b++) {
		struct tally_entry *e, *next;
		for (e = t->buckets[b]; e != NULL; e = next) {
			next = e->next;
			e->next = buckets[e->hash & (n - 1)];
			buckets[e->hash & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = buckets;
	t->n_buckets = n;
}

/* The entry for key, made when there is room; NULL when there is none. */
static struct tally_entry *
tally_get(struct report *r, struct tally *t, const char *key)
{
	size_t len = strlen(key);
	uint64_t hash = siphash13(r->hash_key, key, len);
	struct tally_entry *e;

	if (t->n_buckets > 0)
		for (e = t->buckets[hash & (t->n_buckets - 1)]; e; e = e->next)
			if (e->hash == hash && strcmp(e->key, key) == 0)
				return e;
	if (t->len >= t->max || r->entries >= ENTRIES_MAX) {
		t->full = true;
		return NULL;
	}
	if (t->len >= t->n_buckets)
		tally_grow(t);
	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	e->hash = hash;
	e->next = t->buckets[hash & (t->n_buckets - 1)];
	t->buckets[hash & (t->n_buckets - 1)] = e;
	t->len++;
	r->entries++;
	return e;
}

/* Adds to key's column, or to the other bucket; returns the entry or NULL. */
static struct tally_entry *
tally_add(struct report *r, struct tally *t, const char *key, int column)
{
	struct tally_entry *e = tally_get(r, t, key);

	if (e != NULL)
		e->n[column]++;
	else
		t->other[column]++;
	return e;
}

static void
tally_free(struct tally *t)
{
	for (size_t b = 0; b < t->n_buckets; b++) {
		struct tally_entry *e, *next;
		for (e = t->buckets[b]; e != NULL; e = next) {
			next = e->next;
			free(e->note);
			free(e);
		}
	}
	free(t->buckets);
}

static int
compare_rank(const void *a, const void *b)
{
	const struct tally_entry *x = *(struct tally_entry *const *)a;
	const struct tally_entry *y = *(struct tally_entry *const *)b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return strcmp(x->key, y->key);
}

/*
 * The limit rows with the most in column, most first, ties by key. With
 * hidden, only names that were never a query (SNIs of TLS or QUIC); the
 * other bucket is then left out, since it cannot tell.
 */
static void
top_make(const struct tally *t, int column, bool hidden, size_t limit,
    struct top *out)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->rows = xcalloc(t->len ? t->len : 1, sizeof(*out->rows));
	for (size_t b = 0; b < t->n_buckets; b++)
		for (struct tally_entry *e = t->buckets[b]; e; e = e->next) {
			if (e->n[column] <= 0 ||
			    (hidden && e->n[COL_QUERIES] > 0))
				continue;
			e->rank = e->n[column];
			out->rows[n++] = e;
		}
	qsort(out->rows, n, sizeof(*out->rows), compare_rank);
	out->n = n < limit ? n : limit;
	for (size_t i = out->n; i < n; i++)
		out->rest += out->rows[i]->n[column];
	out->rest_keys = n - out->n;
	if (!hidden)
		out->rest += t->other[column];
}

/* ------------------------------------------------------------ devices */

static struct device *
device_new(const char *name, bool other)
{
	struct device *d = xcalloc(1, sizeof(*d));

	d->name = name;
	d->other = other;
	tally_init(&d->names, NAMES_MAX);
	tally_init(&d->countries, COUNTRIES_MAX);
	tally_init(&d->asns, NAMES_MAX);
	tally_init(&d->destinations, NAMES_MAX);
	return d;
}

static void
device_free(struct device *d)
{
	if (d == NULL)
		return;
	free(d->vendor);
	tally_free(&d->names);
	tally_free(&d->countries);
	tally_free(&d->asns);
	tally_free(&d->destinations);
	free(d);
}

static struct device *
device_get(struct report *r, const char *key)
{
	struct tally_entry *e = tally_get(r, &r->devices, key);

	if (e == NULL) {
		if (r->other_devices == NULL)
			r->other_devices = device_new("other devices", true);
		return r->other_devices;
	}
	if (e->value == NULL)
		e->value = device_new(e->key, false);
	return e->value;
}

static void
device_summarize(struct device *d, struct device_summary *s)
{
	s->d = d;
	top_make(&d->names, COL_BLOCKED, false, TOP_BLOCKED, &s->blocked);
	top_make(&d->countries, 0, false, TOP_PLACES, &s->countries);
	top_make(&d->asns, 0, false, TOP_PLACES, &s->asns);
	top_make(&d->names, COL_CONNECTIONS, true, TOP_HIDDEN, &s->hidden);
	top_make(&d->destinations, 0, false, TOP_HIDDEN, &s->destinations);
}

static void
device_summary_free(struct device_summary *s)
{
	free(s->blocked.rows);
	free(s->countries.rows);
	free(s->asns.rows);
	free(s->hidden.rows);
	free(s->destinations.rows);
}

static int
compare_devices(const void *a, const void *b)
{
	const struct device *x = ((const struct device_summary *)a)->d;
	const struct device *y = ((const struct device_summary *)b)->d;

	if (x->other != y->other)
		return x->other ? 1 : -1;
	if (x->queries != y->queries)
		return x->queries > y->queries ? -1 : 1;
	if (x->connections != y->connections)
		return x->connections > y->connections ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Every device, busiest first, the other bucket last; *n set. */
static struct device_summary *
report_summarize(struct report *r, size_t *n)
{
	struct device_summary *s = xcalloc(r->devices.len + 1, sizeof(*s));
	size_t k = 0;

	for (size_t b = 0; b < r->devices.n_buckets; b++)
		for (struct tally_entry *e = r->devices.buckets[b]; e;
		    e = e->next)
			device_summarize(e->value, &s[k++]);
	if (r->other_devices != NULL)
		device_summarize(r->other_devices, &s[k++]);
	qsort(s, k, sizeof(*s), compare_devices);
	*n = k;
	return s;
}

/* ------------------------------------------------------------ time */

static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static bool
take_digits(const char **s, int n, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return false;
		*out = *out * 10 + (unsigned)(**s - '0');
	}
	return true;
}

static bool
take_char(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

/* "2026-11-25T14:35:16.123Z" (fraction optional) as ms since the epoch. */
static bool
parse_ts(const char *s, long long *ms)
{
	unsigned y, mo, d, h, mi, sec, frac = 0, digits = 0;

	if (!take_digits(&s, 4, &y) || !take_char(&s, '-') ||
	    !take_digits(&s, 2, &mo) || !take_char(&s, '-') ||
	    !take_digits(&s, 2, &d) || !take_char(&s, 'T') ||
	    !take_digits(&s, 2, &h) || !take_char(&s, ':') ||
	    !take_digits(&s, 2, &mi) || !take_char(&s, ':') ||
	    !take_digits(&s, 2, &sec))
		return false;
	if (take_char(&s, '.'))
		for (; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				frac = frac * 10 + (unsigned)(*s - '0');
	if (digits > 9 || (digits == 0 && s[-1] == '.') ||
	    !take_char(&s, 'Z') || *s != '\0')
		return false;
	for (; digits < 3; digits++)
		frac *= 10;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return false;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) *
	    1000) + frac;
	return true;
}

/* "30m", "24h", "7d": a positive count of s, m, h, d or w. */
static bool
parse_duration(const char *s, long long *ms)
{
	static const struct { char unit; long long ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 },
		{ 'd', 86400000 }, { 'w', 604800000 },
	};
	long long n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > 1000000000)
			return false;
	}
	if (p == s || n == 0 || p[0] == '\0' || p[1] != '\0')
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == *p) {
			*ms = n * units[i].ms;
			return true;
		}
	return false;
}

/* "2026-11-25 14:35" for people, or "2026-11-25T14:35:16" for JSON. */
static void
format_ts(long long ms, bool iso, char *buf, size_t size)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    (iso ? strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) :
	    strftime(buf, size, "%Y-%m-%d %H:%M", &tm)) == 0)
		snprintf(buf, size, "?");
}

/* The period covered: the --since window, else the first to last event. */
static bool
report_period(const struct report *r, long long *from, long long *to)
{
	if (r->since_ms > 0) {
		*from = r->now_ms - r->since_ms;
		*to = r->now_ms;
		return true;
	}
	*from = r->first_ms;
	*to = r->last_ms;
	return r->events > 0;
}

/* The period as "2026-11-25 14:35" twice, for people; false: no events. */
static bool
report_period_text(const struct report *r, char from[32], char to[32])
{
	long long first, last;

	if (!report_period(r, &first, &last))
		return false;
	format_ts(first, false, from, 32);
	format_ts(last, false, to, 32);
	return true;
}

/* ------------------------------------------------------------ reading */

/* A string field, absent or null as NULL; false when of another type. */
static bool
field_string(json_t *obj, const char *key, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v))
		return false;
	*out = json_string_value(v);
	return true;
}

/* A string field of at most KEY_MAX bytes, absent as NULL. */
static bool
field_short(json_t *obj, const char *key, const char **out)
{
	return field_string(obj, key, out) &&
	    (*out == NULL || strlen(*out) <= KEY_MAX);
}

/* Copies a DNS name in lower case, without its final dot. */
static void
copy_name(char dst[KEY_MAX + 1], const char *src)
{
	size_t len = strlen(src);

	if (len > 1 && src[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ?
		    src[i] - 'A' + 'a' : src[i]);
	dst[len] = '\0';
}

/* "203.0.113.7:443" and "[2001:db8::1]:443" without their port. */
static void
copy_address(char dst[KEY_MAX + 1], const char *src)
{
	const char *end = NULL;

	if (src[0] == '[' && (end = strchr(src, ']')) != NULL)
		src++;
	else if ((end = strchr(src, ':')) != NULL && strchr(end + 1, ':'))
		end = NULL;	/* an IPv6 address without a port */
	size_t len = end != NULL ? (size_t)(end - src) : strlen(src);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool
answers_valid(json_t *answers)
{
	size_t i;
	json_t *a;
	const char *s;

	if (!json_is_array(answers))
		return false;
	json_array_foreach(answers, i, a) {
		json_t *asn = json_object_get(a, "asn");
		if (!json_is_object(a) || !field_short(a, "ip", &s) ||
		    !field_short(a, "cc", &s) || !field_short(a, "org", &s))
			return false;
		if (asn != NULL && !json_is_null(asn) &&
		    (!json_is_integer(asn) || json_integer_value(asn) < 0 ||
		    json_integer_value(asn) > UINT32_MAX))
			return false;
	}
	return true;
}

/* Checks one parsed line and fills ev from it. */
static enum line_status
event_read(json_t *root, struct event *ev)
{
	const char *ts, *kind, *device, *client, *mac, *action, *name, *dst;
	json_t *dns_seen;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(root) || !field_string(root, "ts", &ts) ||
	    ts == NULL || !parse_ts(ts, &ev->ts_ms) ||
	    !field_string(root, "event", &kind) || kind == NULL)
		return LINE_MALFORMED;
	if (strcmp(kind, "dns") == 0)
		ev->kind = EVENT_DNS;
	else if (strcmp(kind, "tls") == 0)
		ev->kind = EVENT_TLS;
	else if (strcmp(kind, "quic") == 0)
		ev->kind = EVENT_QUIC;
	else
		return LINE_IGNORED;

	if (!field_short(root, "device", &device) ||
	    !field_short(root, "client", &client) ||
	    !field_short(root, "mac", &mac) ||
	    !field_short(root, "vendor", &ev->vendor) ||
	    !field_string(root, "action", &action))
		return LINE_MALFORMED;
	/* A device without a name is its MAC (one for its IPv4 and IPv6). */
	if (device == NULL || device[0] == '\0')
		device = mac;
	if (device == NULL || device[0] == '\0')
		device = client;
	if (device == NULL || device[0] == '\0')
		return LINE_MALFORMED;
	memcpy(ev->device, device, strlen(device) + 1);
	if (action == NULL || strcmp(action, "pass") == 0)
		ev->action = ACTION_PASS;
	else if (strcmp(action, "log") == 0)
		ev->action = ACTION_LOG;
	else if (strcmp(action, "block") == 0)
		ev->action = ACTION_BLOCK;
	else
		ev->action = ACTION_OTHER;

	if (ev->kind == EVENT_DNS) {
		if (!field_short(root, "qname", &name) || name == NULL ||
		    name[0] == '\0')
			return LINE_MALFORMED;
		copy_name(ev->name, name);
		ev->answers = json_object_get(root, "answers");
		if (ev->answers != NULL && !answers_valid(ev->answers))
			return LINE_MALFORMED;
		return LINE_EVENT;
	}
	dns_seen = json_object_get(root, "dns_seen");
	if (!field_short(root, "sni", &name) ||
	    !field_short(root, "dst", &dst) ||
	    (dns_seen != NULL && !json_is_boolean(dns_seen)))
		return LINE_MALFORMED;
	if (name != NULL)
		copy_name(ev->name, name);
	if (dst != NULL)
		copy_address(ev->dst, dst);
	ev->unresolved = dns_seen != NULL && json_is_false(dns_seen);
	return LINE_EVENT;
}

static void
add_answers(struct report *r, struct device *d, json_t *answers)
{
	size_t i;
	json_t *a;

	json_array_foreach(answers, i, a) {
		const char *cc = json_string_value(json_object_get(a, "cc"));
		const char *org = json_string_value(json_object_get(a, "org"));
		json_t *asn = json_object_get(a, "asn");
		char key[24] = "";
		struct tally_entry *e;

		d->addresses++;
		tally_add(r, &d->countries, cc != NULL ? cc : "", 0);
		if (json_is_integer(asn) && json_integer_value(asn) > 0)
			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(asn));
		e = tally_add(r, &d->asns, key, 0);
		if (e != NULL && e->note == NULL && org != NULL && org[0])
			e->note = xstrdup(org);
	}
}

static void
report_add(struct report *r, const struct event *ev)
{
	struct device *d = device_get(r, ev->device);
	struct tally_entry *e;

	if (d->vendor == NULL && ev->vendor != NULL && ev->vendor[0] != '\0')
		d->vendor = xstrdup(ev->vendor);
	if (ev->kind == EVENT_DNS) {
		d->queries++;
		d->blocked += ev->action == ACTION_BLOCK;
		d->logged += ev->action == ACTION_LOG;
		e = tally_add(r, &d->names, ev->name, COL_QUERIES);
		if (ev->action == ACTION_BLOCK) {
			if (e != NULL)
				e->n[COL_BLOCKED]++;
			else
				d->names.other[COL_BLOCKED]++;
		} else if (ev->answers != NULL)
			/* A blocked answer is hushd's own, not a destination. */
			add_answers(r, d, ev->answers);
		return;
	}
	d->connections++;
	d->connections_blocked += ev->action == ACTION_BLOCK;
	if (ev->name[0] != '\0')
		tally_add(r, &d->names, ev->name, COL_CONNECTIONS);
	if (ev->unresolved) {
		d->unresolved++;
		e = tally_add(r, &d->destinations,
		    ev->dst[0] ? ev->dst : "unknown", 0);
		if (e != NULL && e->note == NULL && ev->name[0] != '\0')
			e->note = xstrdup(ev->name);
	}
}

static void
report_line(struct report *r, const char *line, size_t len)
{
	json_error_t error;
	json_t *root;
	struct event ev;

	r->lines++;
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL) {
		r->skipped++;
		return;
	}
	switch (event_read(root, &ev)) {
	case LINE_MALFORMED:
		r->skipped++;
		break;
	case LINE_IGNORED:
		break;
	case LINE_EVENT:
		if (r->since_ms > 0 && (ev.ts_ms < r->now_ms - r->since_ms ||
		    ev.ts_ms > r->now_ms)) {
			r->outside++;
			break;
		}
		if (r->events == 0 || ev.ts_ms < r->first_ms)
			r->first_ms = ev.ts_ms;
		if (r->events == 0 || ev.ts_ms > r->last_ms)
			r->last_ms = ev.ts_ms;
		r->events++;
		report_add(r, &ev);
		break;
	}
	json_decref(root);
}

/*
 * Reads the log line by line. A line longer than LINE_MAX_BYTES is read
 * to its end without being kept, and counted as skipped.
 */
static bool
report_read(struct report *r, FILE *f)
{
	char *line = xmalloc(LINE_MAX_BYTES);
	size_t len = 0;
	bool too_long = false, blank = true;
	int c;

	for (;;) {
		c = getc_unlocked(f);
		if (c != '\n' && c != EOF) {
			if (len < LINE_MAX_BYTES)
				line[len++] = (char)c;
			else
				too_long = true;
			if (c != ' ' && c != '\t' && c != '\r')
				blank = false;
			continue;
		}
		if (too_long) {
			r->lines++;
			r->skipped++;
		} else if (!blank)
			report_line(r, line, len);
		len = 0;
		too_long = false;
		blank = true;
		if (c == EOF)
			break;
	}
	free(line);
	return !ferror(f);
}

static void
report_clear(struct report *r)
{
	for (size_t b = 0; b < r->devices.n_buckets; b++)
		for (struct tally_entry *e = r->devices.buckets[b]; e;
		    e = e->next)
			device_free(e->value);
	tally_free(&r->devices);
	device_free(r->other_devices);
	free(r->note);
}

/* ------------------------------------------------------------ output */

static long long
percent(long long part, long long whole)
{
	return whole > 0 ? (part * 100 + whole / 2) / whole : 0;
}

static const char *
plural(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/*
 * Log text for a terminal: C0 and C1 control characters (which could move
 * the cursor or retitle the window) are shown as \xNN and \u00NN.
 */
static const char *
text_clean(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (size - o < 8)
			break;
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			o += (size_t)snprintf(buf + o, size - o, "\\u00%02x",
			    p[1]);
			p++;
		} else
			buf[o++] = (char)*p;
	}
	buf[o] = '\0';
	return buf;
}

#define CLEAN_MAX	(KEY_MAX * 6 + 8)

static const char *
asn_label(const char *key, char *buf, size_t size)
{
	if (key[0] == '\0')
		return "unknown";
	snprintf(buf, size, "AS%s", key);
	return buf;
}

struct totals {
	long long queries, blocked, logged;
	long long connections, connections_blocked, unresolved;
};

static void
report_totals(const struct device_summary *s, size_t n, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t->queries += s[i].d->queries;
		t->blocked += s[i].d->blocked;
		t->logged += s[i].d->logged;
		t->connections += s[i].d->connections;
		t->connections_blocked += s[i].d->connections_blocked;
		t->unresolved += s[i].d->unresolved;
	}
}

/* ---------------------------------------------------------------- text */

/* A section of counted keys (with their note), and the rest; none if empty. */
static void
text_counts(FILE *f, const char *heading, const struct top *t, int column,
    const char *rest)
{
	char clean[CLEAN_MAX];

	if (t->n == 0)
		return;
	fprintf(f, "  %s:\n", heading);
	for (size_t i = 0; i < t->n; i++) {
		const struct tally_entry *e = t->rows[i];
		fprintf(f, "    %6lld  %s", e->n[column],
		    text_clean(e->key, clean, sizeof(clean)));
		if (e->note != NULL)
			fprintf(f, "  (%s)", text_clean(e->note, clean,
			    sizeof(clean)));
		fputc('\n', f);
	}
	if (t->rest > 0)
		fprintf(f, "    %6lld  (%s)\n", t->rest, rest);
}

static void
text_places(FILE *f, const struct device *d, const struct top *t,
    bool asns)
{
	char clean[CLEAN_MAX], label[32];

	for (size_t i = 0; i < t->n; i++) {
		const struct tally_entry *e = t->rows[i];
		const char *name = asns ? asn_label(e->key, label,
		    sizeof(label)) : e->key[0] ? e->key : "unknown";
		fprintf(f, "    %-10s %3lld%%  ", text_clean(name, clean,
		    sizeof(clean)), percent(e->n[0], d->addresses));
		if (e->note != NULL)
			fprintf(f, "%s ", text_clean(e->note, clean,
			    sizeof(clean)));
		fprintf(f, "(%lld %s)\n", e->n[0],
		    plural(e->n[0], "address", "addresses"));
	}
	if (t->rest > 0)
		fprintf(f, "    %-10s %3lld%%  (%lld %s)\n", "other",
		    percent(t->rest, d->addresses), t->rest,
		    plural(t->rest, "address", "addresses"));
}

static void
text_device(FILE *f, const struct device_summary *s)
{
	const struct device *d = s->d;
	char clean[CLEAN_MAX];

	fprintf(f, "\n%s", d->other ? "(other devices)" :
	    text_clean(d->name, clean, sizeof(clean)));
	if (d->vendor != NULL)
		fprintf(f, " (%s)", text_clean(d->vendor, clean,
		    sizeof(clean)));
	fprintf(f, "\n  DNS queries: %lld, blocked %lld (%lld%%), logged %lld\n",
	    d->queries, d->blocked, percent(d->blocked, d->queries),
	    d->logged);
	fprintf(f, "  TLS/QUIC connections: %lld, blocked %lld, to unresolved "
	    "addresses %lld\n", d->connections, d->connections_blocked,
	    d->unresolved);
	text_counts(f, "Top blocked names", &s->blocked, COL_BLOCKED,
	    "other names");
	if (d->addresses > 0) {
		fprintf(f, "  Where answers pointed (countries, share of %lld "
		    "%s):\n", d->addresses,
		    plural(d->addresses, "address", "addresses"));
		text_places(f, d, &s->countries, false);
		fprintf(f, "  Networks answers pointed to (ASNs):\n");
		text_places(f, d, &s->asns, true);
	}
	text_counts(f, "Names seen only over TLS/QUIC (never looked up "
	    "through hushd)", &s->hidden, COL_CONNECTIONS, "other names");
	text_counts(f, "Connections to addresses no lookup gave",
	    &s->destinations, 0, "other addresses");
	if (d->names.full)
		fprintf(f, "  (more than %d names: the rest are counted as "
		    "\"other\")\n", NAMES_MAX);
}

static void
report_text(struct report *r, FILE *f)
{
	size_t n;
	struct device_summary *s = report_summarize(r, &n);
	struct totals t;
	char a[32], b[32];

	report_totals(s, n, &t);
	if (report_period_text(r, a, b)) {
		fprintf(f, "hushd report, %s to %s UTC", a, b);
		if (r->since_text != NULL)
			fprintf(f, " (the last %s)", r->since_text);
		fputc('\n', f);
	} else
		fprintf(f, "hushd report: no events\n");
	fprintf(f, "%zu %s: %lld DNS queries (%lld blocked, %lld logged), "
	    "%lld TLS/QUIC connections (%lld blocked, %lld to unresolved "
	    "addresses)\n", n, plural((long long)n, "device", "devices"),
	    t.queries, t.blocked, t.logged, t.connections,
	    t.connections_blocked, t.unresolved);
	if (r->skipped > 0)
		fprintf(f, "%lld %s skipped (not valid hushd events)\n",
		    r->skipped, plural(r->skipped, "line", "lines"));
	if (r->note != NULL)
		fprintf(f, "%s\n", r->note);
	for (size_t i = 0; i < n; i++) {
		text_device(f, &s[i]);
		device_summary_free(&s[i]);
	}
	free(s);
}

/* ---------------------------------------------------------------- JSON */

/* A JSON string, or null (also for text jansson would not take). */
static json_t *
json_text(const char *s)
{
	json_t *v = s != NULL ? json_string(s) : NULL;

	return v != NULL ? v : json_null();
}

static void
json_put(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new(obj, key, value != NULL ? value : json_null());
}

static json_t *
json_names(const struct top *t, int column, const char *count_key)
{
	json_t *list = json_array();

	for (size_t i = 0; i < t->n; i++) {
		json_t *row = json_object();
		json_put(row, "name", json_text(t->rows[i]->key));
		json_put(row, count_key, json_integer(t->rows[i]->n[column]));
		json_array_append_new(list, row);
	}
	return list;
}

static json_t *
json_places(const struct device *d, const struct top *t, bool asns)
{
	json_t *list = json_array();

	for (size_t i = 0; i < t->n; i++) {
		const struct tally_entry *e = t->rows[i];
		json_t *row = json_object();
		if (!asns)
			json_put(row, "cc", json_text(e->key[0] ? e->key :
			    NULL));
		else {
			json_put(row, "asn", e->key[0] ?
			    json_integer(strtoll(e->key, NULL, 10)) :
			    json_null());
			json_put(row, "org", json_text(e->note));
		}
		json_put(row, "addresses", json_integer(e->n[0]));
		json_put(row, "percent", json_integer(percent(e->n[0],
		    d->addresses)));
		json_array_append_new(list, row);
	}
	return list;
}

static json_t *
json_device(const struct device_summary *s)
{
	const struct device *d = s->d;
	json_t *o = json_object(), *list = json_array();

	json_put(o, "device", json_text(d->name));
	json_put(o, "other_devices", json_boolean(d->other));
	json_put(o, "vendor", json_text(d->vendor));
	json_put(o, "queries", json_integer(d->queries));
	json_put(o, "blocked", json_integer(d->blocked));
	json_put(o, "logged", json_integer(d->logged));
	json_put(o, "connections", json_integer(d->connections));
	json_put(o, "connections_blocked",
	    json_integer(d->connections_blocked));
	json_put(o, "unresolved", json_integer(d->unresolved));
	json_put(o, "addresses", json_integer(d->addresses));
	json_put(o, "top_blocked", json_names(&s->blocked, COL_BLOCKED,
	    "count"));
	json_put(o, "top_blocked_rest", json_integer(s->blocked.rest));
	json_put(o, "countries", json_places(d, &s->countries, false));
	json_put(o, "countries_rest", json_integer(s->countries.rest));
	json_put(o, "asns", json_places(d, &s->asns, true));
	json_put(o, "asns_rest", json_integer(s->asns.rest));
	json_put(o, "tls_only", json_names(&s->hidden, COL_CONNECTIONS,
	    "connections"));
	json_put(o, "tls_only_rest", json_integer(s->hidden.rest));
	for (size_t i = 0; i < s->destinations.n; i++) {
		const struct tally_entry *e = s->destinations.rows[i];
		json_t *row = json_object();
		json_put(row, "address", json_text(e->key));
		json_put(row, "connections", json_integer(e->n[0]));
		json_put(row, "sni", json_text(e->note));
		json_array_append_new(list, row);
	}
	json_put(o, "unresolved_destinations", list);
	json_put(o, "unresolved_destinations_rest",
	    json_integer(s->destinations.rest));
	json_put(o, "names_capped", json_boolean(d->names.full));
	return o;
}

static json_t *
json_ts(long long ms)
{
	char buf[40], out[48];

	format_ts(ms, true, buf, sizeof(buf));
	snprintf(out, sizeof(out), "%s.%03lldZ", buf,
	    ((ms % 1000) + 1000) % 1000);
	return json_string(out);
}

static int
report_json(struct report *r, FILE *f)
{
	size_t n;
	struct device_summary *s = report_summarize(r, &n);
	struct totals t;
	long long from, to;
	json_t *root = json_object(), *period = json_object(),
	    *totals = json_object(), *devices = json_array();
	int status = 0;

	report_totals(s, n, &t);
	if (report_period(r, &from, &to)) {
		json_put(period, "from", json_ts(from));
		json_put(period, "to", json_ts(to));
	} else {
		json_put(period, "from", json_null());
		json_put(period, "to", json_null());
	}
	json_put(period, "since", json_text(r->since_text));
	if (r->note != NULL)
		json_put(root, "note", json_text(r->note));
	json_put(root, "period", period);
	json_put(root, "events_file", json_text(r->path));
	json_put(root, "lines", json_integer(r->lines));
	json_put(root, "skipped", json_integer(r->skipped));
	json_put(root, "outside_period", json_integer(r->outside));
	json_put(root, "events", json_integer(r->events));
	json_put(totals, "devices", json_integer((json_int_t)n));
	json_put(totals, "queries", json_integer(t.queries));
	json_put(totals, "blocked", json_integer(t.blocked));
	json_put(totals, "logged", json_integer(t.logged));
	json_put(totals, "connections", json_integer(t.connections));
	json_put(totals, "connections_blocked",
	    json_integer(t.connections_blocked));
	json_put(totals, "unresolved", json_integer(t.unresolved));
	json_put(root, "totals", totals);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(devices, json_device(&s[i]));
		device_summary_free(&s[i]);
	}
	free(s);
	json_put(root, "devices", devices);
	if (json_dumpf(root, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF)
		status = EX_IOERR;
	json_decref(root);
	return status;
}

/* ---------------------------------------------------------------- HTML */

#define BAR_WIDTH	320
#define COLOR_BLOCKED	"#c0392b"
#define COLOR_LOGGED	"#d68910"
#define COLOR_PASSED	"#2e8b57"
#define COLOR_SHARE	"#3b6ea5"
#define COLOR_TRACK	"#e6e6e6"

static const char html_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
    "max-width:62em;margin:2em auto;padding:0 1em;color:#222;"
    "background:#fff;line-height:1.4}\n"
    "h1{margin-bottom:.2em}\n"
    "h2{margin-top:1.6em;border-bottom:2px solid #ddd;padding-bottom:.2em}\n"
    "h3{margin:1.2em 0 .3em;font-size:1.05em}\n"
    ".vendor{font-weight:normal;color:#666;font-size:.8em}\n"
    ".explain,.note,footer{color:#555;font-size:.9em;margin:.2em 0 .5em}\n"
    "table{border-collapse:collapse}\n"
    "td,th{padding:.15em .8em .15em 0;text-align:left;vertical-align:middle}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.name{word-break:break-all;min-width:14em;max-width:28em}\n"
    ".key{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .8em;"
    "vertical-align:-.1em}\n"
    "section{margin-bottom:2em}\n";

/* Text from the log in HTML: markup escaped, control characters dropped. */
static void
html_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if (*p >= 0x20 && *p != 0x7f)
				fputc(*p, f);
			else
				fputs("&#xfffd;", f);
		}
}

/* A bar of BAR_WIDTH: the parts, in order, of whole, each in its color. */
static void
html_bar(FILE *f, const long long *parts, const char *const *colors,
    size_t n, long long whole)
{
	long long x = 0;

	fprintf(f, "<svg width=\"%d\" height=\"16\" viewBox=\"0 0 %d 16\" "
	    "role=\"img\" aria-hidden=\"true\"><rect width=\"%d\" "
	    "height=\"16\" fill=\"" COLOR_TRACK "\"/>", BAR_WIDTH, BAR_WIDTH,
	    BAR_WIDTH);
	for (size_t i = 0; i < n && whole > 0; i++) {
		long long w = (parts[i] * BAR_WIDTH + whole / 2) / whole;
		if (w == 0 && parts[i] > 0)
			w = 1;	/* a part too small to see still shows */
		if (w > BAR_WIDTH - x)
			w = BAR_WIDTH - x;
		if (w == 0)
			continue;
		fprintf(f, "<rect x=\"%lld\" width=\"%lld\" height=\"16\" "
		    "fill=\"%s\"/>", x, w, colors[i]);
		x += w;
	}
	fputs("</svg>", f);
}

static void
html_share_bar(FILE *f, long long part, long long whole)
{
	static const char *const color[] = { COLOR_SHARE };

	html_bar(f, &part, color, 1, whole);
}

static void
html_verdict_bar(FILE *f, const struct device *d)
{
	static const char *const colors[] = {
		COLOR_BLOCKED, COLOR_LOGGED, COLOR_PASSED
	};
	long long parts[] = {
		d->blocked, d->logged, d->queries - d->blocked - d->logged
	};

	html_bar(f, parts, colors, 3, d->queries);
}

static void
html_legend(FILE *f)
{
	fputs("<p class=\"note\">"
	    "<span class=\"key\" style=\"background:" COLOR_BLOCKED "\"></span>"
	    "blocked"
	    "<span class=\"key\" style=\"background:" COLOR_LOGGED "\"></span>"
	    "allowed but noted (logged)"
	    "<span class=\"key\" style=\"background:" COLOR_PASSED "\"></span>"
	    "allowed</p>\n", f);
}

static void
html_device_name(FILE *f, const struct device *d)
{
	if (d->other)
		fputs("Other devices", f);
	else
		html_text(f, d->name);
}

/* Rows of keys (with their note) and counts, with bars against the most. */
static void
html_names(FILE *f, const struct top *t, int column, const char *rest)
{
	long long most = t->n > 0 ? t->rows[0]->n[column] : 0;

	fputs("<table>\n", f);
	for (size_t i = 0; i < t->n; i++) {
		fputs("<tr><td class=\"name\">", f);
		html_text(f, t->rows[i]->key);
		if (t->rows[i]->note != NULL) {
			fputs(" (", f);
			html_text(f, t->rows[i]->note);
			fputs(")", f);
		}
		fprintf(f, "</td><td class=\"n\">%lld</td><td>",
		    t->rows[i]->n[column]);
		html_share_bar(f, t->rows[i]->n[column], most);
		fputs("</td></tr>\n", f);
	}
	if (t->rest > 0)
		fprintf(f, "<tr><td class=\"name\"><i>%s</i></td>"
		    "<td class=\"n\">%lld</td><td></td></tr>\n", rest, t->rest);
	fputs("</table>\n", f);
}

static void
html_places(FILE *f, const struct device *d, const struct top *t,
    bool asns)
{
	char label[32];

	fputs("<table>\n", f);
	for (size_t i = 0; i < t->n; i++) {
		const struct tally_entry *e = t->rows[i];
		fputs("<tr><td class=\"name\">", f);
		html_text(f, asns ? asn_label(e->key, label, sizeof(label)) :
		    e->key[0] ? e->key : "unknown");
		if (asns && e->note != NULL) {
			fputs(" ", f);
			html_text(f, e->note);
		}
		fprintf(f, "</td><td class=\"n\">%lld%%</td><td>",
		    percent(e->n[0], d->addresses));
		html_share_bar(f, e->n[0], d->addresses);
		fputs("</td></tr>\n", f);
	}
	if (t->rest > 0) {
		fprintf(f, "<tr><td class=\"name\"><i>other</i></td>"
		    "<td class=\"n\">%lld%%</td><td>",
		    percent(t->rest, d->addresses));
		html_share_bar(f, t->rest, d->addresses);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_device(FILE *f, const struct device_summary *s)
{
	const struct device *d = s->d;

	fputs("<section>\n<h2>", f);
	html_device_name(f, d);
	if (d->vendor != NULL) {
		fputs(" <span class=\"vendor\">", f);
		html_text(f, d->vendor);
		fputs("</span>", f);
	}
	fprintf(f, "</h2>\n<p>%lld DNS %s: %lld blocked, %lld allowed but "
	    "noted, %lld allowed. %lld encrypted %s (TLS or QUIC), %lld of "
	    "them blocked.</p>\n", d->queries, plural(d->queries, "lookup",
	    "lookups"), d->blocked, d->logged,
	    d->queries - d->blocked - d->logged, d->connections,
	    plural(d->connections, "connection", "connections"),
	    d->connections_blocked);
	html_verdict_bar(f, d);

	fputs("\n<h3>Blocked</h3>\n", f);
	if (s->blocked.n == 0)
		fputs("<p class=\"explain\">Nothing was blocked.</p>\n", f);
	else {
		fputs("<p class=\"explain\">Names this device asked for that "
		    "hushd refused to answer, most asked first.</p>\n", f);
		html_names(f, &s->blocked, COL_BLOCKED, "other names");
	}

	fputs("<h3>Where answers pointed (countries)</h3>\n", f);
	if (d->addresses == 0)
		fputs("<p class=\"explain\">No addresses were given to this "
		    "device.</p>\n", f);
	else {
		fprintf(f, "<p class=\"explain\">Share of the %lld %s hushd "
		    "gave this device, by the country the address is in."
		    "</p>\n", d->addresses, plural(d->addresses, "address",
		    "addresses"));
		html_places(f, d, &s->countries, false);
		fputs("<h3>Where answers pointed (networks)</h3>\n"
		    "<p class=\"explain\">The same addresses by the network "
		    "(autonomous system) that owns them.</p>\n", f);
		html_places(f, d, &s->asns, true);
	}

	fputs("<h3>Names reached without asking hushd</h3>\n", f);
	if (s->hidden.n == 0)
		fputs("<p class=\"explain\">None: every encrypted connection "
		    "went to a name this device looked up.</p>\n", f);
	else {
		fputs("<p class=\"explain\">Encrypted connections to these "
		    "names were never looked up through hushd: the device may "
		    "use its own DNS (such as DNS over HTTPS) or addresses "
		    "built into it.</p>\n", f);
		html_names(f, &s->hidden, COL_CONNECTIONS, "other names");
	}

	fputs("<h3>Connections to addresses never looked up</h3>\n", f);
	if (s->destinations.n == 0)
		fputs("<p class=\"explain\">None.</p>\n", f);
	else {
		fputs("<p class=\"explain\">Encrypted connections to addresses "
		    "no DNS answer from hushd gave this device.</p>\n", f);
		html_names(f, &s->destinations, 0, "other addresses");
	}
	fputs("</section>\n", f);
}

static void
report_html(struct report *r, FILE *f)
{
	size_t n;
	struct device_summary *s = report_summarize(r, &n);
	struct totals t;
	char a[32], b[32];

	report_totals(s, n, &t);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>hushd report</title>\n"
	    "<style>\n%s</style>\n</head>\n<body>\n"
	    "<h1>What your devices talked to</h1>\n", html_style);
	if (report_period_text(r, a, b)) {
		fprintf(f, "<p>From <b>%s</b> to <b>%s</b> UTC", a, b);
		if (r->since_text != NULL) {
			fputs(" (the last ", f);
			html_text(f, r->since_text);
			fputs(")", f);
		}
		fputs(".</p>\n", f);
	} else
		fputs("<p>The event log holds no events for this period.</p>\n",
		    f);
	fprintf(f, "<p>%zu %s made %lld DNS %s; hushd blocked %lld of them "
	    "and noted %lld. They opened %lld encrypted %s, %lld of them to "
	    "addresses no lookup through hushd gave.</p>\n", n,
	    plural((long long)n, "device", "devices"), t.queries,
	    plural(t.queries, "lookup", "lookups"), t.blocked, t.logged,
	    t.connections, plural(t.connections, "connection", "connections"),
	    t.unresolved);
	if (r->skipped > 0)
		fprintf(f, "<p class=\"note\">%lld %s of the event log could "
		    "not be read and %s skipped.</p>\n", r->skipped,
		    plural(r->skipped, "line", "lines"),
		    plural(r->skipped, "was", "were"));
	if (r->note != NULL) {
		fputs("<p class=\"note\">", f);
		html_text(f, r->note);
		fputs("</p>\n", f);
	}

	fputs("<h2>Devices at a glance</h2>\n", f);
	html_legend(f);
	fputs("<table>\n<tr><th>Device</th><th>Lookups</th><th>Blocked</th>"
	    "<th></th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td class=\"name\">", f);
		html_device_name(f, s[i].d);
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">"
		    "%lld</td><td>", s[i].d->queries, s[i].d->blocked);
		html_verdict_bar(f, s[i].d);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	for (size_t i = 0; i < n; i++) {
		html_device(f, &s[i]);
		device_summary_free(&s[i]);
	}
	free(s);
	fputs("<footer><p>Made by hushctl report from ", f);
	html_text(f, r->path);
	fputs(".</p></footer>\n</body>\n</html>\n", f);
}

/* ------------------------------------------------------------ main */

static int
report_usage(void)
{
	fprintf(stderr, "usage: hushctl report [--since DURATION] "
	    "[--events FILE] [--html FILE] [--json]\n"
	    "  DURATION: a number and s, m, h, d or w (24h, 7d)\n");
	return EX_USAGE;
}

int
report_main(int argc, char **argv, bool json)
{
	struct report r;
	const char *html = NULL, *now = NULL;
	FILE *in, *out = NULL;
	struct timespec ts;
	int status = 0;

	memset(&r, 0, sizeof(r));
	r.path = DEFAULT_EVENTS;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] :
		    NULL;
		if (strcmp(arg, "--json") == 0)
			json = true;
		else if (value == NULL)
			return report_usage();
		else if (strcmp(arg, "--since") == 0) {
			r.since_text = value;
			if (!parse_duration(value, &r.since_ms)) {
				fprintf(stderr, "hushctl: --since %s: not a "
				    "duration such as 30m, 24h or 7d\n", value);
				return EX_USAGE;
			}
		} else if (strcmp(arg, "--events") == 0)
			r.path = value;
		else if (strcmp(arg, "--html") == 0)
			html = value;
		else if (strcmp(arg, "--now") == 0)
			now = value;
		else
			return report_usage();
		if (strcmp(arg, "--json") != 0)
			i++;
	}
	if (now != NULL && !parse_ts(now, &r.now_ms)) {
		fprintf(stderr, "hushctl: --now %s: not a time such as "
		    "2026-11-25T14:35:16.123Z\n", now);
		return EX_USAGE;
	}
	if (now == NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		r.now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}

	in = strcmp(r.path, "-") == 0 ? stdin : fopen(r.path, "r");
	if (in == NULL) {
		fprintf(stderr, "hushctl: %s: %s\n", r.path, strerror(errno));
		return EX_NOINPUT;
	}
	siphash_random_key(r.hash_key);
	tally_init(&r.devices, DEVICES_MAX);
	if (!report_read(&r, in)) {
		fprintf(stderr, "hushctl: %s: %s\n", r.path, strerror(errno));
		status = EX_NOINPUT;
	}
	if (in != stdin)
		fclose(in);
	if (status == 0 && html != NULL) {
		out = strcmp(html, "-") == 0 ? stdout : fopen(html, "w");
		if (out == NULL) {
			fprintf(stderr, "hushctl: %s: %s\n", html,
			    strerror(errno));
			status = EX_CANTCREAT;
		} else {
			report_html(&r, out);
			if ((out != stdout && fclose(out) != 0) ||
			    (out == stdout && fflush(out) != 0)) {
				fprintf(stderr, "hushctl: %s: %s\n", html,
				    strerror(errno));
				status = EX_CANTCREAT;
			}
		}
	}
	if (status == 0 && json)
		status = report_json(&r, stdout);
	else if (status == 0 && html == NULL)
		report_text(&r, stdout);
	if (status == 0 && out != stdout && fflush(stdout) != 0) {
		if (errno != EPIPE)	/* a reader such as head(1) had enough */
			fprintf(stderr, "hushctl: standard output: %s\n",
			    strerror(errno));
		status = EX_IOERR;
	}
	report_clear(&r);
	return status;
}

/* ------------------------------------------------ for other programs */

struct report *
report_new(const char *source)
{
	struct report *r = xcalloc(1, sizeof(*r));
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	r->now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	r->path = source;
	siphash_random_key(r->hash_key);
	tally_init(&r->devices, DEVICES_MAX);
	return r;
}

void
report_add_line(struct report *r, const char *line, size_t len)
{
	report_line(r, line, len);
}

void
report_set_note(struct report *r, const char *note)
{
	free(r->note);
	r->note = note ? xstrdup(note) : NULL;
}

void
report_write_text(struct report *r, FILE *f)
{
	report_text(r, f);
}

int
report_write_json(struct report *r, FILE *f)
{
	return report_json(r, f);
}

void
report_write_html(struct report *r, FILE *f)
{
	report_html(r, f);
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	report_clear(r);
	free(r);
}
