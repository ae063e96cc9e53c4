#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "outcome.h"
#include "iobuf.h"
#include "reply.h"
#include "smtp.h"
#include "smtp_int.h"
#include "util.h"

/*
 * The command and reply I/O of the engine: queueing commands, flushing
 * and reading replies against per-command and total deadlines, and the
 * wording of every I/O failure.  The bottom of the engine: it calls
 * nothing above it.
 */

static void	timed_out(struct smtp_session *, enum phase, int);

void
sess_fail(struct smtp_session *s, enum phase ph, int code, enum local_err le,
    const char *fmt, ...)
{
	va_list	 ap;

	s->st.phase = ph;
	s->st.code = code;
	s->st.lerr = le;
	s->st.ecode[0] = '\0';
	if (code != 0 && code == s->r.code)
		(void)strlcpy(s->st.ecode, s->r.ecode, sizeof(s->st.ecode));
	buf_reset(&s->st.text);
	va_start(ap, fmt);
	buf_vaddf(&s->st.text, fmt, ap);
	va_end(ap);
	if (le == LE_TIMEOUT || le == LE_DROPPED || le == LE_NETIO ||
	    le == LE_PROTOCOL || le == LE_LOCALIO || le == LE_RESOURCE)
		s->broken = 1;
}

void
sess_budget(struct smtp_session *s, long long ms)
{
	s->total_ms = ms;
	s->total_deadline = now_ms() + ms;
}

long long
deadline_in(struct smtp_session *s, long long ms)
{
	long long	 d = now_ms() + ms;

	s->wait_ms = ms;
	s->hit_total = d >= s->total_deadline;
	return s->hit_total ? s->total_deadline : d;
}

void
sess_trace(struct smtp_session *s, char dir, const char *line, size_t len)
{
	if (s->trace != NULL)
		s->trace(s->trace_arg, dir, line, len);
}

void
cmd(struct smtp_session *s, const char *fmt, ...)
{
	va_list	 ap;

	buf_reset(&s->tmp);
	va_start(ap, fmt);
	buf_vaddf(&s->tmp, fmt, ap);
	va_end(ap);
	sess_trace(s, '>', s->tmp.data, s->tmp.len);
	buf_addstr(&s->tmp, "\r\n");
	iobuf_queue(&s->io, s->tmp.data, s->tmp.len);
}

void
awaiting(struct smtp_session *s, const char *fmt, ...)
{
	va_list	 ap;

	buf_reset(&s->what);
	va_start(ap, fmt);
	buf_vaddf(&s->what, fmt, ap);
	va_end(ap);
}

static void
timed_out(struct smtp_session *s, enum phase ph, int sending)
{
	long long secs = (s->hit_total ? s->total_ms : s->wait_ms) / 1000;

	if (!sending && ph != PH_GREETING) {
		buf_reset(&s->tmp);
		buf_addf(&s->tmp, "the reply to %s", s->what.data);
		awaiting(s, "%s", s->tmp.data);
	}
	if (s->hit_total)
		sess_fail(s, ph, 0, LE_TIMEOUT, "total time limit of %lld s "
		    "exceeded %s %s", secs, sending ? "sending" :
		    "waiting for", s->what.data);
	else
		sess_fail(s, ph, 0, LE_TIMEOUT, "timed out after %lld s %s %s",
		    secs, sending ? "sending" : "waiting for", s->what.data);
}

void
io_failed(struct smtp_session *s, enum phase ph, enum io_result ior,
    int sending, int quiet)
{
	int	 e = errno;

	if (quiet) {
		s->broken = 1;
		return;
	}
	switch (ior) {
	case IO_TIMEOUT:
		timed_out(s, ph, sending);
		break;
	case IO_EOF:
		sess_fail(s, ph, 0, LE_DROPPED, "connection closed by the "
		    "server %s", ph == PH_GREETING ? "before the greeting" :
		    sending ? "while sending" : "after");
		if (ph != PH_GREETING) {
			buf_addch(&s->st.text, ' ');
			buf_addstr(&s->st.text, s->what.data);
		}
		break;
	case IO_TOOLONG:
		sess_fail(s, ph, 0, LE_PROTOCOL, "malformed reply to %s: reply "
		    "line too long", s->what.data);
		break;
	default:
		if (e == EPIPE || e == ECONNRESET)
			sess_fail(s, ph, 0, LE_DROPPED, "connection %s by the "
			    "server %s %s", e == EPIPE ? "closed" : "reset",
			    sending ? "while sending" : "after", s->what.data);
		else
			sess_fail(s, ph, 0, LE_NETIO, "%s error %s %s: %s",
			    sending ? "write" : "read", sending ? "sending" :
			    "after", s->what.data, strerror(e));
		break;
	}
}

