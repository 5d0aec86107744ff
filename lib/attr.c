/*
 * NAME
 *	attr - the inter-process request/reply format
 * SYNOPSIS
 *	#include "attr.h"
 *
 *	int attr_print(VSTREAM *fp, ...)
 *	int attr_vprint(VSTREAM *fp, va_list ap)
 *	int attr_scan(VSTREAM *fp, int flags, ...)
 *	int attr_scan_limit(VSTREAM *fp, int flags, size_t value_max, ...)
 *	int attr_vscan(VSTREAM *fp, int flags, size_t value_max, va_list ap)
 *	int attr_scan_nv(VSTREAM *fp, size_t value_max, NVTABLE *table)
 *	int attr_clnt_request(const char *path, int timeout, int reply_flags, ...)
 *	int attr_clnt_stream(VSTREAM *fp, int reply_flags, ...)
 *
 *	NVTABLE *attr_nv_create(void)
 *	void attr_nv_update(NVTABLE *table, const char *name, const char *value)
 *	const char *attr_nv_find(NVTABLE *table, const char *name)
 *	void attr_nv_free(NVTABLE *table)
 * DESCRIPTION
 *	attr_print() and attr_vprint() send one list of name/value pairs,
 *	each NUL-terminated, then an empty name, and flush. The items are
 *	checked in a first pass, so a refused item means nothing at all
 *	was written.
 *
 *	attr_scan(), attr_scan_limit() and attr_vscan() read one list and
 *	fill the items asked for; attr_scan_nv() reads one list into a
 *	name->value table. Reading is byte by byte from the stream buffer
 *	with every length bounded before it is stored, so truncated or
 *	hostile input ends in an error return, never in unbounded memory.
 *
 *	attr_clnt_request() is one request/reply exchange on a new
 *	connection to a UNIX-domain socket; attr_clnt_stream() one exchange
 *	on an open stream.
 *
 *	The attr_nv_*() functions manage a table of strings keyed by name.
 *
 *	attr.h states the item syntax, the limits and the error returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "mymalloc.h"
#include "sock.h"

#define ATTR_ITEMS_MAX 64 /* named items in one attr_scan() call */

/* ---------------------------------------------------------------- */
/* name/value tables */

NVTABLE *attr_nv_create(void)
{
    return htable_create(13);
}

void attr_nv_update(NVTABLE *table, const char *name, const char *value)
{
    HTABLE_INFO *ht = htable_locate(table, name);

    if (ht) {
        myfree(ht->value);
        ht->value = mystrdup(value);
    } else {
        htable_enter(table, name, mystrdup(value));
    }
}

const char *attr_nv_find(NVTABLE *table, const char *name)
{
    return htable_find(table, name);
}

void attr_nv_free(NVTABLE *table)
{
    htable_free(table, myfree);
}

static void attr_nv_clear(NVTABLE *table)
{
    HTABLE_INFO **list = htable_list(table);

    for (HTABLE_INFO **hp = list; *hp; hp++)
        htable_delete(table, (*hp)->key, myfree);
    myfree(list);
}

/* ---------------------------------------------------------------- */
/* writing */

/* attr_name_ok - 1..ATTR_NAME_MAX bytes of [A-Za-z0-9_.-] */
static int attr_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > ATTR_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

static void attr_check_name(const char *name)
{
    if (name == NULL || !attr_name_ok(name, strnlen(name, ATTR_NAME_MAX + 1)))
        msg_panic("attr_print: bad attribute name \"%.100s\"", name ? name : "(null)");
}

static int attr_check_value(VSTREAM *fp, const char *name, const char *value)
{
    if (value == NULL)
        msg_panic("attr_print: null value for attribute %s", name);
    if (strnlen(value, ATTR_VALUE_HARD_MAX + 1) > ATTR_VALUE_HARD_MAX) {
        msg_warn("%s: attribute %s: value too long to send", vstream_path(fp), name);
        return -1;
    }
    return 0;
}

