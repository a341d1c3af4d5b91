//! Hearing points on the screens (issue 6 S2/K5/S3): the checklist on the karte's contact form
//! and the soft-facts panel (`KarteHearing`), the asked-rate report (`/supervisor/hearing`), the
//! prospect list (`/agent/prospects`) and the administration of the sets
//! (`/admin/hearing-points`). Conversions and rules are the API's (`crate::hearing`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kimochi_domain::hearing::*;
use kimochi_domain::{CustomerId, Role, ValidationError};

use super::i18n::{AdminStrings, HearingStrings, Lang};
use super::view::{Layout, short_time};
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;
use crate::error::AppError;
use crate::hearing::{
    AskedRateParams, HearingQuestionInput, HearingSetInput, SoftFactJson, asked_rate_window, prospects, set_error,
    today, window_times,
};

// ---------------------------------------------------------------------------------------------
// The karte: checklist and soft facts.

/// One question of the checklist as the form shows it.
pub struct ChecklistQuestion {
    pub id: i64,
    pub label: String,
    pub hint: String,
    pub kind: &'static str,
    pub options: Vec<String>,
    pub min: String,
    pub max: String,
    pub unit: String,
    pub max_chars: u32,
}

/// The set shown on the contact form.
pub struct Checklist {
    pub set_id: i64,
    pub name: String,
    pub questions: Vec<ChecklistQuestion>,
}

/// One soft fact on the karte.
pub struct FactRow {
    pub label: String,
    pub value: String,
    pub when: String,
}

/// What the karte shows of hearing points: the tenant's inbound default set as a checklist
/// (only to roles that log contacts) and the customer's latest soft facts.
pub struct KarteHearing {
    pub hs: &'static HearingStrings,
    pub checklist: Option<Checklist>,
    pub facts: Vec<FactRow>,
}

fn bound(value: Option<f64>) -> String {
    value.map(format_number).unwrap_or_default()
}

/// The checklist of a hearing set as the contact form shows it.
pub fn checklist_of(set: &HearingSet) -> Checklist {
    Checklist {
        set_id: set.id.0,
        name: set.name.clone(),
        questions: set
            .questions
            .iter()
            .map(|q| {
                let mut question = ChecklistQuestion {
                    id: q.id.0,
                    label: q.label.clone(),
                    hint: q.hint.clone(),
                    kind: q.kind.code(),
                    options: Vec::new(),
                    min: String::new(),
                    max: String::new(),
                    unit: String::new(),
                    max_chars: MAX_TEXT_ANSWER_CHARS,
                };
                match &q.kind {
                    AnswerKind::Choice { options } => question.options = options.clone(),
                    AnswerKind::Number { min, max, unit } => {
                        question.min = bound(*min);
                        question.max = bound(*max);
                        question.unit = unit.clone().unwrap_or_default();
                    }
                    AnswerKind::Text { max_chars } => question.max_chars = *max_chars,
                    AnswerKind::Date => {}
                }
                question
            })
            .collect(),
    }
}

impl KarteHearing {
    pub async fn load(state: &AppState, user: &PageUser, customer: CustomerId) -> Result<KarteHearing, PageError> {
        let tenant = user.principal.tenant_id;
        let checklist = if user.role().may_write_customers() {
            state.store.hearing_set_default_inbound(tenant).await.for_page(user)?.as_ref().map(checklist_of)
        } else {
            None
        };
        let facts = fact_rows(state, user, customer).await?;
        Ok(KarteHearing { hs: user.lang.hearing(), checklist, facts })
    }

    /// The call list's checklist: the campaign's own hearing set (none when it names none).
    pub fn for_call(user: &PageUser, set: Option<&HearingSet>) -> KarteHearing {
        KarteHearing { hs: user.lang.hearing(), checklist: set.map(checklist_of), facts: Vec::new() }
    }
}

