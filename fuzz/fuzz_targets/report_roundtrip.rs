//! The JSON, SARIF and text writers on findings from two sources: a scan of
//! arbitrary bytes by the full built-in catalog, and findings whose every
//! field is arbitrary. Each report must render and (JSON, SARIF) parse
//! back; SARIF regions and rule indices must be valid; and unless
//! `show_secrets` is set, no report may depend on a secret's raw value:
//! rendering with the values present or removed gives the same bytes, and
//! no secret found by the scan appears anywhere in the output.
#![no_main]

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tripline::config::Config;
use tripline::finding::{
    CommitInfo, Confidence, DependencyInfo, Finding, FindingKind, Location, RuleInfo, ScanError,
    ScanOutcome, SecretValue, Severity,
};
use tripline::report::{json, sarif, text, ReportOptions};
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let set = RuleSet::load(&[], &[]).expect("the built-in rules load");
    Engine::new(set, &Config::default()).expect("the engine builds")
});

#[derive(Arbitrary, Debug)]
struct Input {
    content: Vec<u8>,
    extra: Vec<ArbFinding>,
    show_secrets: bool,
    category: Option<String>,
    root: String,
    errors: Vec<(Option<String>, String)>,
    warnings: Vec<String>,
}

#[derive(Arbitrary, Debug)]
struct ArbFinding {
    kind: u8,
    rule_id: String,
    rule_title: String,
    severity: u8,
    confidence: u8,
    path: String,
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
    line_hash: Option<String>,
    commit: Option<(String, String, String)>,
    blob: Option<String>,
    secret: Option<String>,
    excerpt: String,
    dependency: Option<ArbDependency>,
    rule: Option<ArbRule>,
}

