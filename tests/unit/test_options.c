#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "t.h"

/* Parse a NULL-terminated argv; returns 0/-1 and leaves the result in *o. */
static int
parse(struct options *o, const char *progname, const char **args,
    struct buf *err)
{
	char	*argv[64];
	int	 argc = 0;

	while (args[argc] != NULL)
		argc++;
	/* memcpy, not a cast: argv strings are never written. */
	memcpy(argv, args, (size_t)(argc + 1) * sizeof(argv[0]));
	options_release(o);
	options_init(o);
	buf_reset(err);
	return options_parse(o, argc, argv, progname, err);
}

static void
test_bundles_and_values(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*a1[] = { "sendmail", "-ti", "-fme@x.org", "-F",
	    "Cron Daemon", "a@x.org", NULL };
	const char	*a2[] = { "sendmail", "-f", "me@x.org", "-oi",
	    "--", "b@x.org", NULL };
	const char	*a3[] = { "sendmail", "-FCronDaemon", "-i",
	    "-B8BITMIME", "-oem", "root", NULL };
	const char	*a4[] = { "sendmail", "-vv", "-Cfile", "-V", "envid",
	    "-Nsuccess,failure", "-R", "hdrs", "x@y", NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "sendmail", a1, &err), 0);
	CHECK(o.extract && o.ignore_dots);
	CHECK_STR(o.from, "me@x.org");
	CHECK_STR(o.full_name, "Cron Daemon");
	CHECK_INT(o.rcpts.n, 1);
	CHECK_STR(o.rcpts.v[0], "a@x.org");

	CHECK_INT(parse(&o, "sendmail", a2, &err), 0);
	CHECK_STR(o.from, "me@x.org");
	CHECK(o.ignore_dots && !o.extract);
	CHECK_STR(o.rcpts.v[0], "b@x.org");

	/* Debian cron's exact argv. */
	CHECK_INT(parse(&o, "sendmail", a3, &err), 0);
	CHECK_STR(o.full_name, "CronDaemon");
	CHECK_STR(o.body_type, "8BITMIME");
	CHECK_INT(o.rcpts.n, 1);
	CHECK_STR(o.rcpts.v[0], "root");

	CHECK_INT(parse(&o, "sendmail", a4, &err), 0);
	CHECK_INT(o.verbose, 2);
	CHECK_STR(o.config, "file");
	CHECK_STR(o.envid, "envid");
	CHECK_STR(o.dsn_notify, "success,failure");
	CHECK_STR(o.dsn_ret, "hdrs");
	options_release(&o);
	buf_release(&err);
}

static void
test_ignored(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*a[] = { "sendmail", "-m", "-n", "-G", "-h", "5",
	    "-L", "tag", "-p", "smtp:host", "-Ac", "-Am", "-O", "k=v",
	    "-oQ/tmp/x", "-o", "i", "-B", "7BIT", "-N", "never", "-R",
	    "full", "-U", "-d0.1", "-X", "/tmp/evil-log", NULL, NULL };

	/* The recipient goes in the spare slot; -X's file is never opened. */
	a[27] = "x@y.org";
	options_init(&o);
	CHECK_INT(parse(&o, "sendmail", a, &err), 0);
	CHECK(o.ignore_dots);
	CHECK_INT(o.rcpts.n, 1);
	CHECK_STR(o.rcpts.v[0], "x@y.org");
	options_release(&o);
	buf_release(&err);
}

static void
test_stops_at_first_nonoption(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*a[] = { "sendmail", "a@x.org", "-t", NULL };

	options_init(&o);
	/* "-t" after a recipient is a recipient, and a bad one. */
	CHECK_INT(parse(&o, "sendmail", a, &err), -1);
	CHECK(strstr(buf_str(&err), "'-t'") != NULL);
	options_release(&o);
	buf_release(&err);
}

static void
test_recipient_lists(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*a[] = { "sendmail", "a@x.org,b@y.org", "c@z.org",
	    NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "sendmail", a, &err), 0);
	CHECK_INT(o.rcpts.n, 3);
	CHECK_STR(o.rcpts.v[1], "b@y.org");
	options_release(&o);
	buf_release(&err);
}

