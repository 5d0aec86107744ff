/*
 * NAME
 *	events - single-threaded event loop (epoll) with descriptor and timer events
 * SYNOPSIS
 *	#include "events.h"
 *
 *	void event_enable_read(int fd, EVENT_FD_FN fn, void *context)
 *	void event_enable_write(int fd, EVENT_FD_FN fn, void *context)
 *	void event_disable_read(int fd)
 *	void event_disable_write(int fd)
 *	void event_disable_readwrite(int fd)
 *	EVENT_TIMER_ID event_request_timer(EVENT_TIMER_FN fn, void *context, long delay_ms)
 *	int event_cancel_timer(EVENT_TIMER_ID id)
 *	int event_cancel_timers(EVENT_TIMER_FN fn, void *context)
 *	int event_loop(int timeout_ms)
 *	time_t event_time(void)
 *	long long event_now_ms(void)
 *	void event_fork(void)
 * DESCRIPTION
 *	Descriptors: one record per fd (an array indexed by fd) holds the
 *	read and write callbacks; the epoll interest set mirrors it,
 *	level-triggered. Each record has a generation number that changes
 *	whenever the fd loses all interest; the number travels in the epoll
 *	event data, so an event that was collected for a descriptor that a
 *	callback has since disabled, closed and reused is ignored rather
 *	than delivered to the new owner.
 *
 *	In one event_loop() round, for each ready descriptor the read
 *	callback runs first (if read interest remains), then the write
 *	callback (if write interest remains at that point). Error and
 *	hang-up conditions wake both directions and add EVENT_XCPT.
 *
 *	Timers: a list sorted by due time (monotonic milliseconds), ties in
 *	request order. event_loop() runs, after the descriptor callbacks,
 *	every timer due at that moment that was requested before the timer
 *	phase began; a timer requested by a callback (even with delay 0)
 *	runs in a later round, so a timer that re-arms itself cannot
 *	starve the loop. A timer is removed before its callback runs.
 *
 *	The interest set changes only when the events wanted change: a
 *	callback replaced, or a direction enabled again, costs no system
 *	call. A listening socket watched for reading alone is registered
 *	with EPOLLEXCLUSIVE: when several processes (the daemons of one
 *	master.cf service) wait for the same socket, a new connection wakes
 *	one idle process instead of all of them. Adding write interest to
 *	such a socket re-registers it without the flag.
 *
 *	The epoll instance is made on first use (close-on-exec). Failing
 *	epoll calls are fatal, except that epoll_wait() interrupted by a
 *	signal simply ends the round with no descriptor events.
 *
 *	event_fork() forgets everything in a forked child without touching
 *	the parent's interest set (it closes only the child's reference to
 *	the epoll instance).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "msg.h"
#include "mymalloc.h"

#define EVENT_MAX_READY 256
#define EVENT_MAX_FD (1 << 24)

typedef struct EVENT_FDREC {
    EVENT_FD_FN read_fn;
    EVENT_FD_FN write_fn;
    void *read_context;
    void *write_context;
    uint32_t gen;
    uint32_t mask;          /* EPOLLIN/EPOLLOUT as registered; 0: not registered */
    int exclusive;          /* registered with EPOLLEXCLUSIVE */
} EVENT_FDREC;

typedef struct EVENT_TIMER {
    EVENT_TIMER_ID id;
    long long when;
    EVENT_TIMER_FN fn;
    void *context;
    struct EVENT_TIMER *prev;
    struct EVENT_TIMER *next;
} EVENT_TIMER;

static int event_epfd = -1;
static EVENT_FDREC *event_fds;
static int event_fds_size;
static EVENT_TIMER *event_timer_head;
static EVENT_TIMER *event_timer_tail;
static EVENT_TIMER_ID event_timer_last_id;
static time_t event_cached_time;

long long event_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

time_t event_time(void)
{
    if (event_cached_time == 0)
        event_cached_time = time(NULL);
    return event_cached_time;
}

