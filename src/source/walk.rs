//! The tree walker: every file of the scan root that a scanner should see,
//! read on all cores.
//!
//! Built on `ignore::WalkBuilder::build_parallel`, so `.gitignore`, `.ignore`,
//! `.git/info/exclude` and `.triplineignore` are honoured as ripgrep honours
//! them. Unlike ripgrep, hidden files are scanned (secrets live in `.env`,
//! `.npmrc`, `.docker/config.json`), and `.git/` is never entered.
//!
//! What it does not do: decide what a file means. It hands each file's bytes
//! (or, when contents are not wanted, its path) to a visitor, and reports
//! what it skipped and what it could not read. It never writes anything and
//! never opens anything but regular files.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

use crate::finding::{ScanError, ScanStats};

/// The name of tripline's own ignore file (gitignore syntax).
pub const IGNORE_FILE: &str = ".triplineignore";

/// How many leading bytes decide whether a file is binary.
const BINARY_PROBE: usize = 8 * 1024;

/// A worker's read buffer starts at this size, and goes back to it after a
/// file larger than [`KEPT_BUFFER`]: one 100 MB file must not keep 100 MB
/// per thread for the rest of the walk.
const READ_BUFFER: usize = 64 * 1024;
const KEPT_BUFFER: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct WalkOptions {
    pub follow_links: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// Extra gitignore-style patterns (from the config's `[scan] exclude`).
    pub excludes: Vec<String>,
    /// When false, files are not opened: the visitor gets paths only.
    pub read_contents: bool,
    /// `--config-rev`: the trusted revision's `.triplineignore` files,
    /// applied in place of every `.triplineignore` the tree itself holds.
    pub trusted_ignore: Option<TrustedIgnore>,
}

/// `.triplineignore` files read from elsewhere than the scanned tree (a
/// trusted git revision), matched as gitignore matches nested files: the
/// deepest file with a matching pattern decides, and its last matching
/// pattern (a `!` re-includes).
#[derive(Clone, Debug, Default)]
pub struct TrustedIgnore {
    /// (folder relative to the root, `/`-separated, `""` for the root;
    /// its patterns), deepest folder first.
    matchers: Vec<(String, ignore::gitignore::Gitignore)>,
}

impl TrustedIgnore {
    /// The files as (folder relative to the root, text). Invalid patterns
    /// are left out and returned as errors naming the file.
    pub fn new(files: &[(String, String)]) -> (TrustedIgnore, Vec<ScanError>) {
        let mut errors = Vec::new();
        let mut matchers = Vec::new();
        for (dir, text) in files {
            let name = if dir.is_empty() {
                IGNORE_FILE.to_owned()
            } else {
                format!("{dir}/{IGNORE_FILE}")
            };
            // Rooted at `.`: matched against paths relative to `dir`.
            let mut b = ignore::gitignore::GitignoreBuilder::new(".");
            for line in text.lines() {
                if let Err(e) = b.add_line(None, line) {
                    errors.push(ScanError {
                        path: Some(name.clone()),
                        message: format!("invalid pattern {line:?} in the trusted revision: {e}"),
                    });
                }
            }
            match b.build() {
                Ok(m) => matchers.push((dir.trim_matches('/').to_owned(), m)),
                Err(e) => errors.push(ScanError {
                    path: Some(name),
                    message: format!("invalid patterns in the trusted revision: {e}"),
                }),
            }
        }
        matchers.sort_by_key(|(dir, _)| {
            std::cmp::Reverse(dir.matches('/').count() + usize::from(!dir.is_empty()))
        });
        (TrustedIgnore { matchers }, errors)
    }

