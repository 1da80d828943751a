//! The one finding model that every scanner emits and every report reads.
//!
//! A [`Finding`] is self-contained: it carries everything a report needs
//! (location in UTF-16 columns, the GitHub line hash, the masked excerpt, the
//! content fingerprint), so that no report ever has to re-read a scanned file.
//! Scanners describe the rules they fired with a [`RuleInfo`], gathered in the
//! [`ScanOutcome`] beside the findings.
//!
//! This module does not scan, filter or format; it only defines the data and
//! the few derivations that must be identical everywhere (masking,
//! fingerprints, severity order), and the location model's GitHub line
//! hash ([`linehash`]), which scanners compute while they still hold a
//! file's bytes. It sits below the scanners and the reports, and imports
//! neither.

pub mod linehash;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What sort of problem a finding reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    Secret,
    Vulnerability,
    Unmaintained,
    Unsound,
    Yanked,
    Notice,
    /// A change that adds or widens a suppression (`suppression-added`).
    Suppression,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Secret => "secret",
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Unmaintained => "unmaintained",
            FindingKind::Unsound => "unsound",
            FindingKind::Yanked => "yanked",
            FindingKind::Notice => "notice",
            FindingKind::Suppression => "suppression",
        }
    }

    /// Informational kinds: reported, but (as in cargo-audit) they only
    /// fail a run when the user denies them. Besides the dependency kinds,
    /// `suppression`: a change that weakens the scan is for a reviewer to
    /// judge, not a failure by itself.
    pub fn is_informational(self) -> bool {
        matches!(
            self,
            FindingKind::Unmaintained
                | FindingKind::Unsound
                | FindingKind::Notice
                | FindingKind::Yanked
                | FindingKind::Suppression
        )
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is. Ordered: `Low < Medium < High < Critical`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The severity implied by a CVSS base score, with the bands GitHub and
    /// NVD use: 9.0+ critical, 7.0+ high, 4.0+ medium, else low.
    pub fn from_cvss(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// The `security-severity` score GitHub sorts alerts by, for rules that
    /// have no better score (a CVSS base score takes precedence).
    pub fn default_score(self) -> f64 {
        match self {
            Severity::Critical => 9.5,
            Severity::High => 8.0,
            Severity::Medium => 5.5,
            Severity::Low => 2.0,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a rule (or, for the model-decided rules, the decision stage)
/// is that what it matched is real. Ordered: `Low < Medium < High`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Where a finding is. Lines and columns are 1-based; columns count UTF-16
/// code units (what SARIF's `utf16CodeUnits` and most editors expect), with
/// each byte of invalid UTF-8 counted as one unit. `end_column` is exclusive:
/// the column just past the last character.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// GitHub's `primaryLocationLineHash` of `start_line`, computed by the
    /// scanner while it still had the content (see `finding::linehash`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line_hash: Option<String>,
    /// For findings in git history: the commit that introduced it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub commit: Option<CommitInfo>,
    /// For findings in git objects: the blob id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blob: Option<String>,
}

impl Location {
    /// A location covering whole lines, for findings that are about a block
    /// of a file rather than a token in it (a lockfile's `[[package]]`).
    pub fn lines(path: impl Into<String>, start_line: u32, end_line: u32) -> Location {
        Location {
            path: path.into(),
            start_line: start_line.max(1),
            start_column: 1,
            end_line: end_line.max(start_line).max(1),
            end_column: 1,
            line_hash: None,
            commit: None,
            blob: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub id: String,
    pub author: String,
    /// RFC 3339.
    pub date: String,
}

/// A secret value as found. It never leaves the process unless the user asks
/// (`--show-secrets`): it is skipped by serde and redacted by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> SecretValue {
        SecretValue(value.into())
    }

    /// The raw value. Call sites must be the `--show-secrets` paths and the
    /// fingerprint, nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value with all but its first few characters replaced by `*`.
    ///
    /// Four characters are shown, as users of other scanners expect, except
    /// for short values, where four characters would give most of the secret
    /// away: there a quarter of the length is shown. The stars are capped so a
    /// long key does not flood the terminal (its length is not a secret worth
    /// a wide line).
    pub fn masked(&self) -> String {
        const SHOWN: usize = 4;
        const MAX_STARS: usize = 24;
        let n = self.0.chars().count();
        let shown = if n >= 16 { SHOWN } else { n / 4 };
        let stars = (n - shown).clamp(1, MAX_STARS);
        let mut out: String = self.0.chars().take(shown).collect();
        out.extend(std::iter::repeat_n('*', stars));
        out
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue({})", self.masked())
    }
}

/// Facts about a dependency finding that secrets do not have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct DependencyInfo {
    pub package: String,
    pub version: String,
    /// CVE, GHSA and other ids of the same advisory.
    pub aliases: Vec<String>,
    /// "upgrade to >= X" or "no fixed version".
    pub fix: String,
    /// Crate names from a workspace member down to `package`, shortest first.
    pub dependency_path: Vec<String>,
    /// How many other paths from a workspace member reach the package.
    pub other_paths: u64,
    pub url: Option<String>,
    /// "normal", "build" or "dev", when known (`--metadata`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dependency_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cvss: Option<f64>,
    pub date: Option<String>,
}

/// Where a suppression lives, in SARIF's words: in the scanned source (an
/// inline comment) or outside it (configuration, a baseline).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SuppressionKind {
    InSource,
    External,
}

impl SuppressionKind {
    /// SARIF's `suppression.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionKind::InSource => "inSource",
            SuppressionKind::External => "external",
        }
    }
}

