/*
 * NAME
 *	maildrop - check the local submission record stream; submission policy
 * SYNOPSIS
 *	#include "maildrop.h"
 *
 *	MAILDROP_CHECK *maildrop_check_create(off_t size_limit)
 *	int maildrop_check(MAILDROP_CHECK *mc, int type, const char *data, size_t len)
 *	int maildrop_check_done(const MAILDROP_CHECK *mc)
 *	int maildrop_check_error(const MAILDROP_CHECK *mc)
 *	const char *maildrop_check_why(const MAILDROP_CHECK *mc)
 *	const char *maildrop_check_sender(const MAILDROP_CHECK *mc)
 *	int maildrop_check_rcpt_count(const MAILDROP_CHECK *mc)
 *	int maildrop_check_extract(const MAILDROP_CHECK *mc)
 *	off_t maildrop_check_size(const MAILDROP_CHECK *mc)
 *	void maildrop_check_free(MAILDROP_CHECK *mc)
 *
 *	int maildrop_get(VSTREAM *fp, VSTRING *buf)
 *
 *	int maildrop_submit_ok(const char *user, VSTRING *why)
 *	const char *maildrop_user_name(uid_t uid, VSTRING *buf)
 *	int maildrop_temp_name(const char *name)
 * DESCRIPTION
 *	The maildrop stream is what a local user hands to the mail system,
 *	so postdrop(1) and pickup(8) both run every record through one
 *	checker, a small state machine that accepts exactly the order and
 *	the values maildrop.h describes and refuses everything else with a
 *	short reason. It keeps a copy of the sender and counts recipients
 *	and bytes; it never stores content.
 *
 *	maildrop_get() reads one record no larger than the largest one a
 *	maildrop stream may hold (an envelope record or a content piece).
 *
 *	maildrop_submit_ok() walks $authorized_submit_users: elements are
 *	login names (compared without regard to case), /file/name files of
 *	login names separated by white space, and type:table lookups of
 *	the name; a leading ! turns a match into a refusal. The first
 *	element that matches decides; no match refuses. A table that
 *	cannot answer, or a file that cannot be read, makes the answer -1:
 *	never a guess.
 *
 *	maildrop_user_name() looks the user ID up in the password file.
 *	maildrop_temp_name() recognises postdrop's temporary file names.
 * DIAGNOSTICS
 *	Nothing is logged, except by rec_get() for a malformed record.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup_proto.h"
#include "dict.h"
#include "mail_params.h"
#include "maildrop.h"
#include "maps.h"
#include "mymalloc.h"
#include "set_ugid.h"

/* states of the checker: what may come next */
#define MC_TIME 0   /* TIME */
#define MC_ATTR 1   /* ATTR or FROM */
#define MC_RCPT 2   /* recipient records or MESG */
#define MC_BODY 3   /* NORM, CONT or XTRA */
#define MC_END 4    /* END */
#define MC_DONE 5   /* nothing */
#define MC_FAILED 6 /* an earlier record was refused */

/* attributes a maildrop stream may carry, one bit each */
static const struct {
    const char *name;
    size_t max;
} maildrop_attrs[] = {
    {MAILDROP_ATTR_REWRITE, 6},
    {MAILDROP_ATTR_FULL_NAME, MAILDROP_FULL_NAME_MAX},
    {MAILDROP_ATTR_DSN_ENVID, MAILDROP_ENVID_MAX},
    {MAILDROP_ATTR_DSN_RET, 4},
    {MAILDROP_ATTR_ENCODING, 4},
    {MAILDROP_ATTR_EXTRACT, 3},
    {MAILDROP_ATTR_DSN_NOTIFY, 2},
};

#define MAILDROP_NATTRS (sizeof(maildrop_attrs) / sizeof(maildrop_attrs[0]))

/* per-recipient records seen since the last RCPT */
#define MC_SEEN_ORCP (1 << 0)
#define MC_SEEN_NOTIFY (1 << 1)
#define MC_SEEN_DSN_ORCPT (1 << 2)

struct MAILDROP_CHECK {
    int state;
    int error;           /* MAILDROP_CHECK_* */
    off_t size_limit;    /* 0 = none */
    off_t size;          /* bytes so far */
    unsigned attrs_seen; /* one bit per maildrop_attrs[] entry */
    int rcpt_pending;    /* MC_SEEN_* before the next RCPT */
    int cont_pending;    /* a CONT piece waits for its NORM */
    int rcpt_count;
    int extract;
    char *sender; /* after FROM */
    VSTRING *why;
};

