/*
 * NAME
 *	smtpd_check - SMTP server restrictions: relay control and access policy
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_check_init(void)
 *	int smtpd_check_client(SMTPD_STATE *state, VSTRING *reply)
 *	int smtpd_check_helo(SMTPD_STATE *state, VSTRING *reply)
 *	int smtpd_check_mail(SMTPD_STATE *state, VSTRING *reply)
 *	int smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
 *	int smtpd_check_vrfy(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
 *	int smtpd_check_data(SMTPD_STATE *state, VSTRING *reply)
 *	int smtpd_check_eod(SMTPD_STATE *state, VSTRING *reply)
 *	int smtpd_check_bare_lf_excluded(SMTPD_STATE *state)
 *
 *	void smtpd_check_headers(SMTPD_STATE *state)
 *	void smtpd_check_envelope(SMTPD_STATE *state)
 *	void smtpd_check_reset(SMTPD_STATE *state)
 *	void smtpd_check_session_end(SMTPD_STATE *state)
 * DESCRIPTION
 *	smtpd_check_init() parses every restriction list once (client,
 *	helo, sender, relay, recipient, data, end-of-data, and the lists of
 *	$smtpd_restriction_classes), opens their tables, prepares their DNS
 *	lists and policy services, and opens the network and domain lists
 *	(mynetworks, mydestination, relay_domains, the virtual domain lists
 *	when those parameters exist, smtpd_forbid_bare_newline_exclusions)
 *	and the tables of local_recipient_maps, rbl_reply_maps and
 *	smtpd_sender_login_maps. It runs before privileges are dropped. It
 *	is fatal when neither smtpd_relay_restrictions nor
 *	smtpd_recipient_restrictions can ever refuse a recipient
 *	(reject_unauth_destination, defer_unauth_destination, reject, defer
 *	or defer_if_permit), so that a configuration can never make an open
 *	relay by omission; a restriction that needs an argument (a table, a
 *	DNS zone, a policy service) and has none or a bad one is fatal too.
 *	An unknown restriction name is logged and makes every check that
 *	reaches it fail with 451 4.3.5 Server configuration error.
 *
 *	Each smtpd_check_*() evaluates the lists that apply at that point
 *	and returns SMTPD_CHECK_OK, or SMTPD_CHECK_REJECT with the reply in
 *	reply (after logging "reject: ..." as Postfix does). Lists are
 *	evaluated in order; in each, the first restriction that permits
 *	ends that list and the first that rejects ends the check. With
 *	$smtpd_delay_reject (the default) the client, helo and sender lists
 *	are evaluated at every RCPT TO, before smtpd_relay_restrictions and
 *	smtpd_recipient_restrictions; otherwise at connect, HELO/EHLO and
 *	MAIL FROM (smtpd_check_client/_helo/_mail). After the lists,
 *	$smtpd_reject_unlisted_sender and $smtpd_reject_unlisted_recipient
 *	refuse unknown local users. smtpd_check_eod() evaluates
 *	smtpd_end_of_data_restrictions after the whole message was
 *	received. Verdicts are not remembered between checks: every RCPT is
 *	judged afresh (DNS answers and the SPF result are, per session).
 *
 *	Restrictions (any list, where the information exists): permit,
 *	reject, defer, defer_if_permit, defer_if_reject, warn_if_reject,
 *	permit_mynetworks, permit_sasl_authenticated, check_client_access,
 *	check_reverse_client_hostname_access, check_helo_access,
 *	check_sender_access, check_recipient_access, check_sasl_access
 *	(type:table), reject_unknown_client_hostname,
 *	reject_unknown_reverse_client_hostname, reject_invalid_helo_hostname,
 *	reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname,
 *	reject_non_fqdn_sender, reject_unknown_sender_domain,
 *	reject_unlisted_sender, reject_sender_login_mismatch and its
 *	authenticated_/unauthenticated_/known_ variants,
 *	reject_non_fqdn_recipient, reject_unknown_recipient_domain,
 *	reject_unauth_destination, defer_unauth_destination,
 *	permit_auth_destination, reject_unlisted_recipient,
 *	reject_multi_recipient_bounce, reject_unauth_pipelining,
 *	reject_plaintext_session, reject_rbl_client, reject_rhsbl_client,
 *	reject_rhsbl_reverse_client, reject_rhsbl_helo, reject_rhsbl_sender,
 *	reject_rhsbl_recipient, permit_dnswl_client, permit_rhswl_client
 *	(zone[=filter]), check_policy_service (service), check_spf, the
 *	names of restriction classes; and the old names
 *	reject_unknown_client, reject_invalid_hostname,
 *	reject_non_fqdn_hostname, reject_unknown_hostname,
 *	check_recipient_maps.
 *
 *	Access table actions are in smtpd_check_access.c; DNS based
 *	restrictions in smtpd_check_dns.c; the policy service in
 *	smtpd_check_policy.c; SPF in smtpd_check_spf.c. A table, DNS or
 *	policy failure gives a 4xx reply, never a pass.
 *
 *	The hooks: smtpd_check_headers() writes the headers that PREPEND
 *	actions and check_spf asked for to the message (through
 *	smtpd_data_line()), before the Received: header, and forgets them;
 *	smtpd_check_envelope() sends cleanup(8) the requests of the
 *	access(5) actions HOLD, DISCARD, REDIRECT and FILTER for the message
 *	(envelope ATTR records action_hold, action_discard, action_redirect,
 *	action_filter of cleanup_proto.h), before the content starts;
 *	smtpd_check_reset() forgets what belongs to the transaction that
 *	ended; smtpd_check_session_end() frees the per-session state.
 *
 *	smtpd_check_bare_lf_excluded() tells whether the client is listed
 *	in $smtpd_forbid_bare_newline_exclusions (a table error counts as
 *	not listed).
 *
 *	This file is longer than most because the evaluation switch names
 *	every restriction; each case is short and calls out for real work.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "cleanup_proto.h"
#include "argv.h"
#include "dict.h"
#include "dns.h"
#include "dns_ptr.h"
#include "htable.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "smtpd.h"
#include "smtpd_check_impl.h"
#include "smtpd_match.h"
#include "spf_check.h"
#include "valid_hostname.h"
#include "vstring.h"

enum {
    R_PERMIT = 1,
    R_REJECT,
    R_DEFER,
    R_DEFER_IF_PERMIT,
    R_DEFER_IF_REJECT,
    R_WARN_IF_REJECT,
    R_PERMIT_MYNETWORKS,
    R_PERMIT_SASL,
    R_CHECK_CLIENT,
    R_CHECK_REVERSE,
    R_CHECK_HELO,
    R_CHECK_SENDER,
    R_CHECK_RCPT,
    R_CHECK_SASL,
    R_UNKNOWN_CLIENT,
    R_UNKNOWN_REVERSE,
    R_INVALID_HELO,
    R_NON_FQDN_HELO,
    R_UNKNOWN_HELO,
    R_NON_FQDN_SENDER,
    R_UNKNOWN_SENDER_DOMAIN,
    R_UNLISTED_SENDER,
    R_LOGIN_MISMATCH,
    R_AUTH_LOGIN_MISMATCH,
    R_UNAUTH_LOGIN_MISMATCH,
    R_KNOWN_LOGIN_MISMATCH,
    R_NON_FQDN_RCPT,
    R_UNKNOWN_RCPT_DOMAIN,
    R_REJECT_UNAUTH_DEST,
    R_DEFER_UNAUTH_DEST,
    R_PERMIT_AUTH_DEST,
    R_UNLISTED_RCPT,
    R_MULTI_RCPT_BOUNCE,
    R_UNAUTH_PIPELINING,
    R_PLAINTEXT,
    R_DNS_LIST,
    R_POLICY,
    R_SPF,
    R_CLASS,
    R_BAD
};

/* what a restriction takes as argument */
#define ARG_NONE 0
#define ARG_TABLE 1
#define ARG_ZONE 2
#define ARG_SERVICE 3

