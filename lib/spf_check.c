/*
 * NAME
 *	spf_check - SPF checks with libspf2 over postern's resolver
 * SYNOPSIS
 *	#include "spf_check.h"
 *
 *	void spf_check_init(void)
 *	int spf_check(const char *client_addr, const char *helo,
 *			const char *sender, const char *receiver,
 *			SPF_CHECK_RESULT *res)
 *	const char *spf_check_result_name(int code)
 *	void spf_check_result_init(SPF_CHECK_RESULT *res)
 *	void spf_check_result_free(SPF_CHECK_RESULT *res)
 * DESCRIPTION
 *	The contract is in spf_check.h. One libspf2 SPF_server_t serves the
 *	process; its resolver is a DNS layer of our own (libspf2's
 *	SPF_dns_server_t interface): each lookup is one dns_ptr_query()
 *	whose answer is taken apart into libspf2's record set (A, AAAA, MX,
 *	PTR, TXT and type 99 records). Answers that say the name does not
 *	exist or has no such record become HOST_NOT_FOUND or NO_DATA; every
 *	other failure (timeout, SERVFAIL, refused, a malformed answer)
 *	becomes TRY_AGAIN, which libspf2 turns into temperror. Nothing is
 *	cached between checks: the name servers cache.
 *
 *	The Received-SPF header is written here rather than taken from
 *	libspf2, so that its form is under our control: the result, a
 *	comment "(RECEIVER: TEXT)", then receiver, client-ip,
 *	envelope-from, helo and identity as RFC 7208 section 9.1 key-value
 *	pairs (values quoted unless they are dot-atoms).
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <resolv.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "dns.h"
#include "dns_ptr.h"
#include "msg.h"
#include "mymalloc.h"
#include "spf_check.h"
#include "valid_hostname.h"

#define SPF_CHECK_DEFAULT_EXP "SPF fail - not authorized"

static SPF_server_t *spf_server;
static SPF_dns_server_t spf_dns_layer;

/* ---- libspf2 messages ---- */

static void spf_log_error(const char *file, int line, const char *text) __attribute__((noreturn));

static void spf_log_error(const char *file, int line, const char *text)
{
    msg_fatal("libspf2: %s:%d: %s", file ? file : "?", line, text ? text : "");
}

static void spf_log_warning(const char *file, int line, const char *text)
{
    (void)file;
    (void)line;
    msg_warn("libspf2: %s", text ? text : "");
}

static void spf_log_info(const char *file, int line, const char *text)
{
    (void)file;
    (void)line;
    if (msg_verbose)
        msg_info("libspf2: %s", text ? text : "");
}

/* ---- the DNS layer ---- */

/* spf_dns_add - one record of the answer, as libspf2 stores it */

static int spf_dns_add(SPF_dns_rr_t *rr, int idx, const ns_msg *msg, const ns_rr *rec, ns_type type)
{
    const unsigned char *rdata = ns_rr_rdata(*rec);
    size_t rdlen = ns_rr_rdlen(*rec);
    char name[NS_MAXDNAME];
    size_t len;

    switch (type) {
    case ns_t_a:
        if (rdlen != 4 || SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in_addr)) != SPF_E_SUCCESS)
            return -1;
        memcpy(&rr->rr[idx]->a, rdata, 4);
        return 0;
    case ns_t_aaaa:
        if (rdlen != 16 ||
            SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in6_addr)) != SPF_E_SUCCESS)
            return -1;
        memcpy(&rr->rr[idx]->aaaa, rdata, 16);
        return 0;
    case ns_t_mx:
    case ns_t_ptr:
        if (type == ns_t_mx) {
            if (rdlen < 3)
                return -1;
            rdata += 2;
        }
        if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rdata, name, sizeof(name)) < 0)
            return -1;
        len = strlen(name);
        if (SPF_dns_rr_buf_realloc(rr, idx, len + 1) != SPF_E_SUCCESS)
            return -1;
        memcpy(type == ns_t_mx ? rr->rr[idx]->mx : rr->rr[idx]->ptr, name, len + 1);
        return 0;
    case ns_t_txt:
    case ns_t_spf: {
        char *text;
        size_t pos = 0;

        if (SPF_dns_rr_buf_realloc(rr, idx, rdlen + 1) != SPF_E_SUCCESS)
            return -1;
        text = rr->rr[idx]->txt;
        for (size_t i = 0; i < rdlen;) {
            size_t slen = rdata[i++];

            if (i + slen > rdlen)
                return -1;
            if (memchr(rdata + i, 0, slen))
                return -1;
            memcpy(text + pos, rdata + i, slen);
            pos += slen;
            i += slen;
        }
        text[pos] = 0;
        return 0;
    }
    default:
        return -1;
    }
}

