//! End-to-end tests of the Python half of the dependency audit: the binary
//! run on `fixtures/deps/python-tree` (a `Cargo.lock` and one Python
//! lockfile of every format in different folders) against
//! `fixtures/deps/pypi-db` (a made-up OSV database: see its README), and on
//! temporary trees made here. Nothing touches the network.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/deps")
        .join(rel)
}

/// The binary with no database of the user's in reach.
fn tripline(home: &Path) -> Command {
    let mut c = Command::cargo_bin("tripline").expect("binary builds");
    c.env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("CARGO_HOME", home.join("cargo"))
        .env("TRIPLINE_TODAY", "2099-02-01")
        .timeout(Duration::from_secs(60));
    c
}

/// `tripline deps DIR --pypi-db fixtures --offline --format json EXTRA`.
fn run(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("deps")
        .arg(dir)
        .arg("--pypi-db")
        .arg(fixture("pypi-db"))
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

/// (advisory id, package@version, lockfile, first line) of every finding
/// reported (not suppressed).
fn found(json: &Value) -> BTreeSet<(String, String, String, u64)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["excerpt"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn texts(json: &Value, key: &str) -> String {
    json[key].to_string()
}

fn expected_python() -> BTreeSet<(String, String, String, u64)> {
    [
        // A requirement with --hash continuation lines; extras and a marker.
        ("PYSEC-2099-1", "demo-web@1.9.0", "web/requirements.txt", 3),
        ("PYSEC-2099-2", "demo-lib@1.5", "web/requirements.txt", 6),
        // The included file: its pins at its own lines, once; `1.0.post1`
        // is the `1.0-1` of a versions-only record.
        (
            "PYSEC-2099-3",
            "demo-old@1.0.post1",
            "web/requirements/base.txt",
            1,
        ),
        (
            "PYSEC-2099-1",
            "demo-web@1.9.0",
            "web/requirements/base.txt",
            2,
        ),
        // An epoch; a local version below the fix (2.9+local) is affected.
        ("PYSEC-2099-4", "demo-epoch@1!1.5", "api/poetry.lock", 3),
        (
            "PYSEC-2099-7",
            "demo-local@2.9+local",
            "api/poetry.lock",
            20,
        ),
        // A dev release of the fixed version is below it.
        (
            "PYSEC-2099-5",
            "demo-dev@1.0.dev1",
            "worker/Pipfile.lock",
            8,
        ),
        // A pre-release of the fixed version is below it; the fork at
        // 2.0.0 is not affected.
        ("PYSEC-2099-1", "demo-web@2.0.0rc1", "tools/uv.lock", 9),
        // Listed twice (with extras): one finding.
        ("PYSEC-2099-1", "demo-web@1.0", "svc/pdm.lock", 8),
        // Inside last_affected.
        ("PYSEC-2099-2", "demo-lib@1.4", "pkg/pylock.toml", 4),
    ]
    .iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), *d))
    .collect()
}

