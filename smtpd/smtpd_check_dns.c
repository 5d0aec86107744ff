/*
 * NAME
 *	smtpd_check_dns - SMTP server restrictions that ask the DNS
 * SYNOPSIS
 *	#include "smtpd_check_impl.h"
 *
 *	void check_client_names(SMTPD_STATE *state)
 *	int check_unknown_client(CHECK *ck, int reverse)
 *	int check_unknown_helo(CHECK *ck)
 *	int check_unknown_domain(CHECK *ck, const char *addr, int is_sender)
 *	int check_dns_parse(RESTR *r, int kind, VSTRING *why)
 *	int check_dns_list(CHECK *ck, RESTR *r)
 *	void check_dns_free(RESTR *r)
 *	void check_dns_session_free(CHECK_SESSION *sess)
 * DESCRIPTION
 *	check_client_names() finds, once per session, the client's
 *	verified (forward-confirmed) host name and its reverse (PTR) name,
 *	with their lookup status. A name that smtpd_peer has verified is
 *	taken as it is; without $smtpd_peername_lookup both are unknown
 *	(a permanent condition); otherwise lib/dns_ptr.h asks the DNS (the
 *	servers of smtp_dns_servers).
 *
 *	check_unknown_client() is reject_unknown_client_hostname (reverse
 *	0: no forward-confirmed name) and
 *	reject_unknown_reverse_client_hostname (reverse 1: no PTR record).
 *	The reply code is $unknown_client_reject_code, or 450 when the
 *	lookup failed temporarily: "450 4.7.25 Client host rejected:
 *	cannot find your hostname, [192.0.2.1]".
 *
 *	check_unknown_helo() is reject_unknown_helo_hostname: the HELO name
 *	(not an address literal) must have an A, AAAA or MX record, else
 *	"$unknown_hostname_reject_code 4.7.1 <name>: Helo command rejected:
 *	Host not found". check_unknown_domain() is
 *	reject_unknown_sender_domain and reject_unknown_recipient_domain:
 *	the domain of addr must have an MX record or else an A or AAAA
 *	record ("$unknown_address_reject_code 4.1.8 <addr>: Sender address
 *	rejected: Domain not found"; 4.1.2 for a recipient); a null MX
 *	(RFC 7505) is refused with 550 5.7.27 (sender) or 556 5.1.10
 *	(recipient); addresses in our own domains (local, virtual, relay)
 *	and address literals are not checked. A temporary DNS failure is
 *	handled per $unknown_helo_hostname_tempfail_action or
 *	$unknown_address_tempfail_action (450 4.4.3 ...).
 *
 *	check_dns_parse() prepares reject_rbl_client, reject_rhsbl_client,
 *	reject_rhsbl_reverse_client, reject_rhsbl_helo, reject_rhsbl_sender,
 *	reject_rhsbl_recipient, permit_dnswl_client and permit_rhswl_client
 *	(kind CHECK_RBL_* and friends) from "zone" or "zone=filter"
 *	(lib/dns_rbl.h). check_dns_list() evaluates one: the client
 *	address reversed (or the host name, HELO name, sender or recipient
 *	domain) under the zone, an A query, a TXT query for the reason.
 *	A block list that lists the request refuses it with the reply of
 *	rbl_reply_maps for the zone, or default_rbl_reply, expanded; a
 *	temporary DNS failure defers the request if it would otherwise be
 *	accepted (defer_if_permit, 450 4.4.3). An allow list that lists the
 *	client permits (but never a recipient that reject_unauth_destination
 *	would refuse); its failures are ignored, as they can only withhold
 *	a permit.
 *
 *	DNS answers are remembered for the session (sess->dns_cache), so
 *	that the lists of every RCPT do not ask again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_ptr.h"
#include "dns_rbl.h"
#include "htable.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd_check_impl.h"
#include "valid_hostname.h"

typedef struct CHECK_DNS_LIST {
    int kind; /* CHECK_RBL_* ... */
    char *zone;
    char *filter; /* "" for any answer */
} CHECK_DNS_LIST;

static MAPS *check_rbl_reply_maps;
static int check_rbl_reply_ready;

/* ---- the session cache ---- */

static const char *check_dns_cache_find(CHECK_SESSION *sess, const char *key)
{
    return sess->dns_cache ? htable_find(sess->dns_cache, key) : NULL;
}

