//! Matching lockfile packages against advisories, and turning each match
//! into a [`Finding`] with its location, fix and dependency path.
//!
//! The match is what rustsec's `Query` decides (version ranges, source,
//! platform, withdrawn) for a query of one package, as cargo-audit makes
//! it, so the two agree on what is affected; [`Candidates`] decides it
//! without the copies a `Query` makes per package. This module adds what
//! cargo-audit does not have: one run over many lockfiles, exact lockfile
//! lines, expiring ignores. It does not read the database or format output.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use anyhow::{bail, Result};
use rustsec::advisory::{Advisory, Informational, License};
use rustsec::platforms::target::{Arch, OS};
use rustsec::{semver, SourceId};

use crate::config::AdvisoryIgnore;
use crate::finding::{
    fingerprint, Confidence, DependencyInfo, Finding, FindingKind, Location, RuleInfo, Severity,
};

use super::advisories::{parse_ymd, today};
use super::lockfile::LockedTree;
use super::FastMap;

/// A lockfile ready to audit.
pub struct LockfileAudit<'a> {
    /// Relative to the scan root, `/`-separated.
    pub rel_path: String,
    pub tree: LockedTree,
    pub content: &'a [u8],
}

/// The settings a match depends on.
pub struct MatchSettings {
    pub target_os: Vec<OS>,
    pub target_arch: Vec<Arch>,
    pub informational_severity: Severity,
}

impl MatchSettings {
    pub fn new(
        target_os: Option<&str>,
        target_arch: Option<&str>,
        informational_severity: Option<Severity>,
    ) -> Result<MatchSettings> {
        let target_os = match target_os {
            Some(s) => match s.parse::<OS>() {
                Ok(os) => vec![os],
                Err(_) => bail!("unknown --target-os `{s}` (expected e.g. linux, windows, macos)"),
            },
            None => Vec::new(),
        };
        let target_arch = match target_arch {
            Some(s) => match s.parse::<Arch>() {
                Ok(a) => vec![a],
                Err(_) => {
                    bail!("unknown --target-arch `{s}` (expected e.g. x86_64, aarch64, wasm32)")
                }
            },
            None => Vec::new(),
        };
        Ok(MatchSettings {
            target_os,
            target_arch,
            informational_severity: informational_severity.unwrap_or(Severity::Low),
        })
    }
}

/// The kind of finding an advisory makes, or `None` for informational kinds
/// that cargo-audit does not report either (`informational = "other"`).
pub fn kind_of(adv: &Advisory) -> Option<FindingKind> {
    match &adv.metadata.informational {
        None => Some(FindingKind::Vulnerability),
        Some(Informational::Unmaintained) => Some(FindingKind::Unmaintained),
        Some(Informational::Unsound) => Some(FindingKind::Unsound),
        Some(Informational::Notice) => Some(FindingKind::Notice),
        Some(_) => None,
    }
}

/// One advisory applying to one package of a lockfile.
pub struct Match<'a> {
    /// The package's index in its lockfile's tree.
    pub package: usize,
    pub advisory: &'a Advisory,
    pub kind: FindingKind,
}

/// The advisories that may apply to each crate, by crate name, with what a
/// match needs worked out once per advisory rather than once per package.
/// Withdrawn advisories, and informational kinds cargo-audit does not
/// report, are left out here.
pub struct Candidates<'a> {
    by_crate: FastMap<&'a str, Vec<(&'a Advisory, FindingKind)>>,
    /// The source of an advisory that names none: the crates.io index, as
    /// rustsec assumes. Made once: rustsec's `Query` parses its URL again
    /// for every package and advisory it compares, which was most of the
    /// matching of fifty lockfiles.
    crates_io: SourceId,
}