#[test]
fn every_python_lockfile_and_the_cargo_lock_in_one_run() {
    let (out, json) = run(
        &fixture("python-tree"),
        &["--db", fixture("advisory-db").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", texts(&json, "errors"));
    let got = found(&json);
    let python: BTreeSet<_> = got
        .iter()
        .filter(|f| f.2 != "Cargo.lock")
        .cloned()
        .collect();
    assert_eq!(python, expected_python());
    let cargo: BTreeSet<_> = got
        .iter()
        .filter(|f| f.2 == "Cargo.lock")
        .map(|f| f.0.as_str())
        .collect();
    assert_eq!(
        cargo,
        ["RUSTSEC-2024-9001", "RUSTSEC-2024-9002"]
            .into_iter()
            .collect()
    );
    // Not affected: last_affected 1.5 < 1.5.post1, 3.0+local is not below
    // `fixed: 3.0`, a GIT-only record, the withdrawn record.
    let all = texts(&json, "findings");
    for absent in [
        "demo-lib@1.5.post1",
        "demo-local@3.0+local",
        "demo-web@2.0.0\"",
        "demo-git",
        "PYSEC-2099-9",
    ] {
        assert!(!all.contains(absent), "{absent} reported");
    }
}

#[test]
fn aliased_records_are_one_finding_with_every_id() {
    let (_, json) = run(&fixture("python-tree/tools"), &[]);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["rule_id"], "PYSEC-2099-1");
    let aliases: Vec<&str> = f["dependency"]["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(aliases, vec!["CVE-2099-0001", "GHSA-2099-aaaa-bbbb"]);
    // The highest severity of the two records: the CVSS vector's 9.8.
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["dependency"]["cvss"], 9.8);
    assert_eq!(f["dependency"]["fix"], "upgrade to >= 2.0.0");
    assert_eq!(
        f["dependency"]["url"],
        "https://osv.dev/vulnerability/PYSEC-2099-1"
    );
}

#[test]
fn malformed_records_are_named_and_unpinned_entries_counted() {
    let (_, json) = run(&fixture("python-tree/web"), &[]);
    let errors = texts(&json, "errors");
    assert!(
        errors.contains("PYSEC-2099-6.yaml") && errors.contains("malformed OSV record"),
        "{errors}"
    );
    // The triage notes beside vulns/ are not records.
    assert!(!errors.contains("triage"), "{errors}");
    let warnings = texts(&json, "warnings");
    assert!(
        warnings.contains(
            "requirements.txt: 2 entries not audited (no exact version): line 7: -e ./local-pkg; line 8: flask>=2.0"
        ),
        "{warnings}"
    );
    // Nothing was guessed for them.
    assert!(!texts(&json, "findings").contains("flask"));
}

#[test]
fn ignores_by_any_alias_and_ecosystem_filters() {
    let tree = fixture("python-tree");
    let (_, json) = run(&tree, &["--ecosystem", "pypi", "--ignore", "CVE-2099-0001"]);
    let got = found(&json);
    assert!(got.iter().all(|f| f.0 != "PYSEC-2099-1"), "{got:?}");
    assert_eq!(got.len(), expected_python().len() - 4);
    // Kept in the report, marked suppressed by the ignore of an alias.
    let suppressed: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["suppressed"].is_null())
        .collect();
    assert_eq!(suppressed.len(), 4);
    for f in suppressed {
        assert_eq!(f["rule_id"], "PYSEC-2099-1");
        assert_eq!(f["suppressed"]["mechanism"], "advisory-ignore");
        assert!(f["suppressed"]["by"]
            .as_str()
            .unwrap()
            .contains("CVE-2099-0001"));
    }
    assert!(!texts(&json, "warnings").contains("stale ignore"));
    // No Cargo.lock audited: no RustSec database needed for a Python run.
    assert!(got.iter().all(|f| !f.0.starts_with("RUSTSEC")));

    // Only Cargo, and no RustSec database here: the usual fatal error.
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("deps")
        .arg(&tree)
        .args(["--ecosystem", "cargo", "--offline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no advisory database"));
    let out = tripline(home.path())
        .arg("deps")
        .arg(&tree)
        .args(["--ecosystem", "cargo", "--offline", "--db"])
        .arg(fixture("advisory-db"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(found(&json).iter().all(|f| f.2 == "Cargo.lock"));
    let out = tripline(home.path())
        .arg("deps")
        .arg(&tree)
        .args(["--ecosystem", "npm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown ecosystem `npm`"));
}

#[test]
fn a_python_only_tree_needs_no_rustsec_database_and_a_missing_pypi_one_is_fatal() {
    let (out, json) = run(&fixture("python-tree/api"), &[]);
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(found(&json).len(), 2);

    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("deps")
        .arg(fixture("python-tree/api"))
        .arg("--offline")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no PyPI advisory database") && err.contains("--offline"),
        "{err}"
    );
}

#[test]
fn an_unparsable_lockfile_is_named_with_its_line_and_the_others_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::fs::write(
        dir.path().join("a/poetry.lock"),
        "[[package]]\nname = \"demo-web\"\nversion = = \"1.0\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "demo-web==1.0\n").unwrap();
    let (out, json) = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{json}");
    let errors = json["errors"].as_array().unwrap();
    let bad = errors
        .iter()
        .find(|e| e["path"] == "a/poetry.lock")
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(bad["message"].as_str().unwrap().contains("line 3"), "{bad}");
    assert_eq!(found(&json).len(), 1);
}

#[test]
fn an_include_outside_the_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(dir.path().join("outside.txt"), "demo-web==1.0\n").unwrap();
    std::fs::write(
        root.join("sub/requirements.txt"),
        "-r ../../outside.txt\n-r /etc/passwd\n-c ../constraints.in\ndemo-dev==0.5\n",
    )
    .unwrap();
    // Not found by name, only through the include: audited.
    std::fs::write(root.join("constraints.in"), "demo-lib==1.2\n").unwrap();
    let (_, json) = run(&root, &[]);
    let errors = texts(&json, "errors");
    assert!(
        errors.contains("`-r ../../outside.txt` refused: outside the scan root"),
        "{errors}"
    );
    assert!(errors.contains("`-r /etc/passwd` refused"), "{errors}");
    let got: BTreeSet<_> = found(&json).into_iter().map(|f| (f.1, f.2)).collect();
    assert_eq!(
        got,
        [
            (
                "demo-dev@0.5".to_string(),
                "sub/requirements.txt".to_string()
            ),
            ("demo-lib@1.2".to_string(), "constraints.in".to_string()),
        ]
        .into_iter()
        .collect()
    );
}

