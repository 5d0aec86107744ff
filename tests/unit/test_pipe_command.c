/*
 * NAME
 *	test_pipe_command - unit tests for command delivery
 * SYNOPSIS
 *	build/unit/test_pipe_command
 * DESCRIPTION
 *	The message reaches the command's standard input intact; the
 *	environment is exactly the one given; exit status 0, sysexits codes
 *	(67 bounces as 5.1.1, 75 and 71 defer), other codes, signals, an
 *	enhanced status code in the output, the time limit (the whole
 *	process group is killed, also a background child that keeps the
 *	output open), a command that writes much and reads nothing, one
 *	that exits without reading its input, the file size limit, a
 *	missing shell, a working directory that does not exist; as root:
 *	the command runs as the given user and never as root.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mymalloc.h"
#include "pipe_command.h"
#include "vstream.h"
#include "vstring.h"

static char dir[256];
static char *test_env[] = {"PATH=/usr/bin:/bin", "HOME=/nonexistent", "X_TEST=a b", NULL};
static VSTRING *dsn;
static VSTRING *why;

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");

    (void)state;
    snprintf(dir, sizeof(dir), "%s/pipe.XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    chmod(dir, 0777);
    dsn = vstring_alloc(10);
    why = vstring_alloc(10);
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    vstring_free(dsn);
    vstring_free(why);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int write_text(VSTREAM *dst, void *context, VSTRING *out_why)
{
    vstream_fputs((const char *)context, dst);
    if (vstream_fflush(dst) == VSTREAM_EOF) {
        vstring_strcpy(out_why, "error writing message");
        return MAILBOX_COPY_ERR_WRITE;
    }
    return MAILBOX_COPY_OK;
}

/* a large message: 2 MB of lines */
static int write_big(VSTREAM *dst, void *context, VSTRING *out_why)
{
    (void)context;
    for (int i = 0; i < 40000; i++)
        vstream_fprintf(dst, "line %06d of a big message ..................................\n", i);
    if (vstream_fflush(dst) == VSTREAM_EOF) {
        vstring_strcpy(out_why, "error writing message");
        return MAILBOX_COPY_ERR_WRITE;
    }
    return MAILBOX_COPY_OK;
}

static int run(const char *command, MAILBOX_WRITE_FN fn, void *ctx, int time_limit)
{
    PIPE_COMMAND_ARGS args;

    memset(&args, 0, sizeof(args));
    args.command = command;
    args.env = test_env;
    args.uid = 65534;
    args.gid = 65534;
    args.time_limit = time_limit;
    args.write_fn = fn ? fn : write_text;
    args.context = ctx ? ctx : "Subject: x\n\nbody\n";
    vstring_reset(dsn);
    vstring_reset(why);
    return pipe_command(&args, dsn, why);
}

