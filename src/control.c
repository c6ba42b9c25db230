/*
 * control.c: the control socket (see control.h).
 *
 * A request line longer than CONTROL_LINE_MAX, or a client that sends
 * nothing within CONTROL_TIMEOUT seconds, is answered with an error and
 * closed. At most CONTROL_MAX_CLIENTS connections are open at once; "tail"
 * connections drop event lines while more than TAIL_BACKLOG bytes wait
 * to be read, so a stalled reader never holds up the workers that write
 * events.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "events.h"
#include "log.h"

#define CONTROL_TIMEOUT		10	/* seconds to send the request */
#define CONTROL_MAX_CLIENTS	32
#define TAIL_BACKLOG		(1 << 20)
#define TAIL_FILTER_MAX		128

struct control_conn {
	LIST_ENTRY(control_conn) entry;
	struct control		*c;
	struct bufferevent	*bev;
	bool			 tailing;
	bool			 closing;	/* close once the answer is out */
	char			 device[TAIL_FILTER_MAX];	/* "" or filter */
	char			 action[TAIL_FILTER_MAX];
};

struct control {
	struct evconnlistener	*listener;
	char			*path;
	control_fn		 fn;
	void			*arg;
	LIST_HEAD(, control_conn) conns;
	unsigned		 n_conns;
};

static void
conn_free(struct control_conn *cc)
{
	if (cc->tailing)
		events_tap_remove(cc);	/* no tap call runs after this */
	LIST_REMOVE(cc, entry);
	cc->c->n_conns--;
	bufferevent_free(cc->bev);
	free(cc);
}

static void
conn_written(struct bufferevent *bev, void *arg)
{
	struct control_conn *cc = arg;

	(void)bev;
	if (cc->closing)
		conn_free(cc);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *cc = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(cc);
}

/* Called by the thread that writes an event, under the event log's lock. */
static void
tail_tap(void *arg, const char *line, size_t len)
{
	struct control_conn *cc = arg;
	char want[TAIL_FILTER_MAX + 16];

	if (cc->device[0] != '\0') {
		snprintf(want, sizeof(want), "\"device\":\"%s\"", cc->device);
		if (memmem(line, len, want, strlen(want)) == NULL)
			return;
	}
	if (cc->action[0] != '\0') {
		snprintf(want, sizeof(want), "\"action\":\"%s\"", cc->action);
		if (memmem(line, len, want, strlen(want)) == NULL)
			return;
	}
	if (evbuffer_get_length(bufferevent_get_output(cc->bev)) <
	    TAIL_BACKLOG)
		bufferevent_write(cc->bev, line, len);
}

static void
answer(struct control_conn *cc, int status, const char *text, size_t len)
{
	char head[16];

	snprintf(head, sizeof(head), "%d\n", status);
	bufferevent_write(cc->bev, head, strlen(head));
	if (len > 0)
		bufferevent_write(cc->bev, text, len);
	cc->closing = true;
	bufferevent_disable(cc->bev, EV_READ);
	bufferevent_setcb(cc->bev, NULL, conn_written, conn_event, cc);
	if (evbuffer_get_length(bufferevent_get_output(cc->bev)) == 0)
		conn_free(cc);
}

/* tail [--device NAME] [--action pass|log|block] */
static void
start_tail(struct control_conn *cc, int argc, char **argv)
{
	static const char usage[] =
	    "usage: tail [--device NAME] [--action pass|log|block]\n";

	for (int i = 1; i < argc; i++) {
		char *dst = strcmp(argv[i], "--device") == 0 ? cc->device :
		    strcmp(argv[i], "--action") == 0 ? cc->action : NULL;
		if (dst == NULL || i + 1 == argc ||
		    strlen(argv[i + 1]) >= TAIL_FILTER_MAX ||
		    strpbrk(argv[i + 1], "\"\\") != NULL) {
			answer(cc, 64, usage, sizeof(usage) - 1);
			return;
		}
		strcpy(dst, argv[++i]);
	}
	if (!events_tap_add(tail_tap, cc)) {
		static const char busy[] = "too many tail clients\n";
		answer(cc, 1, busy, sizeof(busy) - 1);
		return;
	}
	cc->tailing = true;
	bufferevent_write(cc->bev, "0\n", 2);
	/* Reading on only to notice the client hang up. */
	bufferevent_set_timeouts(cc->bev, NULL, NULL);
}

