#ifndef POSTERN_SMTPD_CMD_H
#define POSTERN_SMTPD_CMD_H
/*
 * smtpd_cmd - parsing SMTP command lines as a server receives them
 *
 * RFC 5321 commands with the ESMTP parameters of RFC 1652 (BODY), 1870
 * (SIZE), 3030 (BDAT), 3461 (RET ENVID NOTIFY ORCPT) and 6531
 * (SMTPUTF8). Nothing here does I/O, logs or keeps state: every function
 * works on the bytes it is given (line ends already removed) and the
 * caller decides what to reply. Ownership of every VSTRING and
 * SMTPD_PARAMS stays with the caller.
 *
 * smtpd_cmd_check(line, len) looks at every byte of a command line:
 *	SMTPD_CMD_OK; SMTPD_CMD_ERR_CTRL for NUL, DEL or a control
 *	character other than HTAB (CR and LF included: a line end inside a
 *	command is never accepted); SMTPD_CMD_ERR_UTF8 for 8-bit bytes that
 *	are not well-formed UTF-8 (overlong forms, surrogates and code
 *	points past U+10FFFF are refused).
 * smtpd_cmd_utf8_ok(str, len) is that UTF-8 test alone (1 or 0);
 *	smtpd_cmd_has_8bit(str) says whether str holds a byte >= 0x80.
 *
 * smtpd_cmd_split(line, verb, rest) puts the first word of line (up to
 *	SP or HTAB), upper-cased, in verb and points *rest past the white
 *	space that follows it (at the terminating NUL when there is none).
 *	Returns 0, or -1 when the line is empty or blank, or the first word
 *	is longer than SMTPD_CMD_VERB_MAX bytes (verb is then empty).
 *
 * smtpd_cmd_path(args, keyword, flags, addr, params, why) parses the
 *	argument text of MAIL ("FROM") or RCPT ("TO"): the keyword and a
 *	colon (any case), the path and its parameters. Without
 *	SMTPD_CMD_STRICT, white space is allowed around the colon. The path
 *	goes through address_parse_path() (SMTPD_CMD_STRICT selects
 *	ADDRESS_STRICT, SMTPD_CMD_NULL_OK allows <>, SMTPD_CMD_UTF8 allows
 *	8-bit bytes, SMTPD_CMD_POSTMASTER allows <postmaster>) and its
 *	internal form is stored in addr. The rest must be parameters
 *	separated by white space, each "keyword" or "keyword=value" with the
 *	RFC 5321 syntax (a value is printable ASCII other than '=' and
 *	space; 8-bit bytes are allowed with SMTPD_CMD_UTF8), at most
 *	SMTPD_PARAM_MAX of them, each keyword once. Returns:
 *	    SMTPD_CMD_OK
 *	    SMTPD_CMD_ERR_SYNTAX  keyword, colon or path missing
 *	    SMTPD_CMD_ERR_ADDR    the path is malformed (why says how)
 *	    SMTPD_CMD_ERR_PARAM   a malformed or repeated parameter, or too
 *	                          many (why says which)
 *
 * SMTPD_PARAMS holds the parameters in order: name[i] as sent, value[i]
 *	(NULL when there was no '='). smtpd_params_alloc(), _reset(),
 *	_free(); smtpd_params_find(params, name) finds a keyword without
 *	regard to case and returns its index or -1.
 *
 * Parameter values (each returns 0 when valid, -1 when not):
 *	smtpd_cmd_size(value, &size)    SIZE: 1..18 decimal digits
 *	smtpd_cmd_body(value)           BODY: SMTPD_BODY_7BIT or
 *	                                SMTPD_BODY_8BITMIME; -1 otherwise
 *	                                (BINARYMIME is not offered)
 *	smtpd_cmd_ret(value)            RET: SMTPD_RET_FULL, SMTPD_RET_HDRS, -1
 *	smtpd_cmd_envid(value, out)     ENVID: xtext, decoded at most
 *	                                SMTPD_ENVID_MAX printable ASCII bytes;
 *	                                out gets the decoded text
 *	smtpd_cmd_notify(value)         NOTIFY: NEVER, or a comma list of
 *	                                SUCCESS, FAILURE, DELAY (each once);
 *	                                the DSN_NOTIFY_* bits (cleanup_proto.h)
 *	smtpd_cmd_orcpt(value, out)     ORCPT: "addr-type;xtext", addr-type an
 *	                                atom; for rfc822 the xtext must decode
 *	                                to printable ASCII, for utf-8 the
 *	                                text must be well-formed UTF-8
 *	                                without controls; at most
 *	                                SMTPD_ORCPT_MAX bytes. out gets the
 *	                                decoded address.
 *	smtpd_cmd_bdat(args, &size, &last)  BDAT arguments: chunk size
 *	                                (1..18 digits) and optional LAST.
 *
 * xtext (RFC 3461 section 4): smtpd_xtext_decode(out, in, len) decodes
 *	"+XX" (two hexadecimal digits) and copies the other bytes, which
 *	must be '!'..'~' except '+' and '='; returns 0 or -1 (out then
 *	undefined). smtpd_xtext_encode(out, in) is the inverse, encoding
 *	'+', '=', and every byte outside '!'..'~'.
 */
