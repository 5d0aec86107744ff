/*
 * NAME
 *	cleanup_checks - header_checks, mime_header_checks,
 *	nested_header_checks and body_checks in cleanup(8)
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	void cleanup_checks_init(void)
 *	int cleanup_checks_header(CLEANUP_STATE *state, HEADER_FIELD *field)
 *	void cleanup_checks_eoh(CLEANUP_STATE *state)
 *	int cleanup_checks_body(CLEANUP_STATE *state, int type,
 *				const char *data, size_t len)
 *	void cleanup_checks_eom(CLEANUP_STATE *state)
 *	void cleanup_checks_free(CLEANUP_STATE *state)
 *
 *	#include "cleanup_checks.h"
 *
 *	CLEANUP_CHECKS *cleanup_checks_get(CLEANUP_STATE *state)
 * DESCRIPTION
 *	cleanup_checks_init() opens the tables of header_checks,
 *	mime_header_checks, nested_header_checks and body_checks (once per
 *	process, before privileges are dropped). A table that cannot be
 *	opened makes every lookup fail, which defers mail.
 *
 *	The other hooks are called only for messages whose client asked
 *	for content inspection (CLEANUP_FLAG_FILTER).
 *
 *	cleanup_checks_header() sees each header field of the message's
 *	own header section, complete with its continuation lines, before
 *	message_drop_headers and address rewriting apply. The field's
 *	lines, joined by newline characters, are looked up in
 *	mime_header_checks when the field is a MIME header (see
 *	mime_state(3)) and MIME processing is on, else in header_checks;
 *	cleanup_act_apply() carries out what a table says. It returns
 *	CLEANUP_ACT_KEEP (write the header on), CLEANUP_ACT_DROP (IGNORE,
 *	or REPLACE, whose text it wrote itself; PREPEND text is written
 *	here before the KEEP), or CLEANUP_ACT_REJECT after cleanup_error():
 *	a REJECT action (CLEANUP_STAT_CONT) or a table that could not
 *	answer (CLEANUP_STAT_DEFER, "4.3.0", logged): mail is never let
 *	through unchecked.
 *
 *	cleanup_checks_eoh() is called once the headers are complete; it
 *	has nothing to do for tables (a milter's end-of-header step would
 *	go here).
 *
 *	cleanup_checks_body() takes each body record (type REC_TYPE_NORM
 *	or REC_TYPE_CONT) and writes it itself, so it returns
 *	CLEANUP_ACT_DROP (or CLEANUP_ACT_KEEP, when no table needs the
 *	body). With MIME processing (disable_mime_input_processing = no),
 *	the body goes through mime_state(3): headers of body parts go to
 *	mime_header_checks, headers of attached messages to
 *	nested_header_checks (their MIME headers to mime_header_checks),
 *	and text and boundary lines to body_checks, each record on its
 *	own, as long as it starts within the first body_checks_size_limit
 *	bytes of its body part. Without MIME processing every body record
 *	goes to body_checks, within the limit counted from the start of
 *	the body. A message nested deeper than mime_nesting_limit is
 *	refused (CLEANUP_STAT_CONT, "5.6.0").
 *
 *	After a REJECT or DISCARD nothing more is looked up.
 *
 *	cleanup_checks_eom() is called at the end of the content: the MIME
 *	parser hands over what it still holds.
 *
 *	cleanup_checks_free() releases state->checks and the content
 *	action strings of the state.
 *
 *	cleanup_checks_get() returns state->checks, made on first use.
 */
#include <string.h>

#include "cleanup.h"
#include "cleanup_checks.h"
#include "cleanup_proto.h"
#include "dict.h"
#include "mail_params.h"
#include "mime_state.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

static MAPS *cleanup_header_maps;
static MAPS *cleanup_mime_maps;
static MAPS *cleanup_nested_maps;
static MAPS *cleanup_body_maps;

#define CLEANUP_CHECKS_KEY_MAX (DICT_MAX_LEN - 1) /* longest key a table takes */

/* cleanup_checks_maps - open a table list, or NULL when the parameter is empty */

static MAPS *cleanup_checks_maps(const char *param, const char *value)
{
    ARGV *names = maps_split(value ? value : "");
    MAPS *maps = NULL;

    if (names->argc > 0)
        maps = maps_create(param, value, DICT_FLAG_DEFAULT);
    argv_free(names);
    return maps;
}

void cleanup_checks_init(void)
{
    cleanup_header_maps = cleanup_checks_maps("header_checks", var_header_checks);
    cleanup_body_maps = cleanup_checks_maps("body_checks", var_body_checks);
    if (!var_disable_mime_input_processing) {
        cleanup_mime_maps = cleanup_checks_maps("mime_header_checks", var_mime_header_checks);
        cleanup_nested_maps = cleanup_checks_maps("nested_header_checks", var_nested_header_checks);
    }
}