static void check_dns_cache_add(CHECK_SESSION *sess, const char *key, const char *value)
{
    if (sess->dns_cache == NULL)
        sess->dns_cache = htable_create(20);
    if (sess->dns_cache->used > 1000) /* bounded, whatever the client sends */
        return;
    htable_delete(sess->dns_cache, key, myfree);
    htable_enter(sess->dns_cache, key, mystrdup(value));
}

void check_dns_session_free(CHECK_SESSION *sess)
{
    if (sess->dns_cache)
        htable_free(sess->dns_cache, myfree);
    if (sess->name)
        myfree(sess->name);
    if (sess->reverse_name)
        myfree(sess->reverse_name);
    sess->dns_cache = NULL;
    sess->name = sess->reverse_name = NULL;
}

/* ---- client names ---- */

void check_client_names(SMTPD_STATE *state)
{
    CHECK_SESSION *sess = check_session(state);
    VSTRING *name;
    VSTRING *reverse;

    if (sess->names_done)
        return;
    sess->names_done = 1;
    if (strcmp(state->name, "unknown") != 0) {
        sess->name = mystrdup(state->name);
        sess->reverse_name = mystrdup(state->name);
        sess->name_status = sess->reverse_status = DNS_OK;
        return;
    }
    if (!var_smtpd_peername_lookup || !valid_hostaddr(state->addr, 0)) {
        sess->name = mystrdup("unknown");
        sess->reverse_name = mystrdup("unknown");
        sess->name_status = sess->reverse_status = DNS_NOTFOUND;
        return;
    }
    name = vstring_alloc(100);
    reverse = vstring_alloc(100);
    sess->name_status = dns_ptr_verify(state->addr, &sess->reverse_status, reverse, name, NULL);
    if (sess->reverse_status == DNS_FAIL)
        sess->reverse_status = DNS_NOTFOUND;
    sess->name = mystrdup(sess->name_status == DNS_OK ? vstring_str(name) : "unknown");
    sess->reverse_name =
        mystrdup(sess->reverse_status == DNS_OK ? vstring_str(reverse) : "unknown");
    if (msg_verbose)
        msg_info("client %s: name %s (%s), reverse name %s (%s)", state->addr, sess->name,
                 dns_strerror(sess->name_status), sess->reverse_name,
                 dns_strerror(sess->reverse_status));
    vstring_free(name);
    vstring_free(reverse);
}

int check_unknown_client(CHECK *ck, int reverse)
{
    SMTPD_STATE *state = ck->state;
    CHECK_SESSION *sess = check_session(state);
    int status;

    check_client_names(state);
    status = reverse ? sess->reverse_status : sess->name_status;
    if (status == DNS_OK)
        return CHECK_DUNNO;
    return check_reject(ck, status == DNS_TEMP ? 450 : (int)var_unknown_client_reject_code,
                        "4.7.25", "Client host rejected: cannot find your %shostname, [%s]",
                        reverse ? "reverse " : "", state->addr);
}

/* ---- names and domains ---- */

/*
 * check_host_lookup - DNS_OK when name has an address or MX record,
 * DNS_NULLMX (domains only), DNS_NOTFOUND, DNS_TEMP. mx_first: ask for
 * the MX first (mail domains), else the addresses first (host names).
 */
static int check_host_lookup(CHECK_SESSION *sess, const char *name, int mx_first)
{
    VSTRING *key = vstring_alloc(100);
    const char *cached;
    int status;
    int temp = 0;

    vstring_sprintf(key, "%s:%s", mx_first ? "domain" : "host", name);
    if ((cached = check_dns_cache_find(sess, vstring_str(key))) != NULL) {
        vstring_free(key);
        return atoi(cached);
    }
    status = DNS_NOTFOUND;
    for (int round = 0; round < 2 && status != DNS_OK && status != DNS_NULLMX; round++) {
        int got;

        if ((round == 0) == (mx_first != 0)) {
            DNS_MX_LIST *mx = NULL;

            got = dns_lookup_mx(name, &mx, NULL);
            if (got == DNS_OK)
                dns_mx_free(mx);
            if (got == DNS_NULLMX && !mx_first)
                got = DNS_OK; /* a HELO name with a null MX exists */
        } else {
            DNS_ADDR_LIST list;

            dns_addr_list_init(&list);
            got = dns_lookup_addr(name, DNS_WANT_ALL, &list, NULL);
            dns_addr_list_free(&list);
        }
        if (got == DNS_TEMP)
            temp = 1;
        else if (got == DNS_OK || got == DNS_NULLMX)
            status = got;
        if (got == DNS_NULLMX)
            break;
    }
    if (status == DNS_NOTFOUND && temp)
        status = DNS_TEMP;
    if (status != DNS_TEMP) {
        char value[16];

        snprintf(value, sizeof(value), "%d", status);
        check_dns_cache_add(sess, vstring_str(key), value);
    }
    vstring_free(key);
    return status;
}

