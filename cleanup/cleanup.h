#ifndef POSTERN_CLEANUP_H
#define POSTERN_CLEANUP_H
/*
 * cleanup.h - cleanup(8) internals: the per-message state and the
 * functions of each cleanup_*.c file
 *
 * One CLEANUP_STATE lives for one client connection (one message). It
 * is made by cleanup_state_alloc() and freed by cleanup_state_free().
 *
 * Errors: any problem sets a CLEANUP_STAT_* bit in errs and, for the
 * first one, a reason (RFC 3463 code first) in reason; from then on
 * nothing more is written to the queue file, but the client's records
 * are still read up to END so that the reply reaches it in step.
 */
#include <sys/time.h>
#include <sys/types.h>

#include "argv.h"
#include "cleanup_local.h"
#include "cleanup_map.h"
#include "header_state.h"
#include "htable.h"
#include "maps.h"
#include "vstream.h"
#include "vstring.h"

/* longest record we take from a client, by phase */
#define CLEANUP_ENV_REC_MAX (64 * 1024 + 512)     /* an ATTR of ATTR_VALUE_MAX bytes fits */
#define CLEANUP_CONTENT_REC_MAX (1024 * 1024)     /* one piece of a content line */
#define CLEANUP_EXTRACT_MAX 10000                 /* recipients taken from headers */
#define CLEANUP_LOG_VALUE_MAX 512                 /* bytes of a header value in a log line */

/* where we are in the client's request */
#define CLEANUP_PHASE_ENVELOPE 0
#define CLEANUP_PHASE_CONTENT 1
#define CLEANUP_PHASE_EXTRA 2

typedef struct CLEANUP_STATE {
    VSTREAM *src;               /* the client */
    VSTREAM *dst;               /* the queue file, NULL when closed */
    VSTRING *temp_path;         /* the file's name before it has a queue ID */
    VSTRING *queue_id;
    VSTRING *path;              /* incoming/QUEUEID, empty before the rename */
    int flags;                  /* CLEANUP_FLAG_* */
    int errs;                   /* CLEANUP_STAT_* */
    VSTRING *reason;            /* of the first error */
    int phase;                  /* CLEANUP_PHASE_* */
    VSTRING *buf;               /* the record being processed */
    VSTRING *temp1;             /* scratch */
    VSTRING *temp2;             /* scratch */
    /* envelope */
    struct timeval arrival;
    int time_done;              /* TIME record written */
    int from_done;              /* FROM record seen */
    char *sender;               /* after rewriting */
    char *client_addr;          /* from ATTR records */
    char *sasl_user;
    char *origin;
    char *full_name;            /* local submission: sendmail -F */
    VSTRING *orcp;              /* attributes of the next RCPT */
    VSTRING *dsn_orcpt;
    long notify;
    int have_orcp, have_dsn_orcpt, have_notify;
    long rcpt_count;            /* RCPT records written */
    HTABLE *dups;               /* recipients written, for duplicate removal */
    long dup_count;
    ARGV *rcpt_list;            /* scratch: one recipient's expansion */
    /* content */
    off_t out_offset;           /* bytes written to the queue file */
    off_t size_offset;          /* of the SIZE record */
    off_t data_offset;          /* of the MESG record */
    long long content_size;     /* content bytes, one per line end */
    int in_content;             /* records written count as content */
    int add_headers;            /* add missing Message-Id: etc. */
    int hdr_rewrite;            /* local: rewrite addresses in headers */
    HEADER_STATE *hstate;
    unsigned long headers_seen; /* HDR_MASK() bits */
    int resent;                 /* the message has Resent- headers */
    long hop_count;             /* Received: headers */
    VSTRING *message_id;        /* found or added, for the ATTR record */
    ARGV *extract;              /* sendmail -t: from To/Cc/Bcc */
    ARGV *extract_resent;       /* ... and from Resent-To/Cc/Bcc */
    /* content actions (cleanup_act.c, cleanup_checks.c) */
    struct CLEANUP_CHECKS *checks; /* inspection state, NULL until needed */
    int hold;                   /* the file goes to hold/ */
    int discard;                /* accepted, then dropped */
    char *filter;               /* content filter transport:destination, or NULL */
    char *redirect;             /* redirection address, or NULL */
    off_t xtra_ptr_offset;      /* of the xtra_offset ATTR record, 0 = none */
    off_t xtra_offset;          /* of the XTRA record, 0 = not yet written */
} CLEANUP_STATE;

