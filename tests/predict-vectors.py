#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Regenerates tests/predict-vectors.h: reference forecasts from statsmodels for the
built-in backends, with fixed parameters and known initial states.

Run with Debian's Python and python3-statsmodels (0.13.5 was used):
    /usr/bin/python3 tests/predict-vectors.py > tests/predict-vectors.h

The calls, exactly:
  ses:   SimpleExpSmoothing(y, initialization_method="known", initial_level=l0)
             .fit(smoothing_level=a, optimized=False).forecast(H)
  holt:  Holt(y, damped_trend=D, initialization_method="known", initial_level=l0,
              initial_trend=b0).fit(smoothing_level=a, smoothing_trend=b,
              damping_trend=phi, optimized=False).forecast(H)
  hw:    ETSModel(y, error="add", trend="add", seasonal="add", seasonal_periods=m,
              initialization_method="known", initial_level=l0, initial_trend=b0,
              initial_seasonal=s0).smooth([a, a * b, g]).forecast(H)
         (ETSModel's smoothing_trend is the ETS beta, alpha times holtwinters' one. The
         holtwinters module is not used here: at h = m, 2m, ... its forecast takes the
         seasonal term of the cycle before the last, where ETSModel, R's ets() and the
         textbook take the last one.)
  arima: statsmodels.tsa.arima.model.ARIMA(y, order=(p, d, q), trend=T)
              .filter(params).forecast(H)   (exact Kalman filter; on 400 samples its
              start-up has died out, so forecasts match a conditional recursion)
"""
import numpy as np
import warnings
from statsmodels.tsa.holtwinters import SimpleExpSmoothing, Holt, ExponentialSmoothing
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

warnings.simplefilter("ignore")
H = 10


def carr(name, xs, fmt="%.17g"):
    body = ",\n\t".join(", ".join(fmt % v for v in xs[i:i + 4]) for i in range(0, len(xs), 4))
    return f"static const double {name}[{len(xs)}] = {{\n\t{body}\n}};\n"


def uarr(name, xs):
    body = ",\n\t".join(", ".join(str(v) for v in xs[i:i + 12]) for i in range(0, len(xs), 12))
    return f"static const unsigned {name}[{len(xs)}] = {{\n\t{body}\n}};\n"


def series(seed, n, kind):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    if kind == "level":
        return 1000 + np.cumsum(rng.normal(0, 20, n))
    if kind == "trend":
        return 500 + 3.5 * t + rng.normal(0, 15, n)
    if kind == "season":
        return 800 + 1.2 * t + 120 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 10, n)
    if kind == "noisy":
        return 1000 + np.cumsum(rng.normal(0, 5, n)) + rng.normal(0, 40, n)
    if kind == "ar":
        x = np.zeros(n)
        e = rng.normal(0, 10, n)
        for i in range(2, n):
            x[i] = 50 + 0.6 * x[i - 1] - 0.2 * x[i - 2] + e[i] + 0.3 * e[i - 1]
        return x + 200
    raise ValueError(kind)


def css(y, p, d, q, params, cond=None):
    """Conditional sum of squares, the same convention as pfse_predictor_fit(): the
    first `cond` (default p) differenced values condition, earlier errors are 0."""
    cond = p if cond is None else cond
    i = 0
    c = params[i] if d == 0 else 0.0
    i += 1 if d == 0 else 0
    ar = params[i:i + p]
    ma = params[i + p:i + p + q]
    w = np.diff(y, n=d) if d else np.asarray(y, float)
    e = np.zeros(len(w))
    sse = 0.0
    for t in range(cond, len(w)):
        pred = c + sum(ar[k] * w[t - 1 - k] for k in range(p)) + \
            sum(ma[k] * e[t - 1 - k] for k in range(q) if t - 1 - k >= cond)
        e[t] = w[t] - pred
        sse += e[t] ** 2
    return sse, len(w) - cond


def css_fit(y, p, d, q, cond=None):
    from scipy.optimize import minimize
    x0 = ([float(np.mean(y))] if d == 0 else []) + [0.1] * (p + q)
    if not x0:
        return [], css(y, p, d, q, [], cond)
    f = lambda v: css(y, p, d, q, v, cond)[0]
    r = minimize(f, x0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-8,
                                                      "maxiter": 20000})
    r = minimize(f, r.x, method="BFGS", options={"gtol": 1e-8})
    return list(r.x), css(y, p, d, q, r.x, cond)


def ets_sse(y, kind, params):
    """One-step SSE of SES or Holt from the known initial state pfse_predictor_fit() uses:
    level = first sample, trend 0."""
    a = params[0]
    b = params[1] if kind == "holt" else 0.0
    l = float(y[0])
    tr = 0.0
    sse = 0.0
    for t in range(1, len(y)):
        e = y[t] - (l + tr)
        sse += e * e
        l2 = a * y[t] + (1 - a) * (l + tr)
        if kind == "holt":
            tr = b * (l2 - l) + (1 - b) * tr
        l = l2
    return sse


def ets_sse_hw(y, params, m):
    """Holt-Winters (additive): level = mean of the first season, trend 0, seasonal terms
    the first season's deviations; errors from the second season on."""
    a, b, g = params
    l = float(np.mean(y[:m]))
    s = [float(v) - l for v in y[:m]]
    tr = 0.0
    sse = 0.0
    for t in range(m, len(y)):
        k = (t - m) % m
        f = l + tr + s[k]
        e = y[t] - f
        sse += e * e
        l2 = a * (y[t] - s[k]) + (1 - a) * (l + tr)
        tr2 = b * (l2 - l) + (1 - b) * tr
        s[k] = g * (y[t] - l - tr) + (1 - g) * s[k]
        l, tr = l2, tr2
    return sse


