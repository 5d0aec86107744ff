/*
 * NAME
 *	test_smtpd_check_engine - unit tests for the SMTP server's restriction engine
 * SYNOPSIS
 *	build/unit/test_smtpd_check_engine
 * DESCRIPTION
 *	The smtpd_check*.c files are compiled into this test (they are not
 *	in libpostern), with the two smtpd functions they call replaced:
 *	smtpd_log_reject() records the log lines and smtpd_data_line()
 *	the prepended headers. No DNS or policy server is contacted: the
 *	restrictions that need one are only parsed here (the integration
 *	tests run them).
 *
 *	Covered: restriction list parsing (names, arguments, braces,
 *	unknown names, bad arguments), every access table action and its
 *	reply text (DSN codes, 421/521 disconnects, DEFER_IF_PERMIT,
 *	DEFER_IF_REJECT, WARN, INFO, PREPEND, unsupported actions, nested
 *	lists and their depth limit), warn_if_reject and defer_if_reject,
 *	restriction classes, the PREPEND header list (validation, once per
 *	message, the reset and session hooks), reply templates checked by
 *	check_reply_text(), and smtpd_check_rcpt()/_mail() against a fixed
 *	configuration (relay control, unknown local users, unlisted
 *	senders, SASL sender ownership).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../smtpd/smtpd_check.c"
#include "../../smtpd/smtpd_check_access.c"
#include "../../smtpd/smtpd_check_local.c"
#include "../../smtpd/smtpd_check_dns.c"
#include "../../smtpd/smtpd_check_policy.c"
#include "../../smtpd/smtpd_check_spf.c"

/* ---- the smtpd functions the engine calls ---- */

static VSTRING *test_log;
static VSTRING *test_headers;

void smtpd_log_reject(SMTPD_STATE *state, const char *kind, const char *what, const char *reply,
                      const char *rcpt)
{
    (void)state;
    vstring_sprintf_append(test_log, "%s: %s: %s; to=<%s>\n", kind, what, reply, rcpt ? rcpt : "");
}

void smtpd_data_line(int type, const char *data, size_t len, void *context)
{
    (void)context;
    vstring_sprintf_append(test_headers, "%c:%.*s\n", type, (int)len, data);
}

/* ---- fixtures ---- */

static const char test_main_cf[] =
    "mynetworks = 10.0.0.0/8\n"
    "mydestination = mx.example.com, localhost\n"
    "relay_domains = relay.example\n"
    "alias_maps =\n"
    "local_recipient_maps = inline:{ root=x, postmaster=x }\n"
    "smtp_dns_servers = 127.0.0.1:1\n"
    "smtpd_restriction_classes = strict, ghost\n"
    "strict = reject_non_fqdn_sender, permit\n"
    "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
    "reject_unauth_destination\n"
    "smtpd_recipient_restrictions = check_recipient_access inline:{ {strict@mx.example.com=strict} "
    "}\n"
    "smtpd_sender_login_maps = inline:{ {alice@example.org=alice}, {shared@example.org=alice bob} "
    "}\n";

static SMTPD_STATE test_state;

static int setup_all(void **state)
{
    VSTRING *why = vstring_alloc(100);

    (void)state;
    msg_init("test_smtpd_check_engine");
    msg_set_syslog(0);
    test_log = vstring_alloc(100);
    test_headers = vstring_alloc(100);
    if (mail_conf_parse(test_main_cf, strlen(test_main_cf), "/test/main.cf", why) < 0)
        fail_msg("main.cf: %s", vstring_str(why));
    vstring_free(why);
    mail_conf_eval();
    smtpd_check_init();
    return 0;
}

static int setup_one(void **state)
{
    (void)state;
    smtpd_check_session_end(&test_state);
    memset(&test_state, 0, sizeof(test_state));
    test_state.name = "unknown";
    test_state.addr = "192.0.2.1";
    test_state.port = "1234";
    test_state.namaddr = "unknown[192.0.2.1]";
    test_state.local_addr = "127.0.0.1";
    test_state.helo_name = "client.example.org";
    test_state.protocol = "ESMTP";
    test_state.where = "RCPT";
    test_state.sender = "a@example.org";
    test_state.in_mail = 1;
    vstring_reset(test_log);
    vstring_reset(test_headers);
    return 0;
}

