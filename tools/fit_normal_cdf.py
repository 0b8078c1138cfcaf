"""Fit the coefficients of the exact GELU in native/src/kernels/gelu.cpp: the standard normal CDF Φ and GELU's
slope Φ(x) + x·φ(x), in two pieces.

    |x| <= 1:        Φ(x) = 1/2 + x·S(x²), slope = 1/2 + x·G(x²)    S, G polynomials, minimax in relative error
    1 < |x| < 5.5:   Φ(−|x|) = P(|x| − 1) / Q(|x| − 1)              a rational, minimax in absolute error

Beyond 5.5 the kernel takes Φ(−|x|) = 0 (Φ(−5.5) = 1.9e-8). The fits are weighted linearised least squares on
Chebyshev nodes, reweighted by the error each round (Lawson's iteration), which converges to the equioscillating
minimax solution; the coefficients are then rounded to float32 one at a time, the rest refitted after each. Q is
scaled to a leading coefficient of 1. Prints the coefficients, lowest degree first, and the fitted error of the
rounded coefficients evaluated in float64. The kernel's error in float32 arithmetic is measured by the tests.

    python3 tools/fit_normal_cdf.py
"""
import math

import numpy as np

SPLIT, CUTOFF = 1.0, 5.5
CDF_DEGREE, SLOPE_DEGREE, TAIL_DEGREES = 4, 5, (6, 6)


def cdf_minus_half(x):  # Φ(x) − 1/2 = erf(x/√2)/2, to double precision
    return np.array([0.5 * math.erf(v / math.sqrt(2.0)) for v in x])


def upper_tail(x):  # Φ(−x) = erfc(x/√2)/2, to double precision
    return np.array([0.5 * math.erfc(v / math.sqrt(2.0)) for v in x])


def chebyshev_nodes(lo, hi, count):
    k = np.arange(count)
    return lo + (hi - lo) * 0.5 * (1.0 - np.cos(np.pi * (k + 0.5) / count))


def lawson_rational(x, f, scale, num_degree, den_degree, iterations=1500):
    """Minimise max |(P(x)/Q(x) − f)/scale| with Q(0) = 1; returns (max error, P, Q), lowest degree first."""
    num_basis = np.stack([x**i for i in range(num_degree + 1)], axis=1)
    den_basis = np.stack([x**i for i in range(1, den_degree + 1)], axis=1)
    weights = np.full(len(x), 1.0 / len(x))
    previous_den = np.ones_like(x)
    best = None
    for _ in range(iterations):
        # Linearised: (P − f·Q)/(scale·Q_previous) ≈ the weighted error of P/Q.
        rows = np.sqrt(weights) / (scale * previous_den)
        system = np.concatenate([num_basis, -f[:, None] * den_basis], axis=1) * rows[:, None]
        solution, *_ = np.linalg.lstsq(system, f * rows, rcond=None)
        num = solution[: num_degree + 1]
        den = np.concatenate([[1.0], solution[num_degree + 1:]])
        previous_den = den_basis @ den[1:] + 1.0
        error = ((num_basis @ num) / previous_den - f) / scale
        if best is None or np.abs(error).max() < best[0]:
            best = (np.abs(error).max(), num, den)
        weights = np.maximum(weights * np.abs(error), 1e-300)
        weights /= weights.sum()
    return best


def rescale(coefficients, unit):  # coefficients in x/unit → coefficients in x
    return np.array([c / unit**i for i, c in enumerate(coefficients)])


def round_to_float32(basis, f, scale, coefficients):
    """Round the coefficients of the linear fit basis·c ≈ f to float32 one at a time, highest degree first,
    refitting the lower ones (minimax in error/scale) to absorb each rounding."""
    coefficients = np.array(coefficients, dtype=np.float64)
    for j in range(len(coefficients) - 1, 0, -1):
        coefficients[j] = np.float32(coefficients[j])
        residual = f - basis[:, j:] @ coefficients[j:]
        _, lower = lawson_linear(basis[:, :j], residual, scale)
        coefficients[:j] = lower
    coefficients[0] = np.float32(coefficients[0])
    return coefficients


def lawson_linear(basis, f, scale, iterations=1500):
    """Minimise max |(basis·c − f)/scale|; returns (max error, c)."""
    weights = np.full(len(f), 1.0 / len(f))
    best = None
    for _ in range(iterations):
        rows = np.sqrt(weights) / scale
        solution, *_ = np.linalg.lstsq(basis * rows[:, None], f * rows, rcond=None)
        error = (basis @ solution - f) / scale
        if best is None or np.abs(error).max() < best[0]:
            best = (np.abs(error).max(), solution)
        weights = np.maximum(weights * np.abs(error), 1e-300)
        weights /= weights.sum()
    return best


def main():
    # Near zero: S(t) = (Φ(x) − 1/2)/x and G(t) = S(t) + φ(x) with t = x², fitted in t/SPLIT² for conditioning.
    x = chebyshev_nodes(0.0, SPLIT, 2000)
    t = x * x
    near_cdf = cdf_minus_half(x) / x
    near_slope = near_cdf + np.exp(-0.5 * t) / math.sqrt(2.0 * math.pi)
    near = {}
    for name, target, degree in (("S", near_cdf, CDF_DEGREE), ("G", near_slope, SLOPE_DEGREE)):
        scaled_basis = np.stack([(t / SPLIT**2)**i for i in range(degree + 1)], axis=1)
        _, coefficients = lawson_linear(scaled_basis, target, target)
        coefficients = rescale(coefficients, SPLIT**2)
        basis = np.stack([t**i for i in range(degree + 1)], axis=1)
        coefficients = round_to_float32(basis, target, target, coefficients)
        near[name] = (coefficients, np.abs(basis @ coefficients / target - 1.0).max())

    # The tail: Φ(−a) for a in (SPLIT, CUTOFF], in s = a − SPLIT, fitted in s/(CUTOFF − SPLIT). Q is rounded
    # first; P is then refitted against the rounded Q, as the linear fit P(s)/Q(s) ≈ Φ(−a).
    a = chebyshev_nodes(SPLIT, CUTOFF, 4000)
    s, width = a - SPLIT, CUTOFF - SPLIT
    tail = upper_tail(a)
    _, num, den = lawson_rational(s / width, tail, np.ones_like(tail), *TAIL_DEGREES)
    num, den = rescale(num, width), rescale(den, width)
    num, den = num / den[-1], np.array(den / den[-1], dtype=np.float32).astype(np.float64)
    den_values = np.polyval(den[::-1], s)
    num_basis = np.stack([s**i / den_values for i in range(TAIL_DEGREES[0] + 1)], axis=1)
    num = round_to_float32(num_basis, tail, np.ones_like(tail), num)
    tail_error = np.abs(np.polyval(num[::-1], s) / den_values - tail).max()

    show = lambda values: ", ".join(f"{float(np.float32(v)):.9g}f" for v in values)  # 9 digits: exact floats
    for name, (coefficients, error) in near.items():
        print(f"near {name}, relative error {error:.2e}:")
        print(f"  {show(coefficients)}")
    print(f"tail P / Q, absolute error {tail_error:.2e}; Phi(-{CUTOFF}) = {upper_tail([CUTOFF])[0]:.2e}:")
    print(f"  P: {show(num)}")
    print(f"  Q: {show(den)}")


if __name__ == "__main__":
    main()
