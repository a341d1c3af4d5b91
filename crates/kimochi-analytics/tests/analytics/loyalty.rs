//! The loyalty matrix (E1) and positive dormants (F13) as callers see them: one small customer
//! per case, with the quadrant, the near-loyal flag or the win-back decision expected.

use kimochi_analytics::features::{CustomerFeatures, KimochiSignals};
use kimochi_analytics::loyalty::{
    DormantBasis, LoyaltyConfig, LoyaltyError, LoyaltyQuadrant, NearLoyalKind, assess_loyalty, loyalty_report,
    positive_dormants,
};
use kimochi_analytics::rfm::RfmCell;
use kimochi_analytics::stage::Stage;
use kimochi_domain::CustomerId;

/// A repeater with RFM levels `r` and `f` (M 3) of whom nothing was heard.
fn customer(id: i64, stage: Stage, r: u8, f: u8) -> CustomerFeatures {
    CustomerFeatures {
        customer: CustomerId(id),
        stage,
        rfm: RfmCell::new(r, f, 3),
        recency_days: Some(i64::from(6 - r) * 60),
        purchase_days: u32::from(f),
        monetary: 5_000 * i64::from(f),
        tenure_days: Some(400),
        p_alive: Some(0.5),
        expected_purchases: Some(1.0),
        clv: Some(4_000.0),
        active_subscriber: stage == Stage::Subscription,
        subscription_orders: 0,
        lapsed_subscriber: false,
        overdue_days: None,
        consecutive_no_contact: 0,
        outbound_attempts: 0,
        outbound_reached: 0,
        ad_medium: None,
        kimochi: KimochiSignals::default(),
    }
}

/// What was heard: positive and negative contacts, advocacy, complaints.
fn heard(positive: u32, negative: u32, advocacy: u32, complaints: u32) -> KimochiSignals {
    KimochiSignals {
        positive_contacts: positive,
        negative_contacts: negative,
        advocacy,
        complaints,
        ..KimochiSignals::default()
    }
}

fn with(mut features: CustomerFeatures, kimochi: KimochiSignals) -> CustomerFeatures {
    features.kimochi = kimochi;
    features
}

/// Assesses `features` and compares quadrant and near-loyal kind.
fn check(
    case: &str,
    features: &CustomerFeatures,
    config: &LoyaltyConfig,
    quadrant: LoyaltyQuadrant,
    near_loyal: Option<NearLoyalKind>,
) {
    let assessment = assess_loyalty(features, config).unwrap();
    assert_eq!(assessment.quadrant, quadrant, "{case}: {assessment:?}");
    assert_eq!(assessment.near_loyal.as_ref().map(|near| near.kind), near_loyal, "{case}: {assessment:?}");
    assert_eq!(assessment.customer, features.customer, "{case}");
    if let Some(near) = &assessment.near_loyal {
        assert!(!near.reason.is_empty(), "{case}: a near-loyal flag says why");
    }
}

