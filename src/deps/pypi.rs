//! The Python half of the dependency audit: every Python lockfile the walk
//! found (and every requirements file they include) against the PyPI
//! advisories of an OSV database.
//!
//! It reads the lockfiles (`python`), follows `-r`/`-c` includes inside
//! the scan root, loads the records of the locked packages (`osv`),
//! matches, merges records that alias each other into one finding, drops
//! what is ignored, and fills the same [`DepsOutcome`] as the Cargo half:
//! findings at the lines of their entries, one rule per advisory. It never
//! runs anything from the scanned tree, never writes to it, and never
//! formats output.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};

use super::audit::Ignores;
use super::osv::{self, OsvStore, Record};
use super::python::{self, PyFormat, PyLock};
use super::{DepsOutcome, FastSet};
use crate::finding::linehash::line_hashes_at;
use crate::finding::{
    fingerprint, Confidence, DependencyInfo, Finding, FindingKind, Location, RuleInfo, ScanError,
    Severity,
};

/// Where the PyPI database is looked for: `--pypi-db`, else `[deps]
/// pypi_db`, else `$XDG_CACHE_HOME/tripline/pypi-advisory-db`.
pub fn locate(cli: Option<&Path>, config: &crate::config::Config) -> PathBuf {
    if let Some(p) = cli {
        return p.to_path_buf();
    }
    if let Some(p) = &config.deps.pypi_db {
        return config.resolve(p);
    }
    default_cache_path()
}

/// Where `tripline db fetch` clones the PyPI database from unless `[deps]
/// pypi_db_url` says otherwise: the PyPA advisory database, OSV records in
/// YAML under `vulns/<package>/`.
pub const DEFAULT_DB_URL: &str = "https://github.com/pypa/advisory-database.git";

/// Clones (shallow) or updates the PyPI database at `path` from `url`,
/// as the RustSec one is (`advisories::fetch`: `git`, a temporary folder
/// first, so a failed clone leaves nothing half-made).
pub fn fetch(path: &Path, url: &str) -> Result<()> {
    use anyhow::Context as _;
    if path.is_file() {
        bail!(
            "{} is a file (an OSV zip export?); `tripline db fetch` clones the PyPA database into a folder: point [deps] pypi_db at a folder, or replace the zip yourself",
            path.display()
        );
    }
    super::advisories::fetch(path, url).with_context(|| {
        format!(
            "cannot fetch the PyPI advisory database from {url} into {}; check [deps] pypi_db_url and the network, or pass --pypi-db PATH to an existing copy",
            path.display()
        )
    })
}

/// `$XDG_CACHE_HOME/tripline/pypi-advisory-db` (`~/.cache/...`).
pub fn default_cache_path() -> PathBuf {
    super::advisories::cache_root().join("pypi-advisory-db")
}

/// One Python lockfile read for the audit.
struct ReadLock {
    rel_path: String,
    content: Vec<u8>,
    lock: PyLock,
}

/// What the audit needs from the run's settings.
pub struct PypiSettings<'a> {
    pub db: PathBuf,
    /// Where a missing database is fetched from (unless `offline`).
    pub url: String,
    pub offline: bool,
    pub max_db_age: Option<u64>,
    pub threads: usize,
    pub root: &'a Path,
}

