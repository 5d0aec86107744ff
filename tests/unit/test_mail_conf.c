/*
 * NAME
 *	test_mail_conf - unit tests for main.cf parsing, expansion, the registry
 * SYNOPSIS
 *	build/unit/test_mail_conf
 * DESCRIPTION
 *	Exercises lib/mail_conf*.c through its public interface: Postfix
 *	syntax (comments, continuation lines, white space, last definition
 *	wins), $name expansion in all its forms, typed conversion with
 *	Postfix's error wording, computed defaults, and hostile input: NUL
 *	bytes, over-long lines, unterminated braces, $ loops, exponential
 *	expansion, deep nesting and bad names. Only the non-fatal _check
 *	interfaces are used, so one bad input cannot end the test run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail_conf.h"
#include "mymalloc.h"
#include "vstring.h"

static VSTRING *why;
static VSTRING *out;

static int setup(void **state)
{
    (void)state;
    mail_conf_reset();
    why = vstring_alloc(100);
    out = vstring_alloc(100);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vstring_free(why);
    vstring_free(out);
    mail_conf_reset();
    return 0;
}

static int parse(const char *text)
{
    vstring_reset(why);
    return mail_conf_parse(text, strlen(text), "/etc/test/main.cf", why);
}

static const char *expand(const char *value)
{
    assert_int_equal(mail_conf_expand_check(value, out, why), 0);
    return vstring_str(out);
}

static int expand_fails(const char *value, const char *needle)
{
    vstring_reset(why);
    if (mail_conf_expand_check(value, out, why) == 0)
        return 0;
    if (strstr(vstring_str(why), needle) == NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", vstring_str(why), needle);
        return 0;
    }
    return 1;
}

/* ---- syntax ---- */

static void test_basic_syntax(void **state)
{
    (void)state;
    assert_int_equal(parse("# comment\n"
                           "myhostname = mail.example.com\n"
                           "\n"
                           "   \t \n"
                           "relayhost=[smtp.example.net]:587   \n"
                           "empty =\n"
                           "  # indented comment\n"
                           "hash = a # not a comment\n"),
                     0);
    assert_string_equal(mail_conf_lookup("myhostname"), "mail.example.com");
    assert_string_equal(mail_conf_lookup("relayhost"), "[smtp.example.net]:587");
    assert_string_equal(mail_conf_lookup("empty"), "");
    assert_string_equal(mail_conf_lookup("hash"), "a # not a comment");
    assert_null(mail_conf_lookup("nosuch"));
}

static void test_continuation(void **state)
{
    (void)state;
    assert_int_equal(parse("smtpd_recipient_restrictions =\n"
                           "    permit_mynetworks,\n"
                           "# reject_rbl_client zen.example.org,\n"
                           "\n"
                           "\treject_unauth_destination   \n"
                           "next = 1\n"),
                     0);
    assert_string_equal(mail_conf_lookup("smtpd_recipient_restrictions"),
                        "permit_mynetworks, reject_unauth_destination");
    assert_string_equal(mail_conf_lookup("next"), "1");
}

static void test_crlf_and_no_final_newline(void **state)
{
    (void)state;
    assert_int_equal(parse("a = one\r\nb = two\r\n  three\r\nc = last"), 0);
    assert_string_equal(mail_conf_lookup("a"), "one");
    assert_string_equal(mail_conf_lookup("b"), "two three");
    assert_string_equal(mail_conf_lookup("c"), "last");
}

static void test_last_definition_wins(void **state)
{
    ARGV *names;

    (void)state;
    assert_int_equal(parse("zeta = 1\nalpha = 1\nzeta = 2\n"), 0);
    assert_string_equal(mail_conf_lookup("zeta"), "2");
    names = mail_conf_file_names();
    assert_int_equal(names->argc, 2);
    assert_string_equal(names->argv[0], "alpha");
    assert_string_equal(names->argv[1], "zeta");
    argv_free(names);
}

static void test_leading_white_space_first_line(void **state)
{
    (void)state;
    assert_int_equal(parse("   a = 1\nb = 2\n"), 0);
    assert_string_equal(mail_conf_lookup("a"), "1");
    assert_string_equal(mail_conf_lookup("b"), "2");
}

static void test_unterminated_quote_is_literal(void **state)
{
    (void)state;
    assert_int_equal(parse("smtpd_banner = \"$myhostname ESMTP\nx = 'y\n"), 0);
    assert_string_equal(mail_conf_lookup("smtpd_banner"), "\"$myhostname ESMTP");
    assert_string_equal(mail_conf_lookup("x"), "'y");
}

