/*
 * NAME
 *	smtpd_received - the Received: header the SMTP server prepends
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_received(SMTPD_STATE *state)
 *	const char *smtpd_received_proto(SMTPD_STATE *state, int utf8)
 * DESCRIPTION
 *	smtpd_received() passes the Received: header (RFC 5321 section
 *	4.4) to the content stream as the first lines of the message,
 *	through smtpd_data_line(), so that it counts towards the message
 *	size like any other content:
 *
 *	    Received: from HELO (NAME [ADDRESS])
 *	    	(using TLSv1.3 with cipher NAME (256/256 bits))
 *	    	(No client certificate requested)
 *	    	(Authenticated sender: USER)
 *	    	by MYHOSTNAME (MAIL_NAME) with PROTOCOL id QUEUEID
 *	    	for <RECIPIENT>; DATE
 *
 *	HELO is the name the client gave (its host name when it gave
 *	none); ADDRESS is an RFC 5321 literal body ("IPv6:..." for IPv6).
 *	The two TLS lines appear for a session over TLS with
 *	$smtpd_tls_received_header, the SASL user with
 *	$smtpd_sasl_authenticated_header for a client that logged in.
 *	PROTOCOL is smtpd_received_proto(): SMTP or ESMTP, with S added
 *	for TLS and A for a SASL login (ESMTPS, ESMTPA, ESMTPSA: RFC
 *	3848), and with UTF8 in front when the sender asked for SMTPUTF8
 *	(UTF8SMTP, UTF8SMTPSA...: RFC 6531). An EHLO-less (HELO) session
 *	stays SMTP, as RFC 3848 defines no other name for it. The "for" clause names the
 *	recipient only when there is exactly one, so that a message to
 *	many does not disclose the others. DATE is the RFC 5322 date of
 *	now in local time with the zone name as a comment; names of days
 *	and months never depend on the locale.
 */
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "address.h"
#include "mail_params.h"
#include "rec.h"
#include "smtpd.h"
#include "vstring.h"

static const char *smtpd_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *smtpd_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* smtpd_received_date - RFC 5322 date-time of now */

static void smtpd_received_date(VSTRING *buf)
{
    time_t now = time(NULL);
    struct tm tm;
    long off;

    localtime_r(&now, &tm);
    off = tm.tm_gmtoff / 60;
    vstring_sprintf_append(buf, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld (%s)",
                           smtpd_days[tm.tm_wday % 7], tm.tm_mday, smtpd_months[tm.tm_mon % 12],
                           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                           off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
                           (off < 0 ? -off : off) % 60, tm.tm_zone ? tm.tm_zone : "UTC");
}

const char *smtpd_received_proto(SMTPD_STATE *state, int utf8)
{
    static VSTRING *buf;
    int esmtp = strcmp(state->protocol, "ESMTP") == 0;

    if (buf == NULL)
        buf = vstring_alloc(20);
    vstring_strcpy(buf, utf8 ? "UTF8SMTP" : state->protocol);
    if (esmtp || utf8) {
        if (state->tls_active)
            vstring_addch(buf, 'S');
        if (state->sasl_username)
            vstring_addch(buf, 'A');
    }
    return vstring_str(buf);
}

static void smtpd_received_put(SMTPD_STATE *state, VSTRING *line)
{
    smtpd_data_line(REC_TYPE_NORM, vstring_str(line), vstring_len(line), state);
}

void smtpd_received(SMTPD_STATE *state)
{
    VSTRING *line = vstring_alloc(200);
    VSTRING *rcpt = vstring_alloc(100);
    const char *proto = smtpd_received_proto(state, state->smtputf8);

    vstring_sprintf(line, "Received: from %s (%s [%s])",
                    state->helo_name ? state->helo_name : state->name, state->name,
                    state->rfc_addr);
    smtpd_received_put(state, line);
    if (state->tls_active && var_smtpd_tls_received_header) {
        vstring_sprintf(line, "\t(using %s with cipher %s (%d/%d bits))", state->tls_protocol,
                        state->tls_cipher, state->tls_cipher_bits, state->tls_cipher_algbits);
        smtpd_received_put(state, line);
        vstring_strcpy(line, "\t(No client certificate requested)");
        smtpd_received_put(state, line);
    }
    if (state->sasl_username && var_smtpd_sasl_authenticated_header) {
        vstring_sprintf(line, "\t(Authenticated sender: %s)", state->sasl_username);
        smtpd_received_put(state, line);
    }
    vstring_sprintf(line, "\tby %s (%s) with %s id %s", var_myhostname, var_mail_name, proto,
                    state->queue_id);
    if (state->rcpt_count == 1 && state->first_rcpt
        && address_quote(rcpt, state->first_rcpt) == 0) {
        smtpd_received_put(state, line);
        vstring_sprintf(line, "\tfor <%s>; ", vstring_str(rcpt));
    } else {
        vstring_strcat(line, ";");
        smtpd_received_put(state, line);
        vstring_strcpy(line, "\t");
    }
    smtpd_received_date(line);
    smtpd_received_put(state, line);
    vstring_free(line);
    vstring_free(rcpt);
}
