//! The target-list builder (`/analyst/targets`, issue 6 T2): rows of field / operator / value
//! with a NOT toggle each, matched all or any, a live count that htmx refreshes on every change,
//! errors beside the row at fault, saving, and the saved segments with their counts and exports.
//! The form never shows JSON: rows become a rule here and go through the same validation as the
//! API (`kimochi_domain::segment`), so the page and `POST /api/v1/segments/count` agree.
//! Form controls are never named after form properties (`remove`, `name`): a control named
//! `remove` hides `HTMLFormElement.remove()`, which htmx calls when it swaps the form.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kimochi_domain::hearing::{AnswerKind, HearingQuestion};
use kimochi_domain::segment::{
    Field, NewSegment, SegmentId, SegmentRule, SegmentRuleError, Subject, SubjectKind, ValueKind, Window,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::i18n::{Lang, TargetStrings};
use super::view::Layout;
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;

/// Rows the builder starts with, and at most.
const START_ROWS: usize = 3;
const MAX_ROWS: usize = 20;
/// Saved segments counted on the page (each count is one query).
const COUNTED_SEGMENTS: usize = 30;

#[derive(Debug, Clone)]
pub struct Choice {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone)]
pub struct FieldGroup {
    pub label: &'static str,
    pub options: Vec<Choice>,
}

/// One row of the builder as shown.
#[derive(Debug, Clone)]
pub struct RowView {
    pub index: usize,
    pub groups: Vec<FieldGroup>,
    pub has_field: bool,
    pub negate: bool,
    pub ops: Vec<Choice>,
    /// `bool`, `number`, `codes` or `text`.
    pub kind: &'static str,
    pub value: String,
    pub codes: Vec<Choice>,
    pub bool_true: bool,
    pub days: String,
    pub needs_days: bool,
    pub hint: &'static str,
    pub error: Option<String>,
    /// `none`, `hearing` (a question or attribute list) or `text` (a survey key or URL).
    pub subject_kind: &'static str,
    pub subject_label: &'static str,
    pub subject: String,
    pub subjects: Vec<Choice>,
}

/// The builder form (a fragment htmx swaps on every change).
#[derive(Template)]
#[template(path = "analyst/targets_builder.html")]
pub struct Builder {
    pub s: &'static TargetStrings,
    pub any: bool,
    pub rows: Vec<RowView>,
    pub count: Option<i64>,
    pub rule_error: Option<String>,
    pub segment_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub save_error: Option<String>,
    /// Whether any row has a field chosen.
    pub filled: bool,
}

#[derive(Debug, Clone)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub count: Option<i64>,
}

#[derive(Template)]
#[template(path = "analyst/targets.html")]
struct TargetsPage {
    l: Layout,
    s: &'static TargetStrings,
    builder: Builder,
    saved: Vec<SavedView>,
    saved_message: bool,
}

/// What one row holds as posted.
#[derive(Debug, Clone, Default)]
struct RowInput {
    field: String,
    op: String,
    values: Vec<String>,
    days: String,
    negate: bool,
    /// `q:<id>` or `a:<attribute>` for hearing fields, the key or URL text for behaviour.
    subject: String,
}

/// The whole form as posted.
#[derive(Debug, Clone, Default)]
struct BuilderInput {
    any: bool,
    rows: Vec<RowInput>,
    segment_id: Option<i64>,
    name: String,
    description: String,
    add: bool,
    remove: Option<usize>,
    save: bool,
}

