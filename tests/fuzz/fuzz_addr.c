/*
 * addr_parse_list() (addr.h) over a header value, with `ends`: every
 * offset within the value, no CR, LF or NUL in any address, a reason
 * exactly when it fails, each address parsing again to itself.  The
 * addresses then go through the checks and conversions the -t path
 * applies to them.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "buf.h"
#include "strlist.h"
#include "xmalloc.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strlist	 out = STRLIST_INIT;
	struct buf	 err = BUF_INIT, e2 = BUF_INIT;
	size_t		*ends = NULL, vlen, i, n0;
	char		*value, *q, *env;
	int		 rc;

	value = xstrndup((const char *)data, size);
	vlen = strlen(value);

	/* One address already there: ends[] counts from n0. */
	strlist_add(&out, "first@example.org");
	n0 = out.n;
	rc = addr_parse_list(value, &out, &ends, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(ends != NULL);
	FUZZ_ASSERT(rc == 0 ? err.len == 0 : err.len > 0);
	FUZZ_ASSERT(out.n >= n0);
	FUZZ_ASSERT(strcmp(out.v[0], "first@example.org") == 0);
	for (i = n0; i < out.n; i++) {
		FUZZ_ASSERT(out.v[i] != NULL);
		FUZZ_ASSERT(ends[i - n0] <= vlen);
		FUZZ_ASSERT(strchr(out.v[i], '\r') == NULL);
		FUZZ_ASSERT(strchr(out.v[i], '\n') == NULL);
		FUZZ_ASSERT(out.v[i][0] != '\0');

		(void)addr_check_parsed(out.v[i], &e2);
		buf_reset(&e2);
		/* What comes out is an addr-spec: parsed again it is one
		 * address, itself. */
		{
			struct strlist	 again = STRLIST_INIT;

			FUZZ_ASSERT(addr_parse_list(out.v[i], &again, NULL,
			    &e2) == 0);
			FUZZ_ASSERT(again.n == 1);
			FUZZ_ASSERT(strcmp(again.v[0], out.v[i]) == 0);
			strlist_release(&again);
		}
		(void)addr_is_local(out.v[i]);
		(void)addr_needs_utf8(out.v[i]);
		q = addr_qualify(out.v[i], "example.org");
		FUZZ_ASSERT(q != NULL);
		if ((env = addr_envelope_form(q, &e2)) == NULL)
			FUZZ_ASSERT(e2.len > 0);
		free(env);
		free(q);
		buf_reset(&e2);
	}
	FUZZ_ASSERT(out.v[out.n] == NULL);

	/* Without `ends`, the same addresses. */
	{
		struct strlist	 o2 = STRLIST_INIT;
		struct buf	 err2 = BUF_INIT;

		FUZZ_ASSERT(addr_parse_list(value, &o2, NULL, &err2) == rc);
		FUZZ_ASSERT(o2.n == out.n - n0);
		for (i = 0; i < o2.n; i++)
			FUZZ_ASSERT(strcmp(o2.v[i], out.v[n0 + i]) == 0);
		strlist_release(&o2);
		buf_release(&err2);
	}

	free(ends);
	strlist_release(&out);
	buf_release(&err);
	buf_release(&e2);
	free(value);
	return 0;
}
