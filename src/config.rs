//! The `tripline.toml` configuration file.
//!
//! Parsing is strict (unknown keys are errors, with the file and line), so a
//! typo in a security policy never silently turns a check off. This module
//! only reads and checks the file; compiling its globs and regexes into
//! matchers is the job of the modules that use them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::finding::Confidence;
use anyhow::{Context, Result};
use serde::Deserialize;

/// The default file name looked for at the scan root.
pub const DEFAULT_FILE: &str = "tripline.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub scan: ScanConfig,
    #[serde(default)]
    pub rules: RulesConfig,
    /// Global allowlist: applies to every secret rule.
    #[serde(default)]
    pub allowlist: Allowlist,
    #[serde(default)]
    pub deps: DepsConfig,
    /// Where the config was read from; rule paths are relative to its folder.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// How reports name the file when `source` is not what a person knows
    /// it by (`origin/main:tripline.toml` for `--config-rev`).
    #[serde(skip)]
    pub shown_as: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Extra gitignore-style patterns of paths not to scan.
    #[serde(default)]
    pub exclude: Vec<String>,
    pub max_file_size: Option<u64>,
    /// Lowest confidence of a reported secret (`--min-confidence`).
    pub min_confidence: Option<Confidence>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Extra rule files or folders, relative to the config file.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Per-rule allowlists, keyed by rule id.
    #[serde(default)]
    pub allow: BTreeMap<String, Allowlist>,
}

/// Findings to drop: by path glob, by a regex on the secret, or when the
/// secret contains a stopword.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepsConfig {
    /// Informational kinds that fail the run: unmaintained, unsound, notice, yanked.
    #[serde(default)]
    pub deny: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<AdvisoryIgnore>,
    /// Advisory database path.
    pub db: Option<PathBuf>,
    /// The PyPI advisory database: a folder of OSV records or OSV's
    /// `all.zip` for PyPI.
    pub pypi_db: Option<PathBuf>,
    /// Where `tripline db fetch` downloads the PyPI database (OSV's
    /// `all.zip` for PyPI) from.
    pub pypi_db_url: Option<String>,
    /// Globs (relative to the scan root) of requirements files with other
    /// names than `*requirements*.txt` / `*constraints*.txt`.
    #[serde(default)]
    pub python_lockfiles: Vec<String>,
    /// Where `tripline db fetch` clones from.
    pub db_url: Option<String>,
    /// The crates.io sparse index `--yanked` asks (a mirror); the
    /// `TRIPLINE_CRATES_INDEX` environment variable overrides it.
    pub index_url: Option<String>,
    pub max_db_age: Option<u64>,
    pub target_os: Option<String>,
    pub target_arch: Option<String>,
    /// Severity given to informational kinds (default low).
    pub informational_severity: Option<crate::finding::Severity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryIgnore {
    pub id: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// `YYYY-MM-DD` (quoted or a bare TOML date); the ignore stops applying
    /// after this day.
    #[serde(default, deserialize_with = "date_text")]
    pub until: Option<String>,
}

/// Accepts `until = "2027-03-01"` and `until = 2027-03-01` alike: users write
/// both, and refusing either would be a pointless papercut.
fn date_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateLike {
        Date(toml::value::Datetime),
        Text(String),
    }
    Ok(Some(match DateLike::deserialize(d)? {
        DateLike::Date(dt) => dt.to_string(),
        DateLike::Text(s) => s,
    }))
}