MAILDROP_CHECK *maildrop_check_create(off_t size_limit)
{
    MAILDROP_CHECK *mc = mycalloc(1, sizeof(*mc));

    mc->state = MC_TIME;
    mc->size_limit = size_limit > 0 ? size_limit : 0;
    mc->why = vstring_alloc(60);
    return mc;
}

void maildrop_check_free(MAILDROP_CHECK *mc)
{
    myfree(mc->sender);
    vstring_free(mc->why);
    myfree(mc);
}

int maildrop_check_done(const MAILDROP_CHECK *mc)
{
    return mc->state == MC_DONE;
}

int maildrop_check_error(const MAILDROP_CHECK *mc)
{
    return mc->error;
}

const char *maildrop_check_why(const MAILDROP_CHECK *mc)
{
    return vstring_str(mc->why);
}

const char *maildrop_check_sender(const MAILDROP_CHECK *mc)
{
    return mc->sender;
}

int maildrop_check_rcpt_count(const MAILDROP_CHECK *mc)
{
    return mc->rcpt_count;
}

int maildrop_check_extract(const MAILDROP_CHECK *mc)
{
    return mc->extract;
}

off_t maildrop_check_size(const MAILDROP_CHECK *mc)
{
    return mc->size;
}

/* maildrop_refuse - record why, fail from now on */

static int __attribute__((format(printf, 3, 4)))
maildrop_refuse(MAILDROP_CHECK *mc, int error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_truncate(mc->why, 0);
    vstring_vsprintf_append(mc->why, fmt, ap);
    va_end(ap);
    mc->state = MC_FAILED;
    mc->error = error;
    return -1;
}

/* maildrop_text_ok - no NUL, no control characters, not too long */

static int maildrop_text_ok(const char *data, size_t len, size_t max)
{
    if (len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];

        if (ch < 0x20 || ch == 0x7f)
            return 0;
    }
    return 1;
}

/* maildrop_printable - printable US-ASCII only (DSN values) */

static int maildrop_printable(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)data[i] < 0x20 || (unsigned char)data[i] > 0x7e)
            return 0;
    return 1;
}

/* maildrop_time_ok - "seconds.microseconds" */

static int maildrop_time_ok(const char *data, size_t len)
{
    size_t i = 0;
    size_t digits = 0;

    while (i < len && isdigit((unsigned char)data[i]) && digits < 20)
        i++, digits++;
    if (digits == 0 || i >= len || data[i] != '.')
        return 0;
    i++;
    digits = 0;
    while (i < len && isdigit((unsigned char)data[i]) && digits < 6)
        i++, digits++;
    return digits > 0 && i == len;
}

/* maildrop_notify_ok - NEVER alone, or some of SUCCESS FAILURE DELAY */

static int maildrop_notify_ok(const char *data, size_t len)
{
    long bits = 0;
    int all = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;

    if (len == 0 || len > 2)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)data[i]))
            return 0;
        bits = bits * 10 + (data[i] - '0');
    }
    if (len == 2 && data[0] == '0')
        return 0;
    return bits == DSN_NOTIFY_NEVER || (bits != 0 && (bits & ~all) == 0);
}

/* maildrop_attr - one ATTR record */

static int maildrop_attr(MAILDROP_CHECK *mc, const char *data, size_t len)
{
    const char *eq = memchr(data, '=', len);
    const char *value;
    size_t name_len;
    size_t value_len;
    size_t i;

    if (eq == NULL || eq == data)
        return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "malformed attribute record");
    name_len = (size_t)(eq - data);
    value = eq + 1;
    value_len = len - name_len - 1;
    for (i = 0; i < MAILDROP_NATTRS; i++)
        if (strlen(maildrop_attrs[i].name) == name_len &&
            memcmp(maildrop_attrs[i].name, data, name_len) == 0)
            break;
    if (i == MAILDROP_NATTRS) {
        if (maildrop_text_ok(data, name_len, 64))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "attribute not allowed: %.*s",
                                   (int)name_len, data);
        return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "attribute not allowed");
    }
    if (mc->attrs_seen & (1u << i))
        return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "duplicate attribute: %s",
                               maildrop_attrs[i].name);
    mc->attrs_seen |= 1u << i;
    if (!maildrop_text_ok(value, value_len, maildrop_attrs[i].max))
        return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad %s value", maildrop_attrs[i].name);

