//! `kimochi import` and `kimochi export`: files in, files out, all-or-nothing by default.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use kimochi_domain::import::{ImportMode, ImportOptions, ImportReport, Line, OnInvalid, RowProblem};
use kimochi_domain::{Actor, AuditEntry, Customer, CustomerStats, ProductId};
use kimochi_io::{Cell, ContactRefs, CsvSink, Encoding, Parsed, XlsxSink};
use kimochi_store::{Page, Store, StoreError};

use crate::cli::{EncodingArg, ExportArgs, ExportKindArg, FormatArg, ImportArgs, ImportKindArg};
use crate::config::Config;
use crate::people::{open, tenant_id};

/// What the store's import methods return.
type ImportFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<ImportReport, StoreError>> + Send + 'a>>;

/// Rows read from the database per page when exporting.
const EXPORT_PAGE: u32 = 5_000;

pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let encoding = match args.encoding {
        EncodingArg::Auto => Encoding::Auto,
        EncodingArg::Utf8 => Encoding::Utf8,
        EncodingArg::ShiftJis => Encoding::ShiftJis,
    };
    let file = args.file.display().to_string();
    let decoded = match kimochi_io::decode(&bytes, encoding) {
        Ok(decoded) => decoded,
        Err(error) => {
            eprintln!("{file}: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let store = open(config).await?;
    let tenant = tenant_id(&store, &args.tenant).await?;
    let options = ImportOptions {
        on_invalid: if args.skip_invalid { OnInvalid::Skip } else { OnInvalid::Reject },
        mode: if args.dry_run { ImportMode::DryRun } else { ImportMode::Commit },
    };
    let text = decoded.text;
    let now = crate::now();
    let outcome = match args.kind {
        ImportKindArg::Customers => {
            let parsed = kimochi_io::parse_customers(&text);
            run_import(&file, &parsed, options, |rows, options| store.import_customers(tenant, rows, options, now))
                .await
        }
        ImportKindArg::Products => {
            let parsed = kimochi_io::parse_products(&text);
            run_import(&file, &parsed, options, |rows, options| store.import_products(tenant, rows, options)).await
        }
        ImportKindArg::Orders => {
            let parsed = kimochi_io::parse_orders(&text);
            run_import(&file, &parsed, options, |rows, options| store.import_orders(tenant, rows, options)).await
        }
        ImportKindArg::Contacts => {
            let mut parsed = kimochi_io::parse_contacts(&text);
            // The text engine reads every contact as it comes in, like the API does.
            let tagger = kimochi_text::ContactTagger::shared().context("starting the text engine")?;
            // With the tenant's own crisis words: a contact that carries one gets its alert in
            // the import's transaction (and its webhooks in the outbox).
            let words = store.crisis_word_list(tenant).await.context("reading the tenant's crisis words")?;
            let crisis = tagger
                .builtin_crisis()
                .with_tenant_words(
                    words.iter().map(|w| (w.phrase.as_str(), kimochi_text::Severity::from_domain(w.severity))),
                )
                .context("compiling the tenant's crisis words")?;
            // And with the tenant's own lexicon, like the API.
            let own = match store.tenant_lexicon(tenant).await.context("reading the tenant's lexicon")? {
                Some(source) if !source.trim().is_empty() => Some(
                    kimochi_text::Analyzer::with_tenant_lexicon("lexicon", &source)
                        .context("compiling the tenant's lexicon")?,
                ),
                _ => None,
            };
            let analyzer = own.as_ref().unwrap_or(tagger.analyzer());
            if let Ok(parsed) = &mut parsed {
                for row in &mut parsed.rows {
                    row.record.tags = kimochi_text::contact_tags_using(analyzer, &row.record.text, &crisis);
                }
            }
            run_import(&file, &parsed, options, |rows, options| store.import_contacts(tenant, rows, options)).await
        }
        ImportKindArg::Events => {
            let kind = match args.event_kind {
                Some(crate::cli::EventKindArg::Survey) => kimochi_domain::behavior::EventKind::Survey,
                Some(crate::cli::EventKindArg::Web) => kimochi_domain::behavior::EventKind::Web,
                Some(crate::cli::EventKindArg::Email) => kimochi_domain::behavior::EventKind::Email,
                None => anyhow::bail!("import events needs --kind survey|web|email"),
            };
            let parsed = kimochi_io::parse_events(kind, &text);
            run_import(&file, &parsed, options, |rows, options| store.import_events(tenant, rows, options)).await
        }
    }?;
    let Some(report) = outcome else { return Ok(ExitCode::FAILURE) };
    let kind = format!("{:?}", args.kind).to_lowercase();
    if !args.dry_run {
        let detail =
            format!("{file}: {} inserted, {} updated, {} skipped", report.inserted, report.updated, report.skipped);
        store
            .audit_append(
                tenant,
                &AuditEntry {
                    at: crate::now(),
                    actor: Actor::Cli,
                    action: format!("{kind}.import"),
                    customer_id: None,
                    detail,
                },
            )
            .await
            .context("writing the audit log")?;
    }
    let verb = if args.dry_run { "would import" } else { "imported" };
    println!(
        "{file}: {verb} {kind}: {} new, {} updated, {} rows skipped",
        report.inserted, report.updated, report.skipped
    );
    Ok(ExitCode::SUCCESS)
}

/// Validates, then imports. With rejected rows and no `--skip-invalid`, the store still checks
/// the valid rows in a dry run so that the report names every bad row at once (bad cells and
/// unknown references), and nothing is written.
async fn run_import<'s, T>(
    file: &str,
    parsed: &'s Result<Parsed<T>, kimochi_io::FileError>,
    options: ImportOptions,
    import: impl Fn(&'s [Line<T>], ImportOptions) -> ImportFuture<'s>,
) -> anyhow::Result<Option<ImportReport>> {
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("{file}: {error}");
            return Ok(None);
        }
    };
    let mut problems = parsed.problems.clone();
    if !problems.is_empty() && options.on_invalid == OnInvalid::Reject {
        let check = ImportOptions { on_invalid: OnInvalid::Skip, mode: ImportMode::DryRun };
        let report = import(&parsed.rows, check).await.context("checking references")?;
        problems.extend(report.problems);
        report_problems(file, &mut problems, true);
        return Ok(None);
    }
    let progress = indicatif::ProgressBar::new_spinner().with_message(format!("importing {} rows", parsed.rows.len()));
    progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    progress.enable_steady_tick(std::time::Duration::from_millis(200));
    let outcome = import(&parsed.rows, options).await;
    progress.finish_and_clear();
    match outcome {
        Ok(mut report) => {
            report.skipped += problems.iter().map(|p| p.line).collect::<std::collections::BTreeSet<_>>().len() as u64;
            problems.extend(std::mem::take(&mut report.problems));
            if !problems.is_empty() {
                report_problems(file, &mut problems, false);
            }
            Ok(Some(report))
        }
        Err(StoreError::ImportRejected(mut rejected)) => {
            report_problems(file, &mut rejected, true);
            Ok(None)
        }
        Err(error) => Err(error).context("importing"),
    }
}