static const struct {
    const char *name;
    int op;
    int arg;
    int kind; /* CHECK_RBL_* for R_DNS_LIST */
} check_names[] = {
    {"permit", R_PERMIT, ARG_NONE, 0},
    {"reject", R_REJECT, ARG_NONE, 0},
    {"defer", R_DEFER, ARG_NONE, 0},
    {"defer_if_permit", R_DEFER_IF_PERMIT, ARG_NONE, 0},
    {"defer_if_reject", R_DEFER_IF_REJECT, ARG_NONE, 0},
    {"warn_if_reject", R_WARN_IF_REJECT, ARG_NONE, 0},
    {"permit_mynetworks", R_PERMIT_MYNETWORKS, ARG_NONE, 0},
    {"permit_sasl_authenticated", R_PERMIT_SASL, ARG_NONE, 0},
    {"check_client_access", R_CHECK_CLIENT, ARG_TABLE, 0},
    {"check_reverse_client_hostname_access", R_CHECK_REVERSE, ARG_TABLE, 0},
    {"check_helo_access", R_CHECK_HELO, ARG_TABLE, 0},
    {"check_sender_access", R_CHECK_SENDER, ARG_TABLE, 0},
    {"check_recipient_access", R_CHECK_RCPT, ARG_TABLE, 0},
    {"check_sasl_access", R_CHECK_SASL, ARG_TABLE, 0},
    {"reject_unknown_client_hostname", R_UNKNOWN_CLIENT, ARG_NONE, 0},
    {"reject_unknown_client", R_UNKNOWN_CLIENT, ARG_NONE, 0},
    {"reject_unknown_reverse_client_hostname", R_UNKNOWN_REVERSE, ARG_NONE, 0},
    {"reject_invalid_helo_hostname", R_INVALID_HELO, ARG_NONE, 0},
    {"reject_invalid_hostname", R_INVALID_HELO, ARG_NONE, 0},
    {"reject_non_fqdn_helo_hostname", R_NON_FQDN_HELO, ARG_NONE, 0},
    {"reject_non_fqdn_hostname", R_NON_FQDN_HELO, ARG_NONE, 0},
    {"reject_unknown_helo_hostname", R_UNKNOWN_HELO, ARG_NONE, 0},
    {"reject_unknown_hostname", R_UNKNOWN_HELO, ARG_NONE, 0},
    {"reject_non_fqdn_sender", R_NON_FQDN_SENDER, ARG_NONE, 0},
    {"reject_unknown_sender_domain", R_UNKNOWN_SENDER_DOMAIN, ARG_NONE, 0},
    {"reject_unlisted_sender", R_UNLISTED_SENDER, ARG_NONE, 0},
    {"reject_sender_login_mismatch", R_LOGIN_MISMATCH, ARG_NONE, 0},
    {"reject_authenticated_sender_login_mismatch", R_AUTH_LOGIN_MISMATCH, ARG_NONE, 0},
    {"reject_unauthenticated_sender_login_mismatch", R_UNAUTH_LOGIN_MISMATCH, ARG_NONE, 0},
    {"reject_known_sender_login_mismatch", R_KNOWN_LOGIN_MISMATCH, ARG_NONE, 0},
    {"reject_non_fqdn_recipient", R_NON_FQDN_RCPT, ARG_NONE, 0},
    {"reject_unknown_recipient_domain", R_UNKNOWN_RCPT_DOMAIN, ARG_NONE, 0},
    {"reject_unauth_destination", R_REJECT_UNAUTH_DEST, ARG_NONE, 0},
    {"defer_unauth_destination", R_DEFER_UNAUTH_DEST, ARG_NONE, 0},
    {"permit_auth_destination", R_PERMIT_AUTH_DEST, ARG_NONE, 0},
    {"reject_unlisted_recipient", R_UNLISTED_RCPT, ARG_NONE, 0},
    {"check_recipient_maps", R_UNLISTED_RCPT, ARG_NONE, 0},
    {"reject_multi_recipient_bounce", R_MULTI_RCPT_BOUNCE, ARG_NONE, 0},
    {"reject_unauth_pipelining", R_UNAUTH_PIPELINING, ARG_NONE, 0},
    {"reject_plaintext_session", R_PLAINTEXT, ARG_NONE, 0},
    {"reject_rbl_client", R_DNS_LIST, ARG_ZONE, CHECK_RBL_CLIENT},
    {"reject_rhsbl_client", R_DNS_LIST, ARG_ZONE, CHECK_RHSBL_CLIENT},
    {"reject_rhsbl_reverse_client", R_DNS_LIST, ARG_ZONE, CHECK_RHSBL_REVERSE},
    {"reject_rhsbl_helo", R_DNS_LIST, ARG_ZONE, CHECK_RHSBL_HELO},
    {"reject_rhsbl_sender", R_DNS_LIST, ARG_ZONE, CHECK_RHSBL_SENDER},
    {"reject_rhsbl_recipient", R_DNS_LIST, ARG_ZONE, CHECK_RHSBL_RCPT},
    {"permit_dnswl_client", R_DNS_LIST, ARG_ZONE, CHECK_DNSWL_CLIENT},
    {"permit_rhswl_client", R_DNS_LIST, ARG_ZONE, CHECK_RHSWL_CLIENT},
    {"check_policy_service", R_POLICY, ARG_SERVICE, 0},
    {"check_spf", R_SPF, ARG_NONE, 0},
    {NULL, 0, 0, 0},
};

