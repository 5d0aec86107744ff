#ifndef POSTERN_SMTP_SMTP_H
#define POSTERN_SMTP_SMTP_H
/*
 * smtp.h - the SMTP/LMTP client's own declarations (smtp(8), lmtp(8))
 *
 * smtp.c          main(), the service routine, the per-mode settings
 * smtp_connect.c  next hops: MX and address lookups, connecting, the
 *                 walk over servers until every recipient has an outcome
 * smtp_session.c  one connection: open, QUIT, and the connection cache
 * smtp_proto.c    the conversation: greeting, EHLO/HELO/LHLO, MAIL, RCPT,
 *                 DATA and content, with or without pipelining
 * smtp_trouble.c  turning replies and failures into recipient outcomes
 * smtp_tls.c      TLS: security level and policy per destination, STARTTLS
 *                 or implicit TLS, what the certificate must prove
 * smtp_sasl.c     SASL: password lookup and the AUTH exchange
 */
#include <sys/types.h>
#include <time.h>

#include "argv.h"
#include "deliver_request.h"
#include "smtp_reply.h"
#include "tls_io.h"
#include "vstream.h"
#include "vstring.h"

/* settings of the running mode: smtp_* or lmtp_* parameters */
typedef struct SMTP_PARAMS {
    int lmtp;              /* LMTP mode (program name "lmtp") */
    const char *proto;     /* "SMTP" or "LMTP" */
    const char *hello_cmd; /* "EHLO" or "LHLO" */
    long connect_timeout;
    long helo_timeout;
    long mail_timeout;
    long rcpt_timeout;
    long data_init_timeout;
    long data_xfer_timeout;
    long data_done_timeout;
    long rset_timeout;
    long quit_timeout;
    const char *helo_name;
    const char *bind_address;
    const char *bind_address6;
    const char *tcp_port;
    const char *host_lookup;
    ARGV *discard_keywords;
    int cache_on_demand;
    long cache_time_limit;
    long reuse_count_limit;
    long reuse_time_limit;
    int quote_821;
    long line_length_limit;     /* 0 = none */
    int never_ehlo;             /* SMTP only */
    int skip_5xx_greeting;      /* SMTP only */
    long mx_address_limit;      /* SMTP only; LMTP tries every address */
    long mx_session_limit;      /* SMTP only; LMTP one session per destination */
    const char *fallback_relay; /* SMTP only */
    int want_families;          /* DNS_WANT_* from inet_protocols */
} SMTP_PARAMS;

extern SMTP_PARAMS smtp_params;

/* one connection to one server */
typedef struct SMTP_SESSION {
    VSTREAM *stream;
    char *dest;                    /* cache key: the next hop as requested */
    char *host;                    /* server name ("mx.example.com", or the address) */
    char *addr;                    /* numeric address, or the socket path */
    char *port;                    /* numeric port, "" for a UNIX socket */
    VSTRING *relay;                /* relay= text: host[addr]:port */
    int features;                  /* SMTP_FEATURE_* */
    unsigned long long size_limit; /* SIZE of the EHLO reply, 0 = none stated */
    int reuse_count;               /* transactions after the first */
    time_t open_time;
    int broken;          /* I/O error, timeout or 421: never reuse */
    int rset_pending;    /* reused: RSET goes before the next MAIL FROM */
    TLS_SESS *tls;       /* TLS active, or NULL */
    int tls_level;       /* TLS_LEV_* the session was opened under */
    int tls_trust;       /* TLS_TRUST_* when tls is set */
    char *hop;           /* the destination (of the next-hop list) it was opened for */
    char *sasl_user;     /* authenticated as, or NULL */
    VSTRING *auth_mechs; /* SASL mechanisms of the last EHLO reply */
} SMTP_SESSION;

/* per-recipient progress in one request */
typedef struct SMTP_RCPT_STATE {
    int soft; /* a temporary failure is recorded below */
    char dsn[SMTP_DSN_MAX];
    VSTRING *why;   /* text of the last temporary failure */
    VSTRING *relay; /* relay= of the last temporary failure */
} SMTP_RCPT_STATE;