#[test]
fn quadrants_and_near_loyal_flags() {
    use LoyaltyQuadrant::{Latent, Low, Spurious, TrueLoyal};
    use NearLoyalKind::{NoAdvocacyYet, PurchasesJustBelow};
    let config = LoyaltyConfig::default();
    let warm_advocate = heard(3, 0, 1, 0);
    let cases: Vec<(&str, CustomerFeatures, LoyaltyQuadrant, Option<NearLoyalKind>)> = vec![
        ("buys often, recommends", with(customer(1, Stage::Repeater, 5, 4), warm_advocate), TrueLoyal, None),
        // R 4, F 3: mean 3.5 is exactly the threshold.
        ("behaviour at the threshold", with(customer(2, Stage::Repeater, 4, 3), warm_advocate), TrueLoyal, None),
        (
            "behaviour half a level under",
            with(customer(3, Stage::Repeater, 3, 3), warm_advocate),
            Latent,
            Some(PurchasesJustBelow),
        ),
        // R 3, F 2: mean 2.5 is exactly the threshold minus the margin.
        (
            "behaviour at the margin",
            with(customer(4, Stage::MainProduct, 3, 2), warm_advocate),
            Latent,
            Some(PurchasesJustBelow),
        ),
        ("behaviour under the margin", with(customer(5, Stage::MainProduct, 2, 2), warm_advocate), Latent, None),
        ("buys often, never heard", customer(6, Stage::Repeater, 5, 5), Spurious, None),
        (
            "buys often, warm, no advocacy",
            with(customer(7, Stage::Repeater, 5, 5), heard(3, 0, 0, 0)),
            Spurious,
            Some(NoAdvocacyYet),
        ),
        // Tone (3 − 1) / 4 = 0.5, exactly the minimum.
        (
            "tone at the minimum",
            with(customer(8, Stage::Repeater, 5, 5), heard(3, 1, 0, 0)),
            Spurious,
            Some(NoAdvocacyYet),
        ),
        ("tone under the minimum", with(customer(9, Stage::Repeater, 5, 5), heard(2, 1, 0, 0)), Spurious, None),
        (
            "tone under the minimum despite advocacy",
            with(customer(10, Stage::Repeater, 5, 5), heard(0, 2, 1, 0)),
            Spurious,
            None,
        ),
        // Tone (5 + 2 − 1) / 8 = 0.75, but a complaint rules emotional loyalty out.
        ("complaint", with(customer(11, Stage::Repeater, 5, 5), heard(5, 0, 2, 1)), Spurious, None),
        ("buys little, negative", with(customer(12, Stage::Trial, 1, 1), heard(0, 2, 0, 0)), Low, None),
        ("buys little, never heard", customer(13, Stage::Trial, 2, 1), Low, None),
        ("low behaviour, warm, no advocacy", with(customer(14, Stage::Trial, 2, 1), heard(4, 0, 0, 0)), Low, None),
        // A dormant customer with relatively good RFM levels is still not "keeps buying".
        ("dormant advocate", with(customer(15, Stage::Dormant, 4, 4), warm_advocate), Latent, None),
        // An active subscriber keeps buying whatever F says.
        ("young subscriber advocate", with(customer(16, Stage::Subscription, 3, 1), warm_advocate), TrueLoyal, None),
        (
            "young subscriber, warm",
            with(customer(17, Stage::Subscription, 3, 1), heard(2, 0, 0, 0)),
            Spurious,
            Some(NoAdvocacyYet),
        ),
        (
            "excluded customers are never flagged",
            with(customer(18, Stage::Excluded, 5, 5), heard(3, 0, 0, 0)),
            Spurious,
            None,
        ),
        ("excluded latent is not flagged", with(customer(19, Stage::Excluded, 3, 3), warm_advocate), Latent, None),
    ];
    for (case, features, quadrant, near_loyal) in &cases {
        check(case, features, &config, *quadrant, *near_loyal);
    }
}

#[test]
fn customers_without_purchases_or_without_voice_say_so() {
    let config = LoyaltyConfig::default();
    let mut prospect = with(customer(1, Stage::NotPurchased, 1, 1), heard(1, 0, 1, 0));
    prospect.rfm = None;
    prospect.purchase_days = 0;
    let assessment = assess_loyalty(&prospect, &config).unwrap();
    assert_eq!(assessment.quadrant, LoyaltyQuadrant::Latent, "a prospect who recommends us");
    assert!(!assessment.behaviour_known);
    assert_eq!(assessment.behavioural_score, 0.0);
    assert!(assessment.near_loyal.is_none(), "without purchases no purchase is 'just below'");
    assert!(assessment.emotion_heard);

    let silent = customer(2, Stage::Repeater, 5, 5);
    let assessment = assess_loyalty(&silent, &config).unwrap();
    assert!(!assessment.emotion_heard);
    assert_eq!(assessment.emotional_score, 0.0, "unheard counts as neutral");
    assert!(assessment.behaviour_known);
    assert_eq!(assessment.behavioural_score, 5.0);
}