/* attr_print_check - first pass: check every item, consume a copy of the list */
static int attr_print_check(VSTREAM *fp, va_list *ap)
{
    const char *name;
    int type;
    int ret = 0;

    while ((type = va_arg(*ap, int)) != ATTR_TYPE_END) {
        switch (type) {
        case ATTR_TYPE_STR:
            name = va_arg(*ap, const char *);
            attr_check_name(name);
            if (attr_check_value(fp, name, va_arg(*ap, const char *)) < 0)
                ret = -1;
            break;
        case ATTR_TYPE_INT:
            name = va_arg(*ap, const char *);
            attr_check_name(name);
            (void)va_arg(*ap, long);
            break;
        case ATTR_TYPE_NV: {
            NVTABLE *table = va_arg(*ap, NVTABLE *);
            HTABLE_INFO **list = htable_list(table);

            for (HTABLE_INFO **hp = list; *hp; hp++) {
                attr_check_name((*hp)->key);
                if (attr_check_value(fp, (*hp)->key, (*hp)->value) < 0)
                    ret = -1;
            }
            myfree(list);
            break;
        }
        default:
            msg_panic("attr_print: bad item type %d", type);
        }
    }
    return ret;
}

static void attr_put_pair(VSTREAM *fp, const char *name, const char *value)
{
    vstream_fwrite(fp, name, strlen(name) + 1);
    vstream_fwrite(fp, value, strlen(value) + 1);
}

static int attr_vprint_ptr(VSTREAM *fp, va_list *ap)
{
    va_list check;
    const char *name;
    char num[32];
    int type;
    int ret;

    va_copy(check, *ap);
    ret = attr_print_check(fp, &check);
    va_end(check);
    if (ret < 0)
        return -1;
    while ((type = va_arg(*ap, int)) != ATTR_TYPE_END) {
        switch (type) {
        case ATTR_TYPE_STR:
            name = va_arg(*ap, const char *);
            attr_put_pair(fp, name, va_arg(*ap, const char *));
            break;
        case ATTR_TYPE_INT:
            name = va_arg(*ap, const char *);
            snprintf(num, sizeof(num), "%ld", va_arg(*ap, long));
            attr_put_pair(fp, name, num);
            break;
        case ATTR_TYPE_NV: {
            NVTABLE *table = va_arg(*ap, NVTABLE *);
            HTABLE_INFO **list = htable_list(table);

            for (HTABLE_INFO **hp = list; *hp; hp++)
                attr_put_pair(fp, (*hp)->key, (*hp)->value);
            myfree(list);
            break;
        }
        }
    }
    vstream_putc(0, fp);
    if (vstream_fflush(fp) == VSTREAM_EOF || vstream_ferror(fp)) {
        msg_warn("%s: error sending attributes: %s", vstream_path(fp),
                 vstream_ftimeout(fp) ? "timeout" : "write error");
        return -1;
    }
    return 0;
}

int attr_vprint(VSTREAM *fp, va_list ap)
{
    va_list cp;
    int ret;

    va_copy(cp, ap);
    ret = attr_vprint_ptr(fp, &cp);
    va_end(cp);
    return ret;
}

int attr_print(VSTREAM *fp, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fp);
    ret = attr_vprint_ptr(fp, &ap);
    va_end(ap);
    return ret;
}

/* ---------------------------------------------------------------- */
/* reading */

typedef struct ATTR_ITEM {
    int type;
    const char *name;
    void *target;
    int found;
} ATTR_ITEM;

static void attr_read_error(VSTREAM *fp, const char *where)
{
    msg_warn("%s: premature end-of-input while reading %s: %s", vstream_path(fp), where,
             vstream_ftimeout(fp) ? "timeout"
             : vstream_ferror(fp) ? "read error"
                                  : "end of file");
}

/*
 * attr_read_name - read one name into name[]; 1 = got one, 0 = end of
 * list, -1 = error (first: nothing read yet in this list)
 */
