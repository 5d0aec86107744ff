/*
 * NAME
 *	smtpd_data - hand a message to cleanup(8)
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	int smtpd_data_open(SMTPD_STATE *state, VSTRING *reply)
 *	int smtpd_data_rcpt(SMTPD_STATE *state, const char *rcpt, int notify,
 *			const char *orcpt)
 *	int smtpd_data_start(SMTPD_STATE *state, VSTRING *reply)
 *	void smtpd_data_line(int type, const char *data, size_t len,
 *			void *context)
 *	int smtpd_data_finish(SMTPD_STATE *state, VSTRING *reply)
 *	void smtpd_data_abort(SMTPD_STATE *state)
 * DESCRIPTION
 *	These functions speak the protocol of cleanup_proto.h. One cleanup
 *	connection carries one message; records are written as the client
 *	sends them, without a copy of the message in smtpd.
 *
 *	smtpd_data_open() connects to the cleanup service, takes the queue
 *	ID, sends the request flags and the envelope so far (arrival time,
 *	client attributes, MAIL FROM parameters, sender) and logs
 *	"QUEUEID: client=host[addr]" (with ", sasl_method=PLAIN,
 *	sasl_username=user" and ", sasl_sender=addr" for a client that
 *	logged in, as Postfix does). smtpd_data_rcpt() sends one
 *	recipient with its DSN NOTIFY and ORCPT. smtpd_data_start() checks
 *	that cleanup is still there, then starts the content with the
 *	Received: header. smtpd_data_line() is the content sink of
 *	smtpd_text: it counts the message size and writes one NORM or CONT
 *	record, or, once $message_size_limit is exceeded or the stream has
 *	failed, only notes that. smtpd_data_finish() ends the request and
 *	waits for cleanup's verdict; smtpd_data_abort() closes the stream
 *	without the end record, which makes cleanup remove the file.
 *
 *	The functions that take reply return 0 when all is well, or -1
 *	with the SMTP reply to send in reply; the stream is then closed.
 *	A reply of 250 is given only after cleanup has said the queue
 *	file is complete and durable. Any failure of the cleanup service
 *	(no connection, a write error, an early end of file, a protocol
 *	error) is "451 4.3.0 Error: queue file write error".
 */
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "queue_id.h"
#include "rec.h"
#include "smtpd.h"
#include "sock.h"
#include "vstream.h"
#include "vstring.h"

#define SMTPD_WRITE_ERROR "451 4.3.0 Error: queue file write error"

static void smtpd_data_close(SMTPD_STATE *state)
{
    if (state->cleanup) {
        vstream_fclose(state->cleanup);
        state->cleanup = NULL;
    }
    if (state->queue_id) {
        myfree(state->queue_id);
        state->queue_id = NULL;
    }
}

void smtpd_data_abort(SMTPD_STATE *state)
{
    smtpd_data_close(state);
}

static int smtpd_data_fail(SMTPD_STATE *state, VSTRING *reply, const char *why)
{
    msg_warn("%s: %s: %s", state->queue_id ? state->queue_id : "NOQUEUE", "cleanup service", why);
    vstring_strcpy(reply, SMTPD_WRITE_ERROR);
    smtpd_data_close(state);
    return -1;
}

static void smtpd_data_attr(SMTPD_STATE *state, const char *name, const char *value)
{
    rec_fprintf(state->cleanup, REC_TYPE_ATTR, "%s=%s", name, value);
}

/* smtpd_data_client_log - "QUEUEID: client=host[addr]" and the SASL login */