static SPF_dns_rr_t *spf_dns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
                                    int should_cache)
{
    unsigned char *answer = mymalloc(DNS_ANSWER_MAX);
    SPF_dns_rr_t *rr;
    int len = 0;
    int status;
    int count = 0;
    ns_msg msg;

    (void)should_cache;
    status = dns_ptr_query(domain, type, answer, DNS_ANSWER_MAX, &len, NULL);
    if (status == DNS_OK && ns_initparse(answer, len, &msg) < 0)
        status = DNS_TEMP;
    rr = SPF_dns_rr_new_init(layer, domain, type, 0,
                             status == DNS_OK                                  ? NETDB_SUCCESS
                             : status == DNS_NOTFOUND && len == DNS_PTR_NODATA ? NO_DATA
                             : status == DNS_NOTFOUND || status == DNS_FAIL    ? HOST_NOT_FOUND
                                                                               : TRY_AGAIN);
    if (rr == NULL)
        msg_fatal("spf_check: out of memory");
    if (status == DNS_OK) {
        int total = ns_msg_count(msg, ns_s_an);

        for (int i = 0; i < total && i < DNS_RECORDS_MAX; i++) {
            ns_rr rec;

            if (ns_parserr(&msg, ns_s_an, i, &rec) < 0) {
                rr->herrno = TRY_AGAIN;
                count = 0;
                break;
            }
            if (ns_rr_class(rec) != ns_c_in || ns_rr_type(rec) != type)
                continue;
            if (spf_dns_add(rr, count, &msg, &rec, type) == 0)
                count++;
        }
        rr->num_rr = count;
        if (count == 0 && rr->herrno == NETDB_SUCCESS)
            rr->herrno = NO_DATA;
    }
    myfree(answer);
    return rr;
}

void spf_check_init(void)
{
    if (spf_server)
        return;
    SPF_error_handler = spf_log_error;
    SPF_warning_handler = spf_log_warning;
    SPF_info_handler = spf_log_info;
    SPF_debug_handler = spf_log_info;
    dns_ptr_init();
    memset(&spf_dns_layer, 0, sizeof(spf_dns_layer));
    spf_dns_layer.destroy = NULL; /* shared: never freed by libspf2 */
    spf_dns_layer.lookup = spf_dns_lookup;
    spf_dns_layer.name = "postern";
    spf_server = SPF_server_new_dns(&spf_dns_layer, 0);
    if (spf_server == NULL)
        msg_fatal("spf_check: cannot create the SPF server");
}

const char *spf_check_result_name(int code)
{
    static const char *names[] = {"none",     "neutral",   "pass",     "fail",
                                  "softfail", "temperror", "permerror"};

    return code >= 0 && code <= SPF_CHECK_PERMERROR ? names[code] : "permerror";
}

void spf_check_result_init(SPF_CHECK_RESULT *res)
{
    res->result = SPF_CHECK_NONE;
    res->header = vstring_alloc(200);
    res->comment = vstring_alloc(100);
    res->explanation = vstring_alloc(100);
}

void spf_check_result_free(SPF_CHECK_RESULT *res)
{
    vstring_free(res->header);
    vstring_free(res->comment);
    vstring_free(res->explanation);
}

/* spf_check_value - a key-value value: as is when a dot-atom, else quoted */

