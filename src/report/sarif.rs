//! The SARIF 2.1.0 report, shaped for GitHub code scanning.
//!
//! GitHub accepts far less than the SARIF schema allows and silently drops or
//! rejects the rest, so this writer follows GitHub's documented rules rather
//! than the bare schema: exactly one run with a `results` array (empty when
//! clean); a rule object for every rule that produced a result, carrying
//! `security-severity` as a numeric string and at most 10 tags; every result
//! with a repo-relative, percent-encoded location under `%SRCROOT%`, a region
//! whose lines and columns are 1-based, `primaryLocationLineHash` (computed by
//! the scanner with `finding::linehash`) and tripline's own content
//! fingerprint; at most 25,000 results.
//!
//! Decisions worth knowing when reading an upload:
//! - `precision` follows the best confidence among the rule's results (high
//!   → `high`, medium → `medium`, low → `low`): for a rule decided by the
//!   decision stage, each finding's confidence is its score's band. The
//!   exception is dependency advisories, which are
//!   `very-high`: a locked version inside an advisory's affected range is a
//!   fact read from the lockfile, not a guess about a string.
//! - A dependency finding covers whole lines (a lockfile's `[[package]]`
//!   block): its region gives `startColumn` 1 and no `endColumn`, which SARIF
//!   defines as "to the end of `endLine`".
//! - Messages name the rule and the file (and the commit, for history), never
//!   the secret; the masked excerpt is a result property. The raw value is
//!   added as the `secret` property only under `--show-secrets`.
//! - A suppressed finding is a result with one `suppressions` entry: `kind`
//!   `inSource` for an inline comment, `external` for configuration, a
//!   baseline or an advisory ignore, `status` `accepted`, and a
//!   `justification` naming the mechanism (and, for configuration, the file
//!   and key). GitHub then records the alert as dismissed instead of never
//!   seeing it.
//!
//! This module does not read scanned files and does not decide what is a
//! finding; it renders a [`ScanOutcome`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location as SarifLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif,
    Suppression as SarifSuppression, Tool, ToolComponent,
};

use super::ReportOptions;
use crate::finding::{Confidence, Finding, FindingKind, RuleInfo, ScanOutcome, Severity};

/// GitHub rejects a run with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub keeps only the first 10 tags of a rule.
const MAX_TAGS: usize = 10;
/// GitHub truncates longer rule descriptions.
const MAX_DESCRIPTION_CHARS: usize = 1024;
/// GitHub truncates longer rule names.
const MAX_NAME_CHARS: usize = 255;

/// The official OASIS schema of SARIF 2.1.0.
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The base every result's `uri` is relative to; GitHub binds it to the
/// checkout root.
const SRCROOT: &str = "%SRCROOT%";

/// What stays literal in a `uri`: RFC 3986 unreserved characters and the
/// path separator. Everything else (spaces, `%`, `#`, `?`, `:`, `+`,
/// non-ASCII...) is percent-encoded, which every URI decoder turns back into
/// the same path.
const PATH_LITERALS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

pub fn write(outcome: &ScanOutcome, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let kept = most_severe(&outcome.findings, MAX_RESULTS);
    let dropped = outcome.findings.len() - kept.len();
    if dropped > 0 {
        eprintln!(
            "tripline: GitHub accepts at most {MAX_RESULTS} SARIF results: kept the \
             {MAX_RESULTS} most severe, dropped {dropped} of {} (the text and JSON reports list all)",
            outcome.findings.len()
        );
    }
    let log = build(outcome, &kept, opts);
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::from)?;
    writeln!(out)
}

