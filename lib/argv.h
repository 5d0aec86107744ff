#ifndef POSTERN_ARGV_H
#define POSTERN_ARGV_H
/*
 * argv - growable, NULL-terminated string arrays
 *
 * The ARGV owns its strings (copies). argv_split() breaks a string on any
 * of the delimiter bytes, skipping empty fields: with ", \t\r\n" it splits
 * a Postfix list parameter. argv_split_braces() also keeps "{ ... }"
 * groups as single fields (braces removed, inner white space trimmed), as
 * Postfix does for list values and master.cf arguments; an unbalanced
 * brace returns NULL.
 */
#include <stddef.h>

typedef struct ARGV {
    int argc;     /* strings in use */
    int size;     /* slots allocated */
    char **argv;  /* argv[argc] == NULL */
} ARGV;

#define ARGV_DELIM_LIST ", \t\r\n"
#define ARGV_DELIM_SPACE " \t\r\n"

ARGV *argv_alloc(int init);
void argv_free(ARGV *ap);
void argv_add(ARGV *ap, const char *str);
void argv_addn(ARGV *ap, const char *str, size_t len);
void argv_truncate(ARGV *ap, int argc);
ARGV *argv_split(const char *str, const char *delim);
ARGV *argv_split_braces(const char *str, const char *delim);

#endif
