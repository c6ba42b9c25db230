/*
 * geo.c: country and autonomous system of an address, from MaxMind DB
 * files (the MaxMind DB format, version 2) read with libmaxminddb.
 *
 * libmaxminddb trusts the file: Debian 12's 1.7 exports no verification
 * and, given a node count whose tree size overflows 32 bits, reads past the
 * mapping. So a database is checked here once, when it is opened, before
 * anything reads a node: the metadata (IP version, record size, node
 * count, a tree that fits in the file before the data section), every node
 * of the search tree (each record is a node, empty, or a map inside the
 * data section), and every value reachable from the tree (control bytes,
 * sizes, types, map keys that are strings, pointers inside the section and
 * not to other pointers, nesting at most GEO_DEPTH_MAX deep). The check
 * reads each node once and each value a bounded number of times, so it is
 * linear in the file size: about 20 ms for a 7 MB database of 730,000 nodes
 * and 100,000 records, once per (re)load and never on the query path.
 *
 * After that, lookups read only checked bytes. Pointer cycles among values
 * pass the check but cost nothing: a path lookup follows one pointer per
 * step. Lookups only read the mapping (libmaxminddb has found the IPv4
 * start node at open time since 1.3), so one struct geo serves every
 * thread at once without locks.
 *
 * Not done here: names of places, cities, coordinates; language choice.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <maxminddb.h>

#include "geo.h"
#include "log.h"

#define GEO_MARKER		"\xab\xcd\xefMaxMind.com"
#define GEO_MARKER_LEN		(sizeof(GEO_MARKER) - 1)
#define GEO_SEPARATOR_LEN	16
/* Real databases nest maps and arrays four or five deep. */
#define GEO_DEPTH_MAX		32
/* Values the data check may read per byte of data section, and besides. */
#define GEO_WORK_PER_BYTE	8
#define GEO_WORK_MIN		4096
#define GEO_YEAR		(365 * 24 * 60 * 60)

enum geo_kind {
	GEO_KIND_COUNTRY,
	GEO_KIND_ASN
};

struct geo_db {
	MMDB_s		mmdb;
	bool		open;
};

struct geo {
	struct geo_db	country;
	struct geo_db	asn;
};

/* The data section check: what it reads and what it has still to read. */
struct geo_check {
	const uint8_t	*data;
	uint32_t	 len;		/* up to the metadata marker */
	uint8_t		*queued;	/* one bit per offset */
	uint32_t	*todo;		/* queued offsets not yet read */
	size_t		 ntodo;
	size_t		 todo_cap;
	uint64_t	 budget;	/* values left to read */
};

struct geo_value {
	int		type;		/* MMDB_DATA_TYPE_* */
	uint32_t	size;		/* payload bytes, or map/array entries */
	uint32_t	pointer;	/* MMDB_DATA_TYPE_POINTER: the target */
};

static const char *const key_country[] = { "country", "iso_code", NULL };
static const char *const key_registered[] = { "registered_country",
    "iso_code", NULL };
static const char *const key_asn[] = { "autonomous_system_number", NULL };
static const char *const key_org[] = { "autonomous_system_organization",
    NULL };

