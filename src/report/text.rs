//! The terminal report: findings grouped by file, one line each, then a
//! summary a person can read at a glance.
//!
//! Colour is decided by the caller (`ReportOptions::color`); this module
//! only knows which parts to colour. Secrets appear masked unless
//! `show_secrets` is set. Suppressed findings are counted per mechanism in
//! the summary and listed (marked as such) only under `verbose`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use termcolor::{Ansi, Color, ColorSpec, NoColor, WriteColor};

use super::ReportOptions;
use crate::finding::{Finding, FindingKind, ScanOutcome, Severity, SuppressionMechanism};

pub fn write(outcome: &ScanOutcome, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    if opts.color {
        render(outcome, opts, &mut Ansi::new(out))
    } else {
        render(outcome, opts, &mut NoColor::new(out))
    }
}

fn render(outcome: &ScanOutcome, opts: &ReportOptions, w: &mut dyn WriteColor) -> io::Result<()> {
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &outcome.findings {
        if f.suppressed.is_none() || opts.verbose {
            by_file.entry(&f.location.path).or_default().push(f);
        }
    }
    for (path, findings) in &by_file {
        w.set_color(ColorSpec::new().set_bold(true).set_underline(true))?;
        write!(w, "{path}")?;
        w.reset()?;
        writeln!(w)?;
        for f in findings {
            finding_line(f, opts, w)?;
        }
        writeln!(w)?;
    }
    let files_with = by_file
        .values()
        .filter(|fs| fs.iter().any(|f| f.suppressed.is_none()))
        .count();
    summary(outcome, files_with, opts, w)
}

fn finding_line(f: &Finding, opts: &ReportOptions, w: &mut dyn WriteColor) -> io::Result<()> {
    let loc = &f.location;
    let pos = if f.kind == FindingKind::Secret {
        format!("{}:{}", loc.start_line, loc.start_column)
    } else {
        format!("{}-{}", loc.start_line, loc.end_line)
    };
    write!(w, "  {pos:<9} ")?;
    w.set_color(&severity_color(f.severity))?;
    write!(w, "{:<8}", f.severity.as_str())?;
    w.reset()?;
    w.set_color(ColorSpec::new().set_fg(Some(Color::Cyan)))?;
    write!(w, " {}", f.rule_id)?;
    w.reset()?;
    let shown = match (&f.secret, opts.show_secrets) {
        (Some(s), true) => s.expose().to_string(),
        _ => f.excerpt.clone(),
    };
    write!(w, "  {shown}")?;
    if f.kind != FindingKind::Secret && f.kind != FindingKind::Vulnerability {
        write!(w, " [{}]", f.kind)?;
    }
    if let Some(k) = f
        .dependency
        .as_ref()
        .and_then(|d| d.dependency_kind.as_ref())
    {
        write!(w, " ({k} dependency)")?;
    }
    if let Some(s) = &f.suppressed {
        w.set_color(ColorSpec::new().set_fg(Some(Color::Green)))?;
        write!(w, " [suppressed by {}]", s.by)?;
        w.reset()?;
    }
    w.set_color(ColorSpec::new().set_dimmed(true))?;
    write!(w, "  {}", f.rule_title)?;
    if let Some(c) = &loc.commit {
        // By characters: an id is hex from git, but a report never panics
        // on what a finding holds.
        let short: String = c.id.chars().take(10).collect();
        write!(w, " (commit {short}, {}, {})", c.author, c.date)?;
    }
    w.reset()?;
    writeln!(w)?;
    if let Some(d) = &f.dependency {
        writeln!(w, "{:14}fix: {}", "", d.fix)?;
        if !d.dependency_path.is_empty() {
            let others = if d.other_paths > 0 {
                format!(" (+{} other paths)", d.other_paths)
            } else {
                String::new()
            };
            writeln!(
                w,
                "{:14}path: {}{others}",
                "",
                d.dependency_path.join(" > ")
            )?;
        }
        if let Some(url) = &d.url {
            writeln!(w, "{:14}{url}", "")?;
        }
    }
    Ok(())
}

fn severity_color(s: Severity) -> ColorSpec {
    let mut c = ColorSpec::new();
    match s {
        Severity::Critical => c.set_fg(Some(Color::Magenta)).set_bold(true),
        Severity::High => c.set_fg(Some(Color::Red)).set_bold(true),
        Severity::Medium => c.set_fg(Some(Color::Yellow)),
        Severity::Low => c.set_fg(Some(Color::Blue)),
    };
    c
}

