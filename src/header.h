#ifndef POSTIE_HEADER_H
#define POSTIE_HEADER_H

#include <stddef.h>

#include "buf.h"

/*
 * The header section of a message as a list of fields (RFC 5322 2.2).
 * Each field keeps its original bytes (folding included, line endings
 * canonical CRLF, no CR or LF outside a CRLF) so that untouched fields
 * go out exactly as they came.
 */
struct hdr_field {
	char	*name;		/* as written, without the colon */
	char	*raw;		/* the whole field, "Name: value\r\n" with folds */
};

struct hdrlist {
	struct hdr_field *f;
	size_t		  n;
	size_t		  cap;
};

void	 hdr_init(struct hdrlist *);
void	 hdr_release(struct hdrlist *);

/*
 * Split a header section (everything before the empty line) into fields.
 * A line ends at an LF, and any CRs right before it belong to that line
 * ending ("\n", "\r\n", "\r\r\n"); any other CR is a stray CR and is a
 * space, in the raw field too, as canon.h's CANON_LF has it: it never
 * ends a line, so it cannot start a field.  (The message code hands over
 * canonical text, which has CRLF line endings only.)  A continuation
 * line before any field, or a line that is not "name: value", stops the
 * section: *consumed says how many bytes of input were header fields, so
 * the caller treats the rest as body.  When an empty line stopped it,
 * *consumed points at that empty line (it is not counted).  Field names
 * are printable ASCII (33..126) except ':'; white space between the name
 * and the colon (obsolete syntax) is accepted and not part of the name.
 * Returns the number of fields added.
 */
size_t	 hdr_parse(struct hdrlist *, const char *in, size_t len,
	    size_t *consumed);

/* Is `line` (len bytes, no line ending) a valid field start "name:"? */
int	 hdr_is_field_start(const char *line, size_t len);

/*
 * The same question about the first `len` bytes of a line that may not
 * have arrived in full: 1 it is a field start, 0 it cannot be one,
 * -1 more bytes are needed to tell.
 */
int	 hdr_field_prefix(const char *line, size_t len);

/* Number of fields named `name` (case-insensitive). */
size_t	 hdr_count(const struct hdrlist *, const char *name);
/* The i-th field named `name`, or NULL. */
const struct hdr_field *hdr_get(const struct hdrlist *, const char *name,
	    size_t i);
/* The unfolded value of a field: folding CRLFs removed, leading and
 * trailing white space trimmed. */
void	 hdr_value(const struct hdr_field *, struct buf *out);
/*
 * As hdr_value(), and also a malloc'd array in *map: map[k] is the offset
 * in the field's raw bytes of byte k of the value, so an edit of the value
 * can be made in the raw field with its folding kept.
 */
void	 hdr_value_map(const struct hdr_field *, struct buf *out,
	    size_t **map);
/* Replace the raw bytes of field `i` (takes ownership of `raw`, which
 * must be a whole field ending in CRLF). */
void	 hdr_set_raw(struct hdrlist *, size_t i, char *raw);
/* Replace field `i` with "name: value\r\n" under its current name. */
void	 hdr_set(struct hdrlist *, size_t i, const char *value);
/* Remove every field named `name`; returns how many went. */
size_t	 hdr_remove(struct hdrlist *, const char *name);
/* Remove field `i`; the fields after it move up. */
void	 hdr_delete(struct hdrlist *, size_t i);
/* Append "name: value\r\n" (value used as is, must not hold CR/LF). */
void	 hdr_append(struct hdrlist *, const char *name, const char *value);
/* Write every field in order. */
void	 hdr_write(const struct hdrlist *, struct buf *out);

#endif
