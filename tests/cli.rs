//! End-to-end tests of the foundation: the binary run on `fixtures/`, each
//! report format, exit statuses, the walker's rules, and that no planted
//! secret ever reaches the output unmasked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::assert_no_secret;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn tripline() -> Command {
    let mut c = Command::cargo_bin("tripline").expect("binary builds");
    c.env_remove("NO_COLOR").timeout(Duration::from_secs(60));
    c
}

fn json_scan(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let out = tripline()
        .args(["secrets", "--format", "json"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, v)
}

fn locations(v: &Value) -> BTreeSet<(String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rule_at(v: &Value, path: &str, line: u64) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] == path && f["location"]["start_line"] == line)
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn json_report_finds_the_planted_secrets_and_nothing_ignored() {
    let (out, v) = json_scan(&fixture("leaky"), &[]);
    assert_eq!(out.status.code(), Some(1), "findings must fail the run");
    let expected: BTreeSet<(String, u64)> = [
        (".env", 3),
        ("config/deploy.yml", 5),
        ("keys/id_ed25519", 1),
        ("keys/server.pem", 1),
    ]
    .iter()
    .map(|(p, l)| (p.to_string(), *l))
    .collect();
    assert_eq!(locations(&v), expected);
    assert!(rule_at(&v, ".env", 3).iter().any(|r| r.starts_with("aws")));
    assert!(rule_at(&v, "config/deploy.yml", 5)
        .iter()
        .any(|r| r.starts_with("github")));
    assert!(rule_at(&v, "keys/id_ed25519", 1)
        .iter()
        .any(|r| r.contains("private-key")));

    let aws = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["path"] == ".env")
        .unwrap();
    // `AWS_ACCESS_KEY_ID=` is 18 characters: the key starts in column 19.
    assert_eq!(aws["location"]["start_column"], 19);
    assert_eq!(aws["location"]["end_column"], 19 + 20);
    assert_eq!(aws["excerpt"], "AKIA****************");
    assert_eq!(aws["kind"], "secret");
    assert_eq!(aws["fingerprint"].as_str().unwrap().len(), 32);
    assert!(aws["location"]["line_hash"]
        .as_str()
        .unwrap()
        .ends_with(":1"));

    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "tripline");
    // bin/blob.bin is binary: skipped and counted.
    assert!(v["scan"]["files_skipped"].as_u64().unwrap() >= 1);
    assert!(v["scan"]["files_scanned"].as_u64().unwrap() >= 6);
    assert!(v["scan"]["bytes_scanned"].as_u64().unwrap() > 0);
    assert!(v["errors"].as_array().unwrap().is_empty());
    assert_no_secret(&out.stdout, "JSON");
    assert_no_secret(&out.stderr, "stderr");
}

/// One thread walks the tree on the calling thread, without the parallel
/// walker: the same ignore rules, the same files read, skipped and found.
#[test]
fn one_thread_walks_the_same_tree_as_four() {
    let summary = |threads: &str| {
        let (out, v) = json_scan(&fixture("leaky"), &["--threads", threads]);
        assert_eq!(out.status.code(), Some(1));
        let scan = &v["scan"];
        let counts =
            ["files_scanned", "files_skipped", "bytes_scanned"].map(|k| scan[k].as_u64().unwrap());
        (locations(&v), counts)
    };
    let one = summary("1");
    assert!(one.0.contains(&(".env".to_string(), 3)), "{one:?}");
    assert!(one.1[1] >= 1, "bin/blob.bin is skipped: {one:?}");
    assert_eq!(one, summary("4"));
}

