/*
 * NAME
 *	postconf_main - show main.cf parameters
 * SYNOPSIS
 *	#include "postconf.h"
 *
 *	int pc_show_main(int flags, char **names)
 *	void pc_warn_unused(void)
 * DESCRIPTION
 *	pc_show_main() prints "name = value" lines (only the value with
 *	PC_FLAG_HIDE; "name =" for an empty value) for the parameters
 *	named, or for every registered parameter, or with PC_FLAG_NONDEF
 *	for every name set in main.cf, sorted. Values are the main.cf
 *	setting or the default, unexpanded; PC_FLAG_DEFAULT prints the
 *	default instead and PC_FLAG_EXPAND expands $name references.
 *	A name that is neither registered nor set in main.cf draws
 *	"warning: NAME: unknown parameter" and makes the exit status 1.
 *	Unless PC_FLAG_DEFAULT is given, it first calls pc_warn_unused().
 *
 *	pc_warn_unused() warns, once per name, "DIR/main.cf: unused
 *	parameter: NAME=VALUE" for each main.cf setting that nothing uses,
 *	and "DIR/master.cf: unused parameter: NAME=VALUE" for each unused
 *	-o setting in master.cf. A name is used when it is registered; when
 *	a main.cf or master.cf value refers to it as $name, ${name...} or
 *	$(name...); when smtpd_restriction_classes lists it; when it is
 *	lmtp_X for a registered smtp_X; or when it is SERVICE_SUFFIX for a
 *	master.cf service name and a per-transport suffix (one for which
 *	default_SUFFIX is registered, or time_limit, or a few others that
 *	Postfix defines per transport).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "htable.h"
#include "mail_conf.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"
#include "vstream.h"

/* pc_scan_refs - add every $name, ${name...}, $(name...) in value to used */
static void pc_scan_refs(const char *value, HTABLE *used)
{
    const char *cp = value;

    while ((cp = strchr(cp, '$')) != NULL) {
        const char *start;
        size_t len;

        cp++;
        if (*cp == '$') {
            cp++;
            continue;
        }
        if (*cp == '{' || *cp == '(')
            cp++;
        for (start = cp; isalnum((unsigned char)*cp) || *cp == '_'; cp++)
            /* void */;
        len = (size_t)(cp - start);
        if (len > 0 && len <= MAIL_CONF_NAME_MAX) {
            char name[MAIL_CONF_NAME_MAX + 1];

            memcpy(name, start, len);
            name[len] = 0;
            htable_enter(used, name, "");
        }
    }
}

/* pc_per_service - is name SERVICE_SUFFIX for a master.cf service? */
static int pc_per_service(const char *name, HTABLE *services)
{
    static const char *suffixes[] = {"time_limit",
                                     "delivery_status_filter",
                                     "destination_rate_delay",
                                     "transport_rate_delay",
                                     "recipient_limit",
                                     "extra_recipient_limit",
                                     NULL};
    char buf[MAIL_CONF_NAME_MAX + 20];

    for (const char *us = strchr(name, '_'); us; us = strchr(us + 1, '_')) {
        size_t plen = (size_t)(us - name);
        const char *suffix = us + 1;

        if (plen == 0 || plen >= sizeof(buf) || strlen(suffix) > MAIL_CONF_NAME_MAX)
            continue;
        memcpy(buf, name, plen);
        buf[plen] = 0;
        if (!htable_find(services, buf))
            continue;
        snprintf(buf, sizeof(buf), "default_%s", suffix);
        if (mail_conf_known(buf))
            return 1;
        for (const char **sp = suffixes; *sp; sp++)
            if (strcmp(*sp, suffix) == 0)
                return 1;
    }
    return 0;
}

static int pc_used(const char *name, HTABLE *used, HTABLE *services)
{
    if (mail_conf_known(name) || htable_find(used, name))
        return 1;
    if (strncmp(name, "lmtp_", 5) == 0) {
        char buf[MAIL_CONF_NAME_MAX + 8];

        snprintf(buf, sizeof(buf), "smtp_%s", name + 5);
        if (mail_conf_known(buf))
            return 1;
    }
    return pc_per_service(name, services);
}

