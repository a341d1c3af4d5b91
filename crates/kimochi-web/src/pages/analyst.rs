//! Analyst views: the RFM heat map of the latest scoring run, the customers of a cell, and their
//! export as CSV or xlsx (masked for analysts, like every other read); the VOC reports
//! (lost-order reasons, call reasons, churn drivers) and the stage funnel and loyalty matrix,
//! drawn as server-side SVG charts.
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

use super::i18n::{AnalystStrings, Lang, Strings};
use super::view::{Layout, percent, short_time, yen};
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;
use crate::error::AppError;
use crate::json::CustomerSummaryJson;
use crate::voc::{ChurnDriverJson, ReportWindow, default_end};
use kimochi_text::voc::{CallReasonTable, PeriodUnit};

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
    a: &'static AnalystStrings,
    tabs: Vec<Tab>,
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
        a: user.lang.analyst(),
        tabs: tabs(&user),
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

// ---------------------------------------------------------------------------------------------
// VOC and segment views: lost-order reasons, call reasons, churn drivers, funnel and loyalty.
// Charts are SVG drawn here on the server: geometry is computed in Rust, the templates only
// print numbers into attributes (no inline style, which the CSP refuses), colours come from
// classes in app.css, and every chart has a table or list with the same numbers beside it.

/// Width of every chart's drawing, in SVG units (the SVG scales to the page).
const CHART_WIDTH: f64 = 760.0;
/// Left column of a bar chart, for the labels.
const LABEL_WIDTH: f64 = 230.0;
/// Right margin of a bar chart, for the values.
const VALUE_WIDTH: f64 = 110.0;
/// Height of a bar chart row.
const ROW_HEIGHT: f64 = 26.0;
/// Reasons drawn in their own colour; the rest are stacked as "other".
const STACKED_REASONS: usize = 7;
/// Periods drawn in the stacked chart (the latest ones); the table below holds every period.
const CHART_PERIODS: usize = 24;

/// One tab of the analyst views.
#[derive(Debug, Clone)]
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

fn tabs(user: &PageUser) -> Vec<Tab> {
    let a = user.lang.analyst();
    [
        ("/analyst/rfm", a.tab_rfm),
        ("/analyst/voc/lost-orders", a.tab_lost),
        ("/analyst/voc/call-reasons", a.tab_reasons),
        ("/analyst/voc/churn-drivers", a.tab_churn),
        ("/analyst/segments", a.tab_segments),
    ]
    .into_iter()
    .map(|(href, label)| Tab { href, label, current: user.path == href })
    .collect()
}

/// The range form of a report page, filled with what is shown.
#[derive(Debug, Clone)]
pub struct RangeForm {
    pub action: &'static str,
    pub from: String,
    pub to: String,
    pub period: &'static str,
    pub with_period: bool,
}

/// One horizontal bar of a chart, in SVG units.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub y: f64,
    pub text_y: f64,
    pub width: f64,
    /// A second, thinner bar (e.g. the share among won contacts).
    pub other_width: f64,
    pub other_y: f64,
    pub value: String,
    pub value_x: f64,
}

/// A horizontal bar chart.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    pub label_x: f64,
    pub bar_x: f64,
    pub bar_height: f64,
    pub other_height: f64,
    pub bars: Vec<Bar>,
}