impl BuilderInput {
    fn from_pairs(pairs: &[(String, String)]) -> BuilderInput {
        let mut input = BuilderInput::default();
        let row_count = pairs
            .iter()
            .find(|(k, _)| k == "rows")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(START_ROWS)
            .clamp(1, MAX_ROWS);
        input.rows = vec![RowInput::default(); row_count];
        for (key, value) in pairs {
            match key.as_str() {
                "mode" => input.any = value == "any",
                "segment_id" => input.segment_id = value.parse().ok(),
                "segment_name" => input.name = value.clone(),
                "segment_description" => input.description = value.clone(),
                "add" => input.add = true,
                "drop_row" => input.remove = value.parse().ok(),
                "save" => input.save = true,
                _ => {
                    let Some((name, index)) = key.rsplit_once('_') else { continue };
                    let Some(row) = index.parse::<usize>().ok().and_then(|i| input.rows.get_mut(i)) else { continue };
                    match name {
                        "field" => row.field = value.clone(),
                        "op" => row.op = value.clone(),
                        "value" => row.values.push(value.clone()),
                        "days" => row.days = value.clone(),
                        "subject" => row.subject = value.clone(),
                        "not" => row.negate = true,
                        _ => {}
                    }
                }
            }
        }
        if let Some(remove) = input.remove
            && remove < input.rows.len()
        {
            input.rows.remove(remove);
            if input.rows.is_empty() {
                input.rows.push(RowInput::default());
            }
        }
        if input.add && input.rows.len() < MAX_ROWS {
            input.rows.push(RowInput::default());
        }
        input
    }

    /// The rows of a saved rule, when it is one group of (possibly negated) conditions; deeper
    /// rules are counted and exported but shown as their JSON only through the API.
    fn from_rule(rule: &SegmentRule) -> Option<BuilderInput> {
        let (any, rules) = match rule {
            SegmentRule::All(rules) => (false, rules.as_slice()),
            SegmentRule::Any(rules) => (true, rules.as_slice()),
            single => (false, std::slice::from_ref(single)),
        };
        let mut rows = Vec::new();
        for rule in rules {
            let (negate, inner) = match rule {
                SegmentRule::Not(inner) => (true, inner.as_ref()),
                other => (false, other),
            };
            let SegmentRule::Condition(condition) = inner else { return None };
            let json = inner.to_json();
            let values = match &json["value"] {
                Value::Array(items) => {
                    let texts: Vec<String> =
                        items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect();
                    match condition.field.spec().kind {
                        ValueKind::Codes(_) => texts,
                        _ if condition.field == Field::HearingChoice => texts,
                        _ => vec![texts.join(", ")],
                    }
                }
                Value::Bool(b) => vec![b.to_string()],
                other => vec![other.to_string()],
            };
            rows.push(RowInput {
                field: condition.field.code().to_owned(),
                op: condition.op.code().to_owned(),
                values,
                days: condition.days.map(|d| d.to_string()).unwrap_or_default(),
                negate,
                subject: match &condition.subject {
                    Some(Subject::Question(id)) => format!("q:{id}"),
                    Some(Subject::Attribute(attribute)) => format!("a:{attribute}"),
                    Some(Subject::SurveyKey(text) | Subject::UrlContains(text)) => text.clone(),
                    None => String::new(),
                },
            });
        }
        Some(BuilderInput { any, rows, ..BuilderInput::default() })
    }

