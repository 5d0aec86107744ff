/*
 * NAME
 *	smtp_tls - TLS in the SMTP/LMTP client: policy, STARTTLS, checks
 * SYNOPSIS
 *	#include "smtp.h"
 *
 *	void smtp_tls_init(void)
 *	SMTP_TLS_POLICY *smtp_tls_policy(const char *dest,
 *			const char *nexthop)
 *	void smtp_tls_policy_free(SMTP_TLS_POLICY *policy)
 *	int smtp_tls_policy_check(SMTP_STATE *state)
 *	int smtp_tls_wrapper(SMTP_STATE *state)
 *	int smtp_tls_starttls(SMTP_STATE *state)
 *	int smtp_tls_reusable(SMTP_SESSION *session)
 *	void smtp_tls_stop(SMTP_SESSION *session)
 * DESCRIPTION
 *	smtp_tls_init() reads the mode's settings (smtp_tls_* or lmtp_tls_*)
 *	at start-up, before the chroot: the default security level (from
 *	*_tls_security_level, or the old *_use_tls, *_enforce_tls and
 *	*_tls_enforce_peername; an invalid level is fatal, so that mail
 *	waits instead of leaving with less protection than configured),
 *	the policy tables, and, when any destination may use TLS, the
 *	client context (trusted CAs, client certificate; lib/tls_client.c).
 *	A context that cannot be made is logged; TLS is then unavailable:
 *	level may goes on in plaintext, the higher levels defer.
 *
 *	smtp_tls_policy(dest, nexthop) is the policy of one destination of
 *	the next-hop list: dest as written (the lookup key of the policy
 *	tables; a plain domain also as its parent domains), nexthop its
 *	host or domain without brackets and port (for the certificate
 *	names nexthop and dot-nexthop, and SNI). A table entry is
 *	"level [match=a:b] [servername=name] [protocols=a:b] [ciphers=grade]
 *	[exclude=a:b]"; an entry that cannot be parsed, or a table that
 *	cannot be read, gives level -1 and the reason in policy->why.
 *	smtp_tls_policy_check(state) refuses (for every pending recipient,
 *	as a temporary failure) to connect under an invalid or unsupported
 *	policy, or one that needs TLS when TLS is unavailable; 0 or -1.
 *
 *	smtp_tls_wrapper(state) starts TLS right after connecting, with
 *	*_tls_wrappermode. smtp_tls_starttls(state) runs after EHLO: it
 *	sends STARTTLS when the level asks for TLS and the server offers
 *	it (a session opened for a plaintext retry, state->tls_off, never
 *	does), and judges the result:
 *	  - no STARTTLS in the EHLO reply: fine at level may; otherwise
 *	    "TLS is required, but was not offered by host H[A]" (4.7.4);
 *	  - STARTTLS refused: plaintext at level may; otherwise "TLS is
 *	    required, but host H[A] refused to start TLS: REPLY";
 *	  - handshake failed: "Cannot start TLS: handshake failure"
 *	    (4.7.5), and at level may state->tls_retry asks the caller for
 *	    one more connection to the same address without TLS;
 *	  - verify and secure: a certificate that no trusted CA signed is
 *	    "Server certificate not trusted", one without an allowed name
 *	    "Server certificate not verified" (4.7.5); the session is then
 *	    closed with QUIT, over TLS.
 *	Both return SMTP_SESSION_OK, or SMTP_SESSION_NEXT after the
 *	failure was recorded for every pending recipient. After STARTTLS
 *	the caller sends EHLO again (RFC 3207: what the server said before
 *	does not count).
 *
 *	smtp_tls_reusable(session) says whether a cached session still
 *	satisfies the policy of the destination it was opened for: under
 *	none and may any session does; under encrypt and above only one
 *	that was opened under the same level or a higher one (and so has
 *	TLS with the checks of that level). A plaintext session is never
 *	reused for a destination that now requires TLS. smtp_tls_stop(session)
 *	ends TLS on a session that is being closed (close_notify unless
 *	the session broke).
 */
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"
#include "tls_client.h"
#include "tls_proto.h"

static struct {
    int level;               /* default level */
    const char *level_param; /* name, for messages */
    const char *policy_param;
    MAPS *policy_maps;
    const char *verify_match;
    const char *secure_match;
    const char *servername;
    const char *protocols;
    const char *mandatory_protocols;
    const char *ciphers;
    const char *mandatory_ciphers;
    const char *exclude;
    const char *mandatory_exclude;
    long timeout;
    int log_level;
    int note_offer;
    int wrapper;
    TLS_CLIENT_CTX *ctx; /* NULL: TLS unavailable */
} smtp_tls;

