/*
 * remote.c: downloads remote lists into state-dir.
 *
 * One download at a time per list, on the main thread's event loop with
 * libevent's HTTP client over an OpenSSL bufferevent. The copy of list
 * NAME is state-dir/lists/NAME; beside it NAME.meta keeps the validators
 * (ETag, Last-Modified), the address they belong to and when the copy was
 * last confirmed, so a restart neither downloads again too early nor
 * loses the validators. A new copy is written to NAME.tmp, flushed to disk
 * and renamed over the old one: a crash or a full disk never leaves half
 * a list behind.
 *
 * A download is refused, keeping the last good copy, when: the server's
 * certificate or name does not verify; the answer is not 200 (304 confirms
 * the copy); it is larger than max-size; it ends before its announced
 * length; it takes longer than timeout; it holds a NUL byte, no rule, or
 * more lines that are not rules than lines that are (an HTML error page, a
 * captive portal's login form). After a failure the list is retried after
 * a minute, doubling up to its refresh interval.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "json.h"
#include "lists.h"
#include "log.h"
#include "remote.h"
#include "tlsclient.h"

#define REMOTE_MAX_REDIRECTS	5
#define REMOTE_RETRY_S		60	/* first retry after a failure */
#define REMOTE_HEADER_MAX	512	/* longest validator kept */

struct remote_list {
	TAILQ_ENTRY(remote_list) entry;
	struct remote		*r;
	char			*name;
	char			*url;
	char			*ca_file;
	char			*path;
	uint64_t		 refresh_ms;
	uint64_t		 timeout_ms;
	uint64_t		 max_size;
	bool			 seen;		/* in the configuration synced */

	SSL_CTX			*ctx;
	struct event		*timer;		/* next download */
	struct event		*deadline;	/* of the running one */
	struct event		*reaper;	/* frees a finished connection */
	struct evhttp_connection *conn;
	struct evhttp_connection *done_conn;
	struct evhttp_request	*req;
	char			*location;	/* after redirects */
	unsigned		 redirects;
	unsigned		 failures;	/* in a row */
	char			 http_error[64];

	/* For status. */
	time_t			 checked;	/* copy last confirmed */
	time_t			 changed;	/* copy last replaced */
	char			 state[256];
};

struct remote {
	struct event_base	*base;
	struct evdns_base	*dns;
	bool			 dns_tried;
	remote_changed_fn	 changed;
	void			*arg;
	TAILQ_HEAD(, remote_list) lists;
};

/* What NAME.meta holds. */
struct remote_meta {
	char	etag[REMOTE_HEADER_MAX];
	char	last_modified[REMOTE_HEADER_MAX];
	char	url[REMOTE_HEADER_MAX * 4];
	time_t	checked;
};

static void fetch_start(struct remote_list *rl, const char *url);

static char *
meta_path(const struct remote_list *rl, const char *suffix)
{
	char *path;

	if (asprintf(&path, "%s%s", rl->path, suffix) < 0)
		fatalx("out of memory");
	return path;
}

/* Copies src into dst, cut to size. */
static void
copy_field(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
meta_read(const struct remote_list *rl, struct remote_meta *m)
{
	char *path = meta_path(rl, ".meta"), line[REMOTE_HEADER_MAX * 4 + 32];
	FILE *f = fopen(path, "r");

	memset(m, 0, sizeof(*m));
	free(path);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "etag ", 5) == 0)
			copy_field(m->etag, sizeof(m->etag), line + 5);
		else if (strncmp(line, "last-modified ", 14) == 0)
			copy_field(m->last_modified, sizeof(m->last_modified),
			    line + 14);
		else if (strncmp(line, "url ", 4) == 0)
			copy_field(m->url, sizeof(m->url), line + 4);
		else if (strncmp(line, "checked ", 8) == 0)
			m->checked = (time_t)strtoll(line + 8, NULL, 10);
	}
	fclose(f);
}

static void
meta_write(struct remote_list *rl, const char *etag, const char *last_mod)
{
	char *path = meta_path(rl, ".meta"), *text;
	int n;

	n = asprintf(&text, "url %s\nchecked %lld\n%s%s%s%s%s%s", rl->url,
	    (long long)rl->checked, etag ? "etag " : "", etag ? etag : "",
	    etag ? "\n" : "", last_mod ? "last-modified " : "",
	    last_mod ? last_mod : "", last_mod ? "\n" : "");
	if (n < 0)
		fatalx("out of memory");
	if (!file_replace(path, text, (size_t)n, 0640, true))
		log_warnx("list %s: cannot write %s: %s", rl->name, path,
		    strerror(errno));
	free(text);
	free(path);
}

