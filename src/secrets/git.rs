//! Git as a source of bytes to scan: the staged index (pre-commit) and
//! history (every blob reachable from some revisions, once).
//!
//! Both read objects with `gix` and nothing else: no working-tree walk, no
//! `git` process, no network (a partial clone is never fetched from; an
//! object that is not there locally is skipped and counted). This module
//! does not match secrets (that is the engine's) nor decide what to report
//! (that is `scan`'s); it produces bytes with their repository paths, and for
//! history it drives the engine across blobs because only it knows which
//! commit each blob belongs to.
//!
//! It also writes the pre-commit hook (`tripline hook install`), since that
//! is the other half of the staged workflow.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use gix::bstr::{BStr, BString, ByteSlice};
use gix::objs::tree::EntryKind;
use gix::objs::{Find, FindExt};
use gix::ObjectId;
use rayon::prelude::*;

use crate::finding::linehash;
use crate::finding::{CommitInfo, Finding, ScanError};
use crate::secrets::engine::Engine;
use crate::source::walk::{looks_binary, SkipReason};

/// Opens the repository that contains `path` (a work tree, a linked
/// worktree, a subdirectory of either, or a bare repository).
fn open(path: &Path) -> Result<gix::Repository> {
    let mut repo = gix::discover(path)
        .with_context(|| format!("{}: not inside a git repository", path.display()))?;
    // Trees and commits are looked up again and again; blobs are read once.
    repo.object_cache_size_if_unset(16 * 1024 * 1024);
    Ok(repo)
}

// ---------------------------------------------------------------------------
// Staged index
// ---------------------------------------------------------------------------

/// One file as it would be committed: its content from the index, not from
/// the working tree.
#[derive(Clone, Debug)]
pub struct StagedFile {
    /// Relative to the repository's work tree, `/`-separated.
    pub path: String,
    /// The index blob.
    pub content: Vec<u8>,
    /// The 1-based lines of `content` that the staged change adds or
    /// modifies compared with `HEAD`; `None` when the whole file is new.
    /// An empty set means nothing was added (a pure rename).
    pub added_lines: Option<BTreeSet<u32>>,
}

/// What is staged for the next commit.
#[derive(Debug, Default)]
pub struct StagedSet {
    /// The work tree the paths are relative to.
    pub root: PathBuf,
    pub files: Vec<StagedFile>,
    /// Staged files not scanned, with why (binary, too large).
    pub skipped: Vec<(String, SkipReason)>,
    /// Objects that could not be read (never fatal).
    pub errors: Vec<ScanError>,
}

impl StagedSet {
    /// The staged `Cargo.lock` files, for the dependency audit.
    pub fn lockfiles(&self) -> impl Iterator<Item = &StagedFile> {
        self.files
            .iter()
            .filter(|f| f.path == "Cargo.lock" || f.path.ends_with("/Cargo.lock"))
    }
}

/// Everything staged (added, copied, renamed or modified) in the repository
/// containing `path`. Reads the index named by `GIT_INDEX_FILE` when git set
/// one (as it does for the hooks of `git commit -a` and `git commit FILE`),
/// compares each entry's blob id with `HEAD`'s, and reads only the blobs that
/// differ: an unchanged file costs one hash comparison, never a read.
pub fn staged_files(path: &Path, max_file_size: u64) -> Result<StagedSet> {
    let repo = open(path)?;
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .context("--staged needs a work tree, and this repository is bare")?;
    // Like git, do not hash the whole index to verify its checksum: on a
    // large repository that alone would cost more than the rest of a
    // pre-commit run (the entries are still parsed and checked).
    let index = gix::index::File::at_or_default(
        repo.index_path(),
        repo.object_hash(),
        true,
        gix::index::decode::Options {
            thread_limit: Some(1),
            ..Default::default()
        },
    )
    .with_context(|| format!("cannot read the git index {}", repo.index_path().display()))?;
    let head = HeadView::read(&repo, index.tree())?;
    if head.unchanged_dirs.contains(b"".as_bstr()) {
        // The index's tree is HEAD's tree: nothing is staged.
        return Ok(StagedSet {
            root,
            ..StagedSet::default()
        });
    }
    let head_ids: HashMap<ObjectId, &BStr> = head
        .blobs
        .iter()
        .map(|(p, (id, _))| (*id, p.as_bstr()))
        .collect();
    let mut in_index: Option<HashSet<&BStr>> = None;

    let mut set = StagedSet {
        root,
        ..StagedSet::default()
    };
    let mut buf = Vec::new();
    for entry in index.entries() {
        if entry.stage_raw() != 0
            || entry
                .flags
                .contains(gix::index::entry::Flags::INTENT_TO_ADD)
            || !matches!(
                entry.mode,
                gix::index::entry::Mode::FILE | gix::index::entry::Mode::FILE_EXECUTABLE
            )
        {
            continue;
        }
        let rel = entry.path(&index);
        if head.is_unchanged(rel) {
            continue;
        }
        let base = match head.blobs.get(rel) {
            Some((id, _)) if *id == entry.id => continue,
            Some((id, _)) => Some(*id),
            None => None,
        };
        let path = rel.to_str_lossy().into_owned();
        let content = match read_blob(&repo, entry.id, max_file_size, &mut buf) {
            Ok(BlobRead::Read) => std::mem::take(&mut buf),
            Ok(BlobRead::Skipped(reason)) => {
                set.skipped.push((path, reason));
                continue;
            }
            Ok(BlobRead::Missing) => {
                set.errors.push(ScanError {
                    path: Some(path),
                    message: format!("staged blob {} is missing from the object store", entry.id),
                });
                continue;
            }
            Err(e) => {
                set.errors.push(ScanError {
                    path: Some(path),
                    message: format!("cannot read staged blob {}: {e:#}", entry.id),
                });
                continue;
            }
        };
        let added_lines = match base {
            Some(old) => added_lines_against(&repo, old, &content),
            // A path new to the index whose exact content HEAD had at a path
            // the index no longer has: a rename, which adds nothing.
            None => match head_ids.get(&entry.id) {
                Some(old_path)
                    if !in_index
                        .get_or_insert_with(|| {
                            index.entries().iter().map(|e| e.path(&index)).collect()
                        })
                        .contains(old_path) =>
                {
                    Some(BTreeSet::new())
                }
                _ => None,
            },
        };
        set.files.push(StagedFile {
            path,
            content,
            added_lines,
        });
    }
    Ok(set)
}

