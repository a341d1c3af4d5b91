//! The operator's call list (`/agent/calls`: one customer at a time with talk hints drawn from
//! their own data, the outcome recorded through htmx, then the next customer) and the campaign
//! pages for analysts (`/analyst/campaigns`: list and create; `/analyst/campaigns/{id}`: results
//! with a server-drawn SVG chart of both groups and the interval, CSV export).

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kimochi_domain::campaign::*;
use kimochi_domain::{Role, ValidationError};
use serde::Deserialize;

use super::i18n::{CampaignStrings, Lang};
use super::view::Layout;
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;
use crate::campaigns::{
    CampaignInput, CampaignJson, MeasureJson, ResultsJson, SeedJson, StepJson, TalkHintsJson, next_call, record_call,
    results, task_json,
};
use crate::error::AppError;

fn refuse(message: &str) -> Response {
    let html = format!(r#"<p class="error-text" role="alert">{}</p>"#, crate::auth::escape_html(message));
    (
        StatusCode::OK,
        [
            ("hx-retarget", "#form-errors"),
            ("hx-reswap", "innerHTML"),
            (header::CONTENT_TYPE.as_str(), "text/html; charset=utf-8"),
        ],
        html,
    )
        .into_response()
}

fn message(lang: Lang, error: &AppError) -> String {
    let text = match lang {
        Lang::Ja => error.message_ja.to_string(),
        Lang::En => error.message_en.to_string(),
    };
    match &error.field {
        Some(field) => format!("{text} ({field})"),
        None => text,
    }
}

fn require_caller(user: &PageUser) -> Result<(), PageError> {
    if user.role().may_write_customers() { Ok(()) } else { Err(user.error(AppError::forbidden())) }
}

// ---------------------------------------------------------------------------------------------
// The call list.

pub struct OutcomeChoice {
    pub code: &'static str,
    pub label: String,
    pub key: usize,
}

pub struct CallView {
    pub campaign_id: i64,
    pub task_id: i64,
    pub campaign_name: String,
    pub customer_id: i64,
    pub name: String,
    pub kana: String,
    pub phones: Vec<String>,
    pub attempts: String,
    pub lease_until: String,
    pub stage: String,
    pub churn_code: String,
    pub churn_label: String,
    pub churn_reasons: Vec<String>,
    pub hints: TalkHintsJson,
    pub heard_kinds: String,
    pub gap: String,
}

#[derive(Template)]
#[template(path = "agent/calls.html")]
struct CallsPage {
    l: Layout,
    c: &'static CampaignStrings,
    call: Option<CallView>,
    outcomes: Vec<OutcomeChoice>,
    campaign_filter: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CallsParams {
    #[serde(default)]
    campaign: Option<i64>,
}

fn outcome_label(lang: Lang, outcome: CallOutcome) -> String {
    match lang {
        Lang::Ja => outcome.label_ja().to_owned(),
        Lang::En => outcome.code().replace('_', " "),
    }
}

/// `GET /agent/calls[?campaign=ID]`: leases the next customer to this operator and shows them.
pub async fn calls_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<CallsParams>,
) -> Result<Response, PageError> {
    require_caller(&user)?;
    let c = user.lang.campaign();
    let now = crate::now();
    let served = next_call(&state, &user.principal, params.campaign.map(CampaignId), now).await.for_page(&user)?;
    let call = match served {
        None => None,
        Some((task, karte, hints)) => {
            user.audit(
                &state,
                "campaign.call.serve",
                Some(task.customer_id),
                format!("campaign {}, task {}", task.campaign_id, task.member_id),
            )
            .await?;
            let json = task_json(&task, &karte, hints, user.role());
            let score = karte.score.as_ref();
            let churn_code = score.and_then(|s| s.churn_level).map_or("unscored", |l| l.code()).to_owned();
            let churn_label = score
                .and_then(|s| s.churn_level)
                .map_or_else(|| c.unscored.to_owned(), |l| user.lang.vocab(l.code(), l.label_ja()));
            let heard_kinds = json
                .hints
                .last_heard
                .as_ref()
                .map(|h| h.kimochi.iter().map(|k| user.lang.kimochi_tag(k)).collect::<Vec<_>>().join("・"))
                .unwrap_or_default();
            Some(CallView {
                campaign_id: json.campaign_id,
                task_id: json.task_id,
                campaign_name: json.campaign_name,
                customer_id: json.customer_id,
                name: json.name,
                kana: json.kana.unwrap_or_default(),
                phones: json.phones,
                attempts: format!("{} / {}", json.attempts + 1, json.max_attempts),
                lease_until: json.lease_until.get(11..16).unwrap_or_default().to_owned(),
                stage: score
                    .map_or_else(|| c.unscored.to_owned(), |s| user.lang.vocab(s.stage.code(), s.stage.label_ja())),
                churn_code,
                churn_label,
                churn_reasons: json.hints.churn.as_ref().map(|ch| ch.reasons.clone()).unwrap_or_default(),
                gap: json.hints.gap_score.map(|g| format!("{:.0}%", g * 100.0)).unwrap_or_else(|| c.none.to_owned()),
                heard_kinds,
                hints: json.hints,
            })
        }
    };
    let outcomes = CallOutcome::ALL
        .iter()
        .enumerate()
        .map(|(i, o)| OutcomeChoice { code: o.code(), label: outcome_label(user.lang, *o), key: i + 1 })
        .collect();
    let page = CallsPage {
        l: user.layout(c.calls_title),
        c,
        call,
        outcomes,
        campaign_filter: params.campaign.map(|id| format!("?campaign={id}")).unwrap_or_default(),
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    filter: String,
}

/// `POST /agent/calls/{campaign}/{task}/outcome` (htmx): records the attempt, then the page
/// reloads with the next customer; a refusal is shown in the form.
pub async fn call_outcome(
    State(state): State<AppState>,
    user: PageUser,
    Path((campaign, task)): Path<(i64, i64)>,
    Form(form): Form<OutcomeForm>,
) -> Result<Response, PageError> {
    require_caller(&user)?;
    let outcome = match CallOutcome::parse(&form.outcome) {
        Ok(outcome) => outcome,
        Err(error) => return Ok(refuse(&message(user.lang, &AppError::invalid(error)))),
    };
    let recorded = record_call(
        &state,
        &user.principal,
        CampaignId(campaign),
        CampaignMemberId(task),
        outcome,
        &form.text,
        crate::now(),
    )
    .await;
    match recorded {
        Ok(_) => {
            let next = match form.filter.parse::<i64>() {
                Ok(id) => format!("/agent/calls?campaign={id}"),
                Err(_) => "/agent/calls".to_owned(),
            };
            Ok((StatusCode::OK, [("hx-redirect", next)]).into_response())
        }
        Err(error) if error.status.is_client_error() && error.status != StatusCode::FORBIDDEN => {
            Ok(refuse(&message(user.lang, &error)))
        }
        Err(error) => Err(user.error(error)),
    }
}

// ---------------------------------------------------------------------------------------------
// Campaign list and creation.

pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub purpose: String,
    pub started: String,
    pub members: i64,
    pub treatment: i64,
    pub holdout: i64,
    pub steps: String,
}

fn steps_text(lang: Lang, steps: &[CampaignStep]) -> String {
    let c = lang.campaign();
    steps
        .iter()
        .map(|step| match step {
            CampaignStep::Email { subject, .. } => format!("{}「{subject}」", c.step_email),
            CampaignStep::Wait { days } => match lang {
                Lang::Ja => format!("{days}日待つ"),
                Lang::En => format!("wait {days} days"),
            },
            CampaignStep::Call { condition, rules } => format!(
                "{}（{} · {} · {}{}）",
                c.step_call,
                match lang {
                    Lang::Ja => condition.label_ja().to_owned(),
                    Lang::En => condition.code().replace('_', " "),
                },
                rules.hours_label(),
                rules.max_attempts,
                match lang {
                    Lang::Ja => "回まで",
                    Lang::En => " attempts",
                }
            ),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn row(lang: Lang, campaign: &Campaign) -> CampaignRow {
    let json = CampaignJson::new(campaign);
    CampaignRow {
        id: json.id,
        name: json.name,
        purpose: json.purpose,
        started: json.started_at.get(..16).unwrap_or_default().replace('T', " "),
        members: json.members,
        treatment: json.treatment,
        holdout: json.holdout,
        steps: steps_text(lang, &campaign.steps),
    }
}

pub struct ConditionChoice {
    pub code: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "analyst/campaigns.html")]
struct CampaignsPage {
    l: Layout,
    c: &'static CampaignStrings,
    rows: Vec<CampaignRow>,
    conditions: Vec<ConditionChoice>,
    may_create: bool,
    /// Saved segments (id, name) a campaign can take its members from.
    segments: Vec<(i64, String)>,
}

/// `GET /analyst/campaigns`.
pub async fn campaigns_page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    user.require_analytics()?;
    let c = user.lang.campaign();
    let campaigns = state.store.campaign_list(user.principal.tenant_id).await.for_page(&user)?;
    let segments = state
        .store
        .segment_list(user.principal.tenant_id)
        .await
        .for_page(&user)?
        .into_iter()
        .map(|segment| (segment.id.0, segment.name))
        .collect();
    let conditions = CallCondition::ALL
        .iter()
        .map(|cond| ConditionChoice {
            code: cond.code(),
            label: match user.lang {
                Lang::Ja => cond.label_ja().to_owned(),
                Lang::En => cond.code().replace('_', " "),
            },
            selected: *cond == CallCondition::NotOpened,
        })
        .collect();
    let page = CampaignsPage {
        l: user.layout(c.campaigns_title),
        c,
        rows: campaigns.iter().map(|g| row(user.lang, g)).collect(),
        conditions,
        may_create: true,
        segments,
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    rfm_cell: String,
    #[serde(default)]
    customer_ids: String,
    #[serde(default)]
    segment_id: String,
    #[serde(default)]
    holdout_percent: String,
    #[serde(default)]
    seed: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    wait_days: String,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    condition: String,
    #[serde(default)]
    max_attempts: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    spacing_minutes: String,
}

fn number<T: std::str::FromStr>(field: &'static str, text: &str) -> Result<Option<T>, ValidationError> {
    let text = kimochi_domain::normalize::normalize_text(text);
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| ValidationError::new(field, &text, "is not a number"))
}

/// Customer ids pasted as text: numbers separated by spaces, commas or lines.
fn pasted_ids(text: &str) -> Result<Vec<i64>, ValidationError> {
    let text = kimochi_domain::normalize::normalize_text(text);
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '、')
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<i64>()
                .map_err(|_| ValidationError::new("customer_ids", part, "is not a customer id (a number)"))
        })
        .collect()
}

