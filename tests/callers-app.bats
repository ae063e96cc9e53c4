#!/usr/bin/env bats
# shellcheck shell=bash
#
# Real callers, part 3: programs an application or a user runs -- git
# send-email, PHP's mail(), sudo with mail_always and Symfony Mailer's
# SendmailTransport (a real `sendmail -bs` client) -- each calling postie
# as /usr/sbin/sendmail in a private mount namespace and delivering through
# a private Postfix into Maildirs (tests/callers.bash, callers-env.sh).
# Each runs as the test user, unchanged, with its own defaults.
#
# Packages (Debian 12): git git-email libmailtools-perl (git send-email
# dies at start-up without Mail::Address, a Recommends of git-email),
# php-cli, php-symfony-mailer, sudo.

load common
load callers

setup_file() { callers_setup_file; }
teardown_file() { callers_teardown_file; }
setup() { callers_setup; }
teardown() { callers_teardown; }

# log_wait PATTERN N: wait (at most 10 s) for N lines of postie's log that
# match PATTERN (for callers that mail in the background).
log_wait() {
	local _
	for _ in $(seq 1 200); do
		[ "$(grep -c -e "$1" "$CL_DIR/postie.log")" -ge "$2" ] && return 0
		sleep 0.05
	done
	grep -e "$1" "$CL_DIR/postie.log"
	return 1
}

# ---------------------------------------------------------------- git

# git_patch: as the test user, a repository in $OUT/repo with one commit
# whose message holds a lone "." line, and its patch from git
# format-patch; prints the patch's path.
git_patch() {
	perl -MMail::Address -e 1 || {
		echo "git send-email needs libmailtools-perl (tests/ci.sh installs it)" >&2
		return 1
	}
	# shellcheck disable=SC2016 # $1 is the inner shell's
	in_ns -u sh -c '
		set -e
		cd "$1"
		git init -q repo
		cd repo
		git config user.name "P Caller"
		git config user.email pcaller@example.org
		printf "line 1\n.\nline 3\n" >file.txt
		git add file.txt
		printf "%s\n" "add a file with a lone dot" "" \
		    "The next line is a lone dot:" "." \
		    "and this line follows it." | git commit -q -F -
		git format-patch -q -1 -o ../patches' - "$OUT" >&2
	ls "$OUT"/patches/0001-*.patch
}

# git_send PATCH ARG...: git send-email as the test user, under strace,
# with no sendemail.* configuration: git then pipes to /usr/sbin/sendmail
# itself.
git_send() {
	local patch=$1
	shift
	run --separate-stderr in_ns -u "${TRACE_EXECS[@]}" "$OUT/git.trace" \
	    git -C "$OUT/repo" send-email --confirm=never \
	    --suppress-cc=all --from='P Caller <pcaller@example.org>' "$@" \
	    "$patch" </dev/null
}

@test "git send-email: pipes to /usr/sbin/sendmail -i, every recipient gets the patch byte-exact, the Bcc one without a header" {
	p=$(git_patch)
	# nothing points git at an SMTP server
	run in_ns -u git -C "$OUT/repo" config --get-regexp '^sendemail\.'
	[ "$status" -eq 1 ]
	git_send "$p" --to=alice --cc=bob@example.org --bcc=box-git@example.org
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Sendmail: /usr/sbin/sendmail -i alice bob@example.org box-git@example.org"* ]]
	[[ "$output" == *"Result: OK"* ]]
	# git's argv, unchanged: -i and the recipients, no -f, no -t
	run mailer_argv "$OUT/git.trace"
	echo "$output"
	[ "$output" = '["/usr/sbin/sendmail", "-i", "alice", "bob@example.org", "box-git@example.org"]' ]
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	g=$(mail_wait box-git)
	# What git send-email changes in format-patch's file: it drops the
	# "From <sha> Mon Sep 17 00:00:00 2001" mbox line, sets Date to the
	# time of sending, and adds To, Cc, Message-Id, X-Mailer, MIME-Version
	# and Content-Transfer-Encoding; From, Subject and the body (the lone
	# "." line included) go through as they are.
	body_of "$p" "$W/expected"
	grep -qx '\.' "$W/expected"
	subject=$(sed -n 's/^Subject: //p' "$p")
	# no -f: postie's envelope sender is the login, qualified
	for m in "$a" "$b" "$g"; do
		mail_check "$m" --body "$W/expected" \
		    --header "From: P Caller <pcaller@example.org>" \
		    --header "Subject: $subject" \
		    --header "X-Mailer: git-send-email $(git --version | sed 's/^git version //')" \
		    --addrs To=alice@example.org --addrs Cc=bob@example.org \
		    --return-path pcaller@example.org
	done
	mail_check "$a" --delivered-to alice@example.org
	mail_check "$b" --delivered-to bob@example.org
	mail_check "$g" --delivered-to box-git@example.org
	[ "$(mail_count carol)" -eq 0 ]
}