/// Which mechanism silenced a finding: what the text summary counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionMechanism {
    /// `tripline:allow`, `gitleaks:allow` or `pragma: allowlist secret`.
    InlineComment,
    /// The config's `[allowlist]` or `[rules.allow.ID]`, or a user rule's
    /// own `allow` table.
    Allowlist,
    /// `--baseline`.
    Baseline,
    /// `[deps] ignore` or `--ignore`.
    AdvisoryIgnore,
}

impl SuppressionMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionMechanism::InlineComment => "inline comment",
            SuppressionMechanism::Allowlist => "allowlist",
            SuppressionMechanism::Baseline => "baseline",
            SuppressionMechanism::AdvisoryIgnore => "advisory ignore",
        }
    }
}

/// How a finding was silenced. A suppressed finding is still reported (so
/// that code scanning keeps a trace of every bypass) but never fails a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub kind: SuppressionKind,
    pub mechanism: SuppressionMechanism,
    /// What silenced it, for a person: the marker, or the file and key
    /// (`tripline.toml [allowlist] stopwords`). Never the secret.
    pub by: String,
}

impl Suppression {
    pub fn new(mechanism: SuppressionMechanism, by: impl Into<String>) -> Suppression {
        let kind = match mechanism {
            SuppressionMechanism::InlineComment => SuppressionKind::InSource,
            _ => SuppressionKind::External,
        };
        Suppression {
            kind,
            mechanism,
            by: by.into(),
        }
    }
}

/// One problem found by one scanner.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub rule_id: String,
    pub rule_title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub location: Location,
    /// The masked secret (secrets) or `package@version` (dependencies): safe
    /// to print anywhere.
    pub excerpt: String,
    /// See [`fingerprint`]. Stable across line moves.
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependency: Option<DependencyInfo>,
    /// Never serialized; reports print it only under `--show-secrets`.
    #[serde(skip)]
    pub secret: Option<SecretValue>,
    /// Set when an inline comment, an allowlist, a baseline or an advisory
    /// ignore silenced the finding: it is reported, but never fails a run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