static void
test_rejections(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*dash[] = { "sendmail", "--", "-oQ/tmp", NULL };
	const char	*crlf[] = { "sendmail", "a@x.org\r\nRCPT TO:<b@y>",
	    NULL };
	const char	*from[] = { "sendmail", "-f", "-oi", "a@x", NULL };
	const char	*fcr[] = { "sendmail", "-fme@x\nDATA", "a@x", NULL };
	const char	*fname[] = { "sendmail", "-F", "A\nBcc: v@x", "a@x",
	    NULL };
	const char	*noarg[] = { "sendmail", "-f", NULL };
	const char	*unknown[] = { "sendmail", "-z", NULL };
	const char	*daemon[] = { "sendmail", "-bd", NULL };
	const char	*space[] = { "sendmail", "a b@x.org", NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "sendmail", dash, &err), -1);
	CHECK_INT(parse(&o, "sendmail", crlf, &err), -1);
	CHECK_INT(parse(&o, "sendmail", from, &err), -1);
	CHECK_INT(parse(&o, "sendmail", fcr, &err), -1);
	CHECK_INT(parse(&o, "sendmail", fname, &err), -1);
	CHECK_INT(parse(&o, "sendmail", noarg, &err), -1);
	CHECK(strstr(buf_str(&err), "requires an argument") != NULL);
	CHECK_INT(parse(&o, "sendmail", unknown, &err), -1);
	CHECK(strstr(buf_str(&err), "unknown option '-z'") != NULL);
	CHECK_INT(parse(&o, "sendmail", daemon, &err), -1);
	CHECK_INT(parse(&o, "sendmail", space, &err), -1);
	options_release(&o);
	buf_release(&err);
}

static void
test_null_sender_and_modes(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*nul[] = { "sendmail", "-f", "<>", "a@x", NULL };
	const char	*br[] = { "sendmail", "-f<me@x.org>", "a@x", NULL };
	const char	*bp[] = { "sendmail", "-bp", NULL };
	const char	*q[] = { "sendmail", "-q", NULL };
	const char	*qint[] = { "sendmail", "-q30m", NULL };
	const char	*qsel[] = { "sendmail", "-qIabc", "-qRbob@", "-qS@x.org",
	    "--due", NULL };
	const char	*od[] = { "sendmail", "-odq", "-oi", "a@x.org", NULL };
	const char	*odb[] = { "sendmail", "-o", "db", "a@x.org", NULL };
	const char	*odx[] = { "sendmail", "-odd", "a@x.org", NULL };
	const char	*del[] = { "postie", "--queue-delete", "0123", "-x", NULL };
	const char	*del0[] = { "postie", "--queue-delete", NULL };
	const char	*json[] = { "mailq", "--json", NULL };
	const char	*plain[] = { "mailq", NULL };
	const char	*ver[] = { "postie", "--version", NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "sendmail", nul, &err), 0);
	CHECK_STR(o.from, "");
	CHECK_INT(parse(&o, "sendmail", br, &err), 0);
	CHECK_STR(o.from, "me@x.org");
	CHECK_INT(parse(&o, "sendmail", bp, &err), 0);
	CHECK_INT(o.mode, MODE_QUEUE_LIST);
	CHECK_INT(parse(&o, "sendmail", q, &err), 0);
	CHECK_INT(o.mode, MODE_QUEUE_RUN);
	CHECK(o.q_id == NULL && o.q_rcpt == NULL && !o.q_due);
	/* No daemon: an interval is refused with a pointer to the timer. */
	CHECK_INT(parse(&o, "sendmail", qint, &err), -1);
	CHECK(strstr(buf_str(&err), "postie -q --due") != NULL);
	CHECK_INT(parse(&o, "sendmail", qsel, &err), 0);
	CHECK_STR(o.q_id, "abc");
	CHECK_STR(o.q_rcpt, "bob@");
	CHECK_STR(o.q_sender, "@x.org");
	CHECK_INT(o.q_due, 1);
	CHECK_INT(parse(&o, "sendmail", od, &err), 0);
	CHECK_INT(o.delivery, DELIVER_QUEUE);
	CHECK_INT(o.ignore_dots, 1);
	CHECK_INT(parse(&o, "sendmail", odb, &err), 0);
	CHECK_INT(o.delivery, DELIVER_BACKGROUND);
	CHECK_INT(parse(&o, "sendmail", odx, &err), -1);
	CHECK_INT(parse(&o, "postie", del, &err), 0);
	CHECK_INT(o.mode, MODE_QUEUE_DELETE);
	CHECK_INT(o.ids.n, 2);
	CHECK_STR(o.ids.v[1], "-x");
	CHECK_INT(parse(&o, "postie", del0, &err), -1);
	CHECK_INT(parse(&o, "mailq", json, &err), 0);
	CHECK_INT(o.mode, MODE_QUEUE_LIST);
	CHECK_INT(o.json, 1);
	CHECK_INT(parse(&o, "mailq", plain, &err), 0);
	CHECK_INT(o.mode, MODE_QUEUE_LIST);
	CHECK_INT(parse(&o, "newaliases", plain, &err), 0);
	CHECK_INT(o.mode, MODE_NEWALIASES);
	CHECK_INT(parse(&o, "postie", ver, &err), 0);
	CHECK_INT(o.mode, MODE_VERSION);
	options_release(&o);
	buf_release(&err);
}

