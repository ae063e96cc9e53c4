#ifndef POSTIE_CONF_H
#define POSTIE_CONF_H

#include "buf.h"
#include "strlist.h"

/*
 * Configuration in msmtp's syntax and keywords (a ~/.msmtprc works
 * unchanged): `defaults`, `account NAME [: parent, ...]`,
 * `account default : NAME`, one `keyword argument` per line, `#` comments,
 * no line-length limit.  Settings given under `defaults` apply to every
 * account defined after them; an account with parents starts as a copy of
 * them, in order, then applies its own lines.
 */

enum proto { PROTO_SMTP, PROTO_LMTP };
enum hdr_mode { HDR_AUTO, HDR_ON, HDR_OFF };

/* queue_lifetime when the configuration says nothing: five days. */
#define CONF_DEFAULT_LIFETIME	(5 * 24 * 60 * 60)

/* Size of the per-keyword bookkeeping below; more than postie knows. */
#define CONF_NKW	64

struct account {
	char		*name;
	const char	*file;		/* where it was defined, for errors */
	int		 line;

	char		*host;
	int		 port;		/* 0: the protocol's default */
	char		*socket;	/* unix socket path, replaces host */
	char		*source_ip;
	char		*from;		/* envelope sender, or a pattern */
	char		*from_full_name; /* display name of an added From */
	char		*domain;	/* EHLO argument */
	char		*maildomain;	/* qualifies bare local names */
	int		 timeout;	/* seconds; 0 ("off"): postie's default */
	enum proto	 protocol;
	char		*logfile;
	char		*logfile_time_format;
	char		*syslog;	/* NULL: off; "on": postie's facility;
					 * else "LOG_MAIL", "LOG_USER" or
					 * "LOG_LOCAL0".."LOG_LOCAL7" */
	int		 syslog_set;	/* 1 when the keyword was given */
	char		*aliases;	/* path of an aliases file */
	int		 auto_from;	/* msmtp: from = user@maildomain */
	enum hdr_mode	 set_from_header;
	enum hdr_mode	 set_date_header;	/* AUTO or OFF */
	enum hdr_mode	 set_msgid_header;	/* AUTO or OFF */
	enum hdr_mode	 set_to_header;		/* ON or OFF */
	int		 remove_bcc_headers;	/* accepted; Bcc always goes */
	int		 undisclosed_recipients;
	int		 allow_from_override;	/* 0: -f does not replace from */
	int		 queue;		/* keep what fails temporarily (on) */
	char		*queue_dir;	/* absolute; NULL: the default place */
	int		 queue_lifetime; /* seconds before a bounce (5 days) */

	/* OAuth2 (oauth.h): an OAuth account has oauth_provider ("google",
	 * "microsoft" or "custom"); URLs are https, checked when parsed. */
	char		*oauth_provider;
	char		*oauth_tenant;
	char		*oauth_client_id;
	char		*oauth_client_secret;	/* wiped when released */
	char		*oauth_client_secret_eval;
	char		*oauth_token_url;
	char		*oauth_auth_url;
	char		*oauth_device_url;
	char		*oauth_scope;
	char		*oauth_trust_file;

	/* TLS and authentication: parsed, validated as msmtp does and kept
	 * as written (on/off keywords as "on" or "off", NULL when unset:
	 * the engine tells "unset" from "off", e.g. `tls` unset means TLS
	 * is required except on loopback and unix sockets).  `auth` is
	 * "on", "off" or a lower-case mechanism name ("scram-sha-256-plus");
	 * conf_check_supported() refuses the msmtp methods postie lacks
	 * (digest-md5, gssapi, ntlm).  Paths have "~/" expanded. */
	char		*tls;
	char		*tls_starttls;
	char		*tls_trust_file;
	char		*tls_crl_file;
	char		*tls_fingerprint;
	char		*tls_key_file;
	char		*tls_cert_file;
	char		*tls_certcheck;
	char		*tls_priorities;
	char		*tls_host_override;
	char		*tls_min_dh_prime_bits;
	char		*auth;		/* "on", "off" or a method ("plain") */
	char		*user;
	char		*password;	/* wiped when released */
	char		*passwordeval;
	char		*ntlmdomain;

	/* dsn_* give -N/-R defaults (DSN requests); proxy_* and eval are
	 * refused by conf_check_supported().  The old names (connect_timeout, keepbcc,
	 * tls_nocertcheck, tls_nostarttls, add_missing_from_header,
	 * add_missing_date_header) set the fields above; tls_force_sslv3
	 * is accepted and ignored, as msmtp does. */
	char		*dsn_notify;	/* NULL ("off"), "never", "failure,delay" */
	char		*dsn_return;	/* NULL ("off"), "headers" or "full" */
	char		*proxy_host;
	int		 proxy_port;
	char		*eval;		/* the last eval command, unrun */

	/* Internal: keywords given in this account or inherited from its
	 * parents (msmtp's mask), and the line each value came from
	 * (0: built-in default). */
	unsigned long long set;
	int		 kw_line[CONF_NKW];
};