#include <stddef.h>

#include "vstring.h"

#define SMTPD_CMD_OK 0
#define SMTPD_CMD_ERR_CTRL 1
#define SMTPD_CMD_ERR_UTF8 2
#define SMTPD_CMD_ERR_SYNTAX 3
#define SMTPD_CMD_ERR_ADDR 4
#define SMTPD_CMD_ERR_PARAM 5

#define SMTPD_CMD_VERB_MAX 32       /* bytes of a command verb */
#define SMTPD_PARAM_MAX 16          /* ESMTP parameters on one command */
#define SMTPD_ENVID_MAX 100         /* RFC 3461 4.4 */
#define SMTPD_ORCPT_MAX 500         /* RFC 3461 4.2: bytes of the whole value */

/* smtpd_cmd_path() flags */
#define SMTPD_CMD_STRICT (1 << 0)
#define SMTPD_CMD_NULL_OK (1 << 1)
#define SMTPD_CMD_UTF8 (1 << 2)
#define SMTPD_CMD_POSTMASTER (1 << 3)

#define SMTPD_BODY_7BIT 1
#define SMTPD_BODY_8BITMIME 2
#define SMTPD_RET_FULL 1
#define SMTPD_RET_HDRS 2

typedef struct SMTPD_PARAMS {
    int count;
    char *name[SMTPD_PARAM_MAX];
    char *value[SMTPD_PARAM_MAX];
} SMTPD_PARAMS;

int smtpd_cmd_check(const char *line, size_t len);
int smtpd_cmd_utf8_ok(const char *str, size_t len);
int smtpd_cmd_has_8bit(const char *str);
int smtpd_cmd_split(const char *line, VSTRING *verb, const char **rest);
int smtpd_cmd_path(const char *args, const char *keyword, int flags, VSTRING *addr,
                   SMTPD_PARAMS *params, VSTRING *why);

SMTPD_PARAMS *smtpd_params_alloc(void);
void smtpd_params_reset(SMTPD_PARAMS *params);
void smtpd_params_free(SMTPD_PARAMS *params);
int smtpd_params_find(const SMTPD_PARAMS *params, const char *name);

int smtpd_cmd_size(const char *value, long long *size);
int smtpd_cmd_body(const char *value);
int smtpd_cmd_ret(const char *value);
int smtpd_cmd_envid(const char *value, VSTRING *out);
int smtpd_cmd_notify(const char *value);
int smtpd_cmd_orcpt(const char *value, VSTRING *out);
int smtpd_cmd_bdat(const char *args, long long *size, int *last);

int smtpd_xtext_decode(VSTRING *out, const char *in, size_t len);
void smtpd_xtext_encode(VSTRING *out, const char *in);

#endif
