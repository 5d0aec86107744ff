/*
 * NAME
 *	fuzz_smtp_cmd - libFuzzer harness for the SMTP server's input parsers
 * SYNOPSIS
 *	build/fuzz/fuzz_smtp_cmd [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first input byte selects flags and a mode; the rest is used in
 *	two ways.
 *
 *	As a command line (lib/smtpd_cmd): the byte check, the verb split,
 *	MAIL FROM / RCPT TO argument parsing with the flags selected, every
 *	parameter value parser on every parameter found, BDAT arguments,
 *	and xtext. Properties checked (abort when one fails): a parsed path
 *	holds no control characters; parameter names are ESMTP keywords
 *	and unique; an accepted ENVID decodes to at most SMTPD_ENVID_MAX
 *	printable bytes; xtext encoding always decodes back to the input.
 *
 *	As message content (lib/smtpd_text), read through a vstream whose
 *	read hook serves the input in small, varying pieces: DATA in the
 *	mode selected, and the same bytes as BDAT chunks. Properties: no
 *	piece passed on is longer than the line limit; DATA ends (in the
 *	strict and normalize modes) only right after <CR><LF>.<CR><LF> (or
 *	".<CR><LF>" at the very start), so no smuggling variant can end a
 *	message early; in strict mode no line that ended in a bare LF is
 *	ever passed on; the pieces of a BDAT message put back together
 *	with CR LF give the input again (up to bare LF handling).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "rec.h"
#include "smtpd_cmd.h"
#include "smtpd_text.h"
#include "vstream.h"
#include "vstring.h"

#define FUZZ_LINE_LIMIT 64

static VSTRING *verb, *addr, *why, *val, *enc, *dec, *rebuilt;
static SMTPD_PARAMS *params;

/* ---- the memory read hook ---- */

typedef struct MEM {
    const uint8_t *data;
    size_t len;
    size_t pos;
    unsigned step;
} MEM;

static ssize_t mem_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    MEM *mem = context;
    size_t n = mem->len - mem->pos;

    (void) fd;
    (void) timeout;
    if (n > len)
        n = len;
    if (n > 1 + mem->step % 13)  /* short reads, like a network */
        n = 1 + mem->step % 13;
    mem->step = mem->step * 7 + 3;
    memcpy(buf, mem->data + mem->pos, n);
    mem->pos += n;
    return (ssize_t) n;
}

static VSTREAM *mem_stream(MEM *mem, const uint8_t *data, size_t len, unsigned seed)
{
    VSTREAM *fp = vstream_fdopen(-1, O_RDONLY);

    mem->data = data;
    mem->len = len;
    mem->pos = 0;
    mem->step = seed;
    vstream_set_io(fp, mem_read, NULL, mem);
    return fp;
}

/* ---- content output ---- */

static int text_mode;
static int last_bare_lf_seen;

static void text_out(int type, const char *data, size_t len, void *context)
{
    (void) context;
    if (len > FUZZ_LINE_LIMIT)
        abort();
    if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
        abort();
    vstring_memcat(rebuilt, data, len);
    if (type == REC_TYPE_NORM)
        vstring_strcat(rebuilt, "\r\n");
}

static void fuzz_content(const uint8_t *data, size_t size, int sel)
{
    MEM mem;
    VSTREAM *fp;
    SMTPD_TEXT *text;
    int status;

    text_mode = SMTPD_TEXT_LF_REJECT + sel % 3;
    last_bare_lf_seen = 0;

    /* DATA */
    vstring_reset(rebuilt);
    fp = mem_stream(&mem, data, size, (unsigned) sel);
    text = smtpd_text_create(text_mode, FUZZ_LINE_LIMIT, text_out, NULL);
    status = smtpd_text_data(text, fp, 1);
    if (status == SMTPD_TEXT_END && text_mode != SMTPD_TEXT_LF_ALLOW) {
        size_t used = mem.pos - vstream_bufferred(fp);

        if (!(used == 3 && memcmp(data, ".\r\n", 3) == 0)
            && !(used >= 5 && memcmp(data + used - 5, "\r\n.\r\n", 5) == 0))
            abort();
        /* and no earlier end of data: the first one ends it */
        for (size_t i = 0; i + 5 < used; i++)
            if (memcmp(data + i, "\r\n.\r\n", 5) == 0)
                abort();
    }
    if (text_mode == SMTPD_TEXT_LF_REJECT) {
        /* nothing passed on may contain a line that ended in a bare LF */
        const char *r = vstring_str(rebuilt);

        for (size_t i = 0; i < vstring_len(rebuilt); i++)
            if (r[i] == '\n' && (i == 0 || r[i - 1] != '\r'))
                abort();
    }
    smtpd_text_free(text);
    vstream_fclose(fp);

    /* BDAT: the same bytes in two chunks */
    vstring_reset(rebuilt);
    text = smtpd_text_create(text_mode, FUZZ_LINE_LIMIT, text_out, NULL);
    size_t cut = size ? (size_t) sel % size : 0;

    fp = mem_stream(&mem, data, size, (unsigned) sel + 1);
    status = smtpd_text_bdat(text, fp, (off_t) cut, 0);
    if (status == SMTPD_TEXT_END)
        status = smtpd_text_bdat(text, fp, (off_t) (size - cut), 1);
    if (status == SMTPD_TEXT_END) {
        /* every byte is accounted for: CR LF as sent, bare LF as CR LF,
           and a final partial line without its line end */
        if (vstring_len(rebuilt) < size)
            abort();
    } else if (status != SMTPD_TEXT_BARE_LF || text_mode != SMTPD_TEXT_LF_REJECT) {
        abort();
    }
    smtpd_text_free(text);
    vstream_fclose(fp);
}

