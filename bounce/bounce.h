/*
 * bounce.h - what the parts of bounce(8) share
 */
#ifndef POSTERN_BOUNCE_BOUNCE_H
#define POSTERN_BOUNCE_BOUNCE_H

#include <sys/types.h>
#include <time.h>

#include "bounce_notice.h"
#include "deliver_status.h"
#include "vstream.h"
#include "vstring.h"

/* one flush or warn request (lib/bounce_proto.h) */
typedef struct BOUNCE_REQUEST {
    VSTRING *request;
    long flags;
    VSTRING *queue_name;
    VSTRING *queue_id;
    VSTRING *sender;
    VSTRING *dsn_envid;
    VSTRING *dsn_ret;
    long smtputf8;
} BOUNCE_REQUEST;

/* bounce_notes.c: the notes of one message */
typedef struct BOUNCE_NOTES {
    DELIVER_NOTE **notes; /* in file order */
    int count;
    int size;
} BOUNCE_NOTES;

#define BOUNCE_NOTES_ALL 0    /* every distinct note */
#define BOUNCE_NOTES_NEWEST 1 /* the newest note per recipient */

BOUNCE_NOTES *bounce_notes_read(const char *dir, const char *queue_id, int how);
BOUNCE_NOTES *bounce_notes_select(const BOUNCE_NOTES *all, long notify_bit);
void bounce_notes_free(BOUNCE_NOTES *notes, int owner);
BOUNCE_NOTES *bounce_notes_alloc(void);
void bounce_notes_add(BOUNCE_NOTES *notes, DELIVER_NOTE *note);

/* bounce_message.c: the message reported on */
typedef struct BOUNCE_MESSAGE {
    VSTREAM *fp;       /* its queue file; NULL when it could not be read */
    off_t data_offset; /* first record after MESG */
    time_t arrival;    /* TIME record; 0 when unknown */
    int eight_bit;     /* "encoding=8bit" */
} BOUNCE_MESSAGE;

void bounce_message_open(BOUNCE_MESSAGE *msg, const char *queue_name, const char *queue_id);
int bounce_message_pending(BOUNCE_MESSAGE *msg, off_t offset);
void bounce_message_close(BOUNCE_MESSAGE *msg);

/* bounce_post.c: hand one notice to cleanup */
#define BOUNCE_POST_OK 0   /* queued */
#define BOUNCE_POST_TEMP 1 /* try again later */
#define BOUNCE_POST_PERM 2 /* cleanup refused it for good */

int bounce_post(BOUNCE_NOTICE_INFO *info, const char *env_sender, const BOUNCE_NOTES *notes,
                BOUNCE_MESSAGE *msg, const char *what);

/* bounce.c: shared configuration helpers */
int bounce_notify_class(const char *name);
const char *bounce_double_sender(void);

/* the two requests; BOUNCE_STAT_OK or BOUNCE_STAT_FAIL */
int bounce_flush(BOUNCE_REQUEST *req);
int bounce_delay(BOUNCE_REQUEST *req);

void bounce_info_init(BOUNCE_NOTICE_INFO *info, BOUNCE_REQUEST *req, BOUNCE_MESSAGE *msg, int kind,
                      const char *recipient);

#endif
