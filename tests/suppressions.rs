//! End-to-end tests of auditable suppressions: every mechanism that
//! silences a finding leaves a suppressed result in the reports;
//! `--config-rev` reads the configuration from a trusted revision; and
//! `--staged` / `--git A..B` report each change that adds or widens a
//! suppression as `suppression-added`.
//!
//! The planted secrets are made-up AWS access key ids (the AKIA prefix and
//! 16 characters of AWS's base32 alphabet), which the built-in rules find.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

const KEY_A: &str = "AKIAQ3F7TZ2MLW5KX4RD";
const KEY_B: &str = "AKIAR6YH2NBV7CXZ4TLS";
const KEY_C: &str = "AKIAW4MJ5PKQ2HT7ZNVE";
const KEY_D: &str = "AKIAZ5NQ3WXR7KT2MLPB";
const KEYS: [&str; 4] = [KEY_A, KEY_B, KEY_C, KEY_D];

#[path = "common/git_repo.rs"]
mod git_repo;
use git_repo::GitRepo as Repo;

impl Repo {
    /// Runs tripline in the repository; the report as JSON.
    fn run(&self, args: &[&str]) -> (Output, Value) {
        run_in(self.path(), args, "json")
    }
}

fn tripline() -> Command {
    let mut c = Command::cargo_bin("tripline").expect("binary builds");
    c.env_remove("NO_COLOR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .timeout(Duration::from_secs(120));
    c
}

/// Runs tripline in `dir` with `--format format`; the report parsed as JSON
/// (SARIF is JSON too), after checking that no planted key is in any output.
fn run_in(dir: &Path, args: &[&str], format: &str) -> (Output, Value) {
    let out = tripline()
        .current_dir(dir)
        .args(args)
        .args(["--format", format])
        .output()
        .expect("tripline runs");
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        for k in KEYS {
            assert!(!text.contains(k), "the raw value {k} leaked: {text}");
        }
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        )
    });
    (out, v)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn findings(v: &Value) -> Vec<&Value> {
    v["findings"].as_array().expect("findings").iter().collect()
}

