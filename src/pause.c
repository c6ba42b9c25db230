/*
 * pause.c: paused blocking (see pause.h). Group slots are written only by
 * the main thread; a slot's name is set before its time, and a worker
 * that reads a half-set slot at worst misses a pause begun that instant.
 */
#include "config.h"

#include <string.h>

#include "pause.h"

bool
pause_set(struct pause *p, const char *group, int64_t until)
{
	size_t free_slot = PAUSE_GROUPS;

	if (group == NULL) {
		atomic_store(&p->all_until, until);
		return true;
	}
	if (strlen(group) >= PAUSE_NAME_MAX)
		return false;
	for (size_t i = 0; i < PAUSE_GROUPS; i++) {
		if (strcmp(p->groups[i].name, group) == 0) {
			atomic_store(&p->groups[i].until, until);
			return true;
		}
		if (free_slot == PAUSE_GROUPS &&
		    (p->groups[i].name[0] == '\0' ||
		    atomic_load(&p->groups[i].until) == 0))
			free_slot = i;
	}
	if (free_slot == PAUSE_GROUPS)
		return false;
	atomic_store(&p->groups[free_slot].until, 0);
	strcpy(p->groups[free_slot].name, group);
	atomic_store(&p->groups[free_slot].until, until);
	return true;
}

void
pause_clear(struct pause *p)
{
	atomic_store(&p->all_until, 0);
	for (size_t i = 0; i < PAUSE_GROUPS; i++)
		atomic_store(&p->groups[i].until, 0);
}

bool
pause_active(const struct pause *p, const char *group, int64_t now)
{
	if (atomic_load_explicit(&((struct pause *)p)->all_until,
	    memory_order_relaxed) > now)
		return true;
	for (size_t i = 0; group != NULL && i < PAUSE_GROUPS; i++) {
		int64_t until = atomic_load_explicit(
		    &((struct pause *)p)->groups[i].until,
		    memory_order_relaxed);
		if (until > now && strcmp(p->groups[i].name, group) == 0)
			return true;
	}
	return false;
}
