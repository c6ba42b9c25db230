/*
 * log.c: diagnostics for the daemon. In the foreground everything goes to
 * stderr with a level prefix; as a daemon, to syslog (facility daemon).
 * Also the x*alloc wrappers, which treat out-of-memory as fatal so that
 * callers need not check.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static bool log_to_stderr = true;
static bool log_verbose;

void
log_init(bool foreground, bool debug)
{
	log_to_stderr = foreground;
	log_verbose = debug;
	if (!foreground)
		openlog("hushd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_debug(bool debug)
{
	log_verbose = debug;
}

bool
log_debug_enabled(void)
{
	return log_verbose;
}

static void
log_emit(int priority, const char *fmt, va_list ap, int errnum)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0) {
		size_t used = strlen(msg);
		snprintf(msg + used, sizeof(msg) - used, ": %s",
		    strerror(errnum));
	}
	if (log_to_stderr) {
		const char *level = priority == LOG_ERR ? "error" :
		    priority == LOG_WARNING ? "warning" :
		    priority == LOG_DEBUG ? "debug" : "info";
		fprintf(stderr, "hushd: %s: %s\n", level, msg);
	} else
		syslog(priority, "%s", msg);
}

#define LOG_BODY(prio, errnum) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_emit((prio), fmt, ap, (errnum));	\
	va_end(ap);				\
} while (0)

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	if (log_verbose)
		LOG_BODY(LOG_DEBUG, 0);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_WARNING, saved);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_ERR, saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, 0);
	exit(1);
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fatalx("out of memory (%zu bytes)", size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		fatalx("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("allocation overflow (%zu x %zu bytes)", nmemb, size);
	p = realloc(ptr, nmemb * size != 0 ? nmemb * size : 1);
	if (p == NULL)
		fatalx("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}