fn summary(
    outcome: &ScanOutcome,
    files_with: usize,
    opts: &ReportOptions,
    w: &mut dyn WriteColor,
) -> io::Result<()> {
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    let mut suppressed: BTreeMap<SuppressionMechanism, usize> = BTreeMap::new();
    for f in &outcome.findings {
        match &f.suppressed {
            None => *counts.entry(f.severity).or_insert(0) += 1,
            Some(s) => *suppressed.entry(s.mechanism).or_insert(0) += 1,
        }
    }
    let n: usize = counts.values().sum();
    w.set_color(ColorSpec::new().set_bold(true))?;
    if n == 0 {
        w.set_color(ColorSpec::new().set_bold(true).set_fg(Some(Color::Green)))?;
        write!(w, "No findings.")?;
    } else {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .filter_map(|s| counts.get(s).map(|c| format!("{c} {s}")))
            .collect();
        write!(
            w,
            "{n} finding{} ({}) in {files_with} file{}.",
            plural(n),
            parts.join(", "),
            plural(files_with)
        )?;
    }
    w.reset()?;
    writeln!(w)?;
    if !suppressed.is_empty() {
        let total: usize = suppressed.values().sum();
        let parts: Vec<String> = suppressed
            .iter()
            .map(|(m, c)| format!("{c} by {}", m.as_str()))
            .collect();
        write!(
            w,
            "{total} suppressed finding{} ({}){}.",
            plural(total),
            parts.join(", "),
            if opts.verbose { "" } else { "; -v lists them" }
        )?;
        writeln!(w)?;
    }
    let s = &outcome.stats;
    let lockfiles = format!(
        "{} lockfile{}",
        s.lockfiles_audited,
        plural(s.lockfiles_audited as usize)
    );
    if s.files_scanned == 0 && s.lockfiles_audited > 0 {
        // A dependency-only run: no file was scanned for secrets.
        write!(w, "Audited {lockfiles}")?;
    } else {
        write!(
            w,
            "Scanned {} file{} ({})",
            s.files_scanned,
            plural(s.files_scanned as usize),
            human_bytes(s.bytes_scanned)
        )?;
        if s.lockfiles_audited > 0 {
            write!(w, " and audited {lockfiles}")?;
        }
    }
    write!(w, " in {:.2}s", outcome.duration_ms as f64 / 1000.0)?;
    if s.files_skipped > 0 {
        write!(
            w,
            "; skipped {} (too large, binary or special)",
            s.files_skipped
        )?;
    }
    writeln!(w, ".")?;
    if !outcome.errors.is_empty() {
        w.set_color(ColorSpec::new().set_fg(Some(Color::Yellow)))?;
        write!(
            w,
            "{} file{} could not be scanned (see warnings above).",
            outcome.errors.len(),
            plural(outcome.errors.len())
        )?;
        w.reset()?;
        writeln!(w)?;
    }
    for e in &outcome.not_run {
        w.set_color(ColorSpec::new().set_fg(Some(Color::Red)).set_bold(true))?;
        write!(w, "Partial report: {}", e.message)?;
        w.reset()?;
        writeln!(w)?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `1234567` → `"1.2 MB"`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, Location, SecretValue};

    fn outcome() -> ScanOutcome {
        let secret = SecretValue::new("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
        ScanOutcome {
            findings: vec![Finding {
                kind: FindingKind::Secret,
                rule_id: "github-pat-classic".into(),
                rule_title: "GitHub personal access token".into(),
                severity: Severity::High,
                confidence: Confidence::High,
                location: Location {
                    start_column: 7,
                    end_column: 47,
                    ..Location::lines("src/a.rs", 12, 12)
                },
                excerpt: secret.masked(),
                fingerprint: "f".repeat(32),
                dependency: None,
                secret: Some(secret),
                suppressed: None,
            }],
            ..ScanOutcome::default()
        }
    }

    fn render_to_string(opts: &ReportOptions) -> String {
        let mut out = Vec::new();
        write(&outcome(), opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn bytes_read_as_people_say_them() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = render_to_string(&ReportOptions::default());
        assert!(!plain.contains('\x1b'));
        assert!(plain.contains("src/a.rs\n"));
        assert!(plain.contains("12:7"));
        assert!(plain.contains("1 finding (1 high) in 1 file."));
        let coloured = render_to_string(&ReportOptions {
            color: true,
            ..ReportOptions::default()
        });
        assert!(coloured.contains("\x1b["));
    }

    #[test]
    fn secret_masked_unless_shown() {
        let plain = render_to_string(&ReportOptions::default());
        assert!(plain.contains("ghp_****"));
        assert!(!plain.contains("abcdefghijklmnop"));
        let shown = render_to_string(&ReportOptions {
            show_secrets: true,
            ..ReportOptions::default()
        });
        assert!(shown.contains("ghp_abcdefghijklmnopqrstuvwxyz0123456789"));
    }
}
