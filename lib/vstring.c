/*
 * NAME
 *	vstring - growable, always NUL-terminated byte strings
 * SYNOPSIS
 *	#include "vstring.h"
 *
 *	VSTRING *vstring_alloc(size_t init)
 *	void vstring_free(VSTRING *vp)
 *	char *vstring_export(VSTRING *vp)
 *	void vstring_reset(VSTRING *vp)
 *	void vstring_truncate(VSTRING *vp, size_t len)
 *	void vstring_reserve(VSTRING *vp, size_t extra)
 *	VSTRING *vstring_addch(VSTRING *vp, int ch)
 *	VSTRING *vstring_strcpy(VSTRING *vp, const char *src)
 *	VSTRING *vstring_strcat(VSTRING *vp, const char *src)
 *	VSTRING *vstring_strncpy(VSTRING *vp, const char *src, size_t len)
 *	VSTRING *vstring_strncat(VSTRING *vp, const char *src, size_t len)
 *	VSTRING *vstring_memcpy(VSTRING *vp, const void *src, size_t len)
 *	VSTRING *vstring_memcat(VSTRING *vp, const void *src, size_t len)
 *	VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt, ...)
 *	VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt, ...)
 *	VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap)
 *	void vstring_lowercase(VSTRING *vp)
 *	void vstring_trim_right(VSTRING *vp)
 * DESCRIPTION
 *	vstring_alloc() makes an empty string with room for init bytes.
 *	vstring_free() releases it; vstring_export() releases the handle
 *	and returns the buffer, which the caller then owns.
 *
 *	The copy functions replace the content, the cat functions append.
 *	The strn variants stop at a NUL or after len bytes, whichever is
 *	first; the mem variants copy exactly len bytes, NULs included.
 *	vstring_truncate() shortens (never lengthens) the string.
 *	vstring_reserve() makes room for extra more bytes.
 *	vstring_lowercase() folds ASCII upper case; vstring_trim_right()
 *	drops trailing white space.
 *
 *	Every function keeps the content NUL-terminated. Sizes that would
 *	overflow are fatal. The copy and cat functions accept a source that
 *	lies inside the destination itself (the sprintf functions do not).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

VSTRING *vstring_alloc(size_t init)
{
    VSTRING *vp = mymalloc(sizeof(*vp));

    vp->size = (init ? init : 1) + 1;
    vp->data = mymalloc(vp->size);
    vp->data[0] = 0;
    vp->len = 0;
    return vp;
}

void vstring_free(VSTRING *vp)
{
    if (vp == NULL)
        return;
    myfree(vp->data);
    myfree(vp);
}

char *vstring_export(VSTRING *vp)
{
    char *data = vp->data;

    myfree(vp);
    return data;
}

void vstring_reset(VSTRING *vp)
{
    vp->len = 0;
    vp->data[0] = 0;
}

void vstring_truncate(VSTRING *vp, size_t len)
{
    if (len < vp->len) {
        vp->len = len;
        vp->data[len] = 0;
    }
}

void vstring_reserve(VSTRING *vp, size_t extra)
{
    size_t need;

    if (extra > SIZE_MAX / 2 - vp->len)
        msg_fatal("vstring_reserve: size overflow");
    need = vp->len + extra + 1;
    if (need <= vp->size)
        return;
    if (need < vp->size * 2)
        need = vp->size * 2;
    vp->data = myrealloc(vp->data, need);
    vp->size = need;
}

VSTRING *vstring_addch(VSTRING *vp, int ch)
{
    vstring_reserve(vp, 1);
    vp->data[vp->len++] = (char) ch;
    vp->data[vp->len] = 0;
    return vp;
}

VSTRING *vstring_memcat(VSTRING *vp, const void *src, size_t len)
{
    const char *cp = src;

    /* the source may lie inside our own buffer, which may move */
    if (cp >= vp->data && cp < vp->data + vp->size) {
        size_t offset = (size_t) (cp - vp->data);

        vstring_reserve(vp, len);
        cp = vp->data + offset;
    } else {
        vstring_reserve(vp, len);
    }
    memmove(vp->data + vp->len, cp, len);
    vp->len += len;
    vp->data[vp->len] = 0;
    return vp;
}

VSTRING *vstring_memcpy(VSTRING *vp, const void *src, size_t len)
{
    vp->len = 0;
    return vstring_memcat(vp, src, len);
}

VSTRING *vstring_strncat(VSTRING *vp, const char *src, size_t len)
{
    const char *end = memchr(src, 0, len);

    return vstring_memcat(vp, src, end ? (size_t) (end - src) : len);
}

VSTRING *vstring_strncpy(VSTRING *vp, const char *src, size_t len)
{
    vp->len = 0;
    return vstring_strncat(vp, src, len);
}

VSTRING *vstring_strcat(VSTRING *vp, const char *src)
{
    return vstring_memcat(vp, src, strlen(src));
}

VSTRING *vstring_strcpy(VSTRING *vp, const char *src)
{
    return vstring_memcpy(vp, src, strlen(src));
}

VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(vp->data + vp->len, vp->size - vp->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        msg_fatal("vstring_vsprintf_append: bad format");
    if ((size_t) n >= vp->size - vp->len) {
        vstring_reserve(vp, (size_t) n);
        n = vsnprintf(vp->data + vp->len, vp->size - vp->len, fmt, ap);
    }
    vp->len += (size_t) n;
    return vp;
}

VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(vp, fmt, ap);
    va_end(ap);
    return vp;
}

VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt, ...)
{
    va_list ap;

    vstring_reset(vp);
    va_start(ap, fmt);
    vstring_vsprintf_append(vp, fmt, ap);
    va_end(ap);
    return vp;
}

void vstring_lowercase(VSTRING *vp)
{
    for (size_t i = 0; i < vp->len; i++)
        vp->data[i] = (char) tolower((unsigned char) vp->data[i]);
}

void vstring_trim_right(VSTRING *vp)
{
    while (vp->len > 0 && isspace((unsigned char) vp->data[vp->len - 1]))
        vp->len--;
    vp->data[vp->len] = 0;
}
