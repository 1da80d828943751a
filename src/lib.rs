//! tripline: audit a source tree for committed secrets and vulnerable
//! dependencies.
//!
//! Data flows one way: sources (tree walk, staged index, git history) →
//! scanners (`secrets`, `deps`, and `suppressions` for changes that weaken
//! the scan) → [`finding::Finding`]s → filters (allowlists, inline allows,
//! baseline, ignored advisories), which mark findings suppressed rather
//! than drop them → one [`report`] → exit status. `scan` wires those stages together; no scanner
//! formats output and no report reads a scanned file.

pub mod baseline;
pub mod cli;
pub mod config;
pub mod deps;
pub mod finding;
pub mod gitrev;
pub mod report;
pub mod scan;
pub mod secrets;
pub mod suppressions;