/* a restriction class: smtpd_restriction_classes names, each a list */
typedef struct CHECK_CLASS {
    char *name;
    RESTR_LIST *list;
} CHECK_CLASS;

static RESTR_LIST *client_restr, *helo_restr, *sender_restr, *relay_restr, *rcpt_restr, *data_restr,
    *eod_restr;
static HTABLE *check_classes;
static SMTPD_NETLIST *check_mynetworks;
static SMTPD_NETLIST *check_bare_lf_excl;
static VSTRING *check_name;

static int check_list(CHECK *ck, RESTR_LIST *list);

/* ---- parsing ---- */

static int check_lookup_name(const char *name, int *arg, int *kind)
{
    for (int i = 0; check_names[i].name; i++) {
        if (strcasecmp(check_names[i].name, name) == 0) {
            *arg = check_names[i].arg;
            *kind = check_names[i].kind;
            return check_names[i].op;
        }
    }
    *arg = ARG_NONE;
    *kind = 0;
    return R_BAD;
}

/* check_parse_arg - the argument of a restriction; 0, or -1 with why */

static int check_parse_arg(const char *param, RESTR *r, int arg, int kind, VSTRING *why)
{
    switch (arg) {
    case ARG_TABLE:
        if (strchr(r->arg, ':') == NULL) {
            vstring_sprintf(why, "restriction %s needs a type:table argument", r->name);
            return -1;
        }
        r->maps = maps_create(param, r->arg, DICT_FLAG_DEFAULT);
        return 0;
    case ARG_ZONE:
        return check_dns_parse(r, kind, why);
    case ARG_SERVICE:
        return check_policy_parse(r, why);
    default:
        return 0;
    }
}

static const char *check_arg_what(int arg)
{
    return arg == ARG_TABLE ? "a type:table" : arg == ARG_ZONE ? "a DNS zone" : "a service";
}

/* check_parse - a restriction list from its text; fatal or logged on bad syntax */

static RESTR_LIST *check_parse(const char *param, int stage, const char *value, int fatal)
{
    ARGV *words = maps_split(value);
    RESTR_LIST *list = mymalloc(sizeof(*list));
    VSTRING *why = vstring_alloc(100);

    list->param = param;
    list->stage = stage;
    list->count = 0;
    list->restr = mycalloc((size_t)words->argc + 1, sizeof(RESTR));
    for (int i = 0; i < words->argc; i++) {
        RESTR *r = &list->restr[list->count++];
        int arg;
        int kind;
        CHECK_CLASS *class;

        r->name = mystrdup(words->argv[i]);
        r->op = check_lookup_name(words->argv[i], &arg, &kind);
        if (r->op == R_BAD && check_classes &&
            (class = htable_find(check_classes, words->argv[i])) != NULL) {
            r->op = R_CLASS;
            r->data = class;
            continue;
        }
        if (r->op == R_BAD) {
            msg_warn("%s: unknown restriction \"%s\"", param, words->argv[i]);
            continue;
        }
        if (arg == ARG_NONE)
            continue;
        if (i + 1 >= words->argc) {
            vstring_sprintf(why, "restriction %s needs %s argument", r->name, check_arg_what(arg));
        } else {
            r->arg = mystrdup(words->argv[++i]);
            if (check_parse_arg(param, r, arg, kind, why) == 0)
                continue;
        }
        if (fatal)
            msg_fatal("%s: %s", param, vstring_str(why));
        msg_warn("%s: %s", param, vstring_str(why));
        r->op = R_BAD;
    }
    argv_free(words);
    vstring_free(why);
    return list;
}

