//! A requirements file of arbitrary bytes (lossy UTF-8, as the audit reads
//! it) through `deps::python::requirements::parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline::deps::python::{normalize_name, requirements, PyLock};

/// What every reader's answer must satisfy: pins inside the file, names
/// normalised, versions non-empty, no (name, version) twice.
pub fn check(lock: &PyLock, text: &str) {
    let lines = u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX);
    let mut seen = std::collections::HashSet::new();
    for p in &lock.pins {
        assert!(p.start_line >= 1 && p.start_line <= p.end_line, "{p:?}");
        assert!(p.end_line <= lines, "{p:?} past line {lines}");
        assert_eq!(normalize_name(&p.name), p.name);
        assert!(!p.version.trim().is_empty(), "{p:?}");
        assert!(seen.insert((&p.name, &p.version)), "{p:?} twice");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lock = requirements::parse(&text);
    check(&lock, &text);
    for u in &lock.unpinned {
        assert!(u.starts_with("line "), "{u}");
    }
});
