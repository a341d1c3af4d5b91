//! `kimochi analyze`: rescore every customer of a tenant from the aggregates the store keeps at
//! write time, persist the scores (shown in the karte) and a run summary (for analysts).

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use kimochi_analytics::loyalty::LoyaltyQuadrant;
use kimochi_analytics::score::{ProductInfo, RunSummary, ScoringConfig, score_customers_in_batches};
use kimochi_domain::datetime::{JST, format_date, parse_date};
use kimochi_domain::{CustomerId, ScoringRow, TenantId};
use kimochi_store::{ScoreBatch, Store};
use serde_json::{Value, json};

use crate::cli::AnalyzeArgs;
use crate::config::Config;
use crate::people::{open, tenant_id};

/// Customers read per page, and scores sent to the store per batch.
const PAGE: u32 = 50_000;

/// What one run did, for the command's output.
#[derive(Debug)]
pub struct RunReport {
    pub customers: usize,
    pub summary: Value,
    pub seconds_read: f64,
    pub seconds_score: f64,
    pub seconds_write: f64,
}

pub async fn analyze(config: &Config, args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let as_of = match &args.as_of {
        Some(text) => parse_date("as_of", text).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?,
        // Yesterday in Japan: the last complete day of data.
        None => crate::now().to_offset(JST).date().previous_day().context("the calendar ends here")?,
    };
    let store = open(config).await?;
    let tenants: Vec<(String, TenantId)> = match &args.tenant {
        Some(slug) => vec![(slug.clone(), tenant_id(&store, slug).await?)],
        None => store
            .tenant_list()
            .await
            .context("listing tenants")?
            .into_iter()
            .map(|t| (t.slug.as_str().to_owned(), t.id))
            .collect(),
    };
    if tenants.is_empty() {
        anyhow::bail!(
            "the database has no tenants: create one with `kimochi tenant create SLUG` or load `kimochi demo`"
        );
    }
    for (slug, tenant) in tenants {
        let report = score_tenant(&store, tenant, as_of, args.seed, !args.quiet).await?;
        print_report(&slug, as_of, &report);
    }
    Ok(ExitCode::SUCCESS)
}

fn bar(length: u64, message: &'static str, visible: bool) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    indicatif::ProgressBar::new(length)
        .with_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} customers ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
        .with_message(message)
}

