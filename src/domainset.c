/*
 * domainset.c: a set of domain names with suffix matching, sized for
 * blocklists of millions of names.
 *
 * Every entry is one record in an arena: the name's length, the name, and
 * then the line and kind as one variable-length number (7 bits a byte, low
 * bits first; the kind is bit 0), records back to back. Lines of a list
 * are small numbers, so a record costs its name plus 4 bytes for any list
 * under a million lines. The index is an
 * open-addressing table with linear probing kept in two parallel arrays:
 * one byte of hash per slot (0 marks an empty slot) and the 32-bit arena
 * offset of the record. A probe reads only the tag bytes; the arena is
 * touched only when a tag agrees, about once in 255 for a missing name.
 * Keeping the line and kind in the arena rather than in the slots is what
 * keeps a million names near 31 MiB: the table has up to 1/0.35 slots per
 * entry, so every byte kept out of a slot saves nearly three.
 *
 * The hash is SipHash-1-3 (siphash.c) with one key per process from
 * getrandom(2), so names chosen to collide in one process do not collide
 * in another, and the hashes of a query name's suffixes, computed once,
 * serve every set (every list) the name is matched against.
 * The table doubles when 70% full; growth re-reads the arena in order.
 * Entries are never removed: a reload builds a new set.
 *
 * Limits: names of 1 to 253 bytes; the arena holds at most 4 GiB, far
 * more than lists.c can produce from the largest file it accepts.
 */
#include "config.h"

#include <sys/mman.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "domainset.h"
#include "siphash.h"
#include "log.h"

#define DOMAINSET_NAME_MAX	253
#define DOMAINSET_MIN_SLOTS	16
/* The longest line-and-kind number: 33 bits, 7 a byte. */
#define VARINT_MAX		5
#define RECORD_MAX		(1 + DOMAINSET_NAME_MAX + VARINT_MAX)

/*
 * The arena is a series of 1 MiB chunks, so that it grows without copying
 * and wastes at most one chunk (plus under a record's size per chunk, as
 * records never straddle two). Only the first chunk starts small and is
 * reallocated until it reaches full size, to keep small sets small.
 * An offset is the chunk index shifted left by CHUNK_SHIFT plus the
 * position inside the chunk.
 */
#define CHUNK_SHIFT		20
#define CHUNK_SIZE		((size_t)1 << CHUNK_SHIFT)
#define CHUNK_MAX		((size_t)1 << (32 - CHUNK_SHIFT))
#define FIRST_CHUNK_SIZE	512

_Static_assert(FIRST_CHUNK_SIZE >= RECORD_MAX,
    "a new chunk must hold the longest record");

struct chunk {
	uint8_t		*mem;
	size_t		 len;
	size_t		 size;
};

struct domainset {
	uint8_t		*tags;		/* per slot: 0 if empty, or hash bits */
	uint32_t	*offsets;	/* per slot: arena offset of a record */
	size_t		 nslots;	/* a power of two */
	size_t		 count;
	/*
	 * Bit n set: some entry has n labels (bit 63: 63 or more). A suffix
	 * with a number of labels no entry has is not looked up: most lists
	 * hold no top-level domain, so the last suffix of every name is
	 * skipped without hashing it, and so are names longer than any entry.
	 */
	uint64_t	 label_counts;
	struct chunk	*chunks;
	size_t		 nchunks;
};

static uint64_t		 hash_key[2];
static pthread_once_t	 hash_key_once = PTHREAD_ONCE_INIT;

static void
hash_key_init(void)
{
	siphash_random_key(hash_key);
}

static inline uint64_t
domainset_hash(const char *name, size_t len)
{
	return siphash13(hash_key, name, len);
}

/* The bit of label_counts for a name of n labels. */
static inline uint64_t
label_bit(size_t n)
{
	return (uint64_t)1 << (n < 63 ? n : 63);
}

/* The top byte of the hash, never 0; the slot index uses the low bits. */
static inline uint8_t
hash_tag(uint64_t hash)
{
	uint8_t tag = (uint8_t)(hash >> 56);

	return tag != 0 ? tag : 1;
}

#define HUGE_PAGE	((size_t)2 << 20)

/*
 * A zeroed array of n elements of size bytes. The index is read at random,
 * so with small pages nearly every probe of a large set would also miss
 * the TLB: arrays of whole huge pages are aligned for them and asked to
 * have them (all their pages are touched anyway as the set fills).
 */
