//! Remembered listings of an advisory database.
//!
//! Dating a database that is not a git checkout, and counting its
//! advisories, lists every crate folder (a thousand of them: see
//! the advisory module's `DbListing`), and that listing was the largest single cost
//! of auditing one lockfile. What it
//! finds only changes when some folder's entries change, and an entry
//! added, removed or renamed moves that folder's modification and change
//! times. So the summary (count, newest date) is kept in the user's cache
//! directory with a digest of every folder's name, inode and times, and
//! is used again while the digest holds: one `stat` per folder instead of
//! an open, a read and a close, about a quarter of the cost. Even those
//! thousand `stat`s were a fifth of a one-lockfile audit, so a scan
//! trusts a digest checked in the last [`RECHECK_SECS`] while the group
//! folders themselves are unchanged (see [`Recheck`]); `db info` always
//! checks every folder.
//!
//! What it cannot see: a file rewritten in place keeps its folder's times.
//! New advisories are new files, so a newer database always shows (within
//! the recheck period); only an edit to the date of an existing advisory
//! goes unseen until some folder changes. A listing made while a folder had just changed (within
//! [`SETTLE_SECS`]) is not kept: a second change in the same clock tick
//! would leave the times as they were (git's "racily clean" problem).
//!
//! Loading needs less: which crates have a folder, a listing of `crates/`
//! alone (a thousand entries, on ext4 a third of a millisecond on the
//! critical path of a one-lockfile audit). Those names change only when
//! a folder is added, removed or renamed in `crates/`, which moves that
//! one folder's times; [`crate_folders`] keeps them under its stamp, so
//! that one `fstat` and one small read replace the listing. And a git
//! checkout is dated by its checked-out commit, whose date never changes:
//! [`commit_date`] keeps it by commit id, so `git log` runs once per
//! commit instead of once per scan.
//!
//! This module never lists advisories itself and never reads them; a
//! cache it cannot read or write is a cache miss, never an error. It
//! writes only under an absolute cache folder: never into the folder a
//! run happens to start in.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::finding::lower_hex;

/// What a listing of the whole database tells `db info` and the
/// staleness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSummary {
    /// Advisories in the database (crates and toolchain).
    pub count: usize,
    /// The newest advisory's date (see `advisories::DbListing`).
    pub newest_date: Option<String>,
}

/// Folders changed this recently (seconds) make a listing not worth
/// keeping: see the module docs.
const SETTLE_SECS: i64 = 2;

/// The first line of a cache file; a format change bumps it.
const HEADER: &str = "tripline db listing v2";

/// How long (seconds) a summary checked against every folder is taken
/// again on the word of the group folders alone (see [`Recheck`]).
pub const RECHECK_SECS: i64 = 15 * 60;

/// How much of the database a remembered summary is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// Every folder's times, on every call (`db info`, and the first use
    /// after [`RECHECK_SECS`]).
    Always,
    /// Within [`RECHECK_SECS`] of the last full check, only the identity
    /// and times of the group folders (`crates`, `rust`): a crate folder
    /// added, removed or renamed, or the database replaced, still shows
    /// at once; an advisory added to a folder that exists shows at the
    /// next full check. Stating every folder cost a thousand system
    /// calls, a fifth of a one-lockfile audit, to learn that nothing
    /// changed; and the only answer it can correct here is a staleness
    /// warning for a database updated in place in the last minutes.
    Recently,
}

/// The first line of a file of remembered crate folder names.
const CRATES_HEADER: &str = "tripline crate folders v1";

/// The first line of a file remembering a checkout's commit date.
const COMMIT_HEADER: &str = "tripline db commit v1";

