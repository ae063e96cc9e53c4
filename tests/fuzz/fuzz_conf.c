/*
 * conf_load() (conf.h) over a configuration file (written to a temporary
 * file): whatever the input, it returns 0 or -1 with a one-line reason,
 * leaves the conf empty on error, and frees everything in conf_release()
 * (the sanitizer build checks for leaks).  A loaded conf then goes through
 * conf_account() and conf_check_supported() for every account.
 */
#include "config.h"
#include <string.h>
#include "buf.h"
#include "conf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 c;
	struct buf	 err = BUF_INIT;
	const struct account *a;
	const char	*path;
	unsigned	 i;
	int		 rc;

	path = fuzz_tmpfile(data, size);
	memset(&c, 0, sizeof(c));
	rc = conf_load(&c, path, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_ASSERT(err.len > 0);
		FUZZ_ASSERT(strchr(buf_str(&err), '\n') == NULL);
		FUZZ_ASSERT(c.naccounts == 0 && c.accounts == NULL);
	} else {
		FUZZ_ASSERT(err.len == 0);
		for (i = 0; i < c.naccounts; i++) {
			a = &c.accounts[i];
			FUZZ_ASSERT(a->name != NULL);
			FUZZ_ASSERT(conf_account(&c, a->name) != NULL);
			buf_reset(&err);
			if (conf_check_supported(a, &err) == -1)
				FUZZ_ASSERT(err.len > 0);
		}
		a = conf_account(&c, NULL);
		if (c.naccounts > 0)
			FUZZ_ASSERT(a != NULL);
		if (a != NULL) {
			buf_reset(&err);
			(void)conf_check_supported(a, &err);
		}
		FUZZ_ASSERT(conf_account(&c, "no such account\n") == NULL);
	}
	conf_release(&c);
	/* Released twice is safe (it leaves the conf zeroed). */
	conf_release(&c);
	buf_release(&err);
	return 0;
}