async fn form_input(state: &AppState, user: &PageUser, form: CreateForm) -> Result<CampaignInput, AppError> {
    let mut ids = pasted_ids(&form.customer_ids)?;
    if let Some(cell) = number::<u16>("rfm_cell", &form.rfm_cell)? {
        if !(111..=555).contains(&cell) {
            return Err(AppError::invalid(ValidationError::new(
                "rfm_cell",
                &cell.to_string(),
                "is not an RFM cell 111–555",
            )));
        }
        let mut after = None;
        loop {
            let page = state.store.scores_by_cell(user.principal.tenant_id, cell, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.0.id);
            ids.extend(page.iter().map(|(summary, _)| summary.id.0));
            if ids.len() > MAX_MEMBERS || page.len() < 1000 {
                break;
            }
        }
    }
    let mut steps = Vec::new();
    if form.email.is_some() {
        steps.push(StepJson::Email { subject: form.subject, body: form.body });
    }
    if let Some(days) = number::<u32>("wait_days", &form.wait_days)?
        && days > 0
    {
        steps.push(StepJson::Wait { days });
    }
    if form.call.is_some() {
        steps.push(StepJson::Call {
            condition: Some(form.condition),
            max_attempts: number("max_attempts", &form.max_attempts)?,
            from: Some(form.from).filter(|f| !f.trim().is_empty()),
            to: Some(form.to).filter(|t| !t.trim().is_empty()),
            spacing_minutes: number("spacing_minutes", &form.spacing_minutes)?,
        });
    }
    Ok(CampaignInput {
        name: form.name,
        purpose: form.purpose,
        customer_ids: ids,
        segment_id: number::<i64>("segment_id", &form.segment_id)?,
        holdout_percent: number("holdout_percent", &form.holdout_percent)?,
        seed: number::<u64>("seed", &form.seed)?.map(SeedJson::Number),
        steps,
    })
}

