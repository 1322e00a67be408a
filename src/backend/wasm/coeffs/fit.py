"""Fits the polynomials of the float32 vector math routines (vector-math.ts).

Each polynomial is a near-minimax fit of a smooth remainder function on an
interval, found by Lawson's algorithm (iteratively reweighted least squares,
which converges to the minimax weights) in float64 with numpy, then rounded
to float32 coefficients. The relative error printed is that of the float64
evaluation of the float32-rounded coefficients against the function, over a
dense grid; the routines' total bounds (with float32 arithmetic) are measured
by law 2 of laws/fusion.law.test.ts. Run: python3 fit.py > fit.out.txt
"""

import numpy as np


def lawson(f, basis, lo, hi, weight, iterations=400, n=4000):
    # Chebyshev nodes cluster at the ends, where minimax errors peak.
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    x = (lo + hi) / 2 + (hi - lo) / 2 * t
    a = np.stack([b(x) for b in basis], axis=1) * weight(x)[:, None]
    y = f(x) * weight(x)
    w = np.ones(n) / n
    for _ in range(iterations):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)
        e = np.abs(a @ c - y)
        w = w * e
        w = w / w.sum()
    return c


def report(name, coefficients, g, lo, hi):
    c32 = np.float32(coefficients).astype(np.float64)
    x = np.linspace(lo, hi, 200001)
    x = x[x != 0]
    rel = np.max(np.abs(g(x, c32)))
    print(f"{name}: [{lo:.6g}, {hi:.6g}]")
    for i, v in enumerate(np.float32(coefficients)):
        print(f"  c{i} = {float(v)!r}  # {np.float32(v).view(np.uint32):#010x}")
    print(f"  max relative error (float64 evaluation): {rel:.3e} = {rel / 2.0 ** -24:.4f} float32 half-ulps-at-1")


def poly(c, x):
    p = np.zeros_like(x)
    for v in c[::-1]:
        p = p * x + v
    return p


# exp(r) = 1 + r + r^2 Q(r) on |r| <= ln2/2; fitted so that the relative error of exp is minimal.
LN2 = np.log(2.0)
lo, hi = -LN2 / 2, LN2 / 2
q = lawson(lambda r: (np.expm1(r) - r) / r**2, [lambda r, k=k: r**k for k in range(5)], lo, hi, lambda r: r**2 / np.exp(r))
report("exp: Q(r), exp r = 1 + r + r^2 Q(r)", q, lambda r, c: (1 + r + r**2 * poly(c, r)) / np.exp(r) - 1, lo, hi)

# log(1 + f) = f - f^2/2 + f^3 R(f) on sqrt(1/2) - 1 <= f < sqrt(2) - 1.
lo, hi = np.sqrt(0.5) - 1, np.sqrt(2.0) - 1
rl = lawson(lambda f: (np.log1p(f) - f + f**2 / 2) / f**3, [lambda f, k=k: f**k for k in range(8)], lo, hi, lambda f: np.abs(f) ** 3 / np.abs(np.log1p(f)))
report("log: R(f), log(1 + f) = f - f^2/2 + f^3 R(f)", rl, lambda f, c: (f - f**2 / 2 + f**3 * poly(c, f)) / np.log1p(f) - 1, lo, hi)

# erf x = x P(x^2) on |x| <= 0.875.
from math import erf as _erf, erfc as _erfc
erf_v = np.vectorize(_erf)
erfc_v = np.vectorize(_erfc)
ERF_SMALL = 0.875
# Fitted as erf x = x + x P(x^2), so that P's leading 2/sqrt(pi) - 1 (not 2/sqrt(pi)) is what float32 rounds.
pe = lawson(lambda s: erf_v(np.sqrt(s)) / np.sqrt(s) - 1, [lambda s, k=k: s**k for k in range(7)], 1e-12, ERF_SMALL**2, lambda s: np.sqrt(s) / erf_v(np.sqrt(s)))
report("erf: P(s), erf x = x + x P(x^2)", pe, lambda x, c: (x + x * poly(c, x**2)) / erf_v(x) - 1, 1e-6, ERF_SMALL)

# erf x = 1 - exp(-x^2) R(1/x - 0.7) / x on 0.875 <= x <= 3.92 (R fits x erfc(x) exp(x^2) in u = 1/x - 0.7,
# centred so that the coefficients stay small and float32 holds them well).
ERF_LARGE = 3.92
CENTRE = 0.7
re_ = lawson(lambda u: erfc_v(1 / (u + CENTRE)) * np.exp(1 / (u + CENTRE) ** 2) / (u + CENTRE), [lambda u, k=k: u**k for k in range(11)], 1 / ERF_LARGE - CENTRE, 1 / ERF_SMALL - CENTRE, lambda u: (u + CENTRE) / (erfc_v(1 / (u + CENTRE)) * np.exp(1 / (u + CENTRE) ** 2)))
report("erfc: R(u), erfc x = exp(-x^2) R(1/x - 0.7) / x", re_, lambda x, c: np.exp(-x**2) * poly(c, 1 / x - CENTRE) / x / erfc_v(x) - 1, ERF_SMALL, ERF_LARGE)

# erfc x = exp(-x^2) S(1/x - c) / x for 0.47 <= x <= 10.06 (erfc x >= 1/2 below 0.477, where 1 - erf x is used instead;
# beyond 10.06 erfc x rounds to 0 in float32), in two pieces, each of degree 11 with a centre float32 holds exactly,
# so that the routine picks one coefficient of the two per lane.
ERFC_SMALL, ERFC_SPLIT, ERFC_LARGE = 0.47, 1.2, 10.06
for name, lo, hi, centre in [("erfc: S1(u)", ERFC_SMALL, ERFC_SPLIT, 1.5), ("erfc: S2(u)", ERFC_SPLIT, ERFC_LARGE, 0.46875)]:
    g = lambda u, c=centre: erfc_v(1 / (u + c)) * np.exp(1 / (u + c) ** 2) / (u + c)
    s = lawson(g, [lambda u, k=k: u**k for k in range(12)], 1 / hi - centre, 1 / lo - centre, lambda u, g=g: 1 / g(u))
    report(f"{name}, erfc x = exp(-x^2) S(1/x - {centre}) / x", s, lambda x, c, centre=centre: np.exp(-x**2) * poly(c, 1 / x - centre) / x / erfc_v(x) - 1, lo, hi)
