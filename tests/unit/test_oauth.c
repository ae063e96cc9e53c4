#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "oauth.h"

#include "t.h"

/*
 * An OAuth account's settings as oauth_cfg_from_account() resolves them:
 * the presets' exact endpoints, what overrides them, and every
 * configuration mistake with its exact message.
 */

static char	 tmpdir[] = "/tmp/test_oauth.XXXXXX";
static int	 nfiles;

/* `text` in a new file of tmpdir; its path in `path`. */
static void
write_conf(const char *text, char *path, size_t size)
{
	FILE	*fp;

	snprintf(path, size, "%s/c%d", tmpdir, nfiles++);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF) {
		perror(path);
		exit(2);
	}
}

/* Load `text` as a config file; the account named "a" in `c`. */
static const struct account *
load(struct conf *c, const char *text)
{
	struct buf	 err = BUF_INIT;
	char		 path[512];

	write_conf(text, path, sizeof(path));
	memset(c, 0, sizeof(*c));
	if (conf_load(c, path, &err) == -1) {
		fprintf(stderr, "%s\n", buf_str(&err));
		exit(2);
	}
	buf_release(&err);
	return conf_account(c, "a");
}

/* The error conf_load() gives for `text`, or "" when it loads. */
static void
load_error(const char *text, struct buf *err)
{
	struct conf	 c;
	char		 path[512];

	write_conf(text, path, sizeof(path));
	memset(&c, 0, sizeof(c));
	buf_reset(err);
	if (conf_load(&c, path, err) == 0)
		conf_release(&c);
	else {
		/* Drop "PATH:" so the expectation does not hold the path. */
		const char *p = strchr(buf_str(err), ':');
		char *rest = strdup(p != NULL ? p + 1 : buf_str(err));

		buf_reset(err);
		buf_addstr(err, rest);
		free(rest);
	}
}

/* The resolution of `text`'s account "a": 0 with *cfg, or -1 and err. */
static int
resolve(const char *text, struct oauth_cfg *cfg, struct conf *c,
    struct buf *err)
{
	const struct account	*a = load(c, text);

	buf_reset(err);
	return oauth_cfg_from_account(cfg, a, err);
}

static void
test_presets(void)
{
	struct oauth_cfg	 cfg;
	struct conf		 c;
	struct buf		 err = BUF_INIT;

	CHECK_INT(resolve("account a\nhost h\nuser u@gmail.com\n"
	    "oauth_provider google\noauth_client_id cid\n", &cfg, &c, &err),
	    0);
	CHECK_STR(cfg.token_url, "https://oauth2.googleapis.com/token");
	CHECK_STR(cfg.auth_url, "https://accounts.google.com/o/oauth2/v2/auth");
	CHECK(cfg.device_url == NULL);
	CHECK_STR(cfg.scope, "https://mail.google.com/");
	CHECK_STR(cfg.client_id, "cid");
	CHECK(cfg.trust_file == NULL);
	CHECK_INT(cfg.timeout, 60);
	oauth_cfg_release(&cfg);
	conf_release(&c);

	CHECK_INT(resolve("account a\nhost h\nuser u@example.com\n"
	    "oauth_provider microsoft\noauth_client_id cid\n", &cfg, &c,
	    &err), 0);
	CHECK_STR(cfg.token_url, "https://login.microsoftonline.com/common/"
	    "oauth2/v2.0/token");
	CHECK_STR(cfg.auth_url, "https://login.microsoftonline.com/common/"
	    "oauth2/v2.0/authorize");
	CHECK_STR(cfg.device_url, "https://login.microsoftonline.com/common/"
	    "oauth2/v2.0/devicecode");
	CHECK_STR(cfg.scope, "https://outlook.office.com/SMTP.Send "
	    "offline_access");
	oauth_cfg_release(&cfg);
	conf_release(&c);

	CHECK_INT(resolve("account a\nhost h\nuser u@example.com\n"
	    "timeout 20\noauth_provider microsoft\noauth_tenant example.com\n"
	    "oauth_client_id cid\noauth_scope \"https://x/SMTP.Send\"\n"
	    "oauth_trust_file /etc/ca.pem\n", &cfg, &c, &err), 0);
	CHECK_STR(cfg.token_url, "https://login.microsoftonline.com/"
	    "example.com/oauth2/v2.0/token");
	CHECK_STR(cfg.device_url, "https://login.microsoftonline.com/"
	    "example.com/oauth2/v2.0/devicecode");
	CHECK_STR(cfg.scope, "https://x/SMTP.Send");
	CHECK_STR(cfg.trust_file, "/etc/ca.pem");
	CHECK_INT(cfg.timeout, 20);
	oauth_cfg_release(&cfg);
	conf_release(&c);

	CHECK_INT(resolve("account a\nhost h\nuser u\noauth_provider custom\n"
	    "oauth_client_id cid\noauth_token_url https://127.0.0.1:8443/t\n"
	    "oauth_device_url https://127.0.0.1:8443/d\n"
	    "oauth_trust_file system\n", &cfg, &c, &err), 0);
	CHECK_STR(cfg.token_url, "https://127.0.0.1:8443/t");
	CHECK_STR(cfg.device_url, "https://127.0.0.1:8443/d");
	CHECK(cfg.auth_url == NULL);
	CHECK(cfg.scope == NULL);
	CHECK(cfg.trust_file == NULL);
	oauth_cfg_release(&cfg);
	conf_release(&c);
	buf_release(&err);
}