/// (path, line, rule) of each finding no mechanism suppressed.
fn unsuppressed(v: &Value) -> Vec<(String, u64, String)> {
    findings(v)
        .into_iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `(path, line, excerpt)` of each `suppression-added` finding, sorted.
fn added(v: &Value) -> Vec<(String, u64, String)> {
    let mut out: Vec<(String, u64, String)> = findings(v)
        .into_iter()
        .filter(|f| f["rule_id"] == "suppression-added")
        .map(|f| {
            assert_eq!(f["kind"], "suppression", "{f:#}");
            assert_eq!(f["severity"], "low", "{f:#}");
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["excerpt"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Validates SARIF files with `../shared/sarif/validate.py --github` when
/// `TRIPLINE_SHARED` is set (`.ci/run` sets it); says so and passes
/// otherwise, as tests/sarif_validate.rs does.
fn validate_for_github(files: &[PathBuf]) {
    let Some(shared) = std::env::var_os("TRIPLINE_SHARED") else {
        println!("TRIPLINE_SHARED is not set: skipping the SARIF validator check");
        return;
    };
    let validator = Path::new(&shared).join("sarif/validate.py");
    let python = std::env::var("TRIPLINE_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(&validator)
        .arg("--github")
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "validate.py --github: {text}");
    assert_eq!(
        text.matches(": VALID (0 errors, 0 warnings)").count(),
        files.len(),
        "{text}"
    );
}

/// Each SARIF result as (path, ruleId, suppression kind, justification).
fn sarif_results(v: &Value) -> Vec<(String, String, String, String)> {
    v["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let s = &r["suppressions"][0];
            (
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                r["ruleId"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap_or("").to_owned(),
                s["justification"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn each_secret_suppression_is_a_suppressed_sarif_result_and_the_exit_status_ignores_it() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let w = |rel: &str, content: &str| {
        let p = tree.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    };
    // The baseline accepts KEY_D in base.env, recorded before the rest.
    w("base.env", &format!("AWS_ACCESS_KEY_ID={KEY_D}\n"));
    let baseline = dir.path().join("baseline.json");
    let out = tripline()
        .current_dir(&tree)
        .args(["baseline", ".", "-o"])
        .arg(&baseline)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    w(
        "inline.env",
        &format!("AWS_ACCESS_KEY_ID={KEY_A} # tripline:allow\n"),
    );
    w("docs/example.env", &format!("AWS_ACCESS_KEY_ID={KEY_B}\n"));
    w("rule.env", &format!("AWS_ACCESS_KEY_ID={KEY_C}\n"));
    w(
        "tripline.toml",
        // The generic rule that would otherwise report rule.env's key
        // (allowlisting one rule never hides what another reports) is off.
        "[rules]\ndisable = [\"generic-secret-config-value\"]\n\n[allowlist]\npaths = [\"docs/**\"]\n\n[rules.allow.aws-access-key-id]\nstopwords = [\"w4mj5\"]\n",
    );
    let args = [
        "secrets",
        ".",
        "--baseline",
        baseline.to_str().unwrap(),
        "-o",
    ];
    let sarif = dir.path().join("out.sarif");
    let out = tripline()
        .current_dir(&tree)
        .args(args)
        .arg(&sarif)
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    // Everything found is suppressed: the run passes.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&sarif).unwrap();
    for k in KEYS {
        assert!(!text.contains(k), "raw value in SARIF: {text}");
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut got = sarif_results(&v);
    got.sort();
    let expect = |path: &str, kind: &str| (path.to_owned(), kind.to_owned());
    let shape: Vec<(String, String)> = got
        .iter()
        .map(|(p, _, k, _)| (p.clone(), k.clone()))
        .collect();
    assert_eq!(
        shape,
        [
            expect("base.env", "external"),
            expect("docs/example.env", "external"),
            expect("inline.env", "inSource"),
            expect("rule.env", "external"),
        ],
        "{text}"
    );
    assert!(got.iter().all(|r| r.1 == "aws-access-key-id"), "{got:?}");
    assert!(got[0].3.contains("baseline") && got[0].3.contains("baseline.json"));
    assert!(
        got[1].3.contains("tripline.toml [allowlist] paths"),
        "{got:?}"
    );
    assert!(
        got[2].3.contains("inline comment `tripline:allow`"),
        "{got:?}"
    );
    assert!(
        got[3]
            .3
            .contains("tripline.toml [rules.allow.aws-access-key-id] stopwords"),
        "{got:?}"
    );
    assert!(
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["suppressions"][0]["status"] == "accepted"),
        "{text}"
    );

    // JSON: the same four, each with `suppressed: {kind, by}`.
    let (out, json) = run_in(
        &tree,
        &["secrets", ".", "--baseline", baseline.to_str().unwrap()],
        "json",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(findings(&json).len(), 4, "{json:#}");
    assert!(unsuppressed(&json).is_empty(), "{json:#}");

    // Text: a count per mechanism; the findings are listed under -v only.
    let out = tripline()
        .current_dir(&tree)
        .args(["secrets", ".", "--baseline", baseline.to_str().unwrap()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("No findings."), "{report}");
    assert!(
        report.contains(
            "4 suppressed findings (1 by inline comment, 2 by allowlist, 1 by baseline); -v lists them."
        ),
        "{report}"
    );
    assert!(!report.contains("inline.env"), "{report}");
    let out = tripline()
        .current_dir(&tree)
        .args([
            "secrets",
            ".",
            "-v",
            "--baseline",
            baseline.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("[suppressed by inline comment `tripline:allow`]"),
        "{report}"
    );
    for k in KEYS {
        assert!(!report.contains(k), "{report}");
    }

    // An unsuppressed secret still fails the run beside them.
    w(
        "new.env",
        &format!("AWS_ACCESS_KEY_ID={}\n", "AKIAM3X7QW2PLZ5RT4VN"),
    );
    let (out, json) = run_in(
        &tree,
        &["secrets", ".", "--baseline", baseline.to_str().unwrap()],
        "json",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        unsuppressed(&json),
        [("new.env".to_owned(), 1, "aws-access-key-id".to_owned())]
    );

    validate_for_github(&[sarif]);
}

#[test]
fn an_ignored_advisory_is_a_suppressed_external_result() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("fixtures/deps/versions/v3/Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let deps = |format: &str| {
        tripline()
            .env("HOME", home.path())
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("CARGO_HOME", home.path().join("cargo"))
            .current_dir(dir.path())
            .args(["deps", ".", "--offline", "--db"])
            .arg(fixture("fixtures/deps/advisory-db"))
            .args(["--format", format])
            .output()
            .unwrap()
    };
    let out = deps("json");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: BTreeSet<String> = findings(&v)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 2, "{v:#}");
    // Ignore every advisory found: the run passes, and each is reported.
    let list: Vec<String> = ids
        .iter()
        .map(|id| format!("{{ id = \"{id}\", reason = \"test\" }}"))
        .collect();
    std::fs::write(
        dir.path().join("tripline.toml"),
        format!("[deps]\ndeny = [\"unmaintained\", \"unsound\", \"notice\", \"yanked\"]\nignore = [{}]\n", list.join(", ")),
    )
    .unwrap();
    let out = deps("sarif");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif_results(&sarif);
    assert_eq!(results.len(), findings(&v).len(), "{sarif:#}");
    for (_, id, kind, why) in &results {
        assert_eq!(kind, "external");
        assert!(
            why.contains(&format!("tripline.toml [deps] ignore of {id} (test)")),
            "{why}"
        );
    }
    let file = dir.path().join("deps.sarif");
    std::fs::write(&file, &out.stdout).unwrap();
    validate_for_github(&[file]);
}

#[test]
fn config_rev_scans_what_the_last_commit_hides_with_its_own_ignore_file() {
    let r = Repo::new();
    r.write("README.md", "demo\n");
    r.write("tripline.toml", "[scan]\nexclude = [\"vendor/\"]\n");
    // A nested ignore file of the base applies under --config-rev too.
    r.write("nested/.triplineignore", "skip.env\n");
    r.write("nested/keep.txt", "nothing here\n");
    r.commit("base");
    r.write("nested/skip.env", &format!("AWS_ACCESS_KEY_ID={KEY_D}\n"));
    r.write(".triplineignore", "*\n");
    r.write("app.env", &format!("AWS_ACCESS_KEY_ID={KEY_A}\n"));
    r.write(
        "tripline.toml",
        &format!(
            "[scan]\nexclude = [\"vendor/\"]\n[allowlist]\nstopwords = [\"{}\"]\n",
            &KEY_B[4..12].to_ascii_lowercase()
        ),
    );
    r.write("vendor/creds.env", &format!("AWS_ACCESS_KEY_ID={KEY_C}\n"));
    r.write("b.env", &format!("AWS_ACCESS_KEY_ID={KEY_B}\n"));
    r.commit("adds a secret and hides it");

    // The pull request's own configuration hides everything.
    let (out, v) = r.run(&["secrets", "."]);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");

    // The base revision's does not: the new secrets are reported, the
    // allowlist the commit added does not apply, and the base's own
    // exclude and nested ignore file still do.
    let (out, v) = r.run(&["secrets", ".", "--config-rev", "HEAD~1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut got = unsuppressed(&v);
    got.sort();
    assert_eq!(
        got,
        [
            ("app.env".to_owned(), 1, "aws-access-key-id".to_owned()),
            ("b.env".to_owned(), 1, "aws-access-key-id".to_owned()),
        ],
        "{v:#}"
    );
    assert_eq!(findings(&v).len(), 2, "{v:#}");

    // Any revision spec git knows names the trusted revision.
    let (out, v2) = r.run(&["secrets", ".", "--config-rev", "main~1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(unsuppressed(&v2), unsuppressed(&v));
}

#[test]
fn config_rev_reads_rule_files_and_the_baseline_from_the_revision() {
    let r = Repo::new();
    r.write("base.txt", &format!("aws id {KEY_D}\n"));
    r.write("tripline.toml", "[rules]\npaths = [\"rules\"]\n");
    r.write("rules/custom.toml", CUSTOM_RULE);
    let out = tripline()
        .current_dir(r.path())
        .args(["baseline", ".", "-o", "tripline-baseline.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    r.commit("base");
    // The change accepts a new secret in the baseline, and adds a rule
    // file that replaces the built-in rule with one that matches nothing.
    r.write("new.txt", &format!("aws id {KEY_A}\n"));
    let out = tripline()
        .current_dir(r.path())
        .args(["baseline", ".", "-o", "tripline-baseline.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    r.write("rules/aws.toml", REPLACING_RULE);
    r.commit("pr");
    let (out, v) = r.run(&["secrets", ".", "--baseline", "tripline-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    let (out, v) = r.run(&[
        "secrets",
        ".",
        "--baseline",
        "tripline-baseline.json",
        "--config-rev",
        "HEAD~1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        unsuppressed(&v),
        [("new.txt".to_owned(), 1, "aws-access-key-id".to_owned())],
        "{v:#}"
    );
    let base = findings(&v)
        .into_iter()
        .find(|f| f["location"]["path"] == "base.txt")
        .expect("base.txt reported");
    assert_eq!(
        base["suppressed"]["by"], "baseline HEAD~1:tripline-baseline.json",
        "{v:#}"
    );
}

#[test]
fn config_rev_errors_name_the_revision() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    let out = tripline()
        .current_dir(r.path())
        .args(["secrets", ".", "--config-rev", "no-such-branch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--config-rev no-such-branch"),
        "{}",
        stderr(&out)
    );
    let plain = tempfile::tempdir().unwrap();
    let out = tripline()
        .current_dir(plain.path())
        .args(["secrets", ".", "--config-rev", "main"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--config-rev main")
            && stderr(&out).contains("not inside a git repository"),
        "{}",
        stderr(&out)
    );
}

/// A user rule of its own id.
const CUSTOM_RULE: &str = r#"
[[rule]]
id = "custom-zzqy"
title = "Custom"
description = "d"
severity = "low"
confidence = "low"
keywords = ["zzqy_"]
regex = '''zzqy_([a-z]{12})'''
examples = ["zzqy_abcdefghijkl"]
[rule.allow]
paths = ["rules/**"]
"#;

/// A user rule replacing the built-in `aws-access-key-id`.
const REPLACING_RULE: &str = r#"
[[rule]]
id = "aws-access-key-id"
title = "Replaced"
description = "d"
severity = "low"
confidence = "low"
keywords = ["zzqx_"]
regex = '''zzqx_([a-z]{12})'''
examples = ["zzqx_abcdefghijkl"]
[rule.allow]
paths = ["rules/**"]
"#;

/// The base of the suppression-added tests: a config, an ignore file, a
/// baseline with one entry, a source file.
fn base_repo() -> Repo {
    let r = Repo::new();
    r.write(
        "tripline.toml",
        "[scan]\nexclude = [\"vendor/\"]\nmax_file_size = 2000000\n\n[rules]\ndisable = []\n\n[allowlist]\npaths = [\"docs/**\"]\n\n[deps]\nignore = [{ id = \"RUSTSEC-2099-0001\", until = \"2999-01-01\" }]\n",
    );
    r.write(".triplineignore", "build/\n");
    r.write("src/app.py", "import os\n\nTOKEN = os.environ['TOKEN']\n");
    r.write("tripline-baseline.json", &baseline_file(&[BASE_ENTRY]));
    r.commit("base");
    r
}

const BASE_ENTRY: &str =
    r#"{"path":"old.env","rule":"aws-access-key-id","kind":"secret","secret_hash":"00aa"}"#;
const NEW_ENTRY: &str =
    r#"{"path":"new.env","rule":"aws-access-key-id","kind":"secret","secret_hash":"11bb"}"#;

fn baseline_file(entries: &[&str]) -> String {
    let body: Vec<String> = entries.iter().map(|e| format!("    {e}")).collect();
    format!(
        "{{\n  \"tripline_baseline\": 1,\n  \"entries\": [\n{}\n  ]\n}}\n",
        body.join(",\n")
    )
}

/// Writes a change that adds one suppression of each kind.
fn widen(r: &Repo) {
    r.write(
        "tripline.toml",
        "[scan]\nexclude = [\"vendor/\", \"secrets/\"]\nmax_file_size = 1000\n\n[rules]\ndisable = [\"github-pat-classic\"]\npaths = [\"rules\"]\n\n[allowlist]\npaths = [\"docs/**\", \"src/**\"]\n\n[rules.allow.aws-access-key-id]\nstopwords = [\"example\"]\n\n[deps]\nignore = [{ id = \"RUSTSEC-2099-0001\", until = \"2999-01-01\" }, { id = \"RUSTSEC-2099-0002\" }]\n",
    );
    r.write(".triplineignore", "build/\n*.env\n");
    r.write("rules/aws.toml", REPLACING_RULE);
    r.write(
        "src/app.py",
        "import os\n\nTOKEN = os.environ['TOKEN']\nX = 1  # tripline:allow\nY = 2  # pragma: allowlist secret\n",
    );
    r.write(
        "tripline-baseline.json",
        &baseline_file(&[NEW_ENTRY, BASE_ENTRY]),
    );
}

/// What [`widen`] adds, as `(path, line, excerpt)`.
fn widened() -> Vec<(String, u64, String)> {
    let t = |p: &str, l: u64, e: &str| (p.to_owned(), l, e.to_owned());
    let mut v = vec![
        t(".triplineignore", 2, ".triplineignore line `*.env`"),
        t(
            "rules/aws.toml",
            3,
            "rule file rules/aws.toml replaces built-in rule `aws-access-key-id`",
        ),
        t("src/app.py", 4, "inline `tripline:allow` comment"),
        t("src/app.py", 5, "inline `pragma: allowlist secret` comment"),
        t(
            "tripline-baseline.json",
            4,
            "baseline entry: secret aws-access-key-id in new.env (hash 11bb)",
        ),
        t(
            "tripline.toml",
            2,
            "tripline.toml [scan] exclude `secrets/`",
        ),
        t(
            "tripline.toml",
            3,
            "tripline.toml [scan] max_file_size lowered to 1000",
        ),
        t(
            "tripline.toml",
            6,
            "tripline.toml [rules] disable `github-pat-classic`",
        ),
        t("tripline.toml", 7, "tripline.toml [rules] paths `rules`"),
        t(
            "tripline.toml",
            10,
            "tripline.toml [allowlist] paths `src/**`",
        ),
        t(
            "tripline.toml",
            13,
            "tripline.toml [rules.allow.aws-access-key-id] stopwords `e******`",
        ),
        t(
            "tripline.toml",
            16,
            "tripline.toml [deps] ignore `RUSTSEC-2099-0002`",
        ),
    ];
    v.sort();
    v
}

/// Writes a change that only narrows suppressions.
fn narrow(r: &Repo) {
    r.write(
        "tripline.toml",
        "[scan]\nexclude = []\nmax_file_size = 3000000\n\n[rules]\ndisable = []\n\n[allowlist]\npaths = []\n\n[deps]\nignore = [{ id = \"RUSTSEC-2099-0001\", until = \"2998-01-01\" }]\n",
    );
    r.write(".triplineignore", "build/\n!build/keep.txt\n");
    r.write(
        "src/app.py",
        "import os\n\nTOKEN = os.environ['TOKEN']\nZ = 3\n",
    );
    r.write("tripline-baseline.json", &baseline_file(&[]));
}

#[test]
fn git_range_reports_each_added_suppression_at_its_line() {
    let r = base_repo();
    widen(&r);
    r.commit("widen");
    let (out, v) = r.run(&["secrets", "--git", "HEAD~1..HEAD"]);
    assert_eq!(added(&v), widened(), "{v:#}");
    // Informational: the run passes unless suppressions are denied.
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    let (out, _) = r.run(&["secrets", "--git", "HEAD~1..HEAD", "--deny", "suppression"]);
    assert_eq!(out.status.code(), Some(1));

    // SARIF: one low result per addition, valid for GitHub.
    let (_, sarif) = run_in(r.path(), &["secrets", "--git", "HEAD~1..HEAD"], "sarif");
    // (Besides them, the replacing rule's own example in its file, which
    // the rule's `allow` suppresses.)
    let all = sarif["runs"][0]["results"].as_array().unwrap();
    let results: Vec<&Value> = all
        .iter()
        .filter(|r| r["ruleId"] == "suppression-added")
        .collect();
    assert_eq!(results.len(), widened().len(), "{sarif:#}");
    assert!(
        results
            .iter()
            .all(|r| r["level"] == "note" && r.get("suppressions").is_none()),
        "{sarif:#}"
    );
    assert!(
        all.iter()
            .all(|r| r["ruleId"] == "suppression-added" || r.get("suppressions").is_some()),
        "{sarif:#}"
    );
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("range.sarif");
    std::fs::write(&file, sarif.to_string()).unwrap();
    validate_for_github(&[file]);

    // A change that only narrows reports nothing.
    narrow(&r);
    r.commit("narrow");
    let (out, v) = r.run(&["secrets", "--git", "HEAD~1..HEAD", "--deny", "suppression"]);
    assert_eq!(added(&v), [], "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{v:#}");
}

#[test]
fn staged_reports_each_added_suppression_and_nothing_for_narrowing() {
    let r = base_repo();
    widen(&r);
    r.git(&["add", "-A"]);
    let (out, v) = r.run(&["secrets", "--staged"]);
    assert_eq!(added(&v), widened(), "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    let (out, _) = r.run(&["secrets", "--staged", "--deny", "suppression"]);
    assert_eq!(out.status.code(), Some(1));

    r.git(&["reset", "-q", "--hard"]);
    narrow(&r);
    r.git(&["add", "-A"]);
    let (out, v) = r.run(&["secrets", "--staged", "--deny", "suppression"]);
    assert_eq!(added(&v), [], "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{v:#}");
}