int check_unknown_helo(CHECK *ck)
{
    const char *helo = ck->state->helo_name;
    int status;

    if (helo == NULL || *helo == '[')
        return CHECK_DUNNO;
    status = check_host_lookup(check_session(ck->state), helo, 0);
    if (status == DNS_OK)
        return CHECK_DUNNO;
    if (status == DNS_TEMP)
        return check_tempfail(ck, var_unknown_helo_hostname_tempfail_action,
                              "unknown_helo_hostname_tempfail_action",
                              "<%s>: Helo command rejected: Host not found", helo);
    return check_reject(ck, (int)var_unknown_hostname_reject_code, "4.7.1",
                        "<%s>: Helo command rejected: Host not found", helo);
}

int check_unknown_domain(CHECK *ck, const char *addr, int is_sender)
{
    const char *at = strrchr(addr, '@');
    const char *class = is_sender ? "Sender" : "Recipient";
    VSTRING *qbuf;
    const char *domain;
    int status;

    if (at == NULL || at[1] == 0 || at[1] == '[')
        return CHECK_DUNNO;
    domain = at + 1;
    qbuf = vstring_alloc(100);
    switch (check_domain_class(ck->state, domain)) {
    case CHECK_DOMAIN_ERROR:
        status = check_lookup_failure(ck, check_quote(addr, qbuf));
        vstring_free(qbuf);
        return status;
    case CHECK_DOMAIN_OURS:
        vstring_free(qbuf);
        return CHECK_DUNNO;
    }
    switch (check_host_lookup(check_session(ck->state), domain, 1)) {
    case DNS_OK:
        status = CHECK_DUNNO;
        break;
    case DNS_NULLMX:
        status = check_reject(ck, is_sender ? 550 : 556, is_sender ? "5.7.27" : "5.1.10",
                              "<%s>: %s address rejected: Domain %s does not accept mail "
                              "(nullMX)",
                              check_quote(addr, qbuf), class, domain);
        break;
    case DNS_TEMP:
        status = check_tempfail(
            ck, var_unknown_address_tempfail_action, "unknown_address_tempfail_action",
            "<%s>: %s address rejected: Domain not found", check_quote(addr, qbuf), class);
        break;
    default:
        status = check_reject(
            ck, (int)var_unknown_address_reject_code, is_sender ? "4.1.8" : "4.1.2",
            "<%s>: %s address rejected: Domain not found", check_quote(addr, qbuf), class);
        break;
    }
    vstring_free(qbuf);
    return status;
}

/* ---- DNS block and allow lists ---- */

int check_dns_parse(RESTR *r, int kind, VSTRING *why)
{
    VSTRING *zone = vstring_alloc(100);
    VSTRING *filter = vstring_alloc(100);
    CHECK_DNS_LIST *list;

    if (dns_rbl_split(r->arg, zone, filter) < 0 ||
        !valid_hostname_flags(vstring_str(zone), VALID_HOSTNAME_UNDERSCORE, 0)) {
        vstring_sprintf(why, "%s: bad DNS list \"%s\": expected zone or zone=d.d.d.d", r->name,
                        r->arg);
        vstring_free(zone);
        vstring_free(filter);
        return -1;
    }
    list = mymalloc(sizeof(*list));
    list->kind = kind;
    list->zone = vstring_export(zone);
    list->filter = vstring_export(filter);
    r->data = list;
    if (!check_rbl_reply_ready) {
        check_rbl_reply_ready = 1;
        if (*var_rbl_reply_maps)
            check_rbl_reply_maps =
                maps_create("rbl_reply_maps", var_rbl_reply_maps, DICT_FLAG_DEFAULT);
    }
    return 0;
}

