#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

/*
 * msmtp's configuration syntax, as msmtp 1.8 reads it:
 *  - a line is blank-separated "command argument"; blanks are space and
 *    tab; a trailing CR (CRLF files) is dropped;
 *  - a line whose first non-blank character is '#' is a comment; a '#'
 *    anywhere else is part of the argument;
 *  - the argument runs to the end of the line, without leading and
 *    trailing blanks; when it then starts and ends with '"' those two
 *    quotes are removed (there are no escapes: "a\"b" is a\"b);
 *  - commands are case-sensitive; an on/off command given no argument
 *    means on;
 *  - lines before any `account` or `defaults` belong to an account named
 *    "default".
 */

/* Keyword ids: an account's fields, in the order of the table below. */
enum kw {
	K_HOST, K_PORT, K_FROM, K_DOMAIN, K_TIMEOUT, K_PROTOCOL, K_SOCKET,
	K_SOURCE_IP, K_LOGFILE, K_LOGFILE_TIME_FORMAT, K_SYSLOG, K_ALIASES,
	K_SET_FROM_HEADER, K_SET_DATE_HEADER, K_SET_MSGID_HEADER,
	K_SET_TO_HEADER, K_REMOVE_BCC_HEADERS, K_AUTO_FROM, K_MAILDOMAIN,
	K_UNDISCLOSED_RECIPIENTS, K_ALLOW_FROM_OVERRIDE,
	K_TLS, K_TLS_STARTTLS, K_TLS_TRUST_FILE, K_TLS_CRL_FILE,
	K_TLS_FINGERPRINT, K_TLS_KEY_FILE, K_TLS_CERT_FILE, K_TLS_CERTCHECK,
	K_TLS_PRIORITIES, K_TLS_HOST_OVERRIDE, K_TLS_MIN_DH_PRIME_BITS,
	K_AUTH, K_USER, K_PASSWORD, K_PASSWORDEVAL, K_NTLMDOMAIN,
	K_DSN_NOTIFY, K_DSN_RETURN, K_PROXY_HOST, K_PROXY_PORT, K_EVAL,
	K_TLS_FORCE_SSLV3, K_FROM_FULL_NAME,
	K_QUEUE, K_QUEUE_DIR, K_QUEUE_LIFETIME,
	K_OAUTH_PROVIDER, K_OAUTH_TENANT, K_OAUTH_CLIENT_ID,
	K_OAUTH_CLIENT_SECRET, K_OAUTH_CLIENT_SECRET_EVAL, K_OAUTH_TOKEN_URL,
	K_OAUTH_AUTH_URL, K_OAUTH_DEVICE_URL, K_OAUTH_SCOPE,
	K_OAUTH_TRUST_FILE,
	K_COUNT
};

/* How a field is stored. */
enum store { S_STR, S_INT, S_PROTO, S_HDR, S_NONE };

/* How an argument is read. */
enum parse {
	P_STR,		/* empty: unset */
	P_STR_NEED,	/* empty: error */
	P_PATH,		/* "~/" expanded; empty: unset */
	P_PORT,		/* 1..65535, needed */
	P_PORT_OPT,	/* 1..65535; empty: unset */
	P_TIMEOUT,	/* off or seconds, needed */
	P_PROTOCOL,
	P_ONOFF,	/* int; empty: on */
	P_ONOFF_STR,	/* "on"/"off"; empty: on */
	P_HDR3,		/* auto/on/off; empty: auto */
	P_HDR2,		/* auto/off; empty: auto */
	P_HDR_OLD,	/* add_missing_*: on -> auto, off -> off */
	P_INV_ONOFF,	/* keepbcc: on -> remove_bcc_headers off */
	P_NOARG_OFF,	/* tls_nocertcheck: no argument, sets "off" */
	P_SYSLOG,
	P_AUTH,
	P_FINGERPRINT,
	P_POSINT_STR,	/* a positive number kept as text; empty: unset */
	P_DSN_NOTIFY,
	P_DSN_RETURN,
	P_ABSPATH,	/* as P_PATH, and absolute once expanded */
	P_DURATION,	/* 90s, 30m, 4h, 5d (seconds without a unit) */
	P_OAUTH_PROVIDER, /* google, microsoft or custom */
	P_HTTPS_URL,	/* "https://" and printable, no blank; empty: unset */
	P_IGNORE
};

struct keyword {
	const char	*name;
	enum kw		 kw;
	enum parse	 parse;
};

