/*
 * NAME
 *	smtpd_check_local - restrictions decided from our own configuration
 * SYNOPSIS
 *	#include "smtpd_check_impl.h"
 *
 *	void check_local_init(void)
 *	int check_domain_class(SMTPD_STATE *state, const char *domain)
 *	int check_auth_dest(SMTPD_STATE *state, const char *rcpt)
 *	int check_unlisted(CHECK *ck, const char *addr, int is_sender)
 *	int check_fqdn(const char *domain)
 *	int check_helo_valid(const char *helo)
 *	int check_non_fqdn(CHECK *ck, const char *addr, const char *class)
 *	int check_login_mismatch(CHECK *ck, int mode)
 * DESCRIPTION
 *	check_local_init() opens, before privileges are dropped, the
 *	domain lists (mydestination, relay_domains, and virtual_alias_domains
 *	and virtual_mailbox_domains when those parameters exist) and the
 *	tables of local_recipient_maps and smtpd_sender_login_maps.
 *
 *	check_domain_class() tells whether we are the destination of a
 *	domain (CHECK_DOMAIN_OURS: local, including an address literal of
 *	our own address, virtual, or relay_domains), not
 *	(CHECK_DOMAIN_OTHER), or cannot tell (CHECK_DOMAIN_ERROR: a table
 *	failed). check_auth_dest() is the relay test: 1 when anyone may
 *	send to rcpt (our domain, no sender-specified routing with @, % or
 *	! in the local part; an address without a domain is local), 0 when
 *	not, -1 on a table error.
 *
 *	check_unlisted() is reject_unlisted_recipient and (is_sender)
 *	reject_unlisted_sender: an address in a local domain must be in
 *	$local_recipient_maps (Postfix's lookup order, mail_addr_find);
 *	"550 5.1.1 <addr>: Recipient address rejected: User unknown in
 *	local recipient table" (5.1.0 and "Sender" for a sender). An empty
 *	local_recipient_maps accepts every local address; the null sender
 *	is never unlisted.
 *
 *	check_fqdn() and check_helo_valid() are the syntax tests of
 *	reject_non_fqdn_* and reject_invalid_helo_hostname;
 *	check_non_fqdn() refuses an address whose domain is not fully
 *	qualified (504 5.5.2 need fully-qualified address).
 *
 *	check_login_mismatch() implements the sender login restrictions with
 *	$smtpd_sender_login_maps, whose values list the SASL login names
 *	that own an address: CHECK_LOGIN_BOTH (reject_sender_login_mismatch:
 *	a logged-in client must own the address, and an address that has
 *	an owner needs a login), CHECK_LOGIN_AUTH and CHECK_LOGIN_UNAUTH
 *	(one half each), CHECK_LOGIN_KNOWN (both halves, only for addresses
 *	that have an owner). Replies: "553 5.7.1 <sender>: Sender address
 *	rejected: not owned by user NAME" and "... not logged in". Login
 *	names are compared without regard to case.
 */
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
#include "smtpd_check_impl.h"
#include "smtpd_match.h"
#include "valid_hostname.h"

static SMTPD_DOMLIST *check_mydest;
static SMTPD_DOMLIST *check_relay_domains;
static SMTPD_DOMLIST *check_virt_alias_domains;
static SMTPD_DOMLIST *check_virt_mailbox_domains;
static MAPS *check_local_rcpt_maps;
static MAPS *check_login_maps;
static VSTRING *check_local_name;

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

void check_local_init(void)
{
    check_local_name = vstring_alloc(100);
    check_mydest = smtpd_domlist_create("mydestination", var_mydestination);
    check_relay_domains = smtpd_domlist_create("relay_domains", var_relay_domains);
    check_virt_alias_domains = check_optional_domlist("virtual_alias_domains");
    check_virt_mailbox_domains = check_optional_domlist("virtual_mailbox_domains");
    if (*var_local_recipient_maps)
        check_local_rcpt_maps =
            maps_create("local_recipient_maps", var_local_recipient_maps, DICT_FLAG_DEFAULT);
    if (*var_smtpd_sender_login_maps)
        check_login_maps =
            maps_create("smtpd_sender_login_maps", var_smtpd_sender_login_maps, DICT_FLAG_DEFAULT);
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
        return *state->local_addr && strlen(state->local_addr) == len - 1 &&
               strncasecmp(inside, state->local_addr, len - 1) == 0;
    }
    return smtpd_domlist_match(check_mydest, domain);
}

int check_domain_class(SMTPD_STATE *state, const char *domain)
{
    SMTPD_DOMLIST *lists[] = {check_virt_alias_domains, check_virt_mailbox_domains,
                              check_relay_domains};
    int status = check_local_domain(state, domain);

    for (int i = 0; status == 0 && i < 3; i++)
        if (lists[i])
            status = smtpd_domlist_match(lists[i], domain);
    return status < 0 ? CHECK_DOMAIN_ERROR : status ? CHECK_DOMAIN_OURS : CHECK_DOMAIN_OTHER;
}

