#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "options.h"
#include "xmalloc.h"

/*
 * sendmail's grammar is not getopt_long's: -o and -q take the rest of
 * their word (or, for a bare -o, the next word), -b picks a mode, and the
 * Debian getopt would permute arguments.  So it is parsed by hand here,
 * with POSIX semantics: bundles, attached or separate values, "--", and
 * parsing stops at the first non-option.
 */

/* Options whose value is the rest of the word or the next word. */
static const char valued[] = "fFrCVNRBLhpOXAa";
/* Flags accepted and ignored (sendmail, Postfix and Exim callers pass them). */
static const char ignored_flags[] = "mnG";

static int	set_mode(struct options *, const char *, struct buf *);
static int	take_value(struct options *, int, const char *, struct buf *);
static int	add_recipients(struct options *, const char *, struct buf *);
static int	check_from(const char *, struct buf *);
static int	msmtp_personality(const char *);
static int	parse_long(struct options *, int, char *const [], int *,
		    const char *, struct buf *);
static void	replace(char **, const char *);
static const char *long_value(int, char *const [], int *, const char *,
		    struct buf *);
static int	check_dsn(struct options *, int, const char *, struct buf *);
static int	take_o(struct options *, const char *, struct buf *);
static int	take_q(struct options *, const char *, struct buf *);
static int	take_account(struct options *, int, const char *,
		    struct buf *);

void
options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = MODE_SEND;
	strlist_init(&o->rcpts);
	strlist_init(&o->overrides);
	strlist_init(&o->ids);
}

void
options_release(struct options *o)
{
	free(o->from);
	free(o->full_name);
	free(o->config);
	free(o->account);
	free(o->envid);
	free(o->dsn_notify);
	free(o->dsn_ret);
	free(o->body_type);
	free(o->q_id);
	free(o->q_rcpt);
	free(o->q_sender);
	strlist_release(&o->rcpts);
	strlist_release(&o->overrides);
	strlist_release(&o->ids);
	options_init(o);
}