/// The lines of `new` that are added or changed relative to blob `old`, or
/// `None` (treat the whole file as new) when `old` is not available locally.
fn added_lines_against(repo: &gix::Repository, old: ObjectId, new: &[u8]) -> Option<BTreeSet<u32>> {
    let mut buf = Vec::new();
    let before = repo.objects.try_find(&old, &mut buf).ok()??.data;
    Some(added_lines(before, new))
}

/// The 1-based line numbers of `after` that a line diff from `before` marks
/// as added (a modified line is a removal plus an addition).
pub fn added_lines(before: &[u8], after: &[u8]) -> BTreeSet<u32> {
    use imara_diff::{Algorithm, Diff, InternedInput};
    let input = InternedInput::new(
        imara_diff::sources::byte_lines(before),
        imara_diff::sources::byte_lines(after),
    );
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    diff.postprocess_lines(&input);
    let mut out = BTreeSet::new();
    for hunk in diff.hunks() {
        for line in hunk.after {
            out.insert(line + 1);
        }
    }
    out
}

/// Keeps the findings that touch a line the staged change adds. A finding
/// spanning several lines (a PEM block, a lockfile package) is kept when any
/// of its lines is added; files that are new keep everything.
pub fn filter_to_added_lines(findings: Vec<Finding>, staged: &StagedSet) -> Vec<Finding> {
    let added: HashMap<&str, &Option<BTreeSet<u32>>> = staged
        .files
        .iter()
        .map(|f| (f.path.as_str(), &f.added_lines))
        .collect();
    findings
        .into_iter()
        .filter(|f| match added.get(f.location.path.as_str()) {
            Some(Some(lines)) => lines
                .range(f.location.start_line..=f.location.end_line.max(f.location.start_line))
                .next()
                .is_some(),
            // Whole file new, or a finding from outside the staged set
            // (nothing to judge it by): keep.
            Some(None) | None => true,
        })
        .collect()
}

/// Writes the staged lockfiles under a fresh temporary directory (outside
/// the scanned tree, which a scan never writes into), at their repository
/// paths, so that the dependency auditor can read them as it reads a
/// checkout. Returns the directory (deleted when dropped) and the relative
/// paths, or `None` when no lockfile is staged.
pub fn materialize_lockfiles(
    staged: &StagedSet,
) -> Result<Option<(tempfile::TempDir, Vec<PathBuf>)>> {
    let lockfiles: Vec<&StagedFile> = staged.lockfiles().collect();
    if lockfiles.is_empty() {
        return Ok(None);
    }
    let dir = tempfile::Builder::new()
        .prefix("tripline-staged-")
        .tempdir()
        .context("cannot create a temporary directory for the staged lockfiles")?;
    let mut rel = Vec::new();
    for f in lockfiles {
        // Index paths never hold `..` or absolute components (git refuses
        // them), but a crafted index could: keep to plain components.
        let safe: PathBuf = f
            .path
            .split('/')
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .collect();
        let target = dir.path().join(&safe);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, &f.content)
            .with_context(|| format!("cannot write {}", target.display()))?;
        rel.push(safe);
    }
    Ok(Some((dir, rel)))
}

/// Options for [`scan_staged`].
#[derive(Clone, Debug)]
pub struct StagedOptions {
    pub max_file_size: u64,
    pub threads: usize,
    /// `[scan] exclude` patterns (gitignore syntax, relative to the work
    /// tree), applied as the tree walk applies them, together with the work
    /// tree's top-level `.triplineignore`.
    pub excludes: Vec<String>,
    /// `--config-rev`: the trusted revision's `.triplineignore` files, read
    /// in place of the work tree's.
    pub trusted_ignore: Option<crate::source::walk::TrustedIgnore>,
}

/// The staged files after exclusions, and the engine's findings in them
/// (line hashes filled; not yet narrowed to added lines, see
/// [`filter_to_added_lines`], which also applies to dependency findings in
/// staged lockfiles).
pub struct StagedScan {
    pub set: StagedSet,
    /// Staged files the exclusions kept from the scan: what a check of the
    /// change itself (a new `.triplineignore` line) still has to see.
    pub excluded: Vec<StagedFile>,
    pub findings: Vec<Finding>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
}

