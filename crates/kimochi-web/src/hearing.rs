//! Hearing points at the web edge (issue 6 S2/K5/S3): the JSON shapes of question sets, of the
//! checklist a contact carries (`hearing` on `POST /customers/{id}/contacts`), soft facts, the
//! asked-rate report and the prospect list, and their API handlers:
//! `/api/v1/hearing-sets` (read: everyone; write: admin), `/api/v1/customers/{id}/soft-facts`,
//! `/api/v1/hearing/asked-rates` (supervisor, analyst, admin) and `/api/v1/prospects`.
//! The pages (`pages/hearing.rs`) use the same conversions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kimochi_analytics::potential::{Potential, PotentialConfig, PotentialInput, potential, prospect_order};
use kimochi_domain::datetime::{JST, format_date, format_jst};
use kimochi_domain::hearing::*;
use kimochi_domain::normalize::normalize_text;
use kimochi_domain::*;
use kimochi_store::ProspectRow;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::AppState;
use crate::api::audit;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::json::{CustomerSummaryJson, text_for};

type ApiResult = Result<Response, AppError>;

/// A question as a client sends it. `id` keeps an existing question (and its answers) on edit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HearingQuestionInput {
    pub id: Option<i64>,
    pub label: String,
    /// `choice`, `number`, `text` or `date`.
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub unit: Option<String>,
    pub max_chars: Option<u32>,
    pub soft_attribute: String,
    #[serde(default)]
    pub hint: String,
    pub weight: Option<u32>,
}

/// A set as a client sends it (create, or full replacement on update).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HearingSetInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub default_inbound: bool,
    pub questions: Vec<HearingQuestionInput>,
}

/// Default longest text answer when a text question does not say.
const DEFAULT_TEXT_CHARS: u32 = 200;

impl HearingQuestionInput {
    fn into_new(self, index: usize) -> Result<NewHearingQuestion, ValidationError> {
        let label = normalize_text(&self.label);
        let kind = match self.kind.trim() {
            "choice" => AnswerKind::Choice {
                options: self.options.iter().map(|o| normalize_text(o)).filter(|o| !o.is_empty()).collect(),
            },
            "number" => AnswerKind::Number {
                min: self.min,
                max: self.max,
                unit: self.unit.as_deref().map(normalize_text).filter(|u| !u.is_empty()),
            },
            "text" => AnswerKind::Text { max_chars: self.max_chars.unwrap_or(DEFAULT_TEXT_CHARS) },
            "date" => AnswerKind::Date,
            other => {
                return Err(ValidationError::new(
                    "kind",
                    other,
                    format!("question {} 「{label}」: must be choice, number, text or date", index + 1),
                ));
            }
        };
        Ok(NewHearingQuestion {
            id: self.id.map(HearingQuestionId),
            label,
            kind,
            soft_attribute: self.soft_attribute.trim().to_owned(),
            hint: self.hint.trim().to_owned(),
            weight: self.weight.unwrap_or(DEFAULT_WEIGHT),
        })
    }
}

