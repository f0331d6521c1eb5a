#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs PROG [ARGS...] on every file of DIR: each run must end with 0 (replayed) or 1 (a
# clear error, such as a file libpcap refuses), never with a signal or another code.
# usage: clean-exit.sh DIR PROG [ARGS...]
dir=$1
shift
status=0
for f in "$dir"/*; do
	"$@" "$f" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "FAIL $f: exit $rc"
		status=1
	else
		echo "ok   $f: exit $rc"
	fi
done
exit $status
