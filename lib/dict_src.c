/*
 * NAME
 *	dict_src - read table source files: comments, continuations, key/value
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT_SRC *dict_src_open(const char *path, VSTRING *why)
 *	DICT_SRC *dict_src_stream(VSTREAM *stream, const char *name)
 *	DICT_SRC *dict_src_text(const char *text, size_t len, const char *name)
 *	int dict_src_next(DICT_SRC *src, VSTRING *line, int *lineno, VSTRING *why)
 *	const char *dict_src_name(DICT_SRC *src)
 *	void dict_src_close(DICT_SRC *src)
 *
 *	int dict_src_split_map(char *line, char **key, char **value, VSTRING *why)
 *	int dict_src_split_alias(char *line, char **key, char **value, VSTRING *why)
 * DESCRIPTION
 *	This is the one reader of table source text, shared by postmap,
 *	postalias, and the texthash, regexp, pcre and cidr tables.
 *
 *	dict_src_open() opens a file; dict_src_stream() reads an open
 *	stream that stays the caller's (postmap -i reads standard input);
 *	dict_src_text() reads a copy of a memory buffer (tests, fuzzing).
 *
 *	dict_src_next() returns the next logical line: blank lines and
 *	lines whose first non-blank byte is '#' are skipped; a line that
 *	starts with a blank continues the logical line before it (the line
 *	break and the blanks around it become one space); the result has no
 *	leading or trailing white space. *lineno is set to the number of the
 *	physical line where the logical line starts. It returns 1 for a
 *	line, 0 at the end, and -1 with why set ("NAME:N: reason") for a
 *	read error, a NUL byte, a logical line longer than DICT_MAX_LEN, or
 *	a continuation line with nothing to continue.
 *
 *	dict_src_split_map() splits "key whitespace value" (postmap(1)).
 *	dict_src_split_alias() splits "name: value" (aliases(5)), where the
 *	name may be a "quoted string" (backslash escapes the next byte) and
 *	is returned without its quotes. Both work in place on line and
 *	return 0, or -1 with why (without file and line: the caller adds
 *	them).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "dict.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

struct DICT_SRC {
    VSTREAM *stream;     /* NULL for text sources */
    int own_stream;
    char *text;          /* text source */
    size_t text_len;
    size_t text_pos;
    char *name;
    int lineno;          /* physical lines read so far */
    VSTRING *pending;    /* a physical line read ahead */
    int have_pending;
    int eof;
};

static DICT_SRC *dict_src_alloc(const char *name)
{
    DICT_SRC *src = mycalloc(1, sizeof(*src));

    src->name = mystrdup(name);
    src->pending = vstring_alloc(100);
    return src;
}