    /// The rule of the filled rows, and which row each condition came from.
    fn rule(&self) -> Option<(Value, Vec<usize>)> {
        let mut conditions = Vec::new();
        let mut origin = Vec::new();
        for (index, row) in self.rows.iter().enumerate() {
            let Some(field) = Field::from_code(&row.field) else { continue };
            let spec = field.spec();
            let op = spec.ops.iter().find(|op| op.code() == row.op).unwrap_or(&spec.ops[0]).code();
            let first =
                row.values.first().map(|v| kimochi_domain::normalize::normalize_text(v.trim())).unwrap_or_default();
            let value = match spec.kind {
                ValueKind::Bool => Value::Bool(first != "false"),
                ValueKind::Integer { .. } | ValueKind::Number { .. } => {
                    if first.is_empty() {
                        Value::Null
                    } else if let Ok(i) = first.parse::<i64>() {
                        json!(i)
                    } else if let Ok(n) = first.parse::<f64>() {
                        json!(n)
                    } else {
                        Value::String(first)
                    }
                }
                ValueKind::Codes(_) => Value::Array(row.values.iter().map(|v| Value::String(v.clone())).collect()),
                ValueKind::Texts if field == Field::HearingChoice => {
                    Value::Array(row.values.iter().map(|v| Value::String(v.clone())).collect())
                }
                ValueKind::TextsOrNumber if spec.ops.iter().any(|op| op.code() == row.op && op.code() == "in") => {
                    Value::Array(
                        first
                            .split([',', '、'])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| Value::String(s.to_owned()))
                            .collect(),
                    )
                }
                ValueKind::TextsOrNumber => match first.parse::<f64>() {
                    Ok(n) if !first.is_empty() => json!(n),
                    _ if first.is_empty() => Value::Null,
                    _ => Value::String(first),
                },
                ValueKind::Texts | ValueKind::Products | ValueKind::RfmCells => {
                    let items = first
                        .split([',', '、', ' '])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| match (spec.kind, s.parse::<i64>()) {
                            (ValueKind::Texts, _) | (_, Err(_)) => Value::String(s.to_owned()),
                            (_, Ok(i)) => json!(i),
                        })
                        .collect();
                    Value::Array(items)
                }
            };
            let mut condition = json!({"field": field.code(), "op": op, "value": value});
            let subject = row.subject.trim();
            match field.subject_kind() {
                SubjectKind::None => {}
                SubjectKind::Hearing => {
                    if let Some(id) = subject.strip_prefix("q:") {
                        condition["question"] = id.parse::<i64>().map_or(Value::String(id.to_owned()), |id| json!(id));
                    } else if let Some(attribute) = subject.strip_prefix("a:") {
                        condition["attribute"] = Value::String(attribute.to_owned());
                    }
                }
                SubjectKind::SurveyKey if !subject.is_empty() => condition["key"] = Value::String(subject.to_owned()),
                SubjectKind::Url if !subject.is_empty() => condition["url"] = Value::String(subject.to_owned()),
                SubjectKind::SurveyKey | SubjectKind::Url => {}
            }
            if spec.window != Window::None && !row.days.trim().is_empty() {
                let days = kimochi_domain::normalize::normalize_text(row.days.trim());
                condition["days"] = days.parse::<i64>().map_or(Value::String(days), |d| json!(d));
            }
            conditions.push(if row.negate { json!({"not": condition}) } else { condition });
            origin.push(index);
        }
        if conditions.is_empty() {
            return None;
        }
        Some((json!({ if self.any { "any" } else { "all" }: conditions }), origin))
    }
}

/// A refused rule's message, and the builder row it belongs to (`None`: the whole rule).
fn row_of_error(error: &SegmentRuleError, any: bool, origin: &[usize]) -> Option<usize> {
    let prefix = if any { "any[" } else { "all[" };
    let rest = error.path.strip_prefix(prefix)?;
    let index: usize = rest.split(']').next()?.parse().ok()?;
    origin.get(index).copied()
}

fn error_text(lang: Lang, error: &SegmentRuleError) -> String {
    match lang {
        Lang::Ja => format!("{}（{}）", error.problem.label_ja(), error.reason),
        Lang::En => error.reason.clone(),
    }
}

