#ifndef POSTIE_BUF_H
#define POSTIE_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A growable byte buffer, after Git's strbuf.
 *
 * Invariants: `len` bytes of `data` are in use; when `data` is not NULL
 * it holds a NUL at data[len], so a buffer of text can be passed as a C
 * string (it may also hold NULs of its own: use `len`).  A buffer set up
 * with BUF_INIT or buf_init() owns nothing until the first add.
 * Growth never fails (see xmalloc.h).
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT	{ NULL, 0, 0 }

void	 buf_init(struct buf *);
/* Free the storage; the buffer is empty and reusable afterwards. */
void	 buf_release(struct buf *);
/* As buf_release(), but first overwrite every allocated byte (secrets). */
void	 buf_wipe(struct buf *);
/* Empty the buffer, keeping its storage. */
void	 buf_reset(struct buf *);
/* Make room for `extra` more bytes (plus the NUL). */
void	 buf_grow(struct buf *, size_t extra);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addstr(struct buf *, const char *);
void	 buf_addch(struct buf *, int);
void	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vaddf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Drop `n` bytes from the front. */
void	 buf_consume(struct buf *, size_t n);
/* Shorten to `len` bytes (no-op when already shorter). */
void	 buf_truncate(struct buf *, size_t len);
/* Hand the storage (always a NUL-terminated string) to the caller. */
char	*buf_detach(struct buf *);
/* The contents as a C string; "" for a buffer that owns nothing. */
const char *buf_str(const struct buf *);

#endif
