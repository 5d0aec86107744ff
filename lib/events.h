#ifndef POSTERN_EVENTS_H
#define POSTERN_EVENTS_H
/*
 * events - single-threaded event loop (epoll) with descriptor and timer events
 *
 * There is one loop per process, created on first use.
 *
 * event_enable_read(fd, fn, context) / event_enable_write(...) register
 * interest; a second call for the same fd and direction replaces fn and
 * context. fn(fd, event, context) is called with EVENT_READ or EVENT_WRITE;
 * EVENT_XCPT is or'ed in when the kernel reports an error or hang-up (the
 * callback should then read/write and see EOF or the error). Interest is
 * level-triggered: fn is called again on the next event_loop() while the
 * condition holds. event_disable_read/_write/_readwrite() remove interest;
 * the fd must be disabled before it is closed. Callbacks may enable or
 * disable any fd, including their own, and request or cancel timers;
 * a callback disabled by an earlier callback in the same round is not run.
 *
 * event_request_timer(fn, context, delay_ms) arranges one call of
 * fn(context) no sooner than delay_ms from now (monotonic clock) and
 * returns a non-zero id. event_cancel_timer(id) cancels it (1 if it was
 * pending, else 0). event_cancel_timers(fn, context) cancels every pending
 * timer with that fn and context and returns how many.
 *
 * event_loop(timeout_ms) waits once, for at most timeout_ms (-1: until an
 * event or the next timer; 0: do not wait), then runs the callbacks of
 * every ready descriptor and every due timer, and returns the number of
 * callbacks run. Timers due at the same time run in request order.
 *
 * event_time() is the wall-clock time (seconds) cached when event_loop()
 * last woke up (or now, before the first loop); event_now_ms() is the
 * monotonic clock in milliseconds, read afresh.
 *
 * event_fork() is for a forked child that will not exec: it drops every
 * registration and timer and the epoll instance, without disturbing the
 * parent's (which shares the epoll instance until then).
 *
 * Errors from epoll (other than EINTR) are fatal: they mean a bug.
 */
#include <time.h>

#define EVENT_READ 1
#define EVENT_WRITE 2
#define EVENT_XCPT 4

typedef void (*EVENT_FD_FN)(int fd, int event, void *context);
typedef void (*EVENT_TIMER_FN)(void *context);
typedef unsigned long EVENT_TIMER_ID;

void event_enable_read(int fd, EVENT_FD_FN fn, void *context);
void event_enable_write(int fd, EVENT_FD_FN fn, void *context);
void event_disable_read(int fd);
void event_disable_write(int fd);
void event_disable_readwrite(int fd);

EVENT_TIMER_ID event_request_timer(EVENT_TIMER_FN fn, void *context, long delay_ms);
int event_cancel_timer(EVENT_TIMER_ID id);
int event_cancel_timers(EVENT_TIMER_FN fn, void *context);

int event_loop(int timeout_ms);
time_t event_time(void);
long long event_now_ms(void);
void event_fork(void);

#endif
