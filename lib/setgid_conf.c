/*
 * NAME
 *	setgid_conf - descriptors, configuration and environment for set-gid commands
 * SYNOPSIS
 *	#include "setgid_conf.h"
 *
 *	void setgid_std_fds(void)
 *	const char *setgid_conf_dir(const char *option_dir)
 *	void setgid_clean_env(void)
 *	int setgid_running(void)
 * DESCRIPTION
 *	setgid_conf.h states the rules. The default configuration
 *	directory is what mail_conf_dir() says without MAIL_CONFIG; a
 *	different one is trusted when alternate_config_directories of the
 *	default main.cf lists it (compared as written), or when only root
 *	can change it and its main.cf. Root and programs that do not run
 *	set-gid may use any directory.
 * DIAGNOSTICS
 *	Refusals and impossible situations end the program with a
 *	sysexits.h status: EX_NOPERM for a directory that is not trusted,
 *	EX_OSERR when descriptors or the environment cannot be fixed.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "setgid_conf.h"
#include "vstring.h"

void setgid_std_fds(void)
{
    int fd;

    for (int i = 0; i < 3; i++) {
        if (fcntl(i, F_GETFD) >= 0)
            continue;
        if ((fd = open("/dev/null", O_RDWR)) != i)
            _exit(EX_OSERR);
    }
}

int setgid_running(void)
{
    return getgid() != getegid();
}

/* setgid_root_dir - a directory and its main.cf that only root controls */

static int setgid_root_dir(const char *dir)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    int ok;

    vstring_sprintf(path, "%s/main.cf", dir);
    ok = (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
          (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 && lstat(vstring_str(path), &st) == 0 &&
          S_ISREG(st.st_mode) && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0);
    vstring_free(path);
    return ok;
}

/* setgid_listed_dir - is dir in the default main.cf's alternate_config_directories? */

static int setgid_listed_dir(const char *default_dir, const char *dir)
{
    VSTRING *value = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    ARGV *list;
    int found = 0;

    if (mail_conf_read_check(default_dir, why) == 0 &&
        mail_conf_eval_param("alternate_config_directories", value, why) == 0) {
        list = argv_split(vstring_str(value), ARGV_DELIM_LIST);
        for (int i = 0; i < list->argc && !found; i++)
            found = strcmp(list->argv[i], dir) == 0;
        argv_free(list);
    }
    mail_conf_reset();
    vstring_free(value);
    vstring_free(why);
    return found;
}

const char *setgid_conf_dir(const char *option_dir)
{
    const char *env = getenv("MAIL_CONFIG");
    const char *dir = option_dir && *option_dir ? option_dir : env && *env ? env : NULL;
    char *saved_env;
    char *default_dir;

    if (dir == NULL || !setgid_running() || getuid() == 0)
        return dir;
    /* the compiled-in default: what mail_conf_dir() says without MAIL_CONFIG */
    saved_env = env ? mystrdup(env) : NULL;
    unsetenv("MAIL_CONFIG");
    default_dir = mystrdup(mail_conf_dir(NULL));
    if (saved_env && setenv("MAIL_CONFIG", saved_env, 1) < 0)
        msg_fatal_status(EX_OSERR, "setenv MAIL_CONFIG: %m");
    if (strcmp(dir, default_dir) != 0 && !setgid_root_dir(dir) &&
        !setgid_listed_dir(default_dir, dir))
        msg_fatal_status(EX_NOPERM,
                         "%s: not an authorized configuration directory "
                         "(see alternate_config_directories in %s/main.cf)",
                         dir, default_dir);
    myfree(default_dir);
    myfree(saved_env);
    return dir;
}

void setgid_clean_env(void)
{
    ARGV *names = argv_split(var_import_environment, ARGV_DELIM_LIST);
    ARGV *keep = argv_alloc(names->argc + 1);
    VSTRING *buf = vstring_alloc(100);
    const char *value;
    char *eq;

    for (int i = 0; i < names->argc; i++) {
        if (strchr(names->argv[i], '=') != NULL) {
            argv_add(keep, names->argv[i]);
        } else if ((value = getenv(names->argv[i])) != NULL) {
            vstring_sprintf(buf, "%s=%s", names->argv[i], value);
            argv_add(keep, vstring_str(buf));
        }
    }
    if (clearenv() != 0)
        msg_fatal_status(EX_OSERR, "clear environment: %m");
    for (int i = 0; i < keep->argc; i++) {
        eq = strchr(keep->argv[i], '=');
        *eq = 0;
        if (keep->argv[i][0] && setenv(keep->argv[i], eq + 1, 1) < 0)
            msg_fatal_status(EX_OSERR, "setenv %s: %m", keep->argv[i]);
    }
    argv_free(names);
    argv_free(keep);
    vstring_free(buf);
}
