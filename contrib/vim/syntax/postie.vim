" Vim syntax file
" Language:	postie configuration (msmtp-compatible), see postie.conf(5)
" Install:	copy syntax/ and ftdetect/ into ~/.vim/ (or a pack directory)

if exists("b:current_syntax")
  finish
endif

syn match   postieComment	"^\s*#.*$" contains=@Spell
syn match   postieSection	"^\s*\zs\(defaults\|account\)\>"
syn match   postieAccount	"^\s*account\s\+\zs[^ \t:#]\+" contains=NONE
syn match   postieDefault	"^\s*account\s\+default\s*:" contains=postieSection

" Every keyword postie's config parser knows (tests/doc.bats keeps this
" list in step with src/conf.c).
syn keyword postieKeyword contained add_missing_date_header add_missing_from_header
syn keyword postieKeyword contained aliases allow_from_override auth auto_from
syn keyword postieKeyword contained connect_timeout domain dsn_notify dsn_return
syn keyword postieKeyword contained eval from from_full_name host keepbcc logfile
syn keyword postieKeyword contained logfile_time_format maildomain ntlmdomain
syn keyword postieKeyword contained oauth_auth_url oauth_client_id
syn keyword postieKeyword contained oauth_client_secret oauth_client_secret_eval
syn keyword postieKeyword contained oauth_device_url oauth_provider oauth_scope
syn keyword postieKeyword contained oauth_tenant oauth_token_url oauth_trust_file
syn keyword postieKeyword contained password passwordeval port protocol
syn keyword postieKeyword contained proxy_host proxy_port queue queue_dir
syn keyword postieKeyword contained queue_lifetime remove_bcc_headers
syn keyword postieKeyword contained set_date_header set_from_header
syn keyword postieKeyword contained set_msgid_header set_to_header socket
syn keyword postieKeyword contained source_ip syslog timeout tls tls_cert_file
syn keyword postieKeyword contained tls_certcheck tls_crl_file tls_fingerprint
syn keyword postieKeyword contained tls_force_sslv3 tls_host_override
syn keyword postieKeyword contained tls_key_file tls_min_dh_prime_bits
syn keyword postieKeyword contained tls_nocertcheck tls_nostarttls
syn keyword postieKeyword contained tls_priorities tls_starttls tls_trust_file
syn keyword postieKeyword contained undisclosed_recipients user
syn match   postieLine		"^\s*\zs\w\+" contains=postieKeyword,postieSection

syn keyword postieBool		on off auto
syn keyword postieMech		plain login cram-md5 scram-sha-1 scram-sha-256
syn keyword postieMech		scram-sha-1-plus scram-sha-256-plus external
syn keyword postieMech		xoauth2 oauthbearer
syn keyword postieMech		google microsoft custom
syn match   postiePassword	"^\s*\(password\|oauth_client_secret\)\s\+\zs.*$"
syn match   postieString	"\"[^\"]*\""

hi def link postieComment	Comment
hi def link postieSection	Statement
hi def link postieAccount	Identifier
hi def link postieKeyword	Keyword
hi def link postieBool		Boolean
hi def link postieMech		Constant
hi def link postiePassword	Special
hi def link postieString	String

let b:current_syntax = "postie"
