/*
 * NAME
 *	mail_conf - read main.cf, keep the parameter registry, fill var_NAME
 * SYNOPSIS
 *	#include "mail_conf.h"
 *
 *	void mail_conf_read(const char *config_dir)
 *	int mail_conf_read_check(const char *config_dir, VSTRING *why)
 *	int mail_conf_parse(const char *text, size_t len, const char *path, VSTRING *why)
 *	const char *mail_conf_dir(const char *config_dir)
 *	void mail_conf_set_dir(const char *config_dir)
 *	const char *mail_conf_path(void)
 *	void mail_conf_reset(void)
 *	void mail_conf_override(const char *name, const char *value)
 *	void mail_conf_eval(void)
 *	int mail_conf_eval_check(VSTRING *why)
 *	int mail_conf_convert(const MAIL_CONF_PARAM *param, const char *value,
 *			long *result, VSTRING *why)
 *	const char *mail_conf_lookup(const char *name)
 *	const char *mail_conf_lookup_file(const char *name)
 *	ARGV *mail_conf_file_names(void)
 *	char *mail_conf_lookup_eval(const char *name)
 *	char *mail_conf_expand(const char *value)
 *	int mail_conf_known(const char *name)
 *	int mail_conf_valid_name(const char *name)
 *	const MAIL_CONF_PARAM *mail_conf_param_list(int *count)
 *	const MAIL_CONF_PARAM *mail_conf_param_find(const char *name)
 *	const char *mail_conf_default(const char *name)
 * DESCRIPTION
 *	This module owns the parameter registry, built at compile time from
 *	every lib/params/ *.def file (see lib/params/README), the global
 *	var_NAME of every registered parameter, and the raw values read from
 *	main.cf or given with -o.
 *
 *	mail_conf_dir() chooses the configuration directory: the argument
 *	when not NULL or empty, else $MAIL_CONFIG when set and not empty,
 *	else DEF_CONFIG_DIR. mail_conf_set_dir() makes that choice current:
 *	it sets var_config_dir and the value of config_directory, and reads
 *	nothing (postconf -d needs no main.cf). var_config_dir keeps its
 *	address while the directory stays the same, and may itself be
 *	passed as the argument.
 *
 *	mail_conf_read_check() sets the directory and parses DIR/main.cf. A
 *	file that cannot be opened gives "open PATH: reason" with errno
 *	kept; one over MAIL_CONF_FILE_MAX bytes, or one that does not parse,
 *	gives "PATH, line N: reason". mail_conf_read() does the same and is
 *	fatal on error.
 *
 *	mail_conf_parse() reads main.cf text from memory (also the entry
 *	point of the fuzzer). The syntax is Postfix's: a logical line is
 *	"name = value"; a line that starts with white space continues the
 *	previous logical line (joined with one space); empty lines,
 *	white-space-only lines and lines whose first non-space byte is "#"
 *	are skipped anywhere, also between continuation lines. White space
 *	around "=" and at the end of the logical line is dropped. A name
 *	defined twice keeps its last value, with a warning. Rejected, with
 *	"PATH, line N: reason": a NUL byte, a logical line longer than
 *	MAIL_CONF_LINE_MAX, a line with no "=", an empty or malformed name.
 *	On error the values read before are kept unchanged.
 *
 *	mail_conf_override() sets a value that wins over main.cf (-o).
 *	mail_conf_reset() forgets main.cf values and overrides.
 *
 *	mail_conf_lookup() returns the raw value, override first, then
 *	main.cf, or NULL; mail_conf_lookup_file() only looks at main.cf;
 *	mail_conf_file_names() lists the names set in main.cf, sorted.
 *	mail_conf_lookup_eval() returns the expanded value of a parameter
 *	that is registered or set (default applied), NULL for others; it is
 *	fatal when the expansion fails, as is mail_conf_expand().
 *
 *	mail_conf_eval_check() expands and converts every registered
 *	parameter; when all are valid it stores them in their var_NAME and
 *	points logging at var_syslog_name and var_maillog_file. Errors use
 *	Postfix's wording, prefixed with the main.cf path, for example
 *	"/etc/postern/main.cf: bad numerical configuration: NAME = VALUE".
 *	mail_conf_eval() is the fatal variant. mail_conf_convert() converts
 *	one value by the parameter's type and limits: INT, SIZE and TIME
 *	store a long (TIME in seconds), BOOL stores 0 or 1. A RAW parameter
 *	is stored as set, without expansion: the program that uses it
 *	expands its own macros at the time of use.
 *
 *	mail_conf_param_list() returns the registry sorted by name;
 *	mail_conf_param_find() one entry or NULL. mail_conf_default()
 *	returns a parameter's default text; defaults computed at run time
 *	(myhostname, mydomain, mynetworks) are computed from other defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "htable.h"
#include "mail_paths.h" /* generated: DEF_CONFIG_DIR, DEF_DAEMON_DIR, DEF_COMMAND_DIR */
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"

