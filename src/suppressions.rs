//! Changes that weaken the scan: the `suppression-added` findings of
//! `--staged` and `--git A..B`.
//!
//! A change that adds or widens a suppression is reported at the line that
//! adds it, so that a reviewer sees it in code scanning: a new or changed
//! `.triplineignore` line; in `tripline.toml` a new exclude, allowlist
//! entry, disabled rule, advisory ignore (or a later `until`), rule file
//! path, or a lower `max_file_size`; a user rule that replaces a built-in
//! rule by id; a new inline allow comment; a new baseline entry. What the
//! change adds is decided by comparing the parsed old and new files, so a
//! change that only narrows a suppression (removes an entry, adds a `!`
//! line) reports nothing.
//!
//! This module reads only the bytes it is handed (the git layer supplies
//! them); it does not scan for secrets, and the findings it makes are of
//! kind `suppression`: informational, failing a run only under
//! `--deny suppression`.

use std::collections::{BTreeSet, HashSet};

use crate::baseline::Entry as BaselineEntry;
use crate::config::Config;
use crate::finding::{
    fingerprint, Confidence, Finding, FindingKind, Location, RuleInfo, SecretValue, Severity,
};
use crate::source::walk::IGNORE_FILE;

/// The rule id of every finding this module makes.
pub const RULE_ID: &str = "suppression-added";

/// The default `--max-file-size`, against which a config's first
/// `max_file_size` is compared.
const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The default name of a baseline file (`tripline baseline`).
const DEFAULT_BASELINE: &str = "tripline-baseline.json";

/// One file as a change leaves it.
pub struct Change<'a> {
    /// Relative to the repository's work tree, `/`-separated.
    pub path: &'a str,
    pub new: &'a [u8],
    /// The 1-based lines of `new` the change adds or modifies; `None` when
    /// the whole file is new.
    pub added_lines: Option<&'a BTreeSet<u32>>,
}

