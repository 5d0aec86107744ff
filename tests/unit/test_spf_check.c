/*
 * NAME
 *	test_spf_check - unit tests for SPF checks without a name server
 * SYNOPSIS
 *	build/unit/test_spf_check
 * DESCRIPTION
 *	What spf_check() decides before or without the DNS: a name server
 *	that does not answer is temperror (never none or pass), also for a
 *	loopback client (libspf2's own shortcut would pass it); a sender
 *	domain or HELO name that cannot be checked is none; a client
 *	address that is not numeric is permerror. The Received-SPF header
 *	is one line in RFC 7208 form, with values quoted when they are not
 *	dot-atoms and no parenthesis or control character from the input
 *	inside its comment. Results with records are tested by the
 *	integration tests (dnsmasq).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns_ptr.h"
#include "msg.h"
#include "spf_check.h"
#include "vstring.h"

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(spf_check_result_name(SPF_CHECK_PASS), "pass");
    assert_string_equal(spf_check_result_name(SPF_CHECK_FAIL), "fail");
    assert_string_equal(spf_check_result_name(SPF_CHECK_SOFTFAIL), "softfail");
    assert_string_equal(spf_check_result_name(SPF_CHECK_NEUTRAL), "neutral");
    assert_string_equal(spf_check_result_name(SPF_CHECK_NONE), "none");
    assert_string_equal(spf_check_result_name(SPF_CHECK_TEMPERROR), "temperror");
    assert_string_equal(spf_check_result_name(SPF_CHECK_PERMERROR), "permerror");
    assert_string_equal(spf_check_result_name(99), "permerror");
}

static void test_without_name_server(void **state)
{
    SPF_CHECK_RESULT res;
    VSTRING *why = vstring_alloc(10);

    (void)state;
    assert_int_equal(dns_ptr_set_servers("127.0.0.1:1", why), 0);
    spf_check_result_init(&res);
    for (const char *const *addr = (const char *const[]){"192.0.2.1", "127.0.0.1", "::1", NULL};
         *addr; addr++) {
        assert_int_equal(spf_check(*addr, "helo.example", "a@example.org", "mx.example.com", &res),
                         SPF_CHECK_TEMPERROR);
        assert_int_equal(res.result, SPF_CHECK_TEMPERROR);
        assert_true(
            strncmp(vstring_str(res.header), "Received-SPF: temperror (mx.example.com: ", 41) == 0);
    }
    assert_null(strchr(vstring_str(res.header), '\n'));
    /* the null sender: postmaster@HELO */
    assert_int_equal(spf_check("192.0.2.1", "helo.example", "", "mx.example.com", &res),
                     SPF_CHECK_TEMPERROR);
    assert_non_null(strstr(vstring_str(res.header),
                           "envelope-from=\"postmaster@helo.example\"; helo=helo.example; "
                           "identity=helo;"));
    spf_check_result_free(&res);
    vstring_free(why);
}

static void test_uncheckable_identities(void **state)
{
    SPF_CHECK_RESULT res;

    (void)state;
    spf_check_result_init(&res);
    assert_int_equal(spf_check("192.0.2.1", NULL, "", "mx.example.com", &res), SPF_CHECK_NONE);
    assert_int_equal(spf_check("192.0.2.1", "[192.0.2.1]", "", "mx.example.com", &res),
                     SPF_CHECK_NONE);
    assert_int_equal(spf_check("192.0.2.1", "h.example", "user", "mx.example.com", &res),
                     SPF_CHECK_NONE);
    assert_int_equal(
        spf_check("192.0.2.1", "h.example", "user@[192.0.2.9]", "mx.example.com", &res),
        SPF_CHECK_NONE);
    assert_int_equal(
        spf_check("not-an-address", "h.example", "a@example.org", "mx.example.com", &res),
        SPF_CHECK_PERMERROR);
    assert_int_equal(vstring_len(res.explanation), 0);
    spf_check_result_free(&res);
}

static void test_header_quoting(void **state)
{
    SPF_CHECK_RESULT res;
    const char *hdr;
    const char *open;
    const char *close;

    (void)state;
    spf_check_result_init(&res);
    spf_check("192.0.2.1", "bad\"(helo)\001", "\"odd) user\"@[1.2.3.4]", "mx.example.com", &res);
    hdr = vstring_str(res.header);
    assert_null(strpbrk(hdr, "\r\n\001"));
    /* the comment holds no parenthesis of its own */
    open = strchr(hdr, '(');
    close = strstr(hdr, ") receiver=");
    assert_non_null(open);
    assert_non_null(close);
    for (const char *cp = open + 1; cp < close; cp++)
        assert_true(*cp != '(' && *cp != ')');
    assert_non_null(strstr(hdr, "helo=\"bad\\\"(helo)\";"));
    spf_check_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_without_name_server),
        cmocka_unit_test(test_uncheckable_identities),
        cmocka_unit_test(test_header_quoting),
    };

    msg_init("test_spf_check");
    msg_set_syslog(0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