void check_dns_free(RESTR *r)
{
    CHECK_DNS_LIST *list = r->data;

    if (list == NULL)
        return;
    myfree(list->zone);
    myfree(list->filter);
    myfree(list);
    r->data = NULL;
}

/* what the reply template may say */
typedef struct RBL_REPLY {
    CHECK *ck;
    const char *code;
    const char *class;
    const char *what;
    const char *zone;
    const char *txt;
    VSTRING *buf;
} RBL_REPLY;

/* check_rbl_part - local part (0) or domain (1) of an address */

static const char *check_rbl_part(VSTRING *buf, const char *addr, int domain)
{
    const char *at;

    if (addr == NULL)
        return NULL;
    at = strrchr(addr, '@');
    if (domain)
        return at ? at + 1 : "";
    vstring_strncpy(buf, addr, at ? (size_t)(at - addr) : strlen(addr));
    return vstring_str(buf);
}

static const char *check_rbl_macro(const char *name, void *context)
{
    RBL_REPLY *rr = context;
    SMTPD_STATE *state = rr->ck->state;
    CHECK_SESSION *sess = check_session(state);
    const char *sender = state->in_mail ? state->sender : NULL;

    if (strcmp(name, "rbl_code") == 0)
        return rr->code;
    if (strcmp(name, "rbl_class") == 0)
        return rr->class;
    if (strcmp(name, "rbl_what") == 0)
        return rr->what;
    if (strcmp(name, "rbl_domain") == 0)
        return rr->zone;
    if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
        return rr->txt;
    if (strcmp(name, "client") == 0)
        return state->namaddr;
    if (strcmp(name, "client_address") == 0)
        return state->addr;
    if (strcmp(name, "client_name") == 0)
        return sess->name ? sess->name : state->name;
    if (strcmp(name, "reverse_client_name") == 0)
        return sess->reverse_name ? sess->reverse_name : state->name;
    if (strcmp(name, "helo_name") == 0)
        return state->helo_name;
    if (strcmp(name, "sender") == 0)
        return sender;
    if (strcmp(name, "sender_name") == 0)
        return check_rbl_part(rr->buf, sender, 0);
    if (strcmp(name, "sender_domain") == 0)
        return check_rbl_part(rr->buf, sender, 1);
    if (strcmp(name, "recipient") == 0)
        return rr->ck->rcpt;
    if (strcmp(name, "recipient_name") == 0)
        return check_rbl_part(rr->buf, rr->ck->rcpt, 0);
    if (strcmp(name, "recipient_domain") == 0)
        return check_rbl_part(rr->buf, rr->ck->rcpt, 1);
    return NULL;
}

/* check_rbl_reject - the reply of a block list that lists the request */

static int check_rbl_reject(CHECK *ck, const CHECK_DNS_LIST *list, const char *class,
                            const char *what, const char *txt)
{
    const char *template = var_default_rbl_reply;
    VSTRING *reply = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    char code[16];
    RBL_REPLY rr;
    int status;

    if (check_rbl_reply_maps) {
        const char *value;

        status = maps_find(check_rbl_reply_maps, list->zone, MAPS_FIND_ALL, &value);
        if (status == DICT_STAT_ERROR) {
            vstring_free(reply);
            vstring_free(why);
            return check_lookup_failure(ck, what);
        }
        if (status == DICT_STAT_FOUND)
            template = value;
    }
    snprintf(code, sizeof(code), "%ld", var_maps_rbl_reject_code);
    rr.ck = ck;
    rr.code = code;
    rr.class = class;
    rr.what = what;
    rr.zone = list->zone;
    rr.txt = txt;
    rr.buf = vstring_alloc(100);
    if (dns_rbl_expand(reply, template, check_rbl_macro, &rr, why) < 0) {
        msg_warn("reply template for DNS list %s: %s", list->zone, vstring_str(why));
        status = check_config_error(ck);
    } else {
        status = check_reply_text(ck, vstring_str(reply), "5.7.1");
    }
    vstring_free(rr.buf);
    vstring_free(reply);
    vstring_free(why);
    return status;
}

/*
 * check_dns_lookup - one list query, remembered for the session: DNS_OK
 * (listed, with the TXT reason in txt), DNS_NOTFOUND, DNS_TEMP.
 */
