/*
 * NAME
 *	fuzz_smtpd_restrictions - libFuzzer harness for the restriction and check parsers
 * SYNOPSIS
 *	build/fuzz/fuzz_smtpd_restrictions [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The restriction engine (smtpd/smtpd_check*.c) is compiled into the
 *	harness. Its network calls are replaced, at compile time, by fakes
 *	whose answers come from the input: DNS lookups (MX, addresses, DNS
 *	lists with a TXT reason, client names), the policy service (its
 *	action) and SPF (the result). So every restriction can be
 *	evaluated, quickly and without a network.
 *
 *	Input: byte 0 selects the mode, byte 1 the fakes' answers, the
 *	rest is text.
 *	  mode 0  a restriction list: parsed (non-fatal) and evaluated as
 *	          the RCPT stage of a session, then freed
 *	  mode 1  an access table action: carried out by
 *	          check_table_result() (nested lists, classes, PREPEND...)
 *	  mode 2  a check_policy_service specification (policy_spec_parse)
 *	  mode 3  policy server reply lines (policy_reply_line)
 *	  mode 4  a reply template (dns_rbl_expand), and the text as a DNS
 *	          list "zone=filter" (dns_rbl_split, filters, reversal)
 *	Properties (abort when one fails): a rejection's reply is "CODE
 *	DSN text" with a 4xx or 5xx code whose class the DSN repeats; a
 *	pass leaves no reply; every header kept for PREPEND has a name
 *	without spaces or control characters followed by ':', and the
 *	headers written for the message never contain a line end; an
 *	expanded template is never longer than DNS_RBL_EXPAND_MAX bytes.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* the fakes replace these in the engine's sources */
#define dns_lookup_mx fuzz_dns_lookup_mx
#define dns_mx_free fuzz_dns_mx_free
#define dns_lookup_addr fuzz_dns_lookup_addr
#define dns_rbl_lookup fuzz_dns_rbl_lookup
#define dns_ptr_verify fuzz_dns_ptr_verify
#define policy_client_request fuzz_policy_client_request
#define spf_check fuzz_spf_check

#include "../../smtpd/smtpd_check.c"
#include "../../smtpd/smtpd_check_access.c"
#include "../../smtpd/smtpd_check_local.c"
#include "../../smtpd/smtpd_check_dns.c"
#include "../../smtpd/smtpd_check_policy.c"
#include "../../smtpd/smtpd_check_spf.c"

static unsigned fuzz_oracle; /* byte 1 of the input */
static unsigned fuzz_calls;
static VSTRING *fuzz_headers;

/* fuzz_answer - the next answer of the fakes: one of n */

static unsigned fuzz_answer(unsigned n)
{
    unsigned v = (fuzz_oracle >> (fuzz_calls++ % 4) * 2) & 3;

    return v % n;
}

static const int fuzz_codes[] = {DNS_OK, DNS_NOTFOUND, DNS_TEMP, DNS_FAIL};

int fuzz_dns_lookup_mx(const char *domain, DNS_MX_LIST **list, VSTRING *why)
{
    static const int codes[] = {DNS_OK, DNS_NOTFOUND, DNS_TEMP, DNS_NULLMX};

    (void)domain;
    (void)why;
    *list = NULL;
    return codes[fuzz_answer(4)];
}

void fuzz_dns_mx_free(DNS_MX_LIST *list)
{
    (void)list;
}

int fuzz_dns_lookup_addr(const char *host, int flags, DNS_ADDR_LIST *list, VSTRING *why)
{
    (void)host;
    (void)flags;
    (void)list;
    (void)why;
    return fuzz_codes[fuzz_answer(4)];
}

int fuzz_dns_rbl_lookup(const char *name, const char *filter, char *found, VSTRING *txt,
                        VSTRING *why)
{
    int status = fuzz_codes[fuzz_answer(4)];

    (void)name;
    (void)filter;
    (void)why;
    if (txt)
        vstring_strcpy(txt, status == DNS_OK && fuzz_answer(2) ? "listed: $rbl_code ${x}" : "");
    if (found)
        strcpy(found, "127.0.0.2");
    return status;
}

int fuzz_dns_ptr_verify(const char *addr, int *reverse_status, VSTRING *reverse_name, VSTRING *name,
                        VSTRING *why)
{
    (void)addr;
    (void)why;
    *reverse_status = fuzz_codes[fuzz_answer(3)];
    if (reverse_name)
        vstring_strcpy(reverse_name, "ptr.example");
    if (name)
        vstring_strcpy(name, "host.example");
    return fuzz_codes[fuzz_answer(3)];
}