static void
expect_error(const char *text, const char *want)
{
	struct oauth_cfg	 cfg;
	struct conf		 c;
	struct buf		 err = BUF_INIT;

	CHECK_INT(resolve(text, &cfg, &c, &err), -1);
	CHECK_STR(buf_str(&err), want);
	conf_release(&c);
	buf_release(&err);
}

static void
test_mistakes(void)
{
	struct buf	 err = BUF_INIT;

	expect_error("account a\nhost h\nuser u\noauth_provider google\n",
	    "account 'a': oauth_provider needs oauth_client_id");
	expect_error("account a\nhost h\nuser u\noauth_provider google\n"
	    "oauth_client_id c\npassword p\n", "account 'a': password cannot "
	    "be used with oauth_provider (the token comes from the token "
	    "store)");
	expect_error("account a\nhost h\nuser u\noauth_provider google\n"
	    "oauth_client_id c\npasswordeval echo\n", "account 'a': "
	    "passwordeval cannot be used with oauth_provider (the token "
	    "comes from the token store)");
	expect_error("account a\nhost h\noauth_provider google\n"
	    "oauth_client_id c\n", "account 'a': oauth_provider needs 'user' "
	    "(the mailbox the token is for)");
	expect_error("account a\nhost h\nuser u\nauth plain\n"
	    "oauth_provider google\noauth_client_id c\n", "account 'a': "
	    "oauth_provider needs auth oauthbearer, xoauth2 or on, not "
	    "'plain'");
	expect_error("account a\nhost h\nuser u\noauth_provider custom\n"
	    "oauth_client_id c\n", "account 'a': oauth_provider custom needs "
	    "oauth_token_url");
	expect_error("account a\nhost h\nuser u\noauth_provider google\n"
	    "oauth_tenant t\noauth_client_id c\n", "account 'a': oauth_tenant "
	    "is for oauth_provider microsoft");
	expect_error("account a\nhost h\nuser u\noauth_provider microsoft\n"
	    "oauth_tenant ../x\noauth_client_id c\n", "account 'a': invalid "
	    "oauth_tenant '../x'");
	expect_error("account a\nhost h\nuser u\n", "account 'a' has no "
	    "oauth_provider");

	load_error("account a\noauth_provider yahoo\n", &err);
	CHECK_STR(buf_str(&err), "2: invalid oauth_provider 'yahoo': expected "
	    "google, microsoft or custom");
	load_error("account a\noauth_token_url http://x/token\n", &err);
	CHECK_STR(buf_str(&err), "2: invalid oauth_token_url 'http://x/token': "
	    "expected an https:// URL");
	load_error("account a\noauth_device_url https://x/a b\n", &err);
	CHECK_STR(buf_str(&err), "2: invalid oauth_device_url 'https://x/a b': "
	    "expected an https:// URL");
	load_error("account a\noauth_auth_url https://\n", &err);
	CHECK_STR(buf_str(&err), "2: invalid oauth_auth_url 'https://': "
	    "expected an https:// URL");
	buf_release(&err);
}

/* -P's view: the client secret is a '*', inherited keywords keep their
 * origin. */
static void
test_show(void)
{
	struct conf		 c;
	const struct account	*a;
	struct buf		 v = BUF_INIT, from = BUF_INIT;
	const char		*name;
	size_t			 i;
	int			 seen = 0;

	a = load(&c, "defaults\noauth_provider google\n"
	    "oauth_client_secret s3cr3t\naccount a\nhost h\nuser u\n"
	    "oauth_client_id cid\n");
	for (i = 0; conf_show(a, i, &name, &v, &from) == 0; i++) {
		if (strcmp(name, "oauth_client_secret") == 0) {
			CHECK_STR(buf_str(&v), "*");
			seen++;
		} else if (strcmp(name, "oauth_provider") == 0) {
			CHECK_STR(buf_str(&v), "google");
			CHECK(strstr(buf_str(&from), ":2") != NULL);
			seen++;
		} else if (strcmp(name, "oauth_tenant") == 0) {
			CHECK_STR(buf_str(&v), "(not set)");
			seen++;
		}
		CHECK(strstr(buf_str(&v), "s3cr3t") == NULL);
		buf_reset(&v);
		buf_reset(&from);
	}
	CHECK_INT(seen, 3);
	buf_release(&v);
	buf_release(&from);
	conf_release(&c);
}

int
main(void)
{
	char	 cmd[600];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_presets();
	test_mistakes();
	test_show();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return t_done();
}
