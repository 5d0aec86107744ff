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
 *	int smtpd_check_bare_lf_excluded(SMTPD_STATE *state)
 * DESCRIPTION
 *	smtpd_check_init() parses every restriction list once (client,
 *	helo, sender, relay, recipient, data), opens their tables and the
 *	network and domain lists (mynetworks, mydestination, relay_domains,
 *	the virtual domain lists when those parameters exist,
 *	smtpd_forbid_bare_newline_exclusions) and local_recipient_maps. It
 *	runs before privileges are dropped. It is fatal when neither
 *	smtpd_relay_restrictions nor smtpd_recipient_restrictions can ever
 *	refuse a recipient (reject_unauth_destination,
 *	defer_unauth_destination, reject, defer or defer_if_permit), so
 *	that a configuration can never make an open relay by omission; a
 *	restriction that needs a table and has none is fatal too. An
 *	unknown restriction name is logged and makes every check that
 *	reaches it fail with 451 4.3.5 Server configuration error.
 *
 *	Each smtpd_check_*() evaluates the lists that apply at that point
 *	and returns SMTPD_CHECK_OK, or SMTPD_CHECK_REJECT with the reply
 *	in reply (after logging "reject: ..." as Postfix does). Lists are
 *	evaluated in order; in each, the first restriction that permits
 *	ends that list and the first that rejects ends the check. With
 *	$smtpd_delay_reject (the default) the client, helo and sender lists
 *	are evaluated at every RCPT TO, before smtpd_relay_restrictions and
 *	smtpd_recipient_restrictions; otherwise at connect, HELO/EHLO and
 *	MAIL FROM (smtpd_check_client/_helo/_mail). After the lists,
 *	$smtpd_reject_unlisted_recipient refuses unknown local users.
 *	Nothing is remembered between checks: every RCPT is judged afresh.
 *
 *	Restrictions (any list, where the information exists):
 *	permit, reject, defer, defer_if_permit, defer_if_reject,
 *	warn_if_reject, permit_mynetworks, permit_sasl_authenticated (never
 *	matches until SASL exists), check_client_access, check_helo_access,
 *	check_sender_access, check_recipient_access (type:table),
 *	reject_unknown_client_hostname, reject_unknown_reverse_client_hostname,
 *	reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname,
 *	reject_non_fqdn_sender, reject_non_fqdn_recipient,
 *	reject_unauth_destination, defer_unauth_destination,
 *	permit_auth_destination, reject_unlisted_recipient,
 *	reject_unauth_pipelining; and the old names reject_unknown_client,
 *	reject_invalid_hostname, reject_non_fqdn_hostname,
 *	check_recipient_maps.
 *
 *	Access table actions (access(5)): OK (or a number), REJECT [text],
 *	DEFER [text], DEFER_IF_REJECT [text], DEFER_IF_PERMIT [text],
 *	DUNNO, WARN text, "4NN text" and "5NN text" (421 and 521 also end
 *	the session), and a list of restriction names evaluated in place.
 *	Other actions (DISCARD, HOLD, REDIRECT, FILTER, PREPEND, BCC...) are
 *	not supported yet: they give 451 4.3.5 so that mail is not passed
 *	on unfiltered. A table that cannot answer gives 451 4.3.0
 *	Temporary lookup failure, never a pass.
 *
 *	smtpd_check_bare_lf_excluded() tells whether the client is listed
 *	in $smtpd_forbid_bare_newline_exclusions (a table error counts as
 *	not listed).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "argv.h"
#include "dict.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd.h"
#include "smtpd_match.h"
#include "valid_hostname.h"
#include "vstring.h"

#define CHECK_DUNNO 0
#define CHECK_OK 1
#define CHECK_REJECT 2

#define CHECK_DEPTH_MAX 20   /* restriction lists nested through table results */

enum {
    R_PERMIT = 1, R_REJECT, R_DEFER, R_DEFER_IF_PERMIT, R_DEFER_IF_REJECT, R_WARN_IF_REJECT,
    R_PERMIT_MYNETWORKS, R_PERMIT_SASL, R_CHECK_CLIENT, R_CHECK_HELO, R_CHECK_SENDER,
    R_CHECK_RCPT, R_UNKNOWN_CLIENT, R_UNKNOWN_REVERSE, R_INVALID_HELO, R_NON_FQDN_HELO,
    R_NON_FQDN_SENDER, R_NON_FQDN_RCPT, R_REJECT_UNAUTH_DEST, R_DEFER_UNAUTH_DEST,
    R_PERMIT_AUTH_DEST, R_UNLISTED_RCPT, R_UNAUTH_PIPELINING, R_BAD
};