/// The findings to report, in the outcome's order: all of them, or when
/// there are more than `limit`, the `limit` most severe, unsuppressed ones
/// first (ties keep the outcome's order).
fn most_severe(findings: &[Finding], limit: usize) -> Vec<&Finding> {
    if findings.len() <= limit {
        return findings.iter().collect();
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    // A stable sort: equal severities stay in the outcome's order. What
    // fails the run goes before what is suppressed.
    let key = |f: &Finding| (f.suppressed.is_none(), f.severity);
    order.sort_by(|&a, &b| key(&findings[b]).cmp(&key(&findings[a])));
    order.truncate(limit);
    order.sort_unstable();
    order.into_iter().map(|i| &findings[i]).collect()
}

fn build(outcome: &ScanOutcome, findings: &[&Finding], opts: &ReportOptions) -> Sarif {
    // One rule per rule id that produced a result, in id order so that the
    // output is stable from run to run.
    let mut firsts: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        firsts.entry(f.rule_id.as_str()).or_insert(f);
    }
    let rule_index: BTreeMap<&str, i64> = firsts
        .keys()
        .enumerate()
        .map(|(i, id)| (*id, i as i64))
        .collect();
    // A secret rule's precision is the best confidence among its results:
    // a model-decided rule has no fixed confidence of its own (each finding
    // carries the decision stage's), and a validated match raises a fixed
    // rule's.
    let mut best: BTreeMap<&str, Confidence> = BTreeMap::new();
    for f in findings {
        let b = best.entry(f.rule_id.as_str()).or_insert(f.confidence);
        *b = (*b).max(f.confidence);
    }
    let rules: Vec<ReportingDescriptor> = firsts
        .values()
        .map(|f| {
            let mut info = outcome
                .rules
                .get(&f.rule_id)
                .cloned()
                .unwrap_or_else(|| synthesized_rule(f, findings));
            if f.kind == FindingKind::Secret {
                info.confidence = best[f.rule_id.as_str()];
            }
            descriptor(&info, f.kind)
        })
        .collect();
    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| result(f, rule_index[f.rule_id.as_str()], opts))
        .collect();

    let driver = ToolComponent::builder()
        .name(env!("CARGO_PKG_NAME"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri(env!("CARGO_PKG_HOMEPAGE"))
        .rules(rules)
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(json!("utf16CodeUnits"))
        .invocations(vec![invocation(outcome)])
        .build();
    run.automation_details = automation_id(opts.sarif_category.as_deref())
        .map(|id| RunAutomationDetails::builder().id(id).build());

    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// The scan itself: it ran to the end (a file it could not read is a
/// notification, not a failed run) unless a whole part of it did not run
/// (the dependency audit without its database: `executionSuccessful` is
/// false), with every scan error and warning as a notification, so that a
/// reader of the SARIF file sees what was not scanned (an unreadable file,
/// a stale advisory database, the missing database).
fn invocation(outcome: &ScanOutcome) -> Invocation {
    let errors = outcome.errors.iter().chain(&outcome.not_run).map(|e| {
        let mut n = Notification::builder()
            .message(Message::builder().text(e.message.clone()).build())
            .level(json!("error"))
            .build();
        // Only a path under the scan root can be a `%SRCROOT%` location.
        n.locations = e.path.as_deref().filter(|p| is_relative(p)).map(|p| {
            vec![SarifLocation::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(
                            ArtifactLocation::builder()
                                .uri(encode_path(p))
                                .uri_base_id(SRCROOT)
                                .build(),
                        )
                        .build(),
                )
                .build()]
        });
        n
    });
    let warnings = outcome.warnings.iter().map(|w| {
        Notification::builder()
            .message(Message::builder().text(w.clone()).build())
            .level(json!("warning"))
            .build()
    });
    let notifications: Vec<Notification> = errors.chain(warnings).collect();
    let mut invocation = Invocation::builder()
        .execution_successful(outcome.not_run.is_empty())
        .build();
    invocation.tool_execution_notifications = Some(notifications).filter(|n| !n.is_empty());
    invocation
}

fn is_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.starts_with('\\')
        && !path.get(1..3).is_some_and(|s| s == ":\\" || s == ":/")
}

/// `automationDetails.id` for a category: GitHub reads the part before the
/// last `/` as the category, so the slash is appended when missing.
fn automation_id(category: Option<&str>) -> Option<String> {
    let category = category.map(str::trim).filter(|c| !c.is_empty())?;
    Some(if category.ends_with('/') {
        category.to_string()
    } else {
        format!("{category}/")
    })
}

/// A rule description for a finding whose scanner supplied none, built from
/// what the findings of that rule say.
fn synthesized_rule(first: &Finding, findings: &[&Finding]) -> RuleInfo {
    let severity = findings
        .iter()
        .filter(|f| f.rule_id == first.rule_id)
        .map(|f| f.severity)
        .max()
        .unwrap_or(first.severity);
    let dep = first.dependency.as_ref();
    let (description, help_text, help_markdown) = match dep {
        None => {
            let text = format!(
                "{title}: a credential committed to the repository. Anyone who can read the \
                 repository, a fork or a clone can use it. Revoke or rotate it with its \
                 provider first, then remove it from the code (read it from the environment or \
                 a secret store instead) and, if the repository is shared, from its history.",
                title = first.rule_title
            );
            let markdown = format!(
                "**{title}**\n\nA credential committed to the repository: anyone who can read \
                 the repository, a fork or a clone can use it.\n\n1. Revoke or rotate it with \
                 its provider.\n2. Remove it from the code; read it from the environment or a \
                 secret store instead.\n3. If the repository is shared, remove it from the \
                 history too (`git filter-repo`).",
                title = first.rule_title
            );
            (first.rule_title.clone(), text, markdown)
        }
        Some(d) => {
            let text = format!(
                "{id}: {title}. Affected: {package}. Fix: {fix}.{url}",
                id = first.rule_id,
                title = first.rule_title,
                package = d.package,
                fix = d.fix,
                url = d
                    .url
                    .as_deref()
                    .map(|u| format!(" See {u}."))
                    .unwrap_or_default(),
            );
            let markdown = format!(
                "**{id}**: {title}\n\n- Package: `{package}`\n- Fix: {fix}\n{url}\nTo accept the \
                 risk for a while, add to `tripline.toml`:\n\n```toml\n[deps]\nignore = [{{ id = \
                 \"{id}\", reason = \"...\", until = \"YYYY-MM-DD\" }}]\n```",
                id = first.rule_id,
                title = first.rule_title,
                package = d.package,
                fix = d.fix,
                url = d
                    .url
                    .as_deref()
                    .map(|u| format!("- Advisory: <{u}>\n"))
                    .unwrap_or_default(),
            );
            (first.rule_title.clone(), text, markdown)
        }
    };
    RuleInfo {
        id: first.rule_id.clone(),
        title: first.rule_title.clone(),
        description,
        help_text,
        help_markdown,
        severity,
        confidence: first.confidence,
        tags: Vec::new(),
        security_severity: dep.and_then(|d| d.cvss),
        help_uri: dep.and_then(|d| d.url.clone()),
    }
}

