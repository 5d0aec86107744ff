#ifndef POSTERN_SASL_SRV_H
#define POSTERN_SASL_SRV_H
/*
 * sasl_srv - the server side of SASL authentication, one interface
 * over Cyrus SASL (sasl_cyrus.c) and Dovecot's auth service
 * (sasl_dovecot.c)
 *
 * Start-up (once per process, before the chroot and privilege drop, so
 * that Cyrus can load its plugins):
 *	impl = sasl_srv_init(type, path, config_path, timeout, why)
 *	    type "cyrus": path is the application name ("smtpd": Cyrus
 *	    reads smtpd.conf), config_path the directories to find it in
 *	    ("" = the library's default). type "dovecot": path is the auth
 *	    socket ("private/auth" relative to the current directory, an
 *	    absolute path, or inet:host:port), connected to when first
 *	    needed; config_path is unused. timeout bounds every exchange
 *	    with an external service (seconds). Returns NULL with why for
 *	    an unknown type or a library that cannot start.
 *
 * Per session (and again whenever the session's properties change, e.g.
 * after STARTTLS):
 *	server = sasl_srv_create(impl, props, why)
 *	    NULL with why when the service cannot be used now (Dovecot
 *	    not reachable): the session then offers no AUTH.
 *	sasl_srv_mechs(server)
 *	    the mechanisms that may be offered under props->sec_options,
 *	    upper case, separated by single spaces ("PLAIN LOGIN"); may be
 *	    empty.
 *	status = sasl_srv_first(server, mech, init, reply)
 *	status = sasl_srv_next(server, response, reply)
 *	    init and response are the client's text as received, base64
 *	    (RFC 4954): init is NULL when the AUTH command had no initial
 *	    response, "=" for an empty one. Results:
 *	    SASL_AUTH_DONE  authenticated; sasl_srv_username() says who
 *	    SASL_AUTH_MORE  reply holds the next challenge, base64 (may be
 *	                    empty), for a "334 " line
 *	    SASL_AUTH_FAIL  the credentials were refused; reply holds the
 *	                    reason ("authentication failure")
 *	    SASL_AUTH_FORM  the client's text was malformed (not base64,
 *	                    not a mechanism we offer); reply says so
 *	    SASL_AUTH_TEMP  the authentication service failed; reply says
 *	                    why
 *	    Reasons are short printable ASCII. After anything but MORE the
 *	    exchange is over; a new one may start with sasl_srv_first().
 *	sasl_srv_username(server)
 *	    the authenticated user after SASL_AUTH_DONE, else NULL.
 *	sasl_srv_free(server)
 *
 * Security options (smtpd_sasl_security_options):
 *	sasl_sec_options(list, &mask, why) turns "noanonymous, noplaintext"
 *	into SASL_SEC_OPT_* bits: 0, or -1 with why for an unknown word.
 *
 * sasl_base64_valid(text) says whether text is canonical base64 (RFC
 * 4648 alphabet, length a multiple of 4, '=' only as final padding);
 * the empty string is valid.
 *
 * Backends: SASL_SERVER and SASL_SERVER_IMPL are method tables, so that
 * a test may provide its own backend. Ownership: the caller frees what
 * sasl_srv_create() returns with sasl_srv_free(); strings returned
 * belong to the server object.
 */
#include "vstring.h"

#define SASL_AUTH_DONE 0
#define SASL_AUTH_MORE 1
#define SASL_AUTH_FAIL 2
#define SASL_AUTH_FORM 3
#define SASL_AUTH_TEMP 4

#define SASL_SEC_OPT_NOPLAINTEXT (1 << 0)
#define SASL_SEC_OPT_NOACTIVE (1 << 1)
#define SASL_SEC_OPT_NODICTIONARY (1 << 2)
#define SASL_SEC_OPT_NOANONYMOUS (1 << 3)
#define SASL_SEC_OPT_MUTUAL_AUTH (1 << 4)
#define SASL_SEC_OPT_FORWARD_SECRECY (1 << 5)

#define SASL_MECH_NAME_MAX 64 /* bytes of a mechanism name */
#define SASL_USERNAME_MAX 512 /* bytes of a user name we accept */

typedef struct SASL_SERVER_PROPS {
    const char *service;     /* "smtp" */
    const char *server_name; /* $myhostname */
    const char *user_realm;  /* "" = the backend's default */
    const char *client_addr; /* numeric */
    const char *client_port; /* "" when none */
    const char *local_addr;
    const char *local_port;
    int sec_options; /* SASL_SEC_OPT_* */
    int tls_active;  /* the session is protected by TLS */
} SASL_SERVER_PROPS;

typedef struct SASL_SERVER SASL_SERVER;
typedef struct SASL_SERVER_IMPL SASL_SERVER_IMPL;

struct SASL_SERVER {
    const char *(*mechs)(SASL_SERVER *);
    int (*first)(SASL_SERVER *, const char *mech, const char *init, VSTRING *reply);
    int (*next)(SASL_SERVER *, const char *response, VSTRING *reply);
    const char *(*username)(SASL_SERVER *);
    void (*free)(SASL_SERVER *);
};

struct SASL_SERVER_IMPL {
    const char *type;
    SASL_SERVER *(*create)(SASL_SERVER_IMPL *, const SASL_SERVER_PROPS *, VSTRING *why);
    void (*done)(SASL_SERVER_IMPL *);
};

SASL_SERVER_IMPL *sasl_srv_init(const char *type, const char *path, const char *config_path,
                                int timeout, VSTRING *why);
void sasl_srv_done(SASL_SERVER_IMPL *impl);
SASL_SERVER *sasl_srv_create(SASL_SERVER_IMPL *impl, const SASL_SERVER_PROPS *props, VSTRING *why);
const char *sasl_srv_mechs(SASL_SERVER *server);
int sasl_srv_first(SASL_SERVER *server, const char *mech, const char *init, VSTRING *reply);
int sasl_srv_next(SASL_SERVER *server, const char *response, VSTRING *reply);
const char *sasl_srv_username(SASL_SERVER *server);
void sasl_srv_free(SASL_SERVER *server);

int sasl_sec_options(const char *list, int *mask, VSTRING *why);
int sasl_base64_valid(const char *text);

/* backends (sasl_cyrus.c, sasl_dovecot.c) */
SASL_SERVER_IMPL *sasl_cyrus_init(const char *app_name, const char *config_path, VSTRING *why);
SASL_SERVER_IMPL *sasl_dovecot_init(const char *path, int timeout, VSTRING *why);

#endif