/* the TLS policy of one destination (smtp_tls.c) */
typedef struct SMTP_TLS_POLICY {
    int level;           /* TLS_LEV_*, or TLS_LEV_UNSUPPORTED, or -1: invalid */
    char *dest;          /* the destination as written (policy lookup key) */
    char *nexthop;       /* its domain or host, without [] and port */
    ARGV *match;         /* certificate names: hostname, nexthop, dot-nexthop, names */
    char *servername;    /* SNI: "", hostname, nexthop or a name */
    char *protocols;     /* tls_proto.h syntax */
    char *grade;         /* cipher grade */
    char *exclude;       /* cipher exclusions */
    VSTRING *cipherlist; /* the OpenSSL cipher list of grade and exclusions */
    VSTRING *why;        /* why the policy is invalid */
} SMTP_TLS_POLICY;

/* one delivery request */
typedef struct SMTP_STATE {
    DELIVER_REQUEST *req;
    SMTP_SESSION *session; /* current connection, or NULL */
    SMTP_RCPT_STATE *rcpt; /* parallel to req->rcpt */
    int sessions;          /* sessions that completed the handshake */
    int addresses;         /* server addresses tried */
    int content_8bit;      /* -1 unknown, 0 no 8-bit byte, 1 some */
    int content_read;      /* the content was read before: rewind first */
    SMTP_REPLY *reply;
    VSTRING *buf;
    VSTRING *why;
    SMTP_TLS_POLICY *tls; /* policy of the destination being tried, or NULL */
    int tls_off;          /* next connection without TLS (retry at level may) */
    int tls_retry;        /* a handshake failed at level may: retry in plaintext */
} SMTP_STATE;

/* smtp_connect.c */
void smtp_deliver(SMTP_STATE *state);
int smtp_port_number(const char *service, unsigned *port);
void smtp_local_init(void);

/* smtp_session.c */
SMTP_SESSION *smtp_session_alloc(VSTREAM *stream, const char *dest, const char *host,
                                 const char *addr, const char *port);
void smtp_session_free(SMTP_SESSION *session);
void smtp_session_quit(SMTP_SESSION *session);
SMTP_SESSION *smtp_cache_take(const char *dest);
void smtp_cache_save(SMTP_SESSION *session);
void smtp_cache_close(void);

/* smtp_proto.c */
#define SMTP_SESSION_OK 0   /* greeting and EHLO/HELO done */
#define SMTP_SESSION_NEXT 1 /* try the next server (outcome recorded) */
#define SMTP_SESSION_STOP 2 /* no server will do better */
#define SMTP_XFER_DONE 0    /* outcomes recorded as far as this server goes */
#define SMTP_XFER_STALE 1   /* a reused session failed its RSET: nothing recorded */
int smtp_helo(SMTP_STATE *state);
int smtp_xfer(SMTP_STATE *state);
int smtp_send(SMTP_SESSION *session, const char *cmd, int flush, long timeout);
int smtp_read(SMTP_SESSION *session, SMTP_REPLY *reply, long timeout);
void smtp_lost(SMTP_STATE *state, const char *stage, int rc);

/* smtp_tls.c */
void smtp_tls_init(void);
SMTP_TLS_POLICY *smtp_tls_policy(const char *dest, const char *nexthop);
void smtp_tls_policy_free(SMTP_TLS_POLICY *policy);
int smtp_tls_policy_check(SMTP_STATE *state);
int smtp_tls_wrapper(SMTP_STATE *state);
int smtp_tls_starttls(SMTP_STATE *state);
int smtp_tls_reusable(SMTP_SESSION *session);
void smtp_tls_stop(SMTP_SESSION *session);

/* smtp_sasl.c */
void smtp_sasl_init(void);
int smtp_sasl_auth(SMTP_STATE *state);
int smtp_sasl_reusable(SMTP_STATE *state, SMTP_SESSION *session);
void smtp_sasl_mechs(SMTP_SESSION *session, const SMTP_REPLY *reply);

/* smtp_trouble.c */
int smtp_rcpt_pending(SMTP_STATE *state, int i);
int smtp_pending_count(SMTP_STATE *state);
void smtp_rcpt_sent(SMTP_STATE *state, int i, const SMTP_REPLY *reply);
void smtp_rcpt_fail(SMTP_STATE *state, int i, const char *relay, const char *dsn, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
void smtp_all_fail(SMTP_STATE *state, const char *relay, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void smtp_rcpt_reply_fail(SMTP_STATE *state, int i, const SMTP_REPLY *reply, const char *command);
void smtp_all_reply_fail(SMTP_STATE *state, const SMTP_REPLY *reply, const char *command);
void smtp_finish(SMTP_STATE *state);

#endif
