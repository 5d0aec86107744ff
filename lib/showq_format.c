/*
 * NAME
 *	showq_format - Postfix's queue listings: mailq text and JSON lines
 * SYNOPSIS
 *	#include "showq_format.h"
 *
 *	void showq_text_heading(VSTRING *out)
 *	void showq_text_message(VSTRING *out, const SHOWQ_MSG *msg)
 *	void showq_text_trailer(VSTRING *out, unsigned long count,
 *			unsigned long long total_size)
 *	void showq_json_message(VSTRING *out, const SHOWQ_MSG *msg)
 *	void showq_json_quote(VSTRING *out, const char *str)
 * DESCRIPTION
 *	These functions turn what showq(8) sends (lib/showq_proto.h) into
 *	the two listings that admins' scripts parse; showq_format.h gives
 *	the exact columns. The text listing groups nothing and sorts
 *	nothing: recipients come in the order showq sent them, and a reason
 *	line appears whenever the reason changes, so showq sends recipients
 *	with the same reason next to each other.
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>
#include <time.h>

#include "showq_format.h"

#define SHOWQ_ID_WIDTH 11 /* queue ID and its status marks */
#define SHOWQ_SIZE_WIDTH 7
#define SHOWQ_TIME_WIDTH 20
#define SHOWQ_REASON_END 76 /* "(reason)" ends in column 78 */

void showq_text_heading(VSTRING *out)
{
    vstring_sprintf_append(out, "%-*s %*s %-*s %s\n", SHOWQ_ID_WIDTH, "-Queue ID-",
                           SHOWQ_SIZE_WIDTH, "--Size--", SHOWQ_TIME_WIDTH, "----Arrival Time----",
                           "-Sender/Recipient-------");
}

/* showq_text_time - asctime()'s layout, cut to 20 columns */

static void showq_text_time(VSTRING *out, long when)
{
    time_t t = (time_t)when;
    struct tm tm;
    char buf[64];

    if (localtime_r(&t, &tm) == NULL ||
        strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm) == 0)
        strcpy(buf, "??");
    vstring_sprintf_append(out, "%-*.*s", SHOWQ_TIME_WIDTH, SHOWQ_TIME_WIDTH, buf);
}

void showq_text_message(VSTRING *out, const SHOWQ_MSG *msg)
{
    VSTRING *id = vstring_alloc(32);
    const char *prev_reason = "";
    const char *shown;
    int padding;

    vstring_strcpy(id, msg->queue_id);
    if (strcmp(msg->queue_name, "active") == 0)
        vstring_addch(id, '*');
    else if (strcmp(msg->queue_name, "hold") == 0)
        vstring_addch(id, '!');
    if (msg->forced_expire)
        vstring_addch(id, '#');
    vstring_sprintf_append(out, "%-*s %*ld ", SHOWQ_ID_WIDTH, vstring_str(id), SHOWQ_SIZE_WIDTH,
                           msg->message_size);
    showq_text_time(out, msg->arrival_time);
    vstring_sprintf_append(out, " %s\n", msg->sender);
    for (int i = 0; i < msg->rcpt_count; i++) {
        if (strcmp(prev_reason, msg->rcpt[i].reason) != 0) {
            prev_reason = msg->rcpt[i].reason;
            shown = *prev_reason ? prev_reason : "reason unavailable";
            padding = SHOWQ_REASON_END - (int)strlen(shown);
            if (padding < 0)
                padding = 0;
            vstring_sprintf_append(out, "%*s(%s)\n", padding, "", shown);
        }
        vstring_sprintf_append(out, "%-*s %*s %-*s %s\n", SHOWQ_ID_WIDTH, "", SHOWQ_SIZE_WIDTH, "",
                               SHOWQ_TIME_WIDTH, "", msg->rcpt[i].address);
    }
    vstring_free(id);
}

void showq_text_trailer(VSTRING *out, unsigned long count, unsigned long long total_size)
{
    if (count == 0)
        vstring_strcat(out, "Mail queue is empty\n");
    else
        vstring_sprintf_append(out, "\n-- %llu Kbytes in %lu Request%s.\n", total_size / 1024,
                               count, count == 1 ? "" : "s");
}

void showq_json_quote(VSTRING *out, const char *str)
{
    const unsigned char *cp = (const unsigned char *)str;
    size_t len;

    vstring_addch(out, '"');
    while (*cp) {
        switch (*cp) {
        case '"':
            vstring_strcat(out, "\\\"");
            break;
        case '\\':
            vstring_strcat(out, "\\\\");
            break;
        case '\b':
            vstring_strcat(out, "\\b");
            break;
        case '\f':
            vstring_strcat(out, "\\f");
            break;
        case '\n':
            vstring_strcat(out, "\\n");
            break;
        case '\r':
            vstring_strcat(out, "\\r");
            break;
        case '\t':
            vstring_strcat(out, "\\t");
            break;
        default:
            if (*cp < 0x20 || *cp == 0x7f) {
                vstring_sprintf_append(out, "\\u%04x", *cp);
            } else if (*cp < 0x80) {
                vstring_addch(out, *cp);
            } else if ((len = showq_utf8_len((const char *)cp)) > 0) {
                vstring_memcat(out, cp, len);
                cp += len;
                continue;
            } else {
                vstring_strcat(out, "\\ufffd");
            }
            break;
        }
        cp++;
    }
    vstring_addch(out, '"');
}

void showq_json_message(VSTRING *out, const SHOWQ_MSG *msg)
{
    vstring_strcat(out, "{\"queue_name\": ");
    showq_json_quote(out, msg->queue_name);
    vstring_strcat(out, ", \"queue_id\": ");
    showq_json_quote(out, msg->queue_id);
    vstring_sprintf_append(out,
                           ", \"arrival_time\": %ld, \"message_size\": %ld, "
                           "\"forced_expire\": %s, \"sender\": ",
                           msg->arrival_time, msg->message_size,
                           msg->forced_expire ? "true" : "false");
    showq_json_quote(out, msg->sender);
    vstring_strcat(out, ", \"recipients\": [");
    for (int i = 0; i < msg->rcpt_count; i++) {
        vstring_strcat(out, i ? ", {\"address\": " : "{\"address\": ");
        showq_json_quote(out, msg->rcpt[i].address);
        if (msg->rcpt[i].reason[0]) {
            vstring_strcat(out, ", \"delay_reason\": ");
            showq_json_quote(out, msg->rcpt[i].reason);
        }
        vstring_addch(out, '}');
    }
    vstring_strcat(out, "]}\n");
}
