/*
 * events.c: JSON lines writer for the event log.
 *
 * Each event is formatted into one buffer and written with a single
 * fwrite + fflush, so readers never see half a line. Strings are escaped
 * for JSON; bytes outside ASCII (which DNS names in their text form never
 * hold, but device names might) are written as \u00XX so that every line is
 * valid JSON whatever the input. Worker threads share the file: one mutex
 * covers the write and the reopen; formatting happens outside it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "events.h"
#include "file.h"
#include "json.h"
#include "log.h"

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *events_file;
static char *events_path;
static _Atomic bool events_on;
static _Atomic uint64_t events_dropped;
static time_t last_drop_warning;	/* under events_lock */
static struct {
	events_tap_fn	 fn;
	void		*arg;
} taps[EVENTS_MAX_TAPS];		/* under events_lock */
static size_t n_taps;

struct line {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/* Each thread formats into its own buffer, kept from line to line. */
static _Thread_local struct line thread_line;

static void
line_grow(struct line *l, size_t more)
{
	if (l->cap - l->len > more)
		return;
	while (l->cap - l->len <= more)
		l->cap = l->cap ? l->cap * 2 : 1024;
	l->buf = xreallocarray(l->buf, l->cap, 1);
}

static void
line_printf(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
line_printf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	line_grow(l, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	l->len += (size_t)n;
}

static void
line_string(struct line *l, const char *s)
{
	line_grow(l, strlen(s) * 6 + 3);
	l->buf[l->len++] = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		l->len += json_escape_char(*c, l->buf + l->len);
	l->buf[l->len++] = '"';
}

/* ,"key":"value" (nothing when value is NULL). */
static void
line_field(struct line *l, const char *key, const char *value)
{
	if (value == NULL)
		return;
	line_printf(l, ",\"%s\":", key);
	line_string(l, value);
}

/* When set, events of this thread carry this time (a packet's). */
static _Thread_local const struct timespec *thread_time;

void
events_set_time(const struct timespec *ts)
{
	thread_time = ts;
}

static void
line_timestamp(struct line *l)
{
	struct timespec now;
	struct tm tm;

	if (thread_time != NULL)
		now = *thread_time;
	else
		clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	line_printf(l, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
}

/*
 * An event that cannot be written (disk full, file gone read-only) is
 * counted and dropped; answering goes on. The first failure, then at
 * most one a minute, is logged with the count so far.
 */
static void
write_failed(int error)
{
	time_t now = time(NULL);

	atomic_fetch_add_explicit(&events_dropped, 1, memory_order_relaxed);
	if (now - last_drop_warning >= 60) {
		last_drop_warning = now;
		log_warnx("event log %s: %s; %llu events dropped so far",
		    events_path ? events_path : "-", strerror(error),
		    (unsigned long long)atomic_load(&events_dropped));
	}
}

static void
line_write(struct line *l)
{
	line_printf(l, "}\n");
	pthread_mutex_lock(&events_lock);
	if (events_file != NULL &&
	    !file_write_all(fileno(events_file), l->buf, l->len))
		write_failed(errno);
	for (size_t i = 0; i < n_taps; i++)
		taps[i].fn(taps[i].arg, l->buf, l->len);
	pthread_mutex_unlock(&events_lock);
}

static void
update_on_locked(void)
{
	atomic_store(&events_on, events_file != NULL || n_taps > 0);
}

bool
events_tap_add(events_tap_fn fn, void *arg)
{
	bool ok = false;

	pthread_mutex_lock(&events_lock);
	if (n_taps < EVENTS_MAX_TAPS) {
		taps[n_taps].fn = fn;
		taps[n_taps].arg = arg;
		n_taps++;
		ok = true;
	}
	update_on_locked();
	pthread_mutex_unlock(&events_lock);
	return ok;
}

void
events_tap_remove(void *arg)
{
	pthread_mutex_lock(&events_lock);
	for (size_t i = 0; i < n_taps; i++)
		if (taps[i].arg == arg) {
			taps[i] = taps[--n_taps];
			break;
		}
	update_on_locked();
	pthread_mutex_unlock(&events_lock);
}

uint64_t
events_dropped_count(void)
{
	return atomic_load_explicit(&events_dropped, memory_order_relaxed);
}

static void update_on_locked(void);

static void
close_locked(void)
{
	if (events_file != NULL && events_file != stdout)
		fclose(events_file);
	events_file = NULL;
	free(events_path);
	events_path = NULL;
	update_on_locked();
}

bool
events_open(const char *path, char *err, size_t errlen)
{
	FILE *f = NULL;

	if (path != NULL && strcmp(path, "-") == 0)
		f = stdout;
	else if (path != NULL && (f = fopen(path, "a")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	pthread_mutex_lock(&events_lock);
	close_locked();
	events_file = f;
	events_path = path ? xstrdup(path) : NULL;
	update_on_locked();
	pthread_mutex_unlock(&events_lock);
	return true;
}

void
events_reopen(void)
{
	FILE *f;

	pthread_mutex_lock(&events_lock);
	if (events_file != NULL && events_file != stdout) {
		if ((f = fopen(events_path, "a")) == NULL)
			log_warn("reopen %s; still writing to the old file",
			    events_path);
		else {
			fclose(events_file);
			events_file = f;
		}
	}
	pthread_mutex_unlock(&events_lock);
}

void
events_close(void)
{
	pthread_mutex_lock(&events_lock);
	close_locked();
	pthread_mutex_unlock(&events_lock);
}

void
events_thread_exit(void)
{
	free(thread_line.buf);
	memset(&thread_line, 0, sizeof(thread_line));
}

bool
events_enabled(void)
{
	return atomic_load_explicit(&events_on, memory_order_relaxed);
}

static void
line_answers(struct line *l, const struct dnsreply *reply,
    const struct geo_info *geo)
{
	char ip[ADDR_STRLEN];

	line_printf(l, ",\"answers\":[");
	for (size_t i = 0; reply != NULL && i < reply->n_addrs; i++) {
		const struct dnsaddr *a = &reply->addrs[i];
		if (inet_ntop(a->family, a->bytes, ip, sizeof(ip)) == NULL)
			continue;
		line_printf(l, "%s{\"ip\":\"%s\"", i ? "," : "", ip);
		if (geo != NULL && geo[i].cc[0] != '\0')
			line_field(l, "cc", geo[i].cc);
		if (geo != NULL && geo[i].asn != 0)
			line_printf(l, ",\"asn\":%u", geo[i].asn);
		if (geo != NULL && geo[i].org[0] != '\0')
			line_field(l, "org", geo[i].org);
		line_printf(l, "}");
	}
	line_printf(l, "]");
	if (reply == NULL || reply->n_cnames == 0)
		return;
	line_printf(l, ",\"cname\":[");
	for (size_t i = 0; i < reply->n_cnames; i++) {
		if (i > 0)
			line_printf(l, ",");
		line_string(l, reply->cnames[i]);
	}
	line_printf(l, "]");
}

/* client, device, mac, vendor, group */
static void
line_who(struct line *l, const struct sockaddr *client, const uint8_t *mac,
    const char *vendor, const struct verdict *v)
{
	char text[ADDR_STRLEN];

	line_field(l, "client", addr_ntop(client, text, sizeof(text)));
	line_field(l, "device", v->device);
	if (mac != NULL) {
		snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x",
		    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		line_field(l, "mac", text);
	}
	line_field(l, "vendor", vendor);
	line_field(l, "group", v->group);
}

/* action, reason, list, rule */
static void
line_verdict(struct line *l, const struct verdict *v)
{
	line_field(l, "action", policy_action_name(v->action));
	line_field(l, "reason", policy_reason_name(v->reason));
	line_field(l, "list", v->list);
	if (v->rule[0] != '\0')	/* a list's rule, or "CN", "AS4134" */
		line_field(l, "rule", v->rule);
	if (v->allowlisted)
		line_printf(l, ",\"allowlisted\":true");
}

void
events_conn(const struct conn_event *ev)
{
	struct line *l = &thread_line;
	char dst[ADDR_STRLEN];

	if (!events_enabled())
		return;
	l->len = 0;
	line_timestamp(l);
	line_field(l, "event", ev->event);
	line_who(l, ev->client, ev->mac, ev->vendor, ev->verdict);
	line_field(l, "dst", addr_ntop_full(ev->dst, dst, sizeof(dst)));
	line_field(l, "sni", ev->sni);
	line_printf(l, ",\"ech\":%s", ev->ech ? "true" : "false");
	line_field(l, "alpn", ev->alpn);
	line_field(l, "version", ev->version);
	line_printf(l, ",\"dns_seen\":%s", ev->dns_seen ? "true" : "false");
	line_field(l, "dns_name", ev->dns_name);
	if (ev->geo != NULL && ev->geo->cc[0] != '\0')
		line_field(l, "cc", ev->geo->cc);
	if (ev->geo != NULL && ev->geo->asn != 0)
		line_printf(l, ",\"asn\":%u", ev->geo->asn);
	if (ev->geo != NULL && ev->geo->org[0] != '\0')
		line_field(l, "org", ev->geo->org);
	line_verdict(l, ev->verdict);
	line_printf(l, ",\"bytes_up\":%llu,\"bytes_down\":%llu",
	    (unsigned long long)ev->bytes_up,
	    (unsigned long long)ev->bytes_down);
	line_field(l, "error", ev->error);
	line_printf(l, ",\"ms\":%.2f", ev->ms);
	line_write(l);
}

void
events_dns(const struct dns_event *ev)
{
	struct line *l = &thread_line;
	const struct verdict *v = ev->verdict;
	char type[32], rcode[32];

	if (!events_enabled())
		return;
	l->len = 0;
	line_timestamp(l);
	line_field(l, "event", "dns");
	line_who(l, ev->client, ev->mac, ev->vendor, v);
	line_field(l, "qname", ev->q->qname);
	line_field(l, "qtype", dnsmsg_type_name(ev->q->qtype, type,
	    sizeof(type)));
	line_verdict(l, v);
	line_field(l, "rcode", dnsmsg_rcode_name(ev->rcode, rcode,
	    sizeof(rcode)));
	line_answers(l, ev->reply, ev->geo);
	line_field(l, "upstream", ev->upstream);
	if (v->action != POLICY_BLOCK || ev->reply != NULL)
		line_printf(l, ",\"cached\":%s", ev->cached ? "true" : "false");
	line_printf(l, ",\"ms\":%.2f", ev->ms);
	line_write(l);
}

void
events_admin(const char *client, const char *action, const char *detail)
{
	struct line *l = &thread_line;

	if (!events_enabled())
		return;
	l->len = 0;
	line_timestamp(l);
	line_printf(l, ",\"event\":\"admin\"");
	line_field(l, "client", client);
	line_field(l, "what", action);
	line_field(l, "detail", detail);
	line_write(l);
}
