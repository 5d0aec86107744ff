/*
 * NAME
 *	address - RFC 5321 paths, RFC 5322 address lists, quoting
 * SYNOPSIS
 *	#include "address.h"
 *
 *	int address_parse_path(const char *str, size_t len, int flags,
 *			VSTRING *addr, size_t *used, VSTRING *why)
 *	ARGV *address_parse_list(const char *str, size_t len, VSTRING *why)
 *	int address_quote(VSTRING *out, const char *addr)
 *	int address_unquote(VSTRING *out, const char *addr)
 *	int address_split(const char *addr, VSTRING *local, VSTRING *domain)
 *	int address_valid_domain(const char *domain, int flags)
 * DESCRIPTION
 *	address_parse_path() reads the path argument of SMTP MAIL FROM and
 *	RCPT TO ("<user@domain>", "<>", "<@relay:user@domain>", or in
 *	lenient mode a bare "user@domain") and returns its internal
 *	(unquoted) form. address.h states exactly what each mode accepts.
 *	It is a single forward scan with no recursion; input beyond
 *	ADDRESS_LENIENT_MAX bytes is never looked at.
 *
 *	address_parse_list() splits an RFC 5322 address-list header value
 *	into internal-form addresses: a tokenizer removes folding white
 *	space and comments and resolves quoted strings, then each list
 *	element (between commas, or inside a group) is read as a mailbox:
 *	either [display-name] "<" [route ":"] addr-spec ">" or a bare
 *	addr-spec.
 *
 *	address_quote() and address_unquote() convert between the internal
 *	form and the external (wire) form; address_split() splits the
 *	internal form at the last '@'; address_valid_domain() is the
 *	domain check of the path parser.
 *
 *	Parsing functions return -1 (or NULL) with a short reason in why;
 *	none logs anything, so they are safe on hostile input in a loop.
 *
 *	This file is a little over 800 lines: the path parser, the list
 *	parser and the quoting functions share one set of character classes
 *	and one definition of the internal form, and are kept together so
 *	that they cannot drift apart.
 */
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mymalloc.h"
#include "valid_hostname.h"

/* ---------------------------------------------------------------- */
/* character classes */

