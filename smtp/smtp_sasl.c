/*
 * NAME
 *	smtp_sasl - SASL authentication in the SMTP/LMTP client
 * SYNOPSIS
 *	#include "smtp.h"
 *
 *	void smtp_sasl_init(void)
 *	void smtp_sasl_mechs(SMTP_SESSION *session, const SMTP_REPLY *reply)
 *	int smtp_sasl_auth(SMTP_STATE *state)
 *	int smtp_sasl_reusable(SMTP_STATE *state, SMTP_SESSION *session)
 * DESCRIPTION
 *	smtp_sasl_init() reads the mode's settings (smtp_sasl_* or
 *	lmtp_sasl_*) at start-up, before the chroot and the privilege
 *	drop: with *_sasl_auth_enable it opens the password tables (which
 *	may then be readable by root only), parses the security options
 *	and starts the Cyrus SASL client library (lib/sasl_client.c).
 *	Configuration errors are fatal.
 *
 *	smtp_sasl_mechs() keeps the mechanisms of an EHLO reply's AUTH
 *	lines ("AUTH PLAIN LOGIN", also the old "AUTH=PLAIN LOGIN") in the
 *	session, filtered by *_sasl_mechanism_filter.
 *
 *	smtp_sasl_auth() runs after EHLO (and after STARTTLS and the
 *	second EHLO): when authentication is enabled, the server offers
 *	AUTH and the password tables know the server, it authenticates
 *	with the best mechanism that the security options for this
 *	session allow (*_sasl_security_options without TLS,
 *	*_sasl_tls_security_options with TLS,
 *	*_sasl_tls_verified_security_options with a Verified certificate).
 *	The tables are searched for: the sender address and @domain (with
 *	smtp_sender_dependent_authentication), the server's name, the
 *	destination as written ([host]:port). Their value is
 *	"username:password" (the first colon separates them).
 *	A server without AUTH, or one the tables do not know, gets the
 *	mail without authentication. Outcomes, for every pending
 *	recipient:
 *	  - no mechanism allowed: "SASL authentication failed; cannot
 *	    authenticate to server H[A]: no mechanism available" (4.7.0);
 *	  - the server refuses: "SASL authentication failed; server H[A]
 *	    said: REPLY" with the reply's status, a 535 turned into 4.X.X
 *	    with *_sasl_auth_soft_bounce;
 *	  - a table that cannot be read: deferred (4.3.0).
 *	Returns SMTP_SESSION_OK, SMTP_SESSION_NEXT (temporary failure: try
 *	the next server) or SMTP_SESSION_STOP (permanent).
 *	The password never appears in the log, even in verbose mode.
 *
 *	smtp_sasl_reusable() says whether a cached session may carry this
 *	request: it must have been opened for the same user name (which
 *	differs only with sender-dependent authentication).
 */
#include <string.h>
#include <strings.h>

#include "mail_addr_find.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "sasl_client.h"
#include "sasl_srv.h"
#include "smtp.h"
#include "tls_client.h"

#define SMTP_SASL_ROUNDS_MAX 32 /* challenges in one exchange */
#define SMTP_SASL_STAGE "performing the SASL authentication"

static struct {
    int enable;
    MAPS *maps;
    int sec_plain;    /* SASL_SEC_OPT_* without TLS */
    int sec_tls;      /* with TLS */
    int sec_verified; /* with a Verified TLS session */
    const char *filter;
    int soft_bounce;
    int sender_dependent;
} smtp_sasl;

/* smtp_sasl_options - parse one security option list, or die */

static int smtp_sasl_options(const char *name, const char *value)
{
    VSTRING *why = vstring_alloc(100);
    int mask;

    if (sasl_sec_options(value, &mask, why) < 0)
        msg_fatal("%s: %s", name, vstring_str(why));
    vstring_free(why);
    return mask;
}

