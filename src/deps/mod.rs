//! Dependency audit: every Cargo.lock against the RustSec advisory database.
//!
//! [`audit`] is the dependency half of `tripline scan` and all of
//! `tripline deps`: it reads the lockfiles the walker found, loads the
//! advisories of the crates they contain from one database, matches, applies
//! ignores, and hands back findings and rules; with `--yanked` it also asks
//! the crates.io index which locked versions are yanked (see `yanked`). It
//! never runs cargo or anything from the scanned tree (only `--metadata`
//! does, see `metadata`), and it never formats output.
//!
//! A scanner: it may use `finding`, `config` and `source`, never `secrets`,
//! `report`, `scan`, `cli` or `commands`. Its settings arrive as an
//! [`AuditOptions`]; `tripline db fetch|info` live in `commands::db`.
//! Inside, `advisories` uses `listing_cache`, never the reverse.

pub mod advisories;
pub mod audit;
mod listing_cache;
pub mod lockfile;
pub mod metadata;
pub mod yanked;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::config::Config;
use crate::finding::linehash::line_hashes_at;
use crate::finding::{Finding, FindingKind, RuleInfo, ScanError};

use self::advisories::{DbLocation, DEFAULT_DB_URL, DEFAULT_MAX_AGE_DAYS};
use self::audit::{Ignores, LockfileAudit, MatchSettings};
use self::lockfile::LockedTree;

/// The maps of an audit, keyed by names and sources from lockfiles: hashed
/// with foldhash rather than SipHash, which was a tenth of parsing a large
/// lockfile. Its keys are seeded per process, so a crafted lockfile cannot
/// aim collisions at it.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// The sets of an audit, hashed as [`FastMap`] is.
pub(crate) type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// The error of [`audit`] when the advisory database is needed (there are
/// lockfiles) but can be neither opened nor fetched: a caller with other
/// work done (the secrets half of `tripline scan`) can still report that,
/// and this as what is missing. Shows as the error it wraps.
#[derive(Debug)]
pub struct DatabaseUnavailable(pub anyhow::Error);

impl std::fmt::Display for DatabaseUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for DatabaseUnavailable {}

/// What the dependency half of a scan produced.
#[derive(Debug, Default)]
pub struct DepsOutcome {
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleInfo>,
    pub warnings: Vec<String>,
    pub errors: Vec<ScanError>,
    pub lockfiles_audited: u64,
}

/// The audit's settings from the command line: plain values, so that the
/// scanner never sees the command line (the command layer fills this from
/// its arguments). The config's `[deps]` table is read beside it.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// The advisory database (`--db`); else the config's, else the default.
    pub db: Option<PathBuf>,
    /// Never touch the network.
    pub offline: bool,
    /// Warn when the database is older than this many days.
    pub max_db_age: Option<u64>,
    pub target_os: Option<String>,
    pub target_arch: Option<String>,
    /// Informational kinds that fail the run (`--deny`).
    pub deny: Vec<String>,
    /// Advisory ids to ignore (`--ignore`).
    pub ignore: Vec<String>,
    /// Ask the crates.io index which locked versions are yanked.
    pub yanked: bool,
    /// Dependency kinds and platforms from `cargo metadata`.
    pub metadata: bool,
    /// With `metadata`: drop findings in dev-only dependencies.
    pub exclude_dev: bool,
}

