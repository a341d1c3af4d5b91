//! Analyst views: the RFM heat map of the latest scoring run, the customers of a cell, and their
//! export as CSV or xlsx (masked for analysts, like every other read).
//!
//! The 125 cells are drawn as five 5×5 tables of recency (rows, 5 at the top) by frequency
//! (columns, 5 at the right), one per monetary level from M5 to M1. R×F is the grid analysts
//! already read (new, loyal, slipping, lost customers sit in its corners), and M as the panel
//! keeps each table small enough to see at a glance; one 5×25 strip would interleave the F and M
//! scales and make neighbouring cells mean unrelated things.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kimochi_domain::{CustomerId, CustomerScore};
use kimochi_io::export::Cell;
use kimochi_io::{CsvSink, XlsxSink};
use kimochi_store::CustomerSummary;
use serde::Deserialize;

use super::i18n::Strings;
use super::view::{Layout, percent, short_time, yen};
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;
use crate::error::AppError;
use crate::json::CustomerSummaryJson;

/// Customers listed per page of a cell.
const CELL_PAGE: u32 = 50;
/// Rows fetched per store call while exporting.
const EXPORT_PAGE: u32 = 2_000;
/// Steps of the colour scale (`h1`…`h8`; `h0` is an empty cell).
const SHADES: u32 = 8;