#[test]
fn configuration_moves_the_boundaries() {
    let warm = with(customer(1, Stage::Repeater, 5, 5), heard(3, 0, 0, 0));
    let no_advocacy_needed = LoyaltyConfig { emotional_min_advocacy: 0, ..LoyaltyConfig::default() };
    check("advocacy not required", &warm, &no_advocacy_needed, LoyaltyQuadrant::TrueLoyal, None);

    let subscriber = with(customer(2, Stage::Subscription, 3, 1), heard(1, 0, 1, 0));
    let rfm_only = LoyaltyConfig { subscriber_is_behavioural: false, ..LoyaltyConfig::default() };
    // R 3, F 1: mean 2.0, under the 2.5 of the near-loyal margin.
    check("subscriber judged by RFM", &subscriber, &rfm_only, LoyaltyQuadrant::Latent, None);
    let wide_margin = LoyaltyConfig { near_behavioural_margin: 1.5, ..rfm_only.clone() };
    check("wider margin", &subscriber, &wide_margin, LoyaltyQuadrant::Latent, Some(NearLoyalKind::PurchasesJustBelow));

    let complaint = with(customer(3, Stage::Repeater, 5, 5), heard(5, 0, 2, 1));
    let tolerant = LoyaltyConfig { emotional_max_complaints: 1, ..LoyaltyConfig::default() };
    check("one complaint tolerated", &complaint, &tolerant, LoyaltyQuadrant::TrueLoyal, None);

    let stricter = LoyaltyConfig { behavioural_high_min: 4.5, ..LoyaltyConfig::default() };
    let advocate = with(customer(4, Stage::Repeater, 4, 4), heard(1, 0, 1, 0));
    check("stricter behaviour", &advocate, &stricter, LoyaltyQuadrant::Latent, Some(NearLoyalKind::PurchasesJustBelow));
}

#[test]
fn invalid_configuration_is_an_error() {
    let features = customer(1, Stage::Repeater, 3, 3);
    let cases = [
        ("behavioural_high_min", LoyaltyConfig { behavioural_high_min: f64::NAN, ..LoyaltyConfig::default() }),
        ("behavioural_high_min", LoyaltyConfig { behavioural_high_min: 6.0, ..LoyaltyConfig::default() }),
        ("near_behavioural_margin", LoyaltyConfig { near_behavioural_margin: -0.5, ..LoyaltyConfig::default() }),
        ("emotional_min_tone", LoyaltyConfig { emotional_min_tone: 1.5, ..LoyaltyConfig::default() }),
        ("dormant_max_recency_level", LoyaltyConfig { dormant_max_recency_level: 6, ..LoyaltyConfig::default() }),
    ];
    for (field, config) in cases {
        match assess_loyalty(&features, &config) {
            Err(LoyaltyError::InvalidConfig { field: reported, .. }) => assert_eq!(reported, field),
            other => panic!("{field}: expected an error, got {other:?}"),
        }
        assert!(loyalty_report(std::slice::from_ref(&features), &config).is_err());
        assert!(positive_dormants(std::slice::from_ref(&features), &config).is_err());
    }
}

#[test]
fn matrix_counts_quadrants_stages_and_flags() {
    let warm_advocate = heard(3, 0, 1, 0);
    let customers = vec![
        with(customer(1, Stage::Repeater, 5, 5), warm_advocate),
        with(customer(2, Stage::Subscription, 5, 4), warm_advocate),
        with(customer(3, Stage::Repeater, 3, 3), warm_advocate),
        customer(4, Stage::Repeater, 5, 5),
        with(customer(5, Stage::Repeater, 5, 5), heard(2, 0, 0, 0)),
        customer(6, Stage::Trial, 1, 1),
        customer(7, Stage::Dormant, 1, 2),
    ];
    let report = loyalty_report(&customers, &LoyaltyConfig::default()).unwrap();
    let quadrants: Vec<&str> = report.assessments.iter().map(|a| a.quadrant.code()).collect();
    assert_eq!(quadrants, ["true_loyal", "true_loyal", "latent", "spurious", "spurious", "low", "low"]);
    let matrix = &report.matrix;
    assert_eq!(matrix.total(), 7);
    assert_eq!(
        LoyaltyQuadrant::ALL.map(|quadrant| matrix.count(quadrant)),
        [2, 1, 2, 2],
        "true loyal, latent, spurious, low"
    );
    assert_eq!(matrix.count_in_stage(LoyaltyQuadrant::TrueLoyal, Stage::Subscription), 1);
    assert_eq!(matrix.count_in_stage(LoyaltyQuadrant::TrueLoyal, Stage::Repeater), 1);
    assert_eq!(matrix.count_in_stage(LoyaltyQuadrant::Low, Stage::Dormant), 1);
    assert_eq!(matrix.count_in_stage(LoyaltyQuadrant::Low, Stage::Trial), 1);
    assert_eq!(matrix.count_in_stage(LoyaltyQuadrant::Spurious, Stage::Dormant), 0);
    assert_eq!(matrix.near_loyal_count(NearLoyalKind::PurchasesJustBelow), 1);
    assert_eq!(matrix.near_loyal_count(NearLoyalKind::NoAdvocacyYet), 1);
    assert_eq!(matrix.emotion_unheard, [0, 0, 1, 2]);
    let by_stage_total: u64 = matrix.by_stage.iter().flatten().sum();
    assert_eq!(by_stage_total, 7);
}

