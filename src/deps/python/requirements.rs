//! Requirements files as pip reads them: the pins (`name==version`, with
//! extras, markers and `--hash` options), the files included with
//! `-r`/`-c`, and every entry that pins nothing.
//!
//! Lines ending in a backslash are joined with the next (as pip does, a
//! line with a comment ends the joining); comments start with `#` at the
//! start of a line or after whitespace. On a requirement line everything
//! from the first token starting with `-` (`--hash=...`) is dropped, and
//! the rest is a PEP 508 requirement (`pep508_rs`). Markers are not
//! evaluated: every pin counts, whatever its marker, as a lockfile for one
//! platform still ships to others. This module does not open included
//! files (see `deps::pypi`).

use std::str::FromStr;

use pep508_rs::pep440_rs::Operator;
use pep508_rs::{Requirement, VersionOrUrl};

use super::{normalize_name, PyLock, PyPin};

/// One logical line: the physical lines joined, with its first and last
/// line numbers.
struct LogicalLine {
    text: String,
    start: u32,
    end: u32,
}

/// Whether a physical line holds a comment: `#` at its start or after
/// whitespace (pip's `(^|\s+)#`).
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()))
        .map(|(i, _)| i)
}

/// The file's logical lines, comments removed, blank ones dropped.
fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut pending: Option<LogicalLine> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let comment = comment_start(line);
        let body = comment.map_or(line, |c| &line[..c]);
        if comment.is_none() && line.ends_with('\\') {
            let part = &line[..line.len() - 1];
            match pending.as_mut() {
                Some(p) => {
                    p.text.push_str(part);
                    p.end = number;
                }
                None => {
                    pending = Some(LogicalLine {
                        text: part.to_string(),
                        start: number,
                        end: number,
                    })
                }
            }
            continue;
        }
        let joined = match pending.take() {
            Some(mut p) => {
                p.text.push_str(body);
                p.end = number;
                p
            }
            None => LogicalLine {
                text: body.to_string(),
                start: number,
                end: number,
            },
        };
        if !joined.text.trim().is_empty() {
            out.push(joined);
        }
    }
    if let Some(p) = pending.filter(|p| !p.text.trim().is_empty()) {
        out.push(p);
    }
    out
}

/// The value of an option line `-r FILE`, `-rFILE`, `--requirement FILE`
/// or `--requirement=FILE`, for the short and long names given.
fn option_value<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    let value = if let Some(rest) = line.strip_prefix(long) {
        if let Some(v) = rest.strip_prefix('=') {
            v
        } else if rest.starts_with(char::is_whitespace) {
            rest
        } else {
            return None;
        }
    } else {
        line.strip_prefix(short)?
    };
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

/// Reads a requirements file. It never fails: a line pip would refuse
/// pins nothing, and is counted among the unpinned entries with its line.
pub fn parse(text: &str) -> PyLock {
    let mut lock = PyLock::default();
    for line in logical_lines(text) {
        let trimmed = line.text.trim();
        if trimmed.starts_with('-') {
            if let Some(file) = option_value(trimmed, "-r", "--requirement")
                .or_else(|| option_value(trimmed, "-c", "--constraint"))
            {
                lock.includes.push(file.to_string());
            } else if option_value(trimmed, "-e", "--editable").is_some() {
                lock.unpinned.push(format!(
                    "line {}: {}",
                    line.start,
                    without_credentials(trimmed)
                ));
            }
            // Other options (indexes, hosts, --pre, ...) pin nothing.
            continue;
        }
        // pip drops everything from the first option on (`--hash=...`).
        let requirement = trimmed
            .split_whitespace()
            .take_while(|t| !t.starts_with('-'))
            .collect::<Vec<_>>()
            .join(" ");
        match pinned(&requirement) {
            Some((name, version)) => lock.push_pin(PyPin {
                name,
                version,
                start_line: line.start,
                end_line: line.end,
            }),
            None => lock.unpinned.push(format!(
                "line {}: {}",
                line.start,
                without_credentials(&requirement)
            )),
        }
    }
    lock
}

