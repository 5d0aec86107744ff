#ifndef POSTERN_SMTPD_SMTPD_CHECK_IMPL_H
#define POSTERN_SMTPD_SMTPD_CHECK_IMPL_H
/*
 * smtpd_check_impl.h - what the files of the restriction engine share;
 * not for other smtpd modules (they use the smtpd_check_*() functions
 * of smtpd.h)
 *
 *	smtpd_check.c         parsing, evaluation, replies, restriction
 *	                      classes, PREPEND
 *	smtpd_check_access.c  access(5) tables and their actions
 *	smtpd_check_local.c   destinations, local users, FQDN syntax, SASL owners
 *	smtpd_check_dns.c     reject_unknown_*, DNS block and allow lists
 *	smtpd_check_policy.c  check_policy_service
 *	smtpd_check_spf.c     check_spf
 *
 * A restriction that is evaluated returns CHECK_DUNNO (go on),
 * CHECK_OK (this list permits) or CHECK_REJECT (the reply is in
 * ck->reply and has been logged). Replies are always made through
 * check_reject() (honours warn_if_reject and defer_if_reject),
 * check_defer_if_permit() (remembers a deferral for the case the
 * request would otherwise pass), check_lookup_failure() or
 * check_config_error(), so that logging and the reject-modifiers work
 * the same everywhere.
 *
 * Per-session state (CHECK_SESSION, reached with check_session()) is
 * owned by state->check_context and freed by smtpd_check_session_end();
 * its transaction part is cleared by smtpd_check_reset().
 */
#include "argv.h"
#include "htable.h"
#include "maps.h"
#include "smtpd.h"
#include "vstring.h"

#define CHECK_DUNNO 0
#define CHECK_OK 1
#define CHECK_REJECT 2

#define CHECK_DEPTH_MAX 20    /* lists nested through classes and table results */
#define CHECK_PREPEND_MAX 100 /* headers prepended to one message */
#define CHECK_HEADER_MAX 4096 /* bytes of one prepended header */

typedef struct RESTR {
    int op;     /* R_* of smtpd_check.c */
    char *name; /* as written */
    char *arg;  /* table, zone or service as written, or NULL */
    MAPS *maps; /* check_*_access */
    void *data; /* DNS list, policy client, or class: owned by its module */
} RESTR;

/* what a list is about: the name and class in its generic replies */
#define STAGE_INHERIT 0 /* restriction classes: that of the caller */
#define STAGE_CLIENT 1
#define STAGE_HELO 2
#define STAGE_SENDER 3
#define STAGE_RCPT 4
#define STAGE_DATA 5
#define STAGE_EOD 6

typedef struct RESTR_LIST {
    const char *param;
    int stage;
    int count;
    RESTR *restr;
} RESTR_LIST;

/* one evaluation */
typedef struct CHECK {
    SMTPD_STATE *state;
    const char *what;   /* "RCPT", "MAIL", ... for the log */
    const char *rcpt;   /* recipient being checked, or NULL */
    VSTRING *reply;     /* the final reply */
    VSTRING *dip_reply; /* defer_if_permit reply, when dip */
    int dip;
    int dir;  /* defer_if_reject is armed */
    int warn; /* warn_if_reject applies to this restriction */
    int warn_next;
    int unlisted_done; /* reject_unlisted_recipient was evaluated */
    int unlisted_sender_done;
    int depth;
    int stage; /* STAGE_* of the list being evaluated */
} CHECK;

/* per session; see smtpd_check.c */
typedef struct CHECK_SESSION {
    unsigned long serial; /* sessions of this process */
    unsigned long txn;    /* transactions of this session */
    ARGV *prepend;        /* headers for the current message */
    /* client names (smtpd_check_dns.c), looked up on first use */
    int names_done;
    int name_status; /* DNS_OK: verified; DNS_NOTFOUND; DNS_TEMP */
    int reverse_status;
    char *name;         /* verified name or "unknown" */
    char *reverse_name; /* PTR name or "unknown" */
    HTABLE *dns_cache;  /* DNS list answers of this session */
    /* cleanup(8) actions for the current message (access(5) HOLD ...) */
    char *act_hold; /* reason, may be "" */
    char *act_discard;
    char *act_redirect; /* address */
    char *act_filter;   /* transport:destination */
    /* SPF (smtpd_check_spf.c), for one sender/HELO pair */
    char *spf_key;
    int spf_result;
    char *spf_header;
    char *spf_text;
} CHECK_SESSION;

