#ifndef POSTIE_UTIL_H
#define POSTIE_UTIL_H

/*
 * Small facts about the running system that several modules need.
 */

/* Milliseconds on the monotonic clock; deadlines are absolute values of it. */
long long	 now_ms(void);

/* Milliseconds left until `deadline` (0 when it has passed), capped at
 * INT_MAX so the result can go straight to poll(2). */
int		 ms_left(long long deadline);

/*
 * This host's fully qualified name, computed once.  Falls back to the
 * plain host name when the resolver knows no better; returns NULL when
 * the only name available is "localhost" or empty, so that callers can
 * choose a better identity (an address literal) instead.
 */
const char	*local_fqdn(void);

/* NULL, "", "localhost" or "localhost.anything" (any case): a name that
 * says nothing about this host to another one. */
int		 is_localhost(const char *);

/* The value of a hexadecimal digit (either case), or -1. */
int		 hex_digit(int c);

/* The invoking user's login name: getpwuid(getuid()), then $LOGNAME,
 * $USER; "unknown" when all fail. */
const char	*login_name(void);

/* The user's home directory: $HOME when set, absolute and not "/",
 * else the password database; NULL when there is none. */
const char	*home_dir(void);

#endif
