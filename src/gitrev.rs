//! Files as a git revision has them, read with `gix`: the configuration of
//! a trusted revision (`--config-rev`), and the files a range of commits
//! changes (for `suppression-added` findings in `--git A..B`).
//!
//! This module only reads git objects and hands back bytes with their
//! repository paths. It does not parse configuration, scan for secrets or
//! decide what a change means; it never runs `git`, never touches the
//! network, and never writes into the work tree (what it materialises for
//! the loaders goes to a temporary folder of its own).

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::EntryKind;
use gix::ObjectId;

use crate::source::walk::looks_binary;

/// Opens the repository containing `path`, with errors that name the option.
fn open(path: &Path, option: &str) -> Result<gix::Repository> {
    gix::discover(path).with_context(|| {
        format!(
            "{option}: {} is not inside a git repository",
            path.display()
        )
    })
}

/// The tree of a trusted revision, and where to materialise its files.
pub struct TrustedTree {
    rev: String,
    repo: gix::Repository,
    tree: ObjectId,
    /// The work tree, absolute and canonical: paths under it are read from
    /// `tree` instead of the disk.
    workdir: PathBuf,
    /// Where files read from the revision are written for loaders that
    /// take a path (rule files, the baseline), at their repository paths.
    dir: tempfile::TempDir,
}

impl TrustedTree {
    /// The tree of revision `rev` in the repository containing `path`.
    /// An unknown revision, or a path outside any repository, is an error
    /// naming it.
    pub fn open(path: &Path, rev: &str) -> Result<TrustedTree> {
        let repo = open(path, &format!("--config-rev {rev}"))?;
        let workdir = repo
            .workdir()
            .context("--config-rev needs a work tree, and this repository is bare")?;
        let workdir = workdir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", workdir.display()))?;
        let tree = repo
            .rev_parse_single(rev)
            .map_err(|e| {
                anyhow::anyhow!("--config-rev {rev}: not a revision in this repository ({e})")
            })?
            .object()
            .with_context(|| format!("--config-rev {rev}: cannot read the object"))?
            .peel_to_tree()
            .with_context(|| format!("--config-rev {rev}: names no commit or tree"))?
            .id;
        let dir = tempfile::Builder::new()
            .prefix("tripline-config-rev-")
            .tempdir()
            .context("cannot create a temporary folder for --config-rev")?;
        Ok(TrustedTree {
            rev: rev.to_owned(),
            repo,
            tree,
            workdir,
            dir,
        })
    }