DICT_SRC *dict_src_open(const char *path, VSTRING *why)
{
    VSTREAM *stream = vstream_fopen(path, O_RDONLY, 0);
    DICT_SRC *src;

    if (stream == NULL) {
        vstring_sprintf(why, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    src = dict_src_alloc(path);
    src->stream = stream;
    src->own_stream = 1;
    return src;
}

DICT_SRC *dict_src_stream(VSTREAM *stream, const char *name)
{
    DICT_SRC *src = dict_src_alloc(name);

    src->stream = stream;
    return src;
}

DICT_SRC *dict_src_text(const char *text, size_t len, const char *name)
{
    DICT_SRC *src = dict_src_alloc(name);

    src->text = mymemdup(text, len);
    src->text_len = len;
    return src;
}

const char *dict_src_name(DICT_SRC *src)
{
    return src->name;
}

void dict_src_close(DICT_SRC *src)
{
    if (src == NULL)
        return;
    if (src->own_stream)
        vstream_fclose(src->stream);
    vstring_free(src->pending);
    myfree(src->text);
    myfree(src->name);
    myfree(src);
}

/*
 * dict_src_physical - read one physical line without its newline into
 * buf: 1 on success, 0 at EOF, -1 with why.
 */
static int dict_src_physical(DICT_SRC *src, VSTRING *buf, VSTRING *why)
{
    size_t limit = DICT_MAX_LEN + 2;
    int last;

    vstring_reset(buf);
    if (src->eof)
        return 0;
    if (src->stream == NULL) {
        const char *start = src->text + src->text_pos;
        size_t left = src->text_len - src->text_pos;
        const char *nl;
        size_t len;

        if (left == 0) {
            src->eof = 1;
            return 0;
        }
        nl = memchr(start, '\n', left);
        len = nl ? (size_t) (nl - start) : left;
        src->text_pos += nl ? len + 1 : len;
        if (len > DICT_MAX_LEN) {
            src->lineno++;
            vstring_sprintf(why, "%s:%d: line too long", src->name, src->lineno);
            return -1;
        }
        vstring_memcpy(buf, start, len);
    } else {
        last = vstream_get_line(src->stream, buf, limit);
        if (last == VSTREAM_EOF) {
            src->eof = 1;
            if (vstream_ferror(src->stream)) {
                vstring_sprintf(why, "read %s: %s", src->name, strerror(errno));
                return -1;
            }
            return 0;
        }
        if (last == '\n') {
            vstring_truncate(buf, vstring_len(buf) - 1);
        } else if (vstring_len(buf) >= limit) {
            src->lineno++;
            vstring_sprintf(why, "%s:%d: line too long", src->name, src->lineno);
            return -1;
        } else if (vstream_ferror(src->stream)) {
            vstring_sprintf(why, "read %s: %s", src->name, strerror(errno));
            return -1;
        }
    }
    src->lineno++;
    if (memchr(vstring_str(buf), 0, vstring_len(buf)) != NULL) {
        vstring_sprintf(why, "%s:%d: NUL byte in line", src->name, src->lineno);
        return -1;
    }
    return 1;
}

/* dict_src_skip - first non-blank byte of a line */
static const char *dict_src_skip(const char *cp)
{
    while (*cp && isspace((unsigned char) *cp))
        cp++;
    return cp;
}

int dict_src_next(DICT_SRC *src, VSTRING *line, int *lineno, VSTRING *why)
{
    VSTRING *phys = src->pending;
    const char *text;
    int status;

    vstring_reset(line);
    *lineno = 0;
    for (;;) {
        if (src->have_pending) {
            src->have_pending = 0;
            status = 1;
        } else if ((status = dict_src_physical(src, phys, why)) < 0) {
            return -1;
        }
        if (status == 0)
            return vstring_len(line) > 0;
        text = dict_src_skip(vstring_str(phys));
        if (*text == 0 || *text == '#')
            continue;
        if (!isspace((unsigned char) vstring_str(phys)[0])) {
            if (vstring_len(line) > 0) {
                src->have_pending = 1; /* the next logical line starts here */
                return 1;
            }
            *lineno = src->lineno;
        } else if (vstring_len(line) == 0) {
            vstring_sprintf(why, "%s:%d: logical line must not start with white space",
                            src->name, src->lineno);
            return -1;
        } else {
            vstring_addch(line, ' ');
        }
        vstring_strcat(line, text);
        vstring_trim_right(line);
        if (vstring_len(line) > DICT_MAX_LEN) {
            vstring_sprintf(why, "%s:%d: logical line too long", src->name, *lineno);
            return -1;
        }
    }
}

int dict_src_split_map(char *line, char **key, char **value, VSTRING *why)
{
    char *cp = line;

    while (*cp && isspace((unsigned char) *cp))
        cp++;
    *key = cp;
    while (*cp && !isspace((unsigned char) *cp))
        cp++;
    if (*cp == 0 || cp == *key) {
        vstring_strcpy(why, "expected format: key whitespace value");
        return -1;
    }
    *cp++ = 0;
    while (*cp && isspace((unsigned char) *cp))
        cp++;
    if (*cp == 0) {
        vstring_strcpy(why, "expected format: key whitespace value");
        return -1;
    }
    *value = cp;
    cp += strlen(cp);
    while (cp > *value && isspace((unsigned char) cp[-1]))
        *--cp = 0;
    return 0;
}

int dict_src_split_alias(char *line, char **key, char **value, VSTRING *why)
{
    char *cp = line;
    char *end;

    while (*cp && isspace((unsigned char) *cp))
        cp++;
    if (*cp == '"') {
        char *out;

        *key = out = ++cp;
        for (;;) {
            if (*cp == 0) {
                vstring_strcpy(why, "unbalanced '\"' in alias name");
                return -1;
            }
            if (*cp == '"')
                break;
            if (*cp == '\\' && cp[1])
                cp++;
            *out++ = *cp++;
        }
        cp++;
        *out = 0;
        while (*cp && isspace((unsigned char) *cp))
            cp++;
        if (*cp != ':') {
            vstring_strcpy(why, "expected format: name: value");
            return -1;
        }
        cp++;
    } else {
        *key = cp;
        while (*cp && *cp != ':' && !isspace((unsigned char) *cp))
            cp++;
        end = cp;
        while (*cp && isspace((unsigned char) *cp))
            cp++;
        if (*cp != ':' || end == *key) {
            vstring_strcpy(why, "expected format: name: value");
            return -1;
        }
        *end = 0;
        cp++;
    }
    if (**key == 0) {
        vstring_strcpy(why, "empty alias name");
        return -1;
    }
    while (*cp && isspace((unsigned char) *cp))
        cp++;
    if (*cp == 0) {
        vstring_strcpy(why, "missing value after ':'");
        return -1;
    }
    *value = cp;
    cp += strlen(cp);
    while (cp > *value && isspace((unsigned char) cp[-1]))
        *--cp = 0;
    return 0;
}
