/*
 * NAME
 *	sasl_cyrus - the Cyrus SASL backend of sasl_srv
 * SYNOPSIS
 *	#include "sasl_srv.h"
 *
 *	SASL_SERVER_IMPL *sasl_cyrus_init(const char *app_name,
 *			const char *config_path, VSTRING *why)
 * DESCRIPTION
 *	sasl_cyrus_init() starts the Cyrus SASL library for a server
 *	(sasl_server_init) under the application name app_name, which
 *	makes Cyrus read APP_NAME.conf from config_path (a colon-separated
 *	list of directories; empty for the library's default) and load its
 *	mechanism and auxprop plugins. It must run before a chroot. The
 *	library can be started once per process; a second call returns
 *	the same backend.
 *
 *	Each session is a sasl_conn_t (sasl_server_new) with the service
 *	name, server name, user realm and both endpoints of the
 *	connection. Security options become Cyrus's security flags; SASL
 *	security layers are never negotiated (max_ssf 0): SMTP has TLS for
 *	that. The client's base64 is decoded with sasl_decode64() and
 *	challenges encoded with sasl_encode64().
 *
 *	Failures are reported with Cyrus's own wording ("authentication
 *	failure"), except that an unknown user reads like a wrong password,
 *	so that nobody can probe which users exist. The library's own log
 *	messages go to the mail log: errors and warnings as "SASL
 *	authentication problem: ...", failures as "SASL authentication
 *	failure: ...", notes only in verbose mode.
 */
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "msg.h"
#include "mymalloc.h"
#include "sasl_srv.h"
#include "vstring.h"

#define SASL_CYRUS_BUF_MAX (64 * 1024) /* decoded client data */

typedef struct SASL_CYRUS_SERVER {
    SASL_SERVER server;
    sasl_conn_t *conn;
    VSTRING *mechs;
    VSTRING *decoded;
    char *username;
} SASL_CYRUS_SERVER;

static SASL_SERVER_IMPL sasl_cyrus_impl;
static int sasl_cyrus_started;
static char *sasl_cyrus_config_path;

/* sasl_cyrus_log - the library's log messages */

static int sasl_cyrus_log(void *context, int priority, const char *message)
{
    (void)context;
    switch (priority) {
    case SASL_LOG_ERR:
    case SASL_LOG_WARN:
        msg_warn("SASL authentication problem: %s", message);
        break;
    case SASL_LOG_FAIL:
        msg_warn("SASL authentication failure: %s", message);
        break;
    case SASL_LOG_NOTE:
        if (msg_verbose)
            msg_info("SASL authentication info: %s", message);
        break;
    default:
        if (msg_verbose > 1)
            msg_info("SASL authentication debug: %s", message);
        break;
    }
    return SASL_OK;
}

/* sasl_cyrus_confpath - where APP.conf is */

static int sasl_cyrus_confpath(void *context, char **path)
{
    (void)context;
    *path = sasl_cyrus_config_path;
    return SASL_OK;
}

typedef int (*SASL_CYRUS_CB)(void);

static sasl_callback_t sasl_cyrus_callbacks[] = {
    {SASL_CB_LOG, (SASL_CYRUS_CB)(void (*)(void))sasl_cyrus_log, NULL},
    {SASL_CB_LIST_END, NULL, NULL}, /* replaced by GETCONFPATH when set */
    {SASL_CB_LIST_END, NULL, NULL},
};

/* sasl_cyrus_text - a Cyrus status as a reason */

static void sasl_cyrus_text(int status, VSTRING *reply)
{
    switch (status) {
    case SASL_NOUSER:
    case SASL_BADAUTH:
    case SASL_NOAUTHZ:
        vstring_strcpy(reply, "authentication failure");
        break;
    case SASL_NOMECH:
    case SASL_TOOWEAK:
        vstring_strcpy(reply, "Invalid authentication mechanism");
        break;
    default:
        vstring_strcpy(reply, sasl_errstring(status, NULL, NULL));
        break;
    }
}

/* sasl_cyrus_status - map a Cyrus status, with output, to SASL_AUTH_* */

