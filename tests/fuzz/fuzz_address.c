/*
 * NAME
 *	fuzz_address - libFuzzer harness for the address parsers
 * SYNOPSIS
 *	build/fuzz/fuzz_address [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first input byte selects address_parse_path() flags; the rest
 *	is parsed as an SMTP path (whole, and with trailing parameters
 *	allowed) and as an RFC 5322 address list. Besides memory errors,
 *	it checks these properties and aborts when one fails:
 *	a path that parses leaves *used within the input and gives an
 *	address with no control characters; strict results also parse in
 *	lenient mode to the same address; and every parsed address that
 *	address_quote() can quote parses back, quoted, to itself
 *	(quote and parse are inverse), and unquotes to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "msg.h"

static VSTRING *addr, *addr2, *why, *quoted, *path, *back;

static void check_round_trip(const char *internal)
{
    if (address_quote(quoted, internal) < 0 || *internal == 0)
        return;
    if (address_unquote(back, vstring_str(quoted)) != 0 || strcmp(vstring_str(back), internal))
        abort();
    vstring_sprintf(path, "<%s>", vstring_str(quoted));
    if (vstring_len(path) > ADDRESS_LENIENT_MAX)
        return;
    if (address_parse_path(vstring_str(path), vstring_len(path), ADDRESS_UTF8, addr2, NULL, why) !=
        0)
        abort();
    if (strcmp(vstring_str(addr2), internal) != 0)
        abort();
}

static void check_result(const char *internal)
{
    for (const unsigned char *cp = (const unsigned char *)internal; *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ARGV *argv;
    size_t used;
    int flags;

    if (addr == NULL) {
        msg_set_logfile("/dev/null");
        addr = vstring_alloc(100);
        addr2 = vstring_alloc(100);
        why = vstring_alloc(100);
        quoted = vstring_alloc(100);
        path = vstring_alloc(100);
        back = vstring_alloc(100);
    }
    if (size == 0)
        return 0;
    flags = data[0] & (ADDRESS_STRICT | ADDRESS_NULL_OK | ADDRESS_POSTMASTER | ADDRESS_UTF8);
    data++;
    size--;

    if (address_parse_path((const char *)data, size, flags, addr, NULL, why) == 0) {
        check_result(vstring_str(addr));
        if (flags & ADDRESS_STRICT) {
            if (address_parse_path((const char *)data, size, flags & ~ADDRESS_STRICT, addr2, NULL,
                                   why) != 0 ||
                strcmp(vstring_str(addr), vstring_str(addr2)) != 0)
                abort();
        }
        check_round_trip(vstring_str(addr));
    } else if (vstring_len(why) == 0 || vstring_len(addr) != 0) {
        abort();
    }
    if (address_parse_path((const char *)data, size, flags, addr, &used, why) == 0) {
        if (used == 0 || used > size)
            abort();
        check_result(vstring_str(addr));
    }

    if ((argv = address_parse_list((const char *)data, size, why)) != NULL) {
        for (int i = 0; i < argv->argc; i++) {
            check_result(argv->argv[i]);
            check_round_trip(argv->argv[i]);
        }
        argv_free(argv);
    } else if (vstring_len(why) == 0) {
        abort();
    }
    return 0;
}
