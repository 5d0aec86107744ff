/*
 * NAME
 *	mymalloc - allocation wrappers that never return NULL
 * SYNOPSIS
 *	#include "mymalloc.h"
 *
 *	void *mymalloc(size_t len)
 *	void *mycalloc(size_t n, size_t len)
 *	void *myrealloc(void *ptr, size_t len)
 *	void myfree(void *ptr)
 *	char *mystrdup(const char *str)
 *	char *mystrndup(const char *str, size_t len)
 *	void *mymemdup(const void *ptr, size_t len)
 * DESCRIPTION
 *	These behave like their libc namesakes, except that they never
 *	return NULL: running out of memory, or a size that overflows,
 *	terminates the process with a fatal log message. A zero-length
 *	request returns a valid, unique pointer.
 *
 *	mystrndup() copies at most len bytes and always terminates the copy.
 *	mymemdup() copies len bytes and appends a NUL for convenience.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "mymalloc.h"
#include "msg.h"

void *mymalloc(size_t len)
{
    void *ptr = malloc(len ? len : 1);

    if (ptr == NULL)
        msg_fatal("out of memory allocating %zu bytes", len);
    return ptr;
}

void *mycalloc(size_t n, size_t len)
{
    void *ptr;

    if (len && n > SIZE_MAX / len)
        msg_fatal("mycalloc: size overflow: %zu x %zu", n, len);
    ptr = calloc(n ? n : 1, len ? len : 1);
    if (ptr == NULL)
        msg_fatal("out of memory allocating %zu x %zu bytes", n, len);
    return ptr;
}

void *myrealloc(void *ptr, size_t len)
{
    void *nptr = realloc(ptr, len ? len : 1);

    if (nptr == NULL)
        msg_fatal("out of memory reallocating to %zu bytes", len);
    return nptr;
}

void myfree(void *ptr)
{
    free(ptr);
}

char *mystrdup(const char *str)
{
    return mymemdup(str, strlen(str));
}

char *mystrndup(const char *str, size_t len)
{
    const char *end = memchr(str, 0, len);

    return mymemdup(str, end ? (size_t) (end - str) : len);
}

void *mymemdup(const void *ptr, size_t len)
{
    char *copy;

    if (len == SIZE_MAX)
        msg_fatal("mymemdup: size overflow");
    copy = mymalloc(len + 1);
    memcpy(copy, ptr, len);
    copy[len] = 0;
    return copy;
}
