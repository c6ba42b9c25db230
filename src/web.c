/*
 * web.c: the dashboard and its API (see web.h).
 *
 * Security: the password is kept only as a PBKDF2 hash; a wrong one costs
 * the address one of WEB_LOGIN_TRIES a minute (then 429), and at most
 * WEB_LOGINS_A_MINUTE attempts are hashed a minute in all, so that a flood
 * of log-ins cannot keep the main thread busy hashing. Sessions are
 * 128-bit random ids in an HttpOnly, SameSite=Strict cookie (Secure under
 * HTTPS), WEB_SESSIONS at most, WEB_SESSION_HOURS long. Each session has a
 * random CSRF token the page sends back in X-CSRF-Token with every POST.
 * Every answer carries a Content-Security-Policy that allows scripts and
 * styles from the page's own origin only (no inline script), and forbids
 * framing. Request bodies are at most WEB_BODY_MAX bytes (413). Static
 * files are served only by exact names of a flat directory.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "events.h"
#include "explain.h"
#include "file.h"
#include "json.h"
#include "lists.h"
#include "log.h"
#include "loop.h"
#include "neigh.h"
#include "password.h"
#include "pause.h"
#include "remote.h"
#include "web.h"
#include "window.h"

#define WEB_SESSIONS		32
#define WEB_SESSION_HOURS	12
#define WEB_LOGIN_TRIES		5	/* wrong passwords a minute */
#define WEB_LOGIN_SLOTS		64
#define WEB_LOGINS_A_MINUTE	30	/* from all addresses: each costs a hash */
#define WEB_LOGIN_WINDOW	60	/* seconds: the "minute" of the two above */
#define WEB_BODY_MAX		16384
#define WEB_STREAMS		64	/* live event streams at once */
#define WEB_STREAM_BACKLOG	(256 * 1024)
#define WEB_STREAM_DELAY_MS	100	/* live events gathered this long */
#define WEB_STREAM_BATCH	100	/* events a batch carries at most */
#define WEB_STATIC_MAX		(1 << 20)
#define WEB_COOKIE		"hushd_session"
#define WEB_TIMEOUT		30	/* seconds without progress */

static const char csp[] = "default-src 'self'; script-src 'self'; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

struct session {
	char	id[33];
	char	csrf[33];
	time_t	expires;
};

struct login_slot {
	struct sockaddr_storage	addr;
	uint64_t		since;		/* its window's start */
	unsigned		failures;	/* wrong passwords since then */
};

struct stream {
	struct web		*w;
	struct evhttp_request	*req;
	struct stream		*next;
};

struct hour {
	time_t		start;		/* of the hour; 0: empty */
	uint64_t	action[3];
};

struct web {
	struct event_base	*base;
	struct evhttp		*http;
	SSL_CTX			*ssl;
	struct web_ops		 ops;
	struct session		 sessions[WEB_SESSIONS];
	struct login_slot	 logins[WEB_LOGIN_SLOTS];
	struct stream		*streams;
	unsigned		 n_streams;
	struct evbuffer		*live;		/* locked: workers append */
	unsigned		 live_events;	/* in it (under its lock) */
	uint64_t		 live_skipped;	/* left out of it */
	struct event		*live_kick;	/* woken by them */
	struct event		*live_flush;	/* sends the batch */
	struct event		*tick;
	struct hour		 hours[24];
	uint64_t		 last_action[3];
	bool			 counted;
	uint64_t		 login_since;	/* the window's start */
	unsigned		 login_count;	/* attempts since then */
};

/* ------------------------------------------------------------ helpers */

static void
random_hex(char out[33])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		fatalx("RAND_bytes failed");
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
peer_of(struct evhttp_request *req, char *out, size_t len)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	char *host = NULL;
	ev_uint16_t port = 0;

	if (c != NULL)
		evhttp_connection_get_peer(c, &host, &port);
	snprintf(out, len, "%s", host ? host : "?");
}

static void
common_headers(struct web *w, struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	(void)w;
	evhttp_add_header(h, "Content-Security-Policy", csp);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	if (type != NULL)
		evhttp_add_header(h, "Content-Type", type);
}

static void
reply_buffer(struct web *w, struct evhttp_request *req, int code,
    const char *type, const char *text, size_t len)
{
	struct evbuffer *body = evbuffer_new();

	common_headers(w, req, type);
	if (strncmp(type, "application/json", 16) == 0)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Cache-Control", "no-store");
	evbuffer_add(body, text, len);
	evhttp_send_reply(req, code, code == 200 ? "OK" : code == 201 ?
	    "Created" : code == 303 ? "See Other" : code == 400 ?
	    "Bad Request" : code == 401 ? "Unauthorized" : code == 403 ?
	    "Forbidden" : code == 404 ? "Not Found" : code == 405 ?
	    "Method Not Allowed" : code == 409 ? "Conflict" : code == 413 ?
	    "Payload Too Large" : code == 429 ? "Too Many Requests" :
	    "Error", body);
	evbuffer_free(body);
}

/* Runs a writer into memory and replies with what it wrote. */
static void
reply_json_from(struct web *w, struct evhttp_request *req, int code,
    char *text, size_t len)
{
	reply_buffer(w, req, code, "application/json", text, len);
	free(text);
}

/* {"key": value} with code. */
static void
reply_field(struct web *w, struct evhttp_request *req, int code,
    const char *key, const char *value)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fputc('{', f);
	json_fput_string(f, key);
	fputc(':', f);
	json_fput_string(f, value);
	fputs("}\n", f);
	fclose(f);
	reply_json_from(w, req, code, text, len);
}

