//! The scoring pipeline behind `kimochi analyze`: from the per-customer aggregates the store
//! keeps at write time ([`ScoringRow`]) to every customer's [`CustomerScore`] — stage, RFM cell,
//! P(alive), expected purchases and spend, discounted CLV, repeat alerts, churn risk with
//! reasons, loyalty quadrant, positive dormant flag and customer type — plus a run summary
//! (fitted models, counts) for the analyst views. Pure: the "as of" date, the run's timestamp
//! and the clustering seed are parameters.
//!
//! Choices an analyst should know:
//! - A purchase is an order with a positive amount: a free sample request is an order (it keeps
//!   a customer out of dormancy) but not a purchase.
//! - Purchases are purchase **days** in Japan time (several orders on one day are one buying
//!   decision), as in the CLV models; RFM frequency is the number of purchase days, monetary the
//!   total spend.
//! - BG/NBD and Gamma-Gamma are fitted on a deterministic, evenly spread sample of at most
//!   [`ScoringConfig::fit_sample`] purchasers (every k-th by customer id): the estimates of four
//!   parameters do not move with more data at this size, and it keeps the run inside its budget
//!   on a million customers. Predictions are made for everyone.
//! - Only what happened up to the as-of day counts; a customer whose first purchase is after it
//!   is scored as not purchased.

use std::collections::HashMap;

use kimochi_domain::datetime::JST;
use kimochi_domain::{
    ChurnLevel as StoredChurnLevel, CustomerId, CustomerScore, LoyaltyQuadrant as StoredQuadrant, ProductId,
    ProductKind, RepeatAlertScore, ScoreReason, ScoringRow, Stage,
};
use time::{Date, OffsetDateTime};

use crate::churn::{ChurnConfig, ChurnError, ChurnModel, churn_risk, fit_churn_model, subscription_histories};
use crate::cluster::{ClusterConfig, ClusterError, Clustering, cluster_customers};
use crate::cohort::{CohortConfig, CohortRetention, subscription_cohorts};
use crate::loyalty::{LoyaltyConfig, LoyaltyError, LoyaltyMatrix, loyalty_report, positive_dormants};

use crate::clv::{
    BgNbdParams, ClvError, DAYS_PER_WEEK, DiscountedValueConfig, FitConfig, FitReport, GammaGammaParams, RfmSummary,
    expected_purchases_and_value, fit_bg_nbd, fit_gamma_gamma,
};
use crate::cycle::{CycleConfig, CycleError, purchase_cycle_from_span};
use crate::features::{CustomerFeatures, KimochiSignals};
use crate::rfm::{RfmConfig, RfmError, RfmInput, RfmReport, rfm_scores};
use crate::stage::{ProductKindCounts, StageConfig, StageInput, customer_stage};

/// How a tenant's customers are scored.
#[derive(Debug, Clone)]
pub struct ScoringConfig {
    pub stage: StageConfig,
    pub rfm: RfmConfig,
    pub cycle: CycleConfig,
    /// Horizon of the expected purchases, in weeks. Default 52.
    pub horizon_weeks: f64,
    /// Discounting of the CLV. Default: 12 months of 4.345 weeks at 1 % a month.
    pub clv: DiscountedValueConfig,
    pub fit: FitConfig,
    /// Largest number of purchasers the CLV models are fitted on. Default 100,000.
    pub fit_sample: usize,
    /// Threads the per-customer predictions run on (CLV needs a hypergeometric function per
    /// month of the horizon for every customer). Default 1; `kimochi analyze` uses every core.
    pub threads: usize,
    /// Churn model and levels. Default: the churn module's defaults, with the `churn_intent` and
    /// `negative_tone` drivers left out of the fit — a cancellation is announced in the very
    /// contact that cancels (「解約したい」, read as negative), so with signals counted up to the
    /// as-of date they would only "predict" the churns they record. They come back when signals
    /// are counted before each renewal decision.
    pub churn: ChurnConfig,
    pub loyalty: LoyaltyConfig,
    pub cluster: ClusterConfig,
    /// Subscription retention curves per start month.
    pub cohorts: CohortConfig,
}

