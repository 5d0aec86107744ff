#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H
/*
 * qmgr.h - the queue manager's in-memory state
 *
 * Objects and who owns whom:
 *   QMGR_MESSAGE   one message in the active queue (qmgr_message.c); owns
 *                  its recipients. Lives from the moment its file is moved
 *                  into active/ until the file leaves active/ again.
 *   QMGR_ENTRY     up to the transport's recipient limit of one message's
 *                  recipients for one destination; waits on its queue's
 *                  todo list, then belongs to a delivery (qmgr_deliver.c).
 *   QMGR_QUEUE     one destination: a transport and a next hop (or a
 *                  recipient, when the transport's recipient limit is 1),
 *                  with its concurrency window (qmgr_transport.c).
 *   QMGR_TRANSPORT one master.cf delivery service, with its limits; owns
 *                  its queues. Transports and empty queues are kept.
 *
 * A message counts its recipients still to be decided (todo) and the
 * entries not yet finished (refcount); when both reach zero
 * qmgr_message_done() does the bookkeeping of lib/deliver_proto.h.
 */
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include "deliver_request.h"
#include "events.h"
#include "htable.h"
#include "vstring.h"

/* recipient states */
#define QMGR_RCPT_TODO 0
#define QMGR_RCPT_SENT 1        /* delivered, or found marked done */
#define QMGR_RCPT_DEFERRED 2
#define QMGR_RCPT_BOUNCED 3

typedef struct QMGR_RCPT {
    char *address;
    char *orig;               /* "" when none */
    char *orcpt;              /* "" when none */
    off_t offset;             /* of its RCPT record */
    long notify;
    int status;               /* QMGR_RCPT_* */
} QMGR_RCPT;

typedef struct QMGR_MESSAGE QMGR_MESSAGE;
typedef struct QMGR_ENTRY QMGR_ENTRY;
typedef struct QMGR_QUEUE QMGR_QUEUE;
typedef struct QMGR_TRANSPORT QMGR_TRANSPORT;

/* message flags */
#define QMGR_MSG_FLUSH (1 << 0)     /* taken by a flush: deliver to defer_transports too */
#define QMGR_MSG_EXPIRED (1 << 1)   /* older than its queue lifetime */
#define QMGR_MSG_DONE (1 << 2)      /* qmgr_message_done() has started */
#define QMGR_MSG_WARN (1 << 3)      /* a delay warning was asked for in this attempt */
#define QMGR_MSG_KEEP (1 << 4)      /* keep the file although nothing is deferred */

struct QMGR_MESSAGE {
    char *queue_id;
    struct timeval arrival;   /* TIME record */
    struct timeval active;    /* when it entered the active queue */
    char *sender;
    char *encoding, *dsn_envid, *dsn_ret;
    char *client_name, *client_address, *helo_name, *protocol, *sasl_username;
    int smtputf8;
    off_t data_offset;
    long data_size;
    long rcpt_total;          /* recipients in the file, done or not */
    int rcpt_count;
    QMGR_RCPT *rcpt;          /* the recipients not yet done when read */
    int todo;                 /* recipients without an outcome yet */
    int refcount;             /* entries not yet finished */
    int flags;
    QMGR_MESSAGE *prev, *next;/* all active messages */
};

struct QMGR_ENTRY {
    QMGR_MESSAGE *message;
    QMGR_QUEUE *queue;
    int count;
    int *rcpt;                /* indexes into message->rcpt */
    int size;
    QMGR_ENTRY *next;         /* queue todo list */
};

struct QMGR_QUEUE {
    char *name;               /* hash key within the transport */
    char *nexthop;
    QMGR_TRANSPORT *transport;
    QMGR_ENTRY *todo_head, *todo_tail;
    int todo_count;
    int busy;                 /* deliveries in progress */
    int window;               /* concurrency allowed now */
    int failures;             /* failed deliveries in a row */
    time_t dead_until;        /* no deliveries before this time */
    int in_ring;              /* on the transport's ring of queues with work */
    QMGR_QUEUE *ring_prev, *ring_next;
};