#[test]
fn an_osv_zip_export_reads_as_the_folder_does() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let records = fixture("pypi-db/vulns");
    for folder in std::fs::read_dir(&records).unwrap() {
        for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("deps")
        .arg(fixture("python-tree"))
        .args([
            "--ecosystem",
            "pypi",
            "--offline",
            "--format",
            "json",
            "--pypi-db",
        ])
        .arg(&zip_path)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found(&json), expected_python());
}

#[test]
fn an_old_database_is_dated_by_its_newest_record() {
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .env("TRIPLINE_TODAY", "2099-12-31")
        .arg("deps")
        .arg(fixture("python-tree/pkg"))
        .args(["--offline", "--max-db-age", "30", "--pypi-db"])
        .arg(fixture("pypi-db"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PyPI advisory database") && err.contains("newest record modified 2099-02-01"),
        "{err}"
    );
    let (_, json) = run(&fixture("python-tree/pkg"), &[]);
    assert!(!texts(&json, "warnings").contains("days old"));
}

#[test]
fn sarif_points_each_result_at_its_lockfile_line_with_a_rule_per_advisory() {
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("deps")
        .arg(fixture("python-tree"))
        .args(["--offline", "--format", "sarif", "--db"])
        .arg(fixture("advisory-db"))
        .arg("--pypi-db")
        .arg(fixture("pypi-db"))
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &sarif["runs"][0];
    let mut places = BTreeSet::new();
    for r in run["results"].as_array().unwrap() {
        let loc = &r["locations"][0]["physicalLocation"];
        places.insert((
            r["ruleId"].as_str().unwrap().to_string(),
            loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
            loc["region"]["startLine"].as_u64().unwrap(),
        ));
    }
    let want: BTreeSet<_> = expected_python()
        .into_iter()
        .map(|(id, _, path, line)| (id, path, line))
        .collect();
    assert!(want.is_subset(&places), "{places:?}");
    assert_eq!(places.len(), want.len() + 2);
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "PYSEC-2099-1")
        .expect("a rule for the merged advisory");
    assert_eq!(
        rule["helpUri"],
        "https://osv.dev/vulnerability/PYSEC-2099-1"
    );
    let help = rule["help"]["markdown"].as_str().unwrap();
    assert!(
        help.contains("GHSA-2099-aaaa-bbbb") && help.contains("tools/uv.lock"),
        "{help}"
    );
}

#[test]
fn a_baseline_covers_python_findings() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("baseline")
        .arg(fixture("python-tree/svc"))
        .args(["--offline", "--pypi-db"])
        .arg(fixture("pypi-db"))
        .arg("-o")
        .arg(&baseline)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (out, json) = run(
        &fixture("python-tree/svc"),
        &["--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{json}");
    assert!(found(&json).is_empty());
}