    /// Whether `rel_path` (relative to the root, `/`-separated) is ignored.
    pub fn is_ignored(&self, rel_path: &str, is_dir: bool) -> bool {
        for (dir, m) in &self.matchers {
            let inner = if dir.is_empty() {
                Some(rel_path)
            } else {
                rel_path
                    .strip_prefix(dir.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            let Some(inner) = inner.filter(|i| !i.is_empty()) else {
                continue;
            };
            match m.matched(inner, is_dir) {
                ignore::Match::Ignore(_) => return true,
                ignore::Match::Whitelist(_) => return false,
                ignore::Match::None => {}
            }
        }
        false
    }
}

/// One file handed to the visitor.
pub struct WalkedFile<'a> {
    /// Relative to the scan root, `/`-separated (for a root that is a file:
    /// its file name).
    pub rel_path: &'a str,
    pub path: &'a Path,
    /// Empty when `read_contents` is off.
    pub content: &'a [u8],
}

/// Why a file was not scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    TooLarge,
    Binary,
    NotRegular,
    /// With `--follow`: a link whose target is outside the scan root.
    OutsideRoot,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::TooLarge => "larger than --max-file-size",
            SkipReason::Binary => "binary",
            SkipReason::NotRegular => "not a regular file",
            SkipReason::OutsideRoot => "symbolic link to outside the scan root, not followed",
        }
    }
}

/// What the walk saw, beyond what the visitor did with it.
#[derive(Debug, Default)]
pub struct WalkSummary {
    pub stats: ScanStats,
    pub skipped_too_large: u64,
    pub skipped_binary: u64,
    pub skipped_special: u64,
}

/// Callbacks from the walker threads. All are called concurrently.
pub trait Visitor: Sync {
    fn file(&self, file: &WalkedFile<'_>);
    fn skipped(&self, _rel_path: &str, _reason: SkipReason) {}
    fn error(&self, error: ScanError);
}

/// Walks `root` with `opts`, calling `visitor` from all worker threads.
pub fn walk(root: &Path, opts: &WalkOptions, visitor: &dyn Visitor) -> WalkSummary {
    let counters = Counters::default();
    // Where links may lead when followed: the root as the file system
    // knows it (the root itself may be reached through a link).
    let bounds = opts
        .follow_links
        .then(|| std::fs::canonicalize(root).ok())
        .flatten();
    let walk = Walk {
        root,
        bounds: bounds.as_deref(),
        opts,
        visitor,
        counters: &counters,
    };
    if opts.threads <= 1 && bounds.is_none() {
        // On the calling thread: the parallel walker starts a worker even
        // for one thread, and a new thread waits for a core before its
        // first step (on a small virtual machine, often half a
        // millisecond: a tenth of a one-lockfile audit). Only without
        // `--follow`, where no folder is ever skipped: the iterator could
        // not be kept out of one.
        let mut buf = Vec::with_capacity(READ_BUFFER);
        for entry in builder(root, opts, visitor).build() {
            walk.step(&mut buf, entry);
        }
        return counters.into_summary();
    }
    let walker = builder(root, opts, visitor).build_parallel();
    walker.run(|| {
        // Each worker keeps one read buffer for its whole life, so reading
        // 50,000 files does not mean 50,000 allocations.
        let mut buf = Vec::with_capacity(READ_BUFFER);
        let walk = &walk;
        Box::new(move |entry| walk.step(&mut buf, entry))
    });
    counters.into_summary()
}

/// What every worker of one walk shares.
struct Walk<'a> {
    root: &'a Path,
    /// The canonical root when links are followed: links leading outside
    /// it are not.
    bounds: Option<&'a Path>,
    opts: &'a WalkOptions,
    visitor: &'a dyn Visitor,
    counters: &'a Counters,
}

