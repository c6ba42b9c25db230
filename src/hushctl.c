/*
 * hushctl.c: asks a running hushd over its control socket.
 *
 * The request is one line of words; the answer's first line is the exit
 * status, the rest is printed as it arrives (for "tail", until hushd goes
 * away or hushctl is interrupted). "report" reads the event log itself
 * and needs no running hushd (report.c). See hushctl(8).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "file.h"
#include "password.h"
#include "report.h"

#define DEFAULT_SOCKET	"/run/hushd/hushd.sock"
#define REQUEST_MAX	4096
#define ANSWER_TIMEOUT	30000	/* ms without a byte, except for tail */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: hushctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	    "commands:\n"
	    "  reload                      reload configuration and lists\n"
	    "  update                      download every remote list now\n"
	    "  stats                       counters, upstreams, lists, databases\n"
	    "  check NAME [CLIENT]         why NAME passes or is blocked; exit\n"
	    "                              0 pass, 1 blocked, 2 logged\n"
	    "  top devices|names|countries|asns [--blocked] [-n N]\n"
	    "  tail [--device D] [--action pass|log|block]\n"
	    "  passwd                      make a web-password line (reads\n"
	    "                              the password from the terminal)\n"
	    "  report [--since 24h] [--events FILE] [--html FILE]\n"
	    "                              per-device summary of the event log\n");
	exit(64);
}

/* Reads one line (without echo on a terminal); false at end of input. */
static bool
read_secret(const char *prompt, char *out, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	bool ok;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(out, (int)len, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (ok)
		out[strcspn(out, "\r\n")] = '\0';
	return ok;
}

/* hushctl passwd: prints a web-password line for hushd.conf. */
static int
passwd(int argc)
{
	char first[256], second[256], hash[256];

	if (argc != 1)
		usage();
	if (!read_secret("New password for the web page: ", first,
	    sizeof(first)))
		return 64;
	if (strlen(first) < 8) {
		fprintf(stderr, "hushctl: use at least 8 characters\n");
		return 64;
	}
	if (isatty(STDIN_FILENO) && (!read_secret("Again: ", second,
	    sizeof(second)) || strcmp(first, second) != 0)) {
		fprintf(stderr, "hushctl: the two differ\n");
		return 64;
	}
	if (!password_hash(first, hash, sizeof(hash))) {
		fprintf(stderr, "hushctl: no random numbers\n");
		return 70;
	}
	printf("web-password %s\n", hash);
	return 0;
}

static int
connect_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "hushctl: %s: path too long\n", path);
		exit(69);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "hushctl: %s: %s (is hushd running, with "
		    "\"control %s\"?)\n", path, strerror(errno), path);
		exit(69);
	}
	return fd;
}

/* Sends the request, prints the answer; returns its exit status. */
static int
ask(const char *path, int argc, char **argv, bool json)
{
	char request[REQUEST_MAX], buf[65536];
	size_t len = 0;
	int fd, status = -1;
	bool tail = strcmp(argv[0], "tail") == 0;
	char head[16];
	size_t head_len = 0;

	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '\0' || strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr, "hushctl: '%s': arguments cannot hold "
			    "blanks\n", argv[i]);
			return 64;
		}
		int n = snprintf(request + len, sizeof(request) - len, "%s%s",
		    i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(request) - len) {
			fprintf(stderr, "hushctl: request too long\n");
			return 64;
		}
		len += (size_t)n;
	}
	if (json) {
		if (len + 8 >= sizeof(request))
			return 64;
		memcpy(request + len, " --json", 7);
		len += 7;
	}
	request[len++] = '\n';
	fd = connect_socket(path);
	if (!file_write_all(fd, request, len)) {
		fprintf(stderr, "hushctl: %s: %s\n", path, strerror(errno));
		return 69;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = poll(&pfd, 1, tail && status >= 0 ? -1 :
		    ANSWER_TIMEOUT);
		if (ready == -1 && errno == EINTR)
			continue;
		if (ready == 0) {
			fprintf(stderr, "hushctl: no answer from %s\n", path);
			return 69;
		}
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t off = 0;
		while (status < 0 && off < (size_t)n) {
			char c = buf[off++];
			if (c == '\n') {
				head[head_len] = '\0';
				status = atoi(head);
			} else if (head_len < sizeof(head) - 1)
				head[head_len++] = c;
		}
		if (off < (size_t)n) {
			fwrite(buf + off, 1, (size_t)n - off, stdout);
			if (tail)
				fflush(stdout);
		}
	}
	close(fd);
	if (status < 0) {
		fprintf(stderr, "hushctl: %s closed without an answer\n", path);
		return 69;
	}
	return status;
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET;
	bool json = false;
	int i = 1;

	signal(SIGPIPE, SIG_IGN);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			usage();
		else
			usage();
	}
	if (i == argc)
		usage();
	for (int k = i; k < argc; k++)
		if (strcmp(argv[k], "--json") == 0)
			json = true;
	if (strcmp(argv[i], "report") == 0)
		return report_main(argc - i, argv + i, json);
	if (strcmp(argv[i], "passwd") == 0)
		return passwd(argc - i);
	/* --json may come after the command too; send it once. */
	int kept = i;
	for (int k = i; k < argc; k++)
		if (strcmp(argv[k], "--json") != 0)
			argv[kept++] = argv[k];
	return ask(path, kept - i, argv + i, json);
}
