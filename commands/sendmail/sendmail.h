#ifndef POSTERN_SENDMAIL_H
#define POSTERN_SENDMAIL_H
/*
 * sendmail - what the parts of sendmail(1) share
 *
 * sendmail.c parses the command line and runs a mode; sendmail_enqueue.c
 * reads a message on standard input (the default mode); sendmail_smtp.c
 * speaks SMTP on standard input and output (-bs); sendmail_drop.c runs
 * postdrop(1) and writes one message to it as a maildrop record stream.
 */
#include <sys/types.h>

#include "argv.h"
#include "maildrop.h"
#include "vstream.h"
#include "vstring.h"

/* one envelope recipient */
typedef struct SM_RCPT {
    char *addr;      /* internal form */
    int notify;      /* DSN_NOTIFY_* bits, 0 = not given */
    char *dsn_orcpt; /* "type;value" or NULL */
} SM_RCPT;

/* what sendmail knows about a message before its content */
typedef struct SM_ENVELOPE {
    char *sender;         /* internal form, "" = null sender */
    char *full_name;      /* NULL = none */
    char *dsn_envid;      /* NULL = none */
    const char *dsn_ret;  /* "FULL", "HDRS" or NULL */
    const char *encoding; /* "7bit", "8bit" or NULL */
    const char *rewrite;  /* "local" or "remote" */
    int extract;          /* -t */
    int dsn_notify;       /* -N with -t: for extracted recipients; 0 = none */
    int rcpt_count;
    int rcpt_size;
    SM_RCPT *rcpt;
} SM_ENVELOPE;

void sm_envelope_init(SM_ENVELOPE *env);
void sm_envelope_add_rcpt(SM_ENVELOPE *env, const char *addr, int notify, const char *orcpt);
void sm_envelope_reset_rcpt(SM_ENVELOPE *env);

/*
 * A message on its way to postdrop. sm_drop_open() starts postdrop and
 * writes the envelope (NULL with a reason in why when postdrop cannot
 * be run); sm_drop_line() writes one content line, or one
 * piece of a long one (partial != 0); sm_drop_close() ends the message,
 * waits for postdrop and returns its exit status (0 = queued, with the
 * maildrop queue ID in id when id is not NULL), or an EX_* code with a
 * reason in why. sm_drop_too_big() says that the message has grown past
 * message_size_limit (then nothing more is written); sm_drop_broken()
 * that nothing more reaches postdrop for any reason. sm_drop_abort()
 * stops postdrop so that nothing is queued.
 */
typedef struct SM_DROP SM_DROP;

SM_DROP *sm_drop_open(const SM_ENVELOPE *env, VSTRING *why);
int sm_drop_line(SM_DROP *drop, const char *data, size_t len, int partial);
int sm_drop_too_big(const SM_DROP *drop);
int sm_drop_broken(const SM_DROP *drop);
int sm_drop_close(SM_DROP *drop, VSTRING *id, VSTRING *why);
void sm_drop_abort(SM_DROP *drop);

/* settings from the command line the modes share */
extern uid_t sm_uid;
extern const char *sm_user; /* login name of the real user */
extern int sm_dot_ends;     /* a "." line ends input (no -i/-oi) */

int sm_enqueue(SM_ENVELOPE *env);                      /* exit status */
int sm_smtp(SM_ENVELOPE *defaults);                    /* exit status */
int sm_parse_notify(const char *value);                /* DSN_NOTIFY_* bits, or -1 */
int sm_parse_address(const char *text, VSTRING *addr); /* first address of text: 0, -1 */

#endif