CLEANUP_CHECKS *cleanup_checks_get(CLEANUP_STATE *state)
{
    CLEANUP_CHECKS *c = state->checks;

    if (c == NULL) {
        c = state->checks = mycalloc(1, sizeof(*c));
        c->key = vstring_alloc(256);
        c->text = vstring_alloc(100);
        c->log = vstring_alloc(256);
    }
    return c;
}

void cleanup_checks_free(CLEANUP_STATE *state)
{
    CLEANUP_CHECKS *c = state->checks;

    myfree(state->filter);
    myfree(state->redirect);
    state->filter = state->redirect = NULL;
    if (c == NULL)
        return;
    if (c->mime)
        mime_state_free(c->mime);
    myfree(c->client_name);
    myfree(c->helo_name);
    myfree(c->protocol);
    myfree(c->recipient);
    vstring_free(c->key);
    vstring_free(c->text);
    vstring_free(c->log);
    myfree(c);
    state->checks = NULL;
}

/* cleanup_checks_key - the lookup key: NUL bytes become spaces, length bounded */

static const char *cleanup_checks_key(CLEANUP_CHECKS *c, const char *data, size_t len)
{
    if (len > CLEANUP_CHECKS_KEY_MAX)
        len = CLEANUP_CHECKS_KEY_MAX;
    vstring_memcpy(c->key, data, len);
    for (size_t i = 0; i < len; i++)
        if (vstring_str(c->key)[i] == 0)
            vstring_str(c->key)[i] = ' ';
    return vstring_str(c->key);
}

/*
 * cleanup_checks_lookup - look input up in maps and carry out the action;
 * returns CLEANUP_HBC_*. A table error defers the message (STOP).
 */
static int cleanup_checks_lookup(CLEANUP_STATE *state, MAPS *maps, const char *where,
                                 const char *data, size_t len, int at_start)
{
    CLEANUP_CHECKS *c = cleanup_checks_get(state);
    const char *key = cleanup_checks_key(c, data, len);
    const char *value;
    int status;

    status = maps_find(maps, key, MAPS_FIND_ALL, &value);
    if (status == DICT_STAT_NOTFOUND)
        return CLEANUP_HBC_KEEP;
    if (status == DICT_STAT_ERROR) {
        msg_warn("%s: %s map lookup problem -- message not accepted, try again later",
                 cleanup_id(state), maps->title);
        cleanup_error(state, CLEANUP_STAT_DEFER,
                      "4.3.0 Error: content inspection failed, "
                      "try again later");
        c->done = 1;
        return CLEANUP_HBC_STOP;
    }
    return cleanup_act_apply(state, where, maps->title, value, key, vstring_len(c->key), at_start);
}

/* cleanup_checks_write_field - write a header field's lines as they are */

static void cleanup_checks_write_field(CLEANUP_STATE *state, HEADER_FIELD *field)
{
    size_t len;

    for (int i = 0; i < field->line_count && state->errs == 0; i++) {
        const char *line = header_field_line(field, i, &len);

        cleanup_out_text(state, REC_TYPE_NORM, line, len);
    }
}

/*
 * cleanup_checks_field - inspect one header field with maps; with own_output
 * the field is written here (body parts), else by the caller (KEEP).
 */
static int cleanup_checks_field(CLEANUP_STATE *state, MAPS *maps, HEADER_FIELD *field,
                                int own_output)
{
    CLEANUP_CHECKS *c = cleanup_checks_get(state);
    int result = CLEANUP_HBC_KEEP;

    if (maps && !c->done && state->errs == 0)
        result = cleanup_checks_lookup(state, maps, "header", vstring_str(field->text),
                                       vstring_len(field->text), 1);
    switch (result) {
    case CLEANUP_HBC_PREPEND:
        cleanup_out_text(state, REC_TYPE_NORM, vstring_str(c->text), vstring_len(c->text));
        /* FALLTHROUGH */
    case CLEANUP_HBC_KEEP:
        if (own_output)
            cleanup_checks_write_field(state, field);
        return CLEANUP_ACT_KEEP;
    case CLEANUP_HBC_REPLACE:
        cleanup_out_text(state, REC_TYPE_NORM, vstring_str(c->text), vstring_len(c->text));
        return CLEANUP_ACT_DROP;
    case CLEANUP_HBC_DROP:
        return CLEANUP_ACT_DROP;
    default:
        /* rejected, deferred or discarded: what is written no longer matters */
        return state->errs ? CLEANUP_ACT_REJECT : CLEANUP_ACT_DROP;
    }
}

/* cleanup_checks_line - inspect and write one body record */

