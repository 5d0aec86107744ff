/*
 * NAME
 *	local_token - the destinations in an alias value, .forward or :include: file
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_tokens(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *text)
 *	ARGV *local_token_split(const char *text)
 *	int local_include(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path)
 *	int local_read_file(const char *path, uid_t owner1, uid_t owner2,
 *			    VSTRING *out, VSTRING *why, struct stat *st)
 * DESCRIPTION
 *	local_token_split() cuts text into destinations, as aliases(5)
 *	describes them: separated by commas or line ends; "#" at the start
 *	of a line begins a comment; double quotes keep commas and white
 *	space inside one destination ("|/usr/bin/prog -a x") and are
 *	removed (\" is a quote); <address> loses its angle brackets. An
 *	unquoted destination that is not a |command, a /file or an
 *	:include: is also split at white space. Empty ones are dropped.
 *
 *	local_tokens() delivers to each destination of text, in the
 *	context attr (an alias, .forward or :include: expansion):
 *	  |command        local_command(), if allow_mail_to_commands lists
 *	                  the kind of expansion; else returned as "mail to
 *	                  command is restricted" (5.7.1)
 *	  /file/name      local_file() (a name ending in / is a Maildir),
 *	                  if allow_mail_to_files allows; else "mail to file
 *	                  is restricted" (5.7.1)
 *	  :include:/file  local_include()
 *	  \user           the user's own mailbox: no alias, no .forward
 *	  address         an address without a domain gets @$myorigin; a
 *	                  local address (resolved to this transport) is
 *	                  delivered here, recursively, any other is
 *	                  forwarded through cleanup(8) (local_forward). So
 *	                  is every address of an expansion whose sender an
 *	                  owner- alias changed, so that its delivery
 *	                  problems go to the owner.
 *	The same address at the same level of one request is delivered
 *	once. Returns the MAILBOX_* code of the last outcome recorded.
 *
 *	local_include() reads an :include: file with the privileges of the
 *	expansion that names it, and delivers its destinations with the
 *	privileges of the file's owner (default_privs when root owns it).
 *	A file that includes itself, directly or not, is skipped.
 *
 *	local_read_file() reads a regular, singly linked file (no
 *	symbolic link) of at most LOCAL_FILE_MAX bytes, owned by owner1 or
 *	owner2 unless owner1 is (uid_t) -1, into out. Returns 0, or -1
 *	with errno and why.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "local.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "mailbox_copy.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve.h"
#include "safe_open.h"

#define LOCAL_INCLUDE ":include:"

/* local_token_add - finish one destination */
static void local_token_add(ARGV *out, VSTRING *tok, int quoted)
{
    char *cp = vstring_str(tok);
    char *end;

    while (*cp == ' ' || *cp == '\t')
        cp++;
    end = cp + strlen(cp);
    while (end > cp && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = 0;
    if (*cp == 0)
        goto done;
    if (!quoted && *cp != '|' && *cp != '/' && strncasecmp(cp, LOCAL_INCLUDE, 9) != 0) {
        ARGV *words = argv_split(cp, ARGV_DELIM_SPACE);

        for (int i = 0; i < words->argc; i++) {
            char *w = words->argv[i];
            size_t len = strlen(w);

            if (len >= 2 && w[0] == '<' && w[len - 1] == '>')
                argv_addn(out, w + 1, len - 2);
            else
                argv_add(out, w);
        }
        argv_free(words);
    } else {
        argv_add(out, cp);
    }
done:
    vstring_reset(tok);
}

ARGV *local_token_split(const char *text)
{
    ARGV *out = argv_alloc(5);
    VSTRING *tok = vstring_alloc(100);
    int quoted = 0; /* this destination had quotes */
    int line_start = 1;

    for (const char *cp = text; *cp; cp++) {
        if (line_start) {
            const char *p = cp;

            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '#') {
                while (*cp && *cp != '\n')
                    cp++;
                if (*cp == 0)
                    break;
                continue; /* at the '\n' */
            }
            line_start = 0;
        }
        if (*cp == '"') {
            quoted = 1;
            for (cp++; *cp && *cp != '"'; cp++) {
                if (*cp == '\\' && cp[1])
                    cp++;
                vstring_addch(tok, *cp);
            }
            if (*cp == 0)
                break;
        } else if (*cp == ',' || *cp == '\n') {
            local_token_add(out, tok, quoted);
            quoted = 0;
            line_start = (*cp == '\n');
        } else {
            vstring_addch(tok, *cp);
        }
    }
    local_token_add(out, tok, quoted);
    vstring_free(tok);
    return out;
}

