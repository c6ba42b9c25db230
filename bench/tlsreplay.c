/*
 * tlsreplay.c: the crypto-free client of bench/sni.sh.
 *
 *   tlsreplay replay -a ADDR:PORT -f HELLO -n N -c C [-e BYTES] [-t SECONDS]
 *   tlsreplay bulk   -a ADDR:PORT -f HELLO -c C -e BYTES [-t SECONDS]
 *   tlsreplay hold   -a ADDR:PORT -f HELLO -n N [-t SECONDS]
 *   tlsreplay wait   -a ADDR:PORT [-t SECONDS]
 *
 * Each connection sends the recorded ClientHello in HELLO, then:
 *   replay  reads until the server closes and expects BYTES bytes (default
 *           100); N connections, C at a time; prints the rate.
 *   bulk    C connections at once, each reading and discarding until the
 *           server closes, expecting BYTES bytes; prints MB/s (10^6 B/s).
 *   hold    opens N connections, sends the hello on each and keeps them;
 *           prints "held N" once all have sent it, then waits for SIGTERM
 *           (or -t) and reports how many the other side closed meanwhile.
 *   wait    connects until a connection succeeds (readiness probe).
 * The last line is key=value pairs. Exit status: 0 when every connection
 * did what was expected, 1 otherwise, 2 on a usage error. Nothing runs past
 * -t seconds (default 60).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

#define READ_BUF	(256 * 1024)

enum state { ST_FREE, ST_CONNECTING, ST_SENDING, ST_READING, ST_HELD };

struct slot {
	int		fd;
	enum state	state;
	size_t		sent;
	uint64_t	got;
};

static volatile sig_atomic_t stop;
static struct sockaddr_in dst;
static uint8_t *hello;
static size_t hello_len;
static int ep;
static uint8_t buf[READ_BUF];

/* counts */
static unsigned long launched, finished, ok, errors, wrong_len, dropped;
static uint64_t total_bytes;
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
	fprintf(stderr,
	    "usage: tlsreplay replay -a ADDR:PORT -f HELLO -n N -c C [-e BYTES] [-t S]\n"
	    "       tlsreplay bulk -a ADDR:PORT -f HELLO -c C -e BYTES [-t S]\n"
	    "       tlsreplay hold -a ADDR:PORT -f HELLO -n N [-t S]\n"
	    "       tlsreplay wait -a ADDR:PORT [-t S]\n");
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
read_hello(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "tlsreplay: %s: cannot read\n", path);
		exit(1);
	}
	hello_len = (size_t)n;
	hello = malloc(hello_len);
	if (hello == NULL || fread(hello, 1, hello_len, f) != hello_len) {
		fprintf(stderr, "tlsreplay: %s: cannot read\n", path);
		exit(1);
	}
	fclose(f);
}

static void
fail(struct slot *s, const char *why)
{
	errors++;
	if (first_error == NULL)
		first_error = why;
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

/* Starts a connection in a free slot. */
static void
launch(struct slot *s)
{
	launched++;
	s->sent = 0;
	s->got = 0;
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
		fail(s, errno == EADDRNOTAVAIL ? "no local port" :
		    "connect failed");
		return;
	}
	s->state = ST_CONNECTING;
	watch(s, EPOLLOUT, EPOLL_CTL_ADD);
}

/* Sends what is left of the hello; false when the slot failed. */
static bool
send_hello(struct slot *s)
{
	ssize_t n;

	while (s->sent < hello_len) {
		n = send(s->fd, hello + s->sent, hello_len - s->sent,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			fail(s, "send failed");
			return false;
		}
		s->sent += (size_t)n;
	}
	return true;
}

/*
 * One event on a slot. expect is the byte count a connection must read
 * before the server closes; hold keeps the connection after the hello.
 */
static void
slot_event(struct slot *s, uint64_t expect, bool hold)
{
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	switch (s->state) {
	case ST_CONNECTING:
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			fail(s, "connect failed");
			return;
		}
		s->state = ST_SENDING;
		/* FALLTHROUGH */
	case ST_SENDING:
		if (!send_hello(s))
			return;
		if (s->sent < hello_len)
			return;
		s->state = hold ? ST_HELD : ST_READING;
		watch(s, EPOLLIN, EPOLL_CTL_MOD);
		return;
	case ST_READING:
		for (;;) {
			n = recv(s->fd, buf, sizeof(buf), 0);
			if (n > 0) {
				s->got += (uint64_t)n;
				total_bytes += (uint64_t)n;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			break;
		}
		if (n < 0) {
			fail(s, "reset while reading");
			return;
		}
		if (s->got != expect) {
			wrong_len++;
			fail(s, "wrong reply length");
			return;
		}
		ok++;
		finished++;
		close(s->fd);
		s->state = ST_FREE;
		return;
	case ST_HELD:
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
			return;
		dropped++;
		close(s->fd);
		s->state = ST_FREE;
		return;
	case ST_FREE:
		return;
	}
}