static int sasl_cyrus_status(SASL_CYRUS_SERVER *cs, int status, const char *out, unsigned outlen,
                             VSTRING *reply)
{
    const void *user = NULL;
    unsigned enclen;
    unsigned buflen;
    char *buf;

    switch (status) {
    case SASL_OK:
        if (sasl_getprop(cs->conn, SASL_USERNAME, &user) != SASL_OK || user == NULL) {
            vstring_strcpy(reply, "no user name after authentication");
            return SASL_AUTH_TEMP;
        }
        if (cs->username)
            myfree(cs->username);
        cs->username = mystrdup((const char *)user);
        return SASL_AUTH_DONE;
    case SASL_CONTINUE:
        if (outlen > SASL_CYRUS_BUF_MAX) {
            vstring_strcpy(reply, "challenge too long");
            return SASL_AUTH_TEMP;
        }
        buflen = outlen / 3 * 4 + 8;
        buf = mymalloc(buflen);
        if (sasl_encode64(out ? out : "", outlen, buf, buflen, &enclen) != SASL_OK) {
            myfree(buf);
            vstring_strcpy(reply, "cannot encode the challenge");
            return SASL_AUTH_TEMP;
        }
        vstring_memcpy(reply, buf, enclen);
        myfree(buf);
        return SASL_AUTH_MORE;
    case SASL_BADPROT:
    case SASL_BADPARAM:
        vstring_strcpy(reply, "malformed authentication response");
        return SASL_AUTH_FORM;
    case SASL_TRYAGAIN:
    case SASL_UNAVAIL:
    case SASL_NOMEM:
        sasl_cyrus_text(status, reply);
        return SASL_AUTH_TEMP;
    default:
        sasl_cyrus_text(status, reply);
        return SASL_AUTH_FAIL;
    }
}

/* sasl_cyrus_decode - base64 text to bytes in cs->decoded; 0 or -1 */

static int sasl_cyrus_decode(SASL_CYRUS_SERVER *cs, const char *text, unsigned *len)
{
    size_t inlen = strlen(text);
    size_t need = inlen / 4 * 3 + 4;

    if (inlen > SASL_CYRUS_BUF_MAX)
        return -1;
    vstring_reset(cs->decoded);
    vstring_reserve(cs->decoded, need);
    if (sasl_decode64(text, (unsigned)inlen, vstring_str(cs->decoded), (unsigned)need, len) !=
        SASL_OK)
        return -1;
    return 0;
}

static const char *sasl_cyrus_mechs(SASL_SERVER *server)
{
    return vstring_str(((SASL_CYRUS_SERVER *)server)->mechs);
}

static int sasl_cyrus_first(SASL_SERVER *server, const char *mech, const char *init, VSTRING *reply)
{
    SASL_CYRUS_SERVER *cs = (SASL_CYRUS_SERVER *)server;
    const char *out = NULL;
    unsigned outlen = 0;
    unsigned inlen = 0;
    const char *in = NULL;
    int status;

    if (init != NULL) {
        if (strcmp(init, "=") == 0) {
            in = "";
        } else if (sasl_cyrus_decode(cs, init, &inlen) < 0) {
            vstring_strcpy(reply, "Invalid base64 data in initial response");
            return SASL_AUTH_FORM;
        } else {
            in = vstring_str(cs->decoded);
        }
    }
    status = sasl_server_start(cs->conn, mech, in, inlen, &out, &outlen);
    return sasl_cyrus_status(cs, status, out, outlen, reply);
}

static int sasl_cyrus_next(SASL_SERVER *server, const char *response, VSTRING *reply)
{
    SASL_CYRUS_SERVER *cs = (SASL_CYRUS_SERVER *)server;
    const char *out = NULL;
    unsigned outlen = 0;
    unsigned inlen = 0;
    int status;

    if (sasl_cyrus_decode(cs, response, &inlen) < 0) {
        vstring_strcpy(reply, "Invalid base64 data in continued response");
        return SASL_AUTH_FORM;
    }
    status = sasl_server_step(cs->conn, vstring_str(cs->decoded), inlen, &out, &outlen);
    return sasl_cyrus_status(cs, status, out, outlen, reply);
}

static const char *sasl_cyrus_username(SASL_SERVER *server)
{
    return ((SASL_CYRUS_SERVER *)server)->username;
}

static void sasl_cyrus_free(SASL_SERVER *server)
{
    SASL_CYRUS_SERVER *cs = (SASL_CYRUS_SERVER *)server;

    if (cs->conn)
        sasl_dispose(&cs->conn);
    vstring_free(cs->mechs);
    vstring_free(cs->decoded);
    if (cs->username)
        myfree(cs->username);
    myfree(cs);
}

/* sasl_cyrus_ipport - "addr;port" as Cyrus wants endpoints, or NULL */

static char *sasl_cyrus_ipport(VSTRING *buf, const char *addr, const char *port)
{
    if (addr == NULL || *addr == 0 || port == NULL || *port == 0)
        return NULL;
    vstring_sprintf(buf, "%s;%s", addr, port);
    return vstring_str(buf);
}