/// Reads what is staged in the repository containing `path` and runs
/// `engine` (when secrets are wanted) over it, in parallel.
pub fn scan_staged(
    engine: Option<&Engine>,
    path: &Path,
    opts: &StagedOptions,
) -> Result<StagedScan> {
    let mut set = staged_files(path, opts.max_file_size)?;
    let matcher = exclusions(
        &set.root,
        &opts.excludes,
        opts.trusted_ignore.is_none(),
        &mut set.errors,
    );
    let (files, excluded): (Vec<StagedFile>, Vec<StagedFile>) =
        std::mem::take(&mut set.files).into_iter().partition(|f| {
            !matcher.matched(&f.path, false).is_ignore()
                && !opts
                    .trusted_ignore
                    .as_ref()
                    .is_some_and(|t| t.is_ignored(&f.path, false))
        });
    set.files = files;
    let files_scanned = set.files.len() as u64;
    let bytes_scanned = set.files.iter().map(|f| f.content.len() as u64).sum();
    let findings = match engine {
        Some(engine) => scan_files_parallel(engine, &set.files, opts.threads),
        None => Vec::new(),
    };
    Ok(StagedScan {
        set,
        excluded,
        findings,
        files_scanned,
        bytes_scanned,
    })
}

fn scan_files_parallel(engine: &Engine, files: &[StagedFile], threads: usize) -> Vec<Finding> {
    let scan_one = |f: &StagedFile| {
        let mut hits = engine.scan(&f.path, &f.content);
        if !hits.is_empty() {
            let hashes = linehash::line_hashes(&f.content);
            for h in &mut hits {
                let line = (h.location.start_line as usize).saturating_sub(1);
                h.location.line_hash = hashes.get(line).cloned();
            }
        }
        hits
    };
    let threads = threads.clamp(1, files.len().max(1));
    if threads == 1 {
        // A commit of one file starts no thread: pre-commit runs are
        // milliseconds.
        return files.iter().flat_map(scan_one).collect();
    }
    in_pool(threads, || {
        files.par_iter().flat_map_iter(scan_one).collect()
    })
}

/// Runs `work` on a rayon pool of `threads` workers, so that `--threads`
/// holds for the git scans' parallel loops. Should the pool not start,
/// `work` runs here and its loops fall back on rayon's global pool.
fn in_pool<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("tripline-git-{i}"))
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// The work tree's top-level `.triplineignore` (unless `--config-rev`
/// supplies the trusted revision's instead: `read_ignore_file` false) plus
/// the config's excludes, as one gitignore matcher over repository-relative
/// paths.
fn exclusions(
    root: &Path,
    excludes: &[String],
    read_ignore_file: bool,
    errors: &mut Vec<ScanError>,
) -> ignore::gitignore::Gitignore {
    let mut b = ignore::gitignore::GitignoreBuilder::new(root);
    let file = root.join(crate::source::walk::IGNORE_FILE);
    if read_ignore_file && file.is_file() {
        if let Some(e) = b.add(&file) {
            errors.push(ScanError {
                path: Some(crate::source::walk::IGNORE_FILE.to_owned()),
                message: format!("{e}"),
            });
        }
    }
    for pat in excludes {
        if let Err(e) = b.add_line(None, pat) {
            errors.push(ScanError {
                path: None,
                message: format!("invalid exclude pattern {pat:?}: {e}"),
            });
        }
    }
    b.build().unwrap_or_else(|e| {
        errors.push(ScanError {
            path: None,
            message: format!("invalid exclude patterns: {e}"),
        });
        ignore::gitignore::Gitignore::empty()
    })
}

/// What the staged comparison needs of `HEAD`'s tree: the blobs of every
/// directory the index may have changed, and the directories it certainly
/// has not.
#[derive(Default)]
struct HeadView {
    blobs: HashMap<BString, (ObjectId, EntryKind)>,
    /// Directories (`a/b`, or `` for the root) whose tree in the index's
    /// cache-tree extension is valid and equal to `HEAD`'s: every index
    /// entry under them is unchanged, and their trees are never read. This
    /// is what keeps a pre-commit run on a large repository from reading
    /// all of `HEAD`'s trees: `git add` invalidates only the directories on
    /// the path to what it staged.
    unchanged_dirs: HashSet<BString>,
}

impl HeadView {
    /// Empty when there is no commit yet.
    fn read(
        repo: &gix::Repository,
        cache: Option<&gix::index::extension::Tree>,
    ) -> Result<HeadView> {
        let mut view = HeadView::default();
        let head = repo
            .head_tree_id_or_empty()
            .context("cannot resolve HEAD")?;
        if head.is_empty_tree() {
            // No commit yet; the empty tree is implied, not stored.
            return Ok(view);
        }
        let mut stack = vec![(head.detach(), BString::default(), cache)];
        let mut buf = Vec::new();
        while let Some((tree_id, prefix, cache)) = stack.pop() {
            if cache.is_some_and(|c| c.num_entries.is_some() && c.id == tree_id) {
                view.unchanged_dirs.insert(prefix);
                continue;
            }
            let tree = repo
                .objects
                .find_tree_iter(&tree_id, &mut buf)
                .with_context(|| format!("cannot read tree {tree_id} of HEAD"))?;
            for entry in tree {
                let entry = entry.with_context(|| format!("corrupt tree {tree_id}"))?;
                let path = join(prefix.as_bstr(), entry.filename);
                match entry.mode.kind() {
                    EntryKind::Tree => {
                        let child = cache.and_then(|c| {
                            c.children
                                .iter()
                                .find(|t| t.name.as_slice() == entry.filename.as_bytes())
                        });
                        stack.push((entry.oid.to_owned(), path, child));
                    }
                    kind => {
                        view.blobs.insert(path, (entry.oid.to_owned(), kind));
                    }
                }
            }
        }
        Ok(view)
    }