static void smtpd_data_client_log(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s: client=%s", state->queue_id, state->namaddr);
    if (state->sasl_username) {
        vstring_sprintf_append(buf, ", sasl_method=%s, sasl_username=%s", state->sasl_method,
                               state->sasl_username);
        if (state->sasl_sender && *state->sasl_sender)
            vstring_sprintf_append(buf, ", sasl_sender=%s", state->sasl_sender);
    }
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

int smtpd_data_open(SMTPD_STATE *state, VSTRING *reply)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *id = vstring_alloc(QUEUE_ID_BUFSIZE);
    struct timeval tv;
    int fd;

    if (state->cleanup)
        msg_panic("smtpd_data_open: cleanup stream already open");
    fd = unix_connect(CLEANUP_SERVICE_PATH, (int) var_ipc_timeout, why);
    if (fd < 0) {
        smtpd_data_fail(state, reply, vstring_str(why));
        vstring_free(why);
        vstring_free(id);
        return -1;
    }
    vstring_free(why);
    state->cleanup = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(state->cleanup, CLEANUP_SERVICE_PATH);
    vstream_set_timeout(state->cleanup, (int) var_ipc_timeout);
    if (attr_scan(state->cleanup, ATTR_FLAG_MISSING, ATTR_GET_STR("queue_id", id), ATTR_END) != 1
        || !queue_id_ok(vstring_str(id))) {
        vstring_free(id);
        return smtpd_data_fail(state, reply, "no queue ID received");
    }
    state->queue_id = vstring_export(id);
    if (attr_print(state->cleanup, ATTR_INT("flags", CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK),
                   ATTR_END) != 0)
        return smtpd_data_fail(state, reply, "cannot send request flags");

    gettimeofday(&tv, NULL);
    rec_fprintf(state->cleanup, REC_TYPE_TIME, "%ld.%06ld", (long) tv.tv_sec, (long) tv.tv_usec);
    smtpd_data_attr(state, CLEANUP_ATTR_CLIENT_NAME, state->name);
    smtpd_data_attr(state, CLEANUP_ATTR_CLIENT_ADDR, state->addr);
    if (*state->port)
        smtpd_data_attr(state, CLEANUP_ATTR_CLIENT_PORT, state->port);
    if (state->helo_name)
        smtpd_data_attr(state, CLEANUP_ATTR_HELO, state->helo_name);
    smtpd_data_attr(state, CLEANUP_ATTR_PROTOCOL, smtpd_received_proto(state, 0));
    if (state->sasl_username) {
        smtpd_data_attr(state, CLEANUP_ATTR_SASL_METHOD, state->sasl_method);
        smtpd_data_attr(state, CLEANUP_ATTR_SASL_USER, state->sasl_username);
    }
    smtpd_data_attr(state, CLEANUP_ATTR_ORIGIN, "smtpd");
    if (*var_content_filter)                    /* header_checks(5): content_filter */
        smtpd_data_attr(state, CLEANUP_ATTR_ACT_FILTER, var_content_filter);
    if (state->body)
        smtpd_data_attr(state, CLEANUP_ATTR_ENCODING,
                        state->body == SMTPD_BODY_8BITMIME ? "8bit" : "7bit");
    if (state->smtputf8)
        smtpd_data_attr(state, CLEANUP_ATTR_SMTPUTF8, "1");
    if (state->envid)
        smtpd_data_attr(state, CLEANUP_ATTR_DSN_ENVID, state->envid);
    if (state->ret)
        smtpd_data_attr(state, CLEANUP_ATTR_DSN_RET, state->ret == SMTPD_RET_FULL ? "FULL" : "HDRS");
    rec_put(state->cleanup, REC_TYPE_FROM, state->sender, strlen(state->sender));
    if (vstream_ferror(state->cleanup))
        return smtpd_data_fail(state, reply, "cannot send the envelope");
    smtpd_data_client_log(state);
    return 0;
}

int smtpd_data_rcpt(SMTPD_STATE *state, const char *rcpt, int notify, const char *orcpt)
{
    if (notify)
        rec_fprintf(state->cleanup, REC_TYPE_NOTIFY, "%d", notify);
    if (orcpt)
        rec_put(state->cleanup, REC_TYPE_DSN_ORCPT, orcpt, strlen(orcpt));
    rec_put(state->cleanup, REC_TYPE_RCPT, rcpt, strlen(rcpt));
    if (vstream_ferror(state->cleanup)) {
        state->err |= SMTPD_ERR_WRITE;
        return -1;
    }
    return 0;
}

