/*
 * conf.c: tokenizer and parser of hushd.conf.
 *
 * The language is line-oriented: a statement is a key and its values up to
 * the end of the line or a ';'. '#' starts a comment outside quotes; a value
 * with spaces is double-quoted (no escapes: a quote cannot appear inside).
 * Blocks "group NAME { ... }" hold statements of their own. Every error is
 * reported as "file:line: message" and stops the parse: a configuration is
 * either accepted whole or refused.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"

#define CONF_MAX_WORDS		64	/* values on one statement */
#define CONF_MAX_WORD		1024
#define CONF_MAX_SIZE		(4u << 20)

enum token_kind {
	TOKEN_WORD,
	TOKEN_END,		/* end of statement: newline or ';' */
	TOKEN_OPEN,
	TOKEN_CLOSE,
	TOKEN_EOF,
};

struct parser {
	const char	*path;
	char		*dir;		/* directory of path, for relative names */
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
	const char	*resolv_conf;
	struct conf	*conf;
	/* the statement being parsed */
	unsigned	 stmt_line;
	size_t		 n_words;
	char		*words[CONF_MAX_WORDS];
	enum token_kind	 terminator;
};

static bool
parse_error(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
parse_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/*
 * Reads the next token. Words are copied out (NUL-terminated) into word.
 * Returns false with the error set on an unterminated quote or bad byte.
 */
static bool
next_token(struct parser *p, enum token_kind *kind, char *word, size_t wordlen)
{
	size_t n = 0;

	for (;;) {
		if (p->pos >= p->len) {
			*kind = TOKEN_EOF;
			return true;
		}
		char c = p->buf[p->pos];
		if (c == '#') {
			while (p->pos < p->len && p->buf[p->pos] != '\n')
				p->pos++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			p->pos++;
			continue;
		}
		break;
	}
	char c = p->buf[p->pos];
	switch (c) {
	case '\n':
		p->pos++;
		p->line++;
		*kind = TOKEN_END;
		return true;
	case ';':
		p->pos++;
		*kind = TOKEN_END;
		return true;
	case '{':
		p->pos++;
		*kind = TOKEN_OPEN;
		return true;
	case '}':
		p->pos++;
		*kind = TOKEN_CLOSE;
		return true;
	case '"':
		p->pos++;
		while (p->pos < p->len && p->buf[p->pos] != '"') {
			c = p->buf[p->pos];
			if (c == '\n' || c == '\0')
				break;
			if (n + 1 >= wordlen)
				return parse_error(p, p->line,
				    "quoted value longer than %zu bytes",
				    wordlen - 1);
			word[n++] = c;
			p->pos++;
		}
		if (p->pos >= p->len || p->buf[p->pos] != '"')
			return parse_error(p, p->line, "unterminated quote");
		p->pos++;
		word[n] = '\0';
		*kind = TOKEN_WORD;
		return true;
	}
	while (p->pos < p->len) {
		c = p->buf[p->pos];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == ';' || c == '{' || c == '}' || c == '#' || c == '"')
			break;
		if ((unsigned char)c < 0x20 || c == 0x7f)
			return parse_error(p, p->line,
			    "control character 0x%02x", (unsigned char)c);
		if (n + 1 >= wordlen)
			return parse_error(p, p->line,
			    "word longer than %zu bytes", wordlen - 1);
		word[n++] = c;
		p->pos++;
	}
	word[n] = '\0';
	*kind = TOKEN_WORD;
	return true;
}

static void
clear_statement(struct parser *p)
{
	for (size_t i = 0; i < p->n_words; i++)
		free(p->words[i]);
	p->n_words = 0;
}

/*
 * Reads one statement: its words, and what ended it (TOKEN_END, TOKEN_OPEN,
 * TOKEN_CLOSE or TOKEN_EOF). Empty statements are skipped unless they end
 * in a brace or EOF.
 */
static bool
next_statement(struct parser *p)
{
	char word[CONF_MAX_WORD];
	enum token_kind kind = TOKEN_EOF;

	clear_statement(p);
	for (;;) {
		unsigned line = p->line;
		if (!next_token(p, &kind, word, sizeof(word)))
			return false;
		if (kind == TOKEN_WORD) {
			if (p->n_words == 0)
				p->stmt_line = line;
			if (p->n_words == CONF_MAX_WORDS)
				return parse_error(p, line,
				    "more than %d values", CONF_MAX_WORDS - 1);
			p->words[p->n_words++] = xstrdup(word);
			continue;
		}
		if (kind == TOKEN_END && p->n_words == 0)
			continue;
		if (p->n_words == 0)
			p->stmt_line = line;
		p->terminator = kind;
		return true;
	}
}

/* ---------------------------------------------------------------- values */

static bool
expect_args(struct parser *p, size_t min, size_t max)
{
	size_t have = p->n_words - 1;

	if (have < min)
		return parse_error(p, p->stmt_line, "'%s' needs %s value%s",
		    p->words[0], min == 1 ? "a" : "more",
		    min == 1 ? "" : "s");
	if (have > max)
		return parse_error(p, p->stmt_line,
		    "'%s': unexpected value '%s'", p->words[0],
		    p->words[1 + max]);
	return true;
}

/* Parses "250ms", "2s", "5m", "1h", "1d" or a bare number of seconds. */
static bool
parse_duration_ms(struct parser *p, const char *text, uint64_t max_ms,
    uint64_t *out)
{
	char *end;
	unsigned long long value;
	uint64_t unit;

	if (text[0] < '0' || text[0] > '9')
		goto bad;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0)
		goto bad;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		unit = 86400 * 1000;
	else
		goto bad;
	if (value > max_ms / unit)
		return parse_error(p, p->stmt_line,
		    "'%s': duration '%s' is too long", p->words[0], text);
	*out = value * unit;
	return true;
