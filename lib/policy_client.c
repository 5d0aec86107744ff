/*
 * NAME
 *	policy_client - policy delegation protocol client
 * SYNOPSIS
 *	#include "policy_client.h"
 *
 *	void policy_spec_init(POLICY_SPEC *spec)
 *	int policy_spec_parse(const char *text, POLICY_SPEC *spec, VSTRING *why)
 *	void policy_spec_free(POLICY_SPEC *spec)
 *	POLICY_CLIENT *policy_client_create(const POLICY_SPEC *spec)
 *	const POLICY_SPEC *policy_client_spec(POLICY_CLIENT *pc)
 *	int policy_client_request(POLICY_CLIENT *pc, ARGV *attrs,
 *			VSTRING *action, VSTRING *why)
 *	void policy_client_free(POLICY_CLIENT *pc)
 *	int policy_reply_line(const char *line, size_t len, VSTRING *name,
 *			VSTRING *value)
 * DESCRIPTION
 *	The contract is in policy_client.h. A client owns at most one
 *	connection (a VSTREAM with the service's timeout); it remembers
 *	when the connection was made, when it was last used and how many
 *	requests it carried, and drops it when a limit is reached or
 *	anything goes wrong, so that the next request starts afresh.
 *
 *	A request is written in one buffered burst and flushed; the reply
 *	is read line by line with vstream_get_line() and a line limit, so
 *	a hostile or broken server can neither make the client allocate
 *	without bound nor keep it waiting longer than the timeout per read.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "mymalloc.h"
#include "policy_client.h"
#include "sock.h"
#include "vstream.h"

struct POLICY_CLIENT {
    POLICY_SPEC spec;
    SOCK_ENDPOINT ep;
    int ep_ok;
    VSTREAM *stream;
    time_t created;
    time_t last_used;
    long requests;
};

void policy_spec_init(POLICY_SPEC *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->timeout = 100;
    spec->max_idle = 300;
    spec->max_ttl = 1000;
    spec->retry_delay = 1;
    spec->try_limit = 2;
    spec->request_limit = 0;
}

void policy_spec_free(POLICY_SPEC *spec)
{
    if (spec->endpoint)
        myfree(spec->endpoint);
    if (spec->default_action)
        myfree(spec->default_action);
    if (spec->policy_context)
        myfree(spec->policy_context);
    spec->endpoint = spec->default_action = spec->policy_context = NULL;
}

static void policy_spec_set(char **field, const char *value, size_t len)
{
    if (*field)
        myfree(*field);
    *field = mystrndup(value, len);
}

/* policy_number - a non-negative number with an optional time unit */

static int policy_number(const char *text, size_t len, int time_unit, long *result)
{
    long value = 0;
    size_t i = 0;
    long mult = 1;

    if (len == 0)
        return -1;
    for (; i < len && isdigit((unsigned char)text[i]); i++) {
        if (value > 100000000)
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    if (i == 0)
        return -1;
    if (i < len) {
        if (!time_unit || i + 1 != len)
            return -1;
        switch (text[i]) {
        case 's':
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        case 'w':
            mult = 604800;
            break;
        default:
            return -1;
        }
    }
    *result = value * mult;
    return 0;
}

/* policy_endpoint_ok - inet:host:port or unix:path, syntax only */

static int policy_endpoint_ok(const char *endpoint, VSTRING *why)
{
    SOCK_ENDPOINT ep;

    if (strncmp(endpoint, "inet:", 5) != 0 && strncmp(endpoint, "unix:", 5) != 0) {
        if (why)
            vstring_sprintf(why,
                            "bad policy service \"%.100s\": expected inet:host:port or "
                            "unix:pathname",
                            endpoint);
        return -1;
    }
    if (sock_endpoint_parse(endpoint, NULL, &ep, why) < 0)
        return -1;
    if (ep.type == SOCK_EP_INET && *ep.host == 0) {
        if (why)
            vstring_sprintf(why, "bad policy service \"%.100s\": no host", endpoint);
        return -1;
    }
    return 0;
}

/* policy_setting - one "name=value" of the brace form */

static int policy_setting(const char *item, size_t len, POLICY_SPEC *spec, VSTRING *why)
{
    static const struct {
        const char *name;
        size_t off;
        int time_unit;
    } numbers[] = {
        {"timeout", offsetof(POLICY_SPEC, timeout), 1},
        {"max_idle", offsetof(POLICY_SPEC, max_idle), 1},
        {"max_ttl", offsetof(POLICY_SPEC, max_ttl), 1},
        {"retry_delay", offsetof(POLICY_SPEC, retry_delay), 1},
        {"try_limit", offsetof(POLICY_SPEC, try_limit), 0},
        {"request_limit", offsetof(POLICY_SPEC, request_limit), 0},
    };
    const char *eq = memchr(item, '=', len);
    size_t nlen;
    const char *value;
    size_t vlen;

    if (eq == NULL)
        goto bad;
    nlen = (size_t)(eq - item);
    value = eq + 1;
    vlen = len - nlen - 1;
    while (nlen > 0 && (item[nlen - 1] == ' ' || item[nlen - 1] == '\t'))
        nlen--;
    while (vlen > 0 && (*value == ' ' || *value == '\t'))
        value++, vlen--;
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        if (strlen(numbers[i].name) == nlen && strncmp(numbers[i].name, item, nlen) == 0) {
            long *field = (long *)((char *)spec + numbers[i].off);

            if (policy_number(value, vlen, numbers[i].time_unit, field) < 0)
                goto bad;
            if (numbers[i].off == offsetof(POLICY_SPEC, try_limit) && *field < 1)
                goto bad;
            if (numbers[i].off == offsetof(POLICY_SPEC, timeout) && *field < 1)
                goto bad;
            return 0;
        }
    }
    if (nlen == 14 && strncmp(item, "default_action", 14) == 0 && vlen > 0) {
        policy_spec_set(&spec->default_action, value, vlen);
        return 0;
    }
    if (nlen == 14 && strncmp(item, "policy_context", 14) == 0) {
        policy_spec_set(&spec->policy_context, value, vlen);
        return 0;
    }

bad:
    if (why)
        vstring_sprintf(why, "bad policy service setting \"%.*s\"", (int)(len > 100 ? 100 : len),
                        item);
    return -1;
}

