//! Baselines: the findings a project has accepted for now, so that a scan
//! fails only on what is new.
//!
//! An entry names a finding by its content, never by its line: for a secret
//! the rule id, the path and a keyed hash of the secret (HMAC-SHA256 under a
//! fixed domain key: the value itself is never in the file, and the hash
//! cannot be looked up in a table of plain SHA-256 digests); for a
//! dependency the advisory id, the package, its version and the lockfile's
//! path. So an accepted secret that moves to another line stays accepted,
//! and a new secret on an accepted line is still reported.
//!
//! The file is JSON with one entry per line, sorted, deduplicated and
//! without timestamps: rewriting it when nothing changed gives the same
//! bytes, and two branches that each accept a finding merge without a
//! conflict in most cases. This module only reads, writes and matches
//! baselines; `scan` decides when to apply one.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::finding::{Finding, FindingKind};

/// The file format's version, checked on load.
const FORMAT_VERSION: u32 = 1;

/// The HMAC key: a fixed domain separator. It makes the hashes specific to
/// tripline baselines; it is not a secret (a baseline is committed).
const HASH_KEY: &[u8] = b"tripline baseline secret hash v1";

/// One accepted finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Relative path of the file (for dependencies: of the lockfile).
    pub path: String,
    /// Rule id (secrets) or advisory id (dependencies).
    pub rule: String,
    /// `secret`, `vulnerability`, `unmaintained`, ...
    pub kind: FindingKind,
    /// HMAC-SHA256 of the secret, hex (secrets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Entry {
    /// The entry that accepts `f`.
    pub fn of(f: &Finding) -> Entry {
        let path = f.location.path.clone();
        let rule = f.rule_id.clone();
        match &f.dependency {
            Some(dep) if f.kind != FindingKind::Secret => Entry {
                path,
                rule,
                kind: f.kind,
                secret_hash: None,
                package: Some(dep.package.clone()),
                version: Some(dep.version.clone()),
            },
            _ => {
                // Scanners always attach the value to a secret finding;
                // should one not, its content fingerprint (also free of
                // line numbers) stands in for it.
                let value = match &f.secret {
                    Some(s) => s.expose().to_owned(),
                    None => format!("fingerprint:{}", f.fingerprint),
                };
                Entry {
                    secret_hash: Some(secret_hash(&rule, &path, &value)),
                    path,
                    rule,
                    kind: f.kind,
                    package: None,
                    version: None,
                }
            }
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} in {}", self.kind, self.rule, self.path)?;
        if let (Some(p), Some(v)) = (&self.package, &self.version) {
            write!(f, " ({p} {v})")?;
        }
        if let Some(h) = &self.secret_hash {
            write!(f, " (hash {})", &h[..h.len().min(12)])?;
        }
        Ok(())
    }
}

/// HMAC-SHA256 of the secret, bound to its rule and path, hex-encoded.
fn secret_hash(rule: &str, path: &str, secret: &str) -> String {
    // `new_from_slice` only fails for key sizes HMAC cannot take; SHA-256's
    // HMAC takes any.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(HASH_KEY) else {
        unreachable!("HMAC accepts keys of any length")
    };
    for part in [rule, path, secret] {
        mac.update(&(part.len() as u64).to_le_bytes());
        mac.update(part.as_bytes());
    }
    crate::finding::lower_hex(&mac.finalize().into_bytes())
}

/// The file's shape on disk.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    tripline_baseline: u32,
    entries: Vec<Entry>,
}

/// A set of accepted findings.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    entries: BTreeSet<Entry>,
}

/// What applying a baseline left.
#[derive(Debug, Default)]
pub struct Filtered {
    /// Findings the baseline does not accept (and those another mechanism
    /// suppressed already): the ones to report as they are.
    pub kept: Vec<Finding>,
    /// Findings it accepted: reported as suppressed by the baseline.
    pub accepted: Vec<Finding>,
    /// How many findings it accepted.
    pub suppressed: usize,
    /// Entries that accepted nothing this run (fixed, or out of scope).
    pub unmatched: Vec<Entry>,
}

