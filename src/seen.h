/*
 * seen.h: which addresses hushd's DNS answers gave to which client, under
 * which name, until when.
 *
 * When a client later connects to an address (TLS, QUIC), this says
 * whether DNS led it there and under what name ("dns_name"), or whether it
 * went to an address no answer gave it ("unresolved-ip"). Entries live for
 * the answer's TTL plus a grace period; the table is bounded and evicts the
 * least recently used entry. Times are seconds of a monotonic clock, given
 * by the caller. One table serves every worker thread: it is split into
 * shards by client, each with its own lock, so threads rarely wait.
 */
#ifndef HUSHD_SEEN_H
#define HUSHD_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEEN_NAME_MAX	254	/* a domain name in text, NUL included */

struct seen;

struct seen_addr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		bytes[16];
};

/* The address of sa (AF_INET or AF_INET6), port left out. */
struct sockaddr;
void seen_addr_from(const struct sockaddr *sa, struct seen_addr *out);

/*
 * A device's MAC as a seen_addr (family AF_PACKET): answers recorded under
 * it too find the device's connections over its other addresses (a phone
 * that asks over IPv6 and connects over IPv4).
 */
void seen_addr_mac(const uint8_t mac[6], struct seen_addr *out);

/* max_entries > 0; grace: seconds added to every TTL. */
struct seen *seen_new(size_t max_entries, uint32_t grace);
void seen_free(struct seen *seen);

/*
 * Records that client was given addr under name (NUL-terminated, at most
 * SEEN_NAME_MAX - 1 bytes: longer names are cut) for ttl seconds from now.
 * A later record of the same (client, addr) replaces the name and expiry.
 */
void seen_put(struct seen *seen, const struct seen_addr *client,
    const struct seen_addr *addr, const char *name, uint32_t ttl,
    uint64_t now);

/*
 * Finds (client, addr). On a hit copies the name into name (SEEN_NAME_MAX
 * bytes) and returns true; an expired entry is removed and is a miss.
 */
bool seen_get(struct seen *seen, const struct seen_addr *client,
    const struct seen_addr *addr, uint64_t now, char *name);

size_t seen_count(const struct seen *seen);

#endif
