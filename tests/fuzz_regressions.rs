//! Inputs the fuzz targets (`fuzz/`) found that broke an invariant, run
//! through the same public functions the targets call. Each test names the
//! target and says what went wrong.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use tripline::deps::advisories::DbIndex;
use tripline::deps::lockfile::LockedTree;
use tripline::finding::{
    fingerprint, CommitInfo, Confidence, DependencyInfo, Finding, FindingKind, Location,
    ScanOutcome, SecretValue, Severity,
};
use tripline::report::{sarif, text, ReportOptions};

fn sarif_of(outcome: &ScanOutcome) -> Value {
    let mut out = Vec::new();
    sarif::write(outcome, &ReportOptions::default(), &mut out).expect("SARIF renders");
    serde_json::from_slice(&out).expect("SARIF parses back")
}

/// report_roundtrip: a dependency finding without a rule description,
/// whose CVSS score was a subnormal float, gave its synthesized rule
/// `security-severity` "0.0", which GitHub ignores (it wants (0, 10]): the
/// range was checked before rounding to one decimal.
#[test]
fn report_roundtrip_tiny_cvss_is_not_written_as_zero() {
    for cvss in [7.269e-320, 0.04, 10.07] {
        let finding = Finding {
            kind: FindingKind::Vulnerability,
            rule_id: "RUSTSEC-2024-9001".into(),
            rule_title: "Header parser overflows its buffer".into(),
            severity: Severity::Low,
            confidence: Confidence::High,
            location: Location::lines("Cargo.lock", 5, 9),
            excerpt: "tinyhttp@1.0.0".into(),
            fingerprint: fingerprint(&["RUSTSEC-2024-9001", "tinyhttp", "1.0.0", "Cargo.lock"]),
            dependency: Some(DependencyInfo {
                package: "tinyhttp".into(),
                version: "1.0.0".into(),
                cvss: Some(cvss),
                ..DependencyInfo::default()
            }),
            secret: None,
            suppressed: None,
        };
        let outcome = ScanOutcome {
            findings: vec![finding],
            ..ScanOutcome::default()
        };
        let log = sarif_of(&outcome);
        let score = log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"]
            .as_str()
            .expect("a security-severity string");
        let value: f64 = score.parse().expect("a number");
        assert!(
            value > 0.0 && value <= 10.0,
            "cvss {cvss:?} gave security-severity {score}"
        );
        // Out of range, the severity's default stands in.
        assert_eq!(score, "2.0", "cvss {cvss:?}");
    }
}

/// report_roundtrip: the text report cut a commit id to 10 *bytes*, which
/// panics inside a multi-byte character. Ids from git are hex, so the CLI
/// never hit it, but a report must not panic on what a finding holds.
#[test]
fn report_roundtrip_text_cuts_commit_ids_by_characters() {
    let secret = SecretValue::new(" EN = \u{1f600}\r\nafK");
    let mut location = Location::lines(" EN = \u{1f600}\r\nafK", 3, 3);
    location.commit = Some(CommitInfo {
        id: "N = # caf\u{e9} \u{1f600}\r\nGITHUB_TO".into(),
        author: "a".into(),
        date: "2024-01-01T00:00:00Z".into(),
    });
    let outcome = ScanOutcome {
        findings: vec![Finding {
            kind: FindingKind::Secret,
            rule_id: "generic-secret".into(),
            rule_title: "Secret".into(),
            severity: Severity::High,
            confidence: Confidence::Medium,
            location,
            excerpt: secret.masked(),
            fingerprint: fingerprint(&["x"]),
            dependency: None,
            secret: Some(secret),
            suppressed: None,
        }],
        ..ScanOutcome::default()
    };
    let mut out = Vec::new();
    text::write(&outcome, &ReportOptions::default(), &mut out).expect("renders");
    let out = String::from_utf8(out).expect("UTF-8");
    assert!(out.contains("(commit N = # caf\u{e9}, "), "{out}");
}

/// The lockfile `lockfile_parse` found (minimised with `cargo fuzz tmin`).
const PANICKING_LOCKFILE: &[u8] = b"#\n[[package]]\nn= \"d\"\nchecksum = \"1905450ce2b51dcba\xefpackdc095c40587206cea9cc70231d3c9c8e6b2385a4\"";