void smtp_sasl_init(void)
{
    VSTRING *why;
    int lmtp = smtp_params.lmtp;
    const char *pfx = lmtp ? "lmtp" : "smtp";
    const char *maps = lmtp ? var_lmtp_sasl_password_maps : var_smtp_sasl_password_maps;
    const char *type = lmtp ? var_lmtp_sasl_type : var_smtp_sasl_type;
    char name[64];

    smtp_sasl.enable = lmtp ? var_lmtp_sasl_auth_enable : var_smtp_sasl_auth_enable;
    if (!smtp_sasl.enable)
        return;
    if (strcasecmp(type, "cyrus") != 0)
        msg_fatal("%s_sasl_type = %s is not supported: use cyrus", pfx, type);
    if (*maps == 0)
        msg_fatal("specify a password table via the `%s_sasl_password_maps' configuration "
                  "parameter",
                  pfx);
    snprintf(name, sizeof(name), "%s_sasl_security_options", pfx);
    smtp_sasl.sec_plain = smtp_sasl_options(name, lmtp ? var_lmtp_sasl_security_options
                                                       : var_smtp_sasl_security_options);
    snprintf(name, sizeof(name), "%s_sasl_tls_security_options", pfx);
    smtp_sasl.sec_tls = smtp_sasl_options(name, lmtp ? var_lmtp_sasl_tls_security_options
                                                     : var_smtp_sasl_tls_security_options);
    snprintf(name, sizeof(name), "%s_sasl_tls_verified_security_options", pfx);
    smtp_sasl.sec_verified =
        smtp_sasl_options(name, lmtp ? var_lmtp_sasl_tls_verified_security_options
                                     : var_smtp_sasl_tls_verified_security_options);
    smtp_sasl.filter = lmtp ? var_lmtp_sasl_mechanism_filter : var_smtp_sasl_mechanism_filter;
    smtp_sasl.soft_bounce = lmtp ? var_lmtp_sasl_auth_soft_bounce : var_smtp_sasl_auth_soft_bounce;
    smtp_sasl.sender_dependent = lmtp ? 0 : var_smtp_sender_dependent_authentication;
    snprintf(name, sizeof(name), "%s_sasl_password_maps", pfx);
    smtp_sasl.maps = maps_create(name, maps, DICT_FLAG_DEFAULT);
    why = vstring_alloc(100);
    if (sasl_clnt_init(why) < 0)
        msg_fatal("%s", vstring_str(why));
    vstring_free(why);
}

void smtp_sasl_mechs(SMTP_SESSION *session, const SMTP_REPLY *reply)
{
    VSTRING *offered = vstring_alloc(100);

    for (int i = 1; i < reply->lines->argc; i++) {
        const char *line = reply->lines->argv[i];

        if (strncasecmp(line, "AUTH", 4) != 0 || (line[4] != ' ' && line[4] != '='))
            continue;
        if (vstring_len(offered) > 0)
            vstring_addch(offered, ' ');
        vstring_strcat(offered, line + 5);
    }
    if (session->auth_mechs == NULL)
        session->auth_mechs = vstring_alloc(100);
    sasl_clnt_filter(vstring_str(offered), smtp_sasl.filter, session->auth_mechs);
    vstring_free(offered);
}

/*
 * smtp_sasl_lookup - user name and password for this session: 1 (user
 * and pass set, caller frees), 0 (none), -1 (a table failed).
 */
static int smtp_sasl_lookup(SMTP_STATE *state, SMTP_SESSION *session, char **user, char **pass)
{
    const char *sender = state->req->sender;
    const char *value = NULL;
    const char *colon;
    int rc = DICT_STAT_NOTFOUND;

    *user = *pass = NULL;
    if (smtp_sasl.sender_dependent && *sender)
        rc = mail_addr_find(smtp_sasl.maps, sender, &value, NULL);
    if (rc == DICT_STAT_NOTFOUND)
        rc = maps_find(smtp_sasl.maps, session->host, MAPS_FIND_ALL, &value);
    if (rc == DICT_STAT_NOTFOUND && session->hop)
        rc = maps_find(smtp_sasl.maps, session->hop, MAPS_FIND_ALL, &value);
    if (rc == DICT_STAT_ERROR)
        return -1;
    if (rc != DICT_STAT_FOUND)
        return 0;
    if ((colon = strchr(value, ':')) != NULL) {
        *user = mystrndup(value, (size_t)(colon - value));
        *pass = mystrdup(colon + 1);
    } else {
        *user = mystrdup(value);
        *pass = mystrdup("");
    }
    return 1;
}

