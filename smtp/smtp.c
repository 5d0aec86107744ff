/*
 * NAME
 *	smtp - postern SMTP and LMTP client
 * SYNOPSIS
 *	smtp [generic daemon options]
 *	lmtp [generic daemon options]
 * DESCRIPTION
 *	smtp(8) takes delivery requests from qmgr(8) (lib/deliver_proto.h)
 *	and delivers each message to the servers of its next hop: the MX
 *	hosts of a domain (lib/dns.c), a [host]:port, a relayhost. Each
 *	recipient gets exactly one outcome, logged and made durable by
 *	lib/deliver_status.c: sent after the server's final 2xx, bounced
 *	after a 5xx (with the server's reply as the reason), deferred
 *	after a temporary failure that no other server could make good.
 *
 *	The same program is the LMTP client (RFC 2033) when it runs under
 *	the name "lmtp" (the file name of the program that master(8)
 *	starts: conf/master.cf has "lmtp unix - - y - - lmtp", and the
 *	build makes libexec/lmtp a link to smtp). LMTP mode reads the
 *	lmtp_* parameters, sends LHLO, connects to unix:/path or
 *	inet:host:port next hops without MX lookups, and takes one reply
 *	per recipient after the content.
 *
 *	The modules: smtp_connect.c (next hops, servers, the walk),
 *	smtp_session.c (connections and the connection cache),
 *	smtp_proto.c (the conversation), smtp_trouble.c (outcomes),
 *	smtp_tls.c (TLS policy, STARTTLS, certificate checks),
 *	smtp_sasl.c (AUTH). Trusted CAs, policy and password tables and
 *	the SASL library's plugins are read at start-up, before the
 *	chroot and the privilege drop; a process that sees a table
 *	change exits between requests ("table ... has changed --
 *	restarting"), so that its successor reads the new content.
 *	man/man8/smtp.8 is the user's manual.
 * DIAGNOSTICS
 *	A malformed request is logged and answered with "try again later"
 *	(lib/deliver_request.c). Delivery problems go to the log in the
 *	status lines.
 * SEE ALSO
 *	qmgr(8), lib/deliver_proto.h, RFC 5321, RFC 2033, RFC 2920,
 *	RFC 3207, RFC 4954, RFC 7672
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deliver_request.h"
#include "dict.h"
#include "dns.h"
#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"

SMTP_PARAMS smtp_params;

/* smtp_families - inet_protocols as DNS_WANT_* bits */

static int smtp_families(const char *protocols)
{
    ARGV *list = argv_split(protocols, ARGV_DELIM_LIST);
    int bits = 0;

    for (int i = 0; i < list->argc; i++) {
        if (strcasecmp(list->argv[i], "all") == 0)
            bits |= DNS_WANT_ALL;
        else if (strcasecmp(list->argv[i], "ipv4") == 0)
            bits |= DNS_WANT_A;
        else if (strcasecmp(list->argv[i], "ipv6") == 0)
            bits |= DNS_WANT_AAAA;
        else
            msg_warn("inet_protocols: unknown protocol \"%s\" ignored", list->argv[i]);
    }
    argv_free(list);
    if (bits == 0) {
        msg_warn("inet_protocols: no protocol enabled; using ipv4");
        bits = DNS_WANT_A;
    }
    return bits;
}

/* smtp_pre_init - settings of the mode, before chroot (resolv.conf, services) */

