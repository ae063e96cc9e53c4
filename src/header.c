#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "header.h"
#include "xmalloc.h"

/* A name longer than this cannot fit on a 998-byte line with its colon;
 * such a line is not taken for a field (and so a huge first line without
 * a colon is body text, not a header that never ends). */
#define NAME_MAX_LEN	997

static int	is_wsp(int);
static int	is_name_char(int);
static size_t	line_end(const char *, size_t, size_t, size_t *);
static size_t	name_length(const char *, size_t);
static void	add_field(struct hdrlist *, struct buf *);
static void	free_field(struct hdr_field *);

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 ftext: printable US-ASCII except ':'. */
static int
is_name_char(int c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/*
 * Find the end of the line starting at `pos`: returns its length without
 * the line ending and sets *next to where the following line starts.
 * A line ends at an LF, and the CRs right before it are part of the line
 * ending; the last line may have none.  A CR anywhere else is no line
 * ending (it is left in the line for the caller).
 */
static size_t
line_end(const char *in, size_t len, size_t pos, size_t *next)
{
	const char	*lf;
	size_t		 i;

	if ((lf = memchr(in + pos, '\n', len - pos)) == NULL) {
		*next = len;
		return len - pos;
	}
	i = (size_t)(lf - in);
	*next = i + 1;
	while (i > pos && in[i - 1] == '\r')
		i--;
	return i - pos;
}

/* Length of the field name at the start of a field line. */
static size_t
name_length(const char *line, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && is_name_char((unsigned char)line[i]); i++)
		;
	return i;
}

void
hdr_init(struct hdrlist *h)
{
	h->f = NULL;
	h->n = h->cap = 0;
}

static void
free_field(struct hdr_field *f)
{
	free(f->name);
	free(f->raw);
	f->name = f->raw = NULL;
}

void
hdr_release(struct hdrlist *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		free_field(&h->f[i]);
	free(h->f);
	hdr_init(h);
}

int
hdr_field_prefix(const char *line, size_t len)
{
	size_t	 i;

	i = name_length(line, len);
	if (i > NAME_MAX_LEN)
		return 0;
	if (i == len)
		return -1;
	if (i == 0)
		return 0;
	while (i < len && is_wsp((unsigned char)line[i]))
		i++;
	if (i == len)
		return -1;
	return line[i] == ':';
}

int
hdr_is_field_start(const char *line, size_t len)
{
	return hdr_field_prefix(line, len) == 1;
}

/* Append the field held in `raw` (a whole field, CRLF-terminated). */
static void
add_field(struct hdrlist *h, struct buf *raw)
{
	struct hdr_field	*f;

	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 16 : h->cap * 2;
		h->f = xreallocarray(h->f, h->cap, sizeof(*h->f));
	}
	f = &h->f[h->n++];
	f->name = xstrndup(raw->data, name_length(raw->data, raw->len));
	f->raw = buf_detach(raw);
}

size_t
hdr_parse(struct hdrlist *h, const char *in, size_t len, size_t *consumed)
{
	struct buf	 raw = BUF_INIT, fixed = BUF_INIT;
	const char	*l;
	size_t		 pos = 0, next, n, i, before = h->n;

	while (pos < len) {
		n = line_end(in, len, pos, &next);
		if (n == 0)
			break;			/* the empty line */
		/* A stray CR is the space canon.h makes of it, before the
		 * line is looked at: it never ends or starts a field. */
		l = in + pos;
		if (memchr(l, '\r', n) != NULL) {
			buf_reset(&fixed);
			buf_add(&fixed, l, n);
			for (i = 0; i < n; i++)
				if (fixed.data[i] == '\r')
					fixed.data[i] = ' ';
			l = fixed.data;
		}
		if (is_wsp((unsigned char)l[0])) {
			if (raw.len == 0)
				break;		/* a continuation of nothing */
		} else if (hdr_is_field_start(l, n)) {
			if (raw.len > 0)
				add_field(h, &raw);
		} else
			break;			/* not a header line: body */
		buf_add(&raw, l, n);
		buf_add(&raw, "\r\n", 2);
		pos = next;
	}
	if (raw.len > 0)
		add_field(h, &raw);
	buf_release(&raw);
	buf_release(&fixed);
	if (consumed != NULL)
		*consumed = pos;
	return h->n - before;
}

size_t
hdr_count(const struct hdrlist *h, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->f[i].name, name) == 0)
			n++;
	return n;
}

const struct hdr_field *
hdr_get(const struct hdrlist *h, const char *name, size_t which)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->f[i].name, name) == 0 && which-- == 0)
			return &h->f[i];
	return NULL;
}

void
hdr_value_map(const struct hdr_field *f, struct buf *out, size_t **map)
{
	const char	*raw = f->raw;
	size_t		 len = strlen(raw), i, start, end, k;
	size_t		*m = NULL;

	buf_reset(out);
	/* Past the name, any obsolete white space and the colon. */
	for (i = 0; i < len && raw[i] != ':'; i++)
		;
	if (i < len)
		i++;
	/* Drop the final line ending and every folding CRLF. */
	end = len;
	start = i;
	while (start < end && (is_wsp((unsigned char)raw[start]) ||
	    raw[start] == '\r' || raw[start] == '\n'))
		start++;
	while (end > start && (is_wsp((unsigned char)raw[end - 1]) ||
	    raw[end - 1] == '\r' || raw[end - 1] == '\n'))
		end--;
	if (map != NULL)
		m = xreallocarray(NULL, end - start + 1, sizeof(*m));
	k = 0;
	for (i = start; i < end; i++) {
		if (raw[i] == '\r' || raw[i] == '\n')
			continue;
		buf_addch(out, raw[i]);
		if (m != NULL)
			m[k] = i;
		k++;
	}
	if (m != NULL) {
		m[k] = end;		/* one past the last value byte */
		*map = m;
	}
}

void
hdr_value(const struct hdr_field *f, struct buf *out)
{
	hdr_value_map(f, out, NULL);
}

size_t
hdr_remove(struct hdrlist *h, const char *name)
{
	size_t	 i, j, gone = 0;

	for (i = j = 0; i < h->n; i++) {
		if (strcasecmp(h->f[i].name, name) == 0) {
			free_field(&h->f[i]);
			gone++;
		} else
			h->f[j++] = h->f[i];
	}
	h->n = j;
	return gone;
}

void
hdr_delete(struct hdrlist *h, size_t i)
{
	if (i >= h->n)
		return;
	free_field(&h->f[i]);
	memmove(&h->f[i], &h->f[i + 1], (h->n - i - 1) * sizeof(*h->f));
	h->n--;
}

void
hdr_set_raw(struct hdrlist *h, size_t i, char *raw)
{
	struct hdr_field	*f = &h->f[i];

	free(f->raw);
	f->raw = raw;
}

void
hdr_set(struct hdrlist *h, size_t i, const char *value)
{
	struct buf	 b = BUF_INIT;

	buf_addf(&b, "%s: %s\r\n", h->f[i].name, value);
	hdr_set_raw(h, i, buf_detach(&b));
}

void
hdr_append(struct hdrlist *h, const char *name, const char *value)
{
	struct buf	 b = BUF_INIT;

	buf_addf(&b, "%s: %s\r\n", name, value);
	add_field(h, &b);
	buf_release(&b);
}

void
hdr_write(const struct hdrlist *h, struct buf *out)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		buf_addstr(out, h->f[i].raw);
}
