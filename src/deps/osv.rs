//! The PyPI advisory database in OSV format: loading records from a folder
//! (YAML or JSON, any layout: the PyPA advisory-database checkout, an
//! unpacked OSV export) or from OSV's `all.zip` export, and deciding which
//! records affect a locked (name, version).
//!
//! The rules are the OSV schema's (<https://ossf.github.io/osv-schema/>):
//! withdrawn records are skipped; only `affected[]` entries of ecosystem
//! `PyPI` count, by PEP 503 name; a version is affected when it is in the
//! entry's `versions`, or inside one of its `ECOSYSTEM` ranges under PEP
//! 440 ordering (`pep440_rs`). Ranges are read event by event in the order
//! given: each `introduced` opens an interval, closed by the next `fixed`
//! (exclusive) or `last_affected` (inclusive); `introduced: "0"` is below
//! every version; `limit` events cap the range; `GIT` ranges are ignored;
//! an interval with a bound that is not a PEP 440 version never matches.
//! In a folder with a `vulns/` subfolder (the PyPA layout), only that
//! subfolder holds records. A malformed record costs only itself: it is named in an error and
//! skipped. This module does not read lockfiles or make findings.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use serde::Deserialize;

use super::python::normalize_name;
use super::{FastMap, FastSet};
use crate::finding::{ScanError, Severity};

/// One OSV record, as far as an audit needs it.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    /// `YYYY-MM-DD...` as written.
    pub modified: Option<String>,
    pub published: Option<String>,
    /// Only the `PyPI` entries.
    pub affected: Vec<Affected>,
    /// The base score and vector of the first CVSS `severity` that parses.
    pub cvss: Option<(f64, String)>,
    /// `database_specific.severity` (GitHub's LOW, MODERATE, HIGH, CRITICAL).
    pub database_severity: Option<String>,
    /// The first `ADVISORY` reference, else the first reference.
    pub reference: Option<String>,
}

/// One `affected[]` entry of ecosystem `PyPI`.
#[derive(Debug, Clone)]
pub struct Affected {
    /// PEP 503 normalised.
    pub name: String,
    /// Each as written, with its PEP 440 reading when it has one.
    pub versions: Vec<(String, Option<Version>)>,
    /// The `ECOSYSTEM` ranges' events, in the order given.
    pub ranges: Vec<Vec<Event>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

/// The version an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// `introduced: "0"`: before every version, dev releases included.
    Start,
    /// `limit: "*"`: no limit.
    Unlimited,
    Version(Version),
    /// Not a PEP 440 version: the interval never matches.
    Unparsable(String),
}

#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub bound: Bound,
}

// ---- reading -------------------------------------------------------------

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    references: Option<Vec<RawReference>>,
    #[serde(default)]
    database_specific: Option<RawDatabaseSpecific>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// Only `severity` is read; the rest of `database_specific` is free-form.
#[derive(Deserialize)]
struct RawDatabaseSpecific {
    #[serde(default, deserialize_with = "text_or_nothing")]
    severity: Option<String>,
}

/// A string, or nothing for any other value: `database_specific` is the
/// database's own, so an odd type there must not cost the record.
fn text_or_nothing<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOr {
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<TextOr>::deserialize(d)? {
        Some(TextOr::Text(s)) => Some(s),
        _ => None,
    })
}

fn parse_bound(kind: EventKind, text: &str) -> Bound {
    let text = text.trim();
    match (kind, text) {
        (EventKind::Introduced, "0") => Bound::Start,
        (EventKind::Limit, "*") => Bound::Unlimited,
        _ => Version::from_str(text)
            .map(Bound::Version)
            .unwrap_or_else(|_| Bound::Unparsable(text.to_string())),
    }
}

/// The format a record file is in, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum RecordFormat {
    Yaml,
    Json,
}

