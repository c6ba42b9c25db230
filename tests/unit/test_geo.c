/*
 * test_geo.c: country and ASN lookups (IPv4, IPv6, IPv4-mapped), missing,
 * corrupt, truncated and wrong-kind databases, build-age warnings.
 *
 * The databases are built at start by tests/tools/mkmmdb.pl (Perl's
 * MaxMind::DB::Writer) in a temporary directory; without Perl or the
 * module those tests are skipped. MaxMind's own test databases are read
 * from $HUSHD_SHARED_TESTDATA/maxmind (by default ../shared/testdata beside
 * the source tree) when they are there.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <maxminddb.h>

#include "geo.h"

#define MKMMDB		HUSHD_SRCDIR "/tests/tools/mkmmdb.pl"
#define MSG_LEN		1024
/* 2001-09-09T01:46:40Z */
#define OLD_EPOCH	1000000000

static char tmpdir[64];
static bool have_writer;

static const char country_desc[] =
    "# a country database\n"
    "country 203.0.113.0/24 CN\n"
    "country 198.51.100.0/24 US\n"
    "country 2001:db8:c0::/48 RU\n"
    "registered 192.0.2.0/24 JP\n";

/* 131 bytes: 125 of 'A', a three-byte character over 125-127, "END". */
#define LONG_ORG \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "\xe2\x82\xac" "END"

static const char asn_desc[] =
    "asn 198.51.100.0/24 4134 \"CHINANET-BACKBONE\"\n"
    "asn 2001:db8:a5::/48 64500 \"EXAMPLE-V6\"\n"
    "asn 192.0.2.0/25 64501\n"
    "asn 203.0.113.0/24 64502 \"" LONG_ORG "\"\n";

static const char *
fixture(const char *name)
{
	static char paths[8][128];
	static int next;
	char *path = paths[next++ % 8];

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return path;
}

static bool
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (f == NULL)
		return false;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	data = malloc((size_t)size);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return data;
}

/* Runs mkmmdb.pl on description with options; name is the output file. */
static bool
build_db(const char *name, const char *options, const char *description)
{
	char desc[128], cmd[1024];

	snprintf(desc, sizeof(desc), "%s/%s.txt", tmpdir, name);
	if (!write_file(desc, description, strlen(description)))
		return false;
	snprintf(cmd, sizeof(cmd), "perl '%s' %s -o '%s/%s' '%s'", MKMMDB,
	    options, tmpdir, name, desc);
	return system(cmd) == 0;
}

static int
setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/hushd-geo-XXXXXX",
	    base != NULL && strlen(base) < 40 ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (system("perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null") != 0) {
		print_message("perl or MaxMind::DB::Writer is missing "
		    "(Debian: libmaxmind-db-writer-perl): the tests on built "
		    "databases are skipped\n");
		return 0;
	}
	have_writer =
	    build_db("country.mmdb", "", country_desc) &&
	    build_db("asn.mmdb", "", asn_desc) &&
	    build_db("old.mmdb", "-e 1000000000", country_desc) &&
	    build_db("v4.mmdb", "-4", "country 203.0.113.0/24 CN\n") &&
	    build_db("dbip-country.mmdb", "-t DBIP-Country-Lite",
	    country_desc) &&
	    build_db("dbip-asn.mmdb", "-t 'DBIP-ASN-Lite (compat=GeoLite2-ASN)'",
	    asn_desc) &&
	    build_db("wrong-country.mmdb", "--wrong-types", country_desc) &&
	    build_db("wrong-asn.mmdb", "--wrong-types", asn_desc);
	return have_writer ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#define NEED_WRITER() do {						\
	if (!have_writer)						\
		skip();							\
} while (0)

static struct geo *
open_ok(const char *country, const char *asn, char *warnings)
{
	char err[MSG_LEN] = "unset";
	struct geo *geo;

	geo = geo_open(country, asn, time(NULL), warnings, MSG_LEN, err,
	    sizeof(err));
	if (geo == NULL)
		fail_msg("geo_open: %s", err);
	assert_string_equal(err, "");
	return geo;
}

