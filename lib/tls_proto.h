#ifndef POSTERN_TLS_PROTO_H
#define POSTERN_TLS_PROTO_H
/*
 * tls_proto - TLS protocol version lists and cipher lists as main.cf
 * writes them (shared by the SMTP server and client)
 *
 * tls_proto_parse(spec, proto, why) reads a protocol list in Postfix's
 *	syntax: tokens separated by commas, colons or white space, each
 *	">=NAME" (lowest version), "<=NAME" (highest version), "!NAME"
 *	(leave out) or "NAME" (allow: when any such token is given, only
 *	the versions named are allowed). NAME is SSLv2, SSLv3, TLSv1,
 *	TLSv1.1, TLSv1.2 or TLSv1.3 (any case). SSLv2 and SSLv3 are always
 *	left out. An empty spec allows every TLS version. Fills proto and
 *	returns 0; -1 with why for an unknown name, a malformed token or
 *	a list that leaves no version.
 *	proto->mask has a TLS_PROTO_* bit per allowed version;
 *	proto->min_version and max_version are OpenSSL's version numbers
 *	(TLS1_VERSION ...) of the lowest and highest allowed version, and
 *	proto->ssl_options the SSL_OP_NO_* bits for versions between them
 *	that are not allowed ("TLSv1, TLSv1.2" leaves a hole).
 *
 * tls_proto_name(mask_bit) is the name of one TLS_PROTO_* bit.
 *
 * tls_proto_ciphers(out, base, exclude, more_exclude) replaces out with
 *	the OpenSSL cipher list base followed by ":!NAME" for every name in
 *	the lists exclude and more_exclude (commas, colons or white space
 *	between names; either may be NULL or empty). Returns 0, or -1 when
 *	base is empty or a name holds a character that OpenSSL's cipher
 *	syntax gives a meaning to (":", "!", "+", "-", "@" or space), which
 *	could otherwise turn an exclusion into an addition.
 *
 * Nothing here logs or talks to OpenSSL beyond its version constants.
 */
#include "vstring.h"

#define TLS_PROTO_SSLv2 (1 << 0)
#define TLS_PROTO_SSLv3 (1 << 1)
#define TLS_PROTO_TLSv1 (1 << 2)
#define TLS_PROTO_TLSv1_1 (1 << 3)
#define TLS_PROTO_TLSv1_2 (1 << 4)
#define TLS_PROTO_TLSv1_3 (1 << 5)
#define TLS_PROTO_ALL_TLS                                                                          \
    (TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3)

typedef struct TLS_PROTO {
    int mask;        /* TLS_PROTO_* allowed */
    int min_version; /* OpenSSL version number */
    int max_version;
    long ssl_options; /* SSL_OP_NO_* for holes */
} TLS_PROTO;

int tls_proto_parse(const char *spec, TLS_PROTO *proto, VSTRING *why);
const char *tls_proto_name(int mask_bit);
int tls_proto_ciphers(VSTRING *out, const char *base, const char *exclude,
                      const char *more_exclude);

#endif
