//! The command line, declared with clap. Flags that configure a deployment also read a
//! `KIMOCHI_…` environment variable; both override `kimochi.toml`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kimochi",
    version,
    about = "kimochi — a contact-center CRM that turns every conversation into kimochi data (キモチデータ)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Database URL: sqlite://FILE (embedded; created if missing) or postgres://USER@HOST/DB.
    /// Default: sqlite://data/kimochi.db, or `db` in kimochi.toml.
    #[arg(long, global = true, env = "KIMOCHI_DB")]
    pub db: Option<String>,
    /// Configuration file (keys: db, addr, secure_cookies, search_index, public_url, [smtp]). Default: ./kimochi.toml if present.
    #[arg(long, global = true, env = "KIMOCHI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Folder of the FAQ/VOC search index (owned by one process at a time). Default: beside the
    /// SQLite file (FILE.search), data/search-index for PostgreSQL, or `search_index` in kimochi.toml.
    #[arg(long, global = true, env = "KIMOCHI_SEARCH_INDEX")]
    pub search_index: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (JSON API, login, metrics).
    Serve(ServeArgs),
    /// Generate a deterministic demo tenant: a Japanese cosmetics mail-order business with
    /// customers, orders, contacts on every channel, kimochi notes, operators and FAQ.
    Demo(DemoArgs),
    /// Create and list tenants (the client companies of the center).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Create and list the people who log in.
    #[command(subcommand)]
    User(UserCommand),
    /// Create API bearer tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import a CSV file (UTF-8, UTF-8 with BOM or Shift_JIS; English or Japanese headers).
    /// Idempotent by external id. Any bad row: every problem is reported, nothing is imported.
    Import(ImportArgs),
    /// Export a tenant's customers, orders or contacts as CSV (UTF-8 with BOM) or xlsx.
    Export(ExportArgs),
    /// Rescore every customer from the stored aggregates: stage, RFM cell, P(alive), CLV,
    /// repeat alerts, churn risk with reasons, loyalty quadrant, positive dormants, customer
    /// types. Scores are kept (the karte shows them) with a run summary. Stages follow each
    /// tenant's thresholds as set on /admin/settings.
    Analyze(AnalyzeArgs),
    /// The Japanese text engine on plain text, without a database.
    #[command(subcommand)]
    Text(TextCommand),
    /// RFM scores (recency, frequency, monetary in 5 levels; 125 cells) from a transactions
    /// file, without a database.
    Rfm(RfmArgs),
    /// Customer-lifetime-value models (BG/NBD, Pareto/NBD, Gamma-Gamma) on a transactions
    /// file, without a database. Time unit: weeks; purchases on the same day are merged;
    /// frequency counts repeat purchases.
    #[command(subcommand)]
    Clv(ClvCommand),
    /// The FAQ and VOC full-text search index: rebuild it from the database.
    #[command(subcommand)]
    Search(crate::search::SearchCommand),
    /// Voice-of-customer reports from the stored contacts: lost-order reasons, call reasons
    /// with emerging topics, churn drivers.
    #[command(subcommand)]
    Voc(crate::voc::VocCommand),
    /// Outbound email: send what is queued (for cron when no `kimochi serve` runs; the server
    /// sends on its own when `[smtp]` is configured).
    #[command(subcommand)]
    Email(crate::email::EmailCommand),
    /// Outbound care campaigns: run the steps (emails due, waits, call lists) up to now.
    #[command(subcommand)]
    Campaign(crate::campaign::CampaignCommand),
}

