#ifndef POSTIE_LOG_H
#define POSTIE_LOG_H

/*
 * Where outcomes go.  Errors and warnings: one line on stderr
 * ("postie: ..."), and syslog (mail facility unless the account says
 * otherwise) because cron, at and sudo throw stderr away.  Outcomes also
 * go to the account's logfile in msmtp's format when one is set.  The -v
 * transcript goes to stderr only, never to a log.
 */

struct account;
struct buf;

/* Before anything else: the name for messages and syslog's ident. */
void	log_init(const char *progname);
/* Once the account is known: its logfile, syslog facility, name. */
void	log_account(const struct account *);
/* Verbosity for the transcript (0: none). */
void	log_verbose(int level);
/*
 * `fd` carries a protocol (-bs: the SMTP replies on standard output)
 * until this is called again with -1.  Meanwhile a logfile of "-", which
 * means standard output, is written to standard error instead, so that
 * no log line lands in the client's stream.
 */
void	log_protocol_fd(int fd);
/*
 * With `on` non-zero, log_error() and log_warn() write nothing to stderr
 * or syslog.  For the fuzz harnesses, whose inputs reach error paths
 * thousands of times a second; postie itself never mutes its log.
 */
void	log_mute(int on);

void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* News that is not a failure ("queued as ..."), stderr and syslog. */
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * News that only the logs get ("queued as ..." with -odq, where sendmail
 * says nothing): on stderr instead when no log takes it, i.e. syslog is
 * off or nothing listens at /dev/log, and no logfile is set.  Said once:
 * never on stderr when a log has it.
 */
void	log_notice_unlogged(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
/* Where outcomes go, for -P and -v: "syslog LOG_MAIL", "syslog
 * unreachable (/dev/log: ...)", ", logfile PATH"... */
void	log_where(struct buf *);
/* One line per message to syslog and the logfile, not stderr; `ok` picks
 * the syslog priority. */
void	log_outcome(int ok, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A transcript line ('<' received, '>' sent), only with -v.  An AUTH
 * command's arguments are never shown, whatever the caller passes. */
void	log_transcript(char dir, const char *line, unsigned long len);
/* Syslog facility name ("LOG_MAIL") to its value; -1 when unknown. */
int	log_facility(const char *name);

#endif
