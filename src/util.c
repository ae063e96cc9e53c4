#include "config.h"

#include <sys/types.h>

#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "xmalloc.h"

long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ms_left(long long deadline)
{
	long long	 left = deadline - now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int
is_localhost(const char *name)
{
	return name == NULL || name[0] == '\0' ||
	    strcasecmp(name, "localhost") == 0 ||
	    strncasecmp(name, "localhost.", 10) == 0;
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *
local_fqdn(void)
{
	static int	 done;
	static char	*fqdn;
	char		 host[HOST_NAME_MAX + 1];
	struct addrinfo	 hints, *res;

	if (done)
		return fqdn;
	done = 1;
	if (gethostname(host, sizeof(host)) == -1)
		return NULL;
	host[sizeof(host) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (strchr(host, '.') == NULL &&
	    getaddrinfo(host, NULL, &hints, &res) == 0) {
		if (res->ai_canonname != NULL &&
		    strchr(res->ai_canonname, '.') != NULL &&
		    !is_localhost(res->ai_canonname))
			fqdn = xstrdup(res->ai_canonname);
		freeaddrinfo(res);
	}
	if (fqdn == NULL && !is_localhost(host))
		fqdn = xstrdup(host);
	return fqdn;
}

const char *
login_name(void)
{
	static char	*name;
	struct passwd	*pw;
	const char	*s;

	if (name != NULL)
		return name;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name[0] != '\0')
		name = xstrdup(pw->pw_name);
	else if ((s = getenv("LOGNAME")) != NULL && *s != '\0')
		name = xstrdup(s);
	else if ((s = getenv("USER")) != NULL && *s != '\0')
		name = xstrdup(s);
	else
		name = xstrdup("unknown");
	return name;
}

const char *
home_dir(void)
{
	static int	 done;
	static char	*home;
	struct passwd	*pw;
	const char	*s;

	if (done)
		return home;
	done = 1;
	s = getenv("HOME");
	if (s != NULL && s[0] == '/' && s[1] != '\0')
		home = xstrdup(s);
	else if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir[0] == '/' &&
	    pw->pw_dir[1] != '\0')
		home = xstrdup(pw->pw_dir);
	return home;
}