/// Where a transactions file keeps its three columns, and how to read it.
#[derive(Debug, Args)]
pub struct TransactionsFormat {
    #[arg(long, default_value = "customer_id")]
    pub customer_column: String,
    #[arg(long, default_value = "date")]
    pub date_column: String,
    #[arg(long, default_value = "amount")]
    pub amount_column: String,
    #[arg(long, value_enum, default_value = "auto")]
    pub encoding: EncodingArg,
    /// Use the good rows and report the bad ones, instead of stopping.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Threads that read and group the file, and that compute `clv predict`'s predictions
    /// (default: one per core). A file with quote characters is read on one thread.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// A transactions file and how to read it.
#[derive(Debug, Args)]
pub struct TransactionsArgs {
    /// The transactions CSV (UTF-8, UTF-8 with BOM or Shift_JIS), one purchase a row.
    #[arg(long)]
    pub transactions: PathBuf,
    #[command(flatten)]
    pub format: TransactionsFormat,
}

/// What the CLV models are fitted on: a transactions file, or a per-customer summary made
/// elsewhere (e.g. by `lifetimes.utils.summary_data_from_transaction_data`).
#[derive(Debug, Args)]
pub struct ClvInputArgs {
    /// The transactions CSV (UTF-8, UTF-8 with BOM or Shift_JIS), one purchase a row.
    #[arg(long, required_unless_present = "summary", conflicts_with = "summary")]
    pub transactions: Option<PathBuf>,
    /// Instead of transactions: a summary CSV with the columns
    /// customer_id,frequency,recency,T,monetary_value (weeks; frequency counts repeat purchase
    /// days; monetary_value is the mean of the repeat purchases; the convention of `lifetimes`).
    #[arg(long)]
    pub summary: Option<PathBuf>,
    #[command(flatten)]
    pub format: TransactionsFormat,
}

#[derive(Debug, Args)]
pub struct RfmArgs {
    #[command(flatten)]
    pub input: TransactionsArgs,
    /// The day the scores are computed for (YYYY-MM-DD); later purchases are ignored.
    #[arg(long)]
    pub as_of: String,
    /// Output CSV: customer_id,recency_days,frequency,monetary,r,f,m,cell. Standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Never split equal values across levels (default: split by rank, then customer id, so
    /// that levels stay equal-count).
    #[arg(long)]
    pub keep_ties: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClvModelArg {
    Bgnbd,
    Pnbd,
    Gg,
}

#[derive(Debug, Subcommand)]
pub enum ClvCommand {
    /// Fit a model by maximum likelihood and print its parameters.
    Fit {
        #[command(flatten)]
        input: ClvInputArgs,
        /// End of the calibration period (YYYY-MM-DD); later purchases are ignored. Needed with
        /// --transactions (a summary already ends there).
        #[arg(long, required_unless_present = "summary")]
        calibration_end: Option<String>,
        #[arg(long, value_enum)]
        model: ClvModelArg,
        /// Print {"model","params","log_likelihood","n_customers","standard_errors"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fit BG/NBD and Gamma-Gamma, then predict per customer:
    /// customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv.
    Predict {
        #[command(flatten)]
        input: ClvInputArgs,
        /// End of the calibration period (YYYY-MM-DD), needed with --transactions.
        #[arg(long, required_unless_present = "summary")]
        calibration_end: Option<String>,
        /// Prediction horizon in weeks (expected purchases and CLV cover it).
        #[arg(long)]
        horizon_weeks: f64,
        /// Discount rate per month (about 4.345 weeks) for the CLV.
        #[arg(long, default_value_t = 0.01)]
        monthly_discount_rate: f64,
        /// Output CSV; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Default: 127.0.0.1:8080, or `addr` in kimochi.toml.
    #[arg(long, env = "KIMOCHI_ADDR")]
    pub addr: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of customers to generate (orders ≈ 10×, contacts ≈ 5×).
    #[arg(long, default_value_t = 20_000)]
    pub customers: u64,
    /// Random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Slug of the demo tenant.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Last day of the simulated history (YYYY-MM-DD). Fixed by default so that a seed always
    /// gives the same data.
    #[arg(long, default_value = "2026-10-31")]
    pub as_of: String,
    /// After loading (or when the demo tenant already exists), start the web server.
    #[arg(long)]
    pub serve: bool,
    /// Address to listen on with --serve.
    #[arg(long, env = "KIMOCHI_ADDR")]
    pub addr: Option<String>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Slug of the tenant to score. Default: every tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Score as of this day (YYYY-MM-DD): only what happened up to it counts. Default:
    /// yesterday in Japan time.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Seed of the customer-type clustering; the same data and seed give the same types.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum TextCommand {
    /// Read lines on standard input (UTF-8; invalid bytes are replaced) and write one JSON object
    /// per line: {"text","polarity","score","kimochi","spans"}. Personal data (phone numbers,
    /// emails, card numbers) is masked in `text`, and span offsets are UTF-8 byte offsets into it.
    Analyze {
        /// A tenant lexicon to add to the built-in one (the format of
        /// crates/kimochi-text/lexicon/kimochi.tsv); errors name the file and line.
        #[arg(long)]
        lexicon: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Short name: 2–40 of a-z, 0-9 and inner hyphens.
        slug: String,
        /// Display name (e.g. the client company's name). Default: the slug.
        #[arg(long)]
        name: Option<String>,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input (one line) or from
    /// KIMOCHI_PASSWORD, never from a flag, so that it stays out of shell history.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        /// Name shown on screens.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Team name; created if it does not exist.
        #[arg(long)]
        team: Option<String>,
    },
    /// List a tenant's users.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it (it is shown only once; only its hash is stored).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// What the token is for.
        #[arg(long, default_value = "api")]
        label: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Agent,
    Supervisor,
    Analyst,
    Admin,
}

impl From<RoleArg> for kimochi_domain::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Agent => kimochi_domain::Role::Agent,
            RoleArg::Supervisor => kimochi_domain::Role::Supervisor,
            RoleArg::Analyst => kimochi_domain::Role::Analyst,
            RoleArg::Admin => kimochi_domain::Role::Admin,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportKindArg {
    Customers,
    Products,
    Orders,
    Contacts,
    /// Behavioural data (T1), with `--kind survey|web|email`: CSV or JSON lines; customers
    /// named by external id, email or phone.
    Events,
}

/// What an events file holds.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EventKindArg {
    /// Survey answers: customer, survey (アンケート), question (設問), answer (回答), answered_at (回答日時).
    Survey,
    /// Web access log: customer, url, accessed_at (アクセス日時), referrer (リファラー).
    Web,
    /// Email opens/clicks from an outside mail tool: customer, event (開封/クリック), occurred_at, url, campaign.
    Email,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    #[value(name = "shift_jis", alias = "sjis", alias = "cp932")]
    ShiftJis,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: ImportKindArg,
    /// The CSV file (events: CSV or JSON lines).
    pub file: PathBuf,
    /// For `events`: survey answers, web access log, or email opens/clicks.
    #[arg(long = "kind", id = "event_kind", value_enum, required_if_eq("kind", "events"))]
    pub event_kind: Option<EventKindArg>,
    /// Tenant slug.
    #[arg(long)]
    pub tenant: String,
    /// Text encoding of the file; auto detects UTF-8 (with or without BOM) and Shift_JIS/CP932.
    #[arg(long, value_enum, default_value = "auto")]
    pub encoding: EncodingArg,
    /// Check everything (including references to other records) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the good rows and report the bad ones, instead of importing nothing.
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportKindArg {
    Customers,
    Orders,
    Contacts,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub kind: ExportKindArg,
    #[arg(long)]
    pub tenant: String,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Output file; standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
}