static void event_init(void)
{
    if (event_epfd >= 0)
        return;
    if ((event_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        msg_fatal("epoll_create1: %m");
}

static EVENT_FDREC *event_fdrec(int fd)
{
    if (fd < 0 || fd >= EVENT_MAX_FD)
        msg_panic("events: bad file descriptor %d", fd);
    if (fd >= event_fds_size) {
        int new_size = event_fds_size ? event_fds_size : 64;

        while (new_size <= fd)
            new_size *= 2;
        event_fds = myrealloc(event_fds, sizeof(*event_fds) * (size_t) new_size);
        for (int i = event_fds_size; i < new_size; i++) {
            event_fds[i].read_fn = event_fds[i].write_fn = NULL;
            event_fds[i].read_context = event_fds[i].write_context = NULL;
            event_fds[i].gen = 0;
            event_fds[i].mask = 0;
            event_fds[i].exclusive = 0;
        }
        event_fds_size = new_size;
    }
    return event_fds + fd;
}

/* event_listener - is fd a listening socket? */
static int event_listener(int fd)
{
    int on = 0;
    socklen_t len = sizeof(on);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

/* event_update - make the epoll interest set match the record */
static void event_update(int fd, EVENT_FDREC *rec, int was_registered)
{
    struct epoll_event ev;
    uint32_t mask = (rec->read_fn ? EPOLLIN : 0) | (rec->write_fn ? EPOLLOUT : 0);
    int op;

    if (mask == 0) {
        ev.events = 0;
        ev.data.u64 = 0;
        if (was_registered && epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, &ev) < 0)
            msg_panic("epoll_ctl DEL fd %d: %m", fd);
        rec->gen++;
        rec->mask = 0;
        rec->exclusive = 0;
        return;
    }
    if (was_registered && mask == rec->mask)
        return;                                 /* only a callback changed */
    /* EPOLLEXCLUSIVE cannot be modified: register such a descriptor anew */
    if (was_registered && rec->exclusive) {
        if (epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, &ev) < 0)
            msg_panic("epoll_ctl DEL fd %d: %m", fd);
        was_registered = 0;
    }
    ev.data.u64 = ((uint64_t) rec->gen << 32) | (uint32_t) fd;
    rec->exclusive = !was_registered && mask == EPOLLIN && rec->write_fn == NULL
                     && event_listener(fd);
    ev.events = mask | (rec->exclusive ? EPOLLEXCLUSIVE : 0);
    op = was_registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(event_epfd, op, fd, &ev) < 0)
        msg_fatal("epoll_ctl %s fd %d: %m", op == EPOLL_CTL_ADD ? "ADD" : "MOD", fd);
    rec->mask = mask;
}

static int event_registered(EVENT_FDREC *rec)
{
    return rec->read_fn != NULL || rec->write_fn != NULL;
}

void event_enable_read(int fd, EVENT_FD_FN fn, void *context)
{
    EVENT_FDREC *rec;
    int was;

    if (fn == NULL)
        msg_panic("event_enable_read: fd %d: null callback", fd);
    event_init();
    rec = event_fdrec(fd);
    was = event_registered(rec);
    rec->read_fn = fn;
    rec->read_context = context;
    event_update(fd, rec, was);
}

void event_enable_write(int fd, EVENT_FD_FN fn, void *context)
{
    EVENT_FDREC *rec;
    int was;

    if (fn == NULL)
        msg_panic("event_enable_write: fd %d: null callback", fd);
    event_init();
    rec = event_fdrec(fd);
    was = event_registered(rec);
    rec->write_fn = fn;
    rec->write_context = context;
    event_update(fd, rec, was);
}

static void event_disable(int fd, int which)
{
    EVENT_FDREC *rec;
    int was;

    if (fd < 0 || fd >= event_fds_size)
        return;
    rec = event_fds + fd;
    if (!(was = event_registered(rec)))
        return;
    if (which & EVENT_READ) {
        rec->read_fn = NULL;
        rec->read_context = NULL;
    }
    if (which & EVENT_WRITE) {
        rec->write_fn = NULL;
        rec->write_context = NULL;
    }
    event_update(fd, rec, was);
}

void event_disable_read(int fd)
{
    event_disable(fd, EVENT_READ);
}

void event_disable_write(int fd)
{
    event_disable(fd, EVENT_WRITE);
}

void event_disable_readwrite(int fd)
{
    event_disable(fd, EVENT_READ | EVENT_WRITE);
}

