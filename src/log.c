#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"

#ifndef _PATH_LOG
#define _PATH_LOG	"/dev/log"
#endif

static const char	*progname = "postie";
static const struct account *log_acct;
static int		 verbose;
static int		 use_syslog = 1;
static int		 facility = LOG_MAIL;
static int		 protocol_fd = -1;
static int		 muted;
static int		 syslog_errno = -1;	/* -1: not probed yet */

static int	syslog_reachable(void);
static int	logged(void);
static void	to_syslog(int, const char *);
static void	to_logfile(const char *);
static void	add_escaped(struct buf *, const char *, size_t);
static void	vlog(int, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static const struct {
	const char	*name;
	int		 value;
} facilities[] = {
	{ "LOG_MAIL", LOG_MAIL }, { "LOG_USER", LOG_USER },
	{ "LOG_LOCAL0", LOG_LOCAL0 }, { "LOG_LOCAL1", LOG_LOCAL1 },
	{ "LOG_LOCAL2", LOG_LOCAL2 }, { "LOG_LOCAL3", LOG_LOCAL3 },
	{ "LOG_LOCAL4", LOG_LOCAL4 }, { "LOG_LOCAL5", LOG_LOCAL5 },
	{ "LOG_LOCAL6", LOG_LOCAL6 }, { "LOG_LOCAL7", LOG_LOCAL7 },
};

void
log_init(const char *name)
{
	progname = name;
}

int
log_facility(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].value;
	return -1;
}

void
log_account(const struct account *a)
{
	int	 f;

	log_acct = a;
	/* Unlike msmtp, syslog is on unless switched off: cron mail that
	 * fails must leave a trace somewhere an admin looks. */
	if (a->syslog_set && a->syslog == NULL)
		use_syslog = 0;
	else if (a->syslog != NULL && strcasecmp(a->syslog, "on") != 0 &&
	    (f = log_facility(a->syslog)) != -1)
		facility = f;
}

void
log_verbose(int level)
{
	verbose = level;
}

void
log_protocol_fd(int fd)
{
	protocol_fd = fd;
}

void
log_mute(int on)
{
	muted = on;
}

/* Control characters from servers or input never reach a terminal raw. */
static void
add_escaped(struct buf *b, const char *s, size_t n)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\t' || (c >= 0x20 && c != 0x7f))
			buf_addch(b, c);
		else if (c == '\r')
			buf_addstr(b, "\\r");
		else if (c == '\n')
			buf_addstr(b, "\\n");
		else
			buf_addf(b, "\\x%02x", c);
	}
}

/*
 * syslog(3) drops a line without a word when nothing listens at
 * _PATH_LOG (a container without /dev/log): look once, as glibc
 * connects (datagram, then stream), so that what is said only to the
 * logs can go to stderr instead.
 */
static int
syslog_reachable(void)
{
	struct sockaddr_un	 sun;
	int			 fd, type, i;
	static const int	 types[] = { SOCK_DGRAM, SOCK_STREAM };

	if (syslog_errno != -1)
		return syslog_errno == 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strlcpy(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path));
	syslog_errno = ENOENT;
	for (i = 0; i < 2 && syslog_errno != 0; i++) {
		type = types[i];
		if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1) {
			syslog_errno = errno;
			continue;
		}
		syslog_errno = connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0 ? 0 : errno;
		close(fd);
	}
	return syslog_errno == 0;
}

/* Some log takes outcomes: syslog (on and reachable) or a logfile. */
static int
logged(void)
{
	return (log_acct != NULL && log_acct->logfile != NULL) ||
	    (use_syslog && syslog_reachable());
}

void
log_where(struct buf *out)
{
	const char	*name = "LOG_MAIL";
	size_t		 i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facilities[i].value == facility)
			name = facilities[i].name;
	if (!use_syslog)
		buf_addstr(out, "syslog off");
	else if (syslog_reachable())
		buf_addf(out, "syslog %s", name);
	else
		buf_addf(out, "syslog unreachable (%s: %s)", _PATH_LOG,
		    strerror(syslog_errno));
	if (log_acct != NULL && log_acct->logfile != NULL)
		buf_addf(out, ", logfile %s", log_acct->logfile);
	else if (!logged())
		buf_addstr(out, ", no logfile: failures and notices on "
		    "stderr only");
}