static const struct keyword keywords[] = {
	{ "host",			K_HOST,			P_STR_NEED },
	{ "port",			K_PORT,			P_PORT },
	{ "from",			K_FROM,			P_STR },
	{ "from_full_name",		K_FROM_FULL_NAME,	P_STR },
	{ "domain",			K_DOMAIN,		P_STR },
	{ "timeout",			K_TIMEOUT,		P_TIMEOUT },
	{ "connect_timeout",		K_TIMEOUT,		P_TIMEOUT },
	{ "protocol",			K_PROTOCOL,		P_PROTOCOL },
	{ "socket",			K_SOCKET,		P_PATH },
	{ "source_ip",			K_SOURCE_IP,		P_STR },
	{ "logfile",			K_LOGFILE,		P_PATH },
	{ "logfile_time_format",	K_LOGFILE_TIME_FORMAT,	P_STR },
	{ "syslog",			K_SYSLOG,		P_SYSLOG },
	{ "aliases",			K_ALIASES,		P_PATH },
	{ "set_from_header",		K_SET_FROM_HEADER,	P_HDR3 },
	{ "add_missing_from_header",	K_SET_FROM_HEADER,	P_HDR_OLD },
	{ "set_date_header",		K_SET_DATE_HEADER,	P_HDR2 },
	{ "add_missing_date_header",	K_SET_DATE_HEADER,	P_HDR_OLD },
	{ "set_msgid_header",		K_SET_MSGID_HEADER,	P_HDR2 },
	{ "set_to_header",		K_SET_TO_HEADER,	P_ONOFF },
	{ "remove_bcc_headers",		K_REMOVE_BCC_HEADERS,	P_ONOFF },
	{ "keepbcc",			K_REMOVE_BCC_HEADERS,	P_INV_ONOFF },
	{ "auto_from",			K_AUTO_FROM,		P_ONOFF },
	{ "maildomain",			K_MAILDOMAIN,		P_STR },
	{ "undisclosed_recipients",	K_UNDISCLOSED_RECIPIENTS, P_ONOFF },
	{ "allow_from_override",	K_ALLOW_FROM_OVERRIDE,	P_ONOFF },
	{ "tls",			K_TLS,			P_ONOFF_STR },
	{ "tls_starttls",		K_TLS_STARTTLS,		P_ONOFF_STR },
	{ "tls_nostarttls",		K_TLS_STARTTLS,		P_NOARG_OFF },
	{ "tls_trust_file",		K_TLS_TRUST_FILE,	P_PATH },
	{ "tls_crl_file",		K_TLS_CRL_FILE,		P_PATH },
	{ "tls_fingerprint",		K_TLS_FINGERPRINT,	P_FINGERPRINT },
	{ "tls_key_file",		K_TLS_KEY_FILE,		P_PATH },
	{ "tls_cert_file",		K_TLS_CERT_FILE,	P_PATH },
	{ "tls_certcheck",		K_TLS_CERTCHECK,	P_ONOFF_STR },
	{ "tls_nocertcheck",		K_TLS_CERTCHECK,	P_NOARG_OFF },
	{ "tls_priorities",		K_TLS_PRIORITIES,	P_STR },
	{ "tls_host_override",		K_TLS_HOST_OVERRIDE,	P_STR },
	{ "tls_min_dh_prime_bits",	K_TLS_MIN_DH_PRIME_BITS, P_POSINT_STR },
	{ "tls_force_sslv3",		K_TLS_FORCE_SSLV3,	P_IGNORE },
	{ "auth",			K_AUTH,			P_AUTH },
	{ "user",			K_USER,			P_STR },
	{ "password",			K_PASSWORD,		P_STR },
	{ "passwordeval",		K_PASSWORDEVAL,		P_STR },
	{ "ntlmdomain",			K_NTLMDOMAIN,		P_STR },
	{ "dsn_notify",			K_DSN_NOTIFY,		P_DSN_NOTIFY },
	{ "dsn_return",			K_DSN_RETURN,		P_DSN_RETURN },
	{ "proxy_host",			K_PROXY_HOST,		P_STR },
	{ "proxy_port",			K_PROXY_PORT,		P_PORT_OPT },
	{ "eval",			K_EVAL,			P_STR_NEED },
	{ "queue",			K_QUEUE,		P_ONOFF },
	{ "queue_dir",			K_QUEUE_DIR,		P_ABSPATH },
	{ "queue_lifetime",		K_QUEUE_LIFETIME,	P_DURATION },
	{ "oauth_provider",		K_OAUTH_PROVIDER,	P_OAUTH_PROVIDER },
	{ "oauth_tenant",		K_OAUTH_TENANT,		P_STR },
	{ "oauth_client_id",		K_OAUTH_CLIENT_ID,	P_STR },
	{ "oauth_client_secret",	K_OAUTH_CLIENT_SECRET,	P_STR },
	{ "oauth_client_secret_eval",	K_OAUTH_CLIENT_SECRET_EVAL, P_STR },
	{ "oauth_token_url",		K_OAUTH_TOKEN_URL,	P_HTTPS_URL },
	{ "oauth_auth_url",		K_OAUTH_AUTH_URL,	P_HTTPS_URL },
	{ "oauth_device_url",		K_OAUTH_DEVICE_URL,	P_HTTPS_URL },
	{ "oauth_scope",		K_OAUTH_SCOPE,		P_STR },
	{ "oauth_trust_file",		K_OAUTH_TRUST_FILE,	P_PATH },
};

/* Where each keyword's value lives, and its canonical name. */
struct field {
	const char	*name;
	enum store	 store;
	size_t		 off;
};

#define F(n, s, m)	{ n, s, offsetof(struct account, m) }