int local_read_file(const char *path, uid_t owner1, uid_t owner2, VSTRING *out, VSTRING *why,
                    struct stat *st_out)
{
    struct stat st;
    char buf[4096];
    ssize_t n;
    int fd;
    int err;

    vstring_reset(out);
    if ((fd = safe_open_existing(path, O_RDONLY, SAFE_OPEN_ANY_UID, &st, why)) < 0)
        return -1;
    if (owner1 != (uid_t)-1 && st.st_uid != owner1 && st.st_uid != owner2) {
        close(fd);
        vstring_sprintf(why, "file %s is owned by uid %ld, not by its user", path, (long)st.st_uid);
        errno = EPERM;
        return -1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        vstring_memcat(out, buf, (size_t)n);
        if (vstring_len(out) > LOCAL_FILE_MAX) {
            close(fd);
            vstring_sprintf(why, "file %s is larger than %d bytes", path, LOCAL_FILE_MAX);
            errno = EFBIG;
            return -1;
        }
    }
    err = errno;
    close(fd);
    if (n < 0) {
        vstring_sprintf(why, "read %s: %s", path, strerror(err));
        errno = err;
        return -1;
    }
    if (memchr(vstring_str(out), 0, vstring_len(out))) {
        vstring_sprintf(why, "file %s contains a NUL byte", path);
        errno = EINVAL;
        return -1;
    }
    if (st_out)
        *st_out = st;
    return 0;
}

/* local_allowed - does the list (allow_mail_to_*) allow this kind of expansion? */
static int local_allowed(const char *list, int exp_type)
{
    const char *want = exp_type == LOCAL_EXP_ALIAS     ? "alias"
                       : exp_type == LOCAL_EXP_FORWARD ? "forward"
                       : exp_type == LOCAL_EXP_INCLUDE ? "include"
                                                       : NULL;
    ARGV *words;
    int ok = 0;

    if (want == NULL)
        return 0;
    words = argv_split(list, ARGV_DELIM_LIST);
    for (int i = 0; i < words->argc && !ok; i++)
        ok = strcasecmp(words->argv[i], want) == 0;
    argv_free(words);
    return ok;
}

int local_include(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path)
{
    VSTRING *text = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const LOCAL_PRIVS *reader = attr->privs ? attr->privs : &local_default_privs;
    LOCAL_PRIVS privs;
    LOCAL_ATTR child;
    struct stat st;
    UGID_USER pw;
    int rc;
    int err;

    for (const LOCAL_ATTR *up = attr; up; up = up->parent)
        if (up->exp_type == LOCAL_EXP_INCLUDE && strcmp(up->exp_from, path) == 0) {
            rc = MAILBOX_OK;
            goto done;
        }
    if (*path != '/') {
        rc = local_bounce(state, attr, "5.3.5", "include file %s: not an absolute path", path);
        goto done;
    }
    local_set_privs(reader->uid, reader->gid, reader->name);
    rc = local_read_file(path, (uid_t)-1, (uid_t)-1, text, why, &st);
    err = errno;
    local_reset_privs();
    if (rc < 0) {
        msg_warn("%s", vstring_str(why));
        rc = local_outcome(state, attr,
                           err == ENOENT || err == EPERM ? MAILBOX_BOUNCE : MAILBOX_DEFER,
                           err == ENOENT || err == EPERM ? "5.3.5" : "4.3.0",
                           "cannot open include file %s: %s", path, strerror(err));
        goto done;
    }
    privs = local_default_privs;
    if (st.st_uid != 0) {
        memset(&privs, 0, sizeof(privs));
        privs.uid = st.st_uid;
        privs.gid = st.st_gid;
        if (ugid_user_byuid(st.st_uid, &pw) > 0) {
            privs.gid = pw.gid;
            strcpy(privs.name, pw.name);
            strcpy(privs.home, pw.home);
            strcpy(privs.shell, pw.shell);
        }
    }
    child = *attr;
    child.parent = attr;
    child.level = attr->level + 1;
    child.flags = 0;
    child.delivered = attr->recipient;
    child.exp_type = LOCAL_EXP_INCLUDE;
    child.exp_from = path;
    child.privs = &privs;
    rc = local_tokens(state, &child, vstring_str(text));
done:
    vstring_free(text);
    vstring_free(why);
    return rc;
}

