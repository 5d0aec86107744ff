#ifndef POSTERN_MASTER_CF_H
#define POSTERN_MASTER_CF_H
/*
 * master_cf - read master.cf (Postfix's 8-column service table)
 *
 * master_cf_read() parses the file into entries: comments and blank lines
 * are skipped, a line starting with white space continues the previous one,
 * "-" in a column means "the default" and is kept as "-" (callers apply
 * defaults: private y, unpriv y, chroot n (as Postfix 3.0 and later), wakeup 0, maxproc
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
    char *service; /* "smtp", "127.0.0.1:2525", "cleanup" */
    char *type;    /* inet unix unix-dgram fifo pass */
    char *priv;    /* y n - */
    char *unpriv;  /* y n - */
    char *chroot;  /* y n - */
    char *wakeup;  /* N, N?, - */
    char *maxproc; /* N, - */
    int argc;      /* command + args */
    char **argv;   /* NULL-terminated */
    int line;      /* line number where the entry starts */
    int end_line;  /* line number of its last continuation line */
} MASTER_CF_ENTRY;

typedef struct MASTER_CF {
    int count;
    MASTER_CF_ENTRY *entries;
} MASTER_CF;

MASTER_CF *master_cf_read(const char *path, VSTRING *why);
MASTER_CF *master_cf_parse(const char *text, const char *path, VSTRING *why);
void master_cf_free(MASTER_CF *cf);

/*
 * Helpers. master_cf_parse_buf() also rejects NUL bytes (text need not be
 * NUL-terminated). master_cf_find() returns the entry for service/type or
 * NULL. master_cf_format() replaces buf with the entry as one normalized
 * line (columns padded as postconf -M prints them; an argument with white
 * space is written as "{ arg }"). master_cf_field() returns column n
 * (0 = service ... 6 = maxproc); master_cf_field_names[] names them as
 * postconf -F does, with "command" (7) last.
 */
#define MASTER_CF_LINE_MAX (64 * 1024)       /* bytes in one logical line */
#define MASTER_CF_FILE_MAX (4 * 1024 * 1024) /* bytes in master.cf */
#define MASTER_CF_ARGS_MAX 1024              /* command + arguments */
#define MASTER_CF_FIELDS 8

extern const char *const master_cf_field_names[MASTER_CF_FIELDS];
MASTER_CF *master_cf_parse_buf(const char *text, size_t len, const char *path, VSTRING *why);
MASTER_CF_ENTRY *master_cf_find(MASTER_CF *cf, const char *service, const char *type);
const char *master_cf_field(const MASTER_CF_ENTRY *entry, int n);
VSTRING *master_cf_format(VSTRING *buf, const MASTER_CF_ENTRY *entry);
VSTRING *master_cf_format_command(VSTRING *buf, const MASTER_CF_ENTRY *entry);

#endif
