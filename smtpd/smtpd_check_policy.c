/*
 * NAME
 *	smtpd_check_policy - check_policy_service: policy delegation
 * SYNOPSIS
 *	#include "smtpd_check_impl.h"
 *
 *	int check_policy_parse(RESTR *r, VSTRING *why)
 *	int check_policy(CHECK *ck, RESTR *r)
 *	void check_policy_free(RESTR *r)
 * DESCRIPTION
 *	check_policy_parse() prepares "check_policy_service SERVICE", where
 *	SERVICE is inet:host:port, unix:pathname, or the brace form with
 *	per-service settings (lib/policy_client.h); settings not given come
 *	from the smtpd_policy_service_* parameters. Restrictions that name
 *	the same SERVICE text share one client, and so one connection,
 *	which stays open across requests and sessions within the limits of
 *	max_idle, max_ttl and request_limit.
 *
 *	check_policy() sends the request of Postfix's policy delegation
 *	protocol (request=smtpd_access_policy, protocol_state,
 *	protocol_name, helo_name, queue_id, sender, recipient,
 *	recipient_count, client_address, client_name, reverse_client_name,
 *	client_port, instance, sasl_method, sasl_username, sasl_sender,
 *	size, ccert_*, encryption_protocol, encryption_cipher,
 *	encryption_keysize, etrn_domain, stress, policy_context,
 *	server_address, server_port, compatibility_level, mail_version)
 *	and carries out the action of the reply as an access(5) table
 *	action, with the name and class of the list being evaluated in
 *	the reply text. instance is the same for every request of one
 *	mail transaction and differs between transactions. When the
 *	service cannot be reached or gives no valid reply after try_limit
 *	attempts, "warning: problem talking to server SERVICE: REASON" is
 *	logged and default_action is carried out instead.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "htable.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "policy_client.h"
#include "smtpd_check_impl.h"

typedef struct CHECK_POLICY {
    char *key; /* the service text, for sharing */
    int refcount;
    POLICY_CLIENT *client;
} CHECK_POLICY;

static HTABLE *check_policy_clients;

int check_policy_parse(RESTR *r, VSTRING *why)
{
    CHECK_POLICY *cp;
    POLICY_SPEC spec;

    if (check_policy_clients == NULL)
        check_policy_clients = htable_create(5);
    if ((cp = htable_find(check_policy_clients, r->arg)) != NULL) {
        cp->refcount++;
        r->data = cp;
        return 0;
    }
    policy_spec_init(&spec);
    spec.timeout = var_smtpd_policy_service_timeout;
    spec.max_idle = var_smtpd_policy_service_max_idle;
    spec.max_ttl = var_smtpd_policy_service_max_ttl;
    spec.retry_delay = var_smtpd_policy_service_retry_delay;
    spec.try_limit = var_smtpd_policy_service_try_limit;
    spec.request_limit = var_smtpd_policy_service_request_limit;
    spec.default_action = mystrdup(var_smtpd_policy_service_default_action);
    spec.policy_context = mystrdup(var_smtpd_policy_service_policy_context);
    if (policy_spec_parse(r->arg, &spec, why) < 0) {
        policy_spec_free(&spec);
        return -1;
    }
    cp = mymalloc(sizeof(*cp));
    cp->key = mystrdup(r->arg);
    cp->refcount = 1;
    cp->client = policy_client_create(&spec);
    policy_spec_free(&spec);
    htable_enter(check_policy_clients, cp->key, cp);
    r->data = cp;
    return 0;
}

void check_policy_free(RESTR *r)
{
    CHECK_POLICY *cp = r->data;

    if (cp == NULL)
        return;
    r->data = NULL;
    if (--cp->refcount > 0)
        return;
    htable_delete(check_policy_clients, cp->key, NULL);
    policy_client_free(cp->client);
    myfree(cp->key);
    myfree(cp);
}

static void check_policy_attr(ARGV *attrs, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s=%s", name, value ? value : "");
    argv_add(attrs, vstring_str(buf));
    vstring_free(buf);
}