    /// Whether `path` lies in a directory known to be unchanged.
    fn is_unchanged(&self, path: &BStr) -> bool {
        if self.unchanged_dirs.is_empty() {
            return false;
        }
        path.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'/')
            .any(|(i, _)| self.unchanged_dirs.contains(path[..i].as_bstr()))
    }
}

fn join(prefix: &BStr, name: &BStr) -> BString {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        let mut p = BString::from(prefix);
        p.push(b'/');
        p.extend_from_slice(name);
        p
    }
}

enum BlobRead {
    Read,
    Skipped(SkipReason),
    /// Not in the local object store (a partial clone): never fetched.
    Missing,
}

/// Reads blob `id` into `buf` unless it is larger than `max` (decided from
/// the object header, without inflating it) or binary.
fn read_blob(
    repo: &gix::Repository,
    id: ObjectId,
    max: u64,
    buf: &mut Vec<u8>,
) -> Result<BlobRead> {
    let Some(header) = repo.try_find_header(id)? else {
        return Ok(BlobRead::Missing);
    };
    if header.size() > max {
        return Ok(BlobRead::Skipped(SkipReason::TooLarge));
    }
    if repo.objects.try_find(&id, buf)?.is_none() {
        return Ok(BlobRead::Missing);
    }
    if looks_binary(buf) {
        return Ok(BlobRead::Skipped(SkipReason::Binary));
    }
    Ok(BlobRead::Read)
}

// ---------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------

/// A blob to scan, with where it first appeared.
#[derive(Clone, Debug)]
pub struct HistoryBlob {
    pub id: ObjectId,
    /// Its path in `commit`'s tree.
    pub path: String,
    /// Index into [`HistoryScan::commits`].
    pub commit: usize,
}

/// Every blob reachable from some revisions, each listed once with the
/// oldest commit that introduced it.
pub struct HistoryScan {
    repo: gix::ThreadSafeRepository,
    /// Oldest first: parents before children, then by commit time.
    pub commits: Vec<CommitInfo>,
    pub blobs: Vec<HistoryBlob>,
}

/// Counters for `-v` and the JSON stats.
#[derive(Clone, Debug, Default)]
pub struct HistoryStats {
    pub commits: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub blobs_skipped: u64,
    /// Blobs that a partial clone does not have locally.
    pub blobs_missing: u64,
}

/// Lists the blobs reachable from `revs` in the repository containing
/// `path`. `revs` is empty for all refs, or whitespace-separated revision
/// specs as `git rev-list` takes them: `main`, `A..B` (what B adds over A),
/// `A...B`, `^A B`. With a range, blobs already present in the excluded
/// side are not listed: `--git origin/main..HEAD` scans what a branch adds.
pub fn history_blobs(path: &Path, revs: &str) -> Result<HistoryScan> {
    let repo = open(path)?;
    let (tips, hidden) = resolve_revs(&repo, revs)?;
    let mut commits: HashMap<ObjectId, WalkedCommit> = HashMap::new();
    if !tips.is_empty() {
        let walk = repo
            .rev_walk(tips)
            .with_hidden(hidden.iter().copied())
            .all()
            .context("cannot walk the commit graph")?;
        for info in walk {
            let info = info.context("cannot walk the commit graph")?;
            let id = info.id;
            let parents: Vec<ObjectId> = info.parent_ids.iter().copied().collect();
            commits.insert(
                id,
                WalkedCommit {
                    parents,
                    time: info.commit_time.unwrap_or(0),
                },
            );
        }
    }
    let order = oldest_first(&commits);

    let mut seen_trees: HashSet<ObjectId> = HashSet::new();
    let mut seen_blobs: HashSet<ObjectId> = HashSet::new();
    let mut buf = Vec::new();
    // What the excluded side of a range already has is not new: mark every
    // tree and blob of the boundary commits (parents outside the range, and
    // the explicitly hidden tips) as seen.
    let mut boundary: BTreeSet<ObjectId> = hidden.iter().copied().collect();
    for c in commits.values() {
        boundary.extend(c.parents.iter().filter(|p| !commits.contains_key(*p)));
    }
    for id in boundary {
        let Ok(commit) = repo.find_commit(id) else {
            // Shallow clones lack the commits past their boundary.
            continue;
        };
        let tree = commit.tree_id().context("cannot read a commit's tree")?;
        collect_new_blobs(
            &repo,
            tree.detach(),
            &mut seen_trees,
            &mut seen_blobs,
            &mut buf,
            &mut |_, _| {},
        )?;
    }

    let mut infos = Vec::with_capacity(order.len());
    let mut blobs = Vec::new();
    for (idx, id) in order.iter().enumerate() {
        let commit = repo
            .find_commit(*id)
            .with_context(|| format!("cannot read commit {id}"))?;
        infos.push(commit_info(&commit)?);
        let tree = commit
            .tree_id()
            .with_context(|| format!("cannot read the tree of commit {id}"))?;
        collect_new_blobs(
            &repo,
            tree.detach(),
            &mut seen_trees,
            &mut seen_blobs,
            &mut buf,
            &mut |blob, path| {
                blobs.push(HistoryBlob {
                    id: blob,
                    path: path.to_str_lossy().into_owned(),
                    commit: idx,
                })
            },
        )?;
    }
    Ok(HistoryScan {
        repo: repo.into_sync(),
        commits: infos,
        blobs,
    })
}

struct WalkedCommit {
    parents: Vec<ObjectId>,
    time: i64,
}

