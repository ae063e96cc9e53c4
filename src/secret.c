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
#include <limits.h>
#include <poll.h>
#include <readpassphrase.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "priv.h"
#include "secret.h"
#include "util.h"
#include "xmalloc.h"

/* Longest answer read from the terminal. */
#define PROMPT_MAX	1024
/* Largest netrc or credential file read. */
#define FILE_MAX	SECRET_MAX
/* How often a running passwordeval is checked for having exited. */
#define EVAL_SLICE_MS	50

extern char **environ;

static void	 sec_add(struct buf *, const void *, size_t);
static void	 first_line(struct buf *);
static int	 check_stat(const char *, const struct stat *, struct buf *);
static int	 read_fd(int, struct buf *);
static int	 read_secret_file(const char *, struct buf *, struct stat *,
		    struct buf *);
static int	 next_token(const char *, size_t, size_t *, struct buf *,
		    int);
static void	 skip_macdef(const char *, size_t, size_t *);
static int	 entry_fits(int, const struct buf *, int, const char *);
static pid_t	 eval_spawn(const char *, int *, struct buf *);
static int	 eval_collect(int, pid_t, long long, struct buf *, int *,
		    struct buf *);
static void	 eval_kill(pid_t);
static int	 try_credential(const char *, const char *, struct buf *,
		    struct buf *);

/*
 * Append to a buffer that holds a secret: unlike buf_add(), growing
 * copies into fresh storage and wipes the old, so that realloc() leaves
 * no stray copy in freed memory.
 */
static void
sec_add(struct buf *b, const void *p, size_t n)
{
	char	*nd;
	size_t	 cap;

	if (n > (size_t)-1 / 4 - b->len)
		n = (size_t)-1 / 2;		/* let xmalloc fail loudly */
	if (b->len + n + 1 > b->cap) {
		cap = b->cap < 64 ? 64 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		nd = xmalloc(cap);
		if (b->len > 0)
			memcpy(nd, b->data, b->len);
		if (b->data != NULL) {
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
		b->data = nd;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Keep the first line, without its CR/LF; wipe the rest. */
static void
first_line(struct buf *b)
{
	char	*nl;
	size_t	 keep;

	if (b->data == NULL)
		return;
	nl = memchr(b->data, '\n', b->len);
	keep = nl != NULL ? (size_t)(nl - b->data) : b->len;
	if (keep > 0 && b->data[keep - 1] == '\r')
		keep--;
	explicit_bzero(b->data + keep, b->len - keep);
	b->len = keep;
}

static int
check_stat(const char *path, const struct stat *st, struct buf *err)
{
	uid_t	 uid = getuid();

	if (st->st_uid != uid) {
		buf_addf(err, "%s: contains a password but is owned by uid "
		    "%lu, not by uid %lu (run: chown %lu %s)", path,
		    (unsigned long)st->st_uid, (unsigned long)uid,
		    (unsigned long)uid, path);
		return -1;
	}
	if ((st->st_mode & 077) != 0) {
		buf_addf(err, "%s: contains a password but is readable by "
		    "group or others (run: chmod 600 %s)", path, path);
		return -1;
	}
	return 0;
}

int
secret_check_file(const char *path, struct buf *err)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		buf_addf(err, "%s: cannot check: %s", path, strerror(errno));
		return -1;
	}
	return check_stat(path, &st, err);
}

int
secret_check_shared(const char *path, const struct stat *st, gid_t gid,
    const char *group, struct buf *err)
{
	uid_t	 uid = getuid();

	/* The user's own file, private: always fine (root's 0600). */
	if (st->st_uid == uid && (st->st_mode & 077) == 0)
		return 0;
	if (st->st_uid != 0)
		buf_addf(err, "%s: contains a password but is owned by uid %lu, "
		    "not by root (run: chown root:%s %s)", path,
		    (unsigned long)st->st_uid, group, path);
	else if ((st->st_mode & 007) != 0)
		buf_addf(err, "%s: contains a password but is readable or "
		    "writable by others (run: chmod o= %s)", path, path);
	else if ((st->st_mode & 070) != 0 && st->st_gid != gid)
		buf_addf(err, "%s: contains a password but its group is gid "
		    "%lu, not '%s' (run: chgrp %s %s)", path,
		    (unsigned long)st->st_gid, group, group, path);
	else if ((st->st_mode & 020) != 0)
		buf_addf(err, "%s: contains a password but is writable by group "
		    "(run: chmod g-w %s)", path, path);
	else
		return 0;
	return -1;
}

void
secret_protect_process(void)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_CORE, &rl);
#if defined(__linux__) && defined(PR_SET_DUMPABLE)
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/* Read `fd` to EOF into `out` (a secret buffer): 0, or -1 with errno
 * (EFBIG past FILE_MAX). */