/// Audits the Python lockfiles `rel_paths` (relative to `settings.root`,
/// a folder) into `out`. An `Err` is fatal (no database); a bad lockfile
/// or record is a `ScanError` and the rest go on.
pub fn audit(
    rel_paths: &[String],
    settings: &PypiSettings<'_>,
    ignores: &mut Ignores,
    out: &mut DepsOutcome,
) -> Result<()> {
    // Listing the database's folder (a few thousand stats) needs nothing
    // from the lockfiles: it runs beside their parse.
    let (locks, listing) = std::thread::scope(|s| {
        let listing = settings
            .db
            .is_dir()
            .then(|| s.spawn(|| osv::list_folder(&settings.db)));
        let locks = read_all(settings.root, rel_paths, settings.threads, out);
        (locks, listing.and_then(|l| l.join().ok()))
    });
    if locks.is_empty() {
        return Ok(());
    }
    out.lockfiles_audited += locks.len() as u64;
    if !osv::is_database(&settings.db) {
        if settings.offline {
            bail!(
                "no PyPI advisory database at {} and --offline forbids fetching it; run `tripline db fetch` first, pass --pypi-db PATH (a folder of OSV records or OSV's PyPI all.zip), or audit only Cargo with --ecosystem cargo",
                settings.db.display()
            );
        }
        fetch(&settings.db, &settings.url)?;
    }
    let wanted: FastSet<String> = locks
        .iter()
        .flat_map(|l| l.lock.pins.iter().map(|p| p.name.clone()))
        .collect();
    let store = match listing {
        Some(Ok(listing)) => {
            OsvStore::load_listed(&settings.db, listing, Some(&wanted), settings.threads)
        }
        // Listed before a fetch, or failed: the load lists (and names any
        // error) itself.
        _ => OsvStore::load(&settings.db, Some(&wanted), settings.threads)?,
    };
    out.errors.extend(store.errors.iter().cloned());
    if let Some(w) = staleness_warning(&settings.db, &store, settings.max_db_age) {
        out.warnings.push(w);
    }

    let mut rules: BTreeMap<String, RuleInfo> = BTreeMap::new();
    for lf in &locks {
        let mut found: Vec<(Group, &python::PyPin)> = Vec::new();
        for pin in &lf.lock.pins {
            let hits = store.affecting(&pin.name, &pin.version);
            for group in merge_aliases(&store, hits) {
                found.push((group, pin));
            }
        }
        if found.is_empty() {
            continue;
        }
        let lines: Vec<u32> = found.iter().map(|(_, p)| p.start_line).collect();
        let hashes: HashMap<u32, String> = line_hashes_at(&lf.content, &lines);
        for (group, pin) in found {
            let mut f = finding(
                &store,
                &group,
                pin,
                &lf.rel_path,
                hashes.get(&pin.start_line),
            );
            // An ignored advisory's findings stay in the report, marked
            // suppressed (as Cargo's are), under any of its ids.
            f.suppressed = ignores.covering_ids(group.ids.iter().map(String::as_str));
            if f.suppressed.is_some() {
                ignores.mark_used_ids(group.ids.iter().map(String::as_str));
            }
            let rule = rules
                .entry(f.rule_id.clone())
                .or_insert_with(|| rule_info(&store, &group));
            append_path_line(rule, &f);
            out.findings.push(f);
        }
    }
    out.rules.extend(rules.into_values());
    Ok(())
}

/// Reads and parses every lockfile, and every requirements file they
/// include that is inside the root, each once.
fn read_all(
    root: &Path,
    rel_paths: &[String],
    threads: usize,
    out: &mut DepsOutcome,
) -> Vec<ReadLock> {
    let canonical_root = root.canonicalize().ok();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<(String, PyFormat)> = Vec::new();
    for rel in rel_paths {
        let format = python::format_of(rel).unwrap_or(PyFormat::Requirements);
        if seen.insert(rel.clone()) {
            queue.push((rel.clone(), format));
        }
    }
    // The files the walk found are read and parsed in parallel (a large
    // uv.lock is most of a run); the few they include, after them.
    let mut done: Vec<(String, ReadResult)> = super::map_claimed(
        &queue,
        threads,
        |(rel, format)| (rel.clone(), read_one(root, rel, *format)),
        |(rel, _)| {
            (
                rel.clone(),
                Err("the parser panicked on this file; it is not audited".to_string()),
            )
        },
    );
    let mut locks = Vec::new();
    let mut i = 0;
    while i < done.len() {
        let (rel, result) = std::mem::replace(&mut done[i], (String::new(), Err(String::new())));
        i += 1;
        let (content, lock) = match result {
            Ok(read) => read,
            Err(message) => {
                out.errors.push(ScanError {
                    path: Some(rel),
                    message,
                });
                continue;
            }
        };
        for include in &lock.includes {
            match resolve_include(root, canonical_root.as_deref(), &rel, include) {
                Ok(inc) => {
                    if seen.insert(inc.clone()) {
                        let read = read_one(root, &inc, PyFormat::Requirements);
                        done.push((inc, read));
                    }
                }
                Err(message) => out.errors.push(ScanError {
                    path: Some(rel.clone()),
                    message,
                }),
            }
        }
        if !lock.unpinned.is_empty() {
            out.warnings.push(format!(
                "{rel}: {} {} not audited (no exact version): {}",
                lock.unpinned.len(),
                if lock.unpinned.len() == 1 {
                    "entry"
                } else {
                    "entries"
                },
                lock.unpinned.join("; ")
            ));
        }
        locks.push(ReadLock {
            rel_path: rel,
            content,
            lock,
        });
    }
    locks
}

