//! End-to-end tests of the dependency audit: the binary run on
//! `fixtures/deps` (lockfiles v1 to v4, a tree of three lockfiles, a tiny
//! advisory database in RustSec's layout) and on temporary trees and git
//! repositories made here. Nothing touches the network: `--yanked` asks a
//! sparse index served by the test itself on 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/deps")
        .join(rel)
}

fn db() -> PathBuf {
    fixture("advisory-db")
}

/// The binary with no database of the user's in reach: HOME, the XDG cache
/// and CARGO_HOME all point into `home`.
fn tripline(home: &Path) -> Command {
    let mut c = Command::cargo_bin("tripline").expect("binary builds");
    c.env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("CARGO_HOME", home.join("cargo"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("TRIPLINE_TODAY")
        .env_remove("TRIPLINE_CRATES_INDEX")
        .env_remove("TRIPLINE_HTTP_TIMEOUT_MS")
        .timeout(Duration::from_secs(60));
    c
}

fn run_json(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("deps")
        .arg(dir)
        .arg("--db")
        .arg(db())
        .args(["--offline", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, json)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (advisory id, package@version, lockfile) of every finding.
fn found(json: &Value) -> BTreeSet<(String, String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["excerpt"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ids(json: &Value) -> BTreeSet<String> {
    found(json).into_iter().map(|(id, _, _)| id).collect()
}

/// The advisory ids of the findings no ignore suppressed: the ones that can
/// fail a run.
fn unsuppressed_ids(json: &Value) -> BTreeSet<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| f["rule_id"].as_str().unwrap().to_owned())
        .collect()
}

/// What suppressed each finding of advisory `id` (`suppressed.by`), one
/// entry per finding; empty when there is no finding of it.
fn suppressed_by(json: &Value, id: &str) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == id)
        .map(|f| {
            assert_eq!(f["suppressed"]["kind"], "external", "{f:#}");
            f["suppressed"]["by"].as_str().unwrap_or("").to_owned()
        })
        .collect()
}

fn finding<'a>(json: &'a Value, id: &str, path: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == id && f["location"]["path"] == path)
        .unwrap_or_else(|| panic!("no {id} in {path}: {json:#}"))
}

/// The 1-based line range of the `[[package]]` block of `name@version`,
/// worked out here independently of tripline: from the header above its
/// `name` line to the last non-blank line before the next blank line.
fn block_lines(lockfile: &Path, name: &str, version: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(lockfile).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .windows(2)
        .position(|w| {
            w[0] == format!("name = \"{name}\"") && w[1] == format!("version = \"{version}\"")
        })
        .unwrap_or_else(|| panic!("{name} {version} not in {}", lockfile.display()));
    let start = at - 1;
    assert!(lines[start].starts_with('['), "header above {name}");
    let mut end = at;
    while end + 1 < lines.len() && !lines[end + 1].trim().is_empty() {
        end += 1;
    }
    (start as u64 + 1, end as u64 + 1)
}

const ALL_KINDS: [(&str, &str); 6] = [
    ("RUSTSEC-2024-9001", "tinyhttp@1.0.0"),
    ("RUSTSEC-2024-9002", "oldlog@0.3.0"),
    ("RUSTSEC-2024-9003", "rawcell@0.4.0"),
    ("RUSTSEC-2024-9004", "licensekit@1.1.0"),
    ("RUSTSEC-2024-9006", "winpipe@0.3.2"),
    ("RUSTSEC-2024-9007", "simdfast@0.2.0"),
];

#[test]
fn lockfile_versions_one_to_four_give_the_same_findings_at_their_lines() {
    let want: BTreeSet<(String, String, String)> = ALL_KINDS
        .iter()
        .map(|(id, p)| (id.to_string(), p.to_string(), "Cargo.lock".to_string()))
        .collect();
    for v in 1..=4 {
        let dir = fixture(&format!("versions/v{v}"));
        let (out, json) = run_json(&dir, &[]);
        assert_eq!(out.status.code(), Some(1), "v{v}: {}", stderr(&out));
        assert_eq!(found(&json), want, "v{v}");
        for (id, excerpt) in ALL_KINDS {
            let (name, version) = excerpt.split_once('@').unwrap();
            let f = finding(&json, id, "Cargo.lock");
            let (start, end) = block_lines(&dir.join("Cargo.lock"), name, version);
            assert_eq!(f["location"]["start_line"], start, "v{v} {id}");
            assert_eq!(f["location"]["end_line"], end, "v{v} {id}");
        }
        // The git copy of rawcell (0.1.0) is not the crates.io crate.
        assert!(!found(&json).iter().any(|(_, p, _)| p == "rawcell@0.1.0"));
    }
}