impl Finding {
    /// Whether this finding makes the run fail at threshold `fail_on`.
    /// A suppressed finding never does.
    pub fn fails_at(&self, fail_on: Severity, denied_informational: &[FindingKind]) -> bool {
        if self.suppressed.is_some() {
            return false;
        }
        if self.kind.is_informational() && !denied_informational.contains(&self.kind) {
            return false;
        }
        self.severity >= fail_on
    }
}

/// The content fingerprint of a finding: a hash of its identity parts,
/// separated so that `("ab", "c")` and `("a", "bc")` differ. Secrets pass
/// (rule id, path, secret value); dependencies (advisory id, package, version,
/// lockfile path). The line number is deliberately never part of it, so a
/// finding that moves keeps its identity.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    lower_hex(&h.finalize()[..16])
}

/// `bytes` as lowercase hex, two digits a byte: how digests are written
/// wherever tripline stores or prints one.
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    hex
}

/// What a report needs to describe a rule (SARIF's `reportingDescriptor`).
#[derive(Clone, Debug, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Plain text help: what it is, why it matters, what to do.
    pub help_text: String,
    pub help_markdown: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// `security` is added by the SARIF writer; these are the others.
    pub tags: Vec<String>,
    /// Overrides [`Severity::default_score`] (a CVSS base score).
    pub security_severity: Option<f64>,
    pub help_uri: Option<String>,
}

/// A problem that stopped part of the scan (an unreadable file, a malformed
/// advisory). Never contains a secret value.
#[derive(Clone, Debug, Serialize)]
pub struct ScanError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
}

/// Counters for the summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanStats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub files_skipped: u64,
    pub lockfiles_audited: u64,
}

/// Everything a report reads: the findings after all filters, the rules they
/// came from, and what went wrong on the way.
#[derive(Clone, Debug, Default)]
pub struct ScanOutcome {
    /// The scan root as the user gave it.
    pub root: String,
    pub duration_ms: u128,
    pub stats: ScanStats,
    pub findings: Vec<Finding>,
    pub rules: BTreeMap<String, RuleInfo>,
    pub errors: Vec<ScanError>,
    /// Non-fatal notes worth a line in every report (stale database,
    /// expired ignores).
    pub warnings: Vec<String>,
    /// Parts of the scan that could not run at all, each with why (the
    /// dependency audit without its advisory database): the report holds
    /// what the other parts found and lists these among its errors, and
    /// the run exits 2.
    pub not_run: Vec<ScanError>,
}

impl ScanOutcome {
    /// Orders findings the way every report lists them: by path, then line,
    /// then column, then rule.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (
                &a.location.path,
                a.location.start_line,
                a.location.start_column,
                &a.rule_id,
            )
                .cmp(&(
                    &b.location.path,
                    b.location.start_line,
                    b.location.start_column,
                    &b.rule_id,
                ))
        });
    }

    pub fn count_by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.severity).or_insert(0) += 1;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_shows_four_characters_of_long_secrets() {
        let s = SecretValue::new("AKIAIOSFODNN7EXAMPLE");
        assert_eq!(s.masked(), "AKIA****************");
        assert!(!format!("{s:?}").contains("IOSFODNN7"));
    }

    #[test]
    fn masked_shows_less_of_short_secrets() {
        assert_eq!(SecretValue::new("hunter2").masked(), "h******");
        assert_eq!(SecretValue::new("ab").masked(), "**");
        assert_eq!(SecretValue::new("").masked(), "*");
    }

    #[test]
    fn fingerprint_separates_parts_and_ignores_nothing() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["r", "p", "s"]), fingerprint(&["r", "p", "s"]));
        assert_eq!(fingerprint(&["r"]).len(), 32);
    }

    #[test]
    fn severity_bands_from_cvss() {
        assert_eq!(Severity::from_cvss(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss(9.0), Severity::Critical);
        assert_eq!(Severity::from_cvss(7.5), Severity::High);
        assert_eq!(Severity::from_cvss(4.0), Severity::Medium);
        assert_eq!(Severity::from_cvss(3.9), Severity::Low);
    }
}
