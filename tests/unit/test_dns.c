/*
 * test_dns - name server list syntax, MX ordering, address helpers, and
 * real lookups (MX with preferences, null MX, NXDOMAIN, NODATA, A/AAAA,
 * TXT, a refusing server) against a dnsmasq started on a loopback port.
 * The live tests are skipped when dnsmasq is not installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "argv.h"
#include "dns.h"
#include "vstring.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static pid_t dnsmasq_pid = -1;
static int dnsmasq_port;

static void test_set_servers(void **state)
{
    static const char *good[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:5353",
        "[::1]",
        "[::1]:53",
        "::1",
        "127.0.0.1:53, 127.0.0.2:54 [::1]:55",
    };
    static const char *bad[] = {
        "localhost",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:5x",
        "[::1",
        "[::1]x",
        "[]:53",
        "1.2.3.4, 1.2.3.5, 1.2.3.6, 1.2.3.7",
        "256.1.1.1",
        "127.000.0.1",
        "[127.0.0.1]:53:",
        ":53",
        "[fe80::1%lo]:53",
    };
    VSTRING *why = vstring_alloc(10);

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        vstring_reset(why);
        if (dns_set_servers(good[i], why) != 0)
            fail_msg("\"%s\" refused: %s", good[i], vstring_str(why));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vstring_reset(why);
        if (dns_set_servers(bad[i], why) == 0)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_true(vstring_len(why) > 0);
    }
    assert_int_equal(dns_set_servers(NULL, why), 0);
    vstring_free(why);
}

static DNS_MX_LIST *mx_list(const unsigned *prefs, int count)
{
    DNS_MX_LIST *list = malloc(sizeof(*list));
    char name[32];

    list->count = count;
    list->mx = malloc(sizeof(DNS_MX) * (size_t)count);
    for (int i = 0; i < count; i++) {
        snprintf(name, sizeof(name), "h%d", i);
        list->mx[i].host = strdup(name);
        list->mx[i].pref = prefs[i];
    }
    return list;
}

static void test_mx_sort(void **state)
{
    static const unsigned prefs[] = {30, 10, 20, 10, 10, 65535, 0};
    int first_seen[7] = {0};

    (void)state;
    for (int round = 0; round < 300; round++) {
        DNS_MX_LIST *list = mx_list(prefs, 7);

        dns_mx_sort(list);
        for (int i = 1; i < list->count; i++)
            assert_true(list->mx[i - 1].pref <= list->mx[i].pref);
        assert_int_equal(list->mx[0].pref, 0);
        assert_string_equal(list->mx[0].host, "h6");
        assert_int_equal(list->mx[6].pref, 65535);
        /* the three of preference 10 come in every order */
        first_seen[list->mx[1].host[1] - '0'] = 1;
        dns_mx_free(list);
    }
    assert_true(first_seen[1] && first_seen[3] && first_seen[4]);
}

static void test_addr_helpers(void **state)
{
    DNS_ADDR a;
    DNS_ADDR_LIST list;
    char text[DNS_ADDR_TEXT_MAX];
    struct sockaddr_storage ss;
    socklen_t len;

    (void)state;
    assert_int_equal(dns_addr_parse("192.0.2.1", &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_string_equal(dns_addr_text(&a, text), "192.0.2.1");
    assert_int_equal(dns_addr_sockaddr(&a, 2525, &ss, &len), 0);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 2525);
    assert_int_equal(dns_addr_parse("2001:db8::1", &a), 0);
    assert_int_equal(a.family, AF_INET6);
    assert_string_equal(dns_addr_text(&a, text), "2001:db8::1");
    assert_int_equal(dns_addr_sockaddr(&a, 25, &ss, &len), 0);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    assert_int_equal(dns_addr_parse("example.com", &a), -1);
    assert_int_equal(dns_addr_parse("1.2.3", &a), -1);
    assert_int_equal(dns_addr_parse("", &a), -1);

    dns_addr_list_init(&list);
    dns_addr_parse("192.0.2.1", &a);
    assert_int_equal(dns_addr_list_add(&list, &a), 1);
    assert_int_equal(dns_addr_list_add(&list, &a), 0);
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof(text), "10.0.0.%d", i);
        dns_addr_parse(text, &a);
        assert_int_equal(dns_addr_list_add(&list, &a), 1);
    }
    assert_int_equal(list.count, 21);
    dns_addr_list_free(&list);
    assert_int_equal(list.count, 0);
}

static void test_bad_names(void **state)
{
    static const char *names[] = {
        "",
        ".",
        "a..b",
        "with space.test",
        "ctl\001.test",
        "back\\slash.test",
        "0123456789012345678901234567890123456789012345678901234567890123.test",
    };
    DNS_MX_LIST *list;
    VSTRING *why = vstring_alloc(10);

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(dns_lookup_mx(names[i], &list, why), DNS_FAIL);
        assert_null(list);
    }
    assert_string_equal(dns_strerror(DNS_NULLMX), "NULLMX");
    vstring_free(why);
}

