#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <time.h>
#include <sysexits.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <idn2.h>

#include "conf.h"
#include "exitcode.h"
#include "front.h"
#include "log.h"
#include "options.h"
#include "priv.h"
#include "sasl.h"
#include "secret.h"

/* GnuTLS starts when first needed, not at load (crypto.h says why).
 * Its macro defines a function GnuTLS's constructor asks. */
GNUTLS_SKIP_GLOBAL_INIT

static const char	*base_name(const char *);
static int		 usage_error(const char *);
static int		 print_version(void);
static int		 print_help(void);
static int		 other_mode(struct run *);
static int		 std_fds(void);
static void		 reset_signals(void);

static const char *
base_name(const char *path)
{
	const char	*s = strrchr(path, '/');

	return s == NULL ? path : s + 1;
}

static int
usage_error(const char *msg)
{
	log_error("%s", msg);
	fprintf(stderr, "Try 'postie --help' for more information.\n");
	return EX_USAGE;
}

/* --version: the build's features, then where the configuration is. */
static int
print_version(void)
{
	struct strlist	 searched = STRLIST_INIT;
	int		 m, system;
	char		*path = conf_find_file(&system);
	size_t		 i;

	printf("postie %s\n", PACKAGE_VERSION);
	printf("TLS: GnuTLS %s (STARTTLS and implicit TLS)\n",
	    gnutls_check_version(NULL));
	printf("SASL mechanisms (built in):");
	for (m = 0; m < SASL_NMECHS; m++)
		printf(" %s", sasl_name((enum sasl_mech)m));
	printf("\n");
	printf("IDN: libidn2 %s (IDNA2008 domains)\n",
	    idn2_check_version(NULL));
	printf("configuration file: %s\n", path != NULL ? path : "(none found)");
	printf("system queue: %s (mail sent with the system configuration)\n",
	    SPOOLDIR);
	/* The paths as tried, not as a template: "$XDG_CONFIG_HOME" means
	 * nothing to a user who never set it. */
	conf_search_path(&searched);
	printf("searched:");
	for (i = 0; i < searched.n; i++)
		printf("%s %s", i > 0 ? "," : "", searched.v[i]);
	printf("\n");
	strlist_release(&searched);
	free(path);
	return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
}

/* --help: the options, then each exit status on a line of its own. */
static int
print_help(void)
{
	const struct exit_summary	*e;
	unsigned			 n, i;

	fputs(options_usage(), stdout);
	printf("\nExit status:\n");
	e = exit_summaries(&n);
	for (i = 0; i < n; i++)
		printf("  %-3d %-15s %s\n", e[i].status,
		    exit_name(e[i].status), e[i].what);
	return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
}

/* Modes other than sending. */
static int
other_mode(struct run *r)
{
	int	 status;

	switch (r->opts.mode) {
	case MODE_HELP:
		return print_help();
	case MODE_VERSION:
		return print_version();
	case MODE_QUEUE_LIST:
	case MODE_QUEUE_RUN:
	case MODE_QUEUE_DELETE:
		return queue_mode(r);
	case MODE_NEWALIASES:
		return newaliases(r);
	case MODE_SMTP_STDIO:
		return smtp_stdio(r);
	case MODE_PRETEND:
		if ((status = load_account(r)) != EX_OK)
			return status;
		return pretend(r);
	case MODE_SERVERINFO:
		if ((status = load_account(r)) != EX_OK)
			return status;
		return serverinfo(r);
	case MODE_VERIFY:
		return verify_addrs(r);
	case MODE_OAUTH_AUTHORIZE:
		return authorize(r);
	default:
		log_error("internal error: unknown mode %d", (int)r->opts.mode);
		return EX_SOFTWARE;
	}
}

/*
 * Where a message on a regular file starts, or -1.  When postie cannot
 * send it, stdin goes back there: a caller that hands over its own
 * temporary file and, on failure, saves "the rest" of it (bsd-mailx's
 * dead.letter) then saves the whole message instead of nothing.  Until
 * postie has a queue this is what keeps such mail from being lost.
 */
static off_t
stdin_start(void)
{
	struct stat	 st;

	if (fstat(STDIN_FILENO, &st) == -1 || !S_ISREG(st.st_mode))
		return -1;
	return lseek(STDIN_FILENO, 0, SEEK_CUR);
}

/*
 * Make sure descriptors 0, 1 and 2 are open (on /dev/null), so that no
 * file or socket postie opens later becomes "stdin" or "stderr".  Returns
 * 1 when stdin was closed (not an empty message: a read error).
 */
static int
std_fds(void)
{
	int	 fd, closed0 = 0;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == 0)
			closed0 = 1;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(EX_OSERR);
	}
	return closed0;
}

/*
 * Signal state is inherited through exec, and callers leave odd states
 * behind: with SIGCHLD ignored the kernel reaps children itself, so the
 * wait for passwordeval fails ("No child processes") and the mail is
 * lost; a blocked mask would hold back the signals a timeout or an admin
 * sends.  Start from the defaults, except SIGPIPE: a server that closes
 * early must not kill us before we report.
 */
static void
reset_signals(void)
{
	sigset_t	 none;

	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGCHLD, SIG_DFL);
	(void)signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char *argv[])
{
	struct run	 r;
	struct buf	 err = BUF_INIT;
	off_t		 in_start;
	int		 status, stdin_closed = std_fds();

	/* Before anything reads a file or the environment: the group, if
	 * started setgid, is lowered here and raised only where needed. */
	priv_init();
	reset_signals();
	/* Passwords may be read below: no core dumps, no peeking. */
	secret_protect_process();
	log_init("postie");
	memset(&r, 0, sizeof(r));
	options_init(&r.opts);
	message_init(&r.msg);
	envelope_init(&r.env);
	qentry_init(&r.entry);

	if (options_parse(&r.opts, argc, argv,
	    base_name(argc > 0 ? argv[0] : "postie"), &err) == -1) {
		status = usage_error(buf_str(&err));
		goto out;
	}
	log_verbose(r.opts.verbose);
	if (r.opts.mode == MODE_HELP || r.opts.mode == MODE_VERSION)
		priv_drop();
	if (r.opts.mode != MODE_SEND) {
		status = other_mode(&r);
		goto out;
	}
	if ((status = load_account(&r)) != EX_OK ||
	    (status = pick_sender(&r, r.opts.from,
	    r.opts.read_envelope_from)) != EX_OK)
		goto out;
	if (stdin_closed) {
		log_error("cannot read the message: standard input is closed");
		status = EX_IOERR;
		goto out;
	}
	in_start = stdin_start();
	status = submit(&r);
	if (status != EX_OK && in_start != -1)
		(void)lseek(STDIN_FILENO, in_start, SEEK_SET);
out:
	buf_release(&err);
	envelope_release(&r.env);
	message_release(&r.msg);
	qentry_release(&r.entry);
	if (r.have_q)
		queue_close(&r.q);
	setup_release(&r.su);
	options_release(&r.opts);
	free(r.env_from);
	/*
	 * The work is done: what runs at exit (library destructors, a leak
	 * checker, which must ptrace the process and cannot while a saved
	 * gid differs) runs without the group.
	 */
	priv_drop();
	return status;
}