#[test]
fn each_finding_carries_fix_path_aliases_url_and_severity() {
    let (_, json) = run_json(&fixture("versions/v3"), &[]);
    let f = finding(&json, "RUSTSEC-2024-9001", "Cargo.lock");
    assert_eq!(f["kind"], "vulnerability");
    assert_eq!(f["severity"], "critical", "CVSS 9.8");
    assert_eq!(f["rule_title"], "Header parser overflows its buffer");
    let d = &f["dependency"];
    assert_eq!(d["fix"], "upgrade to >= 1.2.3");
    assert_eq!(
        d["aliases"],
        serde_json::json!(["CVE-2024-99901", "GHSA-abcd-efgh-ijkl"])
    );
    assert_eq!(d["dependency_path"], serde_json::json!(["app", "tinyhttp"]));
    assert_eq!(d["other_paths"], 1, "also app → localutil → tinyhttp");
    assert_eq!(d["url"], "https://rustsec.org/advisories/RUSTSEC-2024-9001");
    assert_eq!(d["cvss"], 9.8);
    // Lowest patched version above the one in use, from ["^0.3.4", ">= 0.4.1"].
    let w = finding(&json, "RUSTSEC-2024-9006", "Cargo.lock");
    assert_eq!(w["dependency"]["fix"], "upgrade to >= 0.3.4");
    assert_eq!(w["severity"], "high", "CVSS 7.5");
    // CC-BY-4.0 advisories keep their original url.
    let s = finding(&json, "RUSTSEC-2024-9007", "Cargo.lock");
    assert_eq!(
        s["dependency"]["url"],
        "https://example.org/simdfast/advisory"
    );
    assert_eq!(s["dependency"]["fix"], "no fixed version");
    let o = finding(&json, "RUSTSEC-2024-9002", "Cargo.lock");
    assert_eq!(
        (o["kind"].as_str(), o["severity"].as_str()),
        (Some("unmaintained"), Some("low"))
    );
}

#[test]
fn withdrawn_advisories_are_never_reported() {
    // RUSTSEC-2024-9005 (withdrawn) covers tinyhttp < 9.0.0, which every
    // lockfile here has.
    for dir in ["versions/v2", "three-lockfiles"] {
        let (_, json) = run_json(&fixture(dir), &[]);
        assert!(ids(&json).contains("RUSTSEC-2024-9001"));
        assert!(!ids(&json).contains("RUSTSEC-2024-9005"), "{dir}");
    }
}

#[test]
fn three_lockfiles_in_different_folders_each_at_their_own_lines() {
    let root = fixture("three-lockfiles");
    let (out, json) = run_json(&root, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["scan"]["lockfiles_audited"], 3, "vendor/ is skipped");
    let want: BTreeSet<(String, String, String)> = [
        ("RUSTSEC-2024-9001", "tinyhttp@1.0.0", "app/Cargo.lock"),
        ("RUSTSEC-2024-9002", "oldlog@0.3.0", "app/Cargo.lock"),
        ("RUSTSEC-2024-9003", "rawcell@0.4.0", "tools/cli/Cargo.lock"),
        (
            "RUSTSEC-2024-9004",
            "licensekit@1.1.0",
            "tools/cli/Cargo.lock",
        ),
        (
            "RUSTSEC-2024-9001",
            "tinyhttp@1.1.0",
            "services/api/Cargo.lock",
        ),
        (
            "RUSTSEC-2024-9006",
            "winpipe@0.3.2",
            "services/api/Cargo.lock",
        ),
        (
            "RUSTSEC-2024-9007",
            "simdfast@0.2.0",
            "services/api/Cargo.lock",
        ),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(found(&json), want);
    for (id, excerpt, path) in &want {
        let (name, version) = excerpt.split_once('@').unwrap();
        let f = finding(&json, id, path);
        let (start, end) = block_lines(&root.join(path), name, version);
        assert_eq!(
            (
                f["location"]["start_line"].as_u64(),
                f["location"]["end_line"].as_u64()
            ),
            (Some(start), Some(end)),
            "{id} in {path}"
        );
    }
    let api = finding(&json, "RUSTSEC-2024-9001", "services/api/Cargo.lock");
    assert_eq!(
        api["dependency"]["dependency_path"],
        serde_json::json!(["api", "tinyhttp"])
    );
    assert_eq!(
        api["dependency"]["other_paths"], 1,
        "api → httpmid → tinyhttp"
    );
    // The same advisory in two lockfiles: two fingerprints.
    let app = finding(&json, "RUSTSEC-2024-9001", "app/Cargo.lock");
    assert_ne!(app["fingerprint"], api["fingerprint"]);
}

#[test]
fn platform_filters_drop_advisories_for_other_platforms() {
    let dir = fixture("versions/v4");
    let (_, linux) = run_json(&dir, &["--target-os", "linux"]);
    assert!(!ids(&linux).contains("RUSTSEC-2024-9006"), "Windows-only");
    assert!(
        ids(&linux).contains("RUSTSEC-2024-9001"),
        "not platform-limited"
    );
    let (_, windows) = run_json(&dir, &["--target-os", "windows"]);
    assert!(ids(&windows).contains("RUSTSEC-2024-9006"));
    let (_, x64) = run_json(&dir, &["--target-arch", "x86_64"]);
    assert!(!ids(&x64).contains("RUSTSEC-2024-9007"), "32-bit x86 only");
    assert!(ids(&x64).contains("RUSTSEC-2024-9006"));
    let (_, x86) = run_json(&dir, &["--target-arch", "x86"]);
    assert!(ids(&x86).contains("RUSTSEC-2024-9007"));
    let (out, _) = {
        let home = tempfile::tempdir().unwrap();
        let out = tripline(home.path())
            .args(["deps", "--offline", "--target-os", "plan9x", "--db"])
            .arg(db())
            .arg(&dir)
            .output()
            .unwrap();
        (out, ())
    };
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("plan9x"), "{}", stderr(&out));
}

