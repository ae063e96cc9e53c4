/*
 * addr_split_arg() and addr_check_envelope() (addr.h) over a command-line
 * argument: every item split out passes addr_check_envelope(), a reason
 * exactly when something fails, and the check as recipient and as
 * sender never crashes on the raw argument.
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
	char		*arg, *env;
	size_t		 i;
	int		 rc;

	arg = xstrndup((const char *)data, size);

	rc = addr_split_arg(arg, &out, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(rc == 0 ? err.len == 0 : err.len > 0);
	for (i = 0; i < out.n; i++) {
		FUZZ_ASSERT(addr_check_envelope(out.v[i], 0, &e2) == 0);
		FUZZ_ASSERT(e2.len == 0);
		FUZZ_ASSERT(strpbrk(out.v[i], "\r\n\t <>") == NULL);
		if ((env = addr_envelope_form(out.v[i], &e2)) == NULL)
			FUZZ_ASSERT(e2.len > 0);
		free(env);
		buf_reset(&e2);
	}
	FUZZ_ASSERT(out.n == 0 || out.v[out.n] == NULL);

	for (i = 0; i < 2; i++) {
		rc = addr_check_envelope(arg, (int)i, &e2);
		FUZZ_ASSERT(rc == 0 ? e2.len == 0 : rc == -1 && e2.len > 0);
		/* The reason never carries a raw control character. */
		FUZZ_ASSERT(strpbrk(buf_str(&e2), "\r\n") == NULL);
		if (rc == 0)
			FUZZ_ASSERT(strpbrk(arg, "\r\n") == NULL);
		buf_reset(&e2);
	}
	addr_quote(&e2, arg);
	FUZZ_ASSERT(strpbrk(buf_str(&e2), "\r\n\t") == NULL);

	strlist_release(&out);
	buf_release(&err);
	buf_release(&e2);
	free(arg);
	return 0;
}
