" postie (and msmtp) configuration files
autocmd BufNewFile,BufRead ~/.postierc,*/postie/config,postie.conf setfiletype postie
autocmd BufNewFile,BufRead ~/.msmtprc,*/msmtp/config,msmtprc setfiletype postie