/// `text` with the user and password of every URL in it (`https://user:
/// token@host/...`) replaced by `****`: the warning that names unpinned
/// entries must not print a token that a VCS or index URL carries.
pub(crate) fn without_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '#', '?']).unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(userinfo_end) => {
                out.push_str("****");
                rest = &tail[userinfo_end..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// The normalised name and the version as written, when `requirement`
/// pins exactly one version (`==` or `===`, no `.*`); `None` for ranges,
/// URLs, paths and anything `pep508_rs` refuses.
pub(crate) fn pinned(requirement: &str) -> Option<(String, String)> {
    // pep508_rs 0.9.2 panics on a name that ends in `-`, `_` or `.` and is
    // followed by a character that cannot be in a name (`s-\u{fffd}`: its
    // `expect` "PackageName validation should match PEP 508 parsing";
    // found by fuzz/py_requirements). No valid requirement has such a
    // name, so it pins nothing and never reaches the parser.
    let name_end = requirement
        .trim_start()
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.trim_start().len());
    if requirement.trim_start()[..name_end].ends_with(['-', '_', '.']) {
        return None;
    }
    // The same `expect` guards its extras (`x[e0-]==1`, found by
    // fuzz/py_requirements): an extra ending in a separator pins nothing.
    if let Some(open) = requirement.find('[') {
        let close = requirement[open..]
            .find(']')
            .map_or(requirement.len(), |c| open + c);
        let bad_extra = requirement[open + 1..close]
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .any(|extra| extra.ends_with(['-', '_', '.']));
        if bad_extra {
            return None;
        }
    }
    // Markers are not evaluated (every pin counts), so only the part before
    // them is parsed; and pep508_rs 0.9.2 slices its error messages at byte
    // offsets that can fall inside a multi-byte character (a panic, found
    // by fuzz/py_requirements in a marker). A name and an exact version are
    // ASCII: anything else pins nothing.
    let before_marker = requirement.split(';').next().unwrap_or(requirement);
    if !before_marker.is_ascii() {
        return None;
    }
    let req = Requirement::<pep508_rs::VerbatimUrl>::from_str(before_marker).ok()?;
    let Some(VersionOrUrl::VersionSpecifier(specs)) = &req.version_or_url else {
        return None;
    };
    let [spec] = &specs[..] else { return None };
    if !matches!(spec.operator(), Operator::Equal | Operator::ExactEqual) {
        return None;
    }
    // The version as written: after the `==`, before any marker.
    let at = before_marker.rfind("==")?;
    let version = before_marker[at + 2..]
        .trim()
        .trim_end_matches(')')
        .trim()
        .to_string();
    if version.is_empty() {
        return None;
    }
    Some((normalize_name(req.name.as_ref()), version))
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
    fn pins_with_extras_markers_hashes_and_comments() {
        let text = "\
# a comment
-i https://pypi.org/simple
Flask_Profiler==1.8  # pinned
requests[security,socks]==2.22.0 ; python_version >= \"3.6\"
jinja2==2.10.3 \\
    --hash=sha256:aa \\
    --hash=sha256:bb
    # via flask
gevent===23.9.0.post1
django==1.0-1
-r base.txt
--constraint=constraints.txt
-e ./local
-e git+https://example.com/x.git#egg=x
flask>=2.0
attrs==19.*
six==1.0,!=1.1
foo @ https://example.com/foo.whl
./path/to/pkg
jinja2==2.10.3
";
        let lock = parse(text);
        assert_eq!(
            pins(&lock),
            vec![
                ("flask-profiler", "1.8", 3, 3),
                ("requests", "2.22.0", 4, 4),
                ("jinja2", "2.10.3", 5, 7),
                ("gevent", "23.9.0.post1", 9, 9),
                ("django", "1.0-1", 10, 10),
            ]
        );
        assert_eq!(lock.includes, vec!["base.txt", "constraints.txt"]);
        assert_eq!(lock.unpinned.len(), 7, "{:?}", lock.unpinned);
        assert!(lock.unpinned[0].starts_with("line 13: -e ./local"));
        assert!(lock.unpinned.iter().any(|u| u == "line 15: flask>=2.0"));
    }

    #[test]
    fn credentials_in_unpinned_urls_are_never_repeated() {
        let lock = parse(
            "-e git+https://user:ghp_0123456789abcdef@github.com/o/r.git#egg=r\nx @ https://tok@example.com/x.whl\n",
        );
        let all = lock.unpinned.join("\n");
        assert!(!all.contains("ghp_") && !all.contains("tok@"), "{all}");
        assert!(all.contains("git+https://****@github.com/o/r.git"), "{all}");
    }

    #[test]
    fn a_name_ending_in_a_separator_pins_nothing_and_never_panics() {
        for line in [
            "s-\u{fffd}",
            "a_==1.0",
            "b.[x]==1",
            "c- ==1",
            "d-",
            "caf\u{e9}==1.0",
            "e==1.\u{fffd}",
            "f[e0-]==1",
            "g[a,b_ ]==1",
        ] {
            assert_eq!(pinned(line), None, "{line}");
        }
        assert_eq!(
            pinned("a-b==1.0"),
            Some(("a-b".to_string(), "1.0".to_string()))
        );
    }

    #[test]
    fn a_comment_ends_a_continuation_and_crlf_is_read() {
        let lock = parse("a==1 \\\r\n# note \\\r\nb==2\r\n");
        assert_eq!(pins(&lock), vec![("a", "1", 1, 2), ("b", "2", 3, 3)]);
    }
}
