#ifndef POSTIE_QUEUE_H
#define POSTIE_QUEUE_H

#include <sys/types.h>

#include <stddef.h>

#include "buf.h"
#include "envelope.h"
#include "outcome.h"
#include "queue_env.h"
#include "strlist.h"

struct spool;
struct tls_store;

/*
 * The durable queue: the one module that opens files in a queue
 * directory.  No daemon: entries are written by the submitting postie and
 * delivered by it, by `postie -q` (a timer) or by a later submission.
 *
 * Layout of a queue directory DIR:
 *
 *   DIR/tmp/ID/		an entry being written (or being removed)
 *   DIR/q/ID/msg		the message exactly as it is sent (the spool)
 *   DIR/q/ID/env		its envelope, a small text file (queue_env.h)
 *   DIR/corrupt/ID		entries that could not be read, moved aside
 *   DIR/tls/NAME		TLS sessions kept for resumption
 *   DIR/oauth/NAME		OAuth2 tokens of account NAME
 *
 * An entry exists when DIR/q/ID exists.  It is written whole in tmp/,
 * then renamed into q/: a crash of postie at any moment leaves a complete
 * entry or none in q/ (what is left in tmp/ is removed by a later run).
 * Before anyone is told it is queued, its files, its directory and q/
 * are fsynced too (queue_commit() with `sync`, or queue_save()), so that
 * a crash of the machine keeps it as well.  The envelope is updated by writing a new file
 * and renaming it over the old one; an entry is removed by renaming it
 * out of q/ first.  An entry is locked while it is handled with flock(2)
 * on its msg file, so two runs never send it twice and a crashed run's
 * lock goes with it.
 */

struct queue {
	char		*dir;
	int		 system;	/* the system queue (QUEUE_SYSTEM) */
	int		 fd;		/* DIR */
	int		 qfd;		/* DIR/q */
	int		 tmpfd;		/* DIR/tmp */
	int		 badfd;		/* DIR/corrupt */
	int		 group;		/* files readable by the group (system
					 * queue); else owner only */
};


/*
 * Open the queue directory `dir`.  It must be a real directory (no
 * symbolic link) owned by this user or by root, and must give nothing to
 * others: a queue another user can write is refused.  Group access is
 * allowed only in root's (the system queue): its files are then made
 * readable by the group (0640, directories 02770), else owner only.
 *
 * Flags:
 *   QUEUE_CREATE  make the directory (0700; parents 0700, or 0755 for
 *                 the system queue) and its parts when missing
 *   QUEUE_SYSTEM  the system queue: every function here raises the group
 *                 around its work in it (priv_raise()) and lowers it
 *                 before returning; its parts are made when missing;
 *                 made by root with QUEUE_CREATE it is root:GROUP 02770
 *                 (priv_group()).  While postie holds the group it must
 *                 be root's and of that group.  Its entries must name the
 *                 system configuration (conf_is_system_path()) and carry
 *                 no per-keyword options, else they are unreadable
 *                 (queue_lock() moves them aside): the group never sends
 *                 with a configuration or a server someone else chose.
 *
 * 0, or -1 with one line in `err`.
 */
#define QUEUE_CREATE	 0x1
#define QUEUE_SYSTEM	 0x2
int	queue_open(struct queue *, const char *dir, int flags,
	    struct buf *err);
void	queue_close(struct queue *);

/*
 * A new entry: picks its ID, creates tmp/ID and its msg file (locked),
 * and hands that file to `sp` to be written (spool_write()).  The entry
 * takes the sender, recipients and flags later (queue_commit()).  0, or
 * -1 with *le and `err` (LE_RESOURCE for a full disk).
 */
int	queue_create(struct queue *, struct qentry *, struct spool *sp,
	    enum local_err *le, struct buf *err);

/*
 * Make the new entry visible: the envelope written, tmp/ID renamed to
 * q/ID.  Before this returns 0 nothing of the entry exists for other
 * runs.  With `sync` it is durable too: the msg file, the envelope,
 * the entry's directory and q/ fsynced first.  Without, it is durable
 * only once queue_save() keeps it: for a message tried at once, whose
 * entry matters on disk only if the attempt leaves it queued (a
 * crashed postie leaves it in the page cache, whole; only a machine
 * that goes down during the attempt can lose it, before the caller was
 * told anything).  -1 with *le and `err`; the half-made entry is
 * removed.
 */
int	queue_commit(struct queue *, struct qentry *, const struct spool *sp,
	    int sync, enum local_err *le, struct buf *err);

