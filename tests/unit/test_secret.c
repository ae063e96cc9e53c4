#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "secret.h"
#include "util.h"
#include "xmalloc.h"

#include "t.h"

static char	 tmpdir[] = "/tmp/test_secret.XXXXXX";

/* Write `text` to tmpdir/name with `mode`; returns the path (static). */
static const char *
put(const char *name, const char *text, mode_t mode)
{
	static char	 path[512];
	int		 fd;
	size_t		 len = strlen(text);

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) == -1) {
		perror(path);
		exit(2);
	}
	close(fd);
	return path;
}

/* ---- netrc ------------------------------------------------------------------- */

/* The password netrc text gives host/user, or "-" when none. */
static const char *
lookup(const char *text, const char *host, const char *user)
{
	static struct buf	 out = BUF_INIT;

	if (secret_netrc_lookup(text, strlen(text), host, user, &out) != 1)
		return "-";
	return buf_str(&out);
}

static void
test_netrc(void)
{
	struct buf	 nul = BUF_INIT;
	const char	*two =
	    "machine a.example login alice password pa\n"
	    "machine b.example login bob password pb\n"
	    "machine b.example login carol password pc\n";

	CHECK_STR(lookup(two, "a.example", "alice"), "pa");
	CHECK_STR(lookup(two, "b.example", "bob"), "pb");
	CHECK_STR(lookup(two, "b.example", "carol"), "pc");
	CHECK_STR(lookup(two, "B.Example", "carol"), "pc");
	/* Logins are exact. */
	CHECK_STR(lookup(two, "b.example", "Carol"), "-");
	CHECK_STR(lookup(two, "a.example", "bob"), "-");
	CHECK_STR(lookup(two, "c.example", "alice"), "-");
	/* No user: the first entry for the host. */
	CHECK_STR(lookup(two, "b.example", NULL), "pb");
	CHECK_STR(lookup(two, NULL, "alice"), "-");

	/* One line or many, any white space, keywords in any order. */
	CHECK_STR(lookup("machine m password p1 login u", "m", "u"), "p1");
	CHECK_STR(lookup("machine\tm\n\n  login\r\nu\npassword   p2\n", "m", "u"),
	    "p2");

	/* default matches any host, in its place (it is meant to be last). */
	CHECK_STR(lookup("machine a login u password pa\n"
	    "default login u password pd\n", "a", "u"), "pa");
	CHECK_STR(lookup("machine a login u password pa\n"
	    "default login u password pd\n", "z", "u"), "pd");
	CHECK_STR(lookup("default login x password pd\n", "z", "u"), "-");
	CHECK_STR(lookup("default password pd\n", "z", NULL), "pd");

	/* Missing fields: no password, no login (with a user), no name. */
	CHECK_STR(lookup("machine m login u\nmachine m login u password p\n",
	    "m", "u"), "p");
	CHECK_STR(lookup("machine m password p\n", "m", "u"), "-");
	CHECK_STR(lookup("machine m password p\n", "m", NULL), "p");
	CHECK_STR(lookup("machine", "m", NULL), "-");
	CHECK_STR(lookup("machine m login", "m", "u"), "-");
	CHECK_STR(lookup("machine m login u password", "m", "u"), "-");
	CHECK_STR(lookup("", "m", "u"), "-");
	CHECK_STR(lookup("   \n\n", "m", "u"), "-");
	/* A field of another entry does not leak into the next. */
	CHECK_STR(lookup("machine m login u password p\nmachine n login u\n",
	    "n", "u"), "-");

	/* account and port take a value; unknown words are skipped. */
	CHECK_STR(lookup("machine m account login port 25 login u password p",
	    "m", "u"), "p");
	CHECK_STR(lookup("machine m frobnicate login u password p", "m", "u"),
	    "p");

	/* Comments where a keyword is expected; '#' inside values is data. */
	CHECK_STR(lookup("# machine m login u password bad\n"
	    "machine m login u password p#1 # trailing\n", "m", "u"), "p#1");
	CHECK_STR(lookup("machine m # a comment\n login u password p\n",
	    "m", "u"), "p");
	CHECK_STR(lookup("machine m login u password #p", "m", "u"), "#p");

	/* Quoting and backslashes (curl, BSD ftp). */
	CHECK_STR(lookup("machine m login u password \"two words\"", "m", "u"),
	    "two words");
	CHECK_STR(lookup("machine m login u password \"q\\\"uote\"", "m", "u"),
	    "q\"uote");
	CHECK_STR(lookup("machine m login u password back\\ slash", "m", "u"),
	    "back slash");
	CHECK_STR(lookup("machine m login \"u\" password \"\"", "m", "u"), "");
	CHECK_STR(lookup("machine m login u password \"unterminated", "m",
	    "u"), "unterminated");

	/* macdef bodies are skipped up to an empty line. */
	CHECK_STR(lookup("macdef init\nmachine m login u password bad\n"
	    "quit\n\nmachine m login u password good\n", "m", "u"), "good");
	CHECK_STR(lookup("machine m login u macdef x\n"
	    "password bad\n\npassword good\n", "m", "u"), "good");
	CHECK_STR(lookup("machine m login u password p macdef x\n"
	    "machine m login u password bad\n", "m", "u"), "p");
	CHECK_STR(lookup("macdef x\nmachine m login u password p\n", "m", "u"),
	    "-");
	/* CRLF files. */
	CHECK_STR(lookup("macdef x\r\nbody\r\n\r\nmachine m login u password p"
	    "\r\n", "m", "u"), "p");
	/* NULs are data, not ends. */
	CHECK_INT(secret_netrc_lookup("machine m login u password a\0b", 30,
	    "m", "u", &nul), 1);
	CHECK_INT(nul.len, 3);
	CHECK(nul.len == 3 && memcmp(nul.data, "a\0b", 3) == 0);
	buf_wipe(&nul);
}

