/*
 * NAME
 *	postconf - show and change the postern configuration
 * SYNOPSIS
 *	postconf [-dhnx] [-c config_dir] [parameter ...]
 *	postconf [-e] [-c config_dir] parameter=value ...
 *	postconf -X [-c config_dir] parameter ...
 *	postconf -# [-c config_dir] parameter ...
 *	postconf -M [-c config_dir] [service[/type] ...]
 *	postconf -Me [-c config_dir] service/type=entry ...
 *	postconf -MX | -M# [-c config_dir] service/type ...
 *	postconf -F [-h] [-c config_dir] [service[/type[/field]] ...]
 *	postconf -Fe [-c config_dir] service/type/field=value ...
 *	postconf -P [-h] [-c config_dir] [service[/type[/parameter]] ...]
 *	postconf -m
 *	postconf -B [-c config_dir]
 * DESCRIPTION
 *	This file parses the command line, selects the configuration
 *	directory (-c, else $MAIL_CONFIG, else the compiled-in default) and
 *	runs one mode. See man/man1/postconf.1 for what each mode does.
 *
 *	Messages go to standard error as "postconf: warning: ..." and
 *	"postconf: fatal: ..."; they are not sent to syslog. The exit status
 *	is 0 on success and 1 after any error or unknown name.
 *
 *	Without -e, an argument that contains "=" makes postconf edit
 *	main.cf, as Postfix 2.8 and later do.
 */
#include <string.h>
#include <unistd.h>

#include "mail_conf.h"
#include "msg.h"
#include "postconf.h"
#include "vstream.h"

static void usage(void)
{
    msg_fatal("usage: postconf [-dfhnvx] [-c config_dir] [parameter ...] | "
              "[-e] parameter=value ... | -X parameter ... | -# parameter ... | "
              "-M[e|X|#] [service[/type][=entry] ...] | "
              "-F[e] [service[/type[/field]][=value] ...] | "
              "-P [service[/type[/parameter]] ...] | -m | -B");
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    int flags = 0;
    int edit = 0, remove = 0, comment = 0;
    int master = 0, fields = 0, params = 0;
    int types = 0, bdb = 0;
    int status;
    int ch;

    msg_init("postconf");
    msg_set_stderr(1);
    msg_set_logfile("/dev/null"); /* people read stderr; keep syslog clean */

    while ((ch = getopt(argc, argv, "Bc:deFfhmMnPvxX#")) != -1) {
        switch (ch) {
        case 'B':
            bdb = 1;
            break;
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
            flags |= PC_FLAG_DEFAULT;
            break;
        case 'e':
            edit = 1;
            break;
        case 'F':
            fields = 1;
            break;
        case 'f':
            /* fold long lines: our output is never folded */
            break;
        case 'h':
            flags |= PC_FLAG_HIDE;
            break;
        case 'm':
            types = 1;
            break;
        case 'M':
            master = 1;
            break;
        case 'n':
            flags |= PC_FLAG_NONDEF;
            break;
        case 'P':
            params = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'x':
            flags |= PC_FLAG_EXPAND;
            break;
        case 'X':
            remove = 1;
            break;
        case '#':
            comment = 1;
            break;
        default:
            usage();
        }
    }
    argv += optind;
    argc -= optind;
    if (master + fields + params > 1 || edit + remove + comment > 1)
        usage();
    if ((flags & PC_FLAG_DEFAULT) && (flags & PC_FLAG_NONDEF))
        msg_fatal("specify one of -d and -n");

    if (types + bdb + master + fields + params > 1)
        usage();
    if (types) {
        status = pc_show_types();
    } else if (bdb) {
        mail_conf_read(config_dir);
        status = pc_report_bdb();
    } else if (master || fields || params) {
        mail_conf_set_dir(config_dir);
        if (master && edit)
            status = pc_edit_master(PC_EDIT_SET, argv);
        else if (master && remove)
            status = pc_edit_master(PC_EDIT_REMOVE, argv);
        else if (master && comment)
            status = pc_edit_master(PC_EDIT_COMMENT, argv);
        else if (fields && edit)
            status = pc_edit_fields(argv);
        else if (remove || comment || edit)
            usage();
        else if (master)
            status = pc_show_master(flags, argv);
        else if (fields)
            status = pc_show_fields(flags, argv);
        else
            status = pc_show_params(flags, argv);
    } else if (remove || comment) {
        if (argc == 0)
            usage();
        mail_conf_set_dir(config_dir);
        status = pc_edit_main(remove ? PC_EDIT_REMOVE : PC_EDIT_COMMENT, argv);
    } else if (edit || (argc > 0 && !(flags & (PC_FLAG_DEFAULT | PC_FLAG_NONDEF)) &&
                        strchr(argv[0], '=') != NULL)) {
        if (argc == 0)
            usage();
        mail_conf_set_dir(config_dir);
        status = pc_edit_main(PC_EDIT_SET, argv);
    } else {
        if (!(flags & PC_FLAG_DEFAULT))
            mail_conf_read(config_dir);
        status = pc_show_main(flags, argv);
    }
    if (vstream_fflush(VSTREAM_OUT) != 0)
        msg_fatal("write error on standard output");
    return status;
}
