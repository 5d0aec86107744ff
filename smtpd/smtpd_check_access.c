/*
 * NAME
 *	smtpd_check_access - access(5) tables in SMTP server restrictions
 * SYNOPSIS
 *	#include "smtpd_check_impl.h"
 *
 *	int check_access_client(CHECK *ck, MAPS *maps, const char *name,
 *			const char *addr, const char *class)
 *	int check_access_helo(CHECK *ck, MAPS *maps)
 *	int check_access_address(CHECK *ck, MAPS *maps, const char *addr,
 *			const char *class, int is_sender)
 *	int check_access_key_only(CHECK *ck, MAPS *maps, const char *key,
 *			const char *name, const char *class)
 *	int check_table_result(CHECK *ck, const char *table,
 *			const char *value, const char *name, const char *class)
 * DESCRIPTION
 *	These functions look the request up in an access table the way
 *	Postfix does and carry out the action found (access(5)).
 *
 *	check_access_client() looks up a host: the name and its parent
 *	domains (when name is not "unknown"), then the address, then (IPv4)
 *	the address with octets dropped from the right. check_access_helo()
 *	looks up the HELO name and its parent domains. check_access_address()
 *	looks up an address: user+ext@domain, user@domain, the domain and
 *	its parents, user+ext@, user@; the null sender is looked up as
 *	$smtpd_null_access_lookup_key. check_access_key_only() looks up one
 *	key. The first key that is found ends the search, whatever its
 *	action (DUNNO included); a table that cannot answer gives 451 4.3.0
 *	Temporary lookup failure.
 *
 *	check_table_result() carries out one action: OK (or a number),
 *	DUNNO, REJECT [text], DEFER [text], DEFER_IF_REJECT [text],
 *	DEFER_IF_PERMIT [text], 4NN/5NN text (421 and 521 also end the
 *	session), WARN text, INFO text, PREPEND header: text (the header is
 *	added to the message; too late at the end of data, where it is
 *	ignored with a warning), HOLD [text], DISCARD [text] (which also
 *	permits), REDIRECT address and FILTER transport:destination (passed
 *	on to cleanup(8) with the message, see smtpd_check_envelope(); a
 *	configuration error at the end of data, when the envelope has
 *	gone), or a list of restrictions (or restriction class names)
 *	evaluated in place. BCC, which cleanup(8) does not support, and
 *	any unknown action give 451 4.3.5 Server configuration error, so
 *	that mail is never passed on without what the table asked for.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail_addr_find.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd_check_impl.h"

/* check_dsn - take a leading RFC 3463 code of the right class off text */

static const char *check_dsn(int code, const char **text, const char *def, char *buf)
{
    const char *cp = *text;
    size_t len = 0;

    if (cp[0] == '4' || cp[0] == '5') {
        size_t a, b;

        if (cp[1] == '.' && (a = strspn(cp + 2, "0123456789")) >= 1 && a <= 3 && cp[2 + a] == '.' &&
            (b = strspn(cp + 3 + a, "0123456789")) >= 1 && b <= 3 &&
            (cp[3 + a + b] == ' ' || cp[3 + a + b] == 0))
            len = 3 + a + b;
    }
    if (len && cp[0] == '0' + code / 100) {
        memcpy(buf, cp, len);
        buf[len] = 0;
        cp += len;
        while (*cp == ' ')
            cp++;
        *text = cp;
        return buf;
    }
    snprintf(buf, 16, "%s", def);
    buf[0] = (char)('0' + code / 100);
    return buf;
}

int check_reply_text(CHECK *ck, const char *reply, const char *def_dsn)
{
    char dsn_buf[16];
    const char *text;
    const char *dsn;
    int code;

    if (!(reply[0] == '4' || reply[0] == '5') || !isdigit((unsigned char)reply[1]) ||
        !isdigit((unsigned char)reply[2]) || (reply[3] != ' ' && reply[3] != 0)) {
        msg_warn("bad SMTP reply \"%.100s\": it must start with a 4xx or 5xx code", reply);
        return check_config_error(ck);
    }
    code = atoi(reply);
    text = reply + 3;
    while (*text == ' ')
        text++;
    dsn = check_dsn(code, &text, def_dsn, dsn_buf);
    return check_reject(ck, code, dsn, "%s", text);
}

/* check_action_is - compare the action word */