fn record_format(name: &str) -> Option<RecordFormat> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(RecordFormat::Yaml)
    } else if lower.ends_with(".json") {
        Some(RecordFormat::Json)
    } else {
        None
    }
}

/// Parses one record. `Ok(None)` for a withdrawn record.
pub fn parse_record(bytes: &[u8], yaml: bool) -> Result<Option<Record>, String> {
    let raw: RawRecord = if yaml {
        serde_yaml_ng::from_slice(bytes).map_err(|e| e.to_string())?
    } else {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?
    };
    if raw.withdrawn.is_some() {
        return Ok(None);
    }
    if raw.id.trim().is_empty() {
        return Err("the record has an empty `id`".to_string());
    }
    let mut affected = Vec::new();
    for a in raw.affected.unwrap_or_default() {
        let Some(pkg) = a.package else { continue };
        if pkg.ecosystem.as_deref() != Some("PyPI") {
            continue;
        }
        let Some(name) = pkg.name.filter(|n| !n.trim().is_empty()) else {
            return Err("an `affected` entry of PyPI has no package name".to_string());
        };
        let mut ranges = Vec::new();
        for r in a.ranges.unwrap_or_default() {
            if r.kind != "ECOSYSTEM" {
                continue;
            }
            let mut events = Vec::new();
            for e in r.events {
                for (key, value) in e {
                    let kind = match key.as_str() {
                        "introduced" => EventKind::Introduced,
                        "fixed" => EventKind::Fixed,
                        "last_affected" => EventKind::LastAffected,
                        "limit" => EventKind::Limit,
                        other => return Err(format!("unknown range event `{other}`")),
                    };
                    events.push(Event {
                        kind,
                        bound: parse_bound(kind, &value),
                    });
                }
            }
            ranges.push(events);
        }
        let versions = a
            .versions
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let parsed = Version::from_str(v.trim()).ok();
                (v, parsed)
            })
            .collect();
        affected.push(Affected {
            name: normalize_name(&name),
            versions,
            ranges,
        });
    }
    let cvss = raw.severity.unwrap_or_default().into_iter().find_map(|s| {
        if !s.kind.starts_with("CVSS_V") {
            return None;
        }
        let c = cvss::Cvss::from_str(s.score.trim()).ok()?;
        Some((c.score(), s.score))
    });
    let references = raw.references.unwrap_or_default();
    let reference = references
        .iter()
        .find(|r| r.kind.as_deref() == Some("ADVISORY"))
        .or(references.first())
        .and_then(|r| r.url.clone());
    Ok(Some(Record {
        id: raw.id,
        aliases: raw.aliases.unwrap_or_default(),
        summary: raw.summary,
        details: raw.details,
        modified: raw.modified,
        published: raw.published,
        affected,
        cvss,
        database_severity: raw.database_specific.and_then(|d| d.severity),
        reference,
    }))
}

/// The PEP 503 names a record file gives in its `name:` / `"name":` keys,
/// read off its text without parsing it; `None` when that reading cannot
/// be trusted (no name key at all, a value that is not a plain name: an
/// escape, an anchor, a block scalar), so the file must be parsed to know.
fn record_names(bytes: &[u8]) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for at in memchr::memmem::find_iter(bytes, b"name") {
        let mut rest = &bytes[at + 4..];
        // `name:` in YAML, `"name":` in JSON or quoted YAML keys.
        if let Some(r) = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")) {
            rest = r;
        }
        let Some(r) = rest.strip_prefix(b":") else {
            continue;
        };
        // `name` must start a key: preceded by a quote, space or line start.
        if at > 0
            && !matches!(
                bytes[at - 1],
                b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'{' | b','
            )
        {
            continue;
        }
        let value = r.trim_ascii_start();
        let end = value
            .iter()
            .position(|&b| matches!(b, b'\n' | b'\r' | b',' | b'}'))
            .unwrap_or(value.len());
        let value = value[..end].trim_ascii();
        let value = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .or_else(|| value.strip_prefix(b"'").and_then(|v| v.strip_suffix(b"'")))
            .unwrap_or(value);
        if value.is_empty()
            || !value
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return None;
        }
        let name = normalize_name(std::str::from_utf8(value).ok()?);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    (!names.is_empty()).then_some(names)
}

