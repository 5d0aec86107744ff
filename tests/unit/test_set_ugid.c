/*
 * test_set_ugid - user/group lookups; the non-root "already that user"
 * path; as root, dropping to nobody in a child and verifying from inside.
 */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"
#include "set_ugid.h"

static void test_lookups(void **state)
{
    UGID_USER user;
    gid_t gid = 12345;
    char longname[2000];

    (void) state;
    assert_int_equal(ugid_user_byname("root", &user), 1);
    assert_int_equal(user.uid, 0);
    assert_int_equal(user.gid, 0);
    assert_string_equal(user.name, "root");
    assert_true(user.home[0] == '/');
    assert_int_equal(ugid_user_byuid(0, &user), 1);
    assert_string_equal(user.name, "root");
    assert_int_equal(ugid_user_byname("no-such-user-postern", &user), 0);
    assert_int_equal(ugid_user_byuid(3999999, &user), 0);
    assert_int_equal(ugid_group_byname("root", &gid), 1);
    assert_int_equal(gid, 0);
    assert_int_equal(ugid_group_byname("no-such-group-postern", &gid), 0);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_int_equal(ugid_user_byname(longname, &user), 0);
}

/* run fn in a child with logging kept quiet; return its exit status */
static int in_child(void (*fn)(void))
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        msg_set_logfile("/dev/null");
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static void same_user_noop(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();

    if (uid == 0) {
        UGID_USER nobody;

        /* become an ordinary user first, so the non-root path is taken */
        if (ugid_user_byname("nobody", &nobody) != 1)
            _exit(77);
        set_ugid(nobody.uid, nobody.gid, NULL);
        uid = nobody.uid;
        gid = nobody.gid;
    }
    set_ugid(uid, gid, NULL); /* nothing to do: must return */
    set_eugid(uid, gid, NULL);
    if (getuid() != uid || geteuid() != uid || getgid() != gid)
        _exit(2);
    _exit(0);
}

static void same_user_then_other(void)
{
    UGID_USER nobody;

    if (getuid() == 0) {
        if (ugid_user_byname("nobody", &nobody) != 1)
            _exit(77);
        set_ugid(nobody.uid, nobody.gid, NULL);
    }
    set_ugid(0, 0, NULL); /* not root, different ids: fatal, exit 1 */
    _exit(0);
}

static void test_non_root_paths(void **state)
{
    int rc;

    (void) state;
    rc = in_child(same_user_noop);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
    assert_int_equal(in_child(same_user_then_other), 1);
}

static void drop_to_nobody(void)
{
    UGID_USER nobody;
    uid_t r, e, s;
    gid_t rg, eg, sg;
    gid_t groups[8];
    int n;

    if (ugid_user_byname("nobody", &nobody) != 1)
        _exit(77);
    set_ugid(nobody.uid, nobody.gid, NULL);
    if (getresuid(&r, &e, &s) < 0 || r != nobody.uid || e != nobody.uid || s != nobody.uid)
        _exit(2);
    if (getresgid(&rg, &eg, &sg) < 0 || rg != nobody.gid || eg != nobody.gid || sg != nobody.gid)
        _exit(3);
    n = getgroups(8, groups);
    if (n != 1 || groups[0] != nobody.gid)
        _exit(4);
    if (setuid(0) == 0 || seteuid(0) == 0)
        _exit(5);
    _exit(0);
}

static void drop_with_initgroups(void)
{
    UGID_USER nobody;

    if (ugid_user_byname("nobody", &nobody) != 1)
        _exit(77);
    set_ugid(nobody.uid, nobody.gid, "nobody");
    if (getuid() != nobody.uid || geteuid() != nobody.uid || getgid() != nobody.gid)
        _exit(2);
    if (setuid(0) == 0)
        _exit(5);
    _exit(0);
}

static void effective_and_back(void)
{
    UGID_USER nobody;

    if (ugid_user_byname("nobody", &nobody) != 1)
        _exit(77);
    set_eugid(nobody.uid, nobody.gid, NULL);
    if (geteuid() != nobody.uid || getegid() != nobody.gid || getuid() != 0)
        _exit(2);
    set_eugid(0, 0, NULL);
    if (geteuid() != 0 || getegid() != 0)
        _exit(3);
    _exit(0);
}

static void test_root_drop(void **state)
{
    int rc;

    (void) state;
    if (geteuid() != 0)
        skip();
    rc = in_child(drop_to_nobody);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
    assert_int_equal(in_child(drop_with_initgroups), 0);
    assert_int_equal(in_child(effective_and_back), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_non_root_paths),
        cmocka_unit_test(test_root_drop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
