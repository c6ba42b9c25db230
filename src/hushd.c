/*
 * hushd.c: command line, configuration loading, signals and the main loop.
 *
 * The main thread owns configuration and signals; queries are served by
 * worker threads (frontend.c), each with its own event loop and sockets.
 * Reload (SIGHUP) builds a whole new policy snapshot, configuration and
 * lists, in the main thread while the workers go on serving, and hands it
 * to every worker only when that succeeded; on any error the old snapshot
 * keeps serving and the error is logged as "file:line: message". Queries
 * in flight hold a reference to the snapshot they started with. Listen
 * addresses and the number of workers are fixed at start: changing them
 * needs a restart.
 */
#include "config.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <ldns/ldns.h>
#include <maxminddb.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "control.h"
#include "events.h"
#include "explain.h"
#include "frontend.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "neigh.h"
#include "nfqueue.h"
#include "policy.h"
#include "pause.h"
#include "ratelimit.h"
#include "remote.h"
#include "seen.h"
#include "sniproxy.h"
#include "web.h"
#include "window.h"

#define RESOLV_CONF	"/etc/resolv.conf"
#define OUI_REGISTRY	"/usr/share/ieee-data/oui.txt"	/* Debian's ieee-data */
#define NEIGH_REFRESH	5		/* seconds between neighbour table reads */
#define SEEN_ENTRIES	65536		/* answer addresses remembered */

struct daemon_state {
	struct event_base	 *base;
	struct policy		 *policy;	/* the snapshot last published */
	struct frontend		**workers;
	unsigned		  n_workers;
	struct frontend_shared	  shared;
	struct sniproxy		 *sniproxy;	/* NULL without sni-listen */
	struct nfqueue		 *nfqueue;	/* NULL without quic-queue */
	struct loop		**loops;	/* every thread that takes snapshots */
	unsigned		  n_loops;
	struct event		 *neigh_timer;
	struct remote		 *remote;	/* remote lists' downloads */
	struct control		 *control;	/* NULL without "control" */
	struct metrics		 *metrics;	/* NULL without metrics-listen */
	struct web		 *web;		/* NULL without web-listen */
	time_t			  started;
	struct worker_stats	**stats;	/* of each worker */
	struct window		**windows;	/* workers', then the proxy's */
	size_t			  n_windows;
	struct event		 *remote_reload;	/* after a new copy */
	bool			  neigh_warned;
	const char		 *conf_path;
};

struct options {
	const char	*conf_path;
	bool		 foreground;
	bool		 debug;
	bool		 check_only;
	const char	*explain;	/* --explain NAME */
	const char	*explain_client;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: hushd [-dfn] -c FILE\n"
	    "       hushd -n -c FILE --explain NAME [CLIENT]\n"
	    "       hushd audit [-c FILE] [--json] [--html FILE] CAPTURE...\n"
	    "       hushd -V\n"
	    "  -c FILE  configuration file\n"
	    "  -f       stay in the foreground, diagnostics to stderr\n"
	    "  -d       debug diagnostics\n"
	    "  -n       check the configuration and lists, then exit\n"
	    "  --explain NAME [CLIENT]\n"
	    "           with -n: the verdict for NAME asked by CLIENT (an\n"
	    "           address or MAC) and every rule covering it; exit 0\n"
	    "           pass, 1 blocked, 2 logged, 3 configuration error\n"
	    "  -V       print the versions of hushd and its libraries\n");
	exit(2);
}

static void
print_versions(void)
{
	printf("hushd %s\n", PACKAGE_VERSION);
	printf("ldns %s\n", ldns_version());
	printf("libevent %s\n", event_get_version());
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("libmaxminddb %s\n", MMDB_lib_version());
}

/* Prints list warnings during a check or at start-up. */
static void
warn_line(void *arg, const char *message)
{
	unsigned *count = arg;

	(*count)++;
	log_warnx("%s", message);
}

/* Loads configuration and lists into a snapshot; NULL with err on failure. */
static struct policy *
load_policy(const char *path, unsigned *warnings, char *err, size_t errlen)
{
	struct conf *conf = conf_load(path, RESOLV_CONF, err, errlen);

	if (conf == NULL)
		return NULL;
	return policy_build(conf, warn_line, warnings, err, errlen);
}

