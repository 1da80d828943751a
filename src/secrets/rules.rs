//! Secret-detection rules: the TOML format, strict loading, the built-in catalog.

use std::path::PathBuf;

/// Every rule in force, compiled.
pub struct RuleSet {}

impl RuleSet {
    /// The built-in rules, plus the rule files or folders in `extra` (a rule
    /// with a built-in id replaces it), less the `disabled` ids.
    pub fn load(_extra: &[PathBuf], _disabled: &[String]) -> anyhow::Result<RuleSet> {
        Ok(RuleSet {})
    }
}