static const struct field fields[K_COUNT] = {
	[K_HOST] = F("host", S_STR, host),
	[K_PORT] = F("port", S_INT, port),
	[K_FROM] = F("from", S_STR, from),
	[K_DOMAIN] = F("domain", S_STR, domain),
	[K_TIMEOUT] = F("timeout", S_INT, timeout),
	[K_PROTOCOL] = F("protocol", S_PROTO, protocol),
	[K_SOCKET] = F("socket", S_STR, socket),
	[K_SOURCE_IP] = F("source_ip", S_STR, source_ip),
	[K_LOGFILE] = F("logfile", S_STR, logfile),
	[K_LOGFILE_TIME_FORMAT] =
	    F("logfile_time_format", S_STR, logfile_time_format),
	[K_SYSLOG] = F("syslog", S_STR, syslog),
	[K_ALIASES] = F("aliases", S_STR, aliases),
	[K_SET_FROM_HEADER] = F("set_from_header", S_HDR, set_from_header),
	[K_SET_DATE_HEADER] = F("set_date_header", S_HDR, set_date_header),
	[K_SET_MSGID_HEADER] = F("set_msgid_header", S_HDR, set_msgid_header),
	[K_SET_TO_HEADER] = F("set_to_header", S_HDR, set_to_header),
	[K_REMOVE_BCC_HEADERS] =
	    F("remove_bcc_headers", S_INT, remove_bcc_headers),
	[K_AUTO_FROM] = F("auto_from", S_INT, auto_from),
	[K_MAILDOMAIN] = F("maildomain", S_STR, maildomain),
	[K_UNDISCLOSED_RECIPIENTS] =
	    F("undisclosed_recipients", S_INT, undisclosed_recipients),
	[K_ALLOW_FROM_OVERRIDE] =
	    F("allow_from_override", S_INT, allow_from_override),
	[K_TLS] = F("tls", S_STR, tls),
	[K_TLS_STARTTLS] = F("tls_starttls", S_STR, tls_starttls),
	[K_TLS_TRUST_FILE] = F("tls_trust_file", S_STR, tls_trust_file),
	[K_TLS_CRL_FILE] = F("tls_crl_file", S_STR, tls_crl_file),
	[K_TLS_FINGERPRINT] = F("tls_fingerprint", S_STR, tls_fingerprint),
	[K_TLS_KEY_FILE] = F("tls_key_file", S_STR, tls_key_file),
	[K_TLS_CERT_FILE] = F("tls_cert_file", S_STR, tls_cert_file),
	[K_TLS_CERTCHECK] = F("tls_certcheck", S_STR, tls_certcheck),
	[K_TLS_PRIORITIES] = F("tls_priorities", S_STR, tls_priorities),
	[K_TLS_HOST_OVERRIDE] =
	    F("tls_host_override", S_STR, tls_host_override),
	[K_TLS_MIN_DH_PRIME_BITS] =
	    F("tls_min_dh_prime_bits", S_STR, tls_min_dh_prime_bits),
	[K_AUTH] = F("auth", S_STR, auth),
	[K_USER] = F("user", S_STR, user),
	[K_PASSWORD] = F("password", S_STR, password),
	[K_PASSWORDEVAL] = F("passwordeval", S_STR, passwordeval),
	[K_NTLMDOMAIN] = F("ntlmdomain", S_STR, ntlmdomain),
	[K_DSN_NOTIFY] = F("dsn_notify", S_STR, dsn_notify),
	[K_DSN_RETURN] = F("dsn_return", S_STR, dsn_return),
	[K_PROXY_HOST] = F("proxy_host", S_STR, proxy_host),
	[K_PROXY_PORT] = F("proxy_port", S_INT, proxy_port),
	[K_EVAL] = F("eval", S_STR, eval),
	[K_TLS_FORCE_SSLV3] = { "tls_force_sslv3", S_NONE, 0 },
	[K_FROM_FULL_NAME] = F("from_full_name", S_STR, from_full_name),
	[K_QUEUE] = F("queue", S_INT, queue),
	[K_QUEUE_DIR] = F("queue_dir", S_STR, queue_dir),
	[K_QUEUE_LIFETIME] = F("queue_lifetime", S_INT, queue_lifetime),
	[K_OAUTH_PROVIDER] = F("oauth_provider", S_STR, oauth_provider),
	[K_OAUTH_TENANT] = F("oauth_tenant", S_STR, oauth_tenant),
	[K_OAUTH_CLIENT_ID] = F("oauth_client_id", S_STR, oauth_client_id),
	[K_OAUTH_CLIENT_SECRET] =
	    F("oauth_client_secret", S_STR, oauth_client_secret),
	[K_OAUTH_CLIENT_SECRET_EVAL] =
	    F("oauth_client_secret_eval", S_STR, oauth_client_secret_eval),
	[K_OAUTH_TOKEN_URL] = F("oauth_token_url", S_STR, oauth_token_url),
	[K_OAUTH_AUTH_URL] = F("oauth_auth_url", S_STR, oauth_auth_url),
	[K_OAUTH_DEVICE_URL] = F("oauth_device_url", S_STR, oauth_device_url),
	[K_OAUTH_SCOPE] = F("oauth_scope", S_STR, oauth_scope),
	[K_OAUTH_TRUST_FILE] = F("oauth_trust_file", S_STR, oauth_trust_file),
};

#undef F

_Static_assert(K_COUNT <= CONF_NKW, "CONF_NKW too small");
_Static_assert(K_COUNT <= 64, "the set mask holds 64 keywords");

/* A section being read: `defaults` or an account. */
struct parser {
	struct conf	*conf;
	struct account	 defaults;
	struct account	*cur;		/* NULL before the first section */
	int		 saw_defaults;
	int		 line;
	struct buf	*err;
};

