/*
 * origin.c: the plain TCP origin behind the TLS proxies in bench/sni.sh.
 *
 *   origin [-t SECONDS] [-r PORT] [-s PORT:BYTES] [-k PORT]
 *   origin -t SECONDS -C PORT FILE
 *
 * Every listener is on 127.0.0.1. A connection first sends one TLS record
 * (the ClientHello); the origin reads all of it (the length is in the
 * record header), then, depending on the port it came in on:
 *   -r  writes a fixed 100-byte reply and closes;
 *   -s  writes BYTES zero bytes and closes;
 *   -k  writes nothing and holds the connection until the peer closes.
 * -C records the first TLS record a client sends on PORT into FILE and
 * exits (0 when one was recorded), for capturing a real ClientHello.
 *
 * One thread, epoll, nonblocking sockets. It exits by itself after -t
 * seconds (default 3600), on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
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

#define REPLY_LEN	100
#define RECORD_MAX	(5 + 16384 + 2048)	/* header + largest record */
#define STREAM_CHUNK	(256 * 1024)
#define MAX_LISTENERS	8

enum mode { MODE_REPLY, MODE_STREAM, MODE_HOLD, MODE_CAPTURE };

struct listener {
	int		 fd;
	enum mode	 mode;
	uint64_t	 bytes;		/* MODE_STREAM */
	const char	*file;		/* MODE_CAPTURE */
};

struct conn {
	int		 fd;
	struct listener	*l;
	size_t		 got;		/* bytes of the record read */
	size_t		 need;		/* 0 until the header is in */
	uint64_t	 left;		/* bytes still to write */
	const uint8_t	*out;		/* what to write */
	bool		 writing;
	uint8_t		 head[5];
	uint8_t		*record;	/* MODE_CAPTURE only */
};

static volatile sig_atomic_t stop;
static uint8_t zeros[STREAM_CHUNK];
static uint8_t reply[REPLY_LEN];
static int ep;
static bool captured;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: origin [-t SECONDS] [-r PORT] [-s PORT:BYTES] "
	    "[-k PORT]\n       origin [-t SECONDS] -C PORT FILE\n");
	exit(2);
}

static int
listen_on(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, on = 1;
	char *end;
	long p = strtol(port, &end, 10);

	if (*port == '\0' || (*end != '\0' && *end != ':') || p < 1 ||
	    p > 65535)
		usage();
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		fprintf(stderr, "origin: port %ld: %s\n", p, strerror(errno));
		exit(1);
	}
	return fd;
}

static void
conn_free(struct conn *c)
{
	close(c->fd);
	free(c->record);
	free(c);
}

static void
watch(struct conn *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(ep, op, c->fd, &ev) == -1) {
		perror("epoll_ctl");
		exit(1);
	}
}

/* The record is in: act on it. Returns false when the connection is done. */
static bool
record_done(struct conn *c)
{
	FILE *f;

	switch (c->l->mode) {
	case MODE_REPLY:
		c->out = reply;
		c->left = REPLY_LEN;
		break;
	case MODE_STREAM:
		c->out = zeros;
		c->left = c->l->bytes;
		break;
	case MODE_HOLD:
		return true;	/* reads on until the peer closes */
	case MODE_CAPTURE:
		if ((f = fopen(c->l->file, "wb")) == NULL ||
		    fwrite(c->record, 1, c->need, f) != c->need ||
		    fclose(f) != 0)
			perror(c->l->file);
		else
			captured = true;
		stop = 1;
		return false;
	}
	c->writing = true;
	watch(c, EPOLLOUT, EPOLL_CTL_MOD);
	return true;
}