fn descriptor(info: &RuleInfo, kind: FindingKind) -> ReportingDescriptor {
    let short = non_empty(&info.title).unwrap_or(&info.id);
    let full = non_empty(&info.description).unwrap_or(short);
    let help_text = non_empty(&info.help_text).unwrap_or(full);
    let help_markdown = non_empty(&info.help_markdown).unwrap_or(help_text);

    let mut properties = PropertyBag::builder().tags(tags(info, kind)).build();
    properties
        .additional_properties
        .insert("precision".into(), json!(precision(info.confidence, kind)));
    properties.additional_properties.insert(
        "security-severity".into(),
        json!(security_severity(info.security_severity, info.severity)),
    );

    let mut rule = ReportingDescriptor::builder()
        .id(info.id.clone())
        .short_description(message_string(truncate_chars(short, MAX_DESCRIPTION_CHARS)))
        .full_description(message_string(truncate_chars(full, MAX_DESCRIPTION_CHARS)))
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(info.severity).to_string()))
                .build(),
        )
        .properties(properties)
        .build();
    rule.help_uri = info
        .help_uri
        .as_deref()
        .and_then(non_empty)
        .map(str::to_owned);
    let name = pascal_case(&info.id);
    rule.name = non_empty(&name).map(|n| truncate_chars(n, MAX_NAME_CHARS));
    rule
}

fn result(f: &Finding, rule_index: i64, opts: &ReportOptions) -> SarifResult {
    let artifact = ArtifactLocation::builder()
        .uri(encode_path(&f.location.path))
        .uri_base_id(SRCROOT)
        .build();
    let physical = PhysicalLocation::builder()
        .artifact_location(artifact)
        .region(region(f))
        .build();

    let mut fingerprints = BTreeMap::new();
    if let Some(hash) = &f.location.line_hash {
        fingerprints.insert("primaryLocationLineHash".to_string(), hash.clone());
    }
    fingerprints.insert("tripline/v1".to_string(), f.fingerprint.clone());

    let mut result = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .rule_index(rule_index)
        .level(level(f.severity))
        .message(Message::builder().text(message(f)).build())
        .locations(vec![SarifLocation::builder()
            .physical_location(physical)
            .build()])
        .partial_fingerprints(fingerprints)
        .properties(result_properties(f, opts))
        .build();
    result.suppressions = f.suppressed.as_ref().map(|s| {
        vec![SarifSuppression::builder()
            .kind(json!(s.kind.as_str()))
            .status(json!("accepted"))
            .justification(format!("Suppressed by {}", s.by))
            .build()]
    });
    result
}

/// The region of a finding. Secrets are exact spans (end column exclusive,
/// as in SARIF); dependency findings are whole lines, which SARIF expresses
/// by leaving out `endColumn`.
fn region(f: &Finding) -> Region {
    let loc = &f.location;
    let start_line = i64::from(loc.start_line.max(1));
    let end_line = i64::from(loc.end_line).max(start_line);
    let start_column = i64::from(loc.start_column.max(1));
    let end_column = i64::from(loc.end_column);
    let whole_lines = f.kind != FindingKind::Secret && loc.start_column <= 1 && loc.end_column <= 1;
    let empty = end_line == start_line && end_column <= start_column;
    let mut region = Region::builder()
        .start_line(start_line)
        .start_column(start_column)
        .end_line(end_line)
        .build();
    if !whole_lines && !empty && end_column >= 1 {
        region.end_column = Some(end_column);
    }
    region
}

/// What the alert says: the rule and the file (and the commit, for history),
/// never the secret.
fn message(f: &Finding) -> String {
    let path = &f.location.path;
    if f.kind == FindingKind::Suppression {
        return format!(
            "{} in {path}: {}. Review it: it silences findings from now on.",
            f.rule_title, f.excerpt
        );
    }
    match &f.dependency {
        None => {
            let mut text = format!("{} found in {path}", f.rule_title);
            if let Some(commit) = &f.location.commit {
                text.push_str(&format!(" at commit {}", commit.id));
            }
            text.push_str(&format!(
                " (rule {}). Revoke or rotate it, then remove it from the code{}.",
                f.rule_id,
                if f.location.commit.is_some() {
                    " and the history"
                } else {
                    ""
                }
            ));
            text
        }
        Some(d) => {
            let what = match f.kind {
                FindingKind::Vulnerability => "has a known vulnerability",
                FindingKind::Unmaintained => "is unmaintained",
                FindingKind::Unsound => "is unsound",
                FindingKind::Yanked => "is yanked",
                FindingKind::Notice => "has an advisory notice",
                FindingKind::Secret | FindingKind::Suppression => "has an advisory",
            };
            let mut text = format!(
                "{}@{} {what}: {} ({}), locked in {path}.",
                d.package, d.version, f.rule_id, f.rule_title
            );
            if !d.fix.is_empty() {
                text.push_str(&format!(" Fix: {}.", d.fix.trim_end_matches('.')));
            }
            if !d.dependency_path.is_empty() {
                text.push_str(&format!(
                    " Dependency path: {}",
                    d.dependency_path.join(" → ")
                ));
                if d.other_paths > 0 {
                    let s = if d.other_paths == 1 { "" } else { "s" };
                    text.push_str(&format!(" (and {} other path{s})", d.other_paths));
                }
                text.push('.');
            }
            if !d.aliases.is_empty() {
                text.push_str(&format!(" Also known as {}.", d.aliases.join(", ")));
            }
            text
        }
    }
}

