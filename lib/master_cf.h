#ifndef POSTERN_MASTER_CF_H
#define POSTERN_MASTER_CF_H
/*
 * master_cf - read master.cf (Postfix's 8-column service table)
 *
 * master_cf_read() parses the file into entries: comments and blank lines
 * are skipped, a line starting with white space continues the previous one,
 * "-" in a column means "the default" and is kept as "-" (callers apply
 * defaults: private y, unpriv y, chroot y, wakeup 0, maxproc
 * $default_process_limit). argv holds the command and its arguments, split
 * on white space, with "{ ... }" grouping honoured, "-o name=value" kept as
 * given. Errors (too few columns, bad type, bad y/n/-) return NULL with a
 * message "PATH, line N: text" in why.
 *
 * Ownership: the MASTER_CF and everything in it belong to the caller, freed
 * with master_cf_free().
 */
#include "vstring.h"

typedef struct MASTER_CF_ENTRY {
    char *service;  /* "smtp", "127.0.0.1:2525", "cleanup" */
    char *type;     /* inet unix unix-dgram fifo pass */
    char *priv;     /* y n - */
    char *unpriv;   /* y n - */
    char *chroot;   /* y n - */
    char *wakeup;   /* N, N?, - */
    char *maxproc;  /* N, - */
    int argc;       /* command + args */
    char **argv;    /* NULL-terminated */
    int line;       /* line number where the entry starts */
} MASTER_CF_ENTRY;

typedef struct MASTER_CF {
    int count;
    MASTER_CF_ENTRY *entries;
} MASTER_CF;

MASTER_CF *master_cf_read(const char *path, VSTRING *why);
MASTER_CF *master_cf_parse(const char *text, const char *path, VSTRING *why);
void master_cf_free(MASTER_CF *cf);

#endif