fn bar_chart(rows: &[(String, f64, f64, String)]) -> BarChart {
    let max = rows.iter().map(|(_, value, other, _)| value.max(*other)).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { (CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH) / max } else { 0.0 };
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, (label, value, other, text))| {
            let y = 8.0 + i as f64 * ROW_HEIGHT;
            Bar {
                label: label.clone(),
                y,
                text_y: y + 13.0,
                width: round1(value * scale),
                other_width: round1(other * scale),
                other_y: y + 15.0,
                value: text.clone(),
                value_x: round1(LABEL_WIDTH + 6.0 + value.max(*other) * scale),
            }
        })
        .collect();
    BarChart {
        width: CHART_WIDTH,
        height: 16.0 + rows.len() as f64 * ROW_HEIGHT,
        label_x: LABEL_WIDTH - 8.0,
        bar_x: LABEL_WIDTH,
        bar_height: 14.0,
        other_height: 5.0,
        bars,
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn share_text(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
}

/// The window of a report page; a bad date is shown as an error page saying which field.
async fn page_window(state: &AppState, user: &PageUser, query: &ReportQuery) -> Result<ReportWindow, PageError> {
    let end = default_end(state.store.as_ref(), user.principal.tenant_id, crate::voc::today()).await.for_page(user)?;
    ReportWindow::parse(query.from.as_deref(), query.to.as_deref(), query.period.as_deref(), end)
        .map_err(|error| user.error(AppError::invalid(error)))
}

fn range_form(action: &'static str, window: &ReportWindow, with_period: bool) -> RangeForm {
    RangeForm {
        action,
        from: kimochi_domain::datetime::format_date(window.from),
        to: kimochi_domain::datetime::format_date(window.to),
        period: window.unit.code(),
        with_period,
    }
}

/// A lost-order term as listed under the chart.
#[derive(Debug, Clone)]
pub struct LostTermRow {
    pub rank: usize,
    pub term: String,
    pub lost: u64,
    pub won: u64,
    pub lost_share: String,
    pub won_share: String,
    pub z: String,
    pub examples: Vec<String>,
}

#[derive(Template)]
#[template(path = "analyst/lost_orders.html")]
struct LostOrdersPage {
    l: Layout,
    a: &'static AnalystStrings,
    tabs: Vec<Tab>,
    form: RangeForm,
    lost_contacts: u64,
    won_contacts: u64,
    chart: BarChart,
    rows: Vec<LostTermRow>,
    method: &'static str,
}

/// `GET /analyst/voc/lost-orders?from&to`: the words of lost orders as bars, with examples.
pub async fn lost_orders_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let a = user.lang.analyst();
    let window = page_window(&state, &user, &query).await?;
    let report = state
        .voc_cache
        .lost_order_reasons(state.store.as_ref(), user.principal.tenant_id, &window)
        .await
        .for_page(&user)?;
    let chart_rows: Vec<(String, f64, f64, String)> = report
        .terms
        .iter()
        .map(|t| (t.term.clone(), t.lost_share, t.won_share, format!("{} ({})", share_text(t.lost_share), t.lost)))
        .collect();
    let rows = report
        .terms
        .iter()
        .enumerate()
        .map(|(i, t)| LostTermRow {
            rank: i + 1,
            term: t.term.clone(),
            lost: t.lost,
            won: t.won,
            lost_share: share_text(t.lost_share),
            won_share: share_text(t.won_share),
            z: format!("{:.1}", t.z),
            examples: t.examples.clone(),
        })
        .collect();
    let page = LostOrdersPage {
        l: user.layout(a.lost_title),
        a,
        tabs: tabs(&user),
        form: range_form("/analyst/voc/lost-orders", &window, false),
        lost_contacts: report.lost_contacts,
        won_contacts: report.won_contacts,
        chart: bar_chart(&chart_rows),
        rows,
        method: report.method,
    };
    Ok(render(&page))
}

/// One rectangle of a stacked column.
#[derive(Debug, Clone)]
pub struct StackRect {
    pub y: f64,
    pub height: f64,
    pub series: usize,
    pub title: String,
}

/// One period's column.
#[derive(Debug, Clone)]
pub struct StackColumn {
    pub x: f64,
    pub label: String,
    pub label_x: f64,
    pub rects: Vec<StackRect>,
}

/// A tick of the value axis.
#[derive(Debug, Clone)]
pub struct Tick {
    pub y: f64,
    pub label: String,
}

/// The stacked column chart of call reasons.
#[derive(Debug, Clone)]
pub struct StackedChart {
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub baseline: f64,
    pub column_width: f64,
    pub label_y: f64,
    pub columns: Vec<StackColumn>,
    pub ticks: Vec<Tick>,
}

