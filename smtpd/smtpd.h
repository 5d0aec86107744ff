#ifndef POSTERN_SMTPD_SMTPD_H
#define POSTERN_SMTPD_SMTPD_H
/*
 * smtpd.h - the state of one SMTP session, shared by the smtpd(8) modules
 *
 *	smtpd.c           session loop, command table, protocol commands
 *	smtpd_chat.c      reading commands, writing replies, error pacing,
 *	                  session logging
 *	smtpd_peer.c      who the client is
 *	smtpd_check.c     restriction lists (relay control, access tables)
 *	smtpd_check_*.c   DNS, policy service and SPF restrictions (smtpd_check_impl.h)
 *	smtpd_data.c      the cleanup(8) stream: envelope, DATA, BDAT
 *	smtpd_received.c  the Received: header
 *	smtpd_tls.c       STARTTLS, wrapper-mode TLS (lib/tls_server.h)
 *	smtpd_sasl.c      AUTH, AUTH= (lib/sasl_srv.h: Cyrus SASL, Dovecot)
 *
 * Ownership: every pointer in SMTPD_STATE belongs to the state and is
 * freed by smtpd_state_free() (session) or smtpd_mail_reset()
 * (transaction). Nothing of a transaction survives smtpd_mail_reset().
 */
#include <sys/types.h>

#include "argv.h"
#include "smtpd_cmd.h"
#include "smtpd_text.h"
#include "vstream.h"
#include "vstring.h"

/* per-command statistics for the disconnect log line */
#define SMTPD_STAT_HELO 0
#define SMTPD_STAT_EHLO 1
#define SMTPD_STAT_MAIL 2
#define SMTPD_STAT_RCPT 3
#define SMTPD_STAT_DATA 4
#define SMTPD_STAT_BDAT 5
#define SMTPD_STAT_RSET 6
#define SMTPD_STAT_NOOP 7
#define SMTPD_STAT_VRFY 8
#define SMTPD_STAT_HELP 9
#define SMTPD_STAT_QUIT 10
#define SMTPD_STAT_UNKNOWN 11
#define SMTPD_STAT_COUNT 12

/* transaction error bits (smtpd_data.c) */
#define SMTPD_ERR_SIZE (1 << 0)    /* message_size_limit exceeded */
#define SMTPD_ERR_WRITE (1 << 1)   /* the cleanup stream failed */

typedef struct SMTPD_STATE {
    VSTREAM *client;
    VSTRING *buffer;            /* the current command line */
    VSTRING *verb;              /* its verb, upper case */
    const char *where;          /* command being handled, for logs */
    int disconnect;             /* end the session after this reply */

    /* the client (smtpd_peer.c) */
    char *name;                 /* verified host name, or "unknown" */
    char *addr;                 /* numeric address */
    char *port;                 /* numeric port, "" if none */
    char *rfc_addr;             /* address as an RFC 5321 literal body */
    char *namaddr;              /* name[addr], for logs */
    char *local_addr;           /* our address on this connection */
    int lf_mode;                /* SMTPD_TEXT_LF_* for this client */
    int prev_crlf;              /* the last command line ended in CR LF */

    /* the session */
    char *helo_name;            /* NULL before HELO/EHLO */
    const char *protocol;       /* "SMTP" or "ESMTP" */
    int pipelining;             /* the client was offered PIPELINING */
    int bad_pipelining;         /* improper pipelining was seen */
    int error_count;
    int junk_count;
    int stat_ok[SMTPD_STAT_COUNT];
    int stat_total[SMTPD_STAT_COUNT];
    char *client_reject;        /* smtpd_delay_reject = no: verdict at connect */

    /* the transaction */
    int in_mail;                /* MAIL FROM accepted */
    char *sender;               /* internal form */
    long long mail_size;        /* SIZE=, 0 when not given */
    int body;                   /* SMTPD_BODY_*, 0 when not given */
    int ret;                    /* SMTPD_RET_*, 0 when not given */
    char *envid;                /* decoded ENVID, or NULL */
    int smtputf8;               /* SMTPUTF8 requested */
    int rcpt_count;             /* accepted recipients */
    char *first_rcpt;           /* the first accepted recipient */
    VSTREAM *cleanup;           /* stream to cleanup(8), or NULL */
    char *queue_id;             /* from cleanup, or NULL */
    int bdat;                   /* BDAT content has started */
    off_t act_size;             /* content bytes so far */
    int err;                    /* SMTPD_ERR_* */
    SMTPD_TEXT *text;           /* content reader */

    /* scratch */
    VSTRING *addr_buf;
    VSTRING *why;
    SMTPD_PARAMS *params;

    /*
     * TLS and SASL (H14: smtpd_tls.c, smtpd_sasl.c). Read-only for the
     * other modules (smtpd_check.c's permit_sasl_authenticated and
     * reject_sender_login_mismatch read sasl_username/sasl_sender).
     * sasl_username is NULL until AUTH succeeded; sasl_method is the
     * mechanism ("PLAIN"); sasl_sender is the AUTH= address of the
     * current MAIL FROM (NULL when none; reset with the transaction).
     * tls_active is 1 once the TLS handshake has completed (STARTTLS or
     * wrapper mode); tls_protocol ("TLSv1.3") and tls_cipher
     * ("TLS_AES_256_GCM_SHA384") are NULL without TLS.
     */
    char *sasl_username;
    char *sasl_method;
    char *sasl_sender;
    int tls_active;
    char *tls_protocol;
    char *tls_cipher;
    int tls_cipher_bits;        /* secret bits of the cipher */
    int tls_cipher_algbits;     /* algorithm bits of the cipher */
    void *tls_context;          /* TLS_SESS * (lib/tls_server.h), or NULL */
    void *sasl_context;         /* smtpd_sasl.c's per-session state, or NULL */
    int stat_ok_tls_auth[2];    /* STARTTLS, AUTH: see SMTPD_STAT_STARTTLS */
    int stat_total_tls_auth[2];
    /* end of the TLS and SASL block (H14) */

    /*
     * The restriction engine (H15: smtpd_check*.c): its per-session
     * state (client names, DNS list answers, the SPF result, headers to
     * prepend), or NULL. Only smtpd_check*.c look inside; it is freed by
     * smtpd_check_session_end().
     */
    void *check_context;
    /* end of the restrictions block (H15) */
} SMTPD_STATE;

