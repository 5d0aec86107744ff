#ifndef POSTERN_CLEANUP_CHECKS_H
#define POSTERN_CLEANUP_CHECKS_H
/*
 * cleanup_checks.h - what cleanup_checks.c and cleanup_act.c share: the
 * per-message state of content inspection and the action interpreter
 *
 * CLEANUP_CHECKS lives in state->checks from the first hook that needs
 * it until cleanup_checks_free().
 *
 * cleanup_checks_get(state) returns state->checks, made on first use.
 *
 * cleanup_act_apply(state, where, title, value, input, len, at_start)
 *	carries out the action value (a table result such as "REJECT
 *	text") that table list title (header_checks ...) gave for input
 *	(len bytes: a header field, lines joined by newlines, or a body
 *	line or piece; where is "header" or "body"; at_start says whether
 *	a body piece starts its line). It logs as Postfix's cleanup does,
 *	changes the message's fate (reject: cleanup_error(); discard, hold,
 *	redirect, filter: state), and returns what becomes of the input:
 *	    CLEANUP_HBC_KEEP     write it as it is
 *	    CLEANUP_HBC_DROP     leave it out (IGNORE)
 *	    CLEANUP_HBC_REPLACE  write checks->text instead
 *	    CLEANUP_HBC_PREPEND  write checks->text first, then the input
 *	    CLEANUP_HBC_STOP     rejected or discarded: inspection is over
 *	An action that cannot be carried out (unknown, PREPEND or REPLACE
 *	of a header with text that is not a header, REDIRECT without an
 *	address, FILTER without transport:destination) is logged as a
 *	warning and ignored, as Postfix does.
 *
 * cleanup_act_log(state, action, where, input, len, text) logs
 *	"QUEUEID: action: where INPUT from CLIENT; from=<> to=<> proto=P
 *	helo=<H>: text" (input shortened and made printable; ": text" only
 *	when text is not empty).
 */
#include <stddef.h>

#include "cleanup.h"
#include "mime_state.h"
#include "vstring.h"

typedef struct CLEANUP_CHECKS {
    MIME_STATE *mime;      /* NULL: no MIME processing */
    int done;              /* rejected or discarded: inspect nothing more */
    int mime_reported;     /* a MIME error was acted on */
    long long body_offset; /* without MIME processing: body bytes so far */
    int body_mid_line;     /* the last body record was a CONT piece */
    char *client_name;     /* for log lines, from ATTR records */
    char *helo_name;
    char *protocol;
    char *recipient; /* the last recipient written */
    VSTRING *key;    /* lookup key */
    VSTRING *text;   /* PREPEND/REPLACE text */
    VSTRING *log;
} CLEANUP_CHECKS;

#define CLEANUP_HBC_KEEP 0
#define CLEANUP_HBC_DROP 1
#define CLEANUP_HBC_REPLACE 2
#define CLEANUP_HBC_PREPEND 3
#define CLEANUP_HBC_STOP 4

CLEANUP_CHECKS *cleanup_checks_get(CLEANUP_STATE *state);
int cleanup_act_apply(CLEANUP_STATE *state, const char *where, const char *title, const char *value,
                      const char *input, size_t len, int at_start);
void cleanup_act_log(CLEANUP_STATE *state, const char *action, const char *where, const char *input,
                     size_t len, const char *text);

#endif
