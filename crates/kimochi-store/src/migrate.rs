//! Migrations, embedded in the binary: one folder per engine, never edited once shipped, only
//! added to. They are listed here by hand rather than with `sqlx::migrate!` so that the build
//! does not compile sqlx's proc-macro crate (and both database drivers) a second time for the
//! host; the list is checked against the folders by a test.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// (version, description, SQL) of each SQLite migration, in order.
pub(crate) const SQLITE: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/sqlite/0001_foundation.sql")),
    (2, "scoring", include_str!("../migrations/sqlite/0002_scoring.sql")),
    (3, "alerts", include_str!("../migrations/sqlite/0003_alerts.sql")),
    (6, "score_indexes", include_str!("../migrations/sqlite/0006_score_indexes.sql")),
    (8, "admin", include_str!("../migrations/sqlite/0008_admin.sql")),
    (9, "segments", include_str!("../migrations/sqlite/0009_segments.sql")),
    (10, "hearing", include_str!("../migrations/sqlite/0010_hearing.sql")),
    (11, "campaigns", include_str!("../migrations/sqlite/0011_campaigns.sql")),
    (12, "email_events", include_str!("../migrations/sqlite/0012_email_events.sql")),
    (13, "tenant_lexicon", include_str!("../migrations/sqlite/0013_tenant_lexicon.sql")),
    (14, "segment_facts", include_str!("../migrations/sqlite/0014_segment_facts.sql")),
    (16, "campaign_hearing", include_str!("../migrations/sqlite/0016_campaign_hearing.sql")),
    (17, "segment_row", include_str!("../migrations/sqlite/0017_segment_row.sql")),
];

/// (version, description, SQL) of each PostgreSQL migration, in order.
pub(crate) const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/postgres/0001_foundation.sql")),
    (2, "scoring", include_str!("../migrations/postgres/0002_scoring.sql")),
    (3, "alerts", include_str!("../migrations/postgres/0003_alerts.sql")),
    (6, "score_indexes", include_str!("../migrations/postgres/0006_score_indexes.sql")),
    (8, "admin", include_str!("../migrations/postgres/0008_admin.sql")),
    (9, "segments", include_str!("../migrations/postgres/0009_segments.sql")),
    (10, "hearing", include_str!("../migrations/postgres/0010_hearing.sql")),
    (11, "campaigns", include_str!("../migrations/postgres/0011_campaigns.sql")),
    (12, "email_events", include_str!("../migrations/postgres/0012_email_events.sql")),
    (13, "tenant_lexicon", include_str!("../migrations/postgres/0013_tenant_lexicon.sql")),
    (14, "segment_facts", include_str!("../migrations/postgres/0014_segment_facts.sql")),
    (15, "score_replace", include_str!("../migrations/postgres/0015_score_replace.sql")),
    (16, "campaign_hearing", include_str!("../migrations/postgres/0016_campaign_hearing.sql")),
    (17, "segment_row", include_str!("../migrations/postgres/0017_segment_row.sql")),
];

pub(crate) fn migrator(list: &[(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = list
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, Cow::Borrowed(*sql), false)
        })
        .collect::<Vec<_>>();
    // `Migrator`'s fields are public for `migrate!`; this is the same construction it expands to.
    Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_file_is_listed() {
        for (engine, list) in [("sqlite", super::SQLITE), ("postgres", super::POSTGRES)] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(engine);
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let listed: Vec<String> =
                list.iter().map(|(version, description, _)| format!("{version:04}_{description}.sql")).collect();
            assert_eq!(files, listed, "migrations/{engine} and migrate.rs disagree");
        }
    }
}