fn result_properties(f: &Finding, opts: &ReportOptions) -> PropertyBag {
    let mut p: BTreeMap<String, Value> = BTreeMap::new();
    p.insert("kind".into(), json!(f.kind.as_str()));
    p.insert("severity".into(), json!(f.severity.as_str()));
    p.insert("confidence".into(), json!(f.confidence.as_str()));
    if !f.excerpt.is_empty() {
        p.insert("excerpt".into(), json!(f.excerpt));
    }
    if let Some(d) = &f.dependency {
        p.insert("package".into(), json!(d.package));
        p.insert("version".into(), json!(d.version));
        p.insert("aliases".into(), json!(d.aliases));
        p.insert("fix".into(), json!(d.fix));
        p.insert("dependencyPath".into(), json!(d.dependency_path));
        p.insert("otherPaths".into(), json!(d.other_paths));
        if let Some(url) = &d.url {
            p.insert("url".into(), json!(url));
        }
        if let Some(kind) = &d.dependency_kind {
            p.insert("dependencyKind".into(), json!(kind));
        }
        if let Some(cvss) = d.cvss {
            p.insert("cvss".into(), json!(cvss));
        }
        if let Some(date) = &d.date {
            p.insert("advisoryDate".into(), json!(date));
        }
    }
    if let Some(c) = &f.location.commit {
        p.insert("commit".into(), json!(c.id));
        p.insert("author".into(), json!(c.author));
        p.insert("date".into(), json!(c.date));
    }
    if let Some(blob) = &f.location.blob {
        p.insert("blob".into(), json!(blob));
    }
    if let Some(s) = &f.suppressed {
        p.insert("suppressedBy".into(), json!(s.by));
    }
    if opts.show_secrets {
        if let Some(secret) = &f.secret {
            p.insert("secret".into(), json!(secret.expose()));
        }
    }
    PropertyBag::builder().additional_properties(p).build()
}

/// `security` first, then the kind of finding, then the rule's own tags:
/// no duplicates (ignoring case), at most [`MAX_TAGS`].
fn tags(info: &RuleInfo, kind: FindingKind) -> Vec<String> {
    let mut seen = BTreeSet::new();
    ["security", kind.as_str()]
        .into_iter()
        .chain(info.tags.iter().map(|t| t.trim()))
        .filter(|t| !t.is_empty() && seen.insert(t.to_lowercase()))
        .take(MAX_TAGS)
        .map(str::to_owned)
        .collect()
}

/// GitHub's precision scale from a rule's confidence; see the module docs.
fn precision(confidence: Confidence, kind: FindingKind) -> &'static str {
    if kind != FindingKind::Secret {
        return "very-high";
    }
    match confidence {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// The score GitHub sorts and bands alerts by, as the numeric string it
/// wants ("8.0"). A score outside GitHub's (0, 10] is ignored by GitHub, so
/// the severity's default stands in for it. The range is checked after
/// rounding to the one decimal written: 0.04 would be written "0.0".
fn security_severity(score: Option<f64>, severity: Severity) -> String {
    let score = score
        .map(|s| (s * 10.0).round() / 10.0)
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 10.0)
        .unwrap_or_else(|| severity.default_score());
    format!("{score:.1}")
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

/// A repo-relative path as a relative URI reference.
fn encode_path(path: &str) -> String {
    let path = path.trim_start_matches("./");
    utf8_percent_encode(path, PATH_LITERALS).to_string()
}

/// `github-pat-classic` → `GithubPatClassic`: the readable, stable name
/// SARIF asks for. The rest of each word is kept as is, so
/// `RUSTSEC-2023-0001` stays recognisable (`RUSTSEC20230001`).
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            first
                .into_iter()
                .chain(std::iter::once(chars.as_str().to_owned()))
        })
        .collect()
}