static int teardown_one(void **state)
{
    (void)state;
    smtpd_check_session_end(&test_state);
    return 0;
}

/* a CHECK as check_recipient() makes it */

static void test_start(CHECK *ck, VSTRING *reply, const char *rcpt, int stage)
{
    check_start(ck, &test_state, "RCPT", rcpt, reply);
    ck->stage = stage;
}

/* ---- parsing ---- */

static void test_parse_names_and_arguments(void **state)
{
    RESTR_LIST *list;

    (void)state;
    list = check_parse("t", STAGE_RCPT,
                       "permit, REJECT_UNKNOWN_CLIENT check_client_access inline:{ a=OK, b=OK },"
                       "reject_rbl_client zen.example=127.0.0.[2..11] "
                       "check_policy_service { inet:127.0.0.1:9, timeout=5s, "
                       "default_action=451 4.7.1 try later }, strict, check_spf, "
                       "permit_dnswl_client list.example",
                       0);
    assert_int_equal(list->count, 8);
    assert_int_equal(list->restr[0].op, R_PERMIT);
    assert_int_equal(list->restr[1].op, R_UNKNOWN_CLIENT);
    assert_int_equal(list->restr[2].op, R_CHECK_CLIENT);
    assert_non_null(list->restr[2].maps);
    assert_int_equal(list->restr[3].op, R_DNS_LIST);
    assert_int_equal(((CHECK_DNS_LIST *)list->restr[3].data)->kind, CHECK_RBL_CLIENT);
    assert_string_equal(((CHECK_DNS_LIST *)list->restr[3].data)->zone, "zen.example");
    assert_string_equal(((CHECK_DNS_LIST *)list->restr[3].data)->filter, "127.0.0.[2..11]");
    assert_int_equal(list->restr[4].op, R_POLICY);
    {
        const POLICY_SPEC *spec = policy_client_spec(((CHECK_POLICY *)list->restr[4].data)->client);

        assert_string_equal(spec->endpoint, "inet:127.0.0.1:9");
        assert_int_equal(spec->timeout, 5);
        assert_string_equal(spec->default_action, "451 4.7.1 try later");
        assert_int_equal(spec->try_limit, var_smtpd_policy_service_try_limit);
    }
    assert_int_equal(list->restr[5].op, R_CLASS);
    assert_int_equal(list->restr[6].op, R_SPF);
    assert_int_equal(((CHECK_DNS_LIST *)list->restr[7].data)->kind, CHECK_DNSWL_CLIENT);
    check_free_list(list);
}

static void test_parse_errors_are_bad_restrictions(void **state)
{
    static const char *bad[] = {
        "no_such_restriction",
        "check_client_access",
        "check_client_access notatable",
        "reject_rbl_client",
        "reject_rbl_client bad..zone",
        "reject_rbl_client zen.example=127.0.0.256",
        "reject_rhsbl_sender zone=",
        "check_policy_service 127.0.0.1:9",
        "check_policy_service inet:",
        "check_policy_service { inet:127.0.0.1:9, frobnicate=1 }",
        "check_policy_service { inet:127.0.0.1:9, timeout=soon }",
        "check_policy_service { inet:127.0.0.1:9, try_limit=0 }",
        NULL,
    };

    (void)state;
    for (const char **cp = bad; *cp; cp++) {
        RESTR_LIST *list = check_parse("t", STAGE_RCPT, *cp, 0);

        assert_int_equal(list->count, 1);
        if (list->restr[0].op != R_BAD)
            fail_msg("accepted \"%s\"", *cp);
        check_free_list(list);
    }
}

static void test_policy_services_are_shared(void **state)
{
    RESTR_LIST *a = check_parse("a", STAGE_RCPT, "check_policy_service inet:127.0.0.1:9", 0);
    RESTR_LIST *b = check_parse("b", STAGE_RCPT, "check_policy_service inet:127.0.0.1:9", 0);

    (void)state;
    assert_ptr_equal(a->restr[0].data, b->restr[0].data);
    check_free_list(a);
    assert_int_equal(((CHECK_POLICY *)b->restr[0].data)->refcount, 1);
    check_free_list(b);
}

/* ---- access table actions ---- */