static void spf_check_value(VSTRING *out, const char *value)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    int atom = *value != 0 && *value != '.';
    size_t len = strlen(value);

    for (const char *cp = value; atom && *cp; cp++) {
        unsigned char ch = (unsigned char)*cp;

        if (!(ch >= 0x80 || (ch > ' ' && ch < 0x7f && (isalnum(ch) || strchr(atext, ch)))))
            atom = (ch == '.' && cp[1] != '.' && cp[1] != 0);
    }
    if (atom && value[len - 1] != '.') {
        vstring_strcat(out, value);
        return;
    }
    vstring_addch(out, '"');
    for (const char *cp = value; *cp; cp++) {
        unsigned char ch = (unsigned char)*cp;

        if (ch < ' ' || ch == 0x7f)
            continue;
        if (ch == '"' || ch == '\\')
            vstring_addch(out, '\\');
        vstring_addch(out, ch);
    }
    vstring_addch(out, '"');
}

/* spf_check_comment - the text of the header comment */

static void spf_check_comment(SPF_CHECK_RESULT *res, const char *receiver, const char *addr,
                              const char *identity, const char *detail)
{
    vstring_sprintf(res->comment, "%s: ", receiver);
    switch (res->result) {
    case SPF_CHECK_PASS:
        vstring_sprintf_append(res->comment, "domain of %s designates %s as permitted sender",
                               identity, addr);
        break;
    case SPF_CHECK_FAIL:
        vstring_sprintf_append(
            res->comment, "domain of %s does not designate %s as permitted sender", identity, addr);
        break;
    case SPF_CHECK_SOFTFAIL:
        vstring_sprintf_append(res->comment,
                               "domain of transitioning %s does not designate %s as permitted "
                               "sender",
                               identity, addr);
        break;
    case SPF_CHECK_NEUTRAL:
        vstring_sprintf_append(res->comment, "%s is neither permitted nor denied by domain of %s",
                               addr, identity);
        break;
    case SPF_CHECK_NONE:
        vstring_sprintf_append(res->comment,
                               "domain of %s does not designate permitted sender hosts", identity);
        break;
    default:
        vstring_sprintf_append(res->comment, "error in processing during lookup of %s: %s",
                               identity, detail);
        break;
    }
}

static void spf_check_header(SPF_CHECK_RESULT *res, const char *receiver, const char *addr,
                             const char *identity, const char *helo, int helo_identity)
{
    VSTRING *hdr = res->header;

    vstring_sprintf(hdr, "Received-SPF: %s (", spf_check_result_name(res->result));
    for (const char *cp = vstring_str(res->comment); *cp; cp++)
        vstring_addch(
            hdr, (*cp == '(' || *cp == ')' || *cp == '\\' || (unsigned char)*cp < ' ') ? ' ' : *cp);
    vstring_strcat(hdr, ") receiver=");
    spf_check_value(hdr, receiver);
    vstring_strcat(hdr, "; client-ip=");
    vstring_strcat(hdr, addr);
    vstring_strcat(hdr, "; envelope-from=");
    spf_check_value(hdr, identity);
    if (helo && *helo) {
        vstring_strcat(hdr, "; helo=");
        spf_check_value(hdr, helo);
    }
    vstring_strcat(hdr, helo_identity ? "; identity=helo;" : "; identity=mailfrom;");
}

static int spf_check_map(SPF_result_t result)
{
    switch (result) {
    case SPF_RESULT_PASS:
        return SPF_CHECK_PASS;
    case SPF_RESULT_FAIL:
        return SPF_CHECK_FAIL;
    case SPF_RESULT_SOFTFAIL:
        return SPF_CHECK_SOFTFAIL;
    case SPF_RESULT_NEUTRAL:
        return SPF_CHECK_NEUTRAL;
    case SPF_RESULT_NONE:
        return SPF_CHECK_NONE;
    case SPF_RESULT_TEMPERROR:
        return SPF_CHECK_TEMPERROR;
    default:
        return SPF_CHECK_PERMERROR;
    }
}

/*
 * spf_check_query - the MAIL FROM check as SPF_request_query_mailfrom()
 * does it, without its shortcut that passes every loopback client
 * unchecked: find the record, then interpret it. The result is always
 * set in *respp.
 */
