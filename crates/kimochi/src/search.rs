//! `kimochi search reindex`: rebuilds the FAQ/VOC search index from the database, and opening
//! the index for `serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use kimochi_search::{IndexConfig, SearchIndex};

use crate::config::Config;
use crate::people::{open, tenant_id};

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild the index from the database: every tenant, or one. Needs the index to itself:
    /// stop `kimochi serve` first (a running server keeps its index in step by itself).
    Reindex {
        /// Only this tenant (its slug).
        #[arg(long)]
        tenant: Option<String>,
        /// Indexing threads (default: one per core).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
    },
}

/// Opens (or creates) the configured index folder.
pub fn open_index(config: &Config, index_config: IndexConfig) -> anyhow::Result<Arc<SearchIndex>> {
    let dir = config.search_index_dir();
    let index =
        SearchIndex::open(&dir, index_config).with_context(|| format!("opening the search index {}", dir.display()))?;
    Ok(Arc::new(index))
}

pub async fn run(config: &Config, command: SearchCommand) -> anyhow::Result<ExitCode> {
    let SearchCommand::Reindex { tenant, threads } = command;
    let store = open(config).await?;
    let threads = threads.map_or_else(|| std::thread::available_parallelism().map_or(1, usize::from), usize::from);
    let index = open_index(config, IndexConfig { threads })?;
    let tenants = match &tenant {
        Some(slug) => vec![(tenant_id(&store, slug).await?, slug.clone())],
        None => store
            .tenant_list()
            .await
            .context("listing tenants")?
            .into_iter()
            .map(|t| (t.id, t.slug.to_string()))
            .collect(),
    };
    let visible = std::io::IsTerminal::is_terminal(&std::io::stderr());
    for (id, slug) in tenants {
        let bar = if visible { indicatif::ProgressBar::new_spinner() } else { indicatif::ProgressBar::hidden() };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {pos} contacts ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("indexing {slug}"));
        let started = std::time::Instant::now();
        let indexed = kimochi_search::sync::reindex_tenant(store.as_ref(), &index, id, &mut |read| {
            bar.set_position(read as u64);
        })
        .await
        .with_context(|| format!("rebuilding the search index of {slug}"))?;
        bar.finish_and_clear();
        println!(
            "{slug}: {} FAQ articles and {} contacts indexed in {:.1} s",
            indexed.faq,
            indexed.contacts,
            started.elapsed().as_secs_f64()
        );
    }
    println!("search index: {}", config.search_index_dir().display());
    Ok(ExitCode::SUCCESS)
}
