# bash completion for postie(8)                            -*- shell-script -*-
# Installed as $(datadir)/bash-completion/completions/postie; bash-completion
# loads it on demand.  Self-contained: it needs no bash-completion helpers.

# The configuration file postie would read: -C FILE from the command line,
# else the first of postie's search order (see postie.conf(5)).
_postie_config()
{
	local i w xdg home
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -C ]]; then
			printf '%s\n' "${COMP_WORDS[i + 1]/#\~/$HOME}"
			return
		elif [[ $w == -C?* ]]; then
			w=${w#-C}
			printf '%s\n' "${w/#\~/$HOME}"
			return
		fi
	done
	home=${HOME:-}
	xdg=${XDG_CONFIG_HOME:-$home/.config}
	for w in "$xdg/postie/config" "$home/.postierc" /etc/postie.conf \
	    /usr/local/etc/postie.conf "$home/.msmtprc" "$xdg/msmtp/config" \
	    /etc/msmtprc /usr/local/etc/msmtprc; do
		if [[ -f $w ]]; then
			printf '%s\n' "$w"
			return
		fi
	done
}

# Account names defined in that file ("account NAME [: parents]").
_postie_accounts()
{
	local conf
	conf=$(_postie_config)
	[[ -n $conf && -r $conf ]] || return
	sed -n 's/^[[:blank:]]*account[[:blank:]]\{1,\}\([^:[:blank:]]\{1,\}\).*/\1/p' \
	    "$conf" 2>/dev/null | sort -u
}

_postie()
{
	local cur prev opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	# Values given as the next word.
	case $prev in
	-B)
		mapfile -t COMPREPLY < <(compgen -W '7BIT 8BITMIME' -- "$cur")
		return
		;;
	-N)
		# "never", or a comma list of success, failure, delay.
		local head= w words=(never success failure delay)
		if [[ $cur == *,* ]]; then
			head=${cur%,*},
			words=()
			for w in success failure delay; do
				[[ ,$head == *,$w,* ]] || words+=("$w")
			done
		fi
		mapfile -t COMPREPLY < <(compgen -P "$head" \
		    -W "${words[*]}" -- "${cur##*,}")
		return
		;;
	-R)
		mapfile -t COMPREPLY < <(compgen -W 'full hdrs' -- "$cur")
		return
		;;
	-C)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
		return
		;;
	-b)
		mapfile -t COMPREPLY < <(compgen -W 'm p i s v' -- "$cur")
		return
		;;
	-a | --account | --oauth-authorize)
		mapfile -t COMPREPLY < <(compgen -W "$(_postie_accounts)" \
		    -- "$cur")
		return
		;;
	-f | -r | -F | -V | -L | -h | -p | -O | -X | -A)
		# Free-form values.
		return
		;;
	esac

	case $cur in
	-B?*)
		mapfile -t COMPREPLY < <(compgen -W '-B7BIT -B8BITMIME' \
		    -- "$cur")
		return
		;;
	-R?*)
		mapfile -t COMPREPLY < <(compgen -W '-Rfull -Rhdrs' -- "$cur")
		return
		;;
	-b?*)
		mapfile -t COMPREPLY < <(compgen -W '-bm -bp -bi -bs -bv' \
		    -- "$cur")
		return
		;;
	-od*)
		mapfile -t COMPREPLY < <(compgen -W '-odi -odb -odq' \
		    -- "$cur")
		return
		;;
	--queue-delete)
		# Queue IDs: what mailq lists.
		mapfile -t COMPREPLY < <(compgen -W "$(postie -bp 2>/dev/null |
		    awk '/^[0-9a-f]{16} / { print $1 }')" -- "$cur")
		return
		;;
	-C?*)
		mapfile -t COMPREPLY < <(compgen -f -P -C -- "${cur#-C}")
		return
		;;
	-*)
		opts='-t -i -oi -v -f -r -F -C -bm -bs -bv -bp -bi -q -V -N -R -B
		    -m -n -G -U -h -L -p -A -O -o -d -X -P -S --pretend
		    --serverinfo -a --account --from --read-envelope-from
		    -odi -odb -odq -qI -qR -qS --due --json --queue-delete
		    --oauth-authorize
		    --host --port --timeout --protocol --domain --auth --user
		    --passwordeval --maildomain --auto-from --set-from-header
		    --set-date-header --set-msgid-header --remove-bcc-headers
		    --undisclosed-recipients --dsn-notify --dsn-return
		    --source-ip --socket --syslog --aliases --logfile
		    --logfile-time-format
		    --tls --tls-starttls --tls-certcheck
		    --tls-trust-file --tls-crl-file --tls-fingerprint
		    --tls-cert-file --tls-key-file --tls-priorities
		    --tls-host-override --tls-min-dh-prime-bits
		    --help --version --'
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
		;;
	esac
	# Recipients: nothing to offer but what the user types.
}

complete -F _postie postie