impl Default for ScoringConfig {
    fn default() -> ScoringConfig {
        ScoringConfig {
            stage: StageConfig::default(),
            rfm: RfmConfig::default(),
            cycle: CycleConfig::default(),
            horizon_weeks: 52.0,
            clv: DiscountedValueConfig::default(),
            // A hundred quasi-Newton steps converge on any sizeable tenant whose model fits (CDNOW
            // takes about thirty); a model that does not fit its data (Gamma-Gamma when every
            // customer always pays the same price) is stopped there and reported as not converged.
            fit: FitConfig { max_iterations: 100, gradient_tolerance: 1e-8 },
            fit_sample: 100_000,
            threads: 1,
            churn: {
                let mut churn = ChurnConfig::default();
                churn.fit.excluded_drivers.push("churn_intent".to_owned());
                churn.fit.excluded_drivers.push("negative_tone".to_owned());
                churn
            },
            loyalty: LoyaltyConfig::default(),
            cluster: ClusterConfig::default(),
            cohorts: CohortConfig::default(),
        }
    }
}

/// What stopped a scoring run.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error("RFM: {0}")]
    Rfm(#[from] RfmError),
    #[error("purchase cycle: {0}")]
    Cycle(#[from] CycleError),
    #[error("CLV model: {0}")]
    Clv(#[from] ClvError),
    #[error("churn model: {0}")]
    Churn(#[from] ChurnError),
    #[error("loyalty: {0}")]
    Loyalty(#[from] LoyaltyError),
    #[error("clustering: {0}")]
    Cluster(#[from] ClusterError),
}

/// Name and kind of a product, for repeat alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductInfo {
    pub name: String,
    pub kind: ProductKind,
}

/// The behavioural half of a customer's scores, before churn, loyalty and clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviourScore {
    pub features: CustomerFeatures,
    pub expected_spend: Option<f64>,
    pub repeat_alerts: Vec<RepeatAlertScore>,
}

/// The fitted purchase and spend models of a run.
#[derive(Debug, Clone)]
pub struct BehaviourModels {
    pub bg_nbd: Option<FitReport<BgNbdParams>>,
    pub gamma_gamma: Option<FitReport<GammaGammaParams>>,
    pub rfm: RfmReport,
    pub stage_counts: Vec<(Stage, u64)>,
    pub repeat_alerts: u64,
}

fn jst_date(at: OffsetDateTime) -> Date {
    at.to_offset(JST).date()
}

fn clamp_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// The model summary of one customer as of `as_of` (weeks), or `None` without a purchase by then.
fn rfm_summary(row: &ScoringRow, as_of: Date) -> Option<RfmSummary> {
    let first = jst_date(row.first_purchase_at?);
    let last = jst_date(row.last_purchase_at?).min(as_of);
    if first > as_of || row.purchase_days < 1 {
        return None;
    }
    let frequency = (row.purchase_days - 1) as f64;
    let monetary_value =
        if row.purchase_days > 1 { (row.total_amount - row.first_day_amount) as f64 / frequency } else { 0.0 };
    Some(RfmSummary {
        frequency,
        recency: if row.purchase_days > 1 { (last - first).whole_days() as f64 / DAYS_PER_WEEK } else { 0.0 },
        t: (as_of - first).whole_days() as f64 / DAYS_PER_WEEK,
        monetary_value,
    })
}

/// Every `step`-th index so that at most `limit` of `indices` remain, in order.
fn even_sample(indices: &[usize], limit: usize) -> Vec<usize> {
    if indices.len() <= limit || limit == 0 {
        return indices.to_vec();
    }
    let step = indices.len().div_ceil(limit);
    indices.iter().step_by(step).copied().collect()
}

/// Stage, RFM, CLV and repeat alerts for every row (in the order of `rows`), and the fitted
/// models. Rows must be distinct customers.
pub fn score_behaviour(
    rows: &[ScoringRow],
    products: &HashMap<ProductId, ProductInfo>,
    as_of: Date,
    config: &ScoringConfig,
) -> Result<(Vec<BehaviourScore>, BehaviourModels), ScoringError> {
    let summaries: Vec<Option<RfmSummary>> = rows.iter().map(|row| rfm_summary(row, as_of)).collect();

    // RFM among purchasers.
    let purchasers: Vec<usize> = (0..rows.len()).filter(|&i| summaries[i].is_some()).collect();
    let rfm_inputs: Vec<RfmInput<CustomerId>> = purchasers
        .iter()
        .filter_map(|&i| {
            let row = &rows[i];
            Some(RfmInput {
                customer: row.customer_id,
                last_purchase: jst_date(row.last_purchase_at?).min(as_of),
                frequency: row.purchase_days.max(0) as u64,
                monetary: row.total_amount,
            })
        })
        .collect();
    let rfm = rfm_scores(&rfm_inputs, as_of, &config.rfm)?;
    let rfm_report = RfmReport::from_scores(&rfm);
    let mut rfm_of: Vec<Option<usize>> = vec![None; rows.len()];
    for (position, &i) in purchasers.iter().enumerate() {
        rfm_of[i] = Some(position);
    }

    // CLV models on an even sample of purchasers; Gamma-Gamma on those with repeat purchases
    // and a positive mean spend (its support).
    let sample = even_sample(&purchasers, config.fit_sample);
    let fit_summaries: Vec<RfmSummary> = sample.iter().filter_map(|&i| summaries[i]).collect();
    let bg_nbd = if fit_summaries.len() >= 10 { Some(fit_bg_nbd(&fit_summaries, &config.fit)?) } else { None };
    let spend_summaries: Vec<RfmSummary> =
        fit_summaries.iter().copied().filter(|s| s.frequency > 0.0 && s.monetary_value > 0.0).collect();
    let gamma_gamma =
        if spend_summaries.len() >= 10 { Some(fit_gamma_gamma(&spend_summaries, &config.fit)?) } else { None };

    let context = CustomerContext {
        summaries: &summaries,
        rfm: &rfm,
        rfm_of: &rfm_of,
        bg_nbd: bg_nbd.as_ref(),
        gamma_gamma: gamma_gamma.as_ref(),
        products,
        as_of,
        config,
    };
    // Customers are independent once the models are fitted: score them on `config.threads`
    // threads, each a contiguous slice, so the result keeps the input order.
    let threads = config.threads.clamp(1, 64);
    let slice = rows.len().div_ceil(threads).max(1);
    let scores: Vec<BehaviourScore> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(slice)
            .enumerate()
            .map(|(part, chunk)| {
                let context = &context;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(offset, row)| score_one(context, part * slice + offset, row))
                        .collect::<Result<Vec<_>, ScoringError>>()
                })
            })
            .collect();
        let mut scores = Vec::with_capacity(rows.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => scores.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok::<_, ScoringError>(scores)
    })?;
    let mut stage_counts: HashMap<Stage, u64> = HashMap::new();
    let mut alert_count = 0_u64;
    for score in &scores {
        *stage_counts.entry(score.features.stage).or_default() += 1;
        alert_count += u64::from(!score.repeat_alerts.is_empty());
    }

    let stage_counts =
        Stage::ALL.iter().map(|&stage| (stage, stage_counts.get(&stage).copied().unwrap_or(0))).collect();
    Ok((scores, BehaviourModels { bg_nbd, gamma_gamma, rfm: rfm_report, stage_counts, repeat_alerts: alert_count }))
}

