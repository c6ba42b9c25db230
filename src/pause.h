/*
 * pause.h: blocking paused for a while, for everyone or for one group
 * (from the web page: "let the TV through for 15 minutes").
 *
 * While paused, what would be blocked passes with action "log" (so the
 * event log still shows it). Set from the main thread, read by every
 * worker without a lock.
 */
#ifndef HUSHD_PAUSE_H
#define HUSHD_PAUSE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PAUSE_GROUPS	16
#define PAUSE_NAME_MAX	64

struct pause {
	_Atomic int64_t	all_until;	/* wall-clock seconds; 0: none */
	struct {
		char		name[PAUSE_NAME_MAX];
		_Atomic int64_t	until;
	} groups[PAUSE_GROUPS];
};

/* Pauses group (NULL: everyone) until until (time(NULL) seconds). */
bool pause_set(struct pause *p, const char *group, int64_t until);
/* Ends every pause. */
void pause_clear(struct pause *p);
/* Whether blocking is paused for group at now. */
bool pause_active(const struct pause *p, const char *group, int64_t now);

#endif
