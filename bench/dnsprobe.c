/*
 * dnsprobe.c: waits until a DNS server answers a name with an expected
 * response code, for measuring how long a server takes to start.
 *
 *   dnsprobe ADDRESS PORT NAME RCODE TIMEOUT_MS
 *
 * Asks NAME (type A, class IN, RD set) over UDP every 5 ms while nothing
 * listens and every 100 ms while the server is silent; exits 0 and prints
 * the milliseconds waited once a response with RCODE (NOERROR, NXDOMAIN,
 * SERVFAIL, REFUSED or a number) arrives, 1 after TIMEOUT_MS.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUERY_MAX	512

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
parse_rcode(const char *s)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	};

	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	char *end;
	long v = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && v >= 0 && v < 16 ? (int)v : -1;
}

/* Writes the query into buf; returns its length, 0 if the name is bad. */
static size_t
build_query(uint8_t *buf, uint16_t id, const char *name)
{
	size_t off = 12;
	const char *label = name;

	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = 0x01;		/* RD */
	buf[5] = 1;		/* QDCOUNT */
	while (*label != '\0') {
		const char *dot = strchr(label, '.');
		size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);

		if (len == 0 || len > 63 || QUERY_MAX - off < len + 6)
			return 0;
		buf[off++] = (uint8_t)len;
		memcpy(buf + off, label, len);
		off += len;
		label += len + (dot != NULL);
	}
	buf[off++] = 0;
	buf[off++] = 0;
	buf[off++] = 1;		/* A */
	buf[off++] = 0;
	buf[off++] = 1;		/* IN */
	return off;
}

int
main(int argc, char **argv)
{
	uint8_t query[QUERY_MAX], reply[4096];
	struct sockaddr_in addr;
	int fd, want;
	size_t qlen;
	uint16_t id = (uint16_t)(getpid() ^ time(NULL));

	if (argc != 6) {
		fprintf(stderr,
		    "usage: dnsprobe ADDRESS PORT NAME RCODE TIMEOUT_MS\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 ||
	    (want = parse_rcode(argv[4])) == -1 ||
	    (qlen = build_query(query, id, argv[3])) == 0) {
		fprintf(stderr, "dnsprobe: bad address, rcode or name\n");
		return 2;
	}
	double start = now_ms(), deadline = start + atof(argv[5]);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		perror("dnsprobe");
		return 1;
	}
	while (now_ms() < deadline) {
		int wait_ms = 100;

		if (send(fd, query, qlen, 0) == -1)
			wait_ms = 5;	/* nothing listens yet */
		double resend = now_ms() + wait_ms;
		for (;;) {
			double left = resend - now_ms();
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (left <= 0)
				break;
			if (poll(&pfd, 1, (int)left + 1) <= 0)
				break;
			ssize_t n = recv(fd, reply, sizeof(reply), 0);
			if (n == -1) {
				/* ICMP port unreachable: wait a little, resend */
				if (errno == ECONNREFUSED) {
					usleep(5000);
					break;
				}
				continue;
			}
			if (n < 12 || reply[0] != query[0] ||
			    reply[1] != query[1] || !(reply[2] & 0x80))
				continue;
			if ((reply[3] & 0x0f) == want) {
				printf("%.1f\n", now_ms() - start);
				return 0;
			}
		}
	}
	fprintf(stderr, "dnsprobe: no %s answer for %s from %s:%s in %s ms\n",
	    argv[4], argv[3], argv[1], argv[2], argv[5]);
	return 1;
}