static void smtp_sasl_wipe(char *secret)
{
    if (secret) {
        memset(secret, 0, strlen(secret));
        myfree(secret);
    }
}

/* smtp_sasl_put - one line of the exchange; never logs its content */

static int smtp_sasl_put(SMTP_SESSION *session, const char *verb, const char *mech,
                         const char *data)
{
    VSTREAM *fp = session->stream;
    int err;

    if (msg_verbose)
        msg_info("> %s: %s%s%s%s", session->host, verb, *verb ? " " : "", mech,
                 *data ? " (data not shown)" : "");
    vstream_set_timeout(fp, (int)smtp_params.helo_timeout);
    if (*verb)
        err = vstream_fprintf(fp, "%s %s%s%s\r\n", verb, mech, *data ? " " : "", data);
    else
        err = vstream_fprintf(fp, "%s\r\n", data);
    return err == VSTREAM_EOF || vstream_fflush(fp) == VSTREAM_EOF ? -1 : 0;
}

/* smtp_sasl_refused - the server said no: a permanent or temporary outcome */

static int smtp_sasl_refused(SMTP_STATE *state)
{
    SMTP_SESSION *session = state->session;
    SMTP_REPLY *reply = state->reply;
    char dsn[SMTP_DSN_MAX];

    strcpy(dsn, reply->dsn);
    if (reply->code == 535 && smtp_sasl.soft_bounce)
        dsn[0] = '4';
    if (reply->code == 421)
        session->broken = 1;
    smtp_all_fail(state, vstring_str(session->relay), dsn,
                  "SASL authentication failed; server %s[%s] said: %s", session->host,
                  session->addr, vstring_str(reply->text));
    return dsn[0] == '5' ? SMTP_SESSION_STOP : SMTP_SESSION_NEXT;
}

/* smtp_sasl_cannot - we cannot authenticate: a temporary outcome */

static int smtp_sasl_cannot(SMTP_STATE *state, const char *why)
{
    SMTP_SESSION *session = state->session;

    smtp_all_fail(state, vstring_str(session->relay), "4.7.0",
                  "SASL authentication failed; cannot authenticate to server %s[%s]: %s",
                  session->host, session->addr, why);
    return SMTP_SESSION_NEXT;
}

/* smtp_sasl_exchange - AUTH, challenges and responses, until the end */

