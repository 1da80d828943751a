//! A `Pipfile.lock` of arbitrary bytes through `deps::python::parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline::deps::python::{self, normalize_name, PyFormat};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX);
    match python::parse(PyFormat::Pipfile, &text) {
        Ok(lock) => {
            for p in &lock.pins {
                assert!(p.start_line >= 1 && p.start_line <= p.end_line, "{p:?}");
                assert!(p.end_line <= lines, "{p:?} past line {lines}");
                assert_eq!(normalize_name(&p.name), p.name);
                assert!(!p.version.is_empty());
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            if let Some(line) = e.line {
                assert!(line >= 1 && line <= lines, "{e} past line {lines}");
            }
        }
    }
});