/// A legend entry: a reason and its colour class.
#[derive(Debug, Clone)]
pub struct LegendItem {
    pub series: usize,
    pub label: String,
    pub total: u64,
}

/// A row of the call-reason table.
#[derive(Debug, Clone)]
pub struct ReasonRow {
    pub reason: String,
    pub total: u64,
    pub share: String,
    pub latest: u64,
}

/// A row of the emerging-topics table.
#[derive(Debug, Clone)]
pub struct EmergingRow {
    pub term: String,
    pub before: String,
    pub latest: String,
    pub ratio: String,
    pub z: String,
    pub count: u64,
}

#[derive(Template)]
#[template(path = "analyst/call_reasons.html")]
struct CallReasonsPage {
    l: Layout,
    a: &'static AnalystStrings,
    tabs: Vec<Tab>,
    form: RangeForm,
    chart: Option<StackedChart>,
    legend: Vec<LegendItem>,
    rows: Vec<ReasonRow>,
    truncated: bool,
    latest_from: String,
    baseline_from: String,
    latest_contacts: u64,
    baseline_contacts: u64,
    emerging: Vec<EmergingRow>,
    method: &'static str,
    emerging_method: &'static str,
}

fn period_label(date: time::Date, unit: PeriodUnit) -> String {
    match unit {
        PeriodUnit::Month => format!("{}-{:02}", date.year(), u8::from(date.month())),
        PeriodUnit::Week | PeriodUnit::Day => format!("{:02}/{:02}", u8::from(date.month()), date.day()),
    }
}

/// Nice round steps for an axis up to `max`.
fn ticks_for(max: u64) -> Vec<u64> {
    if max == 0 {
        return vec![0];
    }
    let raw = max as f64 / 4.0;
    let magnitude = 10_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw).max(1.0) as u64;
    (0..=max / step).map(|i| i * step).collect()
}

fn stacked_chart(table: &CallReasonTable, other_label: &str) -> Option<StackedChart> {
    if table.periods.is_empty() {
        return None;
    }
    let first = table.periods.len().saturating_sub(CHART_PERIODS);
    let periods = &table.periods[first..];
    let totals = &table.totals[first..];
    let max = totals.iter().copied().max().unwrap_or(0);
    let ticks = ticks_for(max);
    let top = ticks.last().copied().unwrap_or(0).max(max).max(1) as f64;
    let (plot_left, plot_right, plot_top, baseline) = (56.0, CHART_WIDTH - 12.0, 12.0, 250.0);
    let slot = (plot_right - plot_left) / periods.len() as f64;
    let column_width = round1((slot * 0.7).max(2.0));
    let scale = (baseline - plot_top) / top;
    let columns = periods
        .iter()
        .enumerate()
        .map(|(p, date)| {
            let x = round1(plot_left + p as f64 * slot + (slot - column_width) / 2.0);
            let mut y = baseline;
            let mut rects = Vec::new();
            let mut other = 0;
            for (series, reason) in table.reasons.iter().enumerate() {
                let count = reason.counts[first + p];
                if series >= STACKED_REASONS {
                    other += count;
                    continue;
                }
                if count > 0 {
                    let height = count as f64 * scale;
                    y -= height;
                    rects.push(StackRect {
                        y: round1(y),
                        height: round1(height),
                        series,
                        title: format!("{} {}: {count}", period_label(*date, table.unit), reason.reason),
                    });
                }
            }
            if other > 0 {
                let height = other as f64 * scale;
                y -= height;
                rects.push(StackRect {
                    y: round1(y),
                    height: round1(height),
                    series: STACKED_REASONS,
                    title: format!("{} {other_label}: {other}", period_label(*date, table.unit)),
                });
            }
            StackColumn { x, label: period_label(*date, table.unit), label_x: round1(x + column_width / 2.0), rects }
        })
        .collect();
    Some(StackedChart {
        width: CHART_WIDTH,
        height: baseline + 56.0,
        plot_left,
        plot_right,
        baseline,
        column_width,
        label_y: baseline + 14.0,
        columns,
        ticks: ticks.iter().map(|t| Tick { y: round1(baseline - *t as f64 * scale), label: t.to_string() }).collect(),
    })
}