static void
describe(const struct policy *p)
{
	size_t rules = 0;

	for (size_t i = 0; i < p->conf->n_lists; i++)
		rules += list_size(p->lists[i]);
	log_info("%zu lists with %zu rules, %zu groups, %zu upstreams, "
	    "block-mode %s", p->conf->n_lists, rules, p->n_groups,
	    p->conf->n_upstreams, block_mode_name(p->conf->block_mode));
}

/* Reloads; on failure keeps the running state and says why in err. */
static bool
reload(struct daemon_state *st, char *err, size_t errlen)
{
	unsigned warnings = 0;
	struct policy *next = load_policy(st->conf_path, &warnings, err,
	    errlen);

	if (next == NULL) {
		log_warnx("reload failed, keeping the running configuration: %s",
		    err);
		return false;
	}
	const struct conf *old = st->policy->conf, *new = next->conf;
	if (old->events == NULL || new->events == NULL ||
	    strcmp(old->events, new->events) != 0) {
		if (!events_open(new->events, err, errlen)) {
			log_warnx("reload failed, keeping the running "
			    "configuration: events %s", err);
			policy_unref(next);
			return false;
		}
	}
	for (unsigned i = 0; i < st->n_loops; i++)
		loop_publish(st->loops[i], next);
	policy_unref(st->policy);
	st->policy = next;
	remote_configure(st->remote, next->conf);
	log_info("configuration reloaded");
	describe(next);
	return true;
}

static void
reload_or_log(struct daemon_state *st)
{
	char err[1024];

	reload(st, err, sizeof(err));
}

static void
on_remote_reload(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reload_or_log(arg);
}

/* A remote list has a new copy: reload soon, once for lists done together. */
static void
remote_changed(void *arg)
{
	struct daemon_state *st = arg;
	struct timeval soon = { .tv_sec = 1 };

	if (!evtimer_pending(st->remote_reload, NULL))
		evtimer_add(st->remote_reload, &soon);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_state *st = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		reload_or_log(st);
		break;
	case SIGUSR1:
		events_reopen();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("shutting down");
		event_base_loopbreak(st->base);
		break;
	}
}

static void
refresh_neighbours(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_state *st = arg;
	char err[256];

	(void)fd;
	(void)what;
	if (!neigh_refresh(st->shared.neigh, err, sizeof(err)) &&
	    !st->neigh_warned) {
		log_warnx("neighbour table: %s; devices are known by address "
		    "only", err);
		st->neigh_warned = true;
	}
}

/* hushd -n --explain: exit 0 pass, 1 blocked, 2 logged, 3 error. */
static int
explain(struct policy *p, const char *err, const char *name,
    const char *client)
{
	struct sockaddr_storage ss;
	struct client_ident ident;
	enum policy_action action;
	bool ok;

	if (p == NULL) {
		fprintf(stderr, "%s\n", err);
		return 3;
	}
	if (!explain_client(client, &ss, &ident)) {
		fprintf(stderr, "client '%s': not an address or a MAC\n",
		    client);
		policy_unref(p);
		return 3;
	}
	ok = explain_name(p, &ident, name, false, stdout, &action);
	policy_unref(p);
	if (!ok)
		return 3;
	return action == POLICY_BLOCK ? 1 : action == POLICY_LOG ? 2 : 0;
}

static void
view(void *arg, struct metrics_view *v)
{
	struct daemon_state *st = arg;

	v->started = st->started;
	v->workers = st->stats;
	v->n_workers = st->n_workers;
	v->tls = st->sniproxy ? sniproxy_stats(st->sniproxy) : NULL;
	v->policy = st->policy;
	v->remote = st->remote;
}

static bool
web_reload(void *arg, char *err, size_t errlen)
{
	return reload(arg, err, errlen);
}

static unsigned
web_update(void *arg)
{
	struct daemon_state *st = arg;

	return remote_update(st->remote);
}

/* hushctl check NAME [CLIENT]: as --explain, with the neighbour table. */
static int
command_check(struct daemon_state *st, int argc, char **argv, bool json,
    FILE *out)
{
	struct sockaddr_storage ss;
	struct client_ident ident;
	enum policy_action action;

	if (argc < 2 || argc > 3) {
		fprintf(out, "usage: check NAME [CLIENT]\n");
		return 64;
	}
	if (!explain_client(argc == 3 ? argv[2] : NULL, &ss, &ident)) {
		fprintf(out, "client '%s': not an address or a MAC\n", argv[2]);
		return 3;
	}
	if (ss.ss_family != AF_UNSPEC)
		neigh_identify(st->shared.neigh, &ident);
	if (!explain_name(st->policy, &ident, argv[1], json, out, &action))
		return 3;
	return action == POLICY_BLOCK ? 1 : action == POLICY_LOG ? 2 : 0;
}

