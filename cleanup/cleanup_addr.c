/*
 * NAME
 *	cleanup_addr - envelope address rewriting and recipient output
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	void cleanup_addr_sender(CLEANUP_STATE *state, const char *addr)
 *	void cleanup_addr_recipient(CLEANUP_STATE *state, const char *orcp,
 *				const char *addr, long notify, int have_notify,
 *				const char *dsn_orcpt)
 *	int cleanup_addr_map11(CLEANUP_STATE *state, MAPS *maps,
 *				const char *title, VSTRING *addr)
 *	void cleanup_addr_qualify(VSTRING *addr)
 * DESCRIPTION
 *	cleanup_addr_sender() rewrites the envelope sender and writes the
 *	FROM record: an address without a domain gets @$myorigin; then,
 *	when the client allowed mapping (CLEANUP_FLAG_MAP_OK),
 *	sender_canonical_maps and canonical_maps apply as their classes
 *	say. The null sender is never rewritten.
 *
 *	cleanup_addr_recipient() does the same for one envelope
 *	recipient with recipient_canonical_maps and canonical_maps, then
 *	expands it through virtual_alias_maps, and writes each resulting
 *	recipient: [ORCP] [NOTIFY] [DSN_ORCPT] RCPT. ORCP holds orcp (the
 *	address the client gave, or the original it passed on) when
 *	enable_original_recipient is set. A recipient already written for
 *	this message is dropped (with enable_original_recipient, only when
 *	its original address, completed with @$myorigin if it had no
 *	domain, and its DSN attributes are also the same), as long as
 *	fewer than duplicate_filter_limit are remembered.
 *
 *	cleanup_addr_map11() applies one canonical table list to addr in
 *	place. Returns 0, or -1 after recording a temporary error.
 *
 *	cleanup_addr_qualify() appends @$myorigin to a non-empty address
 *	without '@'.
 * DIAGNOSTICS
 *	Table errors and expansion problems are logged as warnings with
 *	the queue ID and defer the message (CLEANUP_STAT_DEFER, 4.3.0 for
 *	a table that could not answer, 4.6.0 for an expansion problem).
 *	Nothing is done once the message has an error.
 */
#include <string.h>

#include "cleanup.h"
#include "cleanup_proto.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

/* cleanup_addr_opts - how to map, per class of table */

static void cleanup_addr_opts(CLEANUP_MAP_OPTS *opts, const char *title, const char *class)
{
    static int canon_prop = -1, virt_prop = -1;
    int *prop = strcmp(class, "virtual") == 0 ? &virt_prop : &canon_prop;

    if (*prop < 0)
        *prop = mail_addr_propagate(class);
    opts->title = title;
    opts->origin = var_myorigin;
    opts->propagate = *prop;
    opts->recursion_limit = var_virtual_alias_recursion_limit;
    opts->expansion_limit = var_virtual_alias_expansion_limit;
    opts->length_limit = (size_t) var_virtual_alias_address_length_limit;
}

/* cleanup_addr_fail - record a mapping failure */

static void cleanup_addr_fail(CLEANUP_STATE *state, int status, VSTRING *why)
{
    msg_warn("%s: %s -- message not accepted, try again later", cleanup_id(state),
             vstring_str(why));
    if (status == CLEANUP_MAP_DEFER)
        cleanup_error(state, CLEANUP_STAT_DEFER, "4.3.0 Temporary lookup failure");
    else
        cleanup_error(state, CLEANUP_STAT_DEFER, "4.6.0 Alias expansion error");
}

void cleanup_addr_qualify(VSTRING *addr)
{
    if (vstring_len(addr) > 0 && strchr(vstring_str(addr), '@') == NULL && var_myorigin
        && *var_myorigin) {
        vstring_addch(addr, '@');
        vstring_strcat(addr, var_myorigin);
    }
}

int cleanup_addr_map11(CLEANUP_STATE *state, MAPS *maps, const char *title, VSTRING *addr)
{
    CLEANUP_MAP_OPTS opts;
    VSTRING *result = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int status;

    cleanup_addr_opts(&opts, title, "canonical");
    status = cleanup_map_canon(maps, &opts, vstring_str(addr), result, why);
    if (status == CLEANUP_MAP_OK)
        vstring_strcpy(addr, vstring_str(result));
    else
        cleanup_addr_fail(state, status, why);
    vstring_free(result);
    vstring_free(why);
    return status == CLEANUP_MAP_OK ? 0 : -1;
}

