/*
 * NAME
 *	test_address - unit tests for SMTP path and header address parsing
 * SYNOPSIS
 *	build/unit/test_address
 * DESCRIPTION
 *	Table-driven tests of address_parse_path() in strict and lenient
 *	mode (null path, source routes, quoted local parts, literals, RFC
 *	5321 length limits, trailing parameters), address_parse_list()
 *	(display names, comments, groups, folding, obsolete routes),
 *	address_quote()/address_unquote() round trips, address_split(), and
 *	hostile input: NUL bytes, control characters, unbalanced quotes and
 *	brackets, over-long input, deep comment nesting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "address.h"
#include "msg.h"
#include "mymalloc.h"

static VSTRING *addr;
static VSTRING *why;

static int setup(void **state)
{
    (void)state;
    addr = vstring_alloc(100);
    why = vstring_alloc(100);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vstring_free(addr);
    vstring_free(why);
    return 0;
}

typedef struct PATH_CASE {
    const char *input;
    int flags;
    const char *want; /* NULL: must be rejected */
} PATH_CASE;

#define S ADDRESS_STRICT
#define N ADDRESS_NULL_OK
#define P ADDRESS_POSTMASTER
#define U ADDRESS_UTF8
#define L 0

static const PATH_CASE path_cases[] = {
    /* ordinary */
    {"<user@example.com>", S, "user@example.com"},
    {"<user@example.com>", L, "user@example.com"},
    {"<User.Name+tag@Sub.Example.COM>", S, "User.Name+tag@Sub.Example.COM"},
    {"<!#$%&'*+-/=?^_`{|}~@example.com>", S, "!#$%&'*+-/=?^_`{|}~@example.com"},
    {"<a@b.c>", S, "a@b.c"},
    /* null path */
    {"<>", S | N, ""},
    {"<>", L | N, ""},
    {"<>", S, NULL},
    {"<>", L, NULL},
    /* source routes are dropped */
    {"<@relay.example:user@example.com>", S, "user@example.com"},
    {"<@a.example,@b.example:user@example.com>", S, "user@example.com"},
    {"<@a.example,@[192.0.2.1]:user@example.com>", S, "user@example.com"},
    {"<@a.example:>", S, NULL},
    {"<@a.example,user@example.com>", S, NULL},
    {"<@:user@example.com>", S, NULL},
    {"<@a..example:user@example.com>", S, NULL},
    {"<@a.example,:user@example.com>", S, NULL},
    {"<@a.example,b.example:user@example.com>", S, NULL},
    /* quoted local parts are unquoted */
    {"<\"a b\"@example.com>", S, "a b@example.com"},
    {"<\"a..b\"@example.com>", S, "a..b@example.com"},
    {"<\"a@b\"@example.com>", S, "a@b@example.com"},
    {"<\"a\\\"b\"@example.com>", S, "a\"b@example.com"},
    {"<\"a\\\\b\"@example.com>", S, "a\\b@example.com"},
    {"<\"\"@example.com>", S, "@example.com"},
    {"<\"plain\"@example.com>", S, "plain@example.com"},
    {"<\"a@b\">", L, NULL},
    {"<\"a@b\">", S | P, NULL},
    {"<\"a\"b@example.com>", S, NULL},
    {"<\"a\".\"b\"@example.com>", S, NULL},
    {"<\"a\".\"b\"@example.com>", L, "a.b@example.com"},
    {"<a.\"b c\"@example.com>", L, "a.b c@example.com"},
    {"<\"a\"b@example.com>", L, NULL},
    {"<\"unterminated@example.com>", S, NULL},
    {"<\"unterminated@example.com>", L, NULL},
    {"<\"a\\", L, NULL},
    {"<\"a\\\x01\"@example.com>", L, NULL},
    {"<\"a\tb\"@example.com>", L, NULL},
    /* dots: strict dot-string, lenient anything */
    {"<a..b@example.com>", S, NULL},
    {"<.a@example.com>", S, NULL},
    {"<a.@example.com>", S, NULL},
    {"<a..b@example.com>", L, "a..b@example.com"},
    {"<.a@example.com>", L, ".a@example.com"},
    {"<a.@example.com>", L, "a.@example.com"},
    {"<.@example.com>", L, NULL},
    /* brackets */
    {"user@example.com", L, "user@example.com"},
    {"user@example.com", S, NULL},
    {"<user@example.com", L, NULL},
    {"user@example.com>", L, NULL},
    {"<<user@example.com>>", L, NULL},
    {"<user@example.com>>", L, NULL},
    {"< user@example.com>", L, NULL},
    {"<user@example.com >", L, NULL},
    {"<user @example.com>", L, NULL},
    {"", L, NULL},
    {"", S, NULL},
    {"<", L, NULL},
    {">", L, NULL},
    {"@", L, NULL},
    {"<@>", L, NULL},
    /* domains */
    {"<user>", L, "user"},
    {"<user>", S, NULL},
    {"<postmaster>", S, NULL},
    {"<postmaster>", S | P, "postmaster"},
    {"<PostMaster>", S | P, "PostMaster"},
    {"<postmasters>", S | P, NULL},
    {"<user@>", L, NULL},
    {"<user@>", S, NULL},
    {"<@example.com>", L, NULL},
    {"<user@-example.com>", S, NULL},
    {"<user@-example.com>", L, "user@-example.com"},
    {"<user@ex_ample.com>", S, NULL},
    {"<user@ex_ample.com>", L, "user@ex_ample.com"},
    {"<user@example..com>", L, NULL},
    {"<user@example.com.>", L, NULL},
    {"<user@.example.com>", L, NULL},
    {"<user@exa mple.com>", L, NULL},
    {"<user@exa!mple.com>", L, NULL},
    {"<user@example.com@example.org>", L, NULL},
    {"<user@192.0.2.1>", S, NULL},
    {"<user@192.0.2.1>", L, "user@192.0.2.1"},
    /* address literals */
    {"<user@[192.0.2.1]>", S, "user@[192.0.2.1]"},
    {"<user@[192.0.2.1]>", L, "user@[192.0.2.1]"},
    {"<user@[IPv6:2001:db8::1]>", S, "user@[IPv6:2001:db8::1]"},
    {"<user@[2001:db8::1]>", S, NULL},
    {"<user@[192.0.2.256]>", S, NULL},
    {"<user@[192.0.2.1>", S, NULL},
    {"<user@[192.0.2.1]x>", S, NULL},
    {"<user@[[192.0.2.1]]>", S, NULL},
    {"<user@[x-tag:abc]>", S, NULL},
    {"<user@[ 192.0.2.1]>", L, NULL},
    {"<user@[]>", L, NULL},
    /* control characters, 8-bit */
    {"<us\ter@example.com>", L, NULL},
    {"<user@exam\x7fple.com>", L, NULL},
    {"<us\rer@example.com>", L, NULL},
    {"<\xc3\xa9t\xc3\xa9@example.com>", L, NULL},
    {"<\xc3\xa9t\xc3\xa9@example.com>", L | U, "\xc3\xa9t\xc3\xa9@example.com"},
    {"<\xc3\xa9t\xc3\xa9@example.com>", S | U, "\xc3\xa9t\xc3\xa9@example.com"},
    {"<user@caf\xc3\xa9.example>", S | U, "user@caf\xc3\xa9.example"},
    {"<user@caf\xc3\xa9.example>", S, NULL},
    {"<\"\xc3\xa9\"@example.com>", S, NULL},
    {"<\"\xc3\xa9\"@example.com>", S | U, "\xc3\xa9@example.com"},
    /* other junk */
    {"<user@example.com>x", L, NULL},
    {"<user@example.com> ", L, NULL},
    {"user@example.com x", L, NULL},
    {"<a(b)@example.com>", L, NULL},
    {"<a,b@example.com>", L, NULL},
    {"<a;b@example.com>", L, NULL},
    {"<a[b@example.com>", L, NULL},
    {"<a\\b@example.com>", L, NULL},
    {NULL, 0, NULL},
};