# git dies with `close $sm or die $!`: $! is 0, so Perl exits with the
# child's status ($? >> 8) -- postie's -- and prints an empty die: "Died
# at ..." or, when an earlier eval left $@ set (the Email::Valid probe
# without libemail-valid-perl), "$@\t...propagated at ...".
git_died() {
	# shellcheck disable=SC2154 # set by run --separate-stderr
	[[ "${stderr_lines[${#stderr_lines[@]} - 1]}" =~ ^(.*propagated|Died)\ at\ /usr/lib/git-core/git-send-email\ line\ [0-9]+\.$ ]]
}

@test "git send-email: with the server down git exits 75, postie's status, after postie's message" {
	p=$(git_patch)
	caller_down
	git_send "$p" --to=alice@example.org
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 75 ]
	[[ "$output" != *"Result: OK"* ]]
	[[ "${stderr_lines[0]}" =~ ^postie:\ account\ \'default\',\ server\ 127\.0\.0\.1:[0-9]+,\ CONNECT:\ connection\ refused\ by\ 127\.0\.0\.1\ port\ [0-9]+$ ]]
	git_died
	[ "$(mail_count alice)" -eq 0 ]
}

@test "git send-email: a rejected recipient makes git exit 67, postie's status" {
	p=$(git_patch)
	git_send "$p" --to=reject@example.org
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 67 ]
	[[ "${stderr_lines[0]}" == "postie: account 'default', server 127.0.0.1[127.0.0.1]:$PF_SMTP_PORT, RCPT: RCPT TO:<reject@example.org> rejected: 550 5.7.1 <reject@example.org>: Recipient address rejected: "* ]]
	git_died
}

# ---------------------------------------------------------------- PHP

# The message body: LF line ends, lone dots, a ".." line.
php_body() {
	printf 'Hello from PHP.\n.\nA lone dot above and below.\n.\n..\nlast line\n'
}

# php_mail: PHP's mail() as a web application calls it, with the default
# sendmail_path "/usr/sbin/sendmail -t -i": extra headers joined by CRLF
# (as the PHP manual says), a Bcc among them, a bare Cc, -f attached as
# the fifth argument.  Prints mail()'s result and error_get_last().
php_mail() {
	cat >"$OUT/mail.php" <<'EOF'
<?php
$headers = "From: Web App <sender@example.org>\r\n"
    . "Cc: bob\r\n"
    . "Bcc: box-php@example.org\r\n"
    . "X-Test: php-mail";
$ok = mail("alice@example.org", "PHP mail test",
    file_get_contents($argv[1]), $headers, "-fsender@example.org");
echo $ok ? "true\n" : "false\n";
$e = error_get_last();
echo $e === null ? "no error\n" : "error: " . $e["message"] . "\n";
EOF
	php_body >"$OUT/php-body"
	chmod 644 "$OUT/mail.php" "$OUT/php-body"
	run --separate-stderr in_ns -u "${TRACE_EXECS[@]}" "$OUT/php.trace" \
	    php "$OUT/mail.php" "$OUT/php-body"
}

@test "PHP mail(): CRLF headers, LF body, Bcc and -f: every recipient, no Bcc header, body byte-exact" {
	run in_ns -u php -r 'echo ini_get("sendmail_path");'
	[ "$output" = "/usr/sbin/sendmail -t -i" ]
	php_mail
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "true
no error" ]
	[ -z "$stderr" ]
	run mailer_argv "$OUT/php.trace"
	echo "$output"
	[ "$output" = '["/usr/sbin/sendmail", "-t", "-i", "-fsender@example.org"]' ]
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	p=$(mail_wait box-php)
	# PHP 8.2 writes the header lines with CRLF, the body as given, and
	# then one more CRLF: the delivered body ends with an empty line
	{ php_body; echo; } >"$W/expected"
	for m in "$a" "$b" "$p"; do
		mail_check "$m" --body "$W/expected" \
		    --header "From: Web App <sender@example.org>" \
		    --header "Subject: PHP mail test" \
		    --header "X-Test: php-mail" \
		    --addrs To=alice@example.org --addrs Cc=bob@example.org \
		    --return-path sender@example.org
	done
	mail_check "$a" --delivered-to alice@example.org
	mail_check "$b" --delivered-to bob@example.org
	mail_check "$p" --delivered-to box-php@example.org
	[ "$(mail_count carol)" -eq 0 ]
}