static int
read_fd(int fd, struct buf *out)
{
	char	 chunk[4096];
	ssize_t	 n;
	int	 rc = 0;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n == 0 ? 0 : -1;
			break;
		}
		if (out->len + (size_t)n > FILE_MAX) {
			errno = EFBIG;
			rc = -1;
			break;
		}
		sec_add(out, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}

/* 1 with the whole file in `out` and its stat in `st`, 0 when it does
 * not exist or may not be read, -1 with `err` set. */
static int
read_secret_file(const char *path, struct buf *out, struct stat *st,
    struct buf *err)
{
	int	 fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return 0;
		buf_addf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || read_fd(fd, out) == -1) {
		e = errno;
		close(fd);
		buf_wipe(out);
		buf_addf(err, "%s: cannot read: %s", path,
		    e == EFBIG ? "too large" : strerror(e));
		return -1;
	}
	close(fd);
	return 1;
}

/* ---- netrc ---------------------------------------------------------------- */

/*
 * The next token from text[*pos..len) into `tok` (emptied first): 1, or
 * 0 at the end.  When `keyword` is set, a token starting with '#' is a
 * comment: the rest of its line is skipped.
 */
static int
next_token(const char *text, size_t len, size_t *pos, struct buf *tok,
    int keyword)
{
	size_t	 p = *pos;
	int	 quoted = 0;
	char	 c;

	if (tok->data != NULL)
		explicit_bzero(tok->data, tok->len);
	tok->len = 0;
	for (;;) {
		while (p < len && (text[p] == ' ' || text[p] == '\t' ||
		    text[p] == '\n' || text[p] == '\r' || text[p] == '\f' ||
		    text[p] == '\v'))
			p++;
		if (p >= len) {
			*pos = p;
			return 0;
		}
		if (!keyword || text[p] != '#')
			break;
		while (p < len && text[p] != '\n')
			p++;
	}
	if (text[p] == '"') {
		quoted = 1;
		p++;
	}
	/* Always end with a NUL, even for an empty token. */
	sec_add(tok, "", 0);
	for (; p < len; p++) {
		c = text[p];
		if (quoted && c == '"') {
			p++;
			break;
		}
		if (!quoted && (c == ' ' || c == '\t' || c == '\n' ||
		    c == '\r' || c == '\f' || c == '\v'))
			break;
		if (c == '\\' && p + 1 < len)
			c = text[++p];
		sec_add(tok, &c, 1);
	}
	*pos = p;
	return 1;
}

/* After `macdef NAME`: skip the rest of the line and the body, which
 * ends at an empty line (or the end of the text). */
static void
skip_macdef(const char *text, size_t len, size_t *pos)
{
	size_t	 p = *pos;

	while (p < len && text[p] != '\n')
		p++;
	if (p < len)
		p++;
	while (p < len) {
		if (text[p] == '\n') {
			p++;
			break;
		}
		if (text[p] == '\r' && p + 1 < len && text[p + 1] == '\n') {
			p += 2;
			break;
		}
		while (p < len && text[p] != '\n')
			p++;
		if (p < len)
			p++;
	}
	*pos = p;
}

static int
entry_fits(int host_ok, const struct buf *login, int have_login,
    const char *user)
{
	if (!host_ok)
		return 0;
	if (user == NULL)
		return 1;
	return have_login && strcmp(buf_str(login), user) == 0;
}

