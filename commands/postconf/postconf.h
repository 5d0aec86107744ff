#ifndef POSTERN_POSTCONF_H
#define POSTERN_POSTCONF_H
/*
 * postconf - internal interfaces of the postconf command
 *
 * postconf.c parses the command line and calls one of the modes below.
 * postconf_main.c shows main.cf parameters, postconf_edit.c edits main.cf
 * and master.cf in place, postconf_master.c shows and edits master.cf.
 * Every mode returns the exit status: 0, or 1 after printing a message.
 */
#include "argv.h"
#include "vstring.h"

/* flags */
#define PC_FLAG_DEFAULT 0x01 /* -d */
#define PC_FLAG_HIDE 0x02    /* -h */
#define PC_FLAG_NONDEF 0x04  /* -n */
#define PC_FLAG_EXPAND 0x08  /* -x */

/* postconf_main.c */
int pc_show_main(int flags, char **names);
int pc_show_types(void);   /* -m */
int pc_report_bdb(void);   /* -B */
void pc_warn_unused(void);

/* postconf_edit.c: a file as physical lines, edited and replaced */
typedef struct PC_LINES {
    ARGV *lines;       /* physical lines, without their newline */
    int final_newline; /* the file ended with a newline */
} PC_LINES;

typedef struct PC_LOGICAL {
    int first;     /* index of the first physical line */
    int last;      /* index of the last continuation line */
    VSTRING *text; /* the joined logical line */
} PC_LOGICAL;

typedef int (*PC_EDIT_FN)(PC_LINES *in, ARGV *out, void *context);

int pc_edit_file(const char *path, PC_EDIT_FN fn, void *context);
int pc_next_logical(PC_LINES *in, int *pos, PC_LOGICAL *lp);
int pc_is_content(const char *line); /* not blank, not a comment */
int pc_edit_main(int how, char **args);

#define PC_EDIT_SET 1     /* -e name=value */
#define PC_EDIT_REMOVE 2  /* -X name */
#define PC_EDIT_COMMENT 3 /* -# name */

/* postconf_master.c */
int pc_show_master(int flags, char **filters);
int pc_show_fields(int flags, char **filters);
int pc_show_params(int flags, char **filters);
int pc_edit_master(int how, char **args);
int pc_edit_fields(char **args);

#endif