/* smtpd_check.c */
CHECK_SESSION *check_session(SMTPD_STATE *state);
int check_reject(CHECK *ck, int code, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int check_defer_if_permit(CHECK *ck, int code, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int check_tempfail(CHECK *ck, const char *action, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int check_reply_text(CHECK *ck, const char *reply, const char *def_dsn);
int check_lookup_failure(CHECK *ck, const char *name);
int check_config_error(CHECK *ck);
int check_nested(CHECK *ck, const char *table, const char *value, const char *name);
void check_log(CHECK *ck, const char *kind, const char *text);
const char *check_quote(const char *addr, VSTRING *buf);
void check_prepend(CHECK *ck, const char *header);
int check_content_action(CHECK *ck, const char *table, const char *action, const char *text,
                         const char *name, const char *class);
const char *check_stage_name(CHECK *ck, const char **class);

/* smtpd_check_local.c */
void check_local_init(void);
int check_domain_class(SMTPD_STATE *state, const char *domain);
int check_auth_dest(SMTPD_STATE *state, const char *rcpt);
int check_unlisted(CHECK *ck, const char *addr, int is_sender);
int check_fqdn(const char *domain);
int check_helo_valid(const char *helo);
int check_non_fqdn(CHECK *ck, const char *addr, const char *class);
int check_login_mismatch(CHECK *ck, int mode);

#define CHECK_DOMAIN_OTHER 0 /* check_domain_class(): a domain of the world */
#define CHECK_DOMAIN_OURS 1  /* local, virtual or relay: we are its destination */
#define CHECK_DOMAIN_ERROR (-1)

#define CHECK_LOGIN_BOTH 1 /* check_login_mismatch() modes */
#define CHECK_LOGIN_AUTH 2
#define CHECK_LOGIN_UNAUTH 3
#define CHECK_LOGIN_KNOWN 4

/* smtpd_check_access.c */
int check_table_result(CHECK *ck, const char *table, const char *value, const char *name,
                       const char *class);
int check_access_client(CHECK *ck, MAPS *maps, const char *host, const char *addr,
                        const char *class);
int check_access_helo(CHECK *ck, MAPS *maps);
int check_access_address(CHECK *ck, MAPS *maps, const char *addr, const char *class, int is_sender);
int check_access_key_only(CHECK *ck, MAPS *maps, const char *key, const char *name,
                          const char *class);

/* smtpd_check_dns.c */
int check_dns_parse(RESTR *r, int kind, VSTRING *why);
void check_dns_free(RESTR *r);
int check_dns_list(CHECK *ck, RESTR *r);
int check_unknown_client(CHECK *ck, int reverse);
int check_unknown_helo(CHECK *ck);
int check_unknown_domain(CHECK *ck, const char *addr, int is_sender);
void check_client_names(SMTPD_STATE *state);
void check_dns_session_free(CHECK_SESSION *sess);

#define CHECK_RBL_CLIENT 1    /* reject_rbl_client */
#define CHECK_RHSBL_CLIENT 2  /* reject_rhsbl_client */
#define CHECK_RHSBL_REVERSE 3 /* reject_rhsbl_reverse_client */
#define CHECK_RHSBL_HELO 4    /* reject_rhsbl_helo */
#define CHECK_RHSBL_SENDER 5  /* reject_rhsbl_sender */
#define CHECK_RHSBL_RCPT 6    /* reject_rhsbl_recipient */
#define CHECK_DNSWL_CLIENT 7  /* permit_dnswl_client */
#define CHECK_RHSWL_CLIENT 8  /* permit_rhswl_client */

/* smtpd_check_policy.c */
int check_policy_parse(RESTR *r, VSTRING *why);
void check_policy_free(RESTR *r);
int check_policy(CHECK *ck, RESTR *r);

/* smtpd_check_spf.c */
int check_spf(CHECK *ck);
void check_spf_session_free(CHECK_SESSION *sess);

#endif
