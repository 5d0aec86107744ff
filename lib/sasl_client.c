/*
 * NAME
 *	sasl_client - SASL authentication for clients, over Cyrus SASL
 * SYNOPSIS
 *	#include "sasl_client.h"
 *
 *	int sasl_clnt_init(VSTRING *why)
 *	SASL_CLNT *sasl_clnt_create(const SASL_CLNT_PROPS *props,
 *			VSTRING *why)
 *	int sasl_clnt_first(SASL_CLNT *client, const char *mechs,
 *			VSTRING *mech, VSTRING *init, VSTRING *why)
 *	int sasl_clnt_next(SASL_CLNT *client, const char *challenge,
 *			VSTRING *response, VSTRING *why)
 *	void sasl_clnt_free(SASL_CLNT *client)
 *	void sasl_clnt_filter(const char *offered, const char *filter,
 *			VSTRING *out)
 * DESCRIPTION
 *	sasl_clnt_init() starts the Cyrus SASL client library
 *	(sasl_client_init), which loads the mechanism plugins from the
 *	library's directories; it must run before a chroot. The library's
 *	own log messages go to the mail log: errors and warnings as
 *	"SASL authentication problem: ...", notes only in verbose mode.
 *
 *	Each authentication is a sasl_conn_t (sasl_client_new) with
 *	callbacks that answer the library's questions from the client
 *	object: the authentication and authorization identity are both
 *	the user name, the secret is the password. A mechanism that asks
 *	for anything else (a realm, a choice) fails the exchange rather
 *	than guess. Security properties come from the SASL_SEC_OPT_* bits
 *	(noplaintext: no PLAIN, no LOGIN, ...); max_ssf is 0, so that no
 *	mechanism wraps the rest of the session in a SASL security layer
 *	this program would not apply.
 *
 *	Base64 goes through Cyrus's sasl_encode64()/sasl_decode64(), with
 *	SASL_CLNT_DATA_MAX as the bound either way.
 *
 *	See sasl_client.h for the contract.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"
#include "sasl_client.h"
#include "sasl_srv.h"
#include "vstring.h"

#define SASL_CLNT_CALLBACKS 4

struct SASL_CLNT {
    sasl_conn_t *conn;
    char *username;
    sasl_secret_t *secret;
    size_t secret_size;
    sasl_callback_t callbacks[SASL_CLNT_CALLBACKS];
    char *buf; /* base64 work space: 4/3 * SASL_CLNT_DATA_MAX + 4 */
    size_t buf_size;
};

static int sasl_clnt_started;

/* sasl_clnt_log - the library's log messages */

static int sasl_clnt_log(void *context, int priority, const char *message)
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

typedef int (*SASL_CLNT_CB_FN)(void);

