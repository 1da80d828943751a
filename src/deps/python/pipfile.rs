//! `Pipfile.lock`: the JSON lock of pipenv. Its `default` and `develop`
//! sections map package names to entries; an entry pins when its
//! `version` is `==X` (or `===X`); editable, path and VCS entries have
//! none and are counted as unpinned.
//!
//! `serde_json` gives no positions, so each entry's line is found in the
//! text after the parse: the first `"name":` key after its section's key.
//! Where that search fails (a name written with JSON escapes), the entry is
//! placed at its section's line rather than dropped.

use serde::Deserialize;
use std::collections::BTreeMap;

use super::{line_of, normalize_name, ParseError, PyLock, PyPin};

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    default: Option<BTreeMap<String, Entry>>,
    #[serde(default)]
    develop: Option<BTreeMap<String, Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    version: Option<String>,
}

/// Reads a `Pipfile.lock`.
pub fn parse(text: &str) -> Result<PyLock, ParseError> {
    let doc: Document = serde_json::from_str(text).map_err(|e| ParseError {
        line: u32::try_from(e.line()).ok().filter(|&l| l > 0),
        message: crate::deps::lockfile::describe_parse_error(text, &e.to_string()),
    })?;
    let mut lock = PyLock::default();
    for (section, entries) in [("default", doc.default), ("develop", doc.develop)] {
        let Some(entries) = entries else { continue };
        let section_at = find_key(text, section, 0).unwrap_or(0);
        // In file order, as the other readers give theirs.
        // pipenv writes the keys sorted, as the map iterates them: each
        // search starts where the last one ended, so finding them all is
        // one pass (from the section's start only when that fails).
        let mut from = section_at;
        let mut placed: Vec<(usize, String, Entry)> = entries
            .into_iter()
            .map(|(name, entry)| {
                let at = find_key(text, &name, from)
                    .or_else(|| find_key(text, &name, section_at))
                    .unwrap_or(section_at);
                from = at.max(from);
                (at, name, entry)
            })
            .collect();
        placed.sort_by_key(|(at, _, _)| *at);
        for (at, name, entry) in placed {
            let line = line_of(text, at);
            let version = entry.version.as_deref().and_then(|v| {
                let v = v.trim();
                v.strip_prefix("===")
                    .or_else(|| v.strip_prefix("=="))
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && !v.contains(['*', ',', '<', '>', '!', '~']))
            });
            match version {
                Some(v) => lock.push_pin(PyPin {
                    name: normalize_name(&name),
                    version: v.to_string(),
                    start_line: line,
                    end_line: entry_end_line(text, at).unwrap_or(line),
                }),
                None => lock.unpinned.push(format!(
                    "line {line}: {name} ({})",
                    entry.version.as_deref().unwrap_or("no version")
                )),
            }
        }
    }
    Ok(lock)
}

/// Where the key `"name":` first occurs at or after byte `from`.
fn find_key(text: &str, name: &str, from: usize) -> Option<usize> {
    let quoted = format!("\"{name}\"");
    let mut start = from;
    while let Some(rel) = text.get(start..)?.find(&quoted) {
        let at = start + rel;
        let after = text[at + quoted.len()..].trim_start();
        if after.starts_with(':') {
            return Some(at);
        }
        start = at + quoted.len();
    }
    None
}

/// The line of the `}` closing the entry whose key is at `at`: the
/// entry's object holds no braces of its own (hashes, markers and
/// versions are strings without them in practice), so the first `}`
/// after its `{` closes it.
fn entry_end_line(text: &str, at: usize) -> Option<u32> {
    let open = at + text.get(at..)?.find('{')?;
    let close = open + text.get(open..)?.find('}')?;
    Some(line_of(text, close))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_develop_in_file_order_with_lines() {
        let text = r#"{
    "_meta": {"hash": {"sha256": "x"}},
    "default": {
        "zope.interface": {
            "hashes": ["sha256:aa"],
            "version": "==5.4.0"
        },
        "Django": {
            "version": "==3.2.1"
        },
        "local": {
            "editable": true,
            "path": "."
        }
    },
    "develop": {
        "django": {"version": "==3.2.1"},
        "pytest": {"version": "==6.2.5"}
    }
}"#;
        let lock = parse(text).unwrap();
        let got: Vec<_> = lock
            .pins
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.start_line,
                    p.end_line,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("zope-interface", "5.4.0", 4, 7),
                ("django", "3.2.1", 8, 10),
                ("pytest", "6.2.5", 18, 18)
            ]
        );
        assert_eq!(lock.unpinned, vec!["line 11: local (no version)"]);
    }

    #[test]
    fn bad_json_names_its_line() {
        let err = parse("{\n\"default\": {\n\"a\": {\"version\": \"==1\"},,\n}}").unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
    }
}