#define VALUE_IS(s) (value_len == strlen(s) && memcmp(value, (s), value_len) == 0)

    if (strcmp(maildrop_attrs[i].name, MAILDROP_ATTR_REWRITE) == 0) {
        if (!VALUE_IS("local") && !VALUE_IS("remote"))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad %s value", MAILDROP_ATTR_REWRITE);
    } else if (strcmp(maildrop_attrs[i].name, MAILDROP_ATTR_DSN_ENVID) == 0) {
        if (value_len == 0 || !maildrop_printable(value, value_len))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad %s value", MAILDROP_ATTR_DSN_ENVID);
    } else if (strcmp(maildrop_attrs[i].name, MAILDROP_ATTR_DSN_RET) == 0) {
        if (!VALUE_IS("FULL") && !VALUE_IS("HDRS"))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad %s value", MAILDROP_ATTR_DSN_RET);
    } else if (strcmp(maildrop_attrs[i].name, MAILDROP_ATTR_ENCODING) == 0) {
        if (!VALUE_IS("7bit") && !VALUE_IS("8bit"))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad %s value", MAILDROP_ATTR_ENCODING);
    } else if (strcmp(maildrop_attrs[i].name, MAILDROP_ATTR_EXTRACT) == 0) {
        if (!VALUE_IS("yes"))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad %s value", MAILDROP_ATTR_EXTRACT);
        mc->extract = 1;
    } else if (strcmp(maildrop_attrs[i].name, MAILDROP_ATTR_DSN_NOTIFY) == 0) {
        if (!maildrop_notify_ok(value, value_len))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad %s value",
                                   MAILDROP_ATTR_DSN_NOTIFY);
    }
#undef VALUE_IS
    return 0;
}

/* maildrop_envelope - a recipient record, or MESG */

static int maildrop_recipient(MAILDROP_CHECK *mc, int type, const char *data, size_t len)
{
    const char *semi;

    switch (type) {
    case REC_TYPE_ORCP:
        if (mc->rcpt_pending & MC_SEEN_ORCP)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "duplicate original recipient");
        if (len == 0 || !maildrop_text_ok(data, len, MAILDROP_ADDR_MAX))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad original recipient");
        mc->rcpt_pending |= MC_SEEN_ORCP;
        return 0;
    case REC_TYPE_NOTIFY:
        if (mc->rcpt_pending & MC_SEEN_NOTIFY)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "duplicate notify record");
        if (!maildrop_notify_ok(data, len))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad notify value");
        mc->rcpt_pending |= MC_SEEN_NOTIFY;
        return 0;
    case REC_TYPE_DSN_ORCPT:
        if (mc->rcpt_pending & MC_SEEN_DSN_ORCPT)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "duplicate DSN original recipient");
        if (len == 0 || len > MAILDROP_ORCPT_MAX || !maildrop_printable(data, len) ||
            (semi = memchr(data, ';', len)) == NULL || semi == data)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad DSN original recipient");
        mc->rcpt_pending |= MC_SEEN_DSN_ORCPT;
        return 0;
    case REC_TYPE_RCPT:
        if (len == 0 || !maildrop_text_ok(data, len, MAILDROP_ADDR_MAX))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad recipient address");
        if (mc->rcpt_count >= MAILDROP_RCPT_MAX)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "too many recipients");
        mc->rcpt_count++;
        mc->rcpt_pending = 0;
        return 0;
    case REC_TYPE_MESG:
        if (mc->rcpt_pending)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "recipient record without recipient");
        if (len != 0)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "malformed message start record");
        if (mc->rcpt_count == 0 && !mc->extract)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "no recipients");
        mc->state = MC_BODY;
        return 0;
    default:
        return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "unexpected %s record in envelope",
                               rec_type_name(type));
    }
}

int maildrop_check(MAILDROP_CHECK *mc, int type, const char *data, size_t len)
{
    if (mc->state == MC_FAILED)
        return -1;
    if (mc->state == MC_DONE)
        return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "data after end of message");

    /* size first: a stream that is too big is that, whatever else */
    mc->size += (off_t)len + (type == REC_TYPE_NORM);
    if (mc->size_limit > 0 && mc->size > mc->size_limit)
        return maildrop_refuse(mc, MAILDROP_CHECK_TOO_BIG, "message too large");

    switch (mc->state) {
    case MC_TIME:
        if (type != REC_TYPE_TIME)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "%s record where time was expected",
                                   rec_type_name(type));
        if (!maildrop_time_ok(data, len))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "malformed time record");
        mc->state = MC_ATTR;
        return 0;
    case MC_ATTR:
        if (type == REC_TYPE_ATTR)
            return maildrop_attr(mc, data, len);
        if (type != REC_TYPE_FROM)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "%s record where sender was expected",
                                   rec_type_name(type));
        if (!maildrop_text_ok(data, len, MAILDROP_ADDR_MAX))
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "bad sender address");
        mc->sender = mystrndup(data, len);
        mc->state = MC_RCPT;
        return 0;
    case MC_RCPT:
        return maildrop_recipient(mc, type, data, len);
    case MC_BODY:
        if (len > MAILDROP_LINE_MAX)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "content record too long");
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT) {
            mc->cont_pending = (type == REC_TYPE_CONT);
            return 0;
        }
        if (type != REC_TYPE_XTRA)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "unexpected %s record in content",
                                   rec_type_name(type));
        if (mc->cont_pending)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "content ends inside a line");
        if (len != 0)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "malformed end of content record");
        mc->state = MC_END;
        return 0;
    case MC_END:
        if (type != REC_TYPE_END || len != 0)
            return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "%s record where end was expected",
                                   rec_type_name(type));
        mc->state = MC_DONE;
        return 0;
    default:
        return maildrop_refuse(mc, MAILDROP_CHECK_BAD, "internal error: state %d", mc->state);
    }
}

