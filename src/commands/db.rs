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

/// `tripline db fetch|info`.
pub fn run(cmd: &DbCommand, global: &GlobalArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let loc = advisories::locate(None, config);
    let url = config.deps.db_url.as_deref().unwrap_or(DEFAULT_DB_URL);
    match cmd {
        DbCommand::Fetch => {
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