static int	 is_blank(int);
static char	*trim(char *);
static char	**str_field(struct account *, enum kw);
static void	 str_free(char *, enum kw);
static void	 set_str(struct account *, enum kw, const char *);
static void	 copy_kw(struct account *, const struct account *, enum kw);
static void	 account_copy(struct account *, const struct account *);
static void	 account_free(struct account *);
static int	 perr(struct parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 parse_int(const char *, long, long, int *);
static int	 parse_duration(const char *, int *);
static int	 is_fingerprint(const char *);
static int	 fingerprint_ok(const char *);
static int	 is_dsn_notify(const char *);
static int	 is_host_list(const char *);
static int	 is_https_url(const char *);
static int	 expand_path(struct parser *, const char *, char **);
static int	 do_keyword(struct parser *, const struct keyword *, char *);
static int	 do_account(struct parser *, char *);
static struct account *find_account(const struct conf *, const char *);
static struct account *new_account(struct parser *, const char *);
static int	 do_line(struct parser *, char *, size_t);
static int	 exists(const char *);
static int	 candidate(int, struct buf *);
static void	 origin(const struct account *, enum kw, struct buf *);
static void	 show_value(const struct account *, const struct keyword *,
		    struct buf *);

/* Syntax only (http.c parses it when used): tokens never go in clear,
 * and a URL with a blank or a control character is a typo. */
static int
is_https_url(const char *s)
{
	size_t	 i;

	if (strncmp(s, "https://", 8) != 0 || s[8] == '\0')
		return 0;
	for (i = 8; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] > '~' || i > 2048)
			return 0;
	return 1;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Strip blanks at both ends, then one pair of enclosing double quotes. */
static char *
trim(char *s)
{
	size_t	 n;

	while (is_blank((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank((unsigned char)s[n - 1]))
		n--;
	s[n] = '\0';
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

static char **
str_field(struct account *a, enum kw k)
{
	return (char **)(void *)((char *)a + fields[k].off);
}

static void
str_free(char *s, enum kw k)
{
	if (s != NULL && (k == K_PASSWORD || k == K_OAUTH_CLIENT_SECRET))
		explicit_bzero(s, strlen(s));
	free(s);
}

static void
set_str(struct account *a, enum kw k, const char *v)
{
	char	**p = str_field(a, k);

	str_free(*p, k);
	*p = v != NULL ? xstrdup(v) : NULL;
}

/* Copy keyword `k`'s value (and the line it came from) from `src`. */
static void
copy_kw(struct account *dst, const struct account *src, enum kw k)
{
	const char	*base = (const char *)src + fields[k].off;
	char		*dbase = (char *)dst + fields[k].off;

	switch (fields[k].store) {
	case S_STR:
		set_str(dst, k, *(char *const *)(const void *)base);
		break;
	case S_INT:
		*(int *)(void *)dbase = *(const int *)(const void *)base;
		break;
	case S_PROTO:
		*(enum proto *)(void *)dbase =
		    *(const enum proto *)(const void *)base;
		break;
	case S_HDR:
		*(enum hdr_mode *)(void *)dbase =
		    *(const enum hdr_mode *)(const void *)base;
		break;
	case S_NONE:
		break;
	}
	if (k == K_SYSLOG)
		dst->syslog_set = src->syslog_set;
	dst->kw_line[k] = src->kw_line[k];
}

/* `dst` (fresh from account_defaults()) becomes a deep copy of `src`. */
static void
account_copy(struct account *dst, const struct account *src)
{
	int	 k;

	for (k = 0; k < K_COUNT; k++)
		copy_kw(dst, src, (enum kw)k);
	dst->set = src->set;
}

static void
account_free(struct account *a)
{
	int	 k;

	for (k = 0; k < K_COUNT; k++)
		if (fields[k].store == S_STR)
			set_str(a, (enum kw)k, NULL);
	free(a->name);
	a->name = NULL;
}

void
account_defaults(struct account *a)
{
	memset(a, 0, sizeof(*a));
	a->protocol = PROTO_SMTP;
	a->set_from_header = HDR_AUTO;
	a->set_date_header = HDR_AUTO;
	a->set_msgid_header = HDR_AUTO;
	a->set_to_header = HDR_OFF;
	a->remove_bcc_headers = 1;
	a->allow_from_override = 1;
	a->queue = 1;
	a->queue_lifetime = CONF_DEFAULT_LIFETIME;
}

static int
perr(struct parser *p, const char *fmt, ...)
{
	va_list	 ap;

	buf_reset(p->err);
	if (p->line > 0)
		buf_addf(p->err, "%s:%d: ", p->conf->path, p->line);
	else
		buf_addf(p->err, "%s: ", p->conf->path);
	va_start(ap, fmt);
	buf_vaddf(p->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole number in [min, max], read as msmtp does (strtol, base 0). */
static int
parse_int(const char *s, long min, long max, int *out)
{
	char	*end;
	long	 v;

	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* "90s", "30m", "4h", "5d" or plain seconds: 1 s to 365 days. */
static int
parse_duration(const char *arg, int *out)
{
	static const struct { char unit; int secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }
	};
	char		 num[16];
	size_t		 n = strlen(arg), i;
	int		 v, mult = 1;

	if (n == 0 || n >= sizeof(num))
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (arg[n - 1] == units[i].unit) {
			mult = units[i].secs;
			n--;
			break;
		}
	memcpy(num, arg, n);
	num[n] = '\0';
	if (parse_int(num, 1, 365L * 86400 / mult, &v) == -1)
		return -1;
	*out = v * mult;
	return 0;
}

/* tls_verify.c's own reading of a fingerprint or pin. */
static int
fingerprint_ok(const char *s)
{
	struct buf	 why = BUF_INIT;
	int		 ok;

	ok = tls_fingerprint_check(s, &why) == 0;
	buf_release(&why);
	return ok;
}

/* SHA-256, SHA-1 or MD5 as "01:23:...". */
static int
is_fingerprint(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n != 32 * 3 - 1 && n != 20 * 3 - 1 && n != 16 * 3 - 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return 0;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	}
	return 1;
}

/* "never", or a comma list of failure, delay, success (no repeats). */
static int
is_dsn_notify(const char *s)
{
	static const char *const conds[] = { "failure", "delay", "success" };
	unsigned	 seen = 0, i;
	const char	*e;
	size_t		 n;

	if (strcmp(s, "never") == 0)
		return 1;
	for (;;) {
		e = strchr(s, ',');
		n = e != NULL ? (size_t)(e - s) : strlen(s);
		for (i = 0; i < 3; i++)
			if (strlen(conds[i]) == n &&
			    strncmp(s, conds[i], n) == 0)
				break;
		if (i == 3 || (seen & (1U << i)) != 0)
			return 0;
		seen |= 1U << i;
		if (e == NULL)
			return 1;
		s = e + 1;
	}
}

/*
 * `host`: one name, or several separated by commas (tried in order, see
 * route.c), with no empty one ("a,,b", "a,", " , b"), which would
 * otherwise only show up when the connection is tried.  Blanks around a
 * name are allowed.  The value is kept as written, for -P.
 */
static int
is_host_list(const char *s)
{
	const char	*p;

	for (p = s;; p++) {
		while (is_blank((unsigned char)*p))
			p++;
		if (*p == ',' || *p == '\0')
			return 0;
		if ((p = strchr(p, ',')) == NULL)
			return 1;
	}
}

/* "~" and "~/..." become the home directory; anything else is kept. */
static int
expand_path(struct parser *p, const char *v, char **out)
{
	const char	*home;
	struct buf	 b = BUF_INIT;

	if (v[0] != '~' || (v[1] != '\0' && v[1] != '/')) {
		*out = xstrdup(v);
		return 0;
	}
	if ((home = home_dir()) == NULL)
		return perr(p, "cannot expand '%s': no home directory", v);
	buf_addstr(&b, home);
	buf_addstr(&b, v + 1);
	*out = buf_detach(&b);
	return 0;
}

static int
do_keyword(struct parser *p, const struct keyword *kwd, char *arg)
{
	struct account	*a = p->cur;
	enum kw		 k = kwd->kw;
	const char	*name = kwd->name;
	char		*path = NULL;
	int		 n, on;
	enum hdr_mode	 h;

	switch (kwd->parse) {
	case P_STR:
		set_str(a, k, arg[0] != '\0' ? arg : NULL);
		break;
	case P_STR_NEED:
		if (arg[0] == '\0')
			return perr(p, "'%s' needs an argument", name);
		if (k == K_HOST && !is_host_list(arg))
			return perr(p, "invalid %s '%s': a name in the list is "
			    "empty", name, arg);
		set_str(a, k, arg);
		break;
	case P_PATH:
	case P_ABSPATH:
		if (arg[0] == '\0') {
			set_str(a, k, NULL);
			break;
		}
		if (expand_path(p, arg, &path) == -1)
			return -1;
		if (kwd->parse == P_ABSPATH && path[0] != '/') {
			free(path);
			return perr(p, "%s '%s' is not an absolute path", name,
			    arg);
		}
		set_str(a, k, NULL);
		*str_field(a, k) = path;
		break;
	case P_OAUTH_PROVIDER:
		if (arg[0] != '\0' && strcmp(arg, "google") != 0 &&
		    strcmp(arg, "microsoft") != 0 && strcmp(arg, "custom") != 0)
			return perr(p, "invalid %s '%s': expected google, "
			    "microsoft or custom", name, arg);
		set_str(a, k, arg[0] != '\0' ? arg : NULL);
		break;
	case P_HTTPS_URL:
		if (arg[0] != '\0' && !is_https_url(arg))
			return perr(p, "invalid %s '%s': expected an https:// "
			    "URL", name, arg);
		set_str(a, k, arg[0] != '\0' ? arg : NULL);
		break;
	case P_DURATION:
		if (parse_duration(arg, &n) == -1)
			return perr(p, "invalid %s '%s': expected a number "
			    "with s, m, h or d (90s, 30m, 4h, 5d), at most "
			    "365d", name, arg);
		a->queue_lifetime = n;
		break;
	case P_PORT:
		if (arg[0] == '\0')
			return perr(p, "'%s' needs an argument", name);
		/* FALLTHROUGH */
	case P_PORT_OPT:
		n = 0;
		if (arg[0] != '\0' && parse_int(arg, 1, 65535, &n) == -1)
			return perr(p, "invalid %s '%s': expected 1 to 65535",
			    name, arg);
		if (k == K_PORT)
			a->port = n;
		else
			a->proxy_port = n;
		break;
	case P_TIMEOUT:
		if (arg[0] == '\0')
			return perr(p, "'%s' needs an argument", name);
		if (strcmp(arg, "off") == 0)
			n = 0;
		else if (parse_int(arg, 0, INT_MAX, &n) == -1)
			return perr(p, "invalid %s '%s': expected off or a "
			    "number of seconds", name, arg);
		a->timeout = n;
		break;
	case P_PROTOCOL:
		if (arg[0] == '\0')
			return perr(p, "'%s' needs an argument", name);
		if (strcmp(arg, "smtp") == 0)
			a->protocol = PROTO_SMTP;
		else if (strcmp(arg, "lmtp") == 0)
			a->protocol = PROTO_LMTP;
		else
			return perr(p, "invalid %s '%s': expected smtp or lmtp",
			    name, arg);
		break;
	case P_ONOFF:
	case P_ONOFF_STR:
	case P_INV_ONOFF:
	case P_HDR_OLD:
		if (arg[0] == '\0' || strcmp(arg, "on") == 0)
			on = 1;
		else if (strcmp(arg, "off") == 0)
			on = 0;
		else
			return perr(p, "invalid %s '%s': expected on or off",
			    name, arg);
		if (kwd->parse == P_ONOFF_STR)
			set_str(a, k, on ? "on" : "off");
		else if (kwd->parse == P_HDR_OLD) {
			h = on ? HDR_AUTO : HDR_OFF;
			if (k == K_SET_FROM_HEADER)
				a->set_from_header = h;
			else
				a->set_date_header = h;
		} else if (k == K_SET_TO_HEADER)
			a->set_to_header = on ? HDR_ON : HDR_OFF;
		else
			*(int *)(void *)((char *)a + fields[k].off) =
			    kwd->parse == P_INV_ONOFF ? !on : on;
		break;
	case P_NOARG_OFF:
		if (arg[0] != '\0')
			return perr(p, "'%s' takes no argument", name);
		set_str(a, k, "off");
		break;
	case P_HDR3:
	case P_HDR2:
		if (arg[0] == '\0' || strcmp(arg, "auto") == 0)
			h = HDR_AUTO;
		else if (strcmp(arg, "off") == 0)
			h = HDR_OFF;
		else if (strcmp(arg, "on") == 0 && kwd->parse == P_HDR3)
			h = HDR_ON;
		else
			return perr(p, "invalid %s '%s': expected %s", name,
			    arg, kwd->parse == P_HDR3 ? "auto, on or off" :
			    "auto or off");
		*(enum hdr_mode *)(void *)((char *)a + fields[k].off) = h;
		break;
	case P_SYSLOG:
		if (arg[0] == '\0' || strcmp(arg, "on") == 0)
			set_str(a, k, "on");
		else if (strcmp(arg, "off") == 0)
			set_str(a, k, NULL);
		else if (strcmp(arg, "LOG_USER") == 0 ||
		    strcmp(arg, "LOG_MAIL") == 0 ||
		    (strncmp(arg, "LOG_LOCAL", 9) == 0 &&
		    arg[9] >= '0' && arg[9] <= '7' && arg[10] == '\0'))
			set_str(a, k, arg);
		else
			return perr(p, "invalid %s '%s': expected on, off, "
			    "LOG_USER, LOG_MAIL or LOG_LOCAL0 to LOG_LOCAL7",
			    name, arg);
		a->syslog_set = 1;
		break;
	case P_AUTH:
		if (arg[0] == '\0' || strcmp(arg, "on") == 0)
			set_str(a, k, "on");
		else if (strcmp(arg, "off") == 0 ||
		    strcmp(arg, "plain") == 0 ||
		    strcmp(arg, "scram-sha-1") == 0 ||
		    strcmp(arg, "scram-sha-256") == 0 ||
		    strcmp(arg, "scram-sha-1-plus") == 0 ||
		    strcmp(arg, "scram-sha-256-plus") == 0 ||
		    strcmp(arg, "cram-md5") == 0 ||
		    strcmp(arg, "digest-md5") == 0 ||
		    strcmp(arg, "gssapi") == 0 ||
		    strcmp(arg, "external") == 0 ||
		    strcmp(arg, "login") == 0 ||
		    strcmp(arg, "ntlm") == 0 ||
		    strcmp(arg, "oauthbearer") == 0 ||
		    strcmp(arg, "xoauth2") == 0)
			set_str(a, k, arg);
		else
			return perr(p, "invalid %s '%s': expected on, off or "
			    "a method", name, arg);
		break;
	case P_FINGERPRINT:
		/*
		 * Syntax only: msmtp's hex forms (old SHA-1/MD5 ones too, so
		 * a legacy account does not break the whole file; tls_verify.c
		 * refuses them when used) and tls_verify.c's own forms, the
		 * "sha256//" public-key pin included.
		 */
		if (arg[0] != '\0' && !is_fingerprint(arg) &&
		    !fingerprint_ok(arg))
			return perr(p, "invalid %s '%s': expected SHA-256 hex "
			    "bytes like 01:23:.. or a sha256//BASE64 pin",
			    name, arg);
		set_str(a, k, arg[0] != '\0' ? arg : NULL);
		break;
	case P_POSINT_STR:
		if (arg[0] != '\0' && parse_int(arg, 1, INT_MAX, &n) == -1)
			return perr(p, "invalid %s '%s': expected a positive "
			    "number", name, arg);
		set_str(a, k, arg[0] != '\0' ? arg : NULL);
		break;
	case P_DSN_NOTIFY:
		if (arg[0] == '\0')
			return perr(p, "'%s' needs an argument", name);
		if (strcmp(arg, "off") != 0 && !is_dsn_notify(arg))
			return perr(p, "invalid %s '%s': expected off, never or "
			    "a list of failure, delay, success", name, arg);
		set_str(a, k, strcmp(arg, "off") != 0 ? arg : NULL);
		break;
	case P_DSN_RETURN:
		if (arg[0] == '\0')
			return perr(p, "'%s' needs an argument", name);
		if (strcmp(arg, "off") != 0 && strcmp(arg, "headers") != 0 &&
		    strcmp(arg, "full") != 0)
			return perr(p, "invalid %s '%s': expected off, headers "
			    "or full", name, arg);
		set_str(a, k, strcmp(arg, "off") != 0 ? arg : NULL);
		break;
	case P_IGNORE:
		break;
	}
	a->set |= 1ULL << k;
	a->kw_line[k] = p->line;
	return 0;
}

static struct account *
find_account(const struct conf *c, const char *name)
{
	unsigned	 i;

	for (i = 0; i < c->naccounts; i++)
		if (strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

/* Append an account that starts as a copy of the current defaults. */
static struct account *
new_account(struct parser *p, const char *name)
{
	struct conf	*c = p->conf;
	struct account	*a;

	c->accounts = xreallocarray(c->accounts, c->naccounts + 1,
	    sizeof(*c->accounts));
	a = &c->accounts[c->naccounts++];
	account_defaults(a);
	account_copy(a, &p->defaults);
	a->set = 0;
	a->name = xstrdup(name);
	a->file = c->path;
	a->line = p->line;
	p->cur = a;
	return a;
}

/*
 * "account NAME" or "account NAME : PARENT, ...": as msmtp, the whole
 * argument is trimmed first, then the name and each parent.
 */
static int
do_account(struct parser *p, char *arg)
{
	struct account	*a, *par;
	char		*colon, *name, *list, *comma, *pn;
	unsigned	*parents = NULL, npar = 0, i;
	int		 k, rc = -1;

	colon = strchr(arg, ':');
	if (colon != NULL) {
		*colon = '\0';
		name = trim(arg);
		list = colon + 1;
		for (;;) {
			comma = strchr(list, ',');
			if (comma != NULL)
				*comma = '\0';
			pn = trim(list);
			if (*pn == '\0') {
				perr(p, "missing account name");
				goto out;
			}
			if ((par = find_account(p->conf, pn)) == NULL) {
				perr(p, "account '%s' is not defined above",
				    pn);
				goto out;
			}
			parents = xreallocarray(parents, npar + 1,
			    sizeof(*parents));
			parents[npar++] = (unsigned)(par - p->conf->accounts);
			if (comma == NULL)
				break;
			list = comma + 1;
		}
	} else
		name = arg;
	if (*name == '\0') {
		perr(p, "missing account name");
		goto out;
	}
	if (strchr(name, ',') != NULL) {
		perr(p, "account name '%s' must not contain ':' or ','", name);
		goto out;
	}
	if ((par = find_account(p->conf, name)) != NULL) {
		perr(p, "account '%s' defined twice (first on line %d)", name,
		    par->line);
		goto out;
	}
	if (strcmp(name, "default") == 0 && npar > 0) {
		free(p->conf->default_name);
		p->conf->default_name =
		    xstrdup(p->conf->accounts[parents[0]].name);
	}
	a = new_account(p, name);
	/* The array may have moved: parents are indices. */
	for (i = 0; i < npar; i++) {
		par = &p->conf->accounts[parents[i]];
		for (k = 0; k < K_COUNT; k++)
			if (par->set & (1ULL << k))
				copy_kw(a, par, (enum kw)k);
		a->set |= par->set;
	}
	rc = 0;
out:
	free(parents);
	return rc;
}

static int
do_line(struct parser *p, char *line, size_t len)
{
	const struct keyword	*kwd = NULL;
	char			*cmd, *arg;
	size_t			 i, n;

	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (strlen(line) != len)
		return perr(p, "NUL byte in line");
	cmd = line;
	while (is_blank((unsigned char)*cmd))
		cmd++;
	if (*cmd == '#' || *cmd == '\0')
		return 0;
	for (n = 0; cmd[n] != '\0' && !is_blank((unsigned char)cmd[n]); n++)
		continue;
	arg = cmd + n;
	if (*arg != '\0')
		*arg++ = '\0';
	arg = trim(arg);

	if (strcmp(cmd, "defaults") == 0) {
		if (*arg != '\0')
			return perr(p, "'defaults' takes no argument");
		p->cur = &p->defaults;
		p->saw_defaults = 1;
		return 0;
	}
	if (strcmp(cmd, "account") == 0)
		return do_account(p, arg);

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(cmd, keywords[i].name) == 0) {
			kwd = &keywords[i];
			break;
		}
	if (kwd == NULL)
		return perr(p, "unknown keyword '%s'", cmd);
	/* msmtp 1.2 compatibility: settings before any section make an
	 * account named "default". */
	if (p->cur == NULL)
		new_account(p, "default");
	return do_keyword(p, kwd, arg);
}

int
conf_load(struct conf *c, const char *path, struct buf *err)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		memset(c, 0, sizeof(*c));
		buf_reset(err);
		buf_addf(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	return conf_load_fd(c, fd, path, err);
}

int
conf_load_fd(struct conf *c, int fd, const char *path, struct buf *err)
{
	struct parser	 p;
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	int		 rc = 0;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	if ((fp = fdopen(fd, "r")) == NULL) {
		buf_reset(err);
		buf_addf(err, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
		conf_release(c);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.conf = c;
	p.err = err;
	account_defaults(&p.defaults);

	for (p.line = 1; (n = getline(&line, &cap, fp)) != -1; p.line++) {
		rc = do_line(&p, line, (size_t)n);
		/* The line may have held a password. */
		explicit_bzero(line, cap);
		if (rc == -1)
			break;
	}
	if (rc == 0 && ferror(fp)) {
		buf_reset(err);
		buf_addf(err, "%s: cannot read: %s", path, strerror(errno));
		rc = -1;
	}
	if (line != NULL)
		explicit_bzero(line, cap);
	free(line);
	fclose(fp);

	/* Only `defaults`: they are the account. */
	if (rc == 0 && c->naccounts == 0 && p.saw_defaults) {
		p.line = 0;
		new_account(&p, "default");
		c->accounts[0].line = 0;
		c->accounts[0].set = p.defaults.set;
	}
	account_free(&p.defaults);
	if (rc == -1)
		conf_release(c);
	return rc;
}

void
conf_release(struct conf *c)
{
	unsigned	 i;

	for (i = 0; i < c->naccounts; i++)
		account_free(&c->accounts[i]);
	free(c->accounts);
	free(c->default_name);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

const struct account *
conf_account(const struct conf *c, const char *name)
{
	const struct account	*a;

	if (name != NULL)
		return find_account(c, name);
	if ((a = find_account(c, "default")) != NULL)
		return a;
	if (c->default_name != NULL &&
	    (a = find_account(c, c->default_name)) != NULL)
		return a;
	return c->naccounts > 0 ? &c->accounts[0] : NULL;
}

int
conf_check_supported(const struct account *a, struct buf *err)
{
	enum kw		 k;
	const char	*what = NULL;

	if (a->auth != NULL && (strcmp(a->auth, "digest-md5") == 0 ||
	    strcmp(a->auth, "gssapi") == 0 || strcmp(a->auth, "ntlm") == 0)) {
		k = K_AUTH;
		what = a->auth;
	} else if (a->proxy_host != NULL)
		k = K_PROXY_HOST;
	else if (a->eval != NULL)
		k = K_EVAL;
	else
		return 0;
	buf_reset(err);
	if (what != NULL)
		buf_addf(err, "%s:%d: 'auth %s' is not supported (postie has "
		    "plain, login, cram-md5, scram-sha-1, scram-sha-256, their "
		    "-plus variants, xoauth2, oauthbearer and external)",
		    a->file != NULL ? a->file : "(config)", a->kw_line[k], what);
	else
		buf_addf(err, "%s:%d: '%s' is not yet supported",
		    a->file != NULL ? a->file : "(config)", a->kw_line[k],
		    fields[k].name);
	return -1;
}

/* 1 when `path` exists (stat succeeds), whether or not it is readable. */
static int
exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

/*
 * The i-th file conf_find_file() tries (0 to NSEARCH - 1), its path in
 * `b`; 0 when there is none (no home directory), 1 for one of the
 * SYSCONFDIR files, 2 for a user's.  Which candidate a file is decides whether it is
 * the system's, not what its path looks like: HOME and XDG_CONFIG_HOME
 * can make a user's path spell anything.
 */
#define NSEARCH	6

static int
candidate(int i, struct buf *b)
{
	static const char *const rest[NSEARCH] = { "/postie/config",
	    "/.postierc", "/postie.conf", "/.msmtprc", "/msmtp/config",
	    "/msmtprc" };
	const char	*home = home_dir(), *xdg = getenv("XDG_CONFIG_HOME");
	const char	*dir;

	/* $XDG_CONFIG_HOME counts only when absolute; else ~/.config. */
	if (xdg != NULL && xdg[0] != '/')
		xdg = NULL;
	if (i == 2 || i == 5)
		dir = SYSCONFDIR;
	else if ((i == 0 || i == 4) && xdg != NULL)
		dir = xdg;
	else
		dir = home;
	buf_reset(b);
	if (dir == NULL)
		return 0;
	buf_addstr(b, dir);
	if ((i == 0 || i == 4) && xdg == NULL)
		buf_addstr(b, "/.config");
	buf_addstr(b, rest[i]);
	return i == 2 || i == 5 ? 1 : 2;
}

char *
conf_find_file(int *system)
{
	struct buf	 b = BUF_INIT;
	int		 i, kind;

	*system = 0;
	for (i = 0; i < NSEARCH; i++) {
		if ((kind = candidate(i, &b)) == 0 || !exists(b.data))
			continue;
		*system = kind == 1;
		return buf_detach(&b);
	}
	buf_release(&b);
	return NULL;
}

void
conf_search_path(struct strlist *out)
{
	struct buf	 b = BUF_INIT;
	int		 i;

	for (i = 0; i < NSEARCH; i++)
		if (candidate(i, &b) != 0)
			strlist_add(out, buf_str(&b));
	buf_release(&b);
}

int
conf_is_system_path(const char *path)
{
	return strcmp(path, SYSCONFDIR "/postie.conf") == 0 ||
	    strcmp(path, SYSCONFDIR "/msmtprc") == 0;
}

void
conf_account_dup(struct account *dst, const struct account *src)
{
	account_defaults(dst);
	account_copy(dst, src);
	dst->name = src->name != NULL ? xstrdup(src->name) : NULL;
	dst->file = src->file;
	dst->line = src->line;
}

void
conf_account_free(struct account *a)
{
	account_free(a);
}

/*
 * One keyword from the command line, read by the same code as a line of
 * the file; errors read "command line: invalid port 'x': ...".
 */
int
conf_override(struct account *a, const char *keyword, const char *value,
    struct buf *err)
{
	struct parser	 p;
	struct conf	 c;
	char		*arg, *t;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(keyword, keywords[i].name) == 0)
			break;
	if (i == sizeof(keywords) / sizeof(keywords[0])) {
		buf_reset(err);
		buf_addf(err, "unknown keyword '%s'", keyword);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.path = (char *)(uintptr_t)"command line";
	memset(&p, 0, sizeof(p));
	p.conf = &c;
	p.cur = a;
	p.err = err;
	arg = xstrdup(value);
	t = trim(arg);
	rc = do_keyword(&p, &keywords[i], t);
	explicit_bzero(arg, strlen(arg));
	free(arg);
	return rc;
}

/*
 * "FILE:LINE" (the account, a parent or `defaults`: kw_line travels with
 * the value, the set mask does not count `defaults`), "command line"
 * (conf_override() leaves line 0) or "default".
 */
static void
origin(const struct account *a, enum kw k, struct buf *out)
{
	if (a->kw_line[k] > 0)
		buf_addf(out, "%s:%d", a->file != NULL ? a->file : "(config)",
		    a->kw_line[k]);
	else if ((a->set & (1ULL << k)) != 0)
		buf_addstr(out, "command line");
	else
		buf_addstr(out, "default");
}

/* A value as the file would spell it; never a secret. */
static void
show_value(const struct account *a, const struct keyword *kwd,
    struct buf *out)
{
	static const char *const hdr[] = {
		[HDR_AUTO] = "auto", [HDR_ON] = "on", [HDR_OFF] = "off"
	};
	static const struct { int secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	const struct field	*f = &fields[kwd->kw];
	const char		*base = (const char *)a + f->off;
	const char		*s;
	size_t			 u;
	int			 n;

	switch (f->store) {
	case S_STR:
		s = *(char *const *)(const void *)base;
		if (s == NULL && kwd->kw == K_SYSLOG)
			/* Unset is on (log.c): cron mail must leave a trace. */
			buf_addstr(out, a->syslog_set ? "off" : "on");
		else if (s == NULL)
			buf_addstr(out, "(not set)");
		else if (kwd->kw == K_PASSWORD ||
		    kwd->kw == K_OAUTH_CLIENT_SECRET)
			buf_addstr(out, "*");
		else if (kwd->kw == K_EVAL)
			buf_addstr(out, "(set)");	/* its output may be one */
		else
			buf_addstr(out, s);
		return;
	case S_INT:
		n = *(const int *)(const void *)base;
		if (kwd->parse == P_ONOFF)
			buf_addstr(out, n ? "on" : "off");
		else if (kwd->parse == P_DURATION) {
			/* The largest unit that divides it; 's' divides all. */
			for (u = 0; n % units[u].secs != 0; u++)
				;
			buf_addf(out, "%d%c", n / units[u].secs,
			    units[u].unit);
		}
		else if (n == 0)
			buf_addstr(out, kwd->parse == P_TIMEOUT ? "off" :
			    "(not set)");
		else
			buf_addf(out, "%d", n);
		return;
	case S_PROTO:
		buf_addstr(out, a->protocol == PROTO_LMTP ? "lmtp" : "smtp");
		return;
	case S_HDR:
		buf_addstr(out, hdr[*(const enum hdr_mode *)(const void *)base]);
		return;
	case S_NONE:
		buf_addstr(out, "(accepted and ignored)");
		return;
	}
}

int
conf_show(const struct account *a, size_t i, const char **name,
    struct buf *value, struct buf *from)
{
	const struct keyword	*kwd;

	if (i >= sizeof(keywords) / sizeof(keywords[0]))
		return -1;
	kwd = &keywords[i];
	*name = kwd->name;
	/* An old name shares its field: one value, shown once. */
	if (strcmp(kwd->name, fields[kwd->kw].name) != 0)
		buf_addf(value, "(old name of %s)", fields[kwd->kw].name);
	else
		show_value(a, kwd, value);
	origin(a, kwd->kw, from);
	return 0;
}

int
conf_origin(const struct account *a, const char *keyword, struct buf *out)
{
	int	 k;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(fields[k].name, keyword) == 0) {
			origin(a, (enum kw)k, out);
			return 0;
		}
	return -1;
}

/*
 * msmtp's envelope-sender match: `from` is a shell pattern (fnmatch, so
 * "*@example.org" or "?ob@x"); the domain is compared without case.
 * postie also lets "user+detail@dom" match an account whose pattern
 * matches "user@dom".
 */
int
conf_from_match(const char *pattern, const char *addr)
{
	struct buf	 p = BUF_INIT, s = BUF_INIT;
	const char	*at, *plus;
	size_t		 i;
	int		 ok;

	/* Lower-case both domains (the part after the last '@'). */
	buf_addstr(&p, pattern);
	buf_addstr(&s, addr);
	if ((at = strrchr(p.data, '@')) != NULL)
		for (i = (size_t)(at - p.data); i < p.len; i++)
			p.data[i] = (char)tolower((unsigned char)p.data[i]);
	if ((at = strrchr(s.data, '@')) != NULL)
		for (i = (size_t)(at - s.data); i < s.len; i++)
			s.data[i] = (char)tolower((unsigned char)s.data[i]);
	ok = fnmatch(p.data, s.data, 0) == 0;
	if (!ok && at != NULL && (plus = memchr(s.data, '+',
	    (size_t)(at - s.data))) != NULL && plus > s.data) {
		/* user+detail@dom -> user@dom */
		memmove(s.data + (plus - s.data), at, strlen(at) + 1);
		ok = fnmatch(p.data, s.data, 0) == 0;
	}
	buf_release(&p);
	buf_release(&s);
	return ok;
}

int
conf_from_is_pattern(const char *from)
{
	return strpbrk(from, "*?[") != NULL;
}

const struct account *
conf_account_for_from(const struct conf *c, const char *from)
{
	unsigned	 i;

	if (from == NULL || from[0] == '\0')
		return NULL;
	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].from != NULL &&
		    conf_from_match(c->accounts[i].from, from))
			return &c->accounts[i];
	return NULL;
}