static void
test_long_and_diagnostics(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*a[] = { "postie", "--tls-trust-file=/ca.pem",
	    "--tls-certcheck", "--tls-host-override", "mx.example.org", "-P",
	    NULL };
	const char	*s[] = { "postie", "-S", NULL };
	const char	*bad[] = { "postie", "--tls=maybe", NULL };
	const char	*miss[] = { "postie", "--tls-priorities", NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "postie", a, &err), 0);
	CHECK_INT(o.mode, MODE_PRETEND);
	CHECK_INT(o.overrides.n, 6);
	CHECK_STR(o.overrides.v[0], "tls_trust_file");
	CHECK_STR(o.overrides.v[1], "/ca.pem");
	CHECK_STR(o.overrides.v[3], "on");
	CHECK_STR(o.overrides.v[5], "mx.example.org");
	CHECK_INT(parse(&o, "postie", s, &err), 0);
	CHECK_INT(o.mode, MODE_SERVERINFO);
	CHECK_INT(parse(&o, "postie", bad, &err), -1);
	CHECK_INT(parse(&o, "postie", miss, &err), -1);
	CHECK(strstr(buf_str(&err), "requires an argument") != NULL);
	options_release(&o);
	buf_release(&err);
}

/* -N -R -V -B -U: normalized when good, a one-line usage error when not. */
static void
test_dsn_and_body(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	char		 longid[102];
	size_t		 i;
	const char	*good[] = { "sendmail", "-N", "Delay,SUCCESS", "-RFULL",
	    "-V", "id+1=x~!", "-B", "7bit", "-U", "x@y.org", NULL };
	const char	*never[] = { "sendmail", "-N", "NEVER", "-B",
	    "8bitmime", "x@y.org", NULL };
	const char	*u_bundled[] = { "sendmail", "-Uti", NULL };
	static const char *const bad[][3] = {
		{ "-N", "never,success", "invalid -N" },
		{ "-N", "success,success", "invalid -N" },
		{ "-N", "success,", "invalid -N" },
		{ "-N", "", "invalid -N" },
		{ "-N", "bounce", "invalid -N" },
		{ "-R", "headers", "invalid -R" },
		{ "-R", "", "invalid -R" },
		{ "-B", "9BIT", "invalid -B" },
		{ "-B", "BINARYMIME", "invalid -B" },
		{ "-V", "a b", "printable ASCII" },
		{ "-V", "a\tb", "printable ASCII" },
		{ "-V", "caf\xc3\xa9", "printable ASCII" },
		{ "-V", "", "1 to 100" },
	};
	const char	*a[5] = { "sendmail", NULL, NULL, "x@y.org", NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "sendmail", good, &err), 0);
	CHECK_STR(o.dsn_notify, "delay,success");
	CHECK_STR(o.dsn_ret, "full");
	CHECK_STR(o.envid, "id+1=x~!");
	CHECK_STR(o.body_type, "7BIT");
	CHECK_INT(o.smtputf8, 1);

	CHECK_INT(parse(&o, "sendmail", never, &err), 0);
	CHECK_STR(o.dsn_notify, "never");
	CHECK_STR(o.body_type, "8BITMIME");
	CHECK_INT(o.smtputf8, 0);
	CHECK(o.envid == NULL && o.dsn_ret == NULL);

	CHECK_INT(parse(&o, "sendmail", u_bundled, &err), 0);
	CHECK(o.smtputf8 && o.extract && o.ignore_dots);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a[1] = bad[i][0];
		a[2] = bad[i][1];
		CHECK_INT(parse(&o, "sendmail", a, &err), -1);
		CHECK(strstr(buf_str(&err), bad[i][2]) != NULL);
		CHECK(strchr(buf_str(&err), '\n') == NULL);
	}

	/* RFC 3461 4.4: 100 characters at most. */
	memset(longid, 'e', 100);
	longid[100] = '\0';
	a[1] = "-V";
	a[2] = longid;
	CHECK_INT(parse(&o, "sendmail", a, &err), 0);
	CHECK_INT((int)strlen(o.envid), 100);
	longid[100] = 'e';
	longid[101] = '\0';
	CHECK_INT(parse(&o, "sendmail", a, &err), -1);
	CHECK(strstr(buf_str(&err), "1 to 100") != NULL);
	options_release(&o);
	buf_release(&err);
}

