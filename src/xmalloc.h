#ifndef POSTIE_XMALLOC_H
#define POSTIE_XMALLOC_H

#include <stddef.h>

/*
 * Allocation that cannot fail: on exhaustion these print one line and
 * exit with EX_OSERR.  postie handles one message at a time, so there is
 * nothing sensible to unwind to, and no message has been sent yet when
 * memory runs out before the DATA phase.
 */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
