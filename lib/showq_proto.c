/*
 * NAME
 *	showq_proto - both ends of the showq(8) queue listing
 * SYNOPSIS
 *	#include "showq_proto.h"
 *
 *	SHOWQ_MSG *showq_msg_alloc(void)
 *	void showq_msg_reset(SHOWQ_MSG *msg)
 *	void showq_msg_free(SHOWQ_MSG *msg)
 *	void showq_msg_set(char **field, const char *value)
 *	void showq_msg_add_rcpt(SHOWQ_MSG *msg, const char *address, const char *reason)
 *	int showq_send_message(VSTREAM *fp, const SHOWQ_MSG *msg)
 *	int showq_send_end(VSTREAM *fp)
 *	int showq_read(VSTREAM *fp, SHOWQ_MSG *msg)
 *	const char *showq_printable(VSTRING *out, const char *in)
 *	size_t showq_utf8_len(const char *cp)
 * DESCRIPTION
 *	showq_send_message() writes one attribute list for the message and
 *	one per recipient; showq_send_end() the status list that ends a
 *	listing. showq_read() reads a message list, or the final status,
 *	then exactly as many recipient lists as the message announced,
 *	each read strictly (every name present, no other name).
 *
 *	showq_printable() makes a value safe to print on a terminal and in
 *	JSON: valid UTF-8 sequences (smtpd_cmd_utf8_ok(): no overlong
 *	forms, no surrogates, at most U+10FFFF) are kept, everything else
 *	that is not printable ASCII becomes '?'. showq_utf8_len() measures
 *	one such sequence.
 * DIAGNOSTICS
 *	showq_read() warns about anything malformed; a clean end of the
 *	stream before the final status is reported as a lost connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "mymalloc.h"
#include "showq_proto.h"
#include "smtpd_cmd.h"

SHOWQ_MSG *showq_msg_alloc(void)
{
    SHOWQ_MSG *msg = mycalloc(1, sizeof(*msg));

    msg->queue_name = mystrdup("");
    msg->queue_id = mystrdup("");
    msg->sender = mystrdup("");
    return msg;
}

void showq_msg_reset(SHOWQ_MSG *msg)
{
    for (int i = 0; i < msg->rcpt_count; i++) {
        myfree(msg->rcpt[i].address);
        myfree(msg->rcpt[i].reason);
    }
    msg->rcpt_count = 0;
    showq_msg_set(&msg->queue_name, "");
    showq_msg_set(&msg->queue_id, "");
    showq_msg_set(&msg->sender, "");
    msg->arrival_time = 0;
    msg->message_size = 0;
    msg->forced_expire = 0;
}

void showq_msg_free(SHOWQ_MSG *msg)
{
    showq_msg_reset(msg);
    myfree(msg->rcpt);
    myfree(msg->queue_name);
    myfree(msg->queue_id);
    myfree(msg->sender);
    myfree(msg);
}

void showq_msg_set(char **field, const char *value)
{
    char *copy = mystrdup(value);

    myfree(*field);
    *field = copy;
}

void showq_msg_add_rcpt(SHOWQ_MSG *msg, const char *address, const char *reason)
{
    if (msg->rcpt_count >= msg->rcpt_size) {
        msg->rcpt_size = msg->rcpt_size ? 2 * msg->rcpt_size : 4;
        msg->rcpt = myrealloc(msg->rcpt, sizeof(*msg->rcpt) * (size_t)msg->rcpt_size);
    }
    msg->rcpt[msg->rcpt_count].address = mystrdup(address);
    msg->rcpt[msg->rcpt_count].reason = mystrdup(reason ? reason : "");
    msg->rcpt_count++;
}

int showq_send_message(VSTREAM *fp, const SHOWQ_MSG *msg)
{
    if (attr_print(fp, ATTR_STR(SHOWQ_ATTR_QUEUE_NAME, msg->queue_name),
                   ATTR_STR(SHOWQ_ATTR_QUEUE_ID, msg->queue_id),
                   ATTR_INT(SHOWQ_ATTR_ARRIVAL, msg->arrival_time),
                   ATTR_INT(SHOWQ_ATTR_SIZE, msg->message_size),
                   ATTR_INT(SHOWQ_ATTR_EXPIRE, msg->forced_expire),
                   ATTR_STR(SHOWQ_ATTR_SENDER, msg->sender),
                   ATTR_INT(SHOWQ_ATTR_RCPT_COUNT, msg->rcpt_count), ATTR_END) < 0)
        return -1;
    for (int i = 0; i < msg->rcpt_count; i++)
        if (attr_print(fp, ATTR_STR(SHOWQ_ATTR_ADDRESS, msg->rcpt[i].address),
                       ATTR_STR(SHOWQ_ATTR_REASON, msg->rcpt[i].reason), ATTR_END) < 0)
            return -1;
    return 0;
}

int showq_send_end(VSTREAM *fp)
{
    return attr_print(fp, ATTR_INT(SHOWQ_ATTR_STATUS, SHOWQ_STAT_OK), ATTR_END);
}

/* showq_number - a decimal value from the table; 0 or -1 */