int smtpd_data_start(SMTPD_STATE *state, VSTRING *reply)
{
    if (state->cleanup == NULL || (state->err & SMTPD_ERR_WRITE)
        || vstream_fflush(state->cleanup) != 0)
        return smtpd_data_fail(state, reply, "lost connection before the message content");
    state->act_size = 0;
    smtpd_check_envelope(state);    /* H15: access(5) HOLD DISCARD REDIRECT FILTER */
    rec_put(state->cleanup, REC_TYPE_MESG, "", 0);
    smtpd_check_headers(state);     /* H15: PREPEND and Received-SPF, above Received: */
    smtpd_received(state);
    return 0;
}

void smtpd_data_line(int type, const char *data, size_t len, void *context)
{
    SMTPD_STATE *state = context;

    state->act_size += (off_t) len + (type == REC_TYPE_NORM ? 2 : 0);
    if (var_message_size_limit > 0 && state->act_size > var_message_size_limit)
        state->err |= SMTPD_ERR_SIZE;
    if (state->err || state->cleanup == NULL)
        return;
    if (rec_put(state->cleanup, type, data, len) == REC_TYPE_ERROR)
        state->err |= SMTPD_ERR_WRITE;
}

int smtpd_data_finish(SMTPD_STATE *state, VSTRING *reply)
{
    VSTRING *reason;
    long status;

    if (state->err & SMTPD_ERR_SIZE) {
        vstring_strcpy(reply, "552 5.3.4 Message size exceeds fixed limit");
        smtpd_data_close(state);
        return -1;
    }
    if (state->cleanup == NULL || (state->err & SMTPD_ERR_WRITE))
        return smtpd_data_fail(state, reply, "lost connection while sending the message");
    rec_put(state->cleanup, REC_TYPE_XTRA, "", 0);
    rec_put(state->cleanup, REC_TYPE_END, "", 0);
    if (vstream_fflush(state->cleanup) != 0)
        return smtpd_data_fail(state, reply, "lost connection at the end of the message");
    reason = vstring_alloc(100);
    if (attr_scan(state->cleanup, ATTR_FLAG_MISSING, ATTR_GET_INT("status", &status),
                  ATTR_GET_STR("reason", reason), ATTR_END) != 2) {
        vstring_free(reason);
        return smtpd_data_fail(state, reply, "no status received");
    }
    if (status == CLEANUP_STAT_OK) {
        vstring_sprintf(reply, "250 2.0.0 Ok: queued as %s", state->queue_id);
        vstring_free(reason);
        smtpd_data_close(state);
        return 0;
    }
    /* cleanup refused the message: the file is gone */
    const char *text = vstring_str(reason);
    int has_dsn = (text[0] == '4' || text[0] == '5') && text[1] == '.';

    if (status & CLEANUP_STAT_SIZE)
        vstring_strcpy(reply, "552 5.3.4 Message size exceeds fixed limit");
    else if (status & CLEANUP_STAT_HOPS)
        vstring_strcpy(reply, "554 5.4.0 Error: too many hops");
    else if ((status & CLEANUP_STAT_CONT) && has_dsn)
        vstring_sprintf(reply, "%s %s", text[0] == '4' ? "451" : "550", text);
    else if (status & CLEANUP_STAT_CONT)
        vstring_strcpy(reply, "550 5.7.1 Error: message content rejected");
    else if (status & CLEANUP_STAT_RCPT)
        vstring_strcpy(reply, "554 5.5.1 Error: no valid recipients");
    else if (has_dsn && text[0] == '4')
        vstring_sprintf(reply, "451 %s", text);
    else
        vstring_strcpy(reply, SMTPD_WRITE_ERROR);
    msg_info("%s: %s: cleanup refused the message: %s", state->queue_id, state->namaddr,
             *text ? text : vstring_str(reply));
    vstring_free(reason);
    smtpd_data_close(state);
    return -1;
}
