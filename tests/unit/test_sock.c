/*
 * test_sock - endpoint syntax (including hostile specs), UNIX and TCP
 * listen/connect/accept on loopback, address text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sock.h"
#include "vstring.h"

struct ep_case {
    const char *spec;
    const char *def_port;
    int ok;
    int type;
    const char *host;
    const char *port;
    const char *path;
    int bracketed;
};

static void test_endpoint_parse(void **state)
{
    static const struct ep_case cases[] = {
        {"smtp", NULL, 1, SOCK_EP_INET, "", "smtp", "", 0},
        {"2525", NULL, 1, SOCK_EP_INET, "", "2525", "", 0},
        {"127.0.0.1:2525", NULL, 1, SOCK_EP_INET, "127.0.0.1", "2525", "", 0},
        {"mail.example.com:smtp", NULL, 1, SOCK_EP_INET, "mail.example.com", "smtp", "", 0},
        {"[::1]:25", NULL, 1, SOCK_EP_INET, "::1", "25", "", 1},
        {"[mx.example.com]:587", NULL, 1, SOCK_EP_INET, "mx.example.com", "587", "", 1},
        {"[mx.example.com]", "25", 1, SOCK_EP_INET, "mx.example.com", "25", "", 1},
        {"mx.example.com", "25", 1, SOCK_EP_INET, "mx.example.com", "25", "", 0},
        {"inet:localhost:10025", NULL, 1, SOCK_EP_INET, "localhost", "10025", "", 0},
        {"inet:[fe80::1%eth0]:10025", NULL, 1, SOCK_EP_INET, "fe80::1%eth0", "10025", "", 1},
        {"unix:/var/run/milter.sock", NULL, 1, SOCK_EP_UNIX, "", "", "/var/run/milter.sock", 0},
        {"/tmp/sock", NULL, 1, SOCK_EP_UNIX, "", "", "/tmp/sock", 0},
        {":25", NULL, 1, SOCK_EP_INET, "", "25", "", 0},
        /* refused */
        {"::1:25", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"[::1", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"[::1]x", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"[]:25", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"[::1]", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"host:", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"", "25", 0, 0, NULL, NULL, NULL, 0},
        {"unix:", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"ho st:25", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"host\r\n:25", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"host:2\n5", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"host:25/x", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"[a]b]:25", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"[a[b]:25", NULL, 0, 0, NULL, NULL, NULL, 0},
        {"unix:/tmp/a\nb", NULL, 0, 0, NULL, NULL, NULL, 0},
    };
    SOCK_ENDPOINT ep;
    VSTRING *why = vstring_alloc(10);

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ep_case *c = cases + i;
        int rc = sock_endpoint_parse(c->spec, c->def_port, &ep, why);

        if (!c->ok) {
            if (rc != -1)
                fail_msg("accepted bad endpoint \"%s\"", c->spec);
            assert_true(vstring_len(why) > 0);
            continue;
        }
        if (rc != 0)
            fail_msg("refused \"%s\": %s", c->spec, vstring_str(why));
        assert_int_equal(ep.type, c->type);
        assert_string_equal(ep.host, c->host);
        assert_string_equal(ep.port, c->port);
        assert_string_equal(ep.path, c->path);
        assert_int_equal(ep.bracketed, c->bracketed);
    }
    vstring_free(why);
}