static SASL_SERVER *sasl_cyrus_create(SASL_SERVER_IMPL *impl, const SASL_SERVER_PROPS *props,
                                      VSTRING *why)
{
    SASL_CYRUS_SERVER *cs;
    sasl_security_properties_t sec;
    VSTRING *local = vstring_alloc(64);
    VSTRING *remote = vstring_alloc(64);
    const char *list = NULL;
    int status;

    (void)impl;
    cs = mycalloc(1, sizeof(*cs));
    cs->server.mechs = sasl_cyrus_mechs;
    cs->server.first = sasl_cyrus_first;
    cs->server.next = sasl_cyrus_next;
    cs->server.username = sasl_cyrus_username;
    cs->server.free = sasl_cyrus_free;
    cs->mechs = vstring_alloc(100);
    cs->decoded = vstring_alloc(100);

    status = sasl_server_new(props->service, props->server_name,
                             props->user_realm && *props->user_realm ? props->user_realm : NULL,
                             sasl_cyrus_ipport(local, props->local_addr, props->local_port),
                             sasl_cyrus_ipport(remote, props->client_addr, props->client_port),
                             NULL, 0, &cs->conn);
    vstring_free(local);
    vstring_free(remote);
    if (status != SASL_OK) {
        vstring_sprintf(why, "cannot create a SASL server context: %s",
                        sasl_errstring(status, NULL, NULL));
        cs->conn = NULL;
        sasl_cyrus_free(&cs->server);
        return NULL;
    }
    memset(&sec, 0, sizeof(sec));
    sec.min_ssf = 0;
    sec.max_ssf = 0; /* no SASL security layer */
    sec.maxbufsize = 0;
    if (props->sec_options & SASL_SEC_OPT_NOPLAINTEXT)
        sec.security_flags |= SASL_SEC_NOPLAINTEXT;
    if (props->sec_options & SASL_SEC_OPT_NOACTIVE)
        sec.security_flags |= SASL_SEC_NOACTIVE;
    if (props->sec_options & SASL_SEC_OPT_NODICTIONARY)
        sec.security_flags |= SASL_SEC_NODICTIONARY;
    if (props->sec_options & SASL_SEC_OPT_NOANONYMOUS)
        sec.security_flags |= SASL_SEC_NOANONYMOUS;
    if (props->sec_options & SASL_SEC_OPT_MUTUAL_AUTH)
        sec.security_flags |= SASL_SEC_MUTUAL_AUTH;
    if (props->sec_options & SASL_SEC_OPT_FORWARD_SECRECY)
        sec.security_flags |= SASL_SEC_FORWARD_SECRECY;
    if ((status = sasl_setprop(cs->conn, SASL_SEC_PROPS, &sec)) != SASL_OK) {
        vstring_sprintf(why, "cannot set SASL security properties: %s",
                        sasl_errstring(status, NULL, NULL));
        sasl_cyrus_free(&cs->server);
        return NULL;
    }
    status = sasl_listmech(cs->conn, NULL, "", " ", "", &list, NULL, NULL);
    if (status == SASL_OK && list)
        vstring_strcpy(cs->mechs, list);
    else if (status != SASL_NOMECH)
        msg_warn("cannot list SASL mechanisms: %s", sasl_errstring(status, NULL, NULL));
    for (char *cp = vstring_str(cs->mechs); *cp; cp++)
        if (*cp >= 'a' && *cp <= 'z')
            *cp = (char)(*cp - 'a' + 'A');
    return &cs->server;
}

static void sasl_cyrus_done(SASL_SERVER_IMPL *impl)
{
    (void)impl;
    /* the library stays loaded for the life of the process */
}

SASL_SERVER_IMPL *sasl_cyrus_init(const char *app_name, const char *config_path, VSTRING *why)
{
    int status;

    if (sasl_cyrus_started)
        return &sasl_cyrus_impl;
    if (config_path && *config_path) {
        sasl_cyrus_config_path = mystrdup(config_path);
        sasl_cyrus_callbacks[1].id = SASL_CB_GETCONFPATH;
        sasl_cyrus_callbacks[1].proc = (SASL_CYRUS_CB)(void (*)(void))sasl_cyrus_confpath;
    }
    if ((status = sasl_server_init(sasl_cyrus_callbacks, app_name)) != SASL_OK) {
        vstring_sprintf(why, "Cyrus SASL server library initialization failed: %s",
                        sasl_errstring(status, NULL, NULL));
        return NULL;
    }
    sasl_cyrus_started = 1;
    sasl_cyrus_impl.type = "cyrus";
    sasl_cyrus_impl.create = sasl_cyrus_create;
    sasl_cyrus_impl.done = sasl_cyrus_done;
    return &sasl_cyrus_impl;
}
