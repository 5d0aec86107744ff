#ifndef POSTERN_SASL_DOVECOT_H
#define POSTERN_SASL_DOVECOT_H
/*
 * sasl_dovecot - the client side of Dovecot's authentication protocol
 * (version 1), the Dovecot backend of sasl_srv.h
 *
 * The backend itself is made with sasl_srv_init("dovecot", ...) or
 * sasl_dovecot_init() (sasl_srv.h). This header exposes the parsers of
 * what the authentication server sends, for tests and fuzzing.
 *
 * sasl_dovecot_parse(line, reply) parses one reply line (without its
 *	LF) to an AUTH or CONT request:
 *	    "OK" TAB id [TAB param]...
 *	    "CONT" TAB id TAB base64
 *	    "FAIL" TAB id [TAB param]...
 *	and returns SASL_DOVECOT_OK, _CONT or _FAIL with reply filled:
 *	id; data (CONT: the challenge, which must be base64); user (the
 *	value of user=, unescaped, "" when absent); reason (reason=,
 *	unescaped, "" when absent); temp (FAIL with the temp flag). Other
 *	parameters are ignored. Returns SASL_DOVECOT_BAD for anything else:
 *	another command, a missing or malformed id (decimal, 1..2^32-1), a
 *	challenge that is not base64, a value that does not unescape.
 *
 * sasl_dovecot_mech(line, name, flags) parses a handshake line "MECH"
 *	TAB name [TAB flag]... : name must be 1..SASL_MECH_NAME_MAX
 *	letters, digits, '-' and '_' (it is upper-cased); flags gets the
 *	SASL_DOVECOT_MECH_* bits of the flags it knows (anonymous,
 *	plaintext, dictionary, active, forward-secrecy, mutual-auth,
 *	private). Returns 0, or -1 for a malformed line.
 *
 * sasl_dovecot_unescape(out, in) undoes Dovecot's tab-escaping (\001
 *	followed by '0' NUL, '1' \001, 't' TAB, 'r' CR, 'n' or 'l' LF, or
 *	any other byte standing for itself). Returns 0, or -1 when the
 *	result would hold a NUL or the text ends in the escape byte.
 *
 * sasl_dovecot_mech_allowed(flags, sec_options) says whether a
 *	mechanism with those flags may be offered under the SASL_SEC_OPT_*
 *	options (private mechanisms never are).
 */
#include "vstring.h"

#define SASL_DOVECOT_BAD (-1)
#define SASL_DOVECOT_OK 1
#define SASL_DOVECOT_CONT 2
#define SASL_DOVECOT_FAIL 3

#define SASL_DOVECOT_MECH_ANONYMOUS (1 << 0)
#define SASL_DOVECOT_MECH_PLAINTEXT (1 << 1)
#define SASL_DOVECOT_MECH_DICTIONARY (1 << 2)
#define SASL_DOVECOT_MECH_ACTIVE (1 << 3)
#define SASL_DOVECOT_MECH_FORWARD_SECRECY (1 << 4)
#define SASL_DOVECOT_MECH_MUTUAL_AUTH (1 << 5)
#define SASL_DOVECOT_MECH_PRIVATE (1 << 6)

#define SASL_DOVECOT_LINE_MAX (64 * 1024) /* bytes of one protocol line */
#define SASL_DOVECOT_MECH_MAX 100         /* mechanisms kept from a handshake */

typedef struct SASL_DOVECOT_REPLY {
    unsigned long id;
    VSTRING *data;
    VSTRING *user;
    VSTRING *reason;
    int temp;
} SASL_DOVECOT_REPLY;

int sasl_dovecot_parse(const char *line, SASL_DOVECOT_REPLY *reply);
int sasl_dovecot_mech(const char *line, VSTRING *name, int *flags);
int sasl_dovecot_unescape(VSTRING *out, const char *in);
int sasl_dovecot_mech_allowed(int flags, int sec_options);

#endif
