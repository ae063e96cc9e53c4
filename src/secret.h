#ifndef POSTIE_SECRET_H
#define POSTIE_SECRET_H

#include <sys/types.h>
#include <sys/stat.h>

#include "buf.h"

struct account;

/*
 * Where passwords and tokens come from, first found wins:
 *
 *  1. `password` in the account (the config file must pass
 *     secret_check_file(): the front end checks it when it loads one);
 *  2. `passwordeval`: /bin/sh -c COMMAND with stdin from /dev/null (it
 *     never sees the message), stdout a pipe, stderr postie's, every
 *     other descriptor closed, SIGPIPE and the signal mask reset, the
 *     user's environment unchanged (postie puts no secret in it).  The
 *     first line of its output (CR/LF stripped, any length up to
 *     SECRET_MAX bytes: OAuth tokens are kilobytes) is the secret.  It
 *     must exit 0 and print a non-empty first line within
 *     max(account timeout, SECRET_EVAL_SECONDS) seconds, else it is
 *     killed and the error reads "passwordeval failed: ...";
 *  3. systemd credentials, when $CREDENTIALS_DIRECTORY is set and
 *     absolute: the file "postie-ACCOUNT" in it (ACCOUNT: the account's
 *     name, e.g. "postie-default"; skipped when the name holds a '/' or
 *     starts with '.'), else "postie-password".  First line, CR/LF
 *     stripped; an empty file is an error;
 *  4. ~/.netrc, then SYSCONFDIR/netrc, when `host` is not NULL: the
 *     first entry whose `machine` is the host (case-insensitive) or that
 *     is `default`, whose `login` is the user (exact; any login when the
 *     user is NULL) and that has a `password`.  A file that supplies a
 *     password must pass secret_check_file()'s rule, else it is an error
 *     (as ftp(1) refuses one).  A file that does not exist or cannot be
 *     read (EACCES) is skipped;
 *  5. a prompt "password for USER at HOST: " on /dev/tty, echo off,
 *     via readpassphrase(3) with RPP_REQUIRE_TTY (never stdin: it holds
 *     the message).  No terminal: "no password for account 'NAME' (set
 *     password, passwordeval, a netrc entry or a systemd credential)".
 *
 * Returns 0 with the secret in `out` (whatever `out` held is wiped
 * first), or -1 with one line in `err`.  The caller wipes `out` with
 * buf_wipe() as soon as the AUTH exchange is over.  Every intermediate
 * copy made here is wiped (explicit_bzero), including buffers given up
 * while growing.
 */
int	 secret_get(const struct account *, const char *host, const char *user,
	    struct buf *out, struct buf *err);

/*
 * The client secret of an OAuth account, first found wins:
 * `oauth_client_secret`, `oauth_client_secret_eval` (run as passwordeval
 * is), the systemd credential "postie-ACCOUNT-oauth-client-secret" in
 * $CREDENTIALS_DIRECTORY.  1 with it in `out` (wiped first), 0 when
 * there is none (a public client), -1 with one line in `err`.
 */
int	 secret_get_client(const struct account *, struct buf *out,
	    struct buf *err);

/*
 * A config file that holds a password must belong to the user (getuid();
 * root too must own the file it reads a password from) and not be
 * readable or writable by group or others (mode & 077 == 0).  0 when it
 * is so, else -1 with one of
 *   "FILE: contains a password but is readable by group or others
 *    (run: chmod 600 FILE)"
 *   "FILE: contains a password but is owned by uid N, not by uid M
 *    (run: chown M FILE)"
 *   "FILE: cannot check: ERRNO"
 * in `err`.  The front end exits EX_CONFIG (78) on -1, before connecting.
 */
int	 secret_check_file(const char *path, struct buf *err);

/*
 * The system configuration shared with postie's group `gid` (named
 * `group`, for messages), `st` being the file as opened: it may hold a
 * password when it passes secret_check_file()'s rule, or when it belongs
 * to root and to that group, with no write for the group and nothing for
 * others (root:postie 0640).  0, or -1 with one of
 *   "FILE: contains a password but is owned by uid N, not by root
 *    (run: chown root:GROUP FILE)"
 *   "FILE: contains a password but is readable or writable by others
 *    (run: chmod o= FILE)"
 *   "FILE: contains a password but its group is gid N, not 'GROUP'
 *    (run: chgrp GROUP FILE)"
 *   "FILE: contains a password but is writable by group (run: chmod g-w
 *    FILE)"
 * in `err`.  The front end exits EX_CONFIG (78) on -1.
 */
int	 secret_check_shared(const char *path, const struct stat *st,
	    gid_t gid, const char *group, struct buf *err);

/*
 * No core dumps and no ptrace or /proc peeking by other users while
 * secrets are in memory: RLIMIT_CORE 0 and, on Linux,
 * prctl(PR_SET_DUMPABLE, 0) (which also makes /proc/PID/environ and
 * /proc/PID/mem unreadable to other users).  Call it once, early.
 */
void	 secret_protect_process(void);

/* ---- the pieces, exposed for the unit tests ----------------------------- */

#define SECRET_MAX		(16 * 1024 * 1024)	/* bytes in one secret */
#define SECRET_EVAL_SECONDS	60	/* least time passwordeval gets */

/*
 * Look `host` and `user` up in netrc text (`len` bytes, NULs allowed):
 * 1 with the password in `out`, 0 when no entry fits.  Tokens are
 * separated by white space; a token may be "double quoted", and a
 * backslash takes the next character literally (BSD ftp, curl).  A '#'
 * where a keyword is expected starts a comment up to the end of the
 * line.  `macdef NAME` skips its body, up to an empty line.  `account`
 * and `port` take a value that is ignored; other unknown words are
 * skipped.
 */
int	 secret_netrc_lookup(const char *text, size_t len, const char *host,
	    const char *user, struct buf *out);

/* The same on a file: 1 found, 0 not found or no such file, -1 error
 * (unsafe mode or owner, read error) with `err` set. */
int	 secret_netrc_file(const char *path, const char *host,
	    const char *user, struct buf *out, struct buf *err);

/* Run a passwordeval command as described above, killing it after
 * `timeout_ms`: 0 with the first line in `out`, or -1. */
int	 secret_eval(const char *cmd, int timeout_ms, struct buf *out,
	    struct buf *err);

/* The systemd credential for `account` in `dir`: 1 found, 0 none, -1. */
int	 secret_credential(const char *dir, const char *account,
	    struct buf *out, struct buf *err);

/* Prompt on /dev/tty: 1 read, 0 no terminal, -1 error (empty answer,
 * interrupted). */
int	 secret_prompt(const char *prompt, struct buf *out, struct buf *err);

#endif