impl<'a> Candidates<'a> {
    pub fn new(advisories: &'a [Advisory]) -> Candidates<'a> {
        let mut by_crate: FastMap<&str, Vec<(&Advisory, FindingKind)>> = FastMap::default();
        for adv in advisories {
            if adv.metadata.withdrawn.is_some() {
                continue;
            }
            let Some(kind) = kind_of(adv) else { continue };
            by_crate
                .entry(adv.metadata.package.as_str())
                .or_default()
                .push((adv, kind));
        }
        Candidates {
            by_crate,
            crates_io: SourceId::default(),
        }
    }

    /// Every (package, advisory) of one lockfile that applies, in package
    /// order. Like cargo-audit, only crates.io packages are matched: a
    /// path or git package of the same name is not the published crate.
    pub fn matches_in(&self, tree: &LockedTree, settings: &MatchSettings) -> Vec<Match<'a>> {
        let mut out = Vec::new();
        for (pi, p) in tree.packages.iter().enumerate() {
            let Some(source) = p.source.as_deref() else {
                continue;
            };
            if !source.is_default_registry() {
                continue;
            }
            let Some(cands) = self.by_crate.get(p.name()) else {
                continue;
            };
            for &(advisory, kind) in cands {
                if self.applies(advisory, &p.version, source, settings) {
                    out.push(Match {
                        package: pi,
                        advisory,
                        kind,
                    });
                }
            }
        }
        out
    }

    /// Whether `adv` (one of this crate's candidates: same name, not
    /// withdrawn) applies to `version` from `source` on the target
    /// platform: rustsec's `Query::matches`, check for check.
    fn applies(
        &self,
        adv: &Advisory,
        version: &rustsec::Version,
        source: &SourceId,
        settings: &MatchSettings,
    ) -> bool {
        let adv_source = adv.metadata.source.as_ref().unwrap_or(&self.crates_io);
        adv.versions.is_vulnerable(version)
            && adv_source.kind() == source.kind()
            && adv_source.url() == source.url()
            && on_target(adv, settings)
    }
}

/// Whether an advisory limited to some platforms covers the target, when
/// one is set: an empty list on either side means every platform.
fn on_target(adv: &Advisory, settings: &MatchSettings) -> bool {
    let Some(affected) = &adv.affected else {
        return true;
    };
    let arch = affected.arch.is_empty()
        || settings.target_arch.is_empty()
        || settings
            .target_arch
            .iter()
            .any(|a| affected.arch.contains(a));
    let os = affected.os.is_empty()
        || settings.target_os.is_empty()
        || settings.target_os.iter().any(|o| affected.os.contains(o));
    arch && os
}

/// The ignores in force, and what became of them.
pub struct Ignores {
    active: BTreeMap<String, IgnoreEntry>,
    pub warnings: Vec<String>,
}

struct IgnoreEntry {
    source: &'static str,
    /// How a suppressed finding names this ignore.
    by: String,
    used: bool,
}

impl Ignores {
    /// `--ignore` ids never expire; `[deps] ignore` entries stop applying
    /// after their `until` day, with a warning.
    /// `config_name` names the config file in suppressed findings.
    pub fn new(cli: &[String], config: &[AdvisoryIgnore], config_name: &str) -> Result<Ignores> {
        let today = today();
        let mut active = BTreeMap::new();
        let mut warnings = Vec::new();
        for c in config {
            if let Some(until) = &c.until {
                let Some(day) = parse_ymd(until) else {
                    bail!(
                        "[deps] ignore for {}: `until = {until}` is not a date (YYYY-MM-DD)",
                        c.id
                    );
                };
                if today > day {
                    let reason = c
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    warnings.push(format!(
                        "ignore of {}{reason} expired on {until}: the advisory is reported again",
                        c.id
                    ));
                    continue;
                }
            }
            let reason = c
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            active.insert(
                c.id.clone(),
                IgnoreEntry {
                    source: "[deps] ignore",
                    by: format!("{config_name} [deps] ignore of {}{reason}", c.id),
                    used: false,
                },
            );
        }
        for id in cli {
            active.entry(id.clone()).or_insert(IgnoreEntry {
                source: "--ignore",
                by: format!("--ignore {id} on the command line"),
                used: false,
            });
        }
        Ok(Ignores { active, warnings })
    }

    /// Whether the advisory's id (or one of its aliases) is ignored. Only
    /// reads, so that lockfiles can be audited in parallel; the caller
    /// then records each use with [`mark_used`](Self::mark_used).
    pub fn covers(&self, adv: &Advisory) -> bool {
        self.covering(adv).is_some()
    }