static void test_table_actions(void **state)
{
    static const struct {
        const char *value;
        int status;
        const char *reply;
    } cases[] = {
        {"OK", CHECK_OK, ""},
        {"ok", CHECK_OK, ""},
        {"1234", CHECK_OK, ""},
        {"DUNNO", CHECK_DUNNO, ""},
        {"REJECT", CHECK_REJECT, "554 5.7.1 <x@y>: Recipient address rejected: Access denied"},
        {"REJECT go away", CHECK_REJECT, "554 5.7.1 <x@y>: Recipient address rejected: go away"},
        {"REJECT 5.7.9 coded", CHECK_REJECT, "554 5.7.9 <x@y>: Recipient address rejected: coded"},
        {"REJECT 4.7.9 wrong class", CHECK_REJECT,
         "554 5.7.1 <x@y>: Recipient address rejected: 4.7.9 wrong class"},
        {"DEFER", CHECK_REJECT, "450 4.7.1 <x@y>: Recipient address rejected: Access denied"},
        {"DEFER later", CHECK_REJECT, "450 4.7.1 <x@y>: Recipient address rejected: later"},
        {"550 5.1.6 moved", CHECK_REJECT, "550 5.1.6 <x@y>: Recipient address rejected: moved"},
        {"450 soon", CHECK_REJECT, "450 4.7.1 <x@y>: Recipient address rejected: soon"},
        {"250 fine", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"DEFER_IF_REJECT", CHECK_DUNNO, ""},
        {"WARN watch it", CHECK_DUNNO, ""},
        {"INFO noted", CHECK_DUNNO, ""},
        {"PREPEND X-Test: yes", CHECK_DUNNO, ""},
        {"PREPEND", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"DISCARD", CHECK_OK, ""},
        {"HOLD why", CHECK_DUNNO, ""},
        {"REDIRECT a@b", CHECK_DUNNO, ""},
        {"REDIRECT", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"FILTER smtp:x", CHECK_DUNNO, ""},
        {"FILTER smtp", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"BCC a@b", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"FROBNICATE", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"warn_if_reject", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"reject_non_fqdn_helo_hostname", CHECK_DUNNO, ""},
        {"permit_mynetworks, reject", CHECK_REJECT,
         "554 5.7.1 <x@y>: Recipient address rejected: Access denied"},
        {"strict", CHECK_OK, ""},
        {"ghost", CHECK_REJECT, "451 4.3.5 Server configuration error"},
        {"", CHECK_DUNNO, ""},
    };
    VSTRING *reply = vstring_alloc(100);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK ck;
        int status;

        test_start(&ck, reply, "x@y", STAGE_RCPT);
        status = check_table_result(&ck, "test_table", cases[i].value, "x@y", "Recipient address");
        if (status != cases[i].status || strcmp(vstring_str(reply), cases[i].reply) != 0)
            fail_msg("%s: got %d \"%s\", want %d \"%s\"", cases[i].value, status,
                     vstring_str(reply), cases[i].status, cases[i].reply);
        check_finish(&ck, status);
    }
    vstring_free(reply);
}

static void test_421_disconnects_and_logs(void **state)
{
    VSTRING *reply = vstring_alloc(100);
    CHECK ck;

    (void)state;
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    assert_int_equal(check_table_result(&ck, "t", "421 go away now", "x@y", "Recipient address"),
                     CHECK_REJECT);
    assert_int_equal(test_state.disconnect, 1);
    assert_non_null(strstr(vstring_str(test_log),
                           "reject: RCPT: 421 4.7.1 <x@y>: Recipient address rejected: go away "
                           "now; to=<x@y>"));
    check_finish(&ck, CHECK_REJECT);
    vstring_free(reply);
}

