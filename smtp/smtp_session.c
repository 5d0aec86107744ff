/*
 * NAME
 *	smtp_session - SMTP/LMTP connections and the connection cache
 * SYNOPSIS
 *	#include "smtp.h"
 *
 *	SMTP_SESSION *smtp_session_alloc(VSTREAM *stream, const char *dest,
 *				const char *host, const char *addr, const char *port)
 *	void smtp_session_free(SMTP_SESSION *session)
 *	void smtp_session_quit(SMTP_SESSION *session)
 *	SMTP_SESSION *smtp_cache_take(const char *dest)
 *	void smtp_cache_save(SMTP_SESSION *session)
 *	void smtp_cache_close(void)
 * DESCRIPTION
 *	smtp_session_alloc() wraps a connected stream; dest is the next hop
 *	of the request (the cache key), host the server's name for logs,
 *	addr its numeric address (or a socket path) and port its numeric
 *	port ("" for a UNIX socket). smtp_session_free() closes the
 *	connection without a word (with TLS: the close_notify alert, unless
 *	the session broke). smtp_session_quit() sends QUIT (unless the
 *	session is broken), does not wait for the reply, and frees. A
 *	session with TLS stays TLS for as long as it lives, in the cache
 *	too.
 *
 *	The cache holds at most one idle session per process: the one the
 *	last request finished with. smtp_cache_save() keeps a healthy
 *	session for $*_connection_cache_time_limit seconds, unless it has
 *	reached $*_connection_reuse_count_limit or
 *	$*_connection_reuse_time_limit (then it is closed with QUIT). While
 *	it waits, the event loop of the server skeleton watches it: a timer
 *	closes it at the end of the time limit, and anything the server
 *	sends (a 421, or the end of the connection) closes it at once.
 *
 *	smtp_cache_take(dest) returns the cached session when it was kept
 *	for the same next hop and the server has said nothing since; the
 *	session is marked rset_pending, and smtp_xfer() sends RSET before
 *	its MAIL FROM (in the same write, with PIPELINING) and gives the
 *	session up as stale when RSET fails. Otherwise it closes the
 *	cached session (QUIT when it is still healthy) and returns NULL.
 *	smtp_cache_close() closes the cached session, if any (process
 *	exit).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"

static SMTP_SESSION *smtp_cached;
static EVENT_TIMER_ID smtp_cache_timer;

SMTP_SESSION *smtp_session_alloc(VSTREAM *stream, const char *dest, const char *host,
                                 const char *addr, const char *port)
{
    SMTP_SESSION *session = mycalloc(1, sizeof(*session));

    session->stream = stream;
    session->dest = mystrdup(dest);
    session->host = mystrdup(host);
    session->addr = mystrdup(addr);
    session->port = mystrdup(port);
    session->relay = vstring_alloc(100);
    if (*port)
        vstring_sprintf(session->relay, "%s[%s]:%s", host, addr, port);
    else
        vstring_sprintf(session->relay, "%s[%s]", host, addr);
    session->open_time = time(NULL);
    return session;
}

void smtp_session_free(SMTP_SESSION *session)
{
    if (session->stream) {
        smtp_tls_stop(session);
        vstream_fclose(session->stream);
    }
    myfree(session->dest);
    myfree(session->host);
    myfree(session->addr);
    myfree(session->port);
    vstring_free(session->relay);
    if (session->hop)
        myfree(session->hop);
    if (session->sasl_user)
        myfree(session->sasl_user);
    if (session->auth_mechs)
        vstring_free(session->auth_mechs);
    myfree(session);
}

void smtp_session_quit(SMTP_SESSION *session)
{
    if (!session->broken) {
        vstream_set_timeout(session->stream, (int)smtp_params.quit_timeout);
        vstream_fputs("QUIT\r\n", session->stream);
        vstream_fflush(session->stream);
    }
    smtp_session_free(session);
}

/* smtp_cache_detach - stop watching the cached session; return it */

static SMTP_SESSION *smtp_cache_detach(void)
{
    SMTP_SESSION *session = smtp_cached;

    if (session == NULL)
        return NULL;
    event_disable_read(vstream_fileno(session->stream));
    if (smtp_cache_timer) {
        event_cancel_timer(smtp_cache_timer);
        smtp_cache_timer = 0;
    }
    smtp_cached = NULL;
    return session;
}

/* smtp_cache_expire - the idle time is up */

static void smtp_cache_expire(void *context)
{
    SMTP_SESSION *session;

    (void)context;
    smtp_cache_timer = 0;
    if ((session = smtp_cache_detach()) != NULL) {
        if (msg_verbose)
            msg_info("closing cached connection to %s", vstring_str(session->relay));
        smtp_session_quit(session);
    }
}

/* smtp_cache_event - the server spoke or hung up while the session was idle */

static void smtp_cache_event(int fd, int event, void *context)
{
    SMTP_SESSION *session;

    (void)fd;
    (void)event;
    (void)context;
    if ((session = smtp_cache_detach()) != NULL) {
        if (msg_verbose)
            msg_info("cached connection to %s closed by the server", vstring_str(session->relay));
        session->broken = 1;
        smtp_session_free(session);
    }
}

void smtp_cache_save(SMTP_SESSION *session)
{
    time_t now = time(NULL);

    smtp_cache_close();
    if (session->broken || !smtp_params.cache_on_demand ||
        (smtp_params.reuse_count_limit > 0 &&
         session->reuse_count >= smtp_params.reuse_count_limit) ||
        now - session->open_time >= smtp_params.reuse_time_limit) {
        smtp_session_quit(session);
        return;
    }
    if (vstream_bufferred(session->stream) > 0 ||
        (session->tls && tls_sess_pending(session->tls) > 0)) { /* unsolicited data */
        smtp_session_quit(session);
        return;
    }
    smtp_cached = session;
    event_enable_read(vstream_fileno(session->stream), smtp_cache_event, NULL);
    smtp_cache_timer =
        event_request_timer(smtp_cache_expire, NULL, smtp_params.cache_time_limit * 1000L);
}

SMTP_SESSION *smtp_cache_take(const char *dest)
{
    SMTP_SESSION *session = smtp_cache_detach();

    if (session == NULL)
        return NULL;
    if (strcmp(session->dest, dest) != 0) {
        smtp_session_quit(session);
        return NULL;
    }
    if (readable(vstream_fileno(session->stream))) { /* 421, or gone */
        session->broken = 1;
        smtp_session_free(session);
        return NULL;
    }
    session->rset_pending = 1;
    session->reuse_count++;
    return session;
}

void smtp_cache_close(void)
{
    SMTP_SESSION *session;

    if ((session = smtp_cache_detach()) != NULL)
        smtp_session_quit(session);
}
