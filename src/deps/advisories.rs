//! The RustSec advisory database on disk: where it is, fetching it with
//! `git`, how old it is, and loading the advisories of the crates a scan
//! needs.
//!
//! The database keeps one folder per crate (`crates/<name>/RUSTSEC-*.md`),
//! so only the folders of crates that occur in the audited lockfiles are
//! read: the cost of a run follows the lockfiles, not the database. A
//! malformed advisory costs only itself. This module does not match
//! advisories against packages (that is `audit`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rustsec::advisory::{Advisory, Versions};
use rustsec::{Collection, Version, VersionReq};

pub use super::listing_cache::{DbSummary, Recheck};
use super::{listing_cache, FastSet};
use crate::finding::ScanError;
#[cfg(unix)]
use crate::source::dir::{open_folder, visible};
use crate::source::walk::open_no_block;

/// Where `tripline db fetch` clones from unless `[deps] db_url` says otherwise.
pub const DEFAULT_DB_URL: &str = "https://github.com/rustsec/advisory-db.git";

/// Default `--max-db-age`, in days.
pub const DEFAULT_MAX_AGE_DAYS: u64 = 90;

/// How many of the highest-numbered advisories are read to date a database
/// that is not a git checkout (see [`DbListing::newest_advisory_date`]).
const DATING_SAMPLE: usize = 64;

/// Where the database is looked for, and why.
#[derive(Debug, Clone)]
pub struct DbLocation {
    pub path: PathBuf,
    /// The user named it (`--db`, `[deps] db`): never swapped for cargo-audit's.
    pub explicit: bool,
}

/// `--db`, else `[deps] db`, else `$XDG_CACHE_HOME/tripline/advisory-db`
/// (`~/.cache/...`), else cargo-audit's `~/.cargo/advisory-db` when ours is
/// missing and that one exists.
pub fn locate(cli_db: Option<&Path>, config: &crate::config::Config) -> DbLocation {
    if let Some(p) = cli_db {
        return DbLocation {
            path: p.to_path_buf(),
            explicit: true,
        };
    }
    if let Some(p) = &config.deps.db {
        return DbLocation {
            path: config.resolve(p),
            explicit: true,
        };
    }
    let ours = default_cache_path();
    if !ours.exists() {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| home_dir().map(|h| h.join(".cargo")));
        if let Some(theirs) = cargo_home.map(|c| c.join("advisory-db")) {
            if theirs.join("crates").is_dir() {
                return DbLocation {
                    path: theirs,
                    explicit: false,
                };
            }
        }
    }
    DbLocation {
        path: ours,
        explicit: false,
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `$XDG_CACHE_HOME/tripline`, or `~/.cache/tripline`: tripline's own
/// cache, which no scanned tree controls.
fn cache_root() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("tripline")
}

/// `$XDG_CACHE_HOME/tripline/advisory-db`, or `~/.cache/tripline/advisory-db`.
pub fn default_cache_path() -> PathBuf {
    cache_root().join("advisory-db")
}

/// Whether `path` looks like a RustSec database (it has `crates/`).
pub fn is_database(path: &Path) -> bool {
    path.join("crates").is_dir()
}

/// Makes sure a database is at `loc`: fetches it when missing unless
/// `offline`. Errors name the path and the way out.
pub fn ensure(loc: &DbLocation, offline: bool, url: &str) -> Result<()> {
    if is_database(&loc.path) {
        return Ok(());
    }
    if loc.path.exists() && std::fs::read_dir(&loc.path).is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{} is not a RustSec advisory database (no crates/ folder); point --db at one or run `tripline db fetch`",
            loc.path.display()
        );
    }
    if offline {
        bail!(
            "no advisory database at {} and --offline forbids fetching it; run `tripline db fetch` first, or pass --db PATH to a copy of https://github.com/rustsec/advisory-db",
            loc.path.display()
        );
    }
    fetch(&loc.path, url)
}

/// Clones (shallow) or updates the database at `path` with the `git`
/// command line. A clone goes to a temporary folder beside `path` first, so
/// a failed one leaves nothing half-made.
pub fn fetch(path: &Path, url: &str) -> Result<()> {
    if path.join(".git").exists() {
        run_git(path, &["fetch", "--quiet", "--depth", "1", url, "HEAD"])
            .with_context(|| fetch_failed(url, path))?;
        run_git(path, &["reset", "--quiet", "--hard", "FETCH_HEAD"])
            .with_context(|| fetch_failed(url, path))?;
        return Ok(());
    }
    if path.exists() && std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{} exists and is not a git checkout; cannot update it (remove it, or pass --db to use it as it is)",
            path.display()
        );
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".advisory-db-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a temporary folder in {}", parent.display()))?;
    let dest = tmp.path().join("db");
    let dest_str = dest.to_string_lossy().into_owned();
    run_git(
        parent,
        &["clone", "--quiet", "--depth", "1", url, &dest_str],
    )
    .with_context(|| fetch_failed(url, path))?;
    if path.exists() {
        // An empty folder left by the user: replace it.
        let _ = std::fs::remove_dir(path);
    }
    std::fs::rename(&dest, path)
        .with_context(|| format!("cannot move the clone to {}", path.display()))?;
    Ok(())
}