/// The date remembered for commit `commit` of the git checkout at `db`
/// (see [`remember_commit_date`]). A commit's date never changes: the
/// commit id is the whole key, and a checkout moved to another commit is
/// simply a miss.
pub fn commit_date(db: &Path, cache_dir: &Path, commit: &str) -> Option<String> {
    let path = absolute_text(db)?;
    let body = read_entry(
        &cache_file(cache_dir, &path, "-commit"),
        COMMIT_HEADER,
        &path,
    )?;
    let mut lines = body.lines();
    if lines.next()?.strip_prefix("commit ")? != commit {
        return None;
    }
    lines.next()?.strip_prefix("date ").map(str::to_string)
}

/// Remembers that commit `commit` of the git checkout at `db` is dated
/// `date`, for [`commit_date`]: dating a checkout ran `git log`, a process
/// of its own on every scan.
pub fn remember_commit_date(db: &Path, cache_dir: &Path, commit: &str, date: &str) {
    let Some(path) = absolute_text(db) else {
        return;
    };
    if [commit, date].iter().any(|v| v.contains(['\n', '\r'])) {
        return;
    }
    let file = cache_file(cache_dir, &path, "-commit");
    let body = format!("commit {commit}\ndate {date}\n");
    // A cache that cannot be written only costs the next run a `git log`.
    let _ = write_entry(&file, COMMIT_HEADER, &path, &body);
}

/// `db` made absolute (not resolved: no system call) as one line of
/// text; `None` when it is not UTF-8 or holds a line break.
fn absolute_text(db: &Path) -> Option<String> {
    std::path::absolute(db)
        .ok()
        .and_then(|p| p.to_str().map(str::to_string))
        .filter(|p| !p.contains(['\n', '\r']))
}

/// The names of the crate folders in `crates`, the open `crates/` folder
/// of the database at `db`: from `cache_dir` while that folder's own
/// identity and times are as they were when they were stored; else
/// `list()`'s, stored for next time unless the folder changed within
/// [`SETTLE_SECS`] of `now`.
#[cfg(unix)]
pub fn crate_folders(
    db: &Path,
    crates: &rustix::fd::OwnedFd,
    cache_dir: &Path,
    now: SystemTime,
    list: impl FnOnce() -> Vec<String>,
) -> Vec<String> {
    // Taken before the listing, as in `summarize`.
    let Ok(st) = rustix::fs::fstat(crates) else {
        return list();
    };
    let stamp = folder_identity(&st);
    let newest_time = st.st_mtime.max(st.st_ctime);
    let Some(path) = absolute_text(db) else {
        return list();
    };
    let file = cache_file(cache_dir, &path, "-crates");
    if let Some(names) = read_crate_folders(&file, &path, &stamp) {
        return names;
    }
    let names = list();
    if newest_time < unix_secs(now).saturating_sub(SETTLE_SECS) {
        let _ = write_crate_folders(&file, &path, &stamp, &names);
    }
    names
}

/// The names stored in `file` for the database at `path` under `stamp`.
fn read_crate_folders(file: &Path, path: &str, stamp: &str) -> Option<Vec<String>> {
    let body = read_entry(file, CRATES_HEADER, path)?;
    let mut lines = body.lines();
    if lines.next()?.strip_prefix("stamp ")? != stamp {
        return None;
    }
    let mut names = Vec::new();
    for line in lines {
        // The last line says the list is whole: a file cut short is a miss.
        if line == "end" {
            return Some(names);
        }
        names.push(line.to_string());
    }
    None
}

/// Stores `names` (see [`write_entry`]). Names that would not read back
/// (line breaks, or the end marker) are not stored at all.
fn write_crate_folders(
    file: &Path,
    path: &str,
    stamp: &str,
    names: &[String],
) -> std::io::Result<()> {
    if names.iter().any(|n| n.contains(['\n', '\r']) || n == "end") {
        return Err(std::io::Error::other("a name that would not read back"));
    }
    let mut body = format!("stamp {stamp}\n");
    for name in names {
        body.push_str(name);
        body.push('\n');
    }
    body.push_str("end\n");
    write_entry(file, CRATES_HEADER, path, &body)
}