/* cleanup.c: the configuration, set up once per process */
extern MAPS *cleanup_canon_maps;
extern MAPS *cleanup_send_canon_maps;
extern MAPS *cleanup_rcpt_canon_maps;
extern MAPS *cleanup_virt_alias_maps;
extern int cleanup_canon_flags;          /* CLEANUP_CANON_* for canonical_maps */
extern int cleanup_send_canon_flags;     /* ... for sender_canonical_maps */
extern int cleanup_rcpt_canon_flags;     /* ... for recipient_canonical_maps */
extern HTABLE *cleanup_drop_headers;     /* lower-case names from message_drop_headers */
extern CLEANUP_LOCAL *cleanup_local_clients;

#define CLEANUP_CANON_ENV_SENDER (1 << 0)
#define CLEANUP_CANON_ENV_RCPT (1 << 1)
#define CLEANUP_CANON_HDR_SENDER (1 << 2)
#define CLEANUP_CANON_HDR_RCPT (1 << 3)

/* cleanup_state.c */
CLEANUP_STATE *cleanup_state_alloc(VSTREAM *src);
void cleanup_state_free(CLEANUP_STATE *state);
void cleanup_error(CLEANUP_STATE *state, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *cleanup_id(CLEANUP_STATE *state);

/* cleanup_out.c: the queue file */
int cleanup_out_open(CLEANUP_STATE *state);
void cleanup_out_rec(CLEANUP_STATE *state, int type, const char *data, size_t len);
void cleanup_out_fmt(CLEANUP_STATE *state, int type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cleanup_out_text(CLEANUP_STATE *state, int type, const char *data, size_t len);
void cleanup_out_begin(CLEANUP_STATE *state);
void cleanup_out_finish(CLEANUP_STATE *state);
void cleanup_out_abort(CLEANUP_STATE *state);

/* cleanup_envelope.c: records before MESG */
void cleanup_envelope(CLEANUP_STATE *state, int type);

/* cleanup_message.c: records from MESG to XTRA */
void cleanup_message_begin(CLEANUP_STATE *state);
void cleanup_message(CLEANUP_STATE *state, int type);
void cleanup_message_end(CLEANUP_STATE *state);

/* cleanup_addr.c: address rewriting and recipient output */
void cleanup_addr_sender(CLEANUP_STATE *state, const char *addr);
void cleanup_addr_recipient(CLEANUP_STATE *state, const char *orcp, const char *addr,
                            long notify, int have_notify, const char *dsn_orcpt);
int cleanup_addr_map11(CLEANUP_STATE *state, MAPS *maps, const char *title, VSTRING *addr);
void cleanup_addr_qualify(VSTRING *addr);

/* cleanup_header.c: addresses in headers */
int cleanup_header_rewrite(CLEANUP_STATE *state, HEADER_FIELD *field);

/* cleanup_checks.c: where header_checks, body_checks and milters plug in */
#define CLEANUP_ACT_KEEP 0      /* pass on unchanged */
#define CLEANUP_ACT_DROP 1      /* leave this header or body line out */
#define CLEANUP_ACT_REJECT 2    /* the message is refused; cleanup_error() was called */

void cleanup_checks_init(void);
int cleanup_checks_header(CLEANUP_STATE *state, HEADER_FIELD *field);
void cleanup_checks_eoh(CLEANUP_STATE *state);
int cleanup_checks_body(CLEANUP_STATE *state, int type, const char *data, size_t len);
void cleanup_checks_eom(CLEANUP_STATE *state);
void cleanup_checks_free(CLEANUP_STATE *state);

/* cleanup_act.c: content actions requested by clients, and their traces in the queue file */
int cleanup_act_envelope(CLEANUP_STATE *state, const char *name, const char *value);
void cleanup_act_recipient(CLEANUP_STATE *state, const char *addr);
void cleanup_act_begin(CLEANUP_STATE *state);
void cleanup_act_extra(CLEANUP_STATE *state);
int cleanup_act_finish(CLEANUP_STATE *state);

#endif