def ets_fit(y, kind, m=0):
    from scipy.optimize import minimize
    dim = {"ses": 1, "holt": 2, "hw": 3}[kind]
    f = (lambda v: ets_sse_hw(y, v, m)) if kind == "hw" else (lambda v: ets_sse(y, kind, v))
    best = None
    for x0 in ([0.5] * dim, [0.1] * dim, [0.9] * dim):
        r = minimize(f, x0, method="L-BFGS-B", bounds=[(1e-9, 1.0)] * dim,
                     options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
        if best is None or r.fun < best.fun:
            best = r
    return best.x, best.fun


def aicc(sse, n, k):
    s2 = sse / n
    return n * (np.log(2 * np.pi * s2) + 1) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


# Order selection on 12 ARIMA series of 200 points (d = 1, except two with d = 0): the
# AICc choice over p, q <= 2 by CSS (scipy on pfse's objective, every candidate
# conditioned on the first d + 2 values), which pfse must reproduce, and by statsmodels'
# exact likelihood, which may differ.
ORDER_TRUE = [((0, 0), [], []), ((1, 0), [0.6], []), ((0, 1), [], [0.5]),
              ((1, 1), [0.5], [0.3]), ((2, 0), [0.5, -0.3], []), ((0, 2), [], [0.4, 0.3]),
              ((2, 1), [0.6, -0.2], [0.4]), ((1, 2), [0.7], [-0.3, 0.2]),
              ((2, 2), [0.3, 0.4], [0.2, -0.3]), ((1, 0), [-0.5], []),
              ((1, 1), [0.8], [-0.4]), ((0, 1), [], [-0.6])]
ORDER_D = [1] * 10 + [0, 0]


def arma_series(seed, n, ar, ma, d):
    rng = np.random.default_rng(100 + seed)
    e = rng.normal(0, 10, n + 50)
    w = np.zeros(n + 50)
    for t in range(len(w)):
        w[t] = e[t] + sum(a * w[t - 1 - k] for k, a in enumerate(ar) if t - 1 - k >= 0) + \
            sum(m * e[t - 1 - k] for k, m in enumerate(ma) if t - 1 - k >= 0)
    w = w[50:]
    return 1000 + (np.cumsum(w) if d == 1 else 5 * w)


def order_study():
    out = ["#define PV_ORDER_N %d\n#define PV_ORDER_LEN 200\n" % len(ORDER_TRUE)]
    ys, ds, css_pq, css_a, mle_pq, agree = [], [], [], [], [], 0
    for i, ((p0, q0), ar, ma) in enumerate(ORDER_TRUE):
        d = ORDER_D[i]
        y = arma_series(i, 200, ar, ma, d)
        best, bmle = None, None
        for p in range(3):
            for q in range(3):
                x, (sse, n) = css_fit(y, p, d, q, cond=2)
                k = p + q + (1 if d == 0 else 0) + 1
                a = aicc(sse, n, k)
                if best is None or a < best[0]:
                    best = (a, p, q)
                m = ARIMA(y, order=(p, d, q), trend="c" if d == 0 else "n").fit()
                if bmle is None or m.aicc < bmle[0]:
                    bmle = (m.aicc, p, q)
        ys.extend(y)
        ds.append(d)
        css_pq.extend([best[1], best[2]])
        css_a.append(best[0])
        mle_pq.extend([bmle[1], bmle[2]])
        agree += (best[1], best[2]) == (bmle[1], bmle[2])
        out.append("/* series %d: true (%d,%d,%d); CSS AICc picks (%d,%d,%d); "
                   "exact likelihood (%d,%d,%d) */\n"
                   % (i, p0, d, q0, best[1], d, best[2], bmle[1], d, bmle[2]))
    out.append("/* CSS and exact-likelihood choices agree on %d of %d series */\n"
               % (agree, len(ORDER_TRUE)))
    out.append(carr("pv_order_series", ys))
    out.append(uarr("pv_order_d", ds))
    out.append(uarr("pv_order_css_pq", css_pq))
    out.append(carr("pv_order_css_aicc", css_a))
    out.append(uarr("pv_order_mle_pq", mle_pq))
    return out


def main():
    out = ["/* Generated by tests/predict-vectors.py (statsmodels %s); do not edit. */\n"
           % __import__("statsmodels").__version__]
    out.append("#define PV_H %d\n" % H)
    y1 = series(1, 60, "level")
    out.append(carr("pv_level", y1))
    f = SimpleExpSmoothing(y1, initialization_method="known", initial_level=1000.0).fit(
        smoothing_level=0.3, optimized=False).forecast(H)
    out.append(carr("pv_ses_a03_l1000", f))
    y2 = series(2, 80, "trend")
    out.append(carr("pv_trend", y2))
    f = Holt(y2, initialization_method="known", initial_level=500.0, initial_trend=2.0).fit(
        smoothing_level=0.4, smoothing_trend=0.2, optimized=False).forecast(H)
    out.append(carr("pv_holt_a04_b02", f))
    f = Holt(y2, damped_trend=True, initialization_method="known", initial_level=500.0,
             initial_trend=2.0).fit(smoothing_level=0.4, smoothing_trend=0.2,
                                    damping_trend=0.9, optimized=False).forecast(H)
    out.append(carr("pv_holt_damped_a04_b02_p09", f))
    y3 = series(3, 84, "season")  # also the Holt-Winters fit's series
    out.append(carr("pv_season", y3))
    s0 = [100.0, 80.0, 0.0, -80.0, -100.0, -50.0, 50.0]
    f = ETSModel(y3, error="add", trend="add", seasonal="add", seasonal_periods=7,
                 initialization_method="known", initial_level=800.0, initial_trend=1.0,
                 initial_seasonal=np.array(s0)).smooth(
        np.array([0.3, 0.3 * 0.1, 0.2])).forecast(H)
    out.append(carr("pv_hw_season0", s0))
    out.append(carr("pv_hw_a03_b01_g02", f))
    y4 = series(4, 400, "ar")
    out.append(carr("pv_ar", y4))
    for (p, d, q, trend, params, name) in [
            ((2, 0, 1, "c", [0.6 * 0 + 430.0 * (1 - 0.6 + 0.2), 0.6, -0.2, 0.3, 100.0], "arma21")),
            ((1, 1, 1, "n", [0.5, -0.3, 100.0], "arima111")),
            ((0, 2, 2, "n", [-0.9, 0.2, 100.0], "arima022")),
    ]:
        m = ARIMA(y4, order=(p, d, q), trend=trend)
        f = m.filter(np.array(params)).forecast(H)
        out.append(carr("pv_%s" % name, f))
    # ---- fits. statsmodels' fit() re-estimates the initial state even with
    # initialization_method="known" (0.13.5: the fitted values start elsewhere than
    # initial_level, and fix_params() refuses the initial state), so the optimum of the
    # exact objective pfse_predictor_fit() minimises (known initial state, one-step SSE)
    # is found here with scipy (bounded, L-BFGS-B); statsmodels' estimates are noted.
    y6 = series(6, 120, "noisy")
    out.append(carr("pv_noisy", y6))
    a, f = ets_fit(y6, "ses")
    sm = SimpleExpSmoothing(y6, initialization_method="known", initial_level=y6[0]).fit()
    out.append(carr("pv_fit_ses_alpha", list(a) + [f]))
    out.append("/* statsmodels: alpha %.6f */\n" % sm.params["smoothing_level"])
    y7 = series(7, 120, "noisy") + 2.0 * np.arange(120) + 30 * np.sin(np.arange(120) / 9)
    out.append(carr("pv_noisy_trend", y7))
    a, f = ets_fit(y7, "holt")
    out.append(carr("pv_fit_holt_ab", list(a) + [f]))
    m = 7
    a, f = ets_fit(y3, "hw", m)
    out.append(carr("pv_fit_hw_abg", list(a) + [f]))
    # ---- ARIMA by conditional sum of squares (scipy on the same objective) and the
    # AICc choice over p, q <= 1; statsmodels' exact-likelihood estimates alongside.
    y5 = y4[:200]
    x, (sse, n) = css_fit(y5, 1, 1, 1)
    out.append(carr("pv_fit_arima111", x + [sse]))
    mle = ARIMA(y5, order=(1, 1, 1), trend="n").fit()
    out.append("/* statsmodels exact-likelihood ARIMA(1,1,1) on the same series: ar %.6f ma %.6f */\n"
               % (mle.params[0], mle.params[1]))
    best = None
    for p in range(2):
        for q in range(2):
            x, (sse, n) = css_fit(y5, p, 0, q, cond=1)
            k = p + q + 2
            a = aicc(sse, n, k)
            if best is None or a < best[0]:
                best = (a, p, q, x, sse)
    out.append("#define PV_FIT_ORDER_P %d\n#define PV_FIT_ORDER_Q %d\n" % (best[1], best[2]))
    out.append(carr("pv_fit_order_aicc", [best[0], best[4]]))
    out.extend(order_study())
    print("".join(out))


if __name__ == "__main__":
    main()