/// Informational dependency kinds the user made fatal (`--deny`,
/// `[deps] deny`), for [`Finding::fails_at`]. Unknown names are an error.
pub fn denied_kinds(args: &AuditOptions, config: &Config) -> Result<Vec<FindingKind>> {
    let mut out = Vec::new();
    for k in args.deny.iter().chain(&config.deps.deny) {
        let kind = match k.trim() {
            "unmaintained" => FindingKind::Unmaintained,
            "unsound" => FindingKind::Unsound,
            "notice" => FindingKind::Notice,
            "yanked" => FindingKind::Yanked,
            "suppression" => FindingKind::Suppression,
            other => bail!(
                "unknown kind `{other}` in --deny / [deps] deny (expected unmaintained, unsound, notice, yanked or suppression)"
            ),
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

/// The advisory database's age, judged on a thread of its own from the
/// start of a run, in the scheduler's idle class. Dating a database that
/// is not a git checkout stats or lists all of it (a thousand folders):
/// no step waits for it before the report, so it takes the time the walk
/// and the single-threaded steps leave idle, and never a core from the
/// parsing or the loading.
pub struct AgeCheck {
    path: PathBuf,
    pending: std::thread::JoinHandle<Option<advisories::DbAge>>,
}

impl AgeCheck {
    /// Starts dating the database `deps` will use. `None` when there is none
    /// yet: the audit fetches one, and dates it then.
    pub fn start(args: &AuditOptions, config: &Config) -> Option<AgeCheck> {
        let loc = advisories::locate(args.db.as_deref(), config);
        if !advisories::is_database(&loc.path) {
            return None;
        }
        let path = loc.path.clone();
        let pending = std::thread::Builder::new()
            .name("tripline-db-age".to_string())
            .spawn(move || {
                run_when_idle();
                advisories::age(&path, None)
            })
            .ok()?;
        Some(AgeCheck {
            path: loc.path,
            pending,
        })
    }

    /// The age of the database at `path`: the early answer when it is
    /// about that database, else judged now.
    fn finish(self, path: &Path) -> Option<advisories::DbAge> {
        if self.path == path {
            if let Ok(age) = self.pending.join() {
                return age;
            }
        }
        advisories::age(path, None)
    }
}

/// Puts the calling thread in the scheduler's idle class: it then runs
/// only on a core that nothing else wants. For work that must be done
/// before the run ends but is on no one's path until then (dating the
/// database), which so takes idle time instead of a core from the parse
/// and the loading. Where that class does not exist, nothing changes.
fn run_when_idle() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid `sched_param` for the call; pid 0 is
        // the calling thread. A failure leaves the thread as it was.
        unsafe {
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
        }
    }
}

/// What every step of one audit run reads.
struct AuditRun<'a> {
    root: &'a Path,
    args: &'a AuditOptions,
    settings: &'a MatchSettings,
    /// How many threads parsing, loading and hashing may use.
    threads: usize,
}

