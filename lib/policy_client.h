#ifndef POSTERN_POLICY_CLIENT_H
#define POSTERN_POLICY_CLIENT_H
/*
 * policy_client - the client side of Postfix's policy delegation
 * protocol (SMTPD_POLICY_README), as used by check_policy_service
 *
 * The protocol: the client sends "name=value" lines ending in LF and an
 * empty line; the server answers the same way, with at least
 * "action=..."; the connection may then carry the next request.
 *
 * Service specification (policy_spec_parse). Either an endpoint,
 *	"inet:host:port" or "unix:pathname" (a relative pathname is
 *	relative to the current directory, which is queue_directory in a
 *	daemon), or, in braces, an endpoint followed by settings:
 *	    { inet:127.0.0.1:9998, timeout=10s, default_action=DUNNO }
 *	Settings: timeout, max_idle, max_ttl, retry_delay (a number with an
 *	optional unit s, m, h, d or w; seconds by default), try_limit,
 *	request_limit (numbers), default_action and policy_context (text;
 *	default_action may contain spaces: it runs to the next comma).
 *	Settings that are not given keep what spec held before the call,
 *	so the caller fills spec with the main.cf defaults first. Returns
 *	0, or -1 with why set (bad endpoint, unknown setting, bad number,
 *	an unbalanced brace); spec is then unusable.
 *
 * policy_client_create(spec) makes a client for one service; nothing is
 *	connected yet. policy_client_free() closes and frees it.
 *
 * policy_client_request(pc, attrs, action, why) sends one request made
 *	of attrs ("name=value" strings, in order; "request=..." is the
 *	caller's business) and reads the reply. A connection is reused
 *	while it is younger than max_ttl, has been idle less than
 *	max_idle, and has carried fewer than request_limit requests (0: no
 *	limit); otherwise, or after any error, a new one is made. Each
 *	read, write and connect is bounded by timeout. A failed attempt is
 *	retried (after retry_delay, unless the failure was a reused
 *	connection that had gone stale) until try_limit attempts were made.
 *	Returns 0 with the action (never empty) in action, or -1 with why
 *	set when every attempt failed. Values containing control
 *	characters are sent with those bytes replaced by '?'.
 *
 * Limits on a reply: lines of at most POLICY_LINE_MAX bytes, at most
 *	POLICY_ATTR_MAX lines; a line must be "name=value" with a name of
 *	[A-Za-z0-9_-]; anything else ends the connection as a protocol
 *	error. Attributes other than action are ignored.
 *
 * policy_reply_line(line, len, name, value) parses one reply line (its
 *	LF removed, a CR before it allowed): 1 for "name=value" (name and
 *	value set), 0 for the empty line, -1 for anything else. Exposed for
 *	the fuzzer and tests.
 */
#include "argv.h"
#include "vstring.h"

#define POLICY_LINE_MAX 4096
#define POLICY_ATTR_MAX 100

typedef struct POLICY_SPEC {
    char *endpoint;       /* inet:host:port or unix:path */
    long timeout;         /* seconds */
    long max_idle;        /* seconds */
    long max_ttl;         /* seconds */
    long retry_delay;     /* seconds */
    long try_limit;       /* attempts per request, >= 1 */
    long request_limit;   /* requests per connection, 0 = no limit */
    char *default_action; /* used by the caller when the service fails */
    char *policy_context; /* sent as policy_context= */
} POLICY_SPEC;

typedef struct POLICY_CLIENT POLICY_CLIENT;

void policy_spec_init(POLICY_SPEC *spec);
int policy_spec_parse(const char *text, POLICY_SPEC *spec, VSTRING *why);
void policy_spec_free(POLICY_SPEC *spec);

POLICY_CLIENT *policy_client_create(const POLICY_SPEC *spec);
const POLICY_SPEC *policy_client_spec(POLICY_CLIENT *pc);
int policy_client_request(POLICY_CLIENT *pc, ARGV *attrs, VSTRING *action, VSTRING *why);
void policy_client_free(POLICY_CLIENT *pc);

int policy_reply_line(const char *line, size_t len, VSTRING *name, VSTRING *value);

#endif