    /// The suppression of the advisory's findings, when an ignore covers it.
    pub fn covering(&self, adv: &Advisory) -> Option<crate::finding::Suppression> {
        let e = ids_of(adv).find_map(|id| self.active.get(id))?;
        Some(crate::finding::Suppression::new(
            crate::finding::SuppressionMechanism::AdvisoryIgnore,
            e.by.clone(),
        ))
    }

    /// Records that the ignores of the advisory's id and aliases applied.
    pub fn mark_used(&mut self, adv: &Advisory) {
        for id in ids_of(adv) {
            if let Some(e) = self.active.get_mut(id) {
                e.used = true;
            }
        }
    }

    /// One warning per ignore that matched nothing in this run.
    pub fn finish(mut self) -> Vec<String> {
        for (id, e) in &self.active {
            if !e.used {
                self.warnings.push(format!(
                    "stale ignore: {id} ({}) matched nothing in the audited lockfiles; remove it",
                    e.source
                ));
            }
        }
        self.warnings
    }
}

/// An advisory's id, then its aliases (CVE, GHSA): the names an ignore
/// may give it by.
fn ids_of(adv: &Advisory) -> impl Iterator<Item = &str> {
    std::iter::once(adv.metadata.id.as_str()).chain(adv.metadata.aliases.iter().map(|a| a.as_str()))
}

/// The severity of a match: from the CVSS base score when the advisory has
/// one; a vulnerability without one is medium (neither dismissed nor
/// inflated); informational kinds get the configured severity.
pub fn severity_of(adv: &Advisory, kind: FindingKind, settings: &MatchSettings) -> Severity {
    if kind.is_informational() {
        return settings.informational_severity;
    }
    match &adv.metadata.cvss {
        Some(c) => Severity::from_cvss(c.score()),
        None => Severity::Medium,
    }
}

/// "upgrade to >= X" from the patched ranges: the lowest patched version
/// above the one in use; "no fixed version" when there is none.
pub fn fix_of(adv: &Advisory, current: &rustsec::Version) -> String {
    let patched = adv.versions.patched();
    if patched.is_empty() {
        return "no fixed version".to_string();
    }
    let mut lowest: Option<rustsec::Version> = None;
    for req in patched {
        for c in &req.comparators {
            // Upper bounds (`<2.0`) say where a patched range ends, not a
            // version to upgrade to.
            if matches!(c.op, semver::Op::Less | semver::Op::LessEq) {
                continue;
            }
            let v = rustsec::Version {
                major: c.major,
                minor: c.minor.unwrap_or(0),
                patch: c.patch.unwrap_or(0),
                pre: c.pre.clone(),
                build: Default::default(),
            };
            if &v > current && lowest.as_ref().is_none_or(|l| &v < l) {
                lowest = Some(v);
            }
        }
    }
    match lowest {
        Some(v) => format!("upgrade to >= {v}"),
        None => {
            let reqs: Vec<String> = patched.iter().map(|r| r.to_string()).collect();
            format!("upgrade to a patched version ({})", reqs.join(" or "))
        }
    }
}

/// The link to give: the advisory's own `url` for CC-BY-4.0 advisories (the
/// licence requires attribution to the original), else its rustsec.org page.
pub fn url_of(adv: &Advisory) -> String {
    if matches!(adv.metadata.license, License::CcBy40) {
        if let Some(u) = &adv.metadata.url {
            return u.to_string();
        }
    }
    format!("https://rustsec.org/advisories/{}", adv.metadata.id)
}

/// Builds the finding for one match.
pub fn finding(
    m: &Match<'_>,
    lf: &LockfileAudit<'_>,
    line_hashes: Option<&HashMap<u32, String>>,
    settings: &MatchSettings,
) -> Finding {
    let adv = m.advisory;
    let pkg = &lf.tree.packages[m.package];
    let version = pkg.version.to_string();
    let id = adv.metadata.id.as_str();
    let mut location = Location::lines(lf.rel_path.clone(), pkg.start_line, pkg.end_line);
    location.line_hash = line_hashes.and_then(|h| h.get(&pkg.start_line).cloned());
    let paths = lf.tree.path_count(m.package);
    Finding {
        kind: m.kind,
        rule_id: id.to_string(),
        rule_title: adv.metadata.title.clone(),
        severity: severity_of(adv, m.kind, settings),
        confidence: Confidence::High,
        location,
        excerpt: format!("{}@{version}", pkg.name()),
        fingerprint: fingerprint(&[id, pkg.name(), &version, &lf.rel_path]),
        dependency: Some(DependencyInfo {
            package: pkg.name().to_string(),
            version: version.clone(),
            aliases: adv.metadata.aliases.iter().map(|a| a.to_string()).collect(),
            fix: fix_of(adv, &pkg.version),
            dependency_path: lf.tree.shortest_path(m.package),
            other_paths: paths.saturating_sub(1),
            url: Some(url_of(adv)),
            dependency_kind: None,
            cvss: adv.metadata.cvss.as_ref().map(|c| c.score()),
            date: Some(adv.metadata.date.as_str().to_string()),
        }),
        secret: None,
        suppressed: None,
    }
}

