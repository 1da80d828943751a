//! The JSON report: one document, field names stable (documented in README).
//!
//! Shape: `{version, tool, scan: {root, duration_ms, files_scanned,
//! bytes_scanned, files_skipped, lockfiles_audited}, findings: [...],
//! errors: [...], warnings: [...]}`, and `partial: true` when a part of
//! the scan did not run (its reason is among the `errors`). `version` is the document format's
//! version, bumped only when a field changes meaning or goes away.

use std::io::{self, Write};

use serde::Serialize;

use super::ReportOptions;
use crate::finding::{Finding, ScanError, ScanOutcome};

/// The JSON document format version.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    scan: ScanSummary<'a>,
    findings: Vec<JsonFinding<'a>>,
    /// The outcome's errors, then why each part that did not run did not.
    errors: Vec<&'a ScanError>,
    warnings: &'a [String],
    /// A part of the scan did not run; absent when everything ran.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct ScanSummary<'a> {
    root: &'a str,
    duration_ms: u128,
    files_scanned: u64,
    bytes_scanned: u64,
    files_skipped: u64,
    lockfiles_audited: u64,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    /// Present only under `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

pub fn write(outcome: &ScanOutcome, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        version: FORMAT_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        scan: ScanSummary {
            root: &outcome.root,
            duration_ms: outcome.duration_ms,
            files_scanned: outcome.stats.files_scanned,
            bytes_scanned: outcome.stats.bytes_scanned,
            files_skipped: outcome.stats.files_skipped,
            lockfiles_audited: outcome.stats.lockfiles_audited,
        },
        findings: outcome
            .findings
            .iter()
            .map(|f| JsonFinding {
                finding: f,
                secret: f
                    .secret
                    .as_ref()
                    .filter(|_| opts.show_secrets)
                    .map(|s| s.expose()),
            })
            .collect(),
        errors: outcome.errors.iter().chain(&outcome.not_run).collect(),
        warnings: &outcome.warnings,
        partial: !outcome.not_run.is_empty(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}