/* {"error": why} with code. */
static void
reply_error(struct web *w, struct evhttp_request *req, int code,
    const char *why)
{
	reply_field(w, req, code, "error", why);
}

static void
redirect(struct web *w, struct evhttp_request *req, const char *to)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    to);
	reply_buffer(w, req, 303, "text/plain", "", 0);
}

/* The value of a query parameter of req, copied into out; false if none. */
static bool
query_param(struct evhttp_request *req, const char *key, char *out,
    size_t len)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq params;
	const char *v;
	bool ok = false;

	if (q == NULL || evhttp_parse_query_str(q, &params) != 0)
		return false;
	if ((v = evhttp_find_header(&params, key)) != NULL &&
	    strlen(v) < len) {
		strcpy(out, v);
		ok = true;
	}
	evhttp_clear_headers(&params);
	return ok;
}

static const char *
path_of(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *p = uri ? evhttp_uri_get_path(uri) : NULL;

	return p && p[0] ? p : "/";
}

/* ------------------------------------------------------------ sessions */

static struct session *
session_of(struct web *w, struct evhttp_request *req)
{
	const char *cookie = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Cookie");
	const char *at;
	char id[33];
	time_t now = time(NULL);

	if (cookie == NULL || (at = strstr(cookie, WEB_COOKIE "=")) == NULL)
		return NULL;
	at += strlen(WEB_COOKIE) + 1;
	if (strspn(at, "0123456789abcdef") < 32)
		return NULL;
	memcpy(id, at, 32);
	id[32] = '\0';
	for (size_t i = 0; i < WEB_SESSIONS; i++) {
		struct session *s = &w->sessions[i];
		if (s->expires > now && CRYPTO_memcmp(s->id, id, 32) == 0)
			return s;
	}
	return NULL;
}

static struct session *
session_new(struct web *w)
{
	struct session *s = &w->sessions[0];

	for (size_t i = 1; i < WEB_SESSIONS; i++)
		if (w->sessions[i].expires < s->expires)
			s = &w->sessions[i];
	random_hex(s->id);
	random_hex(s->csrf);
	s->expires = time(NULL) + WEB_SESSION_HOURS * 3600;
	return s;
}

/*
 * Whether the counting window that started at *since (monotonic seconds)
 * is over; if so, a new one starts now. A window runs from the first
 * attempt counted in it, so no calendar minute's edge halves a limit.
 */
static bool
login_window_over(uint64_t *since, uint64_t now)
{
	if (now - *since < WEB_LOGIN_WINDOW)
		return false;
	*since = now;
	return true;
}

/* The login slot of the request's address, its window brought up to date. */
static struct login_slot *
login_slot(struct web *w, struct evhttp_request *req)
{
	char peer[INET6_ADDRSTRLEN + 8];
	struct addr a;
	struct login_slot *oldest = &w->logins[0];
	uint64_t now = loop_now_seconds();

	peer_of(req, peer, sizeof(peer));
	memset(&a, 0, sizeof(a));
	addr_parse(peer, 0, &a);
	for (size_t i = 0; i < WEB_LOGIN_SLOTS; i++) {
		struct login_slot *s = &w->logins[i];
		if (addr_equal((struct sockaddr *)&s->addr,
		    (struct sockaddr *)&a.ss)) {
			if (login_window_over(&s->since, now))
				s->failures = 0;
			return s;
		}
		if (s->since < oldest->since)
			oldest = s;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->addr = a.ss;
	oldest->since = now;
	return oldest;
}

/* ------------------------------------------------------------ events */

static void
web_event(struct evhttp_request *req, const char *what, const char *detail)
{
	char peer[INET6_ADDRSTRLEN + 8];

	peer_of(req, peer, sizeof(peer));
	events_admin(peer, what, detail);
}

/* ------------------------------------------------------------ pages */

static const char *
html_escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s && o + 7 < len; s++) {
		const char *rep = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
		    *s == '&' ? "&amp;" : *s == '"' ? "&quot;" : *s == '\'' ?
		    "&#39;" : NULL;
		if (rep != NULL) {
			strcpy(out + o, rep);
			o += strlen(rep);
		} else
			out[o++] = *s;
	}
	out[o] = '\0';
	return out;
}

static void
page_head(FILE *f, const char *title, const char *csrf)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<title>%s</title>\n<link rel=\"stylesheet\" "
	    "href=\"/static/app.css\">\n<link rel=\"icon\" "
	    "href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n", title);
	if (csrf != NULL)
		fprintf(f, "<meta name=\"csrf-token\" content=\"%s\">\n"
		    "<script src=\"/static/app.js\" defer></script>\n", csrf);
	fputs("</head>\n<body>\n", f);
}

