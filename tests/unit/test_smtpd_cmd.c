/*
 * test_smtpd_cmd - SMTP command parsing: byte checks, verbs, MAIL/RCPT
 * paths and parameters, every ESMTP parameter value, xtext, hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup_proto.h"
#include "smtpd_cmd.h"
#include "vstring.h"

static void test_check(void **state)
{
    (void) state;
    assert_int_equal(smtpd_cmd_check("MAIL FROM:<a@b>", 15), SMTPD_CMD_OK);
    assert_int_equal(smtpd_cmd_check("NOOP\tx", 6), SMTPD_CMD_OK);
    assert_int_equal(smtpd_cmd_check("NO\0OP", 5), SMTPD_CMD_ERR_CTRL);
    assert_int_equal(smtpd_cmd_check("NOOP\r", 5), SMTPD_CMD_ERR_CTRL);
    assert_int_equal(smtpd_cmd_check("NOOP\n", 5), SMTPD_CMD_ERR_CTRL);
    assert_int_equal(smtpd_cmd_check("NOOP\x7f", 5), SMTPD_CMD_ERR_CTRL);
    assert_int_equal(smtpd_cmd_check("NOOP \xc3\xa9", 7), SMTPD_CMD_OK);
    assert_int_equal(smtpd_cmd_check("NOOP \xc3", 6), SMTPD_CMD_ERR_UTF8);
    assert_int_equal(smtpd_cmd_check("NOOP \xff", 6), SMTPD_CMD_ERR_UTF8);
    assert_int_equal(smtpd_cmd_check("NOOP \xc0\xaf", 7), SMTPD_CMD_ERR_UTF8);   /* overlong */
    assert_int_equal(smtpd_cmd_check("NOOP \xed\xa0\x80", 8), SMTPD_CMD_ERR_UTF8); /* surrogate */
    assert_int_equal(smtpd_cmd_check("NOOP \xf4\x90\x80\x80", 9), SMTPD_CMD_ERR_UTF8);
    assert_int_equal(smtpd_cmd_check("NOOP \xf0\x9f\x98\x80", 9), SMTPD_CMD_OK);
    assert_true(smtpd_cmd_has_8bit("a\x80"));
    assert_false(smtpd_cmd_has_8bit("abc"));
}

static void test_split(void **state)
{
    VSTRING *verb = vstring_alloc(10);
    const char *rest;
    char longverb[SMTPD_CMD_VERB_MAX + 2];

    (void) state;
    assert_int_equal(smtpd_cmd_split("mail FROM:<a@b>", verb, &rest), 0);
    assert_string_equal(vstring_str(verb), "MAIL");
    assert_string_equal(rest, "FROM:<a@b>");
    assert_int_equal(smtpd_cmd_split("  quit  ", verb, &rest), 0);
    assert_string_equal(vstring_str(verb), "QUIT");
    assert_string_equal(rest, "");
    assert_int_equal(smtpd_cmd_split("", verb, &rest), -1);
    assert_int_equal(smtpd_cmd_split("   \t ", verb, &rest), -1);
    memset(longverb, 'A', sizeof(longverb) - 1);
    longverb[sizeof(longverb) - 1] = 0;
    assert_int_equal(smtpd_cmd_split(longverb, verb, &rest), -1);
    assert_string_equal(vstring_str(verb), "");
    vstring_free(verb);
}

