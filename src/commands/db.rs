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
use crate::deps::{self, osv::OsvStore};

/// `tripline db fetch|info`.
pub fn run(cmd: &DbCommand, global: &GlobalArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let url = config.deps.db_url.as_deref().unwrap_or(DEFAULT_DB_URL);
    match cmd {
        DbCommand::Fetch(db) => {
            if db.offline {
                bail!("`tripline db fetch` fetches over the network, which --offline forbids");
            }
            let (cargo, pypi) = deps::ecosystems(&db.ecosystem)?;
            if pypi {
                let path = pypi_path(db, config);
                let url = config
                    .deps
                    .pypi_db_url
                    .as_deref()
                    .unwrap_or(deps::pypi::DEFAULT_DB_URL);
                if !global.quiet {
                    eprintln!("tripline: fetching {url} into {}", path.display());
                }
                deps::pypi::fetch(&path, url)?;
                print_pypi_info(&describe_pypi(&path)?, InfoFormat::Text)?;
            }
            if !cargo {
                return Ok(ExitCode::SUCCESS);
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
            let format = info.format.unwrap_or(InfoFormat::Text);
            let (cargo, pypi) = deps::ecosystems(&info.db.ecosystem)?;
            if !cargo {
                let path = pypi_path(&info.db, config);
                if !deps::osv::is_database(&path) {
                    bail!(
                        "no PyPI advisory database at {}; run `tripline db fetch --ecosystem pypi`, pass --pypi-db PATH, or set [deps] pypi_db in tripline.toml",
                        path.display()
                    );
                }
                print_pypi_info(&describe_pypi(&path)?, format)?;
                return Ok(ExitCode::SUCCESS);
            }
            let loc = advisories::locate(info.db.db.as_deref(), config);
            if !advisories::is_database(&loc.path) {
                bail!(
                    "no advisory database at {}; run `tripline db fetch`, pass --db PATH, or set [deps] db in tripline.toml",
                    loc.path.display()
                );
            }
            print_info(&describe(&loc, &info.db, config), format)?;
            // Both asked for: the text goes on with the PyPI database when
            // there is one (the JSON stays one object, RustSec's; `--ecosystem
            // pypi` gives the PyPI one's).
            let path = pypi_path(&info.db, config);
            if pypi && format == InfoFormat::Text && deps::osv::is_database(&path) {
                println!();
                print_pypi_info(&describe_pypi(&path)?, format)?;
            }
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

/// The PyPI database `db fetch|info` work on: `--pypi-db`, else `[deps]
/// pypi_db`, else the cache folder.
fn pypi_path(db: &DbArgs, config: &Config) -> std::path::PathBuf {
    deps::pypi::locate(db.pypi_db.as_deref(), config)
}

/// What `db info` says about the PyPI database: also its JSON's fields.
#[derive(Debug, serde::Serialize)]
struct PypiDescription {
    path: String,
    commit: Option<String>,
    /// `YYYY-MM-DD` of the newest record's `modified`.
    date: Option<String>,
    advisories: usize,
    withdrawn: usize,
    malformed: usize,
}

/// Reads every record: `db info` is asked for after an update, and a
/// malformed record is worth knowing about then.
fn describe_pypi(path: &std::path::Path) -> Result<PypiDescription> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let store = OsvStore::load(path, None, threads)?;
    Ok(PypiDescription {
        path: path.display().to_string(),
        commit: advisories::git_head(path),
        date: store.newest_modified.clone(),
        advisories: store.records.len(),
        withdrawn: store.withdrawn,
        malformed: store.errors.len(),
    })
}

fn print_pypi_info(d: &PypiDescription, format: InfoFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        InfoFormat::Json => {
            serde_json::to_writer_pretty(&mut out, d)?;
            writeln!(out)?;
        }
        InfoFormat::Text => {
            writeln!(out, "pypi path:  {}", d.path)?;
            writeln!(
                out,
                "commit:     {}",
                d.commit.as_deref().unwrap_or("(not a git checkout)")
            )?;
            match &d.date {
                Some(date) => writeln!(out, "date:       {date} (newest record modified)")?,
                None => writeln!(out, "date:       unknown")?,
            }
            writeln!(
                out,
                "advisories: {} ({} withdrawn, {} malformed)",
                d.advisories, d.withdrawn, d.malformed
            )?;
        }
    }
    Ok(())
}
