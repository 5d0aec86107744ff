#ifndef POSTERN_SASL_CLIENT_H
#define POSTERN_SASL_CLIENT_H
/*
 * sasl_client - the client side of SASL authentication (RFC 4422), over
 * the Cyrus SASL library, for AUTH in the SMTP client (RFC 4954)
 *
 * The functions are named sasl_clnt_* because Cyrus owns sasl_client_*.
 *
 * Start-up (once per process, before the chroot, so that Cyrus can load
 * its mechanism plugins):
 *	sasl_clnt_init(why)
 *	    0, or -1 with why when the library cannot start. A second call
 *	    does nothing and returns 0.
 *
 * Per authentication:
 *	client = sasl_clnt_create(props, why)
 *	    props->service ("smtp"), props->server_name (the server's host
 *	    name, for mechanisms that care), props->username and
 *	    props->password (copied), props->sec_options (SASL_SEC_OPT_*
 *	    of sasl_srv.h: which mechanisms may be chosen). No SASL
 *	    security layer is ever negotiated: SMTP has TLS for that.
 *	    NULL with why when the library refuses.
 *	status = sasl_clnt_first(client, mechs, mech, init, why)
 *	    mechs is the list the server offers (names separated by spaces;
 *	    the caller has filtered it). The library picks the best
 *	    mechanism that the security options allow; mech receives its
 *	    name, init the initial response for the AUTH command: base64,
 *	    "=" for an empty one (RFC 4954), or "" when the mechanism
 *	    starts without one (then the server's first challenge comes
 *	    before any response).
 *	status = sasl_clnt_next(client, challenge, response, why)
 *	    challenge is the server's text after "334 " (base64, may be
 *	    empty); response receives the answer, base64 (may be empty).
 *	Results: SASL_CLNT_OK; SASL_CLNT_NOMECH (first only: no offered
 *	mechanism is allowed or available; why says so); SASL_CLNT_FAIL
 *	(the library failed, or the server's challenge is not base64 or
 *	too long; why says so). After a failure the exchange is over: the
 *	caller cancels it ("*") or drops the connection.
 *	sasl_clnt_free(client) wipes the password and frees.
 *
 * sasl_clnt_filter(offered, filter, out) replaces out with the
 * mechanisms of offered (separated by spaces) that are in filter (a list
 * separated by commas or spaces, compared without regard to case; empty
 * or NULL: all), each a valid mechanism name (RFC 4422: up to 20 upper
 * case letters, digits, '-' and '_'; lower case is accepted and
 * upper-cased), without duplicates, separated by single spaces.
 *
 * Limits: a challenge or response of more than SASL_CLNT_DATA_MAX
 * decoded bytes is refused.
 */
#include "vstring.h"

#define SASL_CLNT_OK 0
#define SASL_CLNT_NOMECH 1
#define SASL_CLNT_FAIL 2

#define SASL_CLNT_DATA_MAX (16 * 1024)
#define SASL_CLNT_MECH_MAX 20

typedef struct SASL_CLNT_PROPS {
    const char *service;
    const char *server_name;
    const char *username;
    const char *password;
    int sec_options;
} SASL_CLNT_PROPS;

typedef struct SASL_CLNT SASL_CLNT;

int sasl_clnt_init(VSTRING *why);
SASL_CLNT *sasl_clnt_create(const SASL_CLNT_PROPS *props, VSTRING *why);
int sasl_clnt_first(SASL_CLNT *client, const char *mechs, VSTRING *mech, VSTRING *init,
                    VSTRING *why);
int sasl_clnt_next(SASL_CLNT *client, const char *challenge, VSTRING *response, VSTRING *why);
void sasl_clnt_free(SASL_CLNT *client);
void sasl_clnt_filter(const char *offered, const char *filter, VSTRING *out);

#endif
