#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "xmalloc.h"

#include "t.h"

static char	 tmpdir[] = "/tmp/test_conf.XXXXXX";
static char	 home[256];
static int	 nfiles;

/* Write `text` (of `len` bytes) to a fresh file; returns its path. */
static char *
write_file_len(const char *text, size_t len)
{
	char	 path[512];
	int	 fd;

	snprintf(path, sizeof(path), "%s/conf%d.XXXXXX", tmpdir, nfiles++);
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(2);
	}
	if (write(fd, text, len) != (ssize_t)len) {
		perror("write");
		exit(2);
	}
	close(fd);
	return xstrdup(path);
}

static char *
write_file(const char *text)
{
	return write_file_len(text, strlen(text));
}

/* Load `text`; on error, `err` holds the message with the path as "F". */
static int
load(struct conf *c, const char *text, struct buf *err)
{
	char		*path = write_file(text);
	struct buf	 msg = BUF_INIT;
	size_t		 n = strlen(path);
	int		 rc;

	memset(c, 0, sizeof(*c));
	buf_reset(err);
	rc = conf_load(c, path, &msg);
	if (rc == -1) {
		if (strncmp(msg.data, path, n) == 0) {
			buf_addstr(err, "F");
			buf_addstr(err, msg.data + n);
		} else
			buf_addstr(err, buf_str(&msg));
	}
	buf_release(&msg);
	unlink(path);
	free(path);
	return rc;
}

/* The error message for `text`, with the path shown as "F". */
static const char *
error_of(const char *text)
{
	static struct buf	 err = BUF_INIT;
	struct conf		 c;

	if (load(&c, text, &err) == 0) {
		conf_release(&c);
		return "(loaded)";
	}
	CHECK(c.naccounts == 0 && c.accounts == NULL && c.path == NULL);
	return buf_str(&err);
}

/* The message conf_check_supported() gives for `name`, or "ok". */
static const char *
check_of(const char *text, const char *name)
{
	static struct buf	 err = BUF_INIT;
	struct buf		 e = BUF_INIT;
	struct conf		 c;
	const struct account	*a;
	const char		*path;
	size_t			 n;

	buf_reset(&err);
	if (load(&c, text, &e) == -1) {
		buf_addstr(&err, buf_str(&e));
		buf_release(&e);
		return buf_str(&err);
	}
	if ((a = conf_account(&c, name)) == NULL)
		buf_addstr(&err, "(no account)");
	else if (conf_check_supported(a, &e) == 0)
		buf_addstr(&err, "ok");
	else {
		path = c.path;
		n = strlen(path);
		buf_addstr(&err, "F");
		buf_addstr(&err, e.data + (strncmp(e.data, path, n) == 0 ?
		    n : 0));
	}
	buf_release(&e);
	conf_release(&c);
	return buf_str(&err);
}