static void
serve_login_page(struct web *w, struct evhttp_request *req, int code,
    const char *message)
{
	char *text = NULL, esc[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	page_head(f, "hushd: log in", NULL);
	fputs("<main class=\"login\">\n<h1>hushd</h1>\n", f);
	if (message != NULL)
		fprintf(f, "<p class=\"error\">%s</p>\n",
		    html_escape(message, esc, sizeof(esc)));
	fputs("<form method=\"post\" action=\"/login\">\n"
	    "<label>Password <input type=\"password\" name=\"password\" "
	    "autocomplete=\"current-password\" autofocus required></label>\n"
	    "<button type=\"submit\">Log in</button>\n</form>\n</main>\n"
	    "</body>\n</html>\n", f);
	fclose(f);
	reply_buffer(w, req, code, "text/html; charset=utf-8", text, len);
	free(text);
}

/* The overview, rendered here so that it reads without JavaScript. */
static void
serve_overview(struct web *w, struct evhttp_request *req,
    const struct session *s)
{
	struct metrics_view v;
	uint64_t queries, action[3];
	char *text = NULL, *devices = NULL;
	size_t len = 0, dlen = 0;
	FILE *f;

	w->ops.view(w->ops.arg, &v);
	metrics_totals(&v, &queries, action);
	f = open_memstream(&text, &len);
	page_head(f, "hushd", s->csrf);
	fprintf(f, "<header><h1>hushd</h1><form method=\"post\" "
	    "action=\"/logout\" class=\"logout\"><input type=\"hidden\" "
	    "name=\"csrf\" value=\"%s\"><button>Log out</button></form>"
	    "</header>\n<main>\n<section id=\"summary\">\n"
	    "<h2>Since hushd started</h2>\n<p class=\"totals\">"
	    "<span><b id=\"queries\">%llu</b> lookups</span> "
	    "<span><b id=\"blocked\">%llu</b> blocked</span> "
	    "<span><b id=\"logged\">%llu</b> watched</span></p>\n"
	    "<div id=\"chart\"></div>\n<div id=\"pause\"></div>\n"
	    "</section>\n<section id=\"devices\">\n<h2>Devices</h2>\n",
	    s->csrf, (unsigned long long)queries,
	    (unsigned long long)action[2], (unsigned long long)action[1]);
	/* The device table, from the same data as /api/devices. */
	FILE *d = open_memstream(&devices, &dlen);
	window_devices_json(w->ops.windows, w->ops.n_windows,
	    (uint32_t)loop_now_seconds(), NULL, NULL, d);
	fclose(d);
	json_t *list = json_loads(devices, 0, NULL);
	fputs("<table id=\"device-table\">\n<thead><tr><th>Device</th>"
	    "<th>Lookups</th><th>Blocked</th><th>Watched</th></tr></thead>\n"
	    "<tbody>\n", f);
	size_t i;
	json_t *dev;
	json_array_foreach(list, i, dev) {
		char esc[256];
		const char *name = json_string_value(json_object_get(dev,
		    "device"));
		fprintf(f, "<tr><td>%s</td><td>%lld</td><td>%lld</td>"
		    "<td>%lld</td></tr>\n", html_escape(name ? name : "?", esc,
		    sizeof(esc)),
		    (long long)json_integer_value(json_object_get(dev, "count")),
		    (long long)json_integer_value(json_object_get(dev,
		    "blocked")),
		    (long long)json_integer_value(json_object_get(dev,
		    "logged")));
	}
	json_decref(list);
	free(devices);
	fputs("</tbody>\n</table>\n</section>\n<section id=\"detail\">"
	    "</section>\n<section id=\"why\"></section>\n<section id=\"lists\">"
	    "</section>\n<section id=\"live\"></section>\n</main>\n</body>\n"
	    "</html>\n", f);
	fclose(f);
	reply_buffer(w, req, 200, "text/html; charset=utf-8", text, len);
	free(text);
}

/* /static/NAME: a flat directory, names of [a-z0-9-] and an extension. */
static void
serve_static(struct web *w, struct evhttp_request *req, const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
	};
	const char *type = NULL, *dot = strrchr(name, '.');
	char path[1024], etag[64];
	const char *inm;
	struct stat st;
	int fd;

	if (dot == NULL || dot == name ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    (size_t)(dot - name))
		goto missing;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			type = types[i].type;
	if (type == NULL || w->ops.root == NULL)
		goto missing;
	snprintf(path, sizeof(path), "%s/%s", w->ops.root, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		goto missing;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > WEB_STATIC_MAX) {
		close(fd);
		goto missing;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)st.st_mtime, (unsigned long long)st.st_size);
	common_headers(w, req, type);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Cache-Control", "max-age=3600");
	evhttp_add_header(h, "ETag", etag);
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	struct evbuffer *body = evbuffer_new();
	evbuffer_add_file(body, fd, 0, st.st_size);	/* takes fd */
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
	return;
missing:
	reply_error(w, req, 404, "no such file");
}

/* ------------------------------------------------------------ API: reads */

/* What was decided since the last count goes to its hour's bucket. */
static void
hours_count(struct web *w)
{
	struct metrics_view v;
	uint64_t queries, action[3];
	time_t hour = time(NULL) / 3600 * 3600;
	struct hour *h = &w->hours[(hour / 3600) % 24];

	w->ops.view(w->ops.arg, &v);
	metrics_totals(&v, &queries, action);
	if (h->start != hour) {
		memset(h, 0, sizeof(*h));
		h->start = hour;
	}
	for (int i = 0; i < 3; i++) {
		if (w->counted && action[i] >= w->last_action[i])
			h->action[i] += action[i] - w->last_action[i];
		w->last_action[i] = action[i];
	}
	w->counted = true;
}

