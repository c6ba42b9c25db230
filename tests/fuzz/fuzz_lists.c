/*
 * fuzz_lists.c: libFuzzer target for lists.c.
 *
 * The input is parsed as a list file. Every warning must be a single line
 * of printable ASCII that begins with the file name. The first fields of
 * the input, stripped of list syntax, are then matched as query names, and
 * every match must be the name itself or a parent at a label boundary.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"

#define FUZZ_PATH	"fuzz.txt"
#define FUZZ_FIELDS	16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_warning(void *arg, const char *message)
{
	(void)arg;
	if (strncmp(message, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
		abort();
	for (const char *p = message; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

static void
check_match(const struct list *list, const char *qname, size_t len)
{
	struct list_match m;
	size_t rest;

	if (!list_match(list, qname, len, &m))
		return;
	if (m.rule_len == 0 || m.rule_len > len)
		abort();
	rest = len - m.rule_len;
	if (memcmp(qname + rest, m.rule, m.rule_len) != 0)
		abort();
	if (rest > 0 && qname[rest - 1] != '.')
		abort();
	if (m.subdomains_only && rest == 0)
		abort();
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The name a field would stand for, without "@@", "||", "*." or '^'. */
static void
match_field(const struct list *list, const char *field, size_t len)
{
	char name[LIST_NAME_MAX + 1], sub[LIST_NAME_MAX + 3];
	size_t name_len;

	if (len >= 2 && memcmp(field, "@@", 2) == 0) {
		field += 2;
		len -= 2;
	}
	if (len >= 2 && (memcmp(field, "||", 2) == 0 ||
	    memcmp(field, "*.", 2) == 0)) {
		field += 2;
		len -= 2;
	}
	if (len > 0 && field[len - 1] == '^')
		len--;
	if (list_normalize_name(field, len, name, &name_len) != NULL)
		return;
	if (strlen(name) != name_len)
		abort();
	check_match(list, name, name_len);
	if (name_len + 2 <= LIST_NAME_MAX) {
		memcpy(sub, "x.", 2);
		memcpy(sub + 2, name, name_len);
		check_match(list, sub, name_len + 2);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct list *list;
	size_t off = 0, start, fields = 0;

	list = list_parse("fuzz", FUZZ_PATH, (const char *)data, size,
	    check_warning, NULL);
	if (list->skipped > size)
		abort();
	while (off < size && fields < FUZZ_FIELDS) {
		while (off < size && is_space(data[off]))
			off++;
		start = off;
		while (off < size && !is_space(data[off]))
			off++;
		if (off > start) {
			match_field(list, (const char *)data + start,
			    off - start);
			fields++;
		}
	}
	check_match(list, "example.com", 11);
	list_free(list);
	return 0;
}
