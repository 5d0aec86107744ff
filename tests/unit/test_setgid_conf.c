/*
 * NAME
 *	test_setgid_conf - unit tests for what set-gid commands trust
 * SYNOPSIS
 *	build/unit/test_setgid_conf
 * DESCRIPTION
 *	setgid_std_fds() reopens closed standard descriptors on /dev/null;
 *	setgid_conf_dir() passes -c and MAIL_CONFIG through when not
 *	set-gid or for root, and, in a child that runs set-gid as nobody
 *	(needs root to set up; skipped otherwise), accepts a directory
 *	that only root controls and refuses (EX_NOPERM) one that others may
 *	write or that root does not own; setgid_clean_env() keeps exactly
 *	what import_environment names.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail_conf.h"
#include "msg.h"
#include "setgid_conf.h"
#include "vstring.h"

static char tmpdir[] = "/tmp/test_setgid_conf.XXXXXX";
static VSTRING *dir; /* globals: still reachable when a child exits */
static VSTRING *file;
static int in_child; /* a child that changed its ids */

/*
 * LeakSanitizer cannot stop the threads of a process that changed its
 * user ID; the children exit at once anyway. Sanitizer hook, unused in
 * plain builds.
 */
int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
    return in_child;
}

static void test_std_fds(void **state)
{
    pid_t pid;
    int status;
    struct stat st;

    (void)state;
    if ((pid = fork()) == 0) {
        close(1);
        close(2);
        setgid_std_fds();
        if (fstat(1, &st) < 0 || !S_ISCHR(st.st_mode) || fstat(2, &st) < 0)
            _exit(1);
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_not_setgid(void **state)
{
    (void)state;
    unsetenv("MAIL_CONFIG");
    assert_false(setgid_running());
    assert_null(setgid_conf_dir(NULL));
    assert_null(setgid_conf_dir(""));
    assert_string_equal(setgid_conf_dir("/some/where"), "/some/where");
    setenv("MAIL_CONFIG", "/from/env", 1);
    assert_string_equal(setgid_conf_dir(NULL), "/from/env");
    assert_string_equal(setgid_conf_dir("/option/wins"), "/option/wins");
    setenv("MAIL_CONFIG", "", 1);
    assert_null(setgid_conf_dir(NULL));
    unsetenv("MAIL_CONFIG");
}

/* as_setgid_nobody - exit status of setgid_conf_dir(dir) run set-gid by nobody */

static int as_setgid_nobody(const char *dir)
{
    struct passwd *pw = getpwnam("nobody");
    pid_t pid;
    int status;

    if ((pid = fork()) == 0) {
        /* real group nobody's, effective group 0: the program runs set-gid */
        if (setresgid(pw->pw_gid, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
            _exit(99);
        if (!setgid_running())
            _exit(98);
        in_child = 1;
        (void)setgid_conf_dir(dir);
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_setgid_dirs(void **state)
{
    struct passwd *pw = getpwnam("nobody");
    int fd;

    (void)state;
    if (geteuid() != 0 || pw == NULL)
        skip();
    vstring_sprintf(dir, "%s/conf", tmpdir);
    vstring_sprintf(file, "%s/conf/main.cf", tmpdir);
    assert_int_equal(mkdir(vstring_str(dir), 0755), 0);
    fd = open(vstring_str(file), O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    chmod(tmpdir, 0755);

    assert_int_equal(as_setgid_nobody(vstring_str(dir)), 0);
    assert_int_equal(chmod(vstring_str(file), 0664), 0); /* group may write */
    assert_int_equal(as_setgid_nobody(vstring_str(dir)), EX_NOPERM);
    assert_int_equal(chmod(vstring_str(file), 0644), 0);
    assert_int_equal(chmod(vstring_str(dir), 0777), 0); /* anyone may write */
    assert_int_equal(as_setgid_nobody(vstring_str(dir)), EX_NOPERM);
    assert_int_equal(chmod(vstring_str(dir), 0755), 0);
    assert_int_equal(chown(vstring_str(file), pw->pw_uid, 0), 0); /* not root's */
    assert_int_equal(as_setgid_nobody(vstring_str(dir)), EX_NOPERM);
    assert_int_equal(chown(vstring_str(file), 0, 0), 0);
    assert_int_equal(as_setgid_nobody(vstring_str(dir)), 0);
    assert_int_equal(as_setgid_nobody("/nonexistent/dir"), EX_NOPERM);
}

static void test_clean_env(void **state)
{
    (void)state;
    mail_conf_override("import_environment", "KEEP, ABSENT, FORCED=forced_value, TZ");
    mail_conf_eval();
    setenv("KEEP", "kept", 1);
    setenv("DROP", "dropped", 1);
    setenv("FORCED", "user value", 1);
    setenv("LD_PRELOAD", "/tmp/evil.so", 1);
    unsetenv("ABSENT");
    setgid_clean_env();
    assert_string_equal(getenv("KEEP"), "kept");
    assert_string_equal(getenv("FORCED"), "forced_value");
    assert_null(getenv("DROP"));
    assert_null(getenv("LD_PRELOAD"));
    assert_null(getenv("ABSENT"));
    assert_null(getenv("PATH"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_std_fds),
        cmocka_unit_test(test_not_setgid),
        cmocka_unit_test(test_setgid_dirs),
        cmocka_unit_test(test_clean_env),
    };
    VSTRING *cmd = vstring_alloc(100);
    int ret;

    msg_init("test_setgid_conf");
    msg_set_logfile("/dev/null");
    mail_conf_eval();
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    dir = vstring_alloc(100);
    file = vstring_alloc(100);
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    vstring_free(dir);
    vstring_free(file);
    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    if (system(vstring_str(cmd)) != 0)
        ret = 1;
    vstring_free(cmd);
    return ret;
}
