/*
 * NAME
 *	sasl_dovecot - Dovecot's authentication service as a SASL backend
 * SYNOPSIS
 *	#include "sasl_srv.h"
 *	#include "sasl_dovecot.h"
 *
 *	SASL_SERVER_IMPL *sasl_dovecot_init(const char *path, int timeout,
 *			VSTRING *why)
 *	int sasl_dovecot_parse(const char *line, SASL_DOVECOT_REPLY *reply)
 *	int sasl_dovecot_mech(const char *line, VSTRING *name, int *flags)
 *	int sasl_dovecot_unescape(VSTRING *out, const char *in)
 *	int sasl_dovecot_mech_allowed(int flags, int sec_options)
 * DESCRIPTION
 *	sasl_dovecot_init() makes a backend that talks to the Dovecot
 *	authentication server at path: a UNIX-domain socket (a relative
 *	path is taken from the current directory, which for a daemon is
 *	the queue directory, also inside a chroot), or inet:host:port.
 *	Nothing is connected yet.
 *
 *	The connection is made when a session first needs it and kept for
 *	the following sessions of the process: the client sends "VERSION
 *	1 1" and "CPID pid", the server its version (major 1 required),
 *	its mechanisms with their properties, and "DONE". A connection
 *	that fails is dropped and made again for the next session; a
 *	request that finds a kept connection gone is retried once on a
 *	new one.
 *
 *	Each exchange is one request id: "AUTH id MECH service=NAME
 *	nologin lip= rip= lport= rport= [secured] [resp=BASE64]", then
 *	"CONT id BASE64" for each further response, until the server says
 *	OK (the user is in user=), FAIL (reason= when it gives one; temp
 *	for a failure of its own) or CONT with a challenge. Everything the
 *	SMTP client sent has been checked to be base64 before it gets
 *	here, and every value we send is checked to hold no TAB or line
 *	end, so that a client can never add a parameter or a command of
 *	its own. Every read and write is bounded by the timeout, and every
 *	line read by SASL_DOVECOT_LINE_MAX.
 *
 *	Mechanisms are offered as the security options allow (see
 *	sasl_dovecot_mech_allowed): noplaintext, noanonymous,
 *	nodictionary and noactive leave out mechanisms that Dovecot marks
 *	plaintext, anonymous, dictionary or active; mutual_auth and
 *	forward_secrecy keep only those marked mutual-auth or
 *	forward-secrecy; private mechanisms are never offered.
 * DIAGNOSTICS
 *	Problems with the service are logged as warnings ("SASL: Connect
 *	to private/auth failed: ...", "SASL: protocol error ...") and
 *	reported to the caller as SASL_AUTH_TEMP.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"
#include "sasl_dovecot.h"
#include "sasl_srv.h"
#include "sock.h"
#include "vstream.h"
#include "vstring.h"

#define SASL_DOVECOT_MAJOR 1
#define SASL_DOVECOT_MINOR 1
#define SASL_DOVECOT_HANDSHAKE_MAX 1000 /* lines before DONE */
#define SASL_DOVECOT_ID_MAX 4294967295UL

typedef struct SASL_DOVECOT_IMPL {
    SASL_SERVER_IMPL impl;
    char *path;
    int timeout;
    VSTREAM *conn; /* NULL when not connected */
    int fresh;     /* conn was made for the current request */
    ARGV *mech_names;
    int mech_flags[SASL_DOVECOT_MECH_MAX];
    unsigned long last_id;
} SASL_DOVECOT_IMPL;

typedef struct SASL_DOVECOT_SERVER {
    SASL_SERVER server;
    SASL_DOVECOT_IMPL *di;
    VSTRING *mechs;   /* offered, space-separated */
    VSTRING *params;  /* "service=smtp\tnologin..." */
    unsigned long id; /* current request, 0 when none */
    char *username;
    VSTRING *line;
    SASL_DOVECOT_REPLY reply;
} SASL_DOVECOT_SERVER;

