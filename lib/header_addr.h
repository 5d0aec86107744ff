#ifndef POSTERN_HEADER_ADDR_H
#define POSTERN_HEADER_ADDR_H
/*
 * header_addr - where the addresses are in an address-list header value
 *
 * header_addr_scan(text, len, spans) finds each address in the value of
 *	a From:, To:, Cc:-type header (RFC 5322 address-list, obsolete
 *	forms included), so that a caller can rewrite addresses in place
 *	and leave display names, comments, groups and folding as they
 *	were. *spans receives a new array (the caller frees it with
 *	myfree(); NULL when there are none) of byte ranges into text: for
 *	"Name <addr>" the addr-spec inside the angle brackets (without a
 *	source route "@a,@b:" and surrounding white space), for a bare
 *	addr-spec the text from its first to its last character that is
 *	not white space or in a trailing comment. The display name of a
 *	group ("team:") and the group's end (";") are not addresses.
 *	Returns the number of ranges, or -1 when the value is not well
 *	formed enough to tell (an unterminated quoted string, comment or
 *	angle address, a stray '>' or '<' inside angle brackets, more than
 *	HEADER_ADDR_MAX addresses): the caller should then leave the
 *	header alone. A range says where an address would be; whether its
 *	text really is an address is for the caller to check (for example
 *	with address_parse_list()).
 */
#include <stddef.h>

#define HEADER_ADDR_MAX 10000

typedef struct HEADER_ADDR_SPAN {
    size_t start;
    size_t len;
} HEADER_ADDR_SPAN;

int header_addr_scan(const char *text, size_t len, HEADER_ADDR_SPAN **spans);

#endif