static const struct {
    const char *name;
    int op;
    int table;
} check_names[] = {
    {"permit", R_PERMIT, 0},
    {"reject", R_REJECT, 0},
    {"defer", R_DEFER, 0},
    {"defer_if_permit", R_DEFER_IF_PERMIT, 0},
    {"defer_if_reject", R_DEFER_IF_REJECT, 0},
    {"warn_if_reject", R_WARN_IF_REJECT, 0},
    {"permit_mynetworks", R_PERMIT_MYNETWORKS, 0},
    {"permit_sasl_authenticated", R_PERMIT_SASL, 0},
    {"check_client_access", R_CHECK_CLIENT, 1},
    {"check_helo_access", R_CHECK_HELO, 1},
    {"check_sender_access", R_CHECK_SENDER, 1},
    {"check_recipient_access", R_CHECK_RCPT, 1},
    {"reject_unknown_client_hostname", R_UNKNOWN_CLIENT, 0},
    {"reject_unknown_client", R_UNKNOWN_CLIENT, 0},
    {"reject_unknown_reverse_client_hostname", R_UNKNOWN_REVERSE, 0},
    {"reject_invalid_helo_hostname", R_INVALID_HELO, 0},
    {"reject_invalid_hostname", R_INVALID_HELO, 0},
    {"reject_non_fqdn_helo_hostname", R_NON_FQDN_HELO, 0},
    {"reject_non_fqdn_hostname", R_NON_FQDN_HELO, 0},
    {"reject_non_fqdn_sender", R_NON_FQDN_SENDER, 0},
    {"reject_non_fqdn_recipient", R_NON_FQDN_RCPT, 0},
    {"reject_unauth_destination", R_REJECT_UNAUTH_DEST, 0},
    {"defer_unauth_destination", R_DEFER_UNAUTH_DEST, 0},
    {"permit_auth_destination", R_PERMIT_AUTH_DEST, 0},
    {"reject_unlisted_recipient", R_UNLISTED_RCPT, 0},
    {"check_recipient_maps", R_UNLISTED_RCPT, 0},
    {"reject_unauth_pipelining", R_UNAUTH_PIPELINING, 0},
    {NULL, 0, 0},
};

typedef struct RESTR {
    int op;
    char *name;
    MAPS *maps;     /* check_*_access */
} RESTR;

/* what a list is about: the name and class in its replies */
#define STAGE_CLIENT 1
#define STAGE_HELO 2
#define STAGE_SENDER 3
#define STAGE_RCPT 4
#define STAGE_DATA 5

typedef struct RESTR_LIST {
    const char *param;
    int stage;
    int count;
    RESTR *restr;
} RESTR_LIST;

/* one evaluation */
typedef struct CHECK {
    SMTPD_STATE *state;
    const char *what;       /* "RCPT", "MAIL", ... for the log */
    const char *rcpt;       /* recipient being checked, or NULL */
    VSTRING *reply;         /* the final reply */
    VSTRING *dip_reply;     /* defer_if_permit reply, when dip */
    int dip;
    int dir;                /* defer_if_reject is armed */
    int warn;               /* warn_if_reject applies to this restriction */
    int warn_next;
    int unlisted_done;
    int depth;
    int stage;              /* STAGE_* of the list being evaluated */
} CHECK;

static RESTR_LIST *client_restr, *helo_restr, *sender_restr, *relay_restr, *rcpt_restr,
    *data_restr;
static SMTPD_NETLIST *check_mynetworks;
static SMTPD_NETLIST *check_bare_lf_excl;
static SMTPD_DOMLIST *check_mydest;
static SMTPD_DOMLIST *check_relay_domains;
static SMTPD_DOMLIST *check_virt_alias_domains;
static SMTPD_DOMLIST *check_virt_mailbox_domains;
static MAPS *check_local_rcpt_maps;
static VSTRING *check_key;
static VSTRING *check_name;

