/*
 * NAME
 *	test_policy_client - unit tests for the policy delegation protocol client
 * SYNOPSIS
 *	build/unit/test_policy_client
 * DESCRIPTION
 *	policy_spec_parse(): endpoints, the brace form, every setting, time
 *	units, and malformed specifications. policy_reply_line(): good and
 *	hostile lines. policy_client_request() against a forked server on a
 *	UNIX socket that plays one part per test: a good server (the
 *	connection is reused), one that closes after each reply (a stale
 *	connection is replaced without counting as a try), one that never
 *	answers (timeout), and ones that answer with garbage, an over-long
 *	line, too many attributes, no action, or control characters in
 *	the request to see them replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"
#include "policy_client.h"
#include "vstring.h"

/* ---- specifications ---- */

static void test_spec_forms(void **state)
{
    POLICY_SPEC spec;
    VSTRING *why = vstring_alloc(10);

    (void)state;
    policy_spec_init(&spec);
    spec.default_action = mystrdup("451 4.3.5 default");
    assert_int_equal(policy_spec_parse("inet:127.0.0.1:9998", &spec, why), 0);
    assert_string_equal(spec.endpoint, "inet:127.0.0.1:9998");
    assert_int_equal(spec.timeout, 100);
    assert_string_equal(spec.default_action, "451 4.3.5 default");
    assert_int_equal(policy_spec_parse("unix:private/policy", &spec, why), 0);
    assert_string_equal(spec.endpoint, "unix:private/policy");
    assert_int_equal(policy_spec_parse("{ inet:[::1]:10023, timeout=10s, max_idle=2m, "
                                       "max_ttl=1h, retry_delay=0, try_limit=3, "
                                       "request_limit=7, default_action=DEFER_IF_PERMIT busy, "
                                       "policy_context=submission }",
                                       &spec, why),
                     0);
    assert_string_equal(spec.endpoint, "inet:[::1]:10023");
    assert_int_equal(spec.timeout, 10);
    assert_int_equal(spec.max_idle, 120);
    assert_int_equal(spec.max_ttl, 3600);
    assert_int_equal(spec.retry_delay, 0);
    assert_int_equal(spec.try_limit, 3);
    assert_int_equal(spec.request_limit, 7);
    assert_string_equal(spec.default_action, "DEFER_IF_PERMIT busy");
    assert_string_equal(spec.policy_context, "submission");
    assert_int_equal(policy_spec_parse("{inet:127.0.0.1:1,timeout=1w}", &spec, why), 0);
    assert_int_equal(spec.timeout, 604800);
    policy_spec_free(&spec);
    vstring_free(why);
}

static void test_spec_errors(void **state)
{
    static const char *bad[] = {
        "",
        "127.0.0.1:9998",
        "/tmp/socket",
        "inet:",
        "inet:host",
        "inet::9998",
        "inet:2001:db8::1:25",
        "tcp:127.0.0.1:25",
        "{",
        "}",
        "{ }",
        "{ inet:h:1",
        "inet:h:1 }",
        "{ inet:h:1, timeout }",
        "{ inet:h:1, timeout=}",
        "{ inet:h:1, timeout=0 }",
        "{ inet:h:1, timeout=10x }",
        "{ inet:h:1, timeout=-1 }",
        "{ inet:h:1, try_limit=0 }",
        "{ inet:h:1, try_limit=2s }",
        "{ inet:h:1, bogus=1 }",
        "{ inet:h:1, default_action= }",
        "{ inet:h:1, { nested } }",
        "{ inet:h:1, max_idle=99999999999999999 }",
        "{ timeout=1s, inet:h:1 }",
        NULL,
    };
    VSTRING *why = vstring_alloc(10);

    (void)state;
    for (const char **cp = bad; *cp; cp++) {
        POLICY_SPEC spec;

        policy_spec_init(&spec);
        vstring_reset(why);
        if (policy_spec_parse(*cp, &spec, why) == 0)
            fail_msg("accepted \"%s\"", *cp);
        assert_true(vstring_len(why) > 0);
        policy_spec_free(&spec);
    }
    vstring_free(why);
}

static void test_reply_lines(void **state)
{
    VSTRING *name = vstring_alloc(10);
    VSTRING *value = vstring_alloc(10);

    (void)state;
    assert_int_equal(policy_reply_line("action=DUNNO", 12, name, value), 1);
    assert_string_equal(vstring_str(name), "action");
    assert_string_equal(vstring_str(value), "DUNNO");
    assert_int_equal(policy_reply_line("action=REJECT a=b\r", 18, name, value), 1);
    assert_string_equal(vstring_str(value), "REJECT a=b");
    assert_int_equal(policy_reply_line("x-y_1=", 6, name, value), 1);
    assert_string_equal(vstring_str(value), "");
    assert_int_equal(policy_reply_line("", 0, name, value), 0);
    assert_int_equal(policy_reply_line("\r", 1, name, value), 0);
    assert_int_equal(policy_reply_line("=x", 2, name, value), -1);
    assert_int_equal(policy_reply_line("no equals", 9, name, value), -1);
    assert_int_equal(policy_reply_line("bad name=x", 10, name, value), -1);
    assert_int_equal(policy_reply_line("a=b\0c", 5, name, value), -1);
    vstring_free(name);
    vstring_free(value);
}