static void test_path(void **state)
{
    VSTRING *addr = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    SMTPD_PARAMS *p = smtpd_params_alloc();

    (void) state;
    assert_int_equal(smtpd_cmd_path("FROM:<a@example.org>", "FROM", SMTPD_CMD_NULL_OK, addr, p, why),
                     SMTPD_CMD_OK);
    assert_string_equal(vstring_str(addr), "a@example.org");
    assert_int_equal(p->count, 0);
    assert_int_equal(smtpd_cmd_path("from : <> SIZE=10 BODY=8BITMIME SMTPUTF8", "FROM",
                                     SMTPD_CMD_NULL_OK, addr, p, why),
                     SMTPD_CMD_OK);
    assert_string_equal(vstring_str(addr), "");
    assert_int_equal(p->count, 3);
    assert_string_equal(p->name[0], "SIZE");
    assert_string_equal(p->value[0], "10");
    assert_null(p->value[2]);
    assert_int_equal(smtpd_params_find(p, "body"), 1);
    assert_int_equal(smtpd_params_find(p, "RET"), -1);
    /* <> needs NULL_OK */
    assert_int_equal(smtpd_cmd_path("TO:<>", "TO", 0, addr, p, why), SMTPD_CMD_ERR_ADDR);
    /* quoted local part comes back unquoted */
    assert_int_equal(smtpd_cmd_path("TO:<\"a b\"@example.org>", "TO", 0, addr, p, why),
                     SMTPD_CMD_OK);
    assert_string_equal(vstring_str(addr), "a b@example.org");
    /* missing pieces */
    assert_int_equal(smtpd_cmd_path("<a@b>", "FROM", 0, addr, p, why), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_path("FROM", "FROM", 0, addr, p, why), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_path("FROM:", "FROM", 0, addr, p, why), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_path("FROM:   ", "FROM", 0, addr, p, why), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_path("FROMAGE:<a@b>", "FROM", 0, addr, p, why),
                     SMTPD_CMD_ERR_SYNTAX);
    /* strict: no space around the colon, brackets required */
    assert_int_equal(smtpd_cmd_path("FROM: <a@b.example>", "FROM", SMTPD_CMD_STRICT, addr, p, why),
                     SMTPD_CMD_ERR_ADDR);
    assert_int_equal(smtpd_cmd_path("FROM:a@b.example", "FROM", SMTPD_CMD_STRICT, addr, p, why),
                     SMTPD_CMD_ERR_ADDR);
    assert_int_equal(smtpd_cmd_path("FROM:a@b.example", "FROM", 0, addr, p, why), SMTPD_CMD_OK);
    /* 8-bit needs the UTF8 flag */
    assert_int_equal(smtpd_cmd_path("TO:<\xc3\xa9@x.example>", "TO", 0, addr, p, why),
                     SMTPD_CMD_ERR_ADDR);
    assert_int_equal(smtpd_cmd_path("TO:<\xc3\xa9@x.example>", "TO", SMTPD_CMD_UTF8, addr, p, why),
                     SMTPD_CMD_OK);
    /* garbage straight after the path */
    assert_int_equal(smtpd_cmd_path("TO:<a@b>x", "TO", 0, addr, p, why), SMTPD_CMD_ERR_ADDR);
    /* parameters */
    assert_int_equal(smtpd_cmd_path("TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", "TO", 0, addr, p, why),
                     SMTPD_CMD_ERR_PARAM);
    assert_int_equal(p->count, 0);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> =x", "TO", 0, addr, p, why), SMTPD_CMD_ERR_PARAM);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> -X=1", "TO", 0, addr, p, why), SMTPD_CMD_ERR_PARAM);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> X=", "TO", 0, addr, p, why), SMTPD_CMD_ERR_PARAM);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> X=a=b", "TO", 0, addr, p, why), SMTPD_CMD_ERR_PARAM);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> X_Y", "TO", 0, addr, p, why), SMTPD_CMD_ERR_PARAM);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> X=\xc3\xa9", "TO", 0, addr, p, why),
                     SMTPD_CMD_ERR_PARAM);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> X=\xc3\xa9", "TO", SMTPD_CMD_UTF8, addr, p, why),
                     SMTPD_CMD_OK);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> A B C D E F G H I J K L M N O P", "TO", 0, addr, p,
                                    why),
                     SMTPD_CMD_OK);
    assert_int_equal(smtpd_cmd_path("TO:<a@b> A B C D E F G H I J K L M N O P Q", "TO", 0, addr,
                                    p, why),
                     SMTPD_CMD_ERR_PARAM);
    smtpd_params_free(p);
    vstring_free(addr);
    vstring_free(why);
}

