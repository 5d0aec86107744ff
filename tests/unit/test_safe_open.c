/*
 * test_safe_open - exclusive creation, refusing symlinks/FIFOs/hard links/
 * wrong owners, late truncation, durable replacement.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "safe_open.h"
#include "vstring.h"

static char dir[256];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");

    (void) state;
    snprintf(dir, sizeof(dir), "%s/safe_open.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[300];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
}

static char *read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    n = read(fd, buf, len - 1);
    assert_true(n >= 0);
    buf[n] = 0;
    close(fd);
    return buf;
}

static void test_create(void **state)
{
    char path[300], target[300];
    VSTRING *why = vstring_alloc(10);
    struct stat st;
    int fd;

    (void) state;
    umask(022);
    path_of(path, sizeof(path), "new");
    fd = safe_create(path, O_WRONLY, 0640, why);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    close(fd);
    assert_int_equal(safe_create(path, O_WRONLY, 0640, why), -1);
    assert_int_equal(errno, EEXIST);
    assert_non_null(strstr(vstring_str(why), path));
    /* a dangling symlink planted at the path is not followed */
    path_of(path, sizeof(path), "planted");
    path_of(target, sizeof(target), "target-never-created");
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(safe_create(path, O_WRONLY, 0600, NULL), -1);
    assert_int_equal(access(target, F_OK), -1);
    vstring_free(why);
}

static void test_open_existing_refusals(void **state)
{
    char path[300], slink[300], fifo[300], hard[300];
    VSTRING *why = vstring_alloc(10);
    struct stat st;
    int fd;

    (void) state;
    path_of(path, sizeof(path), "plain");
    write_file(path, "data");
    fd = safe_open_existing(path, O_RDONLY, SAFE_OPEN_ANY_UID, &st, why);
    assert_true(fd >= 0);
    assert_int_equal(st.st_size, 4);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    close(fd);
    /* owner check */
    fd = safe_open_existing(path, O_RDONLY, geteuid(), NULL, why);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(safe_open_existing(path, O_RDONLY, geteuid() + 1, NULL, why), -1);
    assert_int_equal(errno, EACCES);
    /* symlink */
    path_of(slink, sizeof(slink), "link");
    assert_int_equal(symlink(path, slink), 0);
    assert_int_equal(safe_open_existing(slink, O_RDONLY, SAFE_OPEN_ANY_UID, NULL, why), -1);
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(vstring_str(why), "symbolic link"));
    /* FIFO: refused, and without blocking */
    path_of(fifo, sizeof(fifo), "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(safe_open_existing(fifo, O_WRONLY, SAFE_OPEN_ANY_UID, NULL, why), -1);
    assert_int_equal(errno, EPERM);
    /* a directory */
    assert_int_equal(safe_open_existing(dir, O_RDONLY, SAFE_OPEN_ANY_UID, NULL, why), -1);
    assert_int_equal(errno, EPERM);
    /* hard link */
    path_of(hard, sizeof(hard), "hard");
    assert_int_equal(link(path, hard), 0);
    assert_int_equal(safe_open_existing(path, O_RDONLY, SAFE_OPEN_ANY_UID, NULL, why), -1);
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(vstring_str(why), "hard links"));
    /* refused with O_TRUNC: content untouched */
    fd = open(hard, O_RDONLY);
    assert_int_equal(safe_open_existing(path, O_WRONLY | O_TRUNC, SAFE_OPEN_ANY_UID, NULL, why),
                     -1);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 4);
    close(fd);
    unlink(hard);
    /* missing */
    path_of(path, sizeof(path), "missing");
    assert_int_equal(safe_open_existing(path, O_RDONLY, SAFE_OPEN_ANY_UID, NULL, why), -1);
    assert_int_equal(errno, ENOENT);
    vstring_free(why);
}

