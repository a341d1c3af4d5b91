//! Segmentation as callers see it: RFM levels and cells, customer stages, purchase cycles and
//! the repeat alerts built on them. Small readable cases, one `check` helper per feature.

use kimochi_analytics::cycle::{CycleConfig, CycleError, PurchaseHistory, purchase_cycle, repeat_alerts};
use kimochi_analytics::rfm::{RfmCell, RfmConfig, RfmError, RfmInput, RfmReport, TieRule, rfm_scores};
use kimochi_analytics::stage::{ProductKindCounts, Stage, StageConfig, StageInput, customer_stage};
use kimochi_domain::{CustomerId, ProductId, ProductKind};
use time::macros::date;
use time::{Date, Duration};

// ---------------------------------------------------------------------------------------------
// RFM

const AS_OF: Date = date!(2024 - 06 - 30);

/// A customer `id` whose last purchase was `days_ago` days before [`AS_OF`].
fn customer(id: u64, days_ago: i64, frequency: u64, monetary: i64) -> RfmInput<u64> {
    RfmInput { customer: id, last_purchase: AS_OF - Duration::days(days_ago), frequency, monetary }
}

/// Scores `inputs` and compares each customer's cell with `expected_cells`, in input order.
fn check_rfm(inputs: &[RfmInput<u64>], tie_rule: TieRule, expected_cells: &[u16]) {
    let scores = rfm_scores(inputs, AS_OF, &RfmConfig { tie_rule }).unwrap();
    let cells: Vec<u16> = scores.iter().map(|score| score.cell.code()).collect();
    assert_eq!(cells, expected_cells, "{tie_rule:?}");
    let customers: Vec<u64> = scores.iter().map(|score| score.customer).collect();
    let input_customers: Vec<u64> = inputs.iter().map(|input| input.customer).collect();
    assert_eq!(customers, input_customers, "scores come back in input order");
}

