/*
 * NAME
 *	local_expand - the $name macros of forward_path, mailbox_command,
 *	luser_relay and command_execution_directory
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_expand(VSTRING *out, const char *pattern,
 *			 const LOCAL_VARS *vars, const char *filter, VSTRING *why)
 * DESCRIPTION
 *	local_expand() replaces out with pattern after expansion of:
 *	$name, ${name}, $(name)	the value of name;
 *	${name?text}		text when the value is not empty;
 *	${name:text}		text when the value is empty;
 *	$$			a "$".
 *	The names are those of local(8): user (the recipient's user name,
 *	without extension), home, shell, recipient (the full address),
 *	extension, domain, local (the whole local part) and
 *	recipient_delimiter. Any other name is a main.cf parameter (its
 *	expanded value). The chosen text of a conditional is itself
 *	expanded.
 *
 *	With filter not NULL, every byte of a substituted value that is
 *	not in filter becomes "_" (command_expansion_filter): a sender
 *	cannot put shell syntax into mailbox_command. The text of the
 *	pattern itself is copied as is.
 *
 *	Returns 0, or -1 with a reason in why for an unterminated "${" or
 *	"$(", a conditional nested deeper than LOCAL_EXPAND_DEPTH, or a
 *	result longer than LOCAL_EXPAND_MAX bytes.
 */
#include <ctype.h>
#include <string.h>

#include "local.h"
#include "mail_conf.h"
#include "mymalloc.h"

#define LOCAL_EXPAND_DEPTH 10
#define LOCAL_EXPAND_MAX (64 * 1024)

/* local_lookup - the value of a name; *owned set when the caller must free */
static const char *local_lookup(const LOCAL_VARS *vars, const char *name, char **owned)
{
    *owned = NULL;
    if (strcmp(name, "user") == 0)
        return vars->user;
    if (strcmp(name, "home") == 0)
        return vars->home;
    if (strcmp(name, "shell") == 0)
        return vars->shell;
    if (strcmp(name, "recipient") == 0)
        return vars->recipient;
    if (strcmp(name, "extension") == 0)
        return vars->extension;
    if (strcmp(name, "domain") == 0)
        return vars->domain;
    if (strcmp(name, "local") == 0)
        return vars->local;
    if (strcmp(name, "recipient_delimiter") == 0)
        return var_recipient_delimiter;
    return *owned = mail_conf_lookup_eval(name);
}

static void local_put_value(VSTRING *out, const char *value, const char *filter)
{
    for (const char *cp = value; *cp; cp++)
        vstring_addch(out, filter == NULL || strchr(filter, *cp) ? *cp : '_');
}

/* local_group - length of a "{...}" or "(...)" group at s, braces balanced; -1 if open */
static long local_group(const char *s, size_t len, char open, char close)
{
    int depth = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == open)
            depth++;
        else if (s[i] == close && --depth == 0)
            return (long)i;
    }
    return -1;
}

static int local_expand_text(VSTRING *out, const char *s, size_t len, const LOCAL_VARS *vars,
                             const char *filter, VSTRING *why, int depth);

/* local_expand_ref - one $... reference at s (after the "$"); returns bytes used or -1 */
static long local_expand_ref(VSTRING *out, const char *s, size_t len, const LOCAL_VARS *vars,
                             const char *filter, VSTRING *why, int depth)
{
    VSTRING *name = vstring_alloc(20);
    const char *value;
    char *owned;
    long used;
    size_t n;

    if (len > 0 && (*s == '{' || *s == '(')) {
        char open = *s, close = *s == '{' ? '}' : ')';
        long end = local_group(s, len, open, close);
        const char *body = s + 1;
        size_t blen;

        if (end < 0) {
            vstring_sprintf(why, "unterminated \"$%c\"", open);
            vstring_free(name);
            return -1;
        }
        blen = (size_t)end - 1;
        for (n = 0; n < blen && (isalnum((unsigned char)body[n]) || body[n] == '_'); n++)
            ;
        vstring_strncpy(name, body, n);
        value = local_lookup(vars, vstring_str(name), &owned);
        if (value == NULL)
            value = "";
        if (n < blen && (body[n] == '?' || body[n] == ':')) {
            int want = body[n] == '?' ? *value != 0 : *value == 0;
            const char *text = body + n + 1;
            size_t tlen = blen - n - 1;

            if (tlen >= 2 && text[0] == '{' && text[tlen - 1] == '}') {
                text++;
                tlen -= 2;
            }
            if (want && local_expand_text(out, text, tlen, vars, filter, why, depth + 1) < 0) {
                myfree(owned);
                vstring_free(name);
                return -1;
            }
        } else {
            local_put_value(out, value, filter);
        }
        myfree(owned);
        used = end + 1;
    } else {
        for (n = 0; n < len && (isalnum((unsigned char)s[n]) || s[n] == '_'); n++)
            ;
        if (n == 0) {
            vstring_addch(out, '$');
            vstring_free(name);
            return 0;
        }
        vstring_strncpy(name, s, n);
        value = local_lookup(vars, vstring_str(name), &owned);
        local_put_value(out, value ? value : "", filter);
        myfree(owned);
        used = (long)n;
    }
    vstring_free(name);
    return used;
}

static int local_expand_text(VSTRING *out, const char *s, size_t len, const LOCAL_VARS *vars,
                             const char *filter, VSTRING *why, int depth)
{
    long used;

    if (depth > LOCAL_EXPAND_DEPTH) {
        vstring_strcpy(why, "macros nested too deeply");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '$') {
            vstring_addch(out, s[i]);
        } else if (i + 1 < len && s[i + 1] == '$') {
            vstring_addch(out, '$');
            i++;
        } else {
            used = local_expand_ref(out, s + i + 1, len - i - 1, vars, filter, why, depth);
            if (used < 0)
                return -1;
            i += (size_t)used;
        }
        if (vstring_len(out) > LOCAL_EXPAND_MAX) {
            vstring_strcpy(why, "result too long");
            return -1;
        }
    }
    return 0;
}

int local_expand(VSTRING *out, const char *pattern, const LOCAL_VARS *vars, const char *filter,
                 VSTRING *why)
{
    vstring_reset(out);
    return local_expand_text(out, pattern, strlen(pattern), vars, filter, why, 0);
}