static void test_path_table(void **state)
{
    (void)state;
    for (const PATH_CASE *tc = path_cases; tc->input; tc++) {
        int ret = address_parse_path(tc->input, strlen(tc->input), tc->flags, addr, NULL, why);

        if (tc->want == NULL) {
            if (ret == 0)
                fail_msg("accepted \"%s\" flags %d as \"%s\"", tc->input, tc->flags,
                         vstring_str(addr));
            if (vstring_len(why) == 0)
                fail_msg("no reason for rejecting \"%s\"", tc->input);
            assert_int_equal(vstring_len(addr), 0);
        } else {
            if (ret != 0)
                fail_msg("rejected \"%s\" flags %d: %s", tc->input, tc->flags, vstring_str(why));
            if (strcmp(vstring_str(addr), tc->want) != 0)
                fail_msg("\"%s\": got \"%s\" want \"%s\"", tc->input, vstring_str(addr), tc->want);
        }
    }
}

static void test_path_used(void **state)
{
    const char *line = "<user@example.com> SIZE=1000 BODY=8BITMIME";
    size_t used = 0;

    (void)state;
    assert_int_equal(address_parse_path(line, strlen(line), S, addr, &used, why), 0);
    assert_string_equal(vstring_str(addr), "user@example.com");
    assert_int_equal(used, strlen("<user@example.com>"));

    /* a quoted '>' or space does not end the path */
    line = "<\"a> b\"@example.com> SIZE=1";
    assert_int_equal(address_parse_path(line, strlen(line), S, addr, &used, why), 0);
    assert_string_equal(vstring_str(addr), "a> b@example.com");
    assert_int_equal(used, strlen("<\"a> b\"@example.com>"));

    /* bare: ends at white space */
    line = "user@example.com SIZE=1";
    assert_int_equal(address_parse_path(line, strlen(line), L, addr, &used, why), 0);
    assert_int_equal(used, strlen("user@example.com"));
    line = "user@example.com\tX";
    assert_int_equal(address_parse_path(line, strlen(line), L, addr, &used, why), 0);
    assert_int_equal(used, strlen("user@example.com"));
    line = "user@example.com";
    assert_int_equal(address_parse_path(line, strlen(line), L, addr, &used, why), 0);
    assert_int_equal(used, strlen(line));
    line = "user@example.com>x";
    assert_int_equal(address_parse_path(line, strlen(line), L, addr, &used, why), -1);

    line = "<> SIZE=10";
    assert_int_equal(address_parse_path(line, strlen(line), S | N, addr, &used, why), 0);
    assert_string_equal(vstring_str(addr), "");
    assert_int_equal(used, 2);
}