static void
test_netrc_file(void)
{
	struct buf	 out = BUF_INIT, err = BUF_INIT;
	const char	*p;
	char		 want[600];

	p = put("netrc", "machine m login u password p\n", 0600);
	CHECK_INT(secret_netrc_file(p, "m", "u", &out, &err), 1);
	CHECK_STR(buf_str(&out), "p");
	CHECK_INT(secret_netrc_file(p, "x", "u", &out, &err), 0);
	CHECK_INT(out.len, 0);

	/* An unsafe file is refused only when it supplies the password. */
	p = put("netrc", "machine m login u password p\n", 0644);
	CHECK_INT(secret_netrc_file(p, "x", "u", &out, &err), 0);
	CHECK_INT(secret_netrc_file(p, "m", "u", &out, &err), -1);
	snprintf(want, sizeof(want), "%s: contains a password but is readable "
	    "by group or others (run: chmod 600 %s)", p, p);
	CHECK_STR(buf_str(&err), want);
	CHECK_INT(out.len, 0);
	buf_reset(&err);

	/* No such file: nothing, no error. */
	CHECK_INT(secret_netrc_file("/nonexistent/netrc", "m", "u", &out,
	    &err), 0);
	CHECK_INT(err.len, 0);
	buf_wipe(&out);
	buf_release(&err);
}

/* ---- passwordeval --------------------------------------------------------------- */

static int
eval(const char *cmd, int ms, struct buf *out, struct buf *err)
{
	buf_reset(err);
	return secret_eval(cmd, ms, out, err);
}

