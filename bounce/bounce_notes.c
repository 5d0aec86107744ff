/*
 * NAME
 *	bounce_notes - read the defer or bounce notes of a message
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	BOUNCE_NOTES *bounce_notes_read(const char *dir, const char *queue_id,
 *					int how)
 *	BOUNCE_NOTES *bounce_notes_select(const BOUNCE_NOTES *all,
 *					long notify_bit)
 *	void bounce_notes_free(BOUNCE_NOTES *notes, int owner)
 *	BOUNCE_NOTES *bounce_notes_alloc(void)
 *	void bounce_notes_add(BOUNCE_NOTES *notes, DELIVER_NOTE *note)
 * DESCRIPTION
 *	bounce_notes_read() reads dir/queue_id with deliver_note_read()
 *	(lib/deliver_status.h). A recipient is identified by its address
 *	and the offset of its queue file record (one record may expand to
 *	several addresses in local(8)). With BOUNCE_NOTES_ALL a note that
 *	repeats an earlier one for the same recipient (a delivery retried
 *	after a crash) replaces it; with BOUNCE_NOTES_NEWEST the note with
 *	the latest time wins (defer notes pile up, one per attempt). The
 *	order is that of each recipient's first note. At most
 *	BOUNCE_NOTES_MAX recipients are kept; more are logged and left
 *	out of the notice. Returns NULL with errno ENOENT when there is no
 *	note file (not logged), or NULL with another errno (logged).
 *
 *	bounce_notes_select() returns the notes whose DSN NOTIFY setting
 *	asks for notice_bit (DSN_NOTIFY_FAILURE or DSN_NOTIFY_DELAY): the
 *	default (0) asks for both, NEVER for neither. The result shares the
 *	notes of all: free it with owner 0.
 *
 *	bounce_notes_free() frees the list, and the notes with owner 1.
 *
 *	bounce_notes_alloc() makes an empty list; bounce_notes_add()
 *	appends a note to it (the list does not copy it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bounce.h"
#include "cleanup_proto.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"

#define BOUNCE_NOTES_MAX 100000 /* recipients listed in one notice */

BOUNCE_NOTES *bounce_notes_alloc(void)
{
    BOUNCE_NOTES *notes = mymalloc(sizeof(*notes));

    notes->size = 10;
    notes->count = 0;
    notes->notes = mymalloc(sizeof(*notes->notes) * (size_t)notes->size);
    return notes;
}

void bounce_notes_add(BOUNCE_NOTES *notes, DELIVER_NOTE *note)
{
    if (notes->count >= notes->size) {
        notes->size *= 2;
        notes->notes = myrealloc(notes->notes, sizeof(*notes->notes) * (size_t)notes->size);
    }
    notes->notes[notes->count++] = note;
}

/* bounce_note_copy - a copy of note that the caller owns */

static DELIVER_NOTE *bounce_note_copy(const DELIVER_NOTE *note)
{
    DELIVER_NOTE *copy = deliver_note_alloc();

    deliver_request_set(&copy->recipient, note->recipient);
    deliver_request_set(&copy->orig_recipient, note->orig_recipient);
    deliver_request_set(&copy->orcpt, note->orcpt);
    deliver_request_set(&copy->status, note->status);
    deliver_request_set(&copy->action, note->action);
    deliver_request_set(&copy->reason, note->reason);
    deliver_request_set(&copy->relay, note->relay);
    copy->offset = note->offset;
    copy->notify = note->notify;
    copy->time = note->time;
    return copy;
}

BOUNCE_NOTES *bounce_notes_read(const char *dir, const char *queue_id, int how)
{
    VSTREAM *fp;
    DELIVER_NOTE *note;
    BOUNCE_NOTES *notes;
    HTABLE *seen;
    VSTRING *key;
    long dropped = 0;

    if ((fp = deliver_note_open(dir, queue_id)) == NULL)
        return NULL;
    notes = bounce_notes_alloc();
    seen = htable_create(64);
    key = vstring_alloc(100);
    note = deliver_note_alloc();
    while (deliver_note_read(fp, note) > 0) {
        HTABLE_INFO *ht;

        vstring_sprintf(key, "%lld:%s", (long long)note->offset, note->recipient);
        if ((ht = htable_locate(seen, vstring_str(key))) != NULL) {
            DELIVER_NOTE **slot = notes->notes + (long)ht->value;

            if (how == BOUNCE_NOTES_ALL || note->time >= (*slot)->time) {
                deliver_note_free(*slot);
                *slot = bounce_note_copy(note);
            }
            continue;
        }
        if (notes->count >= BOUNCE_NOTES_MAX) {
            dropped++;
            continue;
        }
        htable_enter(seen, vstring_str(key), (void *)(long)notes->count);
        bounce_notes_add(notes, bounce_note_copy(note));
    }
    if (vstream_ferror(fp)) {
        msg_warn("%s: read error: %m", vstream_path(fp));
        vstream_fclose(fp);
        bounce_notes_free(notes, 1);
        notes = NULL;
        errno = EIO;
    } else {
        vstream_fclose(fp);
        if (dropped)
            msg_warn("%s: %ld more recipients than the %d that one notice lists were left out",
                     queue_id, dropped, BOUNCE_NOTES_MAX);
    }
    deliver_note_free(note);
    htable_free(seen, NULL);
    vstring_free(key);
    return notes;
}

BOUNCE_NOTES *bounce_notes_select(const BOUNCE_NOTES *all, long notify_bit)
{
    BOUNCE_NOTES *some = bounce_notes_alloc();

    for (int i = 0; i < all->count; i++) {
        long notify = all->notes[i]->notify;

        if (notify & DSN_NOTIFY_NEVER)
            continue;
        if (notify != 0 && (notify & notify_bit) == 0)
            continue;
        bounce_notes_add(some, all->notes[i]);
    }
    return some;
}

void bounce_notes_free(BOUNCE_NOTES *notes, int owner)
{
    if (owner)
        for (int i = 0; i < notes->count; i++)
            deliver_note_free(notes->notes[i]);
    myfree(notes->notes);
    myfree(notes);
}
