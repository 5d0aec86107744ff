#ifndef POSTERN_VSTRING_H
#define POSTERN_VSTRING_H
/*
 * vstring - growable, always NUL-terminated byte strings
 *
 * A VSTRING holds arbitrary bytes (NULs included) plus a terminating NUL
 * that is not counted in its length. It grows as needed through mymalloc.
 * The VSTRING owns its buffer; vstring_export() hands the buffer to the
 * caller and frees the rest.
 */
#include <stdarg.h>
#include <stddef.h>

typedef struct VSTRING {
    char *data;  /* always NUL-terminated */
    size_t len;  /* bytes in use, excluding the NUL */
    size_t size; /* bytes allocated, including room for the NUL */
} VSTRING;

#define vstring_str(vp) ((vp)->data)
#define vstring_len(vp) ((vp)->len)
#define vstring_end(vp) ((vp)->data + (vp)->len)

VSTRING *vstring_alloc(size_t init);
void vstring_free(VSTRING *vp);
char *vstring_export(VSTRING *vp);
void vstring_reset(VSTRING *vp);
void vstring_truncate(VSTRING *vp, size_t len);
void vstring_reserve(VSTRING *vp, size_t extra);
VSTRING *vstring_addch(VSTRING *vp, int ch);
VSTRING *vstring_strcpy(VSTRING *vp, const char *src);
VSTRING *vstring_strcat(VSTRING *vp, const char *src);
VSTRING *vstring_strncpy(VSTRING *vp, const char *src, size_t len);
VSTRING *vstring_strncat(VSTRING *vp, const char *src, size_t len);
VSTRING *vstring_memcpy(VSTRING *vp, const void *src, size_t len);
VSTRING *vstring_memcat(VSTRING *vp, const void *src, size_t len);
VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void vstring_lowercase(VSTRING *vp);
void vstring_trim_right(VSTRING *vp);

#endif