/// What cache `file` holds after its first two lines, when they say it
/// is a `header` file about the database at `path`: the three kinds of
/// file open the same way. Anything else is a miss.
fn read_entry(file: &Path, header: &str, path: &str) -> Option<String> {
    let mut text = std::fs::read_to_string(file).ok()?;
    let mut lines = text.splitn(3, '\n');
    if lines.next()? != header || lines.next()?.strip_prefix("path ")? != path {
        return None;
    }
    let body_start = text.len() - lines.next().map_or(0, str::len);
    text.drain(..body_start);
    Some(text)
}

/// Writes cache `file`: the `header` and `path` lines, then `body`,
/// through a temporary file renamed into place, so a concurrent run reads
/// the old file or the new one, never half of one. Only under an absolute
/// path (see the module docs).
fn write_entry(file: &Path, header: &str, path: &str, body: &str) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    if !dir.is_absolute() {
        return Err(std::io::Error::other("the cache folder is not absolute"));
    }
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    write!(tmp, "{header}\npath {path}\n{body}")?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// `now` in whole seconds since the epoch (0 before it).
fn unix_secs(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The database's summary from `cache_dir` when its folders are as they
/// were when it was stored (checked as `recheck` says); else `scan()`'s,
/// stored for next time. `now` is the clock the settling rule and the
/// recheck read (a parameter for tests).
pub fn summarize(
    db: &Path,
    cache_dir: &Path,
    now: SystemTime,
    recheck: Recheck,
    scan: impl FnOnce() -> DbSummary,
) -> DbSummary {
    let Some(path) = canonical_text(db) else {
        return scan();
    };
    let Some(groups) = group_stamp(db) else {
        return scan();
    };
    let now_secs = unix_secs(now);
    let file = cache_file(cache_dir, &path, "");
    let stored = read(&file, &path);
    if let Some(stored) = &stored {
        let checked_lately = (0..RECHECK_SECS).contains(&(now_secs - stored.checked));
        if recheck == Recheck::Recently && checked_lately && stored.groups == groups {
            return stored.summary.clone();
        }
    }
    // The stamp is taken before the listing: a folder that changes during
    // the listing then fails the next run's stamp, and is listed again.
    let Some(stamp) = FolderStamp::of(db) else {
        return scan();
    };
    let summary = match stored {
        Some(stored) if stored.digest == stamp.digest => stored.summary,
        _ => scan(),
    };
    if stamp.newest_time < now_secs.saturating_sub(SETTLE_SECS) {
        // Also when only the check is new: its time starts the next
        // period. A cache that cannot be written only costs the next run
        // a listing.
        let entry = Stored {
            digest: stamp.digest,
            groups,
            checked: now_secs,
            summary: summary.clone(),
        };
        let _ = write(&file, &path, &entry);
    }
    summary
}

/// What a cache file holds about one database.
#[derive(Debug)]
struct Stored {
    /// [`FolderStamp`]'s digest when the summary was listed.
    digest: String,
    /// [`group_stamp`] then.
    groups: String,
    /// When the digest was last found to hold (seconds since the epoch).
    checked: i64,
    summary: DbSummary,
}

/// The identity and times of the group folders (`crates`, `rust`) as
/// text; `None` when `crates` cannot be read.
fn group_stamp(db: &Path) -> Option<String> {
    let mut out = String::new();
    for group in ["crates", "rust"] {
        match stat_identity(&db.join(group)) {
            Some(identity) => out.push_str(&identity),
            None if group == "rust" => out.push('-'),
            None => return None,
        }
        out.push(' ');
    }
    Some(out)
}

/// A folder's device, inode, modification and change times as text: what
/// changes when an entry of the folder is added, removed or renamed, or
/// when the folder is replaced.
#[cfg(unix)]
fn folder_identity(st: &rustix::fs::Stat) -> String {
    format!(
        "{}:{}:{}.{}:{}.{}",
        st.st_dev, st.st_ino, st.st_mtime, st.st_mtime_nsec, st.st_ctime, st.st_ctime_nsec
    )
}

#[cfg(unix)]
fn stat_identity(dir: &Path) -> Option<String> {
    rustix::fs::stat(dir).ok().map(|st| folder_identity(&st))
}

#[cfg(not(unix))]
fn stat_identity(dir: &Path) -> Option<String> {
    let m = std::fs::metadata(dir).ok()?;
    let since = |t: std::io::Result<SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    };
    Some(format!("{}:{}", since(m.modified()), since(m.created())))
}

