#!/usr/bin/env python3
"""Independent check of crates/kimochi-analytics/src/lift.rs (standard library only).

Welch's interval with the t quantile found by integrating the Student t density numerically
(Simpson's rule) and bisecting, rather than through the incomplete beta function the Rust code
uses; and the Wilson interval from its textbook formula. Run: python3 bench/campaign_lift_check.py
"""
import math

Z = 1.959963984540054


def t_pdf(x, df):
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    return c * (1 + x * x / df) ** (-(df + 1) / 2)


def t_cdf(t, df, steps=200000):
    # P(T <= t) = 0.5 + integral_0^t pdf (t >= 0), Simpson's rule
    h = t / steps
    s = t_pdf(0, df) + t_pdf(t, df)
    for i in range(1, steps):
        s += (4 if i % 2 else 2) * t_pdf(i * h, df)
    return 0.5 + s * h / 3


def t_quantile(p, df):
    lo, hi = 0.0, 50.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def welch(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    va = sum((x - ma) ** 2 for x in a) / (len(a) - 1)
    vb = sum((x - mb) ** 2 for x in b) / (len(b) - 1)
    sa, sb = va / len(a), vb / len(b)
    df = (sa + sb) ** 2 / (sa * sa / (len(a) - 1) + sb * sb / (len(b) - 1))
    half = t_quantile(0.975, df) * math.sqrt(sa + sb)
    return ma - mb, ma - mb - half, ma - mb + half, df


def wilson(x, n):
    p = x / n
    centre = 2 * x + Z * Z
    spread = Z * math.sqrt(Z * Z + 4 * x * (1 - p))
    return (centre - spread) / (2 * (n + Z * Z)), (centre + spread) / (2 * (n + Z * Z))


if __name__ == "__main__":
    d, lo, hi, df = welch([3, 5, 7, 9, 11, 30], [2, 4, 4, 5])
    print(f"welch: diff {d:.6f} low {lo:.6f} high {hi:.6f} (df {df:.4f})")
    print("wilson 81/263: %.5f %.5f" % wilson(81, 263))