int
secret_netrc_lookup(const char *text, size_t len, const char *host,
    const char *user, struct buf *out)
{
	struct buf	 tok = BUF_INIT, login = BUF_INIT, pw = BUF_INIT;
	size_t		 pos = 0;
	int		 in_entry = 0, host_ok = 0, have_login = 0;
	int		 have_pw = 0, found = 0, more;

	buf_wipe(out);
	for (;;) {
		more = next_token(text, len, &pos, &tok, 1);
		if (!more || strcmp(buf_str(&tok), "machine") == 0 ||
		    strcmp(buf_str(&tok), "default") == 0) {
			/* The end of an entry. */
			if (in_entry && have_pw &&
			    entry_fits(host_ok, &login, have_login, user)) {
				sec_add(out, pw.data, pw.len);
				found = 1;
				break;
			}
			if (!more)
				break;
			in_entry = 1;
			have_login = have_pw = 0;
			buf_wipe(&login);
			buf_wipe(&pw);
			if (strcmp(buf_str(&tok), "default") == 0)
				host_ok = 1;
			else {
				more = next_token(text, len, &pos, &tok, 0);
				host_ok = more && host != NULL &&
				    strcasecmp(buf_str(&tok), host) == 0;
			}
		} else if (strcmp(buf_str(&tok), "login") == 0) {
			if (next_token(text, len, &pos, &tok, 0)) {
				buf_wipe(&login);
				sec_add(&login, tok.data, tok.len);
				have_login = 1;
			}
		} else if (strcmp(buf_str(&tok), "password") == 0) {
			if (next_token(text, len, &pos, &tok, 0)) {
				buf_wipe(&pw);
				sec_add(&pw, tok.data, tok.len);
				have_pw = 1;
			}
		} else if (strcmp(buf_str(&tok), "account") == 0 ||
		    strcmp(buf_str(&tok), "port") == 0) {
			(void)next_token(text, len, &pos, &tok, 0);
		} else if (strcmp(buf_str(&tok), "macdef") == 0) {
			(void)next_token(text, len, &pos, &tok, 0);
			skip_macdef(text, len, &pos);
		}
		/* Any other word is skipped. */
	}
	buf_wipe(&tok);
	buf_wipe(&login);
	buf_wipe(&pw);
	return found;
}

int
secret_netrc_file(const char *path, const char *host, const char *user,
    struct buf *out, struct buf *err)
{
	struct buf	 text = BUF_INIT;
	struct stat	 st;
	int		 rc;

	buf_wipe(out);
	if ((rc = read_secret_file(path, &text, &st, err)) != 1)
		return rc;
	rc = secret_netrc_lookup(text.data != NULL ? text.data : "", text.len,
	    host, user, out);
	buf_wipe(&text);
	if (rc == 1 && check_stat(path, &st, err) == -1) {
		buf_wipe(out);
		return -1;
	}
	return rc;
}

/* ---- passwordeval ----------------------------------------------------------- */

/* Start /bin/sh -c cmd; the read end of its stdout in *fd.  -1 on error. */
static pid_t
eval_spawn(const char *cmd, int *fd, struct buf *err)
{
	int		 p[2], null;
	pid_t		 pid;
	sigset_t	 none;

	if (pipe2(p, O_CLOEXEC) == -1) {
		buf_addf(err, "passwordeval failed: pipe: %s", strerror(errno));
		return -1;
	}
	if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		buf_addf(err, "passwordeval failed: /dev/null: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		buf_addf(err, "passwordeval failed: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		close(null);
		return -1;
	}
	if (pid == 0) {
		/*
		 * The command runs with the user's PATH and environment: it
		 * is the user's, even from the system configuration, and gets
		 * none of postie's group (priv_drop() exits on failure).
		 */
		priv_drop();
		/* The child: stdin /dev/null, stdout the pipe, stderr ours. */
		if (dup2(null, 0) == -1 || dup2(p[1], 1) == -1)
			_exit(127);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, environ);
		_exit(127);
	}
	close(null);
	close(p[1]);
	*fd = p[0];
	return pid;
}

/*
 * Read the child's output until EOF, or until it has exited and the pipe
 * is drained (a daemon it started may keep the pipe open), keeping the
 * first line in `out`.  1 with its wait status in *status, 0 when the
 * deadline passed (the child still runs), -1 on error.
 */
