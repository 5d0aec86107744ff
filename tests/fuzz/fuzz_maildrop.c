/*
 * NAME
 *	fuzz_maildrop - libFuzzer harness for the maildrop stream checker
 * SYNOPSIS
 *	build/fuzz/fuzz_maildrop [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first input byte selects a size limit and a mode. In raw mode
 *	the rest of the input is a maildrop file: it is read from a memory
 *	file with maildrop_get() until end of file or a framing error, and
 *	every record goes to maildrop_check(). In record mode the rest is
 *	a small program that makes records (type, then a canned value
 *	that is often valid, or raw bytes): the records go straight to one
 *	checker (any type value), and are also
 *	written with rec_put() to a memory file, read back with
 *	maildrop_get(), which must give the same records, and checked by a
 *	second checker. The recipient limit, out of reach of a small input,
 *	is checked once at start-up: MAILDROP_RCPT_MAX recipients pass,
 *	one more is refused.
 *
 *	A reference checker, written here from the rules in maildrop.h,
 *	judges every record too, and the harness aborts when the two
 *	disagree on any record: accepted or refused, and for a refusal
 *	whether it was size_limit (MAILDROP_CHECK_TOO_BIG); on the sender,
 *	the recipient count, extract_recipients, the size and done. A
 *	refusal must come with a reason, and every later record must be
 *	refused too. Where maildrop.h leaves a choice open the reference
 *	follows the checker: the size is counted (and refused) before the
 *	record itself is judged; ORCP, NOTIFY and DSN_ORCPT may come in any
 *	order before their RCPT, each at most once; MESG needs a recipient
 *	unless extract_recipients was given; a TIME record has at most 20
 *	digits before the '.'; NOTIFY and dsn_notify values are written
 *	without leading zeros; a DSN_ORCPT's value after ';' may be empty.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup_proto.h"
#include "maildrop.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

#define FUZZ_RECS_MAX 2000

/* ---- the reference checker ---- */

enum { R_TIME, R_ATTR, R_RCPT, R_BODY, R_END, R_DONE, R_FAILED };

typedef struct REF {
    int state;
    int error; /* MAILDROP_CHECK_* */
    long long limit;
    long long size;
    unsigned attrs; /* names seen */
    unsigned pending; /* ORCP, NOTIFY, DSN_ORCPT seen since the last RCPT */
    int cont;         /* last content record was CONT */
    int rcpt_count;
    int extract;
    char *sender;
} REF;

static const char *ref_attr_names[] = {"rewrite_context", "full_name",          "dsn_envid",
                                       "dsn_ret",         "encoding",           "extract_recipients",
                                       "dsn_notify"};

#define REF_NATTRS (sizeof(ref_attr_names) / sizeof(ref_attr_names[0]))

