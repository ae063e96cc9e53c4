#ifndef POSTIE_CRYPTO_H
#define POSTIE_CRYPTO_H

/*
 * GnuTLS, initialised on first use.  The postie binary turns off
 * GnuTLS's initialisation at load (GNUTLS_SKIP_GLOBAL_INIT in main.c):
 * it costs a quarter of a millisecond and 0.8 MiB of memory, which a
 * submission without TLS or a SASL digest never needs (random bytes
 * come from arc4random_buf()).  Every module that calls GnuTLS calls
 * this first.  Returns 0, or -1 when GnuTLS cannot start (a FIPS
 * self-test failed, ...); then nothing of GnuTLS may be used.
 */
int	crypto_ready(void);

#endif