/* The var_NAME globals. A computed default is NULL in the table. */
#define COMPUTED NULL
#define PARAM_STR(n, d, doc) char *var_##n = "";
#define PARAM_LIST(n, d, doc) char *var_##n = "";
#define PARAM_INT(n, d, lo, hi, doc) long var_##n;
#define PARAM_SIZE(n, d, lo, hi, doc) long var_##n;
#define PARAM_TIME(n, d, u, lo, hi, doc) long var_##n;
#define PARAM_BOOL(n, d, doc) int var_##n;
#define PARAM_RAW(n, d, doc) char *var_##n = "";
#include "params.def"
#undef PARAM_STR
#undef PARAM_LIST
#undef PARAM_INT
#undef PARAM_SIZE
#undef PARAM_TIME
#undef PARAM_BOOL
#undef PARAM_RAW

static MAIL_CONF_PARAM mail_conf_table[] = {
#define PARAM_STR(n, d, doc) {#n, MAIL_CONF_TYPE_STR, d, 0, 0, 0, doc, &var_##n},
#define PARAM_LIST(n, d, doc) {#n, MAIL_CONF_TYPE_LIST, d, 0, 0, 0, doc, &var_##n},
#define PARAM_INT(n, d, lo, hi, doc) {#n, MAIL_CONF_TYPE_INT, d, lo, hi, 0, doc, &var_##n},
#define PARAM_SIZE(n, d, lo, hi, doc) {#n, MAIL_CONF_TYPE_SIZE, d, lo, hi, 0, doc, &var_##n},
#define PARAM_TIME(n, d, u, lo, hi, doc) {#n, MAIL_CONF_TYPE_TIME, d, lo, hi, u, doc, &var_##n},
#define PARAM_BOOL(n, d, doc) {#n, MAIL_CONF_TYPE_BOOL, d, 0, 0, 0, doc, &var_##n},
#define PARAM_RAW(n, d, doc) {#n, MAIL_CONF_TYPE_RAW, d, 0, 0, 0, doc, &var_##n},
#include "params.def"
#undef PARAM_STR
#undef PARAM_LIST
#undef PARAM_INT
#undef PARAM_SIZE
#undef PARAM_TIME
#undef PARAM_BOOL
#undef PARAM_RAW
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

#define MAIL_CONF_COUNT ((int)(sizeof(mail_conf_table) / sizeof(mail_conf_table[0])) - 1)

char *var_config_dir = DEF_CONFIG_DIR;

static MAIL_CONF_PARAM *mail_conf_sorted; /* registry sorted by name */
static HTABLE *mail_conf_index;           /* name -> MAIL_CONF_PARAM */
static HTABLE *mail_conf_file;            /* name -> raw value from main.cf */
static HTABLE *mail_conf_over;            /* name -> raw value from -o etc. */
static char *mail_conf_file_path;         /* DIR/main.cf */
static char *mail_conf_dir_buf;           /* owns var_config_dir once set */
static unsigned char *mail_conf_owned;    /* var_NAME string was allocated here */

static int mail_conf_cmp(const void *a, const void *b)
{
    return strcmp(((const MAIL_CONF_PARAM *)a)->name, ((const MAIL_CONF_PARAM *)b)->name);
}

/* mail_conf_init - index the registry once */
static void mail_conf_init(void)
{
    if (mail_conf_index)
        return;
    mail_conf_sorted = mymalloc(sizeof(MAIL_CONF_PARAM) * (size_t)(MAIL_CONF_COUNT + 1));
    memcpy(mail_conf_sorted, mail_conf_table,
           sizeof(MAIL_CONF_PARAM) * (size_t)(MAIL_CONF_COUNT + 1));
    qsort(mail_conf_sorted, (size_t)MAIL_CONF_COUNT, sizeof(MAIL_CONF_PARAM), mail_conf_cmp);
    mail_conf_owned = mycalloc((size_t)MAIL_CONF_COUNT + 1, 1);
    mail_conf_index = htable_create((size_t)MAIL_CONF_COUNT * 2);
    for (int i = 0; i < MAIL_CONF_COUNT; i++) {
        if (htable_find(mail_conf_index, mail_conf_sorted[i].name))
            msg_panic("mail_conf: parameter %s registered twice", mail_conf_sorted[i].name);
        htable_enter(mail_conf_index, mail_conf_sorted[i].name, mail_conf_sorted + i);
    }
    mail_conf_file = htable_create(100);
    mail_conf_over = htable_create(20);
}

const MAIL_CONF_PARAM *mail_conf_param_list(int *count)
{
    mail_conf_init();
    if (count)
        *count = MAIL_CONF_COUNT;
    return mail_conf_sorted;
}

const MAIL_CONF_PARAM *mail_conf_param_find(const char *name)
{
    mail_conf_init();
    return htable_find(mail_conf_index, name);
}

int mail_conf_known(const char *name)
{
    return mail_conf_param_find(name) != NULL;
}

int mail_conf_valid_name(const char *name)
{
    size_t len = 0;

    for (const char *cp = name; *cp; cp++, len++) {
        if (len >= MAIL_CONF_NAME_MAX)
            return 0;
        if (!isalnum((unsigned char)*cp) && *cp != '_' && *cp != '-' && *cp != '.')
            return 0;
    }
    return len > 0;
}

/* ---------------------------------------------------------------- */
/* Where main.cf lives. */

const char *mail_conf_dir(const char *config_dir)
{
    const char *env;

    if (config_dir && *config_dir)
        return config_dir;
    if ((env = getenv("MAIL_CONFIG")) != NULL && *env)
        return env;
    return DEF_CONFIG_DIR;
}

void mail_conf_set_dir(const char *config_dir)
{
    const char *dir = mail_conf_dir(config_dir);

    if (strlen(dir) > 4000)
        msg_fatal("configuration directory name is too long: %.100s...", dir);
    mail_conf_init();
    /* keep var_config_dir stable (and valid when dir is var_config_dir) */
    if (mail_conf_dir_buf == NULL || strcmp(mail_conf_dir_buf, dir) != 0) {
        char *copy = mystrdup(dir);

        myfree(mail_conf_dir_buf);
        mail_conf_dir_buf = copy;
        var_config_dir = mail_conf_dir_buf;
    }
    dir = mail_conf_dir_buf;
    myfree(mail_conf_file_path);
    mail_conf_file_path = mymalloc(strlen(dir) + sizeof("/main.cf"));
    strcpy(mail_conf_file_path, dir);
    strcat(mail_conf_file_path, "/main.cf");
    myfree(htable_find(mail_conf_over, "config_directory"));
    htable_enter(mail_conf_over, "config_directory", mystrdup(dir));
}

const char *mail_conf_path(void)
{
    return mail_conf_file_path ? mail_conf_file_path : "";
}

/* ---------------------------------------------------------------- */
/* Parsing main.cf. */

static int mail_conf_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* mail_conf_store - split one logical line into name and value, store it */
static int mail_conf_store(HTABLE *table, VSTRING *line, const char *path, int lineno, VSTRING *why)
{
    char *start = vstring_str(line);
    char *eq;
    char *end;
    char *value;
    char *old;

    vstring_trim_right(line);
    if ((eq = strchr(start, '=')) == NULL) {
        vstring_sprintf(why, "%s, line %d: missing '=' after attribute name: \"%.100s\"", path,
                        lineno, start);
        return -1;
    }
    for (end = eq; end > start && mail_conf_space(end[-1]); end--)
        /* void */;
    *end = 0;
    if (*start == 0) {
        vstring_sprintf(why, "%s, line %d: missing attribute name", path, lineno);
        return -1;
    }
    if (!mail_conf_valid_name(start)) {
        vstring_sprintf(why, "%s, line %d: bad parameter name: \"%.100s\"", path, lineno, start);
        return -1;
    }
    for (value = eq + 1; mail_conf_space(*value); value++)
        /* void */;
    if ((old = htable_find(table, start)) != NULL) {
        msg_warn("%s, line %d: overriding earlier entry: %s=%.200s", path, lineno, start, old);
        myfree(old);
    }
    htable_enter(table, start, mystrdup(value));
    return 0;
}

static void mail_conf_free_value(void *ptr)
{
    myfree(ptr);
}

int mail_conf_parse(const char *text, size_t len, const char *path, VSTRING *why)
{
    HTABLE *table;
    VSTRING *line;
    const char *cp = text;
    const char *end = text + len;
    const char *nul;
    int lineno = 0;
    int start_line = 0;
    int have = 0;
    int ret = 0;

    mail_conf_init();
    if (path == NULL)
        path = "main.cf";
    if ((nul = memchr(text, 0, len)) != NULL) {
        for (lineno = 1, cp = text; cp < nul; cp++)
            if (*cp == '\n')
                lineno++;
        vstring_sprintf(why, "%s, line %d: NUL byte in input", path, lineno);
        return -1;
    }
    table = htable_create(100);
    line = vstring_alloc(256);
    while (cp < end && ret == 0) {
        const char *nl = memchr(cp, '\n', (size_t)(end - cp));
        const char *eol = nl ? nl : end;
        const char *p = cp;

        lineno++;
        while (p < eol && mail_conf_space((unsigned char)*p))
            p++;
        if (p == eol || *p == '#') {
            /* empty, white space only, or a comment: skip */
        } else if (p == cp || !have) {
            if (p != cp)
                msg_warn("%s, line %d: logical line must not start with white space", path, lineno);
            if (have)
                ret = mail_conf_store(table, line, path, start_line, why);
            if (ret == 0 && (size_t)(eol - p) > MAIL_CONF_LINE_MAX) {
                vstring_sprintf(why, "%s, line %d: line is longer than %d bytes", path, lineno,
                                MAIL_CONF_LINE_MAX);
                ret = -1;
            }
            if (ret == 0)
                vstring_memcpy(line, p, (size_t)(eol - p));
            start_line = lineno;
            have = 1;
        } else {
            vstring_trim_right(line);
            if (vstring_len(line) + 1 + (size_t)(eol - p) > MAIL_CONF_LINE_MAX) {
                vstring_sprintf(why, "%s, line %d: line is longer than %d bytes", path, start_line,
                                MAIL_CONF_LINE_MAX);
                ret = -1;
            } else {
                vstring_addch(line, ' ');
                vstring_memcat(line, p, (size_t)(eol - p));
            }
        }
        cp = nl ? nl + 1 : end;
    }
    if (ret == 0 && have)
        ret = mail_conf_store(table, line, path, start_line, why);
    vstring_free(line);
    if (ret < 0) {
        htable_free(table, mail_conf_free_value);
        return -1;
    }
    htable_free(mail_conf_file, mail_conf_free_value);
    mail_conf_file = table;
    return 0;
}

int mail_conf_read_check(const char *config_dir, VSTRING *why)
{
    VSTRING *text;
    const char *path;
    char buf[8192];
    ssize_t n;
    int fd;
    int ret;

    mail_conf_set_dir(config_dir);
    path = mail_conf_file_path;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        int saved = errno;

        vstring_sprintf(why, "open %s: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    text = vstring_alloc(8192);
    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vstring_sprintf(why, "read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (vstring_len(text) + (size_t)n > MAIL_CONF_FILE_MAX) {
            vstring_sprintf(why, "%s: file is larger than %d bytes", path, MAIL_CONF_FILE_MAX);
            n = -1;
            break;
        }
        vstring_memcat(text, buf, (size_t)n);
    }
    close(fd);
    ret = n < 0 ? -1 : mail_conf_parse(vstring_str(text), vstring_len(text), path, why);
    vstring_free(text);
    if (ret < 0)
        errno = EINVAL;
    return ret;
}

void mail_conf_read(const char *config_dir)
{
    VSTRING *why = vstring_alloc(100);

    if (mail_conf_read_check(config_dir, why) < 0)
        msg_fatal("%s", vstring_str(why));
    vstring_free(why);
}

void mail_conf_reset(void)
{
    mail_conf_init();
    htable_free(mail_conf_file, mail_conf_free_value);
    htable_free(mail_conf_over, mail_conf_free_value);
    mail_conf_file = htable_create(100);
    mail_conf_over = htable_create(20);
}

void mail_conf_override(const char *name, const char *value)
{
    mail_conf_init();
    if (!mail_conf_valid_name(name))
        msg_fatal("bad parameter name: \"%.100s\"", name);
    if (strlen(value) > MAIL_CONF_LINE_MAX)
        msg_fatal("parameter %s: value is longer than %d bytes", name, MAIL_CONF_LINE_MAX);
    myfree(htable_find(mail_conf_over, name));
    htable_enter(mail_conf_over, name, mystrdup(value));
}

/* ---------------------------------------------------------------- */
/* Lookups. */

const char *mail_conf_lookup(const char *name)
{
    const char *value;

    mail_conf_init();
    if ((value = htable_find(mail_conf_over, name)) != NULL)
        return value;
    return htable_find(mail_conf_file, name);
}

const char *mail_conf_lookup_file(const char *name)
{
    mail_conf_init();
    return htable_find(mail_conf_file, name);
}

static int mail_conf_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ARGV *mail_conf_file_names(void)
{
    HTABLE_INFO **list;
    ARGV *names = argv_alloc(mail_conf_file ? (int)mail_conf_file->used + 1 : 4);

    mail_conf_init();
    list = htable_list(mail_conf_file);
    for (HTABLE_INFO **ht = list; *ht; ht++)
        argv_add(names, (*ht)->key);
    myfree(list);
    qsort(names->argv, (size_t)names->argc, sizeof(char *), mail_conf_strcmp);
    return names;
}

char *mail_conf_lookup_eval(const char *name)
{
    VSTRING *out;
    VSTRING *why;

    if (!mail_conf_known(name) && mail_conf_lookup(name) == NULL)
        return NULL;
    out = vstring_alloc(100);
    why = vstring_alloc(100);
    if (mail_conf_eval_param(name, out, why) < 0)
        msg_fatal("%s", vstring_str(why));
    vstring_free(why);
    return vstring_export(out);
}

char *mail_conf_expand(const char *value)
{
    VSTRING *out = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);

    if (mail_conf_expand_check(value, out, why) < 0)
        msg_fatal("%s", vstring_str(why));
    vstring_free(why);
    return vstring_export(out);
}