/* ---- hostile syntax ---- */

static void test_nul_byte(void **state)
{
    static const char text[] = "a = 1\nb = x\0y\nc = 3\n";

    (void)state;
    assert_int_equal(mail_conf_parse(text, sizeof(text) - 1, "/etc/test/main.cf", why), -1);
    assert_non_null(strstr(vstring_str(why), "/etc/test/main.cf, line 2: NUL byte"));
}

static void test_overlong_line(void **state)
{
    size_t len = MAIL_CONF_LINE_MAX + 100;
    char *text = mymalloc(len + 1);

    (void)state;
    memset(text, 'x', len);
    memcpy(text, "a = ", 4);
    text[len] = 0;
    assert_int_equal(parse(text), -1);
    assert_non_null(strstr(vstring_str(why), "line 1: line is longer than"));
    myfree(text);
}

static void test_overlong_continuation(void **state)
{
    VSTRING *text = vstring_alloc(100);

    (void)state;
    vstring_strcpy(text, "a = start\n");
    while (vstring_len(text) < 2 * MAIL_CONF_LINE_MAX)
        vstring_strcat(text, "  0123456789012345678901234567890123456789\n");
    vstring_strcat(text, "b = after\n");
    assert_int_equal(parse(vstring_str(text)), -1);
    assert_non_null(strstr(vstring_str(why), "line 1: line is longer than"));
    vstring_free(text);
}

static void test_missing_equals(void **state)
{
    (void)state;
    assert_int_equal(parse("a = 1\njust some words\n"), -1);
    assert_string_equal(vstring_str(why),
                        "/etc/test/main.cf, line 2: missing '=' after attribute name: "
                        "\"just some words\"");
}

static void test_bad_names(void **state)
{
    (void)state;
    assert_int_equal(parse("= value\n"), -1);
    assert_non_null(strstr(vstring_str(why), "line 1: missing attribute name"));
    assert_int_equal(parse("a b = value\n"), -1);
    assert_non_null(strstr(vstring_str(why), "bad parameter name"));
    assert_int_equal(parse("${x} = value\n"), -1);
    assert_non_null(strstr(vstring_str(why), "bad parameter name"));
    assert_int_equal(parse("na\001me = value\n"), -1);
}

static void test_error_keeps_old_values(void **state)
{
    (void)state;
    assert_int_equal(parse("a = old\n"), 0);
    assert_int_equal(parse("a = new\nbroken\n"), -1);
    assert_string_equal(mail_conf_lookup("a"), "old");
}

static void test_binary_garbage(void **state)
{
    unsigned char text[4096];
    unsigned int seed = 12345;

    (void)state;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(text); i++) {
            seed = seed * 1103515245 + 12345;
            text[i] = (unsigned char)(seed >> 16);
        }
        /* must return, never crash; the value does not matter */
        (void)mail_conf_parse((const char *)text, sizeof(text), "garbage", why);
    }
}

/* ---- expansion ---- */

static void test_expand_forms(void **state)
{
    (void)state;
    assert_int_equal(parse("a = apple\nempty =\nb = $a pie\n"), 0);
    assert_string_equal(expand("$a"), "apple");
    assert_string_equal(expand("${a}"), "apple");
    assert_string_equal(expand("$(a)"), "apple");
    assert_string_equal(expand("x$a-y"), "xapple-y");
    assert_string_equal(expand("$b"), "apple pie");
    assert_string_equal(expand("${a?yes}"), "yes");
    assert_string_equal(expand("${empty?yes}"), "");
    assert_string_equal(expand("${nosuch?yes}"), "");
    assert_string_equal(expand("${a:no}"), "");
    assert_string_equal(expand("${empty:no}"), "no");
    assert_string_equal(expand("${nosuch:no $a}"), "no apple");
    assert_string_equal(expand("${a?{one}:{two}}"), "one");
    assert_string_equal(expand("${empty?{one}:{two}}"), "two");
    assert_string_equal(expand("${a?{ braced $a }}"), " braced apple ");
    assert_string_equal(expand("${empty:{x}}"), "x");
    assert_string_equal(expand("$(a?paren)"), "paren");
    assert_string_equal(expand("${a?${empty:nested}}"), "nested");
    assert_string_equal(expand("cost $$5"), "cost $5");
    assert_string_equal(expand("trailing $"), "trailing $");
    assert_string_equal(expand("a $ b $-c"), "a $ b $-c");
    assert_string_equal(expand("$nosuch."), ".");
    assert_string_equal(expand("$a.$a"), "apple.apple");
}

