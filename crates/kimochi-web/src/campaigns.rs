//! Outbound care campaigns over HTTP (issue 6: T3, T4, F13, B1): `/api/v1/campaigns` (create
//! with a snapshot and a holdout, list, read, rename, delete), the members with their group and
//! step (masked per role), the call list for integrations (`calls/next`, `calls/{task}/outcome`),
//! the results with lift and 95 % intervals (JSON and CSV), the talk hints the operator's call
//! list shows, and the step runner task `kimochi serve` starts.
//!
//! The JSON shapes are this crate's own; the domain types stay behind them.

use std::time::Duration as StdDuration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kimochi_analytics::lift::{CampaignLift, Lift, MemberOutcome, campaign_lift};
use kimochi_domain::campaign::*;
use kimochi_domain::datetime::{format_date, format_jst};
use kimochi_domain::*;
use kimochi_store::{CallAttempt, CallTask, CampaignMember, KarteLimits, StoreError, lease_holder};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppState;
use crate::api::audit;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

type ApiResult = Result<Response, AppError>;

/// How long a member stays on one operator's screen without an outcome.
pub const CALL_LEASE: time::Duration = time::Duration::minutes(15);
/// Default results window after the start (B1).
pub const DEFAULT_WINDOW_DAYS: u32 = 90;
/// How often `kimochi serve` runs the step runner.
pub const RUN_EVERY: StdDuration = StdDuration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// JSON shapes.

/// A step as the API reads and writes it. Call steps take their rules flat, with the defaults
/// (3 attempts, 10:00–20:00 Japan time, 240 minutes apart) for what is left out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepJson {
    Email {
        subject: String,
        body: String,
    },
    Wait {
        days: u32,
    },
    Call {
        #[serde(default)]
        condition: Option<String>,
        #[serde(default)]
        max_attempts: Option<u32>,
        #[serde(default)]
        from: Option<String>,
        #[serde(default)]
        to: Option<String>,
        #[serde(default)]
        spacing_minutes: Option<u32>,
    },
}

impl StepJson {
    pub fn new(step: &CampaignStep) -> StepJson {
        match step {
            CampaignStep::Email { subject, body } => StepJson::Email { subject: subject.clone(), body: body.clone() },
            CampaignStep::Wait { days } => StepJson::Wait { days: *days },
            CampaignStep::Call { condition, rules } => StepJson::Call {
                condition: Some(condition.code().to_owned()),
                max_attempts: Some(rules.max_attempts),
                from: Some(hhmm(rules.from_minute)),
                to: Some(hhmm(rules.to_minute)),
                spacing_minutes: Some(rules.spacing_minutes),
            },
        }
    }

    pub fn into_step(self) -> Result<CampaignStep, ValidationError> {
        Ok(match self {
            StepJson::Email { subject, body } => CampaignStep::Email { subject, body },
            StepJson::Wait { days } => CampaignStep::Wait { days },
            StepJson::Call { condition, max_attempts, from, to, spacing_minutes } => {
                let defaults = CallRules::default();
                let rules = CallRules {
                    max_attempts: max_attempts.unwrap_or(defaults.max_attempts),
                    from_minute: from
                        .as_deref()
                        .map(|f| parse_hhmm("from", f))
                        .transpose()?
                        .unwrap_or(defaults.from_minute),
                    to_minute: to.as_deref().map(|t| parse_hhmm("to", t)).transpose()?.unwrap_or(defaults.to_minute),
                    spacing_minutes: spacing_minutes.unwrap_or(defaults.spacing_minutes),
                };
                let condition = match condition.as_deref() {
                    None | Some("") => CallCondition::Everyone,
                    Some(code) => CallCondition::parse(code)?,
                };
                CampaignStep::Call { condition, rules }
            }
        })
    }
}

/// `POST /api/v1/campaigns`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub name: String,
    #[serde(default)]
    pub purpose: String,
    /// The members: customer ids of the tenant, taken as a snapshot now.
    #[serde(default)]
    pub customer_ids: Vec<i64>,
    /// Or a saved segment: its customers now ([`with_segment`]), added to `customer_ids`.
    #[serde(default)]
    pub segment_id: Option<i64>,
    /// Share held out, in percent (0–50); 10 when left out.
    #[serde(default)]
    pub holdout_percent: Option<f64>,
    /// Seed of the holdout shuffle; a fresh one when left out. Given as a string or a number.
    #[serde(default)]
    pub seed: Option<SeedJson>,
    pub steps: Vec<StepJson>,
}

/// A seed as a number or, for values beyond JavaScript's safe integers, a decimal string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SeedJson {
    Number(u64),
    Text(String),
}