static void cleanup_checks_line(CLEANUP_STATE *state, int type, const char *data, size_t len,
                                long long offset)
{
    CLEANUP_CHECKS *c = cleanup_checks_get(state);
    int at_start = !c->body_mid_line;
    int result = CLEANUP_HBC_KEEP;

    c->body_mid_line = (type == REC_TYPE_CONT);
    if (state->errs)
        return;
    if (cleanup_body_maps && !c->done &&
        (var_body_checks_size_limit == 0 || offset < var_body_checks_size_limit))
        result = cleanup_checks_lookup(state, cleanup_body_maps, "body", data, len, at_start);
    switch (result) {
    case CLEANUP_HBC_PREPEND:
        cleanup_out_text(state, REC_TYPE_NORM, vstring_str(c->text), vstring_len(c->text));
        /* FALLTHROUGH */
    case CLEANUP_HBC_KEEP:
    case CLEANUP_HBC_STOP: /* discarded: write on, it does no harm */
        cleanup_out_text(state, type, data, len);
        return;
    case CLEANUP_HBC_REPLACE:
        cleanup_out_text(state, type, vstring_str(c->text), vstring_len(c->text));
        return;
    default:
        return;
    }
}

/* mime_state callbacks */

static void cleanup_checks_mime_head(void *context, int class, HEADER_FIELD *field)
{
    CLEANUP_STATE *state = context;
    MAPS *maps;

    if (class == MIME_CLASS_PART ||
        mime_state_is_mime_header(vstring_str(field->text), field->name_len))
        maps = cleanup_mime_maps;
    else
        maps = cleanup_nested_maps;
    (void)cleanup_checks_field(state, maps, field, 1);
}

static void cleanup_checks_mime_body(void *context, int class, int type, const char *data,
                                     size_t len, long long offset)
{
    (void)class;
    cleanup_checks_line((CLEANUP_STATE *)context, type, data, len, offset);
}

/* cleanup_checks_mime_errors - act on what the MIME parser found */

static void cleanup_checks_mime_errors(CLEANUP_STATE *state)
{
    CLEANUP_CHECKS *c = state->checks;
    static const char text[] = "MIME nesting exceeds safety limit";

    if (c->mime_reported || (mime_state_errors(c->mime) & MIME_ERR_NESTING) == 0)
        return;
    c->mime_reported = 1;
    if (state->errs)
        return;
    cleanup_error(state, CLEANUP_STAT_CONT, "5.6.0 %s", text);
    cleanup_act_log(state, "reject", "mime-error", text, sizeof(text) - 1,
                    vstring_str(state->reason));
    c->done = 1;
}

/* cleanup_checks_mime - the MIME parser, made when a table needs it */

static MIME_STATE *cleanup_checks_mime(CLEANUP_STATE *state)
{
    CLEANUP_CHECKS *c = cleanup_checks_get(state);
    long limit;

    if (c->mime == NULL && !var_disable_mime_input_processing &&
        (cleanup_mime_maps || cleanup_nested_maps || cleanup_body_maps)) {
        limit = var_header_size_limit;
        if (var_message_size_limit > 0 && var_message_size_limit < limit)
            limit = var_message_size_limit;
        c->mime = mime_state_create((size_t)limit, (int)var_mime_nesting_limit,
                                    (size_t)var_mime_boundary_length_limit,
                                    cleanup_checks_mime_head, cleanup_checks_mime_body, state);
    }
    return c->mime;
}

static int cleanup_checks_active(void)
{
    return cleanup_header_maps || cleanup_mime_maps || cleanup_nested_maps || cleanup_body_maps;
}

int cleanup_checks_header(CLEANUP_STATE *state, HEADER_FIELD *field)
{
    MIME_STATE *mime;
    MAPS *maps;

    if (!cleanup_checks_active())
        return CLEANUP_ACT_KEEP;
    if ((mime = cleanup_checks_mime(state)) != NULL)
        mime_state_header(mime, field);
    if (!var_disable_mime_input_processing &&
        mime_state_is_mime_header(vstring_str(field->text), field->name_len))
        maps = cleanup_mime_maps;
    else
        maps = cleanup_header_maps;
    return cleanup_checks_field(state, maps, field, 0);
}

void cleanup_checks_eoh(CLEANUP_STATE *state)
{
    (void)state;
}

int cleanup_checks_body(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    CLEANUP_CHECKS *c;
    MIME_STATE *mime;

    if (!cleanup_checks_active())
        return CLEANUP_ACT_KEEP;
    if ((mime = cleanup_checks_mime(state)) != NULL) {
        mime_state_update(mime, type, data, len);
        cleanup_checks_mime_errors(state);
        return CLEANUP_ACT_DROP;
    }
    if (cleanup_body_maps == NULL)
        return CLEANUP_ACT_KEEP;
    c = cleanup_checks_get(state);
    cleanup_checks_line(state, type, data, len, c->body_offset);
    c->body_offset += (long long)len + (type == REC_TYPE_NORM);
    return CLEANUP_ACT_DROP;
}

void cleanup_checks_eom(CLEANUP_STATE *state)
{
    CLEANUP_CHECKS *c = state->checks;

    if (c == NULL || c->mime == NULL)
        return;
    mime_state_finish(c->mime);
    cleanup_checks_mime_errors(state);
}