fn message_string(text: String) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn non_empty(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.trim().is_empty())
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((cut, _)) => {
            let keep: String = s[..cut].chars().take(max - 1).collect();
            format!("{keep}…")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::linehash::line_hashes;
    use crate::finding::{
        fingerprint, CommitInfo, DependencyInfo, Location, ScanError, SecretValue,
    };

    /// Made up in the shape of a classic GitHub token; not a credential.
    const TOKEN: &str = "ghp_Zq3Xv8Lm2Np5Rt7Wy9Bc4Df6Gh1Jk0Ms8Qua";
    /// AWS's documented example key id.
    const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

    fn secret(path: &str, rule: &str, title: &str, line: u32, col: u32, value: &str) -> Finding {
        let content = format!("x\n{}token = \"{value}\"\n", "\n".repeat(line as usize - 2));
        let hash = line_hashes(content.as_bytes())[line as usize - 1].clone();
        let value = SecretValue::new(value);
        Finding {
            kind: FindingKind::Secret,
            rule_id: rule.into(),
            rule_title: title.into(),
            severity: Severity::High,
            confidence: Confidence::High,
            location: Location {
                path: path.into(),
                start_line: line,
                start_column: col,
                end_line: line,
                end_column: col + value.expose().encode_utf16().count() as u32,
                line_hash: Some(hash),
                commit: None,
                blob: None,
            },
            excerpt: value.masked(),
            fingerprint: fingerprint(&[rule, path, value.expose()]),
            dependency: None,
            secret: Some(value),
            suppressed: None,
        }
    }

    fn dependency() -> Finding {
        let dep = DependencyInfo {
            package: "rsa".into(),
            version: "0.9.6".into(),
            aliases: vec!["CVE-2023-49092".into(), "GHSA-c38w-74pg-36hr".into()],
            fix: "no fixed version".into(),
            dependency_path: vec!["app".into(), "ssh-key".into(), "rsa".into()],
            other_paths: 2,
            url: Some("https://rustsec.org/advisories/RUSTSEC-2023-0071".into()),
            dependency_kind: None,
            cvss: Some(5.9),
            date: Some("2023-11-22".into()),
        };
        Finding {
            kind: FindingKind::Vulnerability,
            rule_id: "RUSTSEC-2023-0071".into(),
            rule_title: "Marvin Attack: potential key recovery through timing sidechannels".into(),
            severity: Severity::Medium,
            confidence: Confidence::High,
            location: Location::lines("services/api/Cargo.lock", 412, 420),
            excerpt: "rsa@0.9.6".into(),
            fingerprint: fingerprint(&[
                "RUSTSEC-2023-0071",
                "rsa",
                "0.9.6",
                "services/api/Cargo.lock",
            ]),
            dependency: Some(dep),
            secret: None,
            suppressed: None,
        }
    }

    fn rule_info_for_dependency() -> RuleInfo {
        RuleInfo {
            id: "RUSTSEC-2023-0071".into(),
            title: "Marvin Attack: potential key recovery through timing sidechannels".into(),
            description: "The rsa crate leaks timing information.".into(),
            help_text: "Upgrade or avoid decryption with rsa on untrusted input.".into(),
            help_markdown: "**RUSTSEC-2023-0071**\n\nNo fixed version.".into(),
            severity: Severity::Medium,
            confidence: Confidence::High,
            tags: vec!["vulnerability".into(), "Security".into(), "crypto".into()],
            security_severity: Some(5.9),
            help_uri: Some("https://rustsec.org/advisories/RUSTSEC-2023-0071".into()),
        }
    }

    fn outcome() -> ScanOutcome {
        let mut history = secret(
            "deploy/old.env",
            "aws-access-key-id",
            "AWS access key ID",
            2,
            9,
            AWS_KEY,
        );
        history.severity = Severity::Critical;
        history.location.commit = Some(CommitInfo {
            id: "3f786850e387550fdab836ed7e6dc881de23001b".into(),
            author: "Dev <dev@example.com>".into(),
            date: "2024-05-01T10:00:00Z".into(),
        });
        history.location.blob = Some("89e6c98d92887913cadf06b2adb97f26cde4849b".into());
        let mut rules = BTreeMap::new();
        rules.insert("RUSTSEC-2023-0071".to_string(), rule_info_for_dependency());
        rules.insert(
            "github-pat-classic".to_string(),
            RuleInfo {
                id: "github-pat-classic".into(),
                title: "GitHub personal access token (classic)".into(),
                description: "A classic GitHub personal access token.".into(),
                help_text: "Revoke it at github.com/settings/tokens.".into(),
                help_markdown: "Revoke it at <https://github.com/settings/tokens>.".into(),
                severity: Severity::High,
                confidence: Confidence::High,
                tags: vec!["secret".into(), "github".into()],
                security_severity: None,
                help_uri: Some("https://docs.github.com/en/authentication".into()),
            },
        );
        ScanOutcome {
            root: ".".into(),
            findings: vec![
                secret(
                    "config/my secrets/clé #1?.env",
                    "github-pat-classic",
                    "GitHub personal access token (classic)",
                    3,
                    10,
                    TOKEN,
                ),
                dependency(),
                history,
            ],
            rules,
            errors: vec![
                ScanError {
                    path: Some("private/keys.pem".into()),
                    message: "private/keys.pem: permission denied".into(),
                },
                ScanError {
                    path: Some("/etc/tripline.toml".into()),
                    message: "/etc/tripline.toml: unreadable".into(),
                },
            ],
            warnings: vec!["advisory database is 120 days old".into()],
            ..ScanOutcome::default()
        }
    }

    fn render(outcome: &ScanOutcome, opts: &ReportOptions) -> (String, Value) {
        let mut out = Vec::new();
        write(outcome, opts, &mut out).expect("writing to a Vec cannot fail");
        let text = String::from_utf8(out).expect("SARIF is UTF-8");
        let doc = serde_json::from_str(&text).expect("SARIF is JSON");
        (text, doc)
    }

    #[test]
    fn github_shape_with_findings() {
        let (text, doc) = render(&outcome(), &ReportOptions::default());
        assert!(text.ends_with("}\n"));
        assert_eq!(doc["version"], "2.1.0");
        let runs = doc["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run["columnKind"], "utf16CodeUnits");
        assert!(run.get("automationDetails").is_none());
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "tripline");
        assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
        assert!(driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://"));

        // Rules: one per rule with a result, in id order.
        let rules = driver["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "RUSTSEC-2023-0071",
                "aws-access-key-id",
                "github-pat-classic"
            ]
        );

        let adv = &rules[0];
        assert_eq!(adv["name"], "RUSTSEC20230071");
        assert_eq!(adv["defaultConfiguration"]["level"], "warning");
        assert_eq!(adv["properties"]["security-severity"], "5.9");
        assert_eq!(adv["properties"]["precision"], "very-high");
        assert_eq!(
            adv["properties"]["tags"],
            json!(["security", "vulnerability", "crypto"])
        );
        assert_eq!(
            adv["helpUri"],
            "https://rustsec.org/advisories/RUSTSEC-2023-0071"
        );
        assert_eq!(
            adv["help"]["markdown"],
            "**RUSTSEC-2023-0071**\n\nNo fixed version."
        );

        // Synthesised from the finding: no RuleInfo for it in the outcome.
        let aws = &rules[1];
        assert_eq!(aws["name"], "AwsAccessKeyId");
        assert_eq!(aws["shortDescription"]["text"], "AWS access key ID");
        assert_eq!(aws["defaultConfiguration"]["level"], "error");
        assert_eq!(aws["properties"]["security-severity"], "9.5");
        assert_eq!(aws["properties"]["precision"], "high");
        assert_eq!(aws["properties"]["tags"], json!(["security", "secret"]));
        assert!(aws["help"]["text"].as_str().unwrap().contains("rotate"));
        assert!(aws["help"]["markdown"].as_str().unwrap().contains("Revoke"));

        let gh = &rules[2];
        assert_eq!(gh["name"], "GithubPatClassic");
        assert_eq!(
            gh["fullDescription"]["text"],
            "A classic GitHub personal access token."
        );
        assert_eq!(gh["properties"]["security-severity"], "8.0");
        assert_eq!(
            gh["properties"]["tags"],
            json!(["security", "secret", "github"])
        );

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        for r in results {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], r["ruleId"]);
            assert_eq!(r["locations"].as_array().unwrap().len(), 1);
            let art = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(art["uriBaseId"], "%SRCROOT%");
            let region = &r["locations"][0]["physicalLocation"]["region"];
            for k in ["startLine", "startColumn", "endLine"] {
                assert!(region[k].as_u64().unwrap() >= 1, "{k} in {region}");
            }
        }

        // The secret in an awkward path.
        let pat = &results[0];
        assert_eq!(pat["ruleId"], "github-pat-classic");
        assert_eq!(pat["level"], "error");
        let loc = &pat["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uri"],
            "config/my%20secrets/cl%C3%A9%20%231%3F.env"
        );
        assert_eq!(
            loc["region"],
            json!({"startLine": 3, "startColumn": 10, "endLine": 3, "endColumn": 50})
        );
        let msg = pat["message"]["text"].as_str().unwrap();
        assert!(
            msg.contains("GitHub personal access token (classic)"),
            "{msg}"
        );
        assert!(msg.contains("github-pat-classic"), "{msg}");
        assert!(msg.contains("config/my secrets/clé #1?.env"), "{msg}");
        let fp = &pat["partialFingerprints"];
        let expected_hash = outcome().findings[0].location.line_hash.clone().unwrap();
        assert_eq!(fp["primaryLocationLineHash"], expected_hash.as_str());
        assert_eq!(
            fp["tripline/v1"],
            outcome().findings[0].fingerprint.as_str()
        );
        assert_eq!(pat["properties"]["kind"], "secret");
        assert_eq!(pat["properties"]["excerpt"], "ghp_************************");
        assert!(pat["properties"].get("secret").is_none());

        // The dependency: whole lines of the right lockfile.
        let dep = &results[1];
        assert_eq!(dep["level"], "warning");
        let loc = &dep["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "services/api/Cargo.lock");
        assert_eq!(
            loc["region"],
            json!({"startLine": 412, "startColumn": 1, "endLine": 420})
        );
        let msg = dep["message"]["text"].as_str().unwrap();
        for part in [
            "rsa@0.9.6",
            "RUSTSEC-2023-0071",
            "services/api/Cargo.lock",
            "Fix: no fixed version.",
            "app → ssh-key → rsa (and 2 other paths)",
            "CVE-2023-49092",
        ] {
            assert!(msg.contains(part), "{part:?} not in {msg:?}");
        }
        let p = &dep["properties"];
        assert_eq!(p["package"], "rsa");
        assert_eq!(p["version"], "0.9.6");
        assert_eq!(p["fix"], "no fixed version");
        assert_eq!(p["dependencyPath"], json!(["app", "ssh-key", "rsa"]));
        assert_eq!(p["aliases"][1], "GHSA-c38w-74pg-36hr");
        assert_eq!(p["url"], "https://rustsec.org/advisories/RUSTSEC-2023-0071");
        assert!(dep["partialFingerprints"]
            .get("primaryLocationLineHash")
            .is_none());

        // The history finding names its commit.
        let old = &results[2];
        let msg = old["message"]["text"].as_str().unwrap();
        assert!(
            msg.contains("3f786850e387550fdab836ed7e6dc881de23001b"),
            "{msg}"
        );
        assert!(msg.contains("deploy/old.env") && msg.contains("aws-access-key-id"));
        assert_eq!(
            old["properties"]["commit"],
            "3f786850e387550fdab836ed7e6dc881de23001b"
        );
        assert_eq!(old["properties"]["author"], "Dev <dev@example.com>");
        assert_eq!(old["properties"]["date"], "2024-05-01T10:00:00Z");
        assert_eq!(old["level"], "error");

        // What could not be scanned, as notifications of one invocation.
        let invocations = run["invocations"].as_array().unwrap();
        assert_eq!(invocations.len(), 1);
        assert_eq!(invocations[0]["executionSuccessful"], true);
        let notes = invocations[0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notes.len(), 3);
        assert_eq!(notes[0]["level"], "error");
        assert_eq!(
            notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "private/keys.pem"
        );
        assert_eq!(
            notes[1]["message"]["text"],
            "/etc/tripline.toml: unreadable"
        );
        assert!(notes[1].get("locations").is_none());
        assert_eq!(notes[2]["level"], "warning");
        assert_eq!(
            notes[2]["message"]["text"],
            "advisory database is 120 days old"
        );

        // No raw secret anywhere.
        assert!(!text.contains(TOKEN));
        assert!(!text.contains(AWS_KEY));
    }

    #[test]
    fn suppressed_findings_are_results_with_one_suppression() {
        use crate::finding::{Suppression, SuppressionMechanism};
        let mut o = outcome();
        o.findings[0].suppressed = Some(Suppression::new(
            SuppressionMechanism::InlineComment,
            "inline comment `tripline:allow`",
        ));
        o.findings[1].suppressed = Some(Suppression::new(
            SuppressionMechanism::AdvisoryIgnore,
            "tripline.toml [deps] ignore of RUSTSEC-2099-0001",
        ));
        let (_, doc) = render(&o, &ReportOptions::default());
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), o.findings.len());
        assert_eq!(
            results[0]["suppressions"],
            json!([{
                "kind": "inSource",
                "status": "accepted",
                "justification": "Suppressed by inline comment `tripline:allow`"
            }])
        );
        assert_eq!(results[1]["suppressions"][0]["kind"], "external");
        assert!(results[2].get("suppressions").is_none());
    }

    #[test]
    fn show_secrets_puts_the_value_in_properties_only() {
        let opts = ReportOptions {
            show_secrets: true,
            ..ReportOptions::default()
        };
        let (_, doc) = render(&outcome(), &opts);
        let results = &doc["runs"][0]["results"];
        assert_eq!(results[0]["properties"]["secret"], TOKEN);
        assert_eq!(results[2]["properties"]["secret"], AWS_KEY);
        assert!(results[1]["properties"].get("secret").is_none());
        assert!(!results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains(TOKEN));
    }

    #[test]
    fn clean_scan_has_an_empty_results_array_and_no_rules() {
        let (_, doc) = render(&ScanOutcome::default(), &ReportOptions::default());
        let run = &doc["runs"][0];
        assert_eq!(run["results"], json!([]));
        assert_eq!(run["tool"]["driver"]["rules"], json!([]));
        assert_eq!(run["tool"]["driver"]["name"], "tripline");
        assert_eq!(run["invocations"], json!([{"executionSuccessful": true}]));
    }

    #[test]
    fn category_gets_exactly_one_trailing_slash() {
        for (given, want) in [
            ("leaky", Some("leaky/")),
            ("deps/", Some("deps/")),
            ("  ", None),
        ] {
            let opts = ReportOptions {
                sarif_category: Some(given.into()),
                ..ReportOptions::default()
            };
            let (_, doc) = render(&ScanOutcome::default(), &opts);
            let id = doc["runs"][0]["automationDetails"]["id"].as_str();
            assert_eq!(id, want, "category {given:?}");
        }
    }

    #[test]
    fn over_the_limit_the_most_severe_are_kept_in_order() {
        let mut findings = Vec::new();
        for (i, sev) in [
            Severity::Low,
            Severity::Critical,
            Severity::Medium,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ]
        .into_iter()
        .enumerate()
        {
            let mut f = secret("a.env", "r", "R", 2, 1, &format!("value{i}"));
            f.severity = sev;
            f.excerpt = format!("{i}");
            findings.push(f);
        }
        let kept: Vec<&str> = most_severe(&findings, 4)
            .iter()
            .map(|f| f.excerpt.as_str())
            .collect();
        // Critical, high, and both mediums; the order of the outcome stays.
        assert_eq!(kept, ["1", "2", "3", "4"]);
        assert_eq!(most_severe(&findings, 10).len(), 6);

        // A suppressed finding goes after every unsuppressed one.
        findings[1].suppressed = Some(crate::finding::Suppression::new(
            crate::finding::SuppressionMechanism::Baseline,
            "baseline b.json",
        ));
        let kept: Vec<&str> = most_severe(&findings, 5)
            .iter()
            .map(|f| f.excerpt.as_str())
            .collect();
        assert_eq!(kept, ["0", "2", "3", "4", "5"]);
    }

    #[test]
    fn writes_at_most_max_results() {
        let mut outcome = outcome();
        let template = outcome.findings[0].clone();
        outcome.findings = (0..MAX_RESULTS + 2)
            .map(|i| {
                let mut f = template.clone();
                f.severity = if i % 1000 == 0 {
                    Severity::Low
                } else {
                    Severity::High
                };
                f
            })
            .collect();
        let (_, doc) = render(&outcome, &ReportOptions::default());
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        // 26 low findings; 2 of them had to go, so 24 remain.
        let notes = results.iter().filter(|r| r["level"] == "note").count();
        assert_eq!(notes, 24);
    }

    #[test]
    fn regions_are_never_empty_or_zero() {
        let mut f = secret("a", "r", "R", 2, 1, "v");
        f.location.start_column = 0;
        f.location.end_column = 0;
        let r = serde_json::to_value(region(&f)).unwrap();
        assert_eq!(r, json!({"startLine": 2, "startColumn": 1, "endLine": 2}));
        // A multi-line secret ending at the start of a line keeps its end.
        f.location.start_column = 5;
        f.location.end_line = 4;
        f.location.end_column = 1;
        let r = serde_json::to_value(region(&f)).unwrap();
        assert_eq!(
            r,
            json!({"startLine": 2, "startColumn": 5, "endLine": 4, "endColumn": 1})
        );
    }

    #[test]
    fn security_severity_is_a_one_decimal_string_in_range() {
        assert_eq!(security_severity(None, Severity::Critical), "9.5");
        assert_eq!(security_severity(None, Severity::Low), "2.0");
        assert_eq!(security_severity(Some(9.8), Severity::Low), "9.8");
        assert_eq!(security_severity(Some(0.0), Severity::Medium), "5.5");
        assert_eq!(security_severity(Some(f64::NAN), Severity::High), "8.0");
        // Scores that round out of range (found by fuzzing).
        assert_eq!(security_severity(Some(0.04), Severity::Low), "2.0");
        assert_eq!(security_severity(Some(7.269e-320), Severity::Low), "2.0");
        assert_eq!(security_severity(Some(10.04), Severity::Low), "10.0");
        assert_eq!(security_severity(Some(10.05), Severity::Low), "2.0");
        assert_eq!(security_severity(Some(0.05), Severity::Low), "0.1");
    }

    #[test]
    fn uris_encode_everything_but_unreserved_and_slashes() {
        assert_eq!(encode_path("src/main.rs"), "src/main.rs");
        assert_eq!(encode_path("./a b/%41+c:d"), "a%20b/%2541%2Bc%3Ad");
        assert_eq!(encode_path("日本/ü~"), "%E6%97%A5%E6%9C%AC/%C3%BC~");
    }

    #[test]
    fn long_descriptions_and_many_tags_are_cut_to_githubs_limits() {
        let mut info = rule_info_for_dependency();
        info.description = "x".repeat(5000);
        info.tags = (0..30).map(|i| format!("t{i}")).collect();
        let rule = serde_json::to_value(descriptor(&info, FindingKind::Vulnerability)).unwrap();
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert_eq!(full.chars().count(), MAX_DESCRIPTION_CHARS);
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert_eq!(tags.len(), MAX_TAGS);
        assert_eq!(tags[0], "security");
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn uris_decode_back_to_the_path(path in "[a-zA-Z0-9 ./_#?%:+@&=()!~\\-]{1,12}(/[^/\\x00]{1,12}){0,3}") {
            let uri = encode_path(&path);
            let decoded = percent_encoding::percent_decode_str(&uri).decode_utf8().unwrap();
            prop_assert_eq!(decoded, path.trim_start_matches("./"));
            prop_assert!(uri.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)));
        }

        #[test]
        fn regions_are_valid_for_any_location(
            secret in any::<bool>(),
            start_line in 0u32..5,
            end_line in 0u32..5,
            start_column in 0u32..5,
            end_column in 0u32..5,
        ) {
            let mut f = if secret {
                super::tests::secret("a", "r", "R", 2, 1, "v")
            } else {
                dependency()
            };
            f.location.start_line = start_line;
            f.location.end_line = end_line;
            f.location.start_column = start_column;
            f.location.end_column = end_column;
            let r = region(&f);
            let (sl, el, sc) = (r.start_line.unwrap(), r.end_line.unwrap(), r.start_column.unwrap());
            prop_assert!(sl >= 1 && sc >= 1 && el >= sl);
            if let Some(ec) = r.end_column {
                prop_assert!(ec >= 1);
                prop_assert!(el > sl || ec > sc, "empty region {:?}", r);
            }
        }
    }

    #[test]
    fn a_secret_rules_precision_is_the_best_confidence_among_its_results() {
        let mut low = secret(
            "a.py",
            "generic-password-assignment",
            "P",
            2,
            1,
            "Zq8vLm2Tx",
        );
        low.confidence = Confidence::Low;
        let mut medium = secret(
            "b.py",
            "generic-password-assignment",
            "P",
            3,
            1,
            "Kd8pAs123z",
        );
        medium.confidence = Confidence::Medium;
        let mut outcome = ScanOutcome {
            findings: vec![low.clone()],
            ..ScanOutcome::default()
        };
        let (_, doc) = render(&outcome, &ReportOptions::default());
        let rule = &doc["runs"][0]["tool"]["driver"]["rules"][0];
        assert_eq!(rule["properties"]["precision"], "low");
        outcome.findings = vec![low, medium];
        let (_, doc) = render(&outcome, &ReportOptions::default());
        let rule = &doc["runs"][0]["tool"]["driver"]["rules"][0];
        assert_eq!(rule["properties"]["precision"], "medium");
        let results = &doc["runs"][0]["results"];
        assert_eq!(results[0]["properties"]["confidence"], "low");
        assert_eq!(results[1]["properties"]["confidence"], "medium");
    }
}