static void test_expand_defaults(void **state)
{
    char *value;

    (void)state;
    assert_int_equal(parse("myhostname = mail.example.com\n"), 0);
    assert_string_equal(expand("$mydomain"), "example.com");
    assert_string_equal(expand("$myorigin"), "mail.example.com");
    assert_string_equal(expand("$mydestination"),
                        "mail.example.com, localhost.example.com, localhost");
    value = mail_conf_lookup_eval("mydestination");
    assert_string_equal(value, "mail.example.com, localhost.example.com, localhost");
    myfree(value);
    assert_null(mail_conf_lookup_eval("no_such_parameter"));
    assert_int_equal(parse("mydomain = example.org\nmyorigin = $mydomain\nmy_own = x\n"), 0);
    value = mail_conf_lookup_eval("myorigin");
    assert_string_equal(value, "example.org");
    myfree(value);
    value = mail_conf_lookup_eval("my_own");
    assert_string_equal(value, "x");
    myfree(value);

    /* a host name without a dot is completed with $mydomain, as Postfix does */
    if (strchr(mail_conf_dyn_hostname(), '.') == NULL) {
        char want[300];

        snprintf(want, sizeof(want), "%s.example.org", mail_conf_dyn_hostname());
        value = mail_conf_lookup_eval("myhostname");
        assert_string_equal(value, want);
        myfree(value);
    }
}

static void test_computed_defaults(void **state)
{
    const char *host;
    const char *nets;

    (void)state;
    host = mail_conf_default("myhostname");
    assert_non_null(host);
    assert_non_null(strchr(host, '.'));
    assert_string_equal(mail_conf_default("mydomain"), strchr(host, '.') + 1);
    nets = mail_conf_default("mynetworks");
    assert_non_null(strstr(nets, "127.0.0.0/8"));
    assert_non_null(strstr(nets, "[::1]/128"));
    assert_string_equal(mail_conf_default("myorigin"), "$myhostname");
    assert_null(mail_conf_default("no_such_parameter"));
    assert_int_equal(parse("inet_protocols = ipv4\n"), 0);
    assert_null(strstr(expand("$mynetworks"), "::1"));
    assert_non_null(strstr(expand("$mynetworks"), "127.0.0.0/8"));
}

static void test_override_wins(void **state)
{
    (void)state;
    assert_int_equal(parse("a = file\n"), 0);
    mail_conf_override("a", "override");
    assert_string_equal(mail_conf_lookup("a"), "override");
    assert_string_equal(mail_conf_lookup_file("a"), "file");
    assert_string_equal(expand("$a"), "override");
}

/* ---- hostile expansion ---- */

static void test_expand_loops(void **state)
{
    (void)state;
    assert_int_equal(parse("a = $b\nb = x $c\nc = ${a}\nself = $self\n"
                           "cond = ${cond?x}\nhost = $myhostname\nmyhostname = $host\n"),
                     0);
    assert_true(expand_fails("$a", "recursion"));
    assert_int_equal(mail_conf_eval_param("self", out, why), -1);
    assert_string_equal(vstring_str(why), "parameter self: recursion");
    assert_int_equal(mail_conf_eval_param("cond", out, why), -1);
    assert_int_equal(mail_conf_eval_param("mydomain", out, why), -1);
    assert_non_null(strstr(vstring_str(why), "recursion"));
    /* a name used twice side by side is not a loop */
    assert_string_equal(expand("${nosuch:$nosuch$nosuch}"), "");
}

static void test_expand_unterminated(void **state)
{
    (void)state;
    assert_true(expand_fails("${a", "missing '}'"));
    assert_true(expand_fails("$(a", "missing ')'"));
    assert_true(expand_fails("${a?{x}", "missing '}'"));
    assert_true(expand_fails("${a?{x}y}", "bad conditional"));
    assert_true(expand_fails("${a?{x}:y}", "bad conditional"));
    assert_true(expand_fails("${a:{x}:{y}}", "bad conditional"));
    assert_true(expand_fails("${}", "bad parameter name"));
    assert_true(expand_fails("${a b}", "bad parameter name"));
    assert_true(expand_fails("${{a} == {b}?x}", "bad parameter name"));
}

