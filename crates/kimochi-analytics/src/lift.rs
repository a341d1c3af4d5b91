//! Campaign results against a random holdout (issue 6, B1): per group contact rate, response,
//! conversion, retention and revenue per member, and the treatment − holdout difference with a
//! 95 % confidence interval.
//!
//! Choices, stated:
//! - Differences of proportions use **Newcombe's hybrid score interval** (Newcombe 1998, method
//!   10): the Wilson score interval of each group combined by the square-and-add rule. Unlike
//!   Wald it stays inside [−1, 1] and keeps its coverage when a rate is 0 (a holdout gets no
//!   calls, so its contact rate is exactly 0) or the groups are small.
//! - The difference of mean revenue per member uses **Welch's t interval** (unequal variances,
//!   Welch–Satterthwaite degrees of freedom); the t quantile is computed from the regularised
//!   incomplete beta function.
//!
//! Pure: rows in, numbers out; the order of the rows does not matter.

use kimochi_domain::campaign::Group;

/// z for a two-sided 95 % interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// What one member did in the results window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberOutcome {
    pub group: Group,
    /// Reached by the campaign: an outbound contact that reached them (a sent email, a call
    /// that was not unanswered or busy).
    pub contacted: bool,
    /// Responded: opened or clicked an email, or answered a call.
    pub responded: bool,
    /// Ordered anything in the window.
    pub converted: bool,
    /// Had a subscription before the campaign started (the retention base).
    pub subscriber: bool,
    /// A subscriber with a subscription order in the window.
    pub retained: bool,
    /// Order amounts in the window, in yen.
    pub revenue: i64,
}

/// One group's figure for one measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupFigure {
    /// Members in the base of the measure.
    pub n: u64,
    /// Successes (proportions) or the sum (revenue).
    pub total: f64,
    /// Rate or mean; `None` when `n` is 0.
    pub value: Option<f64>,
}

/// Treatment − holdout with its 95 % interval; `None` parts when a group is empty (or, for
/// revenue, has fewer than two members).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lift {
    pub treatment: GroupFigure,
    pub holdout: GroupFigure,
    pub difference: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Lift {
    /// Whether the interval lies above zero.
    pub fn significant_positive(&self) -> bool {
        self.low.is_some_and(|low| low > 0.0)
    }
}

/// All measures of one campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignLift {
    pub treatment_members: u64,
    pub holdout_members: u64,
    pub contact_rate: Lift,
    pub response: Lift,
    pub conversion: Lift,
    /// Over subscribers only.
    pub retention: Lift,
    pub revenue_per_member: Lift,
}

/// The Wilson score interval of `x` successes in `n` trials (n > 0).
pub fn wilson(x: u64, n: u64, z: f64) -> (f64, f64) {
    let n = n as f64;
    let x = x as f64;
    let p = x / n;
    let z2 = z * z;
    let centre = 2.0 * x + z2;
    let spread = z * (z2 + 4.0 * x * (1.0 - p)).sqrt();
    let denominator = 2.0 * (n + z2);
    (((centre - spread) / denominator).max(0.0), ((centre + spread) / denominator).min(1.0))
}

/// Newcombe's hybrid score interval for p₁ − p₂ (method 10 of Newcombe 1998).
pub fn newcombe_difference(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> Option<(f64, f64, f64)> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let p1 = x1 as f64 / n1 as f64;
    let p2 = x2 as f64 / n2 as f64;
    let (l1, u1) = wilson(x1, n1, z);
    let (l2, u2) = wilson(x2, n2, z);
    let d = p1 - p2;
    let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((d, low, high))
}

/// Welch's interval for mean(a) − mean(b) at confidence 1 − α; `None` unless both have at least
/// two values. Both variances 0 gives a zero-width interval at the difference.
pub fn welch_difference(a: &[f64], b: &[f64], alpha: f64) -> Option<(f64, f64, f64)> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, va) = mean_variance(a);
    let (mb, vb) = mean_variance(b);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (sa, sb) = (va / na, vb / nb);
    let d = ma - mb;
    let se2 = sa + sb;
    if se2 == 0.0 {
        return Some((d, d, d));
    }
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    let t = student_t_quantile(1.0 - alpha / 2.0, df);
    let half = t * se2.sqrt();
    Some((d, d - half, d + half))
}

