/*
 * NAME
 *	sasl_srv - SASL authentication for servers, whatever the backend
 * SYNOPSIS
 *	#include "sasl_srv.h"
 *
 *	SASL_SERVER_IMPL *sasl_srv_init(const char *type, const char *path,
 *			const char *config_path, int timeout, VSTRING *why)
 *	void sasl_srv_done(SASL_SERVER_IMPL *impl)
 *	SASL_SERVER *sasl_srv_create(SASL_SERVER_IMPL *impl,
 *			const SASL_SERVER_PROPS *props, VSTRING *why)
 *	const char *sasl_srv_mechs(SASL_SERVER *server)
 *	int sasl_srv_first(SASL_SERVER *server, const char *mech,
 *			const char *init, VSTRING *reply)
 *	int sasl_srv_next(SASL_SERVER *server, const char *response,
 *			VSTRING *reply)
 *	const char *sasl_srv_username(SASL_SERVER *server)
 *	void sasl_srv_free(SASL_SERVER *server)
 *	int sasl_sec_options(const char *list, int *mask, VSTRING *why)
 *	int sasl_base64_valid(const char *text)
 * DESCRIPTION
 *	This module chooses the backend by name and passes each call to
 *	its method table. It also checks, before any backend sees them,
 *	that the client's text is well-formed: a mechanism name of
 *	SASL_MECH_NAME_MAX letters, digits, '-' and '_' that the server
 *	offers, and responses that are canonical base64 (or "=" for an
 *	empty initial response). What the backend returns is checked too:
 *	a user name must be 1..SASL_USERNAME_MAX bytes without control
 *	characters, and reasons are made printable.
 *
 *	See sasl_srv.h for the contract.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "msg.h"
#include "sasl_srv.h"
#include "vstring.h"

static const struct {
    const char *name;
    int bit;
} sasl_sec_table[] = {
    {"noplaintext", SASL_SEC_OPT_NOPLAINTEXT},
    {"noactive", SASL_SEC_OPT_NOACTIVE},
    {"nodictionary", SASL_SEC_OPT_NODICTIONARY},
    {"noanonymous", SASL_SEC_OPT_NOANONYMOUS},
    {"mutual_auth", SASL_SEC_OPT_MUTUAL_AUTH},
    {"forward_secrecy", SASL_SEC_OPT_FORWARD_SECRECY},
    {NULL, 0},
};

int sasl_sec_options(const char *list, int *mask, VSTRING *why)
{
    ARGV *words = argv_split(list ? list : "", ARGV_DELIM_LIST);
    int status = 0;
    int i, j;

    *mask = 0;
    for (i = 0; i < words->argc; i++) {
        for (j = 0; sasl_sec_table[j].name; j++)
            if (strcasecmp(words->argv[i], sasl_sec_table[j].name) == 0)
                break;
        if (sasl_sec_table[j].name == NULL) {
            vstring_sprintf(why, "unknown SASL security option \"%.100s\"", words->argv[i]);
            status = -1;
            break;
        }
        *mask |= sasl_sec_table[j].bit;
    }
    argv_free(words);
    return status;
}

int sasl_base64_valid(const char *text)
{
    size_t len = strlen(text);
    size_t pad = 0;

    if (len % 4 != 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '=') {
            pad++;
            continue;
        }
        if (pad > 0)
            return 0; /* data after padding */
        if (!isalnum(c) && c != '+' && c != '/')
            return 0;
        if (c >= 0x80)
            return 0;
    }
    return pad <= 2;
}

/* sasl_mech_valid - syntax of a mechanism name (RFC 4422 3.1) */

static int sasl_mech_valid(const char *mech)
{
    size_t len = strlen(mech);

    if (len == 0 || len > SASL_MECH_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)mech[i];

        if (!(isascii(c) && (isalnum(c) || c == '-' || c == '_')))
            return 0;
    }
    return 1;
}

/* sasl_mech_offered - is mech (any case) in the server's list? */

static int sasl_mech_offered(SASL_SERVER *server, const char *mech)
{
    const char *list = server->mechs(server);
    size_t len = strlen(mech);
    const char *cp = list;

    while (cp && *cp) {
        size_t n = strcspn(cp, " ");

        if (n == len && strncasecmp(cp, mech, len) == 0)
            return 1;
        cp += n;
        cp += strspn(cp, " ");
    }
    return 0;
}