int policy_spec_parse(const char *text, POLICY_SPEC *spec, VSTRING *why)
{
    size_t len = strlen(text);
    const char *cp;
    const char *end;
    int first = 1;

    if (text[0] != '{') {
        if (policy_endpoint_ok(text, why) < 0)
            return -1;
        policy_spec_set(&spec->endpoint, text, len);
        return 0;
    }
    if (len < 2 || text[len - 1] != '}' || memchr(text + 1, '{', len - 2) ||
        memchr(text + 1, '}', len - 2)) {
        if (why)
            vstring_sprintf(why, "bad policy service \"%.100s\": unbalanced braces", text);
        return -1;
    }
    cp = text + 1;
    end = text + len - 1;
    while (cp < end) {
        const char *stop;
        size_t ilen;

        while (cp < end && strchr(", \t\r\n", *cp))
            cp++;
        if (cp >= end)
            break;
        if (first) {
            stop = cp;
            while (stop < end && !strchr(", \t\r\n", *stop))
                stop++;
        } else {
            stop = memchr(cp, ',', (size_t)(end - cp));
            if (stop == NULL)
                stop = end;
        }
        ilen = (size_t)(stop - cp);
        while (ilen > 0 && strchr(" \t\r\n", cp[ilen - 1]))
            ilen--;
        if (first) {
            char *endpoint = mystrndup(cp, ilen);
            int rc = policy_endpoint_ok(endpoint, why);

            if (rc == 0)
                policy_spec_set(&spec->endpoint, endpoint, ilen);
            myfree(endpoint);
            if (rc < 0)
                return -1;
            first = 0;
        } else if (policy_setting(cp, ilen, spec, why) < 0) {
            return -1;
        }
        cp = stop;
    }
    if (first) {
        if (why)
            vstring_sprintf(why, "bad policy service \"%.100s\": no endpoint", text);
        return -1;
    }
    return 0;
}

POLICY_CLIENT *policy_client_create(const POLICY_SPEC *spec)
{
    POLICY_CLIENT *pc = mycalloc(1, sizeof(*pc));

    policy_spec_init(&pc->spec);
    pc->spec = *spec;
    pc->spec.endpoint = mystrdup(spec->endpoint ? spec->endpoint : "");
    pc->spec.default_action = spec->default_action ? mystrdup(spec->default_action) : NULL;
    pc->spec.policy_context = spec->policy_context ? mystrdup(spec->policy_context) : NULL;
    pc->ep_ok = sock_endpoint_parse(pc->spec.endpoint, NULL, &pc->ep, NULL) == 0;
    if (pc->spec.try_limit < 1)
        pc->spec.try_limit = 1;
    return pc;
}

const POLICY_SPEC *policy_client_spec(POLICY_CLIENT *pc)
{
    return &pc->spec;
}

static void policy_client_close(POLICY_CLIENT *pc)
{
    if (pc->stream) {
        vstream_fclose(pc->stream);
        pc->stream = NULL;
    }
}

void policy_client_free(POLICY_CLIENT *pc)
{
    policy_client_close(pc);
    policy_spec_free(&pc->spec);
    myfree(pc);
}