#[test]
fn quadrant_codes_and_labels_round_trip() {
    let labels: Vec<&str> = LoyaltyQuadrant::ALL.iter().map(|quadrant| quadrant.label_ja()).collect();
    assert_eq!(labels, ["真のロイヤル顧客", "潜在的ロイヤル", "見せかけのロイヤル", "非ロイヤル"]);
    for (index, quadrant) in LoyaltyQuadrant::ALL.into_iter().enumerate() {
        assert_eq!(LoyaltyQuadrant::from_code(quadrant.code()), Some(quadrant));
        assert_eq!(quadrant.index(), index);
        assert!(!quadrant.description_ja().is_empty());
    }
    assert_eq!(LoyaltyQuadrant::from_code("loyal"), None);
}

// ---------------------------------------------------------------------------------------------
// Positive dormants

/// Whether `features` is a positive dormant under `config`.
fn dormant_basis(features: &CustomerFeatures, config: &LoyaltyConfig) -> Option<DormantBasis> {
    let found = positive_dormants(std::slice::from_ref(features), config).unwrap();
    assert!(found.len() <= 1);
    found.first().map(|dormant| {
        assert_eq!(dormant.customer, features.customer);
        assert!((0.0..=1.0).contains(&dormant.score), "{dormant:?}");
        dormant.basis
    })
}

#[test]
fn positive_dormants_include_and_exclude() {
    let config = LoyaltyConfig::default();
    let warm = heard(2, 0, 0, 0);
    let mut prospect = with(customer(20, Stage::NotPurchased, 1, 1), warm);
    prospect.rfm = None;
    prospect.purchase_days = 0;
    let mut crisis = with(customer(21, Stage::Dormant, 1, 1), warm);
    crisis.kimochi.crisis = 1;
    let gap_and_advocacy = KimochiSignals { advocacy: 1, gap_notes: 1, ..KimochiSignals::default() };

    let cases: Vec<(&str, CustomerFeatures, Option<DormantBasis>)> = vec![
        ("dormant and warm", with(customer(1, Stage::Dormant, 1, 2), warm), Some(DormantBasis::Stage)),
        ("dormant stage wins over its R", with(customer(2, Stage::Dormant, 4, 2), warm), Some(DormantBasis::Stage)),
        ("R 2 repeater, warm", with(customer(3, Stage::Repeater, 2, 3), warm), Some(DormantBasis::LowRecency(2))),
        ("R 1 trial, warm", with(customer(4, Stage::Trial, 1, 1), warm), Some(DormantBasis::LowRecency(1))),
        ("R 3 is not low", with(customer(5, Stage::Repeater, 3, 3), warm), None),
        ("dormant, nothing heard", customer(6, Stage::Dormant, 1, 1), None),
        ("dormant, negative", with(customer(7, Stage::Dormant, 1, 1), heard(1, 2, 0, 0)), None),
        ("dormant, balanced tone", with(customer(8, Stage::Dormant, 1, 1), heard(1, 1, 0, 0)), None),
        // Tone (1 − 1) / 2 = 0, but a recommendation counts.
        (
            "dormant advocate with a gap",
            with(customer(9, Stage::Dormant, 1, 1), gap_and_advocacy),
            Some(DormantBasis::Stage),
        ),
        ("dormant, warm but a complaint", with(customer(10, Stage::Dormant, 1, 1), heard(5, 0, 1, 1)), None),
        ("dormant, crisis alert", crisis, None),
        ("excluded", with(customer(11, Stage::Excluded, 1, 1), warm), None),
        ("active subscriber with low R", with(customer(12, Stage::Subscription, 1, 1), warm), None),
        ("never purchased", prospect, None),
    ];
    for (case, features, expected) in &cases {
        assert_eq!(dormant_basis(features, &config), *expected, "{case}");
    }

    let complaint = with(customer(10, Stage::Dormant, 1, 1), heard(5, 0, 1, 1));
    let tolerant = LoyaltyConfig { dormant_max_complaints: 1, ..LoyaltyConfig::default() };
    assert_eq!(dormant_basis(&complaint, &tolerant), Some(DormantBasis::Stage));
    let r3 = with(customer(5, Stage::Repeater, 3, 3), warm);
    let wider = LoyaltyConfig { dormant_max_recency_level: 3, ..LoyaltyConfig::default() };
    assert_eq!(dormant_basis(&r3, &wider), Some(DormantBasis::LowRecency(3)));
}