static void
api_summary(struct web *w, struct evhttp_request *req)
{
	struct metrics_view v;
	uint64_t queries, action[3];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	time_t now = time(NULL), hour = now / 3600 * 3600;
	struct pause *p = w->ops.pause;
	bool first = true;

	/* The current hour up to now, not up to the last tick. */
	hours_count(w);
	w->ops.view(w->ops.arg, &v);
	metrics_totals(&v, &queries, action);
	fprintf(f, "{\"queries\":%llu,\"passed\":%llu,\"logged\":%llu,"
	    "\"blocked\":%llu,\"hours\":[", (unsigned long long)queries,
	    (unsigned long long)action[0], (unsigned long long)action[1],
	    (unsigned long long)action[2]);
	/* The last 24 hours, oldest first, empty ones included. */
	for (int k = 23; k >= 0; k--) {
		time_t start = hour - (time_t)k * 3600;
		const struct hour *h = &w->hours[(start / 3600) % 24];
		bool have = h->start == start;
		fprintf(f, "%s{\"start\":%lld,\"passed\":%llu,\"logged\":%llu,"
		    "\"blocked\":%llu}", k == 23 ? "" : ",", (long long)start,
		    (unsigned long long)(have ? h->action[0] : 0),
		    (unsigned long long)(have ? h->action[1] : 0),
		    (unsigned long long)(have ? h->action[2] : 0));
	}
	fprintf(f, "],\"paused\":{\"all_until\":%lld,\"groups\":{",
	    (long long)(atomic_load(&p->all_until) > now ?
	    atomic_load(&p->all_until) : 0));
	for (size_t i = 0; i < PAUSE_GROUPS; i++) {
		int64_t until = atomic_load(&p->groups[i].until);
		if (until <= now)
			continue;
		fputs(first ? "" : ",", f);
		first = false;
		json_fput_string(f, p->groups[i].name);
		fprintf(f, ":%lld", (long long)until);
	}
	fputs("}},\"groups\":[", f);
	for (size_t i = 0; i < v.policy->n_groups; i++) {
		fputs(i ? "," : "", f);
		json_fput_string(f, v.policy->groups[i].name);
	}
	fprintf(f, "],\"now\":%lld}\n", (long long)now);
	fclose(f);
	reply_json_from(w, req, 200, text, len);
}

static const char *
vendor_of(void *arg, const uint8_t mac[6])
{
	return oui_vendor(arg, mac);
}

static void
api_devices(struct web *w, struct evhttp_request *req)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	window_devices_json(w->ops.windows, w->ops.n_windows,
	    (uint32_t)loop_now_seconds(), vendor_of, w->ops.oui, f);
	fclose(f);
	reply_json_from(w, req, 200, text, len);
}

static void
api_device(struct web *w, struct evhttp_request *req)
{
	char name[128], *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!query_param(req, "name", name, sizeof(name))) {
		reply_error(w, req, 400, "name= is missing");
		return;
	}
	f = open_memstream(&text, &len);
	window_recent_json(w->ops.windows, w->ops.n_windows, name, 200,
	    (uint32_t)loop_now_seconds(), f);
	fclose(f);
	reply_json_from(w, req, 200, text, len);
}

static void
api_top(struct web *w, struct evhttp_request *req)
{
	static const char *kinds[] = { "devices", "names", "countries",
	    "asns" };
	char kind[32] = "names", filter[32] = "all", nbuf[16] = "20";
	char *text = NULL, *end;
	size_t len = 0;
	long n;
	int k = -1;
	FILE *f;

	query_param(req, "kind", kind, sizeof(kind));
	query_param(req, "filter", filter, sizeof(filter));
	query_param(req, "n", nbuf, sizeof(nbuf));
	for (int i = 0; i < 4; i++)
		if (strcmp(kind, kinds[i]) == 0)
			k = i;
	n = strtol(nbuf, &end, 10);
	if (k < 0 || *end != '\0' || n < 1 || n > 1000 ||
	    (strcmp(filter, "all") != 0 && strcmp(filter, "blocked") != 0)) {
		reply_error(w, req, 400, "kind=devices|names|countries|asns, "
		    "filter=all|blocked, n=1..1000");
		return;
	}
	f = open_memstream(&text, &len);
	window_top(w->ops.windows, w->ops.n_windows, (enum window_key)k,
	    strcmp(filter, "blocked") == 0, (size_t)n,
	    (uint32_t)loop_now_seconds(), true, f);
	fclose(f);
	reply_json_from(w, req, 200, text, len);
}

static void
api_lists(struct web *w, struct evhttp_request *req)
{
	struct metrics_view v;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	w->ops.view(w->ops.arg, &v);
	const struct policy *p = v.policy;
	f = open_memstream(&text, &len);
	fputs("{\"lists\":[", f);
	for (size_t i = 0; i < p->conf->n_lists; i++) {
		const struct conf_list *cl = &p->conf->lists[i];
		struct stat st;
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_fput_string(f, cl->name);
		fprintf(f, ",\"rules\":%zu,\"skipped\":%zu,\"file\":",
		    list_size(p->lists[i]), p->lists[i]->skipped);
		json_fput_string(f, cl->path);
		fputs(",\"url\":", f);
		json_fput_string(f, cl->url);
		fprintf(f, ",\"updated\":%lld,\"groups\":{",
		    stat(cl->path, &st) == 0 ? (long long)st.st_mtime : 0LL);
		for (size_t g = 0; g < p->n_groups; g++) {
			const struct policy_group *pg = &p->groups[g];
			const char *mode = "off";
			for (size_t k = 0; k < pg->n_block; k++)
				if (pg->block[k] == p->lists[i])
					mode = "block";
			for (size_t k = 0; k < pg->n_log; k++)
				if (pg->log[k] == p->lists[i])
					mode = "log";
			fputs(g ? "," : "", f);
			json_fput_string(f, pg->name);
			fprintf(f, ":\"%s\"", mode);
		}
		fputs("}}", f);
	}
	fputs("],\"allowlist\":", f);
	json_fput_string(f, p->conf->allowlist);
	fputs(",\"remote\":", f);
	remote_status(v.remote, true, f);
	fputs("}\n", f);
	fclose(f);
	reply_json_from(w, req, 200, text, len);
}

