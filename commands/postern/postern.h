#ifndef POSTERN_COMMAND_POSTERN_H
#define POSTERN_COMMAND_POSTERN_H
/*
 * postern.h - the postern control command's internal interfaces
 *
 * postern_check(flags) creates and repairs the queue directory tree
 * (postern_check.c) and returns the number of warnings; problems it
 * cannot repair are fatal. POSTERN_CHECK_DEEP also gives the contents of
 * the queue subdirectories to mail_owner (set-permissions).
 */
#define POSTERN_CHECK_DEEP 1

int postern_check(int flags);

#endif