/* smtp_tls_default_level - the configured level, old parameters included */

static int smtp_tls_default_level(const char *level, int enforce, int peername, int use)
{
    int n;

    if (*level == 0)
        return enforce ? (peername ? TLS_LEV_VERIFY : TLS_LEV_ENCRYPT)
               : use   ? TLS_LEV_MAY
                       : TLS_LEV_NONE;
    if ((n = tls_level_lookup(level)) == -1)
        msg_fatal("invalid %s value \"%s\": use none, may, encrypt, verify or secure",
                  smtp_tls.level_param, level);
    if (n == TLS_LEV_UNSUPPORTED)
        msg_fatal("%s = %s is not supported: use none, may, encrypt, verify or secure",
                  smtp_tls.level_param, level);
    return n;
}

void smtp_tls_init(void)
{
    TLS_CLIENT_PROPS props;
    VSTRING *why;
    int lmtp = smtp_params.lmtp;
    const char *policy_maps = lmtp ? var_lmtp_tls_policy_maps : var_smtp_tls_policy_maps;

    smtp_tls.level_param = lmtp ? "lmtp_tls_security_level" : "smtp_tls_security_level";
    smtp_tls.policy_param = lmtp ? "lmtp_tls_policy_maps" : "smtp_tls_policy_maps";
    smtp_tls.level = lmtp
                         ? smtp_tls_default_level(var_lmtp_tls_security_level, var_lmtp_enforce_tls,
                                                  var_lmtp_tls_enforce_peername, var_lmtp_use_tls)
                         : smtp_tls_default_level(var_smtp_tls_security_level, var_smtp_enforce_tls,
                                                  var_smtp_tls_enforce_peername, var_smtp_use_tls);
    smtp_tls.verify_match = lmtp ? var_lmtp_tls_verify_cert_match : var_smtp_tls_verify_cert_match;
    smtp_tls.secure_match = lmtp ? var_lmtp_tls_secure_cert_match : var_smtp_tls_secure_cert_match;
    smtp_tls.servername = lmtp ? var_lmtp_tls_servername : var_smtp_tls_servername;
    smtp_tls.protocols = lmtp ? var_lmtp_tls_protocols : var_smtp_tls_protocols;
    smtp_tls.mandatory_protocols =
        lmtp ? var_lmtp_tls_mandatory_protocols : var_smtp_tls_mandatory_protocols;
    smtp_tls.ciphers = lmtp ? var_lmtp_tls_ciphers : var_smtp_tls_ciphers;
    smtp_tls.mandatory_ciphers =
        lmtp ? var_lmtp_tls_mandatory_ciphers : var_smtp_tls_mandatory_ciphers;
    smtp_tls.exclude = lmtp ? var_lmtp_tls_exclude_ciphers : var_smtp_tls_exclude_ciphers;
    smtp_tls.mandatory_exclude =
        lmtp ? var_lmtp_tls_mandatory_exclude_ciphers : var_smtp_tls_mandatory_exclude_ciphers;
    smtp_tls.timeout = lmtp ? var_lmtp_starttls_timeout : var_smtp_starttls_timeout;
    smtp_tls.log_level = (int)(lmtp ? var_lmtp_tls_loglevel : var_smtp_tls_loglevel);
    smtp_tls.note_offer = lmtp ? 0 : var_smtp_tls_note_starttls_offer;
    smtp_tls.wrapper = lmtp ? 0 : var_smtp_tls_wrappermode;
    if (smtp_tls.wrapper && smtp_tls.level == TLS_LEV_NONE && *policy_maps == 0)
        msg_warn("smtp_tls_wrappermode = yes needs a TLS security level other than none: "
                 "connecting without TLS");
    if (*policy_maps)
        smtp_tls.policy_maps = maps_create(smtp_tls.policy_param, policy_maps, DICT_FLAG_DEFAULT);
    if (smtp_tls.level == TLS_LEV_NONE && smtp_tls.policy_maps == NULL)
        return;

    memset(&props, 0, sizeof(props));
    props.CAfile = lmtp ? var_lmtp_tls_CAfile : var_smtp_tls_CAfile;
    props.CApath = lmtp ? var_lmtp_tls_CApath : var_smtp_tls_CApath;
    props.append_default_CA = var_tls_append_default_CA;
    props.cert_file = lmtp ? var_lmtp_tls_cert_file : var_smtp_tls_cert_file;
    props.key_file = lmtp ? var_lmtp_tls_key_file : var_smtp_tls_key_file;
    props.log_level = smtp_tls.log_level;
    why = vstring_alloc(100);
    if ((smtp_tls.ctx = tls_client_init(&props, why)) == NULL)
        msg_warn("cannot start the TLS client engine: %s: TLS is unavailable; mail that "
                 "requires TLS is deferred",
                 vstring_str(why));
    vstring_free(why);
}