static int showq_number(NVTABLE *nv, const char *name, long min, long max, long *result)
{
    const char *value = attr_nv_find(nv, name);
    char *end;
    long val;

    if (value == NULL || *value == 0) {
        msg_warn("showq: malformed listing: no %s", name);
        return -1;
    }
    errno = 0;
    val = strtol(value, &end, 10);
    if (errno || *end || val < min || val > max) {
        msg_warn("showq: malformed listing: bad %s \"%.50s\"", name, value);
        return -1;
    }
    *result = val;
    return 0;
}

static const char *showq_string(NVTABLE *nv, const char *name)
{
    const char *value = attr_nv_find(nv, name);

    if (value == NULL)
        msg_warn("showq: malformed listing: no %s", name);
    return value;
}

static int showq_lost(VSTREAM *fp)
{
    if (vstream_feof(fp) && !vstream_ferror(fp))
        msg_warn("showq: connection lost before the end of the listing");
    return -1;
}

int showq_read(VSTREAM *fp, SHOWQ_MSG *msg)
{
    NVTABLE *nv = attr_nv_create();
    VSTRING *addr = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const char *name, *id, *sender;
    long status, count, arrival, size, expire;
    int ret = -1;

    showq_msg_reset(msg);
    if (attr_scan_nv(fp, ATTR_VALUE_MAX, nv) < 0) {
        ret = showq_lost(fp);
        goto out;
    }
    if (attr_nv_find(nv, SHOWQ_ATTR_STATUS) != NULL) {
        if (nv->used != 1 || showq_number(nv, SHOWQ_ATTR_STATUS, 0, 0x7fffffffL, &status) < 0)
            goto out;
        if (status != SHOWQ_STAT_OK) {
            msg_warn("showq: listing failed with status %ld", status);
            goto out;
        }
        ret = 0;
        goto out;
    }
    if ((name = showq_string(nv, SHOWQ_ATTR_QUEUE_NAME)) == NULL ||
        (id = showq_string(nv, SHOWQ_ATTR_QUEUE_ID)) == NULL ||
        (sender = showq_string(nv, SHOWQ_ATTR_SENDER)) == NULL ||
        showq_number(nv, SHOWQ_ATTR_ARRIVAL, 0, 0x7fffffffffffffffL, &arrival) < 0 ||
        showq_number(nv, SHOWQ_ATTR_SIZE, 0, 0x7fffffffffffffffL, &size) < 0 ||
        showq_number(nv, SHOWQ_ATTR_EXPIRE, 0, 1, &expire) < 0 ||
        showq_number(nv, SHOWQ_ATTR_RCPT_COUNT, 0, SHOWQ_RCPT_MAX, &count) < 0)
        goto out;
    showq_msg_set(&msg->queue_name, showq_printable(why, name));
    showq_msg_set(&msg->queue_id, showq_printable(why, id));
    showq_msg_set(&msg->sender, showq_printable(why, sender));
    msg->arrival_time = arrival;
    msg->message_size = size;
    msg->forced_expire = (int)expire;
    for (long i = 0; i < count; i++) {
        if (attr_scan(fp, ATTR_FLAG_STRICT, ATTR_GET_STR(SHOWQ_ATTR_ADDRESS, addr),
                      ATTR_GET_STR(SHOWQ_ATTR_REASON, why), ATTR_END) != 2) {
            ret = showq_lost(fp);
            goto out;
        }
        /* showq_printable() may rewrite a VSTRING from its own content */
        showq_printable(addr, vstring_str(addr));
        showq_printable(why, vstring_str(why));
        showq_msg_add_rcpt(msg, vstring_str(addr), vstring_str(why));
    }
    ret = 1;
out:
    attr_nv_free(nv);
    vstring_free(addr);
    vstring_free(why);
    return ret;
}

/* showq_utf8_len - bytes of the well-formed UTF-8 sequence at cp, or 0 */

size_t showq_utf8_len(const char *cp)
{
    unsigned char ch = (unsigned char)cp[0];
    size_t len;

    if (ch >= 0xc2 && ch <= 0xdf)
        len = 2;
    else if (ch >= 0xe0 && ch <= 0xef)
        len = 3;
    else if (ch >= 0xf0 && ch <= 0xf4)
        len = 4;
    else
        return 0;
    for (size_t i = 1; i < len; i++)
        if (cp[i] == 0)
            return 0;
    return smtpd_cmd_utf8_ok(cp, len) ? len : 0;
}

const char *showq_printable(VSTRING *out, const char *in)
{
    const unsigned char *cp = (const unsigned char *)in;
    VSTRING *tmp = vstring_alloc(strlen(in) + 1);
    size_t len;

    while (*cp) {
        if (*cp >= 0x20 && *cp < 0x7f) {
            vstring_addch(tmp, *cp++);
        } else if (*cp >= 0x80 && (len = showq_utf8_len((const char *)cp)) > 0) {
            vstring_memcat(tmp, cp, len);
            cp += len;
        } else {
            vstring_addch(tmp, '?');
            cp++;
        }
    }
    vstring_memcpy(out, vstring_str(tmp), vstring_len(tmp));
    vstring_free(tmp);
    return vstring_str(out);
}