static void check_free_list(RESTR_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
        RESTR *r = &list->restr[i];

        if (r->op == R_DNS_LIST)
            check_dns_free(r);
        else if (r->op == R_POLICY)
            check_policy_free(r);
        myfree(r->name);
        if (r->arg)
            myfree(r->arg);
        if (r->maps)
            maps_free(r->maps);
    }
    myfree(list->restr);
    myfree(list);
}

static int check_has_relay_control(RESTR_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
        switch (list->restr[i].op) {
        case R_REJECT_UNAUTH_DEST:
        case R_DEFER_UNAUTH_DEST:
        case R_REJECT:
        case R_DEFER:
        case R_DEFER_IF_PERMIT:
            return 1;
        }
    }
    return 0;
}

/* check_init_classes - smtpd_restriction_classes: names first, then lists */

static void check_init_classes(void)
{
    ARGV *names = argv_split(var_smtpd_restriction_classes, ARGV_DELIM_LIST);

    check_classes = htable_create(10);
    for (int i = 0; i < names->argc; i++) {
        CHECK_CLASS *class = mycalloc(1, sizeof(*class));
        int arg, kind;

        if (check_lookup_name(names->argv[i], &arg, &kind) != R_BAD)
            msg_fatal("smtpd_restriction_classes: class name \"%s\" is a restriction name",
                      names->argv[i]);
        class->name = mystrdup(names->argv[i]);
        htable_enter(check_classes, class->name, class);
    }
    for (int i = 0; i < names->argc; i++) {
        CHECK_CLASS *class = htable_find(check_classes, names->argv[i]);
        char *value = mail_conf_lookup_eval(names->argv[i]);

        if (value == NULL) {
            msg_warn("smtpd_restriction_classes: restriction class \"%s\" is not defined",
                     names->argv[i]);
            continue;
        }
        class->list = check_parse(class->name, STAGE_INHERIT, value, 1);
        myfree(value);
    }
    argv_free(names);
}

void smtpd_check_init(void)
{
    check_name = vstring_alloc(100);
    check_init_classes();
    client_restr =
        check_parse("smtpd_client_restrictions", STAGE_CLIENT, var_smtpd_client_restrictions, 1);
    helo_restr = check_parse("smtpd_helo_restrictions", STAGE_HELO, var_smtpd_helo_restrictions, 1);
    sender_restr =
        check_parse("smtpd_sender_restrictions", STAGE_SENDER, var_smtpd_sender_restrictions, 1);
    relay_restr =
        check_parse("smtpd_relay_restrictions", STAGE_RCPT, var_smtpd_relay_restrictions, 1);
    rcpt_restr = check_parse("smtpd_recipient_restrictions", STAGE_RCPT,
                             var_smtpd_recipient_restrictions, 1);
    data_restr = check_parse("smtpd_data_restrictions", STAGE_DATA, var_smtpd_data_restrictions, 1);
    eod_restr = check_parse("smtpd_end_of_data_restrictions", STAGE_EOD,
                            var_smtpd_end_of_data_restrictions, 1);
    if (!check_has_relay_control(relay_restr) && !check_has_relay_control(rcpt_restr))
        msg_fatal("smtpd_relay_restrictions and smtpd_recipient_restrictions: specify at least "
                  "one of reject_unauth_destination, defer_unauth_destination, reject, defer "
                  "or defer_if_permit, or this server would relay mail for anyone");
    check_mynetworks = smtpd_netlist_create("mynetworks", var_mynetworks);
    check_bare_lf_excl = smtpd_netlist_create("smtpd_forbid_bare_newline_exclusions",
                                              var_smtpd_forbid_bare_newline_exclusions);
    check_local_init();
    /* resolver state and libspf2 are prepared while resolv.conf is reachable */
    dns_init();
    dns_ptr_init();
    spf_check_init();
}

int smtpd_check_bare_lf_excluded(SMTPD_STATE *state)
{
    return smtpd_netlist_match(check_bare_lf_excl, state->addr) == 1;
}

/* ---- per-session state ---- */

CHECK_SESSION *check_session(SMTPD_STATE *state)
{
    static unsigned long serial;
    CHECK_SESSION *sess = state->check_context;

    if (sess == NULL) {
        sess = mycalloc(1, sizeof(*sess));
        sess->serial = ++serial;
        sess->prepend = argv_alloc(2);
        state->check_context = sess;
    }
    return sess;
}

/* check_actions_free - forget the cleanup(8) actions of the message */

static void check_actions_free(CHECK_SESSION *sess)
{
    char **fields[] = {&sess->act_hold, &sess->act_discard, &sess->act_redirect, &sess->act_filter};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (*fields[i])
            myfree(*fields[i]);
        *fields[i] = NULL;
    }
}

