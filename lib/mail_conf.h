#ifndef POSTERN_MAIL_CONF_H
#define POSTERN_MAIL_CONF_H
/*
 * mail_conf - main.cf, and the one parameter registry
 *
 * Every parameter postern reads is declared once, in a lib/params/AREA.def
 * file (format in lib/params/README), which gives it a name, type, default,
 * limits and a description. From those files come the global variables
 * var_NAME (declared in mail_params.h), the values postconf -d prints, and
 * man/man5/postconf.5.
 *
 * Typical program start-up:
 *	mail_conf_read(config_dir);          NULL = $MAIL_CONFIG or the default
 *	mail_conf_override("name", "value"); for each -o name=value
 *	mail_conf_eval();                    fills every var_NAME, validates
 *
 * Values are expanded Postfix-style: $name, ${name}, ${name?text},
 * ${name:text}, ${name?{text}:{text}}, $(name), $$; expansion loops are
 * detected and fatal. Invalid values (not a number, out of range, bad bool
 * or time unit) are fatal with the file and parameter named.
 *
 * The functions that end in _check never terminate the program: they
 * return 0, or -1 with a message in why. The others are fatal on error.
 *
 * Ownership: strings returned as const belong to the module and stay valid
 * until the value is replaced (mail_conf_read, mail_conf_parse,
 * mail_conf_override, mail_conf_eval, mail_conf_reset). The var_NAME
 * strings belong to the module and are replaced by the next mail_conf_eval.
 */
#include <stddef.h>

#include "argv.h"
#include "mail_params.h"
#include "vstring.h"

#ifndef DEF_CONFIG_DIR
/* mail_conf.c uses the build's SYSCONFDIR instead; others call mail_conf_dir(NULL) */
#define DEF_CONFIG_DIR "/etc/postern"
#endif

/* Limits that bound hostile input. */
#define MAIL_CONF_FILE_MAX (16 * 1024 * 1024) /* bytes in main.cf */
#define MAIL_CONF_LINE_MAX (256 * 1024)       /* bytes in one logical line */
#define MAIL_CONF_NAME_MAX 256                /* bytes in a parameter name */
#define MAIL_CONF_VALUE_MAX (1024 * 1024)     /* bytes in an expanded value */
#define MAIL_CONF_DEPTH_MAX 100               /* nested $name references */

extern char *var_config_dir; /* the directory main.cf was read from */

void mail_conf_read(const char *config_dir);
void mail_conf_override(const char *name, const char *value);
void mail_conf_eval(void);

/* raw value as set, or NULL */
const char *mail_conf_lookup(const char *name);
/* expanded, default applied; caller frees; NULL if neither registered nor set */
char *mail_conf_lookup_eval(const char *name);
/* expand $refs; caller frees */
char *mail_conf_expand(const char *value);
/* in the registry? */
int mail_conf_known(const char *name);

/* The registry. */
#define MAIL_CONF_TYPE_STR 1
#define MAIL_CONF_TYPE_LIST 2
#define MAIL_CONF_TYPE_INT 3
#define MAIL_CONF_TYPE_SIZE 4
#define MAIL_CONF_TYPE_TIME 5
#define MAIL_CONF_TYPE_BOOL 6
#define MAIL_CONF_TYPE_RAW 7 /* a string that is never expanded by mail_conf */

typedef struct MAIL_CONF_PARAM {
    const char *name;
    int type;           /* MAIL_CONF_TYPE_* */
    const char *defval; /* default as written; NULL = computed at run time */
    long min, max;      /* INT, SIZE, TIME (seconds) */
    int unit;           /* TIME: unit of a bare number, one of s m h d w */
    const char *doc;    /* man-page description */
    void *var;          /* char **, long * or int * */
} MAIL_CONF_PARAM;

const MAIL_CONF_PARAM *mail_conf_param_list(int *count); /* sorted by name */
const MAIL_CONF_PARAM *mail_conf_param_find(const char *name);
/* default text (computed ones computed); NULL if not registered */
const char *mail_conf_default(const char *name);

/* Reading, without terminating the program. */
const char *mail_conf_dir(const char *config_dir); /* NULL = $MAIL_CONFIG or DEF_CONFIG_DIR */
void mail_conf_set_dir(const char *config_dir);    /* sets var_config_dir, reads nothing */
/* 0, or -1 with why; errno ENOENT when there is no main.cf */
int mail_conf_read_check(const char *config_dir, VSTRING *why);
int mail_conf_parse(const char *text, size_t len, const char *path, VSTRING *why);
const char *mail_conf_path(void); /* DIR/main.cf, or "" before reading */
void mail_conf_reset(void);       /* forget file values and overrides */

/* What main.cf sets (not overrides), for postconf -n and its warnings. */
const char *mail_conf_lookup_file(const char *name); /* raw value in main.cf, or NULL */
ARGV *mail_conf_file_names(void); /* names set in main.cf, sorted; caller frees */

/* Expansion and evaluation, without terminating the program. */
int mail_conf_expand_check(const char *value, VSTRING *out, VSTRING *why);
/* the expanded value of name */
int mail_conf_eval_param(const char *name, VSTRING *out, VSTRING *why);
int mail_conf_eval_check(VSTRING *why);
int mail_conf_convert(const MAIL_CONF_PARAM *param, const char *value, long *result, VSTRING *why);
int mail_conf_valid_name(const char *name); /* [A-Za-z0-9_.-], bounded */

/* Computed defaults (mail_conf_dyn.c). */
const char *mail_conf_dyn_hostname(void); /* gethostname(2), not qualified */
/* caller frees */
char *mail_conf_dyn_mynetworks(const char *style, const char *protocols);

#endif