/* A validator from a response header, if it is one we can send back. */
static const char *
validator(struct evkeyvalq *headers, const char *name)
{
	const char *v = evhttp_find_header(headers, name);

	if (v == NULL || strlen(v) >= REMOTE_HEADER_MAX ||
	    strpbrk(v, "\r\n") != NULL)
		return NULL;
	return v;
}

static void
count_skipped(void *arg, const char *message)
{
	char *first = arg;

	if (first[0] == '\0')
		snprintf(first, 256, "%s", message);
}

const char *
remote_check_body(const char *name, const char *body, size_t len,
    size_t *rules, size_t *skipped)
{
	char first[256] = "";
	struct list *list;

	*rules = *skipped = 0;
	if (len == 0)
		return "the download is empty";
	if (memchr(body, '\0', len) != NULL)
		return "the download holds binary data, not a list";
	list = list_parse(name, name, body, len, count_skipped, first);
	*rules = list_size(list);
	*skipped = list->skipped;
	list_free(list);
	if (*rules == 0)
		return "the download holds no rule";
	if (*skipped > *rules)
		return "most lines of the download are not rules "
		    "(an error page?)";
	return NULL;
}

static void
schedule(struct remote_list *rl, uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(rl->timer, &tv);
}

/* Ends the running download: frees its connection once libevent is done. */
static void
fetch_end(struct remote_list *rl)
{
	struct timeval now = { 0, 0 };

	evtimer_del(rl->deadline);
	if (rl->conn != NULL) {
		if (rl->done_conn != NULL)
			evhttp_connection_free(rl->done_conn);
		rl->done_conn = rl->conn;
		rl->conn = NULL;
		evtimer_add(rl->reaper, &now);
	}
	rl->req = NULL;
	free(rl->location);
	rl->location = NULL;
}

