#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "exitcode.h"
#include "smtp.h"
#include "t.h"

static const enum phase server_phases[] = {
	PH_CONNECT, PH_GREETING, PH_EHLO, PH_HELO, PH_STARTTLS, PH_TLS,
	PH_AUTH, PH_MAIL, PH_RCPT, PH_DATA, PH_BODY, PH_EOM, PH_QUIT
};
#define NSERVER	(sizeof(server_phases) / sizeof(server_phases[0]))

static void
test_replies(void)
{
	size_t	 i;
	int	 code;

	/* Success after any 2xx to the final dot. */
	CHECK_INT(exit_status(PH_EOM, 250, LE_NONE), EX_OK);
	CHECK_INT(exit_status(PH_EOM, 251, LE_NONE), EX_OK);
	CHECK_INT(exit_status(PH_EOM, 252, LE_NONE), EX_OK);

	/* Every 4xx in every phase is temporary. */
	for (i = 0; i < NSERVER; i++)
		for (code = 400; code <= 499; code += 1) {
			if (exit_status(server_phases[i], code, LE_NONE) !=
			    EX_TEMPFAIL) {
				CHECK_INT(exit_status(server_phases[i], code,
				    LE_NONE), EX_TEMPFAIL);
				break;
			}
		}
	CHECK_INT(exit_status(PH_GREETING, 421, LE_NONE), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_AUTH, 454, LE_NONE), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_RCPT, 452, LE_NONE), EX_TEMPFAIL);

	/* 5xx: recipients 67, credentials 77, the rest 69. */
	CHECK_INT(exit_status(PH_RCPT, 550, LE_NONE), EX_NOUSER);
	CHECK_INT(exit_status(PH_RCPT, 553, LE_NONE), EX_NOUSER);
	CHECK_INT(exit_status(PH_AUTH, 535, LE_NONE), EX_NOPERM);
	CHECK_INT(exit_status(PH_MAIL, 553, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_DATA, 554, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_EOM, 554, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_EOM, 552, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_GREETING, 554, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_EHLO, 550, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_HELO, 501, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_STARTTLS, 502, LE_NONE), EX_UNAVAILABLE);
	/* The engine reports a refused STARTTLS as LE_TLS: 75, nothing
	 * was sent, retry once the server is fixed. */
	CHECK_INT(exit_status(PH_STARTTLS, 502, LE_TLS), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_STARTTLS, 454, LE_TLS), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_STARTTLS, 0, LE_TLS), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_TLS, 0, LE_TLS), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_STARTTLS, 220, LE_PROTOCOL), EX_PROTOCOL);
	/* Credentials but no AUTH offered, or no usable mechanism: 69. */
	CHECK_INT(exit_status(PH_AUTH, 0, LE_NONE), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_AUTH, 0, LE_CONFIG), EX_CONFIG);
	CHECK_INT(exit_status(PH_AUTH, 235, LE_PROTOCOL), EX_PROTOCOL);
	CHECK_INT(exit_status(PH_AUTH, 334, LE_PROTOCOL), EX_PROTOCOL);

	/* A reply that does not fit: unexpected 2xx/3xx is a protocol
	 * error, and 2xx outside EOM is never success. */
	CHECK_INT(exit_status(PH_MAIL, 354, LE_NONE), EX_PROTOCOL);
	CHECK_INT(exit_status(PH_DATA, 334, LE_NONE), EX_PROTOCOL);
	CHECK_INT(exit_status(PH_RCPT, 354, LE_NONE), EX_PROTOCOL);
	CHECK_INT(exit_status(PH_EOM, 354, LE_NONE), EX_PROTOCOL);
	CHECK_INT(exit_status(PH_GREETING, 250, LE_NONE), EX_PROTOCOL);
	CHECK_INT(exit_status(PH_DATA, 250, LE_NONE), EX_PROTOCOL);
	for (i = 0; i < NSERVER; i++)
		if (server_phases[i] != PH_EOM)
			CHECK(exit_status(server_phases[i], 250, LE_NONE) !=
			    EX_OK);
}

