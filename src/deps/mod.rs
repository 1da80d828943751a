//! Dependency audit: every Cargo.lock against the RustSec advisory database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{DbCommand, GlobalArgs, ScanArgs};
use crate::config::Config;
use crate::finding::{Finding, RuleInfo, ScanError};

/// What the dependency half of a scan produced.
#[derive(Debug, Default)]
pub struct DepsOutcome {
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleInfo>,
    pub warnings: Vec<String>,
    pub errors: Vec<ScanError>,
    pub lockfiles_audited: u64,
}

/// Audits `lockfiles` (paths relative to `root`, `/`-separated, as found by
/// the walker). An `Err` is fatal for the run (no database, failed fetch):
/// exit status 2. A bad lockfile or advisory is a `ScanError` and the rest go on.
pub fn audit(
    _root: &Path,
    _lockfiles: &[PathBuf],
    _args: &ScanArgs,
    _config: &Config,
) -> anyhow::Result<DepsOutcome> {
    Ok(DepsOutcome::default())
}

/// `tripline db fetch|info`.
pub fn run_db_command(
    _cmd: &DbCommand,
    _global: &GlobalArgs,
    _config: &Config,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not written yet")
}