/// Whether a record file may name one of `wanted` (normalised names): only
/// a file whose names ([`record_names`]) are all known and all outside
/// `wanted` is passed over, so the filter can only spare work, never lose
/// a record.
fn may_name_any(bytes: &[u8], wanted: &FastSet<String>) -> bool {
    match record_names(bytes) {
        None => true,
        Some(names) => names.iter().any(|n| wanted.contains(n)),
    }
}

/// The date (`YYYY-MM-DD`) of a record's `modified`, read off its text
/// without parsing it: for dating the whole database, most of which no
/// audit parses.
fn modified_date(bytes: &[u8]) -> Option<[u8; 10]> {
    let at = memchr::memmem::find(bytes, b"modified")?;
    let rest = &bytes[at + 8..];
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let rest = rest.strip_prefix(b":")?.trim_ascii_start();
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let date: [u8; 10] = rest.get(..10)?.try_into().ok()?;
    let well_formed = date.iter().enumerate().all(|(i, &b)| {
        if i == 4 || i == 7 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    well_formed.then_some(date)
}

/// The loaded database: the records that may concern the audited packages,
/// indexed by package name.
#[derive(Debug, Default)]
pub struct OsvStore {
    pub records: Vec<Record>,
    /// Normalised name: (record, affected entry) indexes.
    by_name: FastMap<String, Vec<(usize, usize)>>,
    /// The newest `modified` date of all record files (parsed or not).
    pub newest_modified: Option<String>,
    /// How many record files there are.
    pub files: usize,
    /// Withdrawn records skipped.
    pub withdrawn: usize,
    /// Malformed records, named (path inside the database) and skipped.
    pub errors: Vec<ScanError>,
}

/// Whether `path` can be an OSV database: a folder, or a `.zip` file.
pub fn is_database(path: &Path) -> bool {
    path.is_dir() || (path.is_file() && path.extension().is_some_and(|e| e == "zip"))
}

/// One record file's name and bytes.
type RecordFile = (String, RecordFormat, Vec<u8>);

impl OsvStore {
    /// Loads the records at `path` (a folder or a zip) that may name one
    /// of `wanted`, or every record when `wanted` is `None`; `threads`
    /// threads read and parse.
    pub fn load(
        path: &Path,
        wanted: Option<&FastSet<String>>,
        threads: usize,
    ) -> anyhow::Result<OsvStore> {
        if path.is_dir() {
            let listing = list_folder(path)?;
            return Ok(Self::load_listed(path, listing, wanted, threads));
        }
        let files = read_zip(path)?;
        Ok(Self::from_files(path, files, wanted, threads))
    }

    /// [`load`](Self::load) of a folder already listed ([`list_folder`]).
    pub fn load_listed(
        path: &Path,
        listing: FolderListing,
        wanted: Option<&FastSet<String>>,
        threads: usize,
    ) -> OsvStore {
        Self::from_folder(path, &listing.0, wanted, threads)
    }

    /// Loads from a database folder's record files `paths`. With `wanted`,
    /// the index of the last run (`osv_index`) spares reading the files
    /// that cannot name a wanted package, and is brought up to date.
    fn from_folder(
        db: &Path,
        paths: &[ListedFile],
        wanted: Option<&FastSet<String>>,
        threads: usize,
    ) -> OsvStore {
        let remembered = match wanted {
            Some(_) => super::osv_index::OsvIndex::read(db),
            None => super::osv_index::OsvIndex::default(),
        };
        // Each file either known (its entry still true) or to be read.
        let mut entries: HashMap<String, super::osv_index::Entry> = HashMap::new();
        let mut to_read: Vec<(&String, RecordFormat, Option<super::osv_index::Stamp>)> = Vec::new();
        for (rel, format, stamp) in paths {
            let stamp = *stamp;
            let known = stamp.and_then(|st| remembered.files.get(rel).filter(|e| e.stamp == st));
            match (known, wanted) {
                (Some(e), Some(w)) => {
                    if e.names
                        .as_ref()
                        .is_none_or(|ns| ns.iter().any(|n| w.contains(n)))
                    {
                        to_read.push((rel, *format, None));
                    }
                    entries.insert(rel.clone(), e.clone());
                }
                _ => to_read.push((rel, *format, stamp)),
            }
        }
        let read = super::map_claimed(
            &to_read,
            threads,
            |&(rel, format, stamp)| {
                let bytes = std::fs::read(db.join(rel)).map_err(|e| ScanError {
                    path: Some(format!("{}/{rel}", db.display())),
                    message: format!("cannot read advisory: {e}"),
                })?;
                let entry = stamp.map(|stamp| super::osv_index::Entry {
                    stamp,
                    names: record_names(&bytes),
                    modified: modified_date(&bytes)
                        .and_then(|d| String::from_utf8(d.to_vec()).ok()),
                });
                Ok(((rel.clone(), format, bytes), entry))
            },
            |&(rel, _, _)| {
                Err(ScanError {
                    path: Some(format!("{}/{rel}", db.display())),
                    message: "reading this advisory panicked".to_string(),
                })
            },
        );
        let mut files = Vec::with_capacity(read.len());
        let mut errors = Vec::new();
        let mut changed = false;
        for r in read {
            match r {
                Ok((file, entry)) => {
                    if let Some(entry) = entry {
                        entries.insert(file.0.clone(), entry);
                        changed = true;
                    }
                    files.push(file);
                }
                Err(e) => errors.push(e),
            }
        }
        let mut store = Self::from_files(db, files, wanted, threads);
        store.errors.splice(0..0, errors);
        store.files = paths.len();
        if wanted.is_some() {
            store.newest_modified = entries
                .values()
                .filter_map(|e| e.modified.as_deref())
                .chain(store.newest_modified.as_deref())
                .max()
                .map(str::to_string);
            changed |= entries.len() != remembered.files.len();
            if changed {
                super::osv_index::OsvIndex::new(db, entries).write(db);
            }
        }
        store
    }

    fn from_files(
        db: &Path,
        files: Vec<RecordFile>,
        wanted: Option<&FastSet<String>>,
        threads: usize,
    ) -> OsvStore {
        let newest = files
            .iter()
            .filter_map(|(_, _, bytes)| modified_date(bytes))
            .max()
            .and_then(|d| String::from_utf8(d.to_vec()).ok());
        let candidates: Vec<&RecordFile> = files
            .iter()
            .filter(|(_, _, bytes)| wanted.is_none_or(|w| may_name_any(bytes, w)))
            .collect();
        let parsed = super::map_claimed(
            &candidates,
            threads,
            |(_, format, bytes)| parse_record(bytes, *format == RecordFormat::Yaml),
            |_| Err("parsing this record panicked".to_string()),
        );
        let mut store = OsvStore {
            newest_modified: newest,
            files: files.len(),
            ..OsvStore::default()
        };
        for ((rel, _, _), result) in candidates.into_iter().zip(parsed) {
            match result {
                Ok(Some(record)) => store.add(record),
                Ok(None) => store.withdrawn += 1,
                Err(message) => store.errors.push(ScanError {
                    path: Some(format!("{}/{rel}", db.display())),
                    message: format!("malformed OSV record, skipped: {message}"),
                }),
            }
        }
        store
    }

    fn add(&mut self, record: Record) {
        let ri = self.records.len();
        for (ai, a) in record.affected.iter().enumerate() {
            self.by_name
                .entry(a.name.clone())
                .or_default()
                .push((ri, ai));
        }
        self.records.push(record);
    }

    /// The records that affect `name` (normalised) at `version` (as
    /// written), each with the lowest fixed version above it when one is
    /// known. A record with several matching entries comes once.
    pub fn affecting(&self, name: &str, version: &str) -> Vec<(usize, Option<Version>)> {
        let Some(entries) = self.by_name.get(name) else {
            return Vec::new();
        };
        let parsed = Version::from_str(version.trim()).ok();
        let mut out: Vec<(usize, Option<Version>)> = Vec::new();
        for &(ri, ai) in entries {
            let a = &self.records[ri].affected[ai];
            if !is_affected(a, version, parsed.as_ref()) {
                continue;
            }
            let fix = parsed.as_ref().and_then(|v| lowest_fix_above(a, v));
            match out.iter_mut().find(|(r, _)| *r == ri) {
                Some((_, f)) => {
                    if let Some(new) = fix {
                        if f.as_ref().is_none_or(|old| &new < old) {
                            *f = Some(new);
                        }
                    }
                }
                None => out.push((ri, fix)),
            }
        }
        out
    }
}

/// A record file of a database folder: its path relative to the folder
/// (`/`-separated), format and stamp (`None` when it could not be taken).
type ListedFile = (String, RecordFormat, Option<super::osv_index::Stamp>);

/// The record files of a database folder, sorted, each with its stamp.
pub struct FolderListing(Vec<ListedFile>);

/// Lists the record files of the database folder `path`: under `vulns/`
/// when there is one (the PyPA database keeps triage notes beside it),
/// else the whole folder.
pub fn list_folder(path: &Path) -> anyhow::Result<FolderListing> {
    use anyhow::Context as _;
    let records_root = path.join("vulns");
    let records_root = if records_root.is_dir() {
        records_root
    } else {
        path.to_path_buf()
    };
    let mut files = Vec::new();
    list_records(path, &records_root, &mut files)
        .with_context(|| format!("cannot list the OSV database {}", path.display()))?;
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(FolderListing(files))
}

/// Every record file under `dir` (relative to `root`, `/`-separated), each
/// stamped from its directory entry (one `stat` relative to the open
/// folder): hidden folders (`.git`) and symbolic links are not entered.
fn list_records(root: &Path, dir: &Path, out: &mut Vec<ListedFile>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            list_records(root, &path, out)?;
        } else if kind.is_file() {
            if let Some(format) = record_format(&name) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let stamp = entry
                    .metadata()
                    .ok()
                    .and_then(|m| super::osv_index::stamp_of(&m));
                out.push((rel.to_string_lossy().replace('\\', "/"), format, stamp));
            }
        }
    }
    Ok(())
}

