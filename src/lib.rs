//! tripline: audit a source tree for committed secrets and vulnerable
//! dependencies.
//!
//! Data flows one way: sources (tree walk, staged index, git history) →
//! scanners (`secrets`, `deps`, and `suppressions` for changes that weaken
//! the scan) → [`finding::Finding`]s → filters (allowlists, inline allows,
//! baseline, ignored advisories), which mark findings suppressed rather
//! than drop them → one [`report`] → exit status. `scan` wires those
//! stages together; no scanner formats output and no report reads a
//! scanned file.
//!
//! The modules form layers, each using only those below it:
//! `finding` and `config` at the bottom; `source` (walk, safe opening);
//! the scanners `secrets` and `deps`, which never import each other, a
//! report or the command line; `baseline` and `report`, which read
//! findings; `gitrev` (files of a git revision) and `suppressions` (changes
//! that add a suppression), which read configuration, rule files and
//! baselines; and at the top the command layer: `cli`, `scan` (the scan
//! pipeline) and `commands` (the subcommands that are not scans).

pub mod baseline;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deps;
pub mod finding;
pub mod gitrev;
pub mod report;
pub mod scan;
pub mod secrets;
pub mod source;
pub mod suppressions;
