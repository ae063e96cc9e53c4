#ifndef POSTIE_SECRET_H
#define POSTIE_SECRET_H

#include "buf.h"

struct account;

/*
 * Where passwords and tokens come from, in this order: `password`,
 * `passwordeval` (run with stdin from /dev/null, no secrets in its argv
 * or environment; first line of output, any length), systemd credentials
 * ($CREDENTIALS_DIRECTORY), ~/.netrc then SYSCONFDIR/netrc (machine =
 * host, login = user), and last a prompt on /dev/tty via readpassphrase
 * when one is available (never stdin: it holds the message).
 *
 * The secret lands in `out`; the caller wipes it with buf_wipe() as soon
 * as the AUTH exchange is over.
 */
int	 secret_get(const struct account *, const char *host, const char *user,
	    struct buf *out, struct buf *err);

/*
 * A config file that holds a password must belong to the user and not be
 * readable by group or others: -1 with "FILE: contains a password but is
 * readable by others (chmod 600 FILE)" otherwise.
 */
int	 secret_check_file(const char *path, struct buf *err);

/* No core dumps and no ptrace/proc peeking by other users while secrets
 * are in memory (RLIMIT_CORE 0, PR_SET_DUMPABLE 0). */
void	 secret_protect_process(void);

#endif