static void
replace(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/*
 * -N "never" or a comma list of success, failure, delay (each once),
 * in any case; stored in lower case.  Returns 0 or -1.
 */
static int
norm_notify(const char *v, char **out)
{
	static const char *const conds[] = { "success", "failure", "delay" };
	struct buf	 b = BUF_INIT;
	unsigned	 seen = 0, i;
	const char	*e;
	size_t		 n;

	if (strcasecmp(v, "never") == 0) {
		*out = xstrdup("never");
		return 0;
	}
	for (;;) {
		e = strchr(v, ',');
		n = e != NULL ? (size_t)(e - v) : strlen(v);
		for (i = 0; i < 3; i++)
			if (strlen(conds[i]) == n &&
			    strncasecmp(v, conds[i], n) == 0)
				break;
		if (i == 3 || (seen & (1U << i)) != 0) {
			buf_release(&b);
			return -1;
		}
		seen |= 1U << i;
		buf_addf(&b, "%s%s", b.len > 0 ? "," : "", conds[i]);
		if (e == NULL)
			break;
		v = e + 1;
	}
	*out = xstrdup(buf_str(&b));
	buf_release(&b);
	return 0;
}

/* -V -N -R -B: a bad value is a usage error, not something to drop. */
static int
check_dsn(struct options *o, int opt, const char *v, struct buf *err)
{
	char		*s;
	size_t		 i;

	switch (opt) {
	case 'V':
		/* RFC 3461 4.4: at most 100 characters; xtext can carry
		 * any, but a space or control character in an envelope id
		 * is far more likely a quoting mistake than intent. */
		for (i = 0; v[i] != '\0'; i++)
			if (v[i] < '!' || v[i] > '~') {
				buf_addstr(err, "envelope id given with -V "
				    "must be printable ASCII without spaces");
				return -1;
			}
		if (i == 0 || i > 100) {
			buf_addstr(err, "envelope id given with -V must be 1 "
			    "to 100 characters long");
			return -1;
		}
		replace(&o->envid, v);
		break;
	case 'N':
		if (norm_notify(v, &s) == -1) {
			buf_addf(err, "invalid -N '%s': expected never or a "
			    "list of success, failure, delay", v);
			return -1;
		}
		free(o->dsn_notify);
		o->dsn_notify = s;
		break;
	case 'R':
		if (strcasecmp(v, "full") == 0)
			replace(&o->dsn_ret, "full");
		else if (strcasecmp(v, "hdrs") == 0)
			replace(&o->dsn_ret, "hdrs");
		else {
			buf_addf(err, "invalid -R '%s': expected full or "
			    "hdrs", v);
			return -1;
		}
		break;
	case 'B':
		if (strcasecmp(v, "7bit") == 0)
			replace(&o->body_type, "7BIT");
		else if (strcasecmp(v, "8bitmime") == 0)
			replace(&o->body_type, "8BITMIME");
		else {
			buf_addf(err, "invalid -B '%s': expected 7BIT or "
			    "8BITMIME", v);
			return -1;
		}
		break;
	}
	return 0;
}

/* -oX: -oi and -odb/-odi/-odq/-odQ matter; sendmail's other -o
 * settings are accepted and ignored. */
static int
take_o(struct options *o, const char *v, struct buf *err)
{
	if (strcmp(v, "i") == 0)
		o->ignore_dots = 1;
	else if (v[0] == 'd') {
		if (strcmp(v, "di") == 0 || strcmp(v, "d") == 0)
			o->delivery = DELIVER_NOW;
		else if (strcmp(v, "db") == 0)
			o->delivery = DELIVER_BACKGROUND;
		else if (strcmp(v, "dq") == 0 || strcmp(v, "dQ") == 0)
			o->delivery = DELIVER_QUEUE;
		else {
			buf_addf(err, "unsupported delivery mode '-o%s' "
			    "(postie has -odi, -odb, -odq)", v);
			return -1;
		}
	}
	return 0;
}

/* The rest of a -q word: nothing, f (foreground: always), or a
 * selection I, R or S with its text. */
static int
take_q(struct options *o, const char *v, struct buf *err)
{
	char	**dst;

	o->mode = MODE_QUEUE_RUN;
	if (v[0] == '\0' || strcmp(v, "f") == 0)
		return 0;
	dst = v[0] == 'I' ? &o->q_id : v[0] == 'R' ? &o->q_rcpt :
	    v[0] == 'S' ? &o->q_sender : NULL;
	if (dst != NULL && v[1] != '\0') {
		replace(dst, v + 1);
		return 0;
	}
	if (dst != NULL)
		buf_addf(err, "option '-q%c' needs the text to look for",
		    v[0]);
	else if ((v[0] >= '0' && v[0] <= '9') || v[0] == 'p')
		buf_addf(err, "'-q%s': postie has no daemon to run the queue "
		    "at intervals; run 'postie -q --due' from a timer or cron "
		    "(see postie(8), QUEUE)", v);
	else
		buf_addf(err, "unsupported queue option '-q%s'", v);
	return -1;
}

static int
set_mode(struct options *o, const char *m, struct buf *err)
{
	if (strcmp(m, "m") == 0)
		o->mode = MODE_SEND;
	else if (strcmp(m, "p") == 0)
		o->mode = MODE_QUEUE_LIST;
	else if (strcmp(m, "i") == 0)
		o->mode = MODE_NEWALIASES;
	else if (strcmp(m, "s") == 0)
		o->mode = MODE_SMTP_STDIO;
	else if (strcmp(m, "v") == 0)
		o->mode = MODE_VERIFY;
	else if (strcmp(m, "d") == 0 || strcmp(m, "D") == 0) {
		buf_addstr(err, "daemon mode (-bd) is not supported: postie "
		    "submits mail, it does not receive it");
		return -1;
	} else {
		buf_addf(err, "unsupported mode '-b%s'", m);
		return -1;
	}
	return 0;
}

/*
 * The sender may come as "<a@b>" (some callers add the brackets) or as
 * "<>" / "" for the null sender.
 */
static int
check_from(const char *v, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 r;

	r = addr_check_envelope(v, 1, &e);
	if (r == -1)
		buf_addstr(err, buf_str(&e));
	buf_release(&e);
	return r;
}

static int
take_value(struct options *o, int opt, const char *v, struct buf *err)
{
	char	*s;
	size_t	 n;

	switch (opt) {
	case 'f':
	case 'r':
		n = strlen(v);
		if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
			s = xstrndup(v + 1, n - 2);
		else
			s = xstrdup(v);
		if (check_from(s, err) == -1) {
			free(s);
			return -1;
		}
		free(o->from);
		o->from = s;
		break;
	case 'F':
		if (strpbrk(v, "\r\n") != NULL) {
			buf_addstr(err, "full name given with -F contains a "
			    "line break");
			return -1;
		}
		replace(&o->full_name, v);
		break;
	case 'C':
		replace(&o->config, v);
		break;
	case 'a':
		replace(&o->account, v);
		break;
	case 'V':
	case 'N':
	case 'R':
	case 'B':
		return check_dsn(o, opt, v, err);
	default:
		/* -L -h -p -O -A: accepted and ignored.  -X: ignored and
		 * never opened; sendmail wrappers were exploited through it. */
		break;
	}
	return 0;
}

/*
 * Long options that set one account keyword each, as msmtp spells them:
 * "--tls-trust-file=F" or "--tls-trust-file F".  ARG_ONOFF ones take an
 * optional "=on|off" and mean "on" alone; ARG_OPT ones take an optional
 * "=VALUE" and alone mean what the keyword means without an argument
 * (--auth: on, --set-from-header: auto).  Values are checked by
 * conf_override() when the account is loaded.
 */
enum arg_kind { ARG_NEED, ARG_ONOFF, ARG_OPT };

static const struct {
	const char	*name;
	const char	*keyword;
	enum arg_kind	 arg;
} keyword_opts[] = {
	{ "host",		"host",			ARG_NEED },
	{ "port",		"port",			ARG_NEED },
	{ "timeout",		"timeout",		ARG_NEED },
	{ "protocol",		"protocol",		ARG_NEED },
	{ "domain",		"domain",		ARG_NEED },
	{ "auth",		"auth",			ARG_OPT },
	{ "user",		"user",			ARG_NEED },
	{ "passwordeval",	"passwordeval",		ARG_NEED },
	{ "maildomain",		"maildomain",		ARG_NEED },
	{ "auto-from",		"auto_from",		ARG_ONOFF },
	{ "set-from-header",	"set_from_header",	ARG_OPT },
	{ "set-date-header",	"set_date_header",	ARG_OPT },
	{ "set-msgid-header",	"set_msgid_header",	ARG_OPT },
	{ "remove-bcc-headers",	"remove_bcc_headers",	ARG_ONOFF },
	{ "undisclosed-recipients", "undisclosed_recipients", ARG_ONOFF },
	{ "dsn-notify",		"dsn_notify",		ARG_NEED },
	{ "dsn-return",		"dsn_return",		ARG_NEED },
	{ "source-ip",		"source_ip",		ARG_NEED },
	{ "socket",		"socket",		ARG_NEED },
	{ "syslog",		"syslog",		ARG_OPT },
	{ "aliases",		"aliases",		ARG_NEED },
	{ "logfile",		"logfile",		ARG_NEED },
	{ "logfile-time-format", "logfile_time_format",	ARG_NEED },
	{ "tls",		"tls",			ARG_ONOFF },
	{ "tls-starttls",	"tls_starttls",		ARG_ONOFF },
	{ "tls-certcheck",	"tls_certcheck",	ARG_ONOFF },
	{ "tls-trust-file",	"tls_trust_file",	ARG_NEED },
	{ "tls-crl-file",	"tls_crl_file",		ARG_NEED },
	{ "tls-fingerprint",	"tls_fingerprint",	ARG_NEED },
	{ "tls-key-file",	"tls_key_file",		ARG_NEED },
	{ "tls-cert-file",	"tls_cert_file",	ARG_NEED },
	{ "tls-priorities",	"tls_priorities",	ARG_NEED },
	{ "tls-host-override",	"tls_host_override",	ARG_NEED },
	{ "tls-min-dh-prime-bits", "tls_min_dh_prime_bits", ARG_NEED },
};

/*
 * Only "postie" and "msmtp" take the per-keyword options above.  Under any
 * other name (sendmail, mailq, newaliases, /usr/lib/sendmail, an
 * alternatives link) postie is the system's sendmail, whose callers build
 * argv from data they were handed: PHP's mail() and its fifth parameter,
 * a web form's sender address.  One word smuggled into such an argv
 * (CVE-2016-10033) must not pick the server, switch off TLS checks, run a
 * command (--passwordeval) or write a file (--logfile): those choices are
 * the configuration's.  The name is compared whole, so "sendmail.postie"
 * or "postie-0.2" are sendmails too.
 */
static int
msmtp_personality(const char *progname)
{
	return strcmp(progname, "postie") == 0 ||
	    strcmp(progname, "msmtp") == 0;
}

/* "--name=V" or "--name V": the value, or NULL (and an error). */
static const char *
long_value(int argc, char *const argv[], int *i, const char *eq,
    struct buf *err)
{
	if (eq != NULL)
		return eq + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	buf_addf(err, "option '%s' requires an argument", argv[*i]);
	return NULL;
}

static int
parse_long(struct options *o, int argc, char *const argv[], int *i,
    const char *progname, struct buf *err)
{
	const char	*arg = argv[*i] + 2, *eq, *val;
	size_t		 n, k;

	if (strcmp(arg, "help") == 0)
		o->mode = MODE_HELP;
	else if (strcmp(arg, "version") == 0)
		o->mode = MODE_VERSION;
	else if (strcmp(arg, "serverinfo") == 0)
		o->mode = MODE_SERVERINFO;
	else if (strcmp(arg, "pretend") == 0)
		o->mode = MODE_PRETEND;
	else if (strcmp(arg, "read-envelope-from") == 0)
		o->read_envelope_from = 1;
	else if (strcmp(arg, "due") == 0)
		o->q_due = 1;
	else if (strcmp(arg, "json") == 0)
		o->json = 1;
	else if (strcmp(arg, "queue-delete") == 0)
		o->mode = MODE_QUEUE_DELETE;
	else if (strcmp(arg, "oauth-authorize") == 0) {
		/* Interactive, and it replaces the account's tokens: nothing
		 * a sendmail caller's argv may ask for. */
		if (!msmtp_personality(progname)) {
			buf_addf(err, "option '--oauth-authorize' is only "
			    "accepted when called as postie or msmtp (called "
			    "as '%s')", progname);
			return -1;
		}
		o->mode = MODE_OAUTH_AUTHORIZE;
	}
	else if (strncmp(arg, "account", 7) == 0 &&
	    (arg[7] == '\0' || arg[7] == '=')) {
		if ((val = long_value(argc, argv, i, strchr(arg, '='), err)) ==
		    NULL)
			return -1;
		replace(&o->account, val);
	} else if (strncmp(arg, "from", 4) == 0 &&
	    (arg[4] == '\0' || arg[4] == '=')) {
		if ((val = long_value(argc, argv, i, strchr(arg, '='), err)) ==
		    NULL)
			return -1;
		return take_value(o, 'f', val, err);
	} else {
		eq = strchr(arg, '=');
		n = eq == NULL ? strlen(arg) : (size_t)(eq - arg);
		for (k = 0; k < sizeof(keyword_opts) / sizeof(keyword_opts[0]);
		    k++)
			if (strlen(keyword_opts[k].name) == n &&
			    strncmp(keyword_opts[k].name, arg, n) == 0)
				break;
		if (k == sizeof(keyword_opts) / sizeof(keyword_opts[0])) {
			buf_addf(err, "unknown option '%s'", argv[*i]);
			return -1;
		}
		/* Refused on the name alone: the value may be an
		 * attacker's and is neither read nor repeated. */
		if (!msmtp_personality(progname)) {
			buf_addf(err, "option '--%s' is only accepted when "
			    "called as postie or msmtp (called as '%s')",
			    keyword_opts[k].name, progname);
			return -1;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (keyword_opts[k].arg == ARG_ONOFF)
			val = "on";
		else if (keyword_opts[k].arg == ARG_OPT)
			val = "";
		else if ((val = long_value(argc, argv, i, NULL, err)) == NULL)
			return -1;
		if (keyword_opts[k].arg == ARG_ONOFF &&
		    strcmp(val, "on") != 0 && strcmp(val, "off") != 0) {
			buf_addf(err, "option '--%s' takes 'on' or 'off', "
			    "not '%s'", keyword_opts[k].name, val);
			return -1;
		}
		strlist_add(&o->overrides, keyword_opts[k].keyword);
		strlist_add(&o->overrides, val);
	}
	return 0;
}

/* --oauth-authorize's argument: one account, the same as -a's if both. */
static int
take_account(struct options *o, int nth, const char *arg, struct buf *err)
{
	if (nth > 0) {
		buf_addstr(err, "--oauth-authorize takes one account name");
		return -1;
	}
	if (o->account != NULL && strcmp(o->account, arg) != 0) {
		buf_addf(err, "--oauth-authorize names account '%s', -a "
		    "account '%s'", arg, o->account);
		return -1;
	}
	replace(&o->account, arg);
	return 0;
}

static int
add_recipients(struct options *o, const char *arg, struct buf *err)
{
	struct buf	 e = BUF_INIT;
	int		 r;

	r = addr_split_arg(arg, &o->rcpts, &e);
	if (r == -1)
		buf_addstr(err, buf_str(&e));
	buf_release(&e);
	return r;
}

int
options_parse(struct options *o, int argc, char *const argv[],
    const char *progname, struct buf *err)
{
	const char	*arg, *p, *v;
	int		 i, first;

	if (strcmp(progname, "mailq") == 0)
		o->mode = MODE_QUEUE_LIST;
	else if (strcmp(progname, "newaliases") == 0)
		o->mode = MODE_NEWALIASES;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (arg[1] == '-') {
			if (parse_long(o, argc, argv, &i, progname, err) == -1)
				return -1;
			continue;
		}
		for (p = arg + 1; *p != '\0'; p++) {
			if (*p == 't')
				o->extract = 1;
			else if (*p == 'i')
				o->ignore_dots = 1;
			else if (*p == 'v')
				o->verbose++;
			else if (*p == 'S')
				o->mode = MODE_SERVERINFO;
			else if (*p == 'P')
				o->mode = MODE_PRETEND;
			else if (*p == 'U')
				o->smtputf8 = 1;
			else if (strchr(ignored_flags, *p) != NULL)
				continue;
			else if (*p == 'd')
				break;		/* -d<debug flags>: ignored */
			else if (*p == 'q') {
				if (take_q(o, p + 1, err) == -1)
					return -1;
				break;
			} else if (*p == 'o' || *p == 'b' ||
			    strchr(valued, *p) != NULL) {
				if (p[1] != '\0')
					v = p + 1;
				else if (i + 1 < argc)
					v = argv[++i];
				else {
					buf_addf(err, "option '-%c' requires "
					    "an argument", *p);
					return -1;
				}
				if (*p == 'o') {
					if (take_o(o, v, err) == -1)
						return -1;
				} else if (*p == 'b') {
					if (set_mode(o, v, err) == -1)
						return -1;
				} else if (take_value(o, *p, v, err) == -1)
					return -1;
				break;
			} else {
				buf_addf(err, "unknown option '-%c'", *p);
				return -1;
			}
		}
	}
	for (first = i; i < argc; i++)
		if (o->mode == MODE_QUEUE_DELETE)
			strlist_add(&o->ids, argv[i]);
		else if (o->mode == MODE_OAUTH_AUTHORIZE) {
			if (take_account(o, i - first, argv[i], err) == -1)
				return -1;
		} else if (add_recipients(o, argv[i], err) == -1)
			return -1;
	if (o->mode == MODE_QUEUE_DELETE && o->ids.n == 0) {
		buf_addstr(err, "--queue-delete needs the IDs of the entries "
		    "to delete");
		return -1;
	}
	return 0;
}

const char *
options_usage(void)
{
	return
"usage: postie [-tiv] [-f sender] [-F name] [-C config] [-a account]\n"
"              [-odi|-odb|-odq] [--] recipient ...\n"
"       mailq [--json] | postie -bp [--json]\n"
"       postie -q[Iid|Rrcpt|Ssender] [--due] [-v]\n"
"       postie --queue-delete ID...\n"
"       postie [-C config] --oauth-authorize [account]\n"
"\n"
"Reads a message on standard input and submits it to the smarthost of the\n"
"configured account.\n"
"\n"
"  -t            take recipients from To, Cc and Bcc (and the command line)\n"
"  -i, -oi       accepted: postie never ends a message at a lone '.' line\n"
"  -f, -r, --from=ADDR\n"
"                envelope sender ('<>' for the null sender); without -a\n"
"                it picks the first account whose 'from' matches it\n"
"  --read-envelope-from\n"
"                without -f, the sender is the message's From address\n"
"  -a, --account=NAME\n"
"                use this account of the configuration file\n"
"  -F NAME       full name for an added From header\n"
"  -C FILE       configuration file\n"
"  -v            print the SMTP dialogue on standard error\n"
"  --host=H, --port=N, --timeout=S, --protocol=smtp|lmtp, --domain=D,\n"
"  --auth[=on|off|METHOD], --user=U, --passwordeval=CMD, --maildomain=D,\n"
"  --auto-from[=on|off], --set-from-header[=auto|on|off],\n"
"  --set-date-header[=auto|off], --set-msgid-header[=auto|off],\n"
"  --remove-bcc-headers[=on|off], --undisclosed-recipients[=on|off],\n"
"  --dsn-notify=N, --dsn-return=R, --source-ip=IP, --socket=PATH,\n"
"  --syslog[=on|off|FACILITY], --aliases=F, --logfile=F,\n"
"  --logfile-time-format=FMT,\n"
"  --tls[=on|off], --tls-starttls[=on|off], --tls-certcheck[=on|off],\n"
"  --tls-trust-file=F, --tls-crl-file=F, --tls-fingerprint=FP,\n"
"  --tls-cert-file=F, --tls-key-file=F, --tls-priorities=P,\n"
"  --tls-host-override=HOST, --tls-min-dh-prime-bits=N\n"
"                override the account's keyword of the same name\n"
"                (only when called as postie or msmtp, not as sendmail)\n"
"  -N never|success,failure,delay, -R full|hdrs, -V ENVID\n"
"                delivery status notification (DSN) requests\n"
"  -B 7BIT|8BITMIME\n"
"                the message's body type (MAIL FROM BODY=)\n"
"  -U            ask for SMTPUTF8 when the server offers it\n"
"  -odi, -odb, -odq\n"
"                deliver at once (default), in the background, or queue\n"
"                only; what fails for now stays queued\n"
"\n"
"Modes (one at a time; the default is -bm):\n"
"  -bm           submit the message on standard input\n"
"  -bs           speak SMTP on standard input and output; each message\n"
"                goes out at once\n"
"  -bv           verify the recipients with RCPT; nothing is sent\n"
"  -bi, newaliases\n"
"                check the account's aliases file (there is no alias\n"
"                database to rebuild)\n"
"  -bp, mailq [--json]\n"
"                list the queue (--json: one JSON object a line)\n"
"  -q, -qIid, -qRrcpt, -qSsender [--due]\n"
"                try the queued messages now (those selected; --due:\n"
"                those whose next attempt is due, for a timer)\n"
"  --queue-delete ID...\n"
"                remove these entries from the queue\n"
"  --oauth-authorize [ACCOUNT]\n"
"                authorize an OAuth account (oauth_provider) once: open\n"
"                the URL it prints, sign in; its tokens then refresh\n"
"                themselves\n"
"  -P, --pretend print the account that would be used (password as '*')\n"
"  -S, --serverinfo\n"
"                connect and print what the server offers (TLS, AUTH)\n"
"  --help        this text\n"
"  --version     version and configuration file locations\n"
"  (-bd and -bD are refused: postie runs no daemon)\n"
"\n"
"Accepted and ignored for compatibility: -m -n -G -h N -L TAG -p P -A X\n"
"-O K=V -o<other> -d<flags> -X FILE (never opened).\n";
}
