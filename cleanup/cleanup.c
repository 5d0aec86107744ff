/*
 * NAME
 *	cleanup - canonicalize a message and write it to the queue
 * SYNOPSIS
 *	cleanup [-c config_dir] [-n name] [-t type] [-o name=value] [-v] [-S]
 * DESCRIPTION
 *	cleanup(8) takes one message per connection from smtpd(8),
 *	pickup(8) or bounce(8), in the protocol of lib/cleanup_proto.h:
 *	it creates the queue file in incoming/ and sends its queue ID,
 *	reads the client's flags and then the envelope and content
 *	records, rewrites addresses (canonical maps, virtual aliases,
 *	duplicate recipients), processes the headers (missing
 *	Message-Id:, Date: and From:, dropped headers, the Received: hop
 *	count), and writes everything to the queue file. Only when the
 *	file is complete and synced does it answer with status 0; then it
 *	tells qmgr(8) that there is new mail. On any error the file is
 *	removed before the answer, and a client that goes away before the
 *	end leaves no file behind.
 *
 *	This file holds main(), the per-process set-up (tables are opened
 *	once, before privileges are dropped) and the per-connection
 *	protocol driver. The manual page is man/man8/cleanup.8.
 * DIAGNOSTICS
 *	Problems with a message are logged with the queue ID and
 *	reported to the client; problems with the process (tables that
 *	changed) make it exit between messages, so that master(8) starts
 *	a fresh one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup.h"
#include "cleanup_proto.h"
#include "dict.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

#define CLEANUP_QMGR_PATH "public/qmgr"
#define CLEANUP_QMGR_TRIGGER "I"

MAPS *cleanup_canon_maps;
MAPS *cleanup_send_canon_maps;
MAPS *cleanup_rcpt_canon_maps;
MAPS *cleanup_virt_alias_maps;
int cleanup_canon_flags;
int cleanup_send_canon_flags;
int cleanup_rcpt_canon_flags;
HTABLE *cleanup_drop_headers;
CLEANUP_LOCAL *cleanup_local_clients;

/* cleanup_classes - parse a *_canonical_classes value */

static int cleanup_classes(const char *param, const char *value)
{
    ARGV *words = argv_split(value ? value : "", ARGV_DELIM_LIST);
    int flags = 0;

    for (int i = 0; i < words->argc; i++) {
        const char *word = words->argv[i];

        if (strcasecmp(word, "envelope_sender") == 0)
            flags |= CLEANUP_CANON_ENV_SENDER;
        else if (strcasecmp(word, "envelope_recipient") == 0)
            flags |= CLEANUP_CANON_ENV_RCPT;
        else if (strcasecmp(word, "header_sender") == 0)
            flags |= CLEANUP_CANON_HDR_SENDER;
        else if (strcasecmp(word, "header_recipient") == 0)
            flags |= CLEANUP_CANON_HDR_RCPT;
        else
            msg_warn("%s: ignoring unknown address class \"%s\"", param, word);
    }
    argv_free(words);
    return flags;
}

/* cleanup_maps - open a table list, or NULL when the parameter is empty */

static MAPS *cleanup_maps(const char *param, const char *value)
{
    ARGV *names = maps_split(value ? value : "");
    MAPS *maps = NULL;

    if (names->argc > 0)
        maps = maps_create(param, value, DICT_FLAG_DEFAULT);
    argv_free(names);
    return maps;
}

/* cleanup_pre_init - open tables while we may still read every file */

static void cleanup_pre_init(const char *service, char **args)
{
    ARGV *names;

    (void) service;
    (void) args;
    cleanup_canon_maps = cleanup_maps("canonical_maps", var_canonical_maps);
    cleanup_send_canon_maps = cleanup_maps("sender_canonical_maps", var_sender_canonical_maps);
    cleanup_rcpt_canon_maps = cleanup_maps("recipient_canonical_maps",
                                           var_recipient_canonical_maps);
    cleanup_virt_alias_maps = cleanup_maps("virtual_alias_maps", var_virtual_alias_maps);
    cleanup_canon_flags = cleanup_classes("canonical_classes", var_canonical_classes);
    cleanup_send_canon_flags = cleanup_classes("sender_canonical_classes",
                                               var_sender_canonical_classes)
                               & (CLEANUP_CANON_ENV_SENDER | CLEANUP_CANON_HDR_SENDER);
    cleanup_rcpt_canon_flags = cleanup_classes("recipient_canonical_classes",
                                               var_recipient_canonical_classes)
                               & (CLEANUP_CANON_ENV_RCPT | CLEANUP_CANON_HDR_RCPT);

    cleanup_drop_headers = htable_create(16);
    names = argv_split(var_message_drop_headers ? var_message_drop_headers : "",
                       ARGV_DELIM_LIST);
    for (int i = 0; i < names->argc; i++) {
        VSTRING *lower = vstring_alloc(32);

        vstring_strcpy(lower, names->argv[i]);
        vstring_lowercase(lower);
        htable_enter(cleanup_drop_headers, vstring_str(lower), NULL);
        vstring_free(lower);
    }
    argv_free(names);

    cleanup_local_clients = cleanup_local_create(var_local_header_rewrite_clients, var_mynetworks,
                                                 var_inet_interfaces, var_proxy_interfaces);

    cleanup_checks_init();

    /* the local-domain test of address lookups opens $mydestination's tables on first use */
    (void) mail_addr_local_domain("localhost");
}