static const char *fuzz_actions[] = {"DUNNO", "REJECT policy", "PREPEND X-Policy: yes",
                                     "DEFER_IF_PERMIT wait"};

int fuzz_policy_client_request(POLICY_CLIENT *pc, ARGV *attrs, VSTRING *action, VSTRING *why)
{
    unsigned pick = fuzz_answer(4);

    (void)pc;
    (void)attrs;
    if (pick == 3) {
        vstring_strcpy(why, "fake failure");
        return -1;
    }
    vstring_strcpy(action, fuzz_actions[pick]);
    return 0;
}

int fuzz_spf_check(const char *client_addr, const char *helo, const char *sender,
                   const char *receiver, SPF_CHECK_RESULT *res)
{
    static const int results[] = {SPF_CHECK_PASS, SPF_CHECK_FAIL, SPF_CHECK_TEMPERROR,
                                  SPF_CHECK_SOFTFAIL};

    (void)client_addr;
    (void)helo;
    (void)sender;
    res->result = results[fuzz_answer(4)];
    vstring_sprintf(res->comment, "%s: fake", receiver);
    vstring_strcpy(res->header, "Received-SPF: fake");
    vstring_strcpy(res->explanation, "fake explanation");
    return res->result;
}

/* ---- what the engine calls in smtpd ---- */

void smtpd_log_reject(SMTPD_STATE *state, const char *kind, const char *what, const char *reply,
                      const char *rcpt)
{
    (void)state;
    (void)kind;
    (void)what;
    (void)reply;
    (void)rcpt;
}

void smtpd_data_line(int type, const char *data, size_t len, void *context)
{
    (void)type;
    (void)context;
    if (memchr(data, '\n', len) || memchr(data, '\r', len))
        abort();
    vstring_memcat(fuzz_headers, data, len);
}

/* ---- set-up ---- */

static const char fuzz_main_cf[] = "mynetworks = 10.0.0.0/8\n"
                                   "mydestination = mx.example.com\n"
                                   "alias_maps =\n"
                                   "local_recipient_maps = inline:{ root=x }\n"
                                   "smtpd_restriction_classes = c1, c2\n"
                                   "c1 = reject_non_fqdn_sender, check_spf, permit\n"
                                   "c2 = c1, defer_if_permit\n"
                                   "smtpd_relay_restrictions = reject_unauth_destination\n"
                                   "smtpd_sender_login_maps = inline:{ {a@example.org=alice} }\n"
                                   "rbl_reply_maps = inline:{ {bad.zone=nonsense} }\n"
                                   "smtpd_peername_lookup = yes\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    VSTRING *why = vstring_alloc(100);

    (void)argc;
    (void)argv;
    msg_init("fuzz_smtpd_restrictions");
    msg_set_syslog(0);
    if (mail_conf_parse(fuzz_main_cf, strlen(fuzz_main_cf), "fuzz", why) < 0)
        abort();
    vstring_free(why);
    mail_conf_eval();
    smtpd_check_init();
    fuzz_headers = vstring_alloc(100);
    return 0;
}

/* fuzz_reply_ok - "CODE DSN text" with matching classes */

static int fuzz_reply_ok(const char *reply)
{
    if (!(reply[0] == '4' || reply[0] == '5') || !isdigit((unsigned char)reply[1]) ||
        !isdigit((unsigned char)reply[2]) || reply[3] != ' ')
        return 0;
    if (reply[4] != reply[0] || reply[5] != '.')
        return 0;
    return 1;
}

static void fuzz_state(SMTPD_STATE *state, int variant)
{
    memset(state, 0, sizeof(*state));
    state->name = variant & 1 ? "client.example" : "unknown";
    state->addr = variant & 2 ? "2001:db8::1" : "192.0.2.1";
    state->port = "1025";
    state->namaddr = "unknown[192.0.2.1]";
    state->local_addr = "127.0.0.1";
    state->helo_name = variant & 4 ? "[192.0.2.1]" : "helo.example";
    state->protocol = "ESMTP";
    state->where = "RCPT";
    state->sender = variant & 8 ? "" : "a@example.org";
    state->in_mail = 1;
    state->rcpt_count = variant & 16 ? 2 : 0;
    state->sasl_username = variant & 32 ? "alice" : NULL;
}