bad:
	return parse_error(p, p->stmt_line,
	    "'%s': bad duration '%s' (use e.g. 500ms, 2s, 5m, 1h, 1d)",
	    p->words[0], text);
}

static bool
parse_uint(struct parser *p, const char *text, unsigned long long max,
    unsigned long long *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		goto bad;
	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	if (*out > max)
		return parse_error(p, p->stmt_line,
		    "'%s': %s is larger than %llu", p->words[0], text, max);
	return true;
bad:
	return parse_error(p, p->stmt_line, "'%s': '%s' is not a number",
	    p->words[0], text);
}

static bool
parse_bool(struct parser *p, const char *text, bool *out)
{
	if (strcmp(text, "yes") == 0 || strcmp(text, "on") == 0 ||
	    strcmp(text, "true") == 0)
		*out = true;
	else if (strcmp(text, "no") == 0 || strcmp(text, "off") == 0 ||
	    strcmp(text, "false") == 0)
		*out = false;
	else
		return parse_error(p, p->stmt_line,
		    "'%s': expected yes or no, not '%s'", p->words[0], text);
	return true;
}

/* A path relative to the configuration file's directory. */
static char *
resolve_path(struct parser *p, const char *path)
{
	char *out;

	if (path[0] == '/' || p->dir == NULL)
		return xstrdup(path);
	if (asprintf(&out, "%s/%s", p->dir, path) < 0)
		fatalx("out of memory");
	return out;
}

static bool
valid_name(const char *name)
{
	if (*name == '\0')
		return false;
	for (const char *c = name; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
		    *c == '.'))
			return false;
	return true;
}

/* Grows *array by one zeroed element and returns it. */
static void *
append_slot(void **array, size_t *count, size_t size)
{
	char *slot;

	*array = xreallocarray(*array, *count + 1, size);
	slot = (char *)*array + *count * size;
	memset(slot, 0, size);
	(*count)++;
	return slot;
}

#define APPEND(array, count) \
	append_slot((void **)&(array), &(count), sizeof(*(array)))

/* ---------------------------------------------------------------- keys */

static bool
add_system_upstreams(struct parser *p)
{
	FILE *f = fopen(p->resolv_conf, "r");
	char line[512];
	size_t before = p->conf->n_upstreams;

	if (f == NULL)
		return parse_error(p, p->stmt_line,
		    "upstream system: cannot read %s: %s", p->resolv_conf,
		    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save, *key = strtok_r(line, " \t\r\n", &save);
		char *value = key ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		struct addr addr;
		if (key == NULL || value == NULL ||
		    strcmp(key, "nameserver") != 0)
			continue;
		/* A scoped link-local server ("fe80::1%eth0") is skipped. */
		if (addr_parse(value, 53, &addr) != NULL)
			continue;
		struct conf_upstream *u = APPEND(p->conf->upstreams,
		    p->conf->n_upstreams);
		u->addr = addr;
		u->line = p->stmt_line;
	}
	fclose(f);
	if (p->conf->n_upstreams == before)
		return parse_error(p, p->stmt_line,
		    "upstream system: no usable nameserver in %s",
		    p->resolv_conf);
	return true;
}

static bool
key_listen(struct parser *p)
{
	struct conf *c = p->conf;

	if (!expect_args(p, 1, 1))
		return false;
	struct addr *a = APPEND(c->listen, c->n_listen);
	const char *err = addr_parse(p->words[1], 53, a);
	if (err != NULL)
		return parse_error(p, p->stmt_line, "listen '%s': %s",
		    p->words[1], err);
	return true;
}

/* upstream ADDR[:PORT] | system, or ADDR[:PORT] tls name=HOST [ca=FILE] */
static bool
key_upstream(struct parser *p)
{
	struct conf *c = p->conf;
	struct conf_upstream u = { .line = p->stmt_line };
	const char *err;

	if (!expect_args(p, 1, 4))
		return false;
	if (strcmp(p->words[1], "system") == 0) {
		if (p->n_words > 2)
			return parse_error(p, p->stmt_line,
			    "'upstream system' takes no options");
		return add_system_upstreams(p);
	}
	u.tls = p->n_words > 2 && strcmp(p->words[2], "tls") == 0;
	if ((err = addr_parse(p->words[1], u.tls ? 853 : 53, &u.addr)) != NULL)
		return parse_error(p, p->stmt_line, "upstream '%s': %s",
		    p->words[1], err);
	for (size_t i = u.tls ? 3 : 2; i < p->n_words; i++) {
		const char *w = p->words[i];
		if (strncmp(w, "name=", 5) == 0 && w[5] != '\0' && u.tls &&
		    u.tls_name == NULL)
			u.tls_name = xstrdup(w + 5);
		else if (strncmp(w, "ca=", 3) == 0 && w[3] != '\0' && u.tls &&
		    u.ca_file == NULL)
			u.ca_file = resolve_path(p, w + 3);
		else {
			free(u.tls_name);
			free(u.ca_file);
			return parse_error(p, p->stmt_line,
			    "upstream '%s': unexpected '%s' (expected: tls "
			    "name=HOST [ca=FILE])", p->words[1], w);
		}
	}
	if (u.tls && u.tls_name == NULL) {
		free(u.ca_file);
		return parse_error(p, p->stmt_line,
		    "upstream '%s': tls needs name=HOST, the name its "
		    "certificate must carry", p->words[1]);
	}
	*(struct conf_upstream *)APPEND(c->upstreams, c->n_upstreams) = u;
	return true;
}