static void check_policy_num(ARGV *attrs, const char *name, long long value)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", value);
    check_policy_attr(attrs, name, buf);
}

/* check_policy_request - the attributes of one request */

static ARGV *check_policy_request(CHECK *ck, const POLICY_SPEC *spec)
{
    SMTPD_STATE *state = ck->state;
    CHECK_SESSION *sess = check_session(state);
    ARGV *attrs = argv_alloc(40);
    char instance[80];
    int after_rcpt = ck->stage == STAGE_DATA || ck->stage == STAGE_EOD;

    check_client_names(state);
    snprintf(instance, sizeof(instance), "%x.%lx.%lx.%x", (unsigned)getpid(), sess->serial,
             sess->txn, 0u);
    check_policy_attr(attrs, "request", "smtpd_access_policy");
    check_policy_attr(attrs, "protocol_state", state->where);
    check_policy_attr(attrs, "protocol_name", state->protocol);
    check_policy_attr(attrs, "helo_name", state->helo_name);
    check_policy_attr(attrs, "queue_id", state->queue_id);
    check_policy_attr(attrs, "sender", state->in_mail ? state->sender : "");
    check_policy_attr(attrs, "recipient", ck->rcpt ? ck->rcpt : "");
    check_policy_num(attrs, "recipient_count", after_rcpt ? state->rcpt_count : 0);
    check_policy_attr(attrs, "client_address", state->addr);
    check_policy_attr(attrs, "client_name", sess->name);
    check_policy_attr(attrs, "reverse_client_name", sess->reverse_name);
    check_policy_attr(attrs, "client_port", state->port);
    check_policy_attr(attrs, "instance", instance);
    check_policy_attr(attrs, "sasl_method", state->sasl_method);
    check_policy_attr(attrs, "sasl_username", state->sasl_username);
    check_policy_attr(attrs, "sasl_sender", state->sasl_sender);
    check_policy_num(attrs, "size",
                     ck->stage == STAGE_EOD ? (long long)state->act_size : state->mail_size);
    check_policy_attr(attrs, "ccert_subject", "");
    check_policy_attr(attrs, "ccert_issuer", "");
    check_policy_attr(attrs, "ccert_fingerprint", "");
    check_policy_attr(attrs, "ccert_pubkey_fingerprint", "");
    check_policy_attr(attrs, "encryption_protocol", state->tls_active ? state->tls_protocol : "");
    check_policy_attr(attrs, "encryption_cipher", state->tls_active ? state->tls_cipher : "");
    check_policy_num(attrs, "encryption_keysize", state->tls_active ? state->tls_cipher_bits : 0);
    check_policy_attr(attrs, "etrn_domain", "");
    check_policy_attr(attrs, "stress", "");
    check_policy_attr(attrs, "policy_context", spec->policy_context);
    check_policy_attr(attrs, "server_address", state->local_addr);
    check_policy_attr(attrs, "server_port", "");
    check_policy_attr(attrs, "compatibility_level", var_compatibility_level);
    check_policy_attr(attrs, "mail_version", var_mail_version);
    return attrs;
}

int check_policy(CHECK *ck, RESTR *r)
{
    CHECK_POLICY *cp = r->data;
    const POLICY_SPEC *spec = policy_client_spec(cp->client);
    ARGV *attrs = check_policy_request(ck, spec);
    VSTRING *action = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *name = vstring_alloc(100);
    const char *class;
    int status;

    vstring_strcpy(name, check_stage_name(ck, &class));
    if (policy_client_request(cp->client, attrs, action, why) < 0) {
        msg_warn("problem talking to server %s: %s", spec->endpoint, vstring_str(why));
        vstring_strcpy(action, spec->default_action ? spec->default_action : "DUNNO");
    } else if (msg_verbose) {
        msg_info("policy server %s: action=%s", spec->endpoint, vstring_str(action));
    }
    status = check_table_result(ck, spec->endpoint, vstring_str(action), vstring_str(name), class);
    argv_free(attrs);
    vstring_free(action);
    vstring_free(why);
    vstring_free(name);
    return status;
}
