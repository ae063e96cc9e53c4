#ifndef POSTIE_CONF_H
#define POSTIE_CONF_H

#include "buf.h"

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

struct account {
	char		*name;
	const char	*file;		/* where it was defined, for errors */
	int		 line;

	char		*host;
	int		 port;		/* 0: the protocol's default */
	char		*socket;	/* unix socket path, replaces host */
	char		*source_ip;
	char		*from;		/* envelope sender */
	char		*domain;	/* EHLO argument */
	char		*maildomain;	/* qualifies bare local names */
	int		 timeout;	/* seconds; 0: postie's default */
	enum proto	 protocol;
	char		*logfile;
	char		*logfile_time_format;
	char		*syslog;	/* NULL: off; "LOG_MAIL" etc. */
	int		 syslog_set;	/* 1 when the keyword was given */
	char		*aliases;	/* path of an aliases file */
	int		 auto_from;	/* msmtp: from = user@maildomain */
	enum hdr_mode	 set_from_header;
	enum hdr_mode	 set_date_header;	/* AUTO or OFF */
	enum hdr_mode	 set_msgid_header;	/* AUTO or OFF */
	enum hdr_mode	 set_to_header;		/* ON or OFF */
	int		 remove_bcc_headers;	/* accepted; Bcc always goes */
	int		 undisclosed_recipients;

	/* TLS and authentication: parsed and kept verbatim; until they are
	 * implemented, conf_check_supported() refuses them. */
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
	char		*auth;
	char		*user;
	char		*password;
	char		*passwordeval;
	char		*ntlmdomain;

	/* msmtp keywords postie accepts for compatibility but does not act
	 * on (dsn_* and friends arrive with later work). */
	char		*dsn_notify;
	char		*dsn_return;
	char		*add_missing_from_header;	/* old name */
	char		*add_missing_date_header;	/* old name */

	unsigned long long set;		/* internal: which keywords were given */
	unsigned long long set2;
};

struct conf {
	const char	*path;		/* the file that was read, or NULL */
	struct account	*accounts;	/* in file order; `defaults` not included */
	unsigned	 naccounts;
	char		*default_name;	/* from "account default : NAME" */
};

/*
 * Read `path`.  On error returns -1 and puts "FILE:LINE: message" in
 * `err` (or "FILE: message" when no line applies); the caller exits
 * EX_CONFIG.  A missing file is an error here: conf_find_file() decides
 * which file to read.
 */
int	 conf_load(struct conf *, const char *path, struct buf *err);
void	 conf_release(struct conf *);

/*
 * Find the file to read when -C is not given, in this order:
 * $XDG_CONFIG_HOME/postie/config (or ~/.config/postie/config),
 * ~/.postierc, SYSCONFDIR/postie.conf, then msmtp's ~/.msmtprc,
 * $XDG_CONFIG_HOME/msmtp/config, SYSCONFDIR/msmtprc.  Works with HOME
 * unset or "/".  Returns an allocated path or NULL when none exists.
 */
char	*conf_find_file(void);

/*
 * The account to use: `name` when given (NULL when no such account),
 * else the one named by "account default", else the account literally
 * named "default", else the first account.  A config with no accounts but
 * `defaults` yields the defaults as an account named "default".
 */
const struct account *conf_account(const struct conf *, const char *name);

/*
 * Refuse settings that postie parses but cannot act on yet (TLS and
 * authentication keywords): -1 with "FILE:LINE: 'tls' is not yet
 * supported" in `err`.
 */
int	 conf_check_supported(const struct account *, struct buf *err);

/* Built-in defaults applied before any file. */
void	 account_defaults(struct account *);

#endif