/// A lockfile's bytes and what it pins, or the error to report.
type ReadResult = Result<(Vec<u8>, PyLock), String>;

/// Reads and parses one lockfile.
fn read_one(root: &Path, rel: &str, format: PyFormat) -> ReadResult {
    let content =
        read_lockfile(&root.join(rel)).map_err(|e| format!("cannot read lockfile: {e}"))?;
    let text = String::from_utf8_lossy(&content);
    // A panic in a parser (our own or a crate's) costs only this file.
    let parsed = std::panic::catch_unwind(|| python::parse(format, &text)).unwrap_or_else(|_| {
        Err(python::ParseError {
            line: None,
            message: "the parser panicked on this file; it is not audited".to_string(),
        })
    });
    let lock = parsed.map_err(|e| format!("cannot parse {} lockfile: {e}", format.as_str()))?;
    drop(text);
    Ok((content, lock))
}

/// Reads a lockfile without blocking on a FIFO or device planted in the
/// tree.
fn read_lockfile(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = crate::source::walk::open_no_block(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The root-relative path of `include` (from a `-r`/`-c` line of `from`),
/// or why it is refused: absolute, outside the root (by `..` or through a
/// symbolic link), or missing.
fn resolve_include(
    root: &Path,
    canonical_root: Option<&Path>,
    from: &str,
    include: &str,
) -> Result<String, String> {
    let shown = python::requirements::without_credentials(include);
    let refused = |why: &str| format!("`-r {shown}` refused: {why}; it is not audited");
    if include.contains("://") {
        return Err(refused(
            "a URL (tripline reads only files in the scan root)",
        ));
    }
    let inc = Path::new(include);
    if inc.is_absolute() || include.starts_with('/') || include.starts_with('\\') {
        return Err(refused("an absolute path, outside the scan root"));
    }
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<String> = Vec::new();
    for c in base.join(inc).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(refused("outside the scan root"));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(refused("an absolute path, outside the scan root"))
            }
        }
    }
    let rel = parts.join("/");
    let full = root.join(&rel);
    match (full.canonicalize(), canonical_root) {
        (Ok(real), Some(croot)) if !real.starts_with(croot) => Err(refused(
            "it leads outside the scan root through a symbolic link",
        )),
        (Err(e), _) => Err(format!("`-r {shown}`: cannot read {rel}: {e}")),
        _ => Ok(rel),
    }
}

/// Records that alias each other (one lists the other's id, or both list
/// one alias): one finding. Indexes into the store, with each record's
/// fix.
struct Group {
    members: Vec<(usize, Option<pep440_rs::Version>)>,
    /// Every id and alias of its records, sorted: what an ignore may name.
    ids: Vec<String>,
}