/// What scoring one customer needs from the whole run.
struct CustomerContext<'a> {
    summaries: &'a [Option<RfmSummary>],
    rfm: &'a [crate::rfm::RfmScore<CustomerId>],
    rfm_of: &'a [Option<usize>],
    bg_nbd: Option<&'a FitReport<BgNbdParams>>,
    gamma_gamma: Option<&'a FitReport<GammaGammaParams>>,
    products: &'a HashMap<ProductId, ProductInfo>,
    as_of: Date,
    config: &'a ScoringConfig,
}

/// The behavioural scores of the customer at position `i`.
fn score_one(context: &CustomerContext<'_>, i: usize, row: &ScoringRow) -> Result<BehaviourScore, ScoringError> {
    let CustomerContext { summaries, rfm, rfm_of, bg_nbd, gamma_gamma, products, as_of, config } = *context;
    let summary = summaries[i];
    // Any order, a free sample included, shows the customer is alive for the dormancy rule.
    let last_purchase = row.last_order_at.map(jst_date).map(|day| day.min(as_of));
    let mut orders = ProductKindCounts::default();
    for (kind, count) in [
        (ProductKind::Sample, row.sample_orders),
        (ProductKind::Trial, row.trial_orders),
        (ProductKind::Main, row.main_orders),
        (ProductKind::Subscription, row.subscription_kind_orders),
        (ProductKind::Other, row.other_orders),
    ] {
        orders.add(kind, count.max(0) as u64);
    }
    let stage_input = StageInput {
        excluded: is_excluded(row),
        orders,
        last_purchase,
        last_subscription_order: row.last_subscription_at.map(jst_date).filter(|&d| d <= as_of),
    };
    let stage = customer_stage(&stage_input, as_of, &config.stage);

    let (p_alive, expected_purchases, clv, expected_spend) = match (summary, &bg_nbd) {
        (Some(summary), Some(fit)) => {
            let p_alive = fit.params.probability_alive(&summary);
            let spend = match &gamma_gamma {
                Some(spend_fit) => Some(spend_fit.params.conditional_expected_average_profit(&summary)?),
                None => None,
            };
            // One purchase curve gives the horizon's expectation and the CLV's monthly steps.
            let (expected, clv) =
                expected_purchases_and_value(&fit.params, &summary, config.horizon_weeks, spend, &config.clv)?;
            (Some(p_alive), Some(expected), clv, spend)
        }
        _ => (None, None, None, None),
    };

    let mut repeat_alerts = Vec::new();
    let mut overdue_days: Option<i64> = None;
    for product in &row.products {
        let (first, last) = (jst_date(product.first_order_at), jst_date(product.last_order_at));
        if last > as_of {
            continue;
        }
        let Some(cycle) = purchase_cycle_from_span(first, last, clamp_u32(product.purchase_days), &config.cycle)?
        else {
            continue;
        };
        let past = cycle.days_past_expected(as_of);
        let beyond_tolerance = past - cycle.tolerance_days;
        overdue_days = Some(overdue_days.map_or(beyond_tolerance, |worst| worst.max(beyond_tolerance)));
        if cycle.is_overdue(as_of) {
            let info = products.get(&product.product_id);
            repeat_alerts.push(RepeatAlertScore {
                product_id: product.product_id,
                product_name: info.map_or_else(|| format!("#{}", product.product_id), |p| p.name.clone()),
                product_kind: info.map_or(ProductKind::Other, |p| p.kind),
                interval_days: cycle.typical_interval_days,
                next_expected: cycle.next_expected,
                days_overdue: past,
            });
        }
    }
    repeat_alerts.sort_by(|a, b| b.days_overdue.cmp(&a.days_overdue).then(a.product_id.cmp(&b.product_id)));

    let rfm_score = rfm_of[i].map(|position| &rfm[position]);
    let features = CustomerFeatures {
        customer: row.customer_id,
        stage,
        rfm: rfm_score.map(|score| score.cell),
        recency_days: rfm_score.map(|score| score.recency_days),
        purchase_days: clamp_u32(if summary.is_some() { row.purchase_days } else { 0 }),
        monetary: if summary.is_some() { row.total_amount } else { 0 },
        tenure_days: row
            .first_purchase_at
            .map(jst_date)
            .filter(|_| summary.is_some())
            .map(|first| (as_of - first).whole_days()),
        p_alive,
        expected_purchases,
        clv,
        active_subscriber: stage == Stage::Subscription,
        subscription_orders: clamp_u32(row.subscription_orders),
        lapsed_subscriber: row.subscription_orders > 0 && stage != Stage::Subscription,
        overdue_days,
        consecutive_no_contact: clamp_u32(row.consecutive_no_contact),
        outbound_attempts: clamp_u32(row.outbound_attempts),
        outbound_reached: clamp_u32(row.outbound_reached),
        ad_medium: row.ad_medium.clone(),
        kimochi: KimochiSignals {
            expectation_notes: clamp_u32(row.expectation_notes),
            gap_notes: clamp_u32(row.gap_notes),
            concern_notes: clamp_u32(row.concern_notes),
            potential_notes: clamp_u32(row.potential_notes),
            positive_contacts: clamp_u32(row.positive_contacts),
            negative_contacts: clamp_u32(row.negative_contacts),
            advocacy: clamp_u32(row.advocacy),
            churn_intent: clamp_u32(row.churn_intent),
            complaints: clamp_u32(row.complaints),
            crisis: clamp_u32(row.crisis),
        },
    };
    Ok(BehaviourScore { features, expected_spend, repeat_alerts })
}

