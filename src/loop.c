/*
 * loop.c: event-loop threads that take policy snapshots between events.
 */
#include "config.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "loop.h"

/* The main thread wrote to the eventfd: stop, or take a new snapshot. */
static void
woken(evutil_socket_t fd, short what, void *arg)
{
	struct loop *loop = arg;
	struct policy *next, *old = loop->policy;
	uint64_t count;

	(void)what;
	while (read(fd, &count, sizeof(count)) == -1 && errno == EINTR)
		;
	if (atomic_load(&loop->stopping)) {
		event_base_loopbreak(loop->base);
		return;
	}
	if ((next = atomic_exchange(&loop->next, NULL)) == NULL)
		return;
	loop->policy = next;
	if (loop->changed != NULL)
		loop->changed(loop->arg, old);
	policy_unref(old);
}

void
loop_init(struct loop *loop, struct policy *policy, loop_changed_fn changed,
    void *arg)
{
	loop->policy = policy_ref(policy);
	atomic_init(&loop->next, NULL);
	atomic_init(&loop->stopping, false);
	loop->changed = changed;
	loop->arg = arg;
	struct event_config *cfg = event_config_new();

	/*
	 * Changes to the events of one fd within a loop pass become one
	 * epoll_ctl at its end, or none when they cancel out (a connection
	 * that is read, judged and passed on at once). hushd never dup()s
	 * the fds it watches, which is what the changelist cannot follow.
	 */
	if (cfg == NULL || event_config_set_flag(cfg,
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == -1 ||
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK) == -1 ||
	    (loop->base = event_base_new_with_config(cfg)) == NULL)
		fatalx("event_base_new failed");
	event_config_free(cfg);
	if (event_base_priority_init(loop->base, LOOP_PRIORITIES) == -1)
		fatalx("event_base_priority_init failed");
	if ((loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	loop->wake = event_new(loop->base, loop->wake_fd, EV_READ | EV_PERSIST,
	    woken, loop);
	if (loop->wake == NULL || event_add(loop->wake, NULL) == -1)
		fatalx("event_add failed");
}

/* From the main thread: makes the loop look at next and stopping. */
static void
wake(struct loop *loop)
{
	uint64_t one = 1;

	while (write(loop->wake_fd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
}

static void *
loop_main(void *arg)
{
	struct loop *loop = arg;

	event_base_dispatch(loop->base);
	events_thread_exit();
	return NULL;
}

void
loop_start(struct loop *loop)
{
	sigset_t all, old;
	int error;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	error = pthread_create(&loop->thread, NULL, loop_main, loop);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		errno = error;
		fatal("pthread_create");
	}
}

void
loop_publish(struct loop *loop, struct policy *policy)
{
	/* One handed over earlier and never taken is dropped. */
	policy_unref(atomic_exchange(&loop->next, policy_ref(policy)));
	wake(loop);
}

void
loop_stop(struct loop *loop)
{
	atomic_store(&loop->stopping, true);
	wake(loop);
	pthread_join(loop->thread, NULL);
}

void
loop_destroy(struct loop *loop)
{
	policy_unref(atomic_exchange(&loop->next, NULL));
	policy_unref(loop->policy);
	event_free(loop->wake);
	close(loop->wake_fd);
	event_base_free(loop->base);
}

uint64_t
loop_now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double
loop_elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

struct timeval
loop_timeval(unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}
