#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "buf.h"
#include "tls.h"
#include "tls_int.h"
#include "util.h"

/*
 * TLS session resumption across invocations: the part of the TLS module
 * that names a session, offers a stored one before the handshake and
 * stores the one the server gave.  The files are the caller's (struct
 * tls_store); this file decides what may be resumed.
 *
 * A stored session is "MAGIC NAME TIME CC\n" and GnuTLS's session data.
 * NAME is the SHA-256 of everything that decided whom the full handshake
 * trusted (tls.h, tls_params.store), so a session is offered only to a
 * connection that would have trusted the same server the same way; the
 * record repeats it, so a file put under another name is refused.  TIME
 * bounds its age (an hour, as Postfix's client cache); CC says a client
 * certificate was sent, which a resumed session does not show again.
 */

#define MAGIC		"postie-tls-session-1"
#define MAX_AGE		3600		/* seconds a session is offered */
#define MAX_SKEW	300		/* a clock stepped back this far */

static void	add_field(struct buf *, const char *);
static void	add_file(struct buf *, const char *);
static int	make_name(struct tls *, const struct tls_params *);
static int	parse_record(const struct tls *, const struct buf *,
		    gnutls_datum_t *, int *);

/* A length-prefixed field: no value can pass for two. */
static void
add_field(struct buf *b, const char *v)
{
	if (v == NULL)
		v = "";
	buf_addf(b, "%zu:%s;", strlen(v), v);
}

/* A file named in the settings, and which file it is now: replacing or
 * editing it changes the name (stat's identity and its mtime). */
static void
add_file(struct buf *b, const char *path)
{
	struct stat	 st;

	add_field(b, path);
	if (path == NULL || stat(path, &st) == -1)
		buf_addstr(b, "-;");
	else
		buf_addf(b, "%llu.%llu.%lld.%lld.%ld;",
		    (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino, (long long)st.st_size,
		    (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
}

static int
make_name(struct tls *t, const struct tls_params *p)
{
	struct buf	 id = BUF_INIT;
	unsigned char	 md[32];
	size_t		 i;
	int		 rc = -1;

	buf_addstr(&id, MAGIC ";");
	add_field(&id, p->cache_name);
	add_field(&id, t->host);
	add_field(&id, p->certcheck ? "certcheck" : "nocheck");
	add_field(&id, p->fingerprint);
	add_file(&id, p->trust_file != NULL &&
	    strcmp(p->trust_file, "system") != 0 ? p->trust_file : NULL);
	add_file(&id, p->crl_file);
	add_field(&id, p->priorities);
	add_file(&id, p->cert_file);
	add_file(&id, p->key_file);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, id.data, id.len, md) == 0) {
		for (i = 0; i < sizeof(md); i++)
			(void)snprintf(t->store_name + 2 * i, 3, "%02x", md[i]);
		rc = 0;
	}
	buf_release(&id);
	return rc;
}

/* The session data in `rec` and its CC flag, when the record is ours,
 * for this name, and young enough; 0, or -1. */
static int
parse_record(const struct tls *t, const struct buf *rec, gnutls_datum_t *d,
    int *cc)
{
	char		 head[sizeof(MAGIC) + 96];
	char		*p, *sp;
	const char	*nl, *bad = NULL;
	long long	 when, now = (long long)time(NULL);
	size_t		 n;

	if (rec->len == 0 || (nl = memchr(rec->data, '\n', rec->len)) == NULL ||
	    (n = (size_t)(nl - rec->data)) >= sizeof(head))
		return -1;
	memcpy(head, rec->data, n);
	head[n] = '\0';
	/* MAGIC NAME TIME CC */
	if (strncmp(head, MAGIC " ", sizeof(MAGIC)) != 0)
		return -1;
	p = head + sizeof(MAGIC);
	if (strncmp(p, t->store_name, 64) != 0 || p[64] != ' ')
		return -1;
	p += 65;
	if ((sp = strchr(p, ' ')) == NULL)
		return -1;
	*sp = '\0';
	when = strtonum(p, 0, LLONG_MAX, &bad);
	if (bad != NULL || when > now + MAX_SKEW || now - when > MAX_AGE ||
	    (strcmp(sp + 1, "0") != 0 && strcmp(sp + 1, "1") != 0))
		return -1;
	*cc = sp[1] == '1';
	d->data = (unsigned char *)rec->data + n + 1;
	d->size = (unsigned)(rec->len - n - 1);
	return d->size > 0 ? 0 : -1;
}

void
tls_resume_offer(struct tls *t, const struct tls_params *p)
{
	struct buf	 rec = BUF_INIT;
	gnutls_datum_t	 d;
	int		 cc;

	t->store = p->store;
	t->store_ctx = p->store_ctx;
	if (t->store == NULL || p->cache_name == NULL ||
	    make_name(t, p) == -1) {
		t->store = NULL;
		return;
	}
	if (t->store->get(t->store_ctx, t->store_name, &rec) == 0 &&
	    parse_record(t, &rec, &d, &cc) == 0 &&
	    gnutls_session_set_data(t->session, d.data, d.size) == 0) {
		t->offered = 1;
		t->resumed_cc = cc;
	}
	buf_wipe(&rec);
	buf_release(&rec);
}

void
tls_resume_drop(struct tls *t)
{
	struct buf	 none = BUF_INIT;

	if (!t->offered || t->dropped)
		return;
	t->store->put(t->store_ctx, t->store_name, &none);
	t->dropped = 1;
}

int
tls_resume_dropped(const struct tls *t)
{
	return t != NULL && t->dropped;
}

void
tls_save_session(struct tls *t)
{
	struct buf	 rec = BUF_INIT;
	gnutls_datum_t	 d = { NULL, 0 };
	int		 tls13;

	if (t == NULL || !t->established || t->store == NULL)
		return;
	tls13 = gnutls_protocol_get_version(t->session) == GNUTLS_TLS1_3;
	/* TLS 1.3: only a ticket received on this connection (GnuTLS
	 * gives dummy data otherwise); TLS 1.2: the session itself. */
	if (tls13 && !(gnutls_session_get_flags(t->session) &
	    GNUTLS_SFLAGS_SESSION_TICKET))
		return;
	if (gnutls_session_get_data2(t->session, &d) < 0 || d.size == 0) {
		gnutls_free(d.data);
		return;
	}
	buf_addf(&rec, "%s %s %lld %d\n", MAGIC, t->store_name,
	    (long long)time(NULL), tls_client_cert_sent(t));
	buf_add(&rec, d.data, d.size);
	explicit_bzero(d.data, d.size);
	gnutls_free(d.data);
	t->store->put(t->store_ctx, t->store_name, &rec);
	buf_wipe(&rec);
	buf_release(&rec);
}
