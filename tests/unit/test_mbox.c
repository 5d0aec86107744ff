/*
 * NAME
 *	test_mbox - unit tests for mailbox file delivery
 * SYNOPSIS
 *	build/unit/test_mbox
 * DESCRIPTION
 *	mbox_deliver(): a new mailbox is created (mode 0600) and appended
 *	to; the size limit bounces and leaves the file as it was; a writer
 *	that fails half-way leaves the file as it was; a symbolic link, a
 *	hard-linked file, a directory and a file of the wrong owner are
 *	refused; a mailbox locked by another process (fcntl or dot-lock)
 *	defers after the lock wait; a stale dot-lock is removed; many
 *	processes appending at once leave every message whole and
 *	unmixed. As root: a created file is given to chown_uid, and the
 *	write runs with write_uid.
 */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>

#include "lock_file.h"
#include "mbox.h"
#include "mymalloc.h"
#include "safe_open.h"
#include "vstream.h"
#include "vstring.h"

static char dir[256];
static char path[300];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");

    (void)state;
    snprintf(dir, sizeof(dir), "%s/mbox.XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    chmod(dir, 0755);
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int fresh_path(void **state)
{
    static int n;

    (void)state;
    snprintf(path, sizeof(path), "%s/box%d", dir, n++);
    return 0;
}

static char *slurp(const char *name)
{
    VSTRING *out = vstring_alloc(100);
    char buf[4096];
    ssize_t n;
    int fd = open(name, O_RDONLY);

    assert_true(fd >= 0);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        vstring_memcat(out, buf, (size_t)n);
    close(fd);
    return vstring_export(out);
}

static off_t file_size(const char *name)
{
    struct stat st;

    return stat(name, &st) == 0 ? st.st_size : -1;
}

static int write_text(VSTREAM *dst, void *context, VSTRING *why)
{
    vstream_fputs((const char *)context, dst);
    if (vstream_fflush(dst) == VSTREAM_EOF) {
        vstring_strcpy(why, "error writing message");
        return MAILBOX_COPY_ERR_WRITE;
    }
    return MAILBOX_COPY_OK;
}

static int write_then_fail(VSTREAM *dst, void *context, VSTRING *why)
{
    (void)context;
    vstream_fputs("From partial\nhalf a message\n", dst);
    vstream_fflush(dst);
    vstring_strcpy(why, "error reading message: test");
    return MAILBOX_COPY_ERR_READ;
}

static void quick_opts(MBOX_OPTS *opts)
{
    mbox_opts_init(opts);
    opts->lock_attempts = 2;
    opts->lock_delay = 1;
}

static void test_append(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    MBOX_OPTS opts;
    struct stat st;
    char *text;

    (void)state;
    quick_opts(&opts);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "From a\none\n\n", dsn, why),
                     MAILBOX_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "From b\ntwo\n\n", dsn, why),
                     MAILBOX_OK);
    text = slurp(path);
    assert_string_equal(text, "From a\none\n\nFrom b\ntwo\n\n");
    myfree(text);

    /* no lock file is left behind */
    char lock[320];
    snprintf(lock, sizeof(lock), "%s.lock", path);
    assert_int_equal(access(lock, F_OK), -1);
    vstring_free(dsn);
    vstring_free(why);
}

