/*
 * test_sasl_srv - the backend-independent checks of sasl_srv (security
 * options, base64, mechanism names, what a backend may return), with a
 * backend of this file's own; and the Dovecot backend: its parsers with
 * hostile input, and whole exchanges with a forked fake auth server over
 * a UNIX socket (handshake, PLAIN, LOGIN, failures, a server that goes
 * away between requests, a server that breaks the protocol).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sasl_dovecot.h"
#include "sasl_srv.h"
#include "vstring.h"

/* ---- security options and base64 ---- */

static void test_sec_options(void **unused)
{
    VSTRING *why = vstring_alloc(10);
    int mask;

    (void)unused;
    assert_int_equal(sasl_sec_options("", &mask, why), 0);
    assert_int_equal(mask, 0);
    assert_int_equal(sasl_sec_options("noanonymous, noplaintext", &mask, why), 0);
    assert_int_equal(mask, SASL_SEC_OPT_NOANONYMOUS | SASL_SEC_OPT_NOPLAINTEXT);
    assert_int_equal(
        sasl_sec_options("NoActive nodictionary mutual_auth forward_secrecy", &mask, why), 0);
    assert_int_equal(mask, SASL_SEC_OPT_NOACTIVE | SASL_SEC_OPT_NODICTIONARY |
                               SASL_SEC_OPT_MUTUAL_AUTH | SASL_SEC_OPT_FORWARD_SECRECY);
    assert_int_equal(sasl_sec_options("noanonymous, nosuchthing", &mask, why), -1);
    assert_non_null(strstr(vstring_str(why), "nosuchthing"));
    vstring_free(why);
}

static void test_base64_valid(void **unused)
{
    (void)unused;
    assert_true(sasl_base64_valid(""));
    assert_true(sasl_base64_valid("AGFsaWNlAHNlY3JldA=="));
    assert_true(sasl_base64_valid("YWJj"));
    assert_true(sasl_base64_valid("YWI="));
    assert_true(sasl_base64_valid("+/+/"));
    assert_false(sasl_base64_valid("YWJ"));  /* length */
    assert_false(sasl_base64_valid("Y===")); /* three pad bytes */
    assert_false(sasl_base64_valid("YW=j")); /* data after padding */
    assert_false(sasl_base64_valid("YWJj\t"));
    assert_false(sasl_base64_valid("YW\nj"));
    assert_false(sasl_base64_valid("YWJ-")); /* URL alphabet */
    assert_false(sasl_base64_valid("*"));
    assert_false(sasl_base64_valid("YWJ\xc3"));
    assert_false(sasl_base64_valid("===="));
}

/* ---- a backend of our own ---- */

typedef struct FAKE {
    SASL_SERVER server;
    int calls;
    int status;        /* what first/next return */
    const char *reply; /* and what they put in reply */
    const char *user;
} FAKE;

static const char *fake_mechs(SASL_SERVER *s)
{
    (void)s;
    return "PLAIN X-TEST_2";
}

static int fake_step(SASL_SERVER *s, VSTRING *reply)
{
    FAKE *f = (FAKE *)s;

    f->calls++;
    vstring_strcpy(reply, f->reply);
    return f->status;
}

static int fake_first(SASL_SERVER *s, const char *mech, const char *init, VSTRING *reply)
{
    (void)mech;
    (void)init;
    return fake_step(s, reply);
}

static int fake_next(SASL_SERVER *s, const char *resp, VSTRING *reply)
{
    (void)resp;
    return fake_step(s, reply);
}

static const char *fake_user(SASL_SERVER *s)
{
    return ((FAKE *)s)->user;
}

static void fake_free(SASL_SERVER *s)
{
    (void)s;
}

static void fake_init(FAKE *f)
{
    memset(f, 0, sizeof(*f));
    f->server.mechs = fake_mechs;
    f->server.first = fake_first;
    f->server.next = fake_next;
    f->server.username = fake_user;
    f->server.free = fake_free;
    f->status = SASL_AUTH_MORE;
    f->reply = "";
}