/// The rule (SARIF `reportingDescriptor`) for an advisory, with help that
/// says what to do: the patched versions, where the crate comes from, the
/// link, and the ignore snippet for when upgrading is not possible yet.
pub fn rule_info(
    adv: &Advisory,
    kind: FindingKind,
    findings: &[&Finding],
    settings: &MatchSettings,
) -> RuleInfo {
    let id = adv.metadata.id.as_str();
    let url = url_of(adv);
    let patched: Vec<String> = adv
        .versions
        .patched()
        .iter()
        .map(|r| r.to_string())
        .collect();
    let patched_text = if patched.is_empty() {
        "none (no fixed version)".to_string()
    } else {
        patched.join(", ")
    };
    let description = adv.metadata.description.trim().to_string();
    let aliases: Vec<String> = adv.metadata.aliases.iter().map(|a| a.to_string()).collect();

    let mut md = String::new();
    let _ = writeln!(
        md,
        "**{id}**: {} (`{}`)\n",
        adv.metadata.title, adv.metadata.package
    );
    if !description.is_empty() {
        let _ = writeln!(md, "{description}\n");
    }
    let _ = writeln!(md, "**Kind:** {kind}  ");
    if let Some(c) = &adv.metadata.cvss {
        let _ = writeln!(md, "**CVSS:** {} ({c})  ", c.score());
    }
    if !aliases.is_empty() {
        let _ = writeln!(md, "**Aliases:** {}  ", aliases.join(", "));
    }
    let _ = writeln!(md, "**Patched versions:** {patched_text}\n");
    let paths = path_lines(findings.iter().copied(), |d| {
        if d.other_paths > 0 {
            format!(" (and {} other paths)", d.other_paths)
        } else {
            String::new()
        }
    });
    if !paths.is_empty() {
        let _ = writeln!(md, "**Dependency path:**\n\n{}\n", paths.join("\n"));
    }
    let _ = writeln!(md, "**More:** <{url}>\n");
    let _ = writeln!(
        md,
        "**To accept the risk for now**, add to `tripline.toml`:\n\n```toml\n[deps]\nignore = [\n  {{ id = \"{id}\", reason = \"why this does not affect us\", until = \"YYYY-MM-DD\" }},\n]\n```"
    );

    let mut help_text = format!("{id}: {}.", adv.metadata.title);
    let _ = write!(help_text, " Patched versions: {patched_text}. See {url}.");
    let _ = write!(
        help_text,
        " To accept the risk: [deps] ignore = [{{ id = \"{id}\", reason = \"...\", until = \"YYYY-MM-DD\" }}] in tripline.toml."
    );

    RuleInfo {
        id: id.to_string(),
        title: adv.metadata.title.clone(),
        description: first_paragraph(&description)
            .unwrap_or(&adv.metadata.title)
            .to_string(),
        help_text,
        help_markdown: md,
        severity: severity_of(adv, kind, settings),
        confidence: Confidence::High,
        tags: vec![kind.as_str().to_string(), "dependency".to_string()],
        security_severity: adv.metadata.cvss.as_ref().map(|c| c.score()),
        help_uri: Some(url),
    }
}

fn first_paragraph(text: &str) -> Option<&str> {
    text.split("\n\n").map(str::trim).find(|p| !p.is_empty())
}

