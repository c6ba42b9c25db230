/*
 * lists.c: block and allow list files read into domainsets.
 *
 * The format is recognised line by line (see lists.h): plain names,
 * hosts-file entries, "*.name", and the adblock forms "||name^" and
 * "@@||name^". Everything else an adblock list may hold (modifiers after
 * '$', paths, regular expressions, cosmetic "##" rules) is skipped with
 * a warning, as are names that are not ASCII: hushd does not convert
 * internationalised names to punycode.
 *
 * Lists will come from remote servers, so the input is hostile: every
 * read is bounded by the line's length, lines are found with memchr and
 * each byte is looked at a fixed number of times, so parsing is linear in
 * the size of the input. Warnings quote at most LIST_EXCERPT_MAX bytes of
 * the line, with anything but printable ASCII escaped.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lists.h"
#include "log.h"

#define LIST_LABEL_MAX		63
#define LIST_LINE_MAX		4096	/* longer lines are not rules */
#define LIST_EXCERPT_MAX	60	/* input bytes quoted in a warning */
#define LIST_FILE_MAX		((size_t)1 << 30)

/* What a line is, judged from its first bytes. */
enum list_syntax {
	LIST_SYNTAX_IGNORED,		/* comment or adblock header */
	LIST_SYNTAX_ADBLOCK,		/* ||name^ */
	LIST_SYNTAX_EXCEPTION,		/* @@||name^ */
	LIST_SYNTAX_BAD_EXCEPTION,	/* @@ anything else */
	LIST_SYNTAX_ADBLOCK_OTHER,	/* |url, /regex/, /path */
	LIST_SYNTAX_COSMETIC,		/* name##selector and kin */
	LIST_SYNTAX_FIELDS,		/* hosts entry or plain name */
};

struct list_parser {
	struct list	*list;
	size_t		 lineno;
	bool		 line_warned;
	list_warn_fn	 warn;
	void		*warn_arg;
};

/* Names a hosts file lists for itself rather than to block. */
#define HOSTS_BUILTIN(name)	{ name, sizeof(name) - 1 }
static const struct {
	const char	*name;
	size_t		 len;
} list_hosts_builtin[] = {
	HOSTS_BUILTIN("0.0.0.0"), HOSTS_BUILTIN("broadcasthost"),
	HOSTS_BUILTIN("ip6-allhosts"), HOSTS_BUILTIN("ip6-allnodes"),
	HOSTS_BUILTIN("ip6-allrouters"), HOSTS_BUILTIN("ip6-localhost"),
	HOSTS_BUILTIN("ip6-localnet"), HOSTS_BUILTIN("ip6-loopback"),
	HOSTS_BUILTIN("ip6-mcastprefix"), HOSTS_BUILTIN("local"),
	HOSTS_BUILTIN("localhost"), HOSTS_BUILTIN("localhost.localdomain"),
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Writes text to out as printable ASCII: other bytes and the backslash
 * are escaped, and input beyond LIST_EXCERPT_MAX bytes becomes "...".
 * out must hold LIST_EXCERPT_MAX * 4 + 4 bytes.
 */
static void
list_excerpt(const char *text, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = len < LIST_EXCERPT_MAX ? len : LIST_EXCERPT_MAX;
	unsigned char c;

	for (size_t i = 0; i < n; i++) {
		c = (unsigned char)text[i];
		if (c == '\\') {
			*out++ = '\\';
			*out++ = '\\';
		} else if (c >= 0x20 && c < 0x7f)
			*out++ = (char)c;
		else {
			*out++ = '\\';
			*out++ = 'x';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 0xf];
		}
	}
	if (len > n) {
		memcpy(out, "...", 3);
		out += 3;
	}
	*out = '\0';
}

static void
list_warn(struct list_parser *p, const char *what, const char *text,
    size_t len)
{
	char excerpt[LIST_EXCERPT_MAX * 4 + 4], msg[PATH_MAX + 512];

	p->line_warned = true;
	if (p->warn == NULL)
		return;
	list_excerpt(text, len, excerpt);
	snprintf(msg, sizeof(msg), "%s:%zu: %s: %s", p->list->path,
	    p->lineno, what, excerpt);
	p->warn(p->warn_arg, msg);
}