/* Write what is queued; the deadline is one command timeout. */
int
sess_flush(struct smtp_session *s, enum phase ph, int quiet)
{
	enum io_result	 ior;

	ior = iobuf_flush(&s->io, deadline_in(s, quiet && s->tmo_ms >
	    QUIT_MAX_MS ? QUIT_MAX_MS : s->tmo_ms));
	if (ior == IO_OK)
		return 0;
	io_failed(s, ph, ior, 1, quiet);
	return -1;
}

/*
 * Read one complete reply into s->r.  Each reply has its own absolute
 * deadline, `ms` from when we start waiting for it (for a pipelined
 * group: from the previous reply), capped by the total deadline.
 * `quiet`: failures only mark the stream broken (QUIT, drained replies).
 */
int
sess_read_reply_within(struct smtp_session *s, enum phase ph, int quiet,
    long long ms)
{
	enum io_result	 ior;
	enum reply_state st;
	const char	*line, *why;
	size_t		 len;
	long long	 dl;

	dl = deadline_in(s, ms);
	reply_reset(&s->r);
	for (;;) {
		ior = iobuf_getline(&s->io, &line, &len, REPLY_MAX_LINE, dl);
		if (ior != IO_OK) {
			io_failed(s, ph, ior, 0, quiet);
			return -1;
		}
		if (s->redact && len >= 3 && memcmp(line, "334", 3) == 0)
			sess_trace(s, '<', "334 [redacted]", 14);
		else
			sess_trace(s, '<', line, len);
		st = reply_feed(&s->r, line, len, &why);
		if (st == REPLY_DONE)
			return 0;
		if (st == REPLY_BAD) {
			if (quiet)
				s->broken = 1;
			else
				sess_fail(s, ph, 0, LE_PROTOCOL, "malformed "
				    "reply to %s: %s", s->what.data, why);
			return -1;
		}
	}
}

int
sess_read_reply(struct smtp_session *s, enum phase ph, int quiet)
{
	return sess_read_reply_within(s, ph, quiet,
	    quiet && s->tmo_ms > QUIT_MAX_MS ? QUIT_MAX_MS : s->tmo_ms);
}

void
rejected(struct smtp_session *s, enum phase ph)
{
	buf_reset(&s->tmp);
	reply_summary(&s->r, &s->tmp);
	if (ph == PH_GREETING)
		sess_fail(s, ph, s->r.code, LE_NONE, "the server refused the "
		    "connection: %s", s->tmp.data);
	else if (ph == PH_EOM)
		sess_fail(s, ph, s->r.code, LE_NONE, "the message was rejected "
		    "after the data: %s", s->tmp.data);
	else
		sess_fail(s, ph, s->r.code, LE_NONE, "%s rejected: %s",
		    s->what.data, s->tmp.data);
}

/* The reply does not fit the command (a 354 to MAIL, a 250 to DATA):
 * reject 4xx/5xx normally, anything else is a protocol error. */
int
sess_unexpected(struct smtp_session *s, enum phase ph)
{
	int	 c = s->r.code / 100;

	if (c == 4 || c == 5) {
		rejected(s, ph);
		return -1;
	}
	buf_reset(&s->tmp);
	reply_summary(&s->r, &s->tmp);
	sess_fail(s, ph, s->r.code, LE_PROTOCOL, "unexpected reply to %s: %s",
	    s->what.data, s->tmp.data);
	return -1;
}