static void test_expand_exponential(void **state)
{
    VSTRING *text = vstring_alloc(1000);

    (void)state;
    /* p0 = x; pN = $pN-1$pN-1: 2^40 bytes unless bounded */
    vstring_strcpy(text, "p0 = x\n");
    for (int i = 1; i <= 40; i++)
        vstring_sprintf_append(text, "p%d = $p%d$p%d\n", i, i - 1, i - 1);
    /* qN = ${qN-1?}${qN-1?}: no output, 2^40 steps unless bounded */
    vstring_strcat(text, "q0 = x\n");
    for (int i = 1; i <= 40; i++)
        vstring_sprintf_append(text, "q%d = ${q%d?}${q%d?}\n", i, i - 1, i - 1);
    assert_int_equal(parse(vstring_str(text)), 0);
    assert_int_equal(mail_conf_eval_param("p40", out, why), -1);
    assert_non_null(strstr(vstring_str(why), "parameter p40:"));
    assert_int_equal(mail_conf_eval_param("q40", out, why), -1);
    assert_non_null(strstr(vstring_str(why), "references in one expansion"));
    vstring_free(text);
}

static void test_expand_deep_chain(void **state)
{
    VSTRING *text = vstring_alloc(1000);

    (void)state;
    for (int i = 0; i < 150; i++)
        vstring_sprintf_append(text, "d%d = $d%d\n", i, i + 1);
    vstring_strcat(text, "d150 = bottom\n");
    for (int i = 0; i < 50; i++)
        vstring_sprintf_append(text, "s%d = $s%d\n", i, i + 1);
    vstring_strcat(text, "s50 = bottom\n");
    assert_int_equal(parse(vstring_str(text)), 0);
    assert_int_equal(mail_conf_eval_param("d0", out, why), -1);
    assert_non_null(strstr(vstring_str(why), "unreasonable nesting"));
    assert_int_equal(mail_conf_eval_param("s0", out, why), 0);
    assert_string_equal(vstring_str(out), "bottom");
    vstring_free(text);
}

static void test_expand_deep_braces(void **state)
{
    VSTRING *text = vstring_alloc(1000);

    (void)state;
    assert_int_equal(parse("a = x\n"), 0);
    for (int i = 0; i < 5000; i++)
        vstring_strcat(text, "${a?");
    for (int i = 0; i < 5000; i++)
        vstring_strcat(text, "}");
    assert_true(expand_fails(vstring_str(text), "unreasonable nesting"));
    vstring_free(text);
}

static void test_expand_long_name(void **state)
{
    char name[MAIL_CONF_NAME_MAX + 20];

    (void)state;
    name[0] = '$';
    memset(name + 1, 'n', sizeof(name) - 2);
    name[sizeof(name) - 1] = 0;
    assert_true(expand_fails(name, "too long"));
}

/* ---- conversion and evaluation ---- */

static void test_convert(void **state)
{
    MAIL_CONF_PARAM p = {"t", MAIL_CONF_TYPE_TIME, "1h", 0, 86400, 's', "", NULL};
    long v;

    (void)state;
    assert_int_equal(mail_conf_convert(&p, "90", &v, why), 0);
    assert_int_equal(v, 90);
    assert_int_equal(mail_conf_convert(&p, "2h", &v, why), 0);
    assert_int_equal(v, 7200);
    assert_int_equal(mail_conf_convert(&p, "1d", &v, why), 0);
    assert_int_equal(v, 86400);
    assert_int_equal(mail_conf_convert(&p, "2d", &v, why), -1);
    assert_string_equal(vstring_str(why), "invalid t parameter value 2d > 86400");
    assert_int_equal(mail_conf_convert(&p, "1x", &v, why), -1);
    assert_string_equal(vstring_str(why), "parameter t: bad time value or unit: 1x");
    assert_int_equal(mail_conf_convert(&p, "1hh", &v, why), -1);
    assert_int_equal(mail_conf_convert(&p, "h", &v, why), -1);
    assert_int_equal(mail_conf_convert(&p, "99999999999999999999s", &v, why), -1);
    p.unit = 'd';
    p.max = 0;
    assert_int_equal(mail_conf_convert(&p, "5", &v, why), 0);
    assert_int_equal(v, 5 * 86400);
    assert_int_equal(mail_conf_convert(&p, "999999999999w", &v, why), -1);

    p.type = MAIL_CONF_TYPE_INT;
    p.min = 1;
    p.max = 100;
    assert_int_equal(mail_conf_convert(&p, "42", &v, why), 0);
    assert_int_equal(v, 42);
    assert_int_equal(mail_conf_convert(&p, "0", &v, why), -1);
    assert_string_equal(vstring_str(why), "invalid t parameter value 0 < 1");
    assert_int_equal(mail_conf_convert(&p, "12abc", &v, why), -1);
    assert_string_equal(vstring_str(why), "bad numerical configuration: t = 12abc");
    assert_int_equal(mail_conf_convert(&p, "", &v, why), -1);
    assert_int_equal(mail_conf_convert(&p, " 5", &v, why), -1);
    assert_int_equal(mail_conf_convert(&p, "99999999999999999999999", &v, why), -1);

    p.type = MAIL_CONF_TYPE_BOOL;
    assert_int_equal(mail_conf_convert(&p, "YES", &v, why), 0);
    assert_int_equal(v, 1);
    assert_int_equal(mail_conf_convert(&p, "no", &v, why), 0);
    assert_int_equal(v, 0);
    assert_int_equal(mail_conf_convert(&p, "maybe", &v, why), -1);
    assert_string_equal(vstring_str(why), "bad boolean configuration: t = maybe");

    p.type = MAIL_CONF_TYPE_LIST;
    assert_int_equal(mail_conf_convert(&p, "a, { b c }, d", &v, why), 0);
    assert_int_equal(mail_conf_convert(&p, "a, { b c, d", &v, why), -1);
    assert_non_null(strstr(vstring_str(why), "unbalanced"));
}