impl Config {
    /// Reads and checks a config file. Errors name the file and, for syntax
    /// and type errors, the line.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut config = Config::parse(&text).map_err(|e| {
            anyhow::anyhow!("invalid config file {}: {}", path.display(), e.trim_end())
        })?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses config text; the error gives line, column and the parser's
    /// message (see [`describe_toml_error`]).
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        toml::from_str(text).map_err(|e| describe_toml_error(text, &e))
    }

    /// The config to use for a scan of `root`: the explicit file when given
    /// (an error if missing), else `root/tripline.toml` when present, else
    /// the defaults.
    pub fn discover(explicit: Option<&Path>, root: &Path) -> Result<Config> {
        if let Some(p) = explicit {
            return Config::load(p);
        }
        let default = root.join(DEFAULT_FILE);
        if default.is_file() {
            Config::load(&default)
        } else {
            Ok(Config::default())
        }
    }

    /// How suppressions and errors name this file.
    pub fn name(&self) -> String {
        match (&self.shown_as, &self.source) {
            (Some(name), _) => name.clone(),
            (None, Some(path)) => path.display().to_string(),
            (None, None) => DEFAULT_FILE.to_string(),
        }
    }

    /// The extra rule files or folders of `[rules] paths`, resolved against
    /// the config's folder.
    pub fn rule_paths(&self) -> Vec<PathBuf> {
        self.rules.paths.iter().map(|p| self.resolve(p)).collect()
    }

    /// Resolves a path written in the config relative to the config's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        match self.source.as_deref().and_then(Path::parent) {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }
}

/// A TOML error as one line: `line L, column C: what is wrong`.
///
/// The parser's own `Display` quotes the offending source line under a
/// caret, and a type error quotes the offending value; in a config or rule
/// file that line may hold a token (a database URL with credentials, an
/// allowlisted key), and the error goes to a terminal or a CI log. So the
/// source line is left out, and a string value that the message repeats is
/// masked as a secret would be.
pub fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let mut message = e.message().trim_end().to_string();
    let Some(span) = e.span() else {
        return message;
    };
    if let Some(quoted) = text.get(span.clone()) {
        let value = quoted.trim_matches(|c| c == '"' || c == '\'');
        // Only a string value is masked: a key or a number the message
        // names (`unknown field `disabel``) is what the user needs to see.
        if value.len() < quoted.len() && !value.is_empty() {
            let masked = crate::finding::SecretValue::new(value).masked();
            for (open, close) in [('"', '"'), ('`', '`')] {
                message = message.replace(
                    &format!("{open}{value}{close}"),
                    &format!("{open}{masked}{close}"),
                );
            }
        }
    }
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse(
            r#"
            [scan]
            exclude = ["vendor/"]
            [rules]
            disable = ["generic-password"]
            paths = ["my-rules.toml"]
            [rules.allow.aws-access-key-id]
            paths = ["docs/**"]
            [allowlist]
            stopwords = ["example"]
            [deps]
            deny = ["unmaintained"]
            ignore = [
              { id = "RUSTSEC-2023-0071", reason = "no untrusted input", until = "2027-03-01" },
              { id = "RUSTSEC-2020-0001", until = 2026-01-31 },
            ]
            "#,
        )
        .unwrap();
        assert_eq!(c.rules.disable, vec!["generic-password"]);
        assert_eq!(c.deps.ignore[0].id, "RUSTSEC-2023-0071");
        assert_eq!(c.deps.ignore[0].until.as_deref(), Some("2027-03-01"));
        assert_eq!(c.deps.ignore[1].until.as_deref(), Some("2026-01-31"));
        assert_eq!(c.rules.allow["aws-access-key-id"].paths, vec!["docs/**"]);
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let e = Config::parse("[rules]\ndisabel = [\"x\"]\n").unwrap_err();
        assert!(e.contains("disabel"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn wrong_type_is_an_error_with_its_line() {
        let e = Config::parse("[scan]\n\nmax_file_size = \"big\"\n").unwrap_err();
        assert!(e.contains("line 3, column 17"), "{e}");
        assert!(e.contains("expected u64"), "{e}");
    }

    #[test]
    fn errors_never_quote_the_source_line_or_a_string_value() {
        let token = "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";
        for text in [
            format!("[deps]\nmax_db_age = \"{token}\"\n"),
            format!("[deps]\ndb_url = {token}\n"),
            format!("[deps]\ndb_url = \"https://u:{token}@example.com/db\"\nbogus = 1\n"),
        ] {
            let e = Config::parse(&text).unwrap_err();
            assert!(!e.contains(token), "{e}");
            assert!(!e.contains('\n'), "one line: {e}");
            assert!(e.starts_with("line "), "{e}");
        }
        let e = Config::parse(&format!("[deps]\nmax_db_age = \"{token}\"\n")).unwrap_err();
        assert!(e.contains("ghp_****"), "the value, masked: {e}");
    }
}
