/*
 * neigh.c: the kernel's neighbour table (RFC 826 ARP and RFC 4861 ND
 * entries, as rtnetlink lists them) and the IEEE OUI registry.
 *
 * A refresh builds a new array of (address, MAC) entries and swaps it in
 * under a write lock; lookups take the read lock. The array is scanned
 * linearly: a household's table holds tens of entries, a large LAN a few
 * hundred, and one scan is a few microseconds. Entries in states FAILED
 * and INCOMPLETE carry no usable MAC and are left out.
 *
 * The OUI registry (about 35,000 vendors) is read once into one sorted
 * array of prefixes and one string arena, and searched by bisection.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#endif

#include "log.h"
#include "neigh.h"

struct neigh_entry {
	struct sockaddr_storage	addr;
	uint8_t			mac[CONF_MAC_LEN];
};

struct neigh {
	pthread_rwlock_t	 lock;
	struct neigh_entry	*entries;
	_Atomic size_t		 n_entries;
};

struct oui_entry {
	uint32_t	prefix;		/* first three bytes of the MAC */
	uint32_t	name;		/* offset into names */
};

/*
 * The registry is read on first use, not at start: a router whose clients
 * are all known by address never needs its megabytes.
 */
struct oui {
	char			*path;
	pthread_mutex_t		 lock;		/* held while reading, and to see it was */
	bool			 loaded;
	struct oui_entry	*entries;
	size_t			 n_entries;
	char			*names;
};

/* Room for one more element in *array (count used, *cap allocated). */
static void *
grow(void *array, size_t count, size_t *cap, size_t size)
{
	if (count < *cap)
		return array;
	*cap = *cap ? *cap * 2 : 64;
	return xreallocarray(array, *cap, size);
}

struct neigh *
neigh_new(void)
{
	struct neigh *n = xcalloc(1, sizeof(*n));

	pthread_rwlock_init(&n->lock, NULL);
	return n;
}

void
neigh_free(struct neigh *n)
{
	if (n == NULL)
		return;
	pthread_rwlock_destroy(&n->lock);
	free(n->entries);
	free(n);
}

static void
neigh_swap(struct neigh *n, struct neigh_entry *entries, size_t count)
{
	struct neigh_entry *old;

	pthread_rwlock_wrlock(&n->lock);
	old = n->entries;
	n->entries = entries;
	n->n_entries = count;
	pthread_rwlock_unlock(&n->lock);
	free(old);
}

static bool
same_address(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* The address as the table keeps it: IPv4-mapped IPv6 becomes IPv4. */
static void
plain_address(const struct sockaddr *in, struct sockaddr_storage *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (in->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)in;
		if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)out;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
			return;
		}
		struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)out;
		o6->sin6_family = AF_INET6;
		o6->sin6_addr = s6->sin6_addr;
	} else if (in->sa_family == AF_INET) {
		struct sockaddr_in *o4 = (struct sockaddr_in *)out;
		o4->sin_family = AF_INET;
		o4->sin_addr = ((const struct sockaddr_in *)in)->sin_addr;
	}
}

void
neigh_identify(struct neigh *n, struct client_ident *out)
{
	struct sockaddr_storage addr;
	const struct neigh_entry *self = NULL;

	out->has_mac = false;
	out->n_siblings = 0;
	if (atomic_load_explicit(&n->n_entries, memory_order_relaxed) == 0)
		return;		/* nothing to find: spare the lock */
	plain_address(out->addr, &addr);
	pthread_rwlock_rdlock(&n->lock);
	for (size_t i = 0; i < n->n_entries && self == NULL; i++)
		if (same_address((struct sockaddr *)&n->entries[i].addr,
		    (struct sockaddr *)&addr))
			self = &n->entries[i];
	if (self != NULL) {
		out->has_mac = true;
		memcpy(out->mac, self->mac, CONF_MAC_LEN);
		for (size_t i = 0; i < n->n_entries &&
		    out->n_siblings < POLICY_MAX_SIBLINGS; i++)
			if (&n->entries[i] != self && memcmp(n->entries[i].mac,
			    self->mac, CONF_MAC_LEN) == 0)
				out->siblings[out->n_siblings++] =
				    n->entries[i].addr;
	}
	pthread_rwlock_unlock(&n->lock);
}

size_t
neigh_count(struct neigh *n)
{
	size_t count;

	pthread_rwlock_rdlock(&n->lock);
	count = n->n_entries;
	pthread_rwlock_unlock(&n->lock);
	return count;
}

bool
neigh_load_text(struct neigh *n, const char *text, char *err, size_t errlen)
{
	struct neigh_entry *entries = NULL;
	size_t count = 0, cap = 0, line_no = 0;
	const char *line = text;

	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256], addr_text[128], mac_text[64];
		struct neigh_entry e;

		line_no++;
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = end ? end + 1 : line + len;
		if (buf[strspn(buf, " \t")] == '\0' ||
		    buf[strspn(buf, " \t")] == '#')
			continue;
		memset(&e, 0, sizeof(e));
		struct sockaddr_in *s4 = (struct sockaddr_in *)&e.addr;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e.addr;
		if (sscanf(buf, "%127s %63s", addr_text, mac_text) != 2 ||
		    !conf_parse_mac(mac_text, e.mac))
			goto bad;
		if (inet_pton(AF_INET, addr_text, &s4->sin_addr) == 1)
			s4->sin_family = AF_INET;
		else if (inet_pton(AF_INET6, addr_text, &s6->sin6_addr) == 1)
			s6->sin6_family = AF_INET6;
		else
			goto bad;
		entries = grow(entries, count, &cap, sizeof(*entries));
		entries[count++] = e;
	}
	neigh_swap(n, entries, count);
	return true;
