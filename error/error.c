/*
 * NAME
 *	error - postern delivery agent that bounces or defers mail
 * SYNOPSIS
 *	error [generic daemon options]
 * DESCRIPTION
 *	error(8) takes delivery requests from qmgr(8)
 *	(lib/deliver_proto.h) and, without looking at the message, reports
 *	every recipient as failed, with the next-hop text of the request
 *	as the reason: "error:5.1.1 User unknown" in a transport setting or
 *	transport(5) table bounces with status 5.1.1 and reason "User
 *	unknown". A next hop that does not start with an RFC 3463 status
 *	code gets 5.0.0 (4.0.0 when deferring); an empty one the reason
 *	"unknown reason".
 *
 *	When the master.cf service name is "retry" (master.cf normally has
 *	"retry unix - - n - - error"), recipients are deferred instead of
 *	bounced, and the status code is made a 4.X.Y one: the mail stays
 *	in the queue and is tried again until it expires.
 *
 *	The address resolver sends recipients of virtual alias domains
 *	that no alias matched here ("5.1.1 User unknown in virtual alias
 *	table"), and recipients with malformed domains.
 * DIAGNOSTICS
 *	A malformed request is logged and answered with "try again later"
 *	(lib/deliver_request.c).
 * SEE ALSO
 *	qmgr(8), discard(8), lib/deliver_proto.h
 */
#include <ctype.h>
#include <string.h>

#include "deliver_request.h"
#include "deliver_status.h"
#include "mail_server.h"
#include "vstring.h"

/* error_split - "X.Y.Z text" into code and text; no code leaves code empty */

static void error_split(const char *nexthop, VSTRING *code, const char **text)
{
    const char *cp = nexthop;
    size_t n;

    vstring_reset(code);
    *text = nexthop;
    if (!(cp[0] == '2' || cp[0] == '4' || cp[0] == '5') || cp[1] != '.')
        return;
    cp += 2;
    if ((n = strspn(cp, "0123456789")) < 1 || n > 3 || cp[n] != '.')
        return;
    cp += n + 1;
    if ((n = strspn(cp, "0123456789")) < 1 || n > 3)
        return;
    cp += n;
    if (*cp != 0 && !isspace((unsigned char) *cp))
        return;
    vstring_strncpy(code, nexthop, (size_t) (cp - nexthop));
    while (isspace((unsigned char) *cp))
        cp++;
    *text = cp;
}

/* error_service - one delivery request */

static void error_service(VSTREAM *stream, const char *service, char **args)
{
    DELIVER_REQUEST *req;
    VSTRING *code = vstring_alloc(10);
    const char *text;
    int retry = strcmp(service, "retry") == 0;

    (void) args;
    if ((req = deliver_request_read(stream)) != NULL) {
        error_split(req->nexthop, code, &text);
        if (*text == 0)
            text = "unknown reason";
        for (int i = 0; i < req->rcpt_count; i++) {
            if (retry)
                (void) deliver_defer(req, i, "none", vstring_len(code) ? vstring_str(code)
                                                                       : "4.0.0", "%s", text);
            else
                (void) deliver_bounce(req, i, "none", vstring_len(code) ? vstring_str(code)
                                                                        : "5.0.0", "%s", text);
        }
        (void) deliver_request_done(req, DEL_STAT_OK);
    }
    vstring_free(code);
}

int main(int argc, char **argv)
{
    single_server_main(argc, argv, error_service, NULL);
}