static bool
conn_read(struct conn *c)
{
	uint8_t sink[4096];
	ssize_t n;

	for (;;) {
		if (c->need == 0) {
			n = recv(c->fd, c->head + c->got, 5 - c->got, 0);
		} else if (c->got < c->need) {
			uint8_t *dst = c->record != NULL ? c->record + c->got :
			    sink;
			size_t room = c->need - c->got;
			if (c->record == NULL && room > sizeof(sink))
				room = sizeof(sink);
			n = recv(c->fd, dst, room, 0);
		} else {
			/* MODE_HOLD after the record: wait for the close. */
			n = recv(c->fd, sink, sizeof(sink), 0);
			if (n > 0)
				continue;
		}
		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->got += (size_t)n;
		if (c->need == 0 && c->got == 5) {
			if (c->head[0] != 0x16) {
				fprintf(stderr, "origin: not a TLS handshake "
				    "record\n");
				return false;
			}
			c->need = 5 + ((size_t)c->head[3] << 8 | c->head[4]);
			if (c->l->mode == MODE_CAPTURE) {
				c->record = malloc(c->need);
				if (c->record == NULL)
					return false;
				memcpy(c->record, c->head, 5);
			}
		}
		if (c->need > 0 && c->got == c->need) {
			if (!record_done(c))
				return false;
			if (c->writing)
				return true;
			c->got++;	/* past need: only the close is left */
		}
	}
}

static bool
conn_write(struct conn *c)
{
	ssize_t n;

	while (c->left > 0) {
		size_t len = c->left < STREAM_CHUNK ? (size_t)c->left :
		    STREAM_CHUNK;
		n = send(c->fd, c->out, len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->left -= (uint64_t)n;
	}
	return false;		/* all written: close */
}

int
main(int argc, char **argv)
{
	struct listener ls[MAX_LISTENERS];
	struct epoll_event evs[256];
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned nl = 0;
	long limit = 3600;
	time_t deadline;
	int opt;

	while ((opt = getopt(argc, argv, "t:r:s:k:C:")) != -1) {
		if (opt != 't' && nl == MAX_LISTENERS)
			usage();
		switch (opt) {
		case 't':
			limit = strtol(optarg, NULL, 10);
			if (limit < 1)
				usage();
			break;
		case 'r':
		case 'k':
			ls[nl].fd = listen_on(optarg);
			ls[nl++].mode = opt == 'r' ? MODE_REPLY : MODE_HOLD;
			break;
		case 's': {
			char *colon = strchr(optarg, ':');
			if (colon == NULL)
				usage();
			ls[nl].fd = listen_on(optarg);
			ls[nl].mode = MODE_STREAM;
			ls[nl++].bytes = strtoull(colon + 1, NULL, 10);
			break;
		}
		case 'C':
			if (optind >= argc)
				usage();
			ls[nl].fd = listen_on(optarg);
			ls[nl].mode = MODE_CAPTURE;
			ls[nl++].file = argv[optind++];
			break;
		default:
			usage();
		}
	}
	if (nl == 0 || optind != argc)
		usage();
	for (size_t i = 0; i < REPLY_LEN; i++)
		reply[i] = (uint8_t)('a' + i % 26);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("epoll_create1");
		return 1;
	}
	for (unsigned i = 0; i < nl; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ls[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ls[i].fd, &ev) == -1) {
			perror("epoll_ctl");
			return 1;
		}
	}
	deadline = time(NULL) + limit;
	while (!stop && time(NULL) < deadline) {
		int n = epoll_wait(ep, evs, 256, 500);
		if (n < 0 && errno != EINTR) {
			perror("epoll_wait");
			return 1;
		}
		for (int i = 0; i < n && !stop; i++) {
			void *p = evs[i].data.ptr;
			struct listener *l = NULL;
			for (unsigned j = 0; j < nl; j++)
				if (p == &ls[j])
					l = &ls[j];
			if (l != NULL) {
				int fd;
				while ((fd = accept4(l->fd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
					struct conn *c = calloc(1, sizeof(*c));
					if (c == NULL) {
						close(fd);
						continue;
					}
					c->fd = fd;
					c->l = l;
					watch(c, EPOLLIN, EPOLL_CTL_ADD);
				}
				continue;
			}
			struct conn *c = p;
			bool alive = c->writing ? conn_write(c) : conn_read(c);
			if (!alive)
				conn_free(c);
		}
	}
	for (unsigned i = 0; i < nl; i++)
		if (ls[i].mode == MODE_CAPTURE && !captured)
			return 1;
	return 0;
}