static void test_values(void **state)
{
    long long size;
    int last;
    VSTRING *out = vstring_alloc(10);

    (void) state;
    assert_int_equal(smtpd_cmd_size("0", &size), 0);
    assert_int_equal(size, 0);
    assert_int_equal(smtpd_cmd_size("999999999999999999", &size), 0);
    assert_int_equal(smtpd_cmd_size("9999999999999999999", &size), -1);
    assert_int_equal(smtpd_cmd_size("", &size), -1);
    assert_int_equal(smtpd_cmd_size("-1", &size), -1);
    assert_int_equal(smtpd_cmd_size("1e3", &size), -1);
    assert_int_equal(smtpd_cmd_size(NULL, &size), -1);

    assert_int_equal(smtpd_cmd_body("7bit"), SMTPD_BODY_7BIT);
    assert_int_equal(smtpd_cmd_body("8BITMIME"), SMTPD_BODY_8BITMIME);
    assert_int_equal(smtpd_cmd_body("BINARYMIME"), -1);
    assert_int_equal(smtpd_cmd_body(NULL), -1);
    assert_int_equal(smtpd_cmd_ret("full"), SMTPD_RET_FULL);
    assert_int_equal(smtpd_cmd_ret("HDRS"), SMTPD_RET_HDRS);
    assert_int_equal(smtpd_cmd_ret("HEADERS"), -1);

    assert_int_equal(smtpd_cmd_notify("NEVER"), DSN_NOTIFY_NEVER);
    assert_int_equal(smtpd_cmd_notify("success,Failure,DELAY"),
                     DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    assert_int_equal(smtpd_cmd_notify("NEVER,DELAY"), -1);
    assert_int_equal(smtpd_cmd_notify("DELAY,DELAY"), -1);
    assert_int_equal(smtpd_cmd_notify("DELAY,"), -1);
    assert_int_equal(smtpd_cmd_notify(",DELAY"), -1);
    assert_int_equal(smtpd_cmd_notify(""), -1);
    assert_int_equal(smtpd_cmd_notify(NULL), -1);

    assert_int_equal(smtpd_cmd_envid("abc+2Bdef", out), 0);
    assert_string_equal(vstring_str(out), "abc+def");
    assert_int_equal(smtpd_cmd_envid("a+00", out), -1);      /* decodes to a control */
    assert_int_equal(smtpd_cmd_envid("a+2", out), -1);
    assert_int_equal(smtpd_cmd_envid("a+", out), -1);
    assert_int_equal(smtpd_cmd_envid("a+GG", out), -1);
    char big[SMTPD_ENVID_MAX + 2];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(smtpd_cmd_envid(big, out), -1);
    big[SMTPD_ENVID_MAX] = 0;
    assert_int_equal(smtpd_cmd_envid(big, out), 0);

    assert_int_equal(smtpd_cmd_orcpt("rfc822;a+40b.example", out), 0);
    assert_string_equal(vstring_str(out), "a@b.example");
    assert_int_equal(smtpd_cmd_orcpt("RFC822;a@b", out), 0);
    assert_int_equal(smtpd_cmd_orcpt("rfc822;", out), -1);
    assert_int_equal(smtpd_cmd_orcpt(";a@b", out), -1);
    assert_int_equal(smtpd_cmd_orcpt("rfc822", out), -1);
    assert_int_equal(smtpd_cmd_orcpt("rfc 822;a@b", out), -1);
    assert_int_equal(smtpd_cmd_orcpt("rfc822;a+0Ab", out), -1);
    assert_int_equal(smtpd_cmd_orcpt("utf-8;j\xc3\xb6rg@x.example", out), 0);
    assert_int_equal(smtpd_cmd_orcpt("utf-8;j\xc3rg@x.example", out), -1);
    assert_int_equal(smtpd_cmd_orcpt("utf-8;a+b@x", out), -1);

    assert_int_equal(smtpd_cmd_bdat("100", &size, &last), 0);
    assert_true(size == 100 && last == 0);
    assert_int_equal(smtpd_cmd_bdat(" 0  last ", &size, &last), 0);
    assert_true(size == 0 && last == 1);
    assert_int_equal(smtpd_cmd_bdat("", &size, &last), -1);
    assert_int_equal(smtpd_cmd_bdat("x", &size, &last), -1);
    assert_int_equal(smtpd_cmd_bdat("10 LAST x", &size, &last), -1);
    assert_int_equal(smtpd_cmd_bdat("10 FIRST", &size, &last), -1);
    assert_int_equal(smtpd_cmd_bdat("-5", &size, &last), -1);
    assert_int_equal(smtpd_cmd_bdat("1234567890123456789", &size, &last), -1);
    vstring_free(out);
}

static void test_xtext(void **state)
{
    VSTRING *out = vstring_alloc(10);
    VSTRING *back = vstring_alloc(10);
    char all[256];

    (void) state;
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char) i;
    all[255] = 0;
    smtpd_xtext_encode(out, all);
    for (size_t i = 0; i < vstring_len(out); i++) {
        char c = vstring_str(out)[i];

        assert_true(c >= '!' && c <= '~' && c != '=');
    }
    assert_int_equal(smtpd_xtext_decode(back, vstring_str(out), vstring_len(out)), 0);
    assert_int_equal(vstring_len(back), 255);
    assert_memory_equal(vstring_str(back), all, 255);
    assert_int_equal(smtpd_xtext_decode(back, "a=b", 3), -1);
    assert_int_equal(smtpd_xtext_decode(back, "a b", 3), -1);
    assert_int_equal(smtpd_xtext_decode(back, "+4", 2), -1);
    assert_int_equal(smtpd_xtext_decode(back, "+4a", 3), 0);
    assert_string_equal(vstring_str(back), "J");
    vstring_free(out);
    vstring_free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),  cmocka_unit_test(test_split), cmocka_unit_test(test_path),
        cmocka_unit_test(test_values), cmocka_unit_test(test_xtext),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