fn fetch_failed(url: &str, path: &Path) -> String {
    format!(
        "cannot fetch the advisory database from {url} into {}; check the URL ([deps] db_url) and the network, or pass --db PATH to an existing copy",
        path.display()
    )
}

/// Runs `git` in `dir` with no prompts and no user hooks; stderr becomes the
/// error.
fn run_git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .context("cannot run `git` (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// What `db info` prints and the staleness check reads.
#[derive(Debug, Clone)]
pub struct DbAge {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// "last commit" or "newest advisory".
    pub judged_by: &'static str,
    pub commit: Option<String>,
}

/// The database's date: its last commit's when it is a git checkout, else
/// the newest advisory date (see [`DbListing::newest_advisory_date`]),
/// from `summary` or from a [`summarize`] made here, as the staleness
/// check of a scan makes it ([`Recheck::Recently`]).
pub fn age(path: &Path, summary: Option<&DbSummary>) -> Option<DbAge> {
    if path.join(".git").exists() {
        if let Some(age) = last_commit_age(path) {
            return Some(age);
        }
    }
    let made;
    let summary = match summary {
        Some(s) => s,
        None => {
            made = summarize(path, Recheck::Recently);
            &made
        }
    };
    summary.newest_date.clone().map(|date| DbAge {
        date,
        judged_by: "newest advisory",
        commit: None,
    })
}

/// The date of the commit checked out at `db`, a git checkout: remembered
/// by commit id in tripline's cache once `git log` has given it; `None`
/// when git cannot tell.
fn last_commit_age(db: &Path) -> Option<DbAge> {
    let cache = cache_root().join("db-listings");
    let head = head_commit(&db.join(".git"));
    let age = |date: String, commit: String| DbAge {
        date,
        judged_by: "last commit",
        commit: Some(commit),
    };
    if let Some(head) = head.as_deref() {
        if let Some(date) = listing_cache::commit_date(db, &cache, head) {
            return Some(age(date, head.to_string()));
        }
    }
    let out = run_git(db, &["log", "-1", "--format=%cI %H"]).ok()?;
    let (date, commit) = out.split_once(' ').filter(|(d, _)| d.len() >= 10)?;
    let (date, commit) = (date[..10].to_string(), commit.trim().to_string());
    // Remembered only when the reading of HEAD above agrees with git: a
    // layout it reads wrongly never serves a date.
    if head.as_deref() == Some(commit.as_str()) {
        listing_cache::remember_commit_date(db, &cache, &commit, &date);
    }
    Some(age(date, commit))
}

/// The commit checked out in the git folder `git_dir`, read from `HEAD`
/// and the loose or packed ref it names, in the plain layout git writes;
/// `None` for anything else (a worktree's `.git` file, a reftable, a ref
/// not found), and git is asked instead.
fn head_commit(git_dir: &Path) -> Option<String> {
    let is_id = |s: &str| {
        matches!(s.len(), 40 | 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim_end();
    let Some(name) = head.strip_prefix("ref: ") else {
        return is_id(head).then(|| head.to_string());
    };
    let plain = |part: &str| !part.is_empty() && !part.starts_with('.');
    if !name.starts_with("refs/") || !name.split('/').all(plain) {
        return None;
    }
    if let Ok(loose) = std::fs::read_to_string(git_dir.join(name)) {
        let id = loose.trim_end();
        return is_id(id).then(|| id.to_string());
    }
    let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (id, r) = line.split_once(' ')?;
        (r == name && is_id(id)).then(|| id.to_string())
    })
}

/// The summary of the database at `db`: remembered in tripline's cache
/// while the database's folders are unchanged, checked as `recheck` says
/// (see `listing_cache`), else listed.
pub fn summarize(db: &Path, recheck: Recheck) -> DbSummary {
    listing_cache::summarize(
        db,
        &cache_root().join("db-listings"),
        SystemTime::now(),
        recheck,
        || DbListing::scan(db).summary(),
    )
}

/// The crate folders of a database (`crates/<name>/`), listed once per
/// run, so that loading opens only the folders of locked crates that have
/// advisories instead of probing one path per locked crate.
#[derive(Debug, Default)]
pub struct DbIndex {
    root: PathBuf,
    crates: FastSet<String>,
    /// `crates/`, kept open: each crate folder is opened relative to it,
    /// and each advisory relative to its folder, so the kernel resolves
    /// one name per open instead of the database's whole path. A large
    /// lockfile opens a hundred folders and a hundred and fifty files,
    /// and those opens were most of loading's system time.
    #[cfg(unix)]
    crates_dir: Option<rustix::fd::OwnedFd>,
}

impl DbIndex {
    /// Lists `crates/` of the database at `db` (one directory: the
    /// folders' own contents are read only when a lockfile needs them),
    /// or recalls its listing while it is unchanged (see
    /// `listing_cache::crate_folders`). An unreadable database gives an
    /// empty index.
    #[cfg(unix)]
    pub fn open(db: &Path) -> DbIndex {
        let crates_dir = open_folder(rustix::fs::CWD, db.join("crates"));
        let mut crates = FastSet::default();
        if let Some(dir) = &crates_dir {
            let list = || {
                let mut names = Vec::new();
                let mut buf = vec![std::mem::MaybeUninit::uninit(); 32 * 1024];
                list_folder(dir, &mut buf, |name| names.push(name.to_string()));
                names
            };
            let cache = cache_root().join("db-listings");
            let now = SystemTime::now();
            crates.extend(listing_cache::crate_folders(db, dir, &cache, now, list));
        }
        DbIndex {
            root: db.to_path_buf(),
            crates,
            crates_dir,
        }
    }

    #[cfg(not(unix))]
    pub fn open(db: &Path) -> DbIndex {
        DbIndex {
            root: db.to_path_buf(),
            crates: folder_names(&db.join("crates")).into_iter().collect(),
        }
    }

    /// The names among `crates` that have a folder in the database. Only
    /// plain names qualify: a lockfile's names come from a scanned file.
    pub fn with_folders<'n>(&self, crates: impl IntoIterator<Item = &'n str>) -> Vec<&'n str> {
        crates.into_iter().filter(|n| self.has_folder(n)).collect()
    }

    /// Whether crate `name` has a folder in the database (see
    /// [`with_folders`](Self::with_folders)).
    pub fn has_folder(&self, name: &str) -> bool {
        !name.contains(['/', '\\']) && !name.starts_with('.') && self.crates.contains(name)
    }

    /// The advisories in crate `name`'s folder, each file's path with what
    /// it gave (see [`sort_loaded`]). With the `locked` versions of the
    /// crate, an advisory whose `[versions]` leave them all unaffected is
    /// not parsed (it gives `None`, as a draft does); with `None`, every
    /// one is.
    pub fn load_crate(&self, name: &str, locked: Option<&[Version]>) -> CrateAdvisories {
        let path = self.root.join("crates").join(name);
        let Some(folder) = self.crate_folder(name) else {
            return Vec::new();
        };
        folder
            .files
            .iter()
            .map(|file| {
                let path = path.join(file);
                let advisory = folder
                    .read(file)
                    .map_err(|e| format!("cannot read advisory: {e}"))
                    .and_then(|text| judge_one(&text, &path, name, locked));
                (path, advisory)
            })
            .collect()
    }

    /// Crate `name`'s folder; `None` when it cannot be opened.
    #[cfg(unix)]
    fn crate_folder(&self, name: &str) -> Option<CrateFolder> {
        let fd = open_folder(self.crates_dir.as_ref()?, name)?;
        let mut files = Vec::new();
        list_folder(&fd, &mut [std::mem::MaybeUninit::uninit(); 4096], |file| {
            if file.ends_with(".md") {
                files.push(file.to_string());
            }
        });
        files.sort_unstable();
        Some(CrateFolder { fd, files })
    }

    #[cfg(not(unix))]
    fn crate_folder(&self, name: &str) -> Option<CrateFolder> {
        let path = self.root.join("crates").join(name);
        Some(CrateFolder {
            files: advisory_files(&path),
            path,
        })
    }

    /// What [`load_crate`](Self::load_crate) gives for a crate whose
    /// loading panicked.
    pub fn load_panicked(&self, name: &str) -> CrateAdvisories {
        vec![(
            self.root.join("crates").join(name),
            Err("the advisory parser panicked".to_string()),
        )]
    }

    /// The advisories of those of `crates` that have a folder, loaded on
    /// `threads` threads and sorted (see [`sort_loaded`]).
    pub fn load_for_crates<'n>(
        &self,
        crates: impl IntoIterator<Item = &'n str>,
        threads: usize,
    ) -> (Vec<Advisory>, Vec<ScanError>) {
        let wanted = self.with_folders(crates);
        sort_loaded(super::map_claimed(
            &wanted,
            threads,
            |name| self.load_crate(name, None),
            |name| self.load_panicked(name),
        ))
    }
}

