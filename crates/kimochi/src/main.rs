//! The `kimochi` binary: thin glue that parses the command line, builds the configuration and
//! calls the library crates. Every command says what it does in `--help`.

mod analysis;
mod campaign;
mod cli;
mod config;
mod demo;
mod email;
mod files;
mod people;
mod scoring;
mod search;
mod text;
mod voc;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KIMOCHI_LOG").unwrap_or_else(|_| "kimochi=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = config::Config::load(&cli.global)?;
    match cli.command {
        Command::Serve(args) => people::serve(&config, args).await,
        Command::Demo(args) => demo::run(&config, args).await,
        Command::Tenant(command) => people::tenant(&config, command).await,
        Command::User(command) => people::user(&config, command).await,
        Command::Token(command) => people::token(&config, command).await,
        Command::Import(args) => files::import(&config, args).await,
        Command::Export(args) => files::export(&config, args).await,
        Command::Analyze(args) => scoring::analyze(&config, args).await,
        Command::Text(command) => text::run(command),
        Command::Rfm(args) => analysis::rfm(args),
        Command::Clv(command) => analysis::clv(command),
        Command::Search(command) => search::run(&config, command).await,
        Command::Voc(command) => voc::run(&config, command).await,
        Command::Email(command) => email::run(&config, command).await,
        Command::Campaign(command) => campaign::run(&config, command).await,
    }
}

/// The current time. The one place the command line reads the clock.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}
