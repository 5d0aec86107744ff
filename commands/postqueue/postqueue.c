/*
 * NAME
 *	postqueue - list the mail queue, and ask for queued mail to be delivered now
 * SYNOPSIS
 *	postqueue [-v] [-c config_dir] -p | -j | -f | -i queue_id | -s site
 * DESCRIPTION
 *	postqueue is the queue command for every user; postsuper(1) does
 *	what only root may do. It is installed set-gid $setgid_group,
 *	which lets it reach public/, and nothing else: it never reads a
 *	queue file itself when run by a user other than root or mail_owner.
 *
 *	-p	List the queue as Sendmail's mailq does (Postfix's layout,
 *		lib/showq_format.h), from what showq(8) sends over
 *		public/showq (lib/showq_proto.h). sendmail -bp and mailq run
 *		this.
 *	-j	The same listing as JSON, one object per message and line.
 *	-f	Flush: ask qmgr(8) to retry all deferred mail now and to
 *		forget which destinations it found dead (mail_flush_queue();
 *		sendmail -q).
 *	-i queue_id
 *		Make one deferred message due now and wake qmgr (sendmail
 *		-qI). The message's next attempt time (its modification
 *		time) is set to now; nothing is moved or rewritten, so this
 *		never races with qmgr. Needs root or mail_owner.
 *	-s site	The same for every deferred message with a recipient
 *		whose domain is site (a domain name, or an address literal
 *		in brackets; compared without regard to case), sendmail
 *		-qRsite. Needs root or mail_owner.
 *	-c config_dir	Read main.cf in config_dir (set-gid: only a
 *		directory that alternate_config_directories of the default
 *		main.cf lists, or one that only root can change).
 *	-v	More verbose logging.
 *
 *	When showq cannot be reached, root and mail_owner still get a
 *	listing: postqueue says "Mail system is down -- accessing queue
 *	directly" and runs $daemon_directory/showq stand-alone (-S) on a
 *	socket pair. Everyone else gets "Queue report unavailable - mail
 *	system is down".
 *
 *	When set-gid, postqueue keeps only the environment variables
 *	$import_environment names.
 * DIAGNOSTICS
 *	Problems go to standard error (and to the mail log when the user
 *	may write it). Exit status (sysexits.h): 0 on success; EX_USAGE for
 *	a bad command line or queue ID; EX_NOPERM when -i or -s is run by
 *	a user who may not change the queue, or -c names an untrusted
 *	directory; EX_UNAVAILABLE when the mail system is down or the
 *	message is not in the deferred queue; EX_SOFTWARE for a malformed
 *	listing; EX_IOERR when the listing cannot be written.
 * SEE ALSO
 *	postqueue(1), mailq(1), showq(8), postsuper(1)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "address.h"
#include "argv.h"
#include "mail_conf.h"
#include "mail_flush.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "qfile.h"
#include "queue_id.h"
#include "set_ugid.h"
#include "setgid_conf.h"
#include "showq_format.h"
#include "showq_proto.h"
#include "sig.h"
#include "sock.h"
#include "valid_hostname.h"
#include "vstream.h"
#include "vstring.h"

#define PQ_LIST_TEXT 'p'
#define PQ_LIST_JSON 'j'
#define PQ_FLUSH 'f'
#define PQ_RETRY_ID 'i'
#define PQ_RETRY_SITE 's'

#define PQ_CONNECT_TIMEOUT 10

static const char *pq_config_dir;

static void __attribute__((noreturn)) pq_usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postqueue [-v] [-c config_dir] -p | -j | -f | "
                               "-i queue_id | -s site");
}

/* pq_privileged - may the caller change the queue (root or mail_owner)? */

static int pq_privileged(void)
{
    UGID_USER owner;

    if (getuid() == 0)
        return 1;
    return ugid_user_byname(var_mail_owner, &owner) == 1 && owner.uid == getuid();
}

/* pq_standalone - run showq -S on one end of a socket pair; the other end */

static int pq_standalone(pid_t *pid)
{
    VSTRING *path = vstring_alloc(100);
    ARGV *args = argv_alloc(8);
    int sv[2];

    vstring_sprintf(path, "%s/showq", var_daemon_directory);
    argv_add(args, "showq");
    argv_add(args, "-S");
    if (pq_config_dir) {
        argv_add(args, "-c");
        argv_add(args, pq_config_dir);
    }
    if (getuid() == 0)
        argv_add(args, "-u"); /* read the queue as mail_owner */
    for (int i = 0; i < msg_verbose && i < 5; i++)
        argv_add(args, "-v");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        msg_fatal_status(EX_OSERR, "socketpair: %m");
    if ((*pid = fork()) < 0)
        msg_fatal_status(EX_OSERR, "fork: %m");
    if (*pid == 0) {
        if (dup2(sv[1], 0) < 0)
            _exit(EX_OSERR);
        execv(vstring_str(path), args->argv);
        msg_fatal_status(EX_UNAVAILABLE, "execute %s: %m", vstring_str(path));
    }
    close(sv[1]);
    argv_free(args);
    vstring_free(path);
    return sv[0];
}

