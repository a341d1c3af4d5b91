//! Segments at the API (issue 6, T2): the live count of a rule, saved segments, their members
//! (masked per role) and their export as CSV or xlsx (the same sinks and masking as the RFM
//! cell export). Analysts, supervisors and administrators build, count and save segments;
//! operators do not. Rules are validated by `kimochi_domain::segment`; a bad rule answers 422
//! with `field` set to the path of the bad node (`all[2].value`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kimochi_domain::segment::{
    Field, NewSegment, Segment, SegmentId, SegmentRule, SegmentRuleError, SubjectKind, ValueKind, Window,
};
use kimochi_domain::{CustomerId, Role};
use kimochi_io::export::Cell;
use kimochi_io::{CsvSink, XlsxSink};
use kimochi_store::CustomerSummary;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::json::CustomerSummaryJson;

type ApiResult = Result<Response, AppError>;

/// Members per page of `GET /segments/{id}/members`, at most.
pub const MEMBERS_PAGE_MAX: u32 = 500;
/// Rows fetched per store call while exporting.
const EXPORT_PAGE: u32 = 2_000;

/// A refused rule: 422 with the bad node's path as the field and the reason in both languages.
pub fn rule_error(error: &SegmentRuleError) -> AppError {
    let path = if error.path.is_empty() { "rule".to_owned() } else { error.path.clone() };
    AppError {
        field: Some(path.clone().into()),
        details: Some(Box::new(serde_json::json!({ "path": path, "reason": error.reason }))),
        ..AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "segment.invalid_rule",
            format!("{}（{path}）。", error.problem.label_ja()),
            error.to_string(),
        )
    }
}

/// Analysts, supervisors and administrators.
pub fn require_segments(principal: &Principal) -> Result<(), AppError> {
    match principal.role {
        Role::Analyst | Role::Supervisor | Role::Admin => Ok(()),
        Role::Agent => Err(AppError::forbidden()),
    }
}