/// A crate's folder in the database: its advisory files' names, sorted,
/// and the folder to read them from.
struct CrateFolder {
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
    #[cfg(not(unix))]
    path: PathBuf,
    files: Vec<String>,
}

impl CrateFolder {
    /// Advisory `file` of this folder. Opened without blocking: a FIFO
    /// given an advisory's name would otherwise hang the run on `open`
    /// (it then reads as empty, and is reported as malformed); a regular
    /// file reads the same either way.
    #[cfg(unix)]
    fn read(&self, file: &str) -> std::io::Result<String> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let fd = rustix::fs::openat(&self.fd, file, flags, Mode::empty())?;
        read_advisory(std::fs::File::from(fd))
    }

    #[cfg(not(unix))]
    fn read(&self, file: &str) -> std::io::Result<String> {
        read_advisory(open_no_block(&self.path.join(file))?)
    }
}

/// One crate's advisory files as loaded: each one's path, and its advisory,
/// `None` for a draft, or what is wrong with it.
pub type CrateAdvisories = Vec<(PathBuf, Result<Option<Advisory>, String>)>;

/// The advisories of loaded crates, and a [`ScanError`] naming each file
/// that does not parse or whose name or folder disagrees with its id and
/// package: the others still count.
pub fn sort_loaded(
    loaded: impl IntoIterator<Item = CrateAdvisories>,
) -> (Vec<Advisory>, Vec<ScanError>) {
    let mut advisories = Vec::new();
    let mut errors = Vec::new();
    for (path, loaded) in loaded.into_iter().flatten() {
        match loaded {
            Ok(Some(a)) => advisories.push(a),
            Ok(None) => {}
            Err(message) => errors.push(ScanError {
                path: Some(path.display().to_string()),
                message,
            }),
        }
    }
    (advisories, errors)
}