static bool
key_allow_clients(struct parser *p)
{
	struct conf *c = p->conf;

	if (!expect_args(p, 1, CONF_MAX_WORDS))
		return false;
	for (size_t i = 1; i < p->n_words; i++) {
		struct cidr *cidr = APPEND(c->allow_clients,
		    c->n_allow_clients);
		const char *err = cidr_parse(p->words[i], cidr);
		if (err != NULL)
			return parse_error(p, p->stmt_line,
			    "allow-clients '%s': %s", p->words[i], err);
	}
	return true;
}

/* Parses "64M", "512k", "1G" or a number of bytes. */
static bool
parse_size(struct parser *p, const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long value;
	uint64_t unit = 1;

	if (text[0] < '0' || text[0] > '9')
		goto bad;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0)
		goto bad;
	if (strcasecmp(end, "k") == 0)
		unit = 1 << 10;
	else if (strcasecmp(end, "m") == 0)
		unit = 1 << 20;
	else if (strcasecmp(end, "g") == 0)
		unit = 1 << 30;
	else if (*end != '\0')
		goto bad;
	if (value == 0 || value > max / unit)
		return parse_error(p, p->stmt_line,
		    "'%s': size '%s' must be between 1 and %llu bytes",
		    p->words[0], text, (unsigned long long)max);
	*out = value * unit;
	return true;
bad:
	return parse_error(p, p->stmt_line,
	    "'%s': bad size '%s' (use e.g. 500k, 64M, 1G)", p->words[0], text);
}

/*
 * list NAME https://HOST[:PORT]/PATH [refresh DUR] [timeout DUR]
 * [max-size SIZE] [ca FILE]: the copy lives in state-dir (see
 * conf_parse), named after the list.
 */
static bool
remote_list(struct parser *p, struct conf_list *l)
{
	const char *url = p->words[2], *host = url + 8;
	size_t host_len = strcspn(host, "/?#");

	if (l->name[0] == '.')
		return parse_error(p, p->stmt_line,
		    "list '%s': a remote list's name may not start with '.'",
		    l->name);
	if (host_len == 0 || host[0] == ':' || strchr(url, '@') != NULL)
		return parse_error(p, p->stmt_line,
		    "list '%s': '%s' is not an https://HOST/PATH address",
		    l->name, url);
	l->url = xstrdup(url);
	l->refresh_ms = CONF_LIST_REFRESH_MS;
	l->timeout_ms = CONF_LIST_TIMEOUT_MS;
	l->max_size = CONF_LIST_MAX_SIZE;
	for (size_t i = 3; i < p->n_words; i += 2) {
		const char *opt = p->words[i];
		const char *value = i + 1 < p->n_words ? p->words[i + 1] : NULL;
		if (value == NULL)
			return parse_error(p, p->stmt_line,
			    "list '%s': '%s' needs a value", l->name, opt);
		if (strcmp(opt, "refresh") == 0) {
			if (!parse_duration_ms(p, value, 86400ULL * 1000 * 30,
			    &l->refresh_ms))
				return false;
			if (l->refresh_ms < 1000)
				return parse_error(p, p->stmt_line,
				    "list '%s': refresh must be at least 1s",
				    l->name);
		} else if (strcmp(opt, "timeout") == 0) {
			if (!parse_duration_ms(p, value, 3600ULL * 1000,
			    &l->timeout_ms))
				return false;
			if (l->timeout_ms == 0)
				return parse_error(p, p->stmt_line,
				    "list '%s': timeout must be longer than 0",
				    l->name);
		} else if (strcmp(opt, "max-size") == 0) {
			if (!parse_size(p, value, (uint64_t)1 << 30,
			    &l->max_size))
				return false;
		} else if (strcmp(opt, "ca") == 0) {
			free(l->ca_file);
			l->ca_file = resolve_path(p, value);
		} else
			return parse_error(p, p->stmt_line,
			    "list '%s': unknown option '%s' (refresh, timeout, "
			    "max-size, ca)", l->name, opt);
	}
	return true;
}

/* rate-limit QPS [burst N] */
static bool
key_rate_limit(struct parser *p)
{
	unsigned long long n;

	if (!expect_args(p, 1, 3))
		return false;
	if (!parse_uint(p, p->words[1], 1000000, &n))
		return false;
	p->conf->rate_limit = (unsigned)n;
	p->conf->rate_burst = 0;
	if (p->n_words == 2)
		return true;
	if (p->n_words != 4 || strcmp(p->words[2], "burst") != 0)
		return parse_error(p, p->stmt_line,
		    "expected 'rate-limit QPS [burst N]'");
	if (!parse_uint(p, p->words[3], 10000000, &n))
		return false;
	if (n < p->conf->rate_limit)
		return parse_error(p, p->stmt_line,
		    "rate-limit: burst %llu is below the rate %u", n,
		    p->conf->rate_limit);
	p->conf->rate_burst = (unsigned)n;
	return true;
}