/* maildrop_get - read one record of a maildrop stream */

int maildrop_get(VSTREAM *fp, VSTRING *buf)
{
    size_t max = MAILDROP_LINE_MAX;

    if (max < MAILDROP_ADDR_MAX)
        max = MAILDROP_ADDR_MAX;
    return rec_get(fp, buf, max);
}

/* maildrop_user_name - login name of uid, or "unknown" */

const char *maildrop_user_name(uid_t uid, VSTRING *buf)
{
    UGID_USER user;

    if (ugid_user_byuid(uid, &user) == 1)
        vstring_strcpy(buf, user.name);
    else
        vstring_strcpy(buf, "unknown");
    return vstring_str(buf);
}

/* maildrop_file_has - is user one of the names in a file? 1, 0, -1 */

static int maildrop_file_has(const char *path, const char *user, VSTRING *why)
{
    VSTREAM *fp;
    VSTRING *word = vstring_alloc(32);
    int found = 0;
    int ch;

    if ((fp = vstream_fopen(path, O_RDONLY, 0)) == NULL) {
        vstring_sprintf(why, "open %s: %s", path, strerror(errno));
        vstring_free(word);
        return -1;
    }
    for (;;) {
        ch = vstream_getc(fp);
        if (ch == VSTREAM_EOF || isspace(ch) || ch == ',') {
            if (vstring_len(word) > 0 && strcasecmp(vstring_str(word), user) == 0) {
                found = 1;
                break;
            }
            vstring_truncate(word, 0);
            if (ch == VSTREAM_EOF)
                break;
            continue;
        }
        if (ch == '#' && vstring_len(word) == 0) { /* comment to end of line */
            while ((ch = vstream_getc(fp)) != VSTREAM_EOF && ch != '\n')
                ;
            if (ch == VSTREAM_EOF)
                break;
            continue;
        }
        if (vstring_len(word) < UGID_NAME_MAX)
            vstring_addch(word, ch);
    }
    if (!found && vstream_ferror(fp)) {
        vstring_sprintf(why, "read %s: %s", path, strerror(errno));
        found = -1;
    }
    vstream_fclose(fp);
    vstring_free(word);
    return found;
}

int maildrop_submit_ok(const char *user, VSTRING *why)
{
    ARGV *list = maps_split(var_authorized_submit_users);
    const char *value;
    const char *elem;
    DICT *dict;
    int negate;
    int match;
    int result = 0;

    for (int i = 0; i < list->argc; i++) {
        elem = list->argv[i];
        negate = (elem[0] == '!');
        if (negate)
            elem++;
        if (elem[0] == '/') {
            match = maildrop_file_has(elem, user, why);
        } else if (strchr(elem, ':') != NULL) {
            dict = dict_open(elem, O_RDONLY, DICT_FLAG_DEFAULT);
            match = dict_get(dict, user, &value);
            if (match == DICT_STAT_ERROR)
                vstring_sprintf(why, "authorized_submit_users: %s: %s", elem, dict_error(dict));
            dict_close(dict);
            match = (match == DICT_STAT_ERROR ? -1 : match == DICT_STAT_FOUND);
        } else {
            match = strcasecmp(elem, user) == 0;
        }
        if (match != 0) {
            result = match < 0 ? -1 : !negate;
            break;
        }
    }
    argv_free(list);
    return result;
}

int maildrop_temp_name(const char *name)
{
    return strncmp(name, MAILDROP_TEMP_PREFIX, sizeof(MAILDROP_TEMP_PREFIX) - 1) == 0;
}
