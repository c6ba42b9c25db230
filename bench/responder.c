/*
 * responder.c: the smallest DNS "server" there is, for calibrating the load
 * generator. Every UDP datagram of at least a DNS header's length is sent
 * back to where it came from with the QR bit set; nothing is parsed. What
 * dnsperf measures against it is the ceiling of dnsperf and the loopback
 * path on this machine, not of any DNS software.
 *
 *   responder ADDRESS PORT      (IPv4; runs until killed)
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH		64
#define MSG_MAX		4096
#define DNS_HEADER_LEN	12
#define DNS_FLAG_QR	0x80	/* in the third byte of the header */

int
main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][MSG_MAX];
	struct sockaddr_in peers[BATCH], addr;
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH];
	int fd, one = 1, rcvbuf = 4 << 20;

	if (argc != 3) {
		fprintf(stderr, "usage: responder ADDRESS PORT\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "responder: bad address %s\n", argv[1]);
		return 2;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
		perror("responder: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		perror("responder: bind");
		return 1;
	}
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = MSG_MAX;
			memset(&in[i], 0, sizeof(in[i]));
			in[i].msg_hdr.msg_iov = &iov[i];
			in[i].msg_hdr.msg_iovlen = 1;
			in[i].msg_hdr.msg_name = &peers[i];
			in[i].msg_hdr.msg_namelen = sizeof(peers[i]);
		}
		int n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("responder: recvmmsg");
			return 1;
		}
		int k = 0;
		for (int i = 0; i < n; i++) {
			if (in[i].msg_len < DNS_HEADER_LEN)
				continue;
			bufs[i][2] |= DNS_FLAG_QR;
			iov[i].iov_len = in[i].msg_len;
			out[k] = in[i];
			out[k].msg_len = 0;
			k++;
		}
		for (int sent = 0; sent < k; ) {
			int r = sendmmsg(fd, out + sent, (unsigned)(k - sent), 0);
			if (r == -1) {
				if (errno == EINTR)
					continue;
				break;	/* a full buffer drops the rest, as UDP may */
			}
			sent += r;
		}
	}
}