impl Group {
    /// The primary id: the PYSEC record's if there is one (the PyPA
    /// database's own), else a GHSA, else the smallest.
    fn primary<'a>(&self, store: &'a OsvStore) -> &'a Record {
        let rank = |id: &str| {
            if id.starts_with("PYSEC-") {
                0
            } else if id.starts_with("GHSA-") {
                1
            } else {
                2
            }
        };
        self.members
            .iter()
            .map(|(ri, _)| &store.records[*ri])
            .min_by(|a, b| (rank(&a.id), &a.id).cmp(&(rank(&b.id), &b.id)))
            .unwrap_or(&store.records[self.members[0].0])
    }
}

/// Groups the records that affect one pin (see [`Group`]).
fn merge_aliases(store: &OsvStore, hits: Vec<(usize, Option<pep440_rs::Version>)>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut group_ids: Vec<BTreeSet<String>> = Vec::new();
    for (ri, fix) in hits {
        let r = &store.records[ri];
        let mut mine: BTreeSet<String> = r.aliases.iter().cloned().collect();
        mine.insert(r.id.clone());
        let joins: Vec<usize> = group_ids
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.is_disjoint(&mine))
            .map(|(i, _)| i)
            .collect();
        let mut members = vec![(ri, fix)];
        // Merge every group this record links, last first so indexes hold.
        for &gi in joins.iter().rev() {
            members.extend(groups.remove(gi).members);
            mine.extend(group_ids.remove(gi));
        }
        groups.push(Group {
            members,
            ids: Vec::new(),
        });
        group_ids.push(mine);
    }
    for (g, ids) in groups.iter_mut().zip(group_ids) {
        g.ids = ids.into_iter().collect();
    }
    groups
}

/// The lowest fix of the group above the locked version: "upgrade to >=
/// X", or "no fixed version".
fn fix_text(group: &Group) -> String {
    match group.members.iter().filter_map(|(_, f)| f.as_ref()).min() {
        Some(v) => format!("upgrade to >= {v}"),
        None => "no fixed version".to_string(),
    }
}

/// The link of an advisory: its page on osv.dev, which every id of the
/// PyPA database and of OSV's exports has.
fn url_of(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{id}")
}

/// A record's title: its summary, else the first line of its details.
fn title_of(record: &Record) -> String {
    record
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            record
                .details
                .as_deref()
                .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
        })
        .map(|t| {
            if t.chars().count() > 120 {
                let cut: String = t.chars().take(117).collect();
                format!("{cut}...")
            } else {
                t.to_string()
            }
        })
        .unwrap_or_else(|| format!("vulnerability {}", record.id))
}

/// The highest severity among the group's records.
fn severity_of(store: &OsvStore, group: &Group) -> (Severity, Option<f64>) {
    let severity = group
        .members
        .iter()
        .map(|(ri, _)| osv::severity_of(&store.records[*ri]))
        .max()
        .unwrap_or(Severity::Medium);
    let cvss = group
        .members
        .iter()
        .filter_map(|(ri, _)| store.records[*ri].cvss.as_ref().map(|c| c.0))
        .max_by(f64::total_cmp);
    (severity, cvss)
}

fn finding(
    store: &OsvStore,
    group: &Group,
    pin: &python::PyPin,
    rel_path: &str,
    line_hash: Option<&String>,
) -> Finding {
    let primary = group.primary(store);
    let id = primary.id.as_str();
    let mut location = Location::lines(rel_path.to_string(), pin.start_line, pin.end_line);
    location.line_hash = line_hash.cloned();
    let (severity, cvss) = severity_of(store, group);
    Finding {
        kind: FindingKind::Vulnerability,
        rule_id: id.to_string(),
        rule_title: title_of(primary),
        severity,
        confidence: Confidence::High,
        location,
        excerpt: format!("{}@{}", pin.name, pin.version),
        fingerprint: fingerprint(&[id, &pin.name, &pin.version, rel_path]),
        dependency: Some(DependencyInfo {
            package: pin.name.clone(),
            version: pin.version.clone(),
            aliases: group.ids.iter().filter(|a| *a != id).cloned().collect(),
            fix: fix_text(group),
            // Python lockfiles are audited as flat lists: no path is worked out.
            dependency_path: Vec::new(),
            other_paths: 0,
            url: Some(url_of(id)),
            dependency_kind: None,
            cvss,
            date: primary
                .published
                .as_deref()
                .map(|d| d.get(..10).unwrap_or(d).to_string()),
        }),
        secret: None,
        suppressed: None,
    }
}

