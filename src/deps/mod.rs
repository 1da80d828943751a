//! Dependency audit: every Cargo.lock against the RustSec advisory database.