fn builder(root: &Path, opts: &WalkOptions, visitor: &dyn Visitor) -> WalkBuilder {
    let mut b = WalkBuilder::new(root);
    b.hidden(false)
        .follow_links(opts.follow_links)
        .threads(opts.threads)
        // .gitignore applies in an exported tree too (a tarball, a CI
        // artifact): what the project meant not to commit is not its code.
        .require_git(false)
        .git_global(false);
    match &opts.trusted_ignore {
        None => {
            b.add_custom_ignore_filename(IGNORE_FILE)
                .filter_entry(|e| e.file_name() != ".git");
        }
        Some(trusted) => {
            // The tree's own `.triplineignore` files are not read: the
            // trusted revision's apply instead, as a filter on entries.
            let trusted = trusted.clone();
            let root = root.to_path_buf();
            b.filter_entry(move |e| {
                if e.file_name() == ".git" {
                    return false;
                }
                let Ok(rel) = e.path().strip_prefix(&root) else {
                    return true;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                !trusted.is_ignored(&rel, is_dir)
            });
        }
    }
    if !opts.excludes.is_empty() {
        let mut ov = ignore::overrides::OverrideBuilder::new(root);
        for pat in &opts.excludes {
            // Overrides whitelist by default; `!` turns a pattern into an
            // exclusion, which is what `[scan] exclude` means.
            if let Err(e) = ov.add(&format!("!{pat}")) {
                visitor.error(ScanError {
                    path: None,
                    message: format!("invalid exclude pattern {pat:?}: {e}"),
                });
            }
        }
        match ov.build() {
            Ok(ov) => {
                b.overrides(ov);
            }
            Err(e) => visitor.error(ScanError {
                path: None,
                message: format!("invalid exclude patterns: {e}"),
            }),
        }
    }
    b
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    too_large: AtomicU64,
    binary: AtomicU64,
    special: AtomicU64,
}

impl Counters {
    fn into_summary(self) -> WalkSummary {
        let too_large = self.too_large.into_inner();
        let binary = self.binary.into_inner();
        let special = self.special.into_inner();
        WalkSummary {
            stats: ScanStats {
                files_scanned: self.files.into_inner(),
                bytes_scanned: self.bytes.into_inner(),
                files_skipped: too_large + binary + special,
                lockfiles_audited: 0,
            },
            skipped_too_large: too_large,
            skipped_binary: binary,
            skipped_special: special,
        }
    }

    fn skip(&self, visitor: &dyn Visitor, rel: &str, reason: SkipReason) {
        let c = match reason {
            SkipReason::TooLarge => &self.too_large,
            SkipReason::Binary => &self.binary,
            SkipReason::NotRegular | SkipReason::OutsideRoot => &self.special,
        };
        c.fetch_add(1, Ordering::Relaxed);
        visitor.skipped(rel, reason);
    }
}

impl Walk<'_> {
    /// One item of the walk, an entry or an error (reported, and the walk
    /// goes on).
    fn step(&self, buf: &mut Vec<u8>, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(entry) => self.visit(buf, &entry),
            Err(err) => {
                report_walk_error(self.root, self.visitor, &err);
                WalkState::Continue
            }
        }
    }

    /// Hands one entry to the visitor; `Skip` keeps the walk out of a
    /// followed link's folder outside the root.
    fn visit(&self, buf: &mut Vec<u8>, entry: &ignore::DirEntry) -> WalkState {
        // With follow_links the type is the target's, so a link to a FIFO or
        // to /dev/zero is seen as what it is; without, a link is not a file.
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue;
        };
        if self.leads_outside(entry) {
            let rel = relative_path(self.root, entry.path());
            self.counters
                .skip(self.visitor, &rel, SkipReason::OutsideRoot);
            return WalkState::Skip;
        }
        if !ft.is_dir() {
            self.visit_file(buf, entry, ft);
        }
        WalkState::Continue
    }

    /// With `--follow`, whether `entry` is a link whose target lies outside
    /// the root: a checkout's link to `~/.aws/credentials` or to `/` must
    /// not pull the rest of the machine into the report.
    fn leads_outside(&self, entry: &ignore::DirEntry) -> bool {
        let Some(bounds) = self.bounds else {
            return false;
        };
        entry.depth() > 0
            && entry.path_is_symlink()
            && std::fs::canonicalize(entry.path()).is_ok_and(|target| !target.starts_with(bounds))
    }

    fn visit_file(&self, buf: &mut Vec<u8>, entry: &ignore::DirEntry, ft: std::fs::FileType) {
        let (opts, visitor, counters) = (self.opts, self.visitor, self.counters);
        let rel = relative_path(self.root, entry.path());
        if !ft.is_file() {
            // Symlinks we do not follow are not content of the tree; only
            // FIFOs, sockets and devices count as skipped.
            if !ft.is_symlink() {
                counters.skip(visitor, &rel, SkipReason::NotRegular);
            }
            return;
        }
        if !opts.read_contents {
            visitor.file(&WalkedFile {
                rel_path: &rel,
                path: entry.path(),
                content: &[],
            });
            return;
        }
        let read = read_regular_file(entry.path(), opts.max_file_size, buf);
        match read {
            Ok(ReadOutcome::Read) => {
                counters.files.fetch_add(1, Ordering::Relaxed);
                counters
                    .bytes
                    .fetch_add(buf.len() as u64, Ordering::Relaxed);
                visitor.file(&WalkedFile {
                    rel_path: &rel,
                    path: entry.path(),
                    content: buf,
                });
            }
            Ok(ReadOutcome::Skipped(reason)) => counters.skip(visitor, &rel, reason),
            Err(e) => visitor.error(io_error(&rel, &e)),
        }
        if buf.capacity() > KEPT_BUFFER {
            *buf = Vec::with_capacity(READ_BUFFER);
        }
    }
}