/// `GET /analyst/voc/call-reasons?from&to&period`: reasons stacked per period, emerging topics.
pub async fn call_reasons_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    user.require_analytics()?;
    let a = user.lang.analyst();
    let window = page_window(&state, &user, &query).await?;
    let report =
        state.voc_cache.call_reasons(state.store.as_ref(), user.principal.tenant_id, &window).await.for_page(&user)?;
    let table = &report.table;
    let all: u64 = table.totals.iter().sum();
    let mut legend: Vec<LegendItem> = table
        .reasons
        .iter()
        .take(STACKED_REASONS)
        .enumerate()
        .map(|(series, r)| LegendItem { series, label: r.reason.clone(), total: r.total })
        .collect();
    if table.reasons.len() > STACKED_REASONS {
        let rest = table.reasons[STACKED_REASONS..].iter().map(|r| r.total).sum();
        legend.push(LegendItem { series: STACKED_REASONS, label: a.reasons_other.to_owned(), total: rest });
    }
    let rows = table
        .reasons
        .iter()
        .map(|r| ReasonRow {
            reason: r.reason.clone(),
            total: r.total,
            share: share_text(if all == 0 { 0.0 } else { r.total as f64 / all as f64 }),
            latest: r.counts.last().copied().unwrap_or(0),
        })
        .collect();
    let emerging = report
        .emerging
        .topics
        .iter()
        .map(|t| EmergingRow {
            term: t.term.clone(),
            before: share_text(t.before_share),
            latest: share_text(t.latest_share),
            ratio: t.ratio.map_or_else(|| a.ratio_new.to_owned(), |r| format!("{r:.1}×")),
            z: format!("{:.1}", t.z),
            count: t.latest,
        })
        .collect();
    let page = CallReasonsPage {
        l: user.layout(a.reasons_title),
        a,
        tabs: tabs(&user),
        form: range_form("/analyst/voc/call-reasons", &window, true),
        chart: stacked_chart(table, a.reasons_other),
        legend,
        rows,
        truncated: report.truncated,
        latest_from: report.emerging.latest_from.clone(),
        baseline_from: report.emerging.baseline_from.clone(),
        latest_contacts: report.emerging.latest_contacts,
        baseline_contacts: report.emerging.baseline_contacts,
        emerging,
        method: report.method,
        emerging_method: report.emerging.method,
    };
    Ok(render(&page))
}

/// One row of the forest plot, in SVG units.
#[derive(Debug, Clone)]
pub struct ForestRow {
    pub label: String,
    pub y: f64,
    pub text_y: f64,
    pub low_x: f64,
    pub high_x: f64,
    pub point_x: f64,
    pub raises: bool,
    pub value: String,
    pub customers: String,
}

/// The forest plot of churn drivers on a log scale.
#[derive(Debug, Clone)]
pub struct ForestChart {
    pub width: f64,
    pub height: f64,
    pub label_x: f64,
    pub one_x: f64,
    pub axis_y: f64,
    pub value_x: f64,
    pub rows: Vec<ForestRow>,
    pub ticks: Vec<XTick>,
}

/// A tick of a horizontal axis.
#[derive(Debug, Clone)]
pub struct XTick {
    pub x: f64,
    pub label: String,
}