/// What a listing of a whole database tells: how many advisories it holds
/// (crates and toolchain) and which are its highest-numbered ones, what
/// dating a database that is not a git checkout and counting its
/// advisories need. It is a thousand small directory reads, so a scan
/// makes it beside the audit, never before it; and it keeps no name but
/// the few highest ids, as allocating one per file was most of its own
/// time.
#[derive(Debug, Default)]
pub struct DbListing {
    count: usize,
    /// The [`DATING_SAMPLE`] highest `RUSTSEC-*` file names with the
    /// folder holding each, the least first.
    highest: BinaryHeap<Reverse<(String, PathBuf)>>,
}

impl DbListing {
    /// Lists the database at `db`; unreadable folders are passed over.
    pub fn scan(db: &Path) -> DbListing {
        let mut listing = DbListing::default();
        for group in ["crates", "rust"] {
            let dir = db.join(group);
            visit_folders(&dir, &mut |folder, file| listing.add(&dir, folder, file));
        }
        listing
    }

    fn add(&mut self, dir: &Path, folder: &str, file: &str) {
        if !file.ends_with(".md") {
            return;
        }
        self.count += 1;
        if !file.starts_with("RUSTSEC-") {
            return;
        }
        let full = self.highest.len() >= DATING_SAMPLE;
        if full
            && self
                .highest
                .peek()
                .is_some_and(|Reverse((low, _))| file <= low.as_str())
        {
            return;
        }
        self.highest
            .push(Reverse((file.to_string(), dir.join(folder))));
        if full {
            self.highest.pop();
        }
    }

    /// How many advisories the database holds (crates and toolchain).
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn summary(&self) -> DbSummary {
        DbSummary {
            count: self.count,
            newest_date: self.newest_advisory_date(),
        }
    }

    /// The newest `date` among the database's most recent advisories.
    /// RustSec numbers advisories in the order it publishes them, so the
    /// newest date is among the highest ids; only those few files are read.
    pub fn newest_advisory_date(&self) -> Option<String> {
        self.highest
            .iter()
            .filter_map(|Reverse((name, folder))| advisory_date(&folder.join(name)))
            .max()
    }
}

/// The `date = "YYYY-MM-DD"` of an advisory's front matter. The front
/// matter opens the file, so its first block is read, and the whole file
/// only when the date is not in it. Opened without blocking, as loading
/// opens advisories (see [`CrateFolder::read`]).
fn advisory_date(file: &Path) -> Option<String> {
    use std::io::Read;
    let find = |text: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("date = "))
            .map(|d| d.trim_matches('"').to_string())
            .filter(|d| parse_ymd(d).is_some())
    };
    let mut head = [0u8; 1024];
    let n = open_no_block(file).ok()?.read(&mut head).ok()?;
    // A line cut at the end of the block is left to the whole-file read.
    let complete = head[..n]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    find(&String::from_utf8_lossy(&head[..complete])).or_else(|| {
        (n == head.len())
            .then(|| read_advisory(open_no_block(file).ok()?).ok())
            .flatten()
            .and_then(|t| find(&t))
    })
}