fn row_view(
    lang: Lang,
    s: &'static TargetStrings,
    index: usize,
    row: &RowInput,
    questions: &[(String, HearingQuestion)],
) -> RowView {
    let field = Field::from_code(&row.field);
    let groups = field_groups(lang, row.field.as_str());
    let Some(field) = field else {
        return RowView {
            index,
            groups,
            has_field: false,
            negate: row.negate,
            ops: Vec::new(),
            kind: "none",
            value: String::new(),
            codes: Vec::new(),
            bool_true: true,
            days: String::new(),
            needs_days: false,
            hint: "",
            error: None,
            subject_kind: "none",
            subject_label: "",
            subject: String::new(),
            subjects: Vec::new(),
        };
    };
    let spec = field.spec();
    let chosen_op = spec.ops.iter().find(|op| op.code() == row.op).unwrap_or(&spec.ops[0]);
    let ops = spec
        .ops
        .iter()
        .map(|op| Choice {
            code: op.code().to_owned(),
            label: match lang {
                Lang::Ja => op.label_ja().to_owned(),
                Lang::En => op.code().to_owned(),
            },
            selected: op == chosen_op,
        })
        .collect();
    let (kind, codes, hint) = match spec.kind {
        ValueKind::Bool => ("bool", Vec::new(), ""),
        ValueKind::Integer { .. } if field == Field::HearingDaysUntil => ("number", Vec::new(), s.hint_days_until),
        ValueKind::Integer { .. } | ValueKind::Number { .. } => ("number", Vec::new(), ""),
        ValueKind::Codes(codes) => (
            "codes",
            codes()
                .into_iter()
                .map(|(code, ja)| Choice {
                    code: code.to_owned(),
                    label: match lang {
                        Lang::Ja => ja.to_owned(),
                        Lang::En => code.to_owned(),
                    },
                    selected: row.values.iter().any(|v| v == code),
                })
                .collect(),
            "",
        ),
        ValueKind::Texts if field == Field::HearingChoice => {
            ("codes", hearing_options(questions, &row.subject, &row.values), "")
        }
        ValueKind::Texts => ("text", Vec::new(), s.hint_texts),
        ValueKind::TextsOrNumber => ("text", Vec::new(), ""),
        ValueKind::Products => ("text", Vec::new(), s.hint_products),
        ValueKind::RfmCells => ("text", Vec::new(), s.hint_cells),
    };
    RowView {
        index,
        groups,
        has_field: true,
        negate: row.negate,
        ops,
        kind,
        value: if kind == "codes" { String::new() } else { row.values.first().cloned().unwrap_or_default() },
        codes,
        bool_true: row.values.first().is_none_or(|v| v != "false"),
        days: row.days.clone(),
        needs_days: spec.window != Window::None,
        hint,
        error: None,
        subject_kind: match field.subject_kind() {
            SubjectKind::None => "none",
            SubjectKind::Hearing => "hearing",
            SubjectKind::SurveyKey | SubjectKind::Url => "text",
        },
        subject_label: match field.subject_kind() {
            SubjectKind::Url => s.url_contains,
            SubjectKind::SurveyKey => s.survey_key,
            _ => s.question,
        },
        subject: row.subject.clone(),
        subjects: if field.subject_kind() == SubjectKind::Hearing {
            hearing_subjects(s, questions, &row.subject, field)
        } else {
            Vec::new()
        },
    }
}

/// The questions (and soft attributes) a hearing row may be about: for a choice, number or date
/// test only those of that kind. `questions` pairs each with its set's name.
fn hearing_subjects(
    s: &'static TargetStrings,
    questions: &[(String, HearingQuestion)],
    selected: &str,
    field: Field,
) -> Vec<Choice> {
    let fits = |question: &HearingQuestion| match field {
        Field::HearingChoice => matches!(question.kind, AnswerKind::Choice { .. }),
        Field::HearingNumber => matches!(question.kind, AnswerKind::Number { .. }),
        Field::HearingDaysUntil => question.kind == AnswerKind::Date,
        _ => true,
    };
    let mut choices: Vec<Choice> = questions
        .iter()
        .filter(|(_, q)| fits(q))
        .map(|(set, q)| {
            let code = format!("q:{}", q.id.0);
            Choice { selected: code == selected, code, label: format!("{set} / {}", q.label) }
        })
        .collect();
    let mut attributes: Vec<&str> =
        questions.iter().filter(|(_, q)| fits(q)).map(|(_, q)| q.soft_attribute.as_str()).collect();
    attributes.sort_unstable();
    attributes.dedup();
    for attribute in attributes {
        let code = format!("a:{attribute}");
        choices.push(Choice {
            selected: code == selected,
            code,
            label: format!("{}: {attribute}", s.attribute_prefix),
        });
    }
    choices
}

