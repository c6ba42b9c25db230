/*
 * fuzz_tlshello.c: libFuzzer target for the ClientHello parser. Besides
 * surviving any input, the parser must keep its promises:
 *   - on DONE, every span lies inside the bytes the hello consumed, and
 *     consumed lies within the input and TLSHELLO_MAX;
 *   - the same bytes, again or at another address, give the same result;
 *   - a prefix never contradicts the whole: DONE stays DONE with the same
 *     consumed, NOT_TLS and MALFORMED stay as they are, and every prefix
 *     short of a DONE hello's end wants more;
 *   - with TLSHELLO_MAX bytes or more it never asks for more.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlshello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
span_inside(struct tlshello_span span, const uint8_t *buf, size_t len)
{
	return span.ptr >= buf && span.len <= len &&
	    (size_t)(span.ptr - buf) <= len - span.len;
}

static void
check_done(const struct tlshello *h, const uint8_t *buf, size_t len)
{
	if (h->consumed > len || h->consumed > TLSHELLO_MAX ||
	    h->hello_len + 4 > h->consumed)
		abort();
	if (h->has_sni && (!span_inside(h->sni, buf, h->consumed) ||
	    h->sni.len == 0))
		abort();
	if (!h->has_sni && (h->sni.ptr != NULL || h->sni_valid))
		abort();
	if (h->n_alpn > TLSHELLO_MAX_ALPN)
		abort();
	for (size_t i = 0; i < h->n_alpn; i++)
		if (!span_inside(h->alpn[i], buf, h->consumed) ||
		    h->alpn[i].len == 0)
			abort();
}

/* Offsets of the spans of a and b (parsed from buffers x and y) agree. */
static void
check_same(const struct tlshello *a, const uint8_t *x,
    const struct tlshello *b, const uint8_t *y)
{
	if (a->record_version != b->record_version ||
	    a->legacy_version != b->legacy_version ||
	    a->max_version != b->max_version || a->has_sni != b->has_sni ||
	    a->sni_valid != b->sni_valid || a->sni.len != b->sni.len ||
	    a->n_alpn != b->n_alpn || a->ech != b->ech ||
	    a->hello_len != b->hello_len || a->consumed != b->consumed)
		abort();
	if (a->has_sni && a->sni.ptr - x != b->sni.ptr - y)
		abort();
	for (size_t i = 0; i < a->n_alpn; i++)
		if (a->alpn[i].ptr - x != b->alpn[i].ptr - y ||
		    a->alpn[i].len != b->alpn[i].len)
			abort();
}

/* What a prefix of prefix_len bytes may say, given what the whole said. */
static void
check_prefix(const uint8_t *data, size_t prefix_len,
    enum tlshello_status whole, const struct tlshello *h)
{
	struct tlshello p;
	enum tlshello_status status = tlshello_parse(data, prefix_len, &p);

	if (whole == TLSHELLO_DONE) {
		if (prefix_len < h->consumed ? status != TLSHELLO_NEED_MORE :
		    status != TLSHELLO_DONE)
			abort();
		if (status == TLSHELLO_DONE)
			check_same(h, data, &p, data);
	} else if (status != TLSHELLO_NEED_MORE && status != whole)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy[2 * TLSHELLO_MAX];
	struct tlshello h, again;
	enum tlshello_status status;

	if (size > sizeof(copy))
		return 0;
	status = tlshello_parse(data, size, &h);
	if (status == TLSHELLO_DONE)
		check_done(&h, data, size);
	if (status == TLSHELLO_NEED_MORE && size >= TLSHELLO_MAX)
		abort();

	if (tlshello_parse(data, size, &again) != status)
		abort();
	if (status == TLSHELLO_DONE)
		check_same(&h, data, &again, data);
	if (size > 0)
		memcpy(copy, data, size);
	if (tlshello_parse(copy, size, &again) != status)
		abort();
	if (status == TLSHELLO_DONE)
		check_same(&h, data, &again, copy);

	if (size > 0) {
		check_prefix(data, size - 1, status, &h);
		check_prefix(data, size / 2, status, &h);
		check_prefix(data, data[0] % size, status, &h);
	}
	if (status == TLSHELLO_DONE && h.consumed > 0)
		check_prefix(data, h.consumed - 1, status, &h);
	return 0;
}
