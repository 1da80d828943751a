//! The TOML lockfiles: `poetry.lock` (lock format 1.x and 2.x), `pdm.lock`,
//! `uv.lock` and `pylock.toml` (PEP 751).
//!
//! All four list one table per locked package with its `name` and
//! `version`; they differ only in the table's name (`[[package]]`, uv's
//! 2024 previews' `[[distribution]]`, PEP 751's `[[packages]]`) and in
//! what an entry without a version means. So one reader serves them, with
//! the differences spelled out in [`parse`]. Only the fields a pin needs
//! are read: the rest of each table (files, hashes, dependencies) is
//! skipped unparsed into values.

use serde::Deserialize;
use toml::Spanned;

use super::{line_of, normalize_name, ParseError, PyFormat, PyLock, PyPin};

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    package: Vec<Spanned<Entry>>,
    #[serde(default)]
    distribution: Vec<Spanned<Entry>>,
    #[serde(default)]
    packages: Vec<Spanned<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    version: Option<String>,
    /// uv: `{ registry = ... }`, `{ editable = "." }`, `{ virtual = "." }`,
    /// `{ git = ... }`; poetry: `{ type = ..., url = ... }`.
    #[serde(default)]
    source: Option<toml::Table>,
}

/// Reads a TOML lockfile of `format` (one of the four above).
pub fn parse(format: PyFormat, text: &str) -> Result<PyLock, ParseError> {
    let doc: Document = toml::from_str(text).map_err(|e| ParseError {
        line: e.span().map(|s| line_of(text, s.start)),
        // The message may repeat a string of the file: masked, as a
        // lockfile is a scanned file and the string may be a token.
        message: crate::deps::lockfile::describe_parse_error(text, e.message()),
    })?;
    let (entries, table) = match format {
        PyFormat::Pylock => (doc.packages, "packages"),
        PyFormat::Uv if doc.package.is_empty() => (doc.distribution, "distribution"),
        _ => (doc.package, "package"),
    };
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
        .collect();
    let mut lock = PyLock::default();
    for entry in entries {
        let span = entry.span();
        let entry = entry.into_inner();
        let start_line = line_of(text, span.start);
        let end_line = entry_end_line(text, &line_starts, start_line, table);
        if format == PyFormat::Uv
            && entry
                .source
                .as_ref()
                .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"))
        {
            // The project itself and its workspace members: not published
            // packages, and not versioned.
            continue;
        }
        // Older PDM locks (and some poetry ones) write extras into the name.
        let bare = entry.name.split('[').next().unwrap_or(&entry.name);
        match entry.version.filter(|v| !v.trim().is_empty()) {
            Some(version) => lock.push_pin(PyPin {
                name: normalize_name(bare),
                version: version.trim().to_string(),
                start_line,
                end_line,
            }),
            None => lock
                .unpinned
                .push(format!("line {start_line}: {} (no version)", entry.name)),
        }
    }
    Ok(lock)
}

/// The last line of the entry whose `[[table]]` header is on `start_line`:
/// the last non-blank line before the next header that is not one of its
/// own subtables (`[table.dependencies]`). The parser's span of an entry
/// covers only its header.
fn entry_end_line(text: &str, line_starts: &[usize], start_line: u32, table: &str) -> u32 {
    let own = [format!("[{table}."), format!("[[{table}.")];
    let mut end = start_line;
    let first = usize::try_from(start_line).unwrap_or(usize::MAX);
    for (i, &at) in line_starts.iter().enumerate().skip(first) {
        let next = line_starts.get(i + 1).copied().unwrap_or(text.len());
        let line = text.get(at..next).unwrap_or("").trim();
        if line.starts_with('[') && !own.iter().any(|o| line.starts_with(o.as_str())) {
            break;
        }
        if !line.is_empty() && !line.starts_with('#') {
            end = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pins(lock: &PyLock) -> Vec<(&str, &str, u32, u32)> {
        lock.pins
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.start_line,
                    p.end_line,
                )
            })
            .collect()
    }

    #[test]
    fn poetry_entries_with_their_lines() {
        let text = "\
[[package]]
name = \"Django\"
version = \"3.2.1\"
description = \"x\"

[package.dependencies]
asgiref = \">=3.3.2,<4\"

[[package]]
name = \"uvicorn[standard]\"
version = \"0.13.4\"

[metadata]
lock-version = \"2.0\"
";
        let lock = parse(PyFormat::Poetry, text).unwrap();
        let got = pins(&lock);
        assert_eq!(got[0].0, "django");
        assert_eq!(got[0].1, "3.2.1");
        assert_eq!(got[0].2, 1);
        assert!(got[0].3 >= 3, "{got:?}");
        assert_eq!((got[1].0, got[1].1, got[1].2), ("uvicorn", "0.13.4", 9));
    }

    #[test]
    fn uv_skips_the_project_and_keeps_forks() {
        let text = "\
version = 1

[[package]]
name = \"luigi\"
source = { editable = \".\" }

[[package]]
name = \"numpy\"
version = \"1.24.4\"
source = { registry = \"https://pypi.org/simple\" }

[[package]]
name = \"numpy\"
version = \"2.0.2\"
source = { registry = \"https://pypi.org/simple\" }

[[package]]
name = \"member\"
source = { virtual = \"member\" }

[[package]]
name = \"from-git\"
version = \"0.1.0\"
source = { git = \"https://example.com/x.git\" }
";
        let lock = parse(PyFormat::Uv, text).unwrap();
        let got: Vec<_> = pins(&lock).iter().map(|p| (p.0, p.1, p.2)).collect();
        assert_eq!(
            got,
            vec![
                ("numpy", "1.24.4", 7),
                ("numpy", "2.0.2", 12),
                ("from-git", "0.1.0", 21)
            ]
        );
        assert!(lock.unpinned.is_empty());
    }

    #[test]
    fn pylock_without_version_is_unpinned_and_bad_toml_names_its_line() {
        let text = "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\nversion = \"1.0\"\n[[packages]]\nname = \"b\"\n";
        let lock = parse(PyFormat::Pylock, text).unwrap();
        assert_eq!(pins(&lock), vec![("a", "1.0", 2, 4)]);
        assert_eq!(lock.unpinned, vec!["line 5: b (no version)"]);
        let err = parse(
            PyFormat::Poetry,
            "[[package]]\nname = \"a\"\nversion = 1.0.0\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        let err = parse(PyFormat::Pdm, "[[package]]\nversion = \"1\"\n").unwrap_err();
        assert!(err.message.contains("name"), "{err}");
    }
}