/* smtp_tls_policy_alloc - the default policy of a destination */

static SMTP_TLS_POLICY *smtp_tls_policy_alloc(const char *dest, const char *nexthop)
{
    SMTP_TLS_POLICY *policy = mycalloc(1, sizeof(*policy));

    policy->level = smtp_tls.level;
    policy->dest = mystrdup(dest);
    policy->nexthop = mystrdup(nexthop);
    policy->why = vstring_alloc(50);
    policy->cipherlist = vstring_alloc(100);
    return policy;
}

/* smtp_tls_policy_value - apply a table entry; 0 or -1 with policy->why */

static int smtp_tls_policy_value(SMTP_TLS_POLICY *policy, const char *value)
{
    ARGV *words = argv_split(value, ARGV_DELIM_SPACE);
    int status = 0;

    if (words->argc == 0 || (policy->level = tls_level_lookup(words->argv[0])) == -1) {
        vstring_sprintf(policy->why, "invalid TLS policy \"%.100s\" for %s in %s", value,
                        policy->dest, smtp_tls.policy_param);
        argv_free(words);
        return -1;
    }
    for (int i = 1; i < words->argc && status == 0; i++) {
        char *word = words->argv[i];
        char *eq = strchr(word, '=');
        char **field = NULL;

        if (eq == NULL || eq == word || eq[1] == 0) {
            status = -1;
            break;
        }
        *eq = 0;
        if (strcasecmp(word, "match") == 0) {
            if (policy->match)
                argv_free(policy->match);
            policy->match = argv_split(eq + 1, ":");
            continue;
        }
        if (strcasecmp(word, "servername") == 0)
            field = &policy->servername;
        else if (strcasecmp(word, "protocols") == 0)
            field = &policy->protocols;
        else if (strcasecmp(word, "ciphers") == 0)
            field = &policy->grade;
        else if (strcasecmp(word, "exclude") == 0)
            field = &policy->exclude;
        else
            status = -1;
        if (field) {
            if (*field)
                myfree(*field);
            *field = mystrdup(eq + 1);
        }
        if (status < 0)
            *eq = '=';
    }
    if (status < 0)
        vstring_sprintf(policy->why, "invalid attribute in TLS policy \"%.100s\" for %s in %s",
                        value, policy->dest, smtp_tls.policy_param);
    argv_free(words);
    return status;
}

SMTP_TLS_POLICY *smtp_tls_policy(const char *dest, const char *nexthop)
{
    SMTP_TLS_POLICY *policy = smtp_tls_policy_alloc(dest, nexthop);
    const char *value = NULL;
    int rc = DICT_STAT_NOTFOUND;
    int mandatory;

    if (smtp_tls.policy_maps) {
        if (strchr(dest, '[') || strchr(dest, ':') || strchr(dest, '/'))
            rc = maps_find(smtp_tls.policy_maps, dest, MAPS_FIND_ALL, &value);
        else
            rc = mail_domain_find(smtp_tls.policy_maps, dest, smtp_tls.policy_param, &value);
        if (rc == DICT_STAT_ERROR) {
            policy->level = -1;
            vstring_sprintf(policy->why, "TLS policy lookup for %s failed", dest);
        } else if (rc == DICT_STAT_FOUND && smtp_tls_policy_value(policy, value) < 0) {
            policy->level = -1;
        }
    }
    mandatory = policy->level >= TLS_LEV_ENCRYPT;
    if (policy->match == NULL)
        policy->match = argv_split(policy->level == TLS_LEV_SECURE ? smtp_tls.secure_match
                                                                   : smtp_tls.verify_match,
                                   ARGV_DELIM_LIST);
    if (policy->servername == NULL)
        policy->servername = mystrdup(smtp_tls.servername);
    if (policy->protocols == NULL)
        policy->protocols = mystrdup(mandatory ? smtp_tls.mandatory_protocols : smtp_tls.protocols);
    if (policy->grade == NULL)
        policy->grade = mystrdup(mandatory ? smtp_tls.mandatory_ciphers : smtp_tls.ciphers);
    if (policy->exclude == NULL)
        policy->exclude = mystrdup("");
    if (msg_verbose)
        msg_info("TLS policy for %s: level %s", dest,
                 policy->level < 0 ? "invalid" : tls_level_name(policy->level));
    return policy;
}