/// Commits in an order where every parent comes before its children
/// (Kahn's algorithm), ties broken by commit time then id, so that the
/// first commit to show a blob is the oldest one that introduced it.
fn oldest_first(commits: &HashMap<ObjectId, WalkedCommit>) -> Vec<ObjectId> {
    let mut pending: HashMap<ObjectId, usize> = HashMap::with_capacity(commits.len());
    let mut children: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for (id, c) in commits {
        let inside: Vec<&ObjectId> = c
            .parents
            .iter()
            .filter(|p| commits.contains_key(*p))
            .collect();
        pending.insert(*id, inside.len());
        for p in inside {
            children.entry(*p).or_default().push(*id);
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId)>> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| Reverse((commits[id].time, *id)))
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        order.push(id);
        for child in children.get(&id).map(Vec::as_slice).unwrap_or_default() {
            if let Some(n) = pending.get_mut(child) {
                *n -= 1;
                if *n == 0 {
                    ready.push(Reverse((commits[child].time, *child)));
                }
            }
        }
    }
    order
}

/// Calls `found` for every blob under `tree` not seen before, skipping whole
/// subtrees already seen (their blobs were all attributed then).
fn collect_new_blobs(
    repo: &gix::Repository,
    tree: ObjectId,
    seen_trees: &mut HashSet<ObjectId>,
    seen_blobs: &mut HashSet<ObjectId>,
    buf: &mut Vec<u8>,
    found: &mut dyn FnMut(ObjectId, &BStr),
) -> Result<()> {
    if !seen_trees.insert(tree) {
        return Ok(());
    }
    let mut stack: Vec<(ObjectId, BString)> = vec![(tree, BString::default())];
    while let Some((tree_id, prefix)) = stack.pop() {
        // A tree a treeless partial clone lacks is skipped, not fetched.
        let Some(data) = repo.objects.try_find(&tree_id, buf)? else {
            continue;
        };
        let iter = data
            .try_into_tree_iter()
            .with_context(|| format!("object {tree_id} is not a tree"))?;
        for entry in iter {
            let entry = entry.with_context(|| format!("corrupt tree {tree_id}"))?;
            match entry.mode.kind() {
                EntryKind::Tree => {
                    if seen_trees.insert(entry.oid.to_owned()) {
                        stack.push((entry.oid.to_owned(), join(prefix.as_bstr(), entry.filename)));
                    }
                }
                EntryKind::Blob | EntryKind::BlobExecutable => {
                    if seen_blobs.insert(entry.oid.to_owned()) {
                        found(
                            entry.oid.to_owned(),
                            join(prefix.as_bstr(), entry.filename).as_bstr(),
                        );
                    }
                }
                // Symlinks hold a path, submodules a commit of another
                // repository: neither is content of this one.
                EntryKind::Link | EntryKind::Commit => {}
            }
        }
    }
    Ok(())
}

fn commit_info(commit: &gix::Commit<'_>) -> Result<CommitInfo> {
    let id = commit.id;
    let author = commit
        .author()
        .with_context(|| format!("cannot read the author of commit {id}"))?;
    let time = author.time().unwrap_or_default();
    Ok(CommitInfo {
        id: id.to_string(),
        author: format!("{} <{}>", author.name, author.email),
        date: time.format_or_unix(gix::date::time::format::ISO8601_STRICT),
    })
}

/// `--git` takes an optional value, so `tripline secrets --git /some/repo`
/// hands the repository's path to `--git` and leaves PATH at its default.
/// When that value is an existing directory, PATH is the default `.`, and
/// the value is not a revision of the repository at `.`, it is read as
/// PATH (with all refs): what the user meant, with no ambiguity left.
pub fn path_and_revs(path: &Path, revs: &str) -> (PathBuf, String) {
    let candidate = Path::new(revs);
    if !revs.is_empty() && path == Path::new(".") && candidate.is_dir() {
        let is_rev = open(path)
            .ok()
            .is_some_and(|repo| revs.split_whitespace().all(|r| repo.rev_parse(r).is_ok()));
        if !is_rev {
            return (candidate.to_path_buf(), String::new());
        }
    }
    (path.to_path_buf(), revs.to_owned())
}

/// Splits `revs` into commits to start from and commits to exclude.
fn resolve_revs(repo: &gix::Repository, revs: &str) -> Result<(Vec<ObjectId>, Vec<ObjectId>)> {
    use gix::revision::plumbing::Spec;
    let mut tips = Vec::new();
    let mut hidden = Vec::new();
    if revs.trim().is_empty() {
        let refs = repo.references().context("cannot list references")?;
        for r in refs.all().context("cannot list references")? {
            let Ok(mut r) = r else { continue };
            // Refs to trees or blobs (rare tags) hold no history to walk.
            if let Ok(commit) = r.peel_to_commit() {
                tips.push(commit.id);
            }
        }
        if tips.is_empty() {
            if let Ok(id) = repo.head_id() {
                tips.push(id.detach());
            }
        }
        tips.sort();
        tips.dedup();
        return Ok((tips, hidden));
    }
    for spec in revs.split_whitespace() {
        let parsed = repo
            .rev_parse(spec)
            .with_context(|| format!("--git {spec}: not a revision in this repository"))?
            .detach();
        match parsed {
            Spec::Include(id) => tips.push(peel_commit(repo, id, spec)?),
            Spec::Exclude(id) => hidden.push(peel_commit(repo, id, spec)?),
            Spec::Range { from, to } => {
                hidden.push(peel_commit(repo, from, spec)?);
                tips.push(peel_commit(repo, to, spec)?);
            }
            Spec::Merge { theirs, ours } => {
                let theirs = peel_commit(repo, theirs, spec)?;
                let ours = peel_commit(repo, ours, spec)?;
                if let Ok(Some(base)) = repo.merge_base(theirs, ours) {
                    hidden.push(base.detach());
                }
                tips.push(theirs);
                tips.push(ours);
            }
            Spec::IncludeOnlyParents(id) => {
                let c = repo.find_commit(peel_commit(repo, id, spec)?)?;
                tips.extend(c.parent_ids().map(|p| p.detach()));
            }
            Spec::ExcludeParents(id) => {
                let id = peel_commit(repo, id, spec)?;
                let c = repo.find_commit(id)?;
                hidden.extend(c.parent_ids().map(|p| p.detach()));
                tips.push(id);
            }
        }
    }
    if tips.is_empty() {
        bail!("--git {revs}: names no commit to scan (only exclusions)");
    }
    Ok((tips, hidden))
}

