"""The candidates weighed for the float32 WebAssembly tanh (bench/results/tanh.md), emulated in numpy.

numpy's float32 and float64 array operations round each operation once, as WebAssembly's f32x4 and f64x2 do
(no fused multiply-add), so these emulations give the kernels' bits. Each candidate's error is measured, in
float32 ulps of the float64 reference (the measure of law 2 of laws/fusion.law.test.ts), over every 61st
float32 bit pattern from +0 up to its clamp (the routines are odd, and constant beyond the clamp):

- rational32: tanh x = c P(c^2) / Q(c^2), c = x clamped to 9.5, P of degree 6, Q of degree 3, P(0) = Q(0) = 1,
  evaluated in float32 (Horner's rule) with float32 coefficients;
- rational64: the same function evaluated in float64 (each lane promoted exactly), rounded once to float32;
- expm1: the routine chosen, E / (E + 2), E = expm1(2|x|) by exp's reduction and polynomial (vector-math.ts).

The rational fit is near-minimax in relative error: linearised least squares (P - f Q weighted by
1 / (f Q_previous), Sanathanan and Koerner's iteration) with Lawson's reweighting, in u = x^2 / 9.5^2.
Run: python3 bench/tanh-candidates.py (about a minute).
"""

import numpy as np

f32 = np.float32
CLAMP = 9.5
DEGREE_P, DEGREE_Q = 6, 3


def fit_rational():
    s_max = CLAMP * CLAMP
    n = 6000
    u = (np.cos(np.pi * (np.arange(n) + 0.5) / n) + 1) / 2
    x = np.sqrt(u * s_max)
    f = np.tanh(x) / x
    # unknowns p1..p6, q1..q3: P - f Q = 0 is sum p_k u^k - f sum q_k u^k = f - 1
    a = np.concatenate([np.stack([u**k for k in range(1, DEGREE_P + 1)], 1), -np.stack([f * u**k for k in range(1, DEGREE_Q + 1)], 1)], 1)
    q_previous, w = np.ones(n), np.ones(n) / n
    for iteration in range(300):
        row = np.sqrt(w) / (f * q_previous)
        c, *_ = np.linalg.lstsq(a * row[:, None], (f - 1) * row, rcond=None)
        p, q = np.concatenate([[1.0], c[:DEGREE_P]]), np.concatenate([[1.0], c[DEGREE_P:]])
        q_previous = np.polyval(q[::-1], u)
        e = np.abs(np.polyval(p[::-1], u) / q_previous / f - 1)
        if iteration >= 20:
            w = w * e / np.sum(w * e)
    print(f"rational fit on |x| <= {CLAMP}: relative error {e.max():.3e} in float64 ({e.max() / 2.0 ** -24:.3f} float32 half-ulps at 1)")
    return p / s_max ** np.arange(DEGREE_P + 1), q / s_max ** np.arange(DEGREE_Q + 1)


def horner(coefficients, s):
    out = np.full_like(s, coefficients[-1])
    for c in coefficients[-2::-1]:
        out = out * s + c
    return out


def rational(p, q, dtype):
    p, q = p.astype(dtype), q.astype(dtype)

    def kernel(x):
        c = np.minimum(x, f32(CLAMP)).astype(dtype)
        s = c * c
        return ((c * horner(p, s)) / horner(q, s)).astype(f32)

    return kernel


EXP_Q = [f32(v) for v in [0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.008368710055947304, 0.001381461275741458]]


def expm1_form(x):
    t = np.minimum(np.abs(x) + np.abs(x), f32(20))
    kr = t * f32(np.log2(np.e)) + f32(1.5 * 2**23)
    k = kr - f32(1.5 * 2**23)
    r = (t - k * f32(0.693359375)) - k * f32(np.log(2) - 0.693359375)
    u = (r * r) * horner(EXP_Q, r) + r
    scale = ((kr.view(np.int32) - np.int32(0x4B400000) + 127) << 23).astype(np.int32).view(f32)
    e = scale * u + (scale - f32(1))
    return e / (e + f32(2))


def worst_error(kernel, top, stride=61):
    worst, at = 0.0, 0.0
    top_bits = int(np.array([f32(top)]).view(np.uint32)[0]) + 2
    for start in range(0, top_bits, (1 << 24) * stride):
        x = np.arange(start, min(start + (1 << 24) * stride, top_bits), stride, dtype=np.uint32).view(f32)
        with np.errstate(all="ignore"):
            y = kernel(x).astype(np.float64)
        reference = np.tanh(x.astype(np.float64))
        ulp = 2.0 ** (np.floor(np.log2(np.maximum(np.abs(reference), 2.0**-126))) - 23)
        error = np.abs(y - reference) / ulp
        i = int(np.argmax(error))
        if error[i] > worst:
            worst, at = float(error[i]), float(x[i])
    return worst, at


p, q = fit_rational()
for name, kernel, top in (("rational32", rational(p, q, f32), CLAMP), ("rational64", rational(p, q, np.float64), CLAMP), ("expm1", expm1_form, 10.5)):
    worst, at = worst_error(kernel, top)
    print(f"{name}: at most {worst:.3f} ulp (at {at!r}); at the clamp {float(kernel(np.array([f32(CLAMP)]))[0])!r}")