static void
test_eval(void)
{
	struct buf	 out = BUF_INIT, err = BUF_INIT;
	char		 cmd[200];
	long long	 t0;
	int		 p[2], fd, i, ok;
	char		 rest[16];

	CHECK_INT(eval("echo secret", 5000, &out, &err), 0);
	CHECK_STR(buf_str(&out), "secret");
	/* First line only, CR stripped, no newline needed. */
	CHECK_INT(eval("printf 'tok\\r\\nsecond\\n'", 5000, &out, &err), 0);
	CHECK_STR(buf_str(&out), "tok");
	CHECK_INT(eval("printf 'no-newline'", 5000, &out, &err), 0);
	CHECK_STR(buf_str(&out), "no-newline");
	CHECK_INT(eval("printf ' spaces kept \\n'", 5000, &out, &err), 0);
	CHECK_STR(buf_str(&out), " spaces kept ");

	/* A 64 KiB token, more than a pipe holds, then more lines. */
	CHECK_INT(eval("head -c 65536 /dev/zero | tr '\\0' a; echo; "
	    "seq 100000", 10000, &out, &err), 0);
	CHECK_INT(out.len, 65536);
	ok = out.len == 65536;
	for (i = 0; ok && i < 65536; i++)
		ok = out.data[i] == 'a';
	CHECK(ok);
	/* 1 MiB without a newline. */
	CHECK_INT(eval("head -c 1048576 /dev/zero | tr '\\0' b", 10000, &out,
	    &err), 0);
	CHECK_INT(out.len, 1048576);

	/* Failures. */
	CHECK_INT(eval("echo pw; exit 1", 5000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: exit status 1");
	CHECK_INT(out.len, 0);
	CHECK_INT(eval("exit 3", 5000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: exit status 3");
	CHECK_INT(eval("true", 5000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: empty output");
	CHECK_INT(eval("echo; echo second", 5000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: empty output");
	CHECK_INT(eval("/nonexistent/cmd 2>/dev/null", 5000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: exit status 127");
	CHECK_INT(eval("kill -9 $$", 5000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: killed by signal 9");

	/* SIGPIPE is ignored in postie; the command gets it back. */
	signal(SIGPIPE, SIG_IGN);
	CHECK_INT(eval("kill -s PIPE $$; echo survived", 5000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: killed by signal 13");
	signal(SIGPIPE, SIG_DFL);

	/*
	 * stdin is /dev/null, not ours: with our stdin a pipe holding a
	 * message whose writer stays open, `cat` would print it or hang;
	 * it must see EOF at once, and the message stays unread.
	 */
	if (pipe(p) == -1 || write(p[1], "message\n", 8) != 8)
		exit(2);
	fd = dup(0);
	dup2(p[0], 0);
	t0 = now_ms();
	CHECK_INT(eval("cat", 3000, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: empty output");
	CHECK(now_ms() - t0 < 2000);
	memset(rest, 0, sizeof(rest));
	CHECK_INT(read(0, rest, 8), 8);
	CHECK_STR(rest, "message\n");
	dup2(fd, 0);
	close(fd);
	close(p[0]);
	close(p[1]);

	/* Our other descriptors are closed in the command. */
	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		exit(2);
	snprintf(cmd, sizeof(cmd), "if [ -e /proc/$$/fd/%d ]; then echo "
	    "leaked; else echo closed; fi", fd);
	CHECK_INT(eval(cmd, 5000, &out, &err), 0);
	CHECK_STR(buf_str(&out), "closed");
	close(fd);
	/* stderr is ours. */
	CHECK_INT(eval("[ -e /proc/$$/fd/2 ] && echo yes", 5000, &out, &err),
	    0);
	CHECK_STR(buf_str(&out), "yes");

	/* A command that hangs is killed at the bound. */
	t0 = now_ms();
	CHECK_INT(eval("exec sleep 30", 300, &out, &err), -1);
	CHECK_STR(buf_str(&err), "passwordeval failed: no answer within 1 s "
	    "(killed)");
	CHECK(now_ms() - t0 < 2000);
	t0 = now_ms();
	CHECK_INT(eval("echo early; exec sleep 30", 300, &out, &err), -1);
	CHECK(now_ms() - t0 < 2000);
	CHECK_INT(out.len, 0);
	/* A daemon that keeps the pipe open does not hold postie up. */
	t0 = now_ms();
	CHECK_INT(eval("sleep 5 & echo tok", 4000, &out, &err), 0);
	CHECK_STR(buf_str(&out), "tok");
	CHECK(now_ms() - t0 < 2000);

	buf_wipe(&out);
	buf_release(&err);
}

/* ---- credentials ------------------------------------------------------------------- */

static void
test_credential(void)
{
	struct buf	 out = BUF_INIT, err = BUF_INIT;
	char		 dir[300], want[400];

	snprintf(dir, sizeof(dir), "%s/creds", tmpdir);
	mkdir(dir, 0700);
	CHECK_INT(secret_credential(dir, "work", &out, &err), 0);
	put("creds/postie-work", "work-pw\n", 0400);
	CHECK_INT(secret_credential(dir, "work", &out, &err), 1);
	CHECK_STR(buf_str(&out), "work-pw");
	CHECK_INT(secret_credential(dir, "home", &out, &err), 0);
	put("creds/postie-password", "any-pw\r\nignored\n", 0400);
	CHECK_INT(secret_credential(dir, "home", &out, &err), 1);
	CHECK_STR(buf_str(&out), "any-pw");
	CHECK_INT(secret_credential(dir, "work", &out, &err), 1);
	CHECK_STR(buf_str(&out), "work-pw");
	/* Names that would leave the directory are not tried. */
	put("postie-x", "outside\n", 0400);
	CHECK_INT(secret_credential(dir, "../postie-x", &out, &err), 1);
	CHECK_STR(buf_str(&out), "any-pw");
	CHECK_INT(secret_credential(dir, NULL, &out, &err), 1);
	CHECK_STR(buf_str(&out), "any-pw");
	/* Empty: an error, not a silent fallback. */
	put("creds/postie-empty", "\n", 0400);
	CHECK_INT(secret_credential(dir, "empty", &out, &err), -1);
	snprintf(want, sizeof(want), "%s/postie-empty: empty credential", dir);
	CHECK_STR(buf_str(&err), want);
	buf_wipe(&out);
	buf_release(&err);
}

/* ---- secret_check_file --------------------------------------------------------------- */

/* The system configuration shared with the group (gid 4300 here): the
 * rule looks at the stat of the file as opened, so a made-up one will do. */
static void
test_check_shared(void)
{
	struct buf	 err = BUF_INIT;
	struct stat	 st;
	static const struct {
		uid_t		 uid;
		gid_t		 gid;
		mode_t		 mode;
		const char	*want;	/* NULL: accepted */
	} t[] = {
		{ 0, 4300, 0640, NULL },
		{ 0, 4300, 0600, NULL },
		{ 0, 4300, 0400, NULL },
		{ 0, 4300, 0440, NULL },
		{ 0, 4300, 0644, "/etc/p.conf: contains a password but is "
		    "readable or writable by others (run: chmod o= /etc/p.conf)" },
		{ 0, 4300, 0642, "/etc/p.conf: contains a password but is "
		    "readable or writable by others (run: chmod o= /etc/p.conf)" },
		{ 0, 4300, 0660, "/etc/p.conf: contains a password but is "
		    "writable by group (run: chmod g-w /etc/p.conf)" },
		{ 0, 100, 0640, "/etc/p.conf: contains a password but its group "
		    "is gid 100, not 'postie' (run: chgrp postie /etc/p.conf)" },
		{ 4242, 4300, 0640, "/etc/p.conf: contains a password but is "
		    "owned by uid 4242, not by root (run: chown root:postie "
		    "/etc/p.conf)" },
	};
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&st, 0, sizeof(st));
		st.st_uid = t[i].uid;
		st.st_gid = t[i].gid;
		st.st_mode = S_IFREG | t[i].mode;
		buf_reset(&err);
		CHECK_INT(secret_check_shared("/etc/p.conf", &st, 4300,
		    "postie", &err), t[i].want == NULL ? 0 : -1);
		CHECK_STR(buf_str(&err), t[i].want == NULL ? "" : t[i].want);
	}
	/* The user's own private file passes too (root's 0600, any group). */
	memset(&st, 0, sizeof(st));
	st.st_uid = getuid();
	st.st_gid = 100;
	st.st_mode = S_IFREG | 0600;
	buf_reset(&err);
	CHECK_INT(secret_check_shared("/etc/p.conf", &st, 4300, "postie",
	    &err), 0);
	buf_release(&err);
}

static void
test_check_file(void)
{
	struct buf	 err = BUF_INIT;
	const char	*p;
	char		 want[700];
	static const mode_t bad[] = { 0644, 0640, 0604, 0620, 0602, 0610,
	    0660, 0666, 0601 };
	size_t		 i;

	p = put("conf", "password x\n", 0600);
	CHECK_INT(secret_check_file(p, &err), 0);
	CHECK_INT(err.len, 0);
	p = put("conf", "password x\n", 0400);
	CHECK_INT(secret_check_file(p, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		p = put("conf", "password x\n", bad[i]);
		CHECK_INT(secret_check_file(p, &err), -1);
		snprintf(want, sizeof(want), "%s: contains a password but is "
		    "readable by group or others (run: chmod 600 %s)", p, p);
		CHECK_STR(buf_str(&err), want);
	}

	buf_reset(&err);
	CHECK_INT(secret_check_file("/nonexistent/conf", &err), -1);
	CHECK_STR(buf_str(&err), "/nonexistent/conf: cannot check: "
	    "No such file or directory");

	if (getuid() == 0) {
		/* Owned by someone else (nobody): refused even at 0600. */
		buf_reset(&err);
		p = put("conf", "password x\n", 0600);
		if (chown(p, 65534, 65534) == -1)
			exit(2);
		CHECK_INT(secret_check_file(p, &err), -1);
		snprintf(want, sizeof(want), "%s: contains a password but is "
		    "owned by uid 65534, not by uid 0 (run: chown 0 %s)", p, p);
		CHECK_STR(buf_str(&err), want);
		/* The same rule for a netrc that supplies the password. */
		p = put("netrc", "machine m login u password p\n", 0600);
		if (chown(p, 65534, 65534) == -1)
			exit(2);
		{
			struct buf	 out = BUF_INIT;

			buf_reset(&err);
			CHECK_INT(secret_netrc_file(p, "m", "u", &out, &err),
			    -1);
			CHECK(strstr(buf_str(&err), "owned by uid 65534") !=
			    NULL);
			buf_wipe(&out);
		}
	} else
		fprintf(stderr, "not root: the other-owner case is skipped\n");
	buf_release(&err);
}

/* ---- secret_get: the order of the sources ---------------------------------------------- */

/*
 * Run secret_get() in a child without a controlling terminal (setsid), so
 * that the prompt can never be reached by accident; returns "0:SECRET"
 * or "-1:ERROR".
 */
static const char *
get_notty(const struct account *a, const char *host, const char *user)
{
	static char	 res[2048];
	struct buf	 out = BUF_INIT, err = BUF_INIT;
	int		 p[2], n, st;
	pid_t		 pid;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		close(p[0]);
		setsid();
		if (secret_get(a, host, user, &out, &err) == 0)
			dprintf(p[1], "0:%s", buf_str(&out));
		else
			dprintf(p[1], "-1:%s", buf_str(&err));
		_exit(0);
	}
	close(p[1]);
	n = 0;
	for (;;) {
		ssize_t	 r = read(p[0], res + n, sizeof(res) - 1 - n);

		if (r <= 0)
			break;
		n += (int)r;
	}
	res[n] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return res;
}

static void
test_order(void)
{
	struct account	 a;
	char		 creds[300];

	memset(&a, 0, sizeof(a));
	a.name = (char *)"acct";
	a.host = (char *)"mail.example";
	a.timeout = 5;
	snprintf(creds, sizeof(creds), "%s/order-creds", tmpdir);
	mkdir(creds, 0700);
	/* HOME was set to tmpdir in main(), before home_dir() ran. */
	put(".netrc", "machine mail.example login u password from-netrc\n",
	    0600);
	put("order-creds/postie-acct", "from-creds\n", 0400);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);

	a.password = (char *)"from-config";
	a.passwordeval = (char *)"echo from-eval";
	CHECK_STR(get_notty(&a, "mail.example", "u"), "0:from-config");
	a.password = NULL;
	CHECK_STR(get_notty(&a, "mail.example", "u"), "0:from-eval");
	/* A failing passwordeval is an error: no fallback. */
	a.passwordeval = (char *)"exit 1";
	CHECK_STR(get_notty(&a, "mail.example", "u"),
	    "-1:passwordeval failed: exit status 1");
	a.passwordeval = NULL;
	CHECK_STR(get_notty(&a, "mail.example", "u"), "0:from-creds");
	/* A relative directory is not trusted. */
	setenv("CREDENTIALS_DIRECTORY", "order-creds", 1);
	CHECK_STR(get_notty(&a, "mail.example", "u"), "0:from-netrc");
	unsetenv("CREDENTIALS_DIRECTORY");
	CHECK_STR(get_notty(&a, "mail.example", "u"), "0:from-netrc");
	CHECK_STR(get_notty(&a, "MAIL.example", "u"), "0:from-netrc");
	/* An unsafe netrc supplying the password is an error. */
	put(".netrc", "machine mail.example login u password from-netrc\n",
	    0640);
	CHECK(strncmp(get_notty(&a, "mail.example", "u"), "-1:", 3) == 0);
	CHECK(strstr(get_notty(&a, "mail.example", "u"),
	    "readable by group or others") != NULL);
	put(".netrc", "machine mail.example login u password from-netrc\n",
	    0600);
	/* Nothing fits and no terminal. */
	CHECK_STR(get_notty(&a, "other.example", "u"),
	    "-1:no password for account 'acct' (set password, passwordeval, "
	    "a netrc entry or a systemd credential)");
	CHECK_STR(get_notty(&a, "mail.example", "v"),
	    "-1:no password for account 'acct' (set password, passwordeval, "
	    "a netrc entry or a systemd credential)");
	/* A unix socket account has no host to look up. */
	CHECK_STR(get_notty(&a, NULL, "u"),
	    "-1:no password for account 'acct' (set password, passwordeval, "
	    "a netrc entry or a systemd credential)");
}

/*
 * The prompt: a child gets a pseudo-terminal as its controlling terminal
 * (and stdin a pipe holding a message), we type the password.
 */
static void
test_prompt(void)
{
	struct account	 a;
	char		 res[512], seen[512];
	int		 m, p[2], in[2], n, st, k;
	pid_t		 pid;
	char		*sname;

	memset(&a, 0, sizeof(a));
	a.name = (char *)"acct";
	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) == -1 || grantpt(m) == -1 ||
	    unlockpt(m) == -1 || (sname = ptsname(m)) == NULL) {
		fprintf(stderr, "no pseudo-terminals: prompt test skipped\n");
		return;
	}
	if (pipe(p) == -1 || pipe(in) == -1 || (pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		struct buf	 out = BUF_INIT, err = BUF_INIT;
		char		 msg[32];
		int		 s;

		close(p[0]);
		close(m);
		/* Never hang the suite, whatever happens. */
		alarm(10);
		setsid();
		/* Opening the slave makes it our controlling terminal; it
		 * stays open so that the master never reads EIO. */
		if ((s = open(sname, O_RDWR)) == -1)
			_exit(3);
		dup2(in[0], 0);
		close(in[0]);
		if (secret_get(&a, "host.example", "u", &out, &err) == 0)
			dprintf(p[1], "0:%s", buf_str(&out));
		else
			dprintf(p[1], "-1:%s", buf_str(&err));
		/* The message on stdin is still all there. */
		memset(msg, 0, sizeof(msg));
		if (read(0, msg, sizeof(msg) - 1) > 0)
			dprintf(p[1], "|%s", msg);
		_exit(0);
	}
	close(p[1]);
	close(in[0]);
	if (write(in[1], "the message\n", 12) != 12)
		exit(2);
	close(in[1]);
	/* Wait for the prompt, then type. */
	n = 0;
	seen[0] = '\0';
	for (k = 0; k < 500 && strstr(seen, "password for") == NULL; k++) {
		struct pollfd	 pfd = { m, POLLIN, 0 };
		ssize_t		 r;

		/* EIO until the child has opened the slave. */
		if (poll(&pfd, 1, 20) != 1 ||
		    (r = read(m, seen + n, sizeof(seen) - 1 - n)) <= 0) {
			struct timespec	 ts = { 0, 20 * 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		n += (int)r;
		seen[n] = '\0';
	}
	CHECK(strstr(seen, "password for u at host.example: ") != NULL);
	if (write(m, "typed-pw\n", 9) != 9)
		exit(2);
	n = 0;
	for (;;) {
		ssize_t	 r = read(p[0], res + n, sizeof(res) - 1 - n);

		if (r <= 0)
			break;
		n += (int)r;
	}
	res[n] = '\0';
	waitpid(pid, &st, 0);
	CHECK_STR(res, "0:typed-pw|the message\n");
	/* Echo was off: the password never showed on the terminal. */
	(void)fcntl(m, F_SETFL, O_NONBLOCK);
	n = (int)read(m, seen, sizeof(seen) - 1);
	seen[n > 0 ? n : 0] = '\0';
	CHECK(strstr(seen, "typed-pw") == NULL);
	close(p[0]);
	close(m);
}

static void
test_protect(void)
{
	struct rlimit	 rl;
	pid_t		 pid;
	int		 st;

	if ((pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		secret_protect_process();
		if (getrlimit(RLIMIT_CORE, &rl) == -1 || rl.rlim_cur != 0 ||
		    rl.rlim_max != 0)
			_exit(1);
#ifdef __linux__
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(2);
#endif
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st));
	CHECK_INT(WEXITSTATUS(st), 0);
}

int
main(void)
{
	char	 cmd[600];
	int	 rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	setenv("HOME", tmpdir, 1);
	unsetenv("CREDENTIALS_DIRECTORY");
	test_netrc();
	test_netrc_file();
	test_eval();
	test_credential();
	test_check_file();
	test_check_shared();
	test_order();
	test_prompt();
	test_protect();
	rc = t_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return rc;
}
