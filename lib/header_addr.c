/*
 * NAME
 *	header_addr - where the addresses are in an address-list header value
 * SYNOPSIS
 *	#include "header_addr.h"
 *
 *	int header_addr_scan(const char *text, size_t len,
 *				HEADER_ADDR_SPAN **spans)
 * DESCRIPTION
 *	header_addr_scan() walks the value once, byte by byte, keeping
 *	track of quoted strings and (nested) comments, in which every
 *	special character is data, and of angle brackets. Outside them, a
 *	',' or ';' ends a list element and a ':' ends a group's display
 *	name. An element that had an angle address gives the inside of
 *	the brackets; any other element gives the range from its first
 *	to its last byte that is neither white space nor part of a
 *	comment at its end, if it has any.
 *
 *	Nothing is copied: the ranges index the caller's text, which may
 *	hold any bytes (a NUL is data).
 */
#include "header_addr.h"
#include "mymalloc.h"

typedef struct HEADER_ADDR_LIST {
    HEADER_ADDR_SPAN *spans;
    int count;
    int alloc;
} HEADER_ADDR_LIST;

static int header_addr_add(HEADER_ADDR_LIST *list, const char *text, size_t start, size_t end)
{
    /* trim white space, and a source route "@a,@b:" */
    while (start < end && (text[start] == ' ' || text[start] == '\t' || text[start] == '\r'
                           || text[start] == '\n'))
        start++;
    while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r'
                           || text[end - 1] == '\n'))
        end--;
    if (start < end && text[start] == '@') {
        size_t i = start;

        while (i < end && text[i] != ':' && text[i] != '"')
            i++;
        if (i < end && text[i] == ':')
            start = i + 1;
    }
    if (start >= end)
        return 0;
    if (list->count >= HEADER_ADDR_MAX)
        return -1;
    if (list->count == list->alloc) {
        list->alloc = list->alloc ? 2 * list->alloc : 4;
        list->spans = myrealloc(list->spans, sizeof(*list->spans) * (size_t) list->alloc);
    }
    list->spans[list->count].start = start;
    list->spans[list->count].len = end - start;
    list->count++;
    return 0;
}

int header_addr_scan(const char *text, size_t len, HEADER_ADDR_SPAN **spans)
{
    HEADER_ADDR_LIST list = {NULL, 0, 0};
    int in_quote = 0;
    int comment = 0;                            /* nesting depth */
    int in_angle = 0;
    int had_angle = 0;                          /* this element had <...> */
    size_t angle_start = 0;
    size_t bare_start = 0, bare_end = 0;        /* bare_end 0: nothing yet */
    int status = 0;

    *spans = NULL;
    for (size_t i = 0; i < len && status == 0; i++) {
        char ch = text[i];

        if (in_quote) {
            if (ch == '\\')
                i++;
            else if (ch == '"') {
                in_quote = 0;
                bare_end = i + 1;
            }
            continue;
        }
        if (comment) {
            if (ch == '\\')
                i++;
            else if (ch == '(')
                comment++;
            else if (ch == ')')
                comment--;
            continue;
        }
        switch (ch) {
        case '"':
            in_quote = 1;
            if (bare_end == 0)
                bare_start = i;
            break;
        case '(':
            comment = 1;
            break;
        case '<':
            if (in_angle) {
                status = -1;
                break;
            }
            in_angle = 1;
            angle_start = i + 1;
            break;
        case '>':
            if (!in_angle) {
                status = -1;
                break;
            }
            in_angle = 0;
            had_angle = 1;
            status = header_addr_add(&list, text, angle_start, i);
            break;
        case ',':
        case ';':
        case ':':
            if (in_angle)
                break;                          /* a route "<@a,@b:user@d>" */
            if (ch != ':' && !had_angle && bare_end > 0)
                status = header_addr_add(&list, text, bare_start, bare_end);
            had_angle = 0;
            bare_end = 0;
            break;
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;
        default:
            if (in_angle)
                break;
            if (bare_end == 0)
                bare_start = i;
            bare_end = i + 1;
            if (ch == '\\' && i + 1 < len)      /* obsolete quoted pair outside quotes */
                bare_end = ++i + 1;
            break;
        }
    }
    if (status == 0 && (in_quote || comment || in_angle))
        status = -1;
    if (status == 0 && !had_angle && bare_end > 0)
        status = header_addr_add(&list, text, bare_start, bare_end);
    if (status < 0) {
        myfree(list.spans);
        return -1;
    }
    *spans = list.spans;
    return list.count;
}