/// Audits `lockfiles` (paths relative to `root`, `/`-separated, as found by
/// the walker) on up to `threads` threads. An `Err` is fatal for the run (no
/// database, failed fetch): exit status 2. A bad lockfile or advisory is a
/// `ScanError` and the rest go on.
pub fn audit(
    root: &Path,
    lockfiles: &[PathBuf],
    args: &AuditOptions,
    config: &Config,
    threads: usize,
    age_check: Option<AgeCheck>,
) -> anyhow::Result<DepsOutcome> {
    let mut out = DepsOutcome::default();
    denied_kinds(args, config)?;
    let settings = MatchSettings::new(
        args.target_os
            .as_deref()
            .or(config.deps.target_os.as_deref()),
        args.target_arch
            .as_deref()
            .or(config.deps.target_arch.as_deref()),
        config.deps.informational_severity,
    )?;
    let mut ignores = Ignores::new(&args.ignore, &config.deps.ignore, &config.name())?;
    if args.yanked && args.offline {
        bail!("--yanked checks crates.io's index over the network, which --offline forbids; drop one of them");
    }
    let index = if args.yanked {
        Some(yanked::IndexClient::from_settings(
            config.deps.index_url.as_deref(),
        )?)
    } else {
        None
    };

    // Read every lockfile first: an empty tree needs no database.
    let mut contents: Vec<(String, Vec<u8>)> = Vec::new();
    for rel in lockfiles {
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        let full = if root.is_file() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        match std::fs::read(&full) {
            Ok(bytes) => contents.push((rel_str, bytes)),
            Err(e) => out.errors.push(ScanError {
                path: Some(rel_str),
                message: format!("cannot read lockfile: {e}"),
            }),
        }
    }
    if lockfiles.is_empty() {
        out.warnings.extend(ignores.finish());
        return Ok(out);
    }

    let loc = advisories::locate(args.db.as_deref(), config);
    let url = config.deps.db_url.as_deref().unwrap_or(DEFAULT_DB_URL);
    advisories::ensure(&loc, args.offline, url).map_err(DatabaseUnavailable)?;
    // Parsing the lockfiles and listing the database's crate folders need
    // nothing from each other. Nor does loading advisories need the parse:
    // the crates a lockfile locks can be read off its `name = "..."` lines.
    // So `rayon::join` runs the two side by side: the parse on one worker,
    // the listing and then the loading of those crates on another, and a
    // worker done with its side steals crates to load: with one lockfile,
    // loading used to wait for the whole parse with a core idle. The
    // versions on the lines after the names let it skip advisories that
    // cannot apply. Names and versions are checked against the parse
    // below. One pool of `threads` workers serves every data-parallel step
    // of the audit (parse, load, match), started only when there is a
    // lockfile to audit.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("tripline-deps-{i}"))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the audit's threads: {e}"))?;
    let (parsed, (db_index, mut guessed)) = pool.install(|| {
        rayon::join(
            || parse_all(&contents, threads),
            || {
                let index = advisories::DbIndex::open(&loc.path);
                let guesses = guess_crates(&contents, &index);
                let loaded = map_claimed(
                    &guesses,
                    threads,
                    |(name, versions)| index.load_crate(name, versions.as_deref()),
                    |(name, _)| index.load_panicked(name),
                );
                let guessed: Vec<_> = guesses.into_iter().zip(loaded).collect();
                (index, guessed)
            },
        )
    });
    let mut audits: Vec<LockfileAudit<'_>> = Vec::new();
    for ((rel, bytes), parsed) in contents.iter().zip(parsed) {
        match parsed {
            Ok(tree) => audits.push(LockfileAudit {
                rel_path: rel.clone(),
                tree,
                content: bytes,
            }),
            Err(e) => out.errors.push(ScanError {
                path: Some(rel.clone()),
                message: format!("cannot parse lockfile: {e}"),
            }),
        }
    }
    out.lockfiles_audited = audits.len() as u64;
    // The parse has the last word on which crates are locked: advisories of
    // a guessed name it does not confirm are dropped (with their errors),
    // and locked crates the guess missed (a lockfile cargo did not write)
    // are loaded now, as are crates locked at a version the guess did not
    // see (an advisory skipped for the versions seen may apply to it).
    let locked = distinct_sorted(
        audits
            .iter()
            .flat_map(|a| a.tree.packages.iter().map(|p| p.name())),
    );
    let misjudged = misjudged_crates(&guessed, &audits);
    guessed
        .retain(|((name, _), _)| locked.binary_search(name).is_ok() && !misjudged.contains(name));
    // `guessed` is in name order, as the guess was sorted.
    let missed: Vec<&str> = locked
        .iter()
        .copied()
        .filter(|name| guessed.binary_search_by(|((g, _), _)| g.cmp(name)).is_err())
        .collect();
    let (mut advisories, mut load_errors) =
        advisories::sort_loaded(guessed.into_iter().map(|(_, loaded)| loaded));
    let (more, more_errors) = pool.install(|| db_index.load_for_crates(missed, threads));
    advisories.extend(more);
    load_errors.extend(more_errors);
    out.errors.extend(load_errors);
    // Dating runs `git log` on a git checkout and stats (or, when its
    // remembered listing is out of date, lists) the whole database
    // otherwise: it goes on beside the loading and matching, usually
    // started before the walk (`AgeCheck`).
    let max_age = args.max_db_age.or(config.deps.max_db_age);
    let yanked_names = index.as_ref().map(|_| yanked::crates_io_names(&audits));
    std::thread::scope(|s| {
        let loc = &loc;
        // Without an early check (the database was fetched by this run),
        // dating starts now, beside the matching. An early one is only
        // joined below: a thread started to wait for it would itself wait,
        // often a millisecond, for the scheduler to give it a core.
        let late_age = age_check
            .is_none()
            .then(|| s.spawn(move || advisories::age(&loc.path, None)));
        // The yanked check mostly waits on the network: it runs beside too.
        let index_answers = index
            .as_ref()
            .zip(yanked_names.as_ref())
            .map(|(index, names)| s.spawn(move || index.fetch_all(names)));
        let run = AuditRun {
            root,
            args,
            settings: &settings,
            threads,
        };
        let result =
            pool.install(|| audit_with_db(&run, &audits, &advisories, &mut ignores, &mut out));
        // A panic while dating only loses the warning.
        let age = match (age_check, late_age) {
            (Some(check), _) => {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check.finish(&loc.path)))
                    .ok()
                    .flatten()
            }
            (None, Some(dating)) => dating.join().ok().flatten(),
            (None, None) => None,
        };
        if let Some(w) = age.and_then(|age| staleness_warning(loc, age, max_age)) {
            out.warnings.push(w);
        }
        let dep_kinds = result?;
        if let Some(answers) = index_answers {
            let answers = answers
                .join()
                .map_err(|_| anyhow::anyhow!("the --yanked check panicked"))??;
            let y = yanked::findings(
                &audits,
                answers,
                settings.informational_severity,
                &dep_kinds,
                args.exclude_dev,
            );
            out.findings.extend(y.findings);
            out.rules.extend(y.rule);
            out.warnings.extend(y.warnings);
        }
        anyhow::Ok(())
    })?;
    out.warnings.extend(ignores.finish());
    let trees: Vec<LockedTree> = audits.into_iter().map(|a| a.tree).collect();
    drop_in_background((trees, advisories, db_index, contents));
    Ok(out)
}

