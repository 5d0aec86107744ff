/*
 * NAME
 *	test_dict_pattern - unit tests for regexp, pcre and cidr tables
 * SYNOPSIS
 *	build/unit/test_dict_pattern
 * DESCRIPTION
 *	Table-driven tests of the pattern rule engine: first match wins,
 *	negation, nested if/endif, $N/${N}/$(N)/$$ substitution, case
 *	flags, custom delimiters, continuation lines; POSIX regexp and
 *	PCRE2 flags; cidr with IPv4 and IPv6 networks. Malformed files (bad
 *	regex, unknown flag, missing result, out-of-range $N, $N after a
 *	negated pattern, unbalanced if/endif, host bits in a network) must
 *	make every lookup fail with DICT_STAT_ERROR and "FILE:LINE:", and a
 *	pathological PCRE pattern must fail its lookup rather than hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

typedef struct CASE {
    const char *key;
    int status;
    const char *value;
} CASE;

static DICT *table(const char *type, const char *text)
{
    return dict_pattern_text(type, text, strlen(text), DICT_FLAG_DEFAULT);
}

static void run_cases(DICT *dict, const CASE *cases)
{
    for (const CASE *c = cases; c->key; c++) {
        const char *value;
        int status = dict_get(dict, c->key, &value);

        if (status != c->status)
            fail_msg("%s: key \"%s\": status %d, wanted %d (%s)", dict->type, c->key, status,
                     c->status, status == DICT_STAT_ERROR ? dict_error(dict) : "");
        if (c->value && strcmp(value, c->value) != 0)
            fail_msg("%s: key \"%s\": \"%s\", wanted \"%s\"", dict->type, c->key, value,
                     c->value);
    }
}

#define F DICT_STAT_FOUND
#define N DICT_STAT_NOTFOUND
#define E DICT_STAT_ERROR

static const char *common_text =
    "# first match wins\n"
    "/^(.*)\\+(.*)@example\\.com$/   ext:$1 [$2] ${1} $(2) $$5\n"
    "/^postmaster@/                  pm\n"
    "/^postmaster@/                  never\n"
    "!/@/                            no-domain\n"
    "if /@example\\.org$/\n"
    "/^a/                            org-a\n"
    "if !/^b/\n"
    "/x/                             org-not-b-x\n"
    "endif\n"
    "/./                             org-any\n"
    "endif\n"
    "/^long/     first part\n"
    "   continued\n"
    "#|weird delimiter|\n"
    "|^pipe\\|bar$| piped\n";

static const CASE common_cases[] = {
    {"joe+list@example.com", F, "ext:joe [list] joe list $5"},
    {"JOE+LIST@EXAMPLE.COM", F, "ext:JOE [LIST] JOE LIST $5"},
    {"postmaster@x.org", F, "pm"},
    {"nodomain", F, "no-domain"},
    {"alice@example.org", F, "org-a"},
    {"xavier@example.org", F, "org-not-b-x"},
    {"bx@example.org", F, "org-any"},
    {"long@x", F, "first part continued"},
    {"pipe|bar@x", F, "piped"}, /* the escaped delimiter is a plain '|': alternation */
    {"someone@example.net", N, NULL},
    {NULL, 0, NULL},
};

static void test_common_regexp(void **state)
{
    DICT *dict = table("regexp", common_text);

    (void) state;
    assert_null(dict_open_error(dict));
    run_cases(dict, common_cases);
    dict_close(dict);
}

static void test_common_pcre(void **state)
{
    DICT *dict = table("pcre", common_text);

    (void) state;
    assert_null(dict_open_error(dict));
    run_cases(dict, common_cases);
    dict_close(dict);
}

static void test_pipe_delimiter(void **state)
{
    const CASE cases[] = {{"pipe|bar", F, "piped"}, {"PIPE|BAR", F, "piped"}, {NULL, 0, NULL}};
    DICT *dict;

    (void) state;
    dict = table("pcre", "|^pipe\\|bar$| piped\n");
    run_cases(dict, cases);
    dict_close(dict);
    dict = table("regexp", "%^pipe[|]bar$% piped\n");
    run_cases(dict, cases);
    dict_close(dict);
}