#[test]
fn rfm_ten_distinct_customers_fall_in_pairs_per_level() {
    // Recency: customer 10 bought today, customer 1 ninety days ago. Frequency: customer 1 most.
    // Monetary is shuffled: ascending it runs 2, 6, 4, 8, 1, 10, 5, 9, 3, 7.
    let monetary = [500, 100, 900, 300, 700, 200, 1000, 400, 800, 600];
    let inputs: Vec<RfmInput<u64>> =
        (1..=10).map(|id| customer(id, 100 - 10 * id as i64, 11 - id, monetary[id as usize - 1])).collect();
    let expected = [153, 151, 245, 242, 334, 331, 425, 422, 514, 513];
    check_rfm(&inputs, TieRule::SplitByRank, &expected);
    // Without ties the two rules agree.
    check_rfm(&inputs, TieRule::KeepTiesTogether, &expected);

    let scores = rfm_scores(&inputs, AS_OF, &RfmConfig::default()).unwrap();
    let recency: Vec<i64> = scores.iter().map(|score| score.recency_days).collect();
    assert_eq!(recency, [90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    assert_eq!((scores[0].frequency, scores[0].monetary), (10, 500), "the summary is carried through");
}

#[test]
fn rfm_ties_under_both_rules() {
    // Everyone bought on the same day for the same amount; frequencies tie in runs.
    let frequency = [2, 1, 1, 5, 1, 1, 3, 1, 2, 1];
    let inputs: Vec<RfmInput<u64>> = (1..=10).map(|id| customer(id, 3, frequency[id as usize - 1], 1000)).collect();
    // Split by rank: equal values are ordered by id, so R and M (all equal) run 1,1,2,2,…,5,5 by
    // id, and the six customers who bought once are split over F 1, 2 and 3.
    check_rfm(&inputs, TieRule::SplitByRank, &[141, 111, 212, 252, 323, 323, 454, 434, 545, 535]);
    // Kept together: all-equal R and M give level 1 to everyone (the level of rank 0); the
    // once-buyers (ranks 0–5) share F 1, the twice-buyers start at rank 6 (F 4).
    check_rfm(&inputs, TieRule::KeepTiesTogether, &[141, 111, 111, 151, 111, 111, 151, 111, 141, 111]);
}

#[test]
fn rfm_does_not_depend_on_input_order() {
    let frequency = [2, 1, 1, 5, 1, 1, 3, 1, 2, 1];
    let inputs: Vec<RfmInput<u64>> = (1..=10)
        .map(|id| customer(id, (id as i64 * 7) % 5, frequency[id as usize - 1], 100 * (id as i64 % 3)))
        .collect();
    let mut reversed = inputs.clone();
    reversed.reverse();
    for tie_rule in [TieRule::SplitByRank, TieRule::KeepTiesTogether] {
        let config = RfmConfig { tie_rule };
        let mut forward = rfm_scores(&inputs, AS_OF, &config).unwrap();
        let mut backward = rfm_scores(&reversed, AS_OF, &config).unwrap();
        forward.sort_by_key(|score| score.customer);
        backward.sort_by_key(|score| score.customer);
        assert_eq!(forward, backward, "{tie_rule:?}");
    }
}

#[test]
fn rfm_fewer_than_five_customers_spread_symmetrically() {
    /// Customers as (id, days ago, frequency, monetary).
    type Rows = &'static [(u64, i64, u64, i64)];
    let cases: &[(Rows, &[u16])] = &[
        (&[], &[]),
        (&[(1, 5, 1, 100)], &[333]),
        (&[(1, 5, 1, 100), (2, 1, 3, 300)], &[222, 444]),
        (&[(1, 5, 1, 100), (2, 1, 3, 300), (3, 3, 2, 200)], &[111, 555, 333]),
        (&[(1, 4, 1, 100), (2, 3, 2, 200), (3, 2, 3, 300), (4, 1, 4, 400)], &[111, 222, 444, 555]),
    ];
    for (rows, expected) in cases {
        let inputs: Vec<RfmInput<u64>> = rows.iter().map(|&(id, days, f, m)| customer(id, days, f, m)).collect();
        check_rfm(&inputs, TieRule::SplitByRank, expected);
    }
}

#[test]
fn rfm_levels_differ_in_size_by_at_most_one() {
    // (customers, customers per level 1..=5)
    let cases: &[(u64, [usize; 5])] =
        &[(5, [1, 1, 1, 1, 1]), (7, [1, 2, 1, 2, 1]), (11, [2, 2, 3, 2, 2]), (13, [3, 2, 3, 2, 3]), (1000, [200; 5])];
    for &(n, expected) in cases {
        let inputs: Vec<RfmInput<u64>> = (1..=n).map(|id| customer(id, 0, id, 0)).collect();
        let scores = rfm_scores(&inputs, AS_OF, &RfmConfig::default()).unwrap();
        let mut per_level = [0_usize; 5];
        for score in &scores {
            per_level[usize::from(score.cell.f()) - 1] += 1;
        }
        assert_eq!(per_level, expected, "n = {n}");
    }
}

#[test]
fn rfm_report_counts_all_125_cells() {
    // A deterministic scramble of 1,000 customers so that many cells are filled.
    let mut state: u64 = 12345;
    let mut next = move |modulus: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % modulus
    };
    let inputs: Vec<RfmInput<u64>> =
        (0..1000).map(|id| customer(id, next(400) as i64, 1 + next(12), next(50_000) as i64)).collect();
    for tie_rule in [TieRule::SplitByRank, TieRule::KeepTiesTogether] {
        let scores = rfm_scores(&inputs, AS_OF, &RfmConfig { tie_rule }).unwrap();
        let report = RfmReport::from_scores(&scores);
        assert_eq!(report.cells().count(), 125);
        assert_eq!(report.total(), 1000, "{tie_rule:?}");
        assert_eq!(report.cells().map(|(_, count)| count).sum::<u64>(), 1000);
        let filled = report.cells().filter(|&(_, count)| count > 0).count();
        assert_eq!(report.filled_cells(), filled);
        assert!(filled > 50, "{tie_rule:?}: a scrambled population fills many cells, got {filled}");
        for score in &scores {
            assert!(report.count(score.cell) > 0);
        }
    }

    // A hand-sized report with ties kept together: two customers in 333, one in 111.
    let scores = rfm_scores(
        &[customer(1, 9, 1, 10), customer(2, 0, 5, 90), customer(3, 0, 5, 90)],
        AS_OF,
        &RfmConfig { tie_rule: TieRule::KeepTiesTogether },
    )
    .unwrap();
    let report = RfmReport::from_scores(&scores);
    let cell = |code| RfmCell::from_code(code).unwrap();
    assert_eq!((report.count(cell(111)), report.count(cell(333)), report.count(cell(555))), (1, 2, 0));
    assert_eq!(report.filled_cells(), 2);
}

#[test]
fn rfm_cell_codes() {
    // (code, valid, index)
    let cases: &[(u16, Option<usize>)] = &[
        (111, Some(0)),
        (115, Some(4)),
        (151, Some(20)),
        (511, Some(100)),
        (555, Some(124)),
        (110, None),
        (106, None),
        (556, None),
        (611, None),
        (0, None),
        (1111, None),
    ];
    for &(code, index) in cases {
        let cell = RfmCell::from_code(code);
        assert_eq!(cell.map(RfmCell::index), index, "{code}");
        if let Some(cell) = cell {
            assert_eq!(cell.to_string(), code.to_string());
            assert_eq!(RfmCell::from_index(cell.index()), Some(cell));
        }
    }
    let all: Vec<RfmCell> = RfmCell::all().collect();
    assert_eq!(all.len(), 125);
    assert_eq!((all[0].code(), all[124].code()), (111, 555));
    assert!(all.windows(2).all(|pair| pair[0].code() < pair[1].code()));
    assert_eq!(RfmCell::from_index(125), None);
    assert_eq!(RfmCell::new(3, 0, 1), None);
}

#[test]
fn rfm_rejects_inconsistent_input() {
    let future = rfm_scores(&[customer(1, 0, 1, 1), customer(2, -1, 1, 1)], AS_OF, &RfmConfig::default());
    assert_eq!(
        future,
        Err(RfmError::PurchaseAfterAsOf { index: 1, last_purchase: date!(2024 - 07 - 01), as_of: AS_OF })
    );
    let duplicate =
        rfm_scores(&[customer(7, 0, 1, 1), customer(3, 0, 1, 1), customer(7, 2, 2, 2)], AS_OF, &RfmConfig::default());
    assert_eq!(duplicate, Err(RfmError::DuplicateCustomer { first_index: 0, second_index: 2 }));
}

#[test]
fn rfm_accepts_text_ids() {
    let inputs = [
        RfmInput { customer: "C-002".to_string(), last_purchase: AS_OF, frequency: 1, monetary: 10 },
        RfmInput { customer: "C-001".to_string(), last_purchase: AS_OF, frequency: 1, monetary: 10 },
    ];
    let scores = rfm_scores(&inputs, AS_OF, &RfmConfig::default()).unwrap();
    // All tied: the larger id gets the higher level.
    assert_eq!((scores[0].cell.code(), scores[1].cell.code()), (444, 222));
}

// ---------------------------------------------------------------------------------------------
// Customer stage

/// A purchase summary: counts per kind, days since the last order, days since the last
/// subscription order.
fn purchases(
    counts: &[(ProductKind, u64)],
    last_days_ago: Option<i64>,
    subscription_days_ago: Option<i64>,
) -> StageInput {
    let mut orders = ProductKindCounts::default();
    for &(kind, count) in counts {
        orders.add(kind, count);
    }
    StageInput {
        excluded: false,
        orders,
        last_purchase: last_days_ago.map(|days| AS_OF - Duration::days(days)),
        last_subscription_order: subscription_days_ago.map(|days| AS_OF - Duration::days(days)),
    }
}

fn check_stage(input: StageInput, config: &StageConfig, expected: Stage) {
    assert_eq!(customer_stage(&input, AS_OF, config), expected, "{input:?}");
}

#[test]
fn stage_rules_and_precedence_with_defaults() {
    use ProductKind::{Main, Other, Sample, Subscription, Trial};
    let excluded = |input: StageInput| StageInput { excluded: true, ..input };
    let cases: Vec<(&str, StageInput, Stage)> = vec![
        ("no orders", purchases(&[], None, None), Stage::NotPurchased),
        ("samples only", purchases(&[(Sample, 2)], Some(3), None), Stage::NotPurchased),
        ("other products only", purchases(&[(Other, 1)], Some(3), None), Stage::NotPurchased),
        ("samples only, long ago, are not dormant", purchases(&[(Sample, 1)], Some(800), None), Stage::NotPurchased),
        ("trial", purchases(&[(Sample, 1), (Trial, 1)], Some(10), None), Stage::Trial),
        ("main once", purchases(&[(Trial, 1), (Main, 1)], Some(10), None), Stage::MainProduct),
        ("main twice", purchases(&[(Main, 2)], Some(10), None), Stage::Repeater),
        (
            "lapsed subscriber counts deliveries as main",
            purchases(&[(Main, 1), (Subscription, 3)], Some(46), Some(46)),
            Stage::Repeater,
        ),
        (
            "subscription order 45 days ago is active",
            purchases(&[(Subscription, 1)], Some(45), Some(45)),
            Stage::Subscription,
        ),
        (
            "subscription order 46 days ago is not",
            purchases(&[(Subscription, 1)], Some(46), Some(46)),
            Stage::MainProduct,
        ),
        ("364 days without purchase", purchases(&[(Main, 3)], Some(364), None), Stage::Repeater),
        ("365 days without purchase", purchases(&[(Main, 3)], Some(365), None), Stage::Dormant),
        ("dormant trial customer", purchases(&[(Trial, 1)], Some(400), None), Stage::Dormant),
        (
            "recent sample keeps an old buyer awake",
            purchases(&[(Main, 1), (Sample, 1)], Some(5), None),
            Stage::MainProduct,
        ),
        ("purchase after the as-of date", purchases(&[(Main, 1)], Some(-3), None), Stage::MainProduct),
        ("counts without a date cannot be dormant", purchases(&[(Main, 2)], None, None), Stage::Repeater),
        (
            "excluded beats an active subscription",
            excluded(purchases(&[(Subscription, 5)], Some(1), Some(1))),
            Stage::Excluded,
        ),
        ("excluded without orders", excluded(purchases(&[], None, None)), Stage::Excluded),
        ("excluded dormant", excluded(purchases(&[(Main, 1)], Some(900), None)), Stage::Excluded),
    ];
    for (name, input, expected) in cases {
        assert_eq!(customer_stage(&input, AS_OF, &StageConfig::default()), expected, "{name}");
    }
}

#[test]
fn stage_follows_the_tenant_config() {
    use ProductKind::{Main, Sample, Subscription};
    let short_dormancy = StageConfig { dormant_after_days: 30, ..StageConfig::default() };
    // Subscription outranks dormant even when dormancy is shorter than the subscription window.
    check_stage(purchases(&[(Subscription, 2)], Some(40), Some(40)), &short_dormancy, Stage::Subscription);
    check_stage(purchases(&[(Main, 2)], Some(40), None), &short_dormancy, Stage::Dormant);

    let paid_samples = StageConfig { trial_kinds: vec![ProductKind::Trial, Sample], ..StageConfig::default() };
    check_stage(purchases(&[(Sample, 1)], Some(3), None), &paid_samples, Stage::Trial);

    let three_for_repeater = StageConfig { repeater_min_main_orders: 3, ..StageConfig::default() };
    check_stage(purchases(&[(Main, 2)], Some(3), None), &three_for_repeater, Stage::MainProduct);
    check_stage(purchases(&[(Main, 3)], Some(3), None), &three_for_repeater, Stage::Repeater);

    // A trial customer never becomes a repeater, even when one main order would be enough.
    let zero_for_repeater = StageConfig { repeater_min_main_orders: 0, ..StageConfig::default() };
    check_stage(purchases(&[(ProductKind::Trial, 1)], Some(3), None), &zero_for_repeater, Stage::Trial);
    check_stage(purchases(&[(Main, 1)], Some(3), None), &zero_for_repeater, Stage::Repeater);

    let main_only = StageConfig { main_kinds: vec![Main], ..StageConfig::default() };
    check_stage(purchases(&[(Main, 1), (Subscription, 3)], Some(60), Some(60)), &main_only, Stage::MainProduct);

    let two_month_window = StageConfig { subscription_active_days: 62, ..StageConfig::default() };
    check_stage(purchases(&[(Subscription, 1)], Some(60), Some(60)), &two_month_window, Stage::Subscription);
}

#[test]
fn stage_codes_and_labels() {
    let cases = [
        (Stage::Excluded, "excluded", "対象外"),
        (Stage::Subscription, "subscription", "定期"),
        (Stage::Dormant, "dormant", "休眠"),
        (Stage::Repeater, "repeater", "リピーター"),
        (Stage::MainProduct, "main", "本商品購入"),
        (Stage::Trial, "trial", "トライアル"),
        (Stage::NotPurchased, "not_purchased", "未購入"),
    ];
    assert_eq!(Stage::ALL.len(), cases.len());
    for (stage, code, label) in cases {
        assert_eq!((stage.code(), stage.label_ja(), stage.to_string().as_str()), (code, label, code));
        assert_eq!(Stage::from_code(code), Some(stage));
    }
    assert_eq!(Stage::from_code("休眠"), None, "only codes are stored");
}

#[test]
fn product_kind_counts_by_kind() {
    let mut counts = ProductKindCounts::default();
    for (i, &kind) in ProductKind::ALL.iter().enumerate() {
        counts.add(kind, i as u64 + 1);
        counts.add(kind, 10);
    }
    let got: Vec<u64> = ProductKind::ALL.iter().map(|&kind| counts.get(kind)).collect();
    assert_eq!(got, [11, 12, 13, 14, 15]);
    counts.add(ProductKind::Main, u64::MAX);
    assert_eq!(counts.main, u64::MAX);
}

// ---------------------------------------------------------------------------------------------
// Purchase cycle

/// Expected cycle: (typical interval, intervals, next expected date, tolerance days).
type Cycle = (i64, usize, Date, i64);

fn check_cycle(dates: &[Date], config: &CycleConfig, expected: Option<Cycle>) {
    let cycle = purchase_cycle(dates, config).unwrap();
    let got = cycle.map(|c| (c.typical_interval_days, c.interval_count, c.next_expected, c.tolerance_days));
    assert_eq!(got, expected, "{dates:?}");
    if let Some(cycle) = cycle {
        assert_eq!(Some(cycle.last_purchase), dates.iter().max().copied());
    }
}

#[test]
fn cycle_median_and_next_date() {
    let defaults = CycleConfig::default();
    let cases: &[(&[Date], Option<Cycle>)] = &[
        (&[], None),
        (&[date!(2024 - 01 - 01)], None),
        (&[date!(2024 - 01 - 01), date!(2024 - 01 - 01)], None),
        // One interval: the fallback uses it; a quarter of 30 is 7.5, rounded up to 8.
        (&[date!(2024 - 01 - 01), date!(2024 - 01 - 31)], Some((30, 1, date!(2024 - 03 - 01), 8))),
        // Unsorted, with a same-day duplicate: intervals 28, 30, 60 → median 30.
        (
            &[
                date!(2024 - 04 - 28),
                date!(2024 - 01 - 01),
                date!(2024 - 01 - 29),
                date!(2024 - 01 - 29),
                date!(2024 - 02 - 28),
            ],
            Some((30, 3, date!(2024 - 05 - 28), 8)),
        ),
        // Even count: intervals 20 and 30 → 25.
        (
            &[date!(2024 - 01 - 01), date!(2024 - 01 - 21), date!(2024 - 02 - 20)],
            Some((25, 2, date!(2024 - 03 - 16), 7)),
        ),
        // Even count with an odd gap: 20 and 31 → 25.5, rounded up to 26.
        (
            &[date!(2024 - 01 - 01), date!(2024 - 01 - 21), date!(2024 - 02 - 21)],
            Some((26, 2, date!(2024 - 03 - 18), 7)),
        ),
        // Short cycles get the minimum tolerance: a quarter of 10 days is 3, the floor is 7.
        (&[date!(2024 - 01 - 01), date!(2024 - 01 - 11)], Some((10, 1, date!(2024 - 01 - 21), 7))),
        // Long cycles get the ratio: a quarter of 90 is 22.5 → 23.
        (&[date!(2024 - 01 - 01), date!(2024 - 03 - 31)], Some((90, 1, date!(2024 - 06 - 29), 23))),
    ];
    for &(dates, expected) in cases {
        check_cycle(dates, &defaults, expected);
    }

    let two_intervals = CycleConfig { min_intervals: 2, ..defaults };
    check_cycle(&[date!(2024 - 01 - 01), date!(2024 - 01 - 31)], &two_intervals, None);
    check_cycle(
        &[date!(2024 - 01 - 01), date!(2024 - 01 - 31), date!(2024 - 03 - 01)],
        &two_intervals,
        Some((30, 2, date!(2024 - 03 - 31), 8)),
    );
    let strict = CycleConfig { tolerance_ratio: 0.0, min_tolerance_days: 0, ..defaults };
    check_cycle(&[date!(2024 - 01 - 01), date!(2024 - 01 - 31)], &strict, Some((30, 1, date!(2024 - 03 - 01), 0)));
}

#[test]
fn cycle_overdue_at_the_tolerance_boundary() {
    // Every 30 days, expected 2024-03-01, tolerance 8 days: overdue from 2024-03-10.
    let cycle =
        purchase_cycle(&[date!(2024 - 01 - 01), date!(2024 - 01 - 31)], &CycleConfig::default()).unwrap().unwrap();
    let cases = [
        (date!(2024 - 02 - 15), -15, false),
        (date!(2024 - 03 - 01), 0, false),
        (date!(2024 - 03 - 09), 8, false),
        (date!(2024 - 03 - 10), 9, true),
        (date!(2024 - 06 - 30), 121, true),
    ];
    for (as_of, days_past, overdue) in cases {
        assert_eq!((cycle.days_past_expected(as_of), cycle.is_overdue(as_of)), (days_past, overdue), "{as_of}");
    }
}

#[test]
fn repeat_alerts_are_sorted_most_overdue_first() {
    let history = |customer: i64, product: i64, dates: &[Date]| PurchaseHistory {
        customer: CustomerId(customer),
        product: ProductId(product),
        purchase_dates: dates.to_vec(),
    };
    let as_of = date!(2024 - 06 - 30);
    let histories = [
        // Every 30 days, expected 05-30, tolerance 8: 31 days past.
        history(1, 10, &[date!(2024 - 04 - 30), date!(2024 - 03 - 31), date!(2024 - 04 - 30)]),
        // Every 60 days, expected 04-01, tolerance 15: 90 days past.
        history(2, 10, &[date!(2023 - 12 - 03), date!(2024 - 02 - 01)]),
        // Every 30 days, expected 06-22, tolerance 8: 8 days past — on the boundary, no alert.
        history(3, 10, &[date!(2024 - 04 - 23), date!(2024 - 05 - 23)]),
        // Same as customer 1 for a second product, and for customer 0: ties sorted by ids.
        history(1, 5, &[date!(2024 - 03 - 31), date!(2024 - 04 - 30)]),
        history(0, 20, &[date!(2024 - 03 - 31), date!(2024 - 04 - 30)]),
        // One purchase: no cycle, no alert.
        history(4, 10, &[date!(2023 - 01 - 01)]),
        // Not yet due.
        history(5, 10, &[date!(2024 - 05 - 01), date!(2024 - 06 - 01)]),
    ];
    let alerts = repeat_alerts(&histories, as_of, &CycleConfig::default()).unwrap();
    let got: Vec<(i64, i64, i64, Date)> = alerts
        .iter()
        .map(|alert| (alert.customer.0, alert.product.0, alert.days_past_expected, alert.cycle.next_expected))
        .collect();
    assert_eq!(
        got,
        [
            (2, 10, 90, date!(2024 - 04 - 01)),
            (0, 20, 31, date!(2024 - 05 - 30)),
            (1, 5, 31, date!(2024 - 05 - 30)),
            (1, 10, 31, date!(2024 - 05 - 30)),
        ]
    );
    assert_eq!(alerts[0].to_string(), "customer 2 product 10: expected 2024-04-01 (every 60 days), 90 days overdue");
    assert!(repeat_alerts(&[], as_of, &CycleConfig::default()).unwrap().is_empty());
}

#[test]
fn cycle_rejects_a_bad_tolerance_ratio() {
    let dates = [date!(2024 - 01 - 01), date!(2024 - 01 - 31)];
    for ratio in [-0.1, f64::NAN, f64::INFINITY] {
        let config = CycleConfig { tolerance_ratio: ratio, ..CycleConfig::default() };
        let error = purchase_cycle(&dates, &config).unwrap_err();
        assert!(matches!(error, CycleError::InvalidToleranceRatio(_)), "{ratio}: {error}");
        assert!(repeat_alerts(&[], AS_OF, &config).is_err(), "{ratio}: checked even without histories");
    }
}

#[test]
fn stage_config_takes_the_tenant_thresholds() {
    use ProductKind::Main;
    let stored = kimochi_domain::StageThresholds {
        dormant_after_days: 30,
        subscription_active_days: 62,
        repeater_min_main_orders: 3,
    };
    let config = StageConfig::with_thresholds(&stored);
    assert_eq!(config.dormant_after_days, 30);
    assert_eq!(config.subscription_active_days, 62);
    assert_eq!(config.repeater_min_main_orders, 3);
    assert_eq!(config.main_kinds, StageConfig::default().main_kinds);
    check_stage(purchases(&[(Main, 2)], Some(40), None), &config, Stage::Dormant);
    check_stage(purchases(&[(Main, 2)], Some(3), None), &config, Stage::MainProduct);
    // The defaults stored are the analytics' defaults.
    assert_eq!(StageConfig::with_thresholds(&kimochi_domain::StageThresholds::default()), StageConfig::default());
}
