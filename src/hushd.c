/*
 * hushd.c: command line, configuration loading, signals and the main loop.
 *
 * Reload (SIGHUP) builds a whole new policy snapshot, configuration and
 * lists, and swaps it in only when that succeeded; on any error the old
 * snapshot keeps serving and the error is logged as "file:line: message".
 * Queries in flight hold a reference to the snapshot they started with.
 * Listen addresses are bound once at start: changing them needs a restart.
 */
#include "config.h"

#include <event2/event.h>
#include <ldns/ldns.h>
#include <maxminddb.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "events.h"
#include "frontend.h"
#include "log.h"
#include "policy.h"

#define RESOLV_CONF	"/etc/resolv.conf"

struct options {
	const char	*conf_path;
	bool		 foreground;
	bool		 debug;
	bool		 check_only;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: hushd [-dfn] -c FILE\n"
	    "       hushd -V\n"
	    "  -c FILE  configuration file\n"
	    "  -f       stay in the foreground, diagnostics to stderr\n"
	    "  -d       debug diagnostics\n"
	    "  -n       check the configuration and lists, then exit\n"
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
reload(struct server *srv, const char *path)
{
	char err[1024];
	unsigned warnings = 0;
	struct policy *next = load_policy(path, &warnings, err, sizeof(err));

	if (next == NULL) {
		log_warnx("reload failed, keeping the running configuration: %s",
		    err);
		return;
	}
	const struct conf *old = srv->policy->conf, *new = next->conf;
	if (old->events == NULL || new->events == NULL ||
	    strcmp(old->events, new->events) != 0) {
		if (!events_open(new->events, err, sizeof(err))) {
			log_warnx("reload failed, keeping the running "
			    "configuration: events %s", err);
			policy_unref(next);
			return;
		}
	}
	if (old->cache_size != new->cache_size) {
		cache_free(srv->cache);
		srv->cache = new->cache_size ? cache_new(new->cache_size) : NULL;
	}
	policy_unref(srv->policy);
	srv->policy = next;
	log_info("configuration reloaded");
	describe(next);
}

struct signal_ctx {
	struct server	*srv;
	const char	*conf_path;
};

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct signal_ctx *ctx = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		reload(ctx->srv, ctx->conf_path);
		break;
	case SIGUSR1:
		events_reopen();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("shutting down");
		event_base_loopbreak(ctx->srv->base);
		break;
	}
}

static void
parse_options(int argc, char **argv, struct options *opt)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:dfnV")) != -1) {
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
		case 'V':
			print_versions();
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc || opt->conf_path == NULL)
		usage();
}

int
main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct server srv = { 0 };
	struct signal_ctx ctx = { .srv = &srv };
	struct event *signals[4];
	const int signos[4] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };
	unsigned warnings = 0;
	char err[1024];

	parse_options(argc, argv, &opt);
	log_init(true, opt.debug);

	srv.policy = load_policy(opt.conf_path, &warnings, err, sizeof(err));
	if (opt.check_only) {
		if (srv.policy == NULL) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: configuration OK (%u list warning%s)\n",
		    opt.conf_path, warnings, warnings == 1 ? "" : "s");
		policy_unref(srv.policy);
		return 0;
	}
	if (srv.policy == NULL)
		fatalx("%s", err);
	describe(srv.policy);

	signal(SIGPIPE, SIG_IGN);
	if ((srv.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	frontend_listen(&srv);
	if (srv.policy->conf->cache_size > 0)
		srv.cache = cache_new(srv.policy->conf->cache_size);
	if (!events_open(srv.policy->conf->events, err, sizeof(err)))
		fatalx("events %s", err);

	if (!opt.foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(false, opt.debug);
	}
	ctx.conf_path = opt.conf_path;
	for (size_t i = 0; i < 4; i++) {
		signals[i] = evsignal_new(srv.base, signos[i], on_signal, &ctx);
		evsignal_add(signals[i], NULL);
	}
	log_info("hushd %s ready", PACKAGE_VERSION);
	event_base_dispatch(srv.base);

	for (size_t i = 0; i < 4; i++)
		event_free(signals[i]);
	frontend_close(&srv);
	events_close();
	cache_free(srv.cache);
	policy_unref(srv.policy);
	event_base_free(srv.base);
	return 0;
}