/// `POST /analyst/campaigns` (htmx): creates the campaign and opens its page.
pub async fn campaign_create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<CreateForm>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let now = crate::now();
    let created = async {
        let input = form_input(&state, &user, form).await?;
        let input = crate::campaigns::with_segment(state.store.as_ref(), user.principal.tenant_id, input, now).await?;
        let campaign = input.into_new(user.principal.tenant_id, now)?;
        Ok::<_, AppError>(state.store.campaign_create(user.principal.tenant_id, &campaign, now).await?)
    }
    .await;
    match created {
        Ok(campaign) => {
            crate::campaigns::start(&state, user.principal.tenant_id, now).await;
            user.audit(
                &state,
                "campaign.create",
                None,
                format!("campaign {}: {} members", campaign.id, campaign.members),
            )
            .await?;
            Ok((StatusCode::OK, [("hx-redirect", format!("/analyst/campaigns/{}", campaign.id))]).into_response())
        }
        Err(error) if error.status.is_client_error() && error.status != StatusCode::FORBIDDEN => {
            Ok(refuse(&message(user.lang, &error)))
        }
        Err(error) => Err(user.error(error)),
    }
}

// ---------------------------------------------------------------------------------------------
// Results with the chart.

/// Width of the chart drawings, in SVG units.
const WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 170.0;
const ROW: f64 = 44.0;

