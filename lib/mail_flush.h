#ifndef POSTERN_MAIL_FLUSH_H
#define POSTERN_MAIL_FLUSH_H
/*
 * mail_flush - ask the queue manager to deliver queued mail now
 *
 * The one place that knows which wake-up requests of qmgr(8) (public/qmgr,
 * lib/mail_server.h trigger protocol) mean "flush": postqueue -f,
 * sendmail -q and postern flush all go through mail_flush_queue().
 *
 * mail_flush_queue() sends MAIL_FLUSH_ALL: forget which destinations and
 *	transports were found dead, take every deferred message whatever its
 *	next attempt time, deliver to defer_transports too, and scan the
 *	incoming queue.
 * mail_flush_deferred() sends MAIL_FLUSH_DUE: scan the deferred queue for
 *	messages whose next attempt time has come (postqueue -i and -s make
 *	the messages they select due, then call this).
 *
 * Both use $queue_directory/public/qmgr, wait at most MAIL_FLUSH_TIMEOUT
 * seconds, and return 0, or -1 with errno (ENOENT or ECONNREFUSED: the
 * mail system is not running).
 */

#define MAIL_FLUSH_ALL "FADI"
#define MAIL_FLUSH_DUE "D"
#define MAIL_FLUSH_SERVICE_PATH "public/qmgr"
#define MAIL_FLUSH_TIMEOUT 10

int mail_flush_queue(void);
int mail_flush_deferred(void);

#endif