/* local_address - a plain address destination */
static int local_address(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *token, int flags)
{
    VSTRING *addr = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    RESOLVE_REPLY *reply;
    LOCAL_ATTR child;
    int rc = MAILBOX_OK;

    vstring_strcpy(addr, token);
    if (strrchr(token, '@') == NULL && *var_myorigin)
        vstring_sprintf_append(addr, "@%s", var_myorigin);
    vstring_strcpy(key, vstring_str(addr));
    vstring_lowercase(key);
    if (local_dup(state, "address %d %d %s %s", attr->level, flags, vstring_str(key), attr->sender))
        goto done;

    child = *attr;
    child.parent = attr;
    child.flags = flags;
    child.recipient = vstring_str(addr);

    if (strcmp(attr->sender, state->req->sender) != 0) {
        rc = local_forward(state, &child, vstring_str(addr));
        goto done;
    }
    reply = resolve_reply_alloc();
    (void)resolve_addr(vstring_str(addr), reply);
    if (reply->flags & RESOLVE_FLAG_FAIL) {
        rc = local_defer(state, &child, "4.3.0", "address resolver failure");
    } else if (reply->flags & RESOLVE_FLAG_ERROR) {
        rc = local_bounce(state, &child, "5.1.3", "bad address syntax");
    } else if ((reply->flags & RESOLVE_CLASS_LOCAL) &&
               strcmp(vstring_str(reply->transport), mail_server_service()) == 0) {
        vstring_strcpy(addr, vstring_str(reply->recipient));
        child.recipient = vstring_str(addr);
        rc = local_recipient(state, &child);
    } else {
        rc = local_forward(state, &child, vstring_str(addr));
    }
    resolve_reply_free(reply);
done:
    vstring_free(addr);
    vstring_free(key);
    return rc;
}

int local_tokens(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *text)
{
    ARGV *tokens = local_token_split(text);
    int rc = MAILBOX_OK;

    for (int i = 0; i < tokens->argc; i++) {
        const char *tok = tokens->argv[i];

        if (*tok == '|') {
            if (!local_allowed(var_allow_mail_to_commands, attr->exp_type))
                rc = local_bounce(state, attr, "5.7.1", "mail to command is restricted");
            else
                rc = local_command(state, attr, tok + 1,
                                   attr->privs ? attr->privs : &local_default_privs, 0);
        } else if (*tok == '/') {
            if (!local_allowed(var_allow_mail_to_files, attr->exp_type))
                rc = local_bounce(state, attr, "5.7.1", "mail to file is restricted");
            else
                rc = local_file(state, attr, tok);
        } else if (strncasecmp(tok, LOCAL_INCLUDE, 9) == 0) {
            const char *path = tok + 9;

            while (*path == ' ' || *path == '\t')
                path++;
            rc = local_include(state, attr, path);
        } else if (*tok == '\\') {
            if (tok[1])
                rc = local_address(state, attr, tok + 1,
                                   LOCAL_FLAG_NO_ALIAS | LOCAL_FLAG_NO_FORWARD);
        } else {
            rc = local_address(state, attr, tok, 0);
        }
    }
    argv_free(tokens);
    return rc;
}