/// lockfile_parse (minimised with `cargo fuzz tmin`): a `checksum` of 64
/// bytes holding a multi-byte character (here the U+FFFD that lossy
/// decoding made of byte 0xEF) panics inside cargo-lock's
/// `Checksum::from_str`, which checks the length in bytes and then slices
/// two bytes at a time: "end byte index 18 is not a char boundary". The
/// auditor's worker threads catch the panic, but every lockfile parsed in
/// the same thread is then reported as "the lockfile parser panicked"
/// instead of audited. `LockedTree::parse` now returns an error.
#[test]
fn lockfile_checksum_with_a_multibyte_character_is_an_error() {
    let text = String::from_utf8_lossy(PANICKING_LOCKFILE);
    assert!(LockedTree::parse(&text).is_err());
    // The same in a well-formed lockfile.
    let checksum = format!("a\u{e9}{}", "0".repeat(61));
    assert_eq!(checksum.len(), 64);
    let lock = format!(
        "version = 3\n\n[[package]]\nname = \"d\"\nversion = \"1.0.0\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
         checksum = \"{checksum}\"\n"
    );
    assert!(LockedTree::parse(&lock).is_err());
}

/// lockfile_parse, through the binary: the auditor parses lockfiles in
/// chunks, one thread per core, and a parser panic used to fail the whole
/// chunk, so valid lockfiles that shared a thread with the input above
/// went unaudited (each reported as "the lockfile parser panicked"). With
/// twice as many lockfiles as cores, every chunk holds two.
#[test]
fn a_panicking_lockfile_does_not_hide_the_others() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let tree = tempfile::tempdir().expect("a temporary folder");
    let good = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps/versions/v3/Cargo.lock"),
    )
    .expect("the v3 fixture");
    let mut paths = Vec::new();
    for i in 0..2 * cores {
        let dir = tree.path().join(format!("p{i:03}"));
        std::fs::create_dir(&dir).expect("creates a folder");
        let bytes: &[u8] = if i == 0 { PANICKING_LOCKFILE } else { &good };
        std::fs::write(dir.join("Cargo.lock"), bytes).expect("writes a lockfile");
        paths.push(format!("p{i:03}/Cargo.lock"));
    }
    let home = tempfile::tempdir().expect("a temporary folder");
    let out = Command::cargo_bin("tripline")
        .expect("binary builds")
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("CARGO_HOME", home.path().join("cargo"))
        .arg("deps")
        .arg(tree.path())
        .arg("--db")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps/advisory-db"))
        .args(["--offline", "--format", "json"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let lockfile_errors: Vec<&str> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("lockfile"))
        })
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(lockfile_errors, ["p000/Cargo.lock"], "{report}");
    let audited: BTreeSet<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["path"].as_str())
        .collect();
    for p in &paths[1..] {
        assert!(
            audited.contains(p.as_str()),
            "{p} was not audited: {report}"
        );
    }
}

/// advisory_parse (minimised with `cargo fuzz tmin`): an advisory file that
/// does not start with the TOML fence and has a multi-byte character
/// across byte 20 panics inside rustsec's `Parts::parse`, which quotes the
/// first 20 bytes in its error: "end byte index 20 is not a char boundary;
/// it is inside '\u{7ac}'". The database is loaded on the main thread, so
/// one such file in the advisory database (say, a stray Markdown note in a
/// crate's folder whose first line is not ASCII) crashes every `tripline
/// scan` with dependency checks. Loading reports it as a `ScanError` and
/// goes on.
#[test]
fn advisory_with_a_multibyte_character_at_byte_20_is_an_error() {
    // The minimised input, and a note in French.
    for text in [
        "r\0\0rnd \0\0 \u{7ac}\nsor\0\0 \u{7ac}",
        "# D\u{e9}passement de m\u{e9}moire\n",
    ] {
        assert!(!text.is_char_boundary(20));
        let db = tempfile::tempdir().expect("a temporary folder");
        let dir = db.path().join("crates").join("tinyhttp");
        std::fs::create_dir_all(&dir).expect("creates the crate folder");
        std::fs::write(dir.join("RUSTSEC-2024-0001.md"), text).expect("writes the advisory");
        let (advisories, errors) = DbIndex::open(db.path()).load_for_crates(["tinyhttp"], 2);
        assert!(advisories.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
    }
}