fn peel_commit(repo: &gix::Repository, id: ObjectId, spec: &str) -> Result<ObjectId> {
    let object = repo
        .find_object(id)
        .with_context(|| format!("--git {spec}: cannot read object {id}"))?;
    let commit = object
        .peel_to_commit()
        .with_context(|| format!("--git {spec}: {id} is not a commit"))?;
    Ok(commit.id)
}

/// Options for [`scan_history`].
#[derive(Clone, Debug)]
pub struct HistoryOptions {
    pub max_file_size: u64,
    pub threads: usize,
}

/// Scans every blob reachable from `revs` once, in parallel, and attributes
/// each finding to the oldest commit that introduced its blob. A secret that
/// stays in a file across many versions of it is reported once, for the
/// oldest version: the commit that introduced the secret.
pub fn scan_history(
    engine: &Engine,
    path: &Path,
    revs: &str,
    opts: &HistoryOptions,
) -> Result<(Vec<Finding>, Vec<ScanError>, HistoryStats)> {
    let history = history_blobs(path, revs)?;
    let scanned = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    let missing = AtomicU64::new(0);
    let found: Mutex<Vec<(usize, Finding)>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<ScanError>> = Mutex::new(Vec::new());
    let threads = opts.threads.clamp(1, history.blobs.len().max(1));
    // Each worker reads through a repository handle and a buffer of its
    // own (`for_each_init`: made once per stolen batch of blobs, not per
    // blob).
    let thread_local_repo = || {
        let mut repo = history.repo.to_thread_local();
        repo.object_cache_size_if_unset(4 * 1024 * 1024);
        (repo, Vec::new())
    };
    in_pool(threads, || {
        history
            .blobs
            .par_iter()
            .for_each_init(thread_local_repo, |(repo, buf), blob| {
                match read_blob(repo, blob.id, opts.max_file_size, buf) {
                    Ok(BlobRead::Read) => {}
                    Ok(BlobRead::Skipped(_)) => {
                        skipped.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Ok(BlobRead::Missing) => {
                        missing.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Err(e) => {
                        lock(&errors).push(ScanError {
                            path: Some(blob.path.clone()),
                            message: format!("cannot read blob {}: {e:#}", blob.id),
                        });
                        return;
                    }
                }
                scanned.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
                let mut hits = engine.scan(&blob.path, buf);
                if hits.is_empty() {
                    return;
                }
                let hashes = linehash::line_hashes(buf);
                let commit = &history.commits[blob.commit];
                let mut out = lock(&found);
                for mut f in hits.drain(..) {
                    let line = (f.location.start_line as usize).saturating_sub(1);
                    f.location.line_hash = hashes.get(line).cloned();
                    f.location.commit = Some(commit.clone());
                    f.location.blob = Some(blob.id.to_string());
                    out.push((blob.commit, f));
                }
            });
    });
    let findings = oldest_per_fingerprint(into_inner(found));
    let stats = HistoryStats {
        commits: history.commits.len() as u64,
        blobs_scanned: scanned.into_inner(),
        bytes_scanned: bytes.into_inner(),
        blobs_skipped: skipped.into_inner(),
        blobs_missing: missing.into_inner(),
    };
    Ok((findings, into_inner(errors), stats))
}

/// The same secret at the same path in many versions of a file is one
/// finding: keep only the findings from the oldest blob that has it (all of
/// that blob's occurrences, so two lines with the same secret stay two).
fn oldest_per_fingerprint(found: Vec<(usize, Finding)>) -> Vec<Finding> {
    let mut oldest: HashMap<&str, (usize, &str)> = HashMap::new();
    for (commit, f) in &found {
        let blob = f.location.blob.as_deref().unwrap_or_default();
        let e = oldest.entry(&f.fingerprint).or_insert((*commit, blob));
        if (*commit, blob) < *e {
            *e = (*commit, blob);
        }
    }
    let keep: HashSet<(String, usize, String)> = oldest
        .into_iter()
        .map(|(fp, (c, b))| (fp.to_owned(), c, b.to_owned()))
        .collect();
    found
        .into_iter()
        .filter(|(c, f)| {
            keep.contains(&(
                f.fingerprint.clone(),
                *c,
                f.location.blob.clone().unwrap_or_default(),
            ))
        })
        .map(|(_, f)| f)
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------
// Hook
// ---------------------------------------------------------------------------

/// The line that marks a hook as tripline's own, so that reinstalling
/// replaces it while a hook someone else wrote is left alone.
const HOOK_MARKER: &str = "# installed by `tripline hook install`";

/// Writes the pre-commit hook of the repository containing `path`: to
/// `core.hooksPath` when set, else to the hooks directory shared by all
/// worktrees. Refuses to replace a hook tripline did not write unless
/// `force`. Returns the hook's path.
pub fn install_hook(path: &Path, force: bool) -> Result<PathBuf> {
    let repo = open(path)?;
    let hooks_dir = match repo
        .config_snapshot()
        .trusted_path("core.hooksPath")
        .ok()
        .flatten()
    {
        Some(p) => {
            if p.is_absolute() {
                p
            } else {
                repo.workdir().unwrap_or(repo.git_dir()).join(p)
            }
        }
        None => repo.common_dir().join("hooks"),
    };
    let hook = hooks_dir.join("pre-commit");
    if let Ok(existing) = std::fs::read(&hook) {
        if !force && existing.find(HOOK_MARKER).is_none() {
            bail!(
                "{} exists and was not written by tripline; add `tripline secrets --staged` to it, \
                 or pass --force to replace it",
                hook.display()
            );
        }
    }
    std::fs::create_dir_all(&hooks_dir)
        .with_context(|| format!("cannot create {}", hooks_dir.display()))?;
    let script = hook_script();
    let mut tmp = tempfile::Builder::new()
        .prefix(".pre-commit-")
        .tempfile_in(&hooks_dir)
        .with_context(|| format!("cannot write in {}", hooks_dir.display()))?;
    tmp.write_all(script.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", hook.display()))?;
    }
    tmp.persist(&hook)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", hook.display()))?;
    Ok(hook)
}

/// The hook runs `tripline` from PATH, falling back to the binary that
/// installed it, so a hook installed from `cargo run` or a fixed path still
/// works in a shell whose PATH lacks it.
fn hook_script() -> String {
    let fallback = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(shell_quote))
        .unwrap_or_else(|| "tripline".to_owned());
    format!(
        "#!/bin/sh\n\
         {HOOK_MARKER}\n\
         # Blocks a commit that adds a secret. Bypass once with `git commit --no-verify`.\n\
         if command -v tripline >/dev/null 2>&1; then\n\
         \x20   exec tripline secrets --staged\n\
         fi\n\
         exec {fallback} secrets --staged\n"
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_marks_new_and_changed_lines_only() {
        let before = b"a\nb\nc\nd\n";
        let after = b"a\nB\nc\nd\ne\n";
        let lines: Vec<u32> = added_lines(before, after).into_iter().collect();
        assert_eq!(lines, vec![2, 5]);
        assert!(added_lines(before, before).is_empty());
        let all: Vec<u32> = added_lines(b"", b"x\ny").into_iter().collect();
        assert_eq!(all, vec![1, 2]);
    }

    #[test]
    fn oldest_first_puts_parents_before_children_despite_clock_skew() {
        let id = |n: u8| ObjectId::from_bytes_or_panic(&[n; 20]);
        let mut commits = HashMap::new();
        // Child 2 has an earlier timestamp than its parent 1.
        commits.insert(
            id(1),
            WalkedCommit {
                parents: vec![],
                time: 100,
            },
        );
        commits.insert(
            id(2),
            WalkedCommit {
                parents: vec![id(1)],
                time: 50,
            },
        );
        commits.insert(
            id(3),
            WalkedCommit {
                parents: vec![id(9)],
                time: 10,
            },
        );
        let order = oldest_first(&commits);
        assert_eq!(order, vec![id(3), id(1), id(2)]);
    }

    #[test]
    fn hook_script_is_marked_and_runs_staged_scan() {
        let s = hook_script();
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(HOOK_MARKER));
        assert!(s.contains("exec tripline secrets --staged"));
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    /// A throwaway repository driven by the `git` CLI.
    struct Repo(tempfile::TempDir);

    impl Repo {
        fn new() -> Repo {
            let r = Repo(tempfile::tempdir().unwrap());
            r.git(&["init", "-q", "-b", "main"]);
            r.git(&["config", "user.name", "Ada Tester"]);
            r.git(&["config", "user.email", "ada@example.com"]);
            r.git(&["config", "commit.gpgsign", "false"]);
            r
        }

        fn path(&self) -> &Path {
            self.0.path()
        }

        fn git(&self, args: &[&str]) -> String {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(self.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        }

        fn write(&self, rel: &str, content: &str) {
            let p = self.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }

        fn commit(&self, msg: &str) -> String {
            self.git(&["add", "-A"]);
            self.git(&["commit", "-q", "-m", msg]);
            self.git(&["rev-parse", "HEAD"])
        }
    }

    fn staged(r: &Repo) -> StagedSet {
        staged_files(r.path(), 1 << 20).unwrap()
    }

    #[test]
    fn staged_reads_the_index_not_the_work_tree() {
        let r = Repo::new();
        // No commit yet: everything staged is new.
        r.write("a.txt", "one\ntwo\n");
        r.git(&["add", "a.txt"]);
        r.write("a.txt", "changed after staging\n");
        r.write("untracked.txt", "x\n");
        let s = staged(&r);
        assert_eq!(s.files.len(), 1);
        assert_eq!(s.files[0].path, "a.txt");
        assert_eq!(s.files[0].content, b"one\ntwo\n");
        assert_eq!(s.files[0].added_lines, None);

        r.git(&["checkout", "--", "a.txt"]);
        r.commit("first");
        assert!(staged(&r).files.is_empty(), "nothing staged after a commit");

        r.write("a.txt", "one\nTWO\nthree\n");
        r.write("dir/b.txt", "b\n");
        r.git(&["add", "-A"]);
        std::fs::remove_file(r.path().join("a.txt")).unwrap();
        let s = staged(&r);
        let paths: Vec<&str> = s.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["a.txt", "dir/b.txt"]);
        let lines: Vec<u32> = s.files[0]
            .added_lines
            .clone()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(lines, vec![2, 3]);
        assert_eq!(s.files[1].added_lines, None);
    }

    #[test]
    fn staged_skips_directories_the_cache_tree_proves_unchanged() {
        let r = Repo::new();
        r.write("x/deep/1.txt", "one\n");
        r.write("y/2.txt", "two\n");
        r.commit("first");
        r.write("y/2.txt", "two\nmore\n");
        r.git(&["add", "y/2.txt"]);
        let repo = open(r.path()).unwrap();
        let index = repo.index_or_empty().unwrap();
        let view = HeadView::read(&repo, index.tree()).unwrap();
        assert!(
            view.unchanged_dirs.contains(b"x".as_bstr()),
            "x was never read"
        );
        assert!(!view.blobs.contains_key(b"x/deep/1.txt".as_bstr()));
        assert!(view.blobs.contains_key(b"y/2.txt".as_bstr()));
        assert!(view.is_unchanged(b"x/deep/1.txt".as_bstr()));
        assert!(!view.is_unchanged(b"y/2.txt".as_bstr()));
        let s = staged(&r);
        assert_eq!(s.files.len(), 1);
        let lines: Vec<u32> = s.files[0]
            .added_lines
            .clone()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(lines, vec![2]);
    }

    #[test]
    fn staged_rename_adds_no_lines_and_binary_is_skipped() {
        let r = Repo::new();
        r.write("old.txt", "keep me\n");
        r.commit("first");
        r.git(&["mv", "old.txt", "new.txt"]);
        std::fs::write(r.path().join("bin.dat"), b"\x00\x01\x02binary").unwrap();
        r.git(&["add", "bin.dat"]);
        let s = staged(&r);
        assert_eq!(s.files.len(), 1);
        assert_eq!(s.files[0].path, "new.txt");
        assert_eq!(s.files[0].added_lines, Some(BTreeSet::new()));
        assert_eq!(s.skipped, vec![("bin.dat".to_owned(), SkipReason::Binary)]);
    }

    #[test]
    fn staged_works_in_a_linked_worktree() {
        let r = Repo::new();
        r.write("a.txt", "a\n");
        r.commit("first");
        let wt = tempfile::tempdir().unwrap();
        let wt_path = wt.path().join("wt");
        r.git(&["worktree", "add", "-q", wt_path.to_str().unwrap()]);
        std::fs::write(wt_path.join("a.txt"), "a\nb\n").unwrap();
        let out = std::process::Command::new("git")
            .args(["add", "a.txt"])
            .current_dir(&wt_path)
            .output()
            .unwrap();
        assert!(out.status.success());
        let s = staged_files(&wt_path, 1 << 20).unwrap();
        assert_eq!(s.files.len(), 1);
        assert_eq!(s.files[0].content, b"a\nb\n");
        assert!(
            staged(&r).files.is_empty(),
            "the main worktree's index is separate"
        );
    }

    #[test]
    fn history_lists_each_blob_once_with_its_oldest_commit() {
        let r = Repo::new();
        r.write("shared.txt", "same content\n");
        let first = r.commit("c0");
        for i in 1..=20 {
            r.write("counter.txt", &format!("{i}\n"));
            r.commit(&format!("c{i}"));
        }
        r.git(&["checkout", "-q", "-b", "side", &first]);
        r.write("moved/shared-copy.txt", "same content\n");
        r.write("side.txt", "side\n");
        let side = r.commit("side");
        r.git(&["checkout", "-q", "main"]);
        let h = history_blobs(r.path(), "").unwrap();
        assert_eq!(h.commits.len(), 22);
        // shared.txt once, counter 1..=20, side.txt.
        assert_eq!(h.blobs.len(), 22);
        let shared = h.blobs.iter().find(|b| b.path == "shared.txt").unwrap();
        assert_eq!(h.commits[shared.commit].id, first);
        assert_eq!(
            h.commits[shared.commit].author,
            "Ada Tester <ada@example.com>"
        );
        assert!(h.commits[shared.commit].date.contains('T'));
        let side_blob = h.blobs.iter().find(|b| b.path == "side.txt").unwrap();
        assert_eq!(h.commits[side_blob.commit].id, side);

        // A range lists only what the tip adds over the base.
        let range = history_blobs(r.path(), &format!("{first}..side")).unwrap();
        let paths: Vec<&str> = range.blobs.iter().map(|b| b.path.as_str()).collect();
        assert_eq!(paths, vec!["side.txt"]);
        assert_eq!(range.commits.len(), 1);
        assert!(history_blobs(r.path(), "no-such-branch").is_err());
    }

    #[test]
    fn hook_install_refuses_a_foreign_hook_without_force() {
        let r = Repo::new();
        let hook = install_hook(r.path(), false).unwrap();
        assert_eq!(hook, r.path().join(".git/hooks/pre-commit"));
        // Reinstalling over our own hook is fine.
        install_hook(r.path(), false).unwrap();
        std::fs::write(&hook, "#!/bin/sh\nmake lint\n").unwrap();
        let e = install_hook(r.path(), false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&hook).unwrap(),
            "#!/bin/sh\nmake lint\n"
        );
        install_hook(r.path(), true).unwrap();
        assert!(std::fs::read_to_string(&hook)
            .unwrap()
            .contains(HOOK_MARKER));
    }
}
