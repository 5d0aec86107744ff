/*
 * NAME
 *	discard - postern delivery agent that throws mail away
 * SYNOPSIS
 *	discard [generic daemon options]
 * DESCRIPTION
 *	discard(8) takes delivery requests from qmgr(8)
 *	(lib/deliver_proto.h) and reports every recipient as delivered,
 *	without looking at the message: each recipient is marked done in
 *	the queue file and logged with relay=none, status=sent and, as its
 *	reason, the next-hop text of the request (the part after the ':'
 *	of "discard:text" in a transport setting or transport(5) table),
 *	or "discarded" when that is empty.
 *
 *	The program runs under master(8) as a single server, one request
 *	at a time per process; master.cf normally lists it as
 *	"discard unix - - n - - discard".
 * DIAGNOSTICS
 *	A malformed request is logged and answered with "try again later"
 *	(lib/deliver_request.c). A recipient whose done mark cannot be
 *	written is still reported delivered, with a warning.
 * SEE ALSO
 *	qmgr(8), error(8), lib/deliver_proto.h
 */
#include "deliver_request.h"
#include "deliver_status.h"
#include "mail_server.h"

/* discard_service - one delivery request */

static void discard_service(VSTREAM *stream, const char *service, char **args)
{
    DELIVER_REQUEST *req;
    const char *reason;

    (void) service;
    (void) args;
    if ((req = deliver_request_read(stream)) == NULL)
        return;
    reason = *req->nexthop ? req->nexthop : "discarded";
    for (int i = 0; i < req->rcpt_count; i++)
        (void) deliver_sent(req, i, "none", "2.0.0", "%s", reason);
    (void) deliver_request_done(req, DEL_STAT_OK);
}

int main(int argc, char **argv)
{
    single_server_main(argc, argv, discard_service, NULL);
}