/// A digest of the identity and times of the database's group folders
/// (`crates`, `rust`) and of every folder in them, and the latest of
/// those times, in seconds since the epoch.
struct FolderStamp {
    digest: String,
    newest_time: i64,
}

impl FolderStamp {
    /// `None` when the database's `crates` folder cannot be read.
    fn of(db: &Path) -> Option<FolderStamp> {
        let mut hasher = Sha256::new();
        let mut newest_time = i64::MIN;
        for group in ["crates", "rust"] {
            let dir = db.join(group);
            let Some(times) = folder_times(&dir, &mut |name, t| {
                hasher.update(name.as_bytes());
                hasher.update([0]);
                t.feed(&mut hasher);
                newest_time = newest_time.max(t.newest());
            }) else {
                if group == "crates" {
                    return None;
                }
                hasher.update(b"-\0");
                continue;
            };
            hasher.update(group.as_bytes());
            hasher.update([0]);
            times.feed(&mut hasher);
            newest_time = newest_time.max(times.newest());
        }
        Some(FolderStamp {
            digest: lower_hex(&hasher.finalize()),
            newest_time,
        })
    }
}

/// What a directory's `stat` says about changes to its entries.
struct FolderTimes {
    inode: u64,
    modified: (i64, u32),
    changed: (i64, u32),
}

impl FolderTimes {
    fn feed(&self, hasher: &mut Sha256) {
        hasher.update(self.inode.to_le_bytes());
        for (secs, nanos) in [self.modified, self.changed] {
            hasher.update(secs.to_le_bytes());
            hasher.update(nanos.to_le_bytes());
        }
    }

    fn newest(&self) -> i64 {
        self.modified.0.max(self.changed.0)
    }
}

/// The times of directory `dir`, after calling `visit(name, times)` for
/// each of its folders (dotfiles and plain files left out). `None` when
/// `dir` cannot be opened. On Unix each folder is `stat`ed relative to
/// `dir`'s descriptor, names read in place from `getdents`: resolving a
/// thousand full paths cost as much as the stats.
#[cfg(unix)]
fn folder_times(dir: &Path, visit: &mut dyn FnMut(&str, FolderTimes)) -> Option<FolderTimes> {
    use crate::source::dir::{open_folder, visible};
    use rustix::fs::{fstat, statat, AtFlags, FileType, RawDir, CWD};
    use std::mem::MaybeUninit;
    let to_times = |st: &rustix::fs::Stat| FolderTimes {
        inode: st.st_ino,
        modified: (st.st_mtime, u32::try_from(st.st_mtime_nsec).unwrap_or(0)),
        changed: (st.st_ctime, u32::try_from(st.st_ctime_nsec).unwrap_or(0)),
    };
    let parent = open_folder(CWD, dir)?;
    let mut buf = vec![MaybeUninit::<u8>::uninit(); 32 * 1024];
    let mut entries = RawDir::new(&parent, &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        let Some(name) = visible(entry.file_name()) else {
            continue;
        };
        if entry.file_type() == FileType::RegularFile {
            continue;
        }
        if let Ok(st) = statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
                visit(name, to_times(&st));
            }
        }
    }
    fstat(&parent).ok().map(|st| to_times(&st))
}