void smtpd_check_reset(SMTPD_STATE *state)
{
    CHECK_SESSION *sess = state->check_context;

    if (sess == NULL)
        return;
    argv_truncate(sess->prepend, 0);
    check_actions_free(sess);
    sess->txn++;
}

void smtpd_check_session_end(SMTPD_STATE *state)
{
    CHECK_SESSION *sess = state->check_context;

    if (sess == NULL)
        return;
    argv_free(sess->prepend);
    check_actions_free(sess);
    check_dns_session_free(sess);
    check_spf_session_free(sess);
    myfree(sess);
    state->check_context = NULL;
}

/* check_prepend - a header for the message, once */

void check_prepend(CHECK *ck, const char *header)
{
    CHECK_SESSION *sess = check_session(ck->state);
    size_t nlen = strcspn(header, ":");

    if (ck->stage == STAGE_EOD) {
        msg_warn("PREPEND %.100s: too late at the end of the message; ignored", header);
        return;
    }
    if (nlen == 0 || header[nlen] != ':' || strlen(header) > CHECK_HEADER_MAX) {
        msg_warn("PREPEND \"%.100s\": not a header \"name: value\"; ignored", header);
        return;
    }
    for (size_t i = 0; i < nlen; i++) {
        unsigned char ch = (unsigned char)header[i];

        if (ch <= ' ' || ch >= 0x7f) {
            msg_warn("PREPEND \"%.100s\": bad header name; ignored", header);
            return;
        }
    }
    for (int i = 0; i < sess->prepend->argc; i++)
        if (strcmp(sess->prepend->argv[i], header) == 0)
            return;
    if (sess->prepend->argc >= CHECK_PREPEND_MAX) {
        msg_warn("PREPEND: more than %d headers for one message; ignored", CHECK_PREPEND_MAX);
        return;
    }
    argv_add(sess->prepend, header);
}

void smtpd_check_headers(SMTPD_STATE *state)
{
    CHECK_SESSION *sess = state->check_context;

    if (sess == NULL)
        return;
    for (int i = 0; i < sess->prepend->argc; i++) {
        char *line = sess->prepend->argv[i];

        for (char *cp = line; *cp; cp++) /* one line; never a line end */
            if (*cp == '\r' || *cp == '\n')
                *cp = ' ';
        smtpd_data_line(REC_TYPE_NORM, line, strlen(line), state);
    }
    argv_truncate(sess->prepend, 0);
}

/*
 * check_content_action - access(5) HOLD, DISCARD, REDIRECT, FILTER: note
 * the request for cleanup(8), log it as Postfix does, and go on (DISCARD
 * permits: the message will not be delivered anyway).
 */
int check_content_action(CHECK *ck, const char *table, const char *action, const char *text,
                         const char *name, const char *class)
{
    CHECK_SESSION *sess = check_session(ck->state);
    VSTRING *buf;
    char **field;
    char *kind;

    if (ck->stage == STAGE_EOD) {
        msg_warn("%s: %s for %s: too late at the end of the message", table, action, name);
        return check_config_error(ck);
    }
    if (strcmp(action, "REDIRECT") == 0) {
        if (*text == 0 || strchr(text, '@') == NULL || strpbrk(text, " \t") != NULL) {
            msg_warn("%s: REDIRECT for %s needs an address", table, name);
            return check_config_error(ck);
        }
        field = &sess->act_redirect;
    } else if (strcmp(action, "FILTER") == 0) {
        const char *colon = strchr(text, ':');

        if (colon == NULL || colon == text || strpbrk(text, " \t") != NULL) {
            msg_warn("%s: FILTER for %s needs transport:destination", table, name);
            return check_config_error(ck);
        }
        field = &sess->act_filter;
    } else if (strcmp(action, "HOLD") == 0) {
        field = &sess->act_hold;
    } else {
        field = &sess->act_discard;
    }
    if (*field)
        myfree(*field);
    *field = mystrdup(text);
    buf = vstring_alloc(100);
    kind = mystrdup(action);
    for (char *cp = kind; *cp; cp++)
        *cp = (char)tolower((unsigned char)*cp);
    if (field == &sess->act_redirect || field == &sess->act_filter)
        vstring_sprintf(buf, "<%s>: %s triggers %s %s", name, class, action, text);
    else if (*text == 0)
        vstring_sprintf(buf, "<%s>: %s triggers %s action", name, class, action);
    else
        vstring_sprintf(buf, "<%s>: %s %s", name, class, text);
    check_log(ck, kind, vstring_str(buf));
    myfree(kind);
    vstring_free(buf);
    return field == &sess->act_discard ? CHECK_OK : CHECK_DUNNO;
}

void smtpd_check_envelope(SMTPD_STATE *state)
{
    CHECK_SESSION *sess = state->check_context;

    if (sess == NULL || state->cleanup == NULL)
        return;
    if (sess->act_hold)
        rec_fprintf(state->cleanup, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ACT_HOLD, sess->act_hold);
    if (sess->act_discard)
        rec_fprintf(state->cleanup, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ACT_DISCARD,
                    sess->act_discard);
    if (sess->act_redirect)
        rec_fprintf(state->cleanup, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ACT_REDIRECT,
                    sess->act_redirect);
    if (sess->act_filter)
        rec_fprintf(state->cleanup, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ACT_FILTER,
                    sess->act_filter);
}

/* ---- replies ---- */

void check_log(CHECK *ck, const char *kind, const char *text)
{
    smtpd_log_reject(ck->state, kind, ck->what, text, ck->rcpt);
}