#[test]
fn positive_dormants_are_ranked_and_explained() {
    // Warmest, recommends, bought five times, answers the phone: score 1.
    let mut best = with(customer(3, Stage::Dormant, 1, 5), heard(2, 0, 1, 0));
    best.purchase_days = 5;
    // Warm, bought once, missed the last call: 0.4 + 0 + 0.04 + 0.1 = 0.54.
    let mut unreachable = with(customer(1, Stage::Dormant, 1, 1), heard(2, 0, 0, 0));
    unreachable.purchase_days = 1;
    unreachable.consecutive_no_contact = 1;
    // Same facts as `unreachable` but more money: ranks before it.
    let mut richer = unreachable.clone();
    richer.customer = CustomerId(2);
    richer.monetary *= 10;
    let not_dormant = with(customer(4, Stage::Repeater, 5, 5), heard(2, 0, 1, 0));

    let found = positive_dormants(&[unreachable, not_dormant, richer, best], &LoyaltyConfig::default()).unwrap();
    let order: Vec<i64> = found.iter().map(|dormant| dormant.customer.0).collect();
    assert_eq!(order, [3, 2, 1]);
    assert!((found[0].score - 1.0).abs() < 1e-12, "{}", found[0].score);
    assert!((found[2].score - 0.54).abs() < 1e-12, "{}", found[2].score);

    assert_eq!(
        found[0].why,
        "休眠中（最終購入から300日）だが、前向きな声2件・推奨・紹介1件（トーン+1.00）でクレームなし。購入5回の実績あり。"
    );
    assert!(found[2].why.contains("直近1回は不通"), "{}", found[2].why);
}

#[test]
fn low_recency_reason_names_the_rfm_level() {
    let features = with(customer(1, Stage::Repeater, 2, 1), heard(1, 0, 0, 0));
    let found = positive_dormants(&[features], &LoyaltyConfig::default()).unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].why.starts_with("RFMのRが2（最終購入から240日）だが、前向きな声1件"), "{}", found[0].why);
}

#[test]
fn near_loyal_reasons_give_the_figures() {
    let config = LoyaltyConfig::default();
    let reason = |features: &CustomerFeatures, config: &LoyaltyConfig| {
        assess_loyalty(features, config).unwrap().near_loyal.map(|near| near.reason).unwrap_or_default()
    };
    let just_below = with(customer(1, Stage::Repeater, 3, 3), heard(3, 0, 1, 0));
    assert_eq!(
        reason(&just_below, &config),
        "推奨の声があり好意的（トーン+1.00）で、購買（R・F平均3.0）もロイヤルの基準3.5まであと少し"
    );
    // Without advocacy required, a latent customer may not have recommended anything.
    let no_advocacy = LoyaltyConfig { emotional_min_advocacy: 0, ..LoyaltyConfig::default() };
    let warm = with(customer(2, Stage::Repeater, 3, 2), heard(3, 1, 0, 0));
    assert_eq!(
        reason(&warm, &no_advocacy),
        "好意的（トーン+0.50）で、購買（R・F平均2.5）もロイヤルの基準3.5まであと少し"
    );

    let habit = with(customer(3, Stage::Repeater, 5, 5), heard(4, 1, 0, 0));
    assert_eq!(
        reason(&habit, &config),
        "継続して購入しており声も好意的（トーン+0.60）だが、推奨・紹介の声はまだない（0件）"
    );
}