static void test_path_nul(void **state)
{
    static const char in1[] = "<us\0er@example.com>";
    static const char in2[] = "<user@exa\0mple.com>";
    static const char in3[] = "<\"us\0er\"@example.com>";
    static const char in4[] = "<user@example.com>\0";
    static const char in5[] = "<user@[192.0.2.1\0]>";
    size_t used;

    (void)state;
    assert_int_equal(address_parse_path(in1, sizeof(in1) - 1, L, addr, NULL, why), -1);
    assert_int_equal(address_parse_path(in2, sizeof(in2) - 1, L, addr, NULL, why), -1);
    assert_int_equal(address_parse_path(in3, sizeof(in3) - 1, L, addr, NULL, why), -1);
    assert_int_equal(address_parse_path(in4, sizeof(in4) - 1, L, addr, NULL, why), -1);
    assert_int_equal(address_parse_path(in5, sizeof(in5) - 1, L, addr, NULL, why), -1);
    /* with used, the NUL after the path is the caller's to judge */
    assert_int_equal(address_parse_path(in4, sizeof(in4) - 1, L, addr, &used, why), 0);
    assert_int_equal(used, sizeof(in4) - 2);
}

static void test_path_lengths(void **state)
{
    VSTRING *in = vstring_alloc(5000);
    char local[100], label[100];

    (void)state;
    /* local part 64 ok, 65 not (strict); lenient takes both */
    memset(local, 'l', 64);
    local[64] = 0;
    vstring_sprintf(in, "<%s@example.com>", local);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), 0);
    vstring_sprintf(in, "<%sl@example.com>", local);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), -1);
    assert_string_equal(vstring_str(why), "local part too long");
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), L, addr, NULL, why), 0);

    /* quoted: the limit counts the external form */
    memset(local, 'q', 62);
    local[62] = 0;
    vstring_sprintf(in, "<\"%s\"@example.com>", local);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), 0);
    vstring_sprintf(in, "<\"%s\\q\"@example.com>", local);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), -1);

    /* domain of 255 with a 1-byte local part: path is 259 > 256 */
    memset(label, 'd', 63);
    label[63] = 0;
    vstring_sprintf(in, "<a@%s.%s.%s.%s>", label, label, label, label);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), -1);
    assert_string_equal(vstring_str(why), "path too long");
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), L, addr, NULL, why), 0);
    /* domain over 255 */
    vstring_sprintf(in, "<a@%s.%s.%s.%s.x>", label, label, label, label);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), -1);
    /* path of exactly 256 is fine: <, 64 local, @, 189 domain, > */
    memset(local, 'l', 64);
    local[64] = 0;
    vstring_sprintf(in, "<%s@%s.%s.%.61s>", local, label, label, label);
    assert_int_equal(vstring_len(in), 256);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), 0);
    vstring_sprintf(in, "<%s@%s.%s.%.62s>", local, label, label, label);
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), S, addr, NULL, why), -1);

    /* lenient hard limit */
    vstring_reset(in);
    vstring_strcat(in, "<");
    for (int i = 0; i < ADDRESS_LENIENT_MAX; i++)
        vstring_addch(in, 'x');
    vstring_strcat(in, "@example.com>");
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), L, addr, NULL, why), -1);
    assert_string_equal(vstring_str(why), "address too long");
    size_t used;
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), L, addr, &used, why), -1);
    assert_string_equal(vstring_str(why), "address too long");
    /* bare and longer than the window: not silently cut short */
    vstring_strcpy(in, "");
    for (int i = 0; i < ADDRESS_LENIENT_MAX + 10; i++)
        vstring_addch(in, 'x');
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), L, addr, &used, why), -1);
    vstring_strcpy(in, "a@");
    for (int i = 0; i < ADDRESS_LENIENT_MAX + 10; i++)
        vstring_addch(in, 'x');
    assert_int_equal(address_parse_path(vstring_str(in), vstring_len(in), L, addr, &used, why), -1);
    assert_int_equal(vstring_len(addr), 0);
    vstring_free(in);
}