struct conf {
	char		*path;		/* the file that was read, or NULL */
	struct account	*accounts;	/* in file order; `defaults` not included */
	unsigned	 naccounts;
	char		*default_name;	/* first parent in "account default :
					 * NAME" (that line defines an account
					 * named "default", as in msmtp) */
};

/*
 * Read `path`.  On error returns -1 and puts "FILE:LINE: message" in
 * `err` (or "FILE: message" when no line applies), leaving the conf
 * empty; the caller exits EX_CONFIG.  A missing file is an error here:
 * conf_find_file() decides which file to read.  The conf must be zeroed
 * (or released) before the call; conf_release() is safe on a zeroed one.
 */
int	 conf_load(struct conf *, const char *path, struct buf *err);
/* The same on `fd`, open on `path` already; the fd is closed. */
int	 conf_load_fd(struct conf *, int fd, const char *path,
	    struct buf *err);
void	 conf_release(struct conf *);

/*
 * Find the file to read when -C is not given, in this order:
 * $XDG_CONFIG_HOME/postie/config (or ~/.config/postie/config),
 * ~/.postierc, SYSCONFDIR/postie.conf, then msmtp's ~/.msmtprc,
 * $XDG_CONFIG_HOME/msmtp/config, SYSCONFDIR/msmtprc.  Works with HOME
 * unset or "/" (home_dir()); $XDG_CONFIG_HOME counts only when absolute.
 * A path that exists but cannot be read is returned, so that the caller
 * reports it.  Returns an allocated path or NULL when none exists;
 * *system is 1 when it is one of the two SYSCONFDIR files (the system
 * configuration), 0 for a user's.  Only stat(2) is used: nothing is
 * opened.
 */
char	*conf_find_file(int *system);

/*
 * Append to `out` the files conf_find_file() tries, in its order, as it
 * spells them: $XDG_CONFIG_HOME or its fallback ~/.config, and the home
 * directory, filled in; those in a home directory are left out when
 * there is none.
 */
void	 conf_search_path(struct strlist *out);

/* `path` is SYSCONFDIR/postie.conf or SYSCONFDIR/msmtprc, spelled so. */
int	 conf_is_system_path(const char *path);

/*
 * The account to use: `name` when given (NULL when no such account),
 * else the account named "default" (which "account default : NAME"
 * defines), else the first account.  A config with no accounts but
 * `defaults` yields the defaults as an account named "default".
 */
const struct account *conf_account(const struct conf *, const char *name);

/*
 * Refuse settings that postie parses but cannot act on yet: -1 with
 * "FILE:LINE: 'tls' is not yet supported" in `err`, naming the line that
 * set it (in the account, a parent or `defaults`).  Refused now:
 * proxy_host, eval, and `auth digest-md5|gssapi|ntlm` ("'auth gssapi' is
 * not supported (postie has ...)").
 */
int	 conf_check_supported(const struct account *, struct buf *err);

/*
 * The first account (file order) whose `from` matches the envelope
 * sender `from`, or NULL.  As msmtp (1.8.16+), `from` may be a shell
 * pattern with '*', '?' and '[...]' (fnmatch(3)); the domain part is
 * compared without case; "user+detail@dom" also matches what
 * "user@dom" matches.  The caller uses it when -a was not given.
 */
const struct account *conf_account_for_from(const struct conf *,
	    const char *from);

/* `from` (an account's) holds a wildcard: it names a set of senders and
 * is never itself a sender. */
int	 conf_from_is_pattern(const char *from);
/* `addr` is one of the senders `pattern` names (the match above). */
int	 conf_from_match(const char *pattern, const char *addr);

/*
 * Set one keyword of `a` from the command line (--port=25 ...), with the
 * same parsing and checks as a line of the file.  `a` must own its
 * strings (conf_account_dup()).  Returns 0, or -1 with "command line:
 * invalid port 'x': ..." in `err` (the caller exits EX_USAGE).
 */
int	 conf_override(struct account *, const char *keyword,
	    const char *value, struct buf *err);

/*
 * -P's view of entry `i` of the parser's table (every keyword it accepts,
 * old names included, in its order): `*name`, the value in `a` as a line
 * of the file would spell it ("on", "5d", "(not set)"; an old name reads
 * "(old name of timeout)") added to `value`, and where the value came
 * from added to `from`: "FILE:LINE", "command line" or "default".  A
 * password shows as "*", eval as "(set)": never a secret.  Returns 0, or
 * -1 once `i` is past the last entry.
 */
int	 conf_show(const struct account *a, size_t i, const char **name,
	    struct buf *value, struct buf *from);

/* Where `keyword` (a canonical name) got its value, as conf_show() says
 * it; -1 for a name postie does not know. */
int	 conf_origin(const struct account *a, const char *keyword,
	    struct buf *out);

/* A deep copy of an account, released with conf_account_free(). */
void	 conf_account_dup(struct account *dst, const struct account *src);
void	 conf_account_free(struct account *);

/* Built-in defaults applied before any file. */
void	 account_defaults(struct account *);

#endif
