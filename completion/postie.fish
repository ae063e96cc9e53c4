# fish completion for postie(8).  Installed as
# $(datadir)/fish/vendor_completions.d/postie.fish.

# The configuration file postie would read: -C FILE, else the first of
# postie's search order (see postie.conf(5)).
function __postie_config
    set -l words (commandline -opc)
    for i in (seq 2 (count $words))
        set -l w $words[$i]
        if test "$w" = -C
            set -l j (math $i + 1)
            if test $j -le (count $words)
                echo $words[$j]
                return
            end
        else if string match -q -- '-C?*' $w
            string sub -s 3 -- $w
            return
        end
    end
    set -l xdg $XDG_CONFIG_HOME
    test -n "$xdg"; or set xdg $HOME/.config
    for f in $xdg/postie/config $HOME/.postierc /etc/postie.conf \
            /usr/local/etc/postie.conf $HOME/.msmtprc $xdg/msmtp/config \
            /etc/msmtprc /usr/local/etc/msmtprc
        if test -f $f
            echo $f
            return
        end
    end
end

# Account names ("account NAME [: parents]") in that file.
function __postie_accounts
    set -l conf (__postie_config)
    test -n "$conf"; and test -r "$conf"; or return
    string replace -r -f '^\s*account\s+([^:\s]+).*$' '$1' <$conf | sort -u
end

complete -c postie -s t -d 'Take recipients from To, Cc and Bcc headers'
complete -c postie -s i -d 'Accepted: a lone dot never ends the message'
complete -c postie -s v -d 'Print the SMTP dialogue on standard error'
complete -c postie -s f -x -d 'Envelope sender'
complete -c postie -s r -x -d 'Envelope sender'
complete -c postie -s F -x -d 'Full name for an added From header'
complete -c postie -s C -r -F -d 'Configuration file'
complete -c postie -s b -x -a 'm\t"Submit the message on standard input (default)"
s\t"Speak SMTP on standard input and output"
v\t"Verify the recipients with RCPT, send nothing"
i\t"Check the aliases file"
p\t"List the queue"' -d Mode
complete -c postie -s o -x -a 'i\t"Same as -i" em\t"Ignored" di\t"Deliver at once (default)" db\t"Deliver in the background" dq\t"Queue only"' -d 'Sendmail option'
complete -c postie -s q -d 'Try the queued messages now'
# -q takes the rest of its word: -qIid, -qRrcpt, -qSsender.
complete -c postie -n 'string match -qr -- "^-q" (commandline -ct)' -x -a '-qI\t"Select by queue ID" -qR\t"Select by recipient" -qS\t"Select by sender"'
complete -c postie -l due -d 'With -q: only entries whose next attempt is due'
complete -c postie -l json -d 'With -bp: one JSON object a line'
complete -c postie -l queue-delete -x -d 'Remove queue entries (IDs follow)'
complete -c postie -l oauth-authorize -x -a '(__postie_accounts)' -d 'Authorize an OAuth account once, interactively'
complete -c postie -s V -x -d 'DSN envelope identifier (ENVID)'
complete -c postie -s N -x -a 'never success failure delay success,failure success,failure,delay failure,delay' -d 'DSN notify (NOTIFY)'
complete -c postie -s R -x -a 'full hdrs' -d 'DSN return (RET)'
complete -c postie -s B -x -a '7BIT 8BITMIME' -d 'Body type (BODY)'
complete -c postie -s m -d Ignored
complete -c postie -s n -d Ignored
complete -c postie -s G -d Ignored
complete -c postie -s U -d 'Ask for SMTPUTF8'
complete -c postie -s h -x -d 'Hop count (ignored)'
complete -c postie -s L -x -d 'Syslog tag (ignored)'
complete -c postie -s p -x -d 'Protocol (ignored)'
complete -c postie -s A -x -a 'c m' -d 'Sendmail configuration choice (ignored)'
complete -c postie -s O -x -d 'option=value (ignored)'
complete -c postie -s d -d 'Debug flags (ignored)'
complete -c postie -s X -x -d 'Traffic log (ignored, never opened)'
complete -c postie -s P -l pretend -d 'Print the account that would be used'
complete -c postie -s S -l serverinfo -d 'Print what the server offers'
complete -c postie -s a -l account -x -a '(__postie_accounts)' -d 'Account to use'
complete -c postie -l from -x -d 'Envelope sender'
complete -c postie -l read-envelope-from -d 'Sender from the From header'
complete -c postie -l host -x -d 'SMTP server host name'
complete -c postie -l port -x -d 'Port'
complete -c postie -l timeout -x -d 'Timeout in seconds or off'
complete -c postie -l protocol -x -a 'smtp lmtp' -d 'Protocol'
complete -c postie -l domain -x -d 'EHLO argument'
complete -c postie -l auth -x -a 'on off plain login cram-md5 scram-sha-1 scram-sha-256 scram-sha-1-plus scram-sha-256-plus xoauth2 oauthbearer external' -d 'Authentication'
complete -c postie -l user -x -d 'User name'
complete -c postie -l passwordeval -x -d 'Command printing the password'
complete -c postie -l maildomain -x -d 'Domain for bare local names'
complete -c postie -l auto-from -x -a 'on off' -d 'Sender is login@maildomain'
complete -c postie -l set-from-header -x -a 'auto on off' -d 'Add a From header'
complete -c postie -l set-date-header -x -a 'auto off' -d 'Add a Date header'
complete -c postie -l set-msgid-header -x -a 'auto off' -d 'Add a Message-ID header'
complete -c postie -l remove-bcc-headers -x -a 'on off' -d 'Remove Bcc headers'
complete -c postie -l undisclosed-recipients -x -a 'on off' -d 'Hide the recipients'
complete -c postie -l dsn-notify -x -d 'DSN notify conditions'
complete -c postie -l dsn-return -x -a 'off headers full' -d 'DSN return'
complete -c postie -l source-ip -x -d 'Local address to bind'
complete -c postie -l socket -r -F -d 'Unix socket of the server'
complete -c postie -l syslog -x -a 'on off LOG_MAIL LOG_USER LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7' -d 'Log to syslog'
complete -c postie -l aliases -r -F -d 'Aliases file'
complete -c postie -l logfile -r -F -d 'Log file'
complete -c postie -l logfile-time-format -x -d 'strftime format for the log file'
complete -c postie -l tls -x -a 'on off' -d 'Use TLS'
complete -c postie -l tls-starttls -x -a 'on off' -d 'STARTTLS rather than implicit TLS'
complete -c postie -l tls-certcheck -x -a 'on off' -d 'Verify the server certificate'
complete -c postie -l tls-trust-file -r -F -d 'CA certificates (PEM) or system'
complete -c postie -l tls-crl-file -r -F -d 'Certificate revocation list'
complete -c postie -l tls-fingerprint -x -d 'SHA-256 fingerprint or sha256// pin'
complete -c postie -l tls-cert-file -r -F -d 'Client certificate'
complete -c postie -l tls-key-file -r -F -d 'Client key'
complete -c postie -l tls-priorities -x -d 'GnuTLS priority string'
complete -c postie -l tls-host-override -x -d 'Host name to verify'
complete -c postie -l tls-min-dh-prime-bits -x -d 'Accepted for msmtp compatibility'
complete -c postie -l help -d 'Print a summary of the options'
complete -c postie -l version -d 'Print the version and configuration file paths'
# Account names after -a/--account given as a separate word.
function __postie_after_account
    set -l words (commandline -opc)
    contains -- "$words[-1]" -a --account
end
complete -c postie -n __postie_after_account -x -a '(__postie_accounts)' -d Account