/* live tests: dnsmasq on a loopback port */

static int free_udp_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int port;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        return -1;
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static int start_dnsmasq(void **state)
{
    char port_arg[32];
    char pid_arg[64];
    char user_arg[64];
    struct timespec ts = {0, 100 * 1000 * 1000};

    (void)state;
    if (access(DNSMASQ, X_OK) != 0)
        return 0;
    dnsmasq_port = free_udp_port();
    snprintf(port_arg, sizeof(port_arg), "--port=%d", dnsmasq_port);
    snprintf(pid_arg, sizeof(pid_arg), "--pid-file=/tmp/test_dns.%ld.pid", (long)getpid());
    snprintf(user_arg, sizeof(user_arg), "--user=%s", getuid() == 0 ? "root" : "");
    if ((dnsmasq_pid = fork()) == 0) {
        const char *args[] = {
            DNSMASQ,
            "--keep-in-foreground",
            port_arg,
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            pid_arg,
            user_arg,
            "--local=/test/",
            "--mx-host=example.test,mx1.example.test,10",
            "--mx-host=example.test,mx2.example.test,20",
            "--mx-host=equal.test,e1.example.test,5",
            "--mx-host=equal.test,e2.example.test,5",
            "--mx-host=equal.test,e3.example.test,5",
            "--host-record=mx1.example.test,127.0.0.2",
            "--host-record=mx2.example.test,127.0.0.3,::1",
            "--host-record=v6only.example.test,::1",
            "--dns-rr=nullmx.test,15,000000",
            "--txt-record=example.test,v=spf1 ip4:127.0.0.0/8 -all",
            "--txt-record=split.test,part one ,part two",
            NULL,
        };
        int devnull = open("/dev/null", O_RDWR);

        if (getuid() != 0)
            args[9] = "--log-facility=-"; /* no --user= for non-root */
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(DNSMASQ, (char **)args);
        _exit(127);
    }
    if (dnsmasq_pid < 0)
        return -1;
    /* wait until it answers */
    for (int i = 0; i < 50; i++) {
        DNS_MX_LIST *list = NULL;
        char spec[64];

        snprintf(spec, sizeof(spec), "127.0.0.1:%d", dnsmasq_port);
        dns_set_servers(spec, NULL);
        if (dns_lookup_mx("example.test", &list, NULL) == DNS_OK) {
            dns_mx_free(list);
            return 0;
        }
        nanosleep(&ts, NULL);
    }
    kill(dnsmasq_pid, SIGTERM);
    waitpid(dnsmasq_pid, NULL, 0);
    dnsmasq_pid = -1;
    return 0;
}

static int stop_dnsmasq(void **state)
{
    char path[64];

    (void)state;
    if (dnsmasq_pid > 0) {
        kill(dnsmasq_pid, SIGTERM);
        waitpid(dnsmasq_pid, NULL, 0);
    }
    snprintf(path, sizeof(path), "/tmp/test_dns.%ld.pid", (long)getpid());
    unlink(path);
    return 0;
}

#define NEED_DNSMASQ()                                                                             \
    do {                                                                                           \
        if (dnsmasq_pid <= 0)                                                                      \
            skip();                                                                                \
    } while (0)

static void use_dnsmasq(void)
{
    char spec[64];

    snprintf(spec, sizeof(spec), "127.0.0.1:%d", dnsmasq_port);
    assert_int_equal(dns_set_servers(spec, NULL), 0);
}