static void test_open_trunc_and_create(void **state)
{
    char path[300], buf[100];
    struct stat st;
    int fd;

    (void) state;
    path_of(path, sizeof(path), "mailbox");
    fd = safe_open(path, O_WRONLY | O_APPEND, 0600, SAFE_OPEN_ANY_UID, &st, NULL);
    assert_true(fd >= 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(write(fd, "one\n", 4), 4);
    close(fd);
    fd = safe_open(path, O_WRONLY | O_APPEND, 0600, geteuid(), &st, NULL);
    assert_true(fd >= 0);
    assert_int_equal(st.st_size, 4);
    assert_int_equal(write(fd, "two\n", 4), 4);
    close(fd);
    assert_string_equal(read_file(path, buf, sizeof(buf)), "one\ntwo\n");
    fd = safe_open_existing(path, O_WRONLY | O_TRUNC, SAFE_OPEN_ANY_UID, NULL, NULL);
    assert_true(fd >= 0);
    close(fd);
    assert_string_equal(read_file(path, buf, sizeof(buf)), "");
}

static int count_entries(void)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(dp);
    while ((de = readdir(dp)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(dp);
    return n;
}

static void test_replace(void **state)
{
    char path[300], slink[300], buf[100];
    VSTRING *why = vstring_alloc(10);
    VSTRING *tmp = vstring_alloc(10);
    struct stat st;
    int before;
    int fd;

    (void) state;
    path_of(path, sizeof(path), "main.cf");
    before = count_entries();
    /* a new file gets 0644 with KEEP_MODE */
    assert_int_equal(safe_replace_file(path, "a = 1\n", 6, SAFE_REPLACE_KEEP_MODE, why), 0);
    assert_string_equal(read_file(path, buf, sizeof(buf)), "a = 1\n");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* replacement keeps the mode of the old file */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(safe_replace_file(path, "a = 2\n", 6, SAFE_REPLACE_KEEP_MODE, why), 0);
    assert_string_equal(read_file(path, buf, sizeof(buf)), "a = 2\n");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    /* an explicit mode wins */
    assert_int_equal(safe_replace_file(path, "a = 3\n", 6, 0600, why), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(count_entries(), before + 1); /* no temporary left */
    /* abort: old content stays, temp removed */
    fd = safe_replace_begin(path, SAFE_REPLACE_KEEP_MODE, tmp, why);
    assert_true(fd >= 0);
    assert_int_equal(strncmp(vstring_str(tmp), path, strlen(path)), 0);
    assert_int_equal(access(vstring_str(tmp), F_OK), 0);
    assert_int_equal(write(fd, "junk", 4), 4);
    safe_replace_abort(fd, vstring_str(tmp));
    assert_int_equal(access(vstring_str(tmp), F_OK), -1);
    assert_string_equal(read_file(path, buf, sizeof(buf)), "a = 3\n");
    /* commit of a file written through another handle (fd < 0) */
    fd = safe_replace_begin(path, SAFE_REPLACE_KEEP_MODE, tmp, why);
    assert_true(fd >= 0);
    close(fd);
    write_file(vstring_str(tmp), "b = 1\n");
    assert_int_equal(safe_replace_commit(-1, vstring_str(tmp), path, why), 0);
    assert_string_equal(read_file(path, buf, sizeof(buf)), "b = 1\n");
    assert_int_equal(count_entries(), before + 1);
    /* a symlink is refused, not replaced */
    path_of(slink, sizeof(slink), "main.cf.link");
    assert_int_equal(symlink(path, slink), 0);
    assert_int_equal(safe_replace_file(slink, "x", 1, SAFE_REPLACE_KEEP_MODE, why), -1);
    assert_int_equal(errno, EPERM);
    assert_string_equal(read_file(path, buf, sizeof(buf)), "b = 1\n");
    unlink(slink);
    /* a directory that does not exist */
    path_of(path, sizeof(path), "no/such/dir/file");
    assert_int_equal(safe_replace_file(path, "x", 1, 0644, why), -1);
    assert_int_equal(errno, ENOENT);
    vstring_free(why);
    vstring_free(tmp);
}

static void test_fsync_helpers(void **state)
{
    char path[300];

    (void) state;
    path_of(path, sizeof(path), "synced");
    write_file(path, "x");
    assert_int_equal(fsync_path(path), 0);
    assert_int_equal(safe_fsync_dir(path), 0);
    assert_int_equal(safe_fsync_dir("relative-name"), 0); /* "." */
    assert_int_equal(safe_fsync_dir("/etc"), 0);          /* "/" */
    path_of(path, sizeof(path), "nodir/x");
    assert_int_equal(safe_fsync_dir(path), -1);
    assert_int_equal(fsync_path(path), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_open_existing_refusals),
        cmocka_unit_test(test_open_trunc_and_create),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_fsync_helpers),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