static bool
key_list(struct parser *p)
{
	struct conf *c = p->conf;

	if (!expect_args(p, 2, 10))
		return false;
	if (!valid_name(p->words[1]))
		return parse_error(p, p->stmt_line,
		    "list name '%s' may use only letters, digits, '-', '_', '.'",
		    p->words[1]);
	long other = conf_find_list(c, p->words[1]);
	if (other >= 0)
		return parse_error(p, p->stmt_line,
		    "list '%s' is already defined on line %u", p->words[1],
		    c->lists[other].line);
	if (strncmp(p->words[2], "http://", 7) == 0)
		return parse_error(p, p->stmt_line,
		    "list '%s': only https:// lists are fetched", p->words[1]);
	struct conf_list *l = APPEND(c->lists, c->n_lists);
	l->name = xstrdup(p->words[1]);
	l->line = p->stmt_line;
	if (strncmp(p->words[2], "https://", 8) != 0) {
		if (p->n_words > 3)
			return parse_error(p, p->stmt_line,
			    "list '%s': '%s' is an option of remote lists only",
			    p->words[1], p->words[3]);
		l->path = resolve_path(p, p->words[2]);
		return true;
	}
	return remote_list(p, l);
}

static bool
key_device(struct parser *p)
{
	struct conf *c = p->conf;

	if (!expect_args(p, 2, 2))
		return false;
	if (!valid_name(p->words[1]))
		return parse_error(p, p->stmt_line,
		    "device name '%s' may use only letters, digits, '-', '_', '.'",
		    p->words[1]);
	for (size_t i = 0; i < c->n_devices; i++)
		if (strcmp(c->devices[i].name, p->words[1]) == 0)
			return parse_error(p, p->stmt_line,
			    "device '%s' is already defined on line %u",
			    p->words[1], c->devices[i].line);
	struct conf_device d = { .line = p->stmt_line };
	if (conf_parse_mac(p->words[2], d.mac))
		d.by_mac = true;
	else if (cidr_parse(p->words[2], &d.cidr) != NULL)
		return parse_error(p, p->stmt_line,
		    "device '%s': '%s' is neither an address, a prefix nor a "
		    "MAC address", p->words[1], p->words[2]);
	d.name = xstrdup(p->words[1]);
	*(struct conf_device *)APPEND(c->devices, c->n_devices) = d;
	return true;
}

bool
conf_parse_mac(const char *text, uint8_t mac[CONF_MAC_LEN])
{
	for (int i = 0; i < CONF_MAC_LEN; i++) {
		unsigned value = 0;
		for (int j = 0; j < 2; j++) {
			char c = *text++;
			value <<= 4;
			if (c >= '0' && c <= '9')
				value |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				value |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				value |= (unsigned)(c - 'A' + 10);
			else
				return false;
		}
		mac[i] = (uint8_t)value;
		if (i < CONF_MAC_LEN - 1 && *text != ':' && *text != '-')
			return false;
		if (i < CONF_MAC_LEN - 1)
			text++;
	}
	return *text == '\0';
}

static bool
group_lists(struct parser *p, size_t **indexes, size_t *count)
{
	if (!expect_args(p, 1, CONF_MAX_WORDS))
		return false;
	for (size_t i = 1; i < p->n_words; i++) {
		long index = conf_find_list(p->conf, p->words[i]);
		if (index < 0)
			return parse_error(p, p->stmt_line,
			    "'%s': no list called '%s'", p->words[0],
			    p->words[i]);
		*(size_t *)append_slot((void **)indexes, count, sizeof(**indexes)) =
		    (size_t)index;
	}
	return true;
}

static bool
group_clients(struct parser *p, struct conf_group *g)
{
	struct conf *c = p->conf;

	if (!expect_args(p, 1, CONF_MAX_WORDS))
		return false;
	if (strcmp(g->name, "default") == 0)
		return parse_error(p, p->stmt_line,
		    "group default holds every client in no other group; "
		    "it takes no 'clients'");
	for (size_t i = 1; i < p->n_words; i++) {
		struct conf_client *cl = APPEND(g->clients, g->n_clients);
		cl->line = p->stmt_line;
		cl->device = -1;
		for (size_t d = 0; d < c->n_devices; d++)
			if (strcmp(c->devices[d].name, p->words[i]) == 0) {
				cl->device = (long)d;
				cl->cidr = c->devices[d].cidr;
			}
		if (cl->device >= 0)
			continue;
		if (cidr_parse(p->words[i], &cl->cidr) != NULL)
			return parse_error(p, p->stmt_line,
			    "clients: '%s' is neither an address, a prefix "
			    "nor a device defined above", p->words[i]);
	}
	return true;
}

static bool
group_countries(struct parser *p, char (**codes)[3], size_t *count)
{
	if (!expect_args(p, 1, CONF_MAX_WORDS))
		return false;
	for (size_t i = 1; i < p->n_words; i++) {
		const char *w = p->words[i];
		if (strlen(w) != 2 || !((w[0] >= 'A' && w[0] <= 'Z') ||
		    (w[0] >= 'a' && w[0] <= 'z')) || !((w[1] >= 'A' &&
		    w[1] <= 'Z') || (w[1] >= 'a' && w[1] <= 'z')))
			return parse_error(p, p->stmt_line,
			    "'%s': '%s' is not a two-letter ISO 3166 country "
			    "code", p->words[0], w);
		char *code = append_slot((void **)codes, count, sizeof(**codes));
		code[0] = (char)(w[0] & ~0x20);
		code[1] = (char)(w[1] & ~0x20);
		code[2] = '\0';
	}
	return true;
}