/* msmtp's -a, --account, --from, --read-envelope-from, keyword options. */
static void
test_msmtp_options(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*a[] = { "postie", "-a", "work", "--from=<me@x.org>",
	    "--read-envelope-from", "--port=2525", "--auth", "--auto-from",
	    "--set-from-header", "--syslog=LOG_USER", "--logfile", "/tmp/l",
	    "--host", "mx.example", "r@x.org", NULL };
	const char	*b[] = { "postie", "-awork2", "--account", "other",
	    "--from", "f@x.org", NULL };
	const char	*bad[] = { "postie", "--from=a b@x.org", NULL };
	const char	*miss[] = { "postie", "--account", NULL };
	const char	*onoff[] = { "postie", "--auto-from=maybe", NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "postie", a, &err), 0);
	CHECK_STR(o.account, "work");
	CHECK_STR(o.from, "me@x.org");
	CHECK_INT(o.read_envelope_from, 1);
	CHECK_INT(o.overrides.n, 14);
	CHECK_STR(o.overrides.v[0], "port");
	CHECK_STR(o.overrides.v[1], "2525");
	CHECK_STR(o.overrides.v[2], "auth");
	CHECK_STR(o.overrides.v[3], "");
	CHECK_STR(o.overrides.v[4], "auto_from");
	CHECK_STR(o.overrides.v[5], "on");
	CHECK_STR(o.overrides.v[6], "set_from_header");
	CHECK_STR(o.overrides.v[7], "");
	CHECK_STR(o.overrides.v[9], "LOG_USER");
	CHECK_STR(o.overrides.v[10], "logfile");
	CHECK_STR(o.overrides.v[11], "/tmp/l");
	CHECK_STR(o.overrides.v[13], "mx.example");
	CHECK_INT(o.rcpts.n, 1);

	CHECK_INT(parse(&o, "postie", b, &err), 0);
	CHECK_STR(o.account, "other");
	CHECK_STR(o.from, "f@x.org");

	CHECK_INT(parse(&o, "postie", bad, &err), -1);
	CHECK(strstr(buf_str(&err), "white space") != NULL);
	CHECK_INT(parse(&o, "postie", miss, &err), -1);
	CHECK(strstr(buf_str(&err), "requires an argument") != NULL);
	CHECK_INT(parse(&o, "postie", onoff, &err), -1);
	CHECK(strstr(buf_str(&err), "takes 'on' or 'off'") != NULL);
	options_release(&o);
	buf_release(&err);
}

