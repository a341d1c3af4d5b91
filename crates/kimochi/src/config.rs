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
}

#[derive(Debug, Clone)]
pub struct Config {
    pub db: String,
    pub addr: String,
    pub secure_cookies: bool,
    /// The search index folder; see [`Config::search_index_dir`].
    pub search_index: Option<std::path::PathBuf>,
}

impl Config {
    pub fn load(args: &GlobalArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read(path)?,
            None if Path::new("kimochi.toml").exists() => read(Path::new("kimochi.toml"))?,
            None => FileConfig::default(),
        };
        Ok(Config {
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

fn read(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