pub struct RateRow {
    pub label: String,
    pub y_t: f64,
    pub y_h: f64,
    pub w_t: f64,
    pub w_h: f64,
    pub text_t: String,
    pub text_h: String,
    pub label_y: f64,
    pub value_x_t: f64,
    pub value_x_h: f64,
}

pub struct LiftRow {
    pub label: String,
    pub y: f64,
    pub text_y: f64,
    pub low_x: f64,
    pub high_x: f64,
    pub point_x: f64,
    pub positive: bool,
    pub value: String,
}

pub struct Tick {
    pub x: f64,
    pub label: String,
}

pub struct Charts {
    pub width: f64,
    pub rates_height: f64,
    pub lift_height: f64,
    pub label_x: f64,
    pub bar_x: f64,
    pub zero_x: f64,
    pub axis_y: f64,
    pub value_x: f64,
    pub rates: Vec<RateRow>,
    pub lifts: Vec<LiftRow>,
    pub ticks: Vec<Tick>,
}

fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn points(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{:+.1}", v * 100.0))
}

fn label(lang: Lang, m: &MeasureJson) -> String {
    match lang {
        Lang::Ja => m.label_ja.to_owned(),
        Lang::En => m.label_en.to_owned(),
    }
}

/// The two charts: each proportion for both groups, and each difference with its interval on a
/// percentage-point scale around zero.
fn charts(lang: Lang, measures: &[MeasureJson]) -> Charts {
    let proportions: Vec<&MeasureJson> = measures.iter().filter(|m| m.unit == "proportion").collect();
    let bar_x = LABEL_WIDTH + 10.0;
    let bar_span = WIDTH - bar_x - 80.0;
    let rates = proportions
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let y = 10.0 + i as f64 * ROW;
            let w = |v: Option<f64>| r1(v.unwrap_or(0.0).clamp(0.0, 1.0) * bar_span);
            RateRow {
                label: label(lang, m),
                y_t: y,
                y_h: y + 16.0,
                w_t: w(m.treatment.value),
                w_h: w(m.holdout.value),
                text_t: pct(m.treatment.value),
                text_h: pct(m.holdout.value),
                label_y: y + 18.0,
                value_x_t: r1(bar_x + w(m.treatment.value) + 6.0),
                value_x_h: r1(bar_x + w(m.holdout.value) + 6.0),
            }
        })
        .collect::<Vec<_>>();
    // The lift scale: symmetric around 0, wide enough for every interval, in 10-point steps.
    let reach =
        proportions.iter().flat_map(|m| [m.low, m.high]).flatten().fold(0.1_f64, |acc, v| acc.max(v.abs())).min(1.0);
    let reach = (reach * 10.0).ceil() / 10.0;
    let (left, right) = (bar_x, WIDTH - 150.0);
    let x = |v: f64| r1(left + (v.clamp(-reach, reach) + reach) / (2.0 * reach) * (right - left));
    let lifts = proportions
        .iter()
        .enumerate()
        .filter(|(_, m)| m.difference.is_some())
        .map(|(i, m)| {
            let y = 20.0 + i as f64 * 32.0;
            LiftRow {
                label: label(lang, m),
                y,
                text_y: y + 4.0,
                low_x: x(m.low.unwrap_or(0.0)),
                high_x: x(m.high.unwrap_or(0.0)),
                point_x: x(m.difference.unwrap_or(0.0)),
                positive: m.low.is_some_and(|l| l > 0.0),
                value: format!("{} ({} – {})", points(m.difference), points(m.low), points(m.high)),
            }
        })
        .collect::<Vec<_>>();
    let steps = (reach * 10.0).round() as i32;
    let ticks = (-steps..=steps)
        .filter(|s| steps <= 4 || s % 2 == 0)
        .map(|s| Tick { x: x(f64::from(s) / 10.0), label: format!("{:+}", s * 10) })
        .collect();
    let axis_y = 20.0 + proportions.len() as f64 * 32.0;
    Charts {
        width: WIDTH,
        rates_height: 10.0 + rates.len() as f64 * ROW,
        lift_height: axis_y + 24.0,
        label_x: LABEL_WIDTH,
        bar_x,
        zero_x: x(0.0),
        axis_y,
        value_x: right + 8.0,
        rates,
        lifts,
        ticks,
    }
}