static void
conn_readable(struct bufferevent *bev, void *arg)
{
	struct control_conn *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line, *argv[CONTROL_MAX_WORDS + 1], *save = NULL, *out = NULL;
	size_t len, out_len = 0;
	int argc = 0, status;
	FILE *f;

	if (cc->tailing) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX) {
			static const char big[] = "request too long\n";
			answer(cc, 64, big, sizeof(big) - 1);
		}
		return;
	}
	for (char *w = strtok_r(line, " \t\r", &save); w != NULL &&
	    argc < CONTROL_MAX_WORDS; w = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	if (argc == 0) {
		static const char empty[] = "empty request\n";
		answer(cc, 64, empty, sizeof(empty) - 1);
	} else if (strcmp(argv[0], "tail") == 0)
		start_tail(cc, argc, argv);
	else if ((f = open_memstream(&out, &out_len)) == NULL) {
		static const char oom[] = "out of memory\n";
		answer(cc, 1, oom, sizeof(oom) - 1);
	} else {
		status = cc->c->fn(cc->c->arg, argc, argv, f);
		fclose(f);
		answer(cc, status, out, out_len);
		free(out);
	}
	free(line);
}

static void
on_accept(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct control *c = arg;
	struct event_base *base = evconnlistener_get_base(listener);
	struct timeval timeout = { .tv_sec = CONTROL_TIMEOUT };
	struct control_conn *cc;

	(void)sa;
	(void)socklen;
	if (c->n_conns >= CONTROL_MAX_CLIENTS) {
		evutil_closesocket(fd);
		return;
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->c = c;
	/*
	 * Thread-safe: a tail's lines are written by the workers, holding
	 * the event log's lock. Callbacks run unlocked, so that this thread
	 * never waits for that lock while holding the connection's.
	 */
	cc->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_THREADSAFE | BEV_OPT_DEFER_CALLBACKS |
	    BEV_OPT_UNLOCK_CALLBACKS);
	if (cc->bev == NULL) {
		evutil_closesocket(fd);
		free(cc);
		return;
	}
	LIST_INSERT_HEAD(&c->conns, cc, entry);
	c->n_conns++;
	bufferevent_setcb(cc->bev, conn_readable, NULL, conn_event, cc);
	bufferevent_set_timeouts(cc->bev, &timeout, NULL);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
}

struct control *
control_new(struct event_base *base, const char *path, gid_t gid,
    control_fn fn, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *c;
	struct stat st;
	mode_t old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control %s: path too long", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	/* Replace a socket left by an earlier run, never another file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control %s: exists and is not a "
			    "socket", path);
			return NULL;
		}
		unlink(path);
	}
	c = xcalloc(1, sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	c->path = xstrdup(path);
	LIST_INIT(&c->conns);
	old = umask(0117);
	c->listener = evconnlistener_new_bind(base, on_accept, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (c->listener == NULL) {
		snprintf(err, errlen, "control %s: %s", path, strerror(errno));
		free(c->path);
		free(c);
		return NULL;
	}
	if (chmod(path, 0660) == -1 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1))
		log_warn("control %s: setting its mode and group", path);
	return c;
}

void
control_free(struct control *c)
{
	struct control_conn *cc;

	if (c == NULL)
		return;
	while ((cc = LIST_FIRST(&c->conns)) != NULL)
		conn_free(cc);
	evconnlistener_free(c->listener);
	unlink(c->path);
	free(c->path);
	free(c);
}