void smtp_tls_policy_free(SMTP_TLS_POLICY *policy)
{
    if (policy == NULL)
        return;
    myfree(policy->dest);
    myfree(policy->nexthop);
    if (policy->match)
        argv_free(policy->match);
    if (policy->servername)
        myfree(policy->servername);
    if (policy->protocols)
        myfree(policy->protocols);
    if (policy->grade)
        myfree(policy->grade);
    if (policy->exclude)
        myfree(policy->exclude);
    vstring_free(policy->why);
    vstring_free(policy->cipherlist);
    myfree(policy);
}

int smtp_tls_policy_check(SMTP_STATE *state)
{
    SMTP_TLS_POLICY *policy = state->tls;
    TLS_PROTO proto;
    const char *base;
    VSTRING *exclude;
    int status;

    if (policy == NULL)
        return 0;
    if (policy->level == -1) {
        msg_warn("%s", vstring_str(policy->why));
        smtp_all_fail(state, "none", "4.7.5", "%s", vstring_str(policy->why));
        return -1;
    }
    if (policy->level == TLS_LEV_UNSUPPORTED) {
        smtp_all_fail(state, "none", "4.7.5",
                      "TLS security level in %s for %s is not supported by this client",
                      smtp_tls.policy_param, policy->dest);
        return -1;
    }
    if (policy->level >= TLS_LEV_ENCRYPT && smtp_tls.ctx == NULL) {
        smtp_all_fail(state, "none", "4.7.5",
                      "TLS is required for %s, but the TLS client engine is unavailable",
                      policy->dest);
        return -1;
    }
    if (policy->level == TLS_LEV_NONE || smtp_tls.ctx == NULL)
        return 0;
    if (tls_proto_parse(policy->protocols, &proto, policy->why) < 0) {
        vstring_sprintf_append(policy->why, " in the TLS protocols for %s", policy->dest);
        msg_warn("%s", vstring_str(policy->why));
        smtp_all_fail(state, "none", "4.7.5", "%s", vstring_str(policy->why));
        return -1;
    }
    base = tls_cipher_grade(policy->grade, var_tls_high_cipherlist, var_tls_medium_cipherlist,
                            var_tls_low_cipherlist, var_tls_export_cipherlist,
                            var_tls_null_cipherlist);
    exclude = vstring_alloc(100);
    vstring_sprintf(exclude, "%s %s", smtp_tls.exclude, policy->exclude);
    status = base == NULL
                 ? -1
                 : tls_proto_ciphers(policy->cipherlist, base, vstring_str(exclude),
                                     policy->level >= TLS_LEV_ENCRYPT ? smtp_tls.mandatory_exclude
                                                                      : NULL);
    vstring_free(exclude);
    if (status < 0) {
        vstring_sprintf(policy->why,
                        "invalid TLS cipher grade \"%s\" or cipher exclusion list "
                        "for %s",
                        policy->grade, policy->dest);
        msg_warn("%s", vstring_str(policy->why));
        smtp_all_fail(state, "none", "4.7.5", "%s", vstring_str(policy->why));
        return -1;
    }
    return 0;
}

/* smtp_tls_level - the level that applies to the current session */

static int smtp_tls_level(SMTP_STATE *state)
{
    if (state->tls == NULL || state->tls_off || smtp_tls.ctx == NULL)
        return TLS_LEV_NONE;
    return state->tls->level;
}

/* smtp_tls_name - a policy's name keyword made concrete for this session */

static void smtp_tls_name(SMTP_STATE *state, const char *word, ARGV *out)
{
    VSTRING *buf;

    if (strcasecmp(word, "hostname") == 0) {
        argv_add(out, state->session->host);
    } else if (strcasecmp(word, "nexthop") == 0) {
        argv_add(out, state->tls->nexthop);
    } else if (strcasecmp(word, "dot-nexthop") == 0) {
        buf = vstring_alloc(100);
        vstring_sprintf(buf, ".%s", state->tls->nexthop);
        argv_add(out, vstring_str(buf));
        vstring_free(buf);
    } else {
        argv_add(out, word);
    }
}

/*
 * smtp_tls_handshake - TLS on the session's stream and its judgement.
 * Returns SMTP_SESSION_OK or SMTP_SESSION_NEXT (failure recorded).
 */