/// Drops `value` on a thread of its own. The parsed lockfiles and loaded
/// advisories of an audit are a few hundred thousand small allocations;
/// freeing them before the report took a tenth of a fifty-lockfile run,
/// on one core, with nothing gained. They hold no file, lock or other
/// resource, only memory: if the process ends first, nothing is lost.
fn drop_in_background<T: Send + 'static>(value: T) {
    // Should the thread not start, the closure, and so `value`, is dropped
    // here.
    let _ = std::thread::Builder::new()
        .name("tripline-free".to_string())
        .spawn(move || drop(value));
}

/// Parses every lockfile, spread over the cores: parsing is most of an
/// audit's cost, and a tree of many lockfiles should not pay it serially.
/// Results come back in the order of `contents`.
fn parse_all(contents: &[(String, Vec<u8>)], threads: usize) -> Vec<Result<LockedTree, String>> {
    map_claimed(
        contents,
        threads,
        |(_, bytes)| match std::str::from_utf8(bytes) {
            // Checking first is faster than a lossy pass over text that is
            // nearly always valid.
            Ok(text) => LockedTree::parse(text),
            Err(_) => LockedTree::parse(&String::from_utf8_lossy(bytes)),
        },
        // A parser panic (cargo-lock has had some on malformed input) is
        // this lockfile's error alone.
        |_| Err("the lockfile parser panicked".to_string()),
    )
}

/// A crate named on a lockfile's name lines, with the distinct versions on
/// the lines after; `None` when one of them could not be read there (then
/// every advisory of the crate is loaded).
type GuessedCrate<'a> = (&'a str, Option<Vec<rustsec::Version>>);

/// The crates the lockfiles' name lines name that have advisories in the
/// database, in name order, with their versions (see
/// [`lockfile::locked_crates`]). Versions are gathered as text and parsed
/// once per crate with advisories: fifty lockfiles name forty thousand.
fn guess_crates<'a>(
    contents: &'a [(String, Vec<u8>)],
    index: &advisories::DbIndex,
) -> Vec<GuessedCrate<'a>> {
    let mut named: FastMap<&str, Option<Vec<&str>>> = FastMap::default();
    for (_, bytes) in contents {
        for (name, version) in lockfile::locked_crates(bytes) {
            // Most locked crates have no advisory: asking first spares
            // them a list of versions (and an allocation) each.
            if !index.has_folder(name) {
                continue;
            }
            let seen = named.entry(name).or_insert_with(|| Some(Vec::new()));
            match (seen.as_mut(), version) {
                (Some(versions), Some(v)) => {
                    if !versions.contains(&v) {
                        versions.push(v);
                    }
                }
                _ => *seen = None,
            }
        }
    }
    let mut names: Vec<&str> = named.keys().copied().collect();
    names.sort_unstable();
    names
        .into_iter()
        .map(|name| {
            let versions = named.get(name).cloned().flatten().and_then(|texts| {
                texts
                    .iter()
                    .map(|v| v.parse().ok())
                    .collect::<Option<Vec<rustsec::Version>>>()
            });
            (name, versions)
        })
        .collect()
}