static int smtp_sasl_exchange(SMTP_STATE *state, SASL_CLNT *client)
{
    SMTP_SESSION *session = state->session;
    SMTP_REPLY *reply = state->reply;
    VSTRING *mech = vstring_alloc(20);
    VSTRING *data = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int status;
    int rc;

    status = sasl_clnt_first(client, vstring_str(session->auth_mechs), mech, data, why);
    if (status != SASL_CLNT_OK) {
        rc = smtp_sasl_cannot(state, vstring_str(why));
        goto done;
    }
    if (smtp_sasl_put(session, "AUTH", vstring_str(mech), vstring_str(data)) < 0) {
        smtp_lost(state, SMTP_SASL_STAGE, SMTP_REPLY_EOF);
        rc = SMTP_SESSION_NEXT;
        goto done;
    }
    for (int round = 0;; round++) {
        if ((rc = smtp_read(session, reply, smtp_params.helo_timeout)) < 0) {
            smtp_lost(state, SMTP_SASL_STAGE, rc);
            rc = SMTP_SESSION_NEXT;
            goto done;
        }
        if (rc >= 200 && rc < 300) {
            if (msg_verbose)
                msg_info("%s: authenticated with %s", vstring_str(session->relay),
                         vstring_str(mech));
            rc = SMTP_SESSION_OK;
            goto done;
        }
        if (rc != 334) {
            rc = smtp_sasl_refused(state);
            goto done;
        }
        if (round >= SMTP_SASL_ROUNDS_MAX) {
            vstring_strcpy(why, "too many SASL challenges");
            status = SASL_CLNT_FAIL;
        } else {
            status = sasl_clnt_next(client, reply->lines->argc > 0 ? reply->lines->argv[0] : "",
                                    data, why);
        }
        if (status != SASL_CLNT_OK) {
            /* cancel (RFC 4954 4), then give up on this server */
            if (smtp_sasl_put(session, "", "", "*") < 0 ||
                smtp_read(session, reply, smtp_params.helo_timeout) < 0)
                session->broken = 1;
            rc = smtp_sasl_cannot(state, vstring_str(why));
            goto done;
        }
        if (smtp_sasl_put(session, "", "", vstring_str(data)) < 0) {
            smtp_lost(state, SMTP_SASL_STAGE, SMTP_REPLY_EOF);
            rc = SMTP_SESSION_NEXT;
            goto done;
        }
    }

done:
    vstring_free(mech);
    memset(vstring_str(data), 0, vstring_len(data));
    vstring_free(data);
    vstring_free(why);
    return rc;
}

int smtp_sasl_auth(SMTP_STATE *state)
{
    SMTP_SESSION *session = state->session;
    SASL_CLNT_PROPS props;
    SASL_CLNT *client;
    VSTRING *why;
    char *user;
    char *pass;
    int rc;

    if (!smtp_sasl.enable)
        return SMTP_SESSION_OK;
    if ((rc = smtp_sasl_lookup(state, session, &user, &pass)) < 0) {
        smtp_all_fail(state, vstring_str(session->relay), "4.3.0",
                      "SASL authentication failed; cannot find the password for server %s[%s]: "
                      "%s",
                      session->host, session->addr, maps_error(smtp_sasl.maps));
        return SMTP_SESSION_STOP;
    }
    if (session->sasl_user)
        myfree(session->sasl_user);
    session->sasl_user = user ? mystrdup(user) : NULL;
    if (rc == 0 || !(session->features & SMTP_FEATURE_AUTH)) {
        if (msg_verbose)
            msg_info("%s: no SASL authentication (%s)", vstring_str(session->relay),
                     rc == 0 ? "no password for this server" : "the server offers no AUTH");
        if (user)
            myfree(user);
        smtp_sasl_wipe(pass);
        return SMTP_SESSION_OK;
    }
    memset(&props, 0, sizeof(props));
    props.service = "smtp";
    props.server_name = session->host;
    props.username = user;
    props.password = pass;
    props.sec_options = session->tls == NULL                       ? smtp_sasl.sec_plain
                        : session->tls_trust == TLS_TRUST_VERIFIED ? smtp_sasl.sec_verified
                                                                   : smtp_sasl.sec_tls;
    why = vstring_alloc(100);
    if ((client = sasl_clnt_create(&props, why)) == NULL)
        rc = smtp_sasl_cannot(state, vstring_str(why));
    else
        rc = smtp_sasl_exchange(state, client);
    sasl_clnt_free(client);
    vstring_free(why);
    myfree(user);
    smtp_sasl_wipe(pass);
    return rc;
}

int smtp_sasl_reusable(SMTP_STATE *state, SMTP_SESSION *session)
{
    char *user;
    char *pass;
    int rc;
    int same;

    if (!smtp_sasl.enable || !smtp_sasl.sender_dependent)
        return 1;
    if ((rc = smtp_sasl_lookup(state, session, &user, &pass)) < 0)
        return 0;
    same = (user == NULL && session->sasl_user == NULL) ||
           (user && session->sasl_user && strcmp(user, session->sasl_user) == 0);
    if (user)
        myfree(user);
    smtp_sasl_wipe(pass);
    return same;
}