/// Outside every list (対象外): the customer may be reached by no channel at all — do not call
/// and no consent to email or mail. A customer who only refuses calls still receives the email
/// campaigns they agreed to, so do-not-call alone does not exclude.
pub fn is_excluded(row: &ScoringRow) -> bool {
    row.do_not_call && !row.consent_email && !row.consent_dm
}

/// What a whole run found, beyond the per-customer scores: for the analyst views and the run
/// record.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub behaviour: BehaviourModels,
    pub churn_model: ChurnModel,
    /// Customers per churn level (low, medium, high) among those scored.
    pub churn_levels: [u64; 3],
    pub loyalty: LoyaltyMatrix,
    pub positive_dormants: u64,
    /// Customer types among purchasers; `None` when there were none.
    pub clustering: Option<Clustering>,
    /// Subscription retention per start month (Kaplan–Meier).
    pub cohorts: CohortRetention,
}

/// Every customer's scores, in the order of `rows`, and the run summary.
#[derive(Debug, Clone)]
pub struct ScoringOutput {
    pub scores: Vec<CustomerScore>,
    pub summary: RunSummary,
}

/// Scores every customer of a tenant as of `as_of`; `scored_at` is stamped on each score.
pub fn score_customers(
    rows: &[ScoringRow],
    products: &HashMap<ProductId, ProductInfo>,
    as_of: Date,
    scored_at: OffsetDateTime,
    config: &ScoringConfig,
) -> Result<ScoringOutput, ScoringError> {
    let mut scores = Vec::with_capacity(rows.len());
    let summary = score_customers_in_batches(rows, products, as_of, scored_at, config, rows.len().max(1), |batch| {
        scores.extend(batch)
    })?;
    Ok(ScoringOutput { scores, summary })
}