int sasl_clnt_init(VSTRING *why)
{
    static sasl_callback_t callbacks[] = {
        {SASL_CB_LOG, (SASL_CLNT_CB_FN)(void (*)(void))sasl_clnt_log, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    int rc;

    if (sasl_clnt_started)
        return 0;
    if ((rc = sasl_client_init(callbacks)) != SASL_OK) {
        vstring_sprintf(why, "cannot start the Cyrus SASL client library: %s",
                        sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    sasl_clnt_started = 1;
    return 0;
}

/* sasl_clnt_name - the user name, as authentication and authorization id */

static int sasl_clnt_name(void *context, int id, const char **result, unsigned *len)
{
    SASL_CLNT *client = context;

    if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
        return SASL_FAIL;
    *result = client->username;
    if (len)
        *len = (unsigned)strlen(client->username);
    return SASL_OK;
}

/* sasl_clnt_pass - the password */

static int sasl_clnt_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    SASL_CLNT *client = context;

    (void)conn;
    if (id != SASL_CB_PASS || psecret == NULL)
        return SASL_BADPARAM;
    *psecret = client->secret;
    return SASL_OK;
}

/* sasl_clnt_flags - SASL_SEC_OPT_* bits as Cyrus security flags */

static unsigned sasl_clnt_flags(int options)
{
    unsigned flags = 0;

    if (options & SASL_SEC_OPT_NOPLAINTEXT)
        flags |= SASL_SEC_NOPLAINTEXT;
    if (options & SASL_SEC_OPT_NOACTIVE)
        flags |= SASL_SEC_NOACTIVE;
    if (options & SASL_SEC_OPT_NODICTIONARY)
        flags |= SASL_SEC_NODICTIONARY;
    if (options & SASL_SEC_OPT_NOANONYMOUS)
        flags |= SASL_SEC_NOANONYMOUS;
    if (options & SASL_SEC_OPT_MUTUAL_AUTH)
        flags |= SASL_SEC_MUTUAL_AUTH;
    if (options & SASL_SEC_OPT_FORWARD_SECRECY)
        flags |= SASL_SEC_FORWARD_SECRECY;
    return flags;
}

/* sasl_clnt_error - the library's reason for a failure */

static void sasl_clnt_error(SASL_CLNT *client, int rc, const char *what, VSTRING *why)
{
    const char *detail = client->conn ? sasl_errdetail(client->conn) : NULL;

    vstring_sprintf(why, "%s: %s", what,
                    detail && *detail ? detail : sasl_errstring(rc, NULL, NULL));
    for (char *cp = vstring_str(why); *cp; cp++)
        if ((unsigned char)*cp < 0x20 || (unsigned char)*cp >= 0x7f)
            *cp = '?';
}

SASL_CLNT *sasl_clnt_create(const SASL_CLNT_PROPS *props, VSTRING *why)
{
    SASL_CLNT *client;
    sasl_security_properties_t sec;
    size_t pass_len = strlen(props->password);
    int rc;

    if (!sasl_clnt_started && sasl_clnt_init(why) < 0)
        return NULL;
    client = mycalloc(1, sizeof(*client));
    client->username = mystrdup(props->username);
    client->secret_size = sizeof(sasl_secret_t) + pass_len + 1;
    client->secret = mycalloc(1, client->secret_size);
    client->secret->len = pass_len;
    memcpy(client->secret->data, props->password, pass_len);
    client->buf_size = (SASL_CLNT_DATA_MAX / 3 + 2) * 4 + 1;
    client->buf = mymalloc(client->buf_size);
    client->callbacks[0] =
        (sasl_callback_t){SASL_CB_USER, (SASL_CLNT_CB_FN)(void (*)(void))sasl_clnt_name, client};
    client->callbacks[1] = (sasl_callback_t){
        SASL_CB_AUTHNAME, (SASL_CLNT_CB_FN)(void (*)(void))sasl_clnt_name, client};
    client->callbacks[2] =
        (sasl_callback_t){SASL_CB_PASS, (SASL_CLNT_CB_FN)(void (*)(void))sasl_clnt_pass, client};
    client->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};

    rc = sasl_client_new(props->service,
                         props->server_name && *props->server_name ? props->server_name : NULL,
                         NULL, NULL, client->callbacks, 0, &client->conn);
    if (rc != SASL_OK) {
        sasl_clnt_error(client, rc, "cannot create a SASL client", why);
        sasl_clnt_free(client);
        return NULL;
    }
    memset(&sec, 0, sizeof(sec));
    sec.min_ssf = 0;
    sec.max_ssf = 0;
    sec.maxbufsize = 0;
    sec.security_flags = sasl_clnt_flags(props->sec_options);
    if ((rc = sasl_setprop(client->conn, SASL_SEC_PROPS, &sec)) != SASL_OK) {
        sasl_clnt_error(client, rc, "cannot set SASL security properties", why);
        sasl_clnt_free(client);
        return NULL;
    }
    return client;
}

/* sasl_clnt_encode - base64 of data into out; 0 or -1 */

static int sasl_clnt_encode(SASL_CLNT *client, const char *data, unsigned len, VSTRING *out,
                            VSTRING *why)
{
    unsigned out_len;

    vstring_reset(out);
    if (len == 0)
        return 0;
    if (len > SASL_CLNT_DATA_MAX) {
        vstring_sprintf(why, "SASL response of %u bytes is too long", len);
        return -1;
    }
    if (sasl_encode64(data, len, client->buf, (unsigned)client->buf_size, &out_len) != SASL_OK) {
        vstring_strcpy(why, "cannot encode the SASL response");
        return -1;
    }
    vstring_memcpy(out, client->buf, out_len);
    return 0;
}

int sasl_clnt_first(SASL_CLNT *client, const char *mechs, VSTRING *mech, VSTRING *init,
                    VSTRING *why)
{
    sasl_interact_t *interact = NULL;
    const char *out = NULL;
    const char *chosen = NULL;
    unsigned out_len = 0;
    int rc;

    vstring_reset(mech);
    vstring_reset(init);
    if (mechs == NULL || *mechs == 0) {
        vstring_strcpy(why, "no mechanism available");
        return SASL_CLNT_NOMECH;
    }
    rc = sasl_client_start(client->conn, mechs, &interact, &out, &out_len, &chosen);
    if (rc == SASL_NOMECH) {
        vstring_strcpy(why, "no mechanism available");
        return SASL_CLNT_NOMECH;
    }
    if (rc == SASL_INTERACT) {
        vstring_strcpy(why, "the SASL mechanism wants more than a user name and password");
        return SASL_CLNT_FAIL;
    }
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        sasl_clnt_error(client, rc, "cannot start SASL authentication", why);
        return SASL_CLNT_FAIL;
    }
    if (chosen == NULL) {
        vstring_strcpy(why, "the SASL library chose no mechanism");
        return SASL_CLNT_FAIL;
    }
    vstring_strcpy(mech, chosen);
    if (out == NULL)
        return SASL_CLNT_OK;
    if (out_len == 0) {
        vstring_strcpy(init, "=");
        return SASL_CLNT_OK;
    }
    return sasl_clnt_encode(client, out, out_len, init, why) < 0 ? SASL_CLNT_FAIL : SASL_CLNT_OK;
}

int sasl_clnt_next(SASL_CLNT *client, const char *challenge, VSTRING *response, VSTRING *why)
{
    sasl_interact_t *interact = NULL;
    const char *out = NULL;
    unsigned out_len = 0;
    unsigned in_len = 0;
    size_t len = strlen(challenge);
    int rc;

    vstring_reset(response);
    if (len > client->buf_size - 1 || (len > 0 && !sasl_base64_valid(challenge))) {
        vstring_strcpy(why, "malformed SASL challenge from the server");
        return SASL_CLNT_FAIL;
    }
    if (len > 0 && sasl_decode64(challenge, (unsigned)len, client->buf, (unsigned)client->buf_size,
                                 &in_len) != SASL_OK) {
        vstring_strcpy(why, "malformed SASL challenge from the server");
        return SASL_CLNT_FAIL;
    }
    rc = sasl_client_step(client->conn, client->buf, in_len, &interact, &out, &out_len);
    if (rc == SASL_INTERACT) {
        vstring_strcpy(why, "the SASL mechanism wants more than a user name and password");
        return SASL_CLNT_FAIL;
    }
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        sasl_clnt_error(client, rc, "SASL authentication step failed", why);
        return SASL_CLNT_FAIL;
    }
    if (out == NULL || out_len == 0)
        return SASL_CLNT_OK;
    return sasl_clnt_encode(client, out, out_len, response, why) < 0 ? SASL_CLNT_FAIL
                                                                     : SASL_CLNT_OK;
}