/* ---- parsers ---- */

int sasl_dovecot_unescape(VSTRING *out, const char *in)
{
    vstring_reset(out);
    for (const char *cp = in; *cp; cp++) {
        if (*cp != '\001') {
            vstring_addch(out, *cp);
            continue;
        }
        switch (*++cp) {
        case 0:
            return -1;
        case '0':
            return -1; /* a NUL has no place in a C string */
        case '1':
            vstring_addch(out, '\001');
            break;
        case 't':
            vstring_addch(out, '\t');
            break;
        case 'r':
            vstring_addch(out, '\r');
            break;
        case 'n':
        case 'l':
            vstring_addch(out, '\n');
            break;
        default:
            vstring_addch(out, *cp);
            break;
        }
    }
    return 0;
}

/* sasl_dovecot_id - a request id; 0 for a malformed one */

static unsigned long sasl_dovecot_id(const char *text)
{
    unsigned long id = 0;
    size_t len = strlen(text);

    if (len == 0 || len > 10 || text[0] == '0')
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return 0;
        id = id * 10 + (unsigned long)(text[i] - '0');
    }
    return id <= SASL_DOVECOT_ID_MAX ? id : 0;
}

int sasl_dovecot_parse(const char *line, SASL_DOVECOT_REPLY *reply)
{
    ARGV *fields;
    int type;
    int status = SASL_DOVECOT_BAD;

    vstring_reset(reply->data);
    vstring_reset(reply->user);
    vstring_reset(reply->reason);
    reply->temp = 0;
    reply->id = 0;
    fields = argv_alloc(8);
    for (const char *cp = line;;) {
        size_t n = strcspn(cp, "\t");

        argv_addn(fields, cp, n);
        if (cp[n] == 0)
            break;
        cp += n + 1;
    }
    if (fields->argc < 2)
        goto done;
    if (strcmp(fields->argv[0], "OK") == 0)
        type = SASL_DOVECOT_OK;
    else if (strcmp(fields->argv[0], "CONT") == 0)
        type = SASL_DOVECOT_CONT;
    else if (strcmp(fields->argv[0], "FAIL") == 0)
        type = SASL_DOVECOT_FAIL;
    else
        goto done;
    if ((reply->id = sasl_dovecot_id(fields->argv[1])) == 0)
        goto done;
    if (type == SASL_DOVECOT_CONT) {
        if (fields->argc != 3 || !sasl_base64_valid(fields->argv[2]))
            goto done;
        vstring_strcpy(reply->data, fields->argv[2]);
        status = type;
        goto done;
    }
    for (int i = 2; i < fields->argc; i++) {
        const char *param = fields->argv[i];

        if (strncmp(param, "user=", 5) == 0) {
            if (sasl_dovecot_unescape(reply->user, param + 5) < 0)
                goto done;
        } else if (strncmp(param, "reason=", 7) == 0) {
            if (sasl_dovecot_unescape(reply->reason, param + 7) < 0)
                goto done;
        } else if (strcmp(param, "temp") == 0) {
            reply->temp = 1;
        }
    }
    status = type;

done:
    argv_free(fields);
    return status;
}

static const struct {
    const char *name;
    int bit;
} sasl_dovecot_flag_names[] = {
    {"anonymous", SASL_DOVECOT_MECH_ANONYMOUS},
    {"plaintext", SASL_DOVECOT_MECH_PLAINTEXT},
    {"dictionary", SASL_DOVECOT_MECH_DICTIONARY},
    {"active", SASL_DOVECOT_MECH_ACTIVE},
    {"forward-secrecy", SASL_DOVECOT_MECH_FORWARD_SECRECY},
    {"mutual-auth", SASL_DOVECOT_MECH_MUTUAL_AUTH},
    {"private", SASL_DOVECOT_MECH_PRIVATE},
    {NULL, 0},
};