/// The findings of the suppressions `changes` add. `old` gives a file's
/// content before the change (`None`: it did not exist); it is asked only
/// for configuration files, never for every changed file. `baseline` is the
/// `--baseline` path as given, if any.
pub fn check(
    changes: &[Change<'_>],
    old: &dyn Fn(&str) -> Option<Vec<u8>>,
    baseline: Option<&str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let baseline = baseline.map(|b| b.trim_start_matches("./").to_owned());
    // Rule files are the ones the new configs name.
    let mut rule_paths: Vec<String> = Vec::new();
    for c in changes {
        if file_name(c.path) == crate::config::DEFAULT_FILE {
            config_changes(c, old, &mut out, &mut rule_paths);
        }
    }
    let mut builtin_ids: Option<HashSet<String>> = None;
    for c in changes {
        let name = file_name(c.path);
        if name == IGNORE_FILE {
            ignore_file_changes(c, &mut out);
        }
        if name == DEFAULT_BASELINE || baseline.as_deref() == Some(c.path) {
            baseline_changes(c, old, &mut out);
        }
        if c.path.ends_with(".toml") && rule_paths.iter().any(|p| names_rule_file(p, c.path)) {
            let builtins = builtin_ids.get_or_insert_with(|| {
                crate::secrets::rules::RuleSet::load(&[], &[])
                    .map(|set| set.rules.into_iter().map(|r| r.id).collect())
                    .unwrap_or_default()
            });
            rule_file_changes(c, old, builtins, &mut out);
        }
        inline_marker_changes(c, &mut out);
    }
    out
}

/// What reports say about the rule.
pub fn rule_info() -> RuleInfo {
    let description = "A change adds or widens a suppression: an ignore pattern, an allowlist \
        entry, a disabled rule, an advisory ignore, a lower size limit, a rule file or a \
        replaced built-in rule, an inline allow comment, or a baseline entry. From then on \
        tripline reports what it silences only as suppressed.";
    let help = "Check that the suppression is deserved and as narrow as it can be: a path \
        glob that covers one test fixture, not a folder; an advisory ignore with a reason and \
        an `until` date. On a pull request, run tripline with `--config-rev` on the base \
        branch so that the change cannot silence its own scan. Fail such changes with \
        `--deny suppression`.";
    RuleInfo {
        id: RULE_ID.into(),
        title: "Suppression added".into(),
        description: description.into(),
        help_text: format!("{description}\n\n{help}"),
        help_markdown: format!("**Suppression added**\n\n{description}\n\n{help}"),
        severity: Severity::Low,
        confidence: Confidence::High,
        tags: vec!["suppression".into()],
        security_severity: None,
        help_uri: None,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The finding for one added suppression at `line` of `c`.
fn finding(c: &Change<'_>, line: u32, what: String) -> Finding {
    let line = line.max(1);
    let hashes = crate::finding::linehash::line_hashes_at(c.new, &[line]);
    Finding {
        kind: FindingKind::Suppression,
        rule_id: RULE_ID.into(),
        rule_title: "Suppression added".into(),
        severity: Severity::Low,
        confidence: Confidence::High,
        location: Location {
            line_hash: hashes.get(&line).cloned(),
            ..Location::lines(c.path, line, line)
        },
        fingerprint: fingerprint(&[RULE_ID, c.path, &what]),
        excerpt: what,
        dependency: None,
        secret: None,
        suppressed: None,
    }
}

/// Whether line `n` (1-based) is one the change adds.
fn is_added(c: &Change<'_>, n: u32) -> bool {
    c.added_lines.is_none_or(|a| a.contains(&n))
}

/// The lines of `c.new` with their 1-based numbers.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| (i as u32 + 1, l.strip_suffix(b"\r").unwrap_or(l)))
}

/// The line of `c.new` that holds `needle`, quoted as a TOML string when
/// some line has it so (a value, not the same word in a key): an added line
/// when there is one, else the first; 1 when no line holds it.
fn line_of(c: &Change<'_>, needle: &str) -> u32 {
    let quoted = [format!("\"{needle}\""), format!("'{needle}'")];
    let forms = [quoted[0].as_str(), quoted[1].as_str(), needle];
    for form in forms {
        let mut first = None;
        for (n, l) in lines(c.new) {
            if l.windows(form.len().max(1)).any(|w| w == form.as_bytes()) {
                if is_added(c, n) {
                    return n;
                }
                first.get_or_insert(n);
            }
        }
        if let Some(n) = first {
            return n;
        }
    }
    1
}

/// A value short enough for a one-line message.
fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() > MAX {
        let head: String = s.chars().take(MAX - 3).collect();
        format!("{head}...")
    } else {
        s.to_owned()
    }
}

fn ignore_file_changes(c: &Change<'_>, out: &mut Vec<Finding>) {
    for (n, l) in lines(c.new) {
        let text = String::from_utf8_lossy(l);
        let pattern = text.trim();
        // A `!` line re-includes: it narrows, never widens.
        if !is_added(c, n) || pattern.is_empty() || pattern.starts_with(['#', '!']) {
            continue;
        }
        out.push(finding(
            c,
            n,
            format!("{} line `{}`", c.path, shorten(pattern)),
        ));
    }
}

fn inline_marker_changes(c: &Change<'_>, out: &mut Vec<Finding>) {
    for (n, l) in lines(c.new) {
        if !is_added(c, n) {
            continue;
        }
        if let Some(marker) = crate::secrets::engine::marker_in(l) {
            out.push(finding(c, n, format!("inline `{marker}` comment")));
        }
    }
}

/// The strings of `new` that `old` lacks.
fn added<'a>(old: &[String], new: &'a [String]) -> Vec<&'a String> {
    new.iter().filter(|v| !old.contains(v)).collect()
}

