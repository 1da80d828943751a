//! What the audit remembers about an OSV database folder between runs: for
//! each record file, its size and modification time, the package names it
//! gives and the date of its `modified`. A run then stats each file
//! instead of reading it, and reads only the records that may name a
//! locked package (and any file whose size or time changed): in the PyPA
//! database that is a few hundred of 2,700 files.
//!
//! Kept in `$XDG_CACHE_HOME/tripline/osv-index/` (`~/.cache/...`), one file
//! per database folder, written whole through a temporary file and a
//! rename; never written when neither variable is set (it would land in
//! the working directory, perhaps the scanned tree). A missing, unreadable
//! or foreign file is an empty index: the run reads everything, as without
//! one. This module does not parse records (that is `osv`).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bumped when an entry's meaning changes: an index of another version is
/// an empty one.
const FORMAT: u32 = 2;

/// A file's size, modification time (seconds, nanoseconds) and inode (0
/// where there is none): when all are as remembered, so is the file. The
/// inode catches a file replaced by another of the same size and time (git
/// writes a new file and renames it); an edit in place of the same size
/// within one tick of the file system's clock is the one change missed.
pub type Stamp = (u64, u64, u32, u64);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub stamp: Stamp,
    /// `None`: the names could not be read off the text; always parse it.
    pub names: Option<Vec<String>>,
    /// `YYYY-MM-DD` of its `modified`.
    pub modified: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OsvIndex {
    format: u32,
    /// The database folder, as given: an index found under another path's
    /// hash (a collision) is not used.
    db: String,
    /// By path relative to the database folder.
    pub files: HashMap<String, Entry>,
}

/// A file's stamp, from its metadata.
pub fn stamp_of(meta: &std::fs::Metadata) -> Option<Stamp> {
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.len(), mtime.as_secs(), mtime.subsec_nanos(), inode))
}

/// Where the index of database `db` lives; `None` when neither
/// `XDG_CACHE_HOME` nor `HOME` is set.
fn index_path(db: &Path) -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    let key = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let hash = Sha256::digest(key.to_string_lossy().as_bytes());
    let hex: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
    Some(
        cache
            .join("tripline")
            .join("osv-index")
            .join(format!("{hex}.json")),
    )
}

fn db_key(db: &Path) -> String {
    std::fs::canonicalize(db)
        .unwrap_or_else(|_| db.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

impl OsvIndex {
    /// The remembered index of `db`, or an empty one.
    pub fn read(db: &Path) -> OsvIndex {
        let Some(path) = index_path(db) else {
            return OsvIndex::default();
        };
        let Ok(bytes) = std::fs::read(&path) else {
            return OsvIndex::default();
        };
        match serde_json::from_slice::<OsvIndex>(&bytes) {
            Ok(index) if index.format == FORMAT && index.db == db_key(db) => index,
            _ => OsvIndex::default(),
        }
    }

    /// An index of `db` holding `files`.
    pub fn new(db: &Path, files: HashMap<String, Entry>) -> OsvIndex {
        OsvIndex {
            format: FORMAT,
            db: db_key(db),
            files,
        }
    }

    /// Writes the index for the next run; a failure only costs that run
    /// the time it would have saved.
    pub fn write(&self, db: &Path) {
        let Some(path) = index_path(db) else { return };
        let Some(dir) = path.parent() else { return };
        let written = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".osv-index-")
                .tempfile_in(dir)?;
            serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), self)?;
            tmp.as_file_mut().flush()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        })();
        drop(written);
    }
}
