//! Python lockfile readers: every pinned package of a requirements file,
//! `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pdm.lock` or `pylock.toml`,
//! with the lines of its entry.
//!
//! Each reader turns the text of one file into a [`PyLock`]: the pins
//! (PEP 503 normalised name, the version exactly as written, the line range
//! of the entry) and the entries that pin nothing (editable installs, URLs,
//! paths, ranges), which are counted and named, never guessed. Requirements
//! files also name the files they include (`-r`, `-c`); following them is
//! the caller's job, as only it knows the scan root. This module reads no
//! file, knows no advisory and formats no output.

pub mod pipfile;
pub mod requirements;
pub mod toml_locks;

/// The formats the readers know, chosen by file name ([`format_of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PyFormat {
    Requirements,
    Poetry,
    Pipfile,
    Uv,
    Pdm,
    Pylock,
}

impl PyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PyFormat::Requirements => "requirements",
            PyFormat::Poetry => "poetry",
            PyFormat::Pipfile => "pipfile",
            PyFormat::Uv => "uv",
            PyFormat::Pdm => "pdm",
            PyFormat::Pylock => "pylock",
        }
    }
}

/// One pinned package of a Python lockfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyPin {
    /// PEP 503 normalised: what advisories are compared by.
    pub name: String,
    /// As written in the lockfile (`1.0-1`, not `1.0.post1`): what the
    /// finding shows.
    pub version: String,
    /// 1-based, inclusive: the entry's lines (a requirement with its
    /// `--hash` continuation lines, a `[[package]]` table).
    pub start_line: u32,
    pub end_line: u32,
}

/// What one Python lockfile pins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PyLock {
    /// In file order; a (name, version) pair listed twice (two sections,
    /// two sets of extras) only once, at its first entry.
    pub pins: Vec<PyPin>,
    /// Entries with no exact version, as written (`-e .`, `flask>=2`):
    /// not audited, named in one warning per file.
    pub unpinned: Vec<String>,
    /// Requirements files only: the files included with `-r` / `-c`, as
    /// written, relative to the including file's folder.
    pub includes: Vec<String>,
}

impl PyLock {
    /// Adds a pin unless the same name and version are pinned already.
    fn push_pin(&mut self, pin: PyPin) {
        if !self
            .pins
            .iter()
            .any(|p| p.name == pin.name && p.version == pin.version)
        {
            self.pins.push(pin);
        }
    }
}

/// A lockfile that does not parse: the problem and, when known, its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The format of a Python lockfile, from its file name (the last `/`
/// component of `rel_path`): the lock formats by their fixed names, and
/// requirements files as Dependabot finds them (`*requirements*.txt`,
/// `*constraints*.txt`, any `.txt` in a `requirements/` or
/// `requirements.d/` folder). `None` for anything else; `[deps]
/// python_lockfiles` globs add other requirements files (the caller
/// matches those).
pub fn format_of(rel_path: &str) -> Option<PyFormat> {
    let mut parts = rel_path.rsplit('/');
    let name = parts.next()?;
    let parent = parts.next();
    match name {
        "poetry.lock" => return Some(PyFormat::Poetry),
        "Pipfile.lock" => return Some(PyFormat::Pipfile),
        "uv.lock" => return Some(PyFormat::Uv),
        "pdm.lock" => return Some(PyFormat::Pdm),
        "pylock.toml" => return Some(PyFormat::Pylock),
        _ => {}
    }
    if name.starts_with("pylock.") && name.ends_with(".toml") {
        return Some(PyFormat::Pylock);
    }
    let lower = name.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".txt") {
        if stem.contains("requirements")
            || stem.contains("constraints")
            || matches!(parent, Some("requirements" | "requirements.d"))
        {
            return Some(PyFormat::Requirements);
        }
    }
    None
}

/// Reads `text` as a lockfile of `format`.
pub fn parse(format: PyFormat, text: &str) -> Result<PyLock, ParseError> {
    match format {
        PyFormat::Requirements => Ok(requirements::parse(text)),
        PyFormat::Pipfile => pipfile::parse(text),
        PyFormat::Poetry | PyFormat::Uv | PyFormat::Pdm | PyFormat::Pylock => {
            toml_locks::parse(format, text)
        }
    }
}

/// A package name under PEP 503: lower case, every run of `-`, `_` and
/// `.` one `-`. Written here rather than taken from `pep508_rs`, whose
/// `PackageName` refuses names that are not valid distribution names:
/// advisories and old lockfiles hold a few, and they must still compare.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> u32 {
    let upto = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    u32::try_from(memchr::memchr_iter(b'\n', upto).count() + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_as_pep_503_says() {
        assert_eq!(normalize_name("Flask_Profiler"), "flask-profiler");
        assert_eq!(normalize_name("jw.util"), "jw-util");
        assert_eq!(normalize_name("a-_.-b"), "a-b");
        assert_eq!(normalize_name("Django"), "django");
    }

    #[test]
    fn formats_follow_the_file_name() {
        for (path, want) in [
            ("poetry.lock", Some(PyFormat::Poetry)),
            ("a/b/Pipfile.lock", Some(PyFormat::Pipfile)),
            ("uv.lock", Some(PyFormat::Uv)),
            ("pdm.lock", Some(PyFormat::Pdm)),
            ("pylock.toml", Some(PyFormat::Pylock)),
            ("pylock.dev.toml", Some(PyFormat::Pylock)),
            ("requirements.txt", Some(PyFormat::Requirements)),
            ("dev-requirements.txt", Some(PyFormat::Requirements)),
            ("constraints.txt", Some(PyFormat::Requirements)),
            ("requirements/main.txt", Some(PyFormat::Requirements)),
            ("x/requirements.d/base.txt", Some(PyFormat::Requirements)),
            ("notes.txt", None),
            ("requirements.in", None),
            ("Cargo.lock", None),
            ("docs/main.txt", None),
        ] {
            assert_eq!(format_of(path), want, "{path}");
        }
    }
}