/* hushctl top devices|names|countries|asns [--blocked] [-n N] */
static int
command_top(struct daemon_state *st, int argc, char **argv, bool json,
    FILE *out)
{
	static const char *kinds[] = { "devices", "names", "countries",
	    "asns" };
	bool blocked = false;
	long n = 10;
	int kind = -1;
	char *end;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--blocked") == 0)
			blocked = true;
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			n = strtol(argv[++i], &end, 10);
			if (*end != '\0' || n < 1 || n > 10000)
				goto usage;
		} else if (kind < 0) {
			for (int k = 0; k < 4; k++)
				if (strcmp(argv[i], kinds[k]) == 0)
					kind = k;
			if (kind < 0)
				goto usage;
		} else
			goto usage;
	}
	if (kind < 0)
		goto usage;
	window_top(st->windows, st->n_windows, (enum window_key)kind, blocked,
	    (size_t)n, (uint32_t)loop_now_seconds(), json, out);
	return 0;
usage:
	fprintf(out, "usage: top devices|names|countries|asns [--blocked] "
	    "[-n N]\n");
	return 64;
}

/* One request of the control socket (see control.h). */
static int
run_command(void *arg, int argc, char **argv, FILE *out)
{
	struct daemon_state *st = arg;
	struct metrics_view v;
	bool json = false;
	char err[1024];
	int kept = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			argv[kept++] = argv[i];
	}
	argc = kept;
	if (argc == 0) {
		fprintf(out, "no command\n");
		return 64;
	}
	if (strcmp(argv[0], "reload") == 0 && argc == 1) {
		if (!reload(st, err, sizeof(err))) {
			fprintf(out, "reload failed, keeping the running "
			    "configuration: %s\n", err);
			return 1;
		}
		fprintf(out, "configuration reloaded\n");
		return 0;
	}
	if (strcmp(argv[0], "update") == 0 && argc == 1) {
		unsigned n = remote_update(st->remote);
		fprintf(out, "%u remote list%s downloading\n", n,
		    n == 1 ? "" : "s");
		return 0;
	}
	if (strcmp(argv[0], "stats") == 0 && argc == 1) {
		view(st, &v);
		metrics_write_stats(&v, json, out);
		return 0;
	}
	if (strcmp(argv[0], "check") == 0)
		return command_check(st, argc, argv, json, out);
	if (strcmp(argv[0], "top") == 0)
		return command_top(st, argc, argv, json, out);
	fprintf(out, "unknown request '%s' (reload, update, stats, check, top, "
	    "tail)\n", argv[0]);
	return 64;
}

/* The account to run as, looked up while /etc/passwd is still in reach. */
struct run_as {
	bool	 drop;
	uid_t	 uid;
	gid_t	 gid;
	char	*name;
};

static void
find_user(const struct conf *conf, struct run_as *ra)
{
	struct passwd *pw;

	memset(ra, 0, sizeof(*ra));
	ra->gid = (gid_t)-1;
	if (geteuid() != 0)
		return;		/* started unprivileged: nothing to drop */
	if (conf->user == NULL)
		fatalx("%s: hushd will not keep running as root: set 'user' to "
		    "the account it should run as once its sockets are open "
		    "(or 'user root' to stay root)", conf->path);
	if (strcmp(conf->user, "root") == 0)
		return;
	if ((pw = getpwnam(conf->user)) == NULL)
		fatalx("%s: user '%s': no such account", conf->path,
		    conf->user);
	ra->drop = true;
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->name = conf->user;
}

/*
 * Gives files hushd writes after start-up to the account it runs as: the
 * event log (reopened after rotation), the remote lists' state.
 */
static void
hand_over_files(const struct conf *conf, const struct run_as *ra)
{
	char *lists;

	if (!ra->drop)
		return;
	if (conf->events != NULL && strcmp(conf->events, "-") != 0 &&
	    chown(conf->events, ra->uid, ra->gid) == -1)
		log_warn("chown %s", conf->events);
	for (size_t i = 0; i < conf->n_lists; i++) {
		if (conf->lists[i].url == NULL)
			continue;
		if (asprintf(&lists, "%s/lists", conf->state_dir) < 0)
			fatalx("out of memory");
		if ((mkdir(conf->state_dir, 0750) == -1 && errno != EEXIST) ||
		    (mkdir(lists, 0750) == -1 && errno != EEXIST) ||
		    chown(conf->state_dir, ra->uid, ra->gid) == -1 ||
		    chown(lists, ra->uid, ra->gid) == -1)
			log_warn("state-dir %s", conf->state_dir);
		free(lists);
		break;
	}
}

