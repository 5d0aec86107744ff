#ifndef POSTERN_MYMALLOC_H
#define POSTERN_MYMALLOC_H
/*
 * mymalloc - memory allocation that never returns NULL
 *
 * Every allocation in postern goes through these. Out of memory is fatal
 * (logged through msg_fatal), so callers never test for NULL. The caller
 * owns what is returned and frees it with myfree().
 */
#include <stddef.h>

void *mymalloc(size_t len);
void *mycalloc(size_t n, size_t len);
void *myrealloc(void *ptr, size_t len);
void myfree(void *ptr);
char *mystrdup(const char *str);
char *mystrndup(const char *str, size_t len);
void *mymemdup(const void *ptr, size_t len);

#endif