int check_reject(CHECK *ck, int code, const char *dsn, const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    char dsn_buf[16];
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    snprintf(dsn_buf, sizeof(dsn_buf), "%s", dsn);
    if (code >= 400 && code < 600 && (dsn_buf[0] == '4' || dsn_buf[0] == '5'))
        dsn_buf[0] = (char)('0' + code / 100); /* the class follows the code */
    if (ck->dir && code >= 500) {
        code = (int)var_defer_code;
        dsn_buf[0] = '4';
    }
    vstring_sprintf(ck->reply, "%d %s %s", code, dsn_buf, vstring_str(text));
    vstring_free(text);
    if (ck->warn) {
        check_log(ck, "reject_warning", vstring_str(ck->reply));
        vstring_reset(ck->reply);
        return CHECK_DUNNO;
    }
    check_log(ck, "reject", vstring_str(ck->reply));
    return CHECK_REJECT;
}

int check_defer_if_permit(CHECK *ck, int code, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    if (ck->dip)
        return CHECK_DUNNO;
    vstring_sprintf(ck->dip_reply, "%d %s ", code, dsn);
    va_start(ap, fmt);
    vstring_vsprintf_append(ck->dip_reply, fmt, ap);
    va_end(ap);
    ck->dip = 1;
    return CHECK_DUNNO;
}

int check_tempfail(CHECK *ck, const char *action, const char *param, const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;
    int status;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    if (strcasecmp(action, "defer") == 0) {
        status = check_reject(ck, 450, "4.4.3", "%s", vstring_str(text));
    } else {
        if (strcasecmp(action, "defer_if_permit") != 0)
            msg_warn("%s: bad value \"%s\": expected defer or defer_if_permit; "
                     "using defer_if_permit",
                     param, action);
        status = check_defer_if_permit(ck, 450, "4.4.3", "%s", vstring_str(text));
    }
    vstring_free(text);
    return status;
}

int check_lookup_failure(CHECK *ck, const char *name)
{
    vstring_sprintf(ck->reply, "451 4.3.0 <%s>: Temporary lookup failure", name);
    check_log(ck, "reject", vstring_str(ck->reply));
    return CHECK_REJECT;
}

int check_config_error(CHECK *ck)
{
    vstring_strcpy(ck->reply, "451 4.3.5 Server configuration error");
    check_log(ck, "reject", vstring_str(ck->reply));
    return CHECK_REJECT;
}

const char *check_quote(const char *addr, VSTRING *buf)
{
    if (address_quote(buf, addr) < 0)
        vstring_strcpy(buf, addr);
    return vstring_str(buf);
}

/* check_nested - a table result that is a list of restrictions */

int check_nested(CHECK *ck, const char *table, const char *value, const char *name)
{
    RESTR_LIST *list;
    int status;

    if (ck->depth >= CHECK_DEPTH_MAX) {
        msg_warn("%s: restrictions nested too deeply for %s", table, name);
        return check_config_error(ck);
    }
    list = check_parse(table, ck->stage, value, 0);
    for (int i = 0; i < list->count; i++) {
        if (list->restr[i].op == R_BAD || list->restr[i].op == R_WARN_IF_REJECT) {
            msg_warn("%s: unsupported or unknown action \"%s\" for %s", table, list->restr[i].name,
                     name);
            check_free_list(list);
            return check_config_error(ck);
        }
    }
    ck->depth++;
    status = check_list(ck, list);
    ck->depth--;
    check_free_list(list);
    return status;
}

/* ---- evaluation ---- */

/* check_stage_name - who or what a generic reply of this stage is about */

const char *check_stage_name(CHECK *ck, const char **class)
{
    SMTPD_STATE *state = ck->state;

    switch (ck->stage) {
    case STAGE_HELO:
        *class = "Helo command";
        return state->helo_name ? state->helo_name : "";
    case STAGE_SENDER:
        *class = "Sender address";
        return state->in_mail ? check_quote(state->sender, check_name) : "";
    case STAGE_RCPT:
        *class = "Recipient address";
        return ck->rcpt ? check_quote(ck->rcpt, check_name) : "";
    case STAGE_DATA:
        *class = "Data command";
        return state->where;
    case STAGE_EOD:
        *class = "End-of-data";
        return state->where;
    default:
        *class = "Client host";
        return state->namaddr;
    }
}

static int check_class(CHECK *ck, RESTR *r)
{
    CHECK_CLASS *class = r->data;
    int status;

    if (class->list == NULL) {
        msg_warn("restriction class \"%s\" is not defined", class->name);
        return check_config_error(ck);
    }
    if (ck->depth >= CHECK_DEPTH_MAX) {
        msg_warn("restriction class \"%s\": classes nested too deeply", class->name);
        return check_config_error(ck);
    }
    ck->depth++;
    status = check_list(ck, class->list);
    ck->depth--;
    return status;
}