/* ---------------------------------------------------------------- */
/* Conversion and evaluation. */

static int mail_conf_number(const char *value, long *result, char **endp)
{
    char *end;
    long val;

    if (!isdigit((unsigned char)*value) &&
        !((*value == '-' || *value == '+') && isdigit((unsigned char)value[1])))
        return -1;
    errno = 0;
    val = strtol(value, &end, 10);
    if (errno == ERANGE)
        return -1;
    *result = val;
    *endp = end;
    return 0;
}

static int mail_conf_range(const MAIL_CONF_PARAM *param, const char *value, long val, VSTRING *why)
{
    if (val < param->min) {
        vstring_sprintf(why, "invalid %s parameter value %s < %ld", param->name, value, param->min);
        return -1;
    }
    if (param->max > 0 && val > param->max) {
        vstring_sprintf(why, "invalid %s parameter value %s > %ld", param->name, value, param->max);
        return -1;
    }
    return 0;
}

int mail_conf_convert(const MAIL_CONF_PARAM *param, const char *value, long *result, VSTRING *why)
{
    char *end;
    long val;
    long mult;

    switch (param->type) {
    case MAIL_CONF_TYPE_INT:
    case MAIL_CONF_TYPE_SIZE:
        if (mail_conf_number(value, &val, &end) < 0 || *end != 0) {
            vstring_sprintf(why, "bad numerical configuration: %s = %.100s", param->name, value);
            return -1;
        }
        if (mail_conf_range(param, value, val, why) < 0)
            return -1;
        *result = val;
        return 0;
    case MAIL_CONF_TYPE_TIME:
        if (mail_conf_number(value, &val, &end) < 0 || (end[0] && end[1])) {
            vstring_sprintf(why, "parameter %s: bad time value or unit: %.100s", param->name,
                            value);
            return -1;
        }
        switch (end[0] ? end[0] : param->unit) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        case 'w':
            mult = 604800;
            break;
        default:
            vstring_sprintf(why, "parameter %s: bad time value or unit: %.100s", param->name,
                            value);
            return -1;
        }
        if (val > 0 && val > (1L << 40) / mult) {
            vstring_sprintf(why, "parameter %s: time value is too large: %.100s", param->name,
                            value);
            return -1;
        }
        val *= mult;
        if (mail_conf_range(param, value, val, why) < 0)
            return -1;
        *result = val;
        return 0;
    case MAIL_CONF_TYPE_BOOL:
        if (strcasecmp(value, "yes") == 0)
            *result = 1;
        else if (strcasecmp(value, "no") == 0)
            *result = 0;
        else {
            vstring_sprintf(why, "bad boolean configuration: %s = %.100s", param->name, value);
            return -1;
        }
        return 0;
    case MAIL_CONF_TYPE_LIST: {
        ARGV *argv = argv_split_braces(value, ARGV_DELIM_LIST);

        if (argv == NULL) {
            vstring_sprintf(why, "parameter %s: unbalanced '{' in value: %.100s", param->name,
                            value);
            return -1;
        }
        argv_free(argv);
        *result = 0;
        return 0;
    }
    default:
        *result = 0;
        return 0;
    }
}