static bool
group_asns(struct parser *p, uint32_t **asns, size_t *count)
{
	unsigned long long n;

	if (!expect_args(p, 1, CONF_MAX_WORDS))
		return false;
	for (size_t i = 1; i < p->n_words; i++) {
		const char *w = p->words[i];
		if ((w[0] == 'A' || w[0] == 'a') && (w[1] == 'S' || w[1] == 's'))
			w += 2;		/* "AS4134" as well as "4134" */
		if (!parse_uint(p, w, UINT32_MAX, &n))
			return false;
		if (n == 0)
			return parse_error(p, p->stmt_line,
			    "'%s': 0 is not an AS number", p->words[0]);
		*(uint32_t *)append_slot((void **)asns, count,
		    sizeof(**asns)) = (uint32_t)n;
	}
	return true;
}

static bool
parse_sni_rule(struct parser *p, enum sni_rule *out)
{
	if (!expect_args(p, 1, 1))
		return false;
	for (enum sni_rule r = SNI_RULE_ALLOW; r <= SNI_RULE_BLOCK; r++)
		if (strcmp(p->words[1], sni_rule_name(r)) == 0) {
			*out = r;
			return true;
		}
	return parse_error(p, p->stmt_line,
	    "'%s' must be allow, log or block, not '%s'", p->words[0],
	    p->words[1]);
}

/* sni-listen ADDR:PORT [to ADDR:PORT] */
static bool
key_sni_listen(struct parser *p)
{
	struct conf *c = p->conf;
	struct conf_sni_listen l = { .line = p->stmt_line };
	const char *err;

	if (!expect_args(p, 1, 3))
		return false;
	if ((err = addr_parse(p->words[1], 443, &l.listen)) != NULL)
		return parse_error(p, p->stmt_line, "sni-listen '%s': %s",
		    p->words[1], err);
	if (p->n_words == 3 || (p->n_words == 4 &&
	    strcmp(p->words[2], "to") != 0))
		return parse_error(p, p->stmt_line,
		    "expected 'sni-listen ADDR:PORT [to ADDR:PORT]'");
	if (p->n_words == 4) {
		if ((err = addr_parse(p->words[3], 443, &l.to)) != NULL)
			return parse_error(p, p->stmt_line,
			    "sni-listen ... to '%s': %s", p->words[3], err);
		l.forced = true;
	}
	*(struct conf_sni_listen *)APPEND(c->sni_listen, c->n_sni_listen) = l;
	return true;
}

static bool
key_group(struct parser *p)
{
	struct conf *c = p->conf;

	if (p->n_words != 2 || p->terminator != TOKEN_OPEN)
		return parse_error(p, p->stmt_line,
		    "expected 'group NAME {'");
	if (!valid_name(p->words[1]))
		return parse_error(p, p->stmt_line,
		    "group name '%s' may use only letters, digits, '-', '_', '.'",
		    p->words[1]);
	for (size_t i = 0; i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, p->words[1]) == 0)
			return parse_error(p, p->stmt_line,
			    "group '%s' is already defined on line %u",
			    p->words[1], c->groups[i].line);
	struct conf_group *g = APPEND(c->groups, c->n_groups);
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(p->words[1]);
	g->line = p->stmt_line;
	unsigned open_line = p->stmt_line;

	for (;;) {
		if (!next_statement(p))
			return false;
		if (p->terminator == TOKEN_EOF)
			return parse_error(p, open_line,
			    "group '%s': missing '}'", g->name);
		if (p->terminator == TOKEN_OPEN)
			return parse_error(p, p->stmt_line,
			    "unexpected '{' inside group '%s'", g->name);
		if (p->n_words > 0) {
			const char *key = p->words[0];
			bool ok;
			if (strcmp(key, "clients") == 0)
				ok = group_clients(p, g);
			else if (strcmp(key, "block") == 0)
				ok = group_lists(p, &g->block, &g->n_block);
			else if (strcmp(key, "log") == 0)
				ok = group_lists(p, &g->log, &g->n_log);
			else if (strcmp(key, "block-country") == 0)
				ok = group_countries(p, &g->block_country,
				    &g->n_block_country);
			else if (strcmp(key, "log-country") == 0)
				ok = group_countries(p, &g->log_country,
				    &g->n_log_country);
			else if (strcmp(key, "block-asn") == 0)
				ok = group_asns(p, &g->block_asn,
				    &g->n_block_asn);
			else if (strcmp(key, "log-asn") == 0)
				ok = group_asns(p, &g->log_asn, &g->n_log_asn);
			else if (strcmp(key, "sni-missing") == 0)
				ok = parse_sni_rule(p, &g->sni_missing);
			else if (strcmp(key, "unresolved-ip") == 0)
				ok = parse_sni_rule(p, &g->unresolved_ip);
			else
				ok = parse_error(p, p->stmt_line,
				    "unknown key '%s' in group '%s'", key,
				    g->name);
			if (!ok)
				return false;
		}
		if (p->terminator == TOKEN_CLOSE)
			return true;
	}
}

