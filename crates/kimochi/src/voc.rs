//! `kimochi voc report`: the voice-of-customer reports of a tenant — lost-order reasons, call
//! reasons with emerging topics, churn drivers — as the analyst pages and the API show them
//! (`kimochi_web::voc` computes all three), in Japanese or as JSON.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use kimochi_domain::datetime::JST;
use kimochi_web::voc::{CallReasons, ChurnDrivers, LostOrderReasons, ReportWindow};

use crate::config::Config;
use crate::people::{open, tenant_id};

#[derive(Debug, Subcommand)]
pub enum VocCommand {
    /// Print a tenant's lost-order reasons (words that separate lost from won sales calls, by
    /// weighted log-odds with an informative prior, with masked example utterances), call
    /// reasons per period with the topics rising in the latest period, and churn drivers
    /// (relative risks with 95% intervals from the latest `kimochi analyze`).
    Report(VocReportArgs),
}

#[derive(Debug, Args)]
pub struct VocReportArgs {
    #[arg(long)]
    pub tenant: String,
    /// First day of the range (YYYY-MM-DD, Japan time). Default: a year before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the range, included (YYYY-MM-DD). Default: the day the latest
    /// `kimochi analyze` ran as of, or today in Japan without one.
    #[arg(long)]
    pub to: Option<String>,
    /// Length of the call-reason periods: day, week (Monday to Sunday) or month.
    #[arg(long, default_value = "month")]
    pub period: String,
    /// Print one JSON object {lost_order_reasons, call_reasons, churn_drivers} instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(config: &Config, command: VocCommand) -> anyhow::Result<ExitCode> {
    let VocCommand::Report(args) = command;
    let today = crate::now().to_offset(JST).date();
    // Bad flags are reported before the database is opened.
    ReportWindow::parse(args.from.as_deref(), args.to.as_deref(), Some(&args.period), today)
        .map_err(|error| anyhow::anyhow!("--{}: {error}", error.field))?;
    let store = open(config).await?;
    let tenant = tenant_id(&store, &args.tenant).await?;
    let end = kimochi_web::voc::default_end(store.as_ref(), tenant, today).await.context("reading the latest run")?;
    let window = ReportWindow::parse(args.from.as_deref(), args.to.as_deref(), Some(&args.period), end)
        .map_err(|error| anyhow::anyhow!("--{}: {error}", error.field))?;
    let lost = kimochi_web::voc::lost_order_reasons(store.as_ref(), tenant, &window)
        .await
        .context("mining lost-order reasons")?;
    let reasons =
        kimochi_web::voc::call_reasons(store.as_ref(), tenant, &window).await.context("counting call reasons")?;
    let churn = kimochi_web::voc::churn_drivers(store.as_ref(), tenant).await.context("reading churn drivers")?;
    if args.json {
        let report = serde_json::json!({
            "tenant": args.tenant,
            "lost_order_reasons": lost,
            "call_reasons": reasons,
            "churn_drivers": churn,
        });
        println!("{}", serde_json::to_string_pretty(&report).context("writing JSON")?);
    } else {
        print_lost(&lost);
        print_reasons(&reasons);
        print_churn(&churn);
    }
    Ok(ExitCode::SUCCESS)
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn print_lost(report: &LostOrderReasons) {
    println!("■ 失注理由（{} 〜 {}）", report.range.from, report.range.to);
    println!(
        "  失注 {} 件 / 受注 {} 件（アウトバウンドの受注・失注コンタクト）",
        report.lost_contacts, report.won_contacts
    );
    if report.terms.is_empty() {
        println!("  失注を特徴づける語は見つかりませんでした。");
    }
    for (rank, term) in report.terms.iter().enumerate() {
        println!(
            "  {:>2}. {}  失注 {} 件 ({}) / 受注 {} 件 ({})  z = {:.1}",
            rank + 1,
            term.term,
            term.lost,
            percent(term.lost_share),
            term.won,
            percent(term.won_share),
            term.z
        );
        for example in &term.examples {
            println!("        例: {example}");
        }
    }
    println!("  手法: 重み付き対数オッズ比（情報事前分布つきディリクレ、Monroe ほか 2008）の z で順位付け。");
    println!();
}

fn print_reasons(report: &CallReasons) {
    let table = &report.table;
    let unit = match table.unit {
        kimochi_text::voc::PeriodUnit::Day => "日",
        kimochi_text::voc::PeriodUnit::Week => "週",
        kimochi_text::voc::PeriodUnit::Month => "月",
    };
    println!("■ コールリーズン（{} 〜 {}、{}別、インバウンド）", report.range.from, report.range.to, unit);
    if table.reasons.is_empty() {
        println!("  この期間のインバウンドのコンタクトはありません。");
    }
    let total: u64 = table.totals.iter().sum();
    for series in &table.reasons {
        let latest = series.counts.last().copied().unwrap_or(0);
        let share = if total == 0 { 0.0 } else { series.total as f64 / total as f64 };
        println!("  {}  {} 件 ({})  直近の{}: {} 件", series.reason, series.total, percent(share), unit, latest);
    }
    if report.truncated {
        println!("  （日別件数が上限に達したため、最新の日が含まれていません。期間を短くしてください）");
    }
    let emerging = &report.emerging;
    println!(
        "  急増トピック（{} 〜 の {} 件を、{} 〜 の {} 件と比較）:",
        emerging.latest_from, emerging.latest_contacts, emerging.baseline_from, emerging.baseline_contacts
    );
    if emerging.topics.is_empty() {
        println!("    有意に増えた話題はありません。");
    }
    for topic in &emerging.topics {
        let ratio = topic.ratio.map_or_else(|| "新規".to_owned(), |r| format!("{r:.1}倍"));
        println!(
            "    {}  {} → {} ({})  z = {:.1}",
            topic.term,
            percent(topic.before_share),
            percent(topic.latest_share),
            ratio,
            topic.z
        );
    }
    println!("  手法: 直近期間と前3期間の語の出現率を重み付き対数オッズ比で比較（z ≥ 3.0、1.5倍以上、5件以上）。");
    println!();
}

fn print_churn(report: &ChurnDrivers) {
    println!("■ 離反要因");
    let Some(run) = &report.run else {
        println!("  スコアリングの実行結果がありません。`kimochi analyze` を実行してください。");
        return;
    };
    println!(
        "  {} 時点のスコアリング（定期購入者 {} 人、解約 {} 人）",
        run.as_of,
        report.subscribers.map_or_else(|| "-".to_owned(), |n| n.to_string()),
        report.churned.map_or_else(|| "-".to_owned(), |n| n.to_string())
    );
    for driver in &report.drivers {
        println!(
            "  {}  相対リスク {:.2}倍（95%信頼区間 {:.2}〜{:.2}）{}",
            driver.label,
            driver.relative_risk,
            driver.ci_low,
            driver.ci_high,
            driver.customers_with.map_or_else(String::new, |n| format!("  該当 {n} 人"))
        );
    }
    println!("  手法: 定期便の継続判断ごとの解約を比例ハザード（sBG ベースライン）で推定。");
    println!(
        "  話題（言葉）: 定期便の受け取り中のお問い合わせの言葉（お問い合わせを読んだ定期会員 {} 人）",
        report.topic_subscribers_with_contacts.map_or_else(|| "-".to_owned(), |n| n.to_string())
    );
    if report.topics.is_empty() {
        println!("    解約率を有意に高める言葉は見つかりませんでした。");
    }
    for topic in &report.topics {
        println!(
            "    {}  解約率の比 {:.2}倍（95%信頼区間 {:.2}〜{:.2}）  該当 {} 人のうち解約 {} 人",
            topic.label,
            topic.relative_risk,
            topic.ci_low,
            topic.ci_high,
            topic.customers_with.unwrap_or(0),
            topic.churned_with.unwrap_or(0)
        );
    }
    println!(
        "  手法（話題）: 継続判断1回あたりの解約率の比（ポアソン率比）、1語ずつ。解約の連絡は最後のお届けの後なので含みません。"
    );
}
