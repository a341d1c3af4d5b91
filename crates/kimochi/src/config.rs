//! Configuration: defaults, then `kimochi.toml`, then `KIMOCHI_…` environment variables and
//! flags (clap merges those two).

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::cli::GlobalArgs;

pub const DEFAULT_DB: &str = "sqlite://data/kimochi.db";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<String>,
    addr: Option<String>,
    secure_cookies: Option<bool>,
    search_index: Option<std::path::PathBuf>,
    /// Where readers' mail clients reach the tracking links (`https://crm.example.jp`).
    public_url: Option<String>,
    smtp: Option<SmtpFileConfig>,
}

/// `[smtp]`: the relay kimochi hands email to (plain SMTP, optionally with AUTH; the relay does
/// TLS and DKIM — no TLS stack is built into kimochi).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFileConfig {
    host: String,
    #[serde(default = "default_smtp_port")]
    port: u16,
    from: String,
    username: Option<String>,
    /// Better given as `KIMOCHI_SMTP_PASSWORD`, which wins over the file.
    password: Option<String>,
    /// Only `"none"` (the default) is supported.
    tls: Option<String>,
}

impl std::fmt::Debug for SmtpFileConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpFileConfig").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

fn default_smtp_port() -> u16 {
    25
}

#[derive(Debug, Clone)]
pub struct Config {
    pub db: String,
    pub addr: String,
    pub secure_cookies: bool,
    /// The search index folder; see [`Config::search_index_dir`].
    pub search_index: Option<std::path::PathBuf>,
    /// SMTP sending and tracking links (`[smtp]`, `public_url`).
    pub email: kimochi_web::email::EmailConfig,
}

impl Config {
    pub fn load(args: &GlobalArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read(path)?,
            None if Path::new("kimochi.toml").exists() => read(Path::new("kimochi.toml"))?,
            None => FileConfig::default(),
        };
        let email = email_config(file.smtp, file.public_url)?;
        Ok(Config {
            email,
            db: args.db.clone().or(file.db).unwrap_or_else(|| DEFAULT_DB.to_owned()),
            addr: file.addr.unwrap_or_else(|| DEFAULT_ADDR.to_owned()),
            secure_cookies: file.secure_cookies.unwrap_or(false),
            search_index: args.search_index.clone().or(file.search_index),
        })
    }

    /// The search index folder: configured, or derived from the database URL.
    pub fn search_index_dir(&self) -> std::path::PathBuf {
        self.search_index.clone().unwrap_or_else(|| kimochi_search::default_index_dir(&self.db))
    }

    /// The address to listen on: the flag or environment first, then the file, then the default.
    pub fn addr(&self, flag: Option<&str>) -> String {
        flag.map_or_else(|| self.addr.clone(), str::to_owned)
    }

    /// The database URL with any password hidden, for messages.
    pub fn db_for_display(&self) -> String {
        match (self.db.find("://"), self.db.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let credentials = &self.db[scheme + 3..at];
                match credentials.split_once(':') {
                    Some((user, _)) => format!("{}{user}:***{}", &self.db[..scheme + 3], &self.db[at..]),
                    None => self.db.clone(),
                }
            }
            _ => self.db.clone(),
        }
    }
}

fn email_config(
    smtp: Option<SmtpFileConfig>,
    public_url: Option<String>,
) -> anyhow::Result<kimochi_web::email::EmailConfig> {
    let mut email = kimochi_web::email::EmailConfig::default();
    if let Some(url) = public_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            anyhow::bail!("public_url {url:?} must start with https:// or http://");
        }
        email.public_url = url;
    }
    if let Some(smtp) = smtp {
        match smtp.tls.as_deref() {
            None | Some("none") => {}
            Some(other) => anyhow::bail!(
                "[smtp] tls = {other:?} is not supported: kimochi speaks plain SMTP to a relay on your network \
                 (Postfix, a smarthost), which does TLS to the world; set tls = \"none\" or leave it out"
            ),
        }
        if smtp.from.trim().is_empty() || smtp.host.trim().is_empty() {
            anyhow::bail!("[smtp] needs host and from");
        }
        let password = std::env::var("KIMOCHI_SMTP_PASSWORD").ok().or(smtp.password);
        email.smtp = Some(kimochi_web::email::SmtpConfig {
            host: smtp.host,
            port: smtp.port,
            from: smtp.from,
            username: smtp.username,
            password,
        });
    }
    Ok(email)
}

fn read(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