#[cfg(not(unix))]
fn folder_times(dir: &Path, visit: &mut dyn FnMut(&str, FolderTimes)) -> Option<FolderTimes> {
    let to_times = |m: &std::fs::Metadata| {
        let since = |t: std::io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or((0, 0), |d| {
                    (
                        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                        d.subsec_nanos(),
                    )
                })
        };
        FolderTimes {
            inode: 0,
            modified: since(m.modified()),
            changed: since(m.created()),
        }
    };
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if let Ok(m) = entry.metadata() {
            if m.is_dir() {
                visit(&name, to_times(&m));
            }
        }
    }
    std::fs::metadata(dir).ok().map(|m| to_times(&m))
}

/// The cache file of the database at `path`: named by a digest of that
/// path, so each database has its own, and `suffix` for what it holds
/// (empty for the summary).
fn cache_file(cache_dir: &Path, path: &str, suffix: &str) -> PathBuf {
    let digest = lower_hex(&Sha256::digest(path.as_bytes())[..8]);
    cache_dir.join(format!("{digest}{suffix}"))
}

/// What `file` holds, when it is about the database at `path`. Anything
/// unexpected in the file is a miss.
fn read(file: &Path, path: &str) -> Option<Stored> {
    let body = read_entry(file, HEADER, path)?;
    let mut lines = body.lines();
    let mut field = |key: &str| lines.next()?.strip_prefix(key)?.strip_prefix(' ');
    let digest = field("stamp")?.to_string();
    let groups = field("groups")?.to_string();
    let checked = field("checked")?.parse().ok()?;
    let count = field("count")?.parse().ok()?;
    let newest_date = match field("newest")? {
        "-" => None,
        date => Some(date.to_string()),
    };
    Some(Stored {
        digest,
        groups,
        checked,
        summary: DbSummary { count, newest_date },
    })
}

/// Stores `entry` for the database at `path` (see [`write_entry`]).
fn write(file: &Path, path: &str, entry: &Stored) -> std::io::Result<()> {
    let body = format!(
        "stamp {}\ngroups {}\nchecked {}\ncount {}\nnewest {}\n",
        entry.digest,
        entry.groups,
        entry.checked,
        entry.summary.count,
        entry.summary.newest_date.as_deref().unwrap_or("-")
    );
    write_entry(file, HEADER, path, &body)
}