enum ReadOutcome {
    Read,
    Skipped(SkipReason),
}

/// Reads a file into `buf`, refusing anything that is not a regular file by
/// the time it is open (the walk's type check and the open are not atomic),
/// a binary file (judged on its head, see [`looks_binary`]), or one over
/// `max` bytes.
///
/// What is read is the file as long as it was when opened: reads ask for
/// exactly that many bytes, so a file takes one `read` (two when over
/// [`BINARY_PROBE`]) and no further one to find its end, which is a third
/// of the system calls of a scan of small files. A file that grows while
/// it is read is scanned up to its size at open, never past `max`; one that
/// shrinks, up to where it ends.
fn read_regular_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> io::Result<ReadOutcome> {
    buf.clear();
    let mut file = open_no_block(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(ReadOutcome::Skipped(SkipReason::NotRegular));
    }
    let len = meta.len();
    if len > max {
        return Ok(ReadOutcome::Skipped(SkipReason::TooLarge));
    }
    // The whole file in one allocation of its size (growing by doubling
    // would overshoot a 100 MB file by a third).
    buf.reserve_exact(usize::try_from(len).unwrap_or(0));
    // The head first: a binary file (a quarter of the bytes of a tree of
    // Rust crates, in static libraries) is skipped without reading the rest.
    (&mut file)
        .take(len.min(BINARY_PROBE as u64))
        .read_to_end(buf)?;
    if looks_binary(buf) {
        buf.clear();
        return Ok(ReadOutcome::Skipped(SkipReason::Binary));
    }
    let rest = len.saturating_sub(buf.len() as u64);
    if rest > 0 {
        file.take(rest).read_to_end(buf)?;
    }
    Ok(ReadOutcome::Read)
}

/// Opens for reading without blocking: if a FIFO was swapped in after the
/// walk looked, a blocking open would wait for a writer forever.
#[cfg(unix)]
pub(crate) fn open_no_block(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
pub(crate) fn open_no_block(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// A file is binary when its first 8 KiB hold a NUL byte, unless it is
/// UTF-16 text, which is full of NULs and is scanned (decoded by the engine).
pub fn looks_binary(content: &[u8]) -> bool {
    let head = &content[..content.len().min(BINARY_PROBE)];
    if !head.contains(&0) {
        return false;
    }
    super::utf16_encoding(head).is_none()
}

/// `path` relative to `root`, `/`-separated. The root itself (when the user
/// scanned a single file) is named by its file name.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let rel = match path.strip_prefix(root) {
        Ok(r) if !r.as_os_str().is_empty() => r.to_path_buf(),
        Ok(_) if path.is_dir() => PathBuf::from("."),
        _ => path.file_name().map(PathBuf::from).unwrap_or_default(),
    };
    let s = rel.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn io_error(rel: &str, e: &io::Error) -> ScanError {
    ScanError {
        path: Some(rel.to_string()),
        message: format!("cannot read: {}", describe_io_error(e)),
    }
}

/// The OS error in the words of a scan: what happened to the file.
fn describe_io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "vanished during the scan".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        // ENAMETOOLONG: a tree nested deeper than the OS lets a path name.
        io::ErrorKind::InvalidFilename => {
            "path too long for the operating system (over PATH_MAX); not entered".to_string()
        }
        _ if is_link_loop(e) => "symbolic link loop (a link to itself); not followed".to_string(),
        _ => e.to_string(),
    }
}