/// The names in directory `dir`, dotfiles left out; empty when it cannot
/// be read.
#[cfg(not(unix))]
fn folder_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

/// The sorted advisory file names of one folder (no dotfiles).
#[cfg(not(unix))]
fn advisory_files(folder: &Path) -> Vec<String> {
    let mut names = folder_names(folder);
    names.retain(|n| n.ends_with(".md"));
    names.sort_unstable();
    names
}

/// Calls `visit(name)` for each entry of the open folder `dir`, dotfiles
/// left out, names read in place from `getdents` through `buf`.
#[cfg(unix)]
fn list_folder(
    dir: &rustix::fd::OwnedFd,
    buf: &mut [std::mem::MaybeUninit<u8>],
    mut visit: impl FnMut(&str),
) {
    let mut entries = rustix::fs::RawDir::new(dir, buf);
    while let Some(Ok(entry)) = entries.next() {
        if let Some(name) = visible(entry.file_name()) {
            visit(name);
        }
    }
}

/// Calls `visit(folder, file)` for each file of each folder of `dir`
/// (dotfiles left out). On Unix each folder is opened relative to `dir`'s
/// descriptor and read with bare `getdents` into one buffer, names used
/// where the kernel put them: the portable `read_dir` resolves the whole
/// path, adds an `fstat` and allocates a name per entry, which made
/// listing a database several times slower.
#[cfg(unix)]
fn visit_folders(dir: &Path, visit: &mut dyn FnMut(&str, &str)) {
    use std::mem::MaybeUninit;
    let Some(parent) = open_folder(rustix::fs::CWD, dir) else {
        return;
    };
    let mut folder_buf = vec![MaybeUninit::<u8>::uninit(); 32 * 1024];
    let mut file_buf = vec![MaybeUninit::<u8>::uninit(); 8 * 1024];
    list_folder(&parent, &mut folder_buf, |folder| {
        if let Some(fd) = open_folder(&parent, folder) {
            list_folder(&fd, &mut file_buf, |file| visit(folder, file));
        }
    });
}

#[cfg(not(unix))]
fn visit_folders(dir: &Path, visit: &mut dyn FnMut(&str, &str)) {
    for folder in folder_names(dir) {
        for file in folder_names(&dir.join(&folder)) {
            visit(&folder, &file);
        }
    }
}

/// One advisory file's `text` (read from `file`), with the checks
/// rustsec's own loader applies (file named after the id, folder after
/// the package). Drafts and placeholders
/// give `None`, and so does an advisory that cannot apply to any of the
/// `locked` versions (see [`may_apply`]).
fn judge_one(
    text: &str,
    file: &Path,
    crate_dir: &str,
    locked: Option<&[Version]>,
) -> Result<Option<Advisory>, String> {
    if locked.is_some_and(|locked| !may_apply(text, locked)) {
        return Ok(None);
    }
    // rustsec quotes the first 20 bytes of a file that does not open with
    // the front matter, slicing the text there: a multi-byte character
    // across byte 20 made it panic (found by fuzzing). Checked here first.
    if !text.starts_with("```toml") {
        return Err(
            "malformed advisory, skipped: unexpected start of advisory (it must open with a ```toml front matter block)"
                .to_string(),
        );
    }
    let mut adv: Advisory = text.parse().map_err(|e: rustsec::Error| {
        format!("malformed advisory, skipped: {}", one_line(&e.to_string()))
    })?;
    if Advisory::is_draft(file) || adv.metadata.id.is_placeholder() {
        return Ok(None);
    }
    let expected = format!("{}.md", adv.metadata.id);
    if file.file_name().and_then(OsStr::to_str) != Some(expected.as_str()) {
        return Err(format!(
            "advisory skipped: its id says it should be named {expected}"
        ));
    }
    if adv.metadata.package.as_str() != crate_dir {
        return Err(format!(
            "advisory skipped: it is about `{}` but sits in crates/{crate_dir}/",
            adv.metadata.package
        ));
    }
    match adv.metadata.collection {
        Some(Collection::Crates) | None => adv.metadata.collection = Some(Collection::Crates),
        Some(_) => return Err("advisory skipped: collection is not `crates`".to_string()),
    }
    Ok(Some(adv))
}

/// The text of an open advisory file. Not as `fs::read_to_string` reads it,
/// asking the file's size and position first: advisories are small (99 %
/// under 5 KB in the real database), so a buffer that size, read until
/// the end, spares two system calls in six, for each of the hundreds of
/// files a large lockfile loads. (`Take` hides the file from the standard
/// library's sized read.)
fn read_advisory(file: std::fs::File) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::with_capacity(8 * 1024);
    file.take(u64::MAX).read_to_string(&mut text)?;
    Ok(text)
}

