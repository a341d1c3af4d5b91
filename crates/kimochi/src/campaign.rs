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
    /// Advance every campaign of a tenant to now: decide who is due an email (recorded for the
    /// email outbox), end waits, and put those a call step selects on the operators' call list.
    /// Safe to run at any time and any number of times.
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
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "campaigns": report.campaigns,
                "advanced": report.advanced,
                "emails_due": report.emails_due,
                "emails_skipped": report.emails_skipped,
                "calls_opened": report.calls_opened,
            })
        );
    } else {
        println!(
            "{} キャンペーン: {} 人が次のステップへ（メール送信予定 {}、同意なしでメール省略 {}、架電リスト追加 {}）",
            report.campaigns, report.advanced, report.emails_due, report.emails_skipped, report.calls_opened
        );
    }
    Ok(ExitCode::SUCCESS)
}