/* smtpd.c */
void smtpd_mail_reset(SMTPD_STATE *state);

/* smtpd_chat.c */
#define SMTPD_READ_OK 0
#define SMTPD_READ_EOF 1
#define SMTPD_READ_TIMEOUT 2
#define SMTPD_READ_BARE_LF 3
#define SMTPD_READ_TOO_LONG 4

int smtpd_chat_query(SMTPD_STATE *state);
void smtpd_chat_reply(SMTPD_STATE *state, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void smtpd_chat_text(SMTPD_STATE *state, const char *reply);
void smtpd_chat_multi(SMTPD_STATE *state, int code, char **lines, int count);
void smtpd_chat_lost(SMTPD_STATE *state, int status);
void smtpd_chat_bare_lf(SMTPD_STATE *state);
int smtpd_chat_pending(SMTPD_STATE *state);
void smtpd_chat_pipelining(SMTPD_STATE *state);
void smtpd_chat_disconnect_log(SMTPD_STATE *state);
void smtpd_log_reject(SMTPD_STATE *state, const char *kind, const char *what, const char *reply,
                      const char *rcpt);

/* smtpd_peer.c */
void smtpd_peer_init(SMTPD_STATE *state);
void smtpd_peer_reset(SMTPD_STATE *state);

/* smtpd_check.c */
#define SMTPD_CHECK_OK 0        /* accepted; no reply made */
#define SMTPD_CHECK_REJECT 1    /* refused; the reply is in *reply */

void smtpd_check_init(void);
int smtpd_check_client(SMTPD_STATE *state, VSTRING *reply);
int smtpd_check_helo(SMTPD_STATE *state, VSTRING *reply);
int smtpd_check_mail(SMTPD_STATE *state, VSTRING *reply);
int smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply);
int smtpd_check_vrfy(SMTPD_STATE *state, const char *rcpt, VSTRING *reply);
int smtpd_check_data(SMTPD_STATE *state, VSTRING *reply);
int smtpd_check_bare_lf_excluded(SMTPD_STATE *state);
/* smtpd_check.c hooks (H15): end of data, headers, transaction and session ends */
int smtpd_check_eod(SMTPD_STATE *state, VSTRING *reply);
void smtpd_check_headers(SMTPD_STATE *state);
void smtpd_check_envelope(SMTPD_STATE *state);
void smtpd_check_reset(SMTPD_STATE *state);
void smtpd_check_session_end(SMTPD_STATE *state);

/* smtpd_data.c */
int smtpd_data_open(SMTPD_STATE *state, VSTRING *reply);
int smtpd_data_rcpt(SMTPD_STATE *state, const char *rcpt, int notify, const char *orcpt);
int smtpd_data_start(SMTPD_STATE *state, VSTRING *reply);
int smtpd_data_finish(SMTPD_STATE *state, VSTRING *reply);
void smtpd_data_abort(SMTPD_STATE *state);
void smtpd_data_line(int type, const char *data, size_t len, void *context);

/* smtpd_received.c */
void smtpd_received(SMTPD_STATE *state);

/*
 * TLS and SASL (H14). Command statistics of STARTTLS and AUTH are kept
 * in stat_ok_tls_auth/stat_total_tls_auth (index SMTPD_STAT_STARTTLS -
 * SMTPD_STAT_COUNT, SMTPD_STAT_AUTH - SMTPD_STAT_COUNT).
 */
#define SMTPD_STAT_STARTTLS (SMTPD_STAT_COUNT + 0)
#define SMTPD_STAT_AUTH (SMTPD_STAT_COUNT + 1)
#define SMTPD_STAT_TLS_AUTH 2

/* smtpd_received.c: the RFC 3848/6531 protocol name (ESMTPSA, UTF8SMTPS...) */
const char *smtpd_received_proto(SMTPD_STATE *state, int utf8);

/* smtpd_tls.c */
void smtpd_tls_init(void);
void smtpd_tls_post_init(void);
int smtpd_tls_offer(SMTPD_STATE *state);
int smtpd_tls_required(SMTPD_STATE *state);
int smtpd_tls_auth_only(void);
int smtpd_tls_wrapper(SMTPD_STATE *state);
int smtpd_starttls_cmd(SMTPD_STATE *state, const char *args);
size_t smtpd_tls_pending(SMTPD_STATE *state);
void smtpd_tls_session_end(SMTPD_STATE *state);
const char *smtpd_tls_changed(void);

/* smtpd_sasl.c */
void smtpd_sasl_init(void);
void smtpd_sasl_session(SMTPD_STATE *state);
void smtpd_sasl_session_end(SMTPD_STATE *state);
int smtpd_sasl_enabled(void);
void smtpd_sasl_ehlo(SMTPD_STATE *state, ARGV *lines);
int smtpd_auth_cmd(SMTPD_STATE *state, const char *args);
int smtpd_sasl_mail_param(SMTPD_STATE *state, const char *value);
void smtpd_sasl_mail_reset(SMTPD_STATE *state);
const char *smtpd_sasl_log_reason(VSTRING *buf, const char *reason);
/* end of the TLS and SASL declarations (H14) */

#endif