static int policy_client_connect(POLICY_CLIENT *pc, VSTRING *why)
{
    int fd;

    if (!pc->ep_ok) {
        vstring_sprintf(why, "bad endpoint %s", pc->spec.endpoint);
        return -1;
    }
    if (pc->ep.type == SOCK_EP_UNIX)
        fd = unix_connect(pc->ep.path, (int)pc->spec.timeout, why);
    else
        fd = inet_connect(pc->ep.host, pc->ep.port, (int)pc->spec.timeout, why);
    if (fd < 0)
        return -1;
    pc->stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(pc->stream, pc->spec.endpoint);
    vstream_set_timeout(pc->stream, (int)pc->spec.timeout);
    pc->created = time(NULL);
    pc->requests = 0;
    return 0;
}

int policy_reply_line(const char *line, size_t len, VSTRING *name, VSTRING *value)
{
    const char *eq;
    size_t nlen;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return 0;
    if ((eq = memchr(line, '=', len)) == NULL || eq == line)
        return -1;
    nlen = (size_t)(eq - line);
    for (size_t i = 0; i < nlen; i++)
        if (!isalnum((unsigned char)line[i]) && line[i] != '_' && line[i] != '-')
            return -1;
    if (memchr(line, 0, len))
        return -1;
    vstring_strncpy(name, line, nlen);
    vstring_strncpy(value, eq + 1, len - nlen - 1);
    return 1;
}

/* policy_client_send - write one request */

static int policy_client_send(POLICY_CLIENT *pc, ARGV *attrs)
{
    for (int i = 0; i < attrs->argc; i++) {
        for (const unsigned char *cp = (const unsigned char *)attrs->argv[i]; *cp; cp++)
            vstream_putc(*cp < ' ' || *cp == 0x7f ? '?' : *cp, pc->stream);
        vstream_putc('\n', pc->stream);
    }
    vstream_putc('\n', pc->stream);
    return vstream_fflush(pc->stream) == 0 ? 0 : -1;
}

/* policy_client_receive - read one reply; 0 with action, -1 with why */

static int policy_client_receive(POLICY_CLIENT *pc, VSTRING *action, VSTRING *why)
{
    VSTRING *line = vstring_alloc(100);
    VSTRING *name = vstring_alloc(20);
    VSTRING *value = vstring_alloc(100);
    int count = 0;
    int rc = -1;

    vstring_reset(action);
    for (;;) {
        int ch = vstream_get_line(pc->stream, line, POLICY_LINE_MAX + 1);
        int status;

        if (ch == VSTREAM_EOF || ch != '\n') {
            if (vstream_ftimeout(pc->stream))
                vstring_strcpy(why, "timeout while reading the reply");
            else if (ch == VSTREAM_EOF || vstream_feof(pc->stream))
                vstring_strcpy(why, "connection closed before the end of the reply");
            else
                vstring_strcpy(why, "reply line too long");
            break;
        }
        vstring_truncate(line, vstring_len(line) - 1);
        status = policy_reply_line(vstring_str(line), vstring_len(line), name, value);
        if (status < 0) {
            vstring_sprintf(why, "malformed reply line \"%.100s\"", vstring_str(line));
            break;
        }
        if (status == 0) {
            if (vstring_len(action) == 0)
                vstring_strcpy(why, "reply has no action attribute");
            else
                rc = 0;
            break;
        }
        if (++count > POLICY_ATTR_MAX) {
            vstring_strcpy(why, "too many attributes in the reply");
            break;
        }
        if (strcmp(vstring_str(name), "action") == 0) {
            if (vstring_len(value) == 0) {
                vstring_strcpy(why, "empty action in the reply");
                break;
            }
            vstring_strcpy(action, vstring_str(value));
        }
    }
    vstring_free(line);
    vstring_free(name);
    vstring_free(value);
    return rc;
}

int policy_client_request(POLICY_CLIENT *pc, ARGV *attrs, VSTRING *action, VSTRING *why)
{
    int delay_next = 0;
    int stale_retry = 1; /* a reused connection may have been closed by the server */

    vstring_reset(why);
    for (long attempt = 0; attempt < pc->spec.try_limit; attempt++) {
        time_t now = time(NULL);
        int reused;

        if (delay_next && pc->spec.retry_delay > 0)
            sleep((unsigned)pc->spec.retry_delay);
        if (pc->stream &&
            (now - pc->last_used >= pc->spec.max_idle || now - pc->created >= pc->spec.max_ttl ||
             (pc->spec.request_limit > 0 && pc->requests >= pc->spec.request_limit)))
            policy_client_close(pc);
        reused = pc->stream != NULL;
        if (!reused && policy_client_connect(pc, why) < 0) {
            delay_next = 1;
            continue;
        }
        if (policy_client_send(pc, attrs) < 0) {
            vstring_strcpy(why, "error while sending the request");
        } else if (policy_client_receive(pc, action, why) == 0) {
            pc->last_used = time(NULL);
            pc->requests++;
            return 0;
        }
        policy_client_close(pc);
        delay_next = !reused;
        if (reused && stale_retry) {
            stale_retry = 0;
            attempt--;
        }
    }
    return -1;
}
