//! Advisory text, parsed as the loader parses a database file (rustsec's
//! `Advisory` parser, which `deps::advisories` calls), then everything
//! tripline derives from an advisory: its kind, severity, fix, link and
//! rule help, matches against a lockfile of the advisory's crate, the
//! findings, and the JSON and SARIF reports of them, which must parse back.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use rustsec::Advisory;
use tripline::deps::audit::{self, LockfileAudit, MatchSettings};
use tripline::deps::lockfile::LockedTree;
use tripline::finding::ScanOutcome;
use tripline::report::{json, sarif, ReportOptions};

/// Versions of the advisory's crate put in the lockfile it is matched
/// against: below, inside and above typical ranges, and a pre-release.
const VERSIONS: &[&str] = &[
    "0.0.1",
    "0.1.0",
    "0.9.9",
    "1.0.0",
    "1.2.3",
    "2.0.0-alpha.1",
    "99.0.0",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // tripline's loader refuses a file without the front matter before
    // rustsec sees it (`advisories::load_one`): rustsec slices the first 20
    // bytes of such a file for its message, and panicked inside a
    // multi-byte character (found by this target).
    if !text.starts_with("```toml") {
        return;
    }
    let Ok(adv) = Advisory::from_str(text) else {
        return;
    };
    let settings = MatchSettings::new(None, None, None).expect("default settings are valid");
    let Some(kind) = audit::kind_of(&adv) else {
        return;
    };
    let _ = audit::severity_of(&adv, kind, &settings);
    assert!(!audit::url_of(&adv).is_empty());
    for v in VERSIONS {
        let version = rustsec::Version::parse(v).expect("valid version");
        assert!(!audit::fix_of(&adv, &version).is_empty());
    }

    let name = adv.metadata.package.as_str();
    let mut lock = String::from("version = 3\n\n");
    for v in VERSIONS {
        lock.push_str(&format!(
            "[[package]]\nname = {}\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n",
            toml::Value::String(name.to_string())
        ));
    }
    let Ok(tree) = LockedTree::parse(&lock) else {
        return;
    };
    let audits = [LockfileAudit {
        rel_path: "Cargo.lock".to_string(),
        tree,
        content: lock.as_bytes(),
    }];
    let advisories = [adv];
    let matches = audit::find_matches(&audits, &advisories, &settings);

    let mut outcome = ScanOutcome::default();
    let lines: Vec<u32> = matches
        .iter()
        .map(|m| audits[0].tree.packages[m.package].start_line)
        .collect();
    let hashes = tripline::finding::linehash::line_hashes_at(lock.as_bytes(), &lines);
    for m in &matches {
        let f = audit::finding(m, &audits[0], Some(&hashes), &settings);
        assert!(f.location.start_line >= 1 && f.location.end_line >= f.location.start_line);
        outcome.findings.push(f);
    }
    if let Some(m) = matches.first() {
        let of_rule: Vec<_> = outcome.findings.iter().collect();
        let info = audit::rule_info(m.advisory, m.kind, &of_rule, &settings);
        assert_eq!(info.id, m.advisory.metadata.id.as_str());
        outcome.rules.insert(info.id.clone(), info);
    }
    let opts = ReportOptions::default();
    let mut out = Vec::new();
    json::write(&outcome, &opts, &mut out).expect("JSON renders into a Vec");
    serde_json::from_slice::<serde_json::Value>(&out).expect("the JSON report parses back");
    out.clear();
    sarif::write(&outcome, &opts, &mut out).expect("SARIF renders into a Vec");
    let log: serde_json::Value =
        serde_json::from_slice(&out).expect("the SARIF report parses back");
    let results = log["runs"][0]["results"]
        .as_array()
        .expect("a results array");
    assert_eq!(results.len(), outcome.findings.len());
});