/// The guessed crates that the parse locks at a version the guess did not
/// give: their advisories were judged against the wrong versions.
fn misjudged_crates<'a>(
    guessed: &[(GuessedCrate<'a>, advisories::CrateAdvisories)],
    audits: &[LockfileAudit<'_>],
) -> FastSet<&'a str> {
    let versions: FastMap<&str, &[rustsec::Version]> = guessed
        .iter()
        .filter_map(|((name, versions), _)| Some((*name, versions.as_deref()?)))
        .collect();
    let mut misjudged = FastSet::default();
    for p in audits.iter().flat_map(|a| &a.tree.packages) {
        if let Some((&name, seen)) = versions.get_key_value(p.name()) {
            if !seen.contains(&p.version) {
                misjudged.insert(name);
            }
        }
    }
    misjudged
}

/// The distinct names among `names`, sorted. Fifty lockfiles name the same
/// few hundred crates forty thousand times: a hash set drops the repeats
/// before anything is compared in order (a sorted set of them all was an
/// eighth of such an audit, in string comparisons).
fn distinct_sorted<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: FastSet<&str> = FastSet::default();
    let mut distinct: Vec<&str> = names.filter(|n| seen.insert(n)).collect();
    distinct.sort_unstable();
    distinct
}

/// `work` over every item on up to `threads` threads (rayon's work
/// stealing, so items of uneven cost, a crate with one advisory and one
/// with forty, keep every thread busy to the end), the results in the
/// order of `items`. Inside a rayon pool (the audit's) it uses that pool;
/// elsewhere it starts one of at most `threads` threads, and none at all
/// for one item or one thread. An item whose work panics gives
/// `on_panic(item)` instead, and the others go on.
pub(crate) fn map_claimed<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> R + Sync,
    on_panic: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use rayon::prelude::*;
    let one = |item: &T| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(item)))
            .unwrap_or_else(|_| on_panic(item))
    };
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(one).collect();
    }
    if rayon::current_thread_index().is_some() {
        return items.par_iter().map(one).collect();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(|| items.par_iter().map(one).collect()),
        // No thread could start: the work is still done, on this one.
        Err(_) => items.iter().map(one).collect(),
    }
}