/// The options of the chosen choice question, or of every choice question of the chosen
/// attribute, as checkboxes.
fn hearing_options(questions: &[(String, HearingQuestion)], subject: &str, values: &[String]) -> Vec<Choice> {
    let mut options: Vec<String> = Vec::new();
    for (_, question) in questions {
        let chosen = match (subject.strip_prefix("q:"), subject.strip_prefix("a:")) {
            (Some(id), _) => id == question.id.0.to_string(),
            (_, Some(attribute)) => attribute == question.soft_attribute,
            _ => false,
        };
        if let (true, AnswerKind::Choice { options: list }) = (chosen, &question.kind) {
            for option in list {
                if !options.contains(option) {
                    options.push(option.clone());
                }
            }
        }
    }
    options
        .into_iter()
        .map(|option| Choice { selected: values.contains(&option), label: option.clone(), code: option })
        .collect()
}

fn field_groups(lang: Lang, selected: &str) -> Vec<FieldGroup> {
    let mut groups: Vec<FieldGroup> = Vec::new();
    for field in Field::ALL {
        let spec = field.spec();
        let (group, label) = match lang {
            Lang::Ja => (spec.group_ja, spec.label_ja),
            Lang::En => (spec.group_en, spec.label_en),
        };
        let choice =
            Choice { code: field.code().to_owned(), label: label.to_owned(), selected: field.code() == selected };
        match groups.iter_mut().find(|g| g.label == group) {
            Some(existing) => existing.options.push(choice),
            None => groups.push(FieldGroup { label: group, options: vec![choice] }),
        }
    }
    groups
}

/// Builds the view of a form, counting its rule when it is valid.
async fn builder(state: &AppState, user: &PageUser, input: &BuilderInput) -> Result<Builder, PageError> {
    let s = user.lang.targets();
    // The tenant's hearing questions, only when a row tests hearing points.
    let mut questions: Vec<(String, HearingQuestion)> = Vec::new();
    if input
        .rows
        .iter()
        .any(|row| Field::from_code(&row.field).is_some_and(|f| f.subject_kind() == SubjectKind::Hearing))
    {
        for set in state.store.hearing_set_list(user.principal.tenant_id).await.for_page(user)? {
            questions.extend(set.questions.into_iter().map(|q| (set.name.clone(), q)));
        }
    }
    let mut rows: Vec<RowView> =
        input.rows.iter().enumerate().map(|(i, row)| row_view(user.lang, s, i, row, &questions)).collect();
    let mut count = None;
    let mut rule_error = None;
    if let Some((value, origin)) = input.rule() {
        let parsed = SegmentRule::from_json(&value);
        let counted = match parsed {
            Ok(rule) => state.store.segment_count(user.principal.tenant_id, &rule, crate::now()).await.map_err(Some),
            Err(error) => Err(Some(kimochi_store::StoreError::InvalidRule(error))),
        };
        match counted {
            Ok(n) => count = Some(n),
            Err(Some(kimochi_store::StoreError::InvalidRule(error))) => {
                let message = error_text(user.lang, &error);
                match row_of_error(&error, input.any, &origin).and_then(|i| rows.get_mut(i)) {
                    Some(row) => row.error = Some(message),
                    None => rule_error = Some(message),
                }
            }
            Err(other) => return Err(user.error(other.map_or_else(crate::error::AppError::internal, Into::into))),
        }
    }
    Ok(Builder {
        s,
        any: input.any,
        rows,
        count,
        rule_error,
        segment_id: input.segment_id,
        name: input.name.clone(),
        description: input.description.clone(),
        save_error: None,
        filled: input.rows.iter().any(|row| Field::from_code(&row.field).is_some()),
    })
}

#[derive(Debug, Deserialize)]
pub struct TargetsParams {
    segment: Option<i64>,
    saved: Option<i64>,
}