#[derive(Arbitrary, Debug)]
struct ArbDependency {
    package: String,
    version: String,
    aliases: Vec<String>,
    fix: String,
    dependency_path: Vec<String>,
    other_paths: u64,
    url: Option<String>,
    dependency_kind: Option<String>,
    cvss: Option<f64>,
    date: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct ArbRule {
    title: String,
    description: String,
    help_text: String,
    help_markdown: String,
    tags: Vec<String>,
    security_severity: Option<f64>,
    help_uri: Option<String>,
}

const KINDS: [FindingKind; 7] = [
    FindingKind::Secret,
    FindingKind::Vulnerability,
    FindingKind::Unmaintained,
    FindingKind::Unsound,
    FindingKind::Yanked,
    FindingKind::Notice,
    FindingKind::Suppression,
];
const CONFIDENCES: [Confidence; 3] = [Confidence::Low, Confidence::Medium, Confidence::High];

fn build(a: ArbFinding, outcome: &mut ScanOutcome) {
    let severity = Severity::ALL[usize::from(a.severity) % 4];
    let confidence = CONFIDENCES[usize::from(a.confidence) % 3];
    let kind = KINDS[usize::from(a.kind) % KINDS.len()];
    let secret = a.secret.map(SecretValue::new);
    let excerpt = secret.as_ref().map_or(a.excerpt, SecretValue::masked);
    if let Some(r) = a.rule {
        outcome.rules.insert(
            a.rule_id.clone(),
            RuleInfo {
                id: a.rule_id.clone(),
                title: r.title,
                description: r.description,
                help_text: r.help_text,
                help_markdown: r.help_markdown,
                severity,
                confidence,
                tags: r.tags,
                security_severity: r.security_severity,
                help_uri: r.help_uri,
            },
        );
    }
    outcome.findings.push(Finding {
        kind,
        rule_id: a.rule_id,
        rule_title: a.rule_title,
        severity,
        confidence,
        location: Location {
            path: a.path,
            start_line: a.start_line,
            start_column: a.start_column,
            end_line: a.end_line,
            end_column: a.end_column,
            line_hash: a.line_hash,
            commit: a
                .commit
                .map(|(id, author, date)| CommitInfo { id, author, date }),
            blob: a.blob,
        },
        excerpt,
        fingerprint: tripline::finding::fingerprint(&["fuzz"]),
        dependency: a.dependency.map(|d| DependencyInfo {
            package: d.package,
            version: d.version,
            aliases: d.aliases,
            fix: d.fix,
            dependency_path: d.dependency_path,
            other_paths: d.other_paths,
            url: d.url,
            dependency_kind: d.dependency_kind,
            cvss: d.cvss,
            date: d.date,
        }),
        secret,
        suppressed: None,
    });
}

/// The three reports of `outcome`.
fn render(outcome: &ScanOutcome, opts: &ReportOptions) -> [Vec<u8>; 3] {
    let mut j = Vec::new();
    json::write(outcome, opts, &mut j).expect("JSON renders into a Vec");
    let mut s = Vec::new();
    sarif::write(outcome, opts, &mut s).expect("SARIF renders into a Vec");
    let mut t = Vec::new();
    text::write(outcome, opts, &mut t).expect("text renders into a Vec");
    [j, s, t]
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

fn check_sarif(log: &Value, outcome: &ScanOutcome) {
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    assert_eq!(
        results.len(),
        outcome.findings.len().min(sarif::MAX_RESULTS)
    );
    for r in results {
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[idx]["id"], r["ruleId"],
            "ruleIndex points at another rule"
        );
        let region = &r["locations"][0]["physicalLocation"]["region"];
        let sl = region["startLine"].as_i64().expect("startLine");
        let sc = region["startColumn"].as_i64().expect("startColumn");
        let el = region["endLine"].as_i64().expect("endLine");
        assert!(sl >= 1 && sc >= 1 && el >= sl, "bad region {region}");
        if let Some(ec) = region.get("endColumn") {
            let ec = ec.as_i64().expect("endColumn is an integer");
            assert!(ec >= 1 && (el > sl || ec > sc), "empty region {region}");
        }
    }
    for rule in rules {
        let tags = rule["properties"]["tags"].as_array().map_or(0, Vec::len);
        assert!(tags <= 10);
        if let Some(s) = rule["properties"]["security-severity"].as_str() {
            let v: f64 = s.parse().expect("security-severity is a number");
            assert!(v > 0.0 && v <= 10.0, "security-severity {s}");
        }
    }
}

fuzz_target!(|input: Input| {
    let path = "config/app.env";
    let scanned = ENGINE.scan(path, &input.content);
    let mut outcome = ScanOutcome {
        root: input.root,
        findings: scanned.clone(),
        errors: input
            .errors
            .into_iter()
            .map(|(path, message)| ScanError { path, message })
            .collect(),
        warnings: input.warnings,
        ..ScanOutcome::default()
    };
    for f in &scanned {
        if let Some(info) = ENGINE.rule_info(&f.rule_id) {
            outcome.rules.insert(f.rule_id.clone(), info);
        }
    }
    for a in input.extra {
        build(a, &mut outcome);
    }
    outcome.sort();
    let opts = ReportOptions {
        show_secrets: input.show_secrets,
        color: false,
        verbose: true,
        sarif_category: input.category,
    };

    let [j, s, t] = render(&outcome, &opts);
    let jv: Value = serde_json::from_slice(&j).expect("the JSON report parses back");
    let sv: Value = serde_json::from_slice(&s).expect("the SARIF report parses back");
    assert_eq!(
        jv["findings"].as_array().map(Vec::len),
        Some(outcome.findings.len())
    );
    check_sarif(&sv, &outcome);

    if opts.show_secrets {
        for (f, jf) in outcome
            .findings
            .iter()
            .zip(jv["findings"].as_array().unwrap())
        {
            if let Some(secret) = &f.secret {
                assert_eq!(jf["secret"].as_str(), Some(secret.expose()));
            }
        }
        return;
    }
    // Without --show-secrets, the values must make no difference.
    let mut stripped = outcome.clone();
    for f in &mut stripped.findings {
        f.secret = None;
    }
    assert!(
        render(&stripped, &opts) == [j, s, t.clone()],
        "a report changed with the secret values"
    );
    // And the scanner's secrets appear nowhere (the arbitrary findings may
    // carry any text in any field, so only the scan's are looked for, in
    // reports of the scan alone).
    let scan_only = ScanOutcome {
        findings: scanned,
        rules: outcome
            .rules
            .iter()
            .filter(|(id, _)| ENGINE.rule_info(id).is_some())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..ScanOutcome::default()
    };
    let [j, s, t] = render(&scan_only, &opts);
    let mut all = Vec::new();
    strings(&serde_json::from_slice(&j).expect("JSON"), &mut all);
    strings(&serde_json::from_slice(&s).expect("SARIF"), &mut all);
    all.push(String::from_utf8_lossy(&t).into_owned());
    for f in &scan_only.findings {
        let value = f.secret.as_ref().expect("scanned").expose();
        if value.chars().count() < 8 || f.excerpt.contains(value) {
            continue;
        }
        for text in &all {
            assert!(
                !text.contains(value),
                "the secret {value:?} of {} leaked into {text:?}",
                f.rule_id
            );
        }
    }
});