fn report_problems(file: &str, problems: &mut [RowProblem], nothing_written: bool) {
    problems.sort_by_key(|p| p.line);
    for problem in problems.iter() {
        eprintln!("{file}:{}: column {}: {} (value {:?})", problem.line, problem.column, problem.reason, problem.value);
    }
    let rows = problems.iter().map(|p| p.line).collect::<std::collections::BTreeSet<_>>().len();
    if nothing_written {
        eprintln!(
            "{file}: {rows} bad rows; nothing was imported (fix them, or pass --skip-invalid to import the rest)"
        );
    } else {
        eprintln!("{file}: {rows} bad rows were skipped");
    }
}

/// Where exported rows go: CSV streams; xlsx is assembled in memory (the format is a zip).
enum Sink {
    Csv(Box<CsvSink<Box<dyn Write>>>),
    Xlsx(Box<XlsxSink>, Option<std::path::PathBuf>),
}

impl Sink {
    fn new(args: &ExportArgs, sheet: &str, columns: &[String]) -> anyhow::Result<Sink> {
        Ok(match args.format {
            FormatArg::Csv => {
                let out: Box<dyn Write> = match &args.out {
                    Some(path) => Box::new(std::io::BufWriter::new(
                        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
                    )),
                    None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
                };
                Sink::Csv(Box::new(CsvSink::new(out, columns)?))
            }
            FormatArg::Xlsx => Sink::Xlsx(Box::new(XlsxSink::new(sheet, columns)?), args.out.clone()),
        })
    }

    fn write(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        match self {
            Sink::Csv(sink) => sink.write_row(cells)?,
            Sink::Xlsx(sink, _) => sink.write_row(cells)?,
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Csv(sink) => {
                sink.finish()?.flush().context("writing the export")?;
            }
            Sink::Xlsx(sink, path) => {
                let bytes = sink.finish()?;
                match path {
                    Some(path) => {
                        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?
                    }
                    None => std::io::stdout().lock().write_all(&bytes).context("writing the export")?,
                }
            }
        }
        Ok(())
    }
}

/// A tenant's customers a page at a time, in id order, so that an export never holds a million
/// rows at once.
struct CustomerPages<'a> {
    store: &'a dyn Store,
    tenant: kimochi_domain::TenantId,
    after_id: i64,
}