int mail_conf_eval_check(VSTRING *why)
{
    VSTRING *value = vstring_alloc(100);
    char **strs;
    long *nums;
    int ret = 0;
    int i;

    mail_conf_init();
    strs = mycalloc((size_t)MAIL_CONF_COUNT + 1, sizeof(char *));
    nums = mycalloc((size_t)MAIL_CONF_COUNT + 1, sizeof(long));
    for (i = 0; i < MAIL_CONF_COUNT && ret == 0; i++) {
        const MAIL_CONF_PARAM *param = mail_conf_sorted + i;

        if (mail_conf_eval_param(param->name, value, why) < 0 ||
            mail_conf_convert(param, vstring_str(value), nums + i, why) < 0) {
            if (mail_conf_file_path) {
                VSTRING *tmp = vstring_alloc(100);

                vstring_sprintf(tmp, "%s: %s", mail_conf_file_path, vstring_str(why));
                vstring_strcpy(why, vstring_str(tmp));
                vstring_free(tmp);
            }
            ret = -1;
            break;
        }
        if (param->type == MAIL_CONF_TYPE_STR || param->type == MAIL_CONF_TYPE_LIST ||
            param->type == MAIL_CONF_TYPE_RAW)
            strs[i] = mystrdup(vstring_str(value));
    }
    for (i = 0; i < MAIL_CONF_COUNT; i++) {
        const MAIL_CONF_PARAM *param = mail_conf_sorted + i;

        if (ret < 0) {
            myfree(strs[i]);
            continue;
        }
        switch (param->type) {
        case MAIL_CONF_TYPE_STR:
        case MAIL_CONF_TYPE_LIST:
        case MAIL_CONF_TYPE_RAW:
            if (mail_conf_owned[i])
                myfree(*(char **)param->var);
            *(char **)param->var = strs[i];
            mail_conf_owned[i] = 1;
            break;
        case MAIL_CONF_TYPE_BOOL:
            *(int *)param->var = (int)nums[i];
            break;
        default:
            *(long *)param->var = nums[i];
            break;
        }
    }
    myfree(strs);
    myfree(nums);
    vstring_free(value);
    if (ret == 0) {
        msg_set_syslog_name(var_syslog_name);
        msg_set_logfile(var_maillog_file);
    }
    return ret;
}

void mail_conf_eval(void)
{
    VSTRING *why = vstring_alloc(100);

    if (mail_conf_eval_check(why) < 0)
        msg_fatal("%s", vstring_str(why));
    vstring_free(why);
}
