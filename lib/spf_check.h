#ifndef POSTERN_SPF_CHECK_H
#define POSTERN_SPF_CHECK_H
/*
 * spf_check - Sender Policy Framework (RFC 7208) checks with libspf2
 *
 * libspf2 evaluates the records; its DNS queries go through a resolver
 * layer of this module built on lib/dns_ptr.h, so they are sent to the
 * name servers of smtp_dns_servers like every other postern lookup
 * (libspf2's own resolver would read only resolv.conf). libspf2's log
 * messages go to msg_*; its internal errors are fatal.
 *
 * spf_check(client_addr, helo, sender, receiver, res) checks the MAIL
 *	FROM identity: the domain of sender, or, for the null sender (""),
 *	"postmaster@" the HELO name (RFC 7208 section 2.4). client_addr is
 *	the numeric client address, helo the HELO/EHLO name (NULL or ""
 *	when none), receiver our host name for the header. The result code
 *	is returned and stored in res->result; res->header gets a complete
 *	"Received-SPF: ..." header line (RFC 7208 section 9.1; one line, no
 *	line end), res->comment the text in its parentheses, and
 *	res->explanation, for a fail, the explanation to show the client
 *	(the domain's exp= text, or a default). Every SPF_CHECK_* result is
 *	possible; a sender or HELO name that cannot be checked (a sender
 *	domain that is not a domain name, no HELO for a null sender) gives
 *	SPF_CHECK_NONE. An address that is not numeric gives
 *	SPF_CHECK_PERMERROR. libspf2 gives clients on loopback addresses a
 *	pass.
 * spf_check_init() prepares libspf2 (it is also done on first use);
 *	call it in a daemon's pre_init.
 * spf_check_result_name(code) is the RFC 7208 name ("pass", "fail",
 *	"softfail", "neutral", "none", "temperror", "permerror").
 * spf_check_result_init()/_free() manage the buffers of a result.
 */
#include "vstring.h"

#define SPF_CHECK_NONE 0
#define SPF_CHECK_NEUTRAL 1
#define SPF_CHECK_PASS 2
#define SPF_CHECK_FAIL 3
#define SPF_CHECK_SOFTFAIL 4
#define SPF_CHECK_TEMPERROR 5
#define SPF_CHECK_PERMERROR 6

typedef struct SPF_CHECK_RESULT {
    int result;           /* SPF_CHECK_* */
    VSTRING *header;      /* "Received-SPF: pass (...) client-ip=...; ..." */
    VSTRING *comment;     /* what the header says in parentheses */
    VSTRING *explanation; /* for a fail: text for the SMTP reply */
} SPF_CHECK_RESULT;

void spf_check_init(void);
int spf_check(const char *client_addr, const char *helo, const char *sender, const char *receiver,
              SPF_CHECK_RESULT *res);
const char *spf_check_result_name(int code);
void spf_check_result_init(SPF_CHECK_RESULT *res);
void spf_check_result_free(SPF_CHECK_RESULT *res);

#endif