#[derive(Debug, Clone)]
pub struct HeatCell {
    pub code: u16,
    pub count: u64,
    pub shade: u32,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct HeatRow {
    pub r: u16,
    pub cells: Vec<HeatCell>,
}

#[derive(Debug, Clone)]
pub struct HeatPanel {
    pub m: u16,
    pub rows: Vec<HeatRow>,
}

#[derive(Debug, Clone)]
pub struct RunView {
    pub as_of: String,
    pub scored_at: String,
    pub customers: i64,
    pub scored: u64,
}

#[derive(Template)]
#[template(path = "analyst/rfm.html")]
struct RfmPage {
    l: Layout,
    run: Option<RunView>,
    panels: Vec<HeatPanel>,
    levels: Vec<u16>,
    shades: Vec<u32>,
    list: Option<CellList>,
}

/// One row of a cell's customer list.
#[derive(Debug, Clone)]
pub struct CellRow {
    pub id: i64,
    pub name: String,
    pub kana: String,
    pub phones: String,
    pub stage: String,
    pub recency: String,
    pub clv: String,
    pub p_alive: String,
    pub churn: String,
    pub loyalty: String,
}

#[derive(Template)]
#[template(path = "analyst/cell.html")]
struct CellList {
    t: &'static Strings,
    cell: u16,
    count: Option<u64>,
    rows: Vec<CellRow>,
    more_href: Option<String>,
    csv_href: String,
    xlsx_href: String,
}

/// Counts per cell from a run summary's `rfm.cells` (`{"555": 12, …}`); unknown keys are ignored.
pub fn cell_counts(summary: &serde_json::Value) -> std::collections::HashMap<u16, u64> {
    summary["rfm"]["cells"]
        .as_object()
        .map(|cells| {
            cells
                .iter()
                .filter_map(|(code, count)| {
                    Some((code.parse::<u16>().ok().filter(|c| valid_cell(*c))?, count.as_u64()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a code is one of the 125 cells: three digits, each 1–5.
pub fn valid_cell(code: u16) -> bool {
    let digits = [code / 100, code / 10 % 10, code % 10];
    (111..=555).contains(&code) && digits.iter().all(|d| (1..=5).contains(d))
}

/// The shade of a count: 0 for an empty cell, else 1–8 on a logarithmic scale to the largest
/// cell, because cell sizes span orders of magnitude and a linear scale would leave all but the
/// biggest cells looking empty.
pub fn shade(count: u64, max: u64) -> u32 {
    if count == 0 || max == 0 {
        return 0;
    }
    let step = ((count as f64).ln_1p() / (max as f64).ln_1p() * f64::from(SHADES)).ceil() as u32;
    step.clamp(1, SHADES)
}

fn heat_panels(counts: &std::collections::HashMap<u16, u64>, t: &Strings) -> Vec<HeatPanel> {
    let max = counts.values().copied().max().unwrap_or(0);
    (1..=5u16)
        .rev()
        .map(|m| HeatPanel {
            m,
            rows: (1..=5u16)
                .rev()
                .map(|r| HeatRow {
                    r,
                    cells: (1..=5u16)
                        .map(|f| {
                            let code = r * 100 + f * 10 + m;
                            let count = counts.get(&code).copied().unwrap_or(0);
                            HeatCell {
                                code,
                                count,
                                shade: shade(count, max),
                                label: format!("R{r} F{f} M{m}: {count} {}", t.customers_unit),
                            }
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct RfmParams {
    cell: Option<u16>,
    after: Option<i64>,
}

/// `GET /analyst/rfm`: the heat map; `?cell=555` also lists that cell (works without JavaScript).
pub async fn rfm_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<RfmParams>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let t = user.t();
    let run = state.store.score_run_latest(user.principal.tenant_id).await.for_page(&user)?;
    let (run_view, counts) = match &run {
        Some(run) => {
            let summary: serde_json::Value = serde_json::from_str(&run.summary).unwrap_or_default();
            let counts = cell_counts(&summary);
            let view = RunView {
                as_of: kimochi_domain::datetime::format_date(run.as_of),
                scored_at: short_time(&kimochi_domain::datetime::format_jst(run.scored_at)),
                customers: run.customers,
                scored: counts.values().sum(),
            };
            (Some(view), counts)
        }
        None => (None, Default::default()),
    };
    let list = match params.cell {
        Some(cell) => Some(cell_list(&state, &user, cell, params.after, counts.get(&cell).copied()).await?),
        None => None,
    };
    let page = RfmPage {
        l: user.layout(t.rfm_title),
        run: run_view,
        panels: heat_panels(&counts, t),
        levels: (1..=5).collect(),
        shades: (0..=SHADES).collect(),
        list,
    };
    Ok(render(&page))
}

fn checked_cell(user: &PageUser, cell: u16) -> Result<u16, PageError> {
    if valid_cell(cell) { Ok(cell) } else { Err(user.error(AppError::not_found("cell"))) }
}

fn parse_cell(user: &PageUser, text: &str) -> Result<u16, PageError> {
    let cell = text.parse::<u16>().map_err(|_| user.error(AppError::not_found("cell")))?;
    checked_cell(user, cell)
}

async fn cell_list(
    state: &AppState,
    user: &PageUser,
    cell: u16,
    after: Option<i64>,
    count: Option<u64>,
) -> Result<CellList, PageError> {
    let cell = checked_cell(user, cell)?;
    let t = user.t();
    let lang = user.lang;
    let page = state
        .store
        .scores_by_cell(user.principal.tenant_id, cell, after.map(CustomerId), CELL_PAGE)
        .await
        .for_page(user)?;
    user.audit(state, "rfm.cell.read", None, format!("cell {cell}: {} rows", page.len())).await?;
    let rows = page
        .iter()
        .map(|(summary, score)| {
            let json = CustomerSummaryJson::new(summary, user.role());
            CellRow {
                id: json.id,
                name: json.name,
                kana: json.kana.unwrap_or_default(),
                phones: json.phones.join(", "),
                stage: lang.vocab(score.stage.code(), score.stage.label_ja()),
                recency: score.recency_days.map_or_else(|| t.none.to_owned(), |d| d.to_string()),
                clv: score.clv.map_or_else(|| t.none.to_owned(), |v| yen(v.round() as i64)),
                p_alive: score.p_alive.map_or_else(|| t.none.to_owned(), percent),
                churn: score.churn_level.map_or_else(|| t.none.to_owned(), |c| lang.vocab(c.code(), c.label_ja())),
                loyalty: score.loyalty.map_or_else(|| t.none.to_owned(), |q| lang.vocab(q.code(), q.label_ja())),
            }
        })
        .collect();
    let more_href = (page.len() == CELL_PAGE as usize)
        .then(|| page.last().map(|(summary, _)| format!("/analyst/rfm?cell={cell}&after={}", summary.id.0)))
        .flatten();
    Ok(CellList {
        t,
        cell,
        count,
        rows,
        more_href,
        csv_href: format!("/analyst/rfm/cells/{cell}/export.csv"),
        xlsx_href: format!("/analyst/rfm/cells/{cell}/export.xlsx"),
    })
}

/// `GET /analyst/rfm/cells/{cell}`: the list fragment htmx shows beside the map.
pub async fn rfm_cell_list(
    State(state): State<AppState>,
    user: PageUser,
    Path(cell): Path<String>,
    Query(params): Query<RfmParams>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let cell = parse_cell(&user, &cell)?;
    let count = match state.store.score_run_latest(user.principal.tenant_id).await.for_page(&user)? {
        Some(run) => {
            cell_counts(&serde_json::from_str(&run.summary).unwrap_or_default()).get(&cell).copied().or(Some(0))
        }
        None => None,
    };
    Ok(render(&cell_list(&state, &user, cell, params.after, count).await?))
}

/// Columns of the cell export.
const EXPORT_COLUMNS: &[&str] = &[
    "顧客ID",
    "顧客番号",
    "氏名",
    "カナ",
    "電話番号",
    "メールアドレス",
    "都道府県",
    "ステージ",
    "RFMセル",
    "最終購入からの日数",
    "CLV",
    "継続確率",
    "離反確率",
    "離反リスク",
    "ロイヤルティ",
    "顧客タイプ",
];

fn export_row(summary: &CustomerSummary, score: &CustomerScore, user: &PageUser) -> Vec<Cell> {
    let json = CustomerSummaryJson::new(summary, user.role());
    let text = |value: Option<String>| value.map_or(Cell::Empty, Cell::Text);
    let ratio = |value: Option<f64>| value.map_or(Cell::Empty, |v| Cell::Text(format!("{v:.4}")));
    let clv = score.clv.map_or(Cell::Empty, |v| Cell::Integer(v.round() as i64));
    vec![
        Cell::Integer(json.id),
        text(json.external_id),
        Cell::Text(json.name),
        text(json.kana),
        Cell::Text(json.phones.join(" ")),
        Cell::Text(json.emails.join(" ")),
        text(json.prefecture),
        Cell::Text(score.stage.label_ja().to_owned()),
        score.rfm_cell.map_or(Cell::Empty, |c| Cell::Integer(i64::from(c))),
        score.recency_days.map_or(Cell::Empty, Cell::Integer),
        clv,
        ratio(score.p_alive),
        ratio(score.churn_probability),
        text(score.churn_level.map(|c| c.label_ja().to_owned())),
        text(score.loyalty.map(|q| q.label_ja().to_owned())),
        text(score.cluster_label.clone()),
    ]
}

/// Every customer of a cell, page by page, written to `write`.
async fn export_cell(
    state: &AppState,
    user: &PageUser,
    cell: u16,
    mut write: impl FnMut(Vec<Cell>) -> Result<(), kimochi_io::ExportError>,
) -> Result<usize, PageError> {
    let mut after = None;
    let mut rows = 0;
    loop {
        let page =
            state.store.scores_by_cell(user.principal.tenant_id, cell, after, EXPORT_PAGE).await.for_page(user)?;
        for (summary, score) in &page {
            write(export_row(summary, score, user)).map_err(|_| user.error(AppError::internal()))?;
        }
        rows += page.len();
        match page.last() {
            Some((summary, _)) if page.len() == EXPORT_PAGE as usize => after = Some(summary.id),
            _ => return Ok(rows),
        }
    }
}

fn attachment(content_type: &'static str, filename: String, body: Vec<u8>) -> Response {
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

/// `GET /analyst/rfm/cells/{cell}/export.csv`: UTF-8 with BOM, as Excel on Japanese Windows reads it.
pub async fn rfm_cell_export_csv(
    State(state): State<AppState>,
    user: PageUser,
    Path(cell): Path<String>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let cell = parse_cell(&user, &cell)?;
    let mut sink = CsvSink::new(Vec::new(), EXPORT_COLUMNS).map_err(|_| user.error(AppError::internal()))?;
    let rows = export_cell(&state, &user, cell, |row| sink.write_row(&row)).await?;
    let bytes = sink.finish().map_err(|_| user.error(AppError::internal()))?;
    user.audit(&state, "rfm.cell.export", None, format!("cell {cell}: {rows} rows, csv")).await?;
    Ok(attachment("text/csv; charset=utf-8", format!("rfm-{cell}.csv"), bytes))
}

/// `GET /analyst/rfm/cells/{cell}/export.xlsx`.
pub async fn rfm_cell_export_xlsx(
    State(state): State<AppState>,
    user: PageUser,
    Path(cell): Path<String>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let cell = parse_cell(&user, &cell)?;
    let mut sink =
        XlsxSink::new(&format!("RFM {cell}"), EXPORT_COLUMNS).map_err(|_| user.error(AppError::internal()))?;
    let rows = export_cell(&state, &user, cell, |row| sink.write_row(&row)).await?;
    let bytes = sink.finish().map_err(|_| user.error(AppError::internal()))?;
    user.audit(&state, "rfm.cell.export", None, format!("cell {cell}: {rows} rows, xlsx")).await?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("rfm-{cell}.xlsx"),
        bytes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_shades() {
        assert!(valid_cell(111) && valid_cell(555) && valid_cell(351));
        assert!(!valid_cell(110) && !valid_cell(560) && !valid_cell(106) && !valid_cell(99) && !valid_cell(611));
        assert_eq!(shade(0, 100), 0);
        assert_eq!(shade(100, 100), SHADES);
        assert_eq!(shade(1, 100_000), 1);
        assert!(shade(10, 1000) < shade(100, 1000));
        let summary = serde_json::json!({"rfm": {"cells": {"555": 3, "111": 1, "bad": 2, "999": 4}}});
        let counts = cell_counts(&summary);
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[&555], 3);
    }
}