/* pq_write - write what was formatted; quietly stop when the reader went away */

static void pq_write(VSTRING *buf)
{
    if (vstream_fwrite(VSTREAM_OUT, vstring_str(buf), vstring_len(buf)) != 0 ||
        vstream_fflush(VSTREAM_OUT) != 0) {
        if (errno == EPIPE)
            exit(0);
        msg_fatal_status(EX_IOERR, "write the queue listing: %m");
    }
    vstring_reset(buf);
}

static int pq_list(int mode)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *out = vstring_alloc(4096);
    SHOWQ_MSG *msg = showq_msg_alloc();
    unsigned long count = 0;
    unsigned long long total = 0;
    pid_t pid = 0;
    VSTREAM *fp;
    int status;
    int fd;
    int ret;

    vstring_sprintf(path, "%s/%s", var_queue_directory, SHOWQ_SERVICE_PATH);
    if ((fd = unix_connect(vstring_str(path), PQ_CONNECT_TIMEOUT, why)) < 0) {
        if (!pq_privileged())
            msg_fatal_status(EX_UNAVAILABLE, "Queue report unavailable - mail system is down");
        msg_warn("Mail system is down -- accessing queue directly");
        fd = pq_standalone(&pid);
    }
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(fp, vstring_str(path));
    vstream_set_timeout(fp, (int)var_ipc_timeout);
    while ((ret = showq_read(fp, msg)) > 0) {
        if (mode == PQ_LIST_JSON) {
            showq_json_message(out, msg);
        } else {
            if (count == 0)
                showq_text_heading(out);
            else
                vstring_addch(out, '\n');
            showq_text_message(out, msg);
        }
        count++;
        total += (unsigned long long)msg->message_size;
        pq_write(out);
    }
    if (ret < 0)
        msg_fatal_status(EX_SOFTWARE, "malformed showq server response");
    if (mode == PQ_LIST_TEXT) {
        showq_text_trailer(out, count, total);
        pq_write(out);
    }
    vstream_fclose(fp);
    if (pid > 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            /* again */;
    }
    showq_msg_free(msg);
    vstring_free(path);
    vstring_free(why);
    vstring_free(out);
    return 0;
}

static int pq_flush(void)
{
    if (mail_flush_queue() < 0)
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    return 0;
}

/* pq_touch - make deferred/ID due now; 0, or -1 with errno */

