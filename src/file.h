/*
 * file.h: whole writes and files replaced in one step, for the event log,
 * the remote lists' copies, the lists the web page edits, and hushctl.
 */
#ifndef HUSHD_FILE_H
#define HUSHD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all of buf to fd (again after EINTR); false with errno. */
bool file_write_all(int fd, const void *buf, size_t len);

/*
 * Replaces path with data: written to path.tmp (mode), flushed to disk and
 * renamed over path, so a reader sees the old file or the new one, never
 * half of one. Missing parent directories are made (0750) when mkdirs.
 * False with errno; the temporary file is then gone.
 */
bool file_replace(const char *path, const void *data, size_t len,
    mode_t mode, bool mkdirs);

#endif
