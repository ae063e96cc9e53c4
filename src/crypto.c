#include "config.h"

#include <gnutls/gnutls.h>

#include "crypto.h"

int
crypto_ready(void)
{
	static int	 state;	/* 0: not yet, 1: ready, -1: failed */

	if (state == 0)
		state = gnutls_global_init() == GNUTLS_E_SUCCESS ? 1 : -1;
	return state == 1 ? 0 : -1;
}