impl HearingSetInput {
    /// The checked set, by the rules the API and the admin page share.
    pub fn into_new(self) -> Result<NewHearingSet, ValidationError> {
        if self.questions.len() > MAX_QUESTIONS {
            return Err(ValidationError::new(
                "questions",
                &self.questions.len().to_string(),
                format!("has more than {MAX_QUESTIONS} questions"),
            ));
        }
        let questions = self
            .questions
            .into_iter()
            .enumerate()
            .map(|(index, q)| q.into_new(index))
            .collect::<Result<Vec<_>, _>>()?;
        let set = NewHearingSet {
            name: normalize_text(&self.name),
            description: self.description.trim().to_owned(),
            default_inbound: self.default_inbound,
            questions,
        };
        set.validate()?;
        Ok(set)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HearingQuestionJson {
    pub id: i64,
    pub position: u32,
    pub label: String,
    pub kind: &'static str,
    pub options: Vec<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub unit: Option<String>,
    pub max_chars: Option<u32>,
    pub soft_attribute: String,
    pub hint: String,
    pub weight: u32,
}

impl From<&HearingQuestion> for HearingQuestionJson {
    fn from(question: &HearingQuestion) -> Self {
        let (mut options, mut min, mut max, mut unit, mut max_chars) = (Vec::new(), None, None, None, None);
        match &question.kind {
            AnswerKind::Choice { options: list } => options = list.clone(),
            AnswerKind::Number { min: low, max: high, unit: u } => (min, max, unit) = (*low, *high, u.clone()),
            AnswerKind::Text { max_chars: m } => max_chars = Some(*m),
            AnswerKind::Date => {}
        }
        HearingQuestionJson {
            id: question.id.0,
            position: question.position,
            label: question.label.clone(),
            kind: question.kind.code(),
            options,
            min,
            max,
            unit,
            max_chars,
            soft_attribute: question.soft_attribute.clone(),
            hint: question.hint.clone(),
            weight: question.weight,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HearingSetJson {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub default_inbound: bool,
    pub questions: Vec<HearingQuestionJson>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&HearingSet> for HearingSetJson {
    fn from(set: &HearingSet) -> Self {
        HearingSetJson {
            id: set.id.0,
            name: set.name.clone(),
            description: set.description.clone(),
            default_inbound: set.default_inbound,
            questions: set.questions.iter().map(HearingQuestionJson::from).collect(),
            created_at: format_jst(set.created_at),
            updated_at: format_jst(set.updated_at),
        }
    }
}

/// One line of the checklist a contact carries: `value` is a string (any kind) or a number (for
/// number questions) or null; `asked` defaults to whether a value is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HearingAnswerInput {
    pub question_id: i64,
    pub asked: Option<bool>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

/// The checklist sent with a contact: the set shown and a line per question.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HearingInput {
    pub set_id: i64,
    #[serde(default)]
    pub answers: Vec<HearingAnswerInput>,
}

impl HearingInput {
    /// Types every value by its question (errors name the question); the store checks the
    /// capture against the set again inside the contact's transaction.
    pub fn into_capture(self, set: &HearingSet) -> Result<HearingCapture, ValidationError> {
        if self.answers.len() > MAX_QUESTIONS {
            return Err(ValidationError::new(
                "hearing.answers",
                &self.answers.len().to_string(),
                format!("has more than {MAX_QUESTIONS} lines"),
            ));
        }
        let mut answers = Vec::with_capacity(self.answers.len());
        for line in self.answers {
            let id = HearingQuestionId(line.question_id);
            let Some(question) = set.question(id) else {
                return Err(ValidationError::new(
                    "hearing.question_id",
                    &id.to_string(),
                    format!("is not a question of set {} 「{}」", set.id, set.name),
                ));
            };
            let value = match line.value {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(text)) => question.parse_answer(&text)?,
                Some(serde_json::Value::Number(number)) if matches!(question.kind, AnswerKind::Number { .. }) => {
                    let value = AnswerValue::Number(number.as_f64().unwrap_or(f64::NAN));
                    question.check(&value)?;
                    Some(value)
                }
                Some(other) => {
                    return Err(ValidationError::new(
                        "hearing",
                        &other.to_string(),
                        format!("question {} 「{}」: the value must be a string or null", question.id, question.label),
                    ));
                }
            };
            answers.push(NewHearingAnswer { question_id: id, asked: line.asked.unwrap_or(value.is_some()), value });
        }
        let capture = HearingCapture { set_id: set.id, answers };
        capture.validate(set)?;
        Ok(capture)
    }
}

/// An answer's value in JSON: numbers as numbers, the rest as text (dates ISO).
fn value_json(value: &AnswerValue, role: Role) -> serde_json::Value {
    match value {
        AnswerValue::Number(number) => serde_json::json!(number),
        AnswerValue::Text(text) => serde_json::Value::String(text_for(text.clone(), role)),
        other => serde_json::Value::String(other.display()),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HearingAnswerJson {
    pub question_id: i64,
    pub asked: bool,
    pub answered: bool,
    pub value: Option<serde_json::Value>,
    pub answered_at: String,
}

impl HearingAnswerJson {
    pub fn new(answer: &HearingAnswer, role: Role) -> HearingAnswerJson {
        HearingAnswerJson {
            question_id: answer.question_id.0,
            asked: answer.asked,
            answered: answer.value.is_some(),
            value: answer.value.as_ref().map(|v| value_json(v, role)),
            answered_at: format_jst(answer.answered_at),
        }
    }
}

/// A soft fact as the API and the karte show it. Free-text answers are masked like contact
/// texts for roles without personal data.
#[derive(Debug, Clone, Serialize)]
pub struct SoftFactJson {
    pub soft_attribute: String,
    pub question_id: i64,
    pub label: String,
    pub value: serde_json::Value,
    /// The value as people read it, with its unit.
    pub display: String,
    pub answered_at: String,
    pub agent_id: Option<i64>,
    pub contact_id: i64,
}

impl SoftFactJson {
    pub fn new(fact: &SoftFact, role: Role) -> SoftFactJson {
        let display = match (&fact.value, &fact.unit) {
            (AnswerValue::Number(_), Some(unit)) => format!("{}{unit}", fact.value.display()),
            (AnswerValue::Text(text), _) => text_for(text.clone(), role),
            _ => fact.value.display(),
        };
        SoftFactJson {
            soft_attribute: fact.soft_attribute.clone(),
            question_id: fact.question_id.0,
            label: fact.label.clone(),
            value: value_json(&fact.value, role),
            display,
            answered_at: format_jst(fact.answered_at),
            agent_id: fact.agent_id.map(|a| a.0),
            contact_id: fact.contact_id.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AskedRateJson {
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub set_id: i64,
    pub question_id: i64,
    pub question_label: String,
    pub position: u32,
    /// Contacts where the set was shown.
    pub shown: i64,
    pub asked: i64,
    pub answered: i64,
    /// asked / shown.
    pub asked_rate: Option<f64>,
    /// answered / asked.
    pub answered_rate: Option<f64>,
}

impl From<&AskedRate> for AskedRateJson {
    fn from(rate: &AskedRate) -> Self {
        AskedRateJson {
            agent_id: rate.agent_id.map(|a| a.0),
            agent_name: rate.agent_name.clone(),
            set_id: rate.set_id.0,
            question_id: rate.question_id.0,
            question_label: rate.question_label.clone(),
            position: rate.position,
            shown: rate.shown,
            asked: rate.asked,
            answered: rate.answered,
            asked_rate: rate.asked_rate(),
            answered_rate: rate.answered_rate(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReasonJson {
    pub code: &'static str,
    pub points: i32,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimingJson {
    pub date: String,
    pub kind: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct ProspectJson {
    pub customer: CustomerSummaryJson,
    pub score: u8,
    pub reasons: Vec<ReasonJson>,
    pub next_approach: TimingJson,
    pub soft_facts: Vec<SoftFactJson>,
}

/// Most prospects one list shows.
pub const PROSPECT_LIMIT: u32 = 200;

/// Scores the prospect rows as of `today` and orders them (score, then the earliest suggested
/// date, then customer id). Plain arithmetic over at most a few thousand rows: no blocking pool.
pub fn prospects(rows: &[ProspectRow], today: Date, role: Role, limit: usize) -> Vec<ProspectJson> {
    let day = |at: Option<OffsetDateTime>| at.map(|t| t.to_offset(JST).date());
    let config = PotentialConfig::default();
    let mut scored: Vec<(Potential, &ProspectRow)> = rows
        .iter()
        .map(|row| {
            let input = PotentialInput {
                soft_facts: row.soft_facts.clone(),
                first_purchase: day(row.first_purchase_at),
                last_purchase: day(row.last_purchase_at),
                purchase_days: row.purchase_days,
                potential_notes: row.potential_notes,
                positive_contacts: row.positive_contacts,
                last_positive_contact: day(row.last_positive_contact_at),
                p_alive: row.p_alive,
            };
            (potential(&input, today, &config), row)
        })
        .collect();
    scored.sort_by(|a, b| prospect_order((&a.0, a.1.customer.id.0), (&b.0, b.1.customer.id.0)));
    scored
        .into_iter()
        .take(limit)
        .map(|(potential, row)| ProspectJson {
            customer: CustomerSummaryJson::new(&row.customer, role),
            score: potential.score,
            reasons: potential
                .reasons
                .into_iter()
                .map(|r| ReasonJson { code: r.code, points: r.points, text: text_for(r.text, role) })
                .collect(),
            next_approach: TimingJson {
                date: format_date(potential.timing.date),
                kind: potential.timing.kind.code(),
                text: potential.timing.text,
            },
            soft_facts: row.soft_facts.iter().map(|f| SoftFactJson::new(f, role)).collect(),
        })
        .collect()
}

/// Today in Japan.
pub fn today() -> Date {
    crate::now().to_offset(JST).date()
}

fn ok<T: Serialize>(value: T) -> ApiResult {
    Ok(Json(value).into_response())
}

/// A refused set or answer: like `AppError::invalid`, but the Japanese message carries the
/// reason too, since it names the question (「月のスキンケア予算」) the reader must fix.
pub fn hearing_invalid(error: ValidationError) -> AppError {
    let field = error.field;
    AppError {
        field: Some(field.into()),
        ..AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation.invalid",
            format!("入力内容に誤りがあります（{field}）: {}", error.reason),
            error.to_string(),
        )
    }
}

/// `Conflict` of a set, answered 409 naming what is taken; refused values name the question.
pub(crate) fn set_error(error: kimochi_store::StoreError) -> AppError {
    match error {
        kimochi_store::StoreError::Invalid(error) => hearing_invalid(error),
        kimochi_store::StoreError::Conflict(what) if what == "hearing set name" => AppError {
            field: Some("name".into()),
            ..AppError::new(
                StatusCode::CONFLICT,
                "conflict",
                "同じ名前のセットが既にあります。",
                "a hearing set with this name already exists",
            )
        },
        kimochi_store::StoreError::Conflict(what) if what == "hearing set answers" => AppError::new(
            StatusCode::CONFLICT,
            "hearing.answered",
            "回答のあるセットは削除できません。質問を外すと回答は残したまま非表示になります。",
            "a set with answers cannot be deleted; remove questions instead (their answers are kept)",
        ),
        other => other.into(),
    }
}

pub async fn hearing_set_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    let sets = state.store.hearing_set_list(principal.tenant_id).await?;
    ok(serde_json::json!({ "hearing_sets": sets.iter().map(HearingSetJson::from).collect::<Vec<_>>() }))
}

pub async fn hearing_set_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<HearingSetInput>,
) -> ApiResult {
    principal.require_admin()?;
    let set = input.into_new().map_err(hearing_invalid)?;
    let set = state.store.hearing_set_create(principal.tenant_id, &set, crate::now()).await.map_err(set_error)?;
    Ok((StatusCode::CREATED, Json(HearingSetJson::from(&set))).into_response())
}

pub async fn hearing_set_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    let set = state.store.hearing_set_get(principal.tenant_id, HearingSetId(id)).await?;
    ok(HearingSetJson::from(&set))
}

pub async fn hearing_set_update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<HearingSetInput>,
) -> ApiResult {
    // Another tenant's id is not found, whoever asks.
    state.store.hearing_set_get(principal.tenant_id, HearingSetId(id)).await?;
    principal.require_admin()?;
    let set = input.into_new().map_err(hearing_invalid)?;
    let set = state
        .store
        .hearing_set_update(principal.tenant_id, HearingSetId(id), &set, crate::now())
        .await
        .map_err(set_error)?;
    ok(HearingSetJson::from(&set))
}

pub async fn hearing_set_delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    state.store.hearing_set_get(principal.tenant_id, HearingSetId(id)).await?;
    principal.require_admin()?;
    state.store.hearing_set_delete(principal.tenant_id, HearingSetId(id)).await.map_err(set_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn customer_soft_facts_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    let facts = state.store.hearing_soft_facts(principal.tenant_id, CustomerId(id)).await?;
    audit(&state, &principal, "soft_facts.read", Some(CustomerId(id)), String::new()).await?;
    let role = principal.role;
    ok(serde_json::json!({ "soft_facts": facts.iter().map(|f| SoftFactJson::new(f, role)).collect::<Vec<_>>() }))
}

#[derive(Debug, Default, Deserialize)]
pub struct AskedRateParams {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The days of an asked-rate report: `from`/`to` as typed (JST, both included), by default
/// the last 30 days.
pub fn asked_rate_window(params: &AskedRateParams, today: Date) -> Result<(Date, Date), ValidationError> {
    let to = match params.to.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => kimochi_domain::datetime::parse_date("to", text)?,
        None => today,
    };
    let from = match params.from.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => kimochi_domain::datetime::parse_date("from", text)?,
        None => to - time::Duration::days(29),
    };
    if from > to {
        return Err(ValidationError::new("from", &format_date(from), "is after `to`"));
    }
    if (to - from).whole_days() > 3660 {
        return Err(ValidationError::new("from", &format_date(from), "the range may span at most ten years"));
    }
    Ok((from, to))
}

/// `[from 00:00, the day after to 00:00)` in Japan time.
pub fn window_times(from: Date, to: Date) -> (OffsetDateTime, OffsetDateTime) {
    let midnight = |day: Date| day.with_time(time::Time::MIDNIGHT).assume_offset(JST);
    (midnight(from), midnight(to.next_day().unwrap_or(to)))
}

pub async fn hearing_asked_rates_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<AskedRateParams>,
) -> ApiResult {
    if principal.role == Role::Agent {
        return Err(AppError::forbidden());
    }
    let (from, to) = asked_rate_window(&params, today())?;
    let (start, end) = window_times(from, to);
    let rates = state.store.hearing_asked_rates(principal.tenant_id, start, end).await?;
    ok(serde_json::json!({
        "from": format_date(from),
        "to": format_date(to),
        "rates": rates.iter().map(AskedRateJson::from).collect::<Vec<_>>(),
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct ProspectParams {
    pub limit: Option<u32>,
}

pub async fn prospect_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ProspectParams>,
) -> ApiResult {
    let limit = params.limit.unwrap_or(50).clamp(1, PROSPECT_LIMIT);
    let rows = state.store.prospect_rows(principal.tenant_id, kimochi_store::MAX_PROSPECTS).await?;
    let list = prospects(&rows, today(), principal.role, limit as usize);
    audit(&state, &principal, "prospects.list", None, format!("{} customers", list.len())).await?;
    ok(serde_json::json!({ "as_of": format_date(today()), "prospects": list }))
}
