//! The SARIF report against the official SARIF 2.1.0 schema and GitHub's
//! upload rules, via `../shared/sarif/validate.py --github`.
//!
//! The validator lives outside the repository, so this test runs only when
//! `TRIPLINE_SHARED` points at the shared folder (`.ci/run` sets it, and
//! `TRIPLINE_PYTHON` to a Python with `jsonschema` and `rfc3987`). Without it
//! the test says so and passes: a user's clone has no `../shared`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tripline::finding::linehash::line_hashes;
use tripline::finding::{
    fingerprint, CommitInfo, Confidence, DependencyInfo, Finding, FindingKind, Location, RuleInfo,
    ScanError, ScanOutcome, SecretValue, Severity, Suppression, SuppressionMechanism,
};
use tripline::report::Format;
use tripline::report::{self, ReportOptions};

/// Made up in the shape of a classic GitHub token; not a credential.
const TOKEN: &str = "ghp_R4nd0mM4d3UpCh4r5F0rT3st1ngOnly0123";

fn secret_finding(path: &str, content: &str, needle: &str) -> Finding {
    let offset = content.find(needle).expect("needle in content");
    let before = &content[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = content[line_start..offset].encode_utf16().count() as u32 + 1;
    let value = SecretValue::new(needle);
    Finding {
        kind: FindingKind::Secret,
        rule_id: "github-pat-classic".into(),
        rule_title: "GitHub personal access token (classic)".into(),
        severity: Severity::High,
        confidence: Confidence::High,
        location: Location {
            path: path.into(),
            start_line: line,
            start_column: column,
            end_line: line,
            end_column: column + needle.encode_utf16().count() as u32,
            line_hash: line_hashes(content.as_bytes())
                .get(line as usize - 1)
                .cloned(),
            commit: None,
            blob: None,
        },
        excerpt: value.masked(),
        fingerprint: fingerprint(&["github-pat-classic", path, needle]),
        dependency: None,
        secret: Some(value),
        suppressed: None,
    }
}

fn outcome_with_findings() -> ScanOutcome {
    let content = "# déjà vu\nGITHUB_TOKEN=\"ghp_R4nd0mM4d3UpCh4r5F0rT3st1ngOnly0123\"\n";
    let current = secret_finding("conf/prod env/clé #2.env", content, TOKEN);
    let mut history = secret_finding("old/.env", content, TOKEN);
    history.location.commit = Some(CommitInfo {
        id: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "Dev <dev@example.com>".into(),
        date: "2024-02-03T04:05:06Z".into(),
    });
    let mut dependency = Finding {
        kind: FindingKind::Unmaintained,
        rule_id: "RUSTSEC-2024-0384".into(),
        rule_title: "instant is unmaintained".into(),
        severity: Severity::Low,
        confidence: Confidence::High,
        location: Location::lines("crates/with space/Cargo.lock", 120, 124),
        excerpt: "instant@0.1.13".into(),
        fingerprint: fingerprint(&["RUSTSEC-2024-0384", "instant", "0.1.13", "Cargo.lock"]),
        dependency: Some(DependencyInfo {
            package: "instant".into(),
            version: "0.1.13".into(),
            aliases: Vec::new(),
            fix: "no fixed version".into(),
            dependency_path: vec!["app".into(), "parking_lot".into(), "instant".into()],
            other_paths: 0,
            url: Some("https://rustsec.org/advisories/RUSTSEC-2024-0384".into()),
            dependency_kind: None,
            cvss: None,
            date: Some("2024-09-01".into()),
        }),
        secret: None,
        suppressed: None,
    };
    // As the dependency auditor fills it, from the lockfile it parsed.
    let lockfile = "[[package]]\n".repeat(130);
    dependency.location.line_hash = line_hashes(lockfile.as_bytes()).get(119).cloned();
    let mut rules = BTreeMap::new();
    rules.insert(
        "github-pat-classic".to_string(),
        RuleInfo {
            id: "github-pat-classic".into(),
            title: "GitHub personal access token (classic)".into(),
            description: "A classic GitHub personal access token.".into(),
            help_text: "Revoke it, then remove it from the code.".into(),
            help_markdown: "Revoke it at <https://github.com/settings/tokens>.".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            tags: vec!["secret".into(), "github".into()],
            security_severity: None,
            help_uri: Some("https://docs.github.com/en/authentication".into()),
        },
    );
    // One of each suppression kind: an inline comment and a baseline.
    let mut inline = secret_finding("src/tests/fixture.rs", content, TOKEN);
    inline.suppressed = Some(Suppression::new(
        SuppressionMechanism::InlineComment,
        "inline comment `tripline:allow`",
    ));
    let mut accepted = secret_finding("conf/old.env", content, TOKEN);
    accepted.suppressed = Some(Suppression::new(
        SuppressionMechanism::Baseline,
        "baseline tripline-baseline.json",
    ));
    ScanOutcome {
        root: ".".into(),
        findings: vec![current, dependency, history, inline, accepted],
        rules,
        errors: vec![
            ScanError {
                path: Some("secret dir/unreadable.env".into()),
                message: "secret dir/unreadable.env: permission denied".into(),
            },
            ScanError {
                path: None,
                message: "advisory RUSTSEC-0000-0000.md: malformed front matter".into(),
            },
        ],
        warnings: vec!["advisory database is 120 days old (--max-db-age 90)".into()],
        ..ScanOutcome::default()
    }
}

fn write_sarif(dir: &Path, name: &str, outcome: &ScanOutcome, opts: &ReportOptions) -> PathBuf {
    let mut out = Vec::new();
    report::write(Format::Sarif, outcome, opts, &mut out).expect("SARIF report");
    let text = String::from_utf8(out).expect("UTF-8");
    if !opts.show_secrets {
        assert!(!text.contains(TOKEN), "{name} holds the raw secret");
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write SARIF");
    path
}

#[test]
fn sarif_passes_the_official_validator_with_github_checks() {
    let Some(shared) = std::env::var_os("TRIPLINE_SHARED") else {
        println!(
            "TRIPLINE_SHARED is not set: skipping the SARIF validator check (.ci/run sets it)"
        );
        return;
    };
    let validator = Path::new(&shared).join("sarif/validate.py");
    assert!(validator.is_file(), "{} is missing", validator.display());
    let python = std::env::var("TRIPLINE_PYTHON").unwrap_or_else(|_| "python3".into());

    let dir = tempfile::tempdir().expect("temp dir");
    let plain = ReportOptions::default();
    let categorised = ReportOptions {
        sarif_category: Some("tripline-ci".into()),
        ..ReportOptions::default()
    };
    let revealing = ReportOptions {
        show_secrets: true,
        ..ReportOptions::default()
    };
    let files = [
        write_sarif(dir.path(), "clean.sarif", &ScanOutcome::default(), &plain),
        write_sarif(
            dir.path(),
            "findings.sarif",
            &outcome_with_findings(),
            &plain,
        ),
        write_sarif(
            dir.path(),
            "category.sarif",
            &outcome_with_findings(),
            &categorised,
        ),
        write_sarif(
            dir.path(),
            "show-secrets.sarif",
            &outcome_with_findings(),
            &revealing,
        ),
    ];

    let output = Command::new(&python)
        .arg(&validator)
        .arg("--github")
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "validate.py --github rejected the SARIF:\n{stdout}{stderr}"
    );
    // Not only accepted: nothing GitHub would warn about either.
    assert_eq!(
        stdout.matches(": VALID (0 errors, 0 warnings)").count(),
        files.len(),
        "{stdout}"
    );
}
