/*
 * fuzz_quic.c: libFuzzer target for the QUIC Initial reader.
 *
 * The input is a few datagrams, separated by "QSEP" (in the dictionary);
 * the seeds, the client Initials of RFC 9001 and RFC 9369 Appendix A.2,
 * are one datagram each. The last byte and the length of each datagram
 * pick which of four client addresses sends it, whether it goes the other
 * way (as if from the server), and how far the clock moves. The table
 * holds two connections, so eviction and expiry are reached. Beside
 * surviving any input, the reader must keep its promises:
 *   - a status is one of the four, and *why is set exactly on QUIC_ERROR;
 *   - on QUIC_DONE the version has a name, the hello's length is what it
 *     consumed, and every span of it can be read.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "quic.h"

#define DATAGRAMS_MAX	8
#define SEPARATOR	"QSEP"
#define SEPARATOR_LEN	4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(struct tlshello_span span, const struct tlshello *h)
{
	if (span.ptr == NULL || span.len == 0 || span.len > h->consumed)
		abort();
	/* The spans of one hello lie in one buffer, within its length. */
	if (span.len > TLSHELLO_MAX)
		abort();
	for (size_t i = 0; i < span.len; i++)
		(void)*(volatile const uint8_t *)(span.ptr + i);
}

static void
check_done(const struct quic_hello *out)
{
	const struct tlshello *h = &out->hello;

	if (quic_version_name(out->version) == NULL)
		abort();
	if (h->consumed > TLSHELLO_MAX || h->hello_len + 4 != h->consumed)
		abort();
	if (h->has_sni)
		check_span(h->sni, h);
	else if (h->sni.ptr != NULL)
		abort();
	if (h->n_alpn > TLSHELLO_MAX_ALPN)
		abort();
	for (size_t i = 0; i < h->n_alpn; i++)
		check_span(h->alpn[i], h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct quic_table *t;
	struct sockaddr_in clients[4], server = { .sin_family = AF_INET,
	    .sin_port = htons(443) };
	struct quic_hello out;
	enum quic_status status;
	const char *why;
	uint64_t now_ms = 0;
	size_t off = 0;

	/* A fresh table for each input: state must not leak across. */
	quic_table_free(t);
	t = quic_table_new(2);
	server.sin_addr.s_addr = htonl(0xcb007107);
	for (int i = 0; i < 4; i++) {
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].sin_family = AF_INET;
		clients[i].sin_addr.s_addr = htonl(0xc0a80114 + (i & 1));
		clients[i].sin_port = htons((uint16_t)(50000 + (i >> 1)));
	}

	for (int n = 0; n < DATAGRAMS_MAX && off <= size; n++) {
		const uint8_t *sep = memmem(data + off, size - off, SEPARATOR,
		    SEPARATOR_LEN);
		size_t len = sep != NULL ? (size_t)(sep - (data + off)) :
		    size - off;
		unsigned control = (unsigned)(len + (size_t)n) ^
		    (len > 0 ? data[off + len - 1] : 0);
		const struct sockaddr *src, *dst;

		now_ms += (uint64_t)(control >> 4 & 0xf) * 1000;
		src = (const struct sockaddr *)&clients[control & 3];
		dst = (const struct sockaddr *)&server;
		if ((control & 0xc) == 0xc) {	/* as if from the server */
			dst = src;
			src = (const struct sockaddr *)&server;
		}
		status = quic_datagram(t, src, dst, data + off, len, now_ms,
		    &out, &why);
		switch (status) {
		case QUIC_NOT_INITIAL:
		case QUIC_NEED_MORE:
			if (why != NULL)
				abort();
			break;
		case QUIC_ERROR:
			if (why == NULL || why[0] == '\0')
				abort();
			break;
		case QUIC_DONE:
			if (why != NULL)
				abort();
			check_done(&out);
			break;
		default:
			abort();
		}
		off += len + SEPARATOR_LEN;
	}
	return 0;
}
