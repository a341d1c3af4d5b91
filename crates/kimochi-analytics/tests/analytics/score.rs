//! The scoring pipeline (`kimochi analyze`) on hand-made aggregates: every customer gets one
//! score in input order, the facts a karte shows follow from the aggregates, and a run is
//! deterministic.

use std::collections::HashMap;

use kimochi_analytics::score::{ProductInfo, ScoringConfig, is_excluded, score_customers};
use kimochi_domain::datetime::JST;
use kimochi_domain::*;
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

const AS_OF: Date = date!(2026 - 10 - 31);
const TRIAL: ProductId = ProductId(1);
const MAIN: ProductId = ProductId(2);
const SUBSCRIPTION: ProductId = ProductId(3);

fn noon(date: Date) -> OffsetDateTime {
    date.with_hms(12, 0, 0).unwrap().assume_offset(JST)
}

fn products() -> HashMap<ProductId, ProductInfo> {
    HashMap::from([
        (TRIAL, ProductInfo { name: "トライアル".into(), kind: ProductKind::Trial }),
        (MAIN, ProductInfo { name: "美容液".into(), kind: ProductKind::Main }),
        (SUBSCRIPTION, ProductInfo { name: "定期便".into(), kind: ProductKind::Subscription }),
    ])
}

fn blank(id: i64) -> ScoringRow {
    ScoringRow {
        customer_id: CustomerId(id),
        do_not_call: false,
        consent_phone: true,
        consent_email: true,
        consent_dm: true,
        ad_medium: Some(if id % 3 == 0 { "TV通販" } else { "新聞広告" }.to_owned()),
        first_order_at: None,
        last_order_at: None,
        first_purchase_at: None,
        last_purchase_at: None,
        order_count: 0,
        total_amount: 0,
        purchase_days: 0,
        first_day_amount: 0,
        sample_orders: 0,
        trial_orders: 0,
        main_orders: 0,
        subscription_kind_orders: 0,
        other_orders: 0,
        subscription_orders: 0,
        first_subscription_at: None,
        last_subscription_at: None,
        consecutive_no_contact: 0,
        outbound_attempts: 0,
        outbound_reached: 0,
        expectation_notes: 0,
        gap_notes: 0,
        concern_notes: 0,
        potential_notes: 0,
        positive_contacts: 0,
        negative_contacts: 0,
        advocacy: 0,
        churn_intent: 0,
        complaints: 0,
        crisis: 0,
        products: Vec::new(),
    }
}

/// A customer who bought `product` on `days` distinct days, `every` days apart, the last one
/// `last_days_ago` before the as-of date.
fn buyer(id: i64, product: ProductId, days: i64, every: i64, last_days_ago: i64, amount: i64) -> ScoringRow {
    let last = AS_OF - Duration::days(last_days_ago);
    let first = last - Duration::days(every * (days - 1));
    let mut row = blank(id);
    row.first_order_at = Some(noon(first));
    row.last_order_at = Some(noon(last));
    row.first_purchase_at = Some(noon(first));
    row.last_purchase_at = Some(noon(last));
    row.order_count = days;
    row.purchase_days = days;
    row.total_amount = amount * days;
    row.first_day_amount = amount;
    match product {
        TRIAL => row.trial_orders = days,
        MAIN => row.main_orders = days,
        _ => {
            row.subscription_kind_orders = days;
            row.subscription_orders = days;
            row.first_subscription_at = Some(noon(first));
            row.last_subscription_at = Some(noon(last));
        }
    }
    row.products.push(ProductScoringRow {
        product_id: product,
        first_order_at: noon(first),
        last_order_at: noon(last),
        purchase_days: days,
        quantity: days,
    });
    row
}

/// A tenant of `n` customers: subscribers (a third of them lapsed, more often with a gap note),
/// repeaters, trial buyers and prospects, from a fixed arithmetic pattern.
fn tenant(n: i64) -> Vec<ScoringRow> {
    (1..=n)
        .map(|id| match id % 5 {
            0 | 1 => {
                let gap = id % 7 == 0;
                let lapsed = if gap { id % 2 == 0 } else { id % 6 == 0 };
                let deliveries = 2 + id % 11;
                let mut row =
                    buyer(id, SUBSCRIPTION, deliveries, 30, if lapsed { 120 + id % 60 } else { id % 25 }, 5780);
                row.gap_notes = i64::from(gap);
                row
            }
            2 => buyer(id, MAIN, 2 + id % 4, 45 + id % 20, id % 200, 6800),
            3 => buyer(id, TRIAL, 1, 1, id % 300, 1980),
            _ => blank(id),
        })
        .collect()
}

