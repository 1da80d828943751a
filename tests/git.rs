//! End-to-end tests of the git-aware modes: `--staged`, `--git`, baselines
//! and the pre-commit hook. Each test builds a throwaway repository with the
//! `git` CLI and runs the binary on it.
//!
//! The planted secrets are made-up AWS access key ids (the AKIA prefix and
//! 16 characters of AWS's base32 alphabet), which the built-in rules find.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

const KEY_A: &str = "AKIAQ3F7TZ2MLW5KX4RD";
const KEY_B: &str = "AKIAR6YH2NBV7CXZ4TLS";
const KEY_C: &str = "AKIAW4MJ5PKQ2HT7ZNVE";

#[path = "common/git_repo.rs"]
mod git_repo;
use git_repo::GitRepo as Repo;

impl Repo {
    /// Runs tripline in the repository with a JSON report.
    fn tripline(&self, args: &[&str]) -> (Output, Value) {
        let out = tripline()
            .current_dir(self.path())
            .args(args)
            .args(["--format", "json"])
            .output()
            .expect("tripline runs");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out, v)
    }
}

fn tripline() -> Command {
    let mut c = Command::cargo_bin("tripline").expect("binary builds");
    c.env_remove("NO_COLOR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .timeout(Duration::from_secs(120));
    c
}

fn findings(v: &Value) -> Vec<&Value> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .collect()
}

/// The findings nothing suppressed: the ones that can fail a run.
fn unsuppressed(v: &Value) -> Vec<&Value> {
    findings(v)
        .into_iter()
        .filter(|f| f.get("suppressed").is_none())
        .collect()
}

/// (path, line) of each finding.
fn places(v: &Value) -> Vec<(String, u64)> {
    places_of(&findings(v))
}

