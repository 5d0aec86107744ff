/*
 * NAME
 *	postconf_tables - lookup table types, and the Berkeley DB report
 * SYNOPSIS
 *	#include "postconf.h"
 *
 *	int pc_show_types(void)
 *	int pc_report_bdb(void)
 * DESCRIPTION
 *	pc_show_types() prints every lookup table type postern supports,
 *	one per line (postconf -m).
 *
 *	pc_report_bdb() prints, for every parameter whose value (as main.cf
 *	sets it, or by default) names a Berkeley DB table itself, a line
 *	"parameter = type:name" (the name expanded), then a summary line on
 *	standard error saying how to move each one to lmdb: or cdb:
 *	(postconf -B). A table named only through a $reference to another
 *	parameter is reported under that parameter. main.cf must have been
 *	read. Both return the exit status, 0.
 */
#include <stdio.h>
#include <string.h>

#include "argv.h"
#include "dict.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"
#include "vstream.h"

int pc_show_types(void)
{
    ARGV *types = dict_type_list();

    for (int i = 0; i < types->argc; i++)
        vstream_fprintf(VSTREAM_OUT, "%s\n", types->argv[i]);
    argv_free(types);
    return 0;
}

/* pc_bdb_raw - a parameter's value as main.cf sets it, else its default */
static const char *pc_bdb_raw(const char *name)
{
    const char *raw = mail_conf_lookup_file(name);

    if (raw == NULL && mail_conf_known(name))
        raw = mail_conf_default(name);
    return raw;
}

/* pc_bdb_check - report the Berkeley DB tables one parameter names */
static int pc_bdb_check(const char *name)
{
    const char *raw = pc_bdb_raw(name);
    ARGV *tables;
    int found;

    if (raw == NULL)
        return 0;
    tables = dict_tables_in(raw, "hash, btree");
    for (int i = 0; i < tables->argc; i++) {
        char *table = mail_conf_expand(tables->argv[i]);

        vstream_fprintf(VSTREAM_OUT, "%s = %s\n", name, table);
        myfree(table);
    }
    found = tables->argc;
    argv_free(tables);
    return found;
}

int pc_report_bdb(void)
{
    int count;
    const MAIL_CONF_PARAM *params = mail_conf_param_list(&count);
    ARGV *file_names = mail_conf_file_names();
    int found = 0;

    for (int i = 0; i < count; i++)
        found += pc_bdb_check(params[i].name);
    for (int i = 0; i < file_names->argc; i++)
        if (!mail_conf_known(file_names->argv[i]))
            found += pc_bdb_check(file_names->argv[i]);
    argv_free(file_names);
    if (vstream_fflush(VSTREAM_OUT) != 0)
        msg_fatal("write error on standard output");
    if (found)
        fprintf(stderr,
                "postconf: %d table reference%s above still use%s Berkeley DB: build each "
                "source with \"postmap lmdb:FILE\" (or cdb:FILE) and change its type in main.cf\n",
                found, found == 1 ? "" : "s", found == 1 ? "s" : "");
    else
        fprintf(stderr, "postconf: no table in this configuration uses Berkeley DB\n");
    return 0;
}
