//! `kimochi email send-queued`: one pass of the email sender (`kimochi_web::email::send_due`)
//! for cron, when no `kimochi serve` is running to send on its own.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::people::open;

#[derive(Debug, Subcommand)]
pub enum EmailCommand {
    /// Send every queued email that is due, through `[smtp]` in kimochi.toml, and print what
    /// happened. A message is marked sent only after the SMTP server accepted it; one that
    /// fails is retried by a later run (backoff), a permanent refusal (5xx) becomes bounced.
    /// Exits 1 when no SMTP server is configured.
    SendQueued,
}

pub async fn run(config: &Config, command: EmailCommand) -> anyhow::Result<ExitCode> {
    match command {
        EmailCommand::SendQueued => {
            if config.email.smtp.is_none() {
                anyhow::bail!("no SMTP server is configured: add [smtp] host and from to kimochi.toml");
            }
            let store = open(config).await?;
            let summary = kimochi_web::email::send_due(store, &config.email)
                .await
                .map_err(anyhow::Error::msg)
                .context("sending queued email")?;
            println!(
                "sent {}, to retry {}, failed {}, bounced {}",
                summary.sent, summary.retried, summary.failed, summary.bounced
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