pub struct MeasureRow {
    pub label: String,
    pub treatment: String,
    pub holdout: String,
    pub difference: String,
    pub interval: String,
    pub significant: bool,
}

#[derive(Template)]
#[template(path = "analyst/campaign.html")]
struct CampaignPage {
    l: Layout,
    c: &'static CampaignStrings,
    campaign: CampaignRow,
    seed: String,
    holdout_percent: String,
    window_days: u32,
    from: String,
    to: String,
    treatment_members: u64,
    holdout_members: u64,
    charts: Charts,
    rows: Vec<MeasureRow>,
    /// Nothing recorded in either group yet (a fresh campaign): said, so that bars at 0 % do not
    /// read as a result.
    no_outcomes: bool,
}

#[derive(Debug, Deserialize)]
pub struct ResultsParams {
    window_days: Option<u32>,
}

fn yen(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.0}"))
}

fn measure_row(lang: Lang, m: &MeasureJson) -> MeasureRow {
    let c = lang.campaign();
    let n = |figure: &crate::campaigns::GroupFigureJson| format!("n={}", figure.n);
    if m.unit == "yen" {
        MeasureRow {
            label: label(lang, m),
            treatment: format!("{} {} ({})", yen(m.treatment.value), c.yen, n(&m.treatment)),
            holdout: format!("{} {} ({})", yen(m.holdout.value), c.yen, n(&m.holdout)),
            difference: m.difference.map_or_else(|| c.not_enough.to_owned(), |d| format!("{d:+.0} {}", c.yen)),
            interval: match (m.low, m.high) {
                (Some(l), Some(h)) => format!("{l:+.0} – {h:+.0} {}", c.yen),
                _ => c.not_enough.to_owned(),
            },
            significant: m.low.is_some_and(|l| l > 0.0),
        }
    } else {
        MeasureRow {
            label: label(lang, m),
            treatment: format!("{} ({})", pct(m.treatment.value), n(&m.treatment)),
            holdout: format!("{} ({})", pct(m.holdout.value), n(&m.holdout)),
            difference: m.difference.map_or_else(|| c.not_enough.to_owned(), |d| format!("{:+.1} pt", d * 100.0)),
            interval: match (m.low, m.high) {
                (Some(l), Some(h)) => format!("{:+.1} – {:+.1} pt", l * 100.0, h * 100.0),
                _ => c.not_enough.to_owned(),
            },
            significant: m.low.is_some_and(|l| l > 0.0),
        }
    }
}

/// `GET /analyst/campaigns/{id}?window_days=90`: the results page.
pub async fn campaign_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<i64>,
    Query(params): Query<ResultsParams>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let c = user.lang.campaign();
    let window_days = params.window_days.unwrap_or(crate::campaigns::DEFAULT_WINDOW_DAYS);
    let found = state.store.campaign_get(user.principal.tenant_id, CampaignId(id)).await.for_page(&user)?;
    let results: ResultsJson =
        results(&state, user.principal.tenant_id, found.id, window_days).await.for_page(&user)?;
    let page = CampaignPage {
        l: user.layout(format!("{} — {}", c.results_title, found.name)),
        c,
        campaign: row(user.lang, &found),
        seed: results.campaign.seed.clone(),
        holdout_percent: format!("{}", results.campaign.holdout_percent),
        window_days,
        from: results.from.get(..10).unwrap_or_default().to_owned(),
        to: results.to.get(..10).unwrap_or_default().to_owned(),
        treatment_members: results.treatment_members,
        holdout_members: results.holdout_members,
        charts: charts(user.lang, &results.measures),
        rows: results.measures.iter().map(|m| measure_row(user.lang, m)).collect(),
        no_outcomes: results
            .measures
            .iter()
            .all(|m| [m.treatment.value, m.holdout.value].iter().all(|v| v.is_none_or(|v| v == 0.0))),
    };
    Ok(render(&page))
}

/// Whether a role sees the call list in the navigation.
pub fn calls_in_nav(role: Role) -> bool {
    role.may_write_customers()
}