int sasl_dovecot_mech(const char *line, VSTRING *name, int *flags)
{
    ARGV *fields = argv_split(line, "\t");
    int status = -1;
    size_t len;

    *flags = 0;
    vstring_reset(name);
    if (fields->argc < 2 || strcmp(fields->argv[0], "MECH") != 0)
        goto done;
    len = strlen(fields->argv[1]);
    if (len == 0 || len > SASL_MECH_NAME_MAX)
        goto done;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)fields->argv[1][i];

        if (!(isascii(c) && (isalnum(c) || c == '-' || c == '_')))
            goto done;
        vstring_addch(name, (char)toupper(c));
    }
    for (int i = 2; i < fields->argc; i++)
        for (int j = 0; sasl_dovecot_flag_names[j].name; j++)
            if (strcmp(fields->argv[i], sasl_dovecot_flag_names[j].name) == 0)
                *flags |= sasl_dovecot_flag_names[j].bit;
    status = 0;

done:
    argv_free(fields);
    return status;
}

int sasl_dovecot_mech_allowed(int flags, int sec_options)
{
    if (flags & SASL_DOVECOT_MECH_PRIVATE)
        return 0;
    if ((sec_options & SASL_SEC_OPT_NOPLAINTEXT) && (flags & SASL_DOVECOT_MECH_PLAINTEXT))
        return 0;
    if ((sec_options & SASL_SEC_OPT_NOANONYMOUS) && (flags & SASL_DOVECOT_MECH_ANONYMOUS))
        return 0;
    if ((sec_options & SASL_SEC_OPT_NODICTIONARY) && (flags & SASL_DOVECOT_MECH_DICTIONARY))
        return 0;
    if ((sec_options & SASL_SEC_OPT_NOACTIVE) && (flags & SASL_DOVECOT_MECH_ACTIVE))
        return 0;
    if ((sec_options & SASL_SEC_OPT_MUTUAL_AUTH) && !(flags & SASL_DOVECOT_MECH_MUTUAL_AUTH))
        return 0;
    if ((sec_options & SASL_SEC_OPT_FORWARD_SECRECY) &&
        !(flags & SASL_DOVECOT_MECH_FORWARD_SECRECY))
        return 0;
    return 1;
}

/* ---- the connection ---- */

static void sasl_dovecot_disconnect(SASL_DOVECOT_IMPL *di)
{
    if (di->conn) {
        vstream_fclose(di->conn);
        di->conn = NULL;
    }
    argv_truncate(di->mech_names, 0);
}

/* sasl_dovecot_read - one line without its LF; 0, or -1 (EOF, timeout, too long) */

static int sasl_dovecot_read(VSTREAM *fp, VSTRING *line)
{
    if (vstream_get_line(fp, line, SASL_DOVECOT_LINE_MAX) != '\n')
        return -1;
    vstring_truncate(line, vstring_len(line) - 1);
    return 0;
}

/* sasl_dovecot_connect - connect and read the handshake; 0 or -1 (logged) */