static int check_one(CHECK *ck, RESTR *r)
{
    SMTPD_STATE *state = ck->state;
    const char *name;
    const char *class;
    int match;

    switch (r->op) {
    case R_PERMIT:
        return CHECK_OK;
    case R_REJECT:
        name = check_stage_name(ck, &class);
        return check_reject(ck, (int)var_reject_code, "5.7.1", "<%s>: %s rejected: Access denied",
                            name, class);
    case R_DEFER:
        name = check_stage_name(ck, &class);
        return check_reject(ck, (int)var_defer_code, "4.7.1", "<%s>: %s rejected: Try again later",
                            name, class);
    case R_DEFER_IF_PERMIT:
        name = check_stage_name(ck, &class);
        return check_defer_if_permit(ck, (int)var_defer_code, "4.7.1",
                                     "<%s>: %s rejected: defer_if_permit requested", name, class);
    case R_DEFER_IF_REJECT:
        ck->dir = 1;
        return CHECK_DUNNO;
    case R_WARN_IF_REJECT:
        ck->warn_next = 1;
        return CHECK_DUNNO;
    case R_PERMIT_MYNETWORKS:
        match = smtpd_netlist_match(check_mynetworks, state->addr);
        if (match < 0)
            return check_lookup_failure(ck, state->namaddr);
        return match ? CHECK_OK : CHECK_DUNNO;
    case R_PERMIT_SASL:
        return state->sasl_username ? CHECK_OK : CHECK_DUNNO;
    case R_CHECK_CLIENT:
        check_client_names(state);
        return check_access_client(ck, r->maps, check_session(state)->name, state->addr,
                                   "Client host");
    case R_CHECK_REVERSE:
        check_client_names(state);
        return check_access_client(ck, r->maps, check_session(state)->reverse_name, state->addr,
                                   "Client host");
    case R_CHECK_HELO:
        return check_access_helo(ck, r->maps);
    case R_CHECK_SENDER:
        if (!state->in_mail)
            return CHECK_DUNNO;
        return check_access_address(ck, r->maps, state->sender, "Sender address", 1);
    case R_CHECK_RCPT:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        return check_access_address(ck, r->maps, ck->rcpt, "Recipient address", 0);
    case R_CHECK_SASL:
        if (state->sasl_username == NULL)
            return CHECK_DUNNO;
        return check_access_key_only(ck, r->maps, state->sasl_username, state->sasl_username,
                                     "SASL login name");
    case R_UNKNOWN_CLIENT:
    case R_UNKNOWN_REVERSE:
        return check_unknown_client(ck, r->op == R_UNKNOWN_REVERSE);
    case R_INVALID_HELO:
        if (state->helo_name == NULL || check_helo_valid(state->helo_name))
            return CHECK_DUNNO;
        return check_reject(ck, (int)var_invalid_hostname_reject_code, "5.5.2",
                            "<%s>: Helo command rejected: Invalid name", state->helo_name);
    case R_NON_FQDN_HELO:
        if (state->helo_name == NULL || check_fqdn(state->helo_name))
            return CHECK_DUNNO;
        return check_reject(ck, (int)var_non_fqdn_reject_code, "5.5.2",
                            "<%s>: Helo command rejected: need fully-qualified hostname",
                            state->helo_name);
    case R_UNKNOWN_HELO:
        return check_unknown_helo(ck);
    case R_NON_FQDN_SENDER:
        if (!state->in_mail || *state->sender == 0)
            return CHECK_DUNNO;
        return check_non_fqdn(ck, state->sender, "Sender");
    case R_UNKNOWN_SENDER_DOMAIN:
        if (!state->in_mail || *state->sender == 0)
            return CHECK_DUNNO;
        return check_unknown_domain(ck, state->sender, 1);
    case R_UNLISTED_SENDER:
        if (!state->in_mail)
            return CHECK_DUNNO;
        return check_unlisted(ck, state->sender, 1);
    case R_LOGIN_MISMATCH:
        return check_login_mismatch(ck, CHECK_LOGIN_BOTH);
    case R_AUTH_LOGIN_MISMATCH:
        return check_login_mismatch(ck, CHECK_LOGIN_AUTH);
    case R_UNAUTH_LOGIN_MISMATCH:
        return check_login_mismatch(ck, CHECK_LOGIN_UNAUTH);
    case R_KNOWN_LOGIN_MISMATCH:
        return check_login_mismatch(ck, CHECK_LOGIN_KNOWN);
    case R_NON_FQDN_RCPT:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        return check_non_fqdn(ck, ck->rcpt, "Recipient");
    case R_UNKNOWN_RCPT_DOMAIN:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        return check_unknown_domain(ck, ck->rcpt, 0);
    case R_REJECT_UNAUTH_DEST:
    case R_DEFER_UNAUTH_DEST:
    case R_PERMIT_AUTH_DEST:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        match = check_auth_dest(state, ck->rcpt);
        if (match < 0)
            return check_lookup_failure(ck, check_quote(ck->rcpt, check_name));
        if (r->op == R_PERMIT_AUTH_DEST)
            return match ? CHECK_OK : CHECK_DUNNO;
        if (match)
            return CHECK_DUNNO;
        if (r->op == R_DEFER_UNAUTH_DEST)
            return check_reject(ck, 454, "4.7.1", "<%s>: Relay access denied",
                                check_quote(ck->rcpt, check_name));
        return check_reject(ck, (int)var_relay_domains_reject_code, "5.7.1",
                            "<%s>: Relay access denied", check_quote(ck->rcpt, check_name));
    case R_UNLISTED_RCPT:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        return check_unlisted(ck, ck->rcpt, 0);
    case R_MULTI_RCPT_BOUNCE:
        /* at RCPT: a recipient was accepted already; at DATA: more than one */
        if (!state->in_mail || *state->sender != 0 || state->rcpt_count < (ck->rcpt ? 1 : 2))
            return CHECK_DUNNO;
        name = check_stage_name(ck, &class);
        return check_reject(ck, (int)var_multi_recipient_bounce_reject_code, "5.5.3",
                            "<%s>: %s rejected: Multi-recipient bounce", name, class);
    case R_UNAUTH_PIPELINING:
        if (!state->bad_pipelining)
            return CHECK_DUNNO;
        return check_reject(ck, 554, "5.5.0", "Error: SMTP protocol synchronization");
    case R_PLAINTEXT:
        if (state->tls_active)
            return CHECK_DUNNO;
        return check_reject(ck, (int)var_plaintext_reject_code, "4.7.1",
                            "Session encryption is required");
    case R_DNS_LIST:
        return check_dns_list(ck, r);
    case R_POLICY:
        return check_policy(ck, r);
    case R_SPF:
        return check_spf(ck);
    case R_CLASS:
        return check_class(ck, r);
    default:
        msg_warn("%s: unknown restriction \"%s\"", "smtpd restrictions", r->name);
        return check_config_error(ck);
    }
}