/* Expects geo_open to refuse; returns its message, which names path. */
static const char *
open_fails(const char *country, const char *asn, const char *path)
{
	static char err[MSG_LEN];
	char warnings[MSG_LEN];

	err[0] = '\0';
	assert_null(geo_open(country, asn, time(NULL), warnings,
	    sizeof(warnings), err, sizeof(err)));
	if (strncmp(err, path, strlen(path)) != 0 ||
	    strncmp(err + strlen(path), ": ", 2) != 0)
		fail_msg("message does not begin with the file: %s", err);
	return err;
}

static bool
lookup(const struct geo *geo, const char *text, struct geo_info *info)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1)
		return geo_lookup(geo, (struct sockaddr *)&sin, info);
	assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
	return geo_lookup(geo, (struct sockaddr *)&sin6, info);
}

static void
assert_lookup(const struct geo *geo, const char *text, const char *cc,
    uint32_t asn, const char *org)
{
	struct geo_info info;

	assert_true(lookup(geo, text, &info));
	assert_string_equal(info.cc, cc);
	assert_int_equal(info.asn, asn);
	assert_string_equal(info.org, org);
}

static void
assert_nothing(const struct geo *geo, const char *text)
{
	struct geo_info info;

	memset(&info, 0x55, sizeof(info));
	assert_false(lookup(geo, text, &info));
	assert_string_equal(info.cc, "");
	assert_int_equal(info.asn, 0);
	assert_string_equal(info.org, "");
}

static void
test_country(void **state)
{
	char warnings[MSG_LEN];
	struct geo *geo;

	(void)state;
	NEED_WRITER();
	geo = open_ok(fixture("country.mmdb"), NULL, warnings);
	assert_string_equal(warnings, "");
	assert_true(geo_enabled(geo));
	assert_lookup(geo, "203.0.113.5", "CN", 0, "");
	assert_lookup(geo, "2001:db8:c0::1", "RU", 0, "");
	assert_lookup(geo, "2001:db8:c0:ffff::1", "RU", 0, "");
	assert_lookup(geo, "::ffff:203.0.113.200", "CN", 0, "");
	/* No "country" in the record: the registered country stands in. */
	assert_lookup(geo, "192.0.2.7", "JP", 0, "");
	assert_nothing(geo, "8.8.8.8");
	assert_nothing(geo, "2001:db8:c1::1");
	assert_true(geo_country_built(geo) > 0);
	assert_int_equal(geo_asn_built(geo), 0);
	geo_close(geo);
}

static void
test_asn(void **state)
{
	char warnings[MSG_LEN];
	struct geo *geo;

	(void)state;
	NEED_WRITER();
	geo = open_ok(NULL, fixture("asn.mmdb"), warnings);
	assert_string_equal(warnings, "");
	assert_lookup(geo, "198.51.100.7", "", 4134, "CHINANET-BACKBONE");
	assert_lookup(geo, "::ffff:198.51.100.7", "", 4134,
	    "CHINANET-BACKBONE");
	assert_lookup(geo, "2001:db8:a5::9", "", 64500, "EXAMPLE-V6");
	assert_lookup(geo, "192.0.2.1", "", 64501, "");
	assert_nothing(geo, "192.0.2.200");
	assert_nothing(geo, "2001:db8:a6::1");
	assert_int_equal(geo_country_built(geo), 0);
	assert_true(geo_asn_built(geo) > 0);
	geo_close(geo);
}