/// [`score_customers`], handing the scores to `emit` in batches of `batch_size` customers (the
/// last may be smaller), in the order of `rows`, as soon as each batch is ready: the models are
/// fitted on everyone first, then the batches are assembled one after the other, so a caller can
/// write one batch while the next is assembled. On an error, batches already emitted are not
/// the whole tenant and must be discarded.
pub fn score_customers_in_batches(
    rows: &[ScoringRow],
    products: &HashMap<ProductId, ProductInfo>,
    as_of: Date,
    scored_at: OffsetDateTime,
    config: &ScoringConfig,
    batch_size: usize,
    mut emit: impl FnMut(Vec<CustomerScore>),
) -> Result<RunSummary, ScoringError> {
    let batch_size = batch_size.max(1);
    let (behaviour, models) = score_behaviour(rows, products, as_of, config)?;
    let features: Vec<crate::features::CustomerFeatures> =
        behaviour.iter().map(|score| score.features.clone()).collect();

    let histories = subscription_histories(&features);
    let cohort_input: Vec<(Date, crate::churn::SubscriptionHistory)> = rows
        .iter()
        .zip(&histories)
        .filter_map(|(row, history)| Some((jst_date(row.first_subscription_at?), (*history)?)))
        .filter(|(start, _)| *start <= as_of)
        .collect();
    let cohorts = subscription_cohorts(&cohort_input, &config.cohorts);
    let churn_model = if histories.iter().any(Option::is_some) {
        fit_churn_model(&features, &histories, &config.churn)?
    } else {
        ChurnModel::without_subscribers()
    };

    let loyalty = loyalty_report(&features, &config.loyalty)?;
    let dormant_list = positive_dormants(&features, &config.loyalty)?;
    let mut is_positive_dormant = vec![false; features.len()];
    {
        let position: HashMap<CustomerId, usize> =
            features.iter().enumerate().map(|(index, customer)| (customer.customer, index)).collect();
        for dormant in &dormant_list {
            if let Some(&index) = position.get(&dormant.customer) {
                is_positive_dormant[index] = true;
            }
        }
    }

    // Customer types among those who bought: a prospect has no behaviour to type by.
    let purchasers: Vec<usize> = (0..features.len())
        .filter(|&i| features[i].purchase_days > 0 && features[i].stage != Stage::Excluded)
        .collect();
    let clustering = if purchasers.is_empty() {
        None
    } else {
        let subset: Vec<crate::features::CustomerFeatures> = purchasers.iter().map(|&i| features[i].clone()).collect();
        let cluster_config =
            ClusterConfig { threads: config.threads.max(config.cluster.threads), ..config.cluster.clone() };
        Some(cluster_customers(&subset, &cluster_config)?)
    };
    let mut cluster_of: Vec<Option<usize>> = vec![None; features.len()];
    if let Some(clustering) = &clustering {
        for (position, &i) in purchasers.iter().enumerate() {
            cluster_of[i] = clustering.assignments.get(position).copied();
        }
    }

    let mut churn_levels = [0_u64; 3];
    let mut scores = Vec::with_capacity(batch_size.min(behaviour.len()));
    for (i, behaviour) in behaviour.into_iter().enumerate() {
        if scores.len() == batch_size {
            emit(std::mem::replace(&mut scores, Vec::with_capacity(batch_size)));
        }
        let customer = &behaviour.features;
        let risk = churn_risk(customer, &churn_model, &config.churn)?;
        if let Some(risk) = &risk {
            churn_levels[risk.level as usize] += 1;
        }
        let assessment = &loyalty.assessments[i];
        let cluster = cluster_of[i].and_then(|id| {
            let clustering = clustering.as_ref()?;
            Some((u32::try_from(id).ok()?, clustering.clusters.get(id)?.name_ja.clone()))
        });
        scores.push(CustomerScore {
            customer_id: customer.customer,
            as_of,
            stage: customer.stage,
            rfm_cell: customer.rfm.map(|cell| cell.code()),
            recency_days: customer.recency_days,
            p_alive: customer.p_alive,
            expected_purchases: customer.expected_purchases,
            expected_spend: behaviour.expected_spend,
            clv: customer.clv,
            churn_probability: risk.as_ref().map(|risk| risk.probability),
            churn_level: risk.as_ref().and_then(|risk| StoredChurnLevel::from_code(risk.level.code())),
            churn_reasons: risk
                .as_ref()
                .map(|risk| {
                    risk.reasons
                        .iter()
                        .map(|reason| ScoreReason {
                            code: reason.code().to_owned(),
                            text: reason.text_ja(),
                            weight: reason.contribution,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            loyalty: (customer.purchase_days > 0)
                .then(|| StoredQuadrant::from_code(assessment.quadrant.code()))
                .flatten(),
            near_loyal: assessment.near_loyal.as_ref().map(|near| near.reason.clone()),
            positive_dormant: is_positive_dormant[i],
            cluster: cluster.as_ref().map(|(id, _)| *id),
            cluster_label: cluster.map(|(_, name)| name),
            repeat_alerts: behaviour.repeat_alerts,
            scored_at,
        });
    }

    if !scores.is_empty() {
        emit(scores);
    }

    Ok(RunSummary {
        behaviour: models,
        churn_model,
        churn_levels,
        loyalty: loyalty.matrix,
        positive_dormants: dormant_list.len() as u64,
        clustering,
        cohorts,
    })
}