    /// The repository path (`/`-separated, relative to the work tree) of
    /// `p`, a path relative to the current folder or absolute; `None` when
    /// it lies outside the work tree (then it is not the revision's to say).
    pub fn repo_path(&self, p: &Path) -> Option<String> {
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().ok()?.join(p)
        };
        // Canonicalise the longest prefix that exists (the file itself may
        // exist only in the revision), then add the rest lexically.
        let mut existing = abs.as_path();
        let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
        let base = loop {
            if let Ok(c) = existing.canonicalize() {
                break c;
            }
            rest.push(existing.file_name()?);
            existing = existing.parent()?;
        };
        let mut full = base;
        for part in rest.iter().rev() {
            full.push(part);
        }
        let rel = full.strip_prefix(&self.workdir).ok()?;
        let mut parts: Vec<String> = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_str()?.to_owned()),
                Component::CurDir => {}
                Component::ParentDir => {
                    parts.pop()?;
                }
                _ => return None,
            }
        }
        Some(parts.join("/"))
    }

    /// How a message names a file of the revision: `REV:path`.
    pub fn shown(&self, repo_path: &str) -> String {
        format!("{}:{repo_path}", self.rev)
    }

    /// The blob at `repo_path` in the revision; `None` when the revision has
    /// no file there.
    pub fn read(&self, repo_path: &str) -> Result<Option<Vec<u8>>> {
        Ok(match self.entry(repo_path)? {
            Some((id, EntryKind::Blob | EntryKind::BlobExecutable)) => Some(self.blob(id)?),
            _ => None,
        })
    }

    fn entry(&self, repo_path: &str) -> Result<Option<(ObjectId, EntryKind)>> {
        if repo_path.is_empty() {
            return Ok(Some((self.tree, EntryKind::Tree)));
        }
        let tree = self
            .repo
            .find_tree(self.tree)
            .with_context(|| format!("--config-rev {}: cannot read its tree", self.rev))?;
        let entry = tree
            .lookup_entry_by_path(repo_path)
            .with_context(|| format!("cannot read {}", self.shown(repo_path)))?;
        Ok(entry.map(|e| (e.object_id(), e.mode().kind())))
    }

    fn blob(&self, id: ObjectId) -> Result<Vec<u8>> {
        let object = self
            .repo
            .find_object(id)
            .with_context(|| format!("--config-rev {}: cannot read object {id}", self.rev))?;
        Ok(object.data.clone())
    }

    /// `p` as the revision has it, for a loader that reads paths: a file is
    /// written to the temporary folder, a folder's `*.toml` files likewise
    /// (what a rule path names). A path outside the work tree is returned
    /// as it is. A path the revision lacks is an error naming it.
    pub fn materialize(&self, p: &Path) -> Result<PathBuf> {
        let Some(repo_path) = self.repo_path(p) else {
            return Ok(p.to_path_buf());
        };
        let target = self.dir.path().join(&repo_path);
        match self.entry(&repo_path)? {
            Some((id, EntryKind::Blob | EntryKind::BlobExecutable)) => {
                write_file(&target, &self.blob(id)?)?;
            }
            Some((id, EntryKind::Tree)) => {
                std::fs::create_dir_all(&target)
                    .with_context(|| format!("cannot create {}", target.display()))?;
                let tree = self.repo.find_tree(id)?;
                for entry in tree.iter() {
                    let entry = entry.with_context(|| format!("corrupt tree {id}"))?;
                    let name = entry.filename().to_str_lossy().into_owned();
                    if name.ends_with(".toml")
                        && matches!(
                            entry.mode().kind(),
                            EntryKind::Blob | EntryKind::BlobExecutable
                        )
                        && !name.contains(['/', '\\'])
                    {
                        write_file(&target.join(&name), &self.blob(entry.object_id())?)?;
                    }
                }
            }
            _ => bail!("{}: no such file in that revision", self.shown(&repo_path)),
        }
        Ok(target)
    }

    /// Every file named `name` under the folder `under` (a repository path,
    /// `""` for the root) in the revision, as (its folder relative to
    /// `under`, `/`-separated, `""` for `under` itself; its text).
    pub fn files_named(&self, under: &str, name: &str) -> Result<Vec<(String, String)>> {
        let Some((tree, EntryKind::Tree)) = self.entry(under)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (path, id) in tree_files(&self.repo, tree)? {
            let path = path.to_str_lossy();
            let (dir, file) = path.rsplit_once('/').unwrap_or(("", &path));
            if file == name {
                let text = String::from_utf8_lossy(&self.blob(id)?).into_owned();
                out.push((dir.to_owned(), text));
            }
        }
        out.sort();
        Ok(out)
    }
}

fn write_file(target: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(target, bytes).with_context(|| format!("cannot write {}", target.display()))
}

/// One file a range of commits adds or changes: its content before (when it
/// existed) and after, and the lines of the after side that the change adds.
#[derive(Clone, Debug)]
pub struct ChangedFile {
    /// Relative to the work tree, `/`-separated.
    pub path: String,
    pub old: Option<Vec<u8>>,
    pub new: Vec<u8>,
    /// 1-based lines of `new` added or modified relative to `old`; `None`
    /// when the file is new (every line is added).
    pub added_lines: Option<BTreeSet<u32>>,
}