static bool
cidr_overlap(const struct cidr *a, const struct cidr *b)
{
	unsigned prefix = a->prefix < b->prefix ? a->prefix : b->prefix;
	unsigned full = prefix / 8, rest = prefix % 8;

	if (a->family != b->family)
		return false;
	if (memcmp(a->bytes, b->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a->bytes[full] & mask) == (b->bytes[full] & mask);
}

/* A client in two groups would be judged by whichever came first: refuse. */
static bool
check_groups(struct parser *p)
{
	struct conf *c = p->conf;

	for (size_t g1 = 0; g1 < c->n_groups; g1++)
	for (size_t i = 0; i < c->groups[g1].n_clients; i++)
	for (size_t g2 = g1 + 1; g2 < c->n_groups; g2++)
	for (size_t j = 0; j < c->groups[g2].n_clients; j++) {
		const struct conf_client *a = &c->groups[g1].clients[i];
		const struct conf_client *b = &c->groups[g2].clients[j];
		bool a_mac = a->device >= 0 && c->devices[a->device].by_mac;
		bool b_mac = b->device >= 0 && c->devices[b->device].by_mac;
		if (a_mac != b_mac)
			continue;	/* a MAC device's group wins at run time */
		if (a_mac ? memcmp(c->devices[a->device].mac,
		    c->devices[b->device].mac, CONF_MAC_LEN) == 0 :
		    cidr_overlap(&a->cidr, &b->cidr))
			return parse_error(p, b->line,
			    "a client of group '%s' is also in group '%s' "
			    "(line %u)", c->groups[g2].name,
			    c->groups[g1].name, a->line);
	}
	return true;
}

struct key {
	const char	*name;
	bool		(*parse)(struct parser *);
};

static bool key_simple(struct parser *p);

static const struct key keys[] = {
	{ "listen",		key_listen },
	{ "upstream",		key_upstream },
	{ "allow-clients",	key_allow_clients },
	{ "list",		key_list },
	{ "device",		key_device },
	{ "group",		key_group },
	{ "upstream-timeout",	key_simple },
	{ "query-timeout",	key_simple },
	{ "cache-size",		key_simple },
	{ "block-mode",		key_simple },
	{ "block-ttl",		key_simple },
	{ "events",		key_simple },
	{ "log-allowed",	key_simple },
	{ "tcp-idle-timeout",	key_simple },
	{ "tcp-max-connections", key_simple },
	{ "allowlist",		key_simple },
	{ "state-dir",		key_simple },
	{ "control",		key_simple },
	{ "user",		key_simple },
	{ "chroot",		key_simple },
	{ "rate-limit",		key_rate_limit },
	{ "quic-queue",		key_simple },
	{ "quic",		key_simple },
	{ "quic-unknown",	key_simple },
	{ "metrics-listen",	key_simple },
	{ "web-listen",		key_simple },
	{ "web-cert",		key_simple },
	{ "web-key",		key_simple },
	{ "web-password",	key_simple },
	{ "web-root",		key_simple },
	{ "workers",		key_simple },
	{ "sni-listen",		key_sni_listen },
	{ "sni-timeout",	key_simple },
	{ "sni-idle-timeout",	key_simple },
	{ "sni-max-connections", key_simple },
	{ "sni-max-per-client",	key_simple },
	{ "ech-strip",		key_simple },
	{ "doh-canary",		key_simple },
	{ "geoip-country",	key_simple },
	{ "geoip-asn",		key_simple },
};

/* Keys that take exactly one value. */
static bool
key_simple(struct parser *p)
{
	struct conf *c = p->conf;
	const char *key = p->words[0], *value;
	unsigned long long n;
	uint64_t ms;

	if (!expect_args(p, 1, 1))
		return false;
	value = p->words[1];
	unsigned *duration = strcmp(key, "upstream-timeout") == 0 ?
	    &c->upstream_timeout_ms : strcmp(key, "query-timeout") == 0 ?
	    &c->query_timeout_ms : strcmp(key, "tcp-idle-timeout") == 0 ?
	    &c->tcp_idle_timeout_ms : strcmp(key, "sni-timeout") == 0 ?
	    &c->sni_timeout_ms : strcmp(key, "sni-idle-timeout") == 0 ?
	    &c->sni_idle_timeout_ms : NULL;
	unsigned *count = strcmp(key, "tcp-max-connections") == 0 ?
	    &c->tcp_max_connections : strcmp(key, "sni-max-connections") == 0 ?
	    &c->sni_max_connections : strcmp(key, "sni-max-per-client") == 0 ?
	    &c->sni_max_per_client : NULL;

	if (duration != NULL) {
		if (!parse_duration_ms(p, value, 86400 * 1000, &ms))
			return false;
		if (ms == 0)
			return parse_error(p, p->stmt_line,
			    "'%s' must be longer than 0", key);
		*duration = (unsigned)ms;
	} else if (count != NULL) {
		if (!parse_uint(p, value, 1000000, &n))
			return false;
		if (n == 0)
			return parse_error(p, p->stmt_line,
			    "'%s' must be at least 1", key);
		*count = (unsigned)n;
	} else if (strcmp(key, "block-ttl") == 0) {
		if (!parse_duration_ms(p, value, 86400ULL * 1000 * 7, &ms))
			return false;
		c->block_ttl = (uint32_t)(ms / 1000);
	} else if (strcmp(key, "cache-size") == 0) {
		if (!parse_uint(p, value, 10000000, &n))
			return false;
		c->cache_size = (size_t)n;
	} else if (strcmp(key, "workers") == 0) {
		if (strcmp(value, "auto") == 0)
			c->workers = 0;
		else {
			if (!parse_uint(p, value, 64, &n))
				return false;
			if (n == 0)
				return parse_error(p, p->stmt_line,
				    "'workers' must be auto or 1 to 64");
			c->workers = (unsigned)n;
		}
	} else if (strcmp(key, "block-mode") == 0) {
		if (strcmp(value, "null") == 0)
			c->block_mode = BLOCK_MODE_NULL;
		else if (strcmp(value, "nxdomain") == 0)
			c->block_mode = BLOCK_MODE_NXDOMAIN;
		else if (strcmp(value, "refused") == 0)
			c->block_mode = BLOCK_MODE_REFUSED;
		else
			return parse_error(p, p->stmt_line,
			    "block-mode must be null, nxdomain or refused, "
			    "not '%s'", value);
	} else if (strcmp(key, "log-allowed") == 0)
		return parse_bool(p, value, &c->log_allowed);
	else if (strcmp(key, "ech-strip") == 0)
		return parse_bool(p, value, &c->ech_strip);
	else if (strcmp(key, "doh-canary") == 0)
		return parse_bool(p, value, &c->doh_canary);
	else if (strcmp(key, "events") == 0) {
		free(c->events);
		c->events = strcmp(value, "-") == 0 ? xstrdup("-") :
		    resolve_path(p, value);
	} else if (strcmp(key, "allowlist") == 0) {
		free(c->allowlist);
		c->allowlist = resolve_path(p, value);
	} else if (strcmp(key, "state-dir") == 0) {
		free(c->state_dir);
		c->state_dir = resolve_path(p, value);
	} else if (strcmp(key, "quic-queue") == 0) {
		if (!parse_uint(p, value, 65535, &n))
			return false;
		c->quic_queue = (int)n;
	} else if (strcmp(key, "quic") == 0) {
		if (strcmp(value, "inspect") != 0 && strcmp(value, "block") != 0)
			return parse_error(p, p->stmt_line,
			    "quic must be inspect or block, not '%s'", value);
		c->quic_block = strcmp(value, "block") == 0;
	} else if (strcmp(key, "quic-unknown") == 0) {
		if (strcmp(value, "allow") != 0 && strcmp(value, "block") != 0)
			return parse_error(p, p->stmt_line,
			    "quic-unknown must be allow or block, not '%s'",
			    value);
		c->quic_unknown_block = strcmp(value, "block") == 0;
	} else if (strcmp(key, "user") == 0) {
		free(c->user);
		c->user = xstrdup(value);
	} else if (strcmp(key, "chroot") == 0) {
		if (value[0] != '/')
			return parse_error(p, p->stmt_line,
			    "chroot '%s': must be an absolute path", value);
		free(c->chroot);
		c->chroot = xstrdup(value);
	} else if (strcmp(key, "control") == 0) {
		free(c->control);
		c->control = resolve_path(p, value);
	} else if (strcmp(key, "web-listen") == 0) {
		const char *err = addr_parse(value, 8080, &c->web_listen);
		if (err != NULL)
			return parse_error(p, p->stmt_line,
			    "web-listen '%s': %s", value, err);
	} else if (strcmp(key, "web-cert") == 0 ||
	    strcmp(key, "web-key") == 0 || strcmp(key, "web-root") == 0) {
		char **dst = key[4] == 'c' ? &c->web_cert : key[4] == 'k' ?
		    &c->web_key : &c->web_root;
		free(*dst);
		*dst = resolve_path(p, value);
	} else if (strcmp(key, "web-password") == 0) {
		if (strncmp(value, "pbkdf2-sha256$", 14) != 0)
			return parse_error(p, p->stmt_line,
			    "web-password: not a hash (make one with "
			    "hushctl passwd)");
		free(c->web_password);
		c->web_password = xstrdup(value);
	} else if (strcmp(key, "metrics-listen") == 0) {
		const char *err = addr_parse(value, 9153, &c->metrics_listen);
		if (err != NULL)
			return parse_error(p, p->stmt_line,
			    "metrics-listen '%s': %s", value, err);
	} else if (strcmp(key, "geoip-country") == 0) {
		free(c->geoip_country);
		c->geoip_country = resolve_path(p, value);
	} else if (strcmp(key, "geoip-asn") == 0) {
		free(c->geoip_asn);
		c->geoip_asn = resolve_path(p, value);
	}
	return true;
}

/* Without allow-clients, serve loopback and the private ranges a LAN uses. */
static void
default_allow_clients(struct conf *c)
{
	static const char *private_ranges[] = { "127.0.0.0/8", "::1",
	    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
	    "169.254.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10" };

	if (c->n_allow_clients == 0) {
		for (size_t i = 0; i < sizeof(private_ranges) /
		    sizeof(private_ranges[0]); i++) {
			struct cidr *cidr = APPEND(c->allow_clients,
			    c->n_allow_clients);
			cidr_parse(private_ranges[i], cidr);
		}
	}
}

/* Where remote lists keep their copies: state-dir/lists/NAME. */
static void
remote_list_paths(struct conf *c)
{
	if (c->state_dir == NULL)
		c->state_dir = xstrdup(CONF_DEFAULT_STATE_DIR);
	for (size_t i = 0; i < c->n_lists; i++) {
		struct conf_list *l = &c->lists[i];
		if (l->url != NULL && l->path == NULL &&
		    asprintf(&l->path, "%s/lists/%s", c->state_dir,
		    l->name) < 0)
			fatalx("out of memory");
	}
}

struct conf *
conf_parse(const char *path, const char *buf, size_t len,
    const char *resolv_conf, char *err, size_t errlen)
{
	struct parser p = {
		.path = path, .buf = buf, .len = len, .line = 1,
		.err = err, .errlen = errlen, .resolv_conf = resolv_conf,
	};
	const char *slash = strrchr(path, '/');
	bool ok = true;

	p.dir = slash ? xstrndup(path, (size_t)(slash - path + (slash == path))) :
	    NULL;
	p.conf = xcalloc(1, sizeof(*p.conf));
	p.conf->path = xstrdup(path);
	p.conf->upstream_timeout_ms = 1000;
	p.conf->query_timeout_ms = 4000;
	p.conf->cache_size = 20000;
	p.conf->block_ttl = 60;
	p.conf->log_allowed = true;
	p.conf->tcp_idle_timeout_ms = 10000;
	p.conf->tcp_max_connections = 256;
	p.conf->sni_timeout_ms = 5000;
	p.conf->sni_idle_timeout_ms = 600 * 1000;
	p.conf->sni_max_connections = 4096;
	p.conf->sni_max_per_client = 256;
	p.conf->ech_strip = true;
	p.conf->doh_canary = true;
	p.conf->quic_queue = -1;

	if (memchr(buf, '\0', len) != NULL) {
		ok = parse_error(&p, 1, "file contains a NUL byte");
		goto done;
	}
	while (ok) {
		if (!(ok = next_statement(&p)))
			break;
		if (p.terminator == TOKEN_EOF && p.n_words == 0)
			break;
		if (p.terminator == TOKEN_CLOSE) {
			ok = parse_error(&p, p.stmt_line, "unexpected '}'");
			break;
		}
		if (p.n_words == 0) {
			ok = parse_error(&p, p.stmt_line, "unexpected '{'");
			break;
		}
		const struct key *k = NULL;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, p.words[0]) == 0)
				k = &keys[i];
		if (k == NULL) {
			ok = parse_error(&p, p.stmt_line, "unknown key '%s'",
			    p.words[0]);
			break;
		}
		if (p.terminator == TOKEN_OPEN && k->parse != key_group) {
			ok = parse_error(&p, p.stmt_line,
			    "'%s' does not take a '{' block", p.words[0]);
			break;
		}
		ok = k->parse(&p);
		if (p.terminator == TOKEN_EOF)
			break;
	}
	if (ok && p.conf->n_listen == 0)
		ok = parse_error(&p, p.line, "no 'listen' address");
	if (ok && p.conf->n_upstreams == 0)
		ok = parse_error(&p, p.line, "no 'upstream'");
	if (ok && p.conf->n_upstreams > CONF_MAX_UPSTREAMS)
		ok = parse_error(&p, p.conf->upstreams[CONF_MAX_UPSTREAMS].line,
		    "more than %d upstreams", CONF_MAX_UPSTREAMS);
	if (ok && p.conf->query_timeout_ms < p.conf->upstream_timeout_ms)
		ok = parse_error(&p, p.line,
		    "query-timeout is shorter than upstream-timeout");
	if (ok)
		ok = check_groups(&p);
	if (ok && (p.conf->web_cert == NULL) != (p.conf->web_key == NULL))
		ok = parse_error(&p, p.line, "web-cert and web-key go "
		    "together");