static void
test_both(void **state)
{
	static const uint8_t v4[4] = { 198, 51, 100, 1 };
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff, 198, 51, 100, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xc0 };
	struct geo_info info;
	struct geo *geo;
	char warnings[MSG_LEN];

	(void)state;
	NEED_WRITER();
	geo = open_ok(fixture("country.mmdb"), fixture("asn.mmdb"), warnings);
	assert_lookup(geo, "198.51.100.7", "US", 4134, "CHINANET-BACKBONE");
	assert_lookup(geo, "2001:db8:a5::9", "", 64500, "EXAMPLE-V6");
	assert_lookup(geo, "2001:db8:c0::9", "RU", 0, "");

	assert_true(geo_lookup_bytes(geo, AF_INET, v4, &info));
	assert_string_equal(info.cc, "US");
	assert_int_equal(info.asn, 4134);
	assert_true(geo_lookup_bytes(geo, AF_INET6, mapped, &info));
	assert_string_equal(info.cc, "US");
	assert_int_equal(info.asn, 4134);
	assert_true(geo_lookup_bytes(geo, AF_INET6, v6, &info));
	assert_string_equal(info.cc, "RU");
	assert_false(geo_lookup_bytes(geo, AF_UNIX, v6, &info));
	assert_false(geo_lookup_bytes(geo, AF_INET, NULL, &info));
	geo_close(geo);
}

static void
test_bad_arguments(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct geo_info info;
	struct geo *geo;
	char warnings[MSG_LEN];

	(void)state;
	geo = open_ok(NULL, NULL, warnings);
	assert_string_equal(warnings, "");
	assert_false(geo_enabled(geo));
	assert_nothing(geo, "203.0.113.5");
	assert_false(geo_lookup(geo, (struct sockaddr *)&sun, &info));
	assert_false(geo_lookup(geo, NULL, &info));
	geo_close(geo);
	assert_false(geo_enabled(NULL));
	assert_nothing(NULL, "203.0.113.5");
	assert_int_equal(geo_country_built(NULL), 0);
	geo_close(NULL);
}

/* An organisation longer than GEO_ORG_MAX is cut between characters. */
static void
test_org_cut(void **state)
{
	struct geo_info info;
	struct geo *geo;
	char warnings[MSG_LEN];

	(void)state;
	NEED_WRITER();
	geo = open_ok(NULL, fixture("asn.mmdb"), warnings);
	assert_true(lookup(geo, "203.0.113.9", &info));
	assert_int_equal(info.asn, 64502);
	assert_int_equal(strlen(info.org), 125);
	assert_memory_equal(info.org, LONG_ORG, 125);
	geo_close(geo);
}

static void
test_missing(void **state)
{
	char warnings[MSG_LEN], expect[MSG_LEN];
	const char *nowhere = fixture("nowhere.mmdb");
	const char *nothing = fixture("nothing.mmdb");
	struct geo *geo;

	(void)state;
	NEED_WRITER();
	geo = open_ok(nowhere, fixture("asn.mmdb"), warnings);
	snprintf(expect, sizeof(expect), "%s: not found, running without "
	    "country data", nowhere);
	assert_string_equal(warnings, expect);
	assert_true(geo_enabled(geo));
	assert_lookup(geo, "198.51.100.7", "", 4134, "CHINANET-BACKBONE");
	assert_int_equal(geo_country_built(geo), 0);
	geo_close(geo);

	geo = open_ok(fixture("country.mmdb"), nothing, warnings);
	snprintf(expect, sizeof(expect), "%s: not found, running without "
	    "ASN data", nothing);
	assert_string_equal(warnings, expect);
	assert_lookup(geo, "198.51.100.7", "US", 0, "");
	geo_close(geo);

	geo = open_ok(nowhere, nothing, warnings);
	snprintf(expect, sizeof(expect), "%s: not found, running without "
	    "country data\n%s: not found, running without ASN data", nowhere,
	    nothing);
	assert_string_equal(warnings, expect);
	assert_false(geo_enabled(geo));
	assert_nothing(geo, "198.51.100.7");
	geo_close(geo);

	/* Without a warnings buffer the messages are dropped, not written. */
	geo = geo_open(nowhere, nothing, time(NULL), NULL, 0, NULL, 0);
	assert_non_null(geo);
	assert_false(geo_enabled(geo));
	geo_close(geo);
}