static SPF_errcode_t spf_check_query(SPF_request_t *req, SPF_response_t **respp)
{
    SPF_record_t *record = NULL;
    SPF_response_t *resp;
    SPF_errcode_t err;

    if ((resp = *respp = SPF_response_new(req)) == NULL)
        msg_fatal("spf_check: out of memory");
    req->use_local_policy = 0;
    req->cur_dom = req->env_from_dp;
    if (req->cur_dom == NULL) {
        SPF_i_done(resp, SPF_RESULT_NONE, SPF_REASON_FAILURE, SPF_E_NOT_SPF);
        return SPF_E_NOT_SPF;
    }
    err = SPF_server_get_record(spf_server, req, resp, &record);
    if (SPF_response_result(resp) != SPF_RESULT_INVALID) {
        /* libspf2 has decided: no record (none), several records (permerror) */
    } else if (err == SPF_E_SUCCESS && record != NULL) {
        resp->spf_record_exp = record; /* where exp= is looked for */
        err = SPF_record_interpret(record, req, resp, 0);
    } else if (err == SPF_E_DNS_ERROR) {
        SPF_i_done(resp, SPF_RESULT_TEMPERROR, SPF_REASON_FAILURE, err);
    } else if (record != NULL || err != SPF_E_NOT_SPF) {
        /* a record that does not compile is a permanent error (RFC 7208 4.6) */
        SPF_i_done(resp, SPF_RESULT_PERMERROR, SPF_REASON_FAILURE,
                   err != SPF_E_SUCCESS ? err : SPF_E_INTERNAL_ERROR);
    } else {
        SPF_i_done(resp, SPF_RESULT_NONE, SPF_REASON_FAILURE, err);
    }
    if (record)
        SPF_record_free(record);
    return err;
}

/* spf_check_detail - why the check ended in an error */

static const char *spf_check_detail(SPF_response_t *resp, SPF_errcode_t err)
{
    for (int i = 0; i < SPF_response_messages(resp); i++) {
        SPF_error_t *msg = SPF_response_message(resp, i);

        if (SPF_error_errorp(msg) && SPF_error_message(msg))
            return SPF_error_message(msg);
    }
    return SPF_strerror(err != SPF_E_SUCCESS ? err : SPF_response_errcode(resp));
}

int spf_check(const char *client_addr, const char *helo, const char *sender, const char *receiver,
              SPF_CHECK_RESULT *res)
{
    SPF_request_t *req;
    SPF_response_t *resp = NULL;
    VSTRING *identity = vstring_alloc(100);
    const char *detail = "";
    int helo_identity = (*sender == 0);
    const char *at = strrchr(sender, '@');
    int v6 = strchr(client_addr, ':') != NULL;

    spf_check_init();
    vstring_reset(res->explanation);
    res->result = SPF_CHECK_NONE;
    if (helo_identity)
        vstring_sprintf(identity, "postmaster@%s", helo ? helo : "");
    else
        vstring_strcpy(identity, sender);

    req = SPF_request_new(spf_server);
    if (req == NULL)
        msg_fatal("spf_check: out of memory");
    if ((v6 ? SPF_request_set_ipv6_str(req, client_addr)
            : SPF_request_set_ipv4_str(req, client_addr)) != SPF_E_SUCCESS) {
        res->result = SPF_CHECK_PERMERROR;
        detail = "bad client address";
    } else if (helo_identity && (helo == NULL || !valid_hostname(helo, 0))) {
        detail = "no usable HELO name";
    } else if (!helo_identity && (at == NULL || !valid_hostname(at + 1, 0))) {
        detail = "no usable sender domain";
    } else {
        if (helo && *helo)
            SPF_request_set_helo_dom(req, helo);
        if (SPF_request_set_env_from(req, vstring_str(identity)) != 0) {
            detail = "bad sender address";
        } else {
            SPF_errcode_t err = spf_check_query(req, &resp);

            res->result = spf_check_map(SPF_response_result(resp));
            if (res->result == SPF_CHECK_TEMPERROR || res->result == SPF_CHECK_PERMERROR)
                detail = spf_check_detail(resp, err);
        }
    }
    spf_check_comment(res, receiver, client_addr, vstring_str(identity), detail);
    if (res->result == SPF_CHECK_FAIL)
        vstring_sprintf(res->explanation, "%s: %s", SPF_CHECK_DEFAULT_EXP,
                        vstring_str(res->comment) + strlen(receiver) + 2);
    spf_check_header(res, receiver, client_addr, vstring_str(identity), helo, helo_identity);
    if (resp)
        SPF_response_free(resp);
    SPF_request_free(req);
    vstring_free(identity);
    return res->result;
}