/// Every record file in an OSV zip export.
fn read_zip(path: &Path) -> anyhow::Result<Vec<RecordFile>> {
    use anyhow::Context as _;
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the OSV database {}", path.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a zip archive", path.display()))?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .with_context(|| format!("cannot read entry {i} of {}", path.display()))?;
        if !entry.is_file() {
            continue;
        }
        let name = entry.name().to_string();
        let Some(format) = record_format(&name) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 24));
        entry
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {name} in {}", path.display()))?;
        out.push((name, format, bytes));
    }
    Ok(out)
}

// ---- matching ------------------------------------------------------------

/// Whether `version` (as written, and its PEP 440 reading) is affected by
/// one `affected[]` entry: listed in `versions`, or inside a range. A
/// version that is not PEP 440 is compared as text with the list only.
pub fn is_affected(a: &Affected, version: &str, parsed: Option<&Version>) -> bool {
    let listed = a.versions.iter().any(|(text, v)| match (v, parsed) {
        (Some(v), Some(p)) => v == p,
        _ => text.trim() == version.trim(),
    });
    listed || parsed.is_some_and(|p| a.ranges.iter().any(|r| in_range(r, p)))
}

/// Whether `v` lies in one `ECOSYSTEM` range (see the module doc).
pub fn in_range(events: &[Event], v: &Version) -> bool {
    let mut limits = events
        .iter()
        .filter(|e| e.kind == EventKind::Limit)
        .peekable();
    if limits.peek().is_some()
        && !limits.any(|e| match &e.bound {
            Bound::Unlimited => true,
            Bound::Version(l) => v < l,
            Bound::Start | Bound::Unparsable(_) => false,
        })
    {
        return false;
    }
    for (i, e) in events.iter().enumerate() {
        if e.kind != EventKind::Introduced {
            continue;
        }
        let above_low = match &e.bound {
            Bound::Start => true,
            Bound::Version(low) => low <= v,
            Bound::Unlimited | Bound::Unparsable(_) => false,
        };
        if !above_low {
            continue;
        }
        let close = events[i + 1..]
            .iter()
            .find(|e| matches!(e.kind, EventKind::Fixed | EventKind::LastAffected));
        let below_high = match close {
            None => true,
            Some(c) => match (&c.kind, &c.bound) {
                (EventKind::Fixed, Bound::Version(high)) => v < high,
                (EventKind::LastAffected, Bound::Version(high)) => v <= high,
                _ => false,
            },
        };
        if below_high {
            return true;
        }
    }
    false
}