static int sasl_dovecot_connect(SASL_DOVECOT_IMPL *di)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    VSTRING *name = vstring_alloc(20);
    SOCK_ENDPOINT ep;
    int fd;
    int flags;
    int got_version = 0;
    int status = -1;

    if (strncmp(di->path, "inet:", 5) == 0) {
        if (sock_endpoint_parse(di->path, NULL, &ep, why) < 0) {
            msg_warn("SASL: bad authentication server address %s: %s", di->path, vstring_str(why));
            goto done;
        }
        fd = inet_connect(ep.host, ep.port, di->timeout, why);
    } else {
        fd = unix_connect(di->path, di->timeout, why);
    }
    if (fd < 0) {
        msg_warn("SASL: Connect to %s failed: %s", di->path, vstring_str(why));
        goto done;
    }
    di->conn = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(di->conn, di->path);
    vstream_set_timeout(di->conn, di->timeout);
    vstream_fprintf(di->conn, "VERSION\t%d\t%d\nCPID\t%ld\n", SASL_DOVECOT_MAJOR,
                    SASL_DOVECOT_MINOR, (long)getpid());
    if (vstream_fflush(di->conn) != 0) {
        msg_warn("SASL: cannot talk to %s: %m", di->path);
        goto done;
    }
    for (int n = 0;; n++) {
        if (n >= SASL_DOVECOT_HANDSHAKE_MAX || sasl_dovecot_read(di->conn, line) < 0) {
            msg_warn("SASL: %s: %s during the handshake", di->path,
                     vstream_ftimeout(di->conn) ? "timeout" : "protocol error or lost connection");
            goto done;
        }
        const char *text = vstring_str(line);

        if (strncmp(text, "VERSION\t", 8) == 0) {
            if (atoi(text + 8) != SASL_DOVECOT_MAJOR || strncmp(text + 8, "1\t", 2) != 0) {
                msg_warn("SASL: %s: authentication server protocol version %.20s is not "
                         "supported",
                         di->path, text + 8);
                goto done;
            }
            got_version = 1;
        } else if (strncmp(text, "MECH\t", 5) == 0) {
            if (sasl_dovecot_mech(text, name, &flags) < 0) {
                msg_warn("SASL: %s: malformed mechanism line ignored", di->path);
                continue;
            }
            if (di->mech_names->argc < SASL_DOVECOT_MECH_MAX) {
                di->mech_flags[di->mech_names->argc] = flags;
                argv_add(di->mech_names, vstring_str(name));
            }
        } else if (strcmp(text, "DONE") == 0) {
            break;
        }
        /* SPID, CUID, COOKIE and anything new: not needed */
    }
    if (!got_version) {
        msg_warn("SASL: %s: no protocol version in the handshake", di->path);
        goto done;
    }
    status = 0;

done:
    if (status < 0)
        sasl_dovecot_disconnect(di);
    vstring_free(why);
    vstring_free(line);
    vstring_free(name);
    return status;
}

/* ---- one session ---- */

/* sasl_dovecot_safe - a value we may put in a protocol line */

static int sasl_dovecot_safe(const char *value)
{
    return value && strpbrk(value, "\t\r\n\001") == NULL;
}

static const char *sasl_dovecot_mechs(SASL_SERVER *server)
{
    return vstring_str(((SASL_DOVECOT_SERVER *)server)->mechs);
}

static void sasl_dovecot_filter(SASL_DOVECOT_SERVER *ds, int sec_options)
{
    SASL_DOVECOT_IMPL *di = ds->di;

    vstring_reset(ds->mechs);
    for (int i = 0; i < di->mech_names->argc; i++) {
        if (!sasl_dovecot_mech_allowed(di->mech_flags[i], sec_options))
            continue;
        if (vstring_len(ds->mechs))
            vstring_addch(ds->mechs, ' ');
        vstring_strcat(ds->mechs, di->mech_names->argv[i]);
    }
}

/* sasl_dovecot_answer - read the answer to request ds->id; SASL_AUTH_*, or -1 when the connection
 * failed */

static int sasl_dovecot_answer(SASL_DOVECOT_SERVER *ds, VSTRING *reply)
{
    SASL_DOVECOT_IMPL *di = ds->di;
    int type;

    if (sasl_dovecot_read(di->conn, ds->line) < 0) {
        msg_warn("SASL: %s: %s", di->path,
                 vstream_ftimeout(di->conn) ? "timeout waiting for the authentication server"
                                            : "Connection lost to authentication server");
        sasl_dovecot_disconnect(di);
        vstring_strcpy(reply, "Connection lost to authentication server");
        return -1;
    }
    type = sasl_dovecot_parse(vstring_str(ds->line), &ds->reply);
    if (type == SASL_DOVECOT_BAD || ds->reply.id != ds->id) {
        msg_warn("SASL: %s: protocol error in reply: %.100s", di->path, vstring_str(ds->line));
        sasl_dovecot_disconnect(di);
        vstring_strcpy(reply, "Internal authentication server error");
        return SASL_AUTH_TEMP;
    }
    switch (type) {
    case SASL_DOVECOT_CONT:
        vstring_strcpy(reply, vstring_str(ds->reply.data));
        return SASL_AUTH_MORE;
    case SASL_DOVECOT_OK:
        ds->id = 0;
        if (vstring_len(ds->reply.user) == 0) {
            msg_warn("SASL: %s: authentication succeeded without a user name", di->path);
            vstring_strcpy(reply, "Internal authentication server error");
            return SASL_AUTH_TEMP;
        }
        if (ds->username)
            myfree(ds->username);
        ds->username = mystrdup(vstring_str(ds->reply.user));
        return SASL_AUTH_DONE;
    default:
        ds->id = 0;
        if (vstring_len(ds->reply.reason))
            vstring_strcpy(reply, vstring_str(ds->reply.reason));
        else
            vstring_strcpy(reply, "authentication failure");
        return ds->reply.temp ? SASL_AUTH_TEMP : SASL_AUTH_FAIL;
    }
}