/// Parses a rule's JSON form, answering the web's error.
pub fn parse_rule(value: &Value) -> Result<SegmentRule, AppError> {
    SegmentRule::from_json(value).map_err(|error| rule_error(&error))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentCountInput {
    pub rule: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub rule: Value,
}

impl SegmentInput {
    fn into_new(self) -> Result<NewSegment, AppError> {
        Ok(NewSegment { name: self.name, description: self.description, rule: parse_rule(&self.rule)? })
    }
}

#[derive(Debug, Serialize)]
pub struct SegmentJson {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub rule: Value,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Segment> for SegmentJson {
    fn from(segment: &Segment) -> Self {
        SegmentJson {
            id: segment.id.0,
            name: segment.name.clone(),
            description: segment.description.clone(),
            rule: segment.rule.to_json(),
            created_by: segment.created_by.map(|u| u.0),
            created_at: kimochi_domain::datetime::format_jst(segment.created_at),
            updated_at: kimochi_domain::datetime::format_jst(segment.updated_at),
        }
    }
}

/// A saved name that is taken answers 409 on `name`.
fn name_conflict(error: kimochi_store::StoreError) -> AppError {
    match error {
        kimochi_store::StoreError::Conflict(_) => AppError {
            field: Some("name".into()),
            ..AppError::new(
                StatusCode::CONFLICT,
                "segment.name_taken",
                "同じ名前のセグメントが既にあります。",
                "a segment with this name already exists",
            )
        },
        other => other.into(),
    }
}

fn ok<T: Serialize>(value: T) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

/// `GET /api/v1/segments/fields`: what a rule may test, for builders. `subject` lists the keys
/// a condition on the field must give one of (`question` or `attribute` for hearing points,
/// `key` for survey answers, `url` for web visits); hearing questions are the tenant's own
/// (`GET /api/v1/hearing-sets`).
pub async fn segment_fields_get(principal: Principal) -> ApiResult {
    require_segments(&principal)?;
    let fields: Vec<Value> = Field::ALL
        .iter()
        .map(|field| {
            let spec = field.spec();
            let (kind, codes): (&str, Vec<Value>) = match spec.kind {
                ValueKind::Bool => ("bool", Vec::new()),
                ValueKind::Integer { .. } => ("integer", Vec::new()),
                ValueKind::Number { .. } => ("number", Vec::new()),
                ValueKind::Codes(codes) => (
                    "codes",
                    codes().into_iter().map(|(code, ja)| serde_json::json!({"code": code, "label": ja})).collect(),
                ),
                ValueKind::Texts => ("texts", Vec::new()),
                ValueKind::Products => ("product_ids", Vec::new()),
                ValueKind::RfmCells => ("rfm_cells", Vec::new()),
                ValueKind::TextsOrNumber => ("texts_or_number", Vec::new()),
            };
            let subject = match field.subject_kind() {
                SubjectKind::None => Vec::new(),
                SubjectKind::Hearing => vec!["question", "attribute"],
                SubjectKind::SurveyKey => vec!["key"],
                SubjectKind::Url => vec!["url"],
            };
            serde_json::json!({
                "field": field.code(),
                "group": spec.group_ja,
                "label": spec.label_ja,
                "label_en": spec.label_en,
                "type": kind,
                "ops": spec.ops.iter().map(|op| op.code()).collect::<Vec<_>>(),
                "days": match spec.window { Window::None => "none", Window::Required => "required", Window::Optional => "optional" },
                "codes": codes,
                "subject": subject,
            })
        })
        .collect();
    ok(serde_json::json!({ "fields": fields }))
}

/// `POST /api/v1/segments/count`: how many customers a rule selects now (the builder's live
/// count). Counts are not personal data.
pub async fn segment_count_post(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<SegmentCountInput>,
) -> ApiResult {
    require_segments(&principal)?;
    let rule = parse_rule(&input.rule)?;
    let count = state.store.segment_count(principal.tenant_id, &rule, crate::now()).await?;
    ok(serde_json::json!({ "count": count, "rule": rule.to_json() }))
}

pub async fn segment_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    require_segments(&principal)?;
    let segments = state.store.segment_list(principal.tenant_id).await?;
    ok(serde_json::json!({ "segments": segments.iter().map(SegmentJson::from).collect::<Vec<_>>() }))
}

pub async fn segment_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<SegmentInput>,
) -> ApiResult {
    require_segments(&principal)?;
    let segment = input.into_new()?;
    let saved = state
        .store
        .segment_create(principal.tenant_id, &segment, principal.user_id, crate::now())
        .await
        .map_err(name_conflict)?;
    Ok((StatusCode::CREATED, axum::Json(SegmentJson::from(&saved))).into_response())
}

/// Reads the caller's segment first, so another tenant's id is 404 whatever the role.
async fn own_segment(state: &AppState, principal: &Principal, id: i64) -> Result<Segment, AppError> {
    let segment = state.store.segment_get(principal.tenant_id, SegmentId(id)).await?;
    require_segments(principal)?;
    Ok(segment)
}

pub async fn segment_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let segment = own_segment(&state, &principal, id).await?;
    ok(SegmentJson::from(&segment))
}

pub async fn segment_update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<SegmentInput>,
) -> ApiResult {
    own_segment(&state, &principal, id).await?;
    let segment = input.into_new()?;
    let saved = state
        .store
        .segment_update(principal.tenant_id, SegmentId(id), &segment, crate::now())
        .await
        .map_err(name_conflict)?;
    ok(SegmentJson::from(&saved))
}