impl SeedJson {
    fn value(&self) -> Result<u64, ValidationError> {
        match self {
            SeedJson::Number(n) => Ok(*n),
            SeedJson::Text(text) => {
                text.trim().parse().map_err(|_| ValidationError::new("seed", text, "is not a whole number 0–2^64−1"))
            }
        }
    }
}

/// The members of a new campaign: today a list of customer ids. This is the one place a saved
/// segment's id would be resolved into the list.
pub fn members_of(input: &CampaignInput) -> Vec<CustomerId> {
    input.customer_ids.iter().copied().map(CustomerId).collect()
}

/// Resolves the input's saved segment, if any, into customer ids: the segment's rule is run now
/// (`as_of`) and its customers join the snapshot. A segment of another tenant is not found; one
/// over more customers than a campaign takes is refused rather than cut.
pub async fn with_segment(
    store: &dyn kimochi_store::Store,
    tenant: TenantId,
    mut input: CampaignInput,
    as_of: OffsetDateTime,
) -> Result<CampaignInput, AppError> {
    let Some(id) = input.segment_id else { return Ok(input) };
    let segment = store.segment_get(tenant, kimochi_domain::segment::SegmentId(id)).await?;
    let mut after = None;
    loop {
        let page = store.segment_members(tenant, &segment.rule, as_of, after, 10_000).await?;
        input.customer_ids.extend(page.iter().map(|id| id.0));
        if input.customer_ids.len() > MAX_MEMBERS {
            return Err(AppError::invalid(ValidationError::new(
                "segment_id",
                &id.to_string(),
                format!("selects more than {MAX_MEMBERS} customers, more than one campaign takes"),
            )));
        }
        match page.last() {
            Some(last) if page.len() == 10_000 => after = Some(*last),
            _ => break,
        }
    }
    Ok(input)
}

/// A fresh seed from the clock, when the caller gives none (the seed is stored, so the groups
/// can be recomputed whatever it was).
pub fn fresh_seed(now: OffsetDateTime, tenant: TenantId) -> u64 {
    let nanos = now.unix_timestamp_nanos() as u64;
    SplitMix64::new(nanos ^ (tenant.0 as u64).rotate_left(32)).next_u64()
}

impl CampaignInput {
    pub fn into_new(self, tenant: TenantId, now: OffsetDateTime) -> Result<NewCampaign, ValidationError> {
        let percent = self.holdout_percent.unwrap_or(DEFAULT_HOLDOUT_FRACTION * 100.0);
        if !(0.0..=50.0).contains(&percent) || percent.is_nan() {
            return Err(ValidationError::new("holdout_percent", &percent.to_string(), "must be between 0 and 50"));
        }
        let seed = match &self.seed {
            Some(seed) => seed.value()?,
            None => fresh_seed(now, tenant),
        };
        let members = members_of(&self);
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps {
            steps.push(step.into_step()?);
        }
        let campaign = NewCampaign {
            name: self.name,
            purpose: self.purpose,
            members,
            holdout_fraction: percent / 100.0,
            seed,
            steps,
        };
        campaign.validate()
    }
}

#[derive(Debug, Serialize)]
pub struct CampaignJson {
    pub id: i64,
    pub name: String,
    pub purpose: String,
    pub holdout_percent: f64,
    /// A decimal string: seeds go beyond JavaScript's safe integers.
    pub seed: String,
    pub steps: Vec<StepJson>,
    pub started_at: String,
    pub members: i64,
    pub treatment: i64,
    pub holdout: i64,
}

impl CampaignJson {
    pub fn new(campaign: &Campaign) -> CampaignJson {
        CampaignJson {
            id: campaign.id.0,
            name: campaign.name.clone(),
            purpose: campaign.purpose.clone(),
            holdout_percent: (campaign.holdout_fraction * 10_000.0).round() / 100.0,
            seed: campaign.seed.to_string(),
            steps: campaign.steps.iter().map(StepJson::new).collect(),
            started_at: format_jst(campaign.started_at),
            members: campaign.members,
            treatment: campaign.members - campaign.holdout,
            holdout: campaign.holdout,
        }
    }
}

/// What a member's place in the steps reads as.
pub fn step_state(campaign: &Campaign, group: Group, step: u32, call_open: bool) -> &'static str {
    if group == Group::Holdout {
        return "holdout";
    }
    match campaign.steps.get(step as usize) {
        None => "finished",
        Some(CampaignStep::Call { .. }) if call_open => "on_call_list",
        Some(CampaignStep::Wait { .. }) => "waiting",
        Some(_) => "pending",
    }
}

