//! `tripline db fetch|info`: the advisory database as the user manages it.
//!
//! The command layer: it reads the subcommand's arguments and the config,
//! calls the dependency scanner's library (`deps::advisories`: locate,
//! fetch, summarize, date) and prints the answers. The scanner itself
//! knows nothing of this command.

use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cli::{DbCommand, GlobalArgs};
use crate::config::Config;
use crate::deps::advisories::{self, DbLocation, DEFAULT_DB_URL};
use crate::deps::{self, osv::OsvStore};

/// `tripline db fetch|info`.
pub fn run(cmd: &DbCommand, global: &GlobalArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let loc = advisories::locate(None, config);
    let url = config.deps.db_url.as_deref().unwrap_or(DEFAULT_DB_URL);
    match cmd {
        DbCommand::Fetch { ecosystem } => {
            let (cargo, pypi) = deps::ecosystems(ecosystem)?;
            if pypi {
                let path = pypi_fetch_path(config);
                let url = config
                    .deps
                    .pypi_db_url
                    .as_deref()
                    .unwrap_or(deps::pypi::DEFAULT_DB_URL);
                if !global.quiet {
                    eprintln!("tripline: fetching {url} into {}", path.display());
                }
                deps::pypi::fetch(&path, url)?;
                print_pypi_info(&path)?;
            }
            if !cargo {
                return Ok(ExitCode::SUCCESS);
            }
            // Fetch into ours, never over cargo-audit's copy that `locate`
            // may fall back to for reading.
            let loc = DbLocation {
                path: config
                    .deps
                    .db
                    .as_deref()
                    .map_or_else(advisories::default_cache_path, |p| config.resolve(p)),
                explicit: config.deps.db.is_some(),
            };
            if !global.quiet {
                eprintln!("tripline: fetching {url} into {}", loc.path.display());
            }
            advisories::fetch(&loc.path, url)?;
            print_info(&loc)?;
        }
        DbCommand::Info => {
            let pypi = deps::pypi::locate(None, config);
            if deps::osv::is_database(&pypi) {
                print_pypi_info(&pypi)?;
            } else {
                println!("pypi:       none at {}", pypi.display());
            }
            if !advisories::is_database(&loc.path) {
                bail!(
                    "no advisory database at {}; run `tripline db fetch`, or set [deps] db in tripline.toml",
                    loc.path.display()
                );
            }
            print_info(&loc)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_info(loc: &DbLocation) -> Result<()> {
    // `db info` is asked for after an update: every folder is checked.
    let summary = advisories::summarize(&loc.path, advisories::Recheck::Always);
    let age = advisories::age(&loc.path, Some(&summary));
    println!("path:       {}", loc.path.display());
    println!(
        "commit:     {}",
        age.as_ref()
            .and_then(|a| a.commit.as_deref())
            .unwrap_or("(not a git checkout)")
    );
    match &age {
        Some(a) => println!("date:       {} ({})", a.date, a.judged_by),
        None => println!("date:       unknown"),
    }
    println!("advisories: {}", summary.count);
    Ok(())
}

/// Where `db fetch` puts the PyPI database: `[deps] pypi_db`, else the
/// cache folder.
fn pypi_fetch_path(config: &Config) -> std::path::PathBuf {
    config
        .deps
        .pypi_db
        .as_deref()
        .map_or_else(deps::pypi::default_cache_path, |p| config.resolve(p))
}

/// The PyPI database's path, commit, newest record and record count. Every
/// record is read: `db info` is asked for after an update, and a malformed
/// record is worth knowing about then.
fn print_pypi_info(path: &std::path::Path) -> Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let store = OsvStore::load(path, None, threads)?;
    println!("pypi path:  {}", path.display());
    println!(
        "commit:     {}",
        advisories::git_head(path).unwrap_or_else(|| "(not a git checkout)".to_string())
    );
    println!(
        "date:       {}",
        store
            .newest_modified
            .as_deref()
            .map_or("unknown".to_string(), |d| format!(
                "{d} (newest record modified)"
            ))
    );
    println!(
        "advisories: {} ({} withdrawn, {} malformed)",
        store.records.len(),
        store.withdrawn,
        store.errors.len()
    );
    Ok(())
}
