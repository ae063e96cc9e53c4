#include "config.h"

#include <stdlib.h>
#include <string.h>

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
static const char valued[] = "fFrCVNRBLhpOXA";
/* Flags accepted and ignored (sendmail, Postfix and Exim callers pass them). */
static const char ignored_flags[] = "mnGU";

static int	set_mode(struct options *, const char *, struct buf *);
static int	take_value(struct options *, int, const char *, struct buf *);
static int	add_recipients(struct options *, const char *, struct buf *);
static int	check_from(const char *, struct buf *);
static int	parse_long(struct options *, const char *, struct buf *);
static void	replace(char **, const char *);

void
options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = MODE_SEND;
	strlist_init(&o->rcpts);
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
	strlist_release(&o->rcpts);
	options_init(o);
}

static void
replace(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
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
	case 'V':
		replace(&o->envid, v);
		break;
	case 'N':
		replace(&o->dsn_notify, v);
		break;
	case 'R':
		replace(&o->dsn_ret, v);
		break;
	case 'B':
		replace(&o->body_type, v);
		break;
	default:
		/* -L -h -p -O -A: accepted and ignored.  -X: ignored and
		 * never opened; sendmail wrappers were exploited through it. */
		break;
	}
	return 0;
}

static int
parse_long(struct options *o, const char *arg, struct buf *err)
{
	if (strcmp(arg, "--help") == 0)
		o->mode = MODE_HELP;
	else if (strcmp(arg, "--version") == 0)
		o->mode = MODE_VERSION;
	else {
		buf_addf(err, "unknown option '%s'", arg);
		return -1;
	}
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
	int		 i;

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
			if (parse_long(o, arg, err) == -1)
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
			else if (strchr(ignored_flags, *p) != NULL)
				continue;
			else if (*p == 'd')
				break;		/* -d<debug flags>: ignored */
			else if (*p == 'q') {
				o->mode = MODE_QUEUE_RUN;
				break;		/* -q<interval> etc. */
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
					if (strcmp(v, "i") == 0)
						o->ignore_dots = 1;
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
	for (; i < argc; i++)
		if (add_recipients(o, argv[i], err) == -1)
			return -1;
	return 0;
}

const char *
options_usage(void)
{
	return
"usage: postie [-tiv] [-f sender] [-F name] [-C config] [--] recipient ...\n"
"       mailq | postie -bp\n"
"\n"
"Reads a message on standard input and submits it to the smarthost of the\n"
"configured account.\n"
"\n"
"  -t            take recipients from To, Cc and Bcc (and the command line)\n"
"  -i, -oi       accepted: postie never ends a message at a lone '.' line\n"
"  -f, -r ADDR   envelope sender ('<>' for the null sender)\n"
"  -F NAME       full name for an added From header\n"
"  -C FILE       configuration file\n"
"  -v            print the SMTP dialogue on standard error\n"
"  -bm           deliver a message (default); -bp list the queue;\n"
"                -bi check aliases; -q process the queue\n"
"  -V ENVID, -N NOTIFY, -R RET\n"
"                reserved for DSN parameters\n"
"  --help        this text\n"
"  --version     version and configuration file locations\n"
"\n"
"Accepted and ignored for compatibility: -m -n -G -U -h N -L TAG -p P\n"
"-A X -O K=V -o<anything> -B TYPE -d<flags> -X FILE (never opened).\n";
}