#[derive(Debug, Serialize)]
pub struct MemberJson {
    pub id: i64,
    pub customer_id: i64,
    /// Null for roles that do not see personal data.
    pub name: Option<String>,
    pub phones: Vec<String>,
    pub group: &'static str,
    pub step: u32,
    pub step_kind: Option<&'static str>,
    pub state: &'static str,
    pub attempts: u32,
    pub last_attempt_at: Option<String>,
    pub last_outcome: Option<&'static str>,
}

impl MemberJson {
    pub fn new(campaign: &Campaign, member: &CampaignMember, role: Role) -> MemberJson {
        let clear = role.sees_personal_data();
        MemberJson {
            id: member.id.0,
            customer_id: member.customer_id.0,
            name: clear.then(|| member.name.clone()),
            phones: member.phones.iter().map(|p| if clear { p.to_string() } else { p.masked() }).collect(),
            group: member.group.code(),
            step: member.step,
            step_kind: campaign.steps.get(member.step as usize).map(CampaignStep::kind),
            state: step_state(campaign, member.group, member.step, member.call_open),
            attempts: member.attempts,
            last_attempt_at: member.last_attempt_at.map(format_jst),
            last_outcome: member.last_outcome.map(CallOutcome::code),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Results.

#[derive(Debug, Clone, Copy, Serialize)]
pub struct GroupFigureJson {
    pub n: u64,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureJson {
    pub key: &'static str,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    /// `proportion` (0–1) or `yen` (mean per member).
    pub unit: &'static str,
    pub treatment: GroupFigureJson,
    pub holdout: GroupFigureJson,
    /// Treatment − holdout, with the 95 % interval.
    pub difference: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub method: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ResultsJson {
    pub campaign: CampaignJson,
    pub window_days: u32,
    pub from: String,
    pub to: String,
    pub treatment_members: u64,
    pub holdout_members: u64,
    pub measures: Vec<MeasureJson>,
    pub definitions: &'static str,
}

pub const NEWCOMBE: &str = "newcombe_hybrid_score_95";
pub const WELCH: &str = "welch_t_95";
pub const DEFINITIONS: &str = "contact rate: an outbound contact that reached the member (not unanswered, busy or bounced); \
response: an email opened or clicked, or an outbound call answered (resolved, ordered, callback, lost order); \
conversion: any order; retention: among members with a subscription before the start, a subscription order; \
revenue: order amounts per member, in yen. All within [start, start + window). \
Proportions: Newcombe's hybrid score interval; revenue: Welch's t interval.";

fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

fn measure(key: &'static str, label_ja: &'static str, label_en: &'static str, lift: &Lift, yen: bool) -> MeasureJson {
    let places = if yen { 1 } else { 5 };
    let figure =
        |f: &kimochi_analytics::lift::GroupFigure| GroupFigureJson { n: f.n, value: f.value.map(|v| round(v, places)) };
    MeasureJson {
        key,
        label_ja,
        label_en,
        unit: if yen { "yen" } else { "proportion" },
        treatment: figure(&lift.treatment),
        holdout: figure(&lift.holdout),
        difference: lift.difference.map(|v| round(v, places)),
        low: lift.low.map(|v| round(v, places)),
        high: lift.high.map(|v| round(v, places)),
        method: if yen { WELCH } else { NEWCOMBE },
    }
}

pub fn measures(lift: &CampaignLift) -> Vec<MeasureJson> {
    vec![
        measure("contact_rate", "接触率", "Contact rate", &lift.contact_rate, false),
        measure("response", "反応率", "Response", &lift.response, false),
        measure("conversion", "購入率", "Conversion", &lift.conversion, false),
        measure("retention", "継続率（定期）", "Retention (subscribers)", &lift.retention, false),
        measure("revenue_per_member", "1人あたり売上", "Revenue per member", &lift.revenue_per_member, true),
    ]
}

/// Reads the facts and computes the results of a campaign.
pub async fn results(
    state: &AppState,
    tenant: TenantId,
    id: CampaignId,
    window_days: u32,
) -> Result<ResultsJson, AppError> {
    if !(1..=730).contains(&window_days) {
        return Err(AppError::invalid(ValidationError::new(
            "window_days",
            &window_days.to_string(),
            "must be 1 to 730",
        )));
    }
    let window = time::Duration::days(i64::from(window_days));
    let (campaign, facts) = state.store.campaign_results_facts(tenant, id, window).await?;
    let rows: Vec<MemberOutcome> = facts
        .iter()
        .map(|f| MemberOutcome {
            group: f.group,
            contacted: f.contacted,
            responded: f.responded,
            converted: f.converted,
            subscriber: f.subscriber,
            retained: f.retained,
            revenue: f.revenue,
        })
        .collect();
    let lift = tokio::task::spawn_blocking(move || campaign_lift(&rows)).await.map_err(|_| AppError::internal())?;
    Ok(ResultsJson {
        window_days,
        from: format_jst(campaign.started_at),
        to: format_jst(campaign.started_at + window),
        treatment_members: lift.treatment_members,
        holdout_members: lift.holdout_members,
        measures: measures(&lift),
        definitions: DEFINITIONS,
        campaign: CampaignJson::new(&campaign),
    })
}

/// The results as CSV (UTF-8 with BOM, for Excel).
pub fn results_csv(results: &ResultsJson) -> Result<Vec<u8>, AppError> {
    use kimochi_io::export::{Cell, CsvSink};
    const COLUMNS: &[&str] = &[
        "measure",
        "label",
        "unit",
        "treatment_n",
        "treatment_value",
        "holdout_n",
        "holdout_value",
        "difference",
        "low_95",
        "high_95",
        "method",
    ];
    let number = |v: Option<f64>| v.map_or(Cell::Empty, |v| Cell::Text(v.to_string()));
    let mut sink = CsvSink::new(Vec::new(), COLUMNS).map_err(|_| AppError::internal())?;
    for m in &results.measures {
        sink.write_row(&[
            Cell::Text(m.key.to_owned()),
            Cell::Text(m.label_ja.to_owned()),
            Cell::Text(m.unit.to_owned()),
            Cell::Integer(m.treatment.n as i64),
            number(m.treatment.value),
            Cell::Integer(m.holdout.n as i64),
            number(m.holdout.value),
            number(m.difference),
            number(m.low),
            number(m.high),
            Cell::Text(m.method.to_owned()),
        ])
        .map_err(|_| AppError::internal())?;
    }
    sink.finish().map_err(|_| AppError::internal())
}

// ---------------------------------------------------------------------------------------------
// Talk hints: drawn from the customer's own data, not a script.

#[derive(Debug, Clone, Serialize)]
pub struct HeardJson {
    pub at: String,
    pub text: String,
    /// Kimochi kinds heard (codes).
    pub kimochi: Vec<&'static str>,
    pub source: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductHintJson {
    pub product_id: i64,
    pub name: String,
    pub kind: &'static str,
    pub orders: i64,
    pub last_at: String,
    /// Mean days between purchases, with two or more purchases.
    pub cycle_days: Option<i64>,
    /// When the next purchase is due by that cycle.
    pub next_due: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaqTipJson {
    pub id: i64,
    pub title: String,
    pub excerpt: String,
    /// The product whose name found it.
    pub product: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChurnJson {
    pub level: Option<&'static str>,
    pub probability: Option<f64>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TalkHintsJson {
    pub stage: Option<&'static str>,
    pub churn: Option<ChurnJson>,
    /// The last thing kimochi heard: the latest tagged contact or kimochi note.
    pub last_heard: Option<HeardJson>,
    /// The customer's original expectation and how far experience fell short (0–1).
    pub expectation: Option<String>,
    pub expectation_at: Option<String>,
    pub gap_score: Option<f64>,
    pub products: Vec<ProductHintJson>,
    pub faq_tips: Vec<FaqTipJson>,
}

/// Most products and FAQ tips shown.
const MAX_PRODUCTS: usize = 5;
const MAX_TIPS: usize = 4;

/// The talk hints of a customer from their karte and the tenant's FAQ.
pub async fn talk_hints(
    state: &AppState,
    tenant: TenantId,
    karte: &Karte,
    role: Role,
    now: OffsetDateTime,
) -> TalkHintsJson {
    let timeline = crate::timeline::KimochiTimelineJson::new(karte, role, now);
    let text = |t: &str| crate::json::text_for(t.to_owned(), role);
    // The latest contact the text engine heard kimochi in, or the latest kimochi note.
    let contact = karte
        .recent_contacts
        .iter()
        .filter(|c| !c.tags.kimochi.is_empty() && !c.text.trim().is_empty())
        .max_by_key(|c| (c.started_at, c.id));
    let note = karte.kimochi.iter().max_by_key(|n| (n.captured_at, n.id));
    let last_heard = match (contact, note) {
        (Some(c), Some(n)) if n.captured_at > c.started_at => Some(HeardJson {
            at: format_jst(n.captured_at),
            text: text(&n.text),
            kimochi: vec![n.kind.code()],
            source: "note",
        }),
        (Some(c), _) => Some(HeardJson {
            at: format_jst(c.started_at),
            text: text(&c.text),
            kimochi: c.tags.kimochi.iter().map(|k| k.code()).collect(),
            source: "contact",
        }),
        (None, Some(n)) => Some(HeardJson {
            at: format_jst(n.captured_at),
            text: text(&n.text),
            kimochi: vec![n.kind.code()],
            source: "note",
        }),
        (None, None) => None,
    };
    let mut purchases = karte.purchases.clone();
    purchases.sort_by_key(|p| std::cmp::Reverse(p.last_at));
    let products: Vec<ProductHintJson> = purchases
        .iter()
        .take(MAX_PRODUCTS)
        .map(|p| {
            let cycle_days = (p.order_count >= 2)
                .then(|| (p.last_at - p.first_at).whole_days() / (p.order_count - 1))
                .filter(|d| *d > 0);
            let next = cycle_days.map(|d| p.last_at + time::Duration::days(d));
            ProductHintJson {
                product_id: p.product_id.0,
                name: p.product_name.clone(),
                kind: p.product_kind.code(),
                orders: p.order_count,
                last_at: format_date(p.last_at.to_offset(kimochi_domain::datetime::JST).date()),
                cycle_days,
                next_due: next.map(|n| format_date(n.to_offset(kimochi_domain::datetime::JST).date())),
                overdue: next.is_some_and(|n| n < now),
            }
        })
        .collect();
    let faq_tips = faq_tips(state, tenant, &products).await;
    TalkHintsJson {
        stage: karte.score.as_ref().map(|s| s.stage.code()),
        churn: karte.score.as_ref().map(|s| ChurnJson {
            level: s.churn_level.map(|l| l.code()),
            probability: s.churn_probability.map(|p| round(p, 3)),
            reasons: s.churn_reasons.iter().map(|r| r.text.clone()).collect(),
        }),
        last_heard,
        expectation: timeline.expectation.as_ref().map(|e| e.text.clone()),
        expectation_at: timeline.expectation.as_ref().map(|e| e.at.clone()),
        gap_score: timeline.gap_score,
        products,
        faq_tips,
    }
}

/// FAQ articles about the products the customer bought: the search index first (words and
/// bigrams of the product name), else the tenant's FAQ titles and bodies that name the product.
async fn faq_tips(state: &AppState, tenant: TenantId, products: &[ProductHintJson]) -> Vec<FaqTipJson> {
    let mut tips: Vec<FaqTipJson> = Vec::new();
    let mut all: Option<Vec<Faq>> = None;
    for product in products {
        if tips.len() >= MAX_TIPS {
            break;
        }
        let mut found: Vec<(i64, String, String)> = Vec::new();
        for query in faq_queries(&product.name) {
            if let Ok(hits) = crate::search::faq_hits(state, tenant, query, 3).await {
                for hit in hits {
                    let excerpt: String = hit.snippet.fragments.iter().map(|f| f.text.as_str()).collect();
                    found.push((hit.id.0, hit.title, excerpt));
                }
            }
            if !found.is_empty() {
                break;
            }
        }
        if found.is_empty() {
            if all.is_none() {
                all = Some(state.store.faq_list(tenant).await.unwrap_or_default());
            }
            for faq in all.iter().flatten() {
                if faq.title.contains(&product.name) || faq.body.contains(&product.name) {
                    found.push((faq.id.0, faq.title.clone(), faq.body.chars().take(120).collect()));
                }
            }
        }
        for (id, title, excerpt) in found {
            if tips.len() < MAX_TIPS && !tips.iter().any(|t| t.id == id) {
                tips.push(FaqTipJson { id, title, excerpt, product: product.name.clone() });
            }
        }
    }
    tips
}

/// What to search the FAQ for, most specific first: the product's whole name, its name without
/// the size or plan in brackets or after a space (「うるおい美容液 定期便(毎月お届け)」→
/// 「うるおい美容液」), and the generic noun that Japanese product names end with, the trailing
/// run of kanji or katakana (「美容液」), since FAQ articles are written about the kind of
/// product rather than its brand name.
fn faq_queries(name: &str) -> Vec<String> {
    let mut queries = vec![name.trim().to_owned()];
    let first = name.split(|c: char| c.is_whitespace() || "(（[【「".contains(c)).find(|part| !part.is_empty());
    if let Some(first) = first {
        queries.push(first.to_owned());
        let is_noun_char = |c: char| matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{30A0}'..='\u{30FF}');
        let tail: String = {
            let mut tail: Vec<char> = first.chars().rev().take_while(|c| is_noun_char(*c)).collect();
            tail.reverse();
            tail.into_iter().collect()
        };
        if tail.chars().count() >= 2 {
            queries.push(tail);
        }
    }
    queries.dedup();
    queries.retain(|q| !q.is_empty());
    queries
}

/// A task served to an operator or an integration: the member, the customer (as the role may
/// see them) and the talk hints.
#[derive(Debug, Serialize)]
pub struct CallTaskJson {
    pub task_id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub customer_id: i64,
    pub name: String,
    pub kana: Option<String>,
    pub phones: Vec<String>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_until: String,
    pub hints: TalkHintsJson,
}

/// Leases the next member to `principal` and builds what they need to call. Consent is checked
/// again here on the customer just read (the store checked it in its query too): a refusal
/// releases the member and moves on.
pub async fn next_call(
    state: &AppState,
    principal: &Principal,
    campaign: Option<CampaignId>,
    now: OffsetDateTime,
) -> Result<Option<(CallTask, Karte, TalkHintsJson)>, AppError> {
    let holder = lease_holder(&principal.actor);
    for _ in 0..5 {
        let Some(task) =
            state.store.campaign_call_next(principal.tenant_id, &holder, campaign, now, CALL_LEASE).await?
        else {
            return Ok(None);
        };
        let karte = match state.store.karte(principal.tenant_id, task.customer_id, KarteLimits::default()).await {
            Ok(karte) => karte,
            Err(StoreError::NotFound(_)) => continue,
            Err(error) => return Err(error.into()),
        };
        if karte.customer.profile.outbound_allowed(Channel::Phone).is_err() {
            state.store.campaign_call_release(principal.tenant_id, &holder).await?;
            continue;
        }
        let hints = talk_hints(state, principal.tenant_id, &karte, principal.role, now).await;
        return Ok(Some((task, karte, hints)));
    }
    Ok(None)
}

/// Records an attempt: the text engine reads the text like every contact's, the store writes the
/// contact and the bookkeeping in one transaction, then the live board and search hear of it.
pub async fn record_call(
    state: &AppState,
    principal: &Principal,
    campaign: CampaignId,
    task: CampaignMemberId,
    outcome: CallOutcome,
    text: &str,
    now: OffsetDateTime,
) -> Result<kimochi_store::CallRecorded, AppError> {
    principal.require_write()?;
    let text = long_text("text", text)?;
    let tags = crate::alerts::contact_tags(state, principal.tenant_id, &text).await?;
    let attempt = CallAttempt { outcome, text, tags, agent: principal.user_id, at: now };
    let holder = lease_holder(&principal.actor);
    let recorded = match state.store.campaign_call_record(principal.tenant_id, campaign, task, &holder, &attempt).await
    {
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "campaign.lease",
                "このお客様の架電担当ではありません（時間切れか、すでに記録済みです）。次のお客様へお進みください。",
                "this call task is not leased to you (the lease ran out or the outcome was recorded)",
            ));
        }
        other => other?,
    };
    let customer = state.store.customer_get(principal.tenant_id, recorded.contact.customer_id).await?;
    crate::alerts::contact_recorded(
        state,
        principal.tenant_id,
        &recorded.contact,
        &customer.profile.name,
        &principal.display_name,
    )
    .await;
    crate::search::contact_written(state, principal.tenant_id, &recorded.contact).await;
    Ok(recorded)
}

pub fn task_json(task: &CallTask, karte: &Karte, hints: TalkHintsJson, role: Role) -> CallTaskJson {
    let clear = role.sees_personal_data();
    let profile = &karte.customer.profile;
    CallTaskJson {
        task_id: task.member_id.0,
        campaign_id: task.campaign_id.0,
        campaign_name: task.campaign_name.clone(),
        customer_id: task.customer_id.0,
        name: profile.name.clone(),
        kana: profile.kana.clone(),
        phones: profile.phones.iter().map(|p| if clear { p.to_string() } else { p.masked() }).collect(),
        attempts: task.attempts,
        max_attempts: task.max_attempts,
        lease_until: format_jst(task.lease_until),
        hints,
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

fn now() -> OffsetDateTime {
    crate::now()
}

fn require_planner(principal: &Principal) -> Result<(), AppError> {
    match principal.role {
        Role::Analyst | Role::Supervisor | Role::Admin => Ok(()),
        Role::Agent => Err(AppError::forbidden()),
    }
}

/// `GET /api/v1/campaigns`.
pub async fn campaign_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    let campaigns = state.store.campaign_list(principal.tenant_id).await?;
    Ok(Json(serde_json::json!({ "campaigns": campaigns.iter().map(CampaignJson::new).collect::<Vec<_>>() }))
        .into_response())
}

/// `POST /api/v1/campaigns`: analysts, supervisors and administrators.
pub async fn campaign_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CampaignInput>,
) -> ApiResult {
    require_planner(&principal)?;
    let now = now();
    let input = with_segment(state.store.as_ref(), principal.tenant_id, input, now).await?;
    let campaign = input.into_new(principal.tenant_id, now)?;
    let created = state.store.campaign_create(principal.tenant_id, &campaign, now).await?;
    start(&state, principal.tenant_id, now).await;
    audit(&state, &principal, "campaign.create", None, format!("campaign {}: {} members", created.id, created.members))
        .await?;
    Ok((StatusCode::CREATED, Json(CampaignJson::new(&created))).into_response())
}

/// `GET /api/v1/campaigns/{id}`.
pub async fn campaign_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let campaign = state.store.campaign_get(principal.tenant_id, CampaignId(id)).await?;
    Ok(Json(CampaignJson::new(&campaign)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignUpdate {
    pub name: String,
    #[serde(default)]
    pub purpose: String,
}

/// `PUT /api/v1/campaigns/{id}`: the name and purpose (members, holdout and steps are fixed).
pub async fn campaign_update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CampaignUpdate>,
) -> ApiResult {
    state.store.campaign_get(principal.tenant_id, CampaignId(id)).await?;
    require_planner(&principal)?;
    let campaign =
        state.store.campaign_update(principal.tenant_id, CampaignId(id), &input.name, &input.purpose).await?;
    audit(&state, &principal, "campaign.update", None, format!("campaign {id}")).await?;
    Ok(Json(CampaignJson::new(&campaign)).into_response())
}

/// `DELETE /api/v1/campaigns/{id}`: supervisors and administrators.
pub async fn campaign_delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    state.store.campaign_get(principal.tenant_id, CampaignId(id)).await?;
    principal.require_supervisor_or_admin()?;
    state.store.campaign_delete(principal.tenant_id, CampaignId(id)).await?;
    audit(&state, &principal, "campaign.delete", None, format!("campaign {id}")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
pub struct MembersParams {
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/campaigns/{id}/members?after=&limit=`: group and step state, names and phones
/// masked for roles that do not see personal data.
pub async fn campaign_members(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<MembersParams>,
) -> ApiResult {
    let campaign = state.store.campaign_get(principal.tenant_id, CampaignId(id)).await?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid(ValidationError::new("limit", &limit.to_string(), "must be between 1 and 1000")));
    }
    let members = state
        .store
        .campaign_members(principal.tenant_id, campaign.id, params.after.map(CampaignMemberId), limit)
        .await?;
    if principal.role.sees_personal_data() {
        audit(&state, &principal, "campaign.members.read", None, format!("campaign {id}: {} members", members.len()))
            .await?;
    }
    let next_after = (members.len() == limit as usize).then(|| members.last().map(|m| m.id.0)).flatten();
    Ok(Json(serde_json::json!({
        "members": members.iter().map(|m| MemberJson::new(&campaign, m, principal.role)).collect::<Vec<_>>(),
        "next_after": next_after,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ResultsParams {
    window_days: Option<u32>,
}

/// `GET /api/v1/campaigns/{id}/results?window_days=90`.
pub async fn campaign_results(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<ResultsParams>,
) -> ApiResult {
    let results =
        results(&state, principal.tenant_id, CampaignId(id), params.window_days.unwrap_or(DEFAULT_WINDOW_DAYS)).await?;
    Ok(Json(results).into_response())
}

/// `GET /api/v1/campaigns/{id}/results.csv?window_days=90`.
pub async fn campaign_results_csv(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<ResultsParams>,
) -> ApiResult {
    let results =
        results(&state, principal.tenant_id, CampaignId(id), params.window_days.unwrap_or(DEFAULT_WINDOW_DAYS)).await?;
    let bytes = results_csv(&results)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"campaign-{id}-results.csv\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /api/v1/campaigns/{id}/calls/next`: leases the next member of this campaign to the
/// caller (`{"task": null}` when nobody may be called now).
pub async fn campaign_call_next(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    let campaign = state.store.campaign_get(principal.tenant_id, CampaignId(id)).await?;
    principal.require_write()?;
    let Some((task, karte, hints)) = next_call(&state, &principal, Some(campaign.id), now()).await? else {
        return Ok(Json(serde_json::json!({ "task": null })).into_response());
    };
    audit(
        &state,
        &principal,
        "campaign.call.serve",
        Some(task.customer_id),
        format!("campaign {id}, task {}", task.member_id),
    )
    .await?;
    Ok(Json(serde_json::json!({ "task": task_json(&task, &karte, hints, principal.role) })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    pub outcome: String,
    #[serde(default)]
    pub text: String,
}

/// `POST /api/v1/campaigns/{id}/calls/{task}/outcome`: records the attempt as a contact.
pub async fn campaign_call_outcome(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, task)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<OutcomeInput>,
) -> ApiResult {
    state.store.campaign_get(principal.tenant_id, CampaignId(id)).await?;
    let outcome = CallOutcome::parse(&input.outcome)?;
    let recorded =
        record_call(&state, &principal, CampaignId(id), CampaignMemberId(task), outcome, &input.text, now()).await?;
    Ok(Json(serde_json::json!({
        "contact": crate::json::ContactJson::from(&recorded.contact).for_role(principal.role),
        "attempts": recorded.attempts,
        "step_done": recorded.step_done,
    }))
    .into_response())
}

/// Runs the steps of the tenant's campaigns once, right after a campaign is created, so that its
/// first step (an email due, a call list) starts now rather than at the runner's next tick. A
/// failure is logged: the runner catches up.
pub async fn start(state: &AppState, tenant: TenantId, now: OffsetDateTime) {
    if let Err(error) = state.store.campaign_run(tenant, now).await {
        tracing::warn!(%error, "campaign steps could not start at once; the runner will");
        return;
    }
    match queue_campaign_emails(state.store.as_ref(), tenant, now).await {
        Ok(handoff) if handoff.queued > 0 => {
            if let Some(sender) = &state.email {
                sender.wake();
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "campaign emails could not be queued at once; the runner will"),
    }
}

/// Emails handed from the campaigns to the outbox per call of [`queue_campaign_emails`].
const EMAIL_HANDOFF: u32 = 500;

/// What one hand-off of campaign emails to the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EmailHandoff {
    /// Queued in the outbox (the SMTP sender delivers them).
    pub queued: usize,
    /// Refused by the outbox: the customer withdrew email consent or lost their address since
    /// the step came due. Not sent, and not retried.
    pub refused: usize,
}

/// Moves the campaign emails that came due into the email outbox, where the sender delivers
/// them with tracking: each batch is taken and queued in one transaction
/// (`campaign_emails_queue`), so none is lost or queued twice; a customer who withdrew email
/// consent since the step came due is skipped and logged.
pub async fn queue_campaign_emails(
    store: &dyn kimochi_store::Store,
    tenant: TenantId,
    now: OffsetDateTime,
) -> Result<EmailHandoff, StoreError> {
    let mut handoff = EmailHandoff::default();
    loop {
        let batch = store.campaign_emails_queue(tenant, now, EMAIL_HANDOFF).await?;
        handoff.queued += batch.queued;
        handoff.refused += batch.refused.len();
        for customer in &batch.refused {
            tracing::info!(customer = customer.0, "campaign email not queued: no email consent or address any more");
        }
        if batch.taken < EMAIL_HANDOFF as usize {
            return Ok(handoff);
        }
    }
}

/// The step runner of `kimochi serve`: every [`RUN_EVERY`], each tenant's campaigns move on.
pub fn spawn_runner(state: &AppState) {
    let store = state.store.clone();
    let email_sender = state.email.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(RUN_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let tenants = match store.tenant_list().await {
                Ok(tenants) => tenants,
                Err(error) => {
                    tracing::warn!(%error, "campaign runner: tenants could not be read");
                    continue;
                }
            };
            for tenant in tenants {
                match store.campaign_run(tenant.id, crate::now()).await {
                    Ok(report) if report.advanced > 0 => {
                        tracing::info!(tenant = %tenant.slug, advanced = report.advanced, emails = report.emails_due,
                            calls = report.calls_opened, "campaign steps advanced");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(tenant = %tenant.slug, %error, "campaign runner failed"),
                }
                match queue_campaign_emails(store.as_ref(), tenant.id, crate::now()).await {
                    Ok(handoff) if handoff.queued > 0 => {
                        tracing::info!(tenant = %tenant.slug, queued = handoff.queued, refused = handoff.refused,
                            "campaign emails queued");
                        if let Some(sender) = &email_sender {
                            sender.wake();
                        }
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(tenant = %tenant.slug, %error, "campaign emails could not be queued"),
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::faq_queries;

    #[test]
    fn faq_queries_go_from_the_whole_name_to_the_kind_of_product() {
        let check = |name: &str, expected: &[&str]| assert_eq!(faq_queries(name), expected, "{name}");
        check("うるおい美容液 定期便(毎月お届け)", &["うるおい美容液 定期便(毎月お届け)", "うるおい美容液", "美容液"]);
        check("オリジナルコットン(80枚)", &["オリジナルコットン(80枚)", "オリジナルコットン"]);
        check("美容液", &["美容液"]);
        check("  ", &[]);
    }
}