static void test_limit_and_rollback(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    MBOX_OPTS opts;
    char big[3000];
    off_t before;
    char *text;

    (void)state;
    quick_opts(&opts);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "From a\nfirst\n\n", dsn, why),
                     MAILBOX_OK);
    before = file_size(path);

    /* over mailbox_size_limit: bounced, mailbox unchanged */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    opts.limit = 1000;
    assert_int_equal(mbox_deliver(path, &opts, write_text, big, dsn, why), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.2.2");
    assert_string_equal(vstring_str(why), "error writing message: File too large");
    assert_int_equal(file_size(path), before);

    /* the limit counts the whole mailbox */
    opts.limit = before + 10;
    assert_int_equal(mbox_deliver(path, &opts, write_text, "From b\n0123456789\n", dsn, why),
                     MAILBOX_BOUNCE);
    assert_int_equal(file_size(path), before);
    opts.limit = before + 100;
    assert_int_equal(mbox_deliver(path, &opts, write_text, "From b\n0123456789\n", dsn, why),
                     MAILBOX_OK);
    before = file_size(path);

    /* the writer fails half-way: deferred, mailbox unchanged */
    opts.limit = 0;
    assert_int_equal(mbox_deliver(path, &opts, write_then_fail, NULL, dsn, why), MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.3.0");
    assert_string_equal(vstring_str(why), "error reading message: test");
    assert_int_equal(file_size(path), before);
    text = slurp(path);
    assert_null(strstr(text, "partial"));
    myfree(text);
    vstring_free(dsn);
    vstring_free(why);
}

static void test_refusals(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    MBOX_OPTS opts;
    char other[320];
    int fd;

    (void)state;
    quick_opts(&opts);

    /* a symbolic link to a file */
    snprintf(other, sizeof(other), "%s.target", path);
    fd = open(other, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlink(other, path), 0);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.2.0");
    assert_non_null(strstr(vstring_str(why), "cannot open file"));
    assert_int_equal(file_size(other), 0);
    unlink(path);

    /* a file with two links */
    assert_int_equal(link(other, path), 0);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_BOUNCE);
    assert_int_equal(file_size(other), 0);
    unlink(path);

    /* a directory */
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_BOUNCE);
    rmdir(path);

    /* the wrong owner (strict_mailbox_ownership) */
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    opts.owner = getuid() + 1;
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.2.0");
    assert_non_null(strstr(vstring_str(why), "is owned by uid"));
    assert_int_equal(file_size(path), 0);
    opts.owner = getuid();
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_OK);
    assert_int_equal(file_size(path), 2);
    vstring_free(dsn);
    vstring_free(why);
}

static void test_locked(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    MBOX_OPTS opts;
    char lock[320];
    struct utimbuf old;
    time_t start;
    int fd;
    int pipefd[2];
    pid_t pid;
    char ch;

    (void)state;
    quick_opts(&opts);
    opts.lock_attempts = 1;

    /* another process holds an fcntl lock: deferred, nothing written */
    fd = open(path, O_CREAT | O_RDWR, 0600);
    assert_true(fd >= 0);
    assert_int_equal(pipe(pipefd), 0);
    if ((pid = fork()) == 0) {
        int cfd = open(path, O_RDWR);

        lock_file(cfd, LOCK_FILE_EXCLUSIVE);
        (void)write(pipefd[1], "L", 1);
        sleep(30);
        _exit(0);
    }
    assert_int_equal(read(pipefd[0], &ch, 1), 1);
    start = time(NULL);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_DEFER);
    assert_true(time(NULL) - start <= 3);
    assert_string_equal(vstring_str(dsn), "4.2.0");
    assert_non_null(strstr(vstring_str(why), "unable to lock for exclusive access"));
    assert_int_equal(file_size(path), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    close(fd);

    /* a fresh dot-lock held by someone else: deferred */
    snprintf(lock, sizeof(lock), "%s.lock", path);
    fd = open(lock, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_DEFER);
    assert_non_null(strstr(vstring_str(why), "unable to create lock file"));
    assert_int_equal(access(lock, F_OK), 0); /* not ours: left alone */

    /* the same lock, but stale: removed, delivered (the removal takes one try) */
    opts.lock_attempts = 2;
    old.actime = old.modtime = time(NULL) - 1000;
    assert_int_equal(utime(lock, &old), 0);
    assert_int_equal(mbox_deliver(path, &opts, write_text, "x\n", dsn, why), MAILBOX_OK);
    assert_int_equal(access(lock, F_OK), -1);
    assert_int_equal(file_size(path), 2);

    /* fcntl locking only: a dot-lock does not matter */
    fd = open(lock, O_CREAT | O_WRONLY, 0600);
    close(fd);
    opts.lock = MBOX_LOCK_FCNTL;
    assert_int_equal(mbox_deliver(path, &opts, write_text, "y\n", dsn, why), MAILBOX_OK);
    assert_int_equal(file_size(path), 4);
    unlink(lock);
    vstring_free(dsn);
    vstring_free(why);
}