static void test_dispatcher_checks_client_input(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    FAKE f;

    (void)unused;
    fake_init(&f);
    assert_int_equal(sasl_srv_first(&f.server, "LOGIN", NULL, reply), SASL_AUTH_FORM);
    assert_string_equal(vstring_str(reply), "Unsupported authentication mechanism");
    assert_int_equal(sasl_srv_first(&f.server, "PLAI", NULL, reply), SASL_AUTH_FORM);
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN\tX", NULL, reply), SASL_AUTH_FORM);
    assert_int_equal(sasl_srv_first(&f.server, "", NULL, reply), SASL_AUTH_FORM);
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", "", reply), SASL_AUTH_FORM);
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", "abc", reply), SASL_AUTH_FORM);
    assert_string_equal(vstring_str(reply), "Invalid base64 data in initial response");
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", "YWJj\tresp=x", reply), SASL_AUTH_FORM);
    assert_int_equal(f.calls, 0);
    /* any case; "=" is the empty initial response */
    assert_int_equal(sasl_srv_first(&f.server, "plain", "=", reply), SASL_AUTH_MORE);
    assert_int_equal(sasl_srv_first(&f.server, "x-test_2", "YWJj", reply), SASL_AUTH_MORE);
    assert_int_equal(f.calls, 2);
    assert_int_equal(sasl_srv_next(&f.server, "YWJj\n", reply), SASL_AUTH_FORM);
    assert_string_equal(vstring_str(reply), "Invalid base64 data in continued response");
    assert_int_equal(sasl_srv_next(&f.server, "", reply), SASL_AUTH_MORE);
    assert_int_equal(f.calls, 3);
    vstring_free(reply);
}

static void test_dispatcher_checks_backend_output(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    char long_reason[400];
    FAKE f;

    (void)unused;
    fake_init(&f);
    f.reply = "not base64!";
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_TEMP);

    f.status = SASL_AUTH_DONE;
    f.user = NULL;
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_TEMP);
    f.user = "";
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_TEMP);
    f.user = "alice\r\nRCPT TO:<x>";
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_TEMP);
    f.user = "alice@example.com";
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_DONE);
    assert_string_equal(sasl_srv_username(&f.server), "alice@example.com");
    assert_int_equal(vstring_len(reply), 0);

    f.status = SASL_AUTH_FAIL;
    f.reply = "";
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_FAIL);
    assert_string_equal(vstring_str(reply), "authentication failure");
    f.reply = "bad\x01news\xff";
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_FAIL);
    assert_string_equal(vstring_str(reply), "bad?news?");
    memset(long_reason, 'x', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = 0;
    f.reply = long_reason;
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_FAIL);
    assert_int_equal(vstring_len(reply), 200);

    f.status = 99;
    assert_int_equal(sasl_srv_first(&f.server, "PLAIN", NULL, reply), SASL_AUTH_TEMP);
    vstring_free(reply);
}

static void test_unknown_type(void **unused)
{
    VSTRING *why = vstring_alloc(10);

    (void)unused;
    assert_null(sasl_srv_init("kerberos", "smtpd", "", 5, why));
    assert_non_null(strstr(vstring_str(why), "kerberos"));
    assert_null(sasl_srv_init("dovecot", "", "", 5, why));
    vstring_free(why);
}

/* ---- Dovecot: parsers ---- */