/// A git repository in the PyPA layout holding the fixture's records, as
/// `db fetch` would find upstream.
fn pypa_upstream() -> (tempfile::TempDir, String) {
    let up = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    for folder in std::fs::read_dir(fixture("pypi-db/vulns")).unwrap() {
        let folder = folder.unwrap().path();
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            let rel = file.strip_prefix(fixture("pypi-db")).unwrap();
            copy(&file, &up.path().join(rel));
        }
    }
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(up.path())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", up.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "records"]);
    let url = format!("file://{}", up.path().display());
    (up, url)
}

#[test]
fn db_fetch_clones_the_pypi_database_and_a_scan_fetches_it_when_missing() {
    let (_up, url) = pypa_upstream();
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("tripline.toml");
    std::fs::write(&cfg, format!("[deps]\npypi_db_url = \"{url}\"\n")).unwrap();
    let out = tripline(home.path())
        .arg("--config")
        .arg(&cfg)
        .args(["db", "fetch", "--ecosystem", "pypi"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dest = home.path().join("cache/tripline/pypi-advisory-db");
    assert!(dest.join("vulns/demo-web/PYSEC-2099-1.yaml").is_file());
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    // Nine records, one of them withdrawn, one malformed.
    assert!(
        info.contains("advisories: 8 (1 withdrawn, 1 malformed)"),
        "{info}"
    );
    assert!(
        info.contains("2099-02-01 (newest record modified)"),
        "{info}"
    );

    // A scan without --offline fetches a missing database; with it, never.
    let home = tempfile::tempdir().unwrap();
    let out = tripline(home.path())
        .arg("--config")
        .arg(&cfg)
        .args(["deps", "--offline"])
        .arg(fixture("python-tree/tools"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!home.path().join("cache/tripline/pypi-advisory-db").exists());
    let out = tripline(home.path())
        .arg("--config")
        .arg(&cfg)
        .args(["deps", "--format", "json"])
        .arg(fixture("python-tree/tools"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found(&json).len(), 1);
    assert!(home
        .path()
        .join("cache/tripline/pypi-advisory-db/.git")
        .exists());
}

/// Copies the fixture database into `to`.
fn copy_db(to: &Path) {
    for folder in std::fs::read_dir(fixture("pypi-db/vulns")).unwrap() {
        let folder = folder.unwrap().path();
        let dest = to.join("vulns").join(folder.file_name().unwrap());
        std::fs::create_dir_all(&dest).unwrap();
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, dest.join(file.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn the_remembered_index_spares_reading_but_never_misses_an_edited_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    copy_db(&db);
    let home = tempfile::tempdir().unwrap();
    let audit = |tree: &Path| {
        let out = tripline(home.path())
            .arg("deps")
            .arg(tree)
            .args(["--offline", "--format", "json", "--pypi-db"])
            .arg(&db)
            .output()
            .unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        found(&json)
    };
    let pkg = fixture("python-tree/pkg");
    assert_eq!(audit(&pkg).len(), 1);
    let index = home.path().join("cache/tripline/osv-index");
    assert_eq!(
        std::fs::read_dir(&index).unwrap().count(),
        1,
        "index written"
    );

    // A record edited in place (its folder unchanged) to name another
    // package: the next run sees it, though the index said otherwise.
    let record = db.join("vulns/demo-dev/PYSEC-2099-5.yaml");
    let text = std::fs::read_to_string(&record).unwrap();
    // The same size: only the modification time tells.
    let edited = text
        .replace("name: demo-dev", "name: demo-lib")
        .replace("fixed: \"1.0\"", "fixed: \"2.0\"");
    assert_eq!(edited.len(), text.len());
    assert_ne!(edited, text);
    std::fs::write(&record, edited).unwrap();
    let got = audit(&pkg);
    assert!(got.iter().any(|f| f.0 == "PYSEC-2099-5"), "{got:?}");
    // A record added.
    std::fs::create_dir_all(db.join("vulns/new")).unwrap();
    std::fs::write(
        db.join("vulns/new/PYSEC-2099-20.json"),
        r#"{"id": "PYSEC-2099-20", "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-lib"}, "versions": ["1.4"]}]}"#,
    )
    .unwrap();
    let got = audit(&pkg);
    assert!(got.iter().any(|f| f.0 == "PYSEC-2099-20"), "{got:?}");
    assert_eq!(got.len(), 3);
}