/// Mean and unbiased sample variance.
fn mean_variance(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance)
}

/// The p-quantile of Student's t with `df` (> 0, may be fractional) degrees of freedom, for
/// p in (0, 1): the CDF inverted by bisection to full double precision.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    while student_t_cdf(high, df) < p {
        high *= 2.0;
        if high > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if student_t_cdf(mid, df) < p {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-15 * high {
            break;
        }
    }
    0.5 * (low + high)
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * regularized_incomplete_beta(0.5 * df, 0.5, x);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + even * d;
        d = if d.abs() < TINY { 1.0 / TINY } else { 1.0 / d };
        c = 1.0 + even / c;
        if c.abs() < TINY {
            c = TINY;
        }
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + odd * d;
        d = if d.abs() < TINY { 1.0 / TINY } else { 1.0 / d };
        c = 1.0 + odd / c;
        if c.abs() < TINY {
            c = TINY;
        }
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

fn proportion(
    rows: &[MemberOutcome],
    base: impl Fn(&MemberOutcome) -> bool,
    hit: impl Fn(&MemberOutcome) -> bool,
) -> Lift {
    let count = |group: Group| -> (u64, u64) {
        let members = rows.iter().filter(|r| r.group == group && base(r));
        let (mut n, mut x) = (0u64, 0u64);
        for member in members {
            n += 1;
            if hit(member) {
                x += 1;
            }
        }
        (x, n)
    };
    let (xt, nt) = count(Group::Treatment);
    let (xh, nh) = count(Group::Holdout);
    let figure = |x: u64, n: u64| GroupFigure { n, total: x as f64, value: (n > 0).then(|| x as f64 / n as f64) };
    let interval = newcombe_difference(xt, nt, xh, nh, Z_95);
    Lift {
        treatment: figure(xt, nt),
        holdout: figure(xh, nh),
        difference: interval.map(|i| i.0),
        low: interval.map(|i| i.1),
        high: interval.map(|i| i.2),
    }
}