/* ---- parsing ---- */

static int check_lookup_name(const char *name, int *table)
{
    for (int i = 0; check_names[i].name; i++) {
        if (strcasecmp(check_names[i].name, name) == 0) {
            *table = check_names[i].table;
            return check_names[i].op;
        }
    }
    *table = 0;
    return R_BAD;
}

/* check_parse - a restriction list from its text; fatal or NULL on bad syntax */

static RESTR_LIST *check_parse(const char *param, int stage, const char *value, int fatal)
{
    ARGV *words = maps_split(value);
    RESTR_LIST *list = mymalloc(sizeof(*list));

    list->param = param;
    list->stage = stage;
    list->count = 0;
    list->restr = mycalloc((size_t) words->argc + 1, sizeof(RESTR));
    for (int i = 0; i < words->argc; i++) {
        RESTR *r = &list->restr[list->count++];
        int table;

        r->name = mystrdup(words->argv[i]);
        r->op = check_lookup_name(words->argv[i], &table);
        r->maps = NULL;
        if (r->op == R_BAD) {
            msg_warn("%s: unknown restriction \"%s\"", param, words->argv[i]);
            continue;
        }
        if (table) {
            if (i + 1 >= words->argc || strchr(words->argv[i + 1], ':') == NULL) {
                if (fatal)
                    msg_fatal("%s: restriction %s needs a type:table argument", param,
                              words->argv[i]);
                msg_warn("%s: restriction %s needs a type:table argument", param, words->argv[i]);
                r->op = R_BAD;
                continue;
            }
            r->maps = maps_create(param, words->argv[++i], DICT_FLAG_DEFAULT);
        }
    }
    argv_free(words);
    return list;
}