fn config_changes(
    c: &Change<'_>,
    old: &dyn Fn(&str) -> Option<Vec<u8>>,
    out: &mut Vec<Finding>,
    rule_paths: &mut Vec<String>,
) {
    // A config that does not parse is the scan's error to report, with
    // its line; there is nothing to compare.
    let Ok(new) = Config::parse(&String::from_utf8_lossy(c.new)) else {
        return;
    };
    let before = old(c.path)
        .and_then(|b| Config::parse(&String::from_utf8_lossy(&b)).ok())
        .unwrap_or_default();
    let dir = c.path.rsplit_once('/').map_or("", |(d, _)| d);
    for p in &new.rules.paths {
        let p = p.to_string_lossy();
        let joined = if dir.is_empty() {
            p.trim_start_matches("./").to_owned()
        } else {
            format!("{dir}/{}", p.trim_start_matches("./"))
        };
        rule_paths.push(joined.trim_end_matches('/').to_owned());
    }
    let file = c.path;
    let mut add = |needle: &str, what: String| {
        let line = line_of(c, needle);
        out.push(finding(c, line, format!("{file} {what}")));
    };
    for e in added(&before.scan.exclude, &new.scan.exclude) {
        add(e, format!("[scan] exclude `{}`", shorten(e)));
    }
    let limit = |cfg: &Config| cfg.scan.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE);
    if limit(&new) < limit(&before) {
        add(
            "max_file_size",
            format!("[scan] max_file_size lowered to {}", limit(&new)),
        );
    }
    for id in added(&before.rules.disable, &new.rules.disable) {
        add(id, format!("[rules] disable `{}`", shorten(id)));
    }
    let old_paths: Vec<String> = before
        .rules
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let new_paths: Vec<String> = new
        .rules
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    for p in added(&old_paths, &new_paths) {
        add(p, format!("[rules] paths `{}`", shorten(p)));
    }
    let empty = crate::config::Allowlist::default();
    let mut lists = vec![("[allowlist]".to_owned(), &before.allowlist, &new.allowlist)];
    for (id, list) in &new.rules.allow {
        lists.push((
            format!("[rules.allow.{id}]"),
            before.rules.allow.get(id).unwrap_or(&empty),
            list,
        ));
    }
    for (section, was, now) in lists {
        for p in added(&was.paths, &now.paths) {
            add(p, format!("{section} paths `{}`", shorten(p)));
        }
        // Regexes and stopwords may spell part of a secret: shown masked.
        for r in added(&was.regexes, &now.regexes) {
            add(
                r,
                format!(
                    "{section} regexes `{}`",
                    SecretValue::new(r.as_str()).masked()
                ),
            );
        }
        for w in added(&was.stopwords, &now.stopwords) {
            add(
                w,
                format!(
                    "{section} stopwords `{}`",
                    SecretValue::new(w.as_str()).masked()
                ),
            );
        }
    }
    for ig in &new.deps.ignore {
        let widened = match before.deps.ignore.iter().find(|o| o.id == ig.id) {
            None => true,
            // No `until` never expires; a later one lasts longer.
            Some(o) => match (&o.until, &ig.until) {
                (Some(_), None) => true,
                (Some(a), Some(b)) => b > a,
                (None, _) => false,
            },
        };
        if widened {
            add(&ig.id, format!("[deps] ignore `{}`", shorten(&ig.id)));
        }
    }
}

/// Whether `path` is the rule file, or a `*.toml` directly in the rule
/// folder, that the rule path `rule_path` names.
fn names_rule_file(rule_path: &str, path: &str) -> bool {
    path == rule_path
        || path
            .strip_prefix(rule_path)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| !name.contains('/'))
}