/*
 * Called as anything but postie or msmtp, the per-keyword long options are
 * a usage error in every spelling, wherever one smuggled word can put
 * them; msmtp's account and sender options and postie's modes stay.
 */
static void
test_sendmail_personality(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	static const char *const names[] = {
		"sendmail", "mailq", "newaliases", "sendmail.postie",
		"postie-0.2", "msmtp-mta", "Postie"
	};
	const char	*eval[] = { NULL, "--passwordeval=touch /tmp/pwned",
	    "a@x.org", NULL };
	const char	*host[] = { NULL, "-t", "-fme@x.org", "--host",
	    "evil.example", "a@x.org", NULL };
	const char	*onoff[] = { NULL, "--tls-certcheck", NULL };
	const char	*onoff_v[] = { NULL, "--tls-certcheck=off", NULL };
	const char	*opt[] = { NULL, "-i", "--auth", NULL };
	const char	*logf[] = { NULL, "--logfile", "/tmp/x", NULL };
	const char	*as_from[] = { NULL, "-f", "--host=evil.example",
	    "a@x.org", NULL };
	const char	*after[] = { NULL, "--", "--host=evil.example", NULL };
	const char	*after_rcpt[] = { NULL, "a@x.org",
	    "--passwordeval=id", NULL };
	const char	*kept[] = { NULL, "--account=work", "--from",
	    "me@x.org", "--read-envelope-from", "--pretend", "a@x.org",
	    NULL };
	const char	*abbrev[] = { NULL, "--pass=id", NULL };
	char		 want[200];
	size_t		 i;

	options_init(&o);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		eval[0] = host[0] = onoff[0] = onoff_v[0] = opt[0] = names[i];
		logf[0] = as_from[0] = after[0] = after_rcpt[0] = names[i];
		kept[0] = abbrev[0] = names[i];

		CHECK_INT(parse(&o, names[i], eval, &err), -1);
		snprintf(want, sizeof(want), "option '--passwordeval' is only "
		    "accepted when called as postie or msmtp (called as '%s')",
		    names[i]);
		CHECK_STR(buf_str(&err), want);
		CHECK_INT(o.overrides.n, 0);

		CHECK_INT(parse(&o, names[i], host, &err), -1);
		CHECK(strstr(buf_str(&err), "option '--host' is only") !=
		    NULL);
		CHECK_INT(o.overrides.n, 0);
		CHECK_INT(parse(&o, names[i], onoff, &err), -1);
		CHECK(strstr(buf_str(&err), "'--tls-certcheck'") != NULL);
		CHECK_INT(parse(&o, names[i], onoff_v, &err), -1);
		CHECK(strstr(buf_str(&err), "'--tls-certcheck'") != NULL);
		CHECK_INT(parse(&o, names[i], opt, &err), -1);
		CHECK(strstr(buf_str(&err), "'--auth'") != NULL);
		CHECK_INT(parse(&o, names[i], logf, &err), -1);
		CHECK(strstr(buf_str(&err), "'--logfile'") != NULL);
		CHECK(strstr(buf_str(&err), "/tmp/x") == NULL);
		CHECK_INT(o.overrides.n, 0);

		/* As a value or after the options it is an address, and
		 * one that starts with '-'. */
		CHECK_INT(parse(&o, names[i], as_from, &err), -1);
		CHECK(strstr(buf_str(&err), "starts with '-'") != NULL);
		CHECK_INT(parse(&o, names[i], after, &err), -1);
		CHECK(strstr(buf_str(&err), "starts with '-'") != NULL);
		CHECK_INT(parse(&o, names[i], after_rcpt, &err), -1);
		CHECK(strstr(buf_str(&err), "starts with '-'") != NULL);
		/* Long names are matched whole, never by a prefix. */
		CHECK_INT(parse(&o, names[i], abbrev, &err), -1);
		CHECK_STR(buf_str(&err), "unknown option '--pass=id'");

		CHECK_INT(parse(&o, names[i], kept, &err), 0);
		CHECK_STR(o.account, "work");
		CHECK_STR(o.from, "me@x.org");
		CHECK_INT(o.read_envelope_from, 1);
		CHECK_INT(o.mode, MODE_PRETEND);
		CHECK_INT(o.rcpts.n, 1);
	}

	/* As postie or msmtp they are read. */
	eval[0] = host[0] = "msmtp";
	CHECK_INT(parse(&o, "msmtp", eval, &err), 0);
	CHECK_INT(o.overrides.n, 2);
	CHECK_STR(o.overrides.v[0], "passwordeval");
	CHECK_STR(o.overrides.v[1], "touch /tmp/pwned");
	CHECK_INT(parse(&o, "msmtp", host, &err), 0);
	CHECK_STR(o.overrides.v[1], "evil.example");
	eval[0] = host[0] = "postie";
	CHECK_INT(parse(&o, "postie", eval, &err), 0);
	CHECK_INT(o.overrides.n, 2);
	CHECK_INT(parse(&o, "postie", host, &err), 0);
	CHECK_INT(o.overrides.n, 2);
	options_release(&o);
	buf_release(&err);
}