static void
test_gmail(void)
{
	struct conf		 c;
	struct buf		 err = BUF_INIT;
	const struct account	*a;

	CHECK_INT(load(&c,
	    "# Set default values for all following accounts.\n"
	    "defaults\n"
	    "auth           on\n"
	    "tls            on\n"
	    "tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
	    "logfile        ~/.msmtp.log\n"
	    "\n"
	    "# Gmail\n"
	    "account        gmail\n"
	    "host           smtp.gmail.com\n"
	    "port           587\n"
	    "from           username@gmail.com\n"
	    "user           username\n"
	    "password       plain-text-password\n"
	    "\n"
	    "# A freemail service\n"
	    "account        freemail\n"
	    "host           smtp.freemail.example\n"
	    "from           joe_smith@freemail.example\n"
	    "user           joe.smith\n"
	    "passwordeval   \"gpg --no-tty -q -d ~/.msmtp-password.gpg\"\n"
	    "tls_starttls   off\n"
	    "tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	    "00:11:22:33\n"
	    "\n"
	    "# Set a default account\n"
	    "account default : gmail\n", &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_INT(c.naccounts, 3);
	CHECK_STR(c.default_name, "gmail");

	a = conf_account(&c, NULL);
	CHECK(a != NULL && a == &c.accounts[2]);
	CHECK_STR(a->name, "default");
	CHECK_STR(a->host, "smtp.gmail.com");
	CHECK_INT(a->port, 587);
	CHECK_STR(a->from, "username@gmail.com");
	CHECK_STR(a->tls, "on");
	CHECK_STR(a->auth, "on");
	CHECK_STR(a->user, "username");
	CHECK_STR(a->password, "plain-text-password");
	CHECK_STR(a->tls_trust_file, "/etc/ssl/certs/ca-certificates.crt");
	CHECK_INT(a->line, 26);

	a = conf_account(&c, "gmail");
	CHECK(a != NULL && a == &c.accounts[0]);
	CHECK_INT(a->line, 9);
	CHECK_STR(a->file, c.path);

	a = conf_account(&c, "freemail");
	CHECK(a != NULL);
	CHECK_STR(a->passwordeval, "gpg --no-tty -q -d ~/.msmtp-password.gpg");
	CHECK_STR(a->tls_starttls, "off");
	CHECK(a->password == NULL);
	CHECK_STR(a->tls_fingerprint, "00:11:22:33:44:55:66:77:88:99:AA:BB:"
	    "CC:DD:EE:FF:00:11:22:33");
	CHECK(strncmp(a->logfile, home, strlen(home)) == 0 &&
	    strcmp(a->logfile + strlen(home), "/.msmtp.log") == 0);
	CHECK(conf_account(&c, "nosuch") == NULL);
	conf_release(&c);
	CHECK(c.accounts == NULL && c.naccounts == 0);
	conf_release(&c);	/* twice is harmless */
	buf_release(&err);
}

static void
test_check_supported(void)
{
	const char	*gmail =
	    "defaults\n"
	    "tls on\n"
	    "auth on\n"
	    "account gmail\n"
	    "host smtp.gmail.com\n"
	    "account plain\n"
	    "host localhost\n"
	    "tls off\n"
	    "auth off\n"
	    "account authonly : plain\n"
	    "auth plain\n";

	/* TLS and AUTH are implemented: accepted. */
	CHECK_STR(check_of(gmail, "gmail"), "ok");
	CHECK_STR(check_of(gmail, "plain"), "ok");
	CHECK_STR(check_of(gmail, "authonly"), "ok");
	CHECK_STR(check_of("account a\nhost h\n\n\ntls\n", "a"), "ok");
	CHECK_STR(check_of("account a\nhost h\nauth login\n", "a"), "ok");
	CHECK_STR(check_of("account a\nhost h\nauth scram-sha-256-plus\n",
	    "a"), "ok");
	/* msmtp methods postie lacks; the line named is where the value
	 * came from (here `defaults`). */
	CHECK_STR(check_of("defaults\nauth gssapi\naccount a\nhost h\n", "a"),
	    "F:2: 'auth gssapi' is not supported (postie has plain, login, "
	    "cram-md5, scram-sha-1, scram-sha-256, their -plus variants, "
	    "xoauth2, oauthbearer and external)");
	CHECK(strstr(check_of("account a\nauth ntlm\n", "a"),
	    "F:2: 'auth ntlm' is not supported") != NULL);
	CHECK(strstr(check_of("account a\nauth digest-md5\n", "a"),
	    "F:2: 'auth digest-md5' is not supported") != NULL);
	CHECK_STR(check_of("account a\nauth gssapi\nauth on\n", "a"), "ok");
	/* Other TLS and AUTH settings are fine too. */
	CHECK_STR(check_of("account a\nhost h\ntls_trust_file /x\n"
	    "tls_starttls off\nuser u\npassword p\ntls_certcheck off\n", "a"),
	    "ok");
	CHECK_STR(check_of("account a\nhost h\nproxy_host 127.0.0.1\n", "a"),
	    "F:3: 'proxy_host' is not yet supported");
	CHECK_STR(check_of("account a\nhost h\nproxy_host\n", "a"), "ok");
	CHECK_STR(check_of("account a\nhost h\neval echo port 2\n", "a"),
	    "F:3: 'eval' is not yet supported");
	/* allow_from_override off is implemented by the front end. */
	CHECK_STR(check_of("account a\nhost h\nallow_from_override off\n",
	    "a"), "ok");
	CHECK_STR(check_of("account a\nhost h\ndsn_notify failure\n"
	    "dsn_return full\n", "a"), "ok");
	/* Inherited from a parent: the parent's line. */
	CHECK_STR(check_of("account p\nhost h\nproxy_host x\n"
	    "account c : p\n", "c"), "F:3: 'proxy_host' is not yet supported");
	CHECK_STR(check_of("account p\nhost h\ntls on\naccount c : p\n"
	    "tls off\n", "c"), "ok");
}

static void
test_inheritance(void)
{
	struct conf		 c;
	struct buf		 err = BUF_INIT;
	const struct account	*a;

	CHECK_INT(load(&c,
	    "defaults\n"			/* 1 */
	    "port 1\n"
	    "domain d1\n"
	    "account b\n"			/* 4 */
	    "host hb\n"
	    "from fb\n"
	    "defaults\n"			/* 7 */
	    "port 2\n"
	    "maildomain md\n"
	    "account c\n"			/* 10 */
	    "host hc\n"
	    "timeout 30\n"
	    "account a : b, c\n"		/* 13 */
	    "from fa\n"
	    "account z : c,b\n"			/* 15 */
	    "account chain : z\n"		/* 16 */
	    "protocol lmtp\n", &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_INT(c.naccounts, 5);

	/* b: the first defaults only. */
	a = conf_account(&c, "b");
	CHECK_INT(a->port, 1);
	CHECK_STR(a->domain, "d1");
	CHECK(a->maildomain == NULL);

	/* c: later defaults add to the earlier ones. */
	a = conf_account(&c, "c");
	CHECK_INT(a->port, 2);
	CHECK_STR(a->domain, "d1");
	CHECK_STR(a->maildomain, "md");

	/* a: defaults now, then what b set, then what c set, then its own;
	 * b's port came from defaults, so it is not b's to pass on. */
	a = conf_account(&c, "a");
	CHECK_STR(a->host, "hc");
	CHECK_STR(a->from, "fa");
	CHECK_INT(a->port, 2);
	CHECK_INT(a->timeout, 30);
	CHECK_STR(a->maildomain, "md");
	CHECK_INT(a->line, 13);

	a = conf_account(&c, "z");
	CHECK_STR(a->host, "hb");
	CHECK_STR(a->from, "fb");
	CHECK_INT(a->timeout, 30);

	a = conf_account(&c, "chain");
	CHECK_STR(a->host, "hb");
	CHECK_STR(a->from, "fb");
	CHECK_INT(a->timeout, 30);
	CHECK_INT(a->protocol, PROTO_LMTP);
	CHECK_INT(a->kw_line[0], 5);	/* host: from b's line 5 */

	/* No "default" account: the first one. */
	CHECK(conf_account(&c, NULL) == &c.accounts[0]);
	conf_release(&c);

	/* An empty argument unsets, and overrides what a parent set. */
	CHECK_INT(load(&c, "account p\nhost h\nfrom x@y\nlogfile /l\n"
	    "account q : p\nfrom\nlogfile\n", &err), 0);
	a = conf_account(&c, "q");
	CHECK(a->from == NULL && a->logfile == NULL);
	CHECK_STR(a->host, "h");
	conf_release(&c);

	/* Settings before any section form the account "default". */
	CHECK_INT(load(&c, "host x\nport 26\naccount a\nhost y\n", &err), 0);
	CHECK_INT(c.naccounts, 2);
	a = conf_account(&c, NULL);
	CHECK_STR(a->name, "default");
	CHECK_STR(a->host, "x");
	CHECK_INT(a->port, 26);
	CHECK_INT(a->line, 1);
	conf_release(&c);
	CHECK_STR(error_of("host x\naccount default\n"),
	    "F:2: account 'default' defined twice (first on line 1)");

	/* Only defaults: they are the account "default". */
	CHECK_INT(load(&c, "defaults\nhost x\ntls on\n", &err), 0);
	CHECK_INT(c.naccounts, 1);
	a = conf_account(&c, NULL);
	CHECK_STR(a->name, "default");
	CHECK_STR(a->host, "x");
	CHECK_STR(check_of("defaults\nhost x\neval x\n", NULL),
	    "F:3: 'eval' is not yet supported");
	conf_release(&c);

	/* Nothing at all. */
	CHECK_INT(load(&c, "# empty\n", &err), 0);
	CHECK(conf_account(&c, NULL) == NULL);
	conf_release(&c);

	/* account default : NAME, then more lines for it. */
	CHECK_INT(load(&c, "account b\nhost hb\nport 99\n"
	    "account default : b\nport 5\naccount later\nhost hl\n", &err), 0);
	a = conf_account(&c, NULL);
	CHECK_STR(a->name, "default");
	CHECK_STR(a->host, "hb");
	CHECK_INT(a->port, 5);
	CHECK_STR(c.default_name, "b");
	CHECK_INT(conf_account(&c, "b")->port, 99);
	conf_release(&c);
	buf_release(&err);
}

static void
test_syntax(void)
{
	struct conf		 c;
	struct buf		 err = BUF_INIT;
	const struct account	*a;

	CHECK_INT(load(&c,
	    "  # indented comment\n"
	    "\t\n"
	    "account\tq\n"
	    "host h # not a comment\n"
	    "from \"  spaced  \"\n"
	    "domain \"a\"b\"\n"
	    "maildomain \"x\\\"y\"\n"
	    "logfile_time_format   %Y %m   \n"
	    "source_ip \"\n"
	    "user \"\"\n"
	    "tls_priorities a\"\n"
	    "\taliases\t /etc/aliases \t\n"
	    "logfile \"~/in quotes\"\n"
	    "socket ~user/x\n", &err), 0);
	CHECK_STR(buf_str(&err), "");
	a = conf_account(&c, "q");
	CHECK(a != NULL);
	CHECK_STR(a->host, "h # not a comment");
	CHECK_STR(a->from, "  spaced  ");
	CHECK_STR(a->domain, "a\"b");
	CHECK_STR(a->maildomain, "x\\\"y");	/* no escapes, as msmtp */
	CHECK_STR(a->logfile_time_format, "%Y %m");
	CHECK_STR(a->source_ip, "\"");
	CHECK(a->user == NULL);
	CHECK_STR(a->tls_priorities, "a\"");
	CHECK_STR(a->aliases, "/etc/aliases");
	CHECK(strncmp(a->logfile, home, strlen(home)) == 0 &&
	    strcmp(a->logfile + strlen(home), "/in quotes") == 0);
	CHECK_STR(a->socket, "~user/x");
	conf_release(&c);

	/* CRLF files, no final newline, names with blanks and quotes. */
	CHECK_INT(load(&c, "account \"a b\"\r\nhost h\r\nport 2525", &err), 0);
	a = conf_account(&c, "a b");
	CHECK(a != NULL);
	CHECK_STR(a->host, "h");
	CHECK_INT(a->port, 2525);
	conf_release(&c);

	/* msmtp trims the whole argument first: "a" : "b" is a" : "b. */
	CHECK_STR(error_of("account b\nhost hb\naccount \"a\" : \"b\"\n"),
	    "F:3: account '\"b' is not defined above");
	CHECK_INT(load(&c, "account b\nhost hb\naccount \"a\" : b\n", &err),
	    0);
	CHECK_STR(conf_account(&c, "a")->host, "hb");
	conf_release(&c);
	CHECK_INT(load(&c, "account b\nhost hb\naccount a:b\n", &err), 0);
	CHECK_STR(conf_account(&c, "a")->host, "hb");
	conf_release(&c);

	/* Tilde alone, and paths that are not expanded. */
	CHECK_INT(load(&c, "account a\nlogfile ~\naliases -\n"
	    "tls_trust_file system\n", &err), 0);
	a = conf_account(&c, "a");
	CHECK_STR(a->logfile, home);
	CHECK_STR(a->aliases, "-");
	CHECK_STR(a->tls_trust_file, "system");
	conf_release(&c);
	buf_release(&err);
}

static void
test_long_line(void)
{
	struct conf	 c;
	struct buf	 text = BUF_INIT, err = BUF_INIT;
	size_t		 i;

	buf_addstr(&text, "account a\nhost h\nfrom ");
	for (i = 0; i < 100 * 1024; i++)
		buf_addch(&text, 'a' + (int)(i % 26));
	buf_addstr(&text, "@example.org\nport 26\n");
	CHECK_INT(load(&c, buf_str(&text), &err), 0);
	CHECK_INT(strlen(c.accounts[0].from), 100 * 1024 + 12);
	CHECK_INT(c.accounts[0].port, 26);
	conf_release(&c);
	buf_release(&text);
	buf_release(&err);
}

static void
test_errors(void)
{
	char		*path;
	struct conf	 c;
	struct buf	 err = BUF_INIT;

	CHECK_STR(error_of("account a\nhots x\n"),
	    "F:2: unknown keyword 'hots'");
	CHECK_STR(error_of("account a\nHost x\n"),
	    "F:2: unknown keyword 'Host'");
	CHECK_STR(error_of("host=x\n"), "F:1: unknown keyword 'host=x'");
	CHECK_STR(error_of("account a\nset_to_headers on\n"),
	    "F:2: unknown keyword 'set_to_headers'");
	CHECK_STR(error_of("defaults x\n"), "F:1: 'defaults' takes no argument");
	CHECK_STR(error_of("\naccount\n"), "F:2: missing account name");
	CHECK_STR(error_of("account b\naccount : b\n"),
	    "F:2: missing account name");
	CHECK_STR(error_of("account b\naccount a : b,\n"),
	    "F:2: missing account name");
	CHECK_STR(error_of("account a,b\n"),
	    "F:1: account name 'a,b' must not contain ':' or ','");
	CHECK_STR(error_of("account x\nhost h\n\naccount x\n"),
	    "F:4: account 'x' defined twice (first on line 1)");
	CHECK_STR(error_of("account a : b\n"),
	    "F:1: account 'b' is not defined above");
	CHECK_STR(error_of("account a : a\n"),
	    "F:1: account 'a' is not defined above");
	CHECK_STR(error_of("account b\naccount a : b : c\n"),
	    "F:2: account 'b : c' is not defined above");
	CHECK_STR(error_of("account a\nhost\n"), "F:2: 'host' needs an argument");
	CHECK_STR(error_of("account a\nport\n"), "F:2: 'port' needs an argument");
	CHECK_STR(error_of("account a\nport abc\n"),
	    "F:2: invalid port 'abc': expected 1 to 65535");
	CHECK_STR(error_of("account a\nport 0\n"),
	    "F:2: invalid port '0': expected 1 to 65535");
	CHECK_STR(error_of("account a\nport 65536\n"),
	    "F:2: invalid port '65536': expected 1 to 65535");
	CHECK_STR(error_of("account a\nport 25x\n"),
	    "F:2: invalid port '25x': expected 1 to 65535");
	CHECK_STR(error_of("account a\nport 99999999999999999999\n"),
	    "F:2: invalid port '99999999999999999999': expected 1 to 65535");
	CHECK_STR(error_of("account a\ntimeout\n"),
	    "F:2: 'timeout' needs an argument");
	CHECK_STR(error_of("account a\ntimeout -1\n"),
	    "F:2: invalid timeout '-1': expected off or a number of seconds");
	CHECK_STR(error_of("account a\nconnect_timeout x\n"),
	    "F:2: invalid connect_timeout 'x': expected off or a number of "
	    "seconds");
	CHECK_STR(error_of("account a\nprotocol LMTP\n"),
	    "F:2: invalid protocol 'LMTP': expected smtp or lmtp");
	CHECK_STR(error_of("account a\nprotocol\n"),
	    "F:2: 'protocol' needs an argument");
	CHECK_STR(error_of("account a\nauto_from yes\n"),
	    "F:2: invalid auto_from 'yes': expected on or off");
	CHECK_STR(error_of("account a\ntls ON\n"),
	    "F:2: invalid tls 'ON': expected on or off");
	CHECK_STR(error_of("account a\nset_from_header x\n"),
	    "F:2: invalid set_from_header 'x': expected auto, on or off");
	CHECK_STR(error_of("account a\nset_date_header on\n"),
	    "F:2: invalid set_date_header 'on': expected auto or off");
	CHECK_STR(error_of("account a\nsyslog LOG_LOCAL8\n"),
	    "F:2: invalid syslog 'LOG_LOCAL8': expected on, off, LOG_USER, "
	    "LOG_MAIL or LOG_LOCAL0 to LOG_LOCAL7");
	CHECK_STR(error_of("account a\nsyslog log_mail\n"),
	    "F:2: invalid syslog 'log_mail': expected on, off, LOG_USER, "
	    "LOG_MAIL or LOG_LOCAL0 to LOG_LOCAL7");
	CHECK_STR(error_of("account a\nauth PLAIN\n"),
	    "F:2: invalid auth 'PLAIN': expected on, off or a method");
	CHECK_STR(error_of("account a\ntls_fingerprint 00:11\n"),
	    "F:2: invalid tls_fingerprint '00:11': expected SHA-256 hex "
	    "bytes like 01:23:.. or a sha256//BASE64 pin");
	/* Public-key pins are written in the config too. */
	CHECK_STR(error_of("account a\ntls_fingerprint "
	    "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"),
	    "(loaded)");
	CHECK_STR(error_of("account a\ntls_min_dh_prime_bits x\n"),
	    "F:2: invalid tls_min_dh_prime_bits 'x': expected a positive "
	    "number");
	CHECK_STR(error_of("account a\ntls_nocertcheck x\n"),
	    "F:2: 'tls_nocertcheck' takes no argument");
	CHECK_STR(error_of("account a\ndsn_notify\n"),
	    "F:2: 'dsn_notify' needs an argument");
	CHECK_STR(error_of("account a\ndsn_notify failure,failure\n"),
	    "F:2: invalid dsn_notify 'failure,failure': expected off, never "
	    "or a list of failure, delay, success");
	CHECK_STR(error_of("account a\ndsn_return hdrs\n"),
	    "F:2: invalid dsn_return 'hdrs': expected off, headers or full");
	CHECK_STR(error_of("account a\nproxy_port 0\n"),
	    "F:2: invalid proxy_port '0': expected 1 to 65535");
	CHECK_STR(error_of("account a\neval\n"), "F:2: 'eval' needs an argument");
	CHECK_STR(error_of("account a\nallow_from_override\tmaybe\n"),
	    "F:2: invalid allow_from_override 'maybe': expected on or off");

	/* A NUL byte cannot hide the rest of a line. */
	path = write_file_len("account a\nhost h\0evil\n", 21);
	CHECK_INT(conf_load(&c, path, &err), -1);
	CHECK(strstr(buf_str(&err), ":2: NUL byte in line") != NULL);
	unlink(path);
	free(path);

	/* Files that cannot be read. */
	CHECK_INT(conf_load(&c, "/nonexistent/postierc", &err), -1);
	CHECK_STR(buf_str(&err),
	    "/nonexistent/postierc: cannot open: No such file or directory");
	CHECK(c.path == NULL);
	CHECK_INT(conf_load(&c, tmpdir, &err), -1);
	CHECK(strstr(buf_str(&err), ": cannot read: Is a directory") != NULL);
	conf_release(&c);
	buf_release(&err);
}

static void
test_values(void)
{
	struct conf		 c;
	struct buf		 err = BUF_INIT;
	const struct account	*a;

	/* Built-in defaults. */
	CHECK_INT(load(&c, "account a\n", &err), 0);
	a = conf_account(&c, "a");
	CHECK_INT(a->port, 0);
	CHECK_INT(a->timeout, 0);
	CHECK_INT(a->protocol, PROTO_SMTP);
	CHECK_INT(a->set_from_header, HDR_AUTO);
	CHECK_INT(a->set_date_header, HDR_AUTO);
	CHECK_INT(a->set_msgid_header, HDR_AUTO);
	CHECK_INT(a->set_to_header, HDR_OFF);
	CHECK_INT(a->remove_bcc_headers, 1);
	CHECK_INT(a->auto_from, 0);
	CHECK_INT(a->undisclosed_recipients, 0);
	CHECK_INT(a->allow_from_override, 1);
	CHECK(a->syslog == NULL && a->syslog_set == 0);
	CHECK(a->tls == NULL && a->auth == NULL && a->host == NULL);
	conf_release(&c);

	/* An empty argument means on, where on is allowed. */
	CHECK_INT(load(&c, "account a\nauto_from\nundisclosed_recipients\n"
	    "set_to_header\nremove_bcc_headers off\ntls\ntls_starttls\n"
	    "auth\nsyslog\nset_from_header\nset_date_header\n"
	    "set_msgid_header off\ntimeout off\nprotocol lmtp\n", &err), 0);
	a = conf_account(&c, "a");
	CHECK_INT(a->auto_from, 1);
	CHECK_INT(a->undisclosed_recipients, 1);
	CHECK_INT(a->set_to_header, HDR_ON);
	CHECK_INT(a->remove_bcc_headers, 0);
	CHECK_STR(a->tls, "on");
	CHECK_STR(a->tls_starttls, "on");
	CHECK_STR(a->auth, "on");
	CHECK_STR(a->syslog, "on");
	CHECK_INT(a->syslog_set, 1);
	CHECK_INT(a->set_from_header, HDR_AUTO);
	CHECK_INT(a->set_date_header, HDR_AUTO);
	CHECK_INT(a->set_msgid_header, HDR_OFF);
	CHECK_INT(a->timeout, 0);
	CHECK_INT(a->protocol, PROTO_LMTP);
	conf_release(&c);

	CHECK_INT(load(&c, "account a\nauto_from off\nset_to_header off\n"
	    "syslog off\nset_from_header on\ntimeout 45\nport 0x19\n"
	    "tls_certcheck off\nauth scram-sha-256\nsyslog LOG_LOCAL3\n"
	    "account b\nsyslog off\nset_from_header off\ntimeout 0\n"
	    "port \" 587\"\n", &err), 0);
	a = conf_account(&c, "a");
	CHECK_INT(a->auto_from, 0);
	CHECK_INT(a->set_to_header, HDR_OFF);
	CHECK_INT(a->set_from_header, HDR_ON);
	CHECK_INT(a->timeout, 45);
	CHECK_INT(a->port, 25);		/* msmtp reads numbers as strtol */
	CHECK_STR(a->tls_certcheck, "off");
	CHECK_STR(a->auth, "scram-sha-256");
	CHECK_STR(a->syslog, "LOG_LOCAL3");
	a = conf_account(&c, "b");
	CHECK(a->syslog == NULL);
	CHECK_INT(a->syslog_set, 1);
	CHECK_INT(a->set_from_header, HDR_OFF);
	CHECK_INT(a->timeout, 0);
	CHECK_INT(a->port, 587);
	conf_release(&c);

	/* Old names. */
	CHECK_INT(load(&c, "account a\nkeepbcc on\ntls_nocertcheck\n"
	    "tls_nostarttls\nadd_missing_from_header off\n"
	    "add_missing_date_header off\nconnect_timeout 9\n"
	    "tls_force_sslv3 whatever\n"
	    "account b\nkeepbcc off\nadd_missing_from_header\n"
	    "add_missing_date_header on\n", &err), 0);
	a = conf_account(&c, "a");
	CHECK_INT(a->remove_bcc_headers, 0);
	CHECK_STR(a->tls_certcheck, "off");
	CHECK_STR(a->tls_starttls, "off");
	CHECK_INT(a->set_from_header, HDR_OFF);
	CHECK_INT(a->set_date_header, HDR_OFF);
	CHECK_INT(a->timeout, 9);
	a = conf_account(&c, "b");
	CHECK_INT(a->remove_bcc_headers, 1);
	CHECK_INT(a->set_from_header, HDR_AUTO);
	CHECK_INT(a->set_date_header, HDR_AUTO);
	conf_release(&c);

	/* Every other msmtp keyword is accepted. */
	CHECK_INT(load(&c, "account a\nhost h\nsource_ip 10.0.0.1\n"
	    "proxy_host p\nproxy_port 1080\nsocket /run/s\n"
	    "tls_trust_file /t\ntls_crl_file /c\n"
	    "tls_key_file /k\ntls_cert_file /ce\ntls_priorities NORMAL\n"
	    "tls_host_override o\ntls_min_dh_prime_bits 512\n"
	    "tls_fingerprint " "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
	    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\n"
	    "user u\npassword \"p w\"\npasswordeval cat f\nntlmdomain n\n"
	    "dsn_notify delay,failure\ndsn_return headers\n"
	    "allow_from_override off\neval echo x\naliases /a\n"
	    "logfile -\nmaildomain m\nfrom f@x\ndomain d\n", &err), 0);
	CHECK_STR(buf_str(&err), "");
	a = conf_account(&c, "a");
	CHECK_STR(a->source_ip, "10.0.0.1");
	CHECK_STR(a->proxy_host, "p");
	CHECK_INT(a->proxy_port, 1080);
	CHECK_STR(a->socket, "/run/s");
	CHECK_STR(a->tls_crl_file, "/c");
	CHECK_STR(a->tls_key_file, "/k");
	CHECK_STR(a->tls_cert_file, "/ce");
	CHECK_STR(a->tls_priorities, "NORMAL");
	CHECK_STR(a->tls_host_override, "o");
	CHECK_STR(a->tls_min_dh_prime_bits, "512");
	CHECK_STR(a->password, "p w");
	CHECK_STR(a->passwordeval, "cat f");
	CHECK_STR(a->ntlmdomain, "n");
	CHECK_STR(a->dsn_notify, "delay,failure");
	CHECK_STR(a->dsn_return, "headers");
	CHECK_INT(a->allow_from_override, 0);
	CHECK_STR(a->eval, "echo x");
	CHECK_STR(a->logfile, "-");
	conf_release(&c);
	CHECK_INT(load(&c, "account a\ndsn_notify off\ndsn_return off\n"
	    "dsn_notify never\naccount b\ndsn_notify success,delay,failure\n",
	    &err), 0);
	CHECK_STR(conf_account(&c, "a")->dsn_notify, "never");
	CHECK(conf_account(&c, "a")->dsn_return == NULL);
	conf_release(&c);
	buf_release(&err);
}

/*
 * conf_find_file() in a child, because home_dir() reads HOME once.
 * `home_env`: NULL to unset HOME; `xdg`: NULL to unset it.
 */
static char *
find_in_child(const char *home_env, const char *xdg)
{
	int	 fds[2], status;
	pid_t	 pid;
	char	 out[1024];
	ssize_t	 n;
	size_t	 got = 0;
	char	*p;
	int	 system;

	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		close(fds[0]);
		if (home_env != NULL)
			setenv("HOME", home_env, 1);
		else
			unsetenv("HOME");
		if (xdg != NULL)
			setenv("XDG_CONFIG_HOME", xdg, 1);
		else
			unsetenv("XDG_CONFIG_HOME");
		p = conf_find_file(&system);
		if (p != NULL && write(fds[1], p, strlen(p)) == -1)
			_exit(1);
		/* Only the home and XDG candidates: never the system's. */
		if (p != NULL && system)
			_exit(1);
		free(p);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return got > 0 ? xstrdup(out) : NULL;
}

static void
touch(const char *dir, const char *rest)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s%s", dir, rest);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	fclose(f);
}

static void
rm(const char *dir, const char *rest)
{
	char	 path[512];

	snprintf(path, sizeof(path), "%s%s", dir, rest);
	unlink(path);
}

static void
mkdirs(const char *dir, const char *rest)
{
	char	 path[512];

	snprintf(path, sizeof(path), "%s%s", dir, rest);
	mkdir(path, 0700);
}

static void
test_find_file(void)
{
	char		 h[300], x[300], want[600];
	char		*got;
	struct stat	 st;
	int		 sys;

	/* Files under SYSCONFDIR would come between; skip if present. */
	sys = stat(SYSCONFDIR "/postie.conf", &st) == 0 ||
	    stat(SYSCONFDIR "/msmtprc", &st) == 0;

	snprintf(h, sizeof(h), "%s/h", tmpdir);
	snprintf(x, sizeof(x), "%s/x", tmpdir);
	mkdirs(h, "");
	mkdirs(h, "/.config");
	mkdirs(h, "/.config/postie");
	mkdirs(h, "/.config/msmtp");
	mkdirs(x, "");
	mkdirs(x, "/postie");
	mkdirs(x, "/msmtp");

	if (!sys) {
		got = find_in_child(h, x);
		CHECK(got == NULL);
		free(got);
	}

	/* msmtp's files, last to first. */
	touch(x, "/msmtp/config");
	got = find_in_child(h, x);
	snprintf(want, sizeof(want), "%s/msmtp/config", x);
	CHECK_STR(got, want);
	free(got);

	/* Without XDG_CONFIG_HOME (or a relative one): ~/.config. */
	touch(h, "/.config/msmtp/config");
	got = find_in_child(h, NULL);
	snprintf(want, sizeof(want), "%s/.config/msmtp/config", h);
	CHECK_STR(got, want);
	free(got);
	got = find_in_child(h, "relative/dir");
	CHECK_STR(got, want);
	free(got);
	got = find_in_child(h, "");
	CHECK_STR(got, want);
	free(got);

	touch(h, "/.msmtprc");
	got = find_in_child(h, x);
	snprintf(want, sizeof(want), "%s/.msmtprc", h);
	CHECK_STR(got, want);
	free(got);

	/* postie's own files come before msmtp's. */
	touch(h, "/.postierc");
	got = find_in_child(h, x);
	snprintf(want, sizeof(want), "%s/.postierc", h);
	CHECK_STR(got, want);
	free(got);

	touch(h, "/.config/postie/config");
	got = find_in_child(h, x);
	snprintf(want, sizeof(want), "%s/.postierc", h);
	CHECK_STR(got, want);		/* XDG set: ~/.config not looked at */
	free(got);
	got = find_in_child(h, NULL);
	snprintf(want, sizeof(want), "%s/.config/postie/config", h);
	CHECK_STR(got, want);
	free(got);

	touch(x, "/postie/config");
	got = find_in_child(h, x);
	snprintf(want, sizeof(want), "%s/postie/config", x);
	CHECK_STR(got, want);
	free(got);

	/* A file that exists but cannot be read is still the one. */
	snprintf(want, sizeof(want), "%s/postie/config", x);
	chmod(want, 0);
	got = find_in_child(h, x);
	CHECK_STR(got, want);
	free(got);

	/* HOME unset or "/": the password database decides, never "/". */
	got = find_in_child(NULL, NULL);
	CHECK(got == NULL || strncmp(got, "/.", 2) != 0);
	free(got);
	got = find_in_child("/", NULL);
	CHECK(got == NULL || strncmp(got, "/.", 2) != 0);
	free(got);
	got = find_in_child("relative", NULL);
	CHECK(got == NULL || strncmp(got, "relative", 8) != 0);
	free(got);
	/* XDG still counts without a home. */
	got = find_in_child(NULL, x);
	CHECK_STR(got, want);
	free(got);

	rm(x, "/postie/config");
	rm(x, "/msmtp/config");
	rm(h, "/.config/postie/config");
	rm(h, "/.config/msmtp/config");
	rm(h, "/.postierc");
	rm(h, "/.msmtprc");
}

/* conf_override(), conf_account_for_from(), from_full_name. */
static void
test_override_and_from(void)
{
	struct conf		 c;
	struct buf		 err = BUF_INIT;
	struct account		 a;
	const struct account	*p;

	CHECK_INT(load(&c, "account one\nhost h\nfrom one@example.org\n"
	    "from_full_name One Person\n"
	    "account pat : one\nfrom *@Pat.example\n"
	    "account q : one\nfrom b?b@q.example\n"
	    "account nofrom\nhost n\n", &err), 0);
	CHECK_STR(c.accounts[0].from_full_name, "One Person");
	CHECK_STR(c.accounts[1].from_full_name, "One Person");
	p = conf_account_for_from(&c, "one@example.org");
	CHECK(p != NULL && strcmp(p->name, "one") == 0);
	p = conf_account_for_from(&c, "one@EXAMPLE.org");
	CHECK(p != NULL && strcmp(p->name, "one") == 0);
	p = conf_account_for_from(&c, "one+tag@example.org");
	CHECK(p != NULL && strcmp(p->name, "one") == 0);
	p = conf_account_for_from(&c, "ONE@example.org");
	CHECK(p == NULL);
	p = conf_account_for_from(&c, "x@pat.example");
	CHECK(p != NULL && strcmp(p->name, "pat") == 0);
	p = conf_account_for_from(&c, "bob@q.example");
	CHECK(p != NULL && strcmp(p->name, "q") == 0);
	CHECK(conf_account_for_from(&c, "bobb@q.example") == NULL);
	CHECK(conf_account_for_from(&c, "") == NULL);
	CHECK(conf_account_for_from(&c, NULL) == NULL);

	conf_account_dup(&a, &c.accounts[0]);
	CHECK_STR(a.name, "one");
	CHECK_INT(conf_override(&a, "port", "2525", &err), 0);
	CHECK_INT(a.port, 2525);
	CHECK_INT(conf_override(&a, "timeout", "off", &err), 0);
	CHECK_INT(a.timeout, 0);
	CHECK_INT(conf_override(&a, "protocol", "lmtp", &err), 0);
	CHECK_INT(a.protocol, PROTO_LMTP);
	CHECK_INT(conf_override(&a, "auth", "", &err), 0);
	CHECK_STR(a.auth, "on");
	CHECK_INT(conf_override(&a, "set_from_header", "", &err), 0);
	CHECK_INT(a.set_from_header, HDR_AUTO);
	CHECK_INT(conf_override(&a, "auto_from", "on", &err), 0);
	CHECK_INT(a.auto_from, 1);
	CHECK_INT(conf_override(&a, "host", "mx.example", &err), 0);
	CHECK_STR(a.host, "mx.example");
	CHECK_STR(c.accounts[0].host, "h");	/* the config is untouched */
	CHECK_INT(conf_override(&a, "port", "x", &err), -1);
	CHECK_STR(buf_str(&err), "command line: invalid port 'x': expected "
	    "1 to 65535");
	CHECK_INT(conf_override(&a, "nosuch", "x", &err), -1);
	CHECK_STR(buf_str(&err), "unknown keyword 'nosuch'");
	CHECK_INT(conf_override(&a, "set_date_header", "on", &err), -1);
	conf_account_free(&a);
	conf_release(&c);
	buf_release(&err);
}

int
main(void)
{
	char	 cmd[300];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	/* Before anything calls home_dir(), which reads HOME once. */
	snprintf(home, sizeof(home), "%s/home", tmpdir);
	mkdir(home, 0700);
	setenv("HOME", home, 1);

	/* First: its children must be the first to call home_dir(). */
	test_find_file();
	test_gmail();
	test_check_supported();
	test_inheritance();
	test_syntax();
	test_long_line();
	test_errors();
	test_values();
	test_override_and_from();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return t_done();
}