static int
eval_collect(int fd, pid_t pid, long long deadline, struct buf *out,
    int *status, struct buf *err)
{
	struct pollfd	 pfd;
	char		 chunk[4096], *nl;
	ssize_t		 n;
	size_t		 take;
	int		 exited = 0, have_line = 0, rc = -1, r, ms;

	for (;;) {
		if (exited && ms_left(deadline) == 0) {
			/* A daemon it left behind still writes: enough. */
			rc = 1;
			break;
		}
		if (!exited) {
			r = waitpid(pid, status, WNOHANG);
			if (r == pid) {
				exited = 1;
				/* Drain what is left without waiting. */
				(void)fcntl(fd, F_SETFL, O_NONBLOCK);
			} else if (r == -1 && errno != EINTR) {
				buf_addf(err, "passwordeval failed: wait: %s",
				    strerror(errno));
				break;
			}
		}
		if (!exited) {
			if ((ms = ms_left(deadline)) == 0) {
				rc = 0;
				break;
			}
			pfd.fd = fd;
			pfd.events = POLLIN;
			r = poll(&pfd, 1, ms < EVAL_SLICE_MS ? ms :
			    EVAL_SLICE_MS);
			if (r == -1 && errno != EINTR) {
				buf_addf(err, "passwordeval failed: poll: %s",
				    strerror(errno));
				break;
			}
			if (r <= 0)
				continue;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN && exited)
			n = 0;
		if (n == -1) {
			buf_addf(err, "passwordeval failed: read: %s",
			    strerror(errno));
			break;
		}
		if (n == 0) {
			if (exited) {
				rc = 1;
				break;
			}
			/* EOF: the child is about to exit; wait for it. */
			while ((r = waitpid(pid, status, WNOHANG)) == 0 &&
			    ms_left(deadline) > 0) {
				struct timespec	 ts = { 0, 10 * 1000000 };

				nanosleep(&ts, NULL);
			}
			if (r == pid)
				rc = 1;
			else if (r == 0)
				rc = 0;
			else
				buf_addf(err, "passwordeval failed: wait: %s",
				    strerror(errno));
			break;
		}
		if (have_line)
			continue;
		nl = memchr(chunk, '\n', (size_t)n);
		take = nl != NULL ? (size_t)(nl - chunk) : (size_t)n;
		if (out->len + take > SECRET_MAX) {
			buf_addf(err, "passwordeval failed: first line longer "
			    "than %d bytes", SECRET_MAX);
			break;
		}
		sec_add(out, chunk, take);
		have_line = nl != NULL;
	}
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}

static void
eval_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

int
secret_eval(const char *cmd, int timeout_ms, struct buf *out,
    struct buf *err)
{
	long long	 deadline = now_ms() + timeout_ms;
	pid_t		 pid;
	int		 fd, status = 0, rc;

	buf_wipe(out);
	if ((pid = eval_spawn(cmd, &fd, err)) == -1)
		return -1;
	rc = eval_collect(fd, pid, deadline, out, &status, err);
	close(fd);
	if (rc != 1) {
		eval_kill(pid);
		if (rc == 0)
			buf_addf(err, "passwordeval failed: no answer within "
			    "%d s (killed)", (timeout_ms + 999) / 1000);
		buf_wipe(out);
		return -1;
	}
	first_line(out);
	if (WIFSIGNALED(status))
		buf_addf(err, "passwordeval failed: killed by signal %d",
		    WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		buf_addf(err, "passwordeval failed: exit status %d",
		    WEXITSTATUS(status));
	else if (out->len == 0)
		buf_addstr(err, "passwordeval failed: empty output");
	else
		return 0;
	buf_wipe(out);
	return -1;
}

/* ---- systemd credentials ------------------------------------------------------ */

static int
try_credential(const char *dir, const char *name, struct buf *out,
    struct buf *err)
{
	struct buf	 path = BUF_INIT;
	struct stat	 st;
	int		 rc;

	buf_addf(&path, "%s/%s", dir, name);
	rc = read_secret_file(buf_str(&path), out, &st, err);
	if (rc == 1) {
		first_line(out);
		if (out->len == 0) {
			buf_addf(err, "%s: empty credential", buf_str(&path));
			buf_wipe(out);
			rc = -1;
		}
	}
	buf_release(&path);
	return rc;
}

int
secret_credential(const char *dir, const char *account, struct buf *out,
    struct buf *err)
{
	struct buf	 name = BUF_INIT;
	int		 rc = 0;