fn spinner(message: &'static str, visible: bool) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    indicatif::ProgressBar::new_spinner()
        .with_style(
            indicatif::ProgressStyle::with_template("{msg} {pos} customers ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        )
        .with_message(message)
}

/// Scores one tenant as of `as_of` and persists the scores and the run.
pub async fn score_tenant(
    store: &Arc<dyn Store>,
    tenant: TenantId,
    as_of: time::Date,
    seed: u64,
    progress: bool,
) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let products: HashMap<_, _> = store
        .product_list(tenant)
        .await
        .context("reading products")?
        .into_iter()
        .map(|p| (p.id, ProductInfo { name: p.name, kind: p.kind }))
        .collect();

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let reading = spinner("reading aggregates", progress);
    let rows = read_scoring_rows(store, tenant, threads, &reading).await?;
    reading.finish_and_clear();
    let seconds_read = started.elapsed().as_secs_f64();

    let scoring = Instant::now();
    let scored_at = crate::now();
    let mut config = ScoringConfig::default();
    // The tenant's stage thresholds, as its administrator set them (`/admin/settings`).
    let thresholds = store.stage_thresholds(tenant).await.context("reading the stage thresholds")?;
    config.stage = kimochi_analytics::stage::StageConfig::with_thresholds(&thresholds);
    config.cluster.seed = seed;
    config.threads = threads;

    // The scores go to the store batch by batch while the rest are assembled, into one
    // transaction that replaces the tenant's scores when the last batch is in: readers see the
    // old scores or the new, and a failed run leaves the old ones.
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let writer = {
        let store = Arc::clone(store);
        tokio::spawn(async move { store.scores_replace(tenant, receiver).await })
    };
    let customers = rows.len();
    let written = bar(customers as u64, "scoring and writing", progress);
    let written_bar = written.clone();
    let scorer = tokio::task::spawn_blocking(move || {
        let summary =
            score_customers_in_batches(&rows, &products, as_of, scored_at, &config, PAGE as usize, |batch| {
                let size = batch.len() as u64;
                // A send fails only when the writer stopped; its error is reported below.
                let _ = sender.blocking_send(ScoreBatch::Scores(batch));
                written_bar.inc(size);
            })?;
        let _ = sender.blocking_send(ScoreBatch::End);
        Ok::<_, kimochi_analytics::score::ScoringError>(summary)
    });
    let scored = scorer.await.context("the scoring thread stopped");
    let seconds_score = scoring.elapsed().as_secs_f64();
    let writing = Instant::now();
    let stored = writer.await.context("the writing task stopped");
    written.finish_and_clear();
    // A scoring error explains a writer that saw its input stop: report that one first.
    let summary = scored?.context("scoring")?;
    let count = stored?.context("writing scores")?;
    let seconds_write = writing.elapsed().as_secs_f64();
    debug_assert_eq!(count as usize, customers);

    let summary = summary_json(&summary, customers, as_of);
    store
        .score_run_record(tenant, as_of, scored_at, customers as i64, &summary.to_string())
        .await
        .context("recording the run")?;
    Ok(RunReport { customers, summary, seconds_read, seconds_score, seconds_write })
}

/// Every customer's scoring row in id order, read as `parts` id ranges on as many connections at
/// once (each page the database builds while another is parsed), then joined in order.
async fn read_scoring_rows(
    store: &Arc<dyn Store>,
    tenant: TenantId,
    parts: usize,
    reading: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<ScoringRow>> {
    let Some((low, high)) = store.customer_id_bounds(tenant).await.context("reading customer ids")? else {
        return Ok(Vec::new());
    };
    // Ranges of equal id span: ids are handed out in order, so spans hold similar numbers.
    let span = (high.0 - low.0) / parts.max(1) as i64 + 1;
    let mut tasks = Vec::new();
    let mut first = low.0;
    while first <= high.0 {
        let last = first.saturating_add(span - 1).min(high.0);
        let store = Arc::clone(store);
        let reading = reading.clone();
        tasks.push(tokio::spawn(async move {
            let mut rows: Vec<ScoringRow> = Vec::new();
            let mut after = CustomerId(first.saturating_sub(1));
            loop {
                let page = store
                    .scoring_rows_up_to(tenant, Some(after), CustomerId(last), PAGE)
                    .await
                    .context("reading customer aggregates")?;
                let done = page.len() < PAGE as usize;
                reading.inc(page.len() as u64);
                rows.extend(page);
                match rows.last() {
                    Some(row) if !done => after = row.customer_id,
                    _ => break,
                }
            }
            Ok::<_, anyhow::Error>(rows)
        }));
        if last == high.0 {
            break;
        }
        first = last + 1;
    }
    let mut rows = Vec::new();
    for task in tasks {
        let part = task.await.context("a reading task stopped")??;
        if rows.is_empty() {
            rows = part;
        } else {
            rows.extend(part);
        }
    }
    Ok(rows)
}

/// The run summary kept with the run: what the analyst views and the report read.
fn summary_json(summary: &RunSummary, customers: usize, as_of: time::Date) -> Value {
    let behaviour = &summary.behaviour;
    let stages: Vec<Value> = behaviour
        .stage_counts
        .iter()
        .map(|(stage, count)| json!({"stage": stage.code(), "label": stage.label_ja(), "customers": count}))
        .collect();
    let cells: serde_json::Map<String, Value> = behaviour
        .rfm
        .cells()
        .filter(|(_, count)| *count > 0)
        .map(|(cell, count)| (cell.to_string(), json!(count)))
        .collect();
    let bg_nbd = behaviour.bg_nbd.as_ref().map(|fit| {
        json!({"r": fit.params.r, "alpha": fit.params.alpha, "a": fit.params.a, "b": fit.params.b,
               "log_likelihood": fit.log_likelihood, "n_customers": fit.n_customers, "converged": fit.converged})
    });
    let gamma_gamma = behaviour.gamma_gamma.as_ref().map(|fit| {
        json!({"p": fit.params.p, "q": fit.params.q, "gamma": fit.params.gamma,
               "log_likelihood": fit.log_likelihood, "n_customers": fit.n_customers, "converged": fit.converged})
    });
    let churn = summary.churn_model.driver_model.as_ref().map(|model| {
        let drivers: Vec<Value> = model
            .drivers
            .iter()
            .map(|d| {
                json!({"code": &*d.code, "label": &*d.label_ja, "relative_risk": d.relative_risk,
                       "ci_low": d.ci_low, "ci_high": d.ci_high, "p_value": d.p_value,
                       "customers_with": d.customers_with, "churned_with": d.churned_with})
            })
            .collect();
        let dropped: Vec<Value> = model
            .dropped
            .iter()
            .map(|d| {
                json!({"code": &*d.code, "label": &*d.label_ja, "customers_with": d.customers_with,
                            "reason": format!("{:?}", d.reason)})
            })
            .collect();
        json!({"drivers": drivers, "dropped": dropped,
               "baseline_sbg": model.baseline.map(|p| json!({"gamma": p.gamma, "delta": p.delta})),
               "baseline_multiplier": model.baseline_multiplier,
               "subscribers": model.subscribers, "churned": model.churned, "decisions": model.decisions,
               "converged": model.converged})
    });
    let quadrants: Vec<Value> =
        [LoyaltyQuadrant::TrueLoyal, LoyaltyQuadrant::Latent, LoyaltyQuadrant::Spurious, LoyaltyQuadrant::Low]
            .iter()
            .map(|&q| {
                json!({"quadrant": q.code(), "label": q.label_ja(), "customers": summary.loyalty.count(q),
                   "near_loyal": summary.loyalty.near_loyal[q.index()].iter().sum::<u64>()})
            })
            .collect();
    let clusters = summary.clustering.as_ref().map(|clustering| {
        let list: Vec<Value> = clustering
            .clusters
            .iter()
            .map(|c| {
                let defining: Vec<Value> = c
                    .defining
                    .iter()
                    .map(|f| json!({"feature": f.feature.code(), "label": f.feature.label_ja(), "z": f.z, "mean": f.mean}))
                    .collect();
                json!({"id": c.id, "name": c.name_ja, "description": c.description_ja, "customers": c.size,
                       "share": c.share, "defining": defining})
            })
            .collect();
        let k_scores: Vec<Value> =
            clustering.k_scores.iter().map(|k| json!({"k": k.k, "silhouette": k.silhouette})).collect();
        json!({"k": clustering.k, "criterion": "mean silhouette", "k_scores": k_scores, "clusters": list})
    });
    let curve = |c: &kimochi_analytics::cohort::CohortCurve| {
        json!({"cohort": c.label(), "subscribers": c.subscribers, "cancelled": c.cancelled,
               "survival": c.survival, "at_risk": c.at_risk})
    };
    let cohorts = json!({
        "method": "kaplan_meier",
        "period": "renewal_decision",
        "curves": summary.cohorts.cohorts.iter().map(curve).collect::<Vec<Value>>(),
        "all": summary.cohorts.pooled.as_ref().map(curve),
    });
    json!({
        "as_of": format_date(as_of),
        "customers": customers,
        "stages": stages,
        "rfm": {"filled_cells": behaviour.rfm.filled_cells(), "scored": behaviour.rfm.total(), "cells": cells},
        "bg_nbd": bg_nbd,
        "gamma_gamma": gamma_gamma,
        "repeat_alerts": behaviour.repeat_alerts,
        "churn": churn,
        "churn_levels": {"low": summary.churn_levels[0], "medium": summary.churn_levels[1], "high": summary.churn_levels[2]},
        "loyalty": quadrants,
        "positive_dormants": summary.positive_dormants,
        "clusters": clusters,
        "cohorts": cohorts,
    })
}

fn print_report(slug: &str, as_of: time::Date, report: &RunReport) {
    let s = &report.summary;
    println!(
        "tenant {slug}: scored {} customers as of {} (read {:.1} s, scored {:.1} s while writing, written {:.1} s later)",
        report.customers,
        format_date(as_of),
        report.seconds_read,
        report.seconds_score,
        report.seconds_write
    );
    if let Some(stages) = s["stages"].as_array() {
        let parts: Vec<String> = stages
            .iter()
            .filter(|v| v["customers"].as_u64().unwrap_or(0) > 0)
            .map(|v| format!("{} {}", v["label"].as_str().unwrap_or(""), v["customers"]))
            .collect();
        println!("  stages: {}", parts.join(", "));
    }
    println!("  RFM: {} of 125 cells filled", s["rfm"]["filled_cells"]);
    if s["bg_nbd"].is_object() {
        println!(
            "  BG/NBD: r={:.3} alpha={:.3} a={:.3} b={:.3}",
            s["bg_nbd"]["r"].as_f64().unwrap_or(f64::NAN),
            s["bg_nbd"]["alpha"].as_f64().unwrap_or(f64::NAN),
            s["bg_nbd"]["a"].as_f64().unwrap_or(f64::NAN),
            s["bg_nbd"]["b"].as_f64().unwrap_or(f64::NAN)
        );
    }
    if s["gamma_gamma"].is_object() {
        println!(
            "  Gamma-Gamma: p={:.3} q={:.3} gamma={:.3}{}",
            s["gamma_gamma"]["p"].as_f64().unwrap_or(f64::NAN),
            s["gamma_gamma"]["q"].as_f64().unwrap_or(f64::NAN),
            s["gamma_gamma"]["gamma"].as_f64().unwrap_or(f64::NAN),
            if s["gamma_gamma"]["converged"].as_bool() == Some(true) {
                ""
            } else {
                " (did not converge: spend per purchase hardly varies within customers; expected spend ≈ each customer's mean)"
            }
        );
    }
    println!(
        "  churn risk: high {}, medium {}, low {}; repeat alerts {}; positive dormants {}",
        s["churn_levels"]["high"],
        s["churn_levels"]["medium"],
        s["churn_levels"]["low"],
        s["repeat_alerts"],
        s["positive_dormants"]
    );
    if let Some(drivers) = s["churn"]["drivers"].as_array() {
        for driver in drivers.iter().take(8) {
            println!(
                "  churn driver {}: ×{:.2} (95% CI {:.2}–{:.2}, {} subscribers)",
                driver["label"].as_str().unwrap_or(""),
                driver["relative_risk"].as_f64().unwrap_or(f64::NAN),
                driver["ci_low"].as_f64().unwrap_or(f64::NAN),
                driver["ci_high"].as_f64().unwrap_or(f64::NAN),
                driver["customers_with"]
            );
        }
    }
    if let Some(quadrants) = s["loyalty"].as_array() {
        let parts: Vec<String> =
            quadrants.iter().map(|q| format!("{} {}", q["label"].as_str().unwrap_or(""), q["customers"])).collect();
        println!("  loyalty: {}", parts.join(", "));
    }
    if let Some(clusters) = s["clusters"]["clusters"].as_array() {
        println!("  customer types (k = {}, by mean silhouette):", s["clusters"]["k"]);
        for cluster in clusters {
            println!(
                "    {} 「{}」 {}: {}",
                cluster["id"],
                cluster["name"].as_str().unwrap_or(""),
                cluster["customers"],
                cluster["description"].as_str().unwrap_or("")
            );
        }
    }
}
