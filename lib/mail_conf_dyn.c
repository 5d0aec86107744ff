/*
 * NAME
 *	mail_conf_dyn - defaults that depend on the machine
 * SYNOPSIS
 *	#include "mail_conf.h"
 *
 *	const char *mail_conf_dyn_hostname(void)
 *	char *mail_conf_dyn_mynetworks(const char *style, const char *protocols)
 * DESCRIPTION
 *	mail_conf_dyn_hostname() returns this machine's name from
 *	gethostname(2), computed once. As in Postfix, the resolver is not
 *	asked: a lookup could hang a program start on a host without DNS,
 *	and callers complete a name without a dot themselves. Bytes other
 *	than letters, digits, "-", "." and "_" are not trusted and make the
 *	result "localhost", as does a failing gethostname().
 *
 *	mail_conf_dyn_mynetworks() computes the default of mynetworks as a
 *	space-separated list the caller frees. The loopback networks always
 *	come first (127.0.0.0/8, and [::ffff:127.0.0.0]/104 and [::1]/128
 *	when IPv6 is enabled). With style "host" each interface address
 *	follows as /32 or /128; with "subnet" (or the obsolete "class") the
 *	network of each interface with its mask length. IPv6 link-local
 *	addresses are left out. protocols is inet_protocols: "all", or a
 *	list of "ipv4" and "ipv6".
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mymalloc.h"
#include "vstring.h"

static int dyn_hostname_ok(const char *name)
{
    if (*name == 0 || strlen(name) > 253)
        return 0;
    for (const char *cp = name; *cp; cp++)
        if (!(*cp == '-' || *cp == '.' || *cp == '_' || (*cp >= '0' && *cp <= '9') ||
              (*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')))
            return 0;
    return 1;
}

const char *mail_conf_dyn_hostname(void)
{
    static char *hostname;
    char buf[256];

    if (hostname)
        return hostname;
    if (gethostname(buf, sizeof(buf)) < 0)
        buf[0] = 0;
    buf[sizeof(buf) - 1] = 0;
    if (!dyn_hostname_ok(buf)) {
        hostname = mystrdup("localhost");
        return hostname;
    }
    hostname = mystrdup(buf);
    return hostname;
}

/* dyn_add - add "net/len" (IPv6 in brackets) unless already listed */
static void dyn_add(ARGV *list, int family, const void *addr, int len)
{
    char text[INET6_ADDRSTRLEN];
    char entry[INET6_ADDRSTRLEN + 16];

    if (inet_ntop(family, addr, text, sizeof(text)) == NULL)
        return;
    if (family == AF_INET6)
        snprintf(entry, sizeof(entry), "[%s]/%d", text, len);
    else
        snprintf(entry, sizeof(entry), "%s/%d", text, len);
    for (int i = 0; i < list->argc; i++)
        if (strcmp(list->argv[i], entry) == 0)
            return;
    argv_add(list, entry);
}

/* dyn_mask - apply a mask to an address of n bytes; return the mask length */
static int dyn_mask(unsigned char *addr, const unsigned char *mask, int n)
{
    int bits = 0;

    for (int i = 0; i < n; i++) {
        addr[i] &= mask[i];
        for (int b = 7; b >= 0; b--)
            if (mask[i] & (1 << b))
                bits++;
    }
    return bits;
}

char *mail_conf_dyn_mynetworks(const char *style, const char *protocols)
{
    ARGV *list = argv_alloc(8);
    ARGV *protos = argv_split(protocols, ARGV_DELIM_LIST);
    int want4 = 0, want6 = 0;
    int subnet = strcmp(style, "host") != 0;
    struct ifaddrs *ifa_list, *ifa;
    struct in_addr lo4;
    struct in6_addr lo6;
    VSTRING *out;

    for (int i = 0; i < protos->argc; i++) {
        if (strcmp(protos->argv[i], "all") == 0)
            want4 = want6 = 1;
        else if (strcmp(protos->argv[i], "ipv4") == 0)
            want4 = 1;
        else if (strcmp(protos->argv[i], "ipv6") == 0)
            want6 = 1;
    }
    argv_free(protos);
    if (!want4 && !want6)
        want4 = 1;
    if (want4) {
        inet_pton(AF_INET, "127.0.0.0", &lo4);
        dyn_add(list, AF_INET, &lo4, 8);
    }
    if (want6) {
        inet_pton(AF_INET6, "::ffff:127.0.0.0", &lo6);
        dyn_add(list, AF_INET6, &lo6, 104);
        inet_pton(AF_INET6, "::1", &lo6);
        dyn_add(list, AF_INET6, &lo6, 128);
    }
    if (getifaddrs(&ifa_list) == 0) {
        for (ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
            if (ifa->ifa_addr == NULL)
                continue;
            if (ifa->ifa_addr->sa_family == AF_INET && want4) {
                struct in_addr a = ((struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
                int len = 32;

                if ((ntohl(a.s_addr) >> 24) == 127)
                    continue;
                if (subnet && ifa->ifa_netmask)
                    len = dyn_mask(
                        (unsigned char *)&a,
                        (unsigned char *)&((struct sockaddr_in *)ifa->ifa_netmask)->sin_addr, 4);
                dyn_add(list, AF_INET, &a, len);
            } else if (ifa->ifa_addr->sa_family == AF_INET6 && want6) {
                struct in6_addr a = ((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
                int len = 128;

                if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_LINKLOCAL(&a))
                    continue;
                if (subnet && ifa->ifa_netmask)
                    len = dyn_mask(
                        (unsigned char *)&a,
                        (unsigned char *)&((struct sockaddr_in6 *)ifa->ifa_netmask)->sin6_addr, 16);
                dyn_add(list, AF_INET6, &a, len);
            }
        }
        freeifaddrs(ifa_list);
    }
    out = vstring_alloc(100);
    for (int i = 0; i < list->argc; i++) {
        if (i > 0)
            vstring_addch(out, ' ');
        vstring_strcat(out, list->argv[i]);
    }
    argv_free(list);
    return vstring_export(out);
}
