//! Inputs the fuzz targets (`fuzz/`) found that broke an invariant, run
//! through the same public functions the targets call. Each test names the
//! target and says what went wrong.

use serde_json::Value;
use tripline::finding::{
    fingerprint, Confidence, DependencyInfo, Finding, FindingKind, Location, ScanOutcome, Severity,
};
use tripline::report::{sarif, ReportOptions};

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