static void *
table_new(size_t n, size_t size)
{
	size_t bytes = n * size;
	void *p;

	if (bytes < HUGE_PAGE || bytes % HUGE_PAGE != 0)
		return xcalloc(n, size);
	if ((p = aligned_alloc(HUGE_PAGE, bytes)) == NULL)
		fatal("domainset: %zu bytes", bytes);
#ifdef MADV_HUGEPAGE
	(void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
	memset(p, 0, bytes);
	return p;
}

struct domainset *
domainset_new(void)
{
	struct domainset *set = xcalloc(1, sizeof(*set));

	pthread_once(&hash_key_once, hash_key_init);
	set->nslots = DOMAINSET_MIN_SLOTS;
	set->tags = table_new(set->nslots, sizeof(*set->tags));
	set->offsets = table_new(set->nslots, sizeof(*set->offsets));
	return set;
}

void
domainset_free(struct domainset *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->nchunks; i++)
		free(set->chunks[i].mem);
	free(set->chunks);
	free(set->tags);
	free(set->offsets);
	free(set);
}

size_t
domainset_count(const struct domainset *set)
{
	return set->count;
}

static inline uint8_t *
record_at(const struct domainset *set, uint32_t off)
{
	return set->chunks[off >> CHUNK_SHIFT].mem + (off & (CHUNK_SIZE - 1));
}

/*
 * Finds name; returns true and its slot, or false and the empty slot
 * where it would go. The table is never full, so the probe ends.
 */
static bool
domainset_find(const struct domainset *set, const char *name, size_t len,
    uint64_t hash, size_t *slot)
{
	size_t mask = set->nslots - 1, i = (size_t)hash & mask;
	uint8_t tag = hash_tag(hash);
	const uint8_t *rec;

#if defined(__GNUC__)
	/* Asked for with the tag, so that a hit does not wait for both. */
	__builtin_prefetch(&set->offsets[i]);
#endif
	for (; set->tags[i] != 0; i = (i + 1) & mask) {
		if (set->tags[i] != tag)
			continue;
		rec = record_at(set, set->offsets[i]);
		if (rec[0] == len && memcmp(rec + 1, name, len) == 0) {
			*slot = i;
			return true;
		}
	}
	*slot = i;
	return false;
}

/* The size of the line-and-kind number that starts at p. */
static inline size_t
varint_len(const uint8_t *p)
{
	size_t n = 1;

	while (p[n - 1] & 0x80)
		n++;
	return n;
}

static size_t
count_dots(const char *name, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += name[i] == '.';
	return n;
}

/* Doubles the table and reinserts every record, walking the arena. */
static void
domainset_grow(struct domainset *set)
{
	size_t nslots = set->nslots * 2, mask = nslots - 1, i, pos, len;
	uint8_t *tags = table_new(nslots, sizeof(*tags));
	uint32_t *offsets = table_new(nslots, sizeof(*offsets));
	const struct chunk *chunk;
	uint64_t hash;

	for (size_t c = 0; c < set->nchunks; c++) {
		chunk = &set->chunks[c];
		for (pos = 0; pos < chunk->len;
		    pos += 1 + len + varint_len(chunk->mem + pos + 1 + len)) {
			len = chunk->mem[pos];
			hash = domainset_hash((const char *)chunk->mem + pos + 1,
			    len);
			for (i = (size_t)hash & mask; tags[i] != 0;
			    i = (i + 1) & mask)
				;
			tags[i] = hash_tag(hash);
			offsets[i] = (uint32_t)(c << CHUNK_SHIFT | pos);
		}
	}
	free(set->tags);
	free(set->offsets);
	set->tags = tags;
	set->offsets = offsets;
	set->nslots = nslots;
}

/* Makes room for need bytes at the end of the arena. */
static struct chunk *
domainset_reserve(struct domainset *set, size_t need)
{
	struct chunk *last = NULL;
	size_t size;

	if (set->nchunks > 0) {
		last = &set->chunks[set->nchunks - 1];
		if (last->size - last->len >= need)
			return last;
		if (last->size < CHUNK_SIZE) {
			for (size = last->size * 2; size - last->len < need;
			    size *= 2)
				;
			if (size > CHUNK_SIZE)
				size = CHUNK_SIZE;
			if (size - last->len >= need) {
				last->mem = xreallocarray(last->mem, size, 1);
				last->size = size;
				return last;
			}
		}
	}
	if (set->nchunks == CHUNK_MAX)
		fatalx("domainset: more than 4 GiB of names");
	set->chunks = xreallocarray(set->chunks, set->nchunks + 1,
	    sizeof(*set->chunks));
	last = &set->chunks[set->nchunks++];
	last->size = set->nchunks == 1 ? FIRST_CHUNK_SIZE : CHUNK_SIZE;
	last->mem = xmalloc(last->size);
	last->len = 0;
	return last;
}

/* Appends a record to the arena and returns its offset. */
static uint32_t
domainset_append(struct domainset *set, const char *name, size_t len,
    enum domainset_kind kind, uint32_t line)
{
	uint64_t number = (uint64_t)line << 1 | (uint64_t)kind;
	uint8_t varint[VARINT_MAX];
	size_t n = 0, need;
	struct chunk *chunk;
	uint8_t *rec;
	uint32_t off;

