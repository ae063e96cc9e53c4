#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "priv.h"

/*
 * See priv.h.  The state is three gids and a depth: `rgid` the user's,
 * `pgid` the setgid group, `depth` how many priv_raise() calls are open.
 */

static int	 setgid_start;	/* started setgid */
static int	 dropped;	/* priv_drop() done */
static unsigned	 depth;
static gid_t	 rgid, pgid;

static void	 fatal(const char *) __attribute__((noreturn));

/*
 * Continuing would run with a group the code does not expect to hold:
 * stop at once.  _exit: nothing of the caller's (atexit, stdio buffers
 * of half-written output) runs with the wrong privilege.
 */
static void
fatal(const char *what)
{
	fprintf(stderr, "postie: cannot %s the group privilege: %s\n", what,
	    strerror(errno != 0 ? errno : EPERM));
	_exit(EX_OSERR);
}

void
priv_init(void)
{
	gid_t	 r, e, s;

	if (getresgid(&r, &e, &s) == -1)
		fatal("check");
	if (e == r)
		return;
	setgid_start = 1;
	rgid = r;
	pgid = e;
	/* The group stays only as the saved set-group-ID. */
	if (setresgid(r, r, e) == -1 || getresgid(&r, &e, &s) == -1 ||
	    r != rgid || e != rgid || s != pgid)
		fatal("lower");
}

void
priv_raise(void)
{
	if (!setgid_start || dropped || depth++ > 0)
		return;
	if (setresgid((gid_t)-1, pgid, (gid_t)-1) == -1 || getegid() != pgid)
		fatal("raise");
}

void
priv_lower(void)
{
	if (!setgid_start || dropped || depth == 0 || --depth > 0)
		return;
	errno = 0;
	if (setresgid((gid_t)-1, rgid, (gid_t)-1) == -1 || getegid() != rgid)
		fatal("lower");
}

void
priv_drop(void)
{
	gid_t	 r, e, s;

	if (!setgid_start || dropped)
		return;
	errno = 0;
	if (setresgid(rgid, rgid, rgid) == -1 ||
	    getresgid(&r, &e, &s) == -1 || r != rgid || e != rgid ||
	    s != rgid)
		fatal("drop");
	/* Gone for good: getting it back must fail (root can always). */
	if (geteuid() != 0 && (setegid(pgid) == 0 || errno != EPERM)) {
		errno = EPERM;
		fatal("drop");
	}
	dropped = 1;
	depth = 0;
}

int
priv_held(void)
{
	return setgid_start && !dropped;
}

int
priv_raised(void)
{
	return priv_held() && depth > 0;
}

int
priv_setgid(void)
{
	return setgid_start;
}

gid_t
priv_group(void)
{
	static int	 looked;
	static gid_t	 named = (gid_t)-1;
	struct group	*gr;

	if (setgid_start)
		return pgid;
	if (!looked) {
		looked = 1;
		if (POSTIE_GROUP[0] != '\0' &&
		    (gr = getgrnam(POSTIE_GROUP)) != NULL)
			named = gr->gr_gid;
	}
	return named;
}

const char *
priv_group_name(void)
{
	return POSTIE_GROUP;
}