static void
fetch_failed(struct remote_list *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fetch_failed(struct remote_list *rl, const char *fmt, ...)
{
	va_list ap;
	char why[200];
	uint64_t retry_ms;
	unsigned shift;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fetch_end(rl);
	rl->failures++;
	shift = rl->failures - 1 > 10 ? 10 : rl->failures - 1;
	retry_ms = (uint64_t)REMOTE_RETRY_S * 1000 << shift;
	if (retry_ms > rl->refresh_ms)
		retry_ms = rl->refresh_ms;
	snprintf(rl->state, sizeof(rl->state), "failed: %s", why);
	log_warnx("list %s: download of %s failed, keeping the last good "
	    "copy: %s; next try in %llus", rl->name, rl->url, why,
	    (unsigned long long)(retry_ms / 1000));
	schedule(rl, retry_ms);
}

static void
fetch_succeeded(struct remote_list *rl, const char *state)
{
	fetch_end(rl);
	rl->failures = 0;
	rl->checked = time(NULL);
	snprintf(rl->state, sizeof(rl->state), "%s", state);
	schedule(rl, rl->refresh_ms);
}

static void
fetch_body(struct remote_list *rl, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	size_t len = evbuffer_get_length(in), rules, skipped;
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	const char *why = remote_check_body(rl->name, body, len, &rules,
	    &skipped);
	char state[128];

	if (why != NULL) {
		fetch_failed(rl, "%s (%zu bytes)", why, len);
		return;
	}
	if (!file_replace(rl->path, body, len, 0640, true)) {
		fetch_failed(rl, "cannot write %s: %s", rl->path,
		    strerror(errno));
		return;
	}
	rl->changed = time(NULL);
	rl->checked = rl->changed;
	meta_write(rl, validator(headers, "ETag"),
	    validator(headers, "Last-Modified"));
	log_info("list %s: downloaded %zu bytes from %s: %zu rules, %zu lines "
	    "skipped", rl->name, len, rl->location ? rl->location : rl->url,
	    rules, skipped);
	snprintf(state, sizeof(state), "ok: %zu rules, %zu lines skipped",
	    rules, skipped);
	fetch_succeeded(rl, state);
	rl->r->changed(rl->r->arg);
}

/* Follows a redirect to an https:// address (or a path on the same host). */
static void
fetch_redirect(struct remote_list *rl, struct evhttp_request *req)
{
	const char *loc = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Location");
	const char *from = rl->location ? rl->location : rl->url;
	char *next = NULL;

	if (loc == NULL) {
		fetch_failed(rl, "HTTP %d without a Location",
		    evhttp_request_get_response_code(req));
		return;
	}
	if (++rl->redirects > REMOTE_MAX_REDIRECTS) {
		fetch_failed(rl, "more than %d redirects", REMOTE_MAX_REDIRECTS);
		return;
	}
	if (strncmp(loc, "https://", 8) == 0)
		next = xstrdup(loc);
	else if (loc[0] == '/' && loc[1] != '/') {
		size_t host_end = 8 + strcspn(from + 8, "/?#");
		if (asprintf(&next, "%.*s%s", (int)host_end, from, loc) < 0)
			fatalx("out of memory");
	} else {
		fetch_failed(rl, "redirected to '%.80s', not an https:// "
		    "address", loc);
		return;
	}
	unsigned redirects = rl->redirects;
	fetch_end(rl);
	rl->redirects = redirects;
	log_info("list %s: redirected to %s", rl->name, next);
	fetch_start(rl, next);
	free(next);
}

static void
fetch_done(struct evhttp_request *req, void *arg)
{
	struct remote_list *rl = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char why[256];

	if (rl->req == NULL)
		return;		/* cancelled */
	if (code == 0) {
		struct bufferevent *bev = rl->conn ?
		    evhttp_connection_get_bufferevent(rl->conn) : NULL;
		why[0] = '\0';
		if (bev != NULL)
			tlsclient_error(bev, why, sizeof(why));
		if (strncmp(why, "certificate", 11) != 0 &&
		    rl->http_error[0] != '\0')
			snprintf(why, sizeof(why), "%s", rl->http_error);
		fetch_failed(rl, "%s", why[0] ? why : "no answer");
		return;
	}
	if (code == HTTP_OK)
		fetch_body(rl, req);
	else if (code == HTTP_NOTMODIFIED) {
		log_info("list %s: not modified since the last download",
		    rl->name);
		fetch_succeeded(rl, "ok: not modified");
		meta_write(rl, validator(evhttp_request_get_input_headers(req),
		    "ETag"), validator(evhttp_request_get_input_headers(req),
		    "Last-Modified"));
	} else if (code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308)
		fetch_redirect(rl, req);
	else
		fetch_failed(rl, "HTTP %d %s", code,
		    evhttp_request_get_response_code_line(req) ?
		    evhttp_request_get_response_code_line(req) : "");
}

static void
fetch_error(enum evhttp_request_error error, void *arg)
{
	struct remote_list *rl = arg;
	static const char *names[] = {
		[EVREQ_HTTP_TIMEOUT] = "no data within the timeout",
		[EVREQ_HTTP_EOF] = "the connection closed before the end "
		    "(truncated)",
		[EVREQ_HTTP_INVALID_HEADER] = "invalid HTTP header",
		[EVREQ_HTTP_BUFFER_ERROR] = "connection error",
		[EVREQ_HTTP_REQUEST_CANCEL] = "cancelled",
		[EVREQ_HTTP_DATA_TOO_LONG] = "larger than max-size",
	};

	snprintf(rl->http_error, sizeof(rl->http_error), "%s",
	    (size_t)error < sizeof(names) / sizeof(names[0]) && names[error] ?
	    names[error] : "HTTP error");
}

static void
fetch_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct remote_list *rl = arg;

	(void)fd;
	(void)what;
	if (rl->req != NULL)
		evhttp_cancel_request(rl->req);
	rl->req = NULL;
	fetch_failed(rl, "not done within %llus",
	    (unsigned long long)(rl->timeout_ms / 1000));
}

