/*
 * file.c: whole writes and atomic file replacement (see file.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

bool
file_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Creates every missing directory of path's parent. */
static bool
make_parent(const char *path)
{
	char *dir = xstrdup(path), *slash;
	bool ok = true;

	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; ok && (p = strchr(p, '/')) != NULL;
		    p++) {
			*p = '\0';
			ok = mkdir(dir, 0750) == 0 || errno == EEXIST;
			*p = '/';
		}
		ok = ok && (mkdir(dir, 0750) == 0 || errno == EEXIST);
	}
	free(dir);
	return ok;
}

bool
file_replace(const char *path, const void *data, size_t len, mode_t mode,
    bool mkdirs)
{
	char *tmp;
	int fd, saved;

	if (mkdirs && !make_parent(path))
		return false;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		fatalx("out of memory");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) ==
	    -1) {
		saved = errno;
		free(tmp);
		errno = saved;
		return false;
	}
	if (!file_write_all(fd, data, len) || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		goto fail;
	}
	free(tmp);
	return true;
fail:
	unlink(tmp);
	free(tmp);
	errno = saved;
	return false;
}