	buf_wipe(out);
	if (account != NULL && account[0] != '\0' && account[0] != '.' &&
	    strchr(account, '/') == NULL) {
		buf_addf(&name, "postie-%s", account);
		rc = try_credential(dir, buf_str(&name), out, err);
		buf_release(&name);
	}
	if (rc == 0)
		rc = try_credential(dir, "postie-password", out, err);
	return rc;
}

int
secret_get_client(const struct account *a, struct buf *out, struct buf *err)
{
	struct buf	 name = BUF_INIT;
	const char	*dir;
	int		 rc, secs;

	buf_wipe(out);
	if (a->oauth_client_secret != NULL) {
		sec_add(out, a->oauth_client_secret,
		    strlen(a->oauth_client_secret));
		return 1;
	}
	if (a->oauth_client_secret_eval != NULL) {
		secs = a->timeout > SECRET_EVAL_SECONDS ? a->timeout :
		    SECRET_EVAL_SECONDS;
		if (secs > INT_MAX / 1000)
			secs = INT_MAX / 1000;
		rc = secret_eval(a->oauth_client_secret_eval, secs * 1000, out,
		    &name);
		if (rc == -1) {
			/* Its reasons say "passwordeval failed: ...". */
			if (strncmp(buf_str(&name), "passwordeval", 12) == 0)
				buf_addf(err, "oauth_client_secret_eval%s",
				    buf_str(&name) + 12);
			else
				buf_addf(err, "oauth_client_secret_eval "
				    "failed: %s", buf_str(&name));
			buf_wipe(out);
		}
		buf_release(&name);
		return rc == -1 ? -1 : 1;
	}
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir == NULL || dir[0] != '/' || a->name == NULL ||
	    a->name[0] == '\0' || a->name[0] == '.' ||
	    strchr(a->name, '/') != NULL)
		return 0;
	buf_addf(&name, "postie-%s-oauth-client-secret", a->name);
	rc = try_credential(dir, buf_str(&name), out, err);
	buf_release(&name);
	return rc;
}

/* ---- the terminal --------------------------------------------------------------- */

int
secret_prompt(const char *prompt, struct buf *out, struct buf *err)
{
	char	 pw[PROMPT_MAX];
	int	 rc;

	buf_wipe(out);
	if (readpassphrase(prompt, pw, sizeof(pw), RPP_REQUIRE_TTY) == NULL) {
		if (errno == ENOTTY || errno == ENXIO || errno == ENOENT ||
		    errno == EACCES)
			rc = 0;
		else {
			buf_addf(err, "cannot read the password from the "
			    "terminal: %s", strerror(errno));
			rc = -1;
		}
	} else if (pw[0] == '\0') {
		buf_addstr(err, "no password entered");
		rc = -1;
	} else {
		sec_add(out, pw, strlen(pw));
		rc = 1;
	}
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

/* ---- all together ---------------------------------------------------------------- */

int
secret_get(const struct account *a, const char *host, const char *user,
    struct buf *out, struct buf *err)
{
	struct buf	 path = BUF_INIT, prompt = BUF_INIT;
	const char	*dir, *home;
	int		 rc, secs;

	buf_wipe(out);
	if (a->password != NULL) {
		sec_add(out, a->password, strlen(a->password));
		return 0;
	}
	if (a->passwordeval != NULL) {
		secs = a->timeout > SECRET_EVAL_SECONDS ? a->timeout :
		    SECRET_EVAL_SECONDS;
		if (secs > INT_MAX / 1000)
			secs = INT_MAX / 1000;
		return secret_eval(a->passwordeval, secs * 1000, out, err);
	}
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir != NULL && dir[0] == '/') {
		rc = secret_credential(dir, a->name, out, err);
		if (rc != 0)
			return rc == 1 ? 0 : -1;
	}
	if (host != NULL) {
		rc = 0;
		if ((home = home_dir()) != NULL) {
			buf_addf(&path, "%s/.netrc", home);
			rc = secret_netrc_file(buf_str(&path), host, user, out,
			    err);
			buf_release(&path);
		}
		if (rc == 0)
			rc = secret_netrc_file(SYSCONFDIR "/netrc", host, user,
			    out, err);
		if (rc != 0)
			return rc == 1 ? 0 : -1;
	}
	if (user != NULL)
		buf_addf(&prompt, "password for %s at %s: ", user,
		    host != NULL ? host : a->socket != NULL ? a->socket :
		    "localhost");
	else
		buf_addf(&prompt, "password for account '%s': ",
		    a->name != NULL ? a->name : "default");
	rc = secret_prompt(buf_str(&prompt), out, err);
	buf_release(&prompt);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	buf_addf(err, "no password for account '%s' (set password, "
	    "passwordeval, a netrc entry or a systemd credential)",
	    a->name != NULL ? a->name : "default");
	return -1;
}