bad:
	snprintf(err, errlen, "line %zu: expected \"ADDRESS MAC\"", line_no);
	free(entries);
	return false;
}

#ifdef __linux__
/* One RTM_NEWNEIGH message into an entry; false when it has no MAC. */
static bool
parse_neighbour(const struct nlmsghdr *h, struct neigh_entry *e)
{
	const struct ndmsg *nd = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nd));
	bool have_addr = false, have_mac = false;

	if (len < 0 || (nd->ndm_family != AF_INET && nd->ndm_family !=
	    AF_INET6) || (nd->ndm_state & (NUD_FAILED | NUD_INCOMPLETE)))
		return false;
	memset(e, 0, sizeof(*e));
	for (const struct rtattr *a = (const struct rtattr *)((const char *)nd +
	    NLMSG_ALIGN(sizeof(*nd))); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t payload = RTA_PAYLOAD(a);
		if (a->rta_type == NDA_DST && nd->ndm_family == AF_INET &&
		    payload == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&e->addr;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, RTA_DATA(a), 4);
			have_addr = true;
		} else if (a->rta_type == NDA_DST && payload == 16) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e->addr;
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, RTA_DATA(a), 16);
			have_addr = true;
		} else if (a->rta_type == NDA_LLADDR &&
		    payload == CONF_MAC_LEN) {
			memcpy(e->mac, RTA_DATA(a), CONF_MAC_LEN);
			have_mac = true;
		}
	}
	return have_addr && have_mac;
}

bool
neigh_refresh(struct neigh *n, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr	h;
		struct ndmsg	nd;
	} req = {
		.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.h.nlmsg_type = RTM_GETNEIGH,
		.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.h.nlmsg_seq = 1,
		.nd.ndm_family = AF_UNSPEC,
	};
	struct neigh_entry *entries = NULL;
	size_t count = 0, cap = 0;
	char buf[16384];
	bool done = false;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd == -1 || send(fd, &req, req.h.nlmsg_len, 0) == -1) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return false;
	}
	while (!done) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got <= 0) {
			snprintf(err, errlen, "rtnetlink: %s",
			    got == 0 ? "closed" : strerror(errno));
			goto fail;
		}
		size_t left = (size_t)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		    NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			struct neigh_entry e;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				snprintf(err, errlen, "rtnetlink: error reply");
				goto fail;
			}
			if (h->nlmsg_type != RTM_NEWNEIGH ||
			    !parse_neighbour(h, &e))
				continue;
			entries = grow(entries, count, &cap, sizeof(*entries));
			entries[count++] = e;
		}
	}
	close(fd);
	neigh_swap(n, entries, count);
	return true;
fail:
	close(fd);
	free(entries);
	return false;
}
#else
bool
neigh_refresh(struct neigh *n, char *err, size_t errlen)
{
	(void)n;
	snprintf(err, errlen, "no neighbour table on this system");
	return false;
}
#endif

static int
oui_compare(const void *a, const void *b)
{
	uint32_t x = ((const struct oui_entry *)a)->prefix;
	uint32_t y = ((const struct oui_entry *)b)->prefix;

	return x < y ? -1 : x > y;
}

struct oui *
oui_load(const char *path)
{
	struct oui *oui;

	if (access(path, R_OK) == -1)
		return NULL;
	oui = xcalloc(1, sizeof(*oui));
	oui->path = xstrdup(path);
	pthread_mutex_init(&oui->lock, NULL);
	return oui;
}

/* Reads the registry into oui; on failure it stays empty. */
static void
oui_read(struct oui *oui)
{
	FILE *f = fopen(oui->path, "r");
	char line[512];
	size_t names_len = 0, names_cap = 0, entries_cap = 0;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned a, b, c;
		int vendor = 0;
		if (sscanf(line, "%2x-%2x-%2x (hex) %n", &a, &b, &c,
		    &vendor) != 3 || vendor == 0)
			continue;
		char *name = line + vendor;
		name[strcspn(name, "\r\n")] = '\0';
		size_t len = strnlen(name, NEIGH_VENDOR_MAX - 1);
		if (len == 0)
			continue;
		while (names_cap - names_len < len + 1) {
			names_cap = names_cap ? names_cap * 2 : 65536;
			oui->names = xreallocarray(oui->names, names_cap, 1);
		}
		oui->entries = grow(oui->entries, oui->n_entries, &entries_cap,
		    sizeof(*oui->entries));
		oui->entries[oui->n_entries].prefix = a << 16 | b << 8 | c;
		oui->entries[oui->n_entries++].name = (uint32_t)names_len;
		memcpy(oui->names + names_len, name, len);
		oui->names[names_len + len] = '\0';
		names_len += len + 1;
	}
	fclose(f);
	qsort(oui->entries, oui->n_entries, sizeof(*oui->entries),
	    oui_compare);
}

void
oui_free(struct oui *oui)
{
	if (oui == NULL)
		return;
	pthread_mutex_destroy(&oui->lock);
	free(oui->path);
	free(oui->entries);
	free(oui->names);
	free(oui);
}

const char *
oui_vendor(struct oui *oui, const uint8_t mac[6])
{
	struct oui_entry key = {
		.prefix = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2],
	};
	const struct oui_entry *found;

	if (oui == NULL)
		return NULL;
	pthread_mutex_lock(&oui->lock);
	if (!oui->loaded) {
		oui_read(oui);
		oui->loaded = true;
	}
	pthread_mutex_unlock(&oui->lock);
	if (oui->n_entries == 0)
		return NULL;
	found = bsearch(&key, oui->entries, oui->n_entries,
	    sizeof(*oui->entries), oui_compare);
	return found ? oui->names + found->name : NULL;
}