static int attr_read_name(VSTREAM *fp, char *name, int first)
{
    size_t len = 0;
    int ch;

    for (;;) {
        if ((ch = vstream_getc(fp)) == VSTREAM_EOF) {
            if (!(first && len == 0 && vstream_feof(fp) && !vstream_ferror(fp)))
                attr_read_error(fp, "attribute name");
            return -1;
        }
        if (ch == 0)
            break;
        if (len >= ATTR_NAME_MAX) {
            msg_warn("%s: attribute name too long", vstream_path(fp));
            return -1;
        }
        name[len++] = (char)ch;
    }
    name[len] = 0;
    if (len == 0)
        return 0;
    if (!attr_name_ok(name, len)) {
        msg_warn("%s: bad attribute name \"%.100s\"", vstream_path(fp), name);
        return -1;
    }
    return 1;
}

/* attr_read_value - read one value into buf (replaced), at most limit bytes */
static int attr_read_value(VSTREAM *fp, const char *name, VSTRING *buf, size_t limit)
{
    int ch;

    vstring_reset(buf);
    for (;;) {
        if ((ch = vstream_getc(fp)) == VSTREAM_EOF) {
            attr_read_error(fp, "attribute value");
            return -1;
        }
        if (ch == 0)
            return 0;
        if (vstring_len(buf) >= limit) {
            msg_warn("%s: value of attribute %s exceeds %zu bytes", vstream_path(fp), name, limit);
            return -1;
        }
        vstring_addch(buf, ch);
    }
}

static int attr_parse_long(const char *str, long *out)
{
    char *end;
    long val;

    if (*str == 0 || !(*str == '-' || (*str >= '0' && *str <= '9')))
        return -1;
    errno = 0;
    val = strtol(str, &end, 10);
    if (errno != 0 || *end != 0 || end == str || (str[0] == '-' && str[1] == 0))
        return -1;
    *out = val;
    return 0;
}

static int attr_vscan_ptr(VSTREAM *fp, int flags, size_t value_max, va_list *ap)
{
    ATTR_ITEM items[ATTR_ITEMS_MAX];
    size_t nitems = 0;
    NVTABLE *nv = NULL;
    char name[ATTR_NAME_MAX + 1];
    static VSTRING *scratch;
    size_t count = 0;
    int filled = 0;
    int type;
    int ret;

    if (scratch == NULL)
        scratch = vstring_alloc(100);
    if (value_max == 0)
        value_max = ATTR_VALUE_MAX;
    if (value_max > ATTR_VALUE_HARD_MAX)
        msg_panic("attr_scan: value limit %zu over %d", value_max, ATTR_VALUE_HARD_MAX);
    while ((type = va_arg(*ap, int)) != ATTR_TYPE_END) {
        if (type == ATTR_TYPE_GET_NV) {
            if (nv != NULL)
                msg_panic("attr_scan: more than one ATTR_GET_NV");
            nv = va_arg(*ap, NVTABLE *);
            continue;
        }
        if (type != ATTR_TYPE_GET_STR && type != ATTR_TYPE_GET_INT)
            msg_panic("attr_scan: bad item type %d", type);
        if (nitems >= ATTR_ITEMS_MAX)
            msg_panic("attr_scan: more than %d items", ATTR_ITEMS_MAX);
        items[nitems].type = type;
        items[nitems].name = va_arg(*ap, const char *);
        if (type == ATTR_TYPE_GET_STR)
            items[nitems].target = va_arg(*ap, VSTRING *);
        else
            items[nitems].target = va_arg(*ap, long *);
        items[nitems].found = 0;
        attr_check_name(items[nitems].name);
        nitems++;
    }
    if (nv)
        attr_nv_clear(nv);

    while ((ret = attr_read_name(fp, name, count == 0)) > 0) {
        ATTR_ITEM *item = NULL;

        if (++count > ATTR_COUNT_MAX) {
            msg_warn("%s: more than %d attributes", vstream_path(fp), ATTR_COUNT_MAX);
            return -1;
        }
        for (size_t i = 0; i < nitems; i++) {
            if (strcmp(items[i].name, name) == 0) {
                item = &items[i];
                break;
            }
        }
        if (item == NULL) {
            if (nv == NULL && (flags & ATTR_FLAG_EXTRA)) {
                msg_warn("%s: unexpected attribute %s", vstream_path(fp), name);
                return -1;
            }
            if (attr_read_value(fp, name, scratch, value_max) < 0)
                return -1;
            if (nv != NULL) {
                if (htable_locate(nv, name) != NULL) {
                    msg_warn("%s: duplicate attribute %s", vstream_path(fp), name);
                    return -1;
                }
                attr_nv_update(nv, name, vstring_str(scratch));
            }
            continue;
        }
        if (item->found) {
            msg_warn("%s: duplicate attribute %s", vstream_path(fp), name);
            return -1;
        }
        if (item->type == ATTR_TYPE_GET_STR) {
            if (attr_read_value(fp, name, (VSTRING *)item->target, value_max) < 0)
                return -1;
        } else {
            if (attr_read_value(fp, name, scratch, value_max) < 0)
                return -1;
            if (attr_parse_long(vstring_str(scratch), (long *)item->target) < 0) {
                msg_warn("%s: attribute %s: bad numerical value \"%.30s\"", vstream_path(fp), name,
                         vstring_str(scratch));
                return -1;
            }
        }
        item->found = 1;
        filled++;
    }
    if (ret < 0)
        return -1;
    if (flags & ATTR_FLAG_MISSING) {
        for (size_t i = 0; i < nitems; i++) {
            if (!items[i].found) {
                msg_warn("%s: missing attribute %s", vstream_path(fp), items[i].name);
                return -1;
            }
        }
    }
    return filled;
}

