/*
 * NAME
 *	fuzz_main_cf - libFuzzer harness for the main.cf and master.cf parsers
 * SYNOPSIS
 *	build/fuzz/fuzz_main_cf [libFuzzer options] [corpus ...]
 * DESCRIPTION
 *	Each input is parsed as main.cf text with mail_conf_parse(); when it
 *	parses, every name it sets is expanded with mail_conf_eval_param()
 *	and every registered parameter is evaluated with
 *	mail_conf_eval_check(), so $name loops, unbalanced braces and
 *	exponential expansions are exercised. The same bytes are then parsed
 *	as master.cf with master_cf_parse_buf(), and each entry is formatted.
 *	Errors are expected; crashes, leaks and undefined behaviour are not.
 */
#include <stddef.h>
#include <stdint.h>

#include "mail_conf.h"
#include "master_cf.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    VSTRING *why = vstring_alloc(100);
    VSTRING *out = vstring_alloc(100);
    MASTER_CF *cf;

    if (!initialized) {
        msg_init("fuzz_main_cf");
        msg_set_logfile("/dev/null");
        initialized = 1;
    }
    mail_conf_reset();
    if (mail_conf_parse((const char *)data, size, "fuzz/main.cf", why) == 0) {
        ARGV *names = mail_conf_file_names();

        for (int i = 0; i < names->argc; i++)
            (void)mail_conf_eval_param(names->argv[i], out, why);
        argv_free(names);
        (void)mail_conf_eval_check(why);
    }
    if ((cf = master_cf_parse_buf((const char *)data, size, "fuzz/master.cf", why)) != NULL) {
        for (int i = 0; i < cf->count; i++)
            master_cf_format(out, cf->entries + i);
        master_cf_free(cf);
    }
    mail_conf_reset();
    vstring_free(why);
    vstring_free(out);
    return 0;
}
