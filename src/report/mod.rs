//! Reports: text, JSON and SARIF renderings of a [`ScanOutcome`].
//!
//! A report reads the outcome and writes bytes; it never touches the scanned
//! files (everything it needs, the GitHub line hash included, is in the
//! findings) and never prints a secret value unless `show_secrets` is set.
//!
//! Reports sit below the command layer (`scan`, `commands`, `cli`) and above
//! the finding model: they may use `finding` and nothing of the scanners,
//! the pipeline or the command line. The command line takes its `--format`
//! values from [`Format`] here.

use std::io::{self, Write};

use crate::finding::ScanOutcome;

pub mod json;
pub mod sarif;
pub mod text;

/// The report formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// How to render, independent of what was scanned.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    pub show_secrets: bool,
    pub color: bool,
    pub verbose: bool,
    /// SARIF `automationDetails.id` is `"{category}/"`.
    pub sarif_category: Option<String>,
}

/// Renders `outcome` in `format` to `out`.
pub fn write(
    format: Format,
    outcome: &ScanOutcome,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(outcome, opts, out),
        Format::Json => json::write(outcome, opts, out),
        Format::Sarif => sarif::write(outcome, opts, out),
    }
}