static void
geo_append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends a line to a newline-separated message buffer, cutting if full. */
static void
geo_append(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (buf == NULL || len == 0)
		return;
	used = strnlen(buf, len - 1);
	if (used > 0 && len - used > 1)
		buf[used++] = '\n';
	buf[used] = '\0';
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Reads the control byte(s) at *off and leaves *off at the payload. */
static bool
check_control(struct geo_check *c, uint32_t *off, struct geo_value *v)
{
	uint32_t o = *off, size, extra, n, i;
	uint8_t ctrl;

	if (c->budget == 0 || o >= c->len)
		return false;
	c->budget--;
	ctrl = c->data[o++];
	v->type = ctrl >> 5;
	if (v->type == MMDB_DATA_TYPE_POINTER) {
		n = ((ctrl >> 3) & 3) + 1;
		if (c->len - o < n)
			return false;
		v->pointer = n == 4 ? 0 : ctrl & 7;
		for (i = 0; i < n; i++)
			v->pointer = v->pointer << 8 | c->data[o + i];
		if (n == 2)
			v->pointer += 2048;
		else if (n == 3)
			v->pointer += 526336;
		v->size = 0;
		*off = o + n;
		return true;
	}
	if (v->type == MMDB_DATA_TYPE_EXTENDED) {
		if (o >= c->len)
			return false;
		v->type = 7 + c->data[o++];
		if (v->type < MMDB_DATA_TYPE_INT32 ||
		    v->type > MMDB_DATA_TYPE_FLOAT)
			return false;
	}
	size = ctrl & 0x1f;
	if (size >= 29) {
		extra = size - 28;
		if (c->len - o < extra)
			return false;
		for (n = 0, i = 0; i < extra; i++)
			n = n << 8 | c->data[o + i];
		size = size == 29 ? 29 + n : size == 30 ? 285 + n : 65821 + n;
		o += extra;
	}
	v->size = size;
	*off = o;
	return true;
}

static bool
check_skip(struct geo_check *c, uint32_t *off, uint32_t size)
{
	if (c->len - *off < size)
		return false;
	*off += size;
	return true;
}

/* Marks a value to be read later, once whatever the number of references. */
static bool
check_queue(struct geo_check *c, uint32_t off)
{
	if (off >= c->len)
		return false;
	if (c->queued[off / 8] & 1u << (off % 8))
		return true;
	c->queued[off / 8] |= 1u << (off % 8);
	if (c->ntodo == c->todo_cap) {
		c->todo_cap = c->todo_cap == 0 ? 256 : c->todo_cap * 2;
		c->todo = xreallocarray(c->todo, c->todo_cap,
		    sizeof(*c->todo));
	}
	c->todo[c->ntodo++] = off;
	return true;
}

/* A map key: a string, or a pointer to one. */
static bool
check_key(struct geo_check *c, uint32_t *off)
{
	struct geo_value v;
	uint32_t target;

	if (!check_control(c, off, &v))
		return false;
	if (v.type == MMDB_DATA_TYPE_POINTER) {
		target = v.pointer;
		if (!check_control(c, &target, &v))
			return false;
		return v.type == MMDB_DATA_TYPE_UTF8_STRING &&
		    check_skip(c, &target, v.size);
	}
	return v.type == MMDB_DATA_TYPE_UTF8_STRING &&
	    check_skip(c, off, v.size);
}

/*
 * Reads the value at *off and leaves *off after it. Pointers are queued,
 * not followed, so a value shared by many records is read once.
 */
static bool
check_value(struct geo_check *c, uint32_t *off, int depth)
{
	struct geo_value v;
	uint32_t i;

	if (!check_control(c, off, &v))
		return false;
	switch (v.type) {
	case MMDB_DATA_TYPE_POINTER:
		return check_queue(c, v.pointer);
	case MMDB_DATA_TYPE_UTF8_STRING:
	case MMDB_DATA_TYPE_BYTES:
		return check_skip(c, off, v.size);
	case MMDB_DATA_TYPE_DOUBLE:
		return v.size == 8 && check_skip(c, off, v.size);
	case MMDB_DATA_TYPE_FLOAT:
		return v.size == 4 && check_skip(c, off, v.size);
	case MMDB_DATA_TYPE_UINT16:
		return v.size <= 2 && check_skip(c, off, v.size);
	case MMDB_DATA_TYPE_UINT32:
	case MMDB_DATA_TYPE_INT32:
		return v.size <= 4 && check_skip(c, off, v.size);
	case MMDB_DATA_TYPE_UINT64:
		return v.size <= 8 && check_skip(c, off, v.size);
	case MMDB_DATA_TYPE_UINT128:
		return v.size <= 16 && check_skip(c, off, v.size);
	case MMDB_DATA_TYPE_BOOLEAN:
		return v.size <= 1;
	case MMDB_DATA_TYPE_MAP:
		if (depth >= GEO_DEPTH_MAX)
			return false;
		for (i = 0; i < v.size; i++)
			if (!check_key(c, off) ||
			    !check_value(c, off, depth + 1))
				return false;
		return true;
	case MMDB_DATA_TYPE_ARRAY:
		if (depth >= GEO_DEPTH_MAX)
			return false;
		for (i = 0; i < v.size; i++)
			if (!check_value(c, off, depth + 1))
				return false;
		return true;
	default:
		return false;
	}
}

/*
 * Every search tree record: a node, empty, or a map in the data section.
 * The maps are queued for check_data.
 */
static bool
check_tree(const MMDB_s *mmdb, struct geo_check *c, char *why,
    size_t whylen)
{
	MMDB_search_node_s node;
	uint64_t records[2], nodes = mmdb->metadata.node_count, off;
	uint32_t n;
	int i;

	for (n = 0; n < nodes; n++) {
		if (MMDB_read_node(mmdb, n, &node) != MMDB_SUCCESS) {
			snprintf(why, whylen, "search tree node %u unreadable",
			    n);
			return false;
		}
		records[0] = node.left_record;
		records[1] = node.right_record;
		for (i = 0; i < 2; i++) {
			if (records[i] <= nodes)
				continue;
			off = records[i] - nodes;
			if (off < GEO_SEPARATOR_LEN ||
			    off - GEO_SEPARATOR_LEN >= c->len ||
			    c->data[off - GEO_SEPARATOR_LEN] >> 5 !=
			    MMDB_DATA_TYPE_MAP) {
				snprintf(why, whylen, "search tree node %u "
				    "points to no record", n);
				return false;
			}
			check_queue(c, (uint32_t)(off - GEO_SEPARATOR_LEN));
		}
	}
	return true;
}

static bool
check_data(struct geo_check *c, char *why, size_t whylen)
{
	uint32_t start, off;

	while (c->ntodo > 0) {
		start = off = c->todo[--c->ntodo];
		/* Whatever a pointer leads to must not be a pointer again. */
		if (c->data[off] >> 5 == MMDB_DATA_TYPE_POINTER ||
		    !check_value(c, &off, 0)) {
			if (c->budget == 0)
				snprintf(why, whylen, "data section refers "
				    "to itself too often");
			else
				snprintf(why, whylen, "data section: bad "
				    "value at offset %u", start);
			return false;
		}
	}
	return true;
}

/* The checks of the file top comment; on failure, why is set. */
static bool
geo_verify(const MMDB_s *mmdb, char *why, size_t whylen)
{
	const MMDB_metadata_s *meta = &mmdb->metadata;
	struct geo_check c;
	uint64_t tree_len, data_end;
	size_t i;
	bool ok;

	if (meta->ip_version != 4 && meta->ip_version != 6) {
		snprintf(why, whylen, "IP version %u", meta->ip_version);
		return false;
	}
	if (meta->record_size != 24 && meta->record_size != 28 &&
	    meta->record_size != 32) {
		snprintf(why, whylen, "record size %u", meta->record_size);
		return false;
	}
	if (meta->node_count == 0 || meta->database_type == NULL ||
	    meta->database_type[0] == '\0') {
		snprintf(why, whylen, "no nodes or no database type");
		return false;
	}
	data_end = (uint64_t)(mmdb->metadata_section - mmdb->file_content);
	if (data_end < GEO_MARKER_LEN || memcmp(mmdb->metadata_section -
	    GEO_MARKER_LEN, GEO_MARKER, GEO_MARKER_LEN) != 0) {
		snprintf(why, whylen, "metadata marker not found");
		return false;
	}
	data_end -= GEO_MARKER_LEN;
	/* Two records a node: record_size / 4 bytes, in 64 bits. */
	tree_len = (uint64_t)meta->node_count * meta->record_size / 4;
	if (tree_len + GEO_SEPARATOR_LEN >= data_end ||
	    data_end - tree_len - GEO_SEPARATOR_LEN > UINT32_MAX ||
	    mmdb->data_section != mmdb->file_content + tree_len +
	    GEO_SEPARATOR_LEN) {
		snprintf(why, whylen, "search tree of %u nodes does not fit "
		    "the file", meta->node_count);
		return false;
	}
	for (i = 0; i < GEO_SEPARATOR_LEN; i++) {
		if (mmdb->file_content[tree_len + i] != 0) {
			snprintf(why, whylen, "no separator after the "
			    "search tree");
			return false;
		}
	}

	memset(&c, 0, sizeof(c));
	c.data = mmdb->data_section;
	c.len = (uint32_t)(data_end - tree_len - GEO_SEPARATOR_LEN);
	c.queued = xcalloc((size_t)c.len / 8 + 1, 1);
	c.budget = (uint64_t)c.len * GEO_WORK_PER_BYTE + GEO_WORK_MIN;
	ok = check_tree(mmdb, &c, why, whylen) && check_data(&c, why, whylen);
	free(c.queued);
	free(c.todo);
	return ok;
}

static bool
geo_kind_matches(enum geo_kind kind, const char *type)
{
	switch (kind) {
	case GEO_KIND_COUNTRY:
		/* GeoIP2/GeoLite2/DB-IP Country and City; Enterprise has both. */
		return strstr(type, "Country") != NULL ||
		    strstr(type, "City") != NULL ||
		    strstr(type, "Enterprise") != NULL;
	case GEO_KIND_ASN:
		/* GeoLite2-ASN, DBIP-ASN-Lite; GeoIP2-ISP carries the same. */
		return strstr(type, "ASN") != NULL ||
		    strstr(type, "ISP") != NULL;
	}
	return false;
}

static const char *
geo_kind_name(enum geo_kind kind)
{
	return kind == GEO_KIND_COUNTRY ? "country" : "ASN";
}

/* Opens and checks one database; false with err set if it is unusable. */
static bool
geo_db_open(struct geo_db *db, const char *path, enum geo_kind kind,
    time_t now, char *warnings, size_t warnings_len, char *err,
    size_t errlen)
{
	char why[128], day[16];
	struct stat st;
	struct tm tm;
	time_t built;
	int status;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT) {
			geo_append(warnings, warnings_len, "%s: not found, "
			    "running without %s data", path,
			    geo_kind_name(kind));
			return true;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return false;
	}
	status = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (status != MMDB_SUCCESS) {
		if (status == MMDB_IO_ERROR)
			snprintf(err, errlen, "%s: %s: %s", path,
			    MMDB_strerror(status), strerror(errno));
		else
			snprintf(err, errlen, "%s: %s", path,
			    MMDB_strerror(status));
		return false;
	}
	db->open = true;
	if (!geo_verify(&db->mmdb, why, sizeof(why))) {
		snprintf(err, errlen, "%s: not a valid MaxMind DB: %s", path,
		    why);
		return false;
	}
	if (!geo_kind_matches(kind, db->mmdb.metadata.database_type)) {
		snprintf(err, errlen, "%s: a %.64s database, not %s data",
		    path, db->mmdb.metadata.database_type,
		    geo_kind_name(kind));
		return false;
	}
	built = db->mmdb.metadata.build_epoch > (uint64_t)now ? now :
	    (time_t)db->mmdb.metadata.build_epoch;
	if (now - built > GEO_YEAR) {
		if (gmtime_r(&built, &tm) == NULL ||
		    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
			snprintf(day, sizeof(day), "?");
		geo_append(warnings, warnings_len, "%s: built on %s, more "
		    "than a year ago", path, day);
	}
	return true;
}

static void
geo_db_close(struct geo_db *db)
{
	if (db->open)
		MMDB_close(&db->mmdb);
	db->open = false;
}

struct geo *
geo_open(const char *country_path, const char *asn_path, time_t now,
    char *warnings, size_t warnings_len, char *err, size_t errlen)
{
	struct geo *geo = xcalloc(1, sizeof(*geo));
	char scratch[1];

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	if (warnings != NULL && warnings_len > 0)
		warnings[0] = '\0';
	if (country_path != NULL && !geo_db_open(&geo->country, country_path,
	    GEO_KIND_COUNTRY, now, warnings, warnings_len, err, errlen))
		goto fail;
	if (asn_path != NULL && !geo_db_open(&geo->asn, asn_path,
	    GEO_KIND_ASN, now, warnings, warnings_len, err, errlen))
		goto fail;
	return geo;
fail:
	geo_close(geo);
	return NULL;
}

void
geo_close(struct geo *geo)
{
	if (geo == NULL)
		return;
	geo_db_close(&geo->country);
	geo_db_close(&geo->asn);
	free(geo);
}

bool
geo_enabled(const struct geo *geo)
{
	return geo != NULL && (geo->country.open || geo->asn.open);
}

static bool
geo_get(MMDB_entry_s *entry, const char *const *path, uint32_t type,
    MMDB_entry_data_s *data)
{
	return MMDB_aget_value(entry, data, path) == MMDB_SUCCESS &&
	    data->has_data && data->type == type;
}

/* An ISO 3166-1 alpha-2 code, or nothing. */
static bool
geo_get_cc(MMDB_entry_s *entry, const char *const *path, char cc[3])
{
	MMDB_entry_data_s data;
	const char *s;

	if (!geo_get(entry, path, MMDB_DATA_TYPE_UTF8_STRING, &data) ||
	    data.data_size != 2)
		return false;
	s = data.utf8_string;
	if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
		return false;
	cc[0] = s[0];
	cc[1] = s[1];
	cc[2] = '\0';
	return true;
}

static void
geo_get_asn(MMDB_entry_s *entry, struct geo_info *out)
{
	MMDB_entry_data_s data;
	size_t len;

	if (geo_get(entry, key_asn, MMDB_DATA_TYPE_UINT32, &data))
		out->asn = data.uint32;
	if (geo_get(entry, key_org, MMDB_DATA_TYPE_UTF8_STRING, &data)) {
		len = data.data_size;
		if (len > GEO_ORG_MAX - 1) {
			len = GEO_ORG_MAX - 1;
			/* Cut before a character, not inside one. */
			while (len > 0 &&
			    ((const uint8_t *)data.utf8_string)[len] >> 6 == 2)
				len--;
		}
		memcpy(out->org, data.utf8_string, len);
		out->org[len] = '\0';
	}
}

static bool
geo_find(const struct geo_db *db, const struct sockaddr *sa,
    MMDB_entry_s *entry)
{
	MMDB_lookup_result_s result;
	int error;

	if (!db->open)
		return false;
	/* An IPv6 address in an IPv4-only database is an error: not found. */
	result = MMDB_lookup_sockaddr(&db->mmdb, sa, &error);
	if (error != MMDB_SUCCESS || !result.found_entry)
		return false;
	*entry = result.entry;
	return true;
}

bool
geo_lookup_bytes(const struct geo *geo, int family, const uint8_t *bytes,
    struct geo_info *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	MMDB_entry_s entry;

	memset(out, 0, sizeof(*out));
	if (geo == NULL || bytes == NULL)
		return false;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6 && memcmp(bytes, mapped, sizeof(mapped)) == 0) {
		family = AF_INET;
		bytes += sizeof(mapped);
	}
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, bytes, 4);
	} else if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, bytes, 16);
	} else
		return false;

	if (geo_find(&geo->country, (struct sockaddr *)&ss, &entry) &&
	    !geo_get_cc(&entry, key_country, out->cc))
		geo_get_cc(&entry, key_registered, out->cc);
	if (geo_find(&geo->asn, (struct sockaddr *)&ss, &entry))
		geo_get_asn(&entry, out);
	return out->cc[0] != '\0' || out->asn != 0 || out->org[0] != '\0';
}

bool
geo_lookup(const struct geo *geo, const struct sockaddr *addr,
    struct geo_info *out)
{
	memset(out, 0, sizeof(*out));
	if (addr == NULL)
		return false;
	if (addr->sa_family == AF_INET)
		return geo_lookup_bytes(geo, AF_INET, (const uint8_t *)
		    &((const struct sockaddr_in *)addr)->sin_addr, out);
	if (addr->sa_family == AF_INET6)
		return geo_lookup_bytes(geo, AF_INET6, (const uint8_t *)
		    &((const struct sockaddr_in6 *)addr)->sin6_addr, out);
	return false;
}

static time_t
geo_db_built(const struct geo_db *db)
{
	return db->open ? (time_t)db->mmdb.metadata.build_epoch : 0;
}

time_t
geo_country_built(const struct geo *geo)
{
	return geo == NULL ? 0 : geo_db_built(&geo->country);
}

time_t
geo_asn_built(const struct geo *geo)
{
	return geo == NULL ? 0 : geo_db_built(&geo->asn);
}