#[test]
fn text_report_groups_by_file_and_masks() {
    let out = tripline()
        .args(["secrets", "-v"])
        .arg(fixture("leaky"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!text.contains('\x1b'), "no colour into a pipe");
    let env_at = text.find(".env\n").expect("a .env group");
    let yml_at = text
        .find("config/deploy.yml\n")
        .expect("a deploy.yml group");
    assert!(env_at < yml_at, "files listed in order");
    assert!(text.contains("3:19"), "line:col of the AWS key\n{text}");
    assert!(text.contains("AKIA****"));
    assert!(text.contains("findings ("), "a summary line\n{text}");
    assert!(text.contains("Scanned "));
    assert_no_secret(&out.stdout, "text");
    assert_no_secret(&out.stderr, "-v log");
}

#[test]
fn sarif_report_is_one_run_with_fingerprints_and_no_secret() {
    let out = tripline()
        .args([
            "secrets",
            "--format",
            "sarif",
            "--sarif-category",
            "secrets",
        ])
        .arg(fixture("leaky"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    assert_eq!(run["automationDetails"]["id"], "secrets/");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let fp = &r["partialFingerprints"];
        assert!(fp["primaryLocationLineHash"].is_string());
        assert!(fp["tripline/v1"].is_string());
        let region = &r["locations"][0]["physicalLocation"]["region"];
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[k].as_u64().unwrap() >= 1, "{k} in {r}");
        }
    }
    assert_no_secret(&out.stdout, "SARIF");
}

#[test]
fn show_secrets_reveals_values_only_when_asked() {
    for format in ["text", "json", "sarif"] {
        let out = tripline()
            .args(["secrets", "--show-secrets", "--format", format])
            .arg(fixture("leaky"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("AKIAQYLPMN5HHHFPZAM2"),
            "{format} with --show-secrets shows the key"
        );
    }
}

#[test]
fn fingerprint_survives_the_secret_moving_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.env"), "AWS_ID=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
    let (_, before) = json_scan(dir.path(), &[]);
    std::fs::write(
        dir.path().join("a.env"),
        "# moved\n\n\nAWS_ID=AKIAQYLPMN5HHHFPZAM2\n",
    )
    .unwrap();
    let (_, after) = json_scan(dir.path(), &[]);
    let fp = |v: &Value| {
        v["findings"][0]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(before["findings"][0]["location"]["start_line"], 1);
    assert_eq!(after["findings"][0]["location"]["start_line"], 4);
    assert_eq!(fp(&before), fp(&after));
}

#[test]
fn exit_status_zero_on_a_clean_tree() {
    tripline()
        .args(["secrets"])
        .arg(fixture("clean"))
        .assert()
        .code(0);
}

#[test]
fn fail_on_raises_the_bar() {
    // The planted findings are high or critical at most: `never` always passes.
    tripline()
        .args(["secrets", "--fail-on", "never"])
        .arg(fixture("leaky"))
        .assert()
        .code(0);
    let (_, v) = json_scan(&fixture("leaky"), &[]);
    let has_critical = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "critical");
    let code = tripline()
        .args(["secrets", "--fail-on", "critical"])
        .arg(fixture("leaky"))
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(if has_critical { 1 } else { 0 }));
}

#[test]
fn exit_status_two_on_usage_and_runtime_errors() {
    tripline().args(["scan", "--no-such-flag"]).assert().code(2);
    tripline()
        .args(["secrets", "--config", "/nonexistent/tripline.toml"])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/tripline.toml"));

    let dir = tempfile::tempdir().unwrap();
    let bad_config = dir.path().join("tripline.toml");
    std::fs::write(&bad_config, "[rules]\ndisabel = []\n").unwrap();
    tripline()
        .args(["secrets", "--config"])
        .arg(&bad_config)
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("disabel"));

    let bad_rules = dir.path().join("bad.toml");
    std::fs::write(
        &bad_rules,
        "[[rule]]\nid = \"broken\"\ntitle = \"t\"\ndescription = \"d\"\nseverity = \"high\"\nconfidence = \"high\"\nkeywords = [\"x\"]\nregex = '''x(['''\nexamples = [\"x\"]\nnegative_examples = [\"y\"]\nreferences = []\n",
    )
    .unwrap();
    tripline()
        .args(["secrets", "--rules"])
        .arg(&bad_rules)
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("broken"));

    tripline()
        .args(["secrets", "/nonexistent/tree"])
        .assert()
        .code(2);
}