/* Throw away an entry made by queue_create() and never committed. */
void	queue_abandon(struct queue *, struct qentry *);

/* Write the entry's envelope again (after an attempt), and make the
 * entry durable if it was not (queue_commit()): 0 or -1. */
int	queue_save(struct queue *, struct qentry *, struct buf *err);

/* Remove a held entry (every recipient done); its lock goes with it.
 * The removal is made durable (q/ fsynced) when the entry was, so that
 * a machine that goes down does not bring it back to be sent twice. */
int	queue_remove(struct queue *, struct qentry *, struct buf *err);

/*
 * The IDs in q/, oldest first (the ID starts with its arrival time).
 * Anything in q/ that is not an entry is moved aside and said in
 * `notes`, one line each; so are entries whose files are missing.
 * tmp/ entries older than a day and not locked are removed.
 */
int	queue_list(struct queue *, struct strlist *ids, struct buf *notes,
	    struct buf *err);

/* 1 while entry `id` is in q/ (another run may remove it any time). */
int	queue_exists(struct queue *, const char *id);

/* 1 when q/ holds anything besides `except` (an ID, or NULL). */
int	queue_has_entries(struct queue *, const char *except);

/*
 * Lock entry `id` (without waiting) and read its envelope into `e`:
 * 1 held, 0 busy (another run has it) or gone, -1 unreadable: moved
 * aside to corrupt/ with the reason in `err`.
 */
int	queue_lock(struct queue *, const char *id, struct qentry *e,
	    struct buf *err);

/* Read entry `id`'s envelope without locking it (listing, grouping):
 * 1 read, 0 gone, -1 unreadable (left where it is) with `err`. */
int	queue_peek(struct queue *, const char *id, struct qentry *e,
	    struct buf *err);

/* The held entry's message as a spool (borrowing its fd). */
void	queue_spool(const struct qentry *, struct spool *sp);

/*
 * The queue's TLS session store (tls.h), DIR/tls/NAME, for the sessions
 * of the configuration whose queue this is (queue_tls.c).  In a user's
 * queue: the user's own files, mode 0600.  In the system queue: written
 * by root only (root:GROUP, 0640 in a 02750 directory) and read by
 * everyone's postie with the group raised; other users resume root's
 * sessions but keep none of their own, since a file they owned they
 * could read or rewrite, and a session lets its holder pose as the
 * server.  Files that break these rules are ignored.
 */
extern const struct tls_store queue_tls_store;	/* ctx: struct queue * */


/*
 * The queue's OAuth2 token store (queue_oauth.c): DIR/oauth/NAME, one
 * record per account (NAME: the account's name, bytes outside
 * [A-Za-z0-9._-] and a leading '.' as %XX).  In a user's queue the
 * user's own files (0600), replaced by write-temp, fsync, rename.  In
 * the system queue the record is made by root (root:GROUP 0660 in a
 * root:GROUP 02750 directory) and updated in place by anyone's postie
 * with the group raised: it holds two checksummed slots and a write
 * goes to the older one, so a crash spoils at most that one.  (A rename
 * would hand the file to whichever user refreshed, and a file's owner
 * can read it whatever its mode.)
 */
struct oauth_record {
	struct buf	 refresh_token;	/* wiped on release */
	struct buf	 access_token;	/* empty: none cached */
	long long	 expires;	/* epoch seconds; 0: unknown */
	struct buf	 client_id;	/* what it was authorized for */
	struct buf	 token_url;
	unsigned long long generation;	/* internal: the slot's */
};

void	oauth_record_init(struct oauth_record *);
void	oauth_record_release(struct oauth_record *);

/* 1 read, 0 no record, -1 unreadable or untrusted (`err` says which
 * and how to fix it). */
int	queue_oauth_load(struct queue *, const char *account,
	    struct oauth_record *, struct buf *err);
/* Write the record atomically and durably: 0, or -1 with `err`. */
int	queue_oauth_save(struct queue *, const char *account,
	    const struct oauth_record *, struct buf *err);
/* The store's lock for `account`, waited for at most `timeout_ms`: a
 * descriptor for queue_oauth_unlock(), or -1 with `err`. */
int	queue_oauth_lock(struct queue *, const char *account, int timeout_ms,
	    struct buf *err);
void	queue_oauth_unlock(struct queue *, int);
/* The record's path, for -P and messages. */
void	queue_oauth_path(const struct queue *, const char *account,
	    struct buf *out);
/* Remove the record: 0 (also when there was none) or -1. */
int	queue_oauth_remove(struct queue *, const char *account,
	    struct buf *err);

#endif