static void test_defer_if_permit_and_modifiers(void **state)
{
    VSTRING *reply = vstring_alloc(100);
    CHECK ck;
    int status;

    (void)state;
    /* a pending deferral turns a pass into 450 */
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    status = check_table_result(&ck, "t", "DEFER_IF_PERMIT not now", "x@y", "Recipient address");
    assert_int_equal(status, CHECK_DUNNO);
    assert_int_equal(check_finish(&ck, CHECK_OK), SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "450 4.7.1 <x@y>: Recipient address rejected: not now");

    /* ... but a rejection wins */
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    check_table_result(&ck, "t", "DEFER_IF_PERMIT not now", "x@y", "Recipient address");
    status = check_table_result(&ck, "t", "REJECT no", "x@y", "Recipient address");
    assert_int_equal(check_finish(&ck, status), SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "554 5.7.1 <x@y>: Recipient address rejected: no");

    /* DEFER_IF_REJECT makes a later 5xx a 4xx */
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    check_table_result(&ck, "t", "DEFER_IF_REJECT", "x@y", "Recipient address");
    status = check_table_result(&ck, "t", "550 5.1.1 gone", "x@y", "Recipient address");
    check_finish(&ck, status);
    assert_string_equal(vstring_str(reply), "450 4.1.1 <x@y>: Recipient address rejected: gone");

    /* warn_if_reject: logged, not refused */
    {
        RESTR_LIST *list = check_parse("t", STAGE_RCPT, "warn_if_reject, reject, permit", 0);

        test_start(&ck, reply, "x@y", STAGE_RCPT);
        vstring_reset(test_log);
        assert_int_equal(check_finish(&ck, check_list(&ck, list)), SMTPD_CHECK_OK);
        assert_non_null(strstr(vstring_str(test_log), "reject_warning: RCPT: 554 5.7.1 <x@y>: "
                                                      "Recipient address rejected: Access "
                                                      "denied"));
        check_free_list(list);
    }
    vstring_free(reply);
}

static void test_nesting_is_bounded(void **state)
{
    VSTRING *reply = vstring_alloc(100);
    CHECK ck;

    (void)state;
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    ck.depth = CHECK_DEPTH_MAX;
    assert_int_equal(check_table_result(&ck, "t", "permit", "x@y", "Recipient address"),
                     CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "451 4.3.5 Server configuration error");
    check_finish(&ck, CHECK_REJECT);
    vstring_free(reply);
}

static void test_reply_text(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"554 Go away", "554 5.7.1 Go away"},
        {"550 5.7.9 Listed", "550 5.7.9 Listed"},
        {"450 5.7.9 Wrong class", "450 4.7.1 5.7.9 Wrong class"},
        {"421 bye", "421 4.7.1 bye"},
        {"Go away", "451 4.3.5 Server configuration error"},
        {"250 fine", "451 4.3.5 Server configuration error"},
        {"55 short", "451 4.3.5 Server configuration error"},
        {"5544 long", "451 4.3.5 Server configuration error"},
        {"", "451 4.3.5 Server configuration error"},
    };
    VSTRING *reply = vstring_alloc(100);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK ck;

        test_start(&ck, reply, NULL, STAGE_CLIENT);
        check_reply_text(&ck, cases[i].in, "5.7.1");
        if (strcmp(vstring_str(reply), cases[i].out) != 0)
            fail_msg("\"%s\": got \"%s\"", cases[i].in, vstring_str(reply));
        check_finish(&ck, CHECK_REJECT);
    }
    vstring_free(reply);
}

/* ---- PREPEND ---- */

static void test_prepend_headers(void **state)
{
    VSTRING *reply = vstring_alloc(100);
    CHECK ck;
    char longer[CHECK_HEADER_MAX + 20];

    (void)state;
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = 0;
    longer[3] = ':';
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    check_prepend(&ck, "X-One: 1");
    check_prepend(&ck, "X-Two: 2");
    check_prepend(&ck, "X-One: 1"); /* once */
    check_prepend(&ck, "not a header");
    check_prepend(&ck, ": no name");
    check_prepend(&ck, "Bad Name: x");
    check_prepend(&ck, "X-\x01: x");
    check_prepend(&ck, longer);
    ck.stage = STAGE_EOD;
    check_prepend(&ck, "X-Late: too late");
    check_finish(&ck, CHECK_DUNNO);
    smtpd_check_headers(&test_state);
    assert_string_equal(vstring_str(test_headers), "N:X-One: 1\nN:X-Two: 2\n");
    /* written once, then forgotten; a reset forgets the next message's too */
    vstring_reset(test_headers);
    smtpd_check_headers(&test_state);
    assert_string_equal(vstring_str(test_headers), "");
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    check_prepend(&ck, "X-Three: 3");
    check_finish(&ck, CHECK_DUNNO);
    smtpd_check_reset(&test_state);
    smtpd_check_headers(&test_state);
    assert_string_equal(vstring_str(test_headers), "");
    assert_int_equal(check_session(&test_state)->txn, 1);
    vstring_free(reply);
}