EVENT_TIMER_ID event_request_timer(EVENT_TIMER_FN fn, void *context, long delay_ms)
{
    EVENT_TIMER *tp = mymalloc(sizeof(*tp));
    EVENT_TIMER *after;

    if (delay_ms < 0)
        delay_ms = 0;
    tp->id = ++event_timer_last_id;
    tp->when = event_now_ms() + delay_ms;
    tp->fn = fn;
    tp->context = context;
    /* new timers usually go at or near the end: search from the tail */
    for (after = event_timer_tail; after && after->when > tp->when; after = after->prev)
        ;
    tp->prev = after;
    tp->next = after ? after->next : event_timer_head;
    if (tp->next)
        tp->next->prev = tp;
    else
        event_timer_tail = tp;
    if (after)
        after->next = tp;
    else
        event_timer_head = tp;
    return tp->id;
}

static void event_timer_unlink(EVENT_TIMER *tp)
{
    if (tp->prev)
        tp->prev->next = tp->next;
    else
        event_timer_head = tp->next;
    if (tp->next)
        tp->next->prev = tp->prev;
    else
        event_timer_tail = tp->prev;
}

int event_cancel_timer(EVENT_TIMER_ID id)
{
    for (EVENT_TIMER *tp = event_timer_head; tp; tp = tp->next) {
        if (tp->id == id) {
            event_timer_unlink(tp);
            myfree(tp);
            return 1;
        }
    }
    return 0;
}

int event_cancel_timers(EVENT_TIMER_FN fn, void *context)
{
    EVENT_TIMER *tp, *next;
    int count = 0;

    for (tp = event_timer_head; tp; tp = next) {
        next = tp->next;
        if (tp->fn == fn && tp->context == context) {
            event_timer_unlink(tp);
            myfree(tp);
            count++;
        }
    }
    return count;
}

/* event_run_timers - run timers that are due and older than this phase */
static int event_run_timers(void)
{
    EVENT_TIMER_ID last_id = event_timer_last_id;
    long long now = event_now_ms();
    EVENT_TIMER *tp;
    EVENT_TIMER_FN fn;
    void *context;
    int count = 0;

    while ((tp = event_timer_head) != NULL && tp->when <= now && tp->id <= last_id) {
        fn = tp->fn;
        context = tp->context;
        event_timer_unlink(tp);
        myfree(tp);
        fn(context);
        count++;
    }
    return count;
}

/* event_dispatch - run the callbacks for one ready descriptor */
static int event_dispatch(const struct epoll_event *ev)
{
    int fd = (int) (uint32_t) ev->data.u64;
    uint32_t gen = (uint32_t) (ev->data.u64 >> 32);
    int xcpt = (ev->events & (EPOLLERR | EPOLLHUP)) ? EVENT_XCPT : 0;
    EVENT_FDREC *rec;
    int count = 0;

    if (fd >= event_fds_size)
        return 0;
    rec = event_fds + fd;
    if (rec->gen != gen)
        return 0;
    if ((ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && rec->read_fn) {
        rec->read_fn(fd, EVENT_READ | xcpt, rec->read_context);
        count++;
    }
    /* the read callback may have dropped interest, or the record moved */
    rec = event_fds + fd;
    if (rec->gen != gen)
        return count;
    if ((ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && rec->write_fn) {
        rec->write_fn(fd, EVENT_WRITE | xcpt, rec->write_context);
        count++;
    }
    return count;
}

int event_loop(int timeout_ms)
{
    struct epoll_event ready[EVENT_MAX_READY];
    long long wait_ms = timeout_ms < 0 ? -1 : timeout_ms;
    int count = 0;
    int n;

    event_init();
    if (event_timer_head) {
        long long until = event_timer_head->when - event_now_ms();

        if (until < 0)
            until = 0;
        if (wait_ms < 0 || until < wait_ms)
            wait_ms = until;
    }
    if (wait_ms > INT32_MAX)
        wait_ms = INT32_MAX;
    n = epoll_wait(event_epfd, ready, EVENT_MAX_READY, (int) wait_ms);
    if (n < 0) {
        if (errno != EINTR)
            msg_fatal("epoll_wait: %m");
        n = 0;
    }
    event_cached_time = time(NULL);
    for (int i = 0; i < n; i++)
        count += event_dispatch(ready + i);
    count += event_run_timers();
    return count;
}

void event_fork(void)
{
    EVENT_TIMER *tp, *next;

    if (event_epfd >= 0) {
        close(event_epfd);
        event_epfd = -1;
    }
    myfree(event_fds);
    event_fds = NULL;
    event_fds_size = 0;
    for (tp = event_timer_head; tp; tp = next) {
        next = tp->next;
        myfree(tp);
    }
    event_timer_head = event_timer_tail = NULL;
}