static void
test_local(void)
{
	size_t	 i;

	/* Each local error class, in the phases where it can happen. */
	CHECK_INT(exit_status(PH_LOCAL, 0, LE_USAGE), EX_USAGE);
	CHECK_INT(exit_status(PH_LOCAL, 0, LE_DATAERR), EX_DATAERR);
	CHECK_INT(exit_status(PH_MAIL, 0, LE_DATAERR), EX_DATAERR);
	CHECK_INT(exit_status(PH_LOCAL, 0, LE_CONFIG), EX_CONFIG);
	CHECK_INT(exit_status(PH_CONNECT, 0, LE_CONFIG), EX_CONFIG);
	CHECK_INT(exit_status(PH_CONNECT, 0, LE_NOHOST), EX_NOHOST);
	CHECK_INT(exit_status(PH_CONNECT, 0, LE_DNSTEMP), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_CONNECT, 0, LE_CONNECT), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_CONNECT, 0, LE_TIMEOUT), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_LOCAL, 0, LE_LOCALIO), EX_IOERR);
	CHECK_INT(exit_status(PH_BODY, 0, LE_LOCALIO), EX_IOERR);
	CHECK_INT(exit_status(PH_LOCAL, 0, LE_RESOURCE), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_LOCAL, 0, LE_OSERR), EX_OSERR);
	CHECK_INT(exit_status(PH_LOCAL, 0, LE_SOFTWARE), EX_SOFTWARE);
	CHECK_INT(exit_status(PH_MAIL, 0, LE_TOOBIG), EX_UNAVAILABLE);
	CHECK_INT(exit_status(PH_TLS, 0, LE_TLS), EX_TEMPFAIL);
	CHECK_INT(exit_status(PH_STARTTLS, 0, LE_TLS), EX_TEMPFAIL);

	/* Timeouts, drops, network errors, protocol errors: in every
	 * server phase. */
	for (i = 0; i < NSERVER; i++) {
		CHECK_INT(exit_status(server_phases[i], 0, LE_TIMEOUT),
		    EX_TEMPFAIL);
		CHECK_INT(exit_status(server_phases[i], 0, LE_DROPPED),
		    EX_TEMPFAIL);
		CHECK_INT(exit_status(server_phases[i], 0, LE_NETIO),
		    EX_TEMPFAIL);
		CHECK_INT(exit_status(server_phases[i], 0, LE_PROTOCOL),
		    EX_PROTOCOL);
		/* A local verdict wins over whatever code came last. */
		CHECK_INT(exit_status(server_phases[i], 250, LE_PROTOCOL),
		    EX_PROTOCOL);
		CHECK_INT(exit_status(server_phases[i], 250, LE_TIMEOUT),
		    EX_TEMPFAIL);
	}
	/* The EOM success rule needs LE_NONE. */
	CHECK_INT(exit_status(PH_EOM, 250, LE_DROPPED), EX_TEMPFAIL);
}

static void
test_table(void)
{
	const struct exit_rule	*r;
	unsigned		 n, i;

	r = exit_rules(&n);
	CHECK(r != NULL && n > 10);
	for (i = 0; i < n; i++) {
		CHECK(r[i].why != NULL && r[i].why[0] != '\0');
		CHECK(strcmp(exit_name(r[i].status), "?") != 0);
	}
	CHECK_STR(phase_name(PH_RCPT), "RCPT");
	CHECK_STR(phase_name(PH_EOM), "EOM");
	CHECK_STR(phase_name((enum phase)99), "?");
	for (i = 0; i < PH_NPHASES; i++)
		CHECK(phase_name((enum phase)i) != NULL &&
		    strcmp(phase_name((enum phase)i), "?") != 0);
	CHECK_STR(exit_name(EX_TEMPFAIL), "EX_TEMPFAIL");
	CHECK_STR(exit_name(0), "EX_OK");
}

/* A result with recipients in the given states, each decided at `ph`
 * with `code`. */
static void
result(struct smtp_result *res, int aborted, const enum rcpt_state *st,
    const int *code, size_t n)
{
	size_t	 i;

	smtp_result_init(res);
	res->aborted = aborted;
	res->nrcpt = n;
	res->rcpt = calloc(n, sizeof(*res->rcpt));
	for (i = 0; i < n; i++) {
		res->rcpt[i].state = st[i];
		res->rcpt[i].phase = PH_RCPT;
		res->rcpt[i].code = code[i];
	}
}

static void
test_results(void)
{
	static const enum rcpt_state all_ok[] = { RCPT_ACCEPTED, RCPT_ACCEPTED };
	static const enum rcpt_state mixed[] = {
		RCPT_REFUSED, RCPT_ACCEPTED, RCPT_DEFERRED
	};
	static const enum rcpt_state refused[] = { RCPT_ACCEPTED, RCPT_REFUSED };
	static const enum rcpt_state unknown[] = { RCPT_UNKNOWN, RCPT_REFUSED };
	static const int c250[] = { 250, 250 }, cmix[] = { 550, 250, 450 };
	static const int crej[] = { 250, 553 }, cunk[] = { 0, 550 };
	struct smtp_result	 res;

	/* Everybody has it. */
	result(&res, 0, all_ok, c250, 2);
	res.st.phase = PH_EOM;
	res.st.code = 250;
	CHECK_INT(exit_for_result(&res), EX_OK);
	CHECK_INT(exit_rcpt_reported(&res), -1);
	smtp_result_release(&res);

	/* A deferred recipient wins over a refused one: keep the message. */
	result(&res, 0, mixed, cmix, 3);
	CHECK_INT(exit_for_result(&res), EX_TEMPFAIL);
	CHECK_INT(exit_rcpt_reported(&res), 2);
	smtp_result_release(&res);

	result(&res, 0, refused, crej, 2);
	CHECK_INT(exit_for_result(&res), EX_NOUSER);
	CHECK_INT(exit_rcpt_reported(&res), 1);
	smtp_result_release(&res);

	/* Aborted: the message's own status decides, whatever the
	 * recipients say. */
	result(&res, 1, unknown, cunk, 2);
	res.st.phase = PH_EOM;
	res.st.lerr = LE_TIMEOUT;
	CHECK_INT(exit_for_result(&res), EX_TEMPFAIL);
	CHECK_INT(exit_rcpt_reported(&res), -1);
	res.st.phase = PH_MAIL;
	res.st.lerr = LE_NONE;
	res.st.code = 550;
	CHECK_INT(exit_for_result(&res), EX_UNAVAILABLE);
	res.st.phase = PH_LOCAL;
	res.st.code = 0;
	res.st.lerr = LE_RESOURCE;
	CHECK_INT(exit_for_result(&res), EX_TEMPFAIL);
	smtp_result_release(&res);
}

int
main(void)
{
	test_replies();
	test_local();
	test_table();
	test_results();
	return t_done();
}
