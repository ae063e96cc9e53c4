#ifndef POSTIE_OPTIONS_H
#define POSTIE_OPTIONS_H

#include "buf.h"
#include "strlist.h"

/*
 * sendmail's command line turned into a plain struct.  POSIX getopt
 * semantics: bundled flags (-ti), attached or separate values (-fX, -f X),
 * "--", parsing stops at the first non-option.  Options sendmail callers
 * pass that postie has no use for are accepted and ignored; -X never opens
 * its file.
 */

enum mode {
	MODE_SEND,		/* -bm, the default */
	MODE_QUEUE_LIST,	/* -bp, mailq */
	MODE_NEWALIASES,	/* -bi, newaliases */
	MODE_VERSION,		/* --version */
	MODE_HELP,		/* --help */
	MODE_QUEUE_RUN,		/* -q */
	MODE_SMTP_STDIO,	/* -bs */
	MODE_VERIFY,		/* -bv */
	MODE_SERVERINFO,	/* -S, --serverinfo */
	MODE_PRETEND,		/* -P, --pretend */
	MODE_QUEUE_DELETE,	/* --queue-delete ID... */
	MODE_OAUTH_AUTHORIZE	/* --oauth-authorize [ACCOUNT] */
};

/* -od: when a message is delivered. */
enum delivery {
	DELIVER_NOW,		/* -odi (the default): at once, keep what fails */
	DELIVER_BACKGROUND,	/* -odb: queue, answer, deliver in a child */
	DELIVER_QUEUE		/* -odq, -odQ: queue only */
};

struct options {
	enum mode	 mode;
	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i / -oi: postie always does */
	int		 verbose;	/* -v (repeatable) */
	char		*from;		/* -f / -r, NULL when absent */
	char		*full_name;	/* -F */
	char		*config;	/* -C */
	char		*account;	/* -a, --account (msmtp) */
	int		 read_envelope_from; /* --read-envelope-from */
	/* DSN (RFC 3461) and body type, checked and normalized here; each
	 * is sent only when the server offers the extension. */
	char		*envid;		/* -V: printable ASCII, no space, <= 100 */
	char		*dsn_notify;	/* -N: "never" or a list of "success",
					 * "failure", "delay" (lower case) */
	char		*dsn_ret;	/* -R: "full" or "hdrs" */
	char		*body_type;	/* -B: "7BIT" or "8BITMIME" */
	int		 smtputf8;	/* -U: ask for SMTPUTF8 when offered */
	struct strlist	 rcpts;		/* recipient arguments, split on ',' */
	enum delivery	 delivery;	/* -od */
	/* -q: -qI, -qR, -qS select entries whose ID, a recipient or the
	 * sender contains the text (NULL: not given); --due keeps only
	 * those whose next automatic attempt is due. */
	char		*q_id;
	char		*q_rcpt;
	char		*q_sender;
	int		 q_due;
	int		 json;		/* -bp --json */
	struct strlist	 ids;		/* --queue-delete arguments */
	/* msmtp-style per-keyword long options (--tls-trust-file=F ...),
	 * as "keyword", "value" pairs in order; applied over the account.
	 * Empty unless called as postie or msmtp. */
	struct strlist	 overrides;
};

void	options_init(struct options *);
void	options_release(struct options *);

/*
 * Parse argv.  `progname` is the basename of argv[0]: "mailq" selects
 * -bp, "newaliases" -bi.  Only as "postie" or "msmtp" are the per-keyword
 * long options (--host, --passwordeval, --tls-*, ...) accepted; under any
 * other name they are a usage error, so that a caller that lets one word
 * of untrusted data into sendmail's argv cannot change the server, its
 * credentials or what runs.  Returns 0, or -1 with a one-line reason in
 * `err` (EX_USAGE).  Recipient arguments are split on commas and checked
 * with addr_check_envelope(); so is -f.  -q with an interval ("-q15m")
 * or -qp is refused: postie has no daemon (a timer runs "postie -q").
 * --oauth-authorize takes at most one argument, the account (as -a
 * does), and only as "postie" or "msmtp", like the per-keyword options.
 */
int	options_parse(struct options *, int argc, char *const argv[],
	    const char *progname, struct buf *err);

/* The --help text, but for the exit statuses (exit_summaries()). */
const char *options_usage(void);

#endif
