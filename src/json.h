/*
 * json.h: writing JSON strings. Bytes outside printable ASCII are written
 * as \u00XX, so any input gives valid JSON, whatever its encoding.
 */
#ifndef HUSHD_JSON_H
#define HUSHD_JSON_H

#include <stddef.h>
#include <stdio.h>

/* The escaped form of c into out (at most 6 bytes, no NUL); its length. */
size_t json_escape_char(unsigned char c, char out[6]);

/* Writes s as a quoted JSON string; "null" when s is NULL. */
void json_fput_string(FILE *f, const char *s);

#endif