int attr_vscan(VSTREAM *fp, int flags, size_t value_max, va_list ap)
{
    va_list cp;
    int ret;

    va_copy(cp, ap);
    ret = attr_vscan_ptr(fp, flags, value_max, &cp);
    va_end(cp);
    return ret;
}

int attr_scan(VSTREAM *fp, int flags, ...)
{
    va_list ap;
    int ret;

    va_start(ap, flags);
    ret = attr_vscan_ptr(fp, flags, ATTR_VALUE_MAX, &ap);
    va_end(ap);
    return ret;
}

int attr_scan_limit(VSTREAM *fp, int flags, size_t value_max, ...)
{
    va_list ap;
    int ret;

    va_start(ap, value_max);
    ret = attr_vscan_ptr(fp, flags, value_max, &ap);
    va_end(ap);
    return ret;
}

int attr_scan_nv(VSTREAM *fp, size_t value_max, NVTABLE *table)
{
    if (attr_scan_limit(fp, ATTR_FLAG_NONE, value_max, ATTR_GET_NV(table), ATTR_END) < 0)
        return -1;
    return (int)table->used;
}

/* ---------------------------------------------------------------- */
/* request/reply */

static int attr_clnt_exchange(VSTREAM *fp, int reply_flags, va_list *ap)
{
    if (attr_vprint_ptr(fp, ap) < 0)
        return -1;
    if (vstream_fflush(fp) == VSTREAM_EOF)
        return -1;
    return attr_vscan_ptr(fp, reply_flags, ATTR_VALUE_MAX, ap);
}

int attr_clnt_request(const char *path, int timeout, int reply_flags, ...)
{
    VSTRING *why = vstring_alloc(100);
    VSTREAM *fp;
    va_list ap;
    int fd;
    int ret;

    if ((fd = unix_connect(path, timeout, why)) < 0) {
        msg_warn("%s", vstring_str(why));
        vstring_free(why);
        return -1;
    }
    vstring_free(why);
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(fp, path);
    vstream_set_timeout(fp, timeout);
    va_start(ap, reply_flags);
    ret = attr_clnt_exchange(fp, reply_flags, &ap);
    va_end(ap);
    if (ret < 0 && vstream_feof(fp) && !vstream_ferror(fp))
        msg_warn("%s: connection closed before reply", path);
    vstream_fclose(fp);
    return ret;
}

int attr_clnt_stream(VSTREAM *fp, int reply_flags, ...)
{
    va_list ap;
    int ret;

    va_start(ap, reply_flags);
    ret = attr_clnt_exchange(fp, reply_flags, &ap);
    va_end(ap);
    return ret;
}
