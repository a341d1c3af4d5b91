//! `POST /api/v1/imports/events?kind=survey|web|email[&dry_run=true][&skip_invalid=true]`:
//! behavioural data (issue 6, T1) uploaded as the request body — CSV (UTF-8 or Shift_JIS,
//! Japanese or English headers) or JSON lines, at most 1 MiB per request — with the same rules
//! as `kimochi import events`: all or nothing unless `skip_invalid`, every bad row reported with
//! its line and column. Admins only: rows name customers by email and phone, and the problems
//! quote them back.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kimochi_domain::behavior::EventKind;
use kimochi_domain::import::{ImportMode, ImportOptions, OnInvalid};
use kimochi_domain::{AuditEntry, ValidationError};
use kimochi_store::StoreError;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::ApiQuery;

#[derive(Debug, Deserialize)]
pub struct EventImportParams {
    kind: String,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    skip_invalid: bool,
}

pub async fn imports_events_post(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<EventImportParams>,
    body: Bytes,
) -> Result<Response, AppError> {
    principal.require_admin()?;
    let kind = EventKind::from_code(&params.kind)
        .ok_or_else(|| AppError::invalid(ValidationError::new("kind", &params.kind, "must be survey, web or email")))?;
    let file_error = |error: kimochi_io::FileError| {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "import.file", "ファイルを読み込めません。", error.to_string())
    };
    let decoded = kimochi_io::decode(&body, kimochi_io::Encoding::Auto).map_err(file_error)?;
    let parsed = kimochi_io::parse_events(kind, &decoded.text).map_err(file_error)?;
    let options = ImportOptions {
        on_invalid: if params.skip_invalid { OnInvalid::Skip } else { OnInvalid::Reject },
        mode: if params.dry_run { ImportMode::DryRun } else { ImportMode::Commit },
    };
    let tenant = principal.tenant_id;
    if !parsed.problems.is_empty() && !params.skip_invalid {
        // Name every bad row at once: the cells refused here and the customers not found.
        let check = ImportOptions { on_invalid: OnInvalid::Skip, mode: ImportMode::DryRun };
        let mut problems = parsed.problems.clone();
        problems.extend(state.store.import_events(tenant, &parsed.rows, check).await?.problems);
        problems.sort_by_key(|p| p.line);
        return Err(StoreError::ImportRejected(problems).into());
    }
    let mut report = state.store.import_events(tenant, &parsed.rows, options).await?;
    report.skipped += parsed.problems.iter().map(|p| p.line).collect::<std::collections::BTreeSet<_>>().len() as u64;
    let mut problems = parsed.problems;
    problems.extend(report.problems);
    problems.sort_by_key(|p| p.line);
    if !params.dry_run {
        let entry = AuditEntry {
            at: crate::now(),
            actor: principal.actor,
            action: "events.import".to_owned(),
            customer_id: None,
            detail: format!("{}: {} inserted, {} skipped", kind.code(), report.inserted, report.skipped),
        };
        state.audit.record(tenant, entry).await?;
    }
    Ok(Json(serde_json::json!({
        "kind": kind.code(),
        "dry_run": params.dry_run,
        "inserted": report.inserted,
        "skipped": report.skipped,
        "problems": problems.iter().map(|p| serde_json::json!({"line": p.line, "column": p.column, "value": p.value, "reason": p.reason})).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct BehaviorListParams {
    limit: Option<u32>,
}

/// `GET /api/v1/customers/{id}/behavior-events`: the customer's survey answers and web visits,
/// newest first (default 50, at most 500); free text masked for roles without personal data.
pub async fn customer_behavior_events_list(
    State(state): State<AppState>,
    principal: Principal,
    crate::extract::ApiPath(id): crate::extract::ApiPath<i64>,
    ApiQuery(params): ApiQuery<BehaviorListParams>,
) -> Result<Response, AppError> {
    let customer = kimochi_domain::CustomerId(id);
    state.store.customer_get(principal.tenant_id, customer).await?;
    let limit = params.limit.unwrap_or(50).clamp(1, 500);
    let events = state.store.behavior_event_list(principal.tenant_id, customer, limit).await?;
    let entry = AuditEntry {
        at: crate::now(),
        actor: principal.actor,
        action: "behavior_events.read".to_owned(),
        customer_id: Some(customer),
        detail: format!("{} events", events.len()),
    };
    state.audit.record(principal.tenant_id, entry).await?;
    let role = principal.role;
    let events: Vec<serde_json::Value> = events
        .into_iter()
        .map(|event| {
            let attributes: serde_json::Map<String, serde_json::Value> = event
                .attributes
                .into_iter()
                .map(|(key, value)| (key, serde_json::Value::String(crate::json::text_for(value, role))))
                .collect();
            serde_json::json!({
                "kind": event.kind.code(),
                "occurred_at": kimochi_domain::datetime::format_jst(event.occurred_at),
                "question": (event.kind == EventKind::Survey).then_some(&event.key),
                "answer": (event.kind == EventKind::Survey).then(|| crate::json::text_for(event.value.clone(), role)),
                "url": event.url.map(|url| crate::json::text_for(url, role)),
                "attributes": attributes,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "events": events })).into_response())
}