/* cleanup_pre_accept - between messages: restart when a table changed */

static void cleanup_pre_accept(const char *service, char **args)
{
    const char *name;

    (void) service;
    (void) args;
    if ((name = dict_changed_name()) != NULL) {
        msg_info("table %s has changed -- restarting", name);
        exit(0);
    }
}

/* cleanup_read - read the client's records up to END; 0, or -1 when the client went away */

static int cleanup_read(CLEANUP_STATE *state)
{
    int type;
    size_t maxlen;

    for (;;) {
        maxlen = state->phase == CLEANUP_PHASE_CONTENT ? CLEANUP_CONTENT_REC_MAX
                                                        : CLEANUP_ENV_REC_MAX;
        type = rec_get(state->src, state->buf, maxlen);
        if (type == REC_TYPE_EOF || type == REC_TYPE_ERROR) {
            msg_warn("%s: %s from client before end of message; message not accepted",
                     cleanup_id(state),
                     vstream_ftimeout(state->src) ? "timeout"
                     : type == REC_TYPE_EOF       ? "unexpected EOF"
                                                  : "bad record");
            return -1;
        }
        if (type == REC_TYPE_END) {
            if (state->phase != CLEANUP_PHASE_EXTRA)
                cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 premature end of request");
            return 0;
        }
        switch (state->phase) {
        case CLEANUP_PHASE_ENVELOPE:
            cleanup_envelope(state, type);
            break;
        case CLEANUP_PHASE_CONTENT:
            cleanup_message(state, type);
            break;
        default:
            cleanup_error(state, CLEANUP_STAT_BAD,
                          "4.3.0 unexpected %s record after end of content", rec_type_name(type));
            break;
        }
    }
}

/* cleanup_service - one connection, one message */

static void cleanup_service(VSTREAM *src, const char *service, char **args)
{
    CLEANUP_STATE *state;
    long flags;
    int status;

    (void) service;
    (void) args;
    vstream_set_timeout(src, (int) var_ipc_timeout);
    state = cleanup_state_alloc(src);
    if (cleanup_out_open(state) < 0) {
        cleanup_state_free(state);
        return;                                 /* the client sees EOF: no queue ID */
    }
    if (attr_print(src, ATTR_STR("queue_id", vstring_str(state->queue_id)), ATTR_END) != 0
        || attr_scan(src, ATTR_FLAG_STRICT, ATTR_GET_INT("flags", &flags), ATTR_END) != 1) {
        msg_warn("%s: client went away before sending a message", cleanup_id(state));
        cleanup_out_abort(state);
        cleanup_state_free(state);
        return;
    }
    state->flags = (int) (flags & (CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK
                                   | CLEANUP_FLAG_EXTRACT | CLEANUP_FLAG_LOCAL
                                   | CLEANUP_FLAG_BOUNCE));
    cleanup_out_begin(state);
    if (cleanup_read(state) < 0) {
        cleanup_out_abort(state);
        cleanup_state_free(state);
        return;
    }
    if (state->errs == 0)
        cleanup_out_finish(state);
    if (state->errs != 0)
        cleanup_out_abort(state);
    status = state->errs;
    if (attr_print(src, ATTR_INT("status", status), ATTR_STR("reason", vstring_str(state->reason)),
                   ATTR_END) != 0)
        msg_warn("%s: could not send the reply to the client", cleanup_id(state));
    if (status == 0 && mail_trigger(CLEANUP_QMGR_PATH, CLEANUP_QMGR_TRIGGER, 1, 0) < 0
        && msg_verbose)
        msg_info("%s: trigger %s: %m", cleanup_id(state), CLEANUP_QMGR_PATH);
    cleanup_state_free(state);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .flags = 0,
        .pre_init = cleanup_pre_init,
        .post_init = NULL,
        .pre_accept = cleanup_pre_accept,
        .on_exit = NULL,
    };

    single_server_main(argc, argv, cleanup_service, &opts);
}