static char *slurp(const char *name)
{
    VSTRING *out = vstring_alloc(100);
    char buf[4096];
    ssize_t n;
    int fd = open(name, O_RDONLY);

    if (fd < 0) {
        vstring_free(out);
        return NULL;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        vstring_memcat(out, buf, (size_t)n);
    close(fd);
    return vstring_export(out);
}

static void test_input_and_env(void **state)
{
    char cmd[1000], out[320], envout[320];
    char *text;

    (void)state;
    snprintf(out, sizeof(out), "%s/in.out", dir);
    snprintf(envout, sizeof(envout), "%s/env.out", dir);
    snprintf(cmd, sizeof(cmd), "cat > %s; env | sort > %s", out, envout);
    assert_int_equal(run(cmd, NULL, "From s\nline 1\n\nbody\n", 10), MAILBOX_OK);
    text = slurp(out);
    assert_string_equal(text, "From s\nline 1\n\nbody\n");
    myfree(text);
    text = slurp(envout);
    /* the shell may add PWD, SHLVL and _; the rest is exactly ours */
    assert_non_null(strstr(text, "HOME=/nonexistent\n"));
    assert_non_null(strstr(text, "PATH=/usr/bin:/bin\n"));
    assert_non_null(strstr(text, "X_TEST=a b\n"));
    assert_null(strstr(text, "USER="));
    assert_null(strstr(text, "MAIL_CONFIG="));
    myfree(text);
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(run("exit 75", NULL, NULL, 10), MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.3.0");
    assert_string_equal(vstring_str(why), "temporary failure");

    assert_int_equal(run("echo no such user here >&2; exit 67", NULL, NULL, 10), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.1.1");
    assert_string_equal(vstring_str(why), "user unknown. Command output: no such user here");

    assert_int_equal(run("exit 71", NULL, NULL, 10), MAILBOX_DEFER);
    assert_string_equal(vstring_str(why), "system resource problem");
    assert_int_equal(run("exit 69", NULL, NULL, 10), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.3.0");
    assert_string_equal(vstring_str(why), "service unavailable");
    assert_int_equal(run("exit 77", NULL, NULL, 10), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.7.0");

    assert_int_equal(run("exit 1", NULL, NULL, 10), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.3.0");
    assert_string_equal(vstring_str(why), "Command died with status 1: \"exit 1\"");

    assert_int_equal(run("printf 'line one\\nline\\ttwo\\n'; exit 2", NULL, NULL, 10),
                     MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(why), "Command died with status 2: \"printf 'line one\\nline"
                                          "\\ttwo\\n'; exit 2\". Command output: line one "
                                          "line two");

    /* an enhanced status code in the output wins */
    assert_int_equal(run("echo 4.2.1 mailbox busy; exit 1", NULL, NULL, 10), MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.2.1");
    assert_string_equal(vstring_str(why), "4.2.1 mailbox busy");
    assert_int_equal(run("echo 5.7.1 go away; exit 75", NULL, NULL, 10), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.7.1");
    assert_int_equal(run("echo 5.7.1x not a code; exit 75", NULL, NULL, 10), MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.3.0");

    /* but not with exit 0 */
    assert_int_equal(run("echo 5.0.0 whatever; exit 0", NULL, NULL, 10), MAILBOX_OK);

    /* signals defer */
    assert_int_equal(run("kill -TERM $$", NULL, NULL, 10), MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.3.0");
    assert_string_equal(vstring_str(why), "Command died with signal 15: \"kill -TERM $$\"");
}

static void test_output_bounded(void **state)
{
    (void)state;
    assert_int_equal(run("head -c 100000 /dev/zero | tr '\\0' a; exit 1", NULL, NULL, 10),
                     MAILBOX_BOUNCE);
    assert_true(vstring_len(why) < PIPE_COMMAND_OUTPUT_MAX + 200);
    assert_non_null(strstr(vstring_str(why), "Command output: aaaa"));
}

static void test_time_limit(void **state)
{
    time_t start = time(NULL);

    (void)state;
    assert_int_equal(run("sleep 30", NULL, NULL, 1), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.3.0");
    assert_string_equal(vstring_str(why), "Command time limit exceeded: \"sleep 30\"");
    assert_true(time(NULL) - start < 10);

    /* a background child holds the output open; the group is killed */
    start = time(NULL);
    assert_int_equal(run("echo started; (sleep 30 &) ; sleep 30", NULL, NULL, 1), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(why),
                        "Command time limit exceeded: \"echo started; (sleep 30 &) ; sleep 30\"."
                        " Command output: started");
    assert_true(time(NULL) - start < 10);

    /* a command that exits while a background child keeps the output open */
    start = time(NULL);
    assert_int_equal(run("sleep 30 >/dev/null 2>&1 & exit 0", NULL, NULL, 20), MAILBOX_OK);
    assert_true(time(NULL) - start < 10);
}

static void test_big_io(void **state)
{
    char cmd[700], out[320];
    struct stat st;

    (void)state;
    /* writes a lot before reading anything: no deadlock */
    snprintf(out, sizeof(out), "%s/big.out", dir);
    snprintf(cmd, sizeof(cmd), "head -c 3000000 /dev/zero; cat > %s", out);
    assert_int_equal(run(cmd, write_big, NULL, 30), MAILBOX_OK);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, 40000 * 64);

    /* exits without reading its input */
    assert_int_equal(run("exit 0", write_big, NULL, 30), MAILBOX_OK);
    assert_int_equal(run("exit 67", write_big, NULL, 30), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.1.1");
}

static void test_limits_and_setup(void **state)
{
    PIPE_COMMAND_ARGS args;
    char cmd[700], out[320];

    (void)state;
    memset(&args, 0, sizeof(args));
    snprintf(out, sizeof(out), "%s/limited.out", dir);
    snprintf(cmd, sizeof(cmd), "cat > %s", out);
    args.command = cmd;
    args.env = test_env;
    args.uid = 65534;
    args.gid = 65534;
    args.time_limit = 10;
    args.file_limit = 1000;
    args.write_fn = write_big;

    /* the file size limit stops the command (SIGXFSZ or EFBIG) */
    int rc = pipe_command(&args, dsn, why);
    assert_true(rc != MAILBOX_OK);

    /* a shell that does not exist */
    args.file_limit = 0;
    args.write_fn = write_text;
    args.context = "x\n";
    args.shell = "/nonexistent/shell -c";
    assert_int_equal(pipe_command(&args, dsn, why), MAILBOX_DEFER);
    assert_non_null(strstr(vstring_str(why), "execute /nonexistent/shell"));

    /* a working directory that does not exist: temporary failure */
    args.shell = NULL;
    args.cwd = "/nonexistent/dir";
    assert_int_equal(pipe_command(&args, dsn, why), MAILBOX_DEFER);
    assert_non_null(strstr(vstring_str(why), "chdir /nonexistent/dir"));

    /* the working directory is used */
    args.cwd = dir;
    args.command = "pwd; exit 64";
    assert_int_equal(pipe_command(&args, dsn, why), MAILBOX_BOUNCE);
    assert_non_null(strstr(vstring_str(why), dir));

    /* a custom shell prefix */
    args.cwd = NULL;
    args.shell = "/bin/bash -c";
    args.command = "echo $BASH_VERSION | cut -c1; exit 64";
    assert_int_equal(pipe_command(&args, dsn, why), MAILBOX_BOUNCE);
    assert_string_not_equal(vstring_str(why), "command line usage error. Command output: ");
}

static void test_identity(void **state)
{
    PIPE_COMMAND_ARGS args;

    (void)state;
    if (getuid() != 0)
        skip();
    memset(&args, 0, sizeof(args));
    args.env = test_env;
    args.time_limit = 10;
    args.write_fn = write_text;
    args.context = "x\n";
    args.command = "echo $(id -u) $(id -g) $(id -G); exit 64";
    args.uid = 65534;
    args.gid = 65534;
    assert_int_equal(pipe_command(&args, dsn, why), MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(why),
                        "command line usage error. Command output: 65534 65534 65534");

    /* never as root */
    args.uid = 0;
    args.gid = 0;
    args.command = "touch /tmp/should-not-exist-pipe-command";
    assert_int_equal(pipe_command(&args, dsn, why), MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.3.0");
    assert_non_null(strstr(vstring_str(why), "as root"));
    assert_int_equal(access("/tmp/should-not-exist-pipe-command", F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_and_env),  cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_output_bounded), cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_big_io),         cmocka_unit_test(test_limits_and_setup),
        cmocka_unit_test(test_identity),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