done:
	clear_statement(&p);
	free(p.dir);
	if (!ok) {
		conf_free(p.conf);
		return NULL;
	}
	default_allow_clients(p.conf);
	remote_list_paths(p.conf);
	for (size_t i = 0; i < p.conf->n_upstreams; i++) {
		struct conf_upstream *u = &p.conf->upstreams[i];
		addr_ntop_port((const struct sockaddr *)&u->addr.ss, u->name,
		    sizeof(u->name));
	}
	return p.conf;
}

struct conf *
conf_load(const char *path, const char *resolv_conf, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	struct conf *conf = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len <= CONF_MAX_SIZE);
	if (ferror(f))
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (len > CONF_MAX_SIZE)
		snprintf(err, errlen, "%s: larger than %u bytes", path,
		    CONF_MAX_SIZE);
	else
		conf = conf_parse(path, buf, len, resolv_conf, err, errlen);
	fclose(f);
	free(buf);
	return conf;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->listen);
	free(c->sni_listen);
	for (size_t i = 0; i < c->n_upstreams; i++) {
		free(c->upstreams[i].tls_name);
		free(c->upstreams[i].ca_file);
	}
	free(c->upstreams);
	free(c->allow_clients);
	free(c->events);
	free(c->allowlist);
	free(c->state_dir);
	free(c->control);
	free(c->web_cert);
	free(c->web_key);
	free(c->web_password);
	free(c->web_root);
	free(c->user);
	free(c->chroot);
	free(c->geoip_country);
	free(c->geoip_asn);
	for (size_t i = 0; i < c->n_lists; i++) {
		free(c->lists[i].name);
		free(c->lists[i].path);
		free(c->lists[i].url);
		free(c->lists[i].ca_file);
	}
	free(c->lists);
	for (size_t i = 0; i < c->n_devices; i++)
		free(c->devices[i].name);
	free(c->devices);
	for (size_t i = 0; i < c->n_groups; i++) {
		free(c->groups[i].name);
		free(c->groups[i].clients);
		free(c->groups[i].block);
		free(c->groups[i].log);
		free(c->groups[i].block_country);
		free(c->groups[i].log_country);
		free(c->groups[i].block_asn);
		free(c->groups[i].log_asn);
	}
	free(c->groups);
	free(c);
}

long
conf_find_list(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_lists; i++)
		if (strcmp(c->lists[i].name, name) == 0)
			return (long)i;
	return -1;
}

const char *
sni_rule_name(enum sni_rule rule)
{
	switch (rule) {
	case SNI_RULE_ALLOW:
		return "allow";
	case SNI_RULE_LOG:
		return "log";
	case SNI_RULE_BLOCK:
		return "block";
	}
	return "?";
}

const char *
block_mode_name(enum block_mode mode)
{
	switch (mode) {
	case BLOCK_MODE_NULL:
		return "null";
	case BLOCK_MODE_NXDOMAIN:
		return "nxdomain";
	case BLOCK_MODE_REFUSED:
		return "refused";
	}
	return "?";
}
