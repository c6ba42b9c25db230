/*
 * control.h: the control socket ("control PATH") that hushctl talks to.
 *
 * A UNIX stream socket, mode 0660. Each connection carries one request,
 * a line of words ("check tracking.miui.com 192.168.1.23 --json"); the
 * answer is a line with the exit status hushctl should end with, then the
 * output, then the connection closes. "tail" is the exception: after its
 * status line the connection streams event lines (JSON) until the client
 * hangs up. Served from the main thread's event loop.
 */
#ifndef HUSHD_CONTROL_H
#define HUSHD_CONTROL_H

#include <stdio.h>
#include <sys/types.h>

struct event_base;
struct control;

#define CONTROL_MAX_WORDS	16
#define CONTROL_LINE_MAX	4096

/*
 * Runs one request (argv[0] is the command; "tail" never reaches it),
 * writing the answer to out; returns the exit status for hushctl.
 */
typedef int (*control_fn)(void *arg, int argc, char **argv, FILE *out);

/*
 * Listens on path (an existing socket there is replaced), group gid when
 * it is not (gid_t)-1. NULL with err on failure.
 */
struct control *control_new(struct event_base *base, const char *path,
    gid_t gid, control_fn fn, void *arg, char *err, size_t errlen);
void control_free(struct control *c);

#endif