static int
wait_ready(double limit)
{
	double end = now() + limit;

	while (!stop && now() < end) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1)
			return 1;
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0) {
			close(fd);
			printf("mode=wait ready=1\n");
			return 0;
		}
		close(fd);
		usleep(50000);
	}
	printf("mode=wait ready=0\n");
	return 1;
}

int
main(int argc, char **argv)
{
	const char *mode, *file = NULL;
	unsigned long n = 0, conc = 0;
	uint64_t expect = 100;
	double limit = 60, start, end, elapsed;
	struct sigaction sa = { .sa_handler = on_signal };
	struct epoll_event evs[256];
	struct slot *slots;
	bool hold, bulk, held_said = false;
	int opt;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "a:f:n:c:e:t:")) != -1) {
		switch (opt) {
		case 'a': parse_addr(optarg); break;
		case 'f': file = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'c': conc = strtoul(optarg, NULL, 10); break;
		case 'e': expect = strtoull(optarg, NULL, 10); break;
		case 't': limit = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (optind != argc || dst.sin_family == 0 || limit <= 0)
		usage();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "wait") == 0)
		return wait_ready(limit);
	hold = strcmp(mode, "hold") == 0;
	bulk = strcmp(mode, "bulk") == 0;
	if (!hold && !bulk && strcmp(mode, "replay") != 0)
		usage();
	if (file == NULL)
		usage();
	if (bulk)
		n = conc;
	if (hold)
		conc = n;
	if (n == 0 || conc == 0)
		usage();
	if (conc > n)
		conc = n;
	read_hello(file);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (slots = calloc(conc, sizeof(*slots))) == NULL) {
		perror("tlsreplay");
		return 1;
	}
	start = now();
	end = start + limit;
	for (unsigned long i = 0; i < conc; i++)
		while (slots[i].state == ST_FREE && launched < n)
			launch(&slots[i]);
	while (!stop && now() < end) {
		if (!hold && finished == n)
			break;
		if (hold && !held_said) {
			unsigned long held = 0;
			for (unsigned long i = 0; i < conc; i++)
				held += slots[i].state == ST_HELD;
			if (held + errors + dropped == n) {
				printf("held %lu\n", held);
				fflush(stdout);
				held_said = true;
			}
		}
		int k = epoll_wait(ep, evs, 256, 100);
		if (k < 0 && errno != EINTR) {
			perror("epoll_wait");
			return 1;
		}
		for (int i = 0; i < k; i++) {
			struct slot *s = evs[i].data.ptr;
			slot_event(s, expect, hold);
			while (!hold && s->state == ST_FREE && launched < n)
				launch(s);
		}
	}
	elapsed = now() - start;
	if (hold) {
		unsigned long held = 0;
		for (unsigned long i = 0; i < conc; i++)
			held += slots[i].state == ST_HELD;
		printf("mode=hold conns=%lu held=%lu dropped=%lu errors=%lu "
		    "seconds=%.3f%s%s%s\n", n, held, dropped, errors, elapsed,
		    first_error ? " first_error=\"" : "",
		    first_error ? first_error : "", first_error ? "\"" : "");
		return held == n ? 0 : 1;
	}
	unsigned long unfinished = n - finished;
	if (bulk)
		printf("mode=bulk streams=%lu ok=%lu errors=%lu wrong_len=%lu "
		    "unfinished=%lu bytes=%llu seconds=%.3f mbps=%.1f",
		    n, ok, errors, wrong_len, unfinished,
		    (unsigned long long)total_bytes, elapsed,
		    (double)total_bytes / elapsed / 1e6);
	else
		printf("mode=replay conns=%lu ok=%lu errors=%lu wrong_len=%lu "
		    "unfinished=%lu seconds=%.3f rate=%.0f",
		    n, ok, errors, wrong_len, unfinished, elapsed,
		    (double)ok / elapsed);
	if (first_error != NULL)
		printf(" first_error=\"%s\"", first_error);
	printf("\n");
	return ok == n ? 0 : 1;
}