/* every prefix of a good path either fails or parses to a prefix-free result */
static void test_path_truncated(void **state)
{
    const char *good = "<@a.example,@b.example:\"x y\"@[IPv6:2001:db8::1]>";
    const char *loose = "<@a.example,@b_b:\"x y\".z@[IPv6:2001:db8::1]>";

    (void)state;
    assert_int_equal(address_parse_path(good, strlen(good), S, addr, NULL, why), 0);
    assert_string_equal(vstring_str(addr), "x y@[IPv6:2001:db8::1]");
    assert_int_equal(address_parse_path(loose, strlen(loose), L, addr, NULL, why), 0);
    assert_string_equal(vstring_str(addr), "x y.z@[IPv6:2001:db8::1]");
    for (size_t n = 0; n < strlen(good); n++) {
        assert_int_equal(address_parse_path(good, n, S, addr, NULL, why), -1);
        assert_int_equal(address_parse_path(good, n, L, addr, NULL, why), -1);
    }
    for (size_t n = 0; n < strlen(loose); n++)
        assert_int_equal(address_parse_path(loose, n, L, addr, NULL, why), -1);
}

typedef struct LIST_CASE {
    const char *input;
    const char *want; /* addresses joined with '|'; NULL: rejected */
} LIST_CASE;

static const LIST_CASE list_cases[] = {
    {"user@example.com", "user@example.com"},
    {"a@x, b@y", "a@x|b@y"},
    {"a@x,b@y,c@z", "a@x|b@y|c@z"},
    {"John Doe <john@example.com>", "john@example.com"},
    {"\"Doe, John\" <john@example.com>, jane@example.com", "john@example.com|jane@example.com"},
    {"<john@example.com>", "john@example.com"},
    {"john@example.com (John Doe)", "john@example.com"},
    {"(comment) john (more) @ (x) example . com", "john@example.com"},
    {"john@example.com (nested (comment) here)", "john@example.com"},
    {"john@example.com (escaped \\) paren)", "john@example.com"},
    {"Name <a@b>, c@d, group: x@y, z@w;", "a@b|c@d|x@y|z@w"},
    {"undisclosed-recipients:;", ""},
    {"group: a@b;, c@d", "a@b|c@d"},
    {"g1: a@b;, g2: Name <c@d>, e@f;", "a@b|c@d|e@f"},
    {"\"a b\"@example.com", "a b@example.com"},
    {"\"a\\\"b\"@example.com", "a\"b@example.com"},
    {"first.last@example.com", "first.last@example.com"},
    {"user", "user"},
    {"user, other", "user|other"},
    {"a@b,,c@d", "a@b|c@d"},
    {",a@b,", "a@b"},
    {"", ""},
    {"   ", ""},
    {"a@b,\r\n c@d", "a@b|c@d"},
    {"Name\r\n <a@b>", "a@b"},
    {"\"folded\r\n name\" <a@b>", "a@b"},
    {"<@relay.example:a@b>", "a@b"},
    {"Name <@r1,@r2:a@b>", "a@b"},
    {"a@[192.0.2.1]", "a@[192.0.2.1]"},
    {"a@[IPv6:2001:db8::1]", "a@[IPv6:2001:db8::1]"},
    {"Dr. J. Smith <js@example.com>", "js@example.com"},
    {"john@example.com <john@example.com>", "john@example.com"},
    {"=?utf-8?q?J=C3=B6rg?= <j@example.com>", "j@example.com"},
    {"J\xc3\xb6rg <j@example.com>", "j@example.com"},
    {"\xc3\xa9t\xc3\xa9@example.com", "\xc3\xa9t\xc3\xa9@example.com"},
    {"a . b @ example . com", "a.b@example.com"},
    {"a@sub.example.com", "a@sub.example.com"},
    /* rejected */
    {"a@b c@d", NULL},
    {"John Doe", NULL},
    {"<a@b", NULL},
    {"a@b>", NULL},
    {"<<a@b>>", NULL},
    {"Name <a@b> junk", NULL},
    {"Name <a@b> <c@d>", NULL},
    {"<>", NULL},
    {"Name <>", NULL},
    {"\"unterminated <a@b>", NULL},
    {"(unterminated a@b", NULL},
    {"a@b (nested (unterminated)", NULL},
    {"a@b)", NULL},
    {"a@[192.0.2.1", NULL},
    {"a@192.0.2.1]", NULL},
    {"a@[bad]", NULL},
    {"a@[x[y]]", NULL},
    {"g: a@b", NULL},
    {"g: h: a@b;;", NULL},
    {"a@b;", NULL},
    {": a@b;", NULL},
    {"g: a@b; c@d", NULL},
    {"a..b@example.com", NULL},
    {".a@example.com", NULL},
    {"a.@example.com", NULL},
    {"a@", NULL},
    {"@b", NULL},
    {"a@b..c", NULL},
    {"a@b.", NULL},
    {"a@b@c", NULL},
    {"a@!b", NULL},
    {"a\x01@b", NULL},
    {"a@b\x7f", NULL},
    {"\"a\x01\"@b", NULL},
    {"a@b (\x01)", NULL},
    {"<@r1 a@b>", NULL},
    {"<@r1,@r2 a@b>", NULL},
    {"<a@b;c>", NULL},
    {"\\a@b", NULL},
    {"\"a@b\"", NULL},
    {"\"a\tb\"@x", NULL},
    {"\"a\r\n\tb\"@x", NULL},
    {"\"tab\there\" <a@b>", "a@b"},
    {"<\"a@b\">", NULL},
    {NULL, NULL},
};