static void check_free_list(RESTR_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
        myfree(list->restr[i].name);
        if (list->restr[i].maps)
            maps_free(list->restr[i].maps);
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

static SMTPD_DOMLIST *check_optional_domlist(const char *param)
{
    char *value;
    SMTPD_DOMLIST *list;

    if (!mail_conf_known(param) || (value = mail_conf_lookup_eval(param)) == NULL)
        return NULL;
    list = smtpd_domlist_create(param, value);
    myfree(value);
    return list;
}

void smtpd_check_init(void)
{
    client_restr = check_parse("smtpd_client_restrictions", STAGE_CLIENT,
                               var_smtpd_client_restrictions, 1);
    helo_restr = check_parse("smtpd_helo_restrictions", STAGE_HELO, var_smtpd_helo_restrictions, 1);
    sender_restr = check_parse("smtpd_sender_restrictions", STAGE_SENDER,
                               var_smtpd_sender_restrictions, 1);
    relay_restr = check_parse("smtpd_relay_restrictions", STAGE_RCPT,
                              var_smtpd_relay_restrictions, 1);
    rcpt_restr = check_parse("smtpd_recipient_restrictions", STAGE_RCPT,
                             var_smtpd_recipient_restrictions, 1);
    data_restr = check_parse("smtpd_data_restrictions", STAGE_DATA, var_smtpd_data_restrictions, 1);
    if (!check_has_relay_control(relay_restr) && !check_has_relay_control(rcpt_restr))
        msg_fatal("smtpd_relay_restrictions and smtpd_recipient_restrictions: specify at least "
                  "one of reject_unauth_destination, defer_unauth_destination, reject, defer "
                  "or defer_if_permit, or this server would relay mail for anyone");
    check_mynetworks = smtpd_netlist_create("mynetworks", var_mynetworks);
    check_bare_lf_excl = smtpd_netlist_create("smtpd_forbid_bare_newline_exclusions",
                                              var_smtpd_forbid_bare_newline_exclusions);
    check_mydest = smtpd_domlist_create("mydestination", var_mydestination);
    check_relay_domains = smtpd_domlist_create("relay_domains", var_relay_domains);
    check_virt_alias_domains = check_optional_domlist("virtual_alias_domains");
    check_virt_mailbox_domains = check_optional_domlist("virtual_mailbox_domains");
    if (*var_local_recipient_maps)
        check_local_rcpt_maps = maps_create("local_recipient_maps", var_local_recipient_maps,
                                            DICT_FLAG_DEFAULT);
    check_key = vstring_alloc(100);
    check_name = vstring_alloc(100);
}

int smtpd_check_bare_lf_excluded(SMTPD_STATE *state)
{
    return smtpd_netlist_match(check_bare_lf_excl, state->addr) == 1;
}

/* ---- replies ---- */

/* check_log - log a decision about the request */

static void check_log(CHECK *ck, const char *kind, const char *reply)
{
    smtpd_log_reject(ck->state, kind, ck->what, reply, ck->rcpt);
}

/* check_dsn - take a leading RFC 3463 code of the right class off text */

static const char *check_dsn(int code, const char **text, const char *def, char *buf)
{
    const char *cp = *text;
    size_t len = 0;

    if (cp[0] == '4' || cp[0] == '5') {
        size_t a, b;

        if (cp[1] == '.' && (a = strspn(cp + 2, "0123456789")) >= 1 && a <= 3 && cp[2 + a] == '.'
            && (b = strspn(cp + 3 + a, "0123456789")) >= 1 && b <= 3
            && (cp[3 + a + b] == ' ' || cp[3 + a + b] == 0))
            len = 3 + a + b;
    }
    if (len && cp[0] == '0' + code / 100) {
        memcpy(buf, cp, len);
        buf[len] = 0;
        cp += len;
        while (*cp == ' ')
            cp++;
        *text = cp;
        return buf;
    }
    snprintf(buf, 16, "%s", def);
    buf[0] = (char) ('0' + code / 100);
    return buf;
}

/* check_reject - refuse the request, honouring warn_if_reject and defer_if_reject */

static int check_reject(CHECK *ck, int code, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int check_reject(CHECK *ck, int code, const char *dsn, const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    char dsn_buf[16];
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    snprintf(dsn_buf, sizeof(dsn_buf), "%s", dsn);
    if (ck->dir && code >= 500) {
        code = (int) var_defer_code;
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

/* check_defer_if_permit - remember a deferral for the case the request passes */

static int check_defer_if_permit(CHECK *ck, const char *name, const char *class, const char *text)
{
    if (!ck->dip) {
        char dsn_buf[16];

        check_dsn((int) var_access_map_defer_code, &text, "4.7.1", dsn_buf);
        vstring_sprintf(ck->dip_reply, "%ld %s <%s>: %s rejected: %s", var_access_map_defer_code,
                        dsn_buf, name, class, text);
        ck->dip = 1;
    }
    return CHECK_DUNNO;
}

/* check_lookup_failure - a table could not answer: defer, never pass */

static int check_lookup_failure(CHECK *ck, const char *name)
{
    vstring_sprintf(ck->reply, "451 4.3.0 <%s>: Temporary lookup failure", name);
    check_log(ck, "reject", vstring_str(ck->reply));
    return CHECK_REJECT;
}

static int check_config_error(CHECK *ck)
{
    vstring_strcpy(ck->reply, "451 4.3.5 Server configuration error");
    check_log(ck, "reject", vstring_str(ck->reply));
    return CHECK_REJECT;
}

/* ---- access tables ---- */

static int check_list(CHECK *ck, RESTR_LIST *list);

static int check_table_result(CHECK *ck, const char *table, const char *value, const char *name,
                              const char *class)
{
    SMTPD_STATE *state = ck->state;
    char *copy = mystrdup(value);
    char *action = copy;
    char *text;
    int status;
    char dsn_buf[16];
    size_t alen;

    while (*action == ' ' || *action == '\t')
        action++;
    alen = strcspn(action, " \t");
    text = action + alen;
    if (*text) {
        *text++ = 0;
        while (*text == ' ' || *text == '\t')
            text++;
    }

    if (strcasecmp(action, "OK") == 0 || (alen > 0 && strspn(action, "0123456789") == alen
                                          && !(alen == 3 && *text))) {
        status = CHECK_OK;
    } else if (strcasecmp(action, "DUNNO") == 0) {
        status = CHECK_DUNNO;
    } else if (strcasecmp(action, "REJECT") == 0) {
        const char *t = *text ? text : "Access denied";
        const char *dsn = check_dsn((int) var_access_map_reject_code, &t, "5.7.1", dsn_buf);

        status = check_reject(ck, (int) var_access_map_reject_code, dsn, "<%s>: %s rejected: %s",
                              name, class, t);
    } else if (strcasecmp(action, "DEFER") == 0) {
        const char *t = *text ? text : "Access denied";
        const char *dsn = check_dsn((int) var_access_map_defer_code, &t, "4.7.1", dsn_buf);

        status = check_reject(ck, (int) var_access_map_defer_code, dsn, "<%s>: %s rejected: %s",
                              name, class, t);
    } else if (strcasecmp(action, "DEFER_IF_PERMIT") == 0) {
        status = check_defer_if_permit(ck, name, class, *text ? text : "Service unavailable");
    } else if (strcasecmp(action, "DEFER_IF_REJECT") == 0) {
        ck->dir = 1;
        status = CHECK_DUNNO;
    } else if (strcasecmp(action, "WARN") == 0) {
        VSTRING *buf = vstring_alloc(100);

        vstring_sprintf(buf, "<%s>: %s %s", name, class, *text ? text : "triggers a warning");
        check_log(ck, "warn", vstring_str(buf));
        vstring_free(buf);
        status = CHECK_DUNNO;
    } else if (alen == 3 && (action[0] == '4' || action[0] == '5') && isdigit((unsigned char) action[1])
               && isdigit((unsigned char) action[2])) {
        int code = atoi(action);
        const char *t = *text ? text : "Access denied";
        const char *dsn = check_dsn(code, &t, "5.7.1", dsn_buf);

        status = check_reject(ck, code, dsn, "<%s>: %s rejected: %s", name, class, t);
        if (status == CHECK_REJECT && (code == 421 || code == 521))
            state->disconnect = 1;
    } else {
        int table_arg;
        int op = check_lookup_name(action, &table_arg);

        if (op == R_BAD || op == R_WARN_IF_REJECT) {
            msg_warn("%s: unsupported or unknown action \"%s\" for %s", table, action, name);
            status = check_config_error(ck);
        } else if (ck->depth >= CHECK_DEPTH_MAX) {
            msg_warn("%s: restrictions nested too deeply for %s", table, name);
            status = check_config_error(ck);
        } else {
            RESTR_LIST *list = check_parse(table, ck->stage, value, 0);

            ck->depth++;
            status = check_list(ck, list);
            ck->depth--;
            check_free_list(list);
        }
    }
    myfree(copy);
    return status;
}

/* check_access_key - look up one key; a found key ends the search */

static int check_access_key(CHECK *ck, MAPS *maps, const char *key, int flags, const char *name,
                            const char *class, int *done)
{
    const char *value;
    int status = maps_find(maps, key, flags, &value);

    if (status == DICT_STAT_NOTFOUND)
        return CHECK_DUNNO;
    *done = 1;
    if (status == DICT_STAT_ERROR)
        return check_lookup_failure(ck, name);
    return check_table_result(ck, maps->title, value, name, class);
}

/* check_access_domain - a domain and its parent domains */

static int check_access_domain(CHECK *ck, MAPS *maps, const char *domain, int first_flags,
                               const char *name, const char *class, int *done)
{
    int parent = mail_domain_parent_style("smtpd_access_maps");
    int status = check_access_key(ck, maps, domain, first_flags, name, class, done);

    for (const char *cp = strchr(domain, '.'); !*done && cp && cp[1]; cp = strchr(cp + 1, '.')) {
        vstring_strcpy(check_key, parent ? cp + 1 : cp);
        status = check_access_key(ck, maps, vstring_str(check_key), MAPS_FIXED_ONLY, name, class,
                                  done);
    }
    return status;
}

static int check_access_client(CHECK *ck, MAPS *maps)
{
    SMTPD_STATE *state = ck->state;
    const char *name = state->namaddr;
    const char *class = "Client host";
    int done = 0;
    int status = CHECK_DUNNO;
    char *addr;

    if (strcmp(state->name, "unknown") != 0)
        status = check_access_domain(ck, maps, state->name, MAPS_FIND_ALL, name, class, &done);
    if (done)
        return status;
    status = check_access_key(ck, maps, state->addr, MAPS_FIND_ALL, name, class, &done);
    if (done || strchr(state->addr, ':'))
        return status;
    addr = mystrdup(state->addr);
    for (char *dot = strrchr(addr, '.'); !done && dot; dot = strrchr(addr, '.')) {
        *dot = 0;
        status = check_access_key(ck, maps, addr, MAPS_FIXED_ONLY, name, class, &done);
    }
    myfree(addr);
    return status;
}

static int check_access_address(CHECK *ck, MAPS *maps, const char *addr, const char *name,
                                const char *class, int is_sender)
{
    const char *at = strrchr(addr, '@');
    size_t local_len = at ? (size_t) (at - addr) : strlen(addr);
    size_t ext_pos = local_len;
    int done = 0;
    int status;

    if (is_sender && *addr == 0)
        return check_access_key(ck, maps, var_smtpd_null_access_lookup_key, MAPS_FIND_ALL, name,
                                class, &done);
    if (*var_recipient_delimiter && local_len > 0) {
        ext_pos = strcspn(addr, var_recipient_delimiter);
        if (ext_pos == 0 || ext_pos > local_len)
            ext_pos = local_len;
    }
    status = check_access_key(ck, maps, addr, MAPS_FIND_ALL, name, class, &done);
    if (!done && ext_pos < local_len && at) {
        vstring_strncpy(check_key, addr, ext_pos);
        vstring_strcat(check_key, at);
        status = check_access_key(ck, maps, vstring_str(check_key), MAPS_FIXED_ONLY, name, class,
                                  &done);
    }
    if (!done && at && at[1])
        status = check_access_domain(ck, maps, at + 1, MAPS_FIXED_ONLY, name, class, &done);
    if (!done && at) {
        vstring_strncpy(check_key, addr, local_len + 1);
        status = check_access_key(ck, maps, vstring_str(check_key), MAPS_FIXED_ONLY, name, class,
                                  &done);
        if (!done && ext_pos < local_len) {
            vstring_strncpy(check_key, addr, ext_pos);
            vstring_addch(check_key, '@');
            status = check_access_key(ck, maps, vstring_str(check_key), MAPS_FIXED_ONLY, name,
                                      class, &done);
        }
    }
    return status;
}

/* ---- destinations ---- */

/* check_local_domain - 1 local, 0 not, -1 lookup error */

static int check_local_domain(SMTPD_STATE *state, const char *domain)
{
    if (*domain == 0)
        return 1;
    if (domain[0] == '[') {
        const char *inside = domain + 1;
        size_t len = strlen(inside);

        if (len < 1 || inside[len - 1] != ']')
            return 0;
        if (strncasecmp(inside, "IPv6:", 5) == 0) {
            inside += 5;
            len -= 5;
        }
        return *state->local_addr && strlen(state->local_addr) == len - 1
               && strncasecmp(inside, state->local_addr, len - 1) == 0;
    }
    return smtpd_domlist_match(check_mydest, domain);
}

/* check_auth_dest - 1 if we may accept mail for rcpt from anyone, 0 if not, -1 error */

static int check_auth_dest(SMTPD_STATE *state, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@');
    const char *domain;
    int routed;
    int status;

    if (at == NULL)
        return 1;
    domain = at + 1;
    routed = memchr(rcpt, '@', (size_t) (at - rcpt)) || memchr(rcpt, '%', (size_t) (at - rcpt))
             || memchr(rcpt, '!', (size_t) (at - rcpt));
    if ((status = check_local_domain(state, domain)) != 0)
        return status < 0 ? -1 : !routed;
    if (check_virt_alias_domains
        && (status = smtpd_domlist_match(check_virt_alias_domains, domain)) != 0)
        return status < 0 ? -1 : !routed;
    if (check_virt_mailbox_domains
        && (status = smtpd_domlist_match(check_virt_mailbox_domains, domain)) != 0)
        return status < 0 ? -1 : !routed;
    if ((status = smtpd_domlist_match(check_relay_domains, domain)) != 0)
        return status < 0 ? -1 : !routed;
    return 0;
}

static const char *check_quote(const char *addr, VSTRING *buf)
{
    if (address_quote(buf, addr) < 0)
        vstring_strcpy(buf, addr);
    return vstring_str(buf);
}

/* check_unlisted_local - the local-domain test for mail_addr_find_opt() */

static SMTPD_STATE *check_unlisted_state;

static int check_unlisted_local(const char *domain)
{
    return check_local_domain(check_unlisted_state, domain) == 1;
}

static int check_unlisted(CHECK *ck, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@');
    const char *name = check_quote(rcpt, check_name);
    const char *value;
    int status;

    ck->unlisted_done = 1;
    status = check_local_domain(ck->state, at ? at + 1 : "");
    if (status < 0)
        return check_lookup_failure(ck, name);
    if (status == 0 || check_local_rcpt_maps == NULL)
        return CHECK_DUNNO;
    check_unlisted_state = ck->state;
    status = mail_addr_find_opt(check_local_rcpt_maps, rcpt, var_recipient_delimiter,
                                check_unlisted_local, &value, NULL);
    if (status == DICT_STAT_FOUND)
        return CHECK_DUNNO;
    if (status == DICT_STAT_ERROR)
        return check_lookup_failure(ck, name);
    return check_reject(ck, (int) var_unknown_local_recipient_reject_code, "5.1.1",
                        "<%s>: Recipient address rejected: User unknown in local recipient table",
                        name);
}

/* check_fqdn - a domain in fully-qualified form (or an address literal) */

static int check_fqdn(const char *domain)
{
    size_t len = strlen(domain);
    int ok;

    if (domain[0] == '[')
        return valid_mailhost_literal(domain, 0);
    if (len == 0 || strchr(domain, '.') == NULL)
        return 0;
    if (domain[len - 1] == '.') {
        char *copy = mystrndup(domain, len - 1);

        ok = strchr(copy, '.') != NULL && valid_hostname_flags(copy, VALID_HOSTNAME_UTF8, 0);
        myfree(copy);
        return ok;
    }
    return valid_hostname_flags(domain, VALID_HOSTNAME_UTF8, 0);
}

static int check_helo_valid(const char *helo)
{
    size_t len = strlen(helo);
    int ok;

    if (helo[0] == '[')
        return valid_mailhost_literal(helo, 0);
    if (len > 1 && helo[len - 1] == '.') {
        char *copy = mystrndup(helo, len - 1);

        ok = valid_hostname_flags(copy, VALID_HOSTNAME_UNDERSCORE, 0);
        myfree(copy);
        return ok;
    }
    return valid_hostname_flags(helo, VALID_HOSTNAME_UNDERSCORE, 0);
}

/* ---- evaluation ---- */

/* check_stage_name - who or what a generic reply of this stage is about */

static const char *check_stage_name(CHECK *ck, const char **class)
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
    default:
        *class = "Client host";
        return state->namaddr;
    }
}

static int check_one(CHECK *ck, RESTR *r)
{
    SMTPD_STATE *state = ck->state;
    VSTRING *qbuf;
    int status = CHECK_DUNNO;
    int match;
    const char *name;
    const char *class;

    switch (r->op) {
    case R_PERMIT:
        return CHECK_OK;
    case R_REJECT:
        name = check_stage_name(ck, &class);
        return check_reject(ck, (int) var_reject_code, "5.7.1", "<%s>: %s rejected: Access denied",
                            name, class);
    case R_DEFER:
        name = check_stage_name(ck, &class);
        return check_reject(ck, (int) var_defer_code, "4.7.1", "<%s>: %s rejected: Try again later",
                            name, class);
    case R_DEFER_IF_PERMIT:
        name = check_stage_name(ck, &class);
        return check_defer_if_permit(ck, name, class, "defer_if_permit requested");
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
        return CHECK_DUNNO;
    case R_CHECK_CLIENT:
        return check_access_client(ck, r->maps);
    case R_CHECK_HELO:
        if (state->helo_name == NULL)
            return CHECK_DUNNO;
        {
            int done = 0;

            return check_access_domain(ck, r->maps, state->helo_name, MAPS_FIND_ALL,
                                       state->helo_name, "Helo command", &done);
        }
    case R_CHECK_SENDER:
        if (!state->in_mail)
            return CHECK_DUNNO;
        qbuf = vstring_alloc(100);
        status = check_access_address(ck, r->maps, state->sender, check_quote(state->sender, qbuf),
                                      "Sender address", 1);
        vstring_free(qbuf);
        return status;
    case R_CHECK_RCPT:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        qbuf = vstring_alloc(100);
        status = check_access_address(ck, r->maps, ck->rcpt, check_quote(ck->rcpt, qbuf),
                                      "Recipient address", 0);
        vstring_free(qbuf);
        return status;
    case R_UNKNOWN_CLIENT:
    case R_UNKNOWN_REVERSE:
        if (strcmp(state->name, "unknown") != 0)
            return CHECK_DUNNO;
        return check_reject(ck, (int) var_unknown_client_reject_code, "4.7.25",
                            "Client host rejected: cannot find your %shostname, [%s]",
                            r->op == R_UNKNOWN_REVERSE ? "reverse " : "", state->addr);
    case R_INVALID_HELO:
        if (state->helo_name == NULL || check_helo_valid(state->helo_name))
            return CHECK_DUNNO;
        return check_reject(ck, (int) var_invalid_hostname_reject_code, "5.5.2",
                            "<%s>: Helo command rejected: Invalid name", state->helo_name);
    case R_NON_FQDN_HELO:
        if (state->helo_name == NULL || check_fqdn(state->helo_name))
            return CHECK_DUNNO;
        return check_reject(ck, (int) var_non_fqdn_reject_code, "5.5.2",
                            "<%s>: Helo command rejected: need fully-qualified hostname",
                            state->helo_name);
    case R_NON_FQDN_SENDER:
        if (!state->in_mail || *state->sender == 0)
            return CHECK_DUNNO;
        {
            const char *at = strrchr(state->sender, '@');

            if (at && check_fqdn(at + 1))
                return CHECK_DUNNO;
        }
        return check_reject(ck, (int) var_non_fqdn_reject_code, "5.5.2",
                            "<%s>: Sender address rejected: need fully-qualified address",
                            check_quote(state->sender, check_name));
    case R_NON_FQDN_RCPT:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        {
            const char *at = strrchr(ck->rcpt, '@');

            if (at && check_fqdn(at + 1))
                return CHECK_DUNNO;
        }
        return check_reject(ck, (int) var_non_fqdn_reject_code, "5.5.2",
                            "<%s>: Recipient address rejected: need fully-qualified address",
                            check_quote(ck->rcpt, check_name));
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
        return check_reject(ck, (int) var_relay_domains_reject_code, "5.7.1",
                            "<%s>: Relay access denied", check_quote(ck->rcpt, check_name));
    case R_UNLISTED_RCPT:
        if (ck->rcpt == NULL)
            return CHECK_DUNNO;
        return check_unlisted(ck, ck->rcpt);
    case R_UNAUTH_PIPELINING:
        if (!state->bad_pipelining)
            return CHECK_DUNNO;
        return check_reject(ck, 554, "5.5.0", "Error: SMTP protocol synchronization");
    default:
        msg_warn("%s: unknown restriction \"%s\"", "smtpd restrictions", r->name);
        return check_config_error(ck);
    }
}

static int check_list(CHECK *ck, RESTR_LIST *list)
{
    ck->stage = list->stage;
    for (int i = 0; i < list->count; i++) {
        ck->warn = ck->warn_next;
        ck->warn_next = 0;
        int status = check_one(ck, &list->restr[i]);

        ck->warn = 0;
        if (status != CHECK_DUNNO)
            return status;
    }
    return CHECK_DUNNO;
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
    return check_stage(state, "MAIL", sender_restr, reply);
}

int smtpd_check_data(SMTPD_STATE *state, VSTRING *reply)
{
    return check_stage(state, state->where, data_restr, reply);
}

static int check_recipient(SMTPD_STATE *state, const char *what, const char *rcpt, VSTRING *reply)
{
    CHECK ck;
    int status = CHECK_DUNNO;

    check_start(&ck, state, what, rcpt, reply);
    if (var_smtpd_delay_reject) {
        RESTR_LIST *early[] = {client_restr, helo_restr, sender_restr};

        for (int i = 0; i < 3; i++)
            if ((status = check_list(&ck, early[i])) == CHECK_REJECT)
                return check_finish(&ck, status);
    }
    if ((status = check_list(&ck, relay_restr)) == CHECK_REJECT)
        return check_finish(&ck, status);
    if ((status = check_list(&ck, rcpt_restr)) == CHECK_REJECT)
        return check_finish(&ck, status);
    if (var_smtpd_reject_unlisted_recipient && !ck.unlisted_done)
        status = check_unlisted(&ck, rcpt);
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