/// The rule (SARIF `reportingDescriptor`) of one advisory: what it is, the
/// fix, the link, and the ignore snippet. The affected packages are added
/// per finding ([`append_path_line`]).
fn rule_info(store: &OsvStore, group: &Group) -> RuleInfo {
    let primary = group.primary(store);
    let id = primary.id.as_str();
    let url = url_of(id);
    let title = title_of(primary);
    let (severity, cvss) = severity_of(store, group);
    let aliases: Vec<&str> = group
        .ids
        .iter()
        .map(String::as_str)
        .filter(|a| *a != id)
        .collect();
    let details = primary.details.as_deref().unwrap_or("").trim().to_string();
    let mut md = String::new();
    let _ = writeln!(md, "**{id}**: {title}\n");
    if !details.is_empty() {
        let _ = writeln!(md, "{details}\n");
    }
    let _ = writeln!(md, "**Kind:** vulnerability (PyPI)  ");
    if let Some((score, vector)) = &primary.cvss {
        let _ = writeln!(md, "**CVSS:** {score} ({vector})  ");
    }
    if !aliases.is_empty() {
        let _ = writeln!(md, "**Aliases:** {}  ", aliases.join(", "));
    }
    if let Some(r) = &primary.reference {
        let _ = writeln!(md, "**Advisory:** <{r}>  ");
    }
    let _ = writeln!(md, "**More:** <{url}>\n");
    let _ = writeln!(
        md,
        "**To accept the risk for now**, add to `tripline.toml`:\n\n```toml\n[deps]\nignore = [\n  {{ id = \"{id}\", reason = \"why this does not affect us\", until = \"YYYY-MM-DD\" }},\n]\n```\n"
    );
    let _ = writeln!(md, "**Affected:**\n");
    let help_text = format!(
        "{id}: {title}. See {url}. To accept the risk: [deps] ignore = [{{ id = \"{id}\", reason = \"...\", until = \"YYYY-MM-DD\" }}] in tripline.toml."
    );
    let description = details
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty())
        .unwrap_or(&title)
        .to_string();
    RuleInfo {
        id: id.to_string(),
        title,
        description,
        help_text,
        help_markdown: md,
        severity,
        confidence: Confidence::High,
        tags: vec![
            FindingKind::Vulnerability.as_str().to_string(),
            "dependency".to_string(),
            "pypi".to_string(),
        ],
        security_severity: cvss,
        help_uri: Some(url),
    }
}

/// Adds a finding's package, fix and lockfile to its rule's help.
fn append_path_line(rule: &mut RuleInfo, f: &Finding) {
    let Some(d) = &f.dependency else { return };
    let line = format!(
        "- `{}` in `{}` line {}: {}",
        f.excerpt, f.location.path, f.location.start_line, d.fix
    );
    if !rule.help_markdown.contains(&line) {
        let _ = writeln!(rule.help_markdown, "{line}");
    }
}

/// "the PyPI advisory database ... is N days old" when its newest record
/// was modified more than `max_age` days ago.
fn staleness_warning(db: &Path, store: &OsvStore, max_age: Option<u64>) -> Option<String> {
    let max_age = max_age.unwrap_or(super::advisories::DEFAULT_MAX_AGE_DAYS);
    let date = store.newest_modified.as_deref()?;
    let day = super::advisories::parse_ymd(date)?;
    let days = super::advisories::today() - day;
    (days > i64::try_from(max_age).unwrap_or(i64::MAX)).then(|| {
        format!(
            "the PyPI advisory database at {} is {days} days old (newest record modified {date}), older than --max-db-age {max_age}; run `tripline db fetch` to update it",
            db.display()
        )
    })
}