static void fuzz_check_prepends(SMTPD_STATE *state)
{
    CHECK_SESSION *sess = state->check_context;

    if (sess == NULL)
        return;
    for (int i = 0; i < sess->prepend->argc; i++) {
        const char *h = sess->prepend->argv[i];
        size_t n = strcspn(h, ":");

        if (n == 0 || h[n] != ':')
            abort();
        for (size_t j = 0; j < n; j++)
            if ((unsigned char)h[j] <= ' ' || (unsigned char)h[j] >= 0x7f)
                abort();
    }
    vstring_reset(fuzz_headers);
    smtpd_check_headers(state);
}

static void fuzz_evaluate(const char *text, int mode, int variant)
{
    SMTPD_STATE state;
    VSTRING *reply = vstring_alloc(100);
    CHECK ck;
    int status;

    fuzz_state(&state, variant);
    check_start(&ck, &state, "RCPT", "rcpt@example.net", reply);
    ck.stage = STAGE_RCPT;
    if (mode == 0) {
        RESTR_LIST *list = check_parse("fuzz", STAGE_RCPT, text, 0);

        status = check_list(&ck, list);
        check_free_list(list);
    } else {
        status = check_table_result(&ck, "fuzz", text, "rcpt@example.net", "Recipient address");
    }
    status = check_finish(&ck, status);
    if (status == SMTPD_CHECK_REJECT && !fuzz_reply_ok(vstring_str(reply)))
        abort();
    if (status == SMTPD_CHECK_OK && vstring_len(reply) != 0)
        abort();
    fuzz_check_prepends(&state);
    smtpd_check_reset(&state);
    smtpd_check_session_end(&state);
    vstring_free(reply);
}

static const char *fuzz_macro(const char *name, void *context)
{
    (void)context;
    if (strcmp(name, "long") == 0)
        return "0123456789012345678901234567890123456789012345678901234567890123456789";
    if (strcmp(name, "empty") == 0)
        return "";
    if (strcmp(name, "dollar") == 0)
        return "$dollar ${dollar}";
    return strlen(name) % 2 ? name : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    int mode;

    if (size < 2 || size > 4096)
        return 0;
    mode = data[0] % 5;
    fuzz_oracle = data[1];
    fuzz_calls = 0;
    text = mystrndup((const char *)data + 2, size - 2);
    if (strlen(text) != size - 2) { /* C strings: no NUL inside */
        myfree(text);
        return 0;
    }
    switch (mode) {
    case 0:
    case 1:
        fuzz_evaluate(text, mode, data[1]);
        break;
    case 2: {
        POLICY_SPEC spec;
        VSTRING *why = vstring_alloc(10);

        policy_spec_init(&spec);
        if (policy_spec_parse(text, &spec, why) == 0) {
            if (spec.endpoint == NULL || spec.try_limit < 1 || spec.timeout < 1)
                abort();
        }
        policy_spec_free(&spec);
        vstring_free(why);
        break;
    }
    case 3: {
        VSTRING *name = vstring_alloc(10);
        VSTRING *value = vstring_alloc(10);
        ARGV *lines = argv_split(text, "\n");

        for (int i = 0; i < lines->argc; i++) {
            int st = policy_reply_line(lines->argv[i], strlen(lines->argv[i]), name, value);

            if (st == 1 && (vstring_len(name) == 0 || strchr(vstring_str(name), '=')))
                abort();
        }
        argv_free(lines);
        vstring_free(name);
        vstring_free(value);
        break;
    }
    case 4: {
        VSTRING *out = vstring_alloc(10);
        VSTRING *why = vstring_alloc(10);
        VSTRING *zone = vstring_alloc(10);
        VSTRING *filter = vstring_alloc(10);
        static const unsigned char ip[4] = {127, 0, 0, 2};

        dns_rbl_expand(out, text, fuzz_macro, NULL, why);
        if (vstring_len(out) > DNS_RBL_EXPAND_MAX)
            abort();
        if (dns_rbl_split(text, zone, filter) == 0 && vstring_len(filter) > 0)
            (void)dns_rbl_filter_match(vstring_str(filter), ip);
        (void)dns_rbl_reverse(out, text, "zone.example");
        (void)dns_rbl_domain(out, text, "zone.example");
        vstring_free(out);
        vstring_free(why);
        vstring_free(zone);
        vstring_free(filter);
        break;
    }
    }
    myfree(text);
    return 0;
}