/*
 * Drops root for good: chroot (when set), then the account's group and
 * user. No capability is kept: port 53 is bound already, and the TLS
 * proxy needs none (nftables redirects to it; SO_ORIGINAL_DST reads the
 * destination unprivileged).
 */
static void
drop_privileges(const struct conf *conf, const struct run_as *ra)
{
	if (conf->chroot != NULL && geteuid() == 0) {
		if (chroot(conf->chroot) == -1 || chdir("/") == -1)
			fatal("chroot %s", conf->chroot);
	}
	if (!ra->drop)
		return;
	if (setgroups(1, &ra->gid) == -1 ||
	    setresgid(ra->gid, ra->gid, ra->gid) == -1 ||
	    setresuid(ra->uid, ra->uid, ra->uid) == -1)
		fatal("dropping privileges to %s", ra->name);
	if (setuid(0) != -1)
		fatalx("dropping privileges to %s: root could be regained",
		    ra->name);
	log_info("running as %s (uid %u, gid %u)%s%s", ra->name,
	    (unsigned)ra->uid, (unsigned)ra->gid,
	    conf->chroot ? ", chroot " : "", conf->chroot ? conf->chroot : "");
}

static unsigned
worker_count(const struct conf *conf)
{
	long cpus;

	if (conf->workers > 0)
		return conf->workers;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
}

static void
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "explain", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:dfnV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt->conf_path = optarg;
			break;
		case 'd':
			opt->debug = true;
			break;
		case 'f':
			opt->foreground = true;
			break;
		case 'n':
			opt->check_only = true;
			break;
		case 'E':
			opt->explain = optarg;
			break;
		case 'V':
			print_versions();
			exit(0);
		default:
			usage();
		}
	}
	if (opt->explain != NULL && optind + 1 == argc)
		opt->explain_client = argv[optind++];
	if (optind != argc || opt->conf_path == NULL ||
	    (opt->explain != NULL && !opt->check_only))
		usage();
}