void sasl_clnt_free(SASL_CLNT *client)
{
    if (client == NULL)
        return;
    if (client->conn)
        sasl_dispose(&client->conn);
    memset(client->secret, 0, client->secret_size);
    myfree(client->secret);
    myfree(client->username);
    memset(client->buf, 0, client->buf_size);
    myfree(client->buf);
    myfree(client);
}

/* sasl_clnt_mech_ok - RFC 4422 mechanism name syntax (any case here) */

static int sasl_clnt_mech_ok(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > SASL_CLNT_MECH_MAX)
        return 0;
    for (const char *cp = name; *cp; cp++)
        if (!(isascii((unsigned char)*cp) &&
              (isalnum((unsigned char)*cp) || *cp == '-' || *cp == '_')))
            return 0;
    return 1;
}

void sasl_clnt_filter(const char *offered, const char *filter, VSTRING *out)
{
    ARGV *have = argv_split(offered ? offered : "", ARGV_DELIM_SPACE);
    ARGV *want = argv_split(filter ? filter : "", ARGV_DELIM_LIST);
    ARGV *done = argv_alloc(have->argc + 1);
    int keep;

    vstring_reset(out);
    for (int i = 0; i < have->argc; i++) {
        const char *name = have->argv[i];

        if (!sasl_clnt_mech_ok(name))
            continue;
        keep = want->argc == 0;
        for (int j = 0; j < want->argc && !keep; j++)
            keep = strcasecmp(name, want->argv[j]) == 0;
        for (int j = 0; j < done->argc && keep; j++)
            keep = strcasecmp(name, done->argv[j]) != 0;
        if (!keep)
            continue;
        argv_add(done, name);
        if (vstring_len(out) > 0)
            vstring_addch(out, ' ');
        for (const char *cp = name; *cp; cp++)
            vstring_addch(out, toupper((unsigned char)*cp));
    }
    argv_free(have);
    argv_free(want);
    argv_free(done);
}