static int pq_touch(const char *id)
{
    VSTRING *path = vstring_alloc(50);
    struct stat st;
    int fd;
    int ret = -1;
    int saved;

    vstring_sprintf(path, "deferred/%s", id);
    if ((fd = open(vstring_str(path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
        if (fstat(fd, &st) < 0)
            ret = -1;
        else if (!S_ISREG(st.st_mode))
            errno = EPERM;
        else
            ret = futimens(fd, NULL);
        saved = errno;
        close(fd);
        errno = saved;
    }
    saved = errno;
    vstring_free(path);
    errno = saved;
    return ret;
}

/* pq_in_queue - is queue/id there? */

static int pq_in_queue(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(50);
    struct stat st;
    int found;

    vstring_sprintf(path, "%s/%s", queue, id);
    found = lstat(vstring_str(path), &st) == 0;
    vstring_free(path);
    return found;
}

static void pq_need_privilege(int option)
{
    if (!pq_privileged())
        msg_fatal_status(EX_NOPERM,
                         "-%c: only the super-user and %s may schedule "
                         "individual deliveries; postqueue -f flushes the whole queue",
                         option, var_mail_owner);
    if (chdir(var_queue_directory) < 0)
        msg_fatal_status(EX_UNAVAILABLE, "chdir %s: %m", var_queue_directory);
}

static void pq_wake(void)
{
    if (mail_flush_deferred() < 0)
        msg_warn("cannot wake the queue manager: %m; the message is delivered "
                 "at its next deferred queue scan");
}

static int pq_retry_id(const char *id)
{
    if (!queue_id_ok(id))
        msg_fatal_status(EX_USAGE, "bad mail queue ID: %s", id);
    pq_need_privilege(PQ_RETRY_ID);
    if (pq_touch(id) < 0) {
        if (errno != ENOENT)
            msg_fatal_status(EX_UNAVAILABLE, "%s: set the next delivery time: %m", id);
        if (pq_in_queue("hold", id))
            msg_fatal_status(EX_UNAVAILABLE,
                             "%s: message is on hold; release it with "
                             "postsuper -H",
                             id);
        if (pq_in_queue("incoming", id) || pq_in_queue("active", id)) {
            if (msg_verbose)
                msg_info("%s: already queued for delivery", id);
            return 0;
        }
        msg_fatal_status(EX_UNAVAILABLE, "%s: no such message in the deferred queue", id);
    }
    if (msg_verbose)
        msg_info("%s: scheduled for delivery", id);
    pq_wake();
    return 0;
}

/* pq_site_ok - a domain name or an address literal */

static int pq_site_ok(const char *site)
{
    if (site[0] == '[')
        return valid_mailhost_literal(site, 0);
    return valid_hostname_flags(site, VALID_HOSTNAME_UNDERSCORE | VALID_HOSTNAME_UTF8, 0);
}

/* pq_site_match - has a recipient to do at site? */

static int pq_site_match(const QFILE_ENV *env, const char *site)
{
    VSTRING *domain = vstring_alloc(50);
    int found = 0;

    for (int i = 0; i < env->rcpt_count && !found; i++)
        if (!env->rcpt[i].done && address_split(env->rcpt[i].address, NULL, domain) &&
            strcasecmp(vstring_str(domain), site) == 0)
            found = 1;
    vstring_free(domain);
    return found;
}

static int pq_retry_site(const char *site)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *why = vstring_alloc(100);
    struct dirent *dp;
    ARGV *names = argv_alloc(32);
    VSTREAM *fp;
    DIR *dir;
    int count = 0;
    int ok;

    if (!pq_site_ok(site))
        msg_fatal_status(EX_USAGE, "bad site name: %s", site);
    pq_need_privilege(PQ_RETRY_SITE);
    if ((dir = opendir("deferred")) == NULL)
        msg_fatal_status(EX_UNAVAILABLE, "open queue directory deferred: %m");
    while ((dp = readdir(dir)) != NULL)
        if (queue_id_ok(dp->d_name))
            argv_add(names, dp->d_name);
    closedir(dir);
    for (int i = 0; i < names->argc; i++) {
        if ((fp = qfile_open("deferred", names->argv[i], NULL, why)) == NULL)
            continue; /* taken by qmgr meanwhile */
        ok = qfile_read(fp, QFILE_FLAG_NONE, env, why) == 0;
        if (ok && env->rcpt_total > env->rcpt_count)
            ok = vstream_fseek(fp, 0, SEEK_SET) == 0 &&
                 qfile_read(fp, QFILE_FLAG_CONTENT, env, why) == 0;
        vstream_fclose(fp);
        if (ok && pq_site_match(env, site) && pq_touch(names->argv[i]) == 0) {
            count++;
            if (msg_verbose)
                msg_info("%s: scheduled for delivery", names->argv[i]);
        }
    }
    if (count > 0)
        pq_wake();
    if (msg_verbose)
        msg_info("site %s: %d message%s scheduled for delivery", site, count,
                 count == 1 ? "" : "s");
    argv_free(names);
    vstring_free(why);
    qfile_env_free(env);
    return 0;
}

int main(int argc, char **argv)
{
    const char *option_dir = NULL;
    const char *arg = NULL;
    int mode = 0;
    int ch;

    setgid_std_fds();
    umask(077);
    msg_init("postqueue");
    msg_set_stderr(1);
    sig_ignore_pipe();
    if (geteuid() != getuid())
        msg_fatal_status(EX_USAGE, "postqueue must not be set-uid");

    while ((ch = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        switch (ch) {
        case 'c':
            option_dir = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        case PQ_LIST_TEXT:
        case PQ_LIST_JSON:
        case PQ_FLUSH:
        case PQ_RETRY_ID:
        case PQ_RETRY_SITE:
            if (mode != 0 && mode != ch)
                pq_usage();
            mode = ch;
            arg = optarg;
            break;
        default:
            pq_usage();
        }
    }
    if (mode == 0 || optind != argc)
        pq_usage();

    pq_config_dir = setgid_conf_dir(option_dir);
    mail_conf_read(pq_config_dir);
    mail_conf_eval();
    msg_set_syslog_name(var_syslog_name);
    if (var_maillog_file[0] && access(var_maillog_file, W_OK) == 0)
        msg_set_logfile(var_maillog_file);
    if (setgid_running())
        setgid_clean_env();

    switch (mode) {
    case PQ_LIST_TEXT:
    case PQ_LIST_JSON:
        return pq_list(mode);
    case PQ_FLUSH:
        return pq_flush();
    case PQ_RETRY_ID:
        return pq_retry_id(arg);
    case PQ_RETRY_SITE:
        return pq_retry_site(arg);
    default:
        pq_usage();
    }
}