/// `GET /analyst/targets`: the builder (empty, or filled from `?segment=`) and the saved list.
pub async fn targets_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<TargetsParams>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let s = user.lang.targets();
    let tenant = user.principal.tenant_id;
    let mut input = BuilderInput { rows: vec![RowInput::default(); START_ROWS], ..BuilderInput::default() };
    let mut loaded_error = None;
    if let Some(id) = params.segment {
        let segment = state.store.segment_get(tenant, SegmentId(id)).await.for_page(&user)?;
        match BuilderInput::from_rule(&segment.rule) {
            Some(from_rule) => input = from_rule,
            None => loaded_error = Some(s.too_deep.to_owned()),
        }
        input.segment_id = Some(id);
        input.name = segment.name;
        input.description = segment.description;
    }
    let mut builder = builder(&state, &user, &input).await?;
    if loaded_error.is_some() {
        builder.rule_error = loaded_error;
    }
    let segments = state.store.segment_list(tenant).await.for_page(&user)?;
    let mut saved = Vec::with_capacity(segments.len());
    for (index, segment) in segments.into_iter().enumerate() {
        let count = if index < COUNTED_SEGMENTS {
            Some(state.store.segment_count(tenant, &segment.rule, crate::now()).await.for_page(&user)?)
        } else {
            None
        };
        saved.push(SavedView { id: segment.id.0, name: segment.name, description: segment.description, count });
    }
    let page = TargetsPage { l: user.layout(s.title), s, builder, saved, saved_message: params.saved.is_some() };
    Ok(render(&page))
}

/// `POST /analyst/targets/builder`: the builder again after a change (count, errors), or after
/// "save" a redirect to the page that lists the saved segment.
pub async fn targets_builder(
    State(state): State<AppState>,
    user: PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    if pairs.len() > 2_000 {
        return Err(user.error(crate::error::AppError::bad_request("request.too_large", "too many form fields")));
    }
    let input = BuilderInput::from_pairs(&pairs);
    let mut view = builder(&state, &user, &input).await?;
    if !input.save {
        return Ok(render(&view));
    }
    let s = view.s;
    let rule = match input.rule().map(|(value, _)| SegmentRule::from_json(&value)) {
        Some(Ok(rule)) if view.rule_error.is_none() && view.rows.iter().all(|r| r.error.is_none()) => rule,
        None => {
            view.save_error = Some(s.need_condition.to_owned());
            return Ok(render(&view));
        }
        _ => {
            view.save_error = Some(s.fix_first.to_owned());
            return Ok(render(&view));
        }
    };
    let segment = NewSegment { name: input.name.clone(), description: input.description.clone(), rule };
    let tenant = user.principal.tenant_id;
    let result = match input.segment_id {
        Some(id) => state.store.segment_update(tenant, SegmentId(id), &segment, crate::now()).await,
        None => state.store.segment_create(tenant, &segment, user.principal.user_id, crate::now()).await,
    };
    match result {
        Ok(saved) => {
            Ok((StatusCode::OK, [("hx-redirect", format!("/analyst/targets?saved={}", saved.id.0))]).into_response())
        }
        Err(kimochi_store::StoreError::Conflict(_)) => {
            view.save_error = Some(s.name_taken.to_owned());
            Ok(render(&view))
        }
        Err(kimochi_store::StoreError::Invalid(error)) => {
            view.save_error = Some(match user.lang {
                Lang::Ja => format!("{}（{}）", s.name_invalid, error.reason),
                Lang::En => error.to_string(),
            });
            Ok(render(&view))
        }
        Err(other) => Err(user.error(other.into())),
    }
}

/// `POST /analyst/targets/{id}/delete`.
pub async fn targets_delete(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    state.store.segment_delete(user.principal.tenant_id, SegmentId(id)).await.for_page(&user)?;
    Ok((StatusCode::OK, [("hx-redirect", "/analyst/targets")]).into_response())
}