/// The ids of the rules in a rule file's text (none when it does not
/// parse: the scan reports that).
fn rule_ids(text: &[u8]) -> Vec<String> {
    let Ok(value) = toml::from_str::<toml::Value>(&String::from_utf8_lossy(text)) else {
        return Vec::new();
    };
    value
        .get("rule")
        .and_then(|r| r.as_array())
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| r.get("id")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn rule_file_changes(
    c: &Change<'_>,
    old: &dyn Fn(&str) -> Option<Vec<u8>>,
    builtin_ids: &HashSet<String>,
    out: &mut Vec<Finding>,
) {
    let before = old(c.path).map(|b| rule_ids(&b)).unwrap_or_default();
    for id in rule_ids(c.new) {
        if builtin_ids.contains(&id) && !before.contains(&id) {
            let line = line_of(c, &format!("\"{id}\""));
            out.push(finding(
                c,
                line,
                format!("rule file {} replaces built-in rule `{id}`", c.path),
            ));
        }
    }
}

fn baseline_changes(c: &Change<'_>, old: &dyn Fn(&str) -> Option<Vec<u8>>, out: &mut Vec<Finding>) {
    let before: BTreeSet<BaselineEntry> = old(c.path)
        .map(|b| entries_by_line(&b).into_iter().map(|(_, e)| e).collect())
        .unwrap_or_default();
    for (n, e) in entries_by_line(c.new) {
        if !before.contains(&e) {
            out.push(finding(c, n, format!("baseline entry: {e}")));
        }
    }
}

/// The entries of a baseline file with their lines: tripline writes one
/// entry a line, which is what makes each new entry's line known.
fn entries_by_line(text: &[u8]) -> Vec<(u32, BaselineEntry)> {
    lines(text)
        .filter_map(|(n, l)| {
            let l = String::from_utf8_lossy(l);
            let l = l.trim().trim_end_matches(',');
            if !l.starts_with('{') || l.contains("tripline_baseline") {
                return None;
            }
            serde_json::from_str::<BaselineEntry>(l)
                .ok()
                .map(|e| (n, e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, old: Option<&str>, new: &str) -> Vec<String> {
        let added = old.map(|o| crate::secrets::git::added_lines(o.as_bytes(), new.as_bytes()));
        let change = Change {
            path,
            new: new.as_bytes(),
            added_lines: added.as_ref(),
        };
        let old = old.map(str::to_owned);
        check(&[change], &|_| old.clone().map(String::into_bytes), None)
            .into_iter()
            .map(|f| {
                format!(
                    "{}:{} {}",
                    f.location.path, f.location.start_line, f.excerpt
                )
            })
            .collect()
    }

    #[test]
    fn each_widening_of_the_config_is_found_at_its_line() {
        let old = "[scan]\nexclude = [\"a/\"]\n\n[allowlist]\nstopwords = [\"x\"]\n";
        let new = "[scan]\nexclude = [\"a/\", \"b/\"]\nmax_file_size = 100\n\n[rules]\ndisable = [\"generic-password\"]\n\n[allowlist]\nstopwords = [\"x\", \"hunter2hunter2\"]\n\n[deps]\nignore = [{ id = \"RUSTSEC-2099-0001\" }]\n";
        let got = run("tripline.toml", Some(old), new);
        assert_eq!(
            got,
            [
                "tripline.toml:2 tripline.toml [scan] exclude `b/`",
                "tripline.toml:3 tripline.toml [scan] max_file_size lowered to 100",
                "tripline.toml:6 tripline.toml [rules] disable `generic-password`",
                "tripline.toml:9 tripline.toml [allowlist] stopwords `hun***********`",
                "tripline.toml:12 tripline.toml [deps] ignore `RUSTSEC-2099-0001`",
            ]
        );
    }

    #[test]
    fn narrowing_finds_nothing() {
        let old = "[scan]\nexclude = [\"a/\", \"b/\"]\nmax_file_size = 100\n[allowlist]\nstopwords = [\"x\"]\n";
        let new = "[scan]\nexclude = [\"a/\"]\nmax_file_size = 200\n";
        assert!(run("tripline.toml", Some(old), new).is_empty());
        assert!(run(".triplineignore", Some("a/\nb/\n"), "a/\n!a/keep\n").is_empty());
        assert!(run("a.env", Some("x # tripline:allow\ny\n"), "y\n").is_empty());
    }

    #[test]
    fn ignore_lines_and_inline_markers_are_found_on_added_lines_only() {
        assert_eq!(
            run(".triplineignore", Some("a/\n"), "a/\n# why\n*\n"),
            [".triplineignore:3 .triplineignore line `*`"]
        );
        assert_eq!(
            run(
                "x.env",
                Some("k = 1 # gitleaks:allow\n"),
                "k = 1 # gitleaks:allow\nj = 2 # tripline:allow\n"
            ),
            ["x.env:2 inline `tripline:allow` comment"]
        );
    }
}