static void test_eval_registry(void **state)
{
    int count;
    const MAIL_CONF_PARAM *list = mail_conf_param_list(&count);

    (void)state;
    assert_true(count > 10);
    for (int i = 1; i < count; i++)
        assert_true(strcmp(list[i - 1].name, list[i].name) < 0);
    assert_true(mail_conf_known("myhostname"));
    assert_false(mail_conf_known("no_such_parameter"));
    assert_ptr_equal(mail_conf_param_find("mydestination")->var, &var_mydestination);

    /* every registered default is valid */
    assert_int_equal(parse("myhostname = mail.example.com\nsyslog_name = postern-test\n"), 0);
    if (mail_conf_eval_check(why) != 0)
        fail_msg("%s", vstring_str(why));
    assert_string_equal(var_myhostname, "mail.example.com");
    assert_string_equal(var_mydomain, "example.com");
    assert_string_equal(var_myorigin, "mail.example.com");
    assert_string_equal(var_syslog_name, "postern-test");
    /* evaluating again replaces the values */
    assert_int_equal(parse("myhostname = other.example.net\n"), 0);
    assert_int_equal(mail_conf_eval_check(why), 0);
    assert_string_equal(var_mydomain, "example.net");
}

static void test_eval_errors_name_file(void **state)
{
    (void)state;
    mail_conf_set_dir("/etc/test");
    assert_int_equal(parse("mydestination = {unbalanced\n"), 0);
    assert_int_equal(mail_conf_eval_check(why), -1);
    assert_non_null(strstr(vstring_str(why), "/etc/test/main.cf: parameter mydestination:"));
    assert_int_equal(parse("myorigin = ${loop}\nloop = $myorigin\n"), 0);
    assert_int_equal(mail_conf_eval_check(why), -1);
    assert_non_null(strstr(vstring_str(why), "recursion"));
}

/* ---- reading files ---- */

static void test_read_file(void **state)
{
    char dir[] = "/tmp/test_mail_conf.XXXXXX";
    char path[100];
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(mail_conf_read_check(dir, why), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(path, sizeof(path), "open %s/main.cf: No such file or directory", dir);
    assert_string_equal(vstring_str(why), path);
    assert_string_equal(var_config_dir, dir);

    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("# test\nmyhostname = host.example.com\nrelay_domains = a,\n  b\n", fp);
    fclose(fp);
    assert_int_equal(mail_conf_read_check(dir, why), 0);
    assert_string_equal(mail_conf_path(), path);
    /* re-reading through var_config_dir itself (a reload) is safe */
    {
        const char *before = var_config_dir;

        assert_int_equal(mail_conf_read_check(var_config_dir, why), 0);
        assert_ptr_equal(var_config_dir, before);
        assert_string_equal(var_config_dir, dir);
    }
    assert_string_equal(mail_conf_lookup("relay_domains"), "a, b");
    assert_string_equal(mail_conf_lookup("config_directory"), dir);
    assert_null(mail_conf_lookup_file("config_directory"));

    /* $MAIL_CONFIG chooses the directory when no argument does */
    setenv("MAIL_CONFIG", dir, 1);
    assert_string_equal(mail_conf_dir(NULL), dir);
    assert_string_equal(mail_conf_dir("/other"), "/other");
    unsetenv("MAIL_CONFIG");
    assert_string_equal(mail_conf_dir(NULL), mail_conf_default("config_directory"));

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf_and_no_final_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_definition_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leading_white_space_first_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated_quote_is_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_continuation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_keeps_old_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_computed_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_override_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_loops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_unterminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_exponential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_deep_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_deep_braces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_long_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_convert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eval_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eval_errors_name_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