/// Whether the advisory in `text` may apply to one of the `locked`
/// versions of its crate, judged from its `[versions]` table alone. An
/// advisory applies to a version only if that table says it is affected
/// (rustsec's `Versions::is_vulnerable`, which is used here too), so one
/// that leaves every locked version unaffected need not be parsed; and
/// parsing is most of the cost of loading (TOML, then dates, CVSS vectors
/// and URLs), while most advisories of a locked crate are about versions
/// long since replaced. A table not in the plain form (see
/// [`plain_versions`]) says `true`: the whole advisory is parsed, and
/// rustsec decides. So a malformed advisory is reported whenever it could
/// apply; one that cannot is passed over like an advisory of a crate that
/// is not locked.
fn may_apply(text: &str, locked: &[Version]) -> bool {
    match plain_versions(text) {
        Some(versions) => locked.iter().any(|v| versions.is_vulnerable(v)),
        None => true,
    }
}

/// The `[versions]` table of an advisory, read without a TOML parser when
/// it is written as the database writes it: the front matter names
/// `versions` once, in a `[versions]` header line, and the table holds
/// only `patched` and `unaffected`, each once, each an array of plain
/// double-quoted strings on one line or several, nothing after the `]`.
/// Anything else (comments, escapes, other keys, CRLF line ends) is `None`.
fn plain_versions(text: &str) -> Option<Versions> {
    use memchr::memmem;
    let front = text.strip_prefix("```toml\n")?;
    let front = &front[..memmem::find(front.as_bytes(), b"\n```")?];
    if memmem::find_iter(front.as_bytes(), b"versions")
        .nth(1)
        .is_some()
    {
        return None;
    }
    const HEADER: &str = "\n[versions]\n";
    let table = &front[memmem::find(front.as_bytes(), HEADER.as_bytes())? + HEADER.len()..];
    let mut rest = &table[..table.find("\n[").unwrap_or(table.len())];
    let (mut patched, mut unaffected) = (None, None);
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let (key, value) = rest.split_once('=')?;
        let value = value.trim_start().strip_prefix('[')?;
        let close = value.find(']')?;
        rest = &value[close + 1..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        if !rest[..line_end].trim().is_empty() {
            return None;
        }
        let slot = match key.trim() {
            "patched" => &mut patched,
            "unaffected" => &mut unaffected,
            _ => return None,
        };
        if slot.replace(plain_requirements(&value[..close])?).is_some() {
            return None;
        }
    }
    Versions::new(patched?, unaffected.unwrap_or_default()).ok()
}