static void
api_check(struct web *w, struct evhttp_request *req)
{
	struct metrics_view v;
	struct sockaddr_storage ss;
	struct client_ident ident;
	enum policy_action action;
	char name[300], client[80], *text = NULL;
	size_t len = 0;
	bool has_client;
	FILE *f;

	if (!query_param(req, "name", name, sizeof(name))) {
		reply_error(w, req, 400, "name= is missing");
		return;
	}
	has_client = query_param(req, "client", client, sizeof(client)) &&
	    client[0] != '\0';
	if (!explain_client(has_client ? client : NULL, &ss, &ident)) {
		reply_error(w, req, 400, "client is not an address or a MAC");
		return;
	}
	if (ss.ss_family != AF_UNSPEC)
		neigh_identify(w->ops.neigh, &ident);
	w->ops.view(w->ops.arg, &v);
	f = open_memstream(&text, &len);
	bool ok = explain_name(v.policy, &ident, name, true, f, &action);
	fclose(f);
	reply_json_from(w, req, ok ? 200 : 400, text, len);
}

/* ------------------------------------------------------------ live events */

/*
 * One tap on the event log serves every open stream: the writing thread
 * appends each line once to w->live (a locked buffer) and, when that was
 * empty, wakes the main loop once. The main loop gathers for
 * WEB_STREAM_DELAY_MS, then hands the batch to every stream by reference
 * (no copy per stream), one write each. A stream whose reader is too slow
 * (more than WEB_STREAM_BACKLOG bytes waiting) misses that batch.
 * A batch carries at most WEB_STREAM_BATCH events (1,000 a second, more
 * than a person reads); beyond that the streams get an "event: skipped"
 * with the count left out, so that a burst of queries never costs the
 * workers more than counting.
 */
static void
live_tap(void *arg, const char *line, size_t len)
{
	struct web *w = arg;

	evbuffer_lock(w->live);
	size_t queued = evbuffer_get_length(w->live);
	if (w->live_events >= WEB_STREAM_BATCH)
		w->live_skipped++;
	else if (queued < WEB_STREAM_BACKLOG) {
		w->live_events++;
		evbuffer_add(w->live, "data: ", 6);
		evbuffer_add(w->live, line, len - (len > 0 &&
		    line[len - 1] == '\n'));
		evbuffer_add(w->live, "\n\n", 2);
		if (queued == 0)
			event_active(w->live_kick, EV_TIMEOUT, 0);
	}
	evbuffer_unlock(w->live);
}

/* Main loop: something was queued; send it out shortly, all at once. */
static void
live_kicked(evutil_socket_t fd, short what, void *arg)
{
	struct web *w = arg;
	struct timeval delay = { 0, WEB_STREAM_DELAY_MS * 1000 };

	(void)fd;
	(void)what;
	if (!evtimer_pending(w->live_flush, NULL))
		evtimer_add(w->live_flush, &delay);
}

static void
live_flush(evutil_socket_t fd, short what, void *arg)
{
	struct web *w = arg;
	struct evbuffer *batch = evbuffer_new();

	(void)fd;
	(void)what;
	evbuffer_lock(w->live);
	evbuffer_add_buffer(batch, w->live);
	uint64_t skipped = w->live_skipped;
	w->live_events = 0;
	w->live_skipped = 0;
	evbuffer_unlock(w->live);
	if (skipped > 0)
		evbuffer_add_printf(batch, "event: skipped\ndata: "
		    "{\"skipped\":%llu}\n\n", (unsigned long long)skipped);
	for (struct stream *s = w->streams; s != NULL; s = s->next) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(
		    evhttp_request_get_connection(s->req));
		if (evbuffer_get_length(bufferevent_get_output(bev)) >=
		    WEB_STREAM_BACKLOG)
			continue;	/* a reader that does not keep up */
		struct evbuffer *out = evbuffer_new();
		evbuffer_add_buffer_reference(out, batch);
		evhttp_send_reply_chunk(s->req, out);
		evbuffer_free(out);
	}
	evbuffer_free(batch);
}

static void
stream_free(struct stream *s)
{
	struct web *w = s->w;
	struct stream **pp;

	for (pp = &w->streams; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (--w->n_streams == 0) {
		events_tap_remove(w);	/* no tap runs after this */
		evbuffer_drain(w->live, evbuffer_get_length(w->live));
	}
	free(s);
}

static void
stream_closed(struct evhttp_connection *c, void *arg)
{
	struct stream *s = arg;
	struct evhttp_request *req = s->req;

	(void)c;
	stream_free(s);
	/* Ends the reply, so that libevent lets go of the request. */
	evhttp_send_reply_end(req);
}

static void
api_events(struct web *w, struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct timeval write_timeout = { .tv_sec = WEB_TIMEOUT };
	struct stream *s;

	if (w->n_streams >= WEB_STREAMS) {
		reply_error(w, req, 429, "too many live streams");
		return;
	}
	if (w->n_streams == 0 && !events_tap_add(live_tap, w)) {
		reply_error(w, req, 429, "too many live streams");
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->req = req;
	s->next = w->streams;
	w->streams = s;
	w->n_streams++;
	common_headers(w, req, "text/event-stream");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	/*
	 * The client sends nothing more: without this, evhttp's read timeout
	 * would end a quiet stream every WEB_TIMEOUT seconds. A client that
	 * stops reading is still dropped by the write timeout.
	 */
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(conn),
	    NULL, &write_timeout);
	evhttp_connection_set_closecb(conn, stream_closed, s);
	struct evbuffer *hello = evbuffer_new();
	evbuffer_add_printf(hello, "retry: 5000\n\n");
	evhttp_send_reply_chunk(req, hello);
	evbuffer_free(hello);
}

/* ------------------------------------------------------------ API: actions */

/* The request's body parsed as a JSON object, or NULL (400 sent). */
static json_t *
json_body(struct web *w, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_error_t error;
	json_t *root;

	root = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &error);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		reply_error(w, req, 400, "the body must be a JSON object");
		return NULL;
	}
	return root;
}