static void test_dovecot_parse(void **unused)
{
    SASL_DOVECOT_REPLY r;

    (void)unused;
    r.data = vstring_alloc(10);
    r.user = vstring_alloc(10);
    r.reason = vstring_alloc(10);

    assert_int_equal(sasl_dovecot_parse("OK\t7\tuser=alice", &r), SASL_DOVECOT_OK);
    assert_int_equal(r.id, 7);
    assert_string_equal(vstring_str(r.user), "alice");
    assert_int_equal(sasl_dovecot_parse("OK\t4294967295\tuser=a\tnologin\tfoo=bar", &r),
                     SASL_DOVECOT_OK);
    assert_int_equal(r.id, 4294967295UL);
    assert_int_equal(sasl_dovecot_parse("CONT\t3\tVXNlcm5hbWU6", &r), SASL_DOVECOT_CONT);
    assert_string_equal(vstring_str(r.data), "VXNlcm5hbWU6");
    assert_int_equal(sasl_dovecot_parse("CONT\t3\t", &r), SASL_DOVECOT_CONT);
    assert_int_equal(vstring_len(r.data), 0);
    assert_int_equal(sasl_dovecot_parse("FAIL\t9\tuser=bob\treason=Go\001taway\ttemp", &r),
                     SASL_DOVECOT_FAIL);
    assert_string_equal(vstring_str(r.reason), "Go\taway");
    assert_string_equal(vstring_str(r.user), "bob");
    assert_int_equal(r.temp, 1);
    assert_int_equal(sasl_dovecot_parse("FAIL\t9", &r), SASL_DOVECOT_FAIL);
    assert_int_equal(r.temp, 0);
    assert_int_equal(vstring_len(r.user), 0);

    /* malformed */
    assert_int_equal(sasl_dovecot_parse("", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t0", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t07", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t-1", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t4294967296", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t99999999999999999999", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t1x", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("ok\t1", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("DONE", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("CONT\t1", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("CONT\t1\tnot base64", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("CONT\t1\tYWJj\textra", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t1\tuser=a\0010b", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("OK\t1\tuser=a\001", &r), SASL_DOVECOT_BAD);
    assert_int_equal(sasl_dovecot_parse("FAIL\t1\treason=\001", &r), SASL_DOVECOT_BAD);

    vstring_free(r.data);
    vstring_free(r.user);
    vstring_free(r.reason);
}

static void test_dovecot_unescape_and_mech(void **unused)
{
    VSTRING *out = vstring_alloc(10);
    int flags;

    (void)unused;
    assert_int_equal(sasl_dovecot_unescape(out, "a\0011b\001tc\001rd\001ne\001lf\001xg"), 0);
    assert_string_equal(vstring_str(out), "a\001b\tc\rd\ne\nfxg");
    assert_int_equal(sasl_dovecot_unescape(out, "plain"), 0);
    assert_string_equal(vstring_str(out), "plain");

    assert_int_equal(sasl_dovecot_mech("MECH\tplain\tplaintext", out, &flags), 0);
    assert_string_equal(vstring_str(out), "PLAIN");
    assert_int_equal(flags, SASL_DOVECOT_MECH_PLAINTEXT);
    assert_int_equal(
        sasl_dovecot_mech("MECH\tSCRAM-SHA-256\tmutual-auth\tdictionary\tnew-flag", out, &flags),
        0);
    assert_int_equal(flags, SASL_DOVECOT_MECH_MUTUAL_AUTH | SASL_DOVECOT_MECH_DICTIONARY);
    assert_int_equal(
        sasl_dovecot_mech("MECH\tX_1\tprivate\tanonymous\tactive\tforward-secrecy", out, &flags),
        0);
    assert_int_equal(flags, SASL_DOVECOT_MECH_PRIVATE | SASL_DOVECOT_MECH_ANONYMOUS |
                                SASL_DOVECOT_MECH_ACTIVE | SASL_DOVECOT_MECH_FORWARD_SECRECY);
    assert_int_equal(sasl_dovecot_mech("MECH", out, &flags), -1);
    assert_int_equal(sasl_dovecot_mech("MECH\t", out, &flags), -1);
    assert_int_equal(sasl_dovecot_mech("MECH\tPL AIN", out, &flags), -1);
    assert_int_equal(sasl_dovecot_mech("MECH\tPLAIN=1", out, &flags), -1);
    assert_int_equal(sasl_dovecot_mech("MECHS\tPLAIN", out, &flags), -1);
    assert_int_equal(
        sasl_dovecot_mech("MECH\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          out, &flags),
        -1);
    vstring_free(out);
}

static void test_dovecot_mech_allowed(void **unused)
{
    (void)unused;
    assert_true(sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_PLAINTEXT, 0));
    assert_false(sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_PLAINTEXT, SASL_SEC_OPT_NOPLAINTEXT));
    assert_true(sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_PLAINTEXT, SASL_SEC_OPT_NOANONYMOUS));
    assert_false(sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_ANONYMOUS, SASL_SEC_OPT_NOANONYMOUS));
    assert_false(
        sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_DICTIONARY, SASL_SEC_OPT_NODICTIONARY));
    assert_false(sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_ACTIVE, SASL_SEC_OPT_NOACTIVE));
    assert_false(sasl_dovecot_mech_allowed(0, SASL_SEC_OPT_MUTUAL_AUTH));
    assert_true(sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_MUTUAL_AUTH, SASL_SEC_OPT_MUTUAL_AUTH));
    assert_false(sasl_dovecot_mech_allowed(0, SASL_SEC_OPT_FORWARD_SECRECY));
    assert_false(sasl_dovecot_mech_allowed(SASL_DOVECOT_MECH_PRIVATE, 0));
}

/* ---- Dovecot: exchanges with a fake server ---- */

static char sock_dir[] = "/tmp/test_sasl_srv.XXXXXX";
static char sock_path[200];
static char log_path[200];

/* fake_line - read one line from fd (byte by byte; tests only) */

static int fake_line(int fd, char *buf, size_t len)
{
    size_t n = 0;

    while (n + 1 < len) {
        if (read(fd, buf + n, 1) != 1)
            return -1;
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = 0;
    return 0;
}

static void fake_send(int fd, const char *text)
{
    (void)!write(fd, text, strlen(text));
}

/*
 * The fake server: serves "connections" connections in turn; logs every
 * line it receives to log_path; the behaviour of each connection is
 * given by script[i]: 'n' normal, 'c' close after the handshake, 'p'
 * answer with a protocol error.
 */
static pid_t fake_server(const char *script)
{
    struct sockaddr_un sun;
    int lfd;
    pid_t pid;

    unlink(sock_path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, sock_path);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    assert_int_equal(listen(lfd, 5), 0);
    if ((pid = fork()) != 0) {
        close(lfd);
        return pid;
    }
    FILE *log = fopen(log_path, "w");

    for (const char *mode = script; *mode; mode++) {
        int fd = accept(lfd, NULL, NULL);
        char line[1000];
        char user[100] = "";
        unsigned long id = 0;

        if (fd < 0)
            _exit(1);
        fake_send(fd, "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
                      "MECH\tANONYMOUS\tanonymous\nMECH\tHIDDEN\tprivate\nMECH\tbad name\n"
                      "SPID\t1\nCUID\t2\nCOOKIE\tabc\nDONE\n");
        if (*mode == 'c') {
            fake_line(fd, line, sizeof(line));
            fprintf(log, "%s\n", line);
            fake_line(fd, line, sizeof(line));
            fprintf(log, "%s\n", line);
            fflush(log);
            close(fd);
            continue;
        }
        while (fake_line(fd, line, sizeof(line)) == 0) {
            fprintf(log, "%s\n", line);
            fflush(log);
            if (*mode == 'p' && strncmp(line, "AUTH\t", 5) == 0) {
                fake_send(fd, "OK\t999\tuser=mallory\n");
                continue;
            }
            if (strncmp(line, "AUTH\t", 5) == 0) {
                id = strtoul(line + 5, NULL, 10);
                if (strstr(line, "\tPLAIN\t") && strstr(line, "\tresp=AGFsaWNlAHNlY3JldA==")) {
                    snprintf(line, sizeof(line), "OK\t%lu\tuser=alice\n", id);
                } else if (strstr(line, "\tPLAIN\t") && strstr(line, "\tresp=")) {
                    snprintf(line, sizeof(line), "FAIL\t%lu\tuser=alice\n", id);
                } else if (strstr(line, "\tLOGIN\t")) {
                    snprintf(line, sizeof(line), "CONT\t%lu\tVXNlcm5hbWU6\n", id);
                } else {
                    snprintf(line, sizeof(line), "FAIL\t%lu\ttemp\treason=no such thing\n", id);
                }
                fake_send(fd, line);
            } else if (strncmp(line, "CONT\t", 5) == 0) {
                const char *data = strchr(line + 5, '\t') + 1;

                if (user[0] == 0) {
                    snprintf(user, sizeof(user), "%s", data);
                    snprintf(line, sizeof(line), "CONT\t%lu\tUGFzc3dvcmQ6\n", id);
                } else {
                    snprintf(line, sizeof(line), "OK\t%lu\tuser=b\001tob\n", id);
                }
                fake_send(fd, line);
            }
        }
        close(fd);
    }
    fclose(log);
    _exit(0);
}

static int fake_done(pid_t pid)
{
    int status;

    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return 0;
}

static char *log_text(void)
{
    static char buf[8192];
    FILE *fp = fopen(log_path, "r");
    size_t n;

    assert_non_null(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

static SASL_SERVER_PROPS dprops(int tls, int opts)
{
    SASL_SERVER_PROPS p;

    memset(&p, 0, sizeof(p));
    p.service = "smtp";
    p.server_name = "mx.example.com";
    p.user_realm = "";
    p.client_addr = "192.0.2.7";
    p.client_port = "40000";
    p.local_addr = "192.0.2.1";
    p.local_port = "25";
    p.tls_active = tls;
    p.sec_options = opts;
    return p;
}

static void test_dovecot_exchanges(void **unused)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *reply = vstring_alloc(10);
    SASL_SERVER_IMPL *impl;
    SASL_SERVER *s;
    SASL_SERVER_PROPS p;
    pid_t pid;

    (void)unused;
    pid = fake_server("n");
    impl = sasl_srv_init("dovecot", sock_path, "", 5, why);
    assert_non_null(impl);
    p = dprops(0, SASL_SEC_OPT_NOANONYMOUS);
    s = sasl_srv_create(impl, &p, why);
    assert_non_null(s);
    assert_string_equal(sasl_srv_mechs(s), "PLAIN LOGIN");
    assert_int_equal(sasl_srv_first(s, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), SASL_AUTH_DONE);
    assert_string_equal(sasl_srv_username(s), "alice");
    assert_int_equal(sasl_srv_first(s, "plain", "AGFsaWNlAHdyb25n", reply), SASL_AUTH_FAIL);
    assert_string_equal(vstring_str(reply), "authentication failure");
    assert_int_equal(sasl_srv_first(s, "LOGIN", NULL, reply), SASL_AUTH_MORE);
    assert_string_equal(vstring_str(reply), "VXNlcm5hbWU6");
    assert_int_equal(sasl_srv_next(s, "Ym9i", reply), SASL_AUTH_MORE);
    assert_string_equal(vstring_str(reply), "UGFzc3dvcmQ6");
    /* a user name with an escaped TAB is refused by the generic checks */
    assert_int_equal(sasl_srv_next(s, "cHc=", reply), SASL_AUTH_TEMP);
    assert_int_equal(sasl_srv_first(s, "PLAIN", "=", reply), SASL_AUTH_FAIL);
    assert_int_equal(sasl_srv_first(s, "ANONYMOUS", NULL, reply), SASL_AUTH_FORM);
    assert_int_equal(sasl_srv_first(s, "HIDDEN", NULL, reply), SASL_AUTH_FORM);
    sasl_srv_free(s);

    /* TLS: "secured"; noplaintext leaves nothing */
    p = dprops(1, SASL_SEC_OPT_NOPLAINTEXT | SASL_SEC_OPT_NOANONYMOUS);
    s = sasl_srv_create(impl, &p, why);
    assert_non_null(s);
    assert_string_equal(sasl_srv_mechs(s), "");
    sasl_srv_free(s);
    p = dprops(1, 0);
    s = sasl_srv_create(impl, &p, why);
    assert_string_equal(sasl_srv_mechs(s), "PLAIN LOGIN ANONYMOUS");
    assert_int_equal(sasl_srv_first(s, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), SASL_AUTH_DONE);
    sasl_srv_free(s);
    sasl_srv_done(impl);
    fake_done(pid);

    {
        const char *log = log_text();

        assert_non_null(strstr(log, "VERSION\t1\t1\nCPID\t"));
        assert_non_null(strstr(log, "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=192.0.2.1\t"
                                    "rip=192.0.2.7\tlport=25\trport=40000\t"
                                    "resp=AGFsaWNlAHNlY3JldA==\n"));
        assert_non_null(strstr(log, "\tPLAIN\tservice=smtp\tnologin\tlip=192.0.2.1\trip=192.0.2.7\t"
                                    "lport=25\trport=40000\tresp=\n"));
        assert_non_null(strstr(log, "\tLOGIN\tservice=smtp\tnologin\tlip=192.0.2.1\trip=192.0.2.7\t"
                                    "lport=25\trport=40000\n"));
        assert_non_null(strstr(log, "rport=40000\tsecured\tresp=AGFsaWNlAHNlY3JldA==\n"));
        assert_non_null(strstr(log, "CONT\t3\tYm9i\n"));
        assert_null(strstr(log, "ANONYMOUS"));
    }
    vstring_free(why);
    vstring_free(reply);
}

static void test_dovecot_failures(void **unused)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *reply = vstring_alloc(10);
    SASL_SERVER_IMPL *impl;
    SASL_SERVER *s;
    SASL_SERVER_PROPS p = dprops(0, 0);
    pid_t pid;

    (void)unused;
    /* nobody listening */
    unlink(sock_path);
    impl = sasl_srv_init("dovecot", sock_path, "", 2, why);
    assert_non_null(impl);
    assert_null(sasl_srv_create(impl, &p, why));

    /* the kept connection goes away: the request is retried on a new one */
    pid = fake_server("cn");
    s = sasl_srv_create(impl, &p, why);
    assert_non_null(s);
    assert_int_equal(sasl_srv_first(s, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), SASL_AUTH_DONE);
    sasl_srv_free(s);
    fake_done(pid);

    /* an answer for another request: a protocol error, never a login */
    pid = fake_server("p");
    sasl_srv_done(impl);
    impl = sasl_srv_init("dovecot", sock_path, "", 2, why);
    s = sasl_srv_create(impl, &p, why);
    assert_non_null(s);
    assert_int_equal(sasl_srv_first(s, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), SASL_AUTH_TEMP);
    assert_null(sasl_srv_username(s));
    sasl_srv_free(s);
    fake_done(pid);

    /* temp failure with a reason */
    pid = fake_server("n");
    s = sasl_srv_create(impl, &p, why);
    assert_non_null(s);
    assert_int_equal(sasl_srv_first(s, "PLAIN", NULL, reply), SASL_AUTH_TEMP);
    assert_string_equal(vstring_str(reply), "no such thing");
    sasl_srv_free(s);
    sasl_srv_done(impl);
    fake_done(pid);
    vstring_free(why);
    vstring_free(reply);
}

static int setup(void **unused)
{
    (void)unused;
    assert_non_null(mkdtemp(sock_dir));
    snprintf(sock_path, sizeof(sock_path), "%s/auth", sock_dir);
    snprintf(log_path, sizeof(log_path), "%s/log", sock_dir);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    unlink(sock_path);
    unlink(log_path);
    return rmdir(sock_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_options),
        cmocka_unit_test(test_base64_valid),
        cmocka_unit_test(test_dispatcher_checks_client_input),
        cmocka_unit_test(test_dispatcher_checks_backend_output),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_dovecot_parse),
        cmocka_unit_test(test_dovecot_unescape_and_mech),
        cmocka_unit_test(test_dovecot_mech_allowed),
        cmocka_unit_test(test_dovecot_exchanges),
        cmocka_unit_test(test_dovecot_failures),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
