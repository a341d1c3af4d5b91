//! `kimochi campaign run`: the step runner of outbound care campaigns, once, for one tenant —
//! each treatment member moves on as far as the time allows (emails due, waits ended, call
//! lists opened). `kimochi serve` runs the same every minute for every tenant.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::people::{open, tenant_id};

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Advance every campaign of a tenant to now: queue the emails that came due in the email
    /// outbox (sent by `kimochi serve` or `kimochi email send-queued`), end waits, and put those a
    /// call step selects on the operators' call list. Safe to run at any time and any number of
    /// times.
    Run(CampaignRunArgs),
}

#[derive(Debug, Args)]
pub struct CampaignRunArgs {
    #[arg(long)]
    pub tenant: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(config: &Config, command: CampaignCommand) -> anyhow::Result<ExitCode> {
    let CampaignCommand::Run(args) = command;
    let store = open(config).await?;
    let tenant = tenant_id(&store, &args.tenant).await?;
    let report = store.campaign_run(tenant, crate::now()).await.context("running the campaign steps")?;
    // Due emails go to the outbox; `kimochi email send-queued` (or `serve`) sends them.
    let handoff = kimochi_web::campaigns::queue_campaign_emails(store.as_ref(), tenant, crate::now())
        .await
        .context("queueing the campaign emails")?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "campaigns": report.campaigns,
                "advanced": report.advanced,
                "emails_due": report.emails_due,
                "emails_skipped": report.emails_skipped,
                "calls_opened": report.calls_opened,
                "emails_queued": handoff.queued,
                "emails_refused": handoff.refused,
            })
        );
    } else {
        println!(
            "{} キャンペーン: {} 人が次のステップへ（メール送信予定 {}、同意なしでメール省略 {}、架電リスト追加 {}）",
            report.campaigns, report.advanced, report.emails_due, report.emails_skipped, report.calls_opened
        );
        println!(
            "メール送信キューへ {} 通（同意の取り下げ等で送らなかったもの {} 通）。送信は kimochi serve または kimochi email send-queued が行います。",
            handoff.queued, handoff.refused
        );
    }
    Ok(ExitCode::SUCCESS)
}