/// ELOOP: following links led back to a link (with `--follow`, a link to
/// itself or a cycle of links that the walker's own check does not see).
#[cfg(unix)]
fn is_link_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_link_loop(_: &io::Error) -> bool {
    false
}

fn report_walk_error(root: &Path, visitor: &dyn Visitor, err: &ignore::Error) {
    let mut e = walk_error(root, err);
    // With --follow, a link to nothing fails as "not found": it did not
    // vanish, it never pointed anywhere.
    if let (Some(rel), Some(io)) = (&e.path, err.io_error()) {
        let link = root.join(rel);
        if io.kind() == io::ErrorKind::NotFound
            && std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink())
        {
            e.message = "broken symbolic link (its target does not exist)".to_string();
        }
    }
    visitor.error(e);
}

/// Turns the walker's nested error into one line naming the path.
fn walk_error(root: &Path, err: &ignore::Error) -> ScanError {
    match err {
        ignore::Error::WithPath { path, err } => {
            let mut e = walk_error(root, err);
            e.path = Some(relative_path(root, path));
            e
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(root, err)
        }
        ignore::Error::Loop { ancestor, child } => ScanError {
            path: Some(relative_path(root, child)),
            message: format!(
                "symbolic link loop (points back to {}); not followed",
                relative_path(root, ancestor)
            ),
        },
        ignore::Error::Io(e) => ScanError {
            path: None,
            message: describe_io_error(e),
        },
        other => ScanError {
            path: None,
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_ignore_files_nest_as_gitignore_does() {
        let (t, errors) = TrustedIgnore::new(&[
            (String::new(), "*.env\nbuild/\n".into()),
            ("app".into(), "!keep.env\nlocal/\n".into()),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(t.is_ignored("a.env", false));
        assert!(t.is_ignored("app/x.env", false));
        // The deeper file's `!` re-includes what the root's pattern ignores.
        assert!(!t.is_ignored("app/keep.env", false));
        assert!(t.is_ignored("app/local", true));
        assert!(!t.is_ignored("local", true), "app's patterns stay in app/");
        assert!(t.is_ignored("build", true));
        assert!(!t.is_ignored("src/main.rs", false));
        assert!(!TrustedIgnore::default().is_ignored("a.env", false));
    }

    #[test]
    fn nul_means_binary_but_utf16_does_not() {
        assert!(!looks_binary(b"plain text\n"));
        assert!(looks_binary(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"));
        let utf16le: Vec<u8> = "key = value\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(!looks_binary(&utf16le));
        let mut bom = vec![0xFF, 0xFE];
        bom.extend_from_slice(&utf16le);
        assert!(!looks_binary(&bom));
    }

    #[test]
    fn relative_paths_use_slashes_and_name_a_file_root() {
        let root = Path::new("/a/b");
        assert_eq!(relative_path(root, Path::new("/a/b/c/d.txt")), "c/d.txt");
        assert_eq!(
            relative_path(Path::new("/a/b/x.env"), Path::new("/a/b/x.env")),
            "x.env"
        );
    }

    #[test]
    fn a_binary_head_skips_the_file_and_a_late_nul_does_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let binary = dir.path().join("lib.a");
        let mut bytes = b"!<arch>\n\0\0".to_vec();
        bytes.resize(64 * 1024, b'x');
        std::fs::write(&binary, &bytes).expect("write");
        let late = dir.path().join("late.txt");
        let mut text = vec![b'a'; BINARY_PROBE + 10];
        text.push(0);
        std::fs::write(&late, &text).expect("write");
        let mut buf = Vec::new();
        assert!(matches!(
            read_regular_file(&binary, u64::MAX, &mut buf),
            Ok(ReadOutcome::Skipped(SkipReason::Binary))
        ));
        assert!(buf.is_empty());
        assert!(matches!(
            read_regular_file(&late, u64::MAX, &mut buf),
            Ok(ReadOutcome::Read)
        ));
        assert_eq!(buf, text);
        // The size limit still holds for a file that is read in two parts.
        assert!(matches!(
            read_regular_file(&late, BINARY_PROBE as u64, &mut buf),
            Ok(ReadOutcome::Skipped(SkipReason::TooLarge))
        ));
    }
}