static void
test_not_a_database(void **state)
{
	const char *path = fixture("random.mmdb");
	uint8_t junk[4096];
	uint32_t x = 12345;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (uint8_t)(x >> 16);
	}
	assert_true(write_file(path, junk, sizeof(junk)));
	open_fails(path, NULL, path);
	open_fails(NULL, path, path);
	assert_true(write_file(path, "", 0));
	open_fails(path, NULL, path);
	open_fails(NULL, tmpdir, tmpdir);
}

/* Every prefix of a valid database is refused. */
static void
test_truncated(void **state)
{
	const char *path = fixture("truncated.mmdb");
	uint8_t *db;
	size_t len, cut;

	(void)state;
	NEED_WRITER();
	db = read_file(fixture("country.mmdb"), &len);
	for (cut = 0; cut < len; cut++) {
		assert_true(write_file(path, db, cut));
		open_fails(path, NULL, path);
	}
	free(db);
}

/* Where the search tree ends, from the metadata. */
static size_t
tree_len(const char *path)
{
	MMDB_s mmdb;
	size_t len;

	assert_int_equal(MMDB_open(path, MMDB_MODE_MMAP, &mmdb), MMDB_SUCCESS);
	len = (size_t)mmdb.metadata.node_count * mmdb.metadata.record_size / 4;
	MMDB_close(&mmdb);
	return len;
}

static size_t
marker_at(const uint8_t *db, size_t len)
{
	static const char marker[] = "\xab\xcd\xefMaxMind.com";
	size_t i = len - (sizeof(marker) - 1);

	while (memcmp(db + i, marker, sizeof(marker) - 1) != 0)
		assert_true(i-- > 0);
	return i;
}

/* Writes db with bytes [from, to) set to value; expects a refusal. */
static const char *
garbled(const uint8_t *db, size_t len, size_t from, size_t to, uint8_t value)
{
	const char *path = fixture("garbled.mmdb");
	uint8_t *copy = malloc(len);
	const char *err;

	assert_non_null(copy);
	memcpy(copy, db, len);
	memset(copy + from, value, to - from);
	assert_true(write_file(path, copy, len));
	free(copy);
	err = open_fails(path, NULL, path);
	return err + strlen(path);
}

/* Replaces the value of key in the metadata (a number) by enc. */
static size_t
set_metadata(uint8_t *db, size_t len, size_t cap, const char *key,
    const uint8_t *enc, size_t enc_len)
{
	size_t at, old;
	uint8_t *p;

	at = marker_at(db, len);
	p = memmem(db + at, len - at, key, strlen(key));
	assert_non_null(p);
	p += strlen(key);
	old = (p[0] & 0x1f) + 1u + (p[0] >> 5 == 0);
	assert_true(len - old + enc_len <= cap);
	memmove(p + enc_len, p + old, (size_t)(db + len - p) - old);
	memcpy(p, enc, enc_len);
	return len - old + enc_len;
}