int
main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct daemon_state st = { 0 };
	struct event *signals[4];
	const int signos[4] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };
	unsigned warnings = 0;
	struct run_as run_as;
	char err[1024];

	if (argc > 1 && strcmp(argv[1], "audit") == 0) {
		log_init(true, false);
		return audit_main(argc - 1, argv + 1,
		    SYSCONFDIR "/hushd/hushd.conf");
	}
	parse_options(argc, argv, &opt);
	log_init(true, opt.debug);

	st.conf_path = opt.conf_path;
	st.policy = load_policy(opt.conf_path, &warnings, err, sizeof(err));
	if (opt.explain != NULL)
		return explain(st.policy, err, opt.explain, opt.explain_client);
	if (opt.check_only) {
		if (st.policy == NULL) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: configuration OK (%u list warning%s)\n",
		    opt.conf_path, warnings, warnings == 1 ? "" : "s");
		policy_unref(st.policy);
		return 0;
	}
	if (st.policy == NULL)
		fatalx("%s", err);
	describe(st.policy);

	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatalx("libevent has no thread support");
	if ((st.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (!events_open(st.policy->conf->events, err, sizeof(err)))
		fatalx("events %s", err);
	st.shared.neigh = neigh_new();
	st.shared.ratelimit = ratelimit_new();
	st.shared.pause = xcalloc(1, sizeof(*st.shared.pause));
	st.shared.oui = oui_load(OUI_REGISTRY);
	/* Which addresses DNS gave whom matters only to TLS and QUIC. */
	if (st.policy->conf->n_sni_listen > 0 ||
	    st.policy->conf->quic_queue >= 0)
		st.shared.seen = seen_new(SEEN_ENTRIES, 300);
	refresh_neighbours(-1, 0, &st);
	st.n_workers = worker_count(st.policy->conf);
	st.shared.workers = st.n_workers;
	st.workers = xcalloc(st.n_workers, sizeof(*st.workers));
	for (unsigned i = 0; i < st.n_workers; i++)
		st.workers[i] = frontend_new(i, st.policy, &st.shared);
	st.sniproxy = sniproxy_new(st.policy, &st.shared);
	st.nfqueue = nfqueue_new(st.policy, &st.shared);
	st.stats = xcalloc(st.n_workers, sizeof(*st.stats));
	st.windows = xcalloc(st.n_workers + 1, sizeof(*st.windows));
	for (unsigned i = 0; i < st.n_workers; i++) {
		st.stats[i] = frontend_stats(st.workers[i]);
		st.windows[st.n_windows++] = frontend_window(st.workers[i]);
	}
	if (st.sniproxy != NULL)
		st.windows[st.n_windows++] = sniproxy_window(st.sniproxy);
	/* Every thread that follows the snapshots: workers, then the proxy. */
	st.loops = xcalloc(st.n_workers + 2, sizeof(*st.loops));
	for (unsigned i = 0; i < st.n_workers; i++)
		st.loops[st.n_loops++] = frontend_loop(st.workers[i]);
	if (st.sniproxy != NULL)
		st.loops[st.n_loops++] = sniproxy_loop(st.sniproxy);
	if (st.nfqueue != NULL)
		st.loops[st.n_loops++] = nfqueue_loop(st.nfqueue);

	st.started = time(NULL);
	find_user(st.policy->conf, &run_as);
	if (st.policy->conf->control != NULL && (st.control = control_new(
	    st.base, st.policy->conf->control, run_as.gid, run_command, &st,
	    err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (st.policy->conf->metrics_listen.len > 0 &&
	    (st.metrics = metrics_new(st.base,
	    &st.policy->conf->metrics_listen, view, &st, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (st.policy->conf->web_listen.len > 0) {
		struct web_ops ops = {
			.view = view, .reload = web_reload, .update = web_update,
			.arg = &st, .windows = st.windows,
			.n_windows = st.n_windows, .pause = st.shared.pause,
			.neigh = st.shared.neigh, .oui = st.shared.oui,
			.root = st.policy->conf->web_root ?
			    st.policy->conf->web_root : PKGDATADIR "/web",
		};
		if ((st.web = web_new(st.base, st.policy->conf, &ops, err,
		    sizeof(err))) == NULL)
			fatalx("%s", err);
	}
	if (!opt.foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(false, opt.debug);
	}
	hand_over_files(st.policy->conf, &run_as);
	drop_privileges(st.policy->conf, &run_as);
	for (size_t i = 0; i < 4; i++) {
		signals[i] = evsignal_new(st.base, signos[i], on_signal, &st);
		evsignal_add(signals[i], NULL);
	}
	struct timeval every = { .tv_sec = NEIGH_REFRESH };
	st.neigh_timer = event_new(st.base, -1, EV_PERSIST, refresh_neighbours,
	    &st);
	event_add(st.neigh_timer, &every);
	for (unsigned i = 0; i < st.n_loops; i++)
		loop_start(st.loops[i]);
	st.remote = remote_new(st.base, remote_changed, &st);
	st.remote_reload = evtimer_new(st.base, on_remote_reload, &st);
	remote_configure(st.remote, st.policy->conf);
	log_info("hushd %s ready, %u worker%s", PACKAGE_VERSION, st.n_workers,
	    st.n_workers == 1 ? "" : "s");
	event_base_dispatch(st.base);

	control_free(st.control);
	web_free(st.web);
	metrics_free(st.metrics);
	remote_free(st.remote);
	event_free(st.remote_reload);
	/*
	 * The HTTP connections just freed may still have deferred callbacks
	 * queued, each holding a reference: one pass lets them drop it, or
	 * their buffers would outlive the base.
	 */
	event_base_loop(st.base, EVLOOP_NONBLOCK);
	free(st.stats);
	free(st.windows);
	for (unsigned i = 0; i < st.n_loops; i++)
		loop_stop(st.loops[i]);
	free(st.loops);
	sniproxy_free(st.sniproxy);
	nfqueue_free(st.nfqueue);
	for (unsigned i = 0; i < st.n_workers; i++)
		frontend_free(st.workers[i]);
	free(st.workers);
	event_free(st.neigh_timer);
	neigh_free(st.shared.neigh);
	ratelimit_free(st.shared.ratelimit);
	free(st.shared.pause);
	oui_free(st.shared.oui);
	seen_free(st.shared.seen);
	for (size_t i = 0; i < 4; i++)
		event_free(signals[i]);
	events_thread_exit();
	events_close();
	policy_unref(st.policy);
	event_base_free(st.base);
	libevent_global_shutdown();
	return 0;
}