static const char *
json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The whole of a file (at most max bytes), NUL-terminated; NULL on error. */
static char *
read_file(const char *path, size_t max, size_t *len, struct stat *st)
{
	FILE *f = fopen(path, "r");
	char *text;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), st) == -1 || (size_t)st->st_size > max) {
		fclose(f);
		errno = EFBIG;
		return NULL;
	}
	text = xmalloc((size_t)st->st_size + 1);
	*len = fread(text, 1, (size_t)st->st_size, f);
	text[*len] = '\0';
	fclose(f);
	return text;
}

/* Adds name as a line of the list file path, unless a line holds it. */
static bool
add_to_file(const char *path, const char *name, char *err, size_t errlen)
{
	struct stat st;
	size_t len, nlen = strlen(name);
	char *text = read_file(path, (size_t)256 << 20, &len, &st), *out;
	bool ok = true;

	if (text == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	for (const char *line = text; *line != '\0';) {
		size_t l = strcspn(line, "\r\n");
		if (l == nlen && strncasecmp(line, name, l) == 0)
			goto done;	/* already there */
		line += l;
		line += strspn(line, "\r\n");
	}
	out = xmalloc(len + nlen + 3);
	memcpy(out, text, len);
	if (len > 0 && text[len - 1] != '\n')
		out[len++] = '\n';
	memcpy(out + len, name, nlen);
	out[len + nlen] = '\n';
	ok = file_replace(path, out, len + nlen + 1, st.st_mode & 0777,
	    false);
	if (!ok)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(out);
done:
	free(text);
	return ok;
}

/*
 * Sets "GROUP LIST MODE" in state-dir/overrides (read by policy.c at each
 * reload), replacing an earlier line for the same group and list.
 */
static bool
set_override(const char *state_dir, const char *group, const char *list,
    const char *mode, char *err, size_t errlen)
{
	char path[1024], *text = NULL, *out = NULL, key[300];
	size_t len = 0, olen = 0;
	struct stat st;
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/overrides", state_dir);
	snprintf(key, sizeof(key), "%s %s ", group, list);
	if ((text = read_file(path, 1 << 20, &len, &st)) == NULL &&
	    errno != ENOENT) {
		snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
		return false;
	}
	f = open_memstream(&out, &olen);
	if (text == NULL)
		fputs("# Lists switched from the web page: GROUP LIST block|log"
		    "\n", f);
	for (char *line = text, *next; line != NULL && *line != '\0';
	    line = next) {
		next = strchr(line, '\n');
		size_t l = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		if (strncmp(line, key, strlen(key)) != 0)
			fprintf(f, "%.*s\n", (int)l, line);
	}
	fprintf(f, "%s%s\n", key, mode);
	fclose(f);
	ok = (mkdir(state_dir, 0750) == 0 || errno == EEXIST) &&
	    file_replace(path, out, olen, 0640, false);
	if (!ok)
		snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
	free(out);
	free(text);
	return ok;
}

static bool
csrf_ok(struct evhttp_request *req, const struct session *s)
{
	const char *token = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "X-CSRF-Token");
	struct evbuffer *in;
	char form[128];

	if (token != NULL)
		return strlen(token) == 32 &&
		    CRYPTO_memcmp(token, s->csrf, 32) == 0;
	/* The log-out form (no script) sends it as a form field. */
	in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len == 0 || len >= sizeof(form))
		return false;
	evbuffer_copyout(in, form, len);
	form[len] = '\0';
	return strncmp(form, "csrf=", 5) == 0 && strlen(form + 5) == 32 &&
	    CRYPTO_memcmp(form + 5, s->csrf, 32) == 0;
}