static void
test_garbled(void **state)
{
	const char *country = fixture("country.mmdb");
	const char *path = fixture("garbled.mmdb");
	uint8_t *db, *big;
	size_t len, tree, marker, big_len;

	(void)state;
	NEED_WRITER();
	db = read_file(country, &len);
	tree = tree_len(country);
	marker = marker_at(db, len);
	assert_true(tree + 16 < marker);

	assert_non_null(strstr(garbled(db, len, 0, tree, 0xff),
	    "points to no record"));
	assert_non_null(strstr(garbled(db, len, tree + 3, tree + 4, 0x01),
	    "separator"));
	assert_non_null(strstr(garbled(db, len, tree + 16, marker, 0xff),
	    "data section"));
	assert_non_null(strstr(garbled(db, len, tree + 16, marker, 0xe1),
	    "data section"));
	garbled(db, len, tree + 16, marker, 0x00);
	garbled(db, len, marker + 14, len, 0xff);

	/*
	 * 2^29 nodes of 32-bit records: 2^32 bytes, which wraps to 0 in
	 * libmaxminddb 1.7's 32-bit arithmetic. Node 0 pointing to itself
	 * lets the library's own start-node walk succeed; reading node
	 * 1,000,000 would then run off the mapping.
	 */
	big = malloc(len + 64);
	assert_non_null(big);
	memcpy(big, db, len);
	memset(big, 0, 8);
	big_len = set_metadata(big, len, len + 64, "node_count",
	    (const uint8_t *)"\xc4\x20\x00\x00\x00", 5);
	big_len = set_metadata(big, big_len, len + 64, "record_size",
	    (const uint8_t *)"\xa1\x20", 2);
	assert_true(write_file(path, big, big_len));
	assert_non_null(strstr(open_fails(path, NULL, path), "does not fit"));
	free(big);
	free(db);
}

/*
 * Each byte of a database inverted in turn, and each set to 0x00 and to
 * 0xe0 (an empty map): opened or refused, never a crash; what opens can
 * be looked up in.
 */
static void
test_byte_flips(void **state)
{
	static const char *const addrs[] = { "203.0.113.5", "2001:db8:c0::1",
	    "192.0.2.7", "198.51.100.1", "8.8.8.8", "::1" };
	const char *path = fixture("flipped.mmdb");
	char err[MSG_LEN];
	struct geo_info info;
	struct geo *geo;
	uint8_t *db, saved;
	size_t len, i, k, opened = 0;
	int variant;

	(void)state;
	NEED_WRITER();
	db = read_file(fixture("asn.mmdb"), &len);
	for (i = 0; i < len; i++) {
		saved = db[i];
		for (variant = 0; variant < 3; variant++) {
			db[i] = variant == 0 ? (uint8_t)~saved :
			    variant == 1 ? 0x00 : 0xe0;
			assert_true(write_file(path, db, len));
			geo = geo_open(NULL, path, time(NULL), NULL, 0, err,
			    sizeof(err));
			if (geo == NULL) {
				assert_int_equal(strncmp(err, path,
				    strlen(path)), 0);
				continue;
			}
			opened++;
			for (k = 0; k < sizeof(addrs) / sizeof(addrs[0]); k++)
				lookup(geo, addrs[k], &info);
			geo_close(geo);
		}
		db[i] = saved;
	}
	/* Bytes of names and numbers change what is found, not whether. */
	assert_true(opened > 0);
	free(db);
}

static void
test_wrong_kind(void **state)
{
	const char *country = fixture("country.mmdb");
	const char *asn = fixture("asn.mmdb");

	(void)state;
	NEED_WRITER();
	assert_non_null(strstr(open_fails(country, country, country),
	    "a GeoLite2-Country database, not ASN data"));
	assert_non_null(strstr(open_fails(asn, asn, asn),
	    "a GeoLite2-ASN database, not country data"));
}

static void
test_other_types(void **state)
{
	char warnings[MSG_LEN];
	struct geo *geo;

	(void)state;
	NEED_WRITER();
	geo = open_ok(fixture("dbip-country.mmdb"), fixture("dbip-asn.mmdb"),
	    warnings);
	assert_lookup(geo, "198.51.100.7", "US", 4134, "CHINANET-BACKBONE");
	geo_close(geo);

	/* An IPv4-only database answers nothing for IPv6. */
	geo = open_ok(fixture("v4.mmdb"), NULL, warnings);
	assert_lookup(geo, "203.0.113.5", "CN", 0, "");
	assert_lookup(geo, "::ffff:203.0.113.5", "CN", 0, "");
	assert_nothing(geo, "2001:db8:c0::1");
	geo_close(geo);
}