#[test]
fn every_customer_is_scored_once_in_input_order() {
    let rows = tenant(600);
    let scored_at = datetime!(2026-11-01 01:00 UTC);
    let output = score_customers(&rows, &products(), AS_OF, scored_at, &ScoringConfig::default()).unwrap();
    assert_eq!(output.scores.len(), rows.len());
    for (row, score) in rows.iter().zip(&output.scores) {
        assert_eq!(score.customer_id, row.customer_id);
        assert_eq!(score.as_of, AS_OF);
        assert_eq!(score.scored_at, scored_at);
        // Prospects have no purchase figures, buyers have all of them.
        let bought = row.purchase_days > 0;
        assert_eq!(score.rfm_cell.is_some(), bought, "customer {}", row.customer_id);
        assert_eq!(score.p_alive.is_some(), bought);
        assert_eq!(score.clv.is_some(), bought);
        if !bought {
            assert_eq!(score.stage, Stage::NotPurchased);
            assert!(score.churn_probability.is_none() && score.churn_reasons.is_empty());
        }
        if let Some(probability) = score.churn_probability {
            assert!((0.0..=1.0).contains(&probability));
            assert!(!score.churn_reasons.is_empty(), "a scored churn risk always has a reason");
        }
    }
    let stages: u64 = output.summary.behaviour.stage_counts.iter().map(|(_, count)| count).sum();
    assert_eq!(stages, rows.len() as u64);
    assert!(output.summary.behaviour.bg_nbd.is_some());
}

#[test]
fn stages_alerts_and_churn_reasons_follow_the_aggregates() {
    let mut rows = tenant(600);
    // 601: bought the main product every 30 days, last 70 days ago: overdue by 40 days.
    rows.push(buyer(601, MAIN, 4, 30, 70, 6800));
    // 602: an active subscriber with a gap note and no answer on three outbound calls.
    let mut unhappy = buyer(602, SUBSCRIPTION, 6, 30, 5, 5780);
    unhappy.gap_notes = 1;
    (unhappy.outbound_attempts, unhappy.outbound_reached, unhappy.consecutive_no_contact) = (3, 0, 3);
    rows.push(unhappy);
    // 603: the same subscriber without either (and the same ad medium).
    let mut content = buyer(603, SUBSCRIPTION, 6, 30, 5, 5780);
    content.ad_medium = unhappy_medium(&rows);
    rows.push(content);
    // 604: reachable by no channel at all.
    let mut excluded = buyer(604, MAIN, 3, 30, 10, 6800);
    (excluded.do_not_call, excluded.consent_email, excluded.consent_dm) = (true, false, false);
    assert!(is_excluded(&excluded));
    rows.push(excluded);

    let output =
        score_customers(&rows, &products(), AS_OF, datetime!(2026-11-01 01:00 UTC), &ScoringConfig::default()).unwrap();
    let score = |id: i64| output.scores.iter().find(|s| s.customer_id == CustomerId(id)).unwrap();

    let overdue = score(601);
    assert_eq!(overdue.stage, Stage::Repeater);
    assert_eq!(overdue.repeat_alerts.len(), 1);
    let alert = &overdue.repeat_alerts[0];
    assert_eq!((alert.product_id, alert.interval_days, alert.days_overdue), (MAIN, 30, 40));
    assert_eq!(alert.next_expected, AS_OF - Duration::days(40));
    assert!(overdue.churn_reasons.iter().any(|r| r.code == "overdue_cycle"), "{:?}", overdue.churn_reasons);

    let (unhappy, content) = (score(602), score(603));
    assert_eq!((unhappy.stage, content.stage), (Stage::Subscription, Stage::Subscription));
    assert!(unhappy.repeat_alerts.is_empty(), "a delivery 5 days ago on a 30-day cycle is not overdue");
    assert!(
        unhappy.churn_probability.unwrap() > content.churn_probability.unwrap(),
        "{unhappy:?} {content:?} {:?}",
        output.summary.churn_model.driver_model
    );
    assert!(unhappy.churn_reasons.iter().any(|r| r.code == "expectation_gap"), "{:?}", unhappy.churn_reasons);
    assert!(!content.churn_reasons.iter().any(|r| r.code == "expectation_gap"));

    let excluded = score(604);
    assert_eq!(excluded.stage, Stage::Excluded);
    assert!(excluded.churn_probability.is_none(), "nobody is called about an excluded customer");
}

fn unhappy_medium(rows: &[ScoringRow]) -> Option<String> {
    rows.iter().find(|row| row.customer_id == CustomerId(602)).and_then(|row| row.ad_medium.clone())
}

#[test]
fn a_run_is_deterministic_and_needs_no_purchases() {
    let rows = tenant(300);
    let at = datetime!(2026-11-01 01:00 UTC);
    let first = score_customers(&rows, &products(), AS_OF, at, &ScoringConfig::default()).unwrap();
    let second = score_customers(&rows, &products(), AS_OF, at, &ScoringConfig::default()).unwrap();
    assert_eq!(first.scores, second.scores);
    // Scoring on several threads changes nothing but the time.
    let threaded = ScoringConfig { threads: 3, ..ScoringConfig::default() };
    assert_eq!(score_customers(&rows, &products(), AS_OF, at, &threaded).unwrap().scores, first.scores);

    // A tenant of prospects only: every one scored, nothing fitted, nothing invented.
    let prospects: Vec<ScoringRow> = (1..=20).map(blank).collect();
    let output = score_customers(&prospects, &products(), AS_OF, at, &ScoringConfig::default()).unwrap();
    assert!(output.scores.iter().all(|s| s.stage == Stage::NotPurchased && s.clv.is_none() && s.cluster.is_none()));
    assert!(output.summary.behaviour.bg_nbd.is_none() && output.summary.clustering.is_none());
    assert!(score_customers(&[], &products(), AS_OF, at, &ScoringConfig::default()).unwrap().scores.is_empty());
}
