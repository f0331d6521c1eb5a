#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Held-out accuracy of the LSTM backend. The default model was trained on the shared data
# set, so `pfse-bench --case forecast-quality` scores it in-sample on the captures. Here
# every flow is scored by a model that never saw it: two folds, the captures split by file
# (alternately, in name order) and the two generated workloads swapped,
#   fold A: train on captures A + web search (DCTCP), score captures B + Facebook;
#   fold B: train on captures B + Facebook, score captures A + web search;
# with the default model's training command otherwise. Prints every JSON line of both
# runs, then per data set and backend the flow-weighted mean MASE (h = 1 and 5).
#
# usage: bench/lstm-heldout.sh [BUILD_DIR [SHARED_DATA_DIR]]
#        (PFSE_TRAIN_ARGS: extra pfse-train options, for example "--hidden 16")
set -eu
build=${1:-build-rel}
data=${2:-${PFSE_SHARED_DATA:-../shared/data}}
train="$build/examples/pfse-train"
bench="$build/bench/pfse-bench"
dctcp="$data/dist/empirical-traffic-gen/DCTCP_CDF"
fb="$data/dist/homa/Facebook_WebServerDist_IntraCluster.txt"
for f in "$train" "$bench" "$dctcp" "$fb"; do
	[ -e "$f" ] || { echo "lstm-heldout: $f: not found" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

a=""; b=""; i=0
for f in $(ls "$data"/mercury/*.pcap* "$data"/ndpi/*.pcap* "$data"/slips/*.pcap* \
	"$data"/suricata-verify/*.pcap* "$data"/tcpreplay/*.pcap* "$data"/zeek/*.pcap* | sort); do
	if [ $((i % 2)) -eq 0 ]; then a="$a $f"; else b="$b $f"; fi
	i=$((i + 1))
done

qargs() { for f in "$@"; do printf ' --quality-capture %s' "$f"; done; }

# shellcheck disable=SC2086
"$train" -o "$tmp/a.pfse" --seed 1 ${PFSE_TRAIN_ARGS:-} --dist "$dctcp" $a >"$tmp/train-a.log"
# shellcheck disable=SC2086
"$train" -o "$tmp/b.pfse" --seed 1 ${PFSE_TRAIN_ARGS:-} --dist "$fb" $b >"$tmp/train-b.log"
# shellcheck disable=SC2046,SC2086
"$bench" --case forecast-quality --lstm-model "$tmp/a.pfse" $(qargs $b) --dist "$fb" \
	| sed 's/"data":"captures"/"data":"captures-B"/' >"$tmp/out"
# shellcheck disable=SC2046,SC2086
"$bench" --case forecast-quality --lstm-model "$tmp/b.pfse" $(qargs $a) --dist "$dctcp" \
	| sed 's/"data":"captures"/"data":"captures-A"/' >>"$tmp/out"
cat "$tmp/out"
python3 - "$tmp/out" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
agg = collections.OrderedDict()
for r in rows:
    d = "captures" if r["data"].startswith("captures") else r["data"]
    k = (d, r["backend"])
    n, s1, s5 = agg.get(k, (0, 0.0, 0.0))
    agg[k] = (n + r["flows"], s1 + r["flows"] * r["mase_h1"], s5 + r["flows"] * r["mase_h5"])
for (d, be), (n, s1, s5) in agg.items():
    print(json.dumps({"name": "lstm-heldout", "data": d, "backend": be, "flows": n,
                      "mase_h1": round(s1 / n, 4), "mase_h5": round(s5 / n, 4)}))
PY
