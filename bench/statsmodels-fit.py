#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Same-run statsmodels baseline for pfse-bench's fitting cases.

Runs `pfse-bench --case predict --fit-series FILE` (which times libpfse's Holt fit and its
ARIMA(1,1,1) fit + 10-step forecast of one 200-point series and writes that series to
FILE), then times statsmodels on the same series, in the same run:

  - ARIMA(1,1,1): statsmodels.tsa.arima.model.ARIMA(y, order=(1, 1, 1)).fit(), then
    .forecast(10) (exact Gaussian likelihood by the state-space method, statsmodels'
    default; libpfse minimises the conditional sum of squares, CSS);
  - Holt: ExponentialSmoothing(y, trend="add", initialization_method="known",
    initial_level=y[0], initial_trend=0).fit() (the initial state libpfse's fit uses).

Prints one JSON object per line: time per fit (median of --reps runs) of both, their
ratio, and the accuracy of both on a common criterion: the one-step SSE of the fitted
parameters under libpfse's objective (CSS for ARIMA: errors conditioned on the first
d + p values, earlier errors 0; Holt: from the known initial state). libpfse minimises
that criterion, so its SSE must not be larger; statsmodels' ARIMA optimises another
(the exact likelihood), and its SSE there says how far the two estimates are apart.

Needs Debian's python3-statsmodels (run with /usr/bin/python3).

  /usr/bin/python3 bench/statsmodels-fit.py [--bench build/bench/pfse-bench] [--reps N]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np


def css_sse(y, ar, ma):
    """One-step SSE of ARIMA(1,1,1) without constant under CSS, as libpfse computes it."""
    w = np.diff(y)
    e_prev, sse = 0.0, 0.0
    for t in range(1, len(w)):
        e = w[t] - ar * w[t - 1] - ma * e_prev
        sse += e * e
        e_prev = e
    return sse


def holt_sse(y, alpha, beta):
    """One-step SSE of Holt's linear method from level y[0], trend 0 (beta as statsmodels'
    smoothing_trend)."""
    level, trend, sse = y[0], 0.0, 0.0
    for t in range(1, len(y)):
        f = level + trend
        e = y[t] - f
        sse += e * e
        new_level = f + alpha * e
        trend = trend + beta * (new_level - level - trend)
        level = new_level
    return sse


def time_it(fn, reps):
    fn()  # warm-up
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default="build/bench/pfse-bench", help="pfse-bench binary")
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args()

    try:
        from statsmodels.tsa.arima.model import ARIMA
        from statsmodels.tsa.holtwinters import ExponentialSmoothing
        import statsmodels
    except ImportError:
        print("statsmodels-fit: python3-statsmodels is not installed: skipped",
              file=sys.stderr)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "series.txt")
        out = subprocess.run(
            [args.bench, "--case", "predict", "--flows", "64", "--samples", "4096",
             "--reps", str(args.reps), "--min-ms", "20", "--no-baseline",
             "--fit-series", path],
            check=True, capture_output=True, text=True).stdout
        ours = {}
        for line in out.splitlines():
            rec = json.loads(line)
            ours[rec["name"]] = rec
        y = np.loadtxt(path)

    warnings.simplefilter("ignore")  # convergence chatter

    def sm_arima():
        res = ARIMA(y, order=(1, 1, 1)).fit()
        res.forecast(10)
        return res

    def sm_holt():
        return ExponentialSmoothing(y, trend="add", initialization_method="known",
                                    initial_level=y[0], initial_trend=0.0).fit()

    ns = time_it(sm_arima, args.reps)
    res = sm_arima()
    ar, ma = float(res.params[0]), float(res.params[1])
    mine = ours["predict-arima-fit"]
    print(json.dumps({
        "name": "fit-vs-statsmodels", "what": "ARIMA(1,1,1) fit + 10-step forecast, 200 points",
        "ns_per_op": mine["ns_per_op"], "baseline_name": "statsmodels-" + statsmodels.__version__,
        "baseline": ns, "ratio": mine["ns_per_op"] / ns, "speedup": ns / mine["ns_per_op"],
        "sse_css": mine["sse"], "baseline_sse_css": css_sse(y, ar, ma),
        "baseline_ar": ar, "baseline_ma": ma}))

    ns = time_it(sm_holt, args.reps)
    res = sm_holt()
    a = float(res.params["smoothing_level"])
    b = float(res.params["smoothing_trend"])
    mine = ours["predict-fit"]
    print(json.dumps({
        "name": "fit-vs-statsmodels", "what": "Holt fit, 200 points",
        "ns_per_op": mine["ns_per_op"], "baseline_name": "statsmodels-" + statsmodels.__version__,
        "baseline": ns, "ratio": mine["ns_per_op"] / ns, "speedup": ns / mine["ns_per_op"],
        "sse": mine["sse"], "baseline_sse": holt_sse(y, a, b),
        "baseline_alpha": a, "baseline_beta": b}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