void cleanup_addr_sender(CLEANUP_STATE *state, const char *addr)
{
    VSTRING *sender = vstring_alloc(100);

    vstring_strcpy(sender, addr);
    if (*addr && state->errs == 0) {
        cleanup_addr_qualify(sender);
        if (state->flags & CLEANUP_FLAG_MAP_OK) {
            if (cleanup_send_canon_maps && (cleanup_send_canon_flags & CLEANUP_CANON_ENV_SENDER))
                (void) cleanup_addr_map11(state, cleanup_send_canon_maps, "sender_canonical_maps",
                                          sender);
            if (state->errs == 0 && cleanup_canon_maps
                && (cleanup_canon_flags & CLEANUP_CANON_ENV_SENDER))
                (void) cleanup_addr_map11(state, cleanup_canon_maps, "canonical_maps", sender);
        }
    }
    myfree(state->sender);
    state->sender = vstring_export(sender);
    cleanup_out_rec(state, REC_TYPE_FROM, state->sender, strlen(state->sender));
}

/* cleanup_addr_out - write one final recipient, unless it is a duplicate */

static void cleanup_addr_out(CLEANUP_STATE *state, const char *orcp, const char *rcpt, long notify,
                             int have_notify, const char *dsn_orcpt)
{
    VSTRING *key = state->temp1;

    if (var_enable_original_recipient) {
        /* "user" and "user@$myorigin" are the same original address */
        vstring_sprintf(key, "%s\n%s", rcpt, orcp);
        if (*orcp && strchr(orcp, '@') == NULL && var_myorigin && *var_myorigin)
            vstring_sprintf_append(key, "@%s", var_myorigin);
        vstring_sprintf_append(key, "\n%ld\n%s", have_notify ? notify : -1L, dsn_orcpt);
    } else {
        vstring_strcpy(key, rcpt);
    }
    if (state->dups == NULL)
        state->dups = htable_create(16);
    if (htable_locate(state->dups, vstring_str(key)) != NULL)
        return;
    if (var_duplicate_filter_limit == 0 || state->dup_count < var_duplicate_filter_limit) {
        htable_enter(state->dups, vstring_str(key), NULL);
        state->dup_count++;
    }
    if (var_enable_original_recipient)
        cleanup_out_rec(state, REC_TYPE_ORCP, orcp, strlen(orcp));
    if (have_notify)
        cleanup_out_fmt(state, REC_TYPE_NOTIFY, "%ld", notify);
    if (*dsn_orcpt)
        cleanup_out_rec(state, REC_TYPE_DSN_ORCPT, dsn_orcpt, strlen(dsn_orcpt));
    cleanup_out_rec(state, REC_TYPE_RCPT, rcpt, strlen(rcpt));
    if (state->errs == 0)
        state->rcpt_count++;
    cleanup_act_recipient(state, rcpt);
}

void cleanup_addr_recipient(CLEANUP_STATE *state, const char *orcp, const char *addr,
                            long notify, int have_notify, const char *dsn_orcpt)
{
    VSTRING *rcpt;
    VSTRING *why;
    CLEANUP_MAP_OPTS opts;
    int status;

    if (state->errs)
        return;
    rcpt = vstring_alloc(100);
    vstring_strcpy(rcpt, addr);
    cleanup_addr_qualify(rcpt);
    if ((state->flags & CLEANUP_FLAG_MAP_OK) == 0) {
        cleanup_addr_out(state, orcp, vstring_str(rcpt), notify, have_notify, dsn_orcpt);
        vstring_free(rcpt);
        return;
    }
    if (cleanup_rcpt_canon_maps && (cleanup_rcpt_canon_flags & CLEANUP_CANON_ENV_RCPT))
        (void) cleanup_addr_map11(state, cleanup_rcpt_canon_maps, "recipient_canonical_maps", rcpt);
    if (state->errs == 0 && cleanup_canon_maps && (cleanup_canon_flags & CLEANUP_CANON_ENV_RCPT))
        (void) cleanup_addr_map11(state, cleanup_canon_maps, "canonical_maps", rcpt);
    if (state->errs == 0 && cleanup_virt_alias_maps) {
        why = vstring_alloc(100);
        cleanup_addr_opts(&opts, "virtual_alias_maps", "virtual");
        status = cleanup_map_virtual(cleanup_virt_alias_maps, &opts, vstring_str(rcpt),
                                     state->rcpt_list, why);
        if (status != CLEANUP_MAP_OK)
            cleanup_addr_fail(state, status, why);
        for (int i = 0; i < state->rcpt_list->argc && state->errs == 0; i++)
            cleanup_addr_out(state, orcp, state->rcpt_list->argv[i], notify, have_notify,
                             dsn_orcpt);
        vstring_free(why);
    } else if (state->errs == 0) {
        cleanup_addr_out(state, orcp, vstring_str(rcpt), notify, have_notify, dsn_orcpt);
    }
    vstring_free(rcpt);
}