/// The items of a TOML array of plain strings (`"a", "b",`) as version
/// requirements; `None` for anything else.
fn plain_requirements(items: &str) -> Option<Vec<VersionReq>> {
    if items.contains(['\\', '\'', '#']) {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = items.trim_start();
    while !rest.is_empty() {
        let quoted = rest.strip_prefix('"')?;
        let end = quoted.find('"')?;
        out.push(quoted[..end].parse().ok()?);
        rest = quoted[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// A parser's multi-line message (TOML errors draw a caret under the
/// source) as one line: its first line and its last, which says what is wrong.
fn one_line(msg: &str) -> String {
    let lines: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [first, .., last] => format!("{first}: {last}"),
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian).
pub fn parse_ymd(s: &str) -> Option<i64> {
    let mut it = s.get(..10)?.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if s.get(4..5) != Some("-") || s.get(7..8) != Some("-") || !(1..=12).contains(&m) {
        return None;
    }
    if !(1..=days_in_month(y, m)).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Today in days since 1970-01-01 (UTC). `TRIPLINE_TODAY=YYYY-MM-DD`
/// overrides it, so tests of expiry do not depend on the calendar.
pub fn today() -> i64 {
    if let Some(d) = std::env::var("TRIPLINE_TODAY")
        .ok()
        .and_then(|s| parse_ymd(&s))
    {
        return d;
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `git` in `dir`, its trimmed output; the test fails if it does.
    fn git_in(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// HEAD is read as git reads it: a loose ref, a packed one, a detached
    /// HEAD; a worktree's `.git` file and a missing ref are left to git.
    #[test]
    fn head_commit_agrees_with_git_or_gives_up() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path();
        git_in(dir, &["init", "-q"]);
        std::fs::write(dir.join("a"), "a").unwrap();
        git_in(dir, &["add", "a"]);
        git_in(dir, &["commit", "-q", "-m", "one"]);
        let git_dir = dir.join(".git");
        let first = git_in(dir, &["rev-parse", "HEAD"]);
        assert_eq!(head_commit(&git_dir).as_deref(), Some(first.as_str()));
        git_in(dir, &["pack-refs", "--all"]);
        std::fs::write(dir.join("a"), "b").unwrap();
        git_in(dir, &["commit", "-q", "-am", "two"]);
        let second = git_in(dir, &["rev-parse", "HEAD"]);
        assert_ne!(first, second);
        assert_eq!(head_commit(&git_dir).as_deref(), Some(second.as_str()));
        git_in(dir, &["pack-refs", "--all"]);
        assert!(!git_dir.join("refs/heads").read_dir().unwrap().any(|_| true));
        assert_eq!(head_commit(&git_dir).as_deref(), Some(second.as_str()));
        git_in(dir, &["checkout", "-q", "--detach", &first]);
        assert_eq!(head_commit(&git_dir).as_deref(), Some(first.as_str()));
        std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/nowhere\n").unwrap();
        assert_eq!(head_commit(&git_dir), None);
        std::fs::write(git_dir.join("HEAD"), "ref: refs/../../HEAD\n").unwrap();
        assert_eq!(head_commit(&git_dir), None);
        let worktree = tempfile::tempdir().unwrap();
        std::fs::write(worktree.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert_eq!(head_commit(&worktree.path().join(".git")), None);
    }

    /// A commit's date is remembered under its id and path: another commit
    /// or another checkout is a miss.
    #[test]
    fn a_commit_date_is_remembered_by_commit_and_path() {
        let cache = tempfile::tempdir().unwrap();
        let (db, other) = (Path::new("/srv/db"), Path::new("/srv/other"));
        let id = "a".repeat(40);
        assert_eq!(listing_cache::commit_date(db, cache.path(), &id), None);
        listing_cache::remember_commit_date(db, cache.path(), &id, "2024-05-01");
        let date = listing_cache::commit_date(db, cache.path(), &id);
        assert_eq!(date.as_deref(), Some("2024-05-01"));
        assert_eq!(
            listing_cache::commit_date(db, cache.path(), &"b".repeat(40)),
            None
        );
        assert_eq!(listing_cache::commit_date(other, cache.path(), &id), None);
    }

    const PLAIN: &str = "```toml\n[advisory]\nid = \"RUSTSEC-2024-0001\"\npackage = \"x\"\ndate = \"2024-01-01\"\n\n[versions]\npatched = [\n    \">= 1.2.3\",\n    \"^0.9.4\",\n]\nunaffected = [\"< 0.5\"]\n```\n\n# Title\n";

    #[test]
    fn plain_versions_reads_the_table_as_the_database_writes_it() {
        let v = plain_versions(PLAIN).unwrap();
        let reqs = |r: &[&str]| {
            r.iter()
                .map(|s| s.parse().unwrap())
                .collect::<Vec<VersionReq>>()
        };
        assert_eq!(v.patched(), reqs(&[">= 1.2.3", "^0.9.4"]));
        assert_eq!(v.unaffected(), reqs(&["< 0.5"]));
        let version = |s: &str| s.parse::<Version>().unwrap();
        assert!(may_apply(PLAIN, &[version("1.0.0")]));
        assert!(!may_apply(
            PLAIN,
            &[version("1.2.3"), version("0.9.5"), version("0.4.0")]
        ));
        // Patched only, and nothing patched (every version affected).
        let only_patched = PLAIN.replace("unaffected = [\"< 0.5\"]\n", "");
        assert!(plain_versions(&only_patched)
            .unwrap()
            .unaffected()
            .is_empty());
        assert!(
            plain_versions(&PLAIN.replace("[\n    \">= 1.2.3\",\n    \"^0.9.4\",\n]", "[]"))
                .is_some()
        );
    }

    #[test]
    fn plain_versions_leaves_any_other_form_to_the_parser() {
        for odd in [
            PLAIN.replace('\n', "\r\n"),
            PLAIN.replace("\"^0.9.4\",", "\"^0.9.4\", # a comment"),
            PLAIN.replace(
                "unaffected = [\"< 0.5\"]",
                "unaffected = [\"< 0.5\"] # a comment",
            ),
            PLAIN.replace("unaffected", "affected"),
            PLAIN.replace(
                "unaffected = [\"< 0.5\"]\n",
                "unaffected = [\"< 0.5\"]\nunaffected = []\n",
            ),
            PLAIN.replace("patched = [", "keywords = [\"old versions\"]\npatched = ["),
            PLAIN.replace("[versions]", "[ versions ]"),
            PLAIN.replace("\">= 1.2.3\"", "\">= 1.2.\\u0033\""),
            PLAIN.replace("\">= 1.2.3\"", "'>= 1.2.3'"),
            PLAIN.replace("\">= 1.2.3\"", "\"not a requirement\""),
            PLAIN.replace("\">= 1.2.3\",", "\">= 1.2.3\" \"^0.9.4\","),
            PLAIN.replace("patched = [", "unaffected_too = [\"< 0.1\"]\npatched = ["),
            PLAIN.replace(
                "[versions]\npatched = [\n    \">= 1.2.3\",\n    \"^0.9.4\",\n]\n",
                "[versions]\n",
            ),
            PLAIN.replace("```toml\n", "```\n"),
        ] {
            assert!(plain_versions(&odd).is_none(), "{odd}");
            assert!(may_apply(&odd, &["99.0.0".parse().unwrap()]), "{odd}");
        }
    }

    /// Wherever the quick reading of `[versions]` gives an answer, it is
    /// the one rustsec's parser gives: on the fixture database, and on the
    /// real one in `../shared` when `TRIPLINE_SHARED` names it (`.ci/run`).
    #[test]
    fn plain_versions_agree_with_rustsec_on_every_advisory() {
        let mut dbs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps/advisory-db")];
        dbs.extend(
            std::env::var_os("TRIPLINE_SHARED").map(|s| PathBuf::from(s).join("advisory-db")),
        );
        for db in dbs {
            let (mut read, mut total) = (0, 0);
            for folder in std::fs::read_dir(db.join("crates")).unwrap() {
                for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
                    let path = file.unwrap().path();
                    let text = std::fs::read_to_string(&path).unwrap();
                    total += 1;
                    let Some(quick) = plain_versions(&text) else {
                        continue;
                    };
                    read += 1;
                    let parsed: Advisory = text
                        .parse()
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    assert_eq!(quick, parsed.versions, "{}", path.display());
                }
            }
            // Most advisories take the quick path, or it would save little.
            assert!(
                read * 10 >= total * 7,
                "{}: {read} of {total}",
                db.display()
            );
        }
    }

    #[test]
    fn dates_count_days() {
        assert_eq!(parse_ymd("1970-01-01"), Some(0));
        assert_eq!(parse_ymd("2000-03-01"), Some(11_017));
        assert_eq!(
            parse_ymd("2026-11-23").unwrap() - parse_ymd("2026-08-21").unwrap(),
            94
        );
        assert_eq!(parse_ymd("2026-02-29"), None);
        assert_eq!(parse_ymd("2024-02-29").map(|d| d > 0), Some(true));
        assert_eq!(parse_ymd("next week"), None);
    }

    #[test]
    fn default_location_honours_xdg() {
        // Read-only check of the rule, not of the environment: the path ends
        // the same way wherever the cache is.
        assert!(default_cache_path().ends_with("tripline/advisory-db"));
    }

    /// An empty scratch folder for a database, in the system's temp dir.
    fn scratch_db(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tripline-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn advisory(db: &Path, folder: &str, id: &str, date: &str, padding: usize) {
        let dir = db.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            "```toml\n[advisory]\nid = \"{id}\"\n# {}\npackage = \"x\"\ndate = \"{date}\"\n```\n\n# Title\n",
            "x".repeat(padding)
        );
        std::fs::write(dir.join(format!("{id}.md")), text).unwrap();
    }

    #[test]
    fn a_listing_counts_every_advisory_and_dates_by_the_highest_ids() {
        let db = scratch_db("listing");
        // More advisories than the dating sample, the newest date on the
        // highest id, in a folder listed among many.
        for i in 0..(DATING_SAMPLE + 40) {
            let date = format!("2020-01-{:02}", 1 + i % 28);
            advisory(
                &db,
                &format!("crates/c{i}"),
                &format!("RUSTSEC-2020-{i:04}"),
                &date,
                0,
            );
        }
        advisory(&db, "crates/c7", "RUSTSEC-2025-0001", "2025-06-30", 0);
        // The toolchain's advisories count too; a non-advisory file does not.
        advisory(&db, "rust/std", "CVE-2024-0001", "2024-01-01", 0);
        std::fs::write(db.join("crates/c7/README.txt"), "not an advisory").unwrap();
        std::fs::create_dir_all(db.join("crates/.hidden")).unwrap();
        std::fs::write(db.join("crates/.hidden/RUSTSEC-2099-0001.md"), "").unwrap();

        let listing = DbListing::scan(&db);
        assert_eq!(listing.count(), DATING_SAMPLE + 42);
        assert_eq!(
            listing.newest_advisory_date().as_deref(),
            Some("2025-06-30")
        );
        std::fs::remove_dir_all(&db).unwrap();
    }

    #[test]
    fn a_date_past_the_first_block_is_still_read() {
        let db = scratch_db("late-date");
        advisory(&db, "crates/a", "RUSTSEC-2024-0001", "2024-05-06", 5000);
        let file = db.join("crates/a/RUSTSEC-2024-0001.md");
        assert_eq!(advisory_date(&file).as_deref(), Some("2024-05-06"));
        std::fs::remove_dir_all(&db).unwrap();
    }
}