#[test]
fn informational_kinds_do_not_fail_the_run_unless_denied() {
    // tools/cli has only an unsound and a notice advisory.
    let dir = fixture("three-lockfiles/tools/cli");
    let (out, json) = run_json(&dir, &[]);
    assert_eq!(ids(&json).len(), 2);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (out, _) = run_json(&dir, &["--deny", "unsound"]);
    assert_eq!(out.status.code(), Some(1));
    let (out, _) = run_json(&dir, &["--deny", "unmaintained"]);
    assert_eq!(out.status.code(), Some(0), "nothing unmaintained there");
    let (out, _) = run_json(&dir, &["--deny", "notice,unmaintained"]);
    assert_eq!(out.status.code(), Some(1));
}

/// An app locking tinyhttp 1.0.0 (which RUSTSEC-2024-9001 affects) with
/// its name in a literal string, which only the parser reads, and `more`
/// after it; audited, with its findings and stderr.
fn audit_tinyhttp_with(more: &str) -> (BTreeSet<(String, String, String)>, String) {
    let tree = tempfile::tempdir().unwrap();
    let lockfile = format!(
        r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "tinyhttp",
]

[[package]]
name = 'tinyhttp'
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "077b50f1eee911143050d65779c95da91e5324ccde7ab2c7742d0102ad930a31"

{more}"#
    );
    std::fs::write(tree.path().join("Cargo.lock"), lockfile).unwrap();
    let (out, json) = run_json(tree.path(), &[]);
    (found(&json), stderr(&out))
}

/// What [`audit_tinyhttp_with`] must find.
fn tinyhttp_finding() -> BTreeSet<(String, String, String)> {
    BTreeSet::from([(
        "RUSTSEC-2024-9001".to_string(),
        "tinyhttp@1.0.0".to_string(),
        "Cargo.lock".to_string(),
    )])
}

/// Advisories start loading from the `name = "..."` lines before the
/// lockfile is parsed; the parse decides. A name only the parser reads (a
/// literal string) is still audited, and a name on such a line that is not
/// a locked package (an unused patch) brings no finding and no warning
/// about its advisories.
#[test]
fn the_parse_not_the_name_lines_decides_which_crates_are_audited() {
    let (found, err) =
        audit_tinyhttp_with("[[patch.unused]]\nname = \"rawcell\"\nversion = \"0.4.0\"\n");
    assert_eq!(found, tinyhttp_finding(), "{err}");
    assert!(!err.contains("rawcell"), "{err}");
}

/// Advisories are skipped unparsed when their `[versions]` leave every
/// version on the lockfiles' `version` lines unaffected; here those lines
/// say 0.5.0 (in a string the parse reads as text) while the parse locks
/// 1.0.0, which RUSTSEC-2024-9001 affects. The parse has the last word on
/// versions too: the crate's advisories are judged again.
#[test]
fn an_advisory_skipped_for_the_guessed_version_is_judged_again_for_the_locked_one() {
    let (found, err) = audit_tinyhttp_with(
        "[metadata]\nnote = \"\"\"\nname = \"tinyhttp\"\nversion = \"0.5.0\"\n\"\"\"\n",
    );
    assert_eq!(found, tinyhttp_finding(), "{err}");
}