/*
 * --oauth-authorize [ACCOUNT]: at most one argument, which is -a's
 * account; not for a sendmail caller's argv.
 */
static void
test_oauth_authorize(void)
{
	struct options	 o;
	struct buf	 err = BUF_INIT;
	const char	*bare[] = { "postie", "--oauth-authorize", NULL };
	const char	*named[] = { "postie", "-C", "f", "--oauth-authorize",
	    "work", NULL };
	const char	*both[] = { "postie", "-a", "work",
	    "--oauth-authorize", "work", NULL };
	const char	*differ[] = { "postie", "-a", "home",
	    "--oauth-authorize", "work", NULL };
	const char	*two[] = { "postie", "--oauth-authorize", "work",
	    "home", NULL };
	const char	*opt_after[] = { "postie", "--oauth-authorize", "-a",
	    "work", NULL };

	options_init(&o);
	CHECK_INT(parse(&o, "postie", bare, &err), 0);
	CHECK_INT(o.mode, MODE_OAUTH_AUTHORIZE);
	CHECK(o.account == NULL);
	CHECK_INT(o.rcpts.n, 0);
	CHECK_INT(parse(&o, "msmtp", named, &err), 0);
	CHECK_INT(o.mode, MODE_OAUTH_AUTHORIZE);
	CHECK_STR(o.account, "work");
	CHECK_STR(o.config, "f");
	CHECK_INT(o.rcpts.n, 0);
	CHECK_INT(parse(&o, "postie", both, &err), 0);
	CHECK_STR(o.account, "work");
	CHECK_INT(parse(&o, "postie", differ, &err), -1);
	CHECK_STR(buf_str(&err), "--oauth-authorize names account 'work', "
	    "-a account 'home'");
	CHECK_INT(parse(&o, "postie", two, &err), -1);
	CHECK_STR(buf_str(&err), "--oauth-authorize takes one account name");
	CHECK_INT(parse(&o, "postie", opt_after, &err), 0);
	CHECK_STR(o.account, "work");
	CHECK_INT(parse(&o, "sendmail", bare, &err), -1);
	CHECK_STR(buf_str(&err), "option '--oauth-authorize' is only accepted "
	    "when called as postie or msmtp (called as 'sendmail')");
	options_release(&o);
	buf_release(&err);
}

int
main(void)
{
	test_long_and_diagnostics();
	test_bundles_and_values();
	test_ignored();
	test_stops_at_first_nonoption();
	test_recipient_lists();
	test_rejections();
	test_null_sender_and_modes();
	test_dsn_and_body();
	test_msmtp_options();
	test_sendmail_personality();
	test_oauth_authorize();
	return t_done();
}