static void join(ARGV *argv, VSTRING *out)
{
    vstring_reset(out);
    for (int i = 0; i < argv->argc; i++) {
        if (i > 0)
            vstring_addch(out, '|');
        vstring_strcat(out, argv->argv[i]);
    }
}

static void test_list_table(void **state)
{
    VSTRING *got = vstring_alloc(100);

    (void)state;
    for (const LIST_CASE *tc = list_cases; tc->input; tc++) {
        ARGV *argv = address_parse_list(tc->input, strlen(tc->input), why);

        if (tc->want == NULL) {
            if (argv != NULL) {
                join(argv, got);
                fail_msg("accepted \"%s\" as \"%s\"", tc->input, vstring_str(got));
            }
            if (vstring_len(why) == 0)
                fail_msg("no reason for rejecting \"%s\"", tc->input);
        } else {
            if (argv == NULL)
                fail_msg("rejected \"%s\": %s", tc->input, vstring_str(why));
            join(argv, got);
            if (strcmp(vstring_str(got), tc->want) != 0)
                fail_msg("\"%s\": got \"%s\" want \"%s\"", tc->input, vstring_str(got), tc->want);
            argv_free(argv);
        }
    }
    vstring_free(got);
}

static void test_list_hostile(void **state)
{
    static const char nul[] = "a@b, c\0@d";
    VSTRING *in = vstring_alloc(100);
    ARGV *argv;

    (void)state;
    assert_null(address_parse_list(nul, sizeof(nul) - 1, why));

    /* deep comment nesting: fine when balanced, error when not */
    for (int i = 0; i < 10000; i++)
        vstring_addch(in, '(');
    for (int i = 0; i < 10000; i++)
        vstring_addch(in, ')');
    vstring_strcat(in, "a@b");
    argv = address_parse_list(vstring_str(in), vstring_len(in), why);
    assert_non_null(argv);
    assert_int_equal(argv->argc, 1);
    argv_free(argv);
    vstring_truncate(in, 19999);
    assert_null(address_parse_list(vstring_str(in), vstring_len(in), why));

    /* too many addresses */
    vstring_reset(in);
    for (int i = 0; i <= ADDRESS_LIST_COUNT_MAX; i++)
        vstring_strcat(in, "a@b,");
    assert_null(address_parse_list(vstring_str(in), vstring_len(in), why));
    assert_string_equal(vstring_str(why), "too many addresses");
    /* exactly the maximum is fine */
    vstring_truncate(in, vstring_len(in) - 4);
    argv = address_parse_list(vstring_str(in), vstring_len(in), why);
    assert_non_null(argv);
    assert_int_equal(argv->argc, ADDRESS_LIST_COUNT_MAX);
    argv_free(argv);

    /* an over-long single address */
    vstring_reset(in);
    for (int i = 0; i < ADDRESS_LENIENT_MAX; i++)
        vstring_addch(in, 'x');
    vstring_strcat(in, "@b");
    assert_null(address_parse_list(vstring_str(in), vstring_len(in), why));

    /* over the input limit */
    vstring_reset(in);
    vstring_reserve(in, ADDRESS_LIST_INPUT_MAX + 1);
    memset(vstring_str(in), ' ', ADDRESS_LIST_INPUT_MAX + 1);
    assert_null(address_parse_list(vstring_str(in), ADDRESS_LIST_INPUT_MAX + 1, why));

    /* every prefix of a complex list: no crash, and a reason when rejected */
    const char *good = "\"Doe, J\" <@r:j@[192.0.2.1]>, g: (c) a.b@x.y, <c@d>;, e";
    for (size_t n = 0; n <= strlen(good); n++) {
        argv = address_parse_list(good, n, why);
        if (argv == NULL)
            assert_true(vstring_len(why) > 0);
        argv_free(argv);
    }
    argv = address_parse_list(good, strlen(good), why);
    assert_non_null(argv);
    assert_int_equal(argv->argc, 4);
    assert_string_equal(argv->argv[0], "j@[192.0.2.1]");
    assert_string_equal(argv->argv[3], "e");
    argv_free(argv);
    vstring_free(in);
}