static void smtp_pre_init(const char *service, char **args)
{
    SMTP_PARAMS *p = &smtp_params;
    unsigned port;

    (void)service;
    (void)args;
    if (p->lmtp) {
        p->proto = "LMTP";
        p->hello_cmd = "LHLO";
        p->connect_timeout = var_lmtp_connect_timeout;
        p->helo_timeout = var_lmtp_lhlo_timeout;
        p->mail_timeout = var_lmtp_mail_timeout;
        p->rcpt_timeout = var_lmtp_rcpt_timeout;
        p->data_init_timeout = var_lmtp_data_init_timeout;
        p->data_xfer_timeout = var_lmtp_data_xfer_timeout;
        p->data_done_timeout = var_lmtp_data_done_timeout;
        p->rset_timeout = var_lmtp_rset_timeout;
        p->quit_timeout = var_lmtp_quit_timeout;
        p->helo_name = var_lmtp_lhlo_name;
        p->bind_address = var_lmtp_bind_address;
        p->bind_address6 = var_lmtp_bind_address6;
        p->tcp_port = var_lmtp_tcp_port;
        p->host_lookup = var_lmtp_host_lookup;
        p->discard_keywords = argv_split(var_lmtp_discard_lhlo_keywords, ARGV_DELIM_LIST);
        p->cache_on_demand = var_lmtp_connection_cache_on_demand;
        p->cache_time_limit = var_lmtp_connection_cache_time_limit;
        p->reuse_count_limit = var_lmtp_connection_reuse_count_limit;
        p->reuse_time_limit = var_lmtp_connection_reuse_time_limit;
        p->quote_821 = var_lmtp_quote_rfc821_envelope;
        p->line_length_limit = var_lmtp_line_length_limit;
        p->never_ehlo = 0;
        p->skip_5xx_greeting = 0;
        p->mx_address_limit = 0;
        p->mx_session_limit = 0;
        p->fallback_relay = "";
    } else {
        p->proto = "SMTP";
        p->hello_cmd = "EHLO";
        p->connect_timeout = var_smtp_connect_timeout;
        p->helo_timeout = var_smtp_helo_timeout;
        p->mail_timeout = var_smtp_mail_timeout;
        p->rcpt_timeout = var_smtp_rcpt_timeout;
        p->data_init_timeout = var_smtp_data_init_timeout;
        p->data_xfer_timeout = var_smtp_data_xfer_timeout;
        p->data_done_timeout = var_smtp_data_done_timeout;
        p->rset_timeout = var_smtp_rset_timeout;
        p->quit_timeout = var_smtp_quit_timeout;
        p->helo_name = var_smtp_helo_name;
        p->bind_address = var_smtp_bind_address;
        p->bind_address6 = var_smtp_bind_address6;
        p->tcp_port = var_smtp_tcp_port;
        p->host_lookup = var_smtp_host_lookup;
        p->discard_keywords = argv_split(var_smtp_discard_ehlo_keywords, ARGV_DELIM_LIST);
        p->cache_on_demand = var_smtp_connection_cache_on_demand;
        p->cache_time_limit = var_smtp_connection_cache_time_limit;
        p->reuse_count_limit = var_smtp_connection_reuse_count_limit;
        p->reuse_time_limit = var_smtp_connection_reuse_time_limit;
        p->quote_821 = var_smtp_quote_rfc821_envelope;
        p->line_length_limit = var_smtp_line_length_limit;
        p->never_ehlo = var_smtp_never_send_ehlo;
        p->skip_5xx_greeting = var_smtp_skip_5xx_greeting;
        p->mx_address_limit = var_smtp_mx_address_limit;
        p->mx_session_limit = var_smtp_mx_session_limit;
        p->fallback_relay = var_smtp_fallback_relay;
    }
    p->want_families = smtp_families(var_inet_protocols);
    if (smtp_port_number(p->tcp_port, &port) < 0)
        msg_warn("%s_tcp_port: unknown port \"%s\"; deliveries without a port will be deferred",
                 p->lmtp ? "lmtp" : "smtp", p->tcp_port);
    dns_init();
    if (!p->lmtp)
        smtp_local_init();
    smtp_tls_init();
    smtp_sasl_init();
}

/*
 * The password and TLS policy tables are read once, before the chroot. A
 * process that sees one of them replaced or changed exits between
 * requests, so that its successor reads the new one; when a table
 * cannot be watched from here (chroot), a change needs postern reload.
 */
static int smtp_watch_tables = 1;

static void smtp_post_init(const char *service, char **args)
{
    const char *name;

    (void)service;
    (void)args;
    if ((name = dict_changed_name()) != NULL) {
        msg_warn("cannot watch table %s for changes: run \"postern reload\" after changing it",
                 name);
        smtp_watch_tables = 0;
    }
}

/* smtp_pre_accept - between requests: restart when a table changed */

static void smtp_pre_accept(const char *service, char **args)
{
    const char *name;

    (void)service;
    (void)args;
    if (smtp_watch_tables && mail_server_use_count() > 0 && (name = dict_changed_name()) != NULL) {
        msg_info("table %s has changed -- restarting", name);
        smtp_cache_close();
        exit(0);
    }
}

/* smtp_on_exit - close the cached connection politely */

static void smtp_on_exit(const char *service, char **args)
{
    (void)service;
    (void)args;
    smtp_cache_close();
}

/* smtp_service - one delivery request */

static void smtp_service(VSTREAM *stream, const char *service, char **args)
{
    DELIVER_REQUEST *req;
    SMTP_STATE state;
    int count;

    (void)service;
    (void)args;
    if ((req = deliver_request_read(stream)) == NULL)
        return;
    memset(&state, 0, sizeof(state));
    state.req = req;
    state.content_8bit = -1;
    state.reply = smtp_reply_alloc();
    state.buf = vstring_alloc(1024);
    state.why = vstring_alloc(256);
    state.rcpt = mycalloc((size_t)req->rcpt_count + 1, sizeof(SMTP_RCPT_STATE));
    for (int i = 0; i < req->rcpt_count; i++) {
        state.rcpt[i].why = vstring_alloc(100);
        state.rcpt[i].relay = vstring_alloc(50);
    }

    smtp_deliver(&state);
    count = req->rcpt_count;
    (void)deliver_request_done(req, DEL_STAT_OK);

    for (int i = 0; i < count; i++) {
        vstring_free(state.rcpt[i].why);
        vstring_free(state.rcpt[i].relay);
    }
    myfree(state.rcpt);
    smtp_reply_free(state.reply);
    vstring_free(state.buf);
    vstring_free(state.why);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = smtp_pre_init,
        .post_init = smtp_post_init,
        .pre_accept = smtp_pre_accept,
        .on_exit = smtp_on_exit,
    };
    const char *name = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;

    name = name ? name + 1 : argc > 0 && argv[0] ? argv[0] : "smtp";
    smtp_params.lmtp = strcmp(name, "lmtp") == 0;
    single_server_main(argc, argv, smtp_service, &opts);
}
