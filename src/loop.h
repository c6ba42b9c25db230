/*
 * loop.h: an event loop in a thread of its own that follows the policy
 * snapshots the main thread publishes. The DNS workers and the TLS proxy
 * each run one.
 *
 * The main thread hands a snapshot over with loop_publish(); the loop
 * thread takes it between two events, so code in the loop reads
 * loop->policy without a lock. Signals are left to the main thread.
 *
 * Only the loop's own thread touches its event base: the main thread
 * reaches it through an eventfd alone (a new snapshot, or the order to
 * stop), so the base runs without libevent's locks, which cost a lock
 * and an unlock on every event added, removed or activated.
 */
#ifndef HUSHD_LOOP_H
#define HUSHD_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "policy.h"

struct event;
struct event_base;

/* Called in the loop thread after a switch, before old is let go. */
typedef void (*loop_changed_fn)(void *arg, const struct policy *old);

struct loop {
	pthread_t		 thread;
	struct event_base	*base;
	struct policy		*policy;	/* the snapshot in use */
	_Atomic(struct policy *) next;		/* handed over, not yet taken */
	atomic_bool		 stopping;
	int			 wake_fd;	/* eventfd: look at next, stopping */
	struct event		*wake;
	loop_changed_fn		 changed;
	void			*arg;
};

/*
 * Event priorities of the loops: every event has LOOP_PRIORITY_NORMAL but
 * for work that should wait for the rest of a pass (LOOP_PRIORITY_LAST).
 */
#define LOOP_PRIORITIES		3
#define LOOP_PRIORITY_LAST	2

/* Creates the event base, with a reference to policy; fatal on failure. */
void loop_init(struct loop *loop, struct policy *policy,
    loop_changed_fn changed, void *arg);
void loop_start(struct loop *loop);
/* From the main thread: the loop takes its own reference. */
void loop_publish(struct loop *loop, struct policy *policy);
/* Stops the loop and waits for its thread. */
void loop_stop(struct loop *loop);
/* Drops the snapshots and frees the event base; events on it must be gone. */
void loop_destroy(struct loop *loop);

/* Clock helpers for the loops: whole seconds, milliseconds and elapsed
 * milliseconds of CLOCK_MONOTONIC, and a millisecond setting as libevent's
 * timeval. */
uint64_t loop_now_seconds(void);
uint64_t loop_now_ms(void);
double loop_elapsed_ms(const struct timespec *start);
struct timeval loop_timeval(unsigned ms);

#endif
