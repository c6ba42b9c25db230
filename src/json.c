/*
 * json.c: JSON string escaping shared by the event log and the control
 * socket's --json answers.
 */
#include "config.h"

#include <stdio.h>

#include "json.h"

size_t
json_escape_char(unsigned char c, char out[6])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c >= 0x7f) {
		out[0] = '\\';
		out[1] = 'u';
		out[2] = '0';
		out[3] = '0';
		out[4] = hex[c >> 4];
		out[5] = hex[c & 0xf];
		return 6;
	}
	out[0] = (char)c;
	return 1;
}

void
json_fput_string(FILE *f, const char *s)
{
	char esc[6];

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		fwrite(esc, 1, json_escape_char(*c, esc), f);
	putc('"', f);
}