/// One markdown line per finding for a rule's help: its package, lockfile
/// and dependency path, then `after` (what each rule adds); duplicates
/// (the same package through the same path) once.
pub fn path_lines<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    after: impl Fn(&crate::finding::DependencyInfo) -> String,
) -> Vec<String> {
    let mut seen = BTreeSet::new();
    findings
        .into_iter()
        .filter_map(|f| {
            let d = f.dependency.as_ref()?;
            let line = format!(
                "- `{}` in `{}`: {}{}",
                f.excerpt,
                f.location.path,
                d.dependency_path.join(" → "),
                after(d)
            );
            seen.insert(line.clone()).then_some(line)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustsec::cargo_lock::Package;
    use rustsec::database::Query;
    use std::path::Path;

    fn fixture_advisories() -> Vec<Advisory> {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps/advisory-db/crates");
        let mut out = Vec::new();
        for folder in std::fs::read_dir(crates).unwrap() {
            for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
                // The fixture's malformed advisory has nothing to match.
                out.extend(Advisory::load_file(file.unwrap().path()).ok());
            }
        }
        out.sort_by(|a, b| a.metadata.id.as_str().cmp(b.metadata.id.as_str()));
        out
    }

    /// Every version an advisory's ranges name, and one patch release
    /// either side of each: where matching changes its answer.
    fn versions_around(adv: &Advisory) -> Vec<rustsec::Version> {
        let mut out: Vec<rustsec::Version> = ["0.0.1", "0.1.0", "1.0.0", "99.0.0", "1.0.0-alpha.1"]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        let reqs = adv
            .versions
            .patched()
            .iter()
            .chain(adv.versions.unaffected());
        for c in reqs.flat_map(|r| &r.comparators) {
            let (minor, patch) = (c.minor.unwrap_or(0), c.patch.unwrap_or(0));
            for p in [patch.saturating_sub(1), patch, patch + 1] {
                out.push(rustsec::Version::new(c.major, minor, p));
            }
        }
        out
    }

    /// The matcher decides as rustsec's `Query` does, as cargo-audit builds
    /// it, for every fixture advisory (one withdrawn, two limited to
    /// platforms) and every source, target and version around its ranges.
    #[test]
    fn candidates_match_as_rustsecs_query_does() {
        let advisories = fixture_advisories();
        assert!(advisories.len() >= 7, "{}", advisories.len());
        let candidates = Candidates::new(&advisories);
        let sources: Vec<SourceId> = [
            "registry+https://github.com/rust-lang/crates.io-index",
            "sparse+https://index.crates.io/",
            "registry+https://example.com/other-index",
            "git+https://github.com/example/repo#0123456789abcdef0123456789abcdef01234567",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let targets = [
            (None, None),
            (Some("linux"), None),
            (Some("windows"), None),
            (None, Some("x86_64")),
            (None, Some("aarch64")),
            (Some("windows"), Some("x86_64")),
        ];
        let (mut agreed, mut matched) = (0, 0);
        for (os, arch) in targets {
            let settings = MatchSettings::new(os, arch, None).unwrap();
            for adv in &advisories {
                let is_candidate = candidates
                    .by_crate
                    .get(adv.metadata.package.as_str())
                    .is_some_and(|c| c.iter().any(|(a, _)| std::ptr::eq(*a, adv)));
                for version in versions_around(adv) {
                    for source in &sources {
                        let package = Package {
                            name: adv.metadata.package.clone(),
                            version: version.clone(),
                            source: Some(source.clone()),
                            checksum: None,
                            dependencies: Vec::new(),
                            replace: None,
                        };
                        let want = kind_of(adv).is_some()
                            && Query::new()
                                .package(&package)
                                .withdrawn(false)
                                .target_os(settings.target_os.clone())
                                .target_arch(settings.target_arch.clone())
                                .matches(adv);
                        let got =
                            is_candidate && candidates.applies(adv, &version, source, &settings);
                        assert_eq!(
                            got, want,
                            "{} {version} from {source} on {os:?}/{arch:?}",
                            adv.metadata.id
                        );
                        agreed += 1;
                        matched += usize::from(got);
                    }
                }
            }
        }
        // Both answers occur, or the comparison would prove little.
        assert!(
            matched > 20 && matched < agreed / 2,
            "{matched} of {agreed}"
        );
    }
}
