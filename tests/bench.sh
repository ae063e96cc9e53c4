#!/bin/sh
# make bench: throughput, peak memory and system calls per MiB for large
# messages (see tests/bench.py).  Sizes in MiB may follow the binary:
#   sh tests/bench.sh ./postie 16 256 1024
here=$(dirname "$0")
exec "${PYTHON3:-python3}" "$here/bench.py" "$@"