	do {
		varint[n++] = (uint8_t)(number & 0x7f) |
		    (number > 0x7f ? 0x80 : 0);
		number >>= 7;
	} while (number != 0);
	need = 1 + len + n;
	chunk = domainset_reserve(set, need);
	rec = chunk->mem + chunk->len;
	off = (uint32_t)((set->nchunks - 1) << CHUNK_SHIFT | chunk->len);
	rec[0] = (uint8_t)len;
	memcpy(rec + 1, name, len);
	memcpy(rec + 1 + len, varint, n);
	chunk->len += need;
	return off;
}

bool
domainset_add(struct domainset *set, const char *name, size_t len,
    enum domainset_kind kind, uint32_t line)
{
	uint64_t hash;
	size_t slot;

	if (len == 0 || len > DOMAINSET_NAME_MAX)
		return false;
	hash = domainset_hash(name, len);
	if (domainset_find(set, name, len, hash, &slot)) {
		/* The kind is bit 0 of the number's first byte. */
		if (kind == DOMAINSET_NAME_AND_SUBDOMAINS)
			record_at(set, set->offsets[slot])[1 + len] &=
			    (uint8_t)~1;
		return false;
	}
	/* Grow before inserting so that the load stays at most 70%. */
	if ((set->count + 1) * 10 > set->nslots * 7) {
		domainset_grow(set);
		domainset_find(set, name, len, hash, &slot);
	}
	set->offsets[slot] = domainset_append(set, name, len, kind, line);
	set->tags[slot] = hash_tag(hash);
	set->count++;
	set->label_counts |= label_bit(1 + count_dots(name, len));
	return true;
}

/*
 * Looks up one exact name by its hash. For the queried name itself
 * (is_parent false) only an entry that covers the name itself counts.
 */
static bool
domainset_lookup(const struct domainset *set, const char *name, size_t len,
    uint64_t hash, bool is_parent, struct domainset_match *out)
{
	const uint8_t *rec, *p;
	uint64_t number = 0;
	unsigned shift = 0;
	size_t slot;

	if (!domainset_find(set, name, len, hash, &slot))
		return false;
	rec = record_at(set, set->offsets[slot]);
	p = rec + 1 + len;
	if (!is_parent && (p[0] & 1) != DOMAINSET_NAME_AND_SUBDOMAINS)
		return false;
	if (out != NULL) {
		do {
			number |= (uint64_t)(*p & 0x7f) << shift;
			shift += 7;
		} while (*p++ & 0x80);
		out->name = (const char *)rec + 1;
		out->len = len;
		out->kind = (enum domainset_kind)(number & 1);
		out->line = (uint32_t)(number >> 1);
	}
	return true;
}

void
domainset_name_prepare(struct domainset_name *qn, const char *qname,
    size_t len)
{
	const char *dot;
	size_t off = 0, n = 0;

	pthread_once(&hash_key_once, hash_key_init);
	qn->name = qname;
	qn->len = len;
	qn->nsuffix = 0;
	qn->hashed[0] = qn->hashed[1] = 0;
	if (len == 0 || len > DOMAINSET_NAME_MAX)
		return;
	for (;;) {
		qn->start[n++] = (uint8_t)off;
		dot = memchr(qname + off, '.', len - off);
		if (dot == NULL || (size_t)(dot - qname) + 1 >= len ||
		    n == DOMAINSET_SUFFIX_MAX)
			break;
		off = (size_t)(dot - qname) + 1;
	}
	qn->nsuffix = n;
}

/*
 * One lookup per suffix, longest first: a.b.c, then b.c, then c, leaving
 * out suffixes with a number of labels that no entry has. A suffix is
 * hashed when a set first needs it, once for all sets.
 */
bool
domainset_match_name(const struct domainset *set, struct domainset_name *qn,
    struct domainset_match *out)
{
	size_t i, off;

	if (set->count == 0)
		return false;
	for (i = 0; i < qn->nsuffix; i++) {
		/* Suffix i has nsuffix - i labels. */
		if ((set->label_counts & label_bit(qn->nsuffix - i)) == 0)
			continue;
		off = qn->start[i];
		if ((qn->hashed[i / 64] & (uint64_t)1 << (i % 64)) == 0) {
			qn->hash[i] = domainset_hash(qn->name + off,
			    qn->len - off);
			qn->hashed[i / 64] |= (uint64_t)1 << (i % 64);
		}
		if (domainset_lookup(set, qn->name + off, qn->len - off,
		    qn->hash[i], i > 0, out))
			return true;
	}
	return false;
}

bool
domainset_match(const struct domainset *set, const char *qname, size_t len,
    struct domainset_match *out)
{
	struct domainset_name qn;

	if (set->count == 0)
		return false;
	domainset_name_prepare(&qn, qname, len);
	return domainset_match_name(set, &qn, out);
}

bool
domainset_get(const struct domainset *set, const char *name, size_t len,
    struct domainset_match *out)
{
	if (set->count == 0 || len == 0 || len > DOMAINSET_NAME_MAX)
		return false;
	return domainset_lookup(set, name, len, domainset_hash(name, len),
	    true, out);
}