static int check_action_is(const char *action, size_t alen, const char *name)
{
    return strlen(name) == alen && strncasecmp(action, name, alen) == 0;
}

int check_table_result(CHECK *ck, const char *table, const char *value, const char *name,
                       const char *class)
{
    SMTPD_STATE *state = ck->state;
    const char *action = value;
    const char *text;
    size_t alen;
    char dsn_buf[16];

    while (*action == ' ' || *action == '\t')
        action++;
    alen = strcspn(action, " \t");
    text = action + alen;
    while (*text == ' ' || *text == '\t')
        text++;

    if (check_action_is(action, alen, "OK") ||
        (alen > 0 && strspn(action, "0123456789") == alen && !(alen == 3 && *text)))
        return CHECK_OK;
    if (check_action_is(action, alen, "DUNNO"))
        return CHECK_DUNNO;
    if (check_action_is(action, alen, "REJECT")) {
        const char *t = *text ? text : "Access denied";
        const char *dsn = check_dsn((int)var_access_map_reject_code, &t, "5.7.1", dsn_buf);

        return check_reject(ck, (int)var_access_map_reject_code, dsn, "<%s>: %s rejected: %s", name,
                            class, t);
    }
    if (check_action_is(action, alen, "DEFER")) {
        const char *t = *text ? text : "Access denied";
        const char *dsn = check_dsn((int)var_access_map_defer_code, &t, "4.7.1", dsn_buf);

        return check_reject(ck, (int)var_access_map_defer_code, dsn, "<%s>: %s rejected: %s", name,
                            class, t);
    }
    if (check_action_is(action, alen, "DEFER_IF_PERMIT")) {
        const char *t = *text ? text : "Service unavailable";
        const char *dsn = check_dsn((int)var_access_map_defer_code, &t, "4.7.1", dsn_buf);

        return check_defer_if_permit(ck, (int)var_access_map_defer_code, dsn,
                                     "<%s>: %s rejected: %s", name, class, t);
    }
    if (check_action_is(action, alen, "DEFER_IF_REJECT")) {
        ck->dir = 1;
        return CHECK_DUNNO;
    }
    if (check_action_is(action, alen, "WARN") || check_action_is(action, alen, "INFO")) {
        VSTRING *buf = vstring_alloc(100);
        int warn = check_action_is(action, alen, "WARN");

        vstring_sprintf(buf, "<%s>: %s %s", name, class,
                        *text  ? text
                        : warn ? "triggers a warning"
                               : "triggers an info record");
        check_log(ck, warn ? "warn" : "info", vstring_str(buf));
        vstring_free(buf);
        return CHECK_DUNNO;
    }
    if (check_action_is(action, alen, "PREPEND")) {
        if (*text == 0) {
            msg_warn("%s: PREPEND for %s needs a header text", table, name);
            return check_config_error(ck);
        }
        check_prepend(ck, text);
        return CHECK_DUNNO;
    }
    if (alen == 3 && (action[0] == '4' || action[0] == '5') && isdigit((unsigned char)action[1]) &&
        isdigit((unsigned char)action[2])) {
        int code = atoi(action);
        const char *t = *text ? text : "Access denied";
        const char *dsn = check_dsn(code, &t, code >= 500 ? "5.7.1" : "4.7.1", dsn_buf);
        int status = check_reject(ck, code, dsn, "<%s>: %s rejected: %s", name, class, t);

        if (status == CHECK_REJECT && (code == 421 || code == 521))
            state->disconnect = 1;
        return status;
    }
    {
        static const char *content[] = {"HOLD", "DISCARD", "REDIRECT", "FILTER", NULL};

        for (int i = 0; content[i]; i++) {
            if (check_action_is(action, alen, content[i]))
                return check_content_action(ck, table, content[i], text, name, class);
        }
    }
    if (check_action_is(action, alen, "BCC")) {
        msg_warn("%s: action BCC for %s is not supported by postern yet", table, name);
        return check_config_error(ck);
    }
    return check_nested(ck, table, value, name);
}

/* check_access_key - look up one key; a found key ends the search */

static int check_access_key(CHECK *ck, MAPS *maps, const char *key, int flags, const char *name,
                            const char *class, int *done)
{
    const char *value;
    int status = maps_find(maps, key, flags, &value);
    char *copy;

    if (status == DICT_STAT_NOTFOUND)
        return CHECK_DUNNO;
    *done = 1;
    if (status == DICT_STAT_ERROR)
        return check_lookup_failure(ck, name);
    copy = mystrdup(value); /* the table may be looked up again */
    status = check_table_result(ck, maps->title, copy, name, class);
    myfree(copy);
    return status;
}