/// (path, line) of each of `found`.
fn places_of(found: &[&Value]) -> Vec<(String, u64)> {
    found
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn staged_ignores_a_secret_only_in_the_working_tree() {
    let r = Repo::new();
    r.write("app.env", "NAME=demo\n");
    r.commit("clean");
    r.write(
        "app.env",
        &format!("NAME=demo\nAWS_ACCESS_KEY_ID={KEY_A}\n"),
    );
    r.write("notes.txt", "staged, harmless\n");
    r.git(&["add", "notes.txt"]);

    let (out, v) = r.tripline(&["secrets", "--staged"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(findings(&v).is_empty(), "{v}");
    assert_eq!(
        v["scan"]["files_scanned"], 1,
        "only the staged file is read"
    );

    // The same tree scanned as a directory does see it: the difference is
    // the mode, not the rule.
    let (_, v) = r.tripline(&["secrets", "."]);
    assert_eq!(places(&v), vec![("app.env".to_owned(), 2)]);
}

#[test]
fn staged_reports_a_staged_secret_deleted_from_the_working_tree() {
    let r = Repo::new();
    r.write("README", "readme\n");
    r.commit("first");
    r.write(
        "deploy/creds.env",
        &format!("# deploy\nAWS_ACCESS_KEY_ID={KEY_A}\n"),
    );
    r.git(&["add", "deploy/creds.env"]);
    std::fs::remove_file(r.path().join("deploy/creds.env")).unwrap();

    let (out, v) = r.tripline(&["secrets", "--staged"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(places(&v), vec![("deploy/creds.env".to_owned(), 2)]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY_A));
}

#[test]
fn staged_works_before_the_first_commit() {
    let r = Repo::new();
    r.write("a.env", &format!("KEY={KEY_B}\n"));
    r.git(&["add", "a.env"]);
    let (out, v) = r.tripline(&["secrets", "--staged"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(places(&v), vec![("a.env".to_owned(), 1)]);
}

#[test]
fn staged_reports_only_added_lines_unless_all_lines() {
    let r = Repo::new();
    r.write(
        "settings.env",
        &format!("AWS_ACCESS_KEY_ID={KEY_A}\nREGION=eu-west-1\nDEBUG=0\n"),
    );
    r.commit("old secret, already in history");
    // A harmless change to the same file: the old secret is not new.
    r.write(
        "settings.env",
        &format!("AWS_ACCESS_KEY_ID={KEY_A}\nREGION=eu-west-1\nDEBUG=1\n"),
    );
    r.git(&["add", "settings.env"]);
    let (out, v) = r.tripline(&["secrets", "--staged"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(findings(&v).is_empty(), "{v}");

    let (out, v) = r.tripline(&["secrets", "--staged", "--all-lines"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(places(&v), vec![("settings.env".to_owned(), 1)]);

    // A new secret inserted above: reported at its line in the staged
    // content, and the old one still is not.
    r.write(
        "settings.env",
        &format!(
            "# new\nBACKUP_KEY={KEY_C}\nAWS_ACCESS_KEY_ID={KEY_A}\nREGION=eu-west-1\nDEBUG=1\n"
        ),
    );
    r.git(&["add", "settings.env"]);
    let (out, v) = r.tripline(&["secrets", "--staged"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(places(&v), vec![("settings.env".to_owned(), 2)]);
}

#[test]
fn history_attributes_a_secret_to_the_commit_that_introduced_it() {
    let r = Repo::new();
    r.write("config/app.env", "NAME=demo\n");
    r.commit("clean start");
    r.write(
        "config/app.env",
        &format!("NAME=demo\nAWS_ACCESS_KEY_ID={KEY_A}\n"),
    );
    let introducing = r.commit("add credentials");
    // Later edits keep the secret in new versions of the file.
    r.write(
        "config/app.env",
        &format!("NAME=demo2\nAWS_ACCESS_KEY_ID={KEY_A}\n"),
    );
    r.commit("rename app");
    r.write("other.txt", "x\n");
    r.commit("unrelated");

    let (out, v) = r.tripline(&["secrets", "--git"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = findings(&v);
    assert_eq!(f.len(), 1, "one secret, reported once: {v}");
    let loc = &f[0]["location"];
    assert_eq!(loc["path"], "config/app.env");
    assert_eq!(loc["start_line"], 2);
    assert_eq!(loc["commit"]["id"], introducing.as_str());
    assert_eq!(loc["commit"]["author"], "Ada Tester <ada@example.com>");
    assert!(loc["commit"]["date"].as_str().unwrap().contains('T'));
    let blob = r.git(&["rev-parse", &format!("{introducing}:config/app.env")]);
    assert_eq!(loc["blob"], blob.as_str());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY_A));
}

#[test]
fn history_scans_a_blob_shared_by_100_commits_once() {
    let r = Repo::new();
    r.write("secret.env", &format!("AWS_ACCESS_KEY_ID={KEY_A}\n"));
    let first = r.commit("c0");
    for i in 1..100 {
        r.write("counter.txt", &format!("{i}\n"));
        r.commit(&format!("c{i}"));
    }
    assert_eq!(r.git(&["rev-list", "--count", "HEAD"]), "100");

    let (out, v) = r.tripline(&["secrets", "--git", "-v"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // secret.env once, and the 99 versions of counter.txt.
    assert_eq!(v["scan"]["files_scanned"], 100, "{}", v["scan"]);
    assert!(
        stderr(&out).contains("100 commits, 100 blobs scanned"),
        "{}",
        stderr(&out)
    );
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["location"]["commit"]["id"], first.as_str());
}

#[test]
fn history_range_scans_only_what_the_branch_adds() {
    let r = Repo::new();
    r.write("old.env", &format!("KEY={KEY_A}\n"));
    let base = r.commit("base with an old secret");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("new.env", &format!("KEY={KEY_B}\n"));
    let added = r.commit("feature adds one");

    let (out, v) = r.tripline(&["secrets", "--git", &format!("{base}..feature")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(places(&v), vec![("new.env".to_owned(), 1)]);
    assert_eq!(findings(&v)[0]["location"]["commit"]["id"], added.as_str());

    let (_, v) = r.tripline(&["secrets", "--git", "main"]);
    assert_eq!(places(&v), vec![("old.env".to_owned(), 1)]);

    let out = tripline()
        .current_dir(r.path())
        .args(["secrets", "--git", "no-such-branch..main"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-branch"), "{}", stderr(&out));
}

#[test]
fn baseline_hides_exactly_its_entries_and_survives_line_moves() {
    let r = Repo::new();
    r.write(
        "app.env",
        &format!("AWS_ACCESS_KEY_ID={KEY_A}\nREGION=eu-west-1\n"),
    );
    let base = r.path().join("tripline-baseline.json");
    let out = tripline()
        .current_dir(r.path())
        .args(["baseline", ".", "-o"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = std::fs::read_to_string(&base).unwrap();
    assert!(!first.contains(KEY_A), "the secret itself is never written");
    assert!(first.contains("aws-access-key-id") && first.contains("app.env"));

    // Writing it again with nothing changed gives the same bytes.
    let out = tripline()
        .current_dir(r.path())
        .args(["baseline", ".", "-o"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&base).unwrap(), first);

    let with_baseline =
        |r: &Repo| r.tripline(&["secrets", ".", "--baseline", "tripline-baseline.json"]);
    let (out, v) = with_baseline(&r);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The accepted secret is reported, as suppressed by the baseline.
    assert!(unsuppressed(&v).is_empty(), "{v}");
    assert_eq!(findings(&v).len(), 1, "{v}");
    assert_eq!(
        findings(&v)[0]["suppressed"],
        serde_json::json!({"kind": "external", "mechanism": "baseline", "by": "baseline tripline-baseline.json"}),
        "{v}"
    );

    // The accepted secret moves down three lines: still accepted.
    r.write(
        "app.env",
        &format!("# a\n# b\n# c\nAWS_ACCESS_KEY_ID={KEY_A}\nREGION=eu-west-1\n"),
    );
    let (out, v) = with_baseline(&r);
    assert_eq!(out.status.code(), Some(0), "{v}");

    // A new secret on the accepted secret's line is reported; the
    // accepted one still is not.
    r.write(
        "app.env",
        &format!("# a\n# b\n# c\nAWS_ACCESS_KEY_ID={KEY_A} OLD={KEY_B}\nREGION=eu-west-1\n"),
    );
    let (out, v) = with_baseline(&r);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        places_of(&unsuppressed(&v)),
        vec![("app.env".to_owned(), 4)]
    );
    assert_eq!(places(&v), vec![("app.env".to_owned(), 4); 2], "{v}");
    assert_eq!(unsuppressed(&v)[0]["location"]["start_column"], 44, "{v}");
    assert_eq!(
        findings(&v).len(),
        2,
        "and the accepted one, suppressed: {v}"
    );

    // -v names baseline entries that matched nothing.
    r.write("app.env", "REGION=eu-west-1\n");
    let (out, v) = r.tripline(&["secrets", ".", "--baseline", "tripline-baseline.json", "-v"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(findings(&v).is_empty());
    assert!(
        stderr(&out)
            .contains("baseline entry matched nothing: secret aws-access-key-id in app.env"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hook_install_blocks_a_commit_that_adds_a_secret() {
    let r = Repo::new();
    r.write("app.env", "NAME=demo\n");
    r.commit("clean");
    let out = tripline()
        .current_dir(r.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let hook: PathBuf = r.path().join(".git/hooks/pre-commit");
    assert!(hook.is_file());

    // `git commit -a` stages into a temporary index (GIT_INDEX_FILE): the
    // hook must scan that, not the stale .git/index.
    r.write(
        "app.env",
        &format!("NAME=demo\nAWS_ACCESS_KEY_ID={KEY_A}\n"),
    );
    let out = r
        .git_cmd(&["commit", "-a", "-m", "leak"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the hook must refuse: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("app.env")
            || String::from_utf8_lossy(&out.stderr).contains("app.env")
    );
    assert_eq!(r.git(&["rev-list", "--count", "HEAD"]), "1");

    // A clean change commits.
    r.write("app.env", "NAME=demo2\n");
    let out = r
        .git_cmd(&["commit", "-a", "-m", "clean change"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // A hook someone else wrote is not replaced without --force.
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    let out = tripline()
        .current_dir(r.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
    let out = tripline()
        .current_dir(r.path())
        .args(["hook", "install", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("tripline secrets --staged"));
}

#[test]
fn partial_clone_is_scanned_without_fetching() {
    let origin = Repo::new();
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    origin.write("app.env", &format!("OLD={KEY_A}\n"));
    origin.commit("old secret");
    origin.write("app.env", "NAME=demo\n");
    origin.commit("secret removed");

    // A blobless clone: the old version of app.env is not local.
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("clone");
    let url = format!("file://{}", origin.path().display());
    let out = origin
        .git_cmd(&["clone", "-q", "--filter=blob:none", &url])
        .arg(&clone)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let clone_path = clone;
    let git_in_clone = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&clone_path)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    std::fs::write(
        clone_path.join("app.env"),
        format!("NAME=demo\nNEW={KEY_B}\n"),
    )
    .unwrap();
    git_in_clone(&["add", "app.env"]);
    let objects_before = git_in_clone(&["count-objects", "-v"]);
    let out = tripline()
        .current_dir(&clone_path)
        .args(["secrets", "--staged", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(places(&v), vec![("app.env".to_owned(), 2)]);

    // History: the old blob is missing locally; it is counted, not fetched.
    let out = tripline()
        .current_dir(&clone_path)
        .args(["secrets", "--git", "-v", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 not in the local object store"),
        "{}",
        stderr(&out)
    );
    assert_eq!(git_in_clone(&["count-objects", "-v"]), objects_before);
}

#[test]
fn git_flag_followed_by_a_repository_path_scans_that_repository() {
    let r = Repo::new();
    r.write("a.env", &format!("KEY={KEY_C}\n"));
    r.commit("one");
    let elsewhere = tempfile::tempdir().unwrap();
    let out = tripline()
        .current_dir(elsewhere.path())
        .args(["secrets", "--format", "json", "--git"])
        .arg(r.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(places(&v), vec![("a.env".to_owned(), 1)]);
}

/// The 1-based line range of the `[[package]]` block of `name@version` in
/// lockfile text: from the header above its `name` line to the block's last
/// non-blank line.
fn package_lines(text: &str, name: &str, version: &str) -> (u64, u64) {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .windows(2)
        .position(|w| {
            w[0] == format!("name = \"{name}\"") && w[1] == format!("version = \"{version}\"")
        })
        .unwrap_or_else(|| panic!("{name} {version} not in the lockfile"));
    assert!(lines[at - 1].starts_with('['), "header above {name}");
    let mut end = at;
    while end + 1 < lines.len() && !lines[end + 1].trim().is_empty() {
        end += 1;
    }
    (at as u64, end as u64 + 1)
}

/// `--staged` audits the lockfile in the index, not the one in the working
/// tree: a vulnerable staged lockfile is reported at its staged lines even
/// when the working-tree copy is already fixed, and a vulnerable lockfile
/// that is not staged is not reported.
#[test]
fn staged_audits_the_lockfile_in_the_index_not_the_working_tree() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps");
    let db = fixtures.join("advisory-db");
    let vulnerable = std::fs::read_to_string(fixtures.join("versions/v3/Cargo.lock")).unwrap();
    assert!(vulnerable.contains("name = \"tinyhttp\"\nversion = \"1.0.0\""));
    let scan = |r: &Repo| {
        r.tripline(&[
            "scan",
            "--staged",
            "--offline",
            "--max-db-age",
            "100000",
            "--db",
            db.to_str().unwrap(),
        ])
    };

    let r = Repo::new();
    r.write("README", "readme\n");
    r.commit("first");
    r.write("crates/app/Cargo.lock", &vulnerable);
    r.git(&["add", "crates/app/Cargo.lock"]);
    // The working tree moves on without staging: tinyhttp upgraded to the
    // patched version, and a package block added above it (so its lines
    // differ from the staged ones).
    let fixed = vulnerable
        .replace(
            "name = \"tinyhttp\"\nversion = \"1.0.0\"",
            "name = \"tinyhttp\"\nversion = \"1.2.3\"",
        )
        .replace(
            "[[package]]\nname = \"licensekit\"",
            "[[package]]\nname = \"aaa-extra\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"licensekit\"",
        );
    r.write("crates/app/Cargo.lock", &fixed);

    let (out, v) = scan(&r);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(v["scan"]["lockfiles_audited"], 1);
    let f = findings(&v)
        .into_iter()
        .find(|f| f["rule_id"] == "RUSTSEC-2024-9001")
        .unwrap_or_else(|| panic!("tinyhttp's advisory: {v:#}"));
    assert_eq!(f["excerpt"], "tinyhttp@1.0.0");
    assert_eq!(f["location"]["path"], "crates/app/Cargo.lock");
    let (start, end) = package_lines(&vulnerable, "tinyhttp", "1.0.0");
    assert_eq!(
        (
            f["location"]["start_line"].as_u64(),
            f["location"]["end_line"].as_u64()
        ),
        (Some(start), Some(end)),
        "the staged lines"
    );

    // Committed as is, then the working tree turns vulnerable again without
    // staging: nothing staged, nothing audited, nothing reported.
    r.git(&["commit", "-q", "--no-verify", "-m", "lockfile"]);
    r.write("crates/app/Cargo.lock", &fixed);
    r.git(&["add", "crates/app/Cargo.lock"]);
    r.git(&["commit", "-q", "--no-verify", "-m", "fixed"]);
    r.write("crates/app/Cargo.lock", &vulnerable);
    let (out, v) = scan(&r);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(findings(&v).is_empty(), "{v:#}");

    // Staged, the downgrade is a change to tinyhttp's block: reported.
    r.git(&["add", "crates/app/Cargo.lock"]);
    let (out, v) = scan(&r);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let ids: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"RUSTSEC-2024-9001"), "{ids:?}");
}
