//! `tripline db fetch|info`: the advisory database as the user manages it.
//!
//! The command layer: it reads the subcommand's arguments and the config,
//! calls the dependency scanner's library (`deps::advisories`: locate,
//! fetch, summarize, date) and prints the answers. The scanner itself
//! knows nothing of this command. Both subcommands take the database
//! options the audit takes (`--db`, `--offline`, `--max-db-age`), so
//! `tripline db info --db X` describes the database `tripline deps --db X`
//! audits with.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cli::{DbArgs, DbCommand, GlobalArgs, InfoFormat};
use crate::config::Config;
use crate::deps::advisories::{self, DbLocation, DEFAULT_DB_URL, DEFAULT_MAX_AGE_DAYS};

/// `tripline db fetch|info`.
pub fn run(cmd: &DbCommand, global: &GlobalArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let url = config.deps.db_url.as_deref().unwrap_or(DEFAULT_DB_URL);
    match cmd {
        DbCommand::Fetch(db) => {
            if db.offline {
                bail!("`tripline db fetch` fetches over the network, which --offline forbids");
            }
            // Fetch into ours (or the one named), never over cargo-audit's
            // copy that `locate` may fall back to for reading.
            let loc = match &db.db {
                Some(path) => DbLocation {
                    path: path.clone(),
                    explicit: true,
                },
                None => DbLocation {
                    path: config
                        .deps
                        .db
                        .as_deref()
                        .map_or_else(advisories::default_cache_path, |p| config.resolve(p)),
                    explicit: config.deps.db.is_some(),
                },
            };
            if !global.quiet {
                eprintln!("tripline: fetching {url} into {}", loc.path.display());
            }
            advisories::fetch(&loc.path, url)?;
            print_info(&describe(&loc, db, config), InfoFormat::Text)?;
        }
        DbCommand::Info(info) => {
            let loc = advisories::locate(info.db.db.as_deref(), config);
            if !advisories::is_database(&loc.path) {
                bail!(
                    "no advisory database at {}; run `tripline db fetch`, pass --db PATH, or set [deps] db in tripline.toml",
                    loc.path.display()
                );
            }
            let format = info.format.unwrap_or(InfoFormat::Text);
            print_info(&describe(&loc, &info.db, config), format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `db info` says about a database: also the fields of its JSON.
#[derive(Debug, serde::Serialize)]
struct DbDescription {
    path: String,
    /// The checkout's commit; `None` when it is not a git checkout.
    commit: Option<String>,
    /// `YYYY-MM-DD`, when the database could be dated.
    date: Option<String>,
    /// How it was dated: "last commit" or "newest advisory".
    judged_by: Option<&'static str>,
    /// Days since `date`.
    age_days: Option<i64>,
    /// `--max-db-age` (or `[deps] max_db_age`, or the default).
    max_age_days: u64,
    /// Older than `max_age_days`: a scan with it warns.
    stale: bool,
    advisories: usize,
}

fn describe(loc: &DbLocation, db: &DbArgs, config: &Config) -> DbDescription {
    // `db info` is asked for after an update: every folder is checked.
    let summary = advisories::summarize(&loc.path, advisories::Recheck::Always);
    let age = advisories::age(&loc.path, Some(&summary));
    let max_age_days = db
        .max_db_age
        .or(config.deps.max_db_age)
        .unwrap_or(DEFAULT_MAX_AGE_DAYS);
    let age_days = age
        .as_ref()
        .and_then(|a| advisories::parse_ymd(&a.date))
        .map(|day| advisories::today() - day);
    DbDescription {
        path: loc.path.display().to_string(),
        commit: age.as_ref().and_then(|a| a.commit.clone()),
        date: age.as_ref().map(|a| a.date.clone()),
        judged_by: age.as_ref().map(|a| a.judged_by),
        age_days,
        max_age_days,
        stale: age_days.is_some_and(|d| d > i64::try_from(max_age_days).unwrap_or(i64::MAX)),
        advisories: summary.count,
    }
}

fn print_info(d: &DbDescription, format: InfoFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        InfoFormat::Json => {
            serde_json::to_writer_pretty(&mut out, d)?;
            writeln!(out)?;
        }
        InfoFormat::Text => {
            writeln!(out, "path:       {}", d.path)?;
            writeln!(
                out,
                "commit:     {}",
                d.commit.as_deref().unwrap_or("(not a git checkout)")
            )?;
            match (&d.date, d.judged_by) {
                (Some(date), Some(by)) => writeln!(out, "date:       {date} ({by})")?,
                _ => writeln!(out, "date:       unknown")?,
            }
            if let Some(days) = d.age_days.filter(|_| d.stale) {
                writeln!(
                    out,
                    "age:        {days} days, older than --max-db-age {}; run `tripline db fetch`",
                    d.max_age_days
                )?;
            }
            writeln!(out, "advisories: {}", d.advisories)?;
        }
    }
    Ok(())
}
