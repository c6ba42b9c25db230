/*
 * log.h: daemon diagnostics to stderr (foreground) or syslog.
 *
 * fatal()/log_warn() append strerror(errno); fatalx()/log_warnx() do not.
 * Library-style modules (conf, lists, domainset, dnsmsg, cache) never log:
 * they return errors to the caller, who decides.
 */
#ifndef HUSHD_LOG_H
#define HUSHD_LOG_H

#include <stdbool.h>
#include <stddef.h>

void log_init(bool foreground, bool debug);
void log_set_debug(bool debug);
bool log_debug_enabled(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Allocation wrappers: end the program on out-of-memory, never return NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
