#ifndef POSTERN_SAFE_OPEN_H
#define POSTERN_SAFE_OPEN_H
/*
 * safe_open - careful file creation and opening, and durable replacement
 *
 * All descriptors returned are close-on-exec. No function here follows a
 * symbolic link in the last path component. Errors return -1 with errno
 * set and, when why is not NULL, a message "open PATH: reason" (or the
 * like) in why; nothing is logged.
 *
 * safe_create() creates path exclusively (O_CREAT|O_EXCL|O_NOFOLLOW are
 * added to oflags) with the given mode (subject to umask).
 *
 * safe_open_existing() opens an existing path and refuses (EPERM for a
 * symlink/non-regular file/hard-linked file, EACCES for a wrong owner) a
 * symbolic link, anything but a regular file, a file with more than one
 * hard link, or, when owner is not SAFE_OPEN_ANY_UID, a file not owned by
 * owner. It also checks that the file opened is the one lstat() saw.
 * st (may be NULL) receives the fstat() result.
 *
 * safe_open() opens path if it exists (as safe_open_existing) and creates
 * it (as safe_create) otherwise, resolving the race between the two.
 * O_CREAT/O_EXCL in oflags are ignored; mode applies only on creation.
 *
 * safe_fsync_dir() fsyncs the directory that contains path (path itself
 * need not exist). fsync_path() opens path read-only and fsyncs it.
 *
 * Durable replacement (postconf -e, postmap, postalias):
 *   fd = safe_replace_begin(path, mode, tmp, why)
 *      creates "path.XXXXXX"-style temp file in path's directory (name
 *      returned in tmp, a caller-owned VSTRING). With mode
 *      SAFE_REPLACE_KEEP_MODE the existing file's permission bits are
 *      copied (0644 when path does not exist). When the caller is root
 *      and path exists, its owner and group are copied too.
 *   safe_replace_commit(fd, tmp, path, why)
 *      fsyncs the temp file (through fd, or by reopening tmp when
 *      fd < 0, for files written by a library such as Berkeley DB),
 *      closes fd, renames tmp over path, fsyncs the directory. On
 *      failure the temp file is removed. Returns 0 or -1.
 *   safe_replace_abort(fd, tmp)
 *      closes fd (if >= 0) and removes tmp.
 *   safe_replace_file(path, data, len, mode, why)
 *      all of the above for an in-memory buffer.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include "vstring.h"

#define SAFE_OPEN_ANY_UID ((uid_t) -1)
#define SAFE_REPLACE_KEEP_MODE ((mode_t) -1)

int safe_create(const char *path, int oflags, mode_t mode, VSTRING *why);
int safe_open_existing(const char *path, int oflags, uid_t owner, struct stat *st, VSTRING *why);
int safe_open(const char *path, int oflags, mode_t mode, uid_t owner, struct stat *st,
              VSTRING *why);

int safe_fsync_dir(const char *path);
int fsync_path(const char *path);

int safe_replace_begin(const char *path, mode_t mode, VSTRING *tmp, VSTRING *why);
int safe_replace_commit(int fd, const char *tmp, const char *path, VSTRING *why);
void safe_replace_abort(int fd, const char *tmp);
int safe_replace_file(const char *path, const void *data, size_t len, mode_t mode, VSTRING *why);

#endif
