/*
 * aliases_load() (aliases.h) over an aliases file (written to a temporary
 * file): 0 or -1 with a reason, names lowercase, every address in a list
 * passing the command-line recipient checks; then expansion of a few
 * names and of every name it defines.
 */
#include "config.h"
#include <ctype.h>
#include <string.h>
#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "strlist.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const probe[] = {
		"root", "ROOT", "nobody", "a@b", "", "default", "\"q\""
	};
	struct aliases	 a;
	struct buf	 err = BUF_INIT;
	struct strlist	 out = STRLIST_INIT;
	const char	*c;
	size_t		 i, k;
	int		 rc;

	rc = aliases_load(&a, fuzz_tmpfile(data, size), &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(rc == 0 ? err.len == 0 : err.len > 0);
	if (rc == -1)
		FUZZ_ASSERT(a.names.n == 0);
	for (i = 0; i < a.names.n; i++) {
		for (c = a.names.v[i]; *c != '\0'; c++)
			FUZZ_ASSERT(!isupper((unsigned char)*c));
		for (k = 0; k < a.lists[i].n; k++) {
			buf_reset(&err);
			FUZZ_ASSERT(addr_check_envelope(a.lists[i].v[k], 0,
			    &err) == 0);
		}
		(void)aliases_expand(&a, a.names.v[i], &out);
	}
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
		(void)aliases_expand(&a, probe[i], &out);
	for (i = 0; i < out.n; i++)
		FUZZ_ASSERT(strpbrk(out.v[i], "\r\n") == NULL);
	strlist_release(&out);
	aliases_release(&a);
	aliases_release(&a);
	buf_release(&err);
	return 0;
}