static void
do_login(struct web *w, struct evhttp_request *req)
{
	struct login_slot *slot = login_slot(w, req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct metrics_view v;
	struct evkeyvalq form;
	char body[1024], cookie[160];
	const char *password;
	bool ok = false;

	if (login_window_over(&w->login_since, loop_now_seconds()))
		w->login_count = 0;
	if (slot->failures >= WEB_LOGIN_TRIES ||
	    ++w->login_count > WEB_LOGINS_A_MINUTE) {
		serve_login_page(w, req, 429, "Too many wrong passwords: wait "
		    "a minute.");
		return;
	}
	if (len == 0 || len >= sizeof(body)) {
		serve_login_page(w, req, 400, "Enter the password.");
		return;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	if (evhttp_parse_query_str(body, &form) != 0) {
		serve_login_page(w, req, 400, "Enter the password.");
		return;
	}
	password = evhttp_find_header(&form, "password");
	w->ops.view(w->ops.arg, &v);
	ok = password != NULL &&
	    password_check(v.policy->conf->web_password, password);
	evhttp_clear_headers(&form);
	if (!ok) {
		slot->failures++;
		web_event(req, "login-failed", NULL);
		serve_login_page(w, req, 401, "Wrong password.");
		return;
	}
	struct session *s = session_new(w);
	snprintf(cookie, sizeof(cookie), WEB_COOKIE "=%s; Path=/; Max-Age=%d; "
	    "HttpOnly; SameSite=Strict%s", s->id, WEB_SESSION_HOURS * 3600,
	    w->ssl ? "; Secure" : "");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie",
	    cookie);
	web_event(req, "login", NULL);
	redirect(w, req, "/");
}

/* A valid, normalised domain name from the body, or NULL (400 sent). */
static const char *
body_name(struct web *w, struct evhttp_request *req, json_t *body,
    char out[LIST_NAME_MAX + 1])
{
	const char *name = json_str(body, "name"), *why;
	size_t len;

	if (name == NULL) {
		reply_error(w, req, 400, "\"name\" is missing");
		return NULL;
	}
	if ((why = list_normalize_name(name, strlen(name), out, &len)) !=
	    NULL) {
		reply_error(w, req, 400, why);
		return NULL;
	}
	return out;
}

/* {"done": what} */
static void
reply_done(struct web *w, struct evhttp_request *req, const char *what)
{
	reply_field(w, req, 200, "done", what);
}

static void
reload_and_answer(struct web *w, struct evhttp_request *req,
    const char *done)
{
	char err[1024];

	if (!w->ops.reload(w->ops.arg, err, sizeof(err))) {
		reply_error(w, req, 409, err);
		return;
	}
	reply_done(w, req, done);
}

static void
api_action(struct web *w, struct evhttp_request *req, const char *what)
{
	struct metrics_view v;
	char name[LIST_NAME_MAX + 1], detail[600], err[1024];
	json_t *body = json_body(w, req);
	time_t now = time(NULL);

	if (body == NULL)
		return;
	w->ops.view(w->ops.arg, &v);
	const struct conf *conf = v.policy->conf;
	if (strcmp(what, "pause") == 0) {
		json_t *m = json_object_get(body, "minutes");
		const char *group = json_str(body, "group");
		if (!json_is_integer(m) || json_integer_value(m) < 1 ||
		    json_integer_value(m) > 24 * 60) {
			reply_error(w, req, 400, "\"minutes\": 1 to 1440");
			goto done;
		}
		if (!pause_set(w->ops.pause, group, now +
		    json_integer_value(m) * 60)) {
			reply_error(w, req, 409, "too many groups paused");
			goto done;
		}
		snprintf(detail, sizeof(detail), "%lld minutes for %s",
		    (long long)json_integer_value(m), group ? group : "all");
		web_event(req, "pause", detail);
		reply_done(w, req, "paused");
	} else if (strcmp(what, "resume") == 0) {
		pause_clear(w->ops.pause);
		web_event(req, "resume", NULL);
		reply_done(w, req, "resumed");
	} else if (strcmp(what, "allow") == 0) {
		if (body_name(w, req, body, name) == NULL)
			goto done;
		if (conf->allowlist == NULL) {
			reply_error(w, req, 409, "no allowlist is configured");
			goto done;
		}
		if (!add_to_file(conf->allowlist, name, err, sizeof(err))) {
			reply_error(w, req, 409, err);
			goto done;
		}
		web_event(req, "allow", name);
		reload_and_answer(w, req, "allowed");
	} else if (strcmp(what, "block") == 0) {
		const char *list = json_str(body, "list");
		long index = list ? conf_find_list(conf, list) : -1;
		if (body_name(w, req, body, name) == NULL)
			goto done;
		if (index < 0 || conf->lists[index].url != NULL) {
			reply_error(w, req, 409, "\"list\" must name a local "
			    "list of the configuration");
			goto done;
		}
		if (!add_to_file(conf->lists[index].path, name, err,
		    sizeof(err))) {
			reply_error(w, req, 409, err);
			goto done;
		}
		snprintf(detail, sizeof(detail), "%s to %s", name, list);
		web_event(req, "block", detail);
		reload_and_answer(w, req, "added");
	} else if (strcmp(what, "list-mode") == 0) {
		const char *group = json_str(body, "group"),
		    *list = json_str(body, "list"), *mode = json_str(body, "mode");
		bool known = false;
		for (size_t i = 0; group && i < v.policy->n_groups; i++)
			known = known || strcmp(v.policy->groups[i].name,
			    group) == 0;
		if (!known || list == NULL || conf_find_list(conf, list) < 0 ||
		    mode == NULL || (strcmp(mode, "block") != 0 &&
		    strcmp(mode, "log") != 0)) {
			reply_error(w, req, 400, "\"group\", \"list\" and "
			    "\"mode\" (block or log) of the configuration");
			goto done;
		}
		if (!set_override(conf->state_dir, group, list, mode, err,
		    sizeof(err))) {
			reply_error(w, req, 409, err);
			goto done;
		}
		snprintf(detail, sizeof(detail), "%s %s for %s", list, mode,
		    group);
		web_event(req, "list-mode", detail);
		reload_and_answer(w, req, "switched");
	} else if (strcmp(what, "update") == 0) {
		unsigned n = w->ops.update(w->ops.arg);
		snprintf(detail, sizeof(detail), "{\"done\":\"downloading\","
		    "\"lists\":%u}\n", n);
		web_event(req, "update", NULL);
		reply_buffer(w, req, 200, "application/json", detail,
		    strlen(detail));
	} else
		reply_error(w, req, 404, "no such action");
done:
	json_decref(body);
}

/* ------------------------------------------------------------ dispatch */

static void
handle(struct evhttp_request *req, void *arg)
{
	struct web *w = arg;
	const char *path = path_of(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct session *s;

	if (strncmp(path, "/static/", 8) == 0) {
		if (cmd != EVHTTP_REQ_GET)
			reply_error(w, req, 405, "GET only");
		else
			serve_static(w, req, path + 8);
		return;
	}
	if (strcmp(path, "/login") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			do_login(w, req);
		else
			serve_login_page(w, req, 200, NULL);
		return;
	}
	s = session_of(w, req);
	if (s == NULL) {
		if (strncmp(path, "/api/", 5) == 0)
			reply_error(w, req, 401, "log in first");
		else if (strcmp(path, "/") == 0)
			redirect(w, req, "/login");
		else
			reply_error(w, req, 404, "not found");
		return;
	}
	if (cmd == EVHTTP_REQ_POST && !csrf_ok(req, s)) {
		reply_error(w, req, 403, "missing or wrong CSRF token");
		return;
	}
	if (strcmp(path, "/logout") == 0 && cmd == EVHTTP_REQ_POST) {
		s->expires = 0;
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Set-Cookie", WEB_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
		    "SameSite=Strict");
		redirect(w, req, "/login");
		return;
	}
	if (strcmp(path, "/") == 0 && cmd == EVHTTP_REQ_GET) {
		serve_overview(w, req, s);
		return;
	}
	if (cmd == EVHTTP_REQ_GET) {
		static const struct {
			const char *path;
			void (*fn)(struct web *, struct evhttp_request *);
		} reads[] = {
			{ "/api/summary", api_summary },
			{ "/api/devices", api_devices },
			{ "/api/device", api_device },
			{ "/api/top", api_top },
			{ "/api/lists", api_lists },
			{ "/api/check", api_check },
			{ "/api/events", api_events },
		};
		for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
			if (strcmp(path, reads[i].path) == 0) {
				reads[i].fn(w, req);
				return;
			}
		if (strcmp(path, "/api/session") == 0) {
			char text[80];
			snprintf(text, sizeof(text), "{\"csrf\":\"%s\"}\n",
			    s->csrf);
			reply_buffer(w, req, 200, "application/json", text,
			    strlen(text));
			return;
		}
	} else if (cmd == EVHTTP_REQ_POST && strncmp(path, "/api/", 5) == 0) {
		api_action(w, req, path + 5);
		return;
	}
	reply_error(w, req, strncmp(path, "/api/", 5) == 0 &&
	    cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_POST ? 405 : 404,
	    "not found");
}

/* ------------------------------------------------------------ set-up */

/* Once a minute, so that an hour nobody looks at still gets its share. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hours_count(arg);
}

static bool
is_loopback(const struct sockaddr *sa)
{
	struct cidr v4, v6;

	cidr_parse("127.0.0.0/8", &v4);
	cidr_parse("::1", &v6);
	return cidr_contains(&v4, sa) || cidr_contains(&v6, sa);
}

static struct bufferevent *
tls_bev(struct event_base *base, void *arg)
{
	struct web *w = arg;
	SSL *ssl = SSL_new(w->ssl);

	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

struct web *
web_new(struct event_base *base, const struct conf *conf,
    const struct web_ops *ops, char *err, size_t errlen)
{
	struct web *w;
	evutil_socket_t fd;
	struct timeval minute = { .tv_sec = 60 };
	int on = 1;
	char where[ADDR_STRLEN];

	addr_ntop_port((const struct sockaddr *)&conf->web_listen.ss, where,
	    sizeof(where));
	w = xcalloc(1, sizeof(*w));
	w->base = base;
	w->ops = *ops;
	if (conf->web_cert != NULL) {
		w->ssl = SSL_CTX_new(TLS_server_method());
		if (w->ssl == NULL || SSL_CTX_set_min_proto_version(w->ssl,
		    TLS1_2_VERSION) != 1 ||
		    SSL_CTX_use_certificate_chain_file(w->ssl,
		    conf->web_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(w->ssl, conf->web_key,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(w->ssl) != 1) {
			snprintf(err, errlen, "web-cert %s, web-key %s: %s",
			    conf->web_cert, conf->web_key, ERR_reason_error_string(
			    ERR_get_error()) ? ERR_reason_error_string(
			    ERR_peek_last_error()) : "cannot be loaded");
			web_free(w);
			return NULL;
		}
	}
	w->http = evhttp_new(base);
	fd = socket(conf->web_listen.ss.ss_family, SOCK_STREAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->http == NULL || fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (const struct sockaddr *)&conf->web_listen.ss,
	    conf->web_listen.len) == -1 || listen(fd, 64) == -1 ||
	    evhttp_accept_socket(w->http, fd) == -1) {
		snprintf(err, errlen, "web-listen %s: %s", where,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		web_free(w);
		return NULL;
	}
	if (w->ssl != NULL)
		evhttp_set_bevcb(w->http, tls_bev, w);
	else if (!is_loopback((const struct sockaddr *)&conf->web_listen.ss))
		log_warnx("web-listen %s without web-cert and web-key: the "
		    "password and the session cross the LAN in the clear",
		    where);
	if (conf->web_password == NULL)
		log_warnx("web-listen %s without web-password: nobody can log "
		    "in (make one with hushctl passwd)", where);
	evhttp_set_timeout(w->http, WEB_TIMEOUT);
	evhttp_set_max_body_size(w->http, WEB_BODY_MAX);
	evhttp_set_max_headers_size(w->http, 16384);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(w->http, handle, w);
	w->live = evbuffer_new();
	evbuffer_enable_locking(w->live, NULL);
	w->live_kick = event_new(base, -1, 0, live_kicked, w);
	w->live_flush = evtimer_new(base, live_flush, w);
	w->tick = event_new(base, -1, EV_PERSIST, on_tick, w);
	event_add(w->tick, &minute);
	on_tick(-1, 0, w);
	log_info("web page on %s://%s/", w->ssl ? "https" : "http", where);
	return w;
}

void
web_free(struct web *w)
{
	if (w == NULL)
		return;
	while (w->streams != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(
		    w->streams->req), NULL, NULL);
		stream_free(w->streams);
	}
	if (w->tick != NULL)
		event_free(w->tick);
	if (w->live_kick != NULL)
		event_free(w->live_kick);
	if (w->live_flush != NULL)
		event_free(w->live_flush);
	if (w->live != NULL)
		evbuffer_free(w->live);
	if (w->http != NULL)
		evhttp_free(w->http);
	SSL_CTX_free(w->ssl);
	free(w);
}