/* sasl_dovecot_request - send a request line and read the answer */

static int sasl_dovecot_request(SASL_DOVECOT_SERVER *ds, VSTRING *request, VSTRING *reply)
{
    SASL_DOVECOT_IMPL *di = ds->di;
    int status;

    if (di->conn == NULL) {
        vstring_strcpy(reply, "Connection lost to authentication server");
        return SASL_AUTH_TEMP;
    }
    vstream_fwrite(di->conn, vstring_str(request), vstring_len(request));
    if (vstream_fflush(di->conn) != 0) {
        msg_warn("SASL: %s: cannot send a request: %m", di->path);
        sasl_dovecot_disconnect(di);
        vstring_strcpy(reply, "Connection lost to authentication server");
        return -1;
    }
    status = sasl_dovecot_answer(ds, reply);
    return status;
}

static int sasl_dovecot_first(SASL_SERVER *server, const char *mech, const char *init,
                              VSTRING *reply)
{
    SASL_DOVECOT_SERVER *ds = (SASL_DOVECOT_SERVER *)server;
    SASL_DOVECOT_IMPL *di = ds->di;
    VSTRING *request = vstring_alloc(200);
    char *upper = mystrdup(mech);
    int status;

    for (char *cp = upper; *cp; cp++)
        *cp = (char)toupper((unsigned char)*cp);
    for (int attempt = 0;; attempt++) {
        int reused = di->conn != NULL;

        if (di->conn == NULL && sasl_dovecot_connect(di) < 0) {
            vstring_strcpy(reply, "Connection lost to authentication server");
            status = SASL_AUTH_TEMP;
            break;
        }
        if (++di->last_id > SASL_DOVECOT_ID_MAX)
            di->last_id = 1;
        ds->id = di->last_id;
        vstring_sprintf(request, "AUTH\t%lu\t%s\t%s", ds->id, upper, vstring_str(ds->params));
        if (init != NULL)
            vstring_sprintf_append(request, "\tresp=%s", strcmp(init, "=") == 0 ? "" : init);
        vstring_addch(request, '\n');
        status = sasl_dovecot_request(ds, request, reply);
        if (status >= 0)
            break;
        /* the kept connection went away: try once more on a new one */
        if (!reused || attempt > 0) {
            status = SASL_AUTH_TEMP;
            break;
        }
    }
    if (status != SASL_AUTH_MORE)
        ds->id = 0;
    myfree(upper);
    vstring_free(request);
    return status;
}

static int sasl_dovecot_next(SASL_SERVER *server, const char *response, VSTRING *reply)
{
    SASL_DOVECOT_SERVER *ds = (SASL_DOVECOT_SERVER *)server;
    VSTRING *request;
    int status;

    if (ds->id == 0) {
        vstring_strcpy(reply, "no authentication in progress");
        return SASL_AUTH_FORM;
    }
    request = vstring_alloc(100);
    vstring_sprintf(request, "CONT\t%lu\t%s\n", ds->id, response);
    status = sasl_dovecot_request(ds, request, reply);
    if (status < 0)
        status = SASL_AUTH_TEMP;
    if (status != SASL_AUTH_MORE)
        ds->id = 0;
    vstring_free(request);
    return status;
}