/* check_access_domain - a domain and its parent domains */

static int check_access_domain(CHECK *ck, MAPS *maps, const char *domain, int first_flags,
                               const char *name, const char *class, int *done)
{
    int parent = mail_domain_parent_style("smtpd_access_maps");
    int status = check_access_key(ck, maps, domain, first_flags, name, class, done);
    VSTRING *key = vstring_alloc(100);

    for (const char *cp = strchr(domain, '.'); !*done && cp && cp[1]; cp = strchr(cp + 1, '.')) {
        vstring_strcpy(key, parent ? cp + 1 : cp);
        status = check_access_key(ck, maps, vstring_str(key), MAPS_FIXED_ONLY, name, class, done);
    }
    vstring_free(key);
    return status;
}

int check_access_key_only(CHECK *ck, MAPS *maps, const char *key, const char *name,
                          const char *class)
{
    int done = 0;

    return check_access_key(ck, maps, key, MAPS_FIND_ALL, name, class, &done);
}

int check_access_helo(CHECK *ck, MAPS *maps)
{
    const char *helo = ck->state->helo_name;
    int done = 0;

    if (helo == NULL)
        return CHECK_DUNNO;
    return check_access_domain(ck, maps, helo, MAPS_FIND_ALL, helo, "Helo command", &done);
}

int check_access_client(CHECK *ck, MAPS *maps, const char *host, const char *addr,
                        const char *class)
{
    const char *name = ck->state->namaddr;
    int done = 0;
    int status = CHECK_DUNNO;
    char *copy;

    if (strcmp(host, "unknown") != 0)
        status = check_access_domain(ck, maps, host, MAPS_FIND_ALL, name, class, &done);
    if (done)
        return status;
    status = check_access_key(ck, maps, addr, MAPS_FIND_ALL, name, class, &done);
    if (done || strchr(addr, ':'))
        return status;
    copy = mystrdup(addr);
    for (char *dot = strrchr(copy, '.'); !done && dot; dot = strrchr(copy, '.')) {
        *dot = 0;
        status = check_access_key(ck, maps, copy, MAPS_FIXED_ONLY, name, class, &done);
    }
    myfree(copy);
    return status;
}

int check_access_address(CHECK *ck, MAPS *maps, const char *addr, const char *class, int is_sender)
{
    VSTRING *qbuf = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    const char *name = check_quote(addr, qbuf);
    const char *at = strrchr(addr, '@');
    size_t local_len = at ? (size_t)(at - addr) : strlen(addr);
    size_t ext_pos = local_len;
    int done = 0;
    int status;

    if (is_sender && *addr == 0) {
        status = check_access_key(ck, maps, var_smtpd_null_access_lookup_key, MAPS_FIND_ALL, name,
                                  class, &done);
        goto out;
    }
    if (*var_recipient_delimiter && local_len > 0) {
        ext_pos = strcspn(addr, var_recipient_delimiter);
        if (ext_pos == 0 || ext_pos > local_len)
            ext_pos = local_len;
    }
    status = check_access_key(ck, maps, addr, MAPS_FIND_ALL, name, class, &done);
    if (!done && ext_pos < local_len && at) {
        vstring_strncpy(key, addr, ext_pos);
        vstring_strcat(key, at);
        status = check_access_key(ck, maps, vstring_str(key), MAPS_FIXED_ONLY, name, class, &done);
    }
    if (!done && at && at[1])
        status = check_access_domain(ck, maps, at + 1, MAPS_FIXED_ONLY, name, class, &done);
    if (!done && at) {
        vstring_strncpy(key, addr, local_len + 1);
        status = check_access_key(ck, maps, vstring_str(key), MAPS_FIXED_ONLY, name, class, &done);
        if (!done && ext_pos < local_len) {
            vstring_strncpy(key, addr, ext_pos);
            vstring_addch(key, '@');
            status =
                check_access_key(ck, maps, vstring_str(key), MAPS_FIXED_ONLY, name, class, &done);
        }
    }
out:
    vstring_free(qbuf);
    vstring_free(key);
    return status;
}
