/*
 * NAME
 *	argv - growable, NULL-terminated string arrays
 * SYNOPSIS
 *	#include "argv.h"
 *
 *	ARGV *argv_alloc(int init)
 *	void argv_free(ARGV *ap)
 *	void argv_add(ARGV *ap, const char *str)
 *	void argv_addn(ARGV *ap, const char *str, size_t len)
 *	void argv_truncate(ARGV *ap, int argc)
 *	ARGV *argv_split(const char *str, const char *delim)
 *	ARGV *argv_split_braces(const char *str, const char *delim)
 * DESCRIPTION
 *	argv_alloc() makes an empty array. argv_add() appends a copy of
 *	str; argv_addn() a copy of its first len bytes. argv_truncate()
 *	drops (and frees) entries from position argc on. argv_free()
 *	releases the array and its strings; a NULL argument is ignored.
 *
 *	argv_split() returns the non-empty fields of str separated by any
 *	byte of delim. argv_split_braces() does the same, except that a
 *	field starting with "{" runs to its matching "}" and is stored
 *	without the braces and without white space just inside them; it
 *	returns NULL when a brace is not closed.
 */
#include <string.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"

ARGV *argv_alloc(int init)
{
    ARGV *ap = mymalloc(sizeof(*ap));

    ap->size = init > 0 ? init : 4;
    ap->argc = 0;
    ap->argv = mymalloc(sizeof(char *) * (size_t) (ap->size + 1));
    ap->argv[0] = NULL;
    return ap;
}

void argv_free(ARGV *ap)
{
    if (ap == NULL)
        return;
    for (int i = 0; i < ap->argc; i++)
        myfree(ap->argv[i]);
    myfree(ap->argv);
    myfree(ap);
}

void argv_addn(ARGV *ap, const char *str, size_t len)
{
    if (ap->argc >= ap->size) {
        if (ap->size > (1 << 28))
            msg_fatal("argv_addn: too many entries");
        ap->size *= 2;
        ap->argv = myrealloc(ap->argv, sizeof(char *) * (size_t) (ap->size + 1));
    }
    ap->argv[ap->argc++] = mymemdup(str, len);
    ap->argv[ap->argc] = NULL;
}

void argv_add(ARGV *ap, const char *str)
{
    argv_addn(ap, str, strlen(str));
}

void argv_truncate(ARGV *ap, int argc)
{
    if (argc < 0)
        argc = 0;
    while (ap->argc > argc)
        myfree(ap->argv[--ap->argc]);
    ap->argv[ap->argc] = NULL;
}

ARGV *argv_split(const char *str, const char *delim)
{
    ARGV *ap = argv_alloc(4);
    size_t len;

    while (*str) {
        str += strspn(str, delim);
        len = strcspn(str, delim);
        if (len > 0)
            argv_addn(ap, str, len);
        str += len;
    }
    return ap;
}

/* argv_add_group - add the text between braces, trimmed of white space */
static void argv_add_group(ARGV *ap, const char *start, const char *end)
{
    while (start < end && strchr(ARGV_DELIM_SPACE, *start))
        start++;
    while (end > start && strchr(ARGV_DELIM_SPACE, end[-1]))
        end--;
    argv_addn(ap, start, (size_t) (end - start));
}

ARGV *argv_split_braces(const char *str, const char *delim)
{
    ARGV *ap = argv_alloc(4);
    size_t len;

    while (*str) {
        str += strspn(str, delim);
        if (*str == '{') {
            int depth = 0;
            const char *cp;

            for (cp = str; *cp; cp++) {
                if (*cp == '{')
                    depth++;
                else if (*cp == '}' && --depth == 0)
                    break;
            }
            if (*cp != '}') {
                argv_free(ap);
                return NULL;
            }
            argv_add_group(ap, str + 1, cp);
            str = cp + 1;
            continue;
        }
        len = strcspn(str, delim);
        if (len > 0)
            argv_addn(ap, str, len);
        str += len;
    }
    return ap;
}
