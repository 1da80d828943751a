//! tripline: audit a source tree for committed secrets and vulnerable
//! dependencies.
//!
//! Data flows one way: sources (tree walk, staged index, git history) →
//! scanners (`secrets`, `deps`) → [`finding::Finding`]s → filters
//! (allowlists, inline allows, baseline, ignored advisories) → one
//! [`report`] → exit status. `scan` wires those stages together; no scanner
//! formats output and no report reads a scanned file.

pub mod baseline;
pub mod cli;
pub mod config;
pub mod deps;
pub mod finding;
pub mod report;
pub mod scan;
pub mod secrets;