/// Loads the advisories the lockfiles need, matches, and fills `out`.
/// Returns the `--metadata` dependency kinds by lockfile, for the yanked
/// check to filter alike.
fn audit_with_db(
    run: &AuditRun<'_>,
    audits: &[LockfileAudit<'_>],
    advs: &[rustsec::Advisory],
    ignores: &mut Ignores,
    out: &mut DepsOutcome,
) -> Result<BTreeMap<usize, metadata::DependencyKinds>> {
    let AuditRun {
        root,
        args,
        settings,
        threads,
    } = *run;

    // --metadata: per lockfile, the kinds of its packages. A lockfile cargo
    // cannot resolve keeps its findings, without kinds, and says why.
    let mut dep_kinds: BTreeMap<usize, metadata::DependencyKinds> = BTreeMap::new();
    if args.metadata {
        for (i, a) in audits.iter().enumerate() {
            let full = if root.is_file() {
                root.to_path_buf()
            } else {
                root.join(&a.rel_path)
            };
            match metadata::dependency_kinds(&full) {
                Ok(k) => {
                    dep_kinds.insert(i, k);
                }
                Err(e) => out.errors.push(ScanError {
                    path: Some(a.rel_path.clone()),
                    message: format!("{e:#}"),
                }),
            }
        }
    }

    let candidates = audit::Candidates::new(advs);
    let per_lockfile = map_claimed(
        audits,
        threads,
        |lf| Ok(lockfile_findings(lf, &candidates, ignores, settings)),
        // A panic while matching loses that lockfile's findings, and says so.
        |lf| Err(lf.rel_path.clone()),
    );
    let mut kinds: BTreeMap<&str, (FindingKind, &rustsec::Advisory)> = BTreeMap::new();
    for (i, done) in per_lockfile.into_iter().enumerate() {
        let LockfileFindings { found, ignored } = match done {
            Ok(done) => done,
            Err(rel_path) => {
                out.errors.push(ScanError {
                    path: Some(rel_path),
                    message: "matching this lockfile against the advisories panicked; its findings are missing".to_string(),
                });
                continue;
            }
        };
        for adv in ignored {
            ignores.mark_used(adv);
        }
        for (m, mut f) in found {
            if let Some(kinds) = dep_kinds.get(&i) {
                let pkg = &audits[i].tree.packages[m.package];
                match kinds.get(pkg.name(), &pkg.version.to_string()) {
                    // Not built for this platform.
                    None => continue,
                    Some("dev") if args.exclude_dev => continue,
                    Some(k) => {
                        if let Some(d) = f.dependency.as_mut() {
                            d.dependency_kind = Some(k.to_string());
                        }
                    }
                }
            }
            out.findings.push(f);
            kinds.insert(m.advisory.metadata.id.as_str(), (m.kind, m.advisory));
        }
    }
    // Each rule's findings, gathered in one pass over them all.
    let mut of_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &out.findings {
        of_rule.entry(f.rule_id.as_str()).or_default().push(f);
    }
    for (id, (kind, adv)) in kinds {
        let found = of_rule.get(id).map_or(&[][..], Vec::as_slice);
        out.rules.push(audit::rule_info(adv, kind, found, settings));
    }
    Ok(dep_kinds)
}

/// What one lockfile's audit found: each match with its finding (an
/// ignored advisory's marked suppressed, so that reports keep a trace of
/// it), and the ignored advisories that matched (for the stale check).
struct LockfileFindings<'a> {
    found: Vec<(audit::Match<'a>, Finding)>,
    ignored: Vec<&'a rustsec::Advisory>,
}

/// Matches one lockfile, marks what is ignored, and makes the findings,
/// with the GitHub line hashes of the matched packages' first lines:
/// everything a lockfile's audit needs that no other lockfile does, so
/// that lockfiles are audited in parallel (with fifty, making findings one
/// after another was a tenth of the run).
fn lockfile_findings<'a>(
    lf: &LockfileAudit<'_>,
    candidates: &audit::Candidates<'a>,
    ignores: &Ignores,
    settings: &MatchSettings,
) -> LockfileFindings<'a> {
    let mut ignored = Vec::new();
    let matches: Vec<audit::Match<'a>> = candidates.matches_in(&lf.tree, settings);
    let lines: Vec<u32> = matches
        .iter()
        .map(|m| lf.tree.packages[m.package].start_line)
        .collect();
    let hashes = if lines.is_empty() {
        HashMap::new()
    } else {
        line_hashes_at(lf.content, &lines)
    };
    let found = matches
        .into_iter()
        .map(|m| {
            let mut f = audit::finding(&m, lf, Some(&hashes), settings);
            f.suppressed = ignores.covering(m.advisory);
            if f.suppressed.is_some() {
                ignored.push(m.advisory);
            }
            (m, f)
        })
        .collect();
    LockfileFindings { found, ignored }
}

/// "the database is N days old" when it is older than `max_age` days.
fn staleness_warning(
    loc: &DbLocation,
    age: advisories::DbAge,
    max_age: Option<u64>,
) -> Option<String> {
    let max_age = max_age.unwrap_or(DEFAULT_MAX_AGE_DAYS);
    let day = advisories::parse_ymd(&age.date)?;
    let days = advisories::today() - day;
    (days > i64::try_from(max_age).unwrap_or(i64::MAX)).then(|| {
        format!(
            "the advisory database at {} is {days} days old ({} {}), older than --max-db-age {max_age}; run `tripline db fetch` to update it",
            loc.path.display(),
            age.judged_by,
            age.date
        )
    })
}

#[cfg(test)]
mod tests {
    use super::map_claimed;

    #[test]
    fn claimed_work_comes_back_in_item_order_and_a_panic_costs_one_item() {
        let items: Vec<u64> = (0..200).collect();
        for threads in [1, 2, 3, 8, 500] {
            let out = map_claimed(
                &items,
                threads,
                |&n| {
                    // Uneven work, so threads finish out of order.
                    if n % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    assert!(n != 13, "unlucky");
                    Ok(n * n)
                },
                |&n| Err(n),
            );
            let expected: Vec<Result<u64, u64>> = items
                .iter()
                .map(|&n| if n == 13 { Err(13) } else { Ok(n * n) })
                .collect();
            assert_eq!(out, expected, "with {threads} threads");
        }
        assert!(map_claimed(&[] as &[u8], 4, |_| 1, |_| 0).is_empty());
    }
}