async fn fact_rows(state: &AppState, user: &PageUser, customer: CustomerId) -> Result<Vec<FactRow>, PageError> {
    let facts = state.store.hearing_soft_facts(user.principal.tenant_id, customer).await.for_page(user)?;
    Ok(facts
        .iter()
        .map(|fact| {
            let json = SoftFactJson::new(fact, user.role());
            FactRow { label: json.label, value: json.display, when: short_time(&json.answered_at) }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "agent/soft_facts.html")]
struct SoftFactsPanel<'a> {
    h: &'a KarteHearing,
    oob: bool,
}

/// The soft-facts panel, as the karte includes it.
pub fn soft_facts_html(hearing: &KarteHearing, oob: bool) -> String {
    SoftFactsPanel { h: hearing, oob }.render().unwrap_or_else(|error| {
        tracing::error!(%error, "soft facts panel failed to render");
        String::new()
    })
}

/// After a contact was logged: the customer's soft facts again, swapped out of band into the
/// karte's panel beside the new history entry.
pub async fn soft_facts_oob(state: &AppState, user: &PageUser, customer: CustomerId) -> String {
    match fact_rows(state, user, customer).await {
        Ok(facts) => {
            let hearing = KarteHearing { hs: user.lang.hearing(), checklist: None, facts };
            soft_facts_html(&hearing, true)
        }
        Err(error) => {
            tracing::error!(code = error.error.code, "soft facts could not be read after a contact");
            String::new()
        }
    }
}

/// The checklist of a submitted contact form (`hearing_set`, `hq-{id}-asked`, `hq-{id}-value`):
/// every question of the set gets a line, asked or not; a value counts as asked.
pub async fn capture_from_form(
    state: &AppState,
    user: &PageUser,
    fields: &HashMap<String, String>,
) -> Result<Option<HearingCapture>, AppError> {
    let Some(set_text) = fields.get("hearing_set").map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let unknown = || AppError::from(kimochi_store::StoreError::UnknownReference { field: "hearing.set_id" });
    let set_id = set_text.parse::<i64>().map_err(|_| unknown())?;
    let set = match state.store.hearing_set_get(user.principal.tenant_id, HearingSetId(set_id)).await {
        Err(kimochi_store::StoreError::NotFound(_)) => return Err(unknown()),
        other => other?,
    };
    let mut answers = Vec::with_capacity(set.questions.len());
    for question in &set.questions {
        let value = fields.get(&format!("hq-{}-value", question.id)).map(String::as_str).unwrap_or("");
        let value = question.parse_answer(value).map_err(|error| hearing_error(user.lang, error))?;
        let asked = fields.contains_key(&format!("hq-{}-asked", question.id)) || value.is_some();
        answers.push(NewHearingAnswer { question_id: question.id, asked, value });
    }
    let capture = HearingCapture { set_id: set.id, answers };
    capture.validate(&set).map_err(|error| hearing_error(user.lang, error))?;
    Ok(Some(capture))
}

/// A refused answer, with the question named (the reason carries its label).
pub fn hearing_error(_lang: Lang, error: ValidationError) -> AppError {
    crate::hearing::hearing_invalid(error)
}

// ---------------------------------------------------------------------------------------------
// The asked-rate report.

pub struct RateRow {
    pub operator: String,
    pub question: String,
    pub shown: i64,
    pub asked: i64,
    pub asked_rate: String,
    pub answered: i64,
    pub answered_rate: String,
}

#[derive(Template)]
#[template(path = "supervisor/hearing.html")]
struct AskedRatesPage {
    l: Layout,
    h: &'static HearingStrings,
    from: String,
    to: String,
    rows: Vec<RateRow>,
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

/// `GET /supervisor/hearing?from=&to=`: asked and answered rates per operator and question.
pub async fn asked_rates_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<AskedRateParams>,
) -> Result<Response, PageError> {
    if user.role() == Role::Agent {
        return Err(user.error(AppError::forbidden()));
    }
    let h = user.lang.hearing();
    let (from, to) = asked_rate_window(&params, today()).map_err(|error| user.error(AppError::invalid(error)))?;
    let (start, end) = window_times(from, to);
    let rates = state.store.hearing_asked_rates(user.principal.tenant_id, start, end).await.for_page(&user)?;
    let rows = rates
        .iter()
        .map(|rate| RateRow {
            operator: rate.agent_name.clone().unwrap_or_else(|| h.unknown_operator.to_owned()),
            question: rate.question_label.clone(),
            shown: rate.shown,
            asked: rate.asked,
            asked_rate: percent(rate.asked_rate()),
            answered: rate.answered,
            answered_rate: percent(rate.answered_rate()),
        })
        .collect();
    let page = AskedRatesPage {
        l: user.layout(h.asked_rates_title),
        h,
        from: kimochi_domain::datetime::format_date(from),
        to: kimochi_domain::datetime::format_date(to),
        rows,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------------------
// The prospect list.

pub struct ProspectRowView {
    pub customer_id: i64,
    pub name: String,
    pub phone: String,
    pub score: u8,
    pub next_date: String,
    pub next_text: String,
    pub reasons: Vec<String>,
    pub facts: Vec<String>,
}

#[derive(Template)]
#[template(path = "agent/prospects.html")]
struct ProspectsPage {
    l: Layout,
    h: &'static HearingStrings,
    as_of: String,
    rows: Vec<ProspectRowView>,
}

/// Rows the page shows.
const PROSPECT_PAGE_ROWS: usize = 100;

/// `GET /agent/prospects`: the prioritised list for sales (masked for analysts like every list).
pub async fn prospects_page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    let h = user.lang.hearing();
    let rows =
        state.store.prospect_rows(user.principal.tenant_id, kimochi_store::MAX_PROSPECTS).await.for_page(&user)?;
    let today = today();
    let list = prospects(&rows, today, user.role(), PROSPECT_PAGE_ROWS);
    user.audit(&state, "prospects.list", None, format!("{} customers", list.len())).await?;
    let rows = list
        .into_iter()
        .map(|p| ProspectRowView {
            customer_id: p.customer.id,
            name: p.customer.name,
            phone: p.customer.phones.first().cloned().unwrap_or_default(),
            score: p.score,
            next_date: p.next_approach.date,
            next_text: p.next_approach.text,
            reasons: p.reasons.into_iter().map(|r| format!("{} ({:+})", r.text, r.points)).collect(),
            facts: p.soft_facts.into_iter().map(|f| format!("{}: {}", f.label, f.display)).collect(),
        })
        .collect();
    let page = ProspectsPage {
        l: user.layout(h.prospects_title),
        h,
        as_of: kimochi_domain::datetime::format_date(today),
        rows,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------------------
// Administration of the sets.

/// One question row of a set's form; blank rows let an admin add questions.
pub struct QuestionRow {
    pub index: usize,
    pub id: String,
    pub label: String,
    pub kind: &'static str,
    pub soft_attribute: String,
    pub options: String,
    pub min: String,
    pub max: String,
    pub unit: String,
    pub max_chars: String,
    pub hint: String,
    pub weight: String,
}

impl QuestionRow {
    fn blank(index: usize) -> QuestionRow {
        QuestionRow {
            index,
            id: String::new(),
            label: String::new(),
            kind: "choice",
            soft_attribute: String::new(),
            options: String::new(),
            min: String::new(),
            max: String::new(),
            unit: String::new(),
            max_chars: String::new(),
            hint: String::new(),
            weight: DEFAULT_WEIGHT.to_string(),
        }
    }

    fn of(index: usize, question: &HearingQuestion) -> QuestionRow {
        let mut row = QuestionRow {
            id: question.id.0.to_string(),
            label: question.label.clone(),
            kind: question.kind.code(),
            soft_attribute: question.soft_attribute.clone(),
            hint: question.hint.clone(),
            weight: question.weight.to_string(),
            ..QuestionRow::blank(index)
        };
        match &question.kind {
            AnswerKind::Choice { options } => row.options = options.join("、"),
            AnswerKind::Number { min, max, unit } => {
                row.min = bound(*min);
                row.max = bound(*max);
                row.unit = unit.clone().unwrap_or_default();
            }
            AnswerKind::Text { max_chars } => row.max_chars = max_chars.to_string(),
            AnswerKind::Date => {}
        }
        row
    }
}

/// A set's form: `id` is empty for the new-set form.
pub struct SetForm {
    pub id: String,
    pub name: String,
    pub description: String,
    pub default_inbound: bool,
    pub rows: Vec<QuestionRow>,
}

/// Blank question rows under every set's questions.
const BLANK_ROWS: usize = 3;

pub struct KindOpt {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "admin/hearing_points.html")]
struct HearingPointsPage {
    l: Layout,
    a: &'static AdminStrings,
    h: &'static HearingStrings,
    tabs: Vec<super::admin::Tab>,
    done: bool,
    sets: Vec<SetForm>,
    new_set: SetForm,
    kinds: Vec<KindOpt>,
}

/// `GET /admin/hearing-points`: every set as an editable form, and a form for a new one.
pub async fn admin_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(done): Query<super::admin::Done>,
) -> Result<Response, PageError> {
    super::admin::require_admin(&user)?;
    let (a, h) = (user.lang.admin(), user.lang.hearing());
    let sets = state.store.hearing_set_list(user.principal.tenant_id).await.for_page(&user)?;
    let sets = sets
        .iter()
        .map(|set| {
            let mut rows: Vec<QuestionRow> =
                set.questions.iter().enumerate().map(|(index, q)| QuestionRow::of(index, q)).collect();
            let next = rows.len();
            rows.extend((next..next + BLANK_ROWS).map(QuestionRow::blank));
            SetForm {
                id: set.id.0.to_string(),
                name: set.name.clone(),
                description: set.description.clone(),
                default_inbound: set.default_inbound,
                rows,
            }
        })
        .collect();
    let new_set = SetForm {
        id: String::new(),
        name: String::new(),
        description: String::new(),
        default_inbound: false,
        rows: (0..BLANK_ROWS).map(QuestionRow::blank).collect(),
    };
    let kinds = vec![
        KindOpt { code: "choice", label: h.kind_choice },
        KindOpt { code: "number", label: h.kind_number },
        KindOpt { code: "text", label: h.kind_text },
        KindOpt { code: "date", label: h.kind_date },
    ];
    let page = HearingPointsPage {
        l: user.layout(h.admin_title),
        a,
        h,
        tabs: super::admin::tabs(a, "/admin/hearing-points"),
        done: done.done.is_some(),
        sets,
        new_set,
        kinds,
    };
    Ok(render(&page))
}

/// Most question rows one form may post (a bound on hostile input).
const MAX_FORM_ROWS: usize = MAX_QUESTIONS + 10;

/// The set typed into a form, through the API's rules (`HearingSetInput`).
fn set_from_form(
    lang: Lang,
    fields: &HashMap<String, String>,
) -> Result<kimochi_domain::hearing::NewHearingSet, String> {
    let h = lang.hearing();
    let field = |name: &str| fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    let number = |name: &str, label: &str| -> Result<Option<f64>, String> {
        let text = kimochi_domain::normalize::normalize_text(&field(name)).replace(',', "");
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<f64>().map(Some).map_err(|_| format!("{label}{}", h.err_not_a_number))
    };
    let mut questions = Vec::new();
    for index in 0..MAX_FORM_ROWS {
        let key = |name: &str| format!("q-{index}-{name}");
        let label = field(&key("label"));
        let id = field(&key("id"));
        if label.is_empty() && id.is_empty() {
            continue;
        }
        let named = |what: &str| format!("{} {}「{label}」: {what}", h.question_n, index + 1);
        let id = if id.is_empty() { None } else { Some(id.parse::<i64>().map_err(|_| named("id"))?) };
        let options = field(&key("options"))
            .split(['、', ',', '，', '\n'])
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let max_chars = number(&key("max_chars"), h.max_chars).map_err(|e| named(&e))?;
        let weight = number(&key("weight"), h.weight).map_err(|e| named(&e))?;
        let min = number(&key("min"), h.min).map_err(|e| named(&e))?;
        let max = number(&key("max"), h.max).map_err(|e| named(&e))?;
        questions.push(HearingQuestionInput {
            id,
            label,
            kind: field(&key("kind")),
            options,
            min,
            max,
            unit: Some(field(&key("unit"))),
            max_chars: max_chars.map(|m| m.clamp(0.0, f64::from(u32::MAX)) as u32),
            soft_attribute: field(&key("soft_attribute")),
            hint: field(&key("hint")),
            weight: weight.map(|w| w.clamp(0.0, f64::from(u32::MAX)) as u32),
        });
    }
    let input = HearingSetInput {
        name: field("name"),
        description: field("description"),
        default_inbound: fields.contains_key("default_inbound"),
        questions,
    };
    input.into_new().map_err(|error| format!("{}: {} ({})", h.err_invalid, error.reason, error.field))
}

fn form_target(id: Option<i64>) -> String {
    match id {
        Some(id) => format!("#set-{id}-errors"),
        None => "#new-set-errors".to_owned(),
    }
}

fn app_message(lang: Lang, error: &AppError) -> String {
    match lang {
        Lang::Ja => error.message_ja.to_string(),
        Lang::En => error.message_en.to_string(),
    }
}

/// `POST /admin/hearing-points`: creates a set.
pub async fn admin_create(
    State(state): State<AppState>,
    user: PageUser,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    super::admin::require_admin(&user)?;
    let target = form_target(None);
    let set = match set_from_form(user.lang, &fields) {
        Ok(set) => set,
        Err(message) => return Ok(super::admin::refuse(&target, &message)),
    };
    let created = match state.store.hearing_set_create(user.principal.tenant_id, &set, crate::now()).await {
        Ok(created) => created,
        Err(error) => {
            let error = set_error(error);
            if error.status.is_client_error() {
                return Ok(super::admin::refuse(&target, &app_message(user.lang, &error)));
            }
            return Err(user.error(error));
        }
    };
    user.audit(&state, "admin.hearing_set.create", None, format!("hearing set {} {:?}", created.id.0, created.name))
        .await?;
    Ok(super::admin::saved("/admin/hearing-points"))
}

/// `POST /admin/hearing-points/{id}`: replaces a set's name, flags and questions.
pub async fn admin_update(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    super::admin::require_admin(&user)?;
    let id = HearingSetId(id.parse::<i64>().map_err(|_| user.error(AppError::not_found("hearing set")))?);
    state.store.hearing_set_get(user.principal.tenant_id, id).await.for_page(&user)?;
    let target = form_target(Some(id.0));
    let set = match set_from_form(user.lang, &fields) {
        Ok(set) => set,
        Err(message) => return Ok(super::admin::refuse(&target, &message)),
    };
    match state.store.hearing_set_update(user.principal.tenant_id, id, &set, crate::now()).await {
        Ok(_) => {}
        Err(error) => {
            let error = set_error(error);
            if error.status.is_client_error() && error.status != StatusCode::NOT_FOUND {
                return Ok(super::admin::refuse(&target, &app_message(user.lang, &error)));
            }
            return Err(user.error(error));
        }
    }
    user.audit(&state, "admin.hearing_set.update", None, format!("hearing set {} {:?}", id.0, set.name)).await?;
    Ok(super::admin::saved("/admin/hearing-points"))
}

/// `POST /admin/hearing-points/{id}/delete`: deletes a set nobody answered.
pub async fn admin_delete(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    super::admin::require_admin(&user)?;
    let id = HearingSetId(id.parse::<i64>().map_err(|_| user.error(AppError::not_found("hearing set")))?);
    let set = state.store.hearing_set_get(user.principal.tenant_id, id).await.for_page(&user)?;
    if let Err(error) = state.store.hearing_set_delete(user.principal.tenant_id, id).await {
        let error = set_error(error);
        if error.status == StatusCode::CONFLICT {
            return Ok(super::admin::refuse(&form_target(Some(id.0)), &app_message(user.lang, &error)));
        }
        return Err(user.error(error));
    }
    user.audit(&state, "admin.hearing_set.delete", None, format!("hearing set {} {:?}", id.0, set.name)).await?;
    Ok(super::admin::saved("/admin/hearing-points"))
}