@test "PHP mail(): with the server down mail() returns false, with no PHP warning" {
	caller_down
	php_mail
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "false
no error" ]
	# postie's message reaches PHP's stderr (the CLI's; a web server's
	# error log)
	[[ "$stderr" =~ ^postie:\ account\ \'default\',\ server\ 127\.0\.0\.1:[0-9]+,\ CONNECT:\ connection\ refused\ by\ 127\.0\.0\.1\ port\ [0-9]+$ ]]
	grep 'from=sender@example.org recipients=alice@example.org,bob@example.org,box-php@example.org .*exitcode=EX_TEMPFAIL' \
	    "$CL_DIR/postie.log"
	[ "$(mail_count alice)" -eq 0 ]
}

# ---------------------------------------------------------------- sudo

# sudo_setup: a private /etc/sudoers in the namespace (root:root 0440,
# bind-mounted over the real one once per file): mail_always, the test
# user may run /bin/true.  sudo 1.9 mails only while it logs an event: with
# !syslog and no logfile it sends nothing, so it logs to a file here.
sudo_setup() {
	local f=$CL_DIR/sudoers
	if [ ! -f "$f" ]; then
		cat >"$f" <<EOF
Defaults mail_always, !syslog, logfile=$CL_DIR/sudo.log
$CALLER_USER ALL=(root) NOPASSWD: /bin/true
EOF
		chown root:root "$f"
		chmod 0440 "$f"
		visudo -c -q -f "$f"
		in_ns sh -c "mount --bind '$f' /etc/sudoers"
	fi
	: >"$CL_DIR/sudo.log"
}

@test "sudo mail_always: sudo's mails to root reach root's alias, qualified" {
	sudo_setup
	run --separate-stderr in_ns -u sudo -n /bin/true
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	grep -F ": $CALLER_USER : " "$CL_DIR/sudo.log"
	# sudo 1.9.13 mails twice: when it allows the command and when the
	# command exits; the mailer (sendmail -t, run as the user since
	# Debian builds sudo with --disable-root-mailer) runs in the
	# background after sudo has exited
	mail_wait alice 2 >/dev/null
	sleep 0.2
	[ "$(mail_count alice)" -eq 2 ]
	for m in "$PF_MAILDIR_BASE"/alice/new/*; do
		# sudo writes "To: root" and "From: pcaller": both qualified;
		# the envelope went to root's alias
		mail_check "$m" --addrs To=root@example.org \
		    --addrs "From=$CALLER_USER@example.org" \
		    --header "Auto-Submitted: auto-generated" \
		    --return-path "$CALLER_USER@example.org" \
		    --delivered-to alice@example.org
		grep -qE '^Subject: \*\*\* SECURITY information for [^ ]+ \*\*\*$' "$m"
		body_of "$m" >>"$W/bodies"
	done
	cat "$W/bodies"
	grep -qE "^[^ ]+ : [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} : $CALLER_USER : PWD=[^;]* ; USER=root ; COMMAND=/bin/true$" "$W/bodies"
	grep -qE "^[^ ]+ : [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} : $CALLER_USER : PWD=[^;]* ; USER=root ; COMMAND=/bin/true ; EXIT=0$" "$W/bodies"
	[ "$(grep -c "from=$CALLER_USER@example.org recipients=alice@example.org .*exitcode=EX_OK" "$CL_DIR/postie.log")" -ge 2 ]
}

@test "sudo mail_always: with the server down the command still runs and exits 0, silently; postie logs EX_TEMPFAIL" {
	sudo_setup
	caller_down
	: >"$CL_DIR/postie.log"
	run --separate-stderr in_ns -u sudo -n /bin/true
	echo "$output"
	echo "$stderr"
	# sudo ignores its mailer's status and gives it /dev/null for output
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	log_wait "from=$CALLER_USER@example.org recipients=alice@example.org .*exitcode=EX_TEMPFAIL" 2
	grep 'connection refused' "$CL_DIR/postie.log"
	[ "$(mail_count alice)" -eq 0 ]
}

# ---------------------------------------------------------------- -bs

# symfony_send TO CC BCC: Symfony Mailer's SendmailTransport with its
# default command, "/usr/sbin/sendmail -bs", run by PHP as the test user
# under strace.  It speaks SMTP to postie on a pipe.  The message it sent
# (SentMessage::toString(), before dot-stuffing) goes to $OUT/bs-sent;
# the output is "sent" or the exception.
symfony_send() {
	[ -f /usr/share/php/Symfony/Component/Mailer/autoload.php ] || {
		echo "php-symfony-mailer is not installed (tests/ci.sh installs it)"
		return 1
	}
	cat >"$OUT/bs.php" <<'EOF'
<?php
require_once '/usr/share/php/Symfony/Component/Mailer/autoload.php';
require_once '/usr/share/php/Symfony/Component/Mime/autoload.php';

use Symfony\Component\Mailer\Transport\SendmailTransport;
use Symfony\Component\Mime\Email;

[, $bodyfile, $sentfile, $to, $cc, $bcc] = $argv;
$email = (new Email())
    ->from('Symfony App <app@example.org>')
    ->to($to)
    ->subject('Symfony -bs test')
    ->text(file_get_contents($bodyfile));
if ($cc !== '')
    $email->cc($cc);
if ($bcc !== '')
    $email->bcc($bcc);
try {
    $sent = (new SendmailTransport())->send($email);
    file_put_contents($sentfile, $sent->toString());
    echo "sent\n";
} catch (\Throwable $e) {
    echo get_class($e), ": ", $e->getMessage(), "\n";
}
EOF
	printf 'Hello over -bs.\n.\nA lone dot above.\n..\nTwo dots above.\n.\nend\n' >"$OUT/bs-body"
	chmod 644 "$OUT/bs.php" "$OUT/bs-body"
	run --separate-stderr in_ns -u "${TRACE_EXECS[@]}" "$OUT/bs.trace" \
	    php "$OUT/bs.php" "$OUT/bs-body" \
	    "$OUT/bs-sent" "$@"
}

@test "-bs: Symfony Mailer's SendmailTransport; the envelope is its MAIL and RCPTs, the message arrives byte-exact" {
	symfony_send alice@example.org bob@example.org box-bs@example.org
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = sent ]
	run mailer_argv "$OUT/bs.trace"
	echo "$output"
	[ "$output" = '["/usr/sbin/sendmail", "-bs"]' ]
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	s=$(mail_wait box-bs)
	# Symfony's message (Bcc already out of it: the Bcc address is only
	# a RCPT) with LF line ends, plus one empty line: Symfony ends DATA
	# with "\r\n.\r\n" after a message that already ends in CRLF
	{ tr -d '\r' <"$OUT/bs-sent"; echo; } >"$W/expected"
	grep -qx '\.' "$W/expected"
	for m in "$a" "$b" "$s"; do
		mail_strip "$m" "$W/got"
		cmp "$W/expected" "$W/got"
		mail_check "$m" --addrs To=alice@example.org \
		    --addrs Cc=bob@example.org --return-path app@example.org
	done
	mail_check "$a" --delivered-to alice@example.org
	mail_check "$b" --delivered-to bob@example.org
	mail_check "$s" --delivered-to box-bs@example.org
	# one transaction, the client's envelope
	grep 'from=app@example.org recipients=alice@example.org,bob@example.org,box-bs@example.org .*exitcode=EX_OK' \
	    "$CL_DIR/postie.log"
	[ "$(mail_count carol)" -eq 0 ]
}

@test "-bs: with the server down Symfony gets 451 for the final dot and throws" {
	caller_down
	symfony_send alice@example.org '' ''
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^Symfony\\Component\\Mailer\\Exception\\TransportException:\ Expected\ response\ code\ \"250\"\ but\ got\ code\ \"451\",\ with\ message\ \"451\ 4\.3\.0\ connection\ refused\ by\ 127\.0\.0\.1\ port\ [0-9]+\"\.$ ]]
	[ ! -e "$OUT/bs-sent" ]
	[ "$(mail_count alice)" -eq 0 ]
}

@test "-bs: a recipient the server refuses makes Symfony get the server's 550 for the final dot" {
	symfony_send reject@example.org '' ''
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == 'Symfony\Component\Mailer\Exception\TransportException: Expected response code "250" but got code "550", with message "550 '*'<reject@example.org>: Recipient address rejected: '* ]]
	[ ! -e "$OUT/bs-sent" ]
}