static int check_dns_lookup(CHECK_SESSION *sess, const char *qname, const char *filter,
                            VSTRING *txt)
{
    VSTRING *key = vstring_alloc(100);
    const char *cached;
    int status;

    vstring_sprintf(key, "list:%s=%s", qname, filter);
    if ((cached = check_dns_cache_find(sess, vstring_str(key))) != NULL) {
        status = cached[0] == 'L' ? DNS_OK : DNS_NOTFOUND;
        vstring_strcpy(txt, cached + 1);
    } else {
        status = dns_rbl_lookup(qname, filter, NULL, txt, NULL);
        if (status == DNS_FAIL)
            status = DNS_NOTFOUND;
        if (status == DNS_OK || status == DNS_NOTFOUND) {
            VSTRING *value = vstring_alloc(100);

            vstring_sprintf(value, "%c%s", status == DNS_OK ? 'L' : 'N', vstring_str(txt));
            check_dns_cache_add(sess, vstring_str(key), vstring_str(value));
            vstring_free(value);
        }
    }
    vstring_free(key);
    return status;
}

int check_dns_list(CHECK *ck, RESTR *r)
{
    const CHECK_DNS_LIST *list = r->data;
    SMTPD_STATE *state = ck->state;
    CHECK_SESSION *sess = check_session(state);
    VSTRING *qname = vstring_alloc(100);
    VSTRING *txt = vstring_alloc(100);
    const char *what = NULL;
    const char *class = "Client host";
    int allow = list->kind == CHECK_DNSWL_CLIENT || list->kind == CHECK_RHSWL_CLIENT;
    int ok = -1;
    int status;

    switch (list->kind) {
    case CHECK_RBL_CLIENT:
    case CHECK_DNSWL_CLIENT:
        what = state->addr;
        ok = dns_rbl_reverse(qname, what, list->zone);
        break;
    case CHECK_RHSBL_CLIENT:
    case CHECK_RHSWL_CLIENT:
        check_client_names(state);
        if (sess->name_status == DNS_OK)
            ok = dns_rbl_domain(qname, what = sess->name, list->zone);
        break;
    case CHECK_RHSBL_REVERSE:
        check_client_names(state);
        class = "Unverified Client host";
        if (sess->reverse_status == DNS_OK)
            ok = dns_rbl_domain(qname, what = sess->reverse_name, list->zone);
        break;
    case CHECK_RHSBL_HELO:
        class = "Helo command";
        if (state->helo_name)
            ok = dns_rbl_domain(qname, what = state->helo_name, list->zone);
        break;
    case CHECK_RHSBL_SENDER:
        class = "Sender address";
        if (state->in_mail && strrchr(state->sender, '@'))
            ok = dns_rbl_domain(qname, what = strrchr(state->sender, '@') + 1, list->zone);
        break;
    case CHECK_RHSBL_RCPT:
        class = "Recipient address";
        if (ck->rcpt && strrchr(ck->rcpt, '@'))
            ok = dns_rbl_domain(qname, what = strrchr(ck->rcpt, '@') + 1, list->zone);
        break;
    }
    if (ok < 0) { /* nothing (usable) to look up */
        vstring_free(qname);
        vstring_free(txt);
        return CHECK_DUNNO;
    }
    status = check_dns_lookup(sess, vstring_str(qname), list->filter, txt);
    if (allow) {
        if (status == DNS_TEMP)
            msg_warn("%s: %s: temporary DNS failure; no permit", r->name, vstring_str(qname));
        if (status == DNS_OK && ck->rcpt && check_auth_dest(state, ck->rcpt) != 1)
            status = DNS_NOTFOUND; /* never opens the relay */
        status = status == DNS_OK ? CHECK_OK : CHECK_DUNNO;
    } else if (status == DNS_OK) {
        status = check_rbl_reject(ck, list, class, what, vstring_str(txt));
    } else if (status == DNS_TEMP) {
        status = check_defer_if_permit(ck, 450, "4.4.3",
                                       "<%s>: %s rejected: DNS block list %s is not answering",
                                       what, class, list->zone);
    } else {
        status = CHECK_DUNNO;
    }
    vstring_free(qname);
    vstring_free(txt);
    return status;
}
