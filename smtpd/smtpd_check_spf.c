/*
 * NAME
 *	smtpd_check_spf - check_spf: the sender's SPF policy
 * SYNOPSIS
 *	#include "smtpd_check_impl.h"
 *
 *	int check_spf(CHECK *ck)
 *	void check_spf_session_free(CHECK_SESSION *sess)
 * DESCRIPTION
 *	check_spf() is the postern restriction check_spf. Once MAIL FROM
 *	is known it checks the sender's SPF policy (RFC 7208) for the
 *	client address, with lib/spf_check.h (libspf2 asking the name
 *	servers of smtp_dns_servers); for the null sender the HELO name is
 *	checked as postmaster@helo. The result is kept for the session and
 *	used again as long as client, HELO name and sender are the same,
 *	so that the lists evaluated at every RCPT do not repeat the
 *	queries.
 *
 *	fail: "$spf_fail_reject_code 5.7.23 <sender>: Sender address
 *	rejected: SPF fail - not authorized: domain of SENDER does not
 *	designate ADDRESS as permitted sender". temperror: "451 4.7.24
 *	<sender>: Sender address rejected: SPF temporary error: ...".
 *	Either can be softened by warn_if_reject or defer_if_reject.
 *	pass, softfail, neutral, none and permerror (and a fail or
 *	temperror that warn_if_reject turned into a warning) add the
 *	Received-SPF: header to the message (once) and let the request go
 *	on to the next restriction.
 *
 *	check_spf_session_free() forgets the session's result.
 */
#include <string.h>

#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd_check_impl.h"
#include "spf_check.h"

void check_spf_session_free(CHECK_SESSION *sess)
{
    if (sess->spf_key)
        myfree(sess->spf_key);
    if (sess->spf_header)
        myfree(sess->spf_header);
    if (sess->spf_text)
        myfree(sess->spf_text);
    sess->spf_key = sess->spf_header = sess->spf_text = NULL;
}

/* check_spf_eval - the result for this client, HELO name and sender */

static void check_spf_eval(SMTPD_STATE *state, CHECK_SESSION *sess)
{
    VSTRING *key = vstring_alloc(100);
    SPF_CHECK_RESULT res;
    const char *comment;

    vstring_sprintf(key, "%s\n%s\n%s", state->addr, state->helo_name ? state->helo_name : "",
                    state->sender);
    if (sess->spf_key && strcmp(sess->spf_key, vstring_str(key)) == 0) {
        vstring_free(key);
        return;
    }
    check_spf_session_free(sess);
    spf_check_result_init(&res);
    sess->spf_result =
        spf_check(state->addr, state->helo_name, state->sender, var_myhostname, &res);
    comment = vstring_str(res.comment);
    if (strncmp(comment, var_myhostname, strlen(var_myhostname)) == 0 &&
        strncmp(comment + strlen(var_myhostname), ": ", 2) == 0)
        comment += strlen(var_myhostname) + 2;
    sess->spf_key = vstring_export(key);
    sess->spf_header = mystrdup(vstring_str(res.header));
    sess->spf_text =
        mystrdup(sess->spf_result == SPF_CHECK_FAIL ? vstring_str(res.explanation) : comment);
    if (msg_verbose)
        msg_info("%s: SPF %s: %s", state->namaddr, spf_check_result_name(sess->spf_result),
                 sess->spf_text);
    spf_check_result_free(&res);
}

int check_spf(CHECK *ck)
{
    SMTPD_STATE *state = ck->state;
    CHECK_SESSION *sess = check_session(state);
    VSTRING *qbuf;
    int status = CHECK_DUNNO;

    if (!state->in_mail)
        return CHECK_DUNNO;
    check_spf_eval(state, sess);
    qbuf = vstring_alloc(100);
    if (sess->spf_result == SPF_CHECK_FAIL)
        status = check_reject(ck, (int)var_spf_fail_reject_code, "5.7.23",
                              "<%s>: Sender address rejected: %s", check_quote(state->sender, qbuf),
                              sess->spf_text);
    else if (sess->spf_result == SPF_CHECK_TEMPERROR)
        status = check_reject(ck, 451, "4.7.24",
                              "<%s>: Sender address rejected: SPF temporary error: %s",
                              check_quote(state->sender, qbuf), sess->spf_text);
    if (status != CHECK_REJECT)
        check_prepend(ck, sess->spf_header);
    vstring_free(qbuf);
    return status;
}
