/*
 * hdr_parse() (header.h) over the start of a message: *consumed within
 * the input, field names as documented, every field's raw bytes a whole
 * field in canonical CRLF (as hdr_write() puts them out), and the value
 * map of hdr_value_map() pointing at the value's bytes in the raw field;
 * what hdr_write() puts out parses back to the same fields.  Only an LF
 * ends a line: there are no more fields than lines ending in LF, plus
 * the last line.
 * Input holding NUL only has its bounds checked (the message code strips
 * NULs first).  Then the edits the message code makes, with the output
 * still canonical.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "header.h"
#include "fuzz.h"

static void	check_crlf(const char *, size_t);

/* Canonical: every CR is followed by LF, every LF preceded by CR, and a
 * non-empty output ends in CRLF. */
static void
check_crlf(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			FUZZ_ASSERT(i + 1 < n && p[i + 1] == '\n');
		if (p[i] == '\n')
			FUZZ_ASSERT(i > 0 && p[i - 1] == '\r');
	}
	if (n > 0)
		FUZZ_ASSERT(n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hdrlist	 h;
	struct buf	 out = BUF_INIT, val = BUF_INIT;
	const struct hdr_field *f;
	const char	*c;
	size_t		 consumed = (size_t)-1, nf, i, k, rl, *map, lfs = 0;

	hdr_init(&h);
	nf = hdr_parse(&h, (const char *)data, size, &consumed);
	FUZZ_ASSERT(consumed <= size);
	FUZZ_ASSERT(nf == h.n);
	FUZZ_ASSERT(nf == 0 || consumed > 0);
	for (i = 0; i < consumed; i++)
		if (data[i] == '\n')
			lfs++;
	FUZZ_ASSERT(nf <= lfs + 1);
	/* Fields are C strings: the message code strips NULs (canon.h)
	 * before it parses, so with a NUL only the bounds are checked. */
	if (memchr(data, '\0', size) != NULL) {
		hdr_release(&h);
		return 0;
	}

	for (i = 0; i < h.n; i++) {
		f = &h.f[i];
		FUZZ_ASSERT(f->name != NULL && f->name[0] != '\0');
		for (c = f->name; *c != '\0'; c++)
			FUZZ_ASSERT(*c >= 33 && *c <= 126 && *c != ':');
		rl = strlen(f->raw);
		check_crlf(f->raw, rl);
		FUZZ_ASSERT(rl > 0);
		FUZZ_ASSERT(hdr_get(&h, f->name, 0) != NULL);
		FUZZ_ASSERT(hdr_count(&h, f->name) >= 1);

		map = NULL;
		hdr_value_map(f, &val, &map);
		FUZZ_ASSERT(map != NULL || val.len == 0);
		for (k = 0; k < val.len; k++) {
			FUZZ_ASSERT(map[k] < rl);
			FUZZ_ASSERT(f->raw[map[k]] == val.data[k]);
			if (k > 0)
				FUZZ_ASSERT(map[k] > map[k - 1]);
		}
		FUZZ_ASSERT(memchr(buf_str(&val), '\n', val.len) == NULL);
		free(map);
		buf_reset(&val);
	}
	hdr_write(&h, &out);
	check_crlf(out.data, out.len);
	/* What hdr_write() puts out parses back to the same fields. */
	{
		struct hdrlist	 h2;
		size_t		 c2 = (size_t)-1;

		hdr_init(&h2);
		FUZZ_ASSERT(hdr_parse(&h2, buf_str(&out), out.len, &c2) ==
		    h.n);
		FUZZ_ASSERT(c2 == out.len);
		for (i = 0; i < h.n; i++) {
			FUZZ_ASSERT(strcmp(h2.f[i].name, h.f[i].name) == 0);
			FUZZ_ASSERT(strcmp(h2.f[i].raw, h.f[i].raw) == 0);
		}
		hdr_release(&h2);
	}

	/* Edits as message.c makes them, output still canonical. */
	if (h.n > 0) {
		hdr_value(&h.f[0], &val);
		if (memchr(buf_str(&val), '\r', val.len) == NULL)
			hdr_set(&h, 0, buf_str(&val));
		(void)hdr_remove(&h, "Bcc");
		hdr_append(&h, "X-Fuzz", "1");
		if (h.n > 1)
			hdr_delete(&h, 0);
		buf_reset(&out);
		hdr_write(&h, &out);
		check_crlf(out.data, out.len);
	}

	buf_release(&out);
	buf_release(&val);
	hdr_release(&h);
	return 0;
}