/* concurrent writers: every message whole, none mixed with another */
static void test_concurrent(void **state)
{
    enum { WRITERS = 8, EACH = 25, LINES = 200 };
    pid_t pids[WRITERS];
    char *text;
    int status;
    int count = 0;

    (void)state;
    for (int w = 0; w < WRITERS; w++) {
        if ((pids[w] = fork()) == 0) {
            VSTRING *dsn = vstring_alloc(10);
            VSTRING *why = vstring_alloc(10);
            VSTRING *msg = vstring_alloc(100);
            MBOX_OPTS opts;

            mbox_opts_init(&opts);
            opts.lock_attempts = 60;
            for (int m = 0; m < EACH; m++) {
                vstring_sprintf(msg, "From w%d-%d\n", w, m);
                for (int l = 0; l < LINES; l++)
                    vstring_sprintf_append(msg, "w%d-%d line %d of a message body\n", w, m, l);
                vstring_strcat(msg, "\n");
                if (mbox_deliver(path, &opts, write_text, vstring_str(msg), dsn, why) != MAILBOX_OK)
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    text = slurp(path);
    for (char *cp = text; cp && *cp;) {
        int w, m;
        char expect[100];

        assert_int_equal(sscanf(cp, "From w%d-%d\n", &w, &m), 2);
        cp = strchr(cp, '\n') + 1;
        for (int l = 0; l < LINES; l++) {
            int n = snprintf(expect, sizeof(expect), "w%d-%d line %d of a message body\n", w, m, l);

            assert_true(strncmp(cp, expect, (size_t)n) == 0);
            cp += n;
        }
        assert_int_equal(*cp, '\n');
        cp++;
        count++;
    }
    assert_int_equal(count, WRITERS * EACH);
    myfree(text);
}

/* as root: ownership of a created mailbox, identity while writing */
static int write_euid(VSTREAM *dst, void *context, VSTRING *why)
{
    (void)context;
    vstream_fprintf(dst, "%ld %ld\n", (long)geteuid(), (long)getegid());
    if (vstream_fflush(dst) == VSTREAM_EOF) {
        vstring_strcpy(why, "error writing message");
        return MAILBOX_COPY_ERR_WRITE;
    }
    return MAILBOX_COPY_OK;
}

static void test_root_ids(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    MBOX_OPTS opts;
    struct stat st;
    char *text;

    (void)state;
    if (getuid() != 0) {
        vstring_free(dsn);
        vstring_free(why);
        skip();
    }
    quick_opts(&opts);
    opts.chown_uid = 65534;
    opts.chown_gid = 65534;
    opts.write_uid = 65534;
    opts.write_gid = 65534;
    opts.owner = 65534;
    assert_int_equal(mbox_deliver(path, &opts, write_euid, NULL, dsn, why), MAILBOX_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, 65534);
    assert_int_equal(st.st_gid, 65534);
    text = slurp(path);
    assert_string_equal(text, "65534 65534\n");
    myfree(text);
    assert_int_equal(geteuid(), 0); /* back to root afterwards */
    assert_int_equal(getegid(), 0);
    vstring_free(dsn);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_append, fresh_path),
        cmocka_unit_test_setup(test_limit_and_rollback, fresh_path),
        cmocka_unit_test_setup(test_refusals, fresh_path),
        cmocka_unit_test_setup(test_locked, fresh_path),
        cmocka_unit_test_setup(test_concurrent, fresh_path),
        cmocka_unit_test_setup(test_root_ids, fresh_path),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
