//! Command-line conventions (issue 21), run on the binary: standard input
//! as a file, options only where they apply, the database commands' own
//! options, report files that honour the umask, and the partial report of
//! a `scan` whose advisory database is out of reach.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::assert_no_secret;

/// The AWS key id planted in `fixtures/leaky/.env` (line 3, column 19).
const AWS_KEY: &str = "AKIAQYLPMN5HHHFPZAM2";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The binary, with no database or cache of the user's in reach: `home`
/// stands in for the home and cache folders.
fn tripline(home: &Path) -> Command {
    let mut c = Command::cargo_bin("tripline").expect("binary builds");
    c.env_remove("NO_COLOR")
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("CARGO_HOME", home.join("cargo"))
        .timeout(Duration::from_secs(60));
    c
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (path, line, rule) of every finding.
fn found(v: &Value) -> Vec<(String, u64, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `tripline ARGS` in `cwd` with `input` on standard input.
fn with_stdin(cwd: &Path, args: &[&str], input: &[u8]) -> Output {
    let home = tempfile::tempdir().unwrap();
    tripline(home.path())
        .current_dir(cwd)
        .args(args)
        .write_stdin(input.to_vec())
        .output()
        .unwrap()
}

#[test]
fn stdin_is_scanned_as_one_file_named_stdin_or_stdin_name() {
    let env = std::fs::read(fixture("leaky/.env")).unwrap();
    let cwd = tempfile::tempdir().unwrap();
    for command in ["secrets", "scan"] {
        // No database anywhere, and none needed: `scan -` is secrets only.
        let out = with_stdin(cwd.path(), &[command, "-", "--format", "json"], &env);
        assert_eq!(out.status.code(), Some(1), "{command}: {}", stderr(&out));
        let v = json(&out);
        assert_eq!(
            found(&v),
            [("<stdin>".into(), 3, "aws-access-key-id".into())],
            "{command}"
        );
        let f = &v["findings"][0];
        assert_eq!(f["location"]["start_column"], 19);
        assert_eq!(f["excerpt"], "AKIA****************");
        assert!(f["location"]["line_hash"].is_string());
        assert_eq!(v["scan"]["files_scanned"], 1);
        assert_eq!(v["scan"]["bytes_scanned"], env.len());
        assert_eq!(v["scan"]["lockfiles_audited"], 0);
        assert_no_secret(&out.stdout, "JSON of stdin");
        assert_no_secret(&out.stderr, "stderr");
    }

    // Text, under the name given, as the walker would name the file.
    let out = with_stdin(
        cwd.path(),
        &["secrets", "-", "--stdin-name", "./deploy/app.env"],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("deploy/app.env\n"), "{text}");
    assert!(text.contains("3:19") && text.contains("AKIA****"), "{text}");
    assert_no_secret(&out.stdout, "text of stdin");

    // Only --show-secrets reveals it.
    let out = with_stdin(cwd.path(), &["secrets", "-", "--show-secrets"], &env);
    assert!(String::from_utf8_lossy(&out.stdout).contains(AWS_KEY));

    // UTF-16 with a byte-order mark, as a Windows tool writes it.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            format!("x = 1\r\naws_id = {AWS_KEY}\r\n")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let out = with_stdin(cwd.path(), &["secrets", "-", "--format", "json"], &utf16);
    assert_eq!(
        found(&json(&out)),
        [("<stdin>".into(), 2, "aws-access-key-id".into())]
    );
}

#[test]
fn stdin_name_is_what_path_rules_and_allowlists_see() {
    let cwd = tempfile::tempdir().unwrap();
    // A Rails master key is known by its file name only.
    let master_key = b"9f2c4a7e1b8d3f60a5c2e9b7d4f1a086\n";
    let report = |args: &[&str], input: &[u8]| {
        let mut all = vec!["secrets", "-", "--format", "json"];
        all.extend_from_slice(args);
        json(&with_stdin(cwd.path(), &all, input))
    };
    let named = |args: &[&str], input: &[u8]| found(&report(args, input));
    assert_eq!(
        named(&["--stdin-name", "config/master.key"], master_key),
        [("config/master.key".into(), 1, "rails-master-key".into())]
    );
    assert_eq!(named(&[], master_key), []);
    assert_eq!(named(&["--stdin-name", "notes.txt"], master_key), []);

    // The config at the current folder applies, its path allowlist to the name.
    std::fs::write(
        cwd.path().join("tripline.toml"),
        "[allowlist]\npaths = [\"vendor/**\"]\n",
    )
    .unwrap();
    let env = format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n");
    // Allowlisted: reported only as suppressed by that allowlist.
    let v = report(&["--stdin-name", "vendor/lib/.env"], env.as_bytes());
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{v:#}");
    for f in findings {
        assert_eq!(f["location"]["path"], "vendor/lib/.env", "{v:#}");
        assert_eq!(f["suppressed"]["kind"], "external", "{v:#}");
        assert!(
            f["suppressed"]["by"]
                .as_str()
                .unwrap()
                .ends_with("tripline.toml [allowlist] paths"),
            "{v:#}"
        );
    }
    assert_eq!(
        named(&["--stdin-name", "app/.env"], env.as_bytes()),
        [("app/.env".into(), 1, "aws-access-key-id".into())]
    );
}

#[test]
fn stdin_binary_or_too_large_is_refused_and_empty_is_clean() {
    let cwd = tempfile::tempdir().unwrap();
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0".to_vec();
    elf.extend_from_slice(format!("{AWS_KEY}\n").as_bytes());
    let out = with_stdin(cwd.path(), &["secrets", "-"], &elf);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("standard input is binary"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    let out = with_stdin(
        cwd.path(),
        &["secrets", "-", "--max-file-size", "10"],
        b"0123456789abc",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--max-file-size"), "{}", stderr(&out));

    let out = with_stdin(cwd.path(), &["secrets", "-", "--format", "json"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(found(&v), []);
    assert_eq!(v["scan"]["files_scanned"], 1);
    assert!(v["errors"].as_array().unwrap().is_empty());

    // Closed rather than empty: the same clean scan.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("tripline"))
        .current_dir(cwd.path())
        .args(["secrets", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No findings."));

    // The dependency audit reads a folder's lockfiles, not a stream.
    let out = with_stdin(cwd.path(), &["deps", "-"], b"[[package]]\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("standard input"), "{}", stderr(&out));
    let out = with_stdin(cwd.path(), &["secrets", "-", "--staged"], b"");
    assert_eq!(out.status.code(), Some(2));
    // A name for standard input without reading it is a mistake, said.
    let out = with_stdin(cwd.path(), &["secrets", ".", "--stdin-name", "x.env"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--stdin-name"), "{}", stderr(&out));
}

#[test]
fn db_info_takes_db_and_prints_text_or_json() {
    let home = tempfile::tempdir().unwrap();
    let db = fixture("deps/advisory-db");
    let out = tripline(home.path())
        .args(["db", "info", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("path:       {}\n", db.display())),
        "{text}"
    );
    assert!(text.contains("commit:     (not a git checkout)"), "{text}");
    assert!(text.contains("advisories: 8\n"), "{text}");

    // Options before the subcommand, as before.
    for args in [
        &["db", "info", "--format", "json", "--db"][..],
        &["--format", "json", "db", "info", "--db"],
        &["--format", "json", "--db"],
    ] {
        let mut c = tripline(home.path());
        c.args(args).arg(&db);
        if args.len() == 3 {
            c.args(["db", "info"]);
        }
        let out = c.env("TRIPLINE_TODAY", "2024-05-01").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["path"], db.display().to_string());
        assert_eq!(v["advisories"], 8);
        assert_eq!(v["commit"], Value::Null);
        assert_eq!(v["date"], "2024-04-01");
        assert_eq!(v["judged_by"], "newest advisory");
        assert_eq!(v["age_days"], 30);
        assert_eq!(v["max_age_days"], 90);
        assert_eq!(v["stale"], false);
    }
    let out = tripline(home.path())
        .args([
            "db",
            "info",
            "--format",
            "json",
            "--max-db-age",
            "7",
            "--db",
        ])
        .arg(&db)
        .env("TRIPLINE_TODAY", "2024-05-01")
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(
        (v["max_age_days"].as_u64(), v["stale"].as_bool()),
        (Some(7), Some(true))
    );

    // No database there: a clear error, status 2.
    let empty = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .args(["db", "info", "--db"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no advisory database at"),
        "{}",
        stderr(&out)
    );
    // A fetch that --offline forbids is refused before any network.
    let out = tripline(home.path())
        .args(["db", "fetch", "--offline", "--db"])
        .arg(home.path().join("db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--offline"), "{}", stderr(&out));
    assert!(!home.path().join("db").exists());
}

/// The option lines of `tripline ARGS --help`.
fn help(args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

fn options(help: &str) -> Vec<String> {
    // The top-level help ends with prose that may begin a line with `--`.
    let listing = help.split("\nExit status:").next().unwrap_or(help);
    listing
        .lines()
        .filter_map(|l| {
            // `  -q, --quiet  ...` or `      --config <FILE>  ...`
            let l = l.trim_start();
            if !l.starts_with('-') {
                return None;
            }
            let long = &l[l.find("--")? + 2..];
            Some(format!("--{}", long.split([' ', '=']).next()?))
        })
        .collect()
}

#[test]
fn each_subcommand_lists_only_the_options_that_apply() {
    const SCAN_ONLY: &[&str] = &[
        "--format",
        "--output",
        "--fail-on",
        "--threads",
        "--max-file-size",
        "--show-secrets",
        "--sarif-category",
        "--baseline",
        "--rules",
        "--stdin-name",
        "--follow",
        "--staged",
        "--git",
    ];
    const GLOBAL: &[&str] = &["--config", "--no-color", "--quiet", "--verbose"];
    let info = help(&["db", "info"]);
    let listed = options(&info);
    for o in SCAN_ONLY.iter().filter(|o| **o != "--format") {
        assert!(
            !listed.contains(&o.to_string()),
            "db info lists {o}:\n{info}"
        );
    }
    assert!(!info.contains("sarif"), "db info offers sarif:\n{info}");
    for o in GLOBAL
        .iter()
        .chain(&["--db", "--offline", "--max-db-age", "--format"])
    {
        assert!(
            listed.contains(&o.to_string()),
            "db info lacks {o}:\n{info}"
        );
    }
    let fetch = options(&help(&["db", "fetch"]));
    for o in SCAN_ONLY {
        assert!(!fetch.contains(&o.to_string()), "db fetch lists {o}");
    }
    assert!(fetch.contains(&"--db".to_string()));

    let top = options(&help(&[]));
    let mut sorted = top.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "--config",
            "--help",
            "--no-color",
            "--quiet",
            "--verbose",
            "--version"
        ],
        "tripline --help lists the global options only"
    );

    let secrets = options(&help(&["secrets"]));
    for o in ["--db", "--offline", "--yanked", "--metadata", "--ignore"] {
        assert!(!secrets.contains(&o.to_string()), "secrets lists {o}");
    }
    // `--deny` is a report option: `--deny suppression` fails a `secrets
    // --staged` or `--git A..B` run on a change that adds a suppression.
    for o in [
        "--show-secrets",
        "--stdin-name",
        "--fail-on",
        "--rules",
        "--deny",
    ] {
        assert!(secrets.contains(&o.to_string()), "secrets lacks {o}");
    }
    let deps = options(&help(&["deps"]));
    for o in [
        "--show-secrets",
        "--stdin-name",
        "--rules",
        "--disable-rule",
    ] {
        assert!(!deps.contains(&o.to_string()), "deps lists {o}");
    }
    for o in ["--db", "--offline", "--fail-on", "--format", "--threads"] {
        assert!(deps.contains(&o.to_string()), "deps lacks {o}");
    }
    let scan = options(&help(&["scan"]));
    for o in SCAN_ONLY.iter().chain(&["--db", "--yanked"]) {
        assert!(scan.contains(&o.to_string()), "scan lacks {o}");
    }
    let rules_test = options(&help(&["rules", "test"]));
    assert!(!rules_test.contains(&"--format".to_string()));
}

#[test]
fn an_option_where_it_does_not_apply_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["db", "info", "--threads", "2"][..],
        &["--threads", "2", "db", "info"],
        &["--show-secrets", "deps", "."],
        &["deps", ".", "--show-secrets"],
        &["baseline", ".", "--show-secrets"],
        &["secrets", ".", "--db", "x"],
        &["--fail-on", "high", "rules", "list"],
    ] {
        let out = tripline(home.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = tripline(home.path())
        .args(["--threads", "2", "db", "info"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("--threads does not apply to `tripline db info`"),
        "{}",
        stderr(&out)
    );
    // Where they apply, before and after the subcommand alike.
    let (_, before) = scan_json(&["--format", "json", "--fail-on", "never", "secrets"]);
    let (_, after) = scan_json(&["secrets", "--format", "json", "--fail-on", "never"]);
    assert_eq!(found(&before), found(&after));
    assert_eq!(found(&before).len(), 4);
}

fn scan_json(args: &[&str]) -> (Output, Value) {
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .args(args)
        .arg(fixture("leaky"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    (out, v)
}

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Writes a report to `report` under `umask`, through a shell that
    /// sets it, and returns the report's mode.
    fn report_mode(umask: &str, report: &Path) -> u32 {
        let bin = assert_cmd::cargo::cargo_bin("tripline");
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(bin)
            .args(["secrets", "--format", "json", "-o"])
            .arg(report)
            .arg(fixture("clean"))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0));
        let v: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
        assert_eq!(v["findings"], Value::Array(Vec::new()));
        std::fs::metadata(report).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_report_file_gets_the_mode_of_a_new_file_or_keeps_the_replaced_one_s() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new-022.json");
        assert_eq!(report_mode("022", &new), 0o644);
        let private = dir.path().join("new-077.json");
        assert_eq!(report_mode("077", &private), 0o600);
        let kept = dir.path().join("kept.json");
        std::fs::write(&kept, "old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(report_mode("077", &kept), 0o640);
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o604)).unwrap();
        assert_eq!(report_mode("022", &kept), 0o604);
        // Still whole or not at all: nothing but the three reports is left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }
}

/// A tree with a planted secret and a lockfile, whose config points the
/// advisory database at a port nothing listens on.
fn tree_without_reachable_db() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    let t = tree.path();
    std::fs::write(t.join(".env"), format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")).unwrap();
    std::fs::copy(fixture("deps/versions/v3/Cargo.lock"), t.join("Cargo.lock")).unwrap();
    let mut config = std::fs::File::create(t.join("tripline.toml")).unwrap();
    writeln!(
        config,
        "[deps]\ndb_url = \"http://127.0.0.1:9/advisory-db\""
    )
    .unwrap();
    tree
}

#[test]
fn scan_without_its_database_reports_the_secrets_half_and_exits_two() {
    let tree = tree_without_reachable_db();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        tripline(home.path())
            .args(args)
            .arg(tree.path())
            .output()
            .unwrap()
    };

    let out = run(&["scan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(found(&v), [(".env".into(), 1, "aws-access-key-id".into())]);
    assert_eq!(v["partial"], true);
    assert_eq!(v["scan"]["lockfiles_audited"], 0);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the dependency audit did not run: ")
            && message.contains("http://127.0.0.1:9/advisory-db"),
        "{message}"
    );
    assert!(stderr(&out).contains("the dependency audit did not run"));
    assert_no_secret(&out.stdout, "partial JSON");

    let out = run(&["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(".env\n") && text.contains("AKIA****"),
        "{text}"
    );
    assert!(
        text.contains("Partial report: the dependency audit did not run: "),
        "{text}"
    );

    let sarif_dir = tempfile::tempdir().unwrap();
    let sarif = sarif_dir.path().join("partial.sarif");
    let out = run(&["scan", "--format", "sarif", "-o", sarif.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let run0 = &v["runs"][0];
    assert_eq!(run0["results"].as_array().unwrap().len(), 1);
    let invocation = &run0["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["level"] == "error"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("the dependency audit did not run")),
        "{notes:?}"
    );
    validate_sarif(&sarif);

    // `deps` alone, and a baseline that would miss every dependency, fail
    // early with the database's own message and no report.
    for command in ["deps", "baseline"] {
        let out = run(&[
            command,
            "-o",
            sarif_dir.path().join(command).to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = stderr(&out);
        assert!(
            err.contains("tripline: error: cannot fetch the advisory database from http://127.0.0.1:9/advisory-db"),
            "{command}: {err}"
        );
        assert!(!sarif_dir.path().join(command).exists(), "{command}");
    }
    // An unusable --db is the same partial report.
    let not_a_db = tempfile::tempdir().unwrap();
    std::fs::write(not_a_db.path().join("README"), "not a database").unwrap();
    let out = run(&[
        "scan",
        "--format",
        "json",
        "--db",
        not_a_db.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(found(&v).len(), 1);
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("is not a RustSec advisory database"));
}

/// Runs `../shared/sarif/validate.py --github` on `sarif` when
/// `TRIPLINE_SHARED` names the shared folder (`.ci/run` sets it).
fn validate_sarif(sarif: &Path) {
    let Some(shared) = std::env::var_os("TRIPLINE_SHARED") else {
        println!("TRIPLINE_SHARED is not set: skipping the SARIF validator (.ci/run sets it)");
        return;
    };
    let validator = Path::new(&shared).join("sarif/validate.py");
    let python = std::env::var("TRIPLINE_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(&validator)
        .arg("--github")
        .arg(sarif)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(": VALID (0 errors, 0 warnings)"),
        "validate.py --github: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
