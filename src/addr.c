/*
 * addr.c: parsing and printing of addresses and CIDR prefixes. Text comes
 * from configuration files, so every form is checked and errors say why.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* The first 12 bytes of an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2). */
static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff };

static const char *
parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long value;

	if (*text == '\0')
		return "missing port after ':'";
	value = strtoul(text, &end, 10);
	if (*end != '\0' || value == 0 || value > 65535 || *text == '-' ||
	    *text == '+')
		return "port must be a number from 1 to 65535";
	*port = (uint16_t)value;
	return NULL;
}

const char *
addr_parse(const char *text, uint16_t default_port, struct addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text = NULL, *colon, *err;
	uint16_t port = default_port;
	size_t host_len;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL)
			return "missing ']' after IPv6 address";
		host_len = (size_t)(close - text - 1);
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0')
			return "unexpected text after ']'";
		text++;
	} else {
		colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			host_len = (size_t)(colon - text);
			port_text = colon + 1;
		} else
			host_len = strlen(text);
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return "not an IP address";
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (port_text != NULL && (err = parse_port(port_text, &port)) != NULL)
		return err;

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
		return NULL;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
		return NULL;
	}
	return "not an IP address";
}

const char *
cidr_parse(const char *text, struct cidr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	memset(out, 0, sizeof(*out));
	if (host_len == 0 || host_len >= sizeof(host))
		return "not an IP address or prefix";
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (inet_pton(AF_INET, host, out->bytes) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->bytes) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return "not an IP address or prefix";
	out->prefix = max;
	if (slash != NULL) {
		char *end;
		unsigned long value;
		if (slash[1] < '0' || slash[1] > '9')
			return "prefix length must be a number";
		value = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || value > max)
			return "prefix length out of range";
		out->prefix = (unsigned)value;
	}
	for (unsigned bit = out->prefix; bit < max; bit++)
		out->bytes[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	/*
	 * Clients in ::ffff:0:0/96 are matched as IPv4 (see addr_bytes), so a
	 * prefix written in that form is kept as the IPv4 prefix it means;
	 * left as IPv6 it could never match anyone.
	 */
	if (out->family == AF_INET6 && out->prefix >= 96 &&
	    memcmp(out->bytes, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(out->bytes, out->bytes + 12, 4);
		memset(out->bytes + 4, 0, 12);
		out->family = AF_INET;
		out->prefix -= 96;
	}
	return NULL;
}

/* The address bytes of sa as IPv4 (4 bytes) or IPv6 (16 bytes). */
static const uint8_t *
addr_bytes(const struct sockaddr *sa, int *family)
{
	if (sa->sa_family == AF_INET) {
		*family = AF_INET;
		return (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = (const uint8_t *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (memcmp(b, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
			*family = AF_INET;
			return b + 12;
		}
		*family = AF_INET6;
		return b;
	}
	*family = AF_UNSPEC;
	return NULL;
}

bool
cidr_contains(const struct cidr *cidr, const struct sockaddr *sa)
{
	int family;
	const uint8_t *b = addr_bytes(sa, &family);
	unsigned full = cidr->prefix / 8, rest = cidr->prefix % 8;

	if (b == NULL || family != cidr->family)
		return false;
	if (memcmp(b, cidr->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (b[full] & mask) == cidr->bytes[full];
}

bool
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

uint16_t
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

const char *
addr_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	int family;
	const uint8_t *b = addr_bytes(sa, &family);

	if (b == NULL || inet_ntop(family, b, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* "host:port" or "[v6]:port", the port left out when it is omit. */
static const char *
ntop_with_port(const struct sockaddr *sa, uint16_t omit, char *buf,
    size_t len)
{
	char host[INET6_ADDRSTRLEN];
	uint16_t port = addr_port(sa);
	int family;

	addr_ntop(sa, host, sizeof(host));
	addr_bytes(sa, &family);
	if (port == omit)
		snprintf(buf, len, "%s", host);
	else if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
	return buf;
}

const char *
addr_ntop_port(const struct sockaddr *sa, char *buf, size_t len)
{
	return ntop_with_port(sa, 53, buf, len);
}

const char *
addr_ntop_full(const struct sockaddr *sa, char *buf, size_t len)
{
	return ntop_with_port(sa, 0, buf, len);
}