static int smtp_tls_handshake(SMTP_STATE *state, int level)
{
    SMTP_SESSION *session = state->session;
    SMTP_TLS_POLICY *policy = state->tls;
    const char *relay = vstring_str(session->relay);
    TLS_CLIENT_START start;
    ARGV *match = argv_alloc(4);
    VSTRING *why = vstring_alloc(100);
    const char *sni = policy->servername;
    int trust;
    int rc = SMTP_SESSION_OK;

    if (level >= TLS_LEV_VERIFY)
        for (int i = 0; i < policy->match->argc; i++)
            smtp_tls_name(state, policy->match->argv[i], match);
    if (strcasecmp(sni, "hostname") == 0)
        sni = session->host;
    else if (strcasecmp(sni, "nexthop") == 0)
        sni = policy->nexthop;
    memset(&start, 0, sizeof(start));
    start.peer = relay;
    start.servername = *sni ? sni : NULL;
    start.protocols = policy->protocols;
    start.ciphers = vstring_str(policy->cipherlist);
    start.match = match;
    start.timeout = (int)smtp_tls.timeout;
    session->tls = tls_client_start(smtp_tls.ctx, session->stream, &start, &trust, why);
    if (session->tls == NULL) {
        session->broken = 1;
        if (level == TLS_LEV_MAY && !smtp_tls.wrapper)
            state->tls_retry = 1;
        smtp_all_fail(state, relay, "4.7.5", "Cannot start TLS: %s", vstring_str(why));
        rc = SMTP_SESSION_NEXT;
        goto done;
    }
    session->tls_trust = trust;
    session->features = 0;
    if (level >= TLS_LEV_VERIFY && trust < TLS_TRUST_VERIFIED) {
        if (smtp_tls.log_level < 2)
            msg_info("%s", vstring_str(why));
        smtp_all_fail(state, relay, "4.7.5", "%s",
                      trust < TLS_TRUST_TRUSTED ? "Server certificate not trusted"
                                                : "Server certificate not verified");
        rc = SMTP_SESSION_NEXT;
    }

done:
    argv_free(match);
    vstring_free(why);
    return rc;
}

int smtp_tls_wrapper(SMTP_STATE *state)
{
    int level = smtp_tls_level(state);

    state->session->tls_level = level;
    if (!smtp_tls.wrapper || level == TLS_LEV_NONE)
        return SMTP_SESSION_OK;
    return smtp_tls_handshake(state, level);
}

int smtp_tls_starttls(SMTP_STATE *state)
{
    SMTP_SESSION *session = state->session;
    SMTP_REPLY *reply = state->reply;
    const char *relay = vstring_str(session->relay);
    int level = smtp_tls_level(state);
    int rc;

    session->tls_level = level;
    if (session->tls)
        return SMTP_SESSION_OK;
    if (level == TLS_LEV_NONE) {
        if (smtp_tls.note_offer && (session->features & SMTP_FEATURE_STARTTLS))
            msg_info("Host offered STARTTLS: [%s]", session->host);
        return SMTP_SESSION_OK;
    }
    if (!(session->features & SMTP_FEATURE_STARTTLS)) {
        if (level == TLS_LEV_MAY)
            return SMTP_SESSION_OK;
        smtp_all_fail(state, relay, "4.7.4", "TLS is required, but was not offered by host %s[%s]",
                      session->host, session->addr);
        return SMTP_SESSION_NEXT;
    }
    if (smtp_send(session, "STARTTLS", 1, smtp_params.helo_timeout) < 0 ||
        (rc = smtp_read(session, reply, smtp_params.helo_timeout)) < 0) {
        smtp_lost(state, "sending STARTTLS", SMTP_REPLY_EOF);
        return SMTP_SESSION_NEXT;
    }
    if (rc == 421) {
        smtp_all_reply_fail(state, reply, "STARTTLS");
        return SMTP_SESSION_NEXT;
    }
    if (rc != 220) {
        if (level == TLS_LEV_MAY)
            return SMTP_SESSION_OK;
        smtp_all_fail(state, relay, reply->dsn[0] == '5' ? "4.7.5" : reply->dsn,
                      "TLS is required, but host %s[%s] refused to start TLS: %s", session->host,
                      session->addr, vstring_str(reply->text));
        return SMTP_SESSION_NEXT;
    }
    return smtp_tls_handshake(state, level);
}

int smtp_tls_reusable(SMTP_SESSION *session)
{
    SMTP_TLS_POLICY *policy;
    int ok;

    if (smtp_tls.level == TLS_LEV_NONE && smtp_tls.policy_maps == NULL)
        return 1;
    policy = smtp_tls_policy(session->hop, session->host);
    ok =
        policy->level >= 0 && (policy->level <= TLS_LEV_MAY || policy->level <= session->tls_level);
    smtp_tls_policy_free(policy);
    return ok;
}

void smtp_tls_stop(SMTP_SESSION *session)
{
    if (session->tls == NULL)
        return;
    tls_client_stop(session->stream, session->tls, (int)smtp_tls.timeout, session->broken);
    session->tls = NULL;
}