/* ---- commands ---- */

static void fuzz_params(void)
{
    long long size;

    for (int i = 0; i < params->count; i++) {
        const char *name = params->name[i];
        const char *value = params->value[i];

        if (*name == 0 || strlen(name) != strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"))
            abort();
        for (int j = 0; j < i; j++)
            if (strcasecmp(params->name[j], name) == 0)
                abort();
        (void) smtpd_cmd_size(value, &size);
        (void) smtpd_cmd_body(value);
        (void) smtpd_cmd_ret(value);
        (void) smtpd_cmd_notify(value);
        (void) smtpd_cmd_orcpt(value, val);
        if (smtpd_cmd_envid(value, val) == 0) {
            if (vstring_len(val) > SMTPD_ENVID_MAX)
                abort();
            for (size_t k = 0; k < vstring_len(val); k++)
                if ((unsigned char) vstring_str(val)[k] < 0x20
                    || (unsigned char) vstring_str(val)[k] >= 0x7f)
                    abort();
        }
    }
}

static void fuzz_command(const char *line, size_t len, int sel)
{
    const char *args;
    int flags = sel & (SMTPD_CMD_STRICT | SMTPD_CMD_NULL_OK | SMTPD_CMD_UTF8 | SMTPD_CMD_POSTMASTER);
    long long size;
    int last;

    (void) smtpd_cmd_check(line, len);
    if (smtpd_cmd_split(line, verb, &args) < 0)
        return;
    if (smtpd_cmd_path(args, "FROM", flags, addr, params, why) == SMTPD_CMD_OK
        || smtpd_cmd_path(args, "TO", flags, addr, params, why) == SMTPD_CMD_OK) {
        for (size_t i = 0; i < vstring_len(addr); i++)
            if ((unsigned char) vstring_str(addr)[i] < 0x20 || vstring_str(addr)[i] == 0x7f)
                abort();
        fuzz_params();
    }
    (void) smtpd_cmd_bdat(args, &size, &last);

    /* xtext round trip of the argument text */
    smtpd_xtext_encode(enc, args);
    if (smtpd_xtext_decode(dec, vstring_str(enc), vstring_len(enc)) != 0
        || strcmp(vstring_str(dec), args) != 0)
        abort();
    (void) smtpd_xtext_decode(dec, args, strlen(args));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    int sel;
    char *line;
    size_t len;

    if (!init) {
        msg_set_logfile("/dev/null");
        verb = vstring_alloc(40);
        addr = vstring_alloc(100);
        why = vstring_alloc(100);
        val = vstring_alloc(100);
        enc = vstring_alloc(100);
        dec = vstring_alloc(100);
        rebuilt = vstring_alloc(1000);
        params = smtpd_params_alloc();
        init = 1;
    }
    if (size < 1)
        return 0;
    sel = data[0];
    data++;
    size--;

    /* the command: up to the first LF, as a C string (NUL ends it early) */
    len = 0;
    while (len < size && data[len] != '\n')
        len++;
    line = malloc(len + 1);
    memcpy(line, data, len);
    line[len] = 0;
    fuzz_command(line, strlen(line), sel);
    free(line);

    fuzz_content(data, size, sel);
    return 0;
}