/* ---- a server ---- */

#define MODE_GOOD 1
#define MODE_CLOSE 2
#define MODE_SILENT 3
#define MODE_GARBAGE 4
#define MODE_LONG 5
#define MODE_MANY 6
#define MODE_NOACTION 7
#define MODE_ECHO 8

typedef struct SERVER {
    char dir[64];
    char path[90];
    pid_t pid;
    int accepts; /* read end: one byte per accepted connection */
} SERVER;

static void server_child(int lfd, int mode, int notify)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        FILE *in;
        char line[8192];
        VSTRING *request = vstring_alloc(100);

        if (fd < 0)
            _exit(0);
        if (write(notify, "A", 1) != 1)
            _exit(1);
        in = fdopen(dup(fd), "r");
        for (;;) {
            vstring_reset(request);
            while (fgets(line, sizeof(line), in) && strcmp(line, "\n") != 0)
                vstring_strcat(request, line);
            if (feof(in))
                break;
            if (mode == MODE_SILENT) {
                sleep(30);
                _exit(0);
            }
            FILE *out = fdopen(dup(fd), "w");

            switch (mode) {
            case MODE_GARBAGE:
                fputs("this is not an attribute\n\n", out);
                break;
            case MODE_LONG:
                fputs("action=", out);
                for (int i = 0; i < POLICY_LINE_MAX + 10; i++)
                    fputc('x', out);
                fputs("\n\n", out);
                break;
            case MODE_MANY:
                for (int i = 0; i < POLICY_ATTR_MAX + 5; i++)
                    fprintf(out, "a%d=b\n", i);
                fputs("action=DUNNO\n\n", out);
                break;
            case MODE_NOACTION:
                fputs("foo=bar\n\n", out);
                break;
            case MODE_ECHO:
                /* the request as the action, line ends made visible */
                fputs("action=", out);
                for (char *cp = vstring_str(request); *cp; cp++)
                    fputc(*cp == '\n' ? '|' : *cp, out);
                fputs("\n\n", out);
                break;
            default:
                fputs("action=DUNNO\nignored=yes\n\n", out);
                break;
            }
            fclose(out);
            if (mode == MODE_CLOSE)
                break;
        }
        fclose(in);
        close(fd);
        vstring_free(request);
    }
}

static void server_start(SERVER *srv, int mode)
{
    struct sockaddr_un sun;
    int lfd;
    int pipefd[2];

    snprintf(srv->dir, sizeof(srv->dir), "/tmp/test_policy_XXXXXX");
    if (mkdtemp(srv->dir) == NULL)
        fail_msg("mkdtemp: %s", strerror(errno));
    snprintf(srv->path, sizeof(srv->path), "%s/sock", srv->dir);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", srv->path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lfd, 10) < 0)
        fail_msg("listen: %s", strerror(errno));
    if (pipe(pipefd) < 0)
        fail_msg("pipe: %s", strerror(errno));
    if ((srv->pid = fork()) == 0) {
        close(pipefd[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a test that failed */
        alarm(60);
        server_child(lfd, mode, pipefd[1]);
        _exit(0);
    }
    close(lfd);
    close(pipefd[1]);
    srv->accepts = pipefd[0];
}

/* server_accepts - connections accepted since the last call */

static int server_accepts(SERVER *srv)
{
    char buf[100];
    int total = 0;
    ssize_t n;

    usleep(100000);
    fcntl(srv->accepts, F_SETFL, O_NONBLOCK);
    while ((n = read(srv->accepts, buf, sizeof(buf))) > 0)
        total += (int)n;
    return total;
}

static void server_stop(SERVER *srv)
{
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, NULL, 0);
    close(srv->accepts);
    unlink(srv->path);
    rmdir(srv->dir);
}

static POLICY_CLIENT *client_for(SERVER *srv, const char *settings)
{
    POLICY_SPEC spec;
    VSTRING *text = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    POLICY_CLIENT *pc;

    policy_spec_init(&spec);
    spec.retry_delay = 0;
    vstring_sprintf(text, "{ unix:%s%s%s }", srv->path, *settings ? ", " : "", settings);
    if (policy_spec_parse(vstring_str(text), &spec, why) < 0)
        fail_msg("%s: %s", vstring_str(text), vstring_str(why));
    pc = policy_client_create(&spec);
    policy_spec_free(&spec);
    vstring_free(text);
    vstring_free(why);
    return pc;
}

static ARGV *request_attrs(void)
{
    ARGV *attrs = argv_alloc(4);

    argv_add(attrs, "request=smtpd_access_policy");
    argv_add(attrs, "sender=a@example.org");
    return attrs;
}

static void test_good_server_reuses_connection(void **state)
{
    SERVER srv;
    POLICY_CLIENT *pc;
    ARGV *attrs = request_attrs();
    VSTRING *action = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);

    (void)state;
    server_start(&srv, MODE_GOOD);
    pc = client_for(&srv, "");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(policy_client_request(pc, attrs, action, why), 0);
        assert_string_equal(vstring_str(action), "DUNNO");
    }
    assert_int_equal(server_accepts(&srv), 1);
    policy_client_free(pc);
    pc = client_for(&srv, "request_limit=2");
    for (int i = 0; i < 4; i++)
        assert_int_equal(policy_client_request(pc, attrs, action, why), 0);
    assert_int_equal(server_accepts(&srv), 2);
    policy_client_free(pc);
    server_stop(&srv);
    argv_free(attrs);
    vstring_free(action);
    vstring_free(why);
}

