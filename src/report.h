/*
 * report.h: "hushctl report", a summary per device of hushd's event log, as
 * text, JSON or one self-contained HTML page. See hushctl(8).
 */
#ifndef HUSHD_REPORT_H
#define HUSHD_REPORT_H

#include <stdbool.h>

/* argv[0] is "report"; json asks for JSON on standard output. Returns the
 * exit status: 0, 64 usage, 66 the event log cannot be read, 73 the HTML
 * page cannot be written. */
int report_main(int argc, char **argv, bool json);

#endif