#[test]
fn output_file_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    tripline()
        .args(["secrets", "--format", "json", "-o"])
        .arg(&out)
        .arg(fixture("leaky"))
        .assert()
        .code(1)
        .stdout("");
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 4);
    assert_no_secret(&std::fs::read(&out).unwrap(), "output file");
    // Nothing but the report is left in the folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn max_file_size_skips_and_counts() {
    let (_, v) = json_scan(&fixture("leaky"), &["--max-file-size", "100"]);
    // Only .env (109 bytes) and the keys exceed 100 bytes among the files
    // with findings; deploy.yml is larger too, so nothing is found.
    let found = locations(&v);
    assert!(found.iter().all(|(p, _)| {
        let len = std::fs::metadata(fixture("leaky").join(p)).unwrap().len();
        len <= 100
    }));
    assert!(v["scan"]["files_skipped"].as_u64().unwrap() >= 4);
}

#[cfg(unix)]
mod unix {
    use super::*;

    #[test]
    fn fifo_does_not_hang_and_symlink_loop_terminates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "AWS_ID=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
        let fifo = dir.path().join("pipe");
        let st = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
        std::os::unix::fs::symlink(&fifo, dir.path().join("sub/to-pipe")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        for follow in [false, true] {
            let mut cmd = tripline();
            cmd.args(["secrets", "--format", "json"]).arg(dir.path());
            if follow {
                cmd.arg("--follow");
            }
            let out = cmd.timeout(Duration::from_secs(20)).output().unwrap();
            assert_eq!(out.status.code(), Some(1), "follow={follow}");
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(locations(&v).len(), 1, "follow={follow}");
            assert!(v["scan"]["files_skipped"].as_u64().unwrap() >= 1);
        }
    }

    #[test]
    fn git_directory_is_never_entered_but_hidden_files_are() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
        std::fs::write(
            dir.path().join(".git/config"),
            "token = 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\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join(".docker")).unwrap();
        std::fs::write(
            dir.path().join(".docker/notes"),
            "AWS_ID=AKIAQYLPMN5HHHFPZAM2\n",
        )
        .unwrap();
        let (_, v) = json_scan(dir.path(), &[]);
        let found = locations(&v);
        assert_eq!(found, BTreeSet::from([(".docker/notes".to_string(), 1u64)]));
    }

    /// Runs the binary as an unprivileged user when the tests run as root
    /// (root reads files whatever their mode), so a denied file is denied.
    fn unprivileged(dir: &Path) -> Command {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        if !root {
            return tripline();
        }
        let mut p = dir.to_path_buf();
        while let Some(parent) = p.parent() {
            if p.starts_with(std::env::temp_dir()) && p != std::env::temp_dir() {
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755));
            }
            p = parent.to_path_buf();
        }
        let bin = assert_cmd::cargo::cargo_bin("tripline");
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin)
            .timeout(Duration::from_secs(60));
        c
    }

    #[test]
    fn unreadable_file_is_a_warning_and_the_scan_completes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "AWS_ID=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
        let locked = dir.path().join("locked.env");
        std::fs::write(&locked, "AWS_ID=AKIAVZ3HRB6QK7XTCW4N\n").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let locked_dir = dir.path().join("private");
        std::fs::create_dir(&locked_dir).unwrap();
        std::fs::write(locked_dir.join("b.env"), "x\n").unwrap();
        std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o000)).unwrap();

        let out = unprivileged(dir.path())
            .args(["secrets", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "exit reflects findings only: {stderr}"
        );
        assert!(stderr.contains("locked.env"), "{stderr}");
        assert!(stderr.contains("permission denied"), "{stderr}");
        assert!(stderr.contains("private"), "{stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(locations(&v).len(), 1);
        assert_eq!(v["errors"].as_array().unwrap().len(), 2);
        assert!(!stderr.contains("AKIAVZ3HRB6QK7XTCW4N"));
        std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn full_disk_is_a_clear_error_with_status_two() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    tripline()
        .args(["secrets", "-o", "/dev/full"])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/dev/full"));
}

#[test]
fn unwritable_output_path_is_a_clear_error() {
    tripline()
        .args(["secrets", "-o", "/nonexistent/dir/out.json"])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/dir/out.json"));
}

/// The rule shown in README's "Writing rules" passes the strict loader, so
/// the documentation cannot drift from the format.
#[test]
fn readme_example_rule_passes_rules_test() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("[[rule]]").expect("README shows a rule");
    let end = start + readme[start..].find("```").expect("the rule block ends");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("readme-rule.toml");
    std::fs::write(&file, &readme[start..end]).unwrap();
    tripline()
        .args(["rules", "test"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("ok:"));
}
