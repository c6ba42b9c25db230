/*
 * report.h: "hushctl report", a summary per device of hushd's event log, as
 * text, JSON or one self-contained HTML page. See hushctl(8).
 */
#ifndef HUSHD_REPORT_H
#define HUSHD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* argv[0] is "report"; json asks for JSON on standard output. Returns the
 * exit status: 0, 64 usage, 66 the event log cannot be read, 73 the HTML
 * page cannot be written. */
int report_main(int argc, char **argv, bool json);

/*
 * The same report over event lines from elsewhere ("hushd audit"): lines
 * are added one by one (without their newline); source names where they
 * came from in the page's footer; a note is said after the totals.
 */
struct report;
struct report *report_new(const char *source);
void report_add_line(struct report *r, const char *line, size_t len);
void report_set_note(struct report *r, const char *note);
void report_write_text(struct report *r, FILE *f);
int report_write_json(struct report *r, FILE *f);	/* 0, or EX_IOERR */
void report_write_html(struct report *r, FILE *f);
void report_free(struct report *r);

#endif
