//! Secret detection: rules (`rules`), the matcher that runs them over bytes
//! (`engine`), and the sources of bytes (`walk` for the working tree).

use std::process::ExitCode;

use crate::cli::{GlobalArgs, RulesCommand};
use crate::config::Config;

pub mod engine;
pub mod git;
pub mod rules;
pub mod walk;

/// `tripline rules list|test`.
pub fn run_rules_command(
    _cmd: &RulesCommand,
    _global: &GlobalArgs,
    _config: &Config,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not written yet")
}