/* check_auth_dest - 1 if we may accept mail for rcpt from anyone, 0 if not, -1 error */

int check_auth_dest(SMTPD_STATE *state, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@');
    int routed;
    int status;

    if (at == NULL)
        return 1;
    routed = memchr(rcpt, '@', (size_t)(at - rcpt)) || memchr(rcpt, '%', (size_t)(at - rcpt)) ||
             memchr(rcpt, '!', (size_t)(at - rcpt));
    status = check_domain_class(state, at + 1);
    if (status == CHECK_DOMAIN_ERROR)
        return -1;
    return status == CHECK_DOMAIN_OURS && !routed;
}

/* check_unlisted_local - the local-domain test for mail_addr_find_opt() */

static SMTPD_STATE *check_unlisted_state;

static int check_unlisted_local(const char *domain)
{
    return check_local_domain(check_unlisted_state, domain) == 1;
}

int check_unlisted(CHECK *ck, const char *addr, int is_sender)
{
    const char *at = strrchr(addr, '@');
    const char *name = check_quote(addr, check_local_name);
    const char *value;
    int status;

    if (is_sender)
        ck->unlisted_sender_done = 1;
    else
        ck->unlisted_done = 1;
    if (is_sender && *addr == 0)
        return CHECK_DUNNO;
    status = check_local_domain(ck->state, at ? at + 1 : "");
    if (status < 0)
        return check_lookup_failure(ck, name);
    if (status == 0 || check_local_rcpt_maps == NULL)
        return CHECK_DUNNO;
    check_unlisted_state = ck->state;
    status = mail_addr_find_opt(check_local_rcpt_maps, addr, var_recipient_delimiter,
                                check_unlisted_local, &value, NULL);
    if (status == DICT_STAT_FOUND)
        return CHECK_DUNNO;
    if (status == DICT_STAT_ERROR)
        return check_lookup_failure(ck, name);
    return check_reject(ck, (int)var_unknown_local_recipient_reject_code,
                        is_sender ? "5.1.0" : "5.1.1",
                        "<%s>: %s address rejected: User unknown in local recipient table", name,
                        is_sender ? "Sender" : "Recipient");
}

/* check_fqdn - a domain in fully-qualified form (or an address literal) */

int check_fqdn(const char *domain)
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

int check_helo_valid(const char *helo)
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

int check_non_fqdn(CHECK *ck, const char *addr, const char *class)
{
    const char *at = strrchr(addr, '@');

    if (at && check_fqdn(at + 1))
        return CHECK_DUNNO;
    return check_reject(ck, (int)var_non_fqdn_reject_code, "5.5.2",
                        "<%s>: %s address rejected: need fully-qualified address",
                        check_quote(addr, check_local_name), class);
}

/* ---- SASL ---- */

/* check_login_owned - 1 when login is among the names in owners */

static int check_login_owned(const char *owners, const char *login)
{
    ARGV *names = argv_split(owners, ARGV_DELIM_LIST);
    int found = 0;

    for (int i = 0; !found && i < names->argc; i++)
        found = strcasecmp(names->argv[i], login) == 0;
    argv_free(names);
    return found;
}

int check_login_mismatch(CHECK *ck, int mode)
{
    SMTPD_STATE *state = ck->state;
    const char *sender = state->sender;
    const char *user = state->sasl_username;
    const char *owners = NULL;
    const char *name;
    int status;

    if (!state->in_mail || *sender == 0)
        return CHECK_DUNNO;
    if (check_login_maps == NULL) {
        msg_warn("%s: smtpd_sender_login_maps is empty; every sender has no owner",
                 "reject_sender_login_mismatch");
    } else {
        status = mail_addr_find(check_login_maps, sender, &owners, NULL);
        if (status == DICT_STAT_ERROR)
            return check_lookup_failure(ck, check_quote(sender, check_local_name));
        if (status != DICT_STAT_FOUND)
            owners = NULL;
    }
    name = check_quote(sender, check_local_name);
    if (user != NULL && mode != CHECK_LOGIN_UNAUTH) {
        if (owners == NULL && mode == CHECK_LOGIN_KNOWN)
            return CHECK_DUNNO;
        if (owners == NULL || !check_login_owned(owners, user))
            return check_reject(ck, 553, "5.7.1",
                                "<%s>: Sender address rejected: not owned by user %s", name, user);
    }
    if (user == NULL && mode != CHECK_LOGIN_AUTH && owners != NULL)
        return check_reject(ck, 553, "5.7.1", "<%s>: Sender address rejected: not logged in", name);
    return CHECK_DUNNO;
}