static void
to_syslog(int prio, const char *msg)
{
	if (!use_syslog)
		return;
	openlog(progname, LOG_PID | LOG_NDELAY, facility);
	syslog(prio, "%s", msg);
	closelog();
}

static void
to_logfile(const char *msg)
{
	const char	*fmt;
	char		 stamp[128];
	struct buf	 line = BUF_INIT;
	struct tm	 tm;
	time_t		 now;
	int		 fd;

	if (log_acct == NULL || log_acct->logfile == NULL)
		return;
	fmt = log_acct->logfile_time_format != NULL ?
	    log_acct->logfile_time_format : "%b %d %H:%M:%S";
	now = time(NULL);
	localtime_r(&now, &tm);
	/* The format is the user's logfile_time_format, as in msmtp. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (strftime(stamp, sizeof(stamp), fmt, &tm) == 0)
		stamp[0] = '\0';
#pragma GCC diagnostic pop
	buf_addf(&line, "%s%s%s\n", stamp, stamp[0] ? " " : "", msg);
	if (strcmp(log_acct->logfile, "-") == 0)
		fd = protocol_fd == STDOUT_FILENO ? STDERR_FILENO :
		    STDOUT_FILENO;
	else
		fd = open(log_acct->logfile,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(stderr, "%s: cannot open logfile '%s': %s\n",
		    progname, log_acct->logfile, strerror(errno));
	} else {
		/* One write with O_APPEND keeps concurrent lines whole. */
		if (write(fd, line.data, line.len) != (ssize_t)line.len)
			fprintf(stderr, "%s: cannot write logfile '%s'\n",
			    progname, log_acct->logfile);
		if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
			close(fd);
	}
	buf_release(&line);
}

static void
vlog(int prio, const char *prefix, const char *fmt, va_list ap)
{
	struct buf	 raw = BUF_INIT, msg = BUF_INIT;

	buf_vaddf(&raw, fmt, ap);
	add_escaped(&msg, raw.data, raw.len);
	/* Muted, the line is still made: the harnesses cover that too. */
	if (!muted) {
		fprintf(stderr, "%s: %s%s\n", progname, prefix,
		    buf_str(&msg));
		to_syslog(prio, buf_str(&msg));
	}
	buf_release(&raw);
	buf_release(&msg);
}

void
log_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, "", fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, "", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void
log_notice_unlogged(const char *fmt, ...)
{
	va_list	 ap;

	if (logged())
		return;
	va_start(ap, fmt);
	vlog(LOG_NOTICE, "", fmt, ap);
	va_end(ap);
}

void
log_outcome(int ok, const char *fmt, ...)
{
	struct buf	 raw = BUF_INIT, msg = BUF_INIT;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vaddf(&raw, fmt, ap);
	va_end(ap);
	add_escaped(&msg, raw.data, raw.len);
	to_syslog(ok ? LOG_INFO : LOG_ERR, buf_str(&msg));
	to_logfile(buf_str(&msg));
	buf_release(&raw);
	buf_release(&msg);
}

void
log_transcript(char dir, const char *line, unsigned long len)
{
	struct buf	 b = BUF_INIT;

	if (verbose == 0)
		return;
	buf_addstr(&b, dir == '>' ? "--> " : dir == '<' ? "<-- " : "*** ");
	if (dir == '>' && len >= 5 && strncasecmp(line, "AUTH ", 5) == 0) {
		/* Defence in depth: the engine already redacts. */
		const char	*sp = memchr(line + 5, ' ', len - 5);

		add_escaped(&b, line, sp == NULL ? len : (size_t)(sp - line));
		if (sp != NULL)
			buf_addstr(&b, " [redacted]");
	} else
		add_escaped(&b, line, len);
	fprintf(stderr, "%s\n", buf_str(&b));
	buf_release(&b);
}