static void test_quote(void **state)
{
    static const struct {
        const char *internal;
        const char *external;
    } cases[] = {
        {"user@example.com", "user@example.com"},
        {"a.b@example.com", "a.b@example.com"},
        {"a b@example.com", "\"a b\"@example.com"},
        {"a..b@example.com", "\"a..b\"@example.com"},
        {".a@example.com", "\".a\"@example.com"},
        {"a.@example.com", "\"a.\"@example.com"},
        {"a@b@example.com", "\"a@b\"@example.com"},
        {"a\"b@example.com", "\"a\\\"b\"@example.com"},
        {"a\\b@example.com", "\"a\\\\b\"@example.com"},
        {"@example.com", "\"\"@example.com"},
        {"", ""},
        {"user", "user"},
        {"a b", "\"a b\""},
        {"\xc3\xa9t\xc3\xa9@example.com", "\xc3\xa9t\xc3\xa9@example.com"},
        {"a(b)@x", "\"a(b)\"@x"},
        {"a,b@x", "\"a,b\"@x"},
        {NULL, NULL},
    };
    VSTRING *ext = vstring_alloc(10);
    VSTRING *back = vstring_alloc(10);

    (void)state;
    for (int i = 0; cases[i].internal; i++) {
        assert_int_equal(address_quote(ext, cases[i].internal), 0);
        if (strcmp(vstring_str(ext), cases[i].external) != 0)
            fail_msg("quote \"%s\": got %s want %s", cases[i].internal, vstring_str(ext),
                     cases[i].external);
        /* round trip */
        assert_int_equal(address_unquote(back, vstring_str(ext)), 0);
        assert_string_equal(vstring_str(back), cases[i].internal);
        /* and the quoted form parses back to the same internal form */
        if (strchr(cases[i].internal, '@') && cases[i].internal[0]) {
            VSTRING *path = vstring_alloc(10);

            vstring_sprintf(path, "<%s>", vstring_str(ext));
            assert_int_equal(
                address_parse_path(vstring_str(path), vstring_len(path), S | U, addr, NULL, why),
                0);
            assert_string_equal(vstring_str(addr), cases[i].internal);
            vstring_free(path);
        }
    }
    /* control characters have no wire form */
    assert_int_equal(address_quote(ext, "a\rb@example.com"), -1);
    assert_int_equal(vstring_len(ext), 0);
    assert_int_equal(address_quote(ext, "a@exa\nmple.com"), -1);
    assert_int_equal(address_quote(ext, "a\tb@x"), -1);
    vstring_free(ext);
    vstring_free(back);
}