static void test_flags(void **state)
{
    const CASE regexp_cases[] = {
        {"ABC", F, "insensitive"},
        {"Xyz", N, NULL},
        {"xyz", F, "sensitive"},
        {"a+b", F, "basic"},
        {NULL, 0, NULL},
    };
    const CASE pcre_cases[] = {
        {"ABC", F, "insensitive"},
        {"Xyz", N, NULL},
        {"xyz", F, "sensitive"},
        {"line1\nline2", F, "multiline"},
        {"s1\ns2", F, "dotall"},
        {"aaa", F, "ungreedy:a"},
        {"spaced", F, "extended"},
        {NULL, 0, NULL},
    };
    DICT *dict;

    (void) state;
    dict = table("regexp", "/abc/ insensitive\n/^xyz$/i sensitive\n/^a+b$/x basic\n");
    assert_null(dict_open_error(dict));
    run_cases(dict, regexp_cases);
    dict_close(dict);
    dict = table("pcre", "/abc/ insensitive\n"
                         "/^xyz$/i sensitive\n"
                         "/^line2$/m multiline\n"
                         "/s1.s2/s dotall\n"
                         "/^(a+)/U ungreedy:$1\n"
                         "/^ spa ced $/x extended\n"
                         "/nomatch/AEX never\n");
    assert_null(dict_open_error(dict));
    run_cases(dict, pcre_cases);
    dict_close(dict);
}

static void test_paren_after_group(void **state)
{
    const CASE cases[] = {{"ab", F, "(a) [b] {a} $1"}, {NULL, 0, NULL}};
    DICT *dict;

    (void) state;
    /* a ')' or '}' after a plain $N is text, not part of the reference */
    dict = table("pcre", "/^(a)(b)$/ ($1) [$2] {$1} $$1\n");
    run_cases(dict, cases);
    dict_close(dict);
}

static void test_regexp_reasonable(void **state)
{
    const CASE cases[] = {{"aaab", F, "ok"}, {"x{1}", F, "brace"}, {NULL, 0, NULL}};
    DICT *dict;

    (void) state;
    /* ordinary repetition, intervals, brackets with special bytes, literal braces */
    dict = table("regexp", "/^(a{1,3})+[])*+(]?b$/ ok\n/^x[{]1}$/ brace\n/(ab|cd)*e{2,}f?/ never\n");
    assert_null(dict_open_error(dict));
    run_cases(dict, cases);
    dict_close(dict);
}

static void test_unused_group(void **state)
{
    const CASE cases[] = {{"b", F, "[]b"}, {NULL, 0, NULL}};
    DICT *dict;

    (void) state;
    dict = table("pcre", "/^(a)?(b)$/ [$1]$2\n");
    run_cases(dict, cases);
    dict_close(dict);
    dict = table("regexp", "/^(a)?(b)$/ [$1]$2\n");
    run_cases(dict, cases);
    dict_close(dict);
}