/// The text files that differ between the two ends of `revs` when it is a
/// range (`A..B`, `A...B` from their merge base) in the repository
/// containing `path`; `None` for anything else (all refs, one revision),
/// which has no "before" to compare with. Binary files and files larger
/// than `max_file_size` are left out.
pub fn changed_in_range(
    path: &Path,
    revs: &str,
    max_file_size: u64,
) -> Result<Option<Vec<ChangedFile>>> {
    use gix::revision::plumbing::Spec;
    let spec = revs.trim();
    if spec.is_empty() || spec.split_whitespace().count() != 1 {
        return Ok(None);
    }
    let repo = open(path, &format!("--git {spec}"))?;
    let parsed = repo
        .rev_parse(spec)
        .with_context(|| format!("--git {spec}: not a revision in this repository"))?
        .detach();
    let (from, to) = match parsed {
        Spec::Range { from, to } => (from, to),
        Spec::Merge { theirs, ours } => {
            let Ok(Some(base)) = repo.merge_base(theirs, ours) else {
                return Ok(None);
            };
            (base.detach(), ours)
        }
        _ => return Ok(None),
    };
    let old = tree_files(&repo, from)?;
    let new = tree_files(&repo, to)?;
    let mut out = Vec::new();
    for (p, id) in &new {
        let before = old.get(p);
        if before == Some(id) {
            continue;
        }
        let Some(content) = read_text(&repo, *id, max_file_size)? else {
            continue;
        };
        let old_content = match before {
            Some(b) => read_text(&repo, *b, max_file_size)?,
            None => None,
        };
        let added_lines = old_content
            .as_deref()
            .map(|o| crate::secrets::git::added_lines(o, &content));
        out.push(ChangedFile {
            path: p.to_str_lossy().into_owned(),
            old: old_content,
            new: content,
            added_lines,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Some(out))
}

/// Every blob of the tree of commit (or tree) `id`, by path.
fn tree_files(repo: &gix::Repository, id: ObjectId) -> Result<HashMap<BString, ObjectId>> {
    let tree = repo
        .find_object(id)
        .with_context(|| format!("cannot read object {id}"))?
        .peel_to_tree()
        .with_context(|| format!("{id} names no tree"))?;
    let mut files = HashMap::new();
    let mut stack: Vec<(ObjectId, BString)> = vec![(tree.id, BString::default())];
    while let Some((tree_id, prefix)) = stack.pop() {
        let tree = repo
            .find_tree(tree_id)
            .with_context(|| format!("cannot read tree {tree_id}"))?;
        for entry in tree.iter() {
            let entry = entry.with_context(|| format!("corrupt tree {tree_id}"))?;
            let mut p = prefix.clone();
            if !p.is_empty() {
                p.push(b'/');
            }
            p.extend_from_slice(entry.filename());
            match entry.mode().kind() {
                EntryKind::Tree => stack.push((entry.object_id(), p)),
                EntryKind::Blob | EntryKind::BlobExecutable => {
                    files.insert(p, entry.object_id());
                }
                EntryKind::Link | EntryKind::Commit => {}
            }
        }
    }
    Ok(files)
}

/// A blob's bytes, unless it is missing locally, too large or binary.
fn read_text(repo: &gix::Repository, id: ObjectId, max: u64) -> Result<Option<Vec<u8>>> {
    let Some(header) = repo.try_find_header(id)? else {
        return Ok(None);
    };
    if header.size() > max {
        return Ok(None);
    }
    let Some(object) = repo.try_find_object(id)? else {
        return Ok(None);
    };
    if looks_binary(&object.data) {
        return Ok(None);
    }
    Ok(Some(object.data.clone()))
}

/// The files of `HEAD`, read on demand: the "before" side of `--staged`.
pub struct HeadFiles {
    repo: gix::Repository,
    /// `None` before the first commit.
    tree: Option<ObjectId>,
}

impl HeadFiles {
    pub fn open(path: &Path) -> Result<HeadFiles> {
        let repo = open(path, "--staged")?;
        let head = repo
            .head_tree_id_or_empty()
            .context("cannot resolve HEAD")?;
        let tree = (!head.is_empty_tree()).then(|| head.detach());
        Ok(HeadFiles { repo, tree })
    }

    /// The content of `repo_path` in `HEAD`, if it has a text file there.
    pub fn read(&self, repo_path: &str) -> Option<Vec<u8>> {
        let tree = self.repo.find_tree(self.tree?).ok()?;
        let entry = tree.lookup_entry_by_path(repo_path).ok()??;
        if !matches!(
            entry.mode().kind(),
            EntryKind::Blob | EntryKind::BlobExecutable
        ) {
            return None;
        }
        let object = self.repo.find_object(entry.object_id()).ok()?;
        Some(object.data.clone())
    }
}