void pc_warn_unused(void)
{
    HTABLE *used = htable_create(100);
    HTABLE *services = htable_create(50);
    ARGV *names = mail_conf_file_names();
    ARGV *classes;
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf;
    const char *value;

    for (int i = 0; i < names->argc; i++)
        pc_scan_refs(mail_conf_lookup_file(names->argv[i]), used);
    vstring_sprintf(path, "%s/master.cf", var_config_dir);
    if ((cf = master_cf_read(vstring_str(path), why)) != NULL) {
        for (int i = 0; i < cf->count; i++) {
            htable_enter(services, cf->entries[i].service, "");
            for (int j = 0; j < cf->entries[i].argc; j++)
                pc_scan_refs(cf->entries[i].argv[j], used);
        }
    }
    if ((value = mail_conf_lookup_file("smtpd_restriction_classes")) != NULL) {
        classes = argv_split(value, ARGV_DELIM_LIST);
        for (int i = 0; i < classes->argc; i++)
            htable_enter(used, classes->argv[i], "");
        argv_free(classes);
    }
    for (int i = 0; i < names->argc; i++)
        if (!pc_used(names->argv[i], used, services))
            msg_warn("%s: unused parameter: %s=%s", mail_conf_path(), names->argv[i],
                     mail_conf_lookup_file(names->argv[i]));
    for (int i = 0; cf && i < cf->count; i++) {
        MASTER_CF_ENTRY *e = cf->entries + i;

        for (int j = 0; j + 1 < e->argc; j++) {
            char *arg, *eq, *end;

            if (strcmp(e->argv[j], "-o") != 0)
                continue;
            arg = mystrdup(e->argv[++j]);
            if ((eq = strchr(arg, '=')) != NULL) {
                for (end = eq; end > arg && isspace((unsigned char)end[-1]); end--)
                    /* void */;
                *end = 0;
                for (value = eq + 1; isspace((unsigned char)*value); value++)
                    /* void */;
                if (!pc_used(arg, used, services) && mail_conf_lookup_file(arg) == NULL)
                    msg_warn("%s: unused parameter: %s=%s", vstring_str(path), arg, value);
            }
            myfree(arg);
        }
    }
    master_cf_free(cf);
    htable_free(used, NULL);
    htable_free(services, NULL);
    argv_free(names);
    vstring_free(path);
    vstring_free(why);
}

/* pc_value - the value to show for name; NULL after a warning */
static char *pc_value(const char *name, int flags)
{
    const MAIL_CONF_PARAM *param = mail_conf_param_find(name);
    VSTRING *out;
    VSTRING *why;
    const char *raw;

    if (flags & PC_FLAG_DEFAULT) {
        if (param == NULL)
            return NULL;
        raw = mail_conf_default(name);
        if (!(flags & PC_FLAG_EXPAND))
            return mystrdup(raw);
        out = vstring_alloc(100);
        why = vstring_alloc(100);
        if (mail_conf_expand_check(raw, out, why) < 0) {
            msg_warn("%s", vstring_str(why));
            vstring_free(out);
            out = NULL;
        }
        vstring_free(why);
        return out ? vstring_export(out) : NULL;
    }
    if (param == NULL && mail_conf_lookup(name) == NULL)
        return NULL;
    if (!(flags & PC_FLAG_EXPAND)) {
        raw = (flags & PC_FLAG_NONDEF) ? mail_conf_lookup_file(name) : mail_conf_lookup(name);
        if (raw != NULL)
            return mystrdup(raw);
        if (param->defval != NULL)
            return mystrdup(param->defval);
        /* a computed default: computed from this configuration */
    }
    out = vstring_alloc(100);
    why = vstring_alloc(100);
    if (mail_conf_eval_param(name, out, why) < 0) {
        msg_warn("%s", vstring_str(why));
        vstring_free(out);
        out = NULL;
    }
    vstring_free(why);
    return out ? vstring_export(out) : NULL;
}

static int pc_print(const char *name, int flags)
{
    char *value = pc_value(name, flags);

    if (value == NULL)
        return -1;
    if (flags & PC_FLAG_HIDE)
        vstream_fprintf(VSTREAM_OUT, "%s\n", value);
    else if (*value)
        vstream_fprintf(VSTREAM_OUT, "%s = %s\n", name, value);
    else
        vstream_fprintf(VSTREAM_OUT, "%s =\n", name);
    myfree(value);
    return 0;
}

int pc_show_main(int flags, char **names)
{
    int status = 0;

    if (!(flags & PC_FLAG_DEFAULT))
        pc_warn_unused();
    if (names && *names) {
        for (; *names; names++) {
            if ((flags & PC_FLAG_DEFAULT)
                    ? !mail_conf_known(*names)
                    : (!mail_conf_known(*names) && mail_conf_lookup(*names) == NULL)) {
                msg_warn("%s: unknown parameter", *names);
                status = 1;
            } else if (pc_print(*names, flags) < 0) {
                status = 1;
            }
        }
    } else if (flags & PC_FLAG_NONDEF) {
        ARGV *set = mail_conf_file_names();

        for (int i = 0; i < set->argc; i++)
            if (pc_print(set->argv[i], flags) < 0)
                status = 1;
        argv_free(set);
    } else {
        int count;
        const MAIL_CONF_PARAM *list = mail_conf_param_list(&count);

        for (int i = 0; i < count; i++)
            if (pc_print(list[i].name, flags) < 0)
                status = 1;
    }
    return status;
}
