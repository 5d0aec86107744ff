#ifndef POSTERN_MAILDROP_H
#define POSTERN_MAILDROP_H
/*
 * maildrop - the local submission format: what sendmail(1) writes,
 * postdrop(1) checks and stores in maildrop/, and pickup(8) checks again
 * and hands to cleanup(8)
 *
 * A maildrop stream is records (lib/rec.h), strictly in this order:
 *	TIME	"seconds.microseconds" (postdrop writes its own clock here,
 *		whatever sendmail sent)
 *	ATTR*	"name=value", each name at most once, only these names:
 *		    rewrite_context	local or remote (sendmail -G)
 *		    full_name		the sender's full name, for the From:
 *					header cleanup adds (-F, $NAME, GECOS)
 *		    dsn_envid		-V: 1..100 printable ASCII bytes
 *		    dsn_ret		-R: FULL or HDRS
 *		    encoding		-B: 7bit or 8bit
 *		    extract_recipients	yes (-t: cleanup takes recipients from
 *					To/Cc/Bcc and removes Bcc); pickup
 *					turns it into CLEANUP_FLAG_EXTRACT and
 *					does not forward it
 *		    dsn_notify		-N with -t: NOTIFY bits (decimal, as in
 *					a NOTIFY record) for the recipients
 *					cleanup extracts
 *	FROM	the sender, internal form; "" is the null sender
 *	per recipient: [ORCP] [NOTIFY] [DSN_ORCPT] RCPT
 *	MESG	(empty)
 *	NORM and CONT	content lines, without line ends
 *	XTRA	(empty)
 *	END	(empty); nothing may follow it
 * Nothing else is accepted: no SIZE, DONE or unknown ATTR name, so a local
 * user cannot claim a client address, a SASL login or another origin.
 * The submitting user is not in the stream: it is the owner of the file
 * postdrop creates (postdrop is set-gid, not set-uid).
 *
 * Values: addresses (FROM, RCPT, ORCP) hold no control characters (bytes
 * below 0x20, and 0x7f) and at most MAILDROP_ADDR_MAX bytes; RCPT and
 * ORCP are not empty; NOTIFY is the decimal value of DSN_NOTIFY_NEVER
 * alone or of a non-empty set of the SUCCESS, FAILURE and DELAY bits;
 * DSN_ORCPT is "type;value" in printable ASCII, at most
 * MAILDROP_ORCPT_MAX bytes; an ATTR value holds no control character and
 * at most MAILDROP_ATTR_MAX bytes (full_name MAILDROP_FULL_NAME_MAX).
 * Content records are at most MAILDROP_LINE_MAX bytes each (any bytes).
 * At most MAILDROP_RCPT_MAX recipients.
 *
 * Checking. maildrop_check_create(size_limit) starts a checker;
 *	size_limit (bytes, 0 = none) bounds the sum of every record's data
 *	plus one byte per NORM record (the line end it stands for).
 *	maildrop_check(mc, type, data, len) takes the next record and
 *	returns 0 when it is acceptable there, or -1 with the reason in
 *	maildrop_check_why(mc); after -1 every later call fails too.
 *	MAILDROP_CHECK_TOO_BIG in maildrop_check_error(mc) says that the
 *	reason was size_limit. maildrop_check_done(mc) is 1 once END has
 *	been accepted. maildrop_check_sender() returns the sender once FROM
 *	was accepted (else NULL); maildrop_check_rcpt_count(),
 *	maildrop_check_extract() (extract_recipients seen) and
 *	maildrop_check_size() report what the stream said so far.
 *	maildrop_check_free() releases the checker.
 *
 * Reading. maildrop_get(fp, buf) is rec_get() with the largest record a
 *	maildrop stream may hold.
 *
 * Policy. maildrop_submit_ok(user, why) says whether login name user may
 *	submit mail under $authorized_submit_users: 1 yes, 0 no, -1 when a
 *	table could not answer (reason in why). maildrop_user_name(uid, buf)
 *	puts the login name of uid in buf ("unknown" when it has no password
 *	entry) and returns vstring_str(buf).
 *
 * File names in maildrop/: a complete file is named by a queue ID
 * (queue_id_ok()); postdrop writes under MAILDROP_TEMP_PREFIX "..." and
 * renames the file to its queue ID only when it is complete, mode
 * MAILDROP_MODE_READY and fsync'd. maildrop_temp_name(name) says whether
 * a directory entry is such a temporary name.
 */
#include <sys/types.h>

#include "rec.h"
#include "vstream.h"
#include "vstring.h"

#define MAILDROP_DIR "maildrop"
#define MAILDROP_TEMP_PREFIX "tmp."
#define MAILDROP_MODE_WRITING 0600 /* while postdrop writes it */
#define MAILDROP_MODE_READY 0644   /* complete: pickup (mail_owner) reads it */

#define MAILDROP_ADDR_MAX 2048 /* = ADDRESS_LENIENT_MAX */
#define MAILDROP_ORCPT_MAX 1000
#define MAILDROP_ATTR_MAX 1024
#define MAILDROP_FULL_NAME_MAX 512
#define MAILDROP_ENVID_MAX 100          /* RFC 3461 */
#define MAILDROP_LINE_MAX (1024 * 1024) /* largest line_length_limit */
#define MAILDROP_RCPT_MAX 100000

/* ATTR names of the maildrop stream */
#define MAILDROP_ATTR_REWRITE "rewrite_context"
#define MAILDROP_ATTR_FULL_NAME "full_name"
#define MAILDROP_ATTR_DSN_ENVID "dsn_envid" /* = CLEANUP_ATTR_DSN_ENVID */
#define MAILDROP_ATTR_DSN_RET "dsn_ret"     /* = CLEANUP_ATTR_DSN_RET */
#define MAILDROP_ATTR_ENCODING "encoding"   /* = CLEANUP_ATTR_ENCODING */
#define MAILDROP_ATTR_EXTRACT "extract_recipients"
#define MAILDROP_ATTR_DSN_NOTIFY "dsn_notify"

/* maildrop_check_error() */
#define MAILDROP_CHECK_OK 0
#define MAILDROP_CHECK_BAD 1
#define MAILDROP_CHECK_TOO_BIG 2

typedef struct MAILDROP_CHECK MAILDROP_CHECK;

MAILDROP_CHECK *maildrop_check_create(off_t size_limit);
int maildrop_check(MAILDROP_CHECK *mc, int type, const char *data, size_t len);
int maildrop_check_done(const MAILDROP_CHECK *mc);
int maildrop_check_error(const MAILDROP_CHECK *mc);
const char *maildrop_check_why(const MAILDROP_CHECK *mc);
const char *maildrop_check_sender(const MAILDROP_CHECK *mc);
int maildrop_check_rcpt_count(const MAILDROP_CHECK *mc);
int maildrop_check_extract(const MAILDROP_CHECK *mc);
off_t maildrop_check_size(const MAILDROP_CHECK *mc);
void maildrop_check_free(MAILDROP_CHECK *mc);

int maildrop_get(VSTREAM *fp, VSTRING *buf);

int maildrop_submit_ok(const char *user, VSTRING *why);
const char *maildrop_user_name(uid_t uid, VSTRING *buf);

int maildrop_temp_name(const char *name);

#endif
