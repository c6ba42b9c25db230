/*
 * udpsend.h: a batch of datagrams sent on one socket with as few system
 * calls as the kernel allows (sendmmsg, or sendmsg each without it).
 * The DNS workers send their answers and the upstream queries of a loop
 * pass this way.
 */
#ifndef HUSHD_UDPSEND_H
#define HUSHD_UDPSEND_H

#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>

/* Called for msgs[i] when the kernel refused it, with errno set. */
typedef void (*udpsend_failed_fn)(unsigned i, void *arg);

/*
 * Sends msgs[0 .. n - 1] on fd. A message that cannot go is handed to
 * failed (which may be NULL) and the rest still go; EINTR is retried.
 */
static inline void
udpsend_batch(int fd, struct mmsghdr *msgs, unsigned n,
    udpsend_failed_fn failed, void *arg)
{
	unsigned i = 0;
	int sent;

	while (i < n) {
#ifdef HAVE_SENDMMSG
		sent = sendmmsg(fd, msgs + i, n - i, 0);
#else
		sent = sendmsg(fd, &msgs[i].msg_hdr, 0) == -1 ? -1 : 1;
#endif
		if (sent <= 0) {
			if (sent == -1 && errno == EINTR)
				continue;
			if (failed != NULL)
				failed(i, arg);
			sent = 1;	/* that one is dropped; on with the rest */
		}
		i += (unsigned)sent;
	}
}

#endif