impl<'a> CustomerPages<'a> {
    fn new(store: &'a dyn Store, tenant: kimochi_domain::TenantId) -> CustomerPages<'a> {
        CustomerPages { store, tenant, after_id: 0 }
    }

    async fn next(&mut self) -> anyhow::Result<Option<Vec<(Customer, CustomerStats)>>> {
        let page = self
            .store
            .customer_page(self.tenant, Page { after_id: self.after_id, limit: EXPORT_PAGE })
            .await
            .context("reading customers")?;
        let Some(last) = page.last() else { return Ok(None) };
        self.after_id = last.0.id.0;
        Ok(Some(page))
    }
}

/// Maps customer ids to the external ids an export writes (`#<id>` for customers without one).
async fn customer_refs(store: &dyn Store, tenant: kimochi_domain::TenantId) -> anyhow::Result<HashMap<i64, String>> {
    let mut refs = HashMap::new();
    let mut pages = CustomerPages::new(store, tenant);
    while let Some(page) = pages.next().await? {
        for (customer, _) in &page {
            refs.insert(
                customer.id.0,
                customer
                    .profile
                    .external_id
                    .as_ref()
                    .map_or_else(|| format!("#{}", customer.id), |e| e.as_str().to_owned()),
            );
        }
    }
    Ok(refs)
}

pub async fn export(config: &Config, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let tenant = tenant_id(&store, &args.tenant).await?;
    let progress = indicatif::ProgressBar::new_spinner().with_message("exporting");
    progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let mut rows = 0u64;
    match args.kind {
        ExportKindArg::Customers => {
            // Two passes: the columns include one per custom attribute key, known only at the end.
            let mut keys = std::collections::BTreeSet::new();
            let mut pages = CustomerPages::new(store.as_ref(), tenant);
            while let Some(page) = pages.next().await? {
                keys.extend(kimochi_io::attribute_keys(page.iter().map(|(c, _)| &c.profile)));
            }
            let keys: Vec<String> = keys.into_iter().collect();
            let mut sink = Sink::new(&args, "customers", &kimochi_io::customer_columns(&keys))?;
            let mut pages = CustomerPages::new(store.as_ref(), tenant);
            while let Some(page) = pages.next().await? {
                for (customer, stats) in &page {
                    sink.write(&kimochi_io::customer_row(customer, stats, &keys))?;
                    rows += 1;
                }
                progress.set_position(rows);
            }
            sink.finish()?;
        }
        ExportKindArg::Orders => {
            let customers = customer_refs(store.as_ref(), tenant).await?;
            let products: HashMap<i64, String> = store
                .product_list(tenant)
                .await
                .context("reading products")?
                .into_iter()
                .map(|p| (p.id.0, p.external_id.map_or_else(|| format!("#{}", p.id), |e| e.as_str().to_owned())))
                .collect();
            let product_ref = |id: ProductId| products.get(&id.0).cloned().unwrap_or_else(|| format!("#{id}"));
            let mut sink = Sink::new(&args, "orders", &kimochi_io::order_columns())?;
            let mut after_id = 0;
            loop {
                let page =
                    store.order_page(tenant, Page { after_id, limit: EXPORT_PAGE }).await.context("reading orders")?;
                let Some(last) = page.last() else { break };
                after_id = last.id.0;
                for order in &page {
                    let customer = customers.get(&order.customer_id.0).map_or("", String::as_str);
                    for row in kimochi_io::order_rows(order, customer, &product_ref) {
                        sink.write(&row)?;
                    }
                    rows += 1;
                }
                progress.set_position(rows);
            }
            sink.finish()?;
        }
        ExportKindArg::Contacts => {
            let customers = customer_refs(store.as_ref(), tenant).await?;
            let agents: HashMap<i64, String> = store
                .user_list(tenant)
                .await
                .context("reading users")?
                .into_iter()
                .map(|u| (u.id.0, u.login))
                .collect();
            let mut contact_refs: HashMap<i64, String> = HashMap::new();
            let mut sink = Sink::new(&args, "contacts", &kimochi_io::contact_columns())?;
            let mut after_id = 0;
            loop {
                let page = store
                    .contact_page(tenant, Page { after_id, limit: EXPORT_PAGE })
                    .await
                    .context("reading contacts")?;
                let Some(last) = page.last() else { break };
                after_id = last.id.0;
                for contact in &page {
                    let own = contact
                        .external_id
                        .as_ref()
                        .map_or_else(|| format!("#{}", contact.id), |e| e.as_str().to_owned());
                    // Threads start with their earliest contact, which has a lower id and was written already.
                    let thread = (contact.thread_id != contact.id).then(|| {
                        contact_refs
                            .get(&contact.thread_id.0)
                            .cloned()
                            .unwrap_or_else(|| format!("#{}", contact.thread_id))
                    });
                    let refs = ContactRefs {
                        customer_external_id: customers.get(&contact.customer_id.0).map_or("", String::as_str),
                        thread_external_id: thread.as_deref(),
                        agent_login: contact.agent_id.and_then(|a| agents.get(&a.0)).map(String::as_str),
                    };
                    sink.write(&kimochi_io::contact_row(contact, refs))?;
                    if contact.thread_id == contact.id {
                        contact_refs.insert(contact.id.0, own);
                    }
                    rows += 1;
                }
                progress.set_position(rows);
            }
            sink.finish()?;
        }
    }
    progress.finish_and_clear();
    let kind = format!("{:?}", args.kind).to_lowercase();
    store
        .audit_append(
            tenant,
            &AuditEntry {
                at: crate::now(),
                actor: Actor::Cli,
                action: format!("{kind}.export"),
                customer_id: None,
                detail: format!("{rows} rows"),
            },
        )
        .await
        .context("writing the audit log")?;
    eprintln!("exported {rows} {kind}");
    Ok(ExitCode::SUCCESS)
}