pub async fn segment_delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    own_segment(&state, &principal, id).await?;
    state.store.segment_delete(principal.tenant_id, SegmentId(id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
pub struct MembersParams {
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/segments/{id}/members`: a page of the segment's customers in id order, masked
/// for roles without personal data; `next_after` continues the list.
pub async fn segment_members_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<MembersParams>,
) -> ApiResult {
    let segment = own_segment(&state, &principal, id).await?;
    let limit = params.limit.unwrap_or(100).clamp(1, MEMBERS_PAGE_MAX);
    let page = state
        .store
        .segment_member_summaries(principal.tenant_id, &segment.rule, crate::now(), params.after.map(CustomerId), limit)
        .await?;
    audit(&state, &principal, "segment.members", format!("segment {id}: {} rows", page.len())).await?;
    let next_after = (page.len() == limit as usize).then(|| page.last().map(|s| s.id.0)).flatten();
    ok(serde_json::json!({
        "customers": page.iter().map(|s| CustomerSummaryJson::new(s, principal.role)).collect::<Vec<_>>(),
        "next_after": next_after,
    }))
}

async fn audit(state: &AppState, principal: &Principal, action: &str, detail: String) -> Result<(), AppError> {
    let entry = kimochi_domain::AuditEntry {
        at: crate::now(),
        actor: principal.actor,
        action: action.to_owned(),
        customer_id: None,
        detail,
    };
    state.audit.record(principal.tenant_id, entry).await
}

/// Columns of the segment export.
pub const EXPORT_COLUMNS: &[&str] =
    &["顧客ID", "顧客番号", "氏名", "カナ", "電話番号", "メールアドレス", "都道府県", "生年", "最終接触日時"];

fn export_row(summary: &CustomerSummary, role: Role) -> Vec<Cell> {
    let json = CustomerSummaryJson::new(summary, role);
    let text = |value: Option<String>| value.map_or(Cell::Empty, Cell::Text);
    vec![
        Cell::Integer(json.id),
        text(json.external_id),
        Cell::Text(json.name),
        text(json.kana),
        Cell::Text(json.phones.join(" ")),
        Cell::Text(json.emails.join(" ")),
        text(json.prefecture),
        json.birth_year.map_or(Cell::Empty, |y| Cell::Integer(i64::from(y))),
        text(json.last_contact_at),
    ]
}

/// Every member of a segment, page by page, written to `write`; the number of rows.
pub async fn export_segment(
    state: &AppState,
    principal: &Principal,
    rule: &SegmentRule,
    mut write: impl FnMut(Vec<Cell>) -> Result<(), kimochi_io::ExportError>,
) -> Result<usize, AppError> {
    let as_of = crate::now();
    let mut after = None;
    let mut rows = 0;
    loop {
        let page = state.store.segment_member_summaries(principal.tenant_id, rule, as_of, after, EXPORT_PAGE).await?;
        for summary in &page {
            write(export_row(summary, principal.role)).map_err(|_| AppError::internal())?;
        }
        rows += page.len();
        match page.last() {
            Some(summary) if page.len() == EXPORT_PAGE as usize => after = Some(summary.id),
            _ => return Ok(rows),
        }
    }
}

pub fn attachment(content_type: &'static str, filename: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/v1/segments/{id}/export.csv`: UTF-8 with BOM, as Excel on Japanese Windows reads it.
pub async fn segment_export_csv(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    let segment = own_segment(&state, &principal, id).await?;
    let mut sink = CsvSink::new(Vec::new(), EXPORT_COLUMNS).map_err(|_| AppError::internal())?;
    let rows = export_segment(&state, &principal, &segment.rule, |row| sink.write_row(&row)).await?;
    let bytes = sink.finish().map_err(|_| AppError::internal())?;
    audit(&state, &principal, "segment.export", format!("segment {id}: {rows} rows, csv")).await?;
    Ok(attachment("text/csv; charset=utf-8", format!("segment-{id}.csv"), bytes))
}

/// `GET /api/v1/segments/{id}/export.xlsx`.
pub async fn segment_export_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    let segment = own_segment(&state, &principal, id).await?;
    let mut sink = XlsxSink::new(&format!("segment {id}"), EXPORT_COLUMNS).map_err(|_| AppError::internal())?;
    let rows = export_segment(&state, &principal, &segment.rule, |row| sink.write_row(&row)).await?;
    let bytes = sink.finish().map_err(|_| AppError::internal())?;
    audit(&state, &principal, "segment.export", format!("segment {id}: {rows} rows, xlsx")).await?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("segment-{id}.xlsx"),
        bytes,
    ))
}
