#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# pfse-replay reads the captures on a thread of its own (--threads 2, the default) or in
# line (--threads 1): the two must give the same report (but for its speed and memory
# lines) and the same per-flow CSV, and with a node failing no packet may reach it. A
# third run makes the runs' flow map fall back to looking flows up by key.
# usage: same-runs.sh OUTDIR PFSE-REPLAY ARGS...
out=$1
prog=$2
shift 2
for t in 1 2; do
	"$prog" --threads $t --json "$out/same-$t.json" --flows-out "$out/same-$t.csv" "$@" \
		>"$out/same-$t.txt" || { echo "FAIL: --threads $t exited $?"; exit 1; }
	grep -v '^speed:\|^peak RSS' "$out/same-$t.txt" >"$out/same-$t.report"
done
# the runs' flow map with tags too short to tell flows apart: it must see that and look
# flows up by their keys, with the same results
PFSE_REPLAY_TAG_BITS=0 "$prog" --flows-out "$out/same-t.csv" "$@" >"$out/same-t.txt" ||
	{ echo "FAIL: the run with 0-bit tags exited $?"; exit 1; }
grep -v '^speed:\|^peak RSS' "$out/same-t.txt" >"$out/same-t.report"
cmp "$out/same-1.report" "$out/same-2.report" || { echo "FAIL: the reports differ"; exit 1; }
cmp "$out/same-1.csv" "$out/same-2.csv" || { echo "FAIL: the flow CSVs differ"; exit 1; }
cmp "$out/same-1.report" "$out/same-t.report" || { echo "FAIL: 0-bit tags: reports differ"; exit 1; }
cmp "$out/same-1.csv" "$out/same-t.csv" || { echo "FAIL: 0-bit tags: flow CSVs differ"; exit 1; }
[ -s "$out/same-1.csv" ] || { echo "FAIL: no flows"; exit 1; }
down=$(grep -o '"packets_to_down_nodes":[0-9]*' "$out/same-2.json" | grep -vc ':0$')
runs=$(grep -o '"packets_to_down_nodes"' "$out/same-2.json" | wc -l)
[ "$runs" -gt 0 ] && [ "$down" -eq 0 ] ||
	{ echo "FAIL: packets to a down node ($down of $runs runs)"; exit 1; }
echo "ok: $runs runs, the same with one thread and two, none to a down node"