static void test_prepend_limit(void **state)
{
    VSTRING *reply = vstring_alloc(100);
    char header[40];
    CHECK ck;

    (void)state;
    test_start(&ck, reply, "x@y", STAGE_RCPT);
    for (int i = 0; i < CHECK_PREPEND_MAX + 10; i++) {
        snprintf(header, sizeof(header), "X-N: %d", i);
        check_prepend(&ck, header);
    }
    check_finish(&ck, CHECK_DUNNO);
    assert_int_equal(check_session(&test_state)->prepend->argc, CHECK_PREPEND_MAX);
    vstring_free(reply);
}

/* ---- whole checks against the configuration ---- */

static void test_rcpt_checks(void **state)
{
    VSTRING *reply = vstring_alloc(100);

    (void)state;
    assert_int_equal(smtpd_check_rcpt(&test_state, "x@elsewhere.org", reply), SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "554 5.7.1 <x@elsewhere.org>: Relay access denied");
    assert_int_equal(smtpd_check_rcpt(&test_state, "x@relay.example", reply), SMTPD_CHECK_OK);
    assert_int_equal(smtpd_check_rcpt(&test_state, "root@mx.example.com", reply), SMTPD_CHECK_OK);
    assert_int_equal(smtpd_check_rcpt(&test_state, "nobody@mx.example.com", reply),
                     SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "550 5.1.1 <nobody@mx.example.com>: Recipient "
                                            "address rejected: User unknown in local recipient "
                                            "table");
    /* a restriction class through a table, with the sender's reply class */
    test_state.sender = "user";
    assert_int_equal(smtpd_check_rcpt(&test_state, "strict@mx.example.com", reply),
                     SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "504 5.5.2 <user>: Sender address rejected: need "
                                            "fully-qualified address");
    /* mynetworks and SASL relay */
    test_state.addr = "10.1.2.3";
    assert_int_equal(smtpd_check_rcpt(&test_state, "x@elsewhere.org", reply), SMTPD_CHECK_OK);
    test_state.addr = "192.0.2.1";
    test_state.sasl_username = "alice";
    assert_int_equal(smtpd_check_rcpt(&test_state, "x@elsewhere.org", reply), SMTPD_CHECK_OK);
    vstring_free(reply);
}

static void test_unlisted_sender_and_login(void **state)
{
    VSTRING *reply = vstring_alloc(100);
    RESTR_LIST *list =
        check_parse("t", STAGE_SENDER, "reject_unlisted_sender, reject_sender_login_mismatch", 0);
    CHECK ck;

    (void)state;
    test_state.sender = "ghost@localhost";
    test_start(&ck, reply, NULL, STAGE_SENDER);
    assert_int_equal(check_finish(&ck, check_list(&ck, list)), SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "550 5.1.0 <ghost@localhost>: Sender address "
                                            "rejected: User unknown in local recipient table");
    test_state.sender = "alice@example.org";
    test_start(&ck, reply, NULL, STAGE_SENDER);
    assert_int_equal(check_finish(&ck, check_list(&ck, list)), SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply),
                        "553 5.7.1 <alice@example.org>: Sender address rejected: not logged in");
    test_state.sasl_username = "BOB";
    test_start(&ck, reply, NULL, STAGE_SENDER);
    assert_int_equal(check_finish(&ck, check_list(&ck, list)), SMTPD_CHECK_REJECT);
    assert_string_equal(vstring_str(reply), "553 5.7.1 <alice@example.org>: Sender address "
                                            "rejected: not owned by user BOB");
    test_state.sender = "shared@example.org";
    test_start(&ck, reply, NULL, STAGE_SENDER);
    assert_int_equal(check_finish(&ck, check_list(&ck, list)), SMTPD_CHECK_OK);
    check_free_list(list);
    vstring_free(reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_names_and_arguments, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_parse_errors_are_bad_restrictions, setup_one,
                                        teardown_one),
        cmocka_unit_test_setup_teardown(test_policy_services_are_shared, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_table_actions, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_421_disconnects_and_logs, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_defer_if_permit_and_modifiers, setup_one,
                                        teardown_one),
        cmocka_unit_test_setup_teardown(test_nesting_is_bounded, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_reply_text, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_prepend_headers, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_prepend_limit, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_rcpt_checks, setup_one, teardown_one),
        cmocka_unit_test_setup_teardown(test_unlisted_sender_and_login, setup_one, teardown_one),
    };

    return cmocka_run_group_tests(tests, setup_all, NULL);
}
