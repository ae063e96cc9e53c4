#ifndef POSTIE_PRIV_H
#define POSTIE_PRIV_H

#include <sys/types.h>

/*
 * The group privilege of a setgid install (configure --with-group, the
 * group "postie" by default).  The group may open two things: the system
 * configuration, which can then be root:postie 0640 with a password in
 * it, and the system queue, root:postie 2770.  Nothing else.
 *
 * priv_init() runs first in main(), before any file or environment
 * variable is read: when the effective gid differs from the real one (the
 * program was started setgid), it lowers the effective gid to the real
 * one and keeps the group only as the saved set-group-ID.  From then on
 * the process has the user's rights except between priv_raise() and
 * priv_lower(), which only setup.c (around opening the system
 * configuration) and queue.c (inside its functions, for the system queue)
 * call.  Nothing between them logs, runs a command or opens a path the
 * user chose.
 *
 * priv_drop() gives the group up for good (real, effective and saved gid
 * all the user's), and is called before anything the user controls is
 * read or run: -C, a configuration in the user's home, msmtp's
 * per-keyword options, a passwordeval child before it execs, and every
 * mode that needs no queue once its configuration is read.
 *
 * Without setgid every function here is a no-op.  Failing to lower or
 * drop the group is fatal: one line on stderr and exit 71 (EX_OSERR),
 * never a run with more privilege than intended.
 */

/* Called once, first thing in main() (after fds 0-2 exist). */
void	priv_init(void);

/*
 * Raise the group for privileged work; priv_lower() lowers it again.
 * Calls nest: only the outermost priv_lower() lowers.  After
 * priv_drop(), or without setgid, both do nothing.
 */
void	priv_raise(void);
void	priv_lower(void);

/* Give the group up for good (the saved gid too), checked. */
void	priv_drop(void);

/* 1 while the group can still be raised: started setgid, not dropped. */
int	priv_held(void);

/* 1 while it is raised (between priv_raise() and priv_lower()). */
int	priv_raised(void);

/* 1 when the program was started setgid (even if it has dropped). */
int	priv_setgid(void);

/*
 * postie's group: the setgid group when started setgid, else the group
 * named at build time (--with-group) when it exists, else (gid_t)-1.  The
 * system configuration and queue may be shared with it.
 */
gid_t	priv_group(void);

/* Its name for messages: the name built in ("postie"), or "" without. */
const char *priv_group_name(void);

#endif