static const char *sasl_dovecot_username(SASL_SERVER *server)
{
    return ((SASL_DOVECOT_SERVER *)server)->username;
}

static void sasl_dovecot_free(SASL_SERVER *server)
{
    SASL_DOVECOT_SERVER *ds = (SASL_DOVECOT_SERVER *)server;

    vstring_free(ds->mechs);
    vstring_free(ds->params);
    vstring_free(ds->line);
    vstring_free(ds->reply.data);
    vstring_free(ds->reply.user);
    vstring_free(ds->reply.reason);
    if (ds->username)
        myfree(ds->username);
    myfree(ds);
}

/* sasl_dovecot_param - append "\tname=value" when value is usable */

static void sasl_dovecot_param(VSTRING *buf, const char *name, const char *value)
{
    if (value && *value && sasl_dovecot_safe(value))
        vstring_sprintf_append(buf, "\t%s=%s", name, value);
}

static SASL_SERVER *sasl_dovecot_create(SASL_SERVER_IMPL *impl, const SASL_SERVER_PROPS *props,
                                        VSTRING *why)
{
    SASL_DOVECOT_IMPL *di = (SASL_DOVECOT_IMPL *)impl;
    SASL_DOVECOT_SERVER *ds;

    if (!sasl_dovecot_safe(props->service) || *props->service == 0) {
        vstring_sprintf(why, "bad SASL service name");
        return NULL;
    }
    if (di->conn == NULL && sasl_dovecot_connect(di) < 0) {
        vstring_sprintf(why, "cannot connect to the authentication server %s", di->path);
        return NULL;
    }
    ds = mycalloc(1, sizeof(*ds));
    ds->server.mechs = sasl_dovecot_mechs;
    ds->server.first = sasl_dovecot_first;
    ds->server.next = sasl_dovecot_next;
    ds->server.username = sasl_dovecot_username;
    ds->server.free = sasl_dovecot_free;
    ds->di = di;
    ds->mechs = vstring_alloc(50);
    ds->params = vstring_alloc(100);
    ds->line = vstring_alloc(100);
    ds->reply.data = vstring_alloc(100);
    ds->reply.user = vstring_alloc(50);
    ds->reply.reason = vstring_alloc(50);
    vstring_sprintf(ds->params, "service=%s\tnologin", props->service);
    sasl_dovecot_param(ds->params, "lip", props->local_addr);
    sasl_dovecot_param(ds->params, "rip", props->client_addr);
    sasl_dovecot_param(ds->params, "lport", props->local_port);
    sasl_dovecot_param(ds->params, "rport", props->client_port);
    if (props->tls_active)
        vstring_strcat(ds->params, "\tsecured");
    sasl_dovecot_filter(ds, props->sec_options);
    return &ds->server;
}

static void sasl_dovecot_done(SASL_SERVER_IMPL *impl)
{
    SASL_DOVECOT_IMPL *di = (SASL_DOVECOT_IMPL *)impl;

    sasl_dovecot_disconnect(di);
    argv_free(di->mech_names);
    myfree(di->path);
    myfree(di);
}

SASL_SERVER_IMPL *sasl_dovecot_init(const char *path, int timeout, VSTRING *why)
{
    SASL_DOVECOT_IMPL *di;

    if (path == NULL || *path == 0) {
        vstring_strcpy(why, "no Dovecot authentication server path (smtpd_sasl_path)");
        return NULL;
    }
    di = mycalloc(1, sizeof(*di));
    di->impl.type = "dovecot";
    di->impl.create = sasl_dovecot_create;
    di->impl.done = sasl_dovecot_done;
    di->path = mystrdup(path);
    di->timeout = timeout > 0 ? timeout : 10;
    di->mech_names = argv_alloc(8);
    return &di->impl;
}
