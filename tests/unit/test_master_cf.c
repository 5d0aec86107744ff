/*
 * NAME
 *	test_master_cf - unit tests for master.cf parsing
 * SYNOPSIS
 *	build/unit/test_master_cf
 * DESCRIPTION
 *	Exercises lib/master_cf.c: the 8 columns, "-" kept as written,
 *	continuation and comment lines, "-o name=value" and "{ ... }"
 *	arguments, formatting as postconf -M prints, and rejection of bad
 *	columns, duplicates, unbalanced braces, NUL bytes, over-long lines
 *	and missing files, each with "PATH, line N: ...".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "master_cf.h"
#include "mymalloc.h"

static const char sample[] =
    "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "submission inet n       -       y       -       -       smtpd\n"
    "  -o syslog_name=postfix/submission\n"
    "#  -o smtpd_tls_security_level=encrypt\n"
    "\n"
    "  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "qmgr      unix  n       -       n       300?    1       qmgr\n"
    "127.0.0.1:10025 inet n  -       n       -       10      smtpd\n"
    "maildrop  unix  -       n       n       -       -       pipe\n"
    "  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n";

static void test_parse_sample(void **state)
{
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf = master_cf_parse(sample, "/etc/test/master.cf", why);
    MASTER_CF_ENTRY *e;

    (void)state;
    assert_non_null(cf);
    assert_int_equal(cf->count, 6);
    e = cf->entries;
    assert_string_equal(e->service, "smtp");
    assert_string_equal(e->type, "inet");
    assert_string_equal(e->priv, "n");
    assert_string_equal(e->unpriv, "-");
    assert_string_equal(e->chroot, "y");
    assert_string_equal(e->wakeup, "-");
    assert_string_equal(e->maxproc, "-");
    assert_int_equal(e->argc, 1);
    assert_string_equal(e->argv[0], "smtpd");
    assert_null(e->argv[1]);
    assert_int_equal(e->line, 2);
    assert_int_equal(e->end_line, 2);

    e = master_cf_find(cf, "submission", "inet");
    assert_non_null(e);
    assert_int_equal(e->line, 3);
    assert_int_equal(e->end_line, 7);
    assert_int_equal(e->argc, 5);
    assert_string_equal(e->argv[1], "-o");
    assert_string_equal(e->argv[2], "syslog_name=postfix/submission");
    assert_string_equal(e->argv[3], "-o");
    assert_string_equal(e->argv[4],
                        "smtpd_client_restrictions = permit_sasl_authenticated, reject");

    e = master_cf_find(cf, "qmgr", "unix");
    assert_string_equal(e->wakeup, "300?");
    assert_string_equal(master_cf_field(e, 6), "1");
    assert_null(master_cf_field(e, 7));
    assert_non_null(master_cf_find(cf, "127.0.0.1:10025", "inet"));
    assert_null(master_cf_find(cf, "smtp", "unix"));
    e = master_cf_find(cf, "maildrop", "unix");
    assert_int_equal(e->argc, 6);
    assert_string_equal(e->argv[5], "${recipient}");
    master_cf_free(cf);
    vstring_free(why);
}

static void test_format(void **state)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    MASTER_CF *cf = master_cf_parse(sample, "/etc/test/master.cf", why);

    (void)state;
    assert_non_null(cf);
    assert_string_equal(vstring_str(master_cf_format(buf, cf->entries)),
                        "smtp       inet  n       -       y       -       -       smtpd");
    assert_string_equal(vstring_str(master_cf_format(buf, cf->entries + 1)),
                        "submission inet  n       -       y       -       -       smtpd "
                        "-o syslog_name=postfix/submission "
                        "-o { smtpd_client_restrictions = permit_sasl_authenticated, reject }");
    assert_string_equal(vstring_str(master_cf_format_command(buf, cf->entries + 2)), "pickup");
    master_cf_free(cf);
    vstring_free(buf);
    vstring_free(why);
}

static void expect_error(const char *text, const char *message)
{
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf = master_cf_parse(text, "/etc/test/master.cf", why);

    if (cf != NULL)
        fail_msg("accepted: %s", text);
    if (strcmp(vstring_str(why), message) != 0)
        fail_msg("got \"%s\", want \"%s\"", vstring_str(why), message);
    vstring_free(why);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("smtp inet n - y - -\n", "/etc/test/master.cf, line 1: missing \"command\" field");
    expect_error("# c\nsmtp\n", "/etc/test/master.cf, line 2: missing \"type\" field");
    expect_error("smtp tcp n - y - - smtpd\n",
                 "/etc/test/master.cf, line 1: bad transport type: tcp");
    expect_error("smtp inet yes - y - - smtpd\n",
                 "/etc/test/master.cf, line 1: field \"private\": bad value: \"yes\"");
    expect_error("smtp inet n - y 1x - smtpd\n",
                 "/etc/test/master.cf, line 1: field \"wakeup\": bad value: \"1x\"");
    expect_error("smtp inet n - y ? - smtpd\n",
                 "/etc/test/master.cf, line 1: field \"wakeup\": bad value: \"?\"");
    expect_error("smtp inet n - y - -1 smtpd\n",
                 "/etc/test/master.cf, line 1: field \"process_limit\": bad value: \"-1\"");
    expect_error("smtp inet n - y - 99999999999999999999 smtpd\n",
                 "/etc/test/master.cf, line 1: field \"process_limit\": bad value: "
                 "\"99999999999999999999\"");
    expect_error("smtp inet n - y - - smtpd\n\nsmtp inet n - y - - smtpd\n",
                 "/etc/test/master.cf, line 3: duplicate service name: smtp/inet");
    expect_error("smtp inet n - y - - smtpd\n  -o { a = b\n",
                 "/etc/test/master.cf, line 1: missing '}'");
}

static void test_hostile(void **state)
{
    static const char nul[] = "smtp inet n - y - - smtpd\nx\0y inet n - y - - smtpd\n";
    VSTRING *why = vstring_alloc(100);
    VSTRING *text = vstring_alloc(100);
    MASTER_CF *cf;

    (void)state;
    assert_null(master_cf_parse_buf(nul, sizeof(nul) - 1, "m.cf", why));
    assert_string_equal(vstring_str(why), "m.cf, line 2: NUL byte in input");

    vstring_strcpy(text, "smtp inet n - y - - smtpd");
    while (vstring_len(text) < MASTER_CF_LINE_MAX + 10)
        vstring_strcat(text, " -o x=y");
    assert_null(master_cf_parse(vstring_str(text), "m.cf", why));
    assert_string_equal(vstring_str(why), "m.cf, line 1: line is longer than 65536 bytes");

    vstring_strcpy(text, "smtp inet n - y - - smtpd\n");
    while (vstring_len(text) < 2 * MASTER_CF_LINE_MAX)
        vstring_strcat(text, "   -o name=value\n");
    assert_null(master_cf_parse(vstring_str(text), "m.cf", why));
    assert_string_equal(vstring_str(why), "m.cf, line 1: line is longer than 65536 bytes");

    vstring_strcpy(text, "smtp inet n - y - - smtpd");
    for (int i = 0; i < MASTER_CF_ARGS_MAX + 1; i++)
        vstring_strcat(text, " a");
    assert_null(master_cf_parse(vstring_str(text), "m.cf", why));
    assert_string_equal(vstring_str(why), "m.cf, line 1: too many command arguments");

    assert_null(master_cf_parse("sm\001tp inet n - y - - smtpd\n", "m.cf", why));
    assert_string_equal(vstring_str(why), "m.cf, line 1: control character in service name");

    /* empty and comment-only files are valid and empty */
    cf = master_cf_parse("", "m.cf", why);
    assert_non_null(cf);
    assert_int_equal(cf->count, 0);
    master_cf_free(cf);
    cf = master_cf_parse("# nothing\n\n   \n", "m.cf", why);
    assert_non_null(cf);
    assert_int_equal(cf->count, 0);
    master_cf_free(cf);
    vstring_free(text);
    vstring_free(why);
}

static void test_read(void **state)
{
    char path[] = "/tmp/test_master_cf.XXXXXX";
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, sample, sizeof(sample) - 1), (int)sizeof(sample) - 1);
    close(fd);
    cf = master_cf_read(path, why);
    assert_non_null(cf);
    assert_int_equal(cf->count, 6);
    master_cf_free(cf);
    unlink(path);
    assert_null(master_cf_read(path, why));
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(vstring_str(why), ": No such file or directory"));
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sample), cmocka_unit_test(test_format),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_read),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