static struct evdns_base *
remote_dns(struct remote *r)
{
	if (!r->dns_tried) {
		r->dns_tried = true;
		r->dns = evdns_base_new(r->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	}
	return r->dns;
}

static void
fetch_start(struct remote_list *rl, const char *url)
{
	struct evhttp_uri *uri = evhttp_uri_parse_with_flags(url, 0);
	const char *host, *path, *query;
	char hostbuf[256], hostheader[300], *target = NULL;
	struct remote_meta meta;
	struct bufferevent *bev;
	struct evkeyvalq *out;
	struct timeval tv;
	SSL *ssl;
	int port;

	rl->http_error[0] = '\0';
	if (uri == NULL || evhttp_uri_get_scheme(uri) == NULL ||
	    strcmp(evhttp_uri_get_scheme(uri), "https") != 0 ||
	    (host = evhttp_uri_get_host(uri)) == NULL || host[0] == '\0') {
		fetch_failed(rl, "'%s' is not an https:// address", url);
		goto done;
	}
	/* An IPv6 literal comes with its brackets. */
	snprintf(hostbuf, sizeof(hostbuf), "%.*s",
	    (int)strlen(host) - (host[0] == '[' ? 2 : 0),
	    host + (host[0] == '['));
	port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 443;
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	if (asprintf(&target, "%s%s%s", path && path[0] ? path : "/",
	    query ? "?" : "", query ? query : "") < 0)
		fatalx("out of memory");
	if (rl->ctx == NULL &&
	    (rl->ctx = tlsclient_ctx(rl->ca_file, "remote list")) == NULL) {
		fetch_failed(rl, "cannot load trust anchors %s",
		    rl->ca_file ? rl->ca_file : "(system)");
		goto done;
	}
	if ((ssl = SSL_new(rl->ctx)) == NULL ||
	    !tlsclient_expect_host(ssl, hostbuf)) {
		SSL_free(ssl);
		fetch_failed(rl, "cannot set up TLS for %s", hostbuf);
		goto done;
	}
	bev = bufferevent_openssl_socket_new(rl->r->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		fetch_failed(rl, "cannot set up TLS for %s", hostbuf);
		goto done;
	}
	/* Servers often close without close_notify: lengths catch truncation. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	rl->conn = evhttp_connection_base_bufferevent_new(rl->r->base,
	    remote_dns(rl->r), bev, hostbuf, (unsigned short)port);
	if (rl->conn == NULL) {
		bufferevent_free(bev);
		fetch_failed(rl, "cannot connect to %s", hostbuf);
		goto done;
	}
	evhttp_connection_set_max_body_size(rl->conn, (ev_ssize_t)rl->max_size);
	tv.tv_sec = (time_t)(rl->timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(rl->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(rl->conn, &tv);
	rl->req = evhttp_request_new(fetch_done, rl);
	evhttp_request_set_error_cb(rl->req, fetch_error);
	out = evhttp_request_get_output_headers(rl->req);
	if (port == 443)
		snprintf(hostheader, sizeof(hostheader), "%s", host);
	else
		snprintf(hostheader, sizeof(hostheader), "%s:%d", host, port);
	evhttp_add_header(out, "Host", hostheader);
	evhttp_add_header(out, "User-Agent", "hushd/" PACKAGE_VERSION);
	evhttp_add_header(out, "Accept", "text/plain, */*");
	evhttp_add_header(out, "Connection", "close");
	meta_read(rl, &meta);
	if (strcmp(meta.url, rl->url) == 0 && access(rl->path, R_OK) == 0) {
		if (meta.etag[0] != '\0')
			evhttp_add_header(out, "If-None-Match", meta.etag);
		if (meta.last_modified[0] != '\0')
			evhttp_add_header(out, "If-Modified-Since",
			    meta.last_modified);
	}
	if (url != rl->url)
		rl->location = xstrdup(url);
	if (evhttp_make_request(rl->conn, rl->req, EVHTTP_REQ_GET, target) ==
	    -1) {
		rl->req = NULL;		/* freed by libevent */
		fetch_failed(rl, "cannot send the request to %s", hostbuf);
		goto done;
	}
	snprintf(rl->state, sizeof(rl->state), "downloading");
	evtimer_add(rl->deadline, &tv);
done:
	free(target);
	if (uri != NULL)
		evhttp_uri_free(uri);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct remote_list *rl = arg;

	(void)fd;
	(void)what;
	if (rl->req != NULL)
		return;
	rl->redirects = 0;
	fetch_start(rl, rl->url);
}

static void
on_reaper(evutil_socket_t fd, short what, void *arg)
{
	struct remote_list *rl = arg;

	(void)fd;
	(void)what;
	if (rl->done_conn != NULL)
		evhttp_connection_free(rl->done_conn);
	rl->done_conn = NULL;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_list(const struct remote_list *rl, const struct conf_list *cl)
{
	return strcmp(rl->name, cl->name) == 0 && strcmp(rl->url, cl->url) ==
	    0 && same_str(rl->ca_file, cl->ca_file) &&
	    strcmp(rl->path, cl->path) == 0 && rl->refresh_ms ==
	    cl->refresh_ms && rl->timeout_ms == cl->timeout_ms &&
	    rl->max_size == cl->max_size;
}

static void
rlist_free(struct remote_list *rl)
{
	if (rl->req != NULL)
		evhttp_cancel_request(rl->req);
	if (rl->conn != NULL)
		evhttp_connection_free(rl->conn);
	if (rl->done_conn != NULL)
		evhttp_connection_free(rl->done_conn);
	event_free(rl->timer);
	event_free(rl->deadline);
	event_free(rl->reaper);
	SSL_CTX_free(rl->ctx);
	free(rl->name);
	free(rl->url);
	free(rl->ca_file);
	free(rl->path);
	free(rl->location);
	free(rl);
}

static struct remote_list *
rlist_new(struct remote *r, const struct conf_list *cl)
{
	struct remote_list *rl = xcalloc(1, sizeof(*rl));
	struct remote_meta meta;
	struct stat st;
	time_t now = time(NULL);
	uint64_t wait_ms = 0;

	rl->r = r;
	rl->name = xstrdup(cl->name);
	rl->url = xstrdup(cl->url);
	rl->ca_file = cl->ca_file ? xstrdup(cl->ca_file) : NULL;
	rl->path = xstrdup(cl->path);
	rl->refresh_ms = cl->refresh_ms;
	rl->timeout_ms = cl->timeout_ms;
	rl->max_size = cl->max_size;
	rl->timer = evtimer_new(r->base, on_timer, rl);
	rl->deadline = evtimer_new(r->base, fetch_deadline, rl);
	rl->reaper = evtimer_new(r->base, on_reaper, rl);
	snprintf(rl->state, sizeof(rl->state), "waiting");
	/* A copy of this address confirmed within refresh waits its turn. */
	meta_read(rl, &meta);
	if (stat(rl->path, &st) == 0 && strcmp(meta.url, rl->url) == 0) {
		rl->changed = st.st_mtime;
		rl->checked = meta.checked;
		if (meta.checked <= now && (uint64_t)(now - meta.checked) *
		    1000 < rl->refresh_ms)
			wait_ms = rl->refresh_ms -
			    (uint64_t)(now - meta.checked) * 1000;
	}
	schedule(rl, wait_ms);
	return rl;
}

struct remote *
remote_new(struct event_base *base, remote_changed_fn changed, void *arg)
{
	struct remote *r = xcalloc(1, sizeof(*r));

	r->base = base;
	r->changed = changed;
	r->arg = arg;
	TAILQ_INIT(&r->lists);
	return r;
}

void
remote_free(struct remote *r)
{
	struct remote_list *rl;

	if (r == NULL)
		return;
	while ((rl = TAILQ_FIRST(&r->lists)) != NULL) {
		TAILQ_REMOVE(&r->lists, rl, entry);
		rlist_free(rl);
	}
	if (r->dns != NULL)
		evdns_base_free(r->dns, 0);
	free(r);
}

void
remote_configure(struct remote *r, const struct conf *conf)
{
	struct remote_list *rl, *next;

	TAILQ_FOREACH(rl, &r->lists, entry)
		rl->seen = false;
	for (size_t i = 0; i < conf->n_lists; i++) {
		const struct conf_list *cl = &conf->lists[i];
		if (cl->url == NULL)
			continue;
		TAILQ_FOREACH(rl, &r->lists, entry)
			if (same_list(rl, cl))
				break;
		if (rl == NULL) {
			rl = rlist_new(r, cl);
			TAILQ_INSERT_TAIL(&r->lists, rl, entry);
		}
		rl->seen = true;
	}
	for (rl = TAILQ_FIRST(&r->lists); rl != NULL; rl = next) {
		next = TAILQ_NEXT(rl, entry);
		if (!rl->seen) {
			TAILQ_REMOVE(&r->lists, rl, entry);
			rlist_free(rl);
		}
	}
}

unsigned
remote_update(struct remote *r)
{
	struct remote_list *rl;
	unsigned started = 0;

	TAILQ_FOREACH(rl, &r->lists, entry) {
		if (rl->req != NULL)
			continue;
		evtimer_del(rl->timer);
		rl->failures = 0;
		rl->redirects = 0;
		fetch_start(rl, rl->url);
		started++;
	}
	return started;
}

static void
format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0) {
		snprintf(buf, len, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
remote_status(const struct remote *r, bool json, FILE *out)
{
	const struct remote_list *rl;
	char checked[32], changed[32];
	bool first = true;

	if (json)
		fputs("[", out);
	TAILQ_FOREACH(rl, &r->lists, entry) {
		format_time(rl->checked, checked, sizeof(checked));
		format_time(rl->changed, changed, sizeof(changed));
		if (!json) {
			fprintf(out, "%-20s %-19s %-20s %-20s %s\n", rl->name,
			    rl->req ? "downloading" : "idle", checked,
			    changed, rl->state);
			continue;
		}
		fputs(first ? "{\"list\":" : ",{\"list\":", out);
		first = false;
		json_fput_string(out, rl->name);
		fputs(",\"url\":", out);
		json_fput_string(out, rl->url);
		fputs(",\"checked\":", out);
		json_fput_string(out, rl->checked ? checked : NULL);
		fputs(",\"changed\":", out);
		json_fput_string(out, rl->changed ? changed : NULL);
		fputs(",\"state\":", out);
		json_fput_string(out, rl->state);
		fputs("}", out);
	}
	if (json)
		fputs("]", out);
}