static int addr_is_alnum(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* addr_is_atext - RFC 5322 atext, plus 8-bit bytes when utf8 */
static int addr_is_atext(int ch, int utf8)
{
    if (ch >= 0x80)
        return utf8;
    return ch != 0 && (addr_is_alnum(ch) || strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

/* addr_is_qtext - RFC 5321 qtextSMTP (SP allowed), plus 8-bit bytes when utf8 */
static int addr_is_qtext(int ch, int utf8)
{
    if (ch >= 0x80)
        return utf8;
    return ch >= 32 && ch <= 126 && ch != '"' && ch != '\\';
}

static int addr_is_ctl(int ch)
{
    return ch < 32 || ch == 127;
}

/* addr_lenient_domain - labels of [A-Za-z0-9_-] (and 8-bit), no empty label */
static int addr_lenient_domain(const char *domain, int utf8)
{
    const unsigned char *cp = (const unsigned char *)domain;
    size_t label = 0;

    if (*cp == 0)
        return 0;
    for (; *cp; cp++) {
        if (*cp == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (addr_is_alnum(*cp) || *cp == '-' || *cp == '_' || (utf8 && *cp >= 0x80)) {
            label++;
        } else {
            return 0;
        }
    }
    return label > 0;
}

int address_valid_domain(const char *domain, int flags)
{
    int utf8 = (flags & ADDRESS_UTF8) != 0;

    if (domain[0] == '[')
        return valid_mailhost_literal(domain, 0);
    if (flags & ADDRESS_STRICT)
        return strlen(domain) <= ADDRESS_DOMAIN_MAX &&
               valid_hostname_flags(domain, utf8 ? VALID_HOSTNAME_UTF8 : 0, 0);
    return addr_lenient_domain(domain, utf8);
}

/* ---------------------------------------------------------------- */
/* SMTP paths */

typedef struct ADDR_CURSOR {
    const unsigned char *str;
    size_t len; /* bytes we may look at */
    size_t pos; /* next byte */
    int flags;
    int utf8;
    VSTRING *why;
} ADDR_CURSOR;

#define CUR_END(c) ((c)->pos >= (c)->len)
#define CUR_PEEK(c) (CUR_END(c) ? -1 : (int)(c)->str[(c)->pos])

static int addr_fail(ADDR_CURSOR *c, const char *reason)
{
    vstring_strcpy(c->why, reason);
    return -1;
}

/* addr_path_local - local part into out; returns 0 or -1 */
static int addr_path_local(ADDR_CURSOR *c, VSTRING *out)
{
    size_t start = c->pos;
    int words = 0, quoted = 0, dots = 0;
    int prev = 0; /* 'w' word, '.' dot, 0 nothing */
    int strict = c->flags & ADDRESS_STRICT;
    int ch;

    for (;;) {
        ch = CUR_PEEK(c);
        if (ch == '"') {
            if (prev == 'w')
                return addr_fail(c, "missing '.' between words of local part");
            c->pos++;
            for (;;) {
                if (CUR_END(c))
                    return addr_fail(c, "unbalanced '\"' in local part");
                ch = c->str[c->pos];
                if (ch == '"')
                    break;
                if (ch == '\\') {
                    if (c->pos + 1 >= c->len)
                        return addr_fail(c, "unbalanced '\"' in local part");
                    ch = c->str[c->pos + 1];
                    if (ch < 32 || ch > 126)
                        return addr_fail(c, "invalid quoted character in local part");
                    vstring_addch(out, ch);
                    c->pos += 2;
                    continue;
                }
                if (!addr_is_qtext(ch, c->utf8))
                    return addr_fail(c, "invalid character in quoted local part");
                vstring_addch(out, ch);
                c->pos++;
            }
            c->pos++; /* closing quote */
            words++;
            quoted++;
            prev = 'w';
        } else if (ch >= 0 && addr_is_atext(ch, c->utf8)) {
            if (prev == 'w')
                return addr_fail(c, "missing '.' between words of local part");
            while ((ch = CUR_PEEK(c)) >= 0 && addr_is_atext(ch, c->utf8)) {
                vstring_addch(out, ch);
                c->pos++;
            }
            words++;
            prev = 'w';
        } else if (ch == '.') {
            if (strict && prev != 'w')
                return addr_fail(c, "misplaced '.' in local part");
            vstring_addch(out, '.');
            c->pos++;
            dots++;
            prev = '.';
        } else {
            break;
        }
    }
    if (words == 0)
        return addr_fail(c, ch >= 0 && ch != '@' && ch != '>' && ch != ' ' && ch != '\t'
                                ? "invalid character in local part"
                                : "empty local part");
    if (strict) {
        if (prev == '.')
            return addr_fail(c, "misplaced '.' in local part");
        if (quoted && words > 1)
            return addr_fail(c, "mixed quoted and unquoted local part");
        if (c->pos - start > ADDRESS_LOCAL_MAX)
            return addr_fail(c, "local part too long");
    }
    return 0;
}

/* addr_path_domain - domain or address literal into out (appended); 0 or -1 */
static int addr_path_domain(ADDR_CURSOR *c, VSTRING *out)
{
    size_t start = c->pos;
    size_t olen = vstring_len(out);
    int ch;

    if (CUR_PEEK(c) == '[') {
        for (;;) {
            if (CUR_END(c))
                return addr_fail(c, "unbalanced '[' in domain");
            ch = c->str[c->pos];
            if (addr_is_ctl(ch) || ch >= 0x80 || ch == ' ' || ch == '\\' ||
                (ch == '[' && c->pos > start))
                return addr_fail(c, "invalid character in address literal");
            vstring_addch(out, ch);
            c->pos++;
            if (ch == ']')
                break;
        }
        if (!valid_mailhost_literal(vstring_str(out) + olen, 0))
            return addr_fail(c, "invalid address literal");
        return 0;
    }
    while ((ch = CUR_PEEK(c)) >= 0 &&
           (addr_is_alnum(ch) || ch == '-' || ch == '.' || ch == '_' || (c->utf8 && ch >= 0x80))) {
        vstring_addch(out, ch);
        c->pos++;
    }
    if (c->pos == start)
        return addr_fail(c, ch >= 0 && ch != '>' && ch != ' ' && ch != '\t'
                                ? "invalid character in domain"
                                : "empty domain");
    if (!address_valid_domain(vstring_str(out) + olen, c->flags))
        return addr_fail(c, "invalid domain");
    return 0;
}

/* addr_path_route - skip "@a,@b:" after '<'; 0 or -1 */
static int addr_path_route(ADDR_CURSOR *c, VSTRING *scratch)
{
    for (;;) {
        if (CUR_PEEK(c) != '@')
            return addr_fail(c, "bad source route");
        c->pos++;
        vstring_reset(scratch);
        if (addr_path_domain(c, scratch) < 0)
            return addr_fail(c, "bad source route");
        if (CUR_PEEK(c) == ':') {
            c->pos++;
            return 0;
        }
        if (CUR_PEEK(c) != ',')
            return addr_fail(c, "bad source route");
        c->pos++;
    }
}

static int addr_parse_path_cursor(ADDR_CURSOR *c, VSTRING *addr, int whole)
{
    int bracket = 0;
    int has_domain = 0;
    size_t local_end;
    int ch;

    if (CUR_PEEK(c) == '<') {
        bracket = 1;
        c->pos++;
        if (CUR_PEEK(c) == '>') {
            c->pos++;
            if (!(c->flags & ADDRESS_NULL_OK))
                return addr_fail(c, "null address not allowed");
            goto done;
        }
        if (CUR_PEEK(c) == '@') {
            VSTRING *scratch = vstring_alloc(64);
            int ret = addr_path_route(c, scratch);

            vstring_free(scratch);
            if (ret < 0)
                return -1;
        }
    } else if (c->flags & ADDRESS_STRICT) {
        return addr_fail(c, "missing '<' before address");
    }
    if (addr_path_local(c, addr) < 0)
        return -1;
    local_end = vstring_len(addr);
    if (CUR_PEEK(c) == '@') {
        c->pos++;
        vstring_addch(addr, '@');
        if (addr_path_domain(c, addr) < 0)
            return -1;
        has_domain = 1;
    }
    /* the internal form could not tell "a@b" (no domain) from a@b */
    if (!has_domain && memchr(vstring_str(addr), '@', local_end) != NULL)
        return addr_fail(c, "missing domain after local part with '@'");
    if (!has_domain && (c->flags & ADDRESS_STRICT) &&
        !((c->flags & ADDRESS_POSTMASTER) && local_end == 10 &&
          strncasecmp(vstring_str(addr), "postmaster", 10) == 0))
        return addr_fail(c, "missing domain");
    if (bracket) {
        if (CUR_PEEK(c) != '>')
            return addr_fail(c, CUR_END(c) ? "missing '>' after address"
                                           : "invalid character in address");
        c->pos++;
    }

done:
    if ((c->flags & ADDRESS_STRICT) && c->pos > ADDRESS_PATH_MAX)
        return addr_fail(c, "path too long");
    ch = CUR_PEEK(c);
    if (whole ? ch >= 0 : (!bracket && ch >= 0 && ch != ' ' && ch != '\t'))
        return addr_fail(c, "junk after address");
    return 0;
}

int address_parse_path(const char *str, size_t len, int flags, VSTRING *addr, size_t *used,
                       VSTRING *why)
{
    ADDR_CURSOR cur;
    int ret;

    vstring_reset(addr);
    vstring_reset(why);
    cur.str = (const unsigned char *)str;
    cur.len = len > ADDRESS_LENIENT_MAX ? ADDRESS_LENIENT_MAX + 1 : len;
    cur.pos = 0;
    cur.flags = flags;
    cur.utf8 = (flags & ADDRESS_UTF8) != 0;
    cur.why = why;
    if (used == NULL && len > ADDRESS_LENIENT_MAX) {
        vstring_strcpy(why, "address too long");
        return -1;
    }
    ret = addr_parse_path_cursor(&cur, addr, used == NULL);
    if (ret < 0) {
        /* a path cut by the window is too long, whatever broke first */
        if (len > cur.len && cur.pos >= cur.len)
            vstring_strcpy(why, "address too long");
        vstring_reset(addr);
        return -1;
    }
    if (cur.pos > ADDRESS_LENIENT_MAX) {
        vstring_strcpy(why, "address too long");
        vstring_reset(addr);
        return -1;
    }
    if (used)
        *used = cur.pos;
    return 0;
}

/* ---------------------------------------------------------------- */
/* RFC 5322 address lists */

#define TOK_ATOM 'a'
#define TOK_QSTR 'q'
#define TOK_DLIT 'd'

typedef struct ADDR_TOKEN {
    int type;   /* TOK_* or one of the specials < > : ; @ , . */
    size_t off; /* text in the token buffer */
    size_t len;
} ADDR_TOKEN;

typedef struct ADDR_TOKENS {
    ADDR_TOKEN *tok;
    size_t count;
    size_t size;
    VSTRING *text;
} ADDR_TOKENS;

static void addr_tok_add(ADDR_TOKENS *tl, int type, size_t off)
{
    if (tl->count >= tl->size) {
        tl->size *= 2;
        tl->tok = myrealloc(tl->tok, tl->size * sizeof(*tl->tok));
    }
    tl->tok[tl->count].type = type;
    tl->tok[tl->count].off = off;
    tl->tok[tl->count].len = vstring_len(tl->text) - off;
    tl->count++;
}

/* addr_is_fws - white space that folding may leave in a header value */
static int addr_is_fws(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* addr_tokenize - header text into tokens; 0 or -1 with why */
static int addr_tokenize(const unsigned char *s, size_t len, ADDR_TOKENS *tl, VSTRING *why)
{
    size_t i = 0;
    size_t off;
    int ch;

    while (i < len) {
        ch = s[i];
        if (addr_is_fws(ch)) {
            i++;
        } else if (ch == '(') {
            size_t depth = 0;

            for (;;) {
                if (i >= len) {
                    vstring_strcpy(why, "unbalanced '(' in comment");
                    return -1;
                }
                ch = s[i++];
                if (ch == '\\') {
                    if (i >= len) {
                        vstring_strcpy(why, "unbalanced '(' in comment");
                        return -1;
                    }
                    ch = s[i++];
                } else if (ch == '(') {
                    depth++;
                } else if (ch == ')' && --depth == 0) {
                    break;
                }
                if (addr_is_ctl(ch) && !addr_is_fws(ch)) {
                    vstring_strcpy(why, "control character in comment");
                    return -1;
                }
            }
        } else if (ch == '"') {
            off = vstring_len(tl->text);
            for (i++;; i++) {
                if (i >= len) {
                    vstring_strcpy(why, "unbalanced '\"' in quoted string");
                    return -1;
                }
                ch = s[i];
                if (ch == '"')
                    break;
                if (ch == '\\') {
                    if (++i >= len) {
                        vstring_strcpy(why, "unbalanced '\"' in quoted string");
                        return -1;
                    }
                    ch = s[i];
                }
                if (ch == '\r' || ch == '\n')
                    continue; /* unfold; the WSP after it stays */
                if (addr_is_ctl(ch) && ch != '\t') {
                    vstring_strcpy(why, "control character in quoted string");
                    return -1;
                }
                vstring_addch(tl->text, ch);
            }
            i++;
            addr_tok_add(tl, TOK_QSTR, off);
        } else if (ch == '[') {
            off = vstring_len(tl->text);
            vstring_addch(tl->text, '[');
            for (i++;; i++) {
                if (i >= len) {
                    vstring_strcpy(why, "unbalanced '[' in domain literal");
                    return -1;
                }
                ch = s[i];
                if (ch == ']')
                    break;
                if (addr_is_fws(ch))
                    continue;
                if (ch == '[' || ch == '\\' || addr_is_ctl(ch)) {
                    vstring_strcpy(why, "invalid character in domain literal");
                    return -1;
                }
                vstring_addch(tl->text, ch);
            }
            i++;
            vstring_addch(tl->text, ']');
            addr_tok_add(tl, TOK_DLIT, off);
        } else if (strchr("<>:;@,.", ch) != NULL) {
            addr_tok_add(tl, ch, vstring_len(tl->text));
            i++;
        } else if (addr_is_atext(ch, 1)) {
            off = vstring_len(tl->text);
            while (i < len && addr_is_atext(s[i], 1))
                vstring_addch(tl->text, s[i++]);
            addr_tok_add(tl, TOK_ATOM, off);
        } else {
            vstring_sprintf(why, "invalid character %d(decimal) in address list", ch);
            return -1;
        }
    }
    return 0;
}

#define TOK_IS_WORD(t) ((t)->type == TOK_ATOM || (t)->type == TOK_QSTR)

/* addr_list_spec - tokens [s, e) are an addr-spec; append it to argv */
static int addr_list_spec(ADDR_TOKENS *tl, size_t s, size_t e, ARGV *argv, VSTRING *buf,
                          VSTRING *why)
{
    const char *text = vstring_str(tl->text);
    ADDR_TOKEN *t;
    size_t dom;

    vstring_reset(buf);
    for (;;) {
        if (s >= e || !TOK_IS_WORD(&tl->tok[s])) {
            vstring_strcpy(why, "malformed local part");
            return -1;
        }
        t = &tl->tok[s++];
        vstring_memcat(buf, text + t->off, t->len);
        if (s < e && tl->tok[s].type == '.') {
            vstring_addch(buf, '.');
            s++;
            continue;
        }
        break;
    }
    if (s < e && tl->tok[s].type == '@') {
        vstring_addch(buf, '@');
        dom = vstring_len(buf);
        s++;
        if (s < e && tl->tok[s].type == TOK_DLIT) {
            t = &tl->tok[s++];
            vstring_memcat(buf, text + t->off, t->len);
        } else {
            for (;;) {
                if (s >= e || tl->tok[s].type != TOK_ATOM) {
                    vstring_strcpy(why, "malformed domain");
                    return -1;
                }
                t = &tl->tok[s++];
                vstring_memcat(buf, text + t->off, t->len);
                if (s < e && tl->tok[s].type == '.') {
                    vstring_addch(buf, '.');
                    s++;
                    continue;
                }
                break;
            }
        }
        if (!address_valid_domain(vstring_str(buf) + dom, ADDRESS_UTF8)) {
            vstring_strcpy(why, "invalid domain");
            return -1;
        }
    } else if (memchr(vstring_str(buf), '@', vstring_len(buf)) != NULL) {
        vstring_strcpy(why, "missing domain after local part with '@'");
        return -1;
    }
    if (s < e) {
        vstring_strcpy(why, "junk after address");
        return -1;
    }
    if (vstring_len(buf) > ADDRESS_LENIENT_MAX) {
        vstring_strcpy(why, "address too long");
        return -1;
    }
    /* a quoted HTAB is fine in a display name, not in an address (RFC 5321) */
    if (memchr(vstring_str(buf), '\t', vstring_len(buf)) != NULL) {
        vstring_strcpy(why, "control character in address");
        return -1;
    }
    if (argv->argc >= ADDRESS_LIST_COUNT_MAX) {
        vstring_strcpy(why, "too many addresses");
        return -1;
    }
    argv_addn(argv, vstring_str(buf), vstring_len(buf));
    return 0;
}

/* addr_list_element - one mailbox in tokens [s, e) (may be empty) */
static int addr_list_element(ADDR_TOKENS *tl, size_t s, size_t e, ARGV *argv, VSTRING *buf,
                             VSTRING *why)
{
    size_t lt, gt;

    if (s == e)
        return 0;
    for (lt = s; lt < e && tl->tok[lt].type != '<'; lt++)
        /* void */;
    if (lt == e)
        return addr_list_spec(tl, s, e, argv, buf, why);
    for (gt = lt + 1; gt < e && tl->tok[gt].type != '>'; gt++)
        /* void */;
    if (gt != e - 1) {
        vstring_strcpy(why, "junk after '>'");
        return -1;
    }
    s = lt + 1;
    if (s == gt) {
        vstring_strcpy(why, "empty address in '<>'");
        return -1;
    }
    if (tl->tok[s].type == '@') {
        while (s < gt && tl->tok[s].type != ':') {
            if (tl->tok[s].type != '@' && tl->tok[s].type != ',' && tl->tok[s].type != '.' &&
                tl->tok[s].type != TOK_ATOM && tl->tok[s].type != TOK_DLIT) {
                vstring_strcpy(why, "bad source route");
                return -1;
            }
            s++;
        }
        if (s == gt) {
            vstring_strcpy(why, "bad source route");
            return -1;
        }
        s++;
    }
    return addr_list_spec(tl, s, gt, argv, buf, why);
}

static int addr_list_parse(ADDR_TOKENS *tl, ARGV *argv, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(100);
    size_t start = 0;
    int in_group = 0;
    int in_angle = 0;
    int need_sep = 0;
    int ret = 0;

    for (size_t i = 0; ret == 0 && i < tl->count; i++) {
        int type = tl->tok[i].type;

        if (need_sep && type != ',') {
            vstring_strcpy(why, "missing ',' after group");
            ret = -1;
            break;
        }
        need_sep = 0;
        if (in_angle) {
            if (type == '<') {
                vstring_strcpy(why, "nested '<'");
                ret = -1;
            } else if (type == '>') {
                in_angle = 0;
            }
            continue;
        }
        switch (type) {
        case '<':
            in_angle = 1;
            break;
        case '>':
            vstring_strcpy(why, "unbalanced '>'");
            ret = -1;
            break;
        case ':':
            if (in_group) {
                vstring_strcpy(why, "nested group");
                ret = -1;
            } else if (i == start) {
                vstring_strcpy(why, "missing group name");
                ret = -1;
            } else {
                in_group = 1;
                start = i + 1;
            }
            break;
        case ',':
            ret = addr_list_element(tl, start, i, argv, buf, why);
            start = i + 1;
            break;
        case ';':
            if (!in_group) {
                vstring_strcpy(why, "';' outside a group");
                ret = -1;
                break;
            }
            ret = addr_list_element(tl, start, i, argv, buf, why);
            start = i + 1;
            in_group = 0;
            need_sep = 1;
            break;
        }
    }
    if (ret == 0 && in_angle) {
        vstring_strcpy(why, "unbalanced '<'");
        ret = -1;
    }
    if (ret == 0 && in_group) {
        vstring_strcpy(why, "missing ';' after group");
        ret = -1;
    }
    if (ret == 0)
        ret = addr_list_element(tl, start, tl->count, argv, buf, why);
    vstring_free(buf);
    return ret;
}

ARGV *address_parse_list(const char *str, size_t len, VSTRING *why)
{
    ADDR_TOKENS tl;
    ARGV *argv;
    int ret;

    vstring_reset(why);
    if (len > ADDRESS_LIST_INPUT_MAX) {
        vstring_strcpy(why, "address list too long");
        return NULL;
    }
    if (memchr(str, 0, len) != NULL) {
        vstring_strcpy(why, "NUL in address list");
        return NULL;
    }
    tl.size = 16;
    tl.count = 0;
    tl.tok = mymalloc(tl.size * sizeof(*tl.tok));
    tl.text = vstring_alloc(len + 1);
    argv = argv_alloc(4);
    ret = addr_tokenize((const unsigned char *)str, len, &tl, why);
    if (ret == 0)
        ret = addr_list_parse(&tl, argv, why);
    myfree(tl.tok);
    vstring_free(tl.text);
    if (ret < 0) {
        argv_free(argv);
        return NULL;
    }
    return argv;
}

/* ---------------------------------------------------------------- */
/* quoting */

/* addr_dot_atom - is [s, s+len) a dot-atom (8-bit counts as atext)? */
static int addr_dot_atom(const char *s, size_t len)
{
    int prev = '.';

    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];

        if (ch == '.') {
            if (prev == '.')
                return 0;
        } else if (!addr_is_atext(ch, 1)) {
            return 0;
        }
        prev = ch;
    }
    return prev != '.';
}

int address_quote(VSTRING *out, const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t local_len = at ? (size_t)(at - addr) : strlen(addr);

    vstring_reset(out);
    for (const char *cp = addr; *cp; cp++) {
        if (addr_is_ctl((unsigned char)*cp))
            return -1;
    }
    if (*addr == 0)
        return 0;
    if (addr_dot_atom(addr, local_len)) {
        vstring_memcat(out, addr, local_len);
    } else {
        vstring_addch(out, '"');
        for (size_t i = 0; i < local_len; i++) {
            if (addr[i] == '"' || addr[i] == '\\')
                vstring_addch(out, '\\');
            vstring_addch(out, addr[i]);
        }
        vstring_addch(out, '"');
    }
    if (at)
        vstring_strcat(out, at);
    return 0;
}

int address_unquote(VSTRING *out, const char *addr)
{
    const char *at = NULL;
    int quoted = 0;
    const char *cp;

    vstring_reset(out);
    /* find the last '@' outside quotes, and check the quoting */
    for (cp = addr; *cp; cp++) {
        if (addr_is_ctl((unsigned char)*cp))
            return -1;
        if (*cp == '\\') {
            if (cp[1] == 0 || addr_is_ctl((unsigned char)cp[1]))
                return -1;
            cp++;
        } else if (*cp == '"') {
            quoted = !quoted;
        } else if (*cp == '@' && !quoted) {
            at = cp;
        }
    }
    if (quoted)
        return -1;
    for (cp = addr; *cp && cp != at; cp++) {
        if (*cp == '\\')
            vstring_addch(out, *++cp);
        else if (*cp != '"')
            vstring_addch(out, *cp);
    }
    if (at)
        vstring_strcat(out, at);
    return 0;
}

int address_split(const char *addr, VSTRING *local, VSTRING *domain)
{
    const char *at = strrchr(addr, '@');

    if (at == NULL) {
        if (local)
            vstring_strcpy(local, addr);
        if (domain)
            vstring_reset(domain);
        return 0;
    }
    if (local)
        vstring_memcpy(local, addr, (size_t)(at - addr));
    if (domain)
        vstring_strcpy(domain, at + 1);
    return 1;
}