/* Fields of unexpected types are left empty. */
static void
test_wrong_types(void **state)
{
	char warnings[MSG_LEN];
	struct geo *geo;

	(void)state;
	NEED_WRITER();
	geo = open_ok(fixture("wrong-country.mmdb"), fixture("wrong-asn.mmdb"),
	    warnings);
	assert_nothing(geo, "203.0.113.5");
	assert_nothing(geo, "198.51.100.7");
	assert_nothing(geo, "2001:db8:a5::9");
	geo_close(geo);
}

static void
test_old(void **state)
{
	char warnings[MSG_LEN], expect[MSG_LEN];
	const char *old = fixture("old.mmdb");
	struct geo *geo;

	(void)state;
	NEED_WRITER();
	geo = open_ok(old, NULL, warnings);
	snprintf(expect, sizeof(expect), "%s: built on 2001-09-09, more than "
	    "a year ago", old);
	assert_string_equal(warnings, expect);
	assert_int_equal(geo_country_built(geo), OLD_EPOCH);
	assert_lookup(geo, "203.0.113.5", "CN", 0, "");
	geo_close(geo);

	/* A year to the day is not yet more than a year. */
	geo = geo_open(old, NULL, OLD_EPOCH + 365 * 86400, warnings,
	    sizeof(warnings), NULL, 0);
	assert_non_null(geo);
	assert_string_equal(warnings, "");
	geo_close(geo);
	geo = geo_open(old, NULL, OLD_EPOCH + 365 * 86400 + 1, warnings,
	    sizeof(warnings), NULL, 0);
	assert_non_null(geo);
	assert_string_equal(warnings, expect);
	geo_close(geo);

	/* A warning that does not fit is cut, never overrun. */
	geo = geo_open(old, fixture("none.mmdb"), time(NULL), warnings, 16,
	    NULL, 0);
	assert_non_null(geo);
	assert_int_equal(strlen(warnings), 15);
	geo_close(geo);
}

/* Where MaxMind's test databases are, or NULL (with a message). */
static const char *
maxmind_file(const char *name)
{
	static char path[512];
	const char *dir = getenv("HUSHD_SHARED_TESTDATA");

	if (dir == NULL || *dir == '\0')
		dir = HUSHD_SRCDIR "/../shared/testdata";
	snprintf(path, sizeof(path), "%s/maxmind/%s", dir, name);
	if (access(path, R_OK) != 0) {
		print_message("%s is not there: skipped\n", path);
		return NULL;
	}
	return path;
}

static void
test_maxmind_country(void **state)
{
	const char *path = maxmind_file("GeoIP2-Country-Test.mmdb");
	struct geo *geo;

	(void)state;
	if (path == NULL)
		skip();
	geo = geo_open(path, NULL, 0, NULL, 0, NULL, 0);
	assert_non_null(geo);
	assert_lookup(geo, "2.125.160.216", "GB", 0, "");
	assert_lookup(geo, "81.2.69.160", "GB", 0, "");
	assert_lookup(geo, "::ffff:81.2.69.160", "GB", 0, "");
	assert_lookup(geo, "2001:218::1", "JP", 0, "");
	assert_lookup(geo, "202.196.224.0", "PH", 0, "");
	assert_nothing(geo, "10.0.0.1");
	geo_close(geo);
}

static void
test_maxmind_asn(void **state)
{
	const char *path = maxmind_file("GeoLite2-ASN-Test.mmdb");
	struct geo *geo;

	(void)state;
	if (path == NULL)
		skip();
	geo = geo_open(NULL, path, 0, NULL, 0, NULL, 0);
	assert_non_null(geo);
	assert_lookup(geo, "1.128.0.0", "", 1221, "Telstra Pty Ltd");
	assert_lookup(geo, "2600:6000::1", "", 237, "Merit Network Inc.");
	assert_nothing(geo, "10.0.0.1");
	geo_close(geo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_asn),
		cmocka_unit_test(test_both),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_org_cut),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_not_a_database),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_old),
		cmocka_unit_test(test_maxmind_country),
		cmocka_unit_test(test_maxmind_asn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