fn forest_chart(drivers: &[ChurnDriverJson]) -> ForestChart {
    let (left, right) = (LABEL_WIDTH, CHART_WIDTH - 150.0);
    let low = drivers.iter().map(|d| d.ci_low).fold(0.5_f64, f64::min).max(0.05);
    let high = drivers.iter().map(|d| d.ci_high).fold(2.0_f64, f64::max).min(50.0);
    let (ln_low, ln_high) = (low.ln(), high.ln());
    let x = |value: f64| round1(left + (value.clamp(low, high).ln() - ln_low) / (ln_high - ln_low) * (right - left));
    let rows: Vec<ForestRow> = drivers
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let y = 20.0 + i as f64 * ROW_HEIGHT;
            ForestRow {
                label: d.label.clone(),
                y,
                text_y: y + 4.0,
                low_x: x(d.ci_low),
                high_x: x(d.ci_high),
                point_x: x(d.relative_risk),
                raises: d.relative_risk > 1.0,
                value: format!("{:.2} ({:.2}–{:.2})", d.relative_risk, d.ci_low, d.ci_high),
                customers: d.customers_with.map_or_else(String::new, |n| n.to_string()),
            }
        })
        .collect();
    let axis_y = 20.0 + rows.len() as f64 * ROW_HEIGHT;
    let ticks = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]
        .iter()
        .filter(|t| **t >= low && **t <= high)
        .map(|t| XTick { x: x(*t), label: format!("{t}") })
        .collect();
    ForestChart {
        width: CHART_WIDTH,
        height: axis_y + 30.0,
        label_x: LABEL_WIDTH - 8.0,
        one_x: x(1.0),
        axis_y,
        value_x: right + 10.0,
        rows,
        ticks,
    }
}

#[derive(Template)]
#[template(path = "analyst/churn_drivers.html")]
struct ChurnDriversPage {
    l: Layout,
    a: &'static AnalystStrings,
    tabs: Vec<Tab>,
    run: Option<String>,
    subscribers: String,
    churned: String,
    chart: ForestChart,
    method: &'static str,
    topics: ForestChart,
    topic_count: usize,
    topic_subscribers: String,
    topic_method: &'static str,
}

/// `GET /analyst/voc/churn-drivers`: the latest run's drivers as a forest plot.
pub async fn churn_drivers_page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    user.require_analytics()?;
    let a = user.lang.analyst();
    let report = state.voc_cache.churn_drivers(state.store.as_ref(), user.principal.tenant_id).await.for_page(&user)?;
    let lang = user.lang;
    let drivers: Vec<ChurnDriverJson> = report
        .drivers
        .iter()
        .map(|d| {
            let mut d = d.clone();
            if lang == Lang::En && d.kind == "kimochi" {
                d.label = lang.vocab(&d.code, &d.label);
            } else if lang == Lang::En {
                d.label = format!("Ad medium {}", d.code.trim_start_matches("medium:"));
            }
            d
        })
        .collect();
    let page = ChurnDriversPage {
        l: user.layout(a.churn_title),
        a,
        tabs: tabs(&user),
        run: report.run.as_ref().map(|r| r.as_of.clone()),
        subscribers: report.subscribers.map_or_else(|| user.t().none.to_owned(), |n| n.to_string()),
        churned: report.churned.map_or_else(|| user.t().none.to_owned(), |n| n.to_string()),
        chart: forest_chart(&drivers),
        method: report.method,
        topics: forest_chart(&report.topics),
        topic_count: report.topics.len(),
        topic_subscribers: report
            .topic_subscribers_with_contacts
            .map_or_else(|| user.t().none.to_owned(), |n| n.to_string()),
        topic_method: report.topic_method,
    };
    Ok(render(&page))
}

/// One quadrant of the loyalty matrix.
#[derive(Debug, Clone)]
pub struct Quadrant {
    pub code: String,
    pub label: String,
    pub customers: u64,
    pub share: String,
    pub near_loyal: u64,
}

#[derive(Template)]
#[template(path = "analyst/segments.html")]
struct SegmentsPage {
    l: Layout,
    a: &'static AnalystStrings,
    tabs: Vec<Tab>,
    run: Option<RunView>,
    funnel: BarChart,
    quadrants: Vec<Quadrant>,
    cohorts: Option<CohortChart>,
}