static int check_list(CHECK *ck, RESTR_LIST *list)
{
    int saved_stage = ck->stage;
    int status = CHECK_DUNNO;

    if (list->stage != STAGE_INHERIT)
        ck->stage = list->stage;
    for (int i = 0; i < list->count && status == CHECK_DUNNO; i++) {
        ck->warn = ck->warn_next;
        ck->warn_next = 0;
        status = check_one(ck, &list->restr[i]);
        ck->warn = 0;
    }
    if (list->stage == STAGE_INHERIT)
        ck->stage = saved_stage;
    return status;
}

static void check_start(CHECK *ck, SMTPD_STATE *state, const char *what, const char *rcpt,
                        VSTRING *reply)
{
    memset(ck, 0, sizeof(*ck));
    ck->state = state;
    ck->what = what;
    ck->rcpt = rcpt;
    ck->reply = reply;
    ck->dip_reply = vstring_alloc(100);
    vstring_reset(reply);
}

/* check_finish - apply a pending defer_if_permit to a request that passed */

static int check_finish(CHECK *ck, int status)
{
    if (status != CHECK_REJECT && ck->dip) {
        vstring_strcpy(ck->reply, vstring_str(ck->dip_reply));
        check_log(ck, "reject", vstring_str(ck->reply));
        status = CHECK_REJECT;
    }
    vstring_free(ck->dip_reply);
    return status == CHECK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

static int check_stage(SMTPD_STATE *state, const char *what, RESTR_LIST *list, VSTRING *reply)
{
    CHECK ck;

    check_start(&ck, state, what, NULL, reply);
    return check_finish(&ck, check_list(&ck, list));
}

int smtpd_check_client(SMTPD_STATE *state, VSTRING *reply)
{
    return check_stage(state, "CONNECT", client_restr, reply);
}

int smtpd_check_helo(SMTPD_STATE *state, VSTRING *reply)
{
    return check_stage(state, state->where, helo_restr, reply);
}

int smtpd_check_mail(SMTPD_STATE *state, VSTRING *reply)
{
    CHECK ck;
    int status;

    check_start(&ck, state, "MAIL", NULL, reply);
    status = check_list(&ck, sender_restr);
    if (status != CHECK_REJECT && var_smtpd_reject_unlisted_sender && !ck.unlisted_sender_done) {
        ck.stage = STAGE_SENDER;
        if (check_unlisted(&ck, state->sender, 1) == CHECK_REJECT)
            status = CHECK_REJECT;
    }
    return check_finish(&ck, status);
}

int smtpd_check_data(SMTPD_STATE *state, VSTRING *reply)
{
    return check_stage(state, state->where, data_restr, reply);
}

int smtpd_check_eod(SMTPD_STATE *state, VSTRING *reply)
{
    return check_stage(state, state->where, eod_restr, reply);
}

static int check_recipient(SMTPD_STATE *state, const char *what, const char *rcpt, VSTRING *reply)
{
    CHECK ck;
    int status = CHECK_DUNNO;

    check_start(&ck, state, what, rcpt, reply);
    if (state->check_context && ((CHECK_SESSION *)state->check_context)->act_discard &&
        strcmp(what, "RCPT") == 0)
        return check_finish(&ck, CHECK_OK); /* the message is discarded anyway */
    if (var_smtpd_delay_reject) {
        RESTR_LIST *early[] = {client_restr, helo_restr, sender_restr};

        for (int i = 0; i < 3; i++)
            if ((status = check_list(&ck, early[i])) == CHECK_REJECT)
                return check_finish(&ck, status);
        if (var_smtpd_reject_unlisted_sender && !ck.unlisted_sender_done && state->in_mail) {
            ck.stage = STAGE_SENDER;
            if ((status = check_unlisted(&ck, state->sender, 1)) == CHECK_REJECT)
                return check_finish(&ck, status);
        }
    }
    if ((status = check_list(&ck, relay_restr)) == CHECK_REJECT)
        return check_finish(&ck, status);
    if ((status = check_list(&ck, rcpt_restr)) == CHECK_REJECT)
        return check_finish(&ck, status);
    if (var_smtpd_reject_unlisted_recipient && !ck.unlisted_done) {
        ck.stage = STAGE_RCPT;
        status = check_unlisted(&ck, rcpt, 0);
    }
    return check_finish(&ck, status);
}

int smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    return check_recipient(state, "RCPT", rcpt, reply);
}

int smtpd_check_vrfy(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    return check_recipient(state, "VRFY", rcpt, reply);
}
