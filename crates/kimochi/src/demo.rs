//! `kimochi demo`: creates the demo tenant and loads generated data. Generation runs on every
//! core (chunks are independent and deterministic); loading runs in chunk order, so the same
//! seed gives the same ids as well as the same data.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use kimochi_demo::{DEMO_PASSWORD, DemoConfig, DemoIds};
use kimochi_domain::datetime::parse_date;
use kimochi_domain::import::BulkChunk;
use kimochi_domain::{NewUser, Role, TenantSlug};
use kimochi_store::StoreError;
use kimochi_web::auth;

use crate::cli::DemoArgs;
use crate::config::Config;
use crate::people::{listen, open};

/// Customers per generated chunk, written in one transaction.
const CHUNK_CUSTOMERS: u64 = 2_000;

pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let as_of = parse_date("as_of", &args.as_of).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?;
    let slug = TenantSlug::parse(&args.tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let store = open(config).await?;
    match store.tenant_by_slug(slug.as_str()).await {
        Ok(_) => {
            println!("tenant {slug} already exists; not generating it again (use --tenant for another)");
        }
        Err(StoreError::NotFound(_)) => generate(&store, &slug, &args, as_of).await?,
        Err(error) => return Err(error).context("reading tenants"),
    }
    println!(
        "log in at /login with tenant `{slug}`, login `op01` (operator), `sv01` (supervisor), `analyst01` (analyst) or `admin`, password `{DEMO_PASSWORD}`"
    );
    if args.serve {
        listen(config, store, args.addr.as_deref()).await?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn generate(
    store: &Arc<dyn kimochi_store::Store>,
    slug: &TenantSlug,
    args: &DemoArgs,
    as_of: time::Date,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = crate::now();
    let tenant = store.tenant_create(slug, "うるおい化粧品（デモ）", now).await.context("creating the demo tenant")?;
    let mut team_ids = Vec::new();
    for team in kimochi_demo::demo_teams() {
        team_ids.push(store.team_create(tenant.id, team).await.context("creating teams")?.id);
    }
    let users = kimochi_demo::demo_users();
    // One argon2 hash per user, off the async threads.
    let hashes = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        (0..kimochi_demo::demo_users().len())
            .map(|_| auth::hash_password(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("hashing: {e}")))
            .collect()
    })
    .await
    .context("hashing passwords")??;
    let mut agents = Vec::new();
    for (user, password_hash) in users.iter().zip(hashes) {
        let new = NewUser {
            login: user.login.to_owned(),
            display_name: user.display_name.to_owned(),
            role: user.role,
            team_id: user.team.map(|t| team_ids[t]),
            password_hash,
        };
        let created = store.user_create(tenant.id, &new, now).await.context("creating users")?;
        if user.role == Role::Agent {
            agents.push(created.id);
        }
    }
    let mut products = Vec::new();
    for product in kimochi_demo::demo_products() {
        products.push(store.product_create(tenant.id, &product).await.context("creating products")?.id);
    }
    for faq in kimochi_demo::demo_faq() {
        store.faq_create(tenant.id, &faq, now).await.context("creating FAQ")?;
    }
    let hearing_set = store
        .hearing_set_create(tenant.id, &kimochi_demo::demo_hearing_set(), now)
        .await
        .context("creating the hearing-point set")?;
    let demo_config = DemoConfig::new(args.customers, args.seed, as_of);
    let ids = DemoIds {
        products,
        agents,
        hearing_set: Some(hearing_set.id),
        hearing_questions: hearing_set.questions.iter().map(|q| q.id).collect(),
    };
    load(store, tenant.id, demo_config, ids, now).await?;
    store.analyze().await.context("refreshing planner statistics")?;
    let counts = store.tenant_counts(tenant.id).await.context("counting")?;
    println!(
        "demo tenant {slug}: {} customers, {} orders, {} contacts, {} kimochi notes in {:.1} s",
        counts.customers,
        counts.orders,
        counts.contacts,
        counts.kimochi_notes,
        started.elapsed().as_secs_f64()
    );
    // Score at once, as of the last simulated day, so the karte and the analyst views have
    // something to show on the first login.
    let report =
        crate::scoring::score_tenant(store, tenant.id, as_of, 0, true).await.context("scoring the demo tenant")?;
    println!(
        "scored {} customers as of {} in {:.1} s (run `kimochi analyze --tenant {slug} --as-of {}` to rescore)",
        report.customers,
        kimochi_domain::datetime::format_date(as_of),
        report.seconds_read + report.seconds_score + report.seconds_write,
        kimochi_domain::datetime::format_date(as_of)
    );
    Ok(())
}

async fn load(
    store: &Arc<dyn kimochi_store::Store>,
    tenant: kimochi_domain::TenantId,
    config: DemoConfig,
    ids: DemoIds,
    now: time::OffsetDateTime,
) -> anyhow::Result<()> {
    let chunks = config.customers.div_ceil(CHUNK_CUSTOMERS);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(u64, BulkChunk)>(workers * 2);
    let next = Arc::new(AtomicU64::new(0));
    let config = Arc::new(config);
    let ids = Arc::new(ids);
    let tagger = kimochi_text::ContactTagger::shared().context("starting the text engine")?;
    let mut threads = Vec::new();
    for _ in 0..workers {
        let (sender, next, config, ids) = (sender.clone(), next.clone(), config.clone(), ids.clone());
        threads.push(std::thread::spawn(move || {
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= chunks {
                    break;
                }
                let first = index * CHUNK_CUSTOMERS;
                let count = CHUNK_CUSTOMERS.min(config.customers - first);
                let (mut chunk, _truth) = kimochi_demo::generate_chunk(&config, &ids, first, count);
                // Each generator thread also runs the text engine on its contacts, as the API
                // and the importer do for real ones.
                for contact in &mut chunk.contacts {
                    contact.tags = tagger.contact_tags(&contact.text);
                }
                if sender.blocking_send((index, chunk)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(sender);
    let progress = indicatif::ProgressBar::new(config.customers)
        .with_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} customers ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
        .with_message("generating and loading");
    let mut pending: BTreeMap<u64, BulkChunk> = BTreeMap::new();
    let mut expected = 0u64;
    while let Some((index, chunk)) = receiver.recv().await {
        pending.insert(index, chunk);
        while let Some(chunk) = pending.remove(&expected) {
            store.bulk_load(tenant, &chunk, now).await.with_context(|| format!("loading chunk {expected}"))?;
            progress.inc(chunk.customers.len() as u64);
            expected += 1;
        }
    }
    progress.finish_and_clear();
    for thread in threads {
        thread.join().map_err(|_| anyhow::anyhow!("a generator thread panicked"))?;
    }
    anyhow::ensure!(expected == chunks, "generated {expected} of {chunks} chunks");
    Ok(())
}