static void test_live_mx(void **state)
{
    DNS_MX_LIST *list = NULL;
    VSTRING *why = vstring_alloc(10);
    int seen[3] = {0};

    (void)state;
    NEED_DNSMASQ();
    use_dnsmasq();
    assert_int_equal(dns_lookup_mx("example.test", &list, why), DNS_OK);
    assert_int_equal(list->count, 2);
    assert_string_equal(list->mx[0].host, "mx1.example.test");
    assert_int_equal(list->mx[0].pref, 10);
    assert_string_equal(list->mx[1].host, "mx2.example.test");
    assert_int_equal(list->mx[1].pref, 20);
    dns_mx_free(list);
    /* a trailing dot is the same name */
    assert_int_equal(dns_lookup_mx("example.test.", &list, why), DNS_OK);
    dns_mx_free(list);

    for (int i = 0; i < 60; i++) {
        assert_int_equal(dns_lookup_mx("equal.test", &list, why), DNS_OK);
        assert_int_equal(list->count, 3);
        seen[list->mx[0].host[1] - '1'] = 1;
        dns_mx_free(list);
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    vstring_free(why);
}

static void test_live_not_found(void **state)
{
    DNS_MX_LIST *list = NULL;
    VSTRING *why = vstring_alloc(10);

    (void)state;
    NEED_DNSMASQ();
    use_dnsmasq();
    assert_int_equal(dns_lookup_mx("nullmx.test", &list, why), DNS_NULLMX);
    assert_null(list);
    assert_non_null(strstr(vstring_str(why), "nullMX"));

    assert_int_equal(dns_lookup_mx("nosuch.test", &list, why), DNS_NOTFOUND);
    assert_string_equal(vstring_str(why),
                        "Name service error for name=nosuch.test type=MX: Host not found");
    /* NODATA: the name exists, without MX */
    assert_int_equal(dns_lookup_mx("mx1.example.test", &list, why), DNS_NOTFOUND);
    assert_non_null(strstr(vstring_str(why), "type=MX: No address associated with hostname"));
    /* a server failure is temporary */
    assert_int_equal(dns_lookup_mx("x.broken.invalid", &list, why), DNS_TEMP);
    assert_non_null(strstr(vstring_str(why), "try again"));
    vstring_free(why);
}

static void test_live_addr(void **state)
{
    DNS_ADDR_LIST list;
    VSTRING *why = vstring_alloc(10);
    char text[DNS_ADDR_TEXT_MAX];

    (void)state;
    NEED_DNSMASQ();
    use_dnsmasq();
    dns_addr_list_init(&list);
    assert_int_equal(dns_lookup_addr("mx2.example.test", DNS_WANT_ALL, &list, why), DNS_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(dns_addr_text(&list.addrs[0], text), "127.0.0.3");
    assert_string_equal(dns_addr_text(&list.addrs[1], text), "::1");
    /* again: no duplicates */
    assert_int_equal(dns_lookup_addr("mx2.example.test", DNS_WANT_A, &list, why), DNS_OK);
    assert_int_equal(list.count, 2);
    dns_addr_list_free(&list);

    assert_int_equal(dns_lookup_addr("mx1.example.test", DNS_WANT_AAAA, &list, why), DNS_NOTFOUND);
    assert_int_equal(list.count, 0);
    assert_int_equal(dns_lookup_addr("v6only.example.test", DNS_WANT_ALL, &list, why), DNS_OK);
    assert_int_equal(list.count, 1);
    assert_int_equal(list.addrs[0].family, AF_INET6);
    dns_addr_list_free(&list);
    assert_int_equal(dns_lookup_addr("v6only.example.test", DNS_WANT_A, &list, why), DNS_NOTFOUND);
    assert_int_equal(dns_lookup_addr("nosuch.test", DNS_WANT_ALL, &list, why), DNS_NOTFOUND);
    assert_non_null(strstr(vstring_str(why), "Host not found"));
    assert_int_equal(dns_lookup_addr("a.broken.invalid", DNS_WANT_ALL, &list, why), DNS_TEMP);
    assert_int_equal(list.count, 0);
    dns_addr_list_free(&list);
    vstring_free(why);
}

static void test_live_txt(void **state)
{
    ARGV *out = argv_alloc(1);
    VSTRING *why = vstring_alloc(10);

    (void)state;
    NEED_DNSMASQ();
    use_dnsmasq();
    assert_int_equal(dns_lookup_txt("example.test", out, why), DNS_OK);
    assert_int_equal(out->argc, 1);
    assert_string_equal(out->argv[0], "v=spf1 ip4:127.0.0.0/8 -all");
    argv_truncate(out, 0);
    assert_int_equal(dns_lookup_txt("split.test", out, why), DNS_OK);
    assert_string_equal(out->argv[0], "part one part two");
    argv_truncate(out, 0);
    assert_int_equal(dns_lookup_txt("mx1.example.test", out, why), DNS_NOTFOUND);
    assert_int_equal(out->argc, 0);
    argv_free(out);
    vstring_free(why);
}

static void test_live_wrong_server(void **state)
{
    DNS_MX_LIST *list = NULL;
    VSTRING *why = vstring_alloc(10);
    char spec[64];

    (void)state;
    NEED_DNSMASQ();
    /* the first server is silent (nothing listens): the second one answers */
    snprintf(spec, sizeof(spec), "127.0.0.1:%d, 127.0.0.1:%d", free_udp_port(), dnsmasq_port);
    assert_int_equal(dns_set_servers(spec, why), 0);
    assert_int_equal(dns_lookup_mx("example.test", &list, why), DNS_OK);
    dns_mx_free(list);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_servers),       cmocka_unit_test(test_mx_sort),
        cmocka_unit_test(test_addr_helpers),      cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_live_mx),           cmocka_unit_test(test_live_not_found),
        cmocka_unit_test(test_live_addr),         cmocka_unit_test(test_live_txt),
        cmocka_unit_test(test_live_wrong_server),
    };

    return cmocka_run_group_tests(tests, start_dnsmasq, stop_dnsmasq);
}