/* sasl_reason_clean - make a backend's reason printable ASCII */

static void sasl_reason_clean(VSTRING *reply)
{
    char *cp = vstring_str(reply);

    for (; *cp; cp++)
        if ((unsigned char)*cp < 0x20 || (unsigned char)*cp >= 0x7f)
            *cp = '?';
    if (vstring_len(reply) > 200)
        vstring_truncate(reply, 200);
}

/* sasl_result - check a backend's answer */

static int sasl_result(SASL_SERVER *server, int status, VSTRING *reply)
{
    const char *user;

    switch (status) {
    case SASL_AUTH_MORE:
        if (!sasl_base64_valid(vstring_str(reply))) {
            msg_warn("SASL backend sent a challenge that is not base64");
            vstring_strcpy(reply, "internal authentication error");
            return SASL_AUTH_TEMP;
        }
        return status;
    case SASL_AUTH_DONE:
        user = server->username(server);
        if (user == NULL || *user == 0 || strlen(user) > SASL_USERNAME_MAX) {
            msg_warn("SASL backend authenticated a user without a usable name");
            vstring_strcpy(reply, "internal authentication error");
            return SASL_AUTH_TEMP;
        }
        for (const char *cp = user; *cp; cp++) {
            if ((unsigned char)*cp < 0x20 || (unsigned char)*cp == 0x7f) {
                msg_warn("SASL backend authenticated a user name with control characters");
                vstring_strcpy(reply, "internal authentication error");
                return SASL_AUTH_TEMP;
            }
        }
        vstring_reset(reply);
        return status;
    case SASL_AUTH_FAIL:
    case SASL_AUTH_FORM:
    case SASL_AUTH_TEMP:
        if (vstring_len(reply) == 0)
            vstring_strcpy(reply, "authentication failure");
        sasl_reason_clean(reply);
        return status;
    default:
        msg_warn("SASL backend returned unknown status %d", status);
        vstring_strcpy(reply, "internal authentication error");
        return SASL_AUTH_TEMP;
    }
}

SASL_SERVER_IMPL *sasl_srv_init(const char *type, const char *path, const char *config_path,
                                int timeout, VSTRING *why)
{
    if (strcasecmp(type, "cyrus") == 0)
        return sasl_cyrus_init(path, config_path, why);
    if (strcasecmp(type, "dovecot") == 0)
        return sasl_dovecot_init(path, timeout, why);
    vstring_sprintf(why, "unsupported SASL server implementation: %.100s", type);
    return NULL;
}

void sasl_srv_done(SASL_SERVER_IMPL *impl)
{
    if (impl && impl->done)
        impl->done(impl);
}

SASL_SERVER *sasl_srv_create(SASL_SERVER_IMPL *impl, const SASL_SERVER_PROPS *props, VSTRING *why)
{
    return impl->create(impl, props, why);
}

const char *sasl_srv_mechs(SASL_SERVER *server)
{
    return server->mechs(server);
}

int sasl_srv_first(SASL_SERVER *server, const char *mech, const char *init, VSTRING *reply)
{
    vstring_reset(reply);
    if (!sasl_mech_valid(mech) || !sasl_mech_offered(server, mech)) {
        vstring_strcpy(reply, "Unsupported authentication mechanism");
        return SASL_AUTH_FORM;
    }
    if (init && strcmp(init, "=") != 0 && (*init == 0 || !sasl_base64_valid(init))) {
        vstring_strcpy(reply, "Invalid base64 data in initial response");
        return SASL_AUTH_FORM;
    }
    return sasl_result(server, server->first(server, mech, init, reply), reply);
}

int sasl_srv_next(SASL_SERVER *server, const char *response, VSTRING *reply)
{
    vstring_reset(reply);
    if (!sasl_base64_valid(response)) {
        vstring_strcpy(reply, "Invalid base64 data in continued response");
        return SASL_AUTH_FORM;
    }
    return sasl_result(server, server->next(server, response, reply), reply);
}

const char *sasl_srv_username(SASL_SERVER *server)
{
    return server->username(server);
}

void sasl_srv_free(SASL_SERVER *server)
{
    if (server)
        server->free(server);
}