/// The lowest `fixed` version of the entry's ranges above `v`.
fn lowest_fix_above(a: &Affected, v: &Version) -> Option<Version> {
    a.ranges
        .iter()
        .flatten()
        .filter(|e| e.kind == EventKind::Fixed)
        .filter_map(|e| match &e.bound {
            Bound::Version(f) if f > v => Some(f),
            _ => None,
        })
        .min()
        .cloned()
}

/// A record's severity: from its CVSS base score, else from
/// `database_specific.severity`, else medium (neither dismissed nor
/// inflated, as for RustSec advisories without a score).
pub fn severity_of(record: &Record) -> Severity {
    if let Some((score, _)) = record.cvss {
        return Severity::from_cvss(score);
    }
    match record
        .database_severity
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("CRITICAL") => Severity::Critical,
        Some("HIGH") => Severity::High,
        Some("LOW") => Severity::Low,
        _ => Severity::Medium,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    fn record(yaml: &str) -> Record {
        parse_record(yaml.as_bytes(), true).unwrap().unwrap()
    }

    fn affects(r: &Record, version: &str) -> bool {
        let parsed = Version::from_str(version).ok();
        r.affected
            .iter()
            .any(|a| is_affected(a, version, parsed.as_ref()))
    }

    #[test]
    fn pep_440_ordering_in_ranges() {
        let r = record(
            "id: X-1\naffected:\n- package: {name: Foo_Bar, ecosystem: PyPI}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: 2.0.0\n    - introduced: 3.0\n    - last_affected: 3.5\n  - type: GIT\n    repo: https://example.com\n    events:\n    - introduced: \"0\"\n",
        );
        assert_eq!(r.affected[0].name, "foo-bar");
        for (version, want) in [
            ("0.0.dev1", true),
            ("1.9", true),
            ("2.0.0rc1", true),
            ("2.0.0.dev3", true),
            ("2.0.0", false),
            ("2.0.0+local", false),
            ("2.0", false),
            ("2.0.post1", false),
            ("2.5", false),
            ("3.0a1", false),
            ("3.0", true),
            ("3.5", true),
            ("3.5+ubuntu1", false),
            ("3.5.post1", false),
            ("1!0.5", false),
            ("not a version", false),
        ] {
            assert_eq!(affects(&r, version), want, "{version}");
        }
    }

    #[test]
    fn epochs_limits_and_version_lists() {
        let r = record(
            "id: X-2\naffected:\n- package: {name: a, ecosystem: PyPI}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: 1!1.0\n    - limit: 1!2.0\n  versions: [\"0.9\", \"1.4\", legacy-1]\n",
        );
        assert!(affects(&r, "1!1.5"));
        assert!(!affects(&r, "1!2.0"));
        assert!(!affects(&r, "5.0"), "no epoch sorts below epoch 1");
        assert!(affects(&r, "1.4.0"), "1.4 == 1.4.0 in the list");
        assert!(affects(&r, "legacy-1"), "exact text for non-PEP 440");
        assert!(!affects(&r, "0.9.1"));
    }

    #[test]
    fn unparsable_bounds_never_match_and_fixes_are_the_lowest_above() {
        let r = record(
            "id: X-3\naffected:\n- package: {name: a, ecosystem: PyPI}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: 2019-09-12\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"1.0\"\n    - fixed: \"1.2\"\n    - introduced: \"0.5\"\n    - fixed: \"0.8\"\n",
        );
        assert!(!affects(&r, "0.1"));
        assert!(affects(&r, "0.6"));
        assert!(affects(&r, "1.1"));
        let mut store = OsvStore::default();
        store.add(r);
        let hits = store.affecting("a", "0.6");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].1, Some(v("0.8")));
    }

    #[test]
    fn withdrawn_other_ecosystems_severity_and_malformed() {
        assert!(
            parse_record(b"id: W\nwithdrawn: 2020-01-01T00:00:00Z\n", true)
                .unwrap()
                .is_none()
        );
        let r = record("id: X\naffected:\n- package: {name: a, ecosystem: npm}\n");
        assert!(r.affected.is_empty());
        let r = record("id: X\nseverity:\n- type: CVSS_V3\n  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n");
        assert_eq!(severity_of(&r), Severity::Critical);
        let r = record("id: X\ndatabase_specific:\n  severity: MODERATE\n");
        assert_eq!(severity_of(&r), Severity::Medium);
        let r = record("id: X\ndatabase_specific:\n  severity: HIGH\n");
        assert_eq!(severity_of(&r), Severity::High);
        assert!(parse_record(b"id: [unclosed\n", true).is_err());
        assert!(parse_record(b"{\"affected\": []}", false).is_err(), "no id");
        assert!(parse_record(
            b"id: X\naffected:\n- package: {name: a, ecosystem: PyPI}\n  versions: [1, {a: b}]\n",
            true
        )
        .is_err());
    }

    #[test]
    fn unquoted_yaml_numbers_stay_text() {
        let r = record("id: X\naffected:\n- package: {name: a, ecosystem: PyPI}\n  versions:\n  - 1.10\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: 0\n    - fixed: 1.20\n");
        assert_eq!(r.affected[0].versions[0].0, "1.10");
        assert!(affects(&r, "1.19"), "1.20 is not 1.2");
    }

    #[test]
    fn the_name_filter_spares_only_what_cannot_match() {
        let wanted: FastSet<String> = ["flask-profiler".to_string()].into_iter().collect();
        assert!(may_name_any(
            b"affected:\n- package:\n    name: Flask_Profiler\n",
            &wanted
        ));
        assert!(may_name_any(
            b"{\"package\": {\"name\": \"flask.profiler\"}}",
            &wanted
        ));
        assert!(!may_name_any(
            b"affected:\n- package:\n    name: django\n",
            &wanted
        ));
        assert!(may_name_any(b"id: X\n", &wanted), "no name: parse it");
        assert!(may_name_any(
            b"package:\n  name: \"fl\\u0061sk\"\n",
            &wanted
        ));
        assert!(may_name_any(b"package: {name: *anchor}\n", &wanted));
        assert_eq!(
            modified_date(b"id: X\nmodified: \"2024-10-10T17:35:05Z\"\n").as_ref(),
            Some(b"2024-10-10")
        );
    }
}
