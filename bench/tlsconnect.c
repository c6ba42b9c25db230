/*
 * tlsconnect.c: full TLS 1.3 handshakes, for bench/sni.sh.
 *
 *   tlsconnect -a ADDR:PORT -s SERVER_NAME -n N -c C [-t SECONDS]
 *
 * Makes N connections, C at a time, each a full TLS 1.3 handshake (no
 * session resumption, the certificate not checked) with SERVER_NAME as
 * SNI; after the handshake it sends close_notify and reads until the
 * server closes. Prints the rate of completed handshakes as key=value
 * pairs; exits 0 when all N completed, 1 otherwise, 2 on a usage error.
 * Nothing runs past -t seconds (default 60).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { ST_FREE, ST_CONNECTING, ST_HANDSHAKE, ST_DRAIN };

struct slot {
	int		 fd;
	SSL		*ssl;
	enum state	 state;
};

static volatile sig_atomic_t stop;
static struct sockaddr_in dst;
static SSL_CTX *ctx;
static const char *server_name;
static int ep;
static unsigned long launched, finished, ok, errors;
static const char *first_error;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tlsconnect -a ADDR:PORT -s SERVER_NAME -n N "
	    "-c C [-t SECONDS]\n");
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
parse_addr(const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		usage();
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1 || port < 1 ||
	    port > 65535)
		usage();
	dst.sin_port = htons((uint16_t)port);
}

static void
slot_end(struct slot *s, const char *error)
{
	if (error != NULL) {
		errors++;
		if (first_error == NULL)
			first_error = error;
	}
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	s->ssl = NULL;
	close(s->fd);
	s->state = ST_FREE;
	finished++;
}

static void
watch(struct slot *s, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(ep, op, s->fd, &ev) == -1) {
		perror("epoll_ctl");
		exit(1);
	}
}

static void
launch(struct slot *s)
{
	launched++;
	s->ssl = NULL;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		errors++;
		finished++;
		if (first_error == NULL)
			first_error = "socket failed";
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS) {
		slot_end(s, "connect failed");
		return;
	}
	s->state = ST_CONNECTING;
	watch(s, EPOLLOUT, EPOLL_CTL_ADD);
}

static void
handshake(struct slot *s)
{
	int r = SSL_do_handshake(s->ssl);

	if (r == 1) {
		ok++;
		/* close_notify, then wait for the server to close. */
		(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		s->ssl = NULL;
		s->state = ST_DRAIN;
		watch(s, EPOLLIN, EPOLL_CTL_MOD);
		return;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		watch(s, EPOLLIN, EPOLL_CTL_MOD);
		return;
	case SSL_ERROR_WANT_WRITE:
		watch(s, EPOLLOUT, EPOLL_CTL_MOD);
		return;
	default:
		ERR_clear_error();
		slot_end(s, "handshake failed");
	}
}

static void
slot_event(struct slot *s)
{
	int err = 0;
	socklen_t len = sizeof(err);
	char sink[16384];
	ssize_t n;

	switch (s->state) {
	case ST_CONNECTING:
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			slot_end(s, "connect failed");
			return;
		}
		if ((s->ssl = SSL_new(ctx)) == NULL ||
		    SSL_set_fd(s->ssl, s->fd) != 1 ||
		    SSL_set_tlsext_host_name(s->ssl, server_name) != 1) {
			slot_end(s, "SSL_new failed");
			return;
		}
		SSL_set_connect_state(s->ssl);
		s->state = ST_HANDSHAKE;
		/* FALLTHROUGH */
	case ST_HANDSHAKE:
		handshake(s);
		return;
	case ST_DRAIN:
		while ((n = recv(s->fd, sink, sizeof(sink), 0)) > 0)
			;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* A reset here is the server's choice: the handshake counted. */
		slot_end(s, NULL);
		return;
	case ST_FREE:
		return;
	}
}

int
main(int argc, char **argv)
{
	unsigned long n = 0, conc = 0;
	double limit = 60, start, end, elapsed;
	struct sigaction sa = { .sa_handler = on_signal };
	struct epoll_event evs[256];
	struct slot *slots;
	int opt;

	while ((opt = getopt(argc, argv, "a:s:n:c:t:")) != -1) {
		switch (opt) {
		case 'a': parse_addr(optarg); break;
		case 's': server_name = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'c': conc = strtoul(optarg, NULL, 10); break;
		case 't': limit = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (optind != argc || dst.sin_family == 0 || server_name == NULL ||
	    n == 0 || conc == 0 || limit <= 0)
		usage();
	if (conc > n)
		conc = n;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		fprintf(stderr, "tlsconnect: cannot set up TLS 1.3\n");
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (slots = calloc(conc, sizeof(*slots))) == NULL) {
		perror("tlsconnect");
		return 1;
	}
	start = now();
	end = start + limit;
	for (unsigned long i = 0; i < conc; i++)
		while (slots[i].state == ST_FREE && launched < n)
			launch(&slots[i]);
	while (!stop && finished < n && now() < end) {
		int k = epoll_wait(ep, evs, 256, 100);
		if (k < 0 && errno != EINTR) {
			perror("epoll_wait");
			return 1;
		}
		for (int i = 0; i < k; i++) {
			struct slot *s = evs[i].data.ptr;
			slot_event(s);
			while (s->state == ST_FREE && launched < n)
				launch(s);
		}
	}
	elapsed = now() - start;
	printf("mode=tls conns=%lu ok=%lu errors=%lu unfinished=%lu "
	    "seconds=%.3f rate=%.0f", n, ok, errors, n - finished, elapsed,
	    (double)ok / elapsed);
	if (first_error != NULL)
		printf(" first_error=\"%s\"", first_error);
	printf("\n");
	return ok == n && finished == n ? 0 : 1;
}