static bool
has_non_ascii(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] >= 0x80)
			return true;
	return false;
}

/* The bytes a label may hold, folded to lower case; 0 for all others. */
static const char name_bytes[256] = {
	['-'] = '-', ['_'] = '_', ['0'] = '0', ['1'] = '1',
	['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
	['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b',
	['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g',
	['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l',
	['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q',
	['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v',
	['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z', ['a'] = 'a',
	['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
	['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k',
	['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p',
	['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u',
	['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

/* One pass over the name; the caller adds the hint for non-ASCII names. */
static const char *
normalize_labels(const char *in, size_t len, char *out)
{
	size_t start, end;
	char c;

	if (len == 0)
		return "empty name";
	if (len > LIST_NAME_MAX)
		return "name longer than 253 bytes";
	for (start = 0; start <= len; start = end + 1) {
		for (end = start; end < len && in[end] != '.'; end++) {
			if ((c = name_bytes[(unsigned char)in[end]]) == 0)
				return "invalid character "
				    "(allowed: a-z 0-9 - _ .)";
			out[end] = c;
		}
		if (end == start)
			return "empty label";
		if (end - start > LIST_LABEL_MAX)
			return "label longer than 63 bytes";
		if (out[start] != '_' &&
		    (out[start] == '-' || out[end - 1] == '-'))
			return "label begins or ends with '-'";
		out[end] = '.';
	}
	out[len] = '\0';
	return NULL;
}

const char *
list_normalize_name(const char *in, size_t len, char *out, size_t *out_len)
{
	const char *why;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if ((why = normalize_labels(in, len, out)) != NULL)
		return has_non_ascii(in, len) ? "not ASCII: write "
		    "internationalised names in punycode (xn--...)" : why;
	*out_len = len;
	return NULL;
}

/*
 * Dotted-quad IPv4 as inet_pton(3) takes it: four numbers up to 255, no
 * leading zeros. Parsed here because hosts files repeat "0.0.0.0" on
 * every line, and inet_pton needs a string copy and a strlen each time.
 */
static bool
is_ipv4_address(const char *text, size_t len)
{
	unsigned value = 0, digits = 0, dots = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '.') {
			if (digits == 0 || ++dots > 3)
				return false;
			value = digits = 0;
		} else if (text[i] >= '0' && text[i] <= '9') {
			if (digits > 0 && value == 0)
				return false;
			value = value * 10 + (unsigned)(text[i] - '0');
			if (value > 255)
				return false;
			digits++;
		} else
			return false;
	}
	return dots == 3 && digits > 0;
}

/* An IPv6 zone, as in "fe80::1%lo0" of macOS hosts files, is ignored. */
static bool
is_ip_address(const char *text, size_t len)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	const char *zone;

	if (memchr(text, ':', len) == NULL)
		return is_ipv4_address(text, len);
	if ((zone = memchr(text, '%', len)) != NULL)
		len = (size_t)(zone - text);
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

static uint32_t
list_line32(const struct list_parser *p)
{
	return p->lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)p->lineno;
}

/*
 * Checks and adds one name. text is what the warning quotes: the name
 * itself for a hosts entry, the whole rule otherwise.
 */
static void
list_add(struct list_parser *p, struct domainset *set, const char *name,
    size_t len, enum domainset_kind kind, const char *text, size_t text_len)
{
	char norm[LIST_NAME_MAX + 1];
	size_t norm_len;
	const char *why;

	if ((why = list_normalize_name(name, len, norm, &norm_len)) != NULL) {
		list_warn(p, why, text, text_len);
		return;
	}
	if (is_ip_address(norm, norm_len)) {
		list_warn(p, "an IP address is not a domain", text, text_len);
		return;
	}
	domainset_add(set, norm, norm_len, kind, list_line32(p));
}

/*
 * True when text begins with a cosmetic rule marker: "##", "#@#", "#?#",
 * "#$#", "#%#" or "#@" with one of the last three.
 */
static bool
is_cosmetic_marker(const char *text, size_t len)
{
	size_t i = 1;

	if (len < 2 || text[0] != '#')
		return false;
	if (i < len && text[i] == '@')
		i++;
	if (i < len && (text[i] == '?' || text[i] == '$' || text[i] == '%'))
		i++;
	return i < len && text[i] == '#';
}

/* line is not empty and has no blanks at either end. */
static enum list_syntax
list_classify(const char *line, size_t len)
{
	const char *hash;

	if (line[0] == '#' || line[0] == '!')
		return LIST_SYNTAX_IGNORED;
	if (line[0] == '[' && line[len - 1] == ']')
		return LIST_SYNTAX_IGNORED;
	if (len >= 4 && memcmp(line, "@@||", 4) == 0)
		return LIST_SYNTAX_EXCEPTION;
	if (len >= 2 && memcmp(line, "@@", 2) == 0)
		return LIST_SYNTAX_BAD_EXCEPTION;
	if (len >= 2 && memcmp(line, "||", 2) == 0)
		return LIST_SYNTAX_ADBLOCK;
	if (line[0] == '|' || line[0] == '/')
		return LIST_SYNTAX_ADBLOCK_OTHER;
	hash = memchr(line, '#', len);
	if (hash != NULL &&
	    is_cosmetic_marker(hash, len - (size_t)(hash - line)))
		return LIST_SYNTAX_COSMETIC;
	return LIST_SYNTAX_FIELDS;
}

/*
 * Says why a name field that is not a plain name cannot be one, before
 * list_normalize_name reports only its first bad character.
 */
static const char *
list_field_problem(const char *field, size_t len)
{
	if (memchr(field, '$', len) != NULL)
		return "adblock modifiers ($...) are not supported";
	if (memchr(field, '/', len) != NULL)
		return "URLs and paths are not supported, only names";
	if (memchr(field, '*', len) != NULL)
		return "'*' is supported only as a leading \"*.\"";
	return NULL;
}

/* body: what follows "||" (or "@@||") up to the end of the line. */
static void
list_parse_adblock(struct list_parser *p, struct domainset *set,
    const char *body, size_t len, const char *line, size_t line_len)
{
	const char *caret = memchr(body, '^', len), *why;
	size_t name_len;

	if (caret == NULL) {
		why = list_field_problem(body, len);
		if (why == NULL)
			why = "adblock rule without '^' is not supported";
		list_warn(p, why, line, line_len);
		return;
	}
	name_len = (size_t)(caret - body);
	if ((why = list_field_problem(body, name_len)) != NULL) {
		list_warn(p, why, line, line_len);
		return;
	}
	if (len - name_len > 1) {
		list_warn(p, caret[1] == '$' ?
		    "adblock modifiers ($...) are not supported" :
		    "unsupported adblock syntax after '^'", line, line_len);
		return;
	}
	list_add(p, set, body, name_len, DOMAINSET_NAME_AND_SUBDOMAINS, line,
	    line_len);
}

/*
 * Finds the next blank-separated field at or after *pos. Returns false
 * when none is left.
 */
static bool
next_field(const char *line, size_t len, size_t *pos, const char **field,
    size_t *field_len)
{
	size_t i = *pos, start;

	while (i < len && is_blank(line[i]))
		i++;
	if (i == len)
		return false;
	start = i;
	while (i < len && !is_blank(line[i]))
		i++;
	*field = line + start;
	*field_len = i - start;
	*pos = i;
	return true;
}

/* Folding case and a trailing dot, as list_normalize_name does. */
static bool
is_hosts_builtin(const char *name, size_t len)
{
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(list_hosts_builtin) /
	    sizeof(list_hosts_builtin[0]); i++)
		if (list_hosts_builtin[i].len == len &&
		    strncasecmp(name, list_hosts_builtin[i].name, len) == 0)
			return true;
	return false;
}

/* "ADDRESS name..." */
static void
list_parse_hosts(struct list_parser *p, const char *line, size_t len,
    size_t pos)
{
	const char *field;
	size_t field_len;
	bool named = false;

	while (next_field(line, len, &pos, &field, &field_len)) {
		named = true;
		if (is_hosts_builtin(field, field_len))
			continue;
		list_add(p, p->list->rules, field, field_len,
		    DOMAINSET_NAME_AND_SUBDOMAINS, field, field_len);
	}
	if (!named)
		list_warn(p, "an IP address alone is not a domain", line, len);
}

/* A hosts entry or one name, possibly "*.name", with a '#' comment. */
static void
list_parse_fields(struct list_parser *p, const char *line, size_t len)
{
	const char *comment = memchr(line, '#', len), *field, *rest, *why;
	size_t pos = 0, field_len, rest_len;
	enum domainset_kind kind = DOMAINSET_NAME_AND_SUBDOMAINS;

	if (comment != NULL)
		len = (size_t)(comment - line);
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	if (!next_field(line, len, &pos, &field, &field_len))
		return;
	if (is_ip_address(field, field_len)) {
		list_parse_hosts(p, line, len, pos);
		return;
	}
	if (next_field(line, len, &pos, &rest, &rest_len)) {
		list_warn(p, "expected one name, or an address and names",
		    line, len);
		return;
	}
	if (field_len >= 2 && memcmp(field, "*.", 2) == 0) {
		kind = DOMAINSET_SUBDOMAINS_ONLY;
		field += 2;
		field_len -= 2;
	}
	if ((why = list_field_problem(field, field_len)) != NULL) {
		list_warn(p, why, line, len);
		return;
	}
	list_add(p, p->list->rules, field, field_len, kind, line, len);
}

static void
list_parse_line(struct list_parser *p, const char *line, size_t len)
{
	if (len > LIST_LINE_MAX) {
		list_warn(p, "line longer than 4096 bytes", line, len);
		return;
	}
	while (len > 0 && is_blank(line[0])) {
		line++;
		len--;
	}
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	if (len == 0)
		return;
	switch (list_classify(line, len)) {
	case LIST_SYNTAX_IGNORED:
		break;
	case LIST_SYNTAX_ADBLOCK:
		list_parse_adblock(p, p->list->rules, line + 2, len - 2, line,
		    len);
		break;
	case LIST_SYNTAX_EXCEPTION:
		list_parse_adblock(p, p->list->exceptions, line + 4, len - 4,
		    line, len);
		break;
	case LIST_SYNTAX_BAD_EXCEPTION:
		list_warn(p, "exceptions must be written @@||name^", line, len);
		break;
	case LIST_SYNTAX_ADBLOCK_OTHER:
		list_warn(p, "adblock rules other than ||name^ are not "
		    "supported", line, len);
		break;
	case LIST_SYNTAX_COSMETIC:
		list_warn(p, "cosmetic (element hiding) rules are not "
		    "supported", line, len);
		break;
	case LIST_SYNTAX_FIELDS:
		list_parse_fields(p, line, len);
		break;
	}
}

struct list *
list_parse(const char *name, const char *path, const char *buf, size_t len,
    list_warn_fn warn, void *warn_arg)
{
	struct list *list = xcalloc(1, sizeof(*list));
	struct list_parser p = { .list = list, .warn = warn,
	    .warn_arg = warn_arg };
	const char *nl;
	size_t off = 0, end, line_len;

	list->name = xstrdup(name);
	list->path = xstrdup(path);
	list->rules = domainset_new();
	list->exceptions = domainset_new();

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	while (off < len) {
		nl = memchr(buf + off, '\n', len - off);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		line_len = end - off;
		if (line_len > 0 && buf[end - 1] == '\r')
			line_len--;
		p.lineno++;
		p.line_warned = false;
		list_parse_line(&p, buf + off, line_len);
		if (p.line_warned)
			list->skipped++;
		off = nl != NULL ? end + 1 : len;
	}
	return list;
}

/*
 * Reads the whole file. Returns 0, or an errno value (EFBIG for a file
 * over LIST_FILE_MAX).
 */
static int
list_read_file(const char *path, char **out, size_t *out_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, size;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size >= LIST_FILE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	/*
	 * A regular file is read in one go (the extra byte sees its end);
	 * a pipe, or a file that grows meanwhile, doubles the buffer.
	 */
	size = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	buf = xmalloc(size);
	for (;;) {
		if (len == size) {
			if (size >= LIST_FILE_MAX) {
				errno = EFBIG;
				goto fail;
			}
			size = size > LIST_FILE_MAX / 2 ? LIST_FILE_MAX :
			    size * 2;
			buf = xreallocarray(buf, size, 1);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	*out_len = len;
	return 0;
fail:
	saved = errno != 0 ? errno : EIO;
	free(buf);
	close(fd);
	return saved;
}

struct list *
list_load(const char *name, const char *path, list_warn_fn warn,
    void *warn_arg, char *err, size_t errlen)
{
	struct list *list;
	char *buf = NULL;
	size_t len = 0;
	int error;

	if ((error = list_read_file(path, &buf, &len)) != 0) {
		if (err != NULL && errlen > 0) {
			if (error == EFBIG)
				snprintf(err, errlen, "%s: larger than 1 GiB",
				    path);
			else
				snprintf(err, errlen, "%s: %s", path,
				    strerror(error));
		}
		return NULL;
	}
	list = list_parse(name, path, buf, len, warn, warn_arg);
	free(buf);
	return list;
}

void
list_free(struct list *list)
{
	if (list == NULL)
		return;
	domainset_free(list->rules);
	domainset_free(list->exceptions);
	free(list->name);
	free(list->path);
	free(list);
}

size_t
list_size(const struct list *list)
{
	return domainset_count(list->rules) +
	    domainset_count(list->exceptions);
}

bool
list_match(const struct list *list, const char *qname, size_t len,
    struct list_match *out)
{
	struct domainset_name qn;

	if (list_size(list) == 0)
		return false;
	domainset_name_prepare(&qn, qname, len);
	return list_match_name(list, &qn, out);
}

bool
list_match_name(const struct list *list, struct domainset_name *qn,
    struct list_match *out)
{
	struct domainset_match m;

	/* Most names match no rule: look for exceptions only when one does. */
	if (!domainset_match_name(list->rules, qn, &m))
		return false;
	if (domainset_count(list->exceptions) > 0 &&
	    domainset_match_name(list->exceptions, qn, NULL))
		return false;
	if (out != NULL) {
		out->rule = m.name;
		out->rule_len = m.len;
		out->subdomains_only = m.kind == DOMAINSET_SUBDOMAINS_ONLY;
		out->line = m.line;
	}
	return true;
}

size_t
list_match_all(const struct list *list, const char *qname, size_t len,
    struct list_hit *hits, size_t max)
{
	struct domainset_match m;
	const char *dot;
	size_t n = 0, off = 0;

	for (;;) {
		for (int exc = 0; exc < 2; exc++) {
			const struct domainset *set = exc ? list->exceptions :
			    list->rules;
			if (!domainset_get(set, qname + off, len - off, &m) ||
			    (off == 0 && m.kind == DOMAINSET_SUBDOMAINS_ONLY))
				continue;
			if (n < max) {
				hits[n].match.rule = m.name;
				hits[n].match.rule_len = m.len;
				hits[n].match.subdomains_only =
				    m.kind == DOMAINSET_SUBDOMAINS_ONLY;
				hits[n].match.line = m.line;
				hits[n].exception = exc;
			}
			n++;
		}
		dot = memchr(qname + off, '.', len - off);
		if (dot == NULL)
			break;
		off = (size_t)(dot - qname) + 1;
		if (off >= len)
			break;
	}
	return n;
}
