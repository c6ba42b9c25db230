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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "events.h"
#include "explain.h"
#include "frontend.h"
#include "log.h"
#include "loop.h"
#include "neigh.h"
#include "policy.h"
#include "remote.h"
#include "seen.h"
#include "sniproxy.h"

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
	struct loop		**loops;	/* every thread that takes snapshots */
	unsigned		  n_loops;
	struct event		 *neigh_timer;
	struct remote		 *remote;	/* remote lists' downloads */
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

static void
reload(struct daemon_state *st)
{
	char err[1024];
	unsigned warnings = 0;
	struct policy *next = load_policy(st->conf_path, &warnings, err,
	    sizeof(err));

	if (next == NULL) {
		log_warnx("reload failed, keeping the running configuration: %s",
		    err);
		return;
	}
	const struct conf *old = st->policy->conf, *new = next->conf;
	if (old->events == NULL || new->events == NULL ||
	    strcmp(old->events, new->events) != 0) {
		if (!events_open(new->events, err, sizeof(err))) {
			log_warnx("reload failed, keeping the running "
			    "configuration: events %s", err);
			policy_unref(next);
			return;
		}
	}
	for (unsigned i = 0; i < st->n_loops; i++)
		loop_publish(st->loops[i], next);
	policy_unref(st->policy);
	st->policy = next;
	remote_configure(st->remote, next->conf);
	log_info("configuration reloaded");
	describe(next);
}

static void
on_remote_reload(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reload(arg);
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
		reload(st);
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
	char err[1024];

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
	st.shared.oui = oui_load(OUI_REGISTRY);
	/* Which addresses DNS gave whom matters only to the TLS proxy. */
	if (st.policy->conf->n_sni_listen > 0)
		st.shared.seen = seen_new(SEEN_ENTRIES, 300);
	refresh_neighbours(-1, 0, &st);
	st.n_workers = worker_count(st.policy->conf);
	st.workers = xcalloc(st.n_workers, sizeof(*st.workers));
	for (unsigned i = 0; i < st.n_workers; i++)
		st.workers[i] = frontend_new(i, st.policy, &st.shared);
	st.sniproxy = sniproxy_new(st.policy, &st.shared);
	/* Every thread that follows the snapshots: workers, then the proxy. */
	st.loops = xcalloc(st.n_workers + 1, sizeof(*st.loops));
	for (unsigned i = 0; i < st.n_workers; i++)
		st.loops[st.n_loops++] = frontend_loop(st.workers[i]);
	if (st.sniproxy != NULL)
		st.loops[st.n_loops++] = sniproxy_loop(st.sniproxy);

	if (!opt.foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(false, opt.debug);
	}
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

	remote_free(st.remote);
	event_free(st.remote_reload);
	for (unsigned i = 0; i < st.n_loops; i++)
		loop_stop(st.loops[i]);
	free(st.loops);
	sniproxy_free(st.sniproxy);
	for (unsigned i = 0; i < st.n_workers; i++)
		frontend_free(st.workers[i]);
	free(st.workers);
	event_free(st.neigh_timer);
	neigh_free(st.shared.neigh);
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