/// Retention curves of subscription cohorts as a line chart and a table.
#[derive(Debug, Clone)]
pub struct CohortChart {
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_bottom: f64,
    pub y_ticks: Vec<(f64, String)>,
    pub x_ticks: Vec<(f64, String)>,
    /// Oldest cohort first; the pooled curve last.
    pub lines: Vec<CohortLine>,
}

#[derive(Debug, Clone)]
pub struct CohortLine {
    pub label: String,
    pub points: String,
    /// `cohort-all` for all subscribers, else `cohort-line`.
    pub class: &'static str,
    /// Older cohorts fade.
    pub opacity: f64,
    pub subscribers: u64,
    pub cancelled: u64,
    /// Retention after 3, 6 and 12 renewal decisions, or a dash where too few reached it.
    pub after: [String; 3],
}

const COHORT_WIDTH: f64 = 640.0;
const COHORT_HEIGHT: f64 = 260.0;
const COHORT_LEFT: f64 = 44.0;
const COHORT_RIGHT: f64 = 12.0;
const COHORT_TOP: f64 = 10.0;
const COHORT_BOTTOM: f64 = 34.0;

/// The cohort curves of a run summary (`cohorts.curves` and `cohorts.all`), `None` when the run
/// kept none (runs before cohorts were computed) or there were no subscribers.
pub fn cohort_chart(summary: &serde_json::Value, a: &AnalystStrings) -> Option<CohortChart> {
    let cohorts = summary.get("cohorts")?;
    let mut curves: Vec<(String, &serde_json::Value, bool)> = cohorts["curves"]
        .as_array()
        .map(|list| list.iter().map(|c| (c["cohort"].as_str().unwrap_or("").to_owned(), c, false)).collect::<Vec<_>>())
        .unwrap_or_default();
    if cohorts["all"].is_object() {
        curves.push((a.cohort_all.to_owned(), &cohorts["all"], true));
    }
    if curves.is_empty() {
        return None;
    }
    let periods = curves
        .iter()
        .filter_map(|(_, c, _)| c["survival"].as_array().map(|s| s.len().saturating_sub(1)))
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_width = COHORT_WIDTH - COHORT_LEFT - COHORT_RIGHT;
    let plot_height = COHORT_HEIGHT - COHORT_TOP - COHORT_BOTTOM;
    let x = |t: usize| round1(COHORT_LEFT + t as f64 * plot_width / periods as f64);
    let y = |share: f64| round1(COHORT_TOP + (1.0 - share.clamp(0.0, 1.0)) * plot_height);
    let cohort_count = curves.iter().filter(|(_, _, all)| !all).count().max(1);
    let lines = curves
        .iter()
        .enumerate()
        .map(|(i, (label, curve, all))| {
            let survival: Vec<f64> =
                curve["survival"].as_array().map(|s| s.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
            let points = survival.iter().enumerate().map(|(t, s)| format!("{},{}", x(t), y(*s))).collect::<Vec<_>>();
            let after = [3_usize, 6, 12].map(|t| survival.get(t).map_or_else(|| "—".to_owned(), |s| share_text(*s)));
            CohortLine {
                label: label.clone(),
                points: points.join(" "),
                class: if *all { "cohort-all" } else { "cohort-line" },
                opacity: if *all { 1.0 } else { round1(0.25 + 0.75 * (i + 1) as f64 / cohort_count as f64) },
                subscribers: curve["subscribers"].as_u64().unwrap_or(0),
                cancelled: curve["cancelled"].as_u64().unwrap_or(0),
                after,
            }
        })
        .collect();
    let y_ticks = [0.0, 0.25, 0.5, 0.75, 1.0].iter().map(|s| (y(*s), format!("{:.0}%", s * 100.0))).collect();
    let step = if periods > 6 { 2 } else { 1 };
    let x_ticks = (0..=periods).step_by(step).map(|t| (x(t), t.to_string())).collect();
    Some(CohortChart {
        width: COHORT_WIDTH,
        height: COHORT_HEIGHT,
        plot_left: COHORT_LEFT,
        plot_right: COHORT_WIDTH - COHORT_RIGHT,
        plot_bottom: COHORT_HEIGHT - COHORT_BOTTOM,
        y_ticks,
        x_ticks,
        lines,
    })
}

/// Stages in funnel order: from prospect to subscriber, then those who fell out (dormant) and
/// those outside every list.
const FUNNEL_ORDER: [&str; 7] = ["not_purchased", "trial", "main", "repeater", "subscription", "dormant", "excluded"];

/// The stages of a run summary as (label, customers), in [`FUNNEL_ORDER`]; unknown stages last.
pub fn stage_counts(summary: &serde_json::Value, lang: Lang) -> Vec<(String, u64)> {
    let mut stages: Vec<(usize, String, u64)> = summary["stages"]
        .as_array()
        .map(|stages| {
            stages
                .iter()
                .filter_map(|s| {
                    let code = s["stage"].as_str()?;
                    let label = lang.vocab(code, s["label"].as_str().unwrap_or(code));
                    let rank = FUNNEL_ORDER.iter().position(|c| *c == code).unwrap_or(FUNNEL_ORDER.len());
                    Some((rank, label, s["customers"].as_u64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    stages.sort_by_key(|(rank, _, _)| *rank);
    stages.into_iter().map(|(_, label, customers)| (label, customers)).collect()
}

/// The loyalty quadrants of a run summary, in the matrix's reading order (attitude up,
/// behaviour right): latent and true loyal above, low and spurious below.
pub fn quadrants(summary: &serde_json::Value, lang: Lang) -> Vec<Quadrant> {
    let list = summary["loyalty"].as_array().cloned().unwrap_or_default();
    let total: u64 = list.iter().filter_map(|q| q["customers"].as_u64()).sum();
    ["latent", "true_loyal", "low", "spurious"]
        .iter()
        .filter_map(|code| {
            let q = list.iter().find(|q| q["quadrant"].as_str() == Some(code))?;
            let customers = q["customers"].as_u64()?;
            Some(Quadrant {
                code: (*code).to_owned(),
                label: lang.vocab(code, q["label"].as_str().unwrap_or(code)),
                customers,
                share: share_text(if total == 0 { 0.0 } else { customers as f64 / total as f64 }),
                near_loyal: q["near_loyal"].as_u64().unwrap_or(0),
            })
        })
        .collect()
}

/// `GET /analyst/segments`: the stage funnel and the loyalty matrix of the latest run.
pub async fn segments_page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    user.require_analytics()?;
    let a = user.lang.analyst();
    let run = state.store.score_run_latest(user.principal.tenant_id).await.for_page(&user)?;
    let summary: serde_json::Value =
        run.as_ref().map(|r| serde_json::from_str(&r.summary).unwrap_or_default()).unwrap_or_default();
    let stages = stage_counts(&summary, user.lang);
    let total: u64 = stages.iter().map(|(_, n)| n).sum();
    let rows: Vec<(String, f64, f64, String)> = stages
        .iter()
        .map(|(label, n)| {
            let share = if total == 0 { 0.0 } else { *n as f64 / total as f64 };
            (label.clone(), *n as f64, 0.0, format!("{n} ({})", share_text(share)))
        })
        .collect();
    let run_view = run.as_ref().map(|run| RunView {
        as_of: kimochi_domain::datetime::format_date(run.as_of),
        scored_at: short_time(&kimochi_domain::datetime::format_jst(run.scored_at)),
        customers: run.customers,
        scored: total,
    });
    let page = SegmentsPage {
        l: user.layout(a.segments_title),
        a,
        tabs: tabs(&user),
        run: run_view,
        funnel: bar_chart(&rows),
        quadrants: quadrants(&summary, user.lang),
        cohorts: cohort_chart(&summary, a),
    };
    Ok(render(&page))
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