static void test_unquote(void **state)
{
    VSTRING *out = vstring_alloc(10);

    (void)state;
    assert_int_equal(address_unquote(out, "\"a b\"@x"), 0);
    assert_string_equal(vstring_str(out), "a b@x");
    assert_int_equal(address_unquote(out, "\"a@b\"@x"), 0);
    assert_string_equal(vstring_str(out), "a@b@x");
    assert_int_equal(address_unquote(out, "a\\ b@x"), 0);
    assert_string_equal(vstring_str(out), "a b@x");
    assert_int_equal(address_unquote(out, "plain"), 0);
    assert_string_equal(vstring_str(out), "plain");
    assert_int_equal(address_unquote(out, ""), 0);
    assert_string_equal(vstring_str(out), "");
    assert_int_equal(address_unquote(out, "\"unterminated@x"), -1);
    assert_int_equal(vstring_len(out), 0);
    assert_int_equal(address_unquote(out, "trailing\\"), -1);
    assert_int_equal(address_unquote(out, "\"a\\"), -1);
    assert_int_equal(address_unquote(out, "a\nb@x"), -1);
    assert_int_equal(address_unquote(out, "\"a\\\x01\"@x"), -1);
    vstring_free(out);
}

static void test_split(void **state)
{
    VSTRING *local = vstring_alloc(10);
    VSTRING *domain = vstring_alloc(10);

    (void)state;
    assert_int_equal(address_split("user@example.com", local, domain), 1);
    assert_string_equal(vstring_str(local), "user");
    assert_string_equal(vstring_str(domain), "example.com");
    assert_int_equal(address_split("a@b@c", local, domain), 1);
    assert_string_equal(vstring_str(local), "a@b");
    assert_string_equal(vstring_str(domain), "c");
    assert_int_equal(address_split("user", local, domain), 0);
    assert_string_equal(vstring_str(local), "user");
    assert_string_equal(vstring_str(domain), "");
    assert_int_equal(address_split("@x", local, domain), 1);
    assert_string_equal(vstring_str(local), "");
    assert_string_equal(vstring_str(domain), "x");
    assert_int_equal(address_split("", local, domain), 0);
    assert_int_equal(address_split("u@d", NULL, domain), 1);
    assert_string_equal(vstring_str(domain), "d");
    assert_int_equal(address_split("u@d", local, NULL), 1);
    assert_string_equal(vstring_str(local), "u");
    vstring_free(local);
    vstring_free(domain);
}

static void test_valid_domain(void **state)
{
    (void)state;
    assert_true(address_valid_domain("example.com", S));
    assert_true(address_valid_domain("example.com", L));
    assert_true(address_valid_domain("[192.0.2.1]", S));
    assert_true(address_valid_domain("[192.0.2.1]", L));
    assert_false(address_valid_domain("[192.0.2.1", L));
    assert_true(address_valid_domain("ex_ample.com", L));
    assert_false(address_valid_domain("ex_ample.com", S));
    assert_false(address_valid_domain("", L));
    assert_false(address_valid_domain("", S));
    assert_false(address_valid_domain("a..b", L));
    assert_false(address_valid_domain("a b", L));
    assert_false(address_valid_domain("caf\xc3\xa9.example", L));
    assert_true(address_valid_domain("caf\xc3\xa9.example", L | U));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_table),     cmocka_unit_test(test_path_used),
        cmocka_unit_test(test_path_nul),       cmocka_unit_test(test_path_lengths),
        cmocka_unit_test(test_path_truncated), cmocka_unit_test(test_list_table),
        cmocka_unit_test(test_list_hostile),   cmocka_unit_test(test_quote),
        cmocka_unit_test(test_unquote),        cmocka_unit_test(test_split),
        cmocka_unit_test(test_valid_domain),
    };

    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, setup, teardown);
}
