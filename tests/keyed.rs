//! The model-decided generic rules end to end, on `fixtures/keyed`: a
//! made-up application with a password and a secret key in its settings, a
//! password in a test, an `.env` with a user name and its password, a bearer
//! token in its docs, and what must not be reported (a translation file, a
//! password hash, an environment lookup, placeholders, user names).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keyed")
}

/// (path, line, confidence) of each finding of `tripline secrets` with `extra`.
fn findings(extra: &[&str]) -> BTreeSet<(String, u64, String)> {
    let out = Command::cargo_bin("tripline")
        .expect("binary builds")
        .timeout(Duration::from_secs(60))
        .args(["secrets", "--format", "json", "--fail-on", "never"])
        .arg(fixture())
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap_or("").to_string(),
                f["location"]["start_line"].as_u64().unwrap_or(0),
                f["confidence"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn lines(found: &BTreeSet<(String, u64, String)>) -> BTreeSet<(&str, u64)> {
    found.iter().map(|(p, l, _)| (p.as_str(), *l)).collect()
}

#[test]
fn credentials_are_found_in_code_config_tests_and_docs_and_labels_are_not() {
    let found = findings(&[]);
    let at = lines(&found);
    for want in [
        ("app/settings.py", 4),
        ("app/settings.py", 5),
        ("tests/test_login.py", 3),
        (".env", 3),
        ("docs/api.md", 9),
    ] {
        assert!(at.contains(&want), "{want:?} not found in {found:?}");
    }
    // User names, the host, a password hash, an environment lookup, the
    // hashers list, interface text and a placeholder are not findings.
    for (path, line) in [
        ("app/settings.py", 2),
        ("app/settings.py", 3),
        ("app/settings.py", 6),
        ("app/settings.py", 7),
        ("app/settings.py", 8),
        (".env", 2),
        ("docs/api.md", 5),
    ] {
        assert!(
            !at.contains(&(path, line)),
            "{path}:{line} reported: {found:?}"
        );
    }
    assert!(
        !at.iter().any(|(p, _)| p.starts_with("locale/")),
        "translation file reported: {found:?}"
    );
}

#[test]
fn min_confidence_drops_what_is_below_it_on_the_command_line_and_in_the_config() {
    let all = findings(&[]);
    let levels = ["low", "medium", "high"];
    let rank = |c: &str| levels.iter().position(|l| *l == c).expect("known level");
    for (i, level) in levels.iter().enumerate() {
        let kept = findings(&["--min-confidence", level]);
        let expected: BTreeSet<_> = all.iter().filter(|f| rank(&f.2) >= i).cloned().collect();
        assert_eq!(kept, expected, "--min-confidence {level}");
    }
    // The findings span more than one level, so the filter is seen to act.
    assert!(
        findings(&["--min-confidence", "high"]).len() < all.len(),
        "{all:?}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("tripline.toml");
    std::fs::write(&config, "[scan]\nmin_confidence = \"high\"\n").expect("config");
    let from_config = findings(&["--config", config.to_str().expect("utf-8 path")]);
    assert_eq!(from_config, findings(&["--min-confidence", "high"]));
}