/// The database's canonical path as one line of text; `None` when it
/// cannot be resolved, is not UTF-8 or holds a line break (it would not
/// read back).
fn canonical_text(db: &Path) -> Option<String> {
    let canonical = std::fs::canonicalize(db).ok()?;
    canonical
        .to_str()
        .filter(|p| !p.contains(['\n', '\r']))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deps::advisories::DbListing;
    use std::cell::Cell;
    use std::time::Duration;

    /// A database of `advisories` (folder, id, date) under a fresh scratch
    /// folder, and a cache folder beside it.
    fn scratch(
        name: &str,
        advisories: &[(&str, &str, &str)],
    ) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let top = tempfile::Builder::new()
            .prefix(&format!("tripline-{name}-"))
            .tempdir()
            .unwrap();
        let db = top.path().join("db");
        for (folder, id, date) in advisories {
            add(&db, folder, id, date);
        }
        let cache = top.path().join("cache");
        (top, db, cache)
    }

    fn add(db: &Path, folder: &str, id: &str, date: &str) {
        let dir = db.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!("```toml\n[advisory]\nid = \"{id}\"\ndate = \"{date}\"\n```\n");
        std::fs::write(dir.join(format!("{id}.md")), text).unwrap();
    }

    /// `summarize`, checking every folder, with a listing that counts how
    /// often it runs.
    fn summary(db: &Path, cache: &Path, now: SystemTime, listings: &Cell<u32>) -> DbSummary {
        summary_as(Recheck::Always, db, cache, now, listings)
    }

    fn summary_as(
        recheck: Recheck,
        db: &Path,
        cache: &Path,
        now: SystemTime,
        listings: &Cell<u32>,
    ) -> DbSummary {
        summarize(db, cache, now, recheck, || {
            listings.set(listings.get() + 1);
            DbListing::scan(db).summary()
        })
    }

    /// A scan's check within the recheck period trusts the group folders:
    /// an advisory added to a folder that exists waits for the next full
    /// check (`db info`'s at once, a scan's once the period is over), while
    /// a crate folder added shows at once.
    #[test]
    fn a_recent_check_trusts_the_group_folders_until_the_period_ends() {
        let (_top, db, cache) =
            scratch("recent", &[("crates/a", "RUSTSEC-2024-0001", "2024-01-01")]);
        let listings = Cell::new(0);
        let t0 = later();
        let recent = |now: SystemTime| summary_as(Recheck::Recently, &db, &cache, now, &listings);
        let first = recent(t0);
        assert_eq!(first.newest_date.as_deref(), Some("2024-01-01"));
        next_tick();
        add(&db, "crates/a", "RUSTSEC-2025-0002", "2025-02-02");
        let minute = Duration::from_secs(60);
        assert_eq!(
            recent(t0 + minute),
            first,
            "within the period: the stored answer"
        );
        assert_eq!(listings.get(), 1);
        let period = Duration::from_secs(RECHECK_SECS as u64);
        let after = recent(t0 + period + minute);
        assert_eq!(after.newest_date.as_deref(), Some("2025-02-02"));
        assert_eq!(listings.get(), 2);
        // `db info`'s check sees an addition at once.
        next_tick();
        add(&db, "crates/a", "RUSTSEC-2025-0003", "2025-03-03");
        let t1 = t0 + period + minute * 2;
        assert_eq!(recent(t1), after);
        let checked = summary_as(Recheck::Always, &db, &cache, t1, &listings);
        assert_eq!(checked.newest_date.as_deref(), Some("2025-03-03"));
        assert_eq!(listings.get(), 3);
        // A new crate folder changes `crates` itself: seen at once.
        next_tick();
        add(&db, "crates/b", "RUSTSEC-2025-0004", "2025-04-04");
        let with_b = recent(t1 + minute);
        assert_eq!(with_b.newest_date.as_deref(), Some("2025-04-04"));
        assert_eq!(listings.get(), 4);
    }

    /// A full check that finds every folder unchanged lists nothing, and
    /// starts a new period.
    #[test]
    fn a_full_check_that_holds_starts_a_new_period_without_listing() {
        let (_top, db, cache) =
            scratch("period", &[("crates/a", "RUSTSEC-2024-0001", "2024-01-01")]);
        let listings = Cell::new(0);
        let t0 = later();
        let recent = |now: SystemTime| summary_as(Recheck::Recently, &db, &cache, now, &listings);
        let first = recent(t0);
        let period = Duration::from_secs(RECHECK_SECS as u64);
        let t1 = t0 + period * 2;
        assert_eq!(recent(t1), first);
        assert_eq!(listings.get(), 1, "the folders held: nothing was listed");
        // Within the new period, an addition in place is not looked for.
        next_tick();
        add(&db, "crates/a", "RUSTSEC-2025-0002", "2025-02-02");
        assert_eq!(recent(t1 + Duration::from_secs(60)), first);
        assert_eq!(listings.get(), 1);
    }

    /// Long after every folder's last change: nothing is too recent to keep.
    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(3600)
    }

    /// Lets the clock move past the tick of the last change, so that the
    /// next one gives a folder other times.
    fn next_tick() {
        std::thread::sleep(Duration::from_millis(50));
    }

    #[test]
    fn a_summary_is_listed_once_while_the_folders_hold() {
        let (_top, db, cache) = scratch(
            "kept",
            &[
                ("crates/a", "RUSTSEC-2024-0001", "2024-01-01"),
                ("rust/std", "RUSTSEC-2024-0002", "2024-02-02"),
            ],
        );
        let listings = Cell::new(0);
        let first = summary(&db, &cache, later(), &listings);
        assert_eq!(first.count, 2);
        assert_eq!(first.newest_date.as_deref(), Some("2024-02-02"));
        assert_eq!(summary(&db, &cache, later(), &listings), first);
        assert_eq!(listings.get(), 1, "the second summary came from the cache");
        // An edit in place keeps the folder's times: the documented blind
        // spot, and proof that the answer above came from the cache.
        std::fs::write(
            db.join("crates/a/RUSTSEC-2024-0001.md"),
            "```toml\n[advisory]\nid = \"RUSTSEC-2024-0001\"\ndate = \"2025-05-05\"\n```\n",
        )
        .unwrap();
        assert_eq!(summary(&db, &cache, later(), &listings), first);
        assert_eq!(listings.get(), 1);
    }

    #[test]
    fn a_new_advisory_in_an_old_folder_is_listed_again() {
        let (_top, db, cache) =
            scratch("added", &[("crates/a", "RUSTSEC-2024-0001", "2024-01-01")]);
        let listings = Cell::new(0);
        summary(&db, &cache, later(), &listings);
        next_tick();
        add(&db, "crates/a", "RUSTSEC-2025-0007", "2025-07-07");
        let after = summary(&db, &cache, later(), &listings);
        assert_eq!(listings.get(), 2);
        assert_eq!(
            (after.count, after.newest_date.as_deref()),
            (2, Some("2025-07-07"))
        );
        // And the new listing is what is remembered now.
        assert_eq!(summary(&db, &cache, later(), &listings), after);
        assert_eq!(listings.get(), 2);
    }

    #[test]
    fn a_removed_folder_is_listed_again() {
        let (_top, db, cache) = scratch(
            "removed",
            &[
                ("crates/a", "RUSTSEC-2024-0001", "2024-01-01"),
                ("crates/b", "RUSTSEC-2025-0001", "2025-01-01"),
            ],
        );
        let listings = Cell::new(0);
        summary(&db, &cache, later(), &listings);
        next_tick();
        std::fs::remove_dir_all(db.join("crates/b")).unwrap();
        let after = summary(&db, &cache, later(), &listings);
        assert_eq!(listings.get(), 2);
        assert_eq!(
            (after.count, after.newest_date.as_deref()),
            (1, Some("2024-01-01"))
        );
    }

    #[test]
    fn folders_that_just_changed_are_not_remembered() {
        let (_top, db, cache) = scratch("racy", &[("crates/a", "RUSTSEC-2024-0001", "2024-01-01")]);
        let listings = Cell::new(0);
        summary(&db, &cache, SystemTime::now(), &listings);
        summary(&db, &cache, SystemTime::now(), &listings);
        assert_eq!(listings.get(), 2);
        assert!(!cache.exists() || std::fs::read_dir(&cache).unwrap().next().is_none());
    }

    #[test]
    fn a_damaged_or_foreign_cache_file_is_a_miss() {
        let (_top, db, cache) = scratch(
            "damaged",
            &[("crates/a", "RUSTSEC-2024-0001", "2024-01-01")],
        );
        let (_other_top, other, _) =
            scratch("other", &[("crates/z", "RUSTSEC-2023-0001", "2023-01-01")]);
        let listings = Cell::new(0);
        let first = summary(&db, &cache, later(), &listings);
        let file = std::fs::read_dir(&cache)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let stored = std::fs::read_to_string(&file).unwrap();
        for damaged in [
            stored.replace("count 1", "count one"),
            stored.replace("v2", "v0"),
            stored.lines().take(3).collect::<Vec<_>>().join("\n"),
            String::from_utf8_lossy(&[0xff, 0xfe, 0x00]).into_owned(),
        ] {
            std::fs::write(&file, damaged).unwrap();
            assert_eq!(summary(&db, &cache, later(), &listings), first);
        }
        assert_eq!(listings.get(), 5);
        // Another database's summary under this database's name (a digest
        // collision, or a copied cache) is not taken for this one.
        let other_path = canonical_text(&other).unwrap();
        std::fs::write(
            &file,
            stored.replace(&canonical_text(&db).unwrap(), &other_path),
        )
        .unwrap();
        assert_eq!(summary(&db, &cache, later(), &listings), first);
        assert_eq!(listings.get(), 6);
    }

    #[test]
    fn a_database_without_crates_is_listed_and_not_remembered() {
        let (_top, db, cache) =
            scratch("empty", &[("rust/std", "RUSTSEC-2024-0002", "2024-02-02")]);
        let listings = Cell::new(0);
        summary(&db, &cache, later(), &listings);
        summary(&db, &cache, later(), &listings);
        assert_eq!(listings.get(), 2);
        assert!(!cache.exists());
    }

    /// The crate folders of `db` by [`crate_folders`], sorted, with a
    /// listing that counts how often it runs.
    #[cfg(unix)]
    fn folders(db: &Path, cache: &Path, now: SystemTime, listings: &Cell<u32>) -> Vec<String> {
        let crates = db.join("crates");
        let dir = crate::source::dir::open_folder(rustix::fs::CWD, &crates).unwrap();
        let mut names = crate_folders(db, &dir, cache, now, || {
            listings.set(listings.get() + 1);
            std::fs::read_dir(&crates)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        });
        names.sort();
        names
    }

    #[cfg(unix)]
    #[test]
    fn crate_folders_are_listed_again_only_when_crates_changes() {
        let (_top, db, cache) = scratch(
            "crates",
            &[
                ("crates/a", "RUSTSEC-2024-0001", "2024-01-01"),
                ("crates/b", "RUSTSEC-2024-0002", "2024-01-01"),
            ],
        );
        let listings = Cell::new(0);
        let first = folders(&db, &cache, later(), &listings);
        assert_eq!(first, ["a", "b"]);
        assert_eq!(folders(&db, &cache, later(), &listings), first);
        assert_eq!(listings.get(), 1, "the second answer came from the cache");
        // A new advisory in a folder that exists changes nothing here.
        next_tick();
        add(&db, "crates/a", "RUSTSEC-2025-0003", "2025-01-01");
        assert_eq!(folders(&db, &cache, later(), &listings), first);
        assert_eq!(listings.get(), 1);
        next_tick();
        add(&db, "crates/c", "RUSTSEC-2025-0004", "2025-01-01");
        assert_eq!(folders(&db, &cache, later(), &listings), ["a", "b", "c"]);
        assert_eq!(listings.get(), 2);
        next_tick();
        std::fs::remove_dir_all(db.join("crates/b")).unwrap();
        assert_eq!(folders(&db, &cache, later(), &listings), ["a", "c"]);
        assert_eq!(folders(&db, &cache, later(), &listings), ["a", "c"]);
        assert_eq!(listings.get(), 3);
    }

    #[cfg(unix)]
    #[test]
    fn crate_folders_just_changed_or_badly_stored_are_listed() {
        let (_top, db, cache) = scratch(
            "crates-racy",
            &[("crates/a", "RUSTSEC-2024-0001", "2024-01-01")],
        );
        let listings = Cell::new(0);
        folders(&db, &cache, SystemTime::now(), &listings);
        folders(&db, &cache, SystemTime::now(), &listings);
        assert_eq!(
            listings.get(),
            2,
            "a folder that just changed is not remembered"
        );
        folders(&db, &cache, later(), &listings);
        let file = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-crates"))
            .unwrap();
        let stored = std::fs::read_to_string(&file).unwrap();
        assert!(stored.ends_with("a\nend\n"), "{stored}");
        for damaged in [
            stored.replace("end\n", ""),
            stored.replace("v1", "v0"),
            stored.replace("stamp ", "stamp 1"),
        ] {
            std::fs::write(&file, damaged).unwrap();
            assert_eq!(folders(&db, &cache, later(), &listings), ["a"]);
        }
        assert_eq!(listings.get(), 6);
    }
}