static void test_endpoint_overlong(void **state)
{
    char spec[2000];
    SOCK_ENDPOINT ep;

    (void) state;
    memset(spec, 'a', sizeof(spec) - 1);
    spec[sizeof(spec) - 1] = 0;
    spec[1500] = ':';
    assert_int_equal(sock_endpoint_parse(spec, NULL, &ep, NULL), -1);
    spec[1500] = 'a';
    spec[10] = ':'; /* long port */
    assert_int_equal(sock_endpoint_parse(spec, NULL, &ep, NULL), -1);
    memcpy(spec, "unix:/", 6);
    assert_int_equal(sock_endpoint_parse(spec, NULL, &ep, NULL), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    /* a bare word with def_port is a host: too long */
    memset(spec, 'b', sizeof(spec) - 1);
    assert_int_equal(sock_endpoint_parse(spec, "25", &ep, NULL), -1);
}

static char tmpdir[256];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");

    (void) state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/sock.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[300];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_unix_roundtrip(void **state)
{
    char path[300];
    VSTRING *why = vstring_alloc(10);
    struct stat st;
    int lfd, cfd, afd;
    char buf[8];

    (void) state;
    snprintf(path, sizeof(path), "%s/public.sock", tmpdir);
    lfd = unix_listen(path, 10, 0622, why);
    assert_true(lfd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0622);
    assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
    /* nobody waiting: a non-blocking accept */
    assert_int_equal(sock_accept(lfd, NULL, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    cfd = unix_connect(path, 2, why);
    assert_true(cfd >= 0);
    assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
    afd = sock_accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    assert_false(fcntl(afd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(afd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(write(cfd, "ping", 4), 4);
    assert_int_equal(read(afd, buf, sizeof(buf)), 4);
    close(afd);
    close(cfd);
    close(lfd);
    /* a stale socket is replaced */
    lfd = unix_listen(path, 10, 0600, why);
    assert_true(lfd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    close(lfd);
    /* no listener: refused */
    assert_int_equal(unix_connect(path, 1, why), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_non_null(strstr(vstring_str(why), path));
    unlink(path);
    assert_int_equal(unix_connect(path, 1, why), -1);
    assert_int_equal(errno, ENOENT);
    vstring_free(why);
}

static void test_unix_refuses_non_socket(void **state)
{
    char path[300];
    int fd;

    (void) state;
    snprintf(path, sizeof(path), "%s/regular", tmpdir);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(unix_listen(path, 10, 0600, NULL), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(access(path, F_OK), 0); /* left alone */
    memset(path, 'x', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = 0;
    assert_int_equal(unix_listen(path, 10, 0600, NULL), -1);
    assert_int_equal(errno, ENAMETOOLONG);
}

static void test_inet_roundtrip(void **state)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *buf = vstring_alloc(10);
    SOCK_ADDR_TEXT local, peer;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    int fds[4];
    int n, cfd, afd;

    (void) state;
    n = inet_listen("127.0.0.1", "0", 10, fds, 4, why);
    assert_int_equal(n, 1);
    assert_int_equal(sock_local_text(fds[0], &local), 0);
    assert_int_equal(local.family, AF_INET);
    assert_string_equal(local.addr, "127.0.0.1");
    assert_true(atoi(local.port) > 0);
    cfd = inet_connect("127.0.0.1", local.port, 2, why);
    assert_true(cfd >= 0);
    for (int i = 0; i < 100 && (afd = sock_accept(fds[0], (struct sockaddr *) &ss, &sslen)) < 0;
         i++)
        usleep(10000);
    assert_true(afd >= 0);
    assert_int_equal(sock_addr_text((struct sockaddr *) &ss, sslen, &peer), 0);
    assert_string_equal(peer.addr, "127.0.0.1");
    assert_int_equal(sock_peer_text(cfd, &peer), 0);
    assert_string_equal(peer.port, local.port);
    sock_hostaddr_format(buf, "localhost", &peer);
    assert_string_equal(vstring_str(buf), "localhost[127.0.0.1]");
    sock_hostaddr_format(buf, NULL, &peer);
    assert_string_equal(vstring_str(buf), "unknown[127.0.0.1]");
    close(afd);
    close(cfd);
    /* the port is taken: a second listen fails with EADDRINUSE */
    assert_int_equal(inet_listen("127.0.0.1", local.port, 10, fds + 1, 3, why), -1);
    assert_int_equal(errno, EADDRINUSE);
    close(fds[0]);
    /* nothing listens now: refused, quickly */
    assert_int_equal(inet_connect("127.0.0.1", local.port, 2, why), -1);
    assert_int_equal(errno, ECONNREFUSED);
    vstring_free(why);
    vstring_free(buf);
}

static void test_inet_wildcard(void **state)
{
    VSTRING *why = vstring_alloc(10);
    SOCK_ADDR_TEXT text;
    int fds[4];
    int n;

    (void) state;
    n = inet_listen("", "0", 10, fds, 4, why);
    if (n < 0)
        fail_msg("inet_listen wildcard: %s", vstring_str(why));
    assert_true(n >= 1 && n <= 2);
    for (int i = 0; i < n; i++) {
        assert_int_equal(sock_local_text(fds[i], &text), 0);
        assert_true(strcmp(text.addr, "0.0.0.0") == 0 || strcmp(text.addr, "::") == 0);
        close(fds[i]);
    }
    /* max_fds too small for what the host resolves to */
    n = inet_listen(NULL, "0", 10, fds, 0, why);
    assert_int_equal(n, -1);
    assert_int_equal(errno, ENOBUFS);
    vstring_free(why);
}

static void test_inet_ipv6_loopback(void **state)
{
    VSTRING *why = vstring_alloc(10);
    SOCK_ADDR_TEXT text;
    int fds[2];
    int n, cfd;

    (void) state;
    n = inet_listen("::1", "0", 10, fds, 2, why);
    if (n < 0) {
        vstring_free(why);
        skip(); /* no IPv6 on this host */
    }
    assert_int_equal(sock_local_text(fds[0], &text), 0);
    assert_string_equal(text.addr, "::1");
    cfd = inet_connect("::1", text.port, 2, why);
    assert_true(cfd >= 0);
    close(cfd);
    close(fds[0]);
    vstring_free(why);
}

static void test_addr_text(void **state)
{
    struct sockaddr_in6 sin6;
    struct sockaddr_un sun;
    SOCK_ADDR_TEXT text;

    (void) state;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(25);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr), 1);
    assert_int_equal(sock_addr_text((struct sockaddr *) &sin6, sizeof(sin6), &text), 0);
    assert_int_equal(text.family, AF_INET);
    assert_string_equal(text.addr, "192.0.2.7");
    assert_string_equal(text.port, "25");
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr), 1);
    assert_int_equal(sock_addr_text((struct sockaddr *) &sin6, sizeof(sin6), &text), 0);
    assert_int_equal(text.family, AF_INET6);
    assert_string_equal(text.addr, "2001:db8::1");
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    assert_int_equal(sock_addr_text((struct sockaddr *) &sun, sizeof(sun), &text), 0);
    assert_string_equal(text.addr, "unix");
    assert_string_equal(text.port, "");
}

static void test_connect_bad_names(void **state)
{
    VSTRING *why = vstring_alloc(10);

    (void) state;
    assert_int_equal(inet_connect("no-such-host.invalid", "25", 1, why), -1);
    assert_true(vstring_len(why) > 0);
    assert_int_equal(inet_connect("127.0.0.1", "no-such-service-xyz", 1, why), -1);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_parse),
        cmocka_unit_test(test_endpoint_overlong),
        cmocka_unit_test(test_unix_roundtrip),
        cmocka_unit_test(test_unix_refuses_non_socket),
        cmocka_unit_test(test_inet_roundtrip),
        cmocka_unit_test(test_inet_wildcard),
        cmocka_unit_test(test_inet_ipv6_loopback),
        cmocka_unit_test(test_addr_text),
        cmocka_unit_test(test_connect_bad_names),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