struct QMGR_TRANSPORT {
    char *name;
    int dest_limit;           /* TRANSPORT_destination_concurrency_limit */
    int rcpt_limit;           /* TRANSPORT_destination_recipient_limit */
    int init_window;          /* TRANSPORT_initial_destination_concurrency */
    int cohort_limit;         /* TRANSPORT_destination_concurrency_failed_cohort_limit */
    int proc_limit;           /* master.cf maxproc; 0 = none */
    int busy;                 /* deliveries in progress */
    int deferred;             /* listed in defer_transports */
    time_t dead_until;        /* unreachable before this time */
    char *dead_reason;
    long long paused_until;   /* event_now_ms(): no new deliveries before (backlog full) */
    HTABLE *queues;           /* name -> QMGR_QUEUE */
    QMGR_QUEUE *ring;         /* queues with todo entries, round robin */
    int in_list;              /* on the list of transports with work */
    QMGR_TRANSPORT *next;
};

/* qmgr.c */
extern int qmgr_active_count;         /* messages in memory */
extern long qmgr_rcpt_count;          /* their recipients */
extern int qmgr_bounce_proc_limit;
void qmgr_schedule_soon(void);        /* run the scheduler from a zero timer */
void qmgr_scan_request(int flags);    /* QMGR_SCAN_* */
int qmgr_room(void);                  /* may another message enter active? */
int qmgr_master_proc_limit(const char *service);

#define QMGR_SCAN_INCOMING (1 << 0)
#define QMGR_SCAN_DEFERRED (1 << 1)   /* files whose retry time has come */
#define QMGR_SCAN_ALL (1 << 2)        /* deferred files whatever their time */
#define QMGR_SCAN_FLUSH (1 << 3)      /* forget dead destinations; defer_transports deliver */

/* qmgr_scan.c */
void qmgr_scan_recover(void);
int qmgr_scan_dir(const char *queue, int flags);  /* 1 when it stopped for lack of room */
int qmgr_move(const char *queue_id, const char *from, const char *to);

/* qmgr_message.c */
void qmgr_message_activate(const char *queue_id, int fd, int flags);
DELIVER_REQUEST *qmgr_message_request(QMGR_MESSAGE *msg, const char *nexthop);
void qmgr_message_rcpt_done(QMGR_MESSAGE *msg, int index, int status);
void qmgr_message_entry_done(QMGR_MESSAGE *msg);
void qmgr_message_defer_rcpts(QMGR_MESSAGE *msg, const int *rcpt, int count,
                              const char *dsn, const char *reason);
void qmgr_message_bounce_done(QMGR_MESSAGE *msg, int ok);
void qmgr_message_warn_done(QMGR_MESSAGE *msg);

/* qmgr_transport.c */
QMGR_TRANSPORT *qmgr_transport_find(const char *name);
QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *transport, const char *name, const char *nexthop);
void qmgr_entry_add(QMGR_QUEUE *queue, QMGR_ENTRY *entry);
QMGR_ENTRY *qmgr_entry_alloc(QMGR_MESSAGE *msg, QMGR_QUEUE *queue);
void qmgr_entry_free(QMGR_ENTRY *entry);
void qmgr_schedule(void);
void qmgr_transport_throttle(QMGR_TRANSPORT *transport, const char *reason);
void qmgr_queue_feedback(QMGR_QUEUE *queue, int ok);
void qmgr_transport_flush(void);
void qmgr_queue_release(QMGR_QUEUE *queue);

/* qmgr_deliver.c */
void qmgr_deliver(QMGR_ENTRY *entry);

/* qmgr_remove.c */
void qmgr_remove_init(void);
void qmgr_remove(const char *queue_id);
void qmgr_remove_exit(void);

/* qmgr_bounce.c */
void qmgr_bounce_flush(QMGR_MESSAGE *msg);
void qmgr_bounce_warn(QMGR_MESSAGE *msg);

#endif
