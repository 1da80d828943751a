//! The sarif report.

use std::io::{self, Write};

use super::ReportOptions;
use crate::finding::ScanOutcome;

pub fn write(
    _outcome: &ScanOutcome,
    _opts: &ReportOptions,
    _out: &mut dyn Write,
) -> io::Result<()> {
    Err(io::Error::other("sarif report not written yet"))
}
