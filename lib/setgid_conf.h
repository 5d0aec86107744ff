#ifndef POSTERN_SETGID_CONF_H
#define POSTERN_SETGID_CONF_H
/*
 * setgid_conf - what a set-gid command (postdrop, postqueue) may trust
 * from the user who runs it: descriptors, configuration directory,
 * environment
 *
 * A set-gid program runs with the group that reaches maildrop/ and
 * public/, on behalf of any local user. The user chooses its
 * descriptors, its environment and, through -c or MAIL_CONFIG, the
 * main.cf it reads (and with it queue_directory and every table), so
 * each must be checked before it is used.
 *
 * setgid_std_fds() makes sure descriptors 0, 1 and 2 are open (on
 *	/dev/null), so that a file the program opens never becomes its
 *	standard output by accident. It exits with EX_OSERR when it cannot.
 *
 * setgid_conf_dir(option_dir) returns the configuration directory to
 *	read: option_dir (from -c) when not empty, else $MAIL_CONFIG when
 *	set and not empty, else NULL (the compiled-in default). When the
 *	process runs set-gid (real and effective group differ) for a user
 *	other than root, a directory other than the default is accepted
 *	only when it is listed in alternate_config_directories of the
 *	default main.cf, or when the directory and its main.cf belong to
 *	root and are not writable by group or others; otherwise the
 *	program ends with EX_NOPERM ("not an authorized configuration
 *	directory"). Reads the default main.cf for that check and forgets
 *	it again (mail_conf_reset()).
 *
 * setgid_clean_env() replaces the environment with the variables
 *	$import_environment names (NAME keeps a variable when set,
 *	NAME=value sets it). Call it after mail_conf_eval(), when running
 *	set-gid.
 *
 * setgid_running() is 1 when real and effective group IDs differ.
 */

void setgid_std_fds(void);
const char *setgid_conf_dir(const char *option_dir);
void setgid_clean_env(void);
int setgid_running(void);

#endif
