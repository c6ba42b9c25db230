/*
 * addr.h: socket addresses and CIDR prefixes as the configuration writes
 * them: "127.0.0.1", "127.0.0.1:5300", "[::1]:5300", "::1", "10.0.0.0/8",
 * "fd00::/8". Formatting helpers for logs and events.
 */
#ifndef HUSHD_ADDR_H
#define HUSHD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		bytes[16];
	unsigned	prefix;
};

/* Longest text form of an address with port: "[v6%scope]:65535". */
#define ADDR_STRLEN 64

/*
 * Parses "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT"; a missing port is
 * default_port. Returns NULL on success or what is wrong.
 */
const char *addr_parse(const char *text, uint16_t default_port,
    struct addr *out);

/*
 * Parses "ADDR" or "ADDR/PREFIX". Host bits beyond the prefix are cleared.
 * An IPv4-mapped prefix (::ffff:a.b.c.d/N, N >= 96) becomes a.b.c.d/N-96.
 */
const char *cidr_parse(const char *text, struct cidr *out);

/* IPv4-mapped IPv6 addresses match IPv4 prefixes. */
bool cidr_contains(const struct cidr *cidr, const struct sockaddr *sa);

bool addr_equal(const struct sockaddr *a, const struct sockaddr *b);
uint16_t addr_port(const struct sockaddr *sa);

/* "192.0.2.1", "2001:db8::1" (IPv4-mapped shown as IPv4), no port. */
const char *addr_ntop(const struct sockaddr *sa, char *buf, size_t len);
/* "192.0.2.1:5353", "[2001:db8::1]:5353"; the port is left out when 53. */
const char *addr_ntop_port(const struct sockaddr *sa, char *buf, size_t len);
/* The same, always with the port. */
const char *addr_ntop_full(const struct sockaddr *sa, char *buf, size_t len);

#endif
