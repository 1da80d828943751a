//! The subcommands that are not scans: each one reads its arguments and
//! the config, calls a scanner's library functions, and prints the result.
//!
//! This is the top of the crate, beside `scan` (the scan pipeline and its
//! report): it may use every layer below it, and nothing below imports it.
//! The scanners (`secrets`, `deps`) expose plain functions and types and
//! never see `cli`.

pub mod db;
pub mod rules;