#[test]
fn a_malformed_advisory_is_a_warning_naming_it_and_the_rest_load() {
    let (out, json) = run_json(&fixture("versions/v3"), &[]);
    let err = stderr(&out);
    assert!(err.contains("crates/rawcell/RUSTSEC-2024-9008.md"), "{err}");
    assert!(err.contains("malformed advisory"), "{err}");
    assert!(
        ids(&json).contains("RUSTSEC-2024-9003"),
        "same folder, still loaded"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// A FIFO with an advisory's name (a database is a folder anyone may have
/// written into) is reported as that file's problem, and never waited on:
/// the run ends, and the crate's other advisories still apply.
#[cfg(unix)]
#[test]
fn a_fifo_among_the_advisories_is_named_and_never_waited_on() {
    let top = tempfile::tempdir().unwrap();
    let copy = top.path().join("db");
    copy_dir(&db(), &copy);
    let st = std::process::Command::new("mkfifo")
        .arg(copy.join("crates/tinyhttp/RUSTSEC-2024-9998.md"))
        .status()
        .unwrap();
    assert!(st.success());
    let out = tripline(top.path())
        .arg("deps")
        .arg(fixture("versions/v3"))
        .arg("--db")
        .arg(&copy)
        .args(["--offline", "--format", "json"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("crates/tinyhttp/RUSTSEC-2024-9998.md"),
        "{err}"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ids(&json).contains("RUSTSEC-2024-9001"), "{err}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_staleness_warning_shows_on_an_old_database_only() {
    let (out, _) = run_json(&fixture("versions/v3"), &[]);
    let err = stderr(&out);
    assert!(err.contains("days old"), "{err}");
    assert!(err.contains("newest advisory 2024-04-01"), "{err}");
    let (out, _) = run_json(&fixture("versions/v3"), &["--max-db-age", "100000"]);
    assert!(!stderr(&out).contains("days old"));
}

/// A temporary tree with the v3 lockfile and `config` as tripline.toml.
fn tree_with_config(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("versions/v3/Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    std::fs::write(dir.path().join("tripline.toml"), config).unwrap();
    dir
}

#[test]
fn ignores_apply_until_they_expire_and_stale_ones_are_reported() {
    let dir = tree_with_config(
        r#"
[deps]
ignore = [
  { id = "RUSTSEC-2024-9001", reason = "no untrusted input", until = "2999-01-01" },
  { id = "RUSTSEC-2024-9006", reason = "we ship no Windows build", until = 2020-01-01 },
  { id = "RUSTSEC-2024-9999", reason = "gone" },
]
"#,
    );
    let (out, json) = run_json(dir.path(), &["--ignore", "RUSTSEC-2024-9002"]);
    let err = stderr(&out);
    let got = unsuppressed_ids(&json);
    // Ignored advisories are reported as suppressed, never as findings
    // that count.
    assert!(!got.contains("RUSTSEC-2024-9001"), "ignored until 2999");
    assert!(!got.contains("RUSTSEC-2024-9002"), "--ignore");
    let by = suppressed_by(&json, "RUSTSEC-2024-9001");
    assert!(
        !by.is_empty()
            && by
                .iter()
                .all(|b| b.contains("[deps] ignore of RUSTSEC-2024-9001")),
        "{by:?}"
    );
    let by = suppressed_by(&json, "RUSTSEC-2024-9002");
    assert!(
        !by.is_empty() && by.iter().all(|b| b.contains("--ignore RUSTSEC-2024-9002")),
        "{by:?}"
    );
    assert!(
        got.contains("RUSTSEC-2024-9006"),
        "expired ignore no longer applies"
    );
    assert!(
        err.contains("RUSTSEC-2024-9006") && err.contains("expired on 2020-01-01"),
        "{err}"
    );
    assert!(err.contains("stale ignore: RUSTSEC-2024-9999"), "{err}");
    assert!(!err.contains("stale ignore: RUSTSEC-2024-9001"), "{err}");
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains("expired") && warnings.contains("stale ignore"),
        "{warnings}"
    );
}

#[test]
fn an_ignore_by_alias_applies() {
    let dir = tree_with_config("[deps]\nignore = [{ id = \"CVE-2024-99901\" }]\n");
    let (out, json) = run_json(dir.path(), &[]);
    assert!(!unsuppressed_ids(&json).contains("RUSTSEC-2024-9001"));
    let by = suppressed_by(&json, "RUSTSEC-2024-9001");
    assert!(
        !by.is_empty() && by.iter().all(|b| b.contains("ignore of CVE-2024-99901")),
        "{by:?}"
    );
    assert!(!stderr(&out).contains("stale ignore"), "{}", stderr(&out));
}

#[test]
fn offline_without_a_database_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .args(["deps", "--offline"])
        .arg(fixture("versions/v3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let expected = home.path().join("cache/tripline/advisory-db");
    assert!(err.contains(&expected.display().to_string()), "{err}");
    assert!(err.contains("--db") && err.contains("--offline"), "{err}");
    assert!(out.stdout.is_empty(), "no report after a fatal error");
}

#[test]
fn cargo_audit_s_database_is_used_when_ours_is_missing() {
    let home = tempfile::tempdir().unwrap();
    let theirs = home.path().join("cargo/advisory-db");
    copy_dir(&db(), &theirs);
    let out = tripline(home.path())
        .args(["deps", "--offline", "--format", "json"])
        .arg(fixture("versions/v3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ids(&json).contains("RUSTSEC-2024-9001"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str], date: Option<&str>) {
    let mut c = std::process::Command::new("git");
    c.arg("-C").arg(dir).args(args);
    c.env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir);
    if let Some(d) = date {
        c.env("GIT_AUTHOR_DATE", d).env("GIT_COMMITTER_DATE", d);
    }
    let st = c.status().unwrap();
    assert!(st.success(), "git {args:?}");
}

/// A local git repository holding the fixture database, committed on `date`.
fn upstream(date: &str) -> (tempfile::TempDir, String) {
    let up = tempfile::tempdir().unwrap();
    copy_dir(&db(), up.path());
    git(up.path(), &["init", "-q"], None);
    git(up.path(), &["add", "-A"], None);
    git(up.path(), &["commit", "-q", "-m", "db"], Some(date));
    let url = format!("file://{}", up.path().display());
    (up, url)
}

#[test]
fn db_fetch_clones_from_a_local_repository_and_updates_it() {
    let (up, url) = upstream("2024-05-01T12:00:00+00:00");
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("tripline.toml");
    std::fs::write(&cfg, format!("[deps]\ndb_url = \"{url}\"\n")).unwrap();
    let out = tripline(home.path())
        .arg("--config")
        .arg(&cfg)
        .args(["db", "fetch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dest = home.path().join("cache/tripline/advisory-db");
    assert!(dest.join("crates/tinyhttp/RUSTSEC-2024-9001.md").is_file());
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(info.contains("2024-05-01 (last commit)"), "{info}");
    assert!(info.contains("advisories: 8"), "{info}");

    // Upstream gains an advisory; a second fetch brings it in.
    let extra = up.path().join("crates/oldlog/RUSTSEC-2024-9010.md");
    std::fs::write(
        &extra,
        "```toml\n[advisory]\nid = \"RUSTSEC-2024-9010\"\npackage = \"oldlog\"\ndate = \"2024-05-02\"\n\n[versions]\npatched = []\n```\n\n# Another oldlog problem\n\nMade up.\n",
    )
    .unwrap();
    git(up.path(), &["add", "-A"], None);
    git(
        up.path(),
        &["commit", "-q", "-m", "more"],
        Some("2024-05-02T12:00:00+00:00"),
    );
    let out = tripline(home.path())
        .arg("--config")
        .arg(&cfg)
        .args(["db", "fetch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dest.join("crates/oldlog/RUSTSEC-2024-9010.md").is_file());
    // The first commit's date was remembered; the new commit is dated anew.
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(info.contains("2024-05-02 (last commit)"), "{info}");
    assert!(info.contains("advisories: 9"), "{info}");

    // Judged by its last commit, the checkout is stale.
    let tree = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("versions/v3/Cargo.lock"),
        tree.path().join("Cargo.lock"),
    )
    .unwrap();
    let out = tripline(home.path())
        .args(["deps", "--offline", "--format", "json"])
        .arg(tree.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("last commit 2024-05-02"), "{err}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ids(&json).contains("RUSTSEC-2024-9010"));
}

#[test]
fn a_scan_fetches_the_missing_database_unless_offline() {
    let (_up, url) = upstream("2030-01-01T00:00:00+00:00");
    let home = tempfile::tempdir().unwrap();
    let tree = tree_with_config(&format!("[deps]\ndb_url = \"{url}\"\n"));
    let out = tripline(home.path())
        .args(["deps", "--format", "json"])
        .arg(tree.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ids(&json).contains("RUSTSEC-2024-9001"));
    assert!(home.path().join("cache/tripline/advisory-db/.git").exists());
    assert!(
        !stderr(&out).contains("days old"),
        "a fresh checkout is not stale"
    );
}

#[test]
fn a_failed_fetch_names_the_url_and_points_at_db() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("no-such-repo");
    let tree = tree_with_config(&format!(
        "[deps]\ndb_url = \"file://{}\"\n",
        missing.display()
    ));
    let out = tripline(home.path())
        .arg("deps")
        .arg(tree.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no-such-repo") && err.contains("--db"),
        "{err}"
    );
    let parent = home.path().join("cache/tripline");
    let litter: Vec<_> = std::fs::read_dir(&parent)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        litter.is_empty(),
        "a failed clone leaves nothing: {litter:?}"
    );
}

/// `--metadata` runs cargo, but never the tree's tools: a
/// `.cargo/config.toml` naming a rustc and a wrapper in the tree, and a
/// `rust-toolchain.toml` naming a toolchain in the tree, are all ignored.
#[test]
fn metadata_never_runs_the_tree_s_cargo_settings() {
    let tree = tempfile::tempdir().unwrap();
    let t = tree.path();
    let marker = t.join("PWNED");
    let evil = format!("#!/bin/sh\necho ran >> '{}'\nexit 1\n", marker.display());
    std::fs::create_dir_all(t.join(".cargo")).unwrap();
    std::fs::create_dir_all(t.join("evil-toolchain/bin")).unwrap();
    for p in [
        "evil-rustc",
        "evil-wrapper",
        "evil-toolchain/bin/cargo",
        "evil-toolchain/bin/rustc",
    ] {
        std::fs::write(t.join(p), &evil).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(t.join(p), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        t.join(".cargo/config.toml"),
        format!(
            "[build]\nrustc = \"{0}/evil-rustc\"\nrustc-wrapper = \"{0}/evil-wrapper\"\n",
            t.display()
        ),
    )
    .unwrap();
    std::fs::write(
        t.join("rust-toolchain.toml"),
        format!("[toolchain]\npath = \"{}/evil-toolchain\"\n", t.display()),
    )
    .unwrap();
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("src/lib.rs"), "").unwrap();
    std::fs::write(
        t.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        t.join("Cargo.lock"),
        "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        // The real toolchain's cargo home, so rustup and cargo work.
        .env_remove("CARGO_HOME")
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .args([
            "deps",
            "--offline",
            "--metadata",
            "--format",
            "json",
            "--db",
        ])
        .arg(db())
        .arg(t)
        .output()
        .unwrap();
    assert!(!marker.exists(), "a tool from the tree ran");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["errors"],
        serde_json::json!([]),
        "cargo metadata succeeded"
    );
}

// ---------------------------------------------------------------------------
// --yanked, against a sparse index served here
// ---------------------------------------------------------------------------

/// A crates.io-style sparse index on 127.0.0.1: serves `files` (index path
/// → file), 404 for any other path, never answers the `hang` paths (holds
/// the connection open instead), answers the first request for a `flaky`
/// path with a 503, and counts the requests for each path.
struct IndexServer {
    url: String,
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<BTreeMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl IndexServer {
    fn start(files: &[(&str, &str)], hang: &[&str], flaky: &[&str]) -> IndexServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let files: Arc<BTreeMap<String, String>> = Arc::new(
            files
                .iter()
                .map(|(p, f)| (p.to_string(), f.to_string()))
                .collect(),
        );
        let hang: Arc<BTreeSet<String>> = Arc::new(hang.iter().map(|p| p.to_string()).collect());
        let flaky: Arc<BTreeSet<String>> = Arc::new(flaky.iter().map(|p| p.to_string()).collect());
        let requests = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, halt) = (requests.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (files, hang, flaky, reqs, halt) = (
                    files.clone(),
                    hang.clone(),
                    flaky.clone(),
                    reqs.clone(),
                    halt.clone(),
                );
                std::thread::spawn(move || serve(conn, &files, &hang, &flaky, &reqs, &halt));
            }
        });
        IndexServer {
            url: format!("http://{addr}/"),
            addr,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    fn count(&self, path: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn paths(&self) -> BTreeSet<String> {
        self.requests.lock().unwrap().keys().cloned().collect()
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    mut conn: std::net::TcpStream,
    files: &BTreeMap<String, String>,
    hang: &BTreeSet<String>,
    flaky: &BTreeSet<String>,
    requests: &Mutex<BTreeMap<String, usize>>,
    stop: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let Some(target) = head.split_whitespace().nth(1) else {
        return;
    };
    let path = target.trim_start_matches('/').to_string();
    let nth = {
        let mut r = requests.lock().unwrap();
        let n = r.entry(path.clone()).or_insert(0);
        *n += 1;
        *n
    };
    if hang.contains(&path) {
        // Say nothing, keep the connection: the client must time out.
        let until = Instant::now() + Duration::from_secs(30);
        while !stop.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    let (status, body) = match files.get(&path) {
        _ if nth == 1 && flaky.contains(&path) => ("503 Service Unavailable", "busy\n"),
        Some(f) => ("200 OK", f.as_str()),
        None => ("404 Not Found", "not found\n"),
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// An index file: one JSON line per (version, yanked).
fn index_file(name: &str, versions: &[(&str, bool)]) -> String {
    versions
        .iter()
        .map(|(v, y)| {
            format!(
                "{{\"name\":\"{name}\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"00\",\"features\":{{}},\"yanked\":{y}}}\n"
            )
        })
        .collect()
}

/// The files of the index the `--yanked` tests run against.
fn yanked_index() -> Vec<(&'static str, String)> {
    vec![
        (
            "1/a",
            index_file("a", &[("1.0.0", false), ("1.1.0", false)]),
        ),
        (
            "2/ab",
            index_file(
                "ab",
                &[
                    ("0.1.0", false),
                    ("0.2.0", true),
                    ("0.2.1", false),
                    ("0.3.0", false),
                ],
            ),
        ),
        (
            "in/fl/inflector",
            index_file("Inflector", &[("0.11.4", true), ("0.11.3", false)]),
        ),
        (
            "pk/g-/pkg-c",
            index_file("pkg-c", &[("1.0.0", true), ("1.0.1", false)]),
        ),
        // Served, but never to be asked: the lockfile's copies are a git
        // and another registry's package.
        ("se/rd/serde", index_file("serde", &[("1.0.100", true)])),
        ("ot/he/otherreg", index_file("otherreg", &[("0.5.0", true)])),
    ]
}

/// A lockfile with crates.io packages of one to many characters (one of
/// them mixed case, one from the sparse protocol), a crate absent from the
/// index (`abc`), and git, path and other-registry packages. None of these
/// crates has an advisory in the fixture database.
const YANKED_LOCK: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "Inflector"
version = "0.11.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "fe438c63458706e03479442743baae6c88256498e6431708f6dfc520a26515d3"

[[package]]
name = "a"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "1111111111111111111111111111111111111111111111111111111111111111"

[[package]]
name = "ab"
version = "0.2.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "2222222222222222222222222222222222222222222222222222222222222222"
dependencies = [
 "a",
]

[[package]]
name = "abc"
version = "0.3.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "3333333333333333333333333333333333333333333333333333333333333333"

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "Inflector",
 "ab",
 "abc",
 "localpkg",
 "otherreg",
 "pkg-c",
 "serde",
]

[[package]]
name = "localpkg"
version = "0.1.0"

[[package]]
name = "otherreg"
version = "0.5.0"
source = "registry+https://example.com/other-index"
checksum = "4444444444444444444444444444444444444444444444444444444444444444"

[[package]]
name = "pkg-c"
version = "1.0.0"
source = "sparse+https://index.crates.io/"
checksum = "5555555555555555555555555555555555555555555555555555555555555555"

[[package]]
name = "serde"
version = "1.0.100"
source = "git+https://github.com/serde-rs/serde?branch=master#0123456789abcdef0123456789abcdef01234567"
"#;

/// A tree holding [`YANKED_LOCK`] at each of `dirs` (`""`: the root).
fn yanked_tree(dirs: &[&str]) -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    for d in dirs {
        let dir = tree.path().join(d);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Cargo.lock"), YANKED_LOCK).unwrap();
    }
    tree
}

/// `tripline deps --yanked` on `tree` against `index` (no proxy: the index
/// is local). The request timeout is generous: a loaded test machine must
/// not turn a prompt answer into a timeout.
fn run_yanked(tree: &Path, index: &str, extra: &[&str]) -> (Output, Duration) {
    run_yanked_timeout(tree, index, 5000, extra)
}

/// [`run_yanked`] with a request timeout of `timeout_ms`.
fn run_yanked_timeout(
    tree: &Path,
    index: &str,
    timeout_ms: u64,
    extra: &[&str],
) -> (Output, Duration) {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut cmd = tripline(home.path());
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("TRIPLINE_CRATES_INDEX", index)
        .env("TRIPLINE_HTTP_TIMEOUT_MS", timeout_ms.to_string())
        .args(["deps", "--yanked", "--max-db-age", "100000", "--db"])
        .arg(db())
        .arg(tree)
        .args(extra)
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

fn start_yanked_index(hang: &[&str], flaky: &[&str]) -> IndexServer {
    let files = yanked_index();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, f)| (*p, f.as_str())).collect();
    IndexServer::start(&files, hang, flaky)
}

fn yanked_set(json: &Value) -> BTreeSet<(String, String, String)> {
    found(json)
        .into_iter()
        .filter(|(id, _, _)| id == "yanked")
        .collect()
}

#[test]
fn yanked_versions_are_reported_at_their_lockfile_lines() {
    let index = start_yanked_index(&[], &[]);
    let tree = yanked_tree(&[""]);
    let (out, _) = run_yanked(tree.path(), &index.url, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "yanked is informational: {}",
        stderr(&out)
    );
    let json = json_of(&out);
    let want: BTreeSet<(String, String, String)> = ["ab@0.2.0", "Inflector@0.11.4", "pkg-c@1.0.0"]
        .iter()
        .map(|p| ("yanked".into(), p.to_string(), "Cargo.lock".into()))
        .collect();
    assert_eq!(found(&json), want, "a@1.0.0 is not yanked, abc is a 404");
    let lock = tree.path().join("Cargo.lock");
    for f in json["findings"].as_array().unwrap() {
        let d = &f["dependency"];
        let (name, version) = (
            d["package"].as_str().unwrap(),
            d["version"].as_str().unwrap(),
        );
        let (start, end) = block_lines(&lock, name, version);
        assert_eq!(f["kind"], "yanked");
        assert_eq!(f["severity"], "low");
        assert_eq!(
            (
                f["location"]["start_line"].as_u64(),
                f["location"]["end_line"].as_u64()
            ),
            (Some(start), Some(end)),
            "{name}"
        );
    }
    let ab = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["excerpt"] == "ab@0.2.0")
        .unwrap();
    assert_eq!(
        ab["dependency"]["fix"],
        "upgrade to a non-yanked version (newest: 0.3.0; semver-compatible: 0.2.1)"
    );
    assert_eq!(
        ab["dependency"]["dependency_path"],
        serde_json::json!(["app", "ab"])
    );
    // Each crates.io crate asked once, at cargo's paths; the git and
    // other-registry packages never.
    let asked: BTreeSet<String> = ["1/a", "2/ab", "3/a/abc", "in/fl/inflector", "pk/g-/pkg-c"]
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(index.paths(), asked);
    assert_eq!(
        index.count("se/rd/serde") + index.count("ot/he/otherreg"),
        0
    );
    assert!(!stderr(&out).contains("--yanked"), "{}", stderr(&out));

    // The text report lists them under their lockfile.
    let (out, _) = run_yanked(tree.path(), &index.url, &["--no-color"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let under_lockfile = text.split("Cargo.lock").nth(1).unwrap_or_default();
    assert!(
        under_lockfile.contains("yanked")
            && under_lockfile.contains("ab@0.2.0")
            && under_lockfile.contains("newest: 0.3.0"),
        "{text}"
    );
}

#[test]
fn deny_yanked_fails_the_run_from_the_flag_or_the_config() {
    let index = start_yanked_index(&[], &[]);
    let tree = yanked_tree(&[""]);
    let (out, _) = run_yanked(tree.path(), &index.url, &["--deny", "yanked"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (out, _) = run_yanked(tree.path(), &index.url, &["--deny", "unsound"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The index from the config instead of the environment, and the deny.
    std::fs::write(
        tree.path().join("tripline.toml"),
        format!(
            "[deps]\ndeny = [\"yanked\"]\nindex_url = \"{}\"\n",
            index.url
        ),
    )
    .unwrap();
    let (out, _) = run_yanked(tree.path(), "", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(yanked_set(&json_of(&out)).len(), 3);
}

#[test]
fn a_malformed_index_url_is_an_error_naming_its_setting() {
    let tree = yanked_tree(&[""]);
    std::fs::write(
        tree.path().join("tripline.toml"),
        "[deps]\nindex_url = \"index.crates.io\"\n",
    )
    .unwrap();
    let (out, _) = run_yanked(tree.path(), "", &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("[deps] index_url") && err.contains("index.crates.io"),
        "{err}"
    );
}

#[test]
fn sarif_tags_yanked_results_and_points_at_the_package() {
    let index = start_yanked_index(&[], &[]);
    let tree = yanked_tree(&[""]);
    let (out, _) = run_yanked(tree.path(), &index.url, &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sarif = json_of(&out);
    let run = &sarif["runs"][0];
    let rule = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "yanked")
        .expect("a yanked rule");
    let tags: Vec<&str> = rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(&tags[..2], ["security", "yanked"]);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let ab = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("ab@0.2.0")
        })
        .unwrap();
    let (start, end) = block_lines(&tree.path().join("Cargo.lock"), "ab", "0.2.0");
    let region = &ab["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["endLine"].as_u64()),
        (Some(start), Some(end))
    );
    assert_eq!(
        ab["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "Cargo.lock"
    );

    // With `.ci/run`'s shared folder: GitHub's upload rules accept it.
    if let Some(shared) = std::env::var_os("TRIPLINE_SHARED") {
        let file = tree.path().join("yanked.sarif");
        std::fs::write(&file, &out.stdout).unwrap();
        let python = std::env::var("TRIPLINE_PYTHON").unwrap_or_else(|_| "python3".into());
        let v = std::process::Command::new(python)
            .arg(Path::new(&shared).join("sarif/validate.py"))
            .arg("--github")
            .arg(&file)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&v.stdout);
        assert!(
            v.status.success() && said.contains("VALID (0 errors, 0 warnings)"),
            "{said}{}",
            String::from_utf8_lossy(&v.stderr)
        );
    }
}

#[test]
fn a_crate_in_two_lockfiles_is_fetched_once() {
    let index = start_yanked_index(&[], &[]);
    let tree = yanked_tree(&["one", "two/deeper"]);
    let (out, _) = run_yanked(tree.path(), &index.url, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json = json_of(&out);
    let got = yanked_set(&json);
    for lock in ["one/Cargo.lock", "two/deeper/Cargo.lock"] {
        assert!(
            got.contains(&("yanked".into(), "ab@0.2.0".into(), lock.into())),
            "{got:?}"
        );
    }
    assert_eq!(got.len(), 6);
    for path in ["1/a", "2/ab", "3/a/abc", "in/fl/inflector", "pk/g-/pkg-c"] {
        assert_eq!(index.count(path), 1, "{path}");
    }
    // The same package in two lockfiles: two fingerprints.
    let fps: BTreeSet<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 6);
}

#[test]
fn an_index_that_never_answers_one_crate_is_a_warning_not_a_hang() {
    let index = start_yanked_index(&["2/ab"], &[]);
    let tree = yanked_tree(&[""]);
    let (out, took) = run_yanked_timeout(tree.path(), &index.url, 400, &["--format", "json"]);
    // 400 ms per request, 2.4 s for the whole check: far less than this.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let url = format!("{}2/ab", index.url);
    assert!(
        err.contains("cannot check ab") && err.contains(&url) && err.contains("no answer within"),
        "{err}"
    );
    let json = json_of(&out);
    assert!(json["warnings"].to_string().contains(&url));
    let got = yanked_set(&json);
    assert!(!got.iter().any(|(_, p, _)| p.starts_with("ab@")));
    assert!(
        got.iter().any(|(_, p, _)| p == "Inflector@0.11.4"),
        "the other crates are still checked: {got:?}"
    );
}

#[test]
fn an_index_that_answers_nothing_is_an_error() {
    let paths: Vec<&str> = vec!["1/a", "2/ab", "3/a/abc", "in/fl/inflector", "pk/g-/pkg-c"];
    let index = IndexServer::start(&[], &paths, &[]);
    let tree = yanked_tree(&[""]);
    let (out, took) = run_yanked_timeout(tree.path(), &index.url, 400, &[]);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cannot reach the crates.io index at {} (offline?)",
            index.url
        )) && err.contains("run without --yanked"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no report after a fatal error");
}

#[test]
fn an_unreachable_index_is_an_error_saying_offline() {
    // A port that was just free: nothing listens there.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{closed}/");
    let tree = yanked_tree(&[""]);
    let (out, took) = run_yanked(tree.path(), &url, &[]);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cannot reach the crates.io index at {url} (offline?)"
        )) && err.contains("run without --yanked"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no report after a fatal error");
}

#[test]
fn yanked_with_offline_is_an_error_before_any_request() {
    let index = start_yanked_index(&[], &[]);
    let tree = yanked_tree(&[""]);
    let (out, _) = run_yanked(tree.path(), &index.url, &["--offline"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--offline") && err.contains("--yanked"),
        "{err}"
    );
    assert!(index.paths().is_empty(), "asked {:?}", index.paths());
}

#[test]
fn a_passing_server_error_is_asked_again() {
    let index = start_yanked_index(&[], &["2/ab", "3/a/abc"]);
    let tree = yanked_tree(&[""]);
    let (out, _) = run_yanked(tree.path(), &index.url, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("cannot check"), "{}", stderr(&out));
    assert!(yanked_set(&json_of(&out))
        .iter()
        .any(|(_, p, _)| p == "ab@0.2.0"));
    assert_eq!(index.count("2/ab"), 2, "a 503, then the file");
    assert_eq!(index.count("3/a/abc"), 2, "a 503, then a 404");
    assert_eq!(index.count("1/a"), 1);
}

/// A lockfile of `n` crates.io packages named `crate-0`, `crate-1`, ...
fn many_crates_lock(n: usize) -> String {
    let mut lock = String::from("version = 3\n");
    for i in 0..n {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"crate-{i}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ));
    }
    lock
}

#[test]
fn an_index_that_never_answers_is_given_up_after_one_round() {
    let n = 40;
    let paths: Vec<String> = (0..n).map(|i| format!("cr/at/crate-{i}")).collect();
    let hang: Vec<&str> = paths.iter().map(String::as_str).collect();
    let index = IndexServer::start(&[], &hang, &[]);
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("Cargo.lock"), many_crates_lock(n)).unwrap();
    let (out, took) = run_yanked_timeout(tree.path(), &index.url, 400, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("(offline?)") && err.contains("no answer within 400ms"),
        "{err}"
    );
    // One round of requests (eight at a time) and their timeouts, not forty.
    let asked: usize = index.requests.lock().unwrap().values().sum();
    assert!(asked < n / 2, "{asked} requests");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn an_index_without_any_of_the_crates_is_a_warning() {
    // Say, a URL one folder off: every crate is a 404.
    let index = IndexServer::start(&[], &[], &[]);
    let tree = yanked_tree(&[""]);
    let (out, _) = run_yanked(tree.path(), &index.url, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(yanked_set(&json_of(&out)).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the index at {} has none of the 5 crates",
            index.url
        )),
        "{err}"
    );
    assert_eq!(index.paths().len(), 5);
}