static void test_bad_files(void **state)
{
    static const struct {
        const char *type;
        const char *text;
        const char *where;
    } bad[] = {
        {"regexp", "/(x/ y\n", ":1:"},
        {"pcre", "/ok/ fine\n/(x/ y\n", ":2:"},
        {"pcre", "/x/ $2\n", "out-of-range"},
        {"regexp", "/(x)/ ${1\n", ":1:"},
        {"pcre", "!/(x)/ $1\n", "negated"},
        {"pcre", "/x/q y\n", "flag"},
        {"regexp", "/x/z y\n", "flag"},
        {"pcre", "/x/\n", "missing result"},
        {"pcre", "/x y\n", "closing"},
        {"pcre", "x y\n", ":1:"},
        {"pcre", "if /x/\n/y/ z\n", "without \"endif\""},
        {"pcre", "endif\n", "without \"if\""},
        {"pcre", "if /x/ extra\nendif\n", ":1:"},
        {"pcre", "/x/ $y\n", "invalid"},
        {"pcre", "/x/ $0\n", "invalid"},
        {"pcre", "/x/ $100\n", "invalid"},
        {"cidr", "10.0.0.1/8 x\n", "host address bits"},
        {"cidr", "10.0.0.0/33 x\n", "prefix"},
        {"cidr", "2001:db8::/129 x\n", "prefix"},
        {"cidr", "not-an-address x\n", ":1:"},
        {"cidr", "10.0.0.0/8\n", "missing result"},
        {"cidr", "10.0.0.0/ x\n", "prefix"},
        {"cidr", "  10.0.0.0/8 x\n", ":1:"},
        /* patterns that would make regcomp() expand without bound */
        {"regexp", "/a+++++++++++++++++++++++++++++++++++++/ x\n", "in a row"},
        {"regexp", "/((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+/ x\n", "complex"},
        {"regexp", "/(a{500}){500}/ x\n", "complex"},
        {"regexp", "/a{2000}/ x\n", "repetition count"},
        {"regexp", "/(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))/ x\n", "nested"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        DICT *dict = table(bad[i].type, bad[i].text);
        const char *value;

        if (dict_open_error(dict) == NULL)
            fail_msg("%s \"%s\": accepted", bad[i].type, bad[i].text);
        assert_int_equal(dict_get(dict, "x", &value), DICT_STAT_ERROR);
        if (strstr(dict_error(dict), bad[i].where) == NULL)
            fail_msg("%s \"%s\": error \"%s\" lacks \"%s\"", bad[i].type, bad[i].text,
                     dict_error(dict), bad[i].where);
        dict_close(dict);
    }
}

static void test_pcre_runaway(void **state)
{
    DICT *dict = table("pcre", "/^(a+)+$/ x\n");
    char key[64];
    const char *value;

    (void) state;
    memset(key, 'a', 40);
    strcpy(key + 40, "b");
    assert_int_equal(dict_get(dict, key, &value), DICT_STAT_ERROR);
    assert_non_null(strstr(dict_error(dict), "limit"));
    dict_close(dict);
}

static void test_cidr(void **state)
{
    const char *text = "# networks\n"
                       "192.0.2.1          host\n"
                       "192.0.2.0/24       net24\n"
                       "!10.0.0.0/8        not-ten\n"
                       "2001:db8::1        v6host\n"
                       "[2001:db8:1::]/48  v6net\n"
                       "if 10.0.0.0/8\n"
                       "10.1.0.0/16        ten-one\n"
                       "if !10.2.0.0/16\n"
                       "10.0.0.0/9         ten-low-not-two\n"
                       "endif\n"
                       "endif\n"
                       "::/0               any-v6\n"
                       "0.0.0.0/0          any-v4\n";
    const CASE cases[] = {
        {"192.0.2.1", F, "host"},
        {"192.0.2.77", F, "net24"},
        {"198.51.100.1", F, "not-ten"},
        {"10.1.2.3", F, "ten-one"},
        {"10.3.0.1", F, "ten-low-not-two"},
        {"10.2.0.1", F, "any-v4"},
        {"10.200.0.1", F, "any-v4"},
        {"2001:db8::1", F, "v6host"},
        {"2001:DB8:0:0::1", F, "v6host"},
        {"2001:db8:1:ffff::5", F, "v6net"},
        {"[2001:db8:1::9]", F, "v6net"},
        {"2001:db8:2::1", F, "any-v6"},
        {"fe80::1", F, "any-v6"}, /* "!10.0.0.0/8" does not apply to IPv6 */
        {"::ffff:192.0.2.1", F, "any-v6"},
        {"not.an.address", N, NULL},
        {"", N, NULL},
        {"192.0.2", N, NULL},
        {NULL, 0, NULL},
    };
    DICT *dict = table("cidr", text);

    (void) state;
    assert_null(dict_open_error(dict));
    run_cases(dict, cases);
    dict_close(dict);
}

static void test_cidr_prefixes(void **state)
{
    DICT *dict = table("cidr", "192.0.2.128/25 upper\n192.0.2.0/25 lower\n2001:db8::/33 half\n");
    const CASE cases[] = {
        {"192.0.2.127", F, "lower"},
        {"192.0.2.128", F, "upper"},
        {"2001:db8:7fff::1", F, "half"},
        {"2001:db8:8000::1", N, NULL},
        {NULL, 0, NULL},
    };

    (void) state;
    run_cases(dict, cases);
    dict_close(dict);
}

static void test_files(void **state)
{
    char path[] = "/tmp/test_dict_pattern.XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "/^(.*)@old\\.example$/ $1@new.example\n";
    VSTRING *spec = vstring_alloc(100);
    DICT *dict;
    const char *value;

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t) sizeof(text) - 1);
    close(fd);
    vstring_sprintf(spec, "pcre:%s", path);
    dict = dict_open(vstring_str(spec), O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "Joe@old.example", &value), DICT_STAT_FOUND);
    assert_string_equal(value, "Joe@new.example");
    assert_true(dict->flags & DICT_FLAG_PATTERN);
    assert_int_equal(dict_put(dict, "a", "b"), DICT_STAT_ERROR);
    dict_close(dict);
    unlink(path);
    dict = dict_open(vstring_str(spec), O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "x", &value), DICT_STAT_ERROR);
    dict_close(dict);
    vstring_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_regexp),
        cmocka_unit_test(test_common_pcre),
        cmocka_unit_test(test_pipe_delimiter),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_unused_group),
        cmocka_unit_test(test_paren_after_group),
        cmocka_unit_test(test_regexp_reasonable),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_pcre_runaway),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_cidr_prefixes),
        cmocka_unit_test(test_files),
    };

    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