static int no_ctl(const char *s, size_t len, size_t max)
{
    if (len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

static int printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static int is(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* a NOTIFY value: NEVER alone, or a non-empty set of SUCCESS, FAILURE, DELAY */

static int ref_notify(const char *s, size_t len)
{
    char buf[8];
    int all = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;

    for (int v = 1; v <= all; v++) {
        if (v != DSN_NOTIFY_NEVER && (v & ~all) != 0)
            continue;
        snprintf(buf, sizeof(buf), "%d", v);
        if (is(s, len, buf))
            return 1;
    }
    return 0;
}

static int ref_time(const char *s, size_t len)
{
    size_t i = 0, d;

    for (d = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        d++;
    if (d < 1 || d > 20 || i >= len || s[i] != '.')
        return 0;
    for (i++, d = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        d++;
    return d >= 1 && d <= 6 && i == len;
}

static int ref_attr(REF *ref, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    const char *v;
    size_t n, vlen;
    size_t i;

    if (eq == NULL || eq == s)
        return 0;
    n = (size_t)(eq - s);
    v = eq + 1;
    vlen = len - n - 1;
    for (i = 0; i < REF_NATTRS; i++)
        if (is(s, n, ref_attr_names[i]))
            break;
    if (i == REF_NATTRS || (ref->attrs & (1u << i)))
        return 0;
    ref->attrs |= 1u << i;
    if (!no_ctl(v, vlen, i == 1 ? MAILDROP_FULL_NAME_MAX : MAILDROP_ATTR_MAX))
        return 0;
    switch (i) {
    case 0:
        return is(v, vlen, "local") || is(v, vlen, "remote");
    case 1:
        return 1;
    case 2:
        return vlen >= 1 && vlen <= MAILDROP_ENVID_MAX && printable(v, vlen);
    case 3:
        return is(v, vlen, "FULL") || is(v, vlen, "HDRS");
    case 4:
        return is(v, vlen, "7bit") || is(v, vlen, "8bit");
    case 5:
        if (!is(v, vlen, "yes"))
            return 0;
        ref->extract = 1;
        return 1;
    default:
        return ref_notify(v, vlen);
    }
}

static int ref_judge(REF *ref, int type, const char *s, size_t len)
{
    const char *semi;

    switch (ref->state) {
    case R_TIME:
        if (type != REC_TYPE_TIME || !ref_time(s, len))
            return 0;
        ref->state = R_ATTR;
        return 1;
    case R_ATTR:
        if (type == REC_TYPE_ATTR)
            return ref_attr(ref, s, len);
        if (type != REC_TYPE_FROM || !no_ctl(s, len, MAILDROP_ADDR_MAX))
            return 0;
        ref->sender = mystrndup(s, len);
        ref->state = R_RCPT;
        return 1;
    case R_RCPT:
        switch (type) {
        case REC_TYPE_ORCP:
            if ((ref->pending & 1) || len == 0 || !no_ctl(s, len, MAILDROP_ADDR_MAX))
                return 0;
            ref->pending |= 1;
            return 1;
        case REC_TYPE_NOTIFY:
            if ((ref->pending & 2) || !ref_notify(s, len))
                return 0;
            ref->pending |= 2;
            return 1;
        case REC_TYPE_DSN_ORCPT:
            semi = memchr(s, ';', len);
            if ((ref->pending & 4) || len == 0 || len > MAILDROP_ORCPT_MAX || !printable(s, len) ||
                semi == NULL || semi == s)
                return 0;
            ref->pending |= 4;
            return 1;
        case REC_TYPE_RCPT:
            if (len == 0 || !no_ctl(s, len, MAILDROP_ADDR_MAX) ||
                ref->rcpt_count >= MAILDROP_RCPT_MAX)
                return 0;
            ref->rcpt_count++;
            ref->pending = 0;
            return 1;
        case REC_TYPE_MESG:
            if (ref->pending || len != 0 || (ref->rcpt_count == 0 && !ref->extract))
                return 0;
            ref->state = R_BODY;
            return 1;
        default:
            return 0;
        }
    case R_BODY:
        if (len > MAILDROP_LINE_MAX)
            return 0;
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT) {
            ref->cont = type == REC_TYPE_CONT;
            return 1;
        }
        if (type != REC_TYPE_XTRA || ref->cont || len != 0)
            return 0;
        ref->state = R_END;
        return 1;
    case R_END:
        if (type != REC_TYPE_END || len != 0)
            return 0;
        ref->state = R_DONE;
        return 1;
    default:
        return 0;
    }
}

/* ref_check - like maildrop_check(): 0 or -1 */

static int ref_check(REF *ref, int type, const char *s, size_t len)
{
    if (ref->state == R_FAILED)
        return -1;
    if (ref->state == R_DONE) {
        ref->state = R_FAILED;
        ref->error = MAILDROP_CHECK_BAD;
        return -1;
    }
    ref->size += (long long)len + (type == REC_TYPE_NORM);
    if (ref->limit > 0 && ref->size > ref->limit) {
        ref->state = R_FAILED;
        ref->error = MAILDROP_CHECK_TOO_BIG;
        return -1;
    }
    if (!ref_judge(ref, type, s, len)) {
        ref->state = R_FAILED;
        ref->error = MAILDROP_CHECK_BAD;
        return -1;
    }
    return 0;
}

static void ref_init(REF *ref, long long limit)
{
    memset(ref, 0, sizeof(*ref));
    ref->limit = limit;
}

/* ---- one record to both checkers ---- */

static void check_state(MAILDROP_CHECK *mc, REF *ref);

static void check_both(MAILDROP_CHECK *mc, REF *ref, int type, const char *s, size_t len)
{
    int was_failed = ref->state == R_FAILED;
    int got = maildrop_check(mc, type, s, len);
    int want = ref_check(ref, type, s, len);

    if (got != want)
        abort();
    if (got < 0) {
        if (maildrop_check_error(mc) != ref->error || *maildrop_check_why(mc) == 0)
            abort();
        if (!was_failed && maildrop_check(mc, REC_TYPE_END, "", 0) != -1)
            abort(); /* refused from now on */
        return;
    }
    check_state(mc, ref);
}

/* check_state - what the checker reports after an accepted record */

static void check_state(MAILDROP_CHECK *mc, REF *ref)
{
    if (maildrop_check_error(mc) != MAILDROP_CHECK_OK ||
        maildrop_check_rcpt_count(mc) != ref->rcpt_count ||
        maildrop_check_extract(mc) != ref->extract || maildrop_check_size(mc) != ref->size ||
        maildrop_check_done(mc) != (ref->state == R_DONE))
        abort();
    if ((maildrop_check_sender(mc) == NULL) != (ref->sender == NULL) ||
        (ref->sender && strcmp(maildrop_check_sender(mc), ref->sender) != 0))
        abort();
}

/* ---- record mode: the record program ---- */

typedef struct REC {
    int type;
    const char *data;
    size_t len;
} REC;

typedef struct TEMPLATE {
    const char *text;
    char pad;       /* appended pad_len times */
    size_t pad_len;
} TEMPLATE;

#define T(s) {s, 0, 0}

static const TEMPLATE t_time[] = {T("1700000000.123456"), T("1.0"), T("1700000000"),
                                  T("1700000000.1234567"), T(""), T("12345678901234567890.1"),
                                  T("123456789012345678901.1")};
static const TEMPLATE t_attr[] = {
    T("rewrite_context=local"), T("rewrite_context=remote"), T("full_name=J\xc3\xb6hn Doe"),
    T("dsn_envid=abc123"), T("dsn_ret=FULL"), T("dsn_ret=HDRS"), T("encoding=8bit"),
    T("encoding=7bit"), T("extract_recipients=yes"), T("dsn_notify=14"), T("dsn_notify=1"),
    T("dsn_notify=3"), T("client_address=192.0.2.1"), T("rewrite_context="), T("=x"),
    T("dsn_envid="), T("full_name=a\tb"), {"full_name=", 'n', MAILDROP_FULL_NAME_MAX},
    {"full_name=", 'n', MAILDROP_FULL_NAME_MAX + 1}, {"dsn_envid=", 'e', MAILDROP_ENVID_MAX},
    {"dsn_envid=", 'e', MAILDROP_ENVID_MAX + 1}, T("dsn_notify=01"), T("sasl_username=x")};
static const TEMPLATE t_addr[] = {T("user@example.com"), T(""), T("x@y"), T("a\tb@example.com"),
                                  T("\xc3\xa9@example.com"), {"", 'a', MAILDROP_ADDR_MAX},
                                  {"", 'a', MAILDROP_ADDR_MAX + 1}};
static const TEMPLATE t_notify[] = {T("1"),  T("2"), T("6"),  T("14"), T("0"),
                                    T("16"), T("3"), T("01"), T("")};
static const TEMPLATE t_orcpt[] = {T("rfc822;user@example.com"), T(";x"), T("rfc822;"),
                                   T("rfc822"), {"rfc822;", 'o', MAILDROP_ORCPT_MAX - 7},
                                   {"rfc822;", 'o', MAILDROP_ORCPT_MAX - 6}};
static const TEMPLATE t_empty[] = {T(""), T("x")};
static const TEMPLATE t_line[] = {T("Subject: hi"), T(""), T("body line"), T("\r")};
static const TEMPLATE t_other[] = {T("123 45 1"), T("")};

static const struct {
    int type;
    const TEMPLATE *t;
    size_t n;
} kinds[] = {
#define K(type, t) {type, t, sizeof(t) / sizeof(t[0])}
    K(REC_TYPE_TIME, t_time),   K(REC_TYPE_ATTR, t_attr),      K(REC_TYPE_FROM, t_addr),
    K(REC_TYPE_ORCP, t_addr),   K(REC_TYPE_NOTIFY, t_notify),  K(REC_TYPE_DSN_ORCPT, t_orcpt),
    K(REC_TYPE_RCPT, t_addr),   K(REC_TYPE_MESG, t_empty),     K(REC_TYPE_NORM, t_line),
    K(REC_TYPE_CONT, t_line),   K(REC_TYPE_XTRA, t_empty),     K(REC_TYPE_END, t_empty),
    K(REC_TYPE_SIZE, t_other),  K(REC_TYPE_DONE, t_addr),      K('Z', t_other),
    K(REC_TYPE_RCPT, t_addr),
#undef K
};

/* make_records - the program in data to records; template text goes to store */

static int make_records(const uint8_t *data, size_t size, REC *recs, VSTRING *store)
{
    size_t pos = 0;
    int n = 0;

    /* first pass builds the text; pointers are taken after store stops growing */
    size_t offsets[FUZZ_RECS_MAX];
    int from_store[FUZZ_RECS_MAX];

    vstring_reset(store);
    while (pos < size && n < FUZZ_RECS_MAX) {
        uint8_t s = data[pos++];

        recs[n].type = kinds[s & 15].type;
        if ((s & 0x60) != 0) {
            const TEMPLATE *t;

            t = &kinds[s & 15].t[(pos < size ? data[pos] : 0) % kinds[s & 15].n];
            pos++;
            offsets[n] = vstring_len(store);
            vstring_strcat(store, t->text);
            for (size_t i = 0; i < t->pad_len; i++)
                vstring_addch(store, t->pad);
            recs[n].len = vstring_len(store) - offsets[n];
            from_store[n] = 1;
        } else {
            size_t len = pos < size ? data[pos++] : 0;

            if (s & 0x80) /* a long one */
                len = len << 8 | (pos < size ? data[pos++] : 0);
            if (len > size - pos)
                len = size - pos;
            recs[n].data = (const char *)data + pos;
            recs[n].len = len;
            from_store[n] = 0;
            pos += len;
        }
        n++;
    }
    for (int i = 0; i < n; i++)
        if (from_store[i])
            recs[i].data = vstring_str(store) + offsets[i];
    return n;
}

static void record_mode(const uint8_t *data, size_t size, long long limit, int fd)
{
    static REC recs[FUZZ_RECS_MAX];
    static VSTRING *store, *buf;
    MAILDROP_CHECK *mc;
    VSTREAM *fp;
    REF ref;
    int n;

    if (store == NULL) {
        store = vstring_alloc(1000);
        buf = vstring_alloc(1000);
    }
    n = make_records(data, size, recs, store);

    /* straight to a checker */
    mc = maildrop_check_create(limit);
    ref_init(&ref, limit);
    for (int i = 0; i < n; i++)
        check_both(mc, &ref, recs[i].type, recs[i].data, recs[i].len);
    maildrop_check_free(mc);
    myfree(ref.sender);

    /* through a file: rec_put, then maildrop_get */
    if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    fp = vstream_fdopen(fd, O_RDWR);
    for (int i = 0; i < n; i++) {
        int ok = rec_type_ok(recs[i].type);

        if ((rec_put(fp, recs[i].type, recs[i].data, recs[i].len) == recs[i].type) != ok)
            abort();
    }
    if (vstream_fflush(fp) != 0 || vstream_fseek(fp, 0, SEEK_SET) != 0)
        abort();
    mc = maildrop_check_create(limit);
    ref_init(&ref, limit);
    for (int i = 0; i < n; i++) {
        int type;

        if (!rec_type_ok(recs[i].type))
            continue; /* rec_put refused it */
        type = maildrop_get(fp, buf);
        if (type != recs[i].type || vstring_len(buf) != recs[i].len ||
            memcmp(vstring_str(buf), recs[i].data, recs[i].len) != 0)
            abort();
        check_both(mc, &ref, type, vstring_str(buf), vstring_len(buf));
    }
    if (maildrop_get(fp, buf) != REC_TYPE_EOF)
        abort();
    vstream_fdclose(fp);
    maildrop_check_free(mc);
    myfree(ref.sender);
}

static void raw_mode(const uint8_t *data, size_t size, long long limit, int fd)
{
    static VSTRING *buf;
    MAILDROP_CHECK *mc = maildrop_check_create(limit);
    VSTREAM *fp;
    REF ref;
    int type;

    if (buf == NULL)
        buf = vstring_alloc(1000);
    if (ftruncate(fd, 0) < 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size) ||
        lseek(fd, 0, SEEK_SET) != 0)
        abort();
    fp = vstream_fdopen(fd, O_RDONLY);
    ref_init(&ref, limit);
    while ((type = maildrop_get(fp, buf)) != REC_TYPE_EOF && type != REC_TYPE_ERROR) {
        if (!rec_type_ok(type))
            abort();
        check_both(mc, &ref, type, vstring_str(buf), vstring_len(buf));
    }
    vstream_fdclose(fp);
    maildrop_check_free(mc);
    myfree(ref.sender);
}

/* check_rcpt_limit - MAILDROP_RCPT_MAX recipients pass, one more does not */

static void check_rcpt_limit(void)
{
    MAILDROP_CHECK *mc = maildrop_check_create(0);
    REF ref;

    ref_init(&ref, 0);
    check_both(mc, &ref, REC_TYPE_TIME, "1.0", 3);
    check_both(mc, &ref, REC_TYPE_FROM, "", 0);
    for (int i = 0; i < MAILDROP_RCPT_MAX; i++)
        if (maildrop_check(mc, REC_TYPE_RCPT, "u@x", 3) != 0 || ref_check(&ref, REC_TYPE_RCPT, "u@x", 3) != 0)
            abort();
    check_state(mc, &ref);
    if (maildrop_check_rcpt_count(mc) != MAILDROP_RCPT_MAX)
        abort();
    check_both(mc, &ref, REC_TYPE_RCPT, "u@x", 3);
    if (ref.state != R_FAILED)
        abort();
    maildrop_check_free(mc);
    myfree(ref.sender);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long long limits[] = {0, 0, 0, 1, 40, 200, 1000, 4096};
    static int fd = -1;
    long long limit;

    if (fd < 0) {
        msg_set_logfile("/dev/null");
        if ((fd = memfd_create("fuzz_maildrop", 0)) < 0)
            abort();
        check_rcpt_limit();
    }
    if (size == 0)
        return 0;
    limit = limits[(data[0] >> 1) & 7];
    if (data[0] & 1)
        raw_mode(data + 1, size - 1, limit, fd);
    else
        record_mode(data + 1, size - 1, limit, fd);
    return 0;
}
