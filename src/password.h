/*
 * password.h: password hashes for web-password (see password.c).
 */
#ifndef HUSHD_PASSWORD_H
#define HUSHD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* A new hash of password with a random salt into out; false on failure. */
bool password_hash(const char *password, char *out, size_t outlen);

/* Whether password matches stored (a password_hash() value). */
bool password_check(const char *stored, const char *password);

#endif