static void test_stale_connection_is_replaced(void **state)
{
    SERVER srv;
    POLICY_CLIENT *pc;
    ARGV *attrs = request_attrs();
    VSTRING *action = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);

    (void)state;
    server_start(&srv, MODE_CLOSE);
    pc = client_for(&srv, "try_limit=1");
    for (int i = 0; i < 3; i++) {
        usleep(20000); /* let the server close */
        if (policy_client_request(pc, attrs, action, why) != 0)
            fail_msg("request %d: %s", i, vstring_str(why));
    }
    assert_int_equal(server_accepts(&srv), 3);
    policy_client_free(pc);
    server_stop(&srv);
    argv_free(attrs);
    vstring_free(action);
    vstring_free(why);
}

static void test_bad_servers(void **state)
{
    static const struct {
        int mode;
        const char *why;
        int accepts; /* the silent server is stuck with its first client */
    } cases[] = {
        {MODE_GARBAGE, "malformed reply line", 2},
        {MODE_LONG, "reply line too long", 2},
        {MODE_MANY, "too many attributes", 2},
        {MODE_NOACTION, "no action", 2},
        {MODE_SILENT, "timeout", 1},
    };
    ARGV *attrs = request_attrs();
    VSTRING *action = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SERVER srv;
        POLICY_CLIENT *pc;
        time_t start = time(NULL);

        server_start(&srv, cases[i].mode);
        pc = client_for(&srv, "timeout=1, try_limit=2");
        assert_int_equal(policy_client_request(pc, attrs, action, why), -1);
        if (strstr(vstring_str(why), cases[i].why) == NULL)
            fail_msg("mode %d: \"%s\"", cases[i].mode, vstring_str(why));
        assert_true(time(NULL) - start < 10);
        /* two tries, each on a new connection */
        assert_int_equal(server_accepts(&srv), cases[i].accepts);
        policy_client_free(pc);
        server_stop(&srv);
    }
    argv_free(attrs);
    vstring_free(action);
    vstring_free(why);
}

static void test_no_server(void **state)
{
    SERVER srv;
    POLICY_CLIENT *pc;
    ARGV *attrs = request_attrs();
    VSTRING *action = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);

    (void)state;
    server_start(&srv, MODE_GOOD);
    server_stop(&srv); /* the socket is gone */
    pc = client_for(&srv, "try_limit=3");
    assert_int_equal(policy_client_request(pc, attrs, action, why), -1);
    assert_true(vstring_len(why) > 0);
    policy_client_free(pc);
    argv_free(attrs);
    vstring_free(action);
    vstring_free(why);
}

static void test_control_characters_are_replaced(void **state)
{
    SERVER srv;
    POLICY_CLIENT *pc;
    ARGV *attrs = argv_alloc(2);
    VSTRING *action = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);

    (void)state;
    argv_add(attrs, "helo_name=evil\nrecipient=x\r\001");
    server_start(&srv, MODE_ECHO);
    pc = client_for(&srv, "");
    assert_int_equal(policy_client_request(pc, attrs, action, why), 0);
    assert_string_equal(vstring_str(action), "helo_name=evil?recipient=x??|");
    policy_client_free(pc);
    server_stop(&srv);
    argv_free(attrs);
    vstring_free(action);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_forms),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_reply_lines),
        cmocka_unit_test(test_good_server_reuses_connection),
        cmocka_unit_test(test_stale_connection_is_replaced),
        cmocka_unit_test(test_bad_servers),
        cmocka_unit_test(test_no_server),
        cmocka_unit_test(test_control_characters_are_replaced),
    };

    msg_init("test_policy_client");
    msg_set_syslog(0);
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