impl Baseline {
    /// The baseline accepting exactly `findings`.
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        Baseline {
            entries: findings.iter().map(Entry::of).collect(),
        }
    }

    /// Reads a baseline file, with errors that name it.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        let file: BaselineFile = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a tripline baseline", path.display()))?;
        if file.tripline_baseline != FORMAT_VERSION {
            bail!(
                "{}: baseline format {} is not supported (this tripline reads format {FORMAT_VERSION})",
                path.display(),
                file.tripline_baseline
            );
        }
        Ok(Baseline {
            entries: file.entries.into_iter().collect(),
        })
    }

    /// Writes the baseline for `findings` to `path`, whole or not at all
    /// (a temporary file beside it, renamed into place).
    pub fn write(path: &Path, findings: &[Finding]) -> Result<Baseline> {
        let baseline = Baseline::from_findings(findings);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let write = || -> io::Result<()> {
            let mut tmp = tempfile::Builder::new()
                .prefix(".tripline-baseline-")
                .tempfile_in(dir)?;
            baseline.serialize(tmp.as_file_mut())?;
            tmp.as_file().sync_all()?;
            tmp.persist(path).map_err(|e| e.error)?;
            Ok(())
        };
        write().with_context(|| format!("cannot write baseline {}", path.display()))?;
        Ok(baseline)
    }

    /// The file's bytes: sorted entries, one per line.
    pub fn serialize(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{{")?;
        writeln!(out, "  \"tripline_baseline\": {FORMAT_VERSION},")?;
        if self.entries.is_empty() {
            writeln!(out, "  \"entries\": []")?;
        } else {
            writeln!(out, "  \"entries\": [")?;
            let n = self.entries.len();
            for (i, e) in self.entries.iter().enumerate() {
                let line = serde_json::to_string(e).map_err(io::Error::other)?;
                let comma = if i + 1 < n { "," } else { "" };
                writeln!(out, "    {line}{comma}")?;
            }
            writeln!(out, "  ]")?;
        }
        writeln!(out, "}}")?;
        out.flush()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Whether the baseline accepts `f`.
    pub fn contains(&self, f: &Finding) -> bool {
        self.entries.contains(&Entry::of(f))
    }

    /// Splits `findings` into those to report and those accepted, and says
    /// which entries accepted nothing.
    pub fn filter(&self, findings: Vec<Finding>) -> Filtered {
        let mut used: BTreeSet<Entry> = BTreeSet::new();
        let mut out = Filtered::default();
        for f in findings {
            if f.suppressed.is_some() {
                out.kept.push(f);
                continue;
            }
            let e = Entry::of(&f);
            if self.entries.contains(&e) {
                out.suppressed += 1;
                used.insert(e);
                out.accepted.push(f);
            } else {
                out.kept.push(f);
            }
        }
        out.unmatched = self.entries.difference(&used).cloned().collect();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, DependencyInfo, Location, SecretValue, Severity};

    fn secret(path: &str, line: u32, value: &str) -> Finding {
        Finding {
            kind: FindingKind::Secret,
            rule_id: "aws-access-key-id".into(),
            rule_title: "AWS access key id".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            location: Location::lines(path, line, line),
            excerpt: SecretValue::new(value).masked(),
            fingerprint: crate::finding::fingerprint(&["aws-access-key-id", path, value]),
            dependency: None,
            secret: Some(SecretValue::new(value)),
            suppressed: None,
        }
    }

    fn vuln(package: &str, version: &str) -> Finding {
        Finding {
            kind: FindingKind::Vulnerability,
            rule_id: "RUSTSEC-2099-0001".into(),
            rule_title: "bad".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            location: Location::lines("Cargo.lock", 10, 14),
            excerpt: format!("{package}@{version}"),
            fingerprint: String::new(),
            dependency: Some(DependencyInfo {
                package: package.into(),
                version: version.into(),
                ..DependencyInfo::default()
            }),
            secret: None,
            suppressed: None,
        }
    }

    #[test]
    fn matches_by_content_not_line() {
        let b = Baseline::from_findings(&[secret("a.env", 3, "AKIAQWERTYUIOPASDFGH")]);
        assert!(b.contains(&secret("a.env", 40, "AKIAQWERTYUIOPASDFGH")));
        assert!(!b.contains(&secret("a.env", 3, "AKIAZXCVBNMLKJHGFDSA")));
        assert!(!b.contains(&secret("b.env", 3, "AKIAQWERTYUIOPASDFGH")));
        let d = Baseline::from_findings(&[vuln("smallvec", "1.0.0")]);
        assert!(d.contains(&vuln("smallvec", "1.0.0")));
        assert!(!d.contains(&vuln("smallvec", "1.0.1")));
    }

    #[test]
    fn file_never_holds_the_secret_and_is_stable() {
        let findings = vec![
            secret("z.env", 1, "AKIAQWERTYUIOPASDFGH"),
            vuln("smallvec", "1.0.0"),
            secret("a.env", 9, "AKIAZXCVBNMLKJHGFDSA"),
            secret("a.env", 9, "AKIAZXCVBNMLKJHGFDSA"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tripline-baseline.json");
        Baseline::write(&p, &findings).unwrap();
        let first = std::fs::read(&p).unwrap();
        let text = String::from_utf8(first.clone()).unwrap();
        assert!(!text.contains("QWERTYUIOPASDFGH"), "{text}");
        assert!(!text.contains("ZXCVBNMLKJHGFDSA"), "{text}");
        // Sorted by path, one entry per line, duplicates merged.
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8, "{text}");
        assert!(lines[3].contains("\"path\":\"Cargo.lock\""));
        assert!(lines[4].contains("\"path\":\"a.env\""));
        assert!(lines[5].contains("\"path\":\"z.env\""));

        let mut reordered = findings.clone();
        reordered.reverse();
        Baseline::write(&p, &reordered).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), first);

        let loaded = Baseline::load(&p).unwrap();
        assert_eq!(loaded.len(), 3);
        let out = loaded.filter(vec![
            secret("a.env", 1, "AKIAZXCVBNMLKJHGFDSA"),
            secret("a.env", 2, "AKIAMNBVCXZLKJHGFDSA"),
        ]);
        assert_eq!(out.suppressed, 1);
        assert_eq!(out.kept.len(), 1);
        assert_eq!(out.unmatched.len(), 2);
    }

    #[test]
    fn load_names_the_file_on_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        std::fs::write(&p, "{\"tripline_baseline\": 9, \"entries\": []}").unwrap();
        let e = format!("{:#}", Baseline::load(&p).unwrap_err());
        assert!(e.contains("b.json") && e.contains("format 9"), "{e}");
        std::fs::write(&p, "not json").unwrap();
        let e = format!("{:#}", Baseline::load(&p).unwrap_err());
        assert!(e.contains("b.json"), "{e}");
    }
}