/// The results of a campaign from what each member did in the window.
pub fn campaign_lift(rows: &[MemberOutcome]) -> CampaignLift {
    let revenue =
        |group: Group| -> Vec<f64> { rows.iter().filter(|r| r.group == group).map(|r| r.revenue as f64).collect() };
    let (rt, rh) = (revenue(Group::Treatment), revenue(Group::Holdout));
    let figure = |values: &[f64]| GroupFigure {
        n: values.len() as u64,
        total: values.iter().sum(),
        value: (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64),
    };
    let interval = welch_difference(&rt, &rh, 0.05);
    let revenue_per_member = Lift {
        treatment: figure(&rt),
        holdout: figure(&rh),
        difference: match (figure(&rt).value, figure(&rh).value) {
            (Some(t), Some(h)) => Some(t - h),
            _ => None,
        },
        low: interval.map(|i| i.1),
        high: interval.map(|i| i.2),
    };
    CampaignLift {
        treatment_members: rt.len() as u64,
        holdout_members: rh.len() as u64,
        contact_rate: proportion(rows, |_| true, |r| r.contacted),
        response: proportion(rows, |_| true, |r| r.responded),
        conversion: proportion(rows, |_| true, |r| r.converted),
        retention: proportion(rows, |r| r.subscriber, |r| r.retained),
        revenue_per_member,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance, "{actual} is not {expected} ± {tolerance}");
    }

    #[test]
    fn newcombe_matches_the_published_examples() {
        // Newcombe (1998), Statistics in Medicine 17:873–890, Table II, method 10.
        type Case = ((u64, u64, u64, u64), (f64, f64));
        let cases: [Case; 4] = [
            ((56, 70, 48, 80), (0.0524, 0.3339)),
            ((9, 10, 3, 10), (0.1705, 0.8090)),
            ((6, 7, 2, 7), (0.0582, 0.8062)),
            ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ];
        for ((x1, n1, x2, n2), (low, high)) in cases {
            let (_, l, h) = newcombe_difference(x1, n1, x2, n2, Z_95).unwrap();
            close(l, low, 0.00006);
            close(h, high, 0.00006);
        }
        assert_eq!(newcombe_difference(1, 0, 1, 2, Z_95), None);
    }

    #[test]
    fn wilson_matches_a_hand_computation() {
        // x = 81, n = 263: bench/campaign_lift_check.py
        let (l, h) = wilson(81, 263, Z_95);
        close(l, 0.25529, 0.00001);
        close(h, 0.36621, 0.00001);
        // 0 of n: lower bound 0, upper z²/(n+z²)
        let (l, h) = wilson(0, 29, Z_95);
        assert_eq!(l, 0.0);
        close(h, Z_95 * Z_95 / (29.0 + Z_95 * Z_95), 1e-12);
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        close(student_t_quantile(0.975, 1.0), 12.706_204_736, 1e-6);
        close(student_t_quantile(0.975, 2.0), 4.302_652_730, 1e-8);
        close(student_t_quantile(0.975, 10.0), 2.228_138_852, 1e-8);
        close(student_t_quantile(0.975, 30.0), 2.042_272_456, 1e-8);
        close(student_t_quantile(0.975, 1e7), Z_95, 1e-6);
        close(student_t_quantile(0.025, 10.0), -2.228_138_852, 1e-8);
        // df = 2 has a closed form: t = (2p − 1)·sqrt(2 / (4p(1 − p)))
        let p: f64 = 0.9;
        close(student_t_quantile(p, 2.0), (2.0 * p - 1.0) * (2.0 / (4.0 * p * (1.0 - p))).sqrt(), 1e-10);
    }

    #[test]
    fn welch_matches_an_independent_computation() {
        // bench/campaign_lift_check.py computes this by numerical integration of the t density.
        let a = [3.0, 5.0, 7.0, 9.0, 11.0, 30.0];
        let b = [2.0, 4.0, 4.0, 5.0];
        let (d, l, h) = welch_difference(&a, &b, 0.05).unwrap();
        close(d, 65.0 / 6.0 - 3.75, 1e-12);
        close(l, WELCH_LOW, 2e-5);
        close(h, WELCH_HIGH, 2e-5);
        assert_eq!(welch_difference(&a, &[1.0], 0.05), None);
    }

    const WELCH_LOW: f64 = -3.189_720;
    const WELCH_HIGH: f64 = 17.356_387;

    fn member(group: Group, converted: bool, revenue: i64) -> MemberOutcome {
        MemberOutcome {
            group,
            contacted: group == Group::Treatment,
            responded: false,
            converted,
            subscriber: false,
            retained: false,
            revenue,
        }
    }

    #[test]
    fn planted_lift_is_found_with_an_interval_above_zero() {
        // 900 treated, 30 % order 5,000 yen; 100 held out, 10 % order.
        let mut rows = Vec::new();
        for i in 0..900 {
            let converted = i % 10 < 3;
            rows.push(member(Group::Treatment, converted, if converted { 5_000 } else { 0 }));
        }
        for i in 0..100 {
            let converted = i % 10 == 0;
            rows.push(member(Group::Holdout, converted, if converted { 5_000 } else { 0 }));
        }
        let lift = campaign_lift(&rows);
        assert_eq!((lift.treatment_members, lift.holdout_members), (900, 100));
        close(lift.conversion.difference.unwrap(), 0.2, 1e-12);
        assert!(lift.conversion.significant_positive(), "{:?}", lift.conversion);
        assert!(lift.revenue_per_member.significant_positive(), "{:?}", lift.revenue_per_member);
        close(lift.revenue_per_member.difference.unwrap(), 1_000.0, 1e-9);
        assert_eq!(lift.contact_rate.holdout.value, Some(0.0));
        assert_eq!(lift.retention.treatment.n, 0);
        assert_eq!(lift.retention.difference, None);
        // no effect: the interval covers 0
        let flat: Vec<MemberOutcome> = (0..400)
            .map(|i| member(if i % 4 == 0 { Group::Holdout } else { Group::Treatment }, i % 5 == 0, 0))
            .collect();
        let lift = campaign_lift(&flat);
        assert!(lift.conversion.low.unwrap() < 0.0 && lift.conversion.high.unwrap() > 0.0);
        // order of the rows does not matter
        let mut reversed = rows.clone();
        reversed.reverse();
        assert_eq!(campaign_lift(&reversed), campaign_lift(&rows));
    }
}
