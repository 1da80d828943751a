//! The pipeline: sources → scanners → findings → filters → one report → exit
//! status.
//!
//! This is the only module that knows every stage. It decides what a command
//! means (which scanners run, which config applies), drives the walker,
//! hands bytes to the secrets engine and lockfiles to the dependency
//! auditor, and gives the report the finished [`ScanOutcome`]. It never
//! matches secrets, parses lockfiles or formats findings itself.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::baseline::Baseline;
use crate::cli::{Cli, Command, DepsArgs, GlobalArgs, HookCommand, ScanArgs, STDIN_NAME};
use crate::config::Config;
use crate::deps;
use crate::finding::linehash;
use crate::finding::{
    Confidence, Finding, FindingKind, ScanError, ScanOutcome, Suppression, SuppressionMechanism,
};
use crate::gitrev::{self, TrustedTree};
use crate::report::text::human_bytes;
use crate::report::{self, Format, ReportOptions};
use crate::secrets::engine::Engine;
use crate::secrets::git;
use crate::secrets::rules::RuleSet;
use crate::source::stdin;
use crate::source::walk::{self, SkipReason, Visitor, WalkOptions, WalkSummary, WalkedFile};
use crate::suppressions;

/// Exit status when findings at or above `--fail-on` were found.
const EXIT_FINDINGS: u8 = 1;
/// Exit status for usage and runtime errors.
const EXIT_ERROR: u8 = 2;

/// Runs the parsed command line and maps the result to an exit status.
pub fn main(cli: Cli) -> ExitCode {
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tripline: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match &cli.command {
        Command::Scan(a) => scan(g, &a.into(), Scanners::ALL),
        Command::Secrets(a) => scan(g, &a.into(), Scanners::SECRETS),
        Command::Deps(a) => scan(g, &a.into(), Scanners::DEPS),
        Command::Baseline(a) => scan(g, &a.into(), Scanners::BASELINE),
        Command::Rules(c) => {
            let config = Config::discover(g.config.as_deref(), Path::new("."))?;
            crate::commands::rules::run(c, &config)
        }
        Command::Db(c) => {
            let config = Config::discover(g.config.as_deref(), Path::new("."))?;
            crate::commands::db::run(c, g, &config)
        }
        Command::Hook(HookCommand::Install { force }) => {
            let hook = git::install_hook(Path::new("."), *force)?;
            if !g.quiet {
                eprintln!("tripline: wrote {}", hook.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Which scanners a command runs.
#[derive(Clone, Copy, Debug)]
struct Scanners {
    secrets: bool,
    deps: bool,
    /// `tripline baseline`: write the findings as a baseline, not a report.
    record_baseline: bool,
}

impl Scanners {
    const ALL: Scanners = Scanners {
        secrets: true,
        deps: true,
        record_baseline: false,
    };
    const BASELINE: Scanners = Scanners {
        secrets: true,
        deps: true,
        record_baseline: true,
    };
    const SECRETS: Scanners = Scanners {
        secrets: true,
        deps: false,
        record_baseline: false,
    };
    const DEPS: Scanners = Scanners {
        secrets: false,
        deps: true,
        record_baseline: false,
    };
}

/// How the run talks to the person at the terminal (stderr), as opposed to
/// the report (stdout or `-o`).
struct Console {
    quiet: bool,
    verbose: bool,
}

impl Console {
    fn warn(&self, e: &ScanError) {
        if !self.quiet {
            eprintln!("tripline: warning: {}", describe_error(e));
        }
    }

    fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("tripline: {msg}");
        }
    }

    fn verbose(&self, msg: &str) {
        if self.verbose && !self.quiet {
            eprintln!("tripline: {msg}");
        }
    }
}

fn describe_error(e: &ScanError) -> String {
    match &e.path {
        Some(p) => format!("{p}: {}", e.message),
        None => e.message.clone(),
    }
}

fn scan(g: &GlobalArgs, args: &ScanArgs, scanners: Scanners) -> Result<ExitCode> {
    let started = Instant::now();
    let interrupt = InterruptGuard::install();
    let console = Console {
        quiet: g.quiet,
        verbose: g.verbose,
    };
    let stdin = args.reads_stdin();
    if !stdin && args.secrets.stdin_name.is_some() {
        anyhow::bail!("--stdin-name names standard input, which only `-` reads");
    }
    let scanners = if stdin {
        stdin_scanners(args, scanners)?
    } else {
        scanners
    };
    let root = args.path.as_path();
    if !stdin && !root.exists() {
        anyhow::bail!("{}: no such file or directory", root.display());
    }
    let config_root = if stdin {
        // Standard input is read as a file of the current folder.
        Path::new(".")
    } else if root.is_dir() {
        root
    } else {
        root.parent().unwrap_or(Path::new("."))
    };
    // --config-rev: the configuration comes from a trusted revision, not
    // from the tree being scanned.
    let trusted = args
        .source
        .config_rev
        .as_deref()
        .map(|rev| TrustedTree::open(config_root, rev))
        .transpose()?;
    let config = match &trusted {
        Some(t) => trusted_config(t, g.config.as_deref(), config_root)?,
        None => Config::discover(g.config.as_deref(), config_root)?,
    };
    let (trusted_ignore, ignore_errors) = match &trusted {
        Some(t) => {
            let (ignore, errors) = trusted_ignore(t, config_root)?;
            (Some(ignore), errors)
        }
        None => (None, Vec::new()),
    };
    for e in &ignore_errors {
        console.warn(e);
    }
    let extra_rules: Vec<PathBuf> = match &trusted {
        Some(t) => args
            .secrets
            .rules
            .iter()
            .map(|p| t.materialize(p))
            .collect::<Result<_>>()?,
        None => args.secrets.rules.clone(),
    };
    let audit_opts = audit_options(&args.deps, &args.report.deny);
    // Dating the advisory database goes on beside the walk. Not for
    // --staged and --git, which mostly have no lockfile to audit.
    let age_check = (scanners.deps && !args.source.staged && args.source.git.is_none())
        .then(|| deps::AgeCheck::start(&audit_opts, &config))
        .flatten();
    let engine = if scanners.secrets {
        Some(build_engine(args, &extra_rules, &config)?)
    } else {
        None
    };

    let threads = args.source.threads.unwrap_or_else(default_threads);
    let opts = WalkOptions {
        follow_links: args.source.follow,
        max_file_size: config
            .scan
            .max_file_size
            .unwrap_or(args.source.max_file_size()),
        // A walk that only lists paths (`deps`) is one thread's work:
        // `ignore`'s idle workers poll for work every millisecond, and on a
        // small tree that wait was a tenth of a whole audit.
        threads: if scanners.secrets { threads } else { 1 },
        excludes: config.scan.exclude.clone(),
        read_contents: scanners.secrets,
        trusted_ignore,
    };
    let collector = Collector {
        engine: engine.as_ref(),
        want_lockfiles: if scanners.deps {
            Some(deps::LockfileNames::new(&config)?)
        } else {
            None
        },
        max_file_size: opts.max_file_size,
        console: &console,
        // Reading standard input typed at a terminal is no scan to show
        // progress of (and a spinner would draw over the typing).
        progress: Progress::start(&console, !stdin),
        findings: Mutex::new(Vec::new()),
        lockfiles: Mutex::new(Vec::new()),
        errors: Mutex::new(Vec::new()),
    };
    // --staged and --git read git objects instead of walking the tree.
    let mut git_source = GitSource::gather(args, &opts, engine.as_ref(), &console)?;
    let summary = match &git_source {
        Some(_) => WalkSummary::default(),
        None if stdin => scan_stdin(args, opts.max_file_size, &collector)?,
        None => walk::walk(root, &opts, &collector),
    };
    collector.progress.finish();
    if git_source.is_none() {
        console.verbose(&format!(
            "walked in {:.2?}: {} files scanned, {} skipped ({} too large, {} binary, {} special)",
            started.elapsed(),
            summary.stats.files_scanned,
            summary.stats.files_skipped,
            summary.skipped_too_large,
            summary.skipped_binary,
            summary.skipped_special,
        ));
    }

    let mut outcome = ScanOutcome {
        root: root.display().to_string(),
        stats: summary.stats,
        findings: into_inner(collector.findings),
        errors: [ignore_errors, into_inner(collector.errors)].concat(),
        ..ScanOutcome::default()
    };
    if !scanners.secrets {
        // The walk only listed paths; no file was scanned for secrets.
        outcome.stats.files_scanned = 0;
    }
    if let Some(src) = &mut git_source {
        src.fill(&mut outcome);
    }
    if let Some(engine) = &engine {
        for f in &outcome.findings {
            if !outcome.rules.contains_key(&f.rule_id) {
                if let Some(info) = engine.rule_info(&f.rule_id) {
                    outcome.rules.insert(f.rule_id.clone(), info);
                }
            }
        }
    }
    let mut lockfiles = into_inner(collector.lockfiles);
    lockfiles.sort();
    let mut dep_root = root.to_path_buf();
    if let Some(src) = &git_source {
        (dep_root, lockfiles) = src.lockfiles();
    }
    // From git, only staged lockfiles are audited (none staged: no audit,
    // so a pre-commit run never loads the advisory database for nothing).
    if scanners.deps && !(git_source.is_some() && lockfiles.is_empty()) {
        let audited = deps::audit(
            &dep_root,
            &lockfiles,
            &audit_opts,
            &config,
            threads,
            age_check,
        );
        let dep = match audited {
            // `scan` without its advisory database still reports the
            // secrets it found: a partial report, and exit status 2.
            // Alone (`deps`), or recording a baseline that would then
            // miss every dependency entry, the run fails here.
            Err(e) if scanners.secrets && !scanners.record_baseline => {
                let Some(unavailable) = e.downcast_ref::<deps::DatabaseUnavailable>() else {
                    return Err(e);
                };
                let error = ScanError {
                    path: None,
                    message: format!("the dependency audit did not run: {unavailable}"),
                };
                console.warn(&error);
                outcome.not_run.push(error);
                deps::DepsOutcome::default()
            }
            other => other?,
        };
        for e in &dep.errors {
            console.warn(e);
        }
        outcome.stats.lockfiles_audited = dep.lockfiles_audited;
        outcome.findings.extend(dep.findings);
        outcome.errors.extend(dep.errors);
        outcome.warnings.extend(dep.warnings);
        for r in dep.rules {
            outcome.rules.insert(r.id.clone(), r);
        }
    }
    if let Some(src) = &git_source {
        src.narrow(&mut outcome, args.source.all_lines);
        // A change that weakens the scan is a finding of its own.
        let added = src.suppressions_added(args, opts.max_file_size)?;
        if !added.is_empty() {
            let info = suppressions::rule_info();
            outcome.rules.insert(info.id.clone(), info);
            outcome.findings.extend(added);
        }
    }
    if scanners.record_baseline {
        return record_baseline(args, &outcome, &console);
    }
    if let Some(min) = args.secrets.min_confidence.or(config.scan.min_confidence) {
        drop_below_confidence(&mut outcome.findings, min);
    }
    if let Some(path) = &args.report.baseline {
        match &trusted {
            Some(t) => {
                let shown = t
                    .repo_path(path)
                    .map_or_else(|| path.display().to_string(), |p| t.shown(&p));
                apply_baseline(&t.materialize(path)?, &shown, &mut outcome, &console)?
            }
            None => apply_baseline(path, &path.display().to_string(), &mut outcome, &console)?,
        }
    }
    for w in &outcome.warnings {
        console.note(&format!("warning: {w}"));
    }
    outcome.sort();
    outcome.duration_ms = started.elapsed().as_millis();

    let denied = deps::denied_kinds(&audit_opts, &config)?;
    let failed = args.report.fail_on().threshold().is_some_and(|t| {
        outcome
            .findings
            .iter()
            .any(|f: &Finding| f.fails_at(t, &denied))
    });
    let report_opts = ReportOptions {
        show_secrets: args.reveal.show_secrets,
        color: use_color(g, args),
        verbose: g.verbose,
        sarif_category: args.report.sarif_category.clone(),
    };
    emit_report(
        args.report.format(),
        &outcome,
        &report_opts,
        args.report.output.as_deref(),
        &interrupt,
    )?;
    Ok(if !outcome.not_run.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if failed {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `-` (standard input) scans: the secrets half only, as one file
/// has no lockfile tree to audit. `deps -` and a git source are refused.
fn stdin_scanners(args: &ScanArgs, scanners: Scanners) -> Result<Scanners> {
    if !scanners.secrets {
        anyhow::bail!(
            "`-` reads standard input for a secret scan; the dependency audit reads the lockfiles of a folder: pass its path"
        );
    }
    if args.source.staged || args.source.git.is_some() {
        anyhow::bail!(
            "`-` reads standard input; --staged and --git read a git repository: pass its path instead"
        );
    }
    Ok(Scanners {
        deps: false,
        ..scanners
    })
}

/// Scans standard input as one file named `--stdin-name` (default
/// `<stdin>`), through the visitor the walker calls for a file. Input the
/// walker would skip in a tree (over the size limit, binary) is refused:
/// skipping the one thing asked for would read as a clean scan.
fn scan_stdin(
    args: &ScanArgs,
    max_file_size: u64,
    collector: &Collector<'_>,
) -> Result<WalkSummary> {
    let name = stdin::report_name(args.secrets.stdin_name.as_deref().unwrap_or(STDIN_NAME));
    let content = match stdin::read(io::stdin().lock(), max_file_size)
        .context("cannot read standard input")?
    {
        stdin::Input::Read(content) => content,
        stdin::Input::TooLarge => anyhow::bail!(
            "standard input is larger than --max-file-size ({max_file_size} bytes); raise the limit to scan it"
        ),
        stdin::Input::Binary => anyhow::bail!(
            "standard input is binary (a NUL byte in its first 8 KiB, and not UTF-16 text); tripline scans text"
        ),
    };
    collector.file(&WalkedFile {
        rel_path: &name,
        path: Path::new(&name),
        content: &content,
    });
    let mut summary = WalkSummary::default();
    summary.stats.files_scanned = 1;
    summary.stats.bytes_scanned = content.len() as u64;
    Ok(summary)
}

/// Bytes from git instead of the working tree: the staged index
/// (`--staged`) or every blob in history (`--git`). See `secrets::git`.
enum GitSource {
    Staged {
        scan: git::StagedScan,
        /// The staged lockfiles, written outside the scanned tree for the
        /// dependency auditor; deleted when this is dropped.
        lockfiles: Option<(tempfile::TempDir, Vec<PathBuf>)>,
    },
    History {
        findings: Vec<Finding>,
        errors: Vec<ScanError>,
        stats: git::HistoryStats,
    },
}

impl GitSource {
    fn gather(
        args: &ScanArgs,
        opts: &WalkOptions,
        engine: Option<&Engine>,
        console: &Console,
    ) -> Result<Option<GitSource>> {
        let started = Instant::now();
        if args.source.staged {
            let scan = git::scan_staged(
                engine,
                &args.path,
                &git::StagedOptions {
                    max_file_size: opts.max_file_size,
                    threads: opts.threads,
                    excludes: opts.excludes.clone(),
                    trusted_ignore: opts.trusted_ignore.clone(),
                },
            )?;
            for (path, reason) in &scan.set.skipped {
                console.verbose(&format!("skipped {path}: {}", reason.as_str()));
            }
            console.verbose(&format!(
                "staged in {:.2?}: {} files scanned, {} skipped",
                started.elapsed(),
                scan.files_scanned,
                scan.set.skipped.len()
            ));
            let lockfiles = git::materialize_lockfiles(&scan.set)?;
            return Ok(Some(GitSource::Staged { scan, lockfiles }));
        }
        let Some(revs) = &args.source.git else {
            return Ok(None);
        };
        let Some(engine) = engine else {
            console
                .note("--git scans secrets in history; `deps` audits the working tree's lockfiles");
            return Ok(Some(GitSource::History {
                findings: Vec::new(),
                errors: Vec::new(),
                stats: git::HistoryStats::default(),
            }));
        };
        let (path, revs) = git::path_and_revs(&args.path, revs);
        let (findings, errors, stats) = git::scan_history(
            engine,
            &path,
            &revs,
            &git::HistoryOptions {
                max_file_size: opts.max_file_size,
                threads: opts.threads,
            },
        )?;
        console.verbose(&format!(
            "history in {:.2?}: {} commits, {} blobs scanned ({} bytes), {} skipped, {} not in the local object store",
            started.elapsed(),
            stats.commits,
            stats.blobs_scanned,
            stats.bytes_scanned,
            stats.blobs_skipped,
            stats.blobs_missing
        ));
        Ok(Some(GitSource::History {
            findings,
            errors,
            stats,
        }))
    }

    /// Puts this source's findings and counts into `outcome`.
    fn fill(&mut self, outcome: &mut ScanOutcome) {
        match self {
            GitSource::Staged { scan, .. } => {
                outcome.root = scan.set.root.display().to_string();
                outcome.stats.files_scanned = scan.files_scanned;
                outcome.stats.bytes_scanned = scan.bytes_scanned;
                outcome.stats.files_skipped = scan.set.skipped.len() as u64;
                outcome.findings.append(&mut scan.findings);
                outcome.errors.append(&mut scan.set.errors);
            }
            GitSource::History {
                findings,
                errors,
                stats,
            } => {
                outcome.stats.files_scanned = stats.blobs_scanned;
                outcome.stats.bytes_scanned = stats.bytes_scanned;
                outcome.stats.files_skipped = stats.blobs_skipped + stats.blobs_missing;
                outcome.findings.append(findings);
                outcome.errors.append(errors);
            }
        }
    }

    /// The root and relative paths of the lockfiles to audit.
    fn lockfiles(&self) -> (PathBuf, Vec<PathBuf>) {
        match self {
            GitSource::Staged {
                lockfiles: Some((dir, paths)),
                ..
            } => (dir.path().to_path_buf(), paths.clone()),
            _ => (PathBuf::new(), Vec::new()),
        }
    }

    /// The `suppression-added` findings of the change: what is staged
    /// against `HEAD`, or the two ends of a `--git A..B` range (nothing for
    /// other revisions, which have no "before").
    fn suppressions_added(&self, args: &ScanArgs, max_file_size: u64) -> Result<Vec<Finding>> {
        let baseline = args.report.baseline.as_deref().and_then(Path::to_str);
        match self {
            GitSource::Staged { scan, .. } => {
                let head = gitrev::HeadFiles::open(&scan.set.root)?;
                // Excluded files too: a new `.triplineignore` line may
                // exclude itself.
                let changes: Vec<suppressions::Change<'_>> = scan
                    .set
                    .files
                    .iter()
                    .chain(&scan.excluded)
                    .map(|f| suppressions::Change {
                        path: &f.path,
                        new: &f.content,
                        added_lines: f.added_lines.as_ref(),
                    })
                    .collect();
                Ok(suppressions::check(&changes, &|p| head.read(p), baseline))
            }
            GitSource::History { .. } => {
                let revs = args.source.git.as_deref().unwrap_or_default();
                let (path, revs) = git::path_and_revs(&args.path, revs);
                let Some(files) = gitrev::changed_in_range(&path, &revs, max_file_size)? else {
                    return Ok(Vec::new());
                };
                let changes: Vec<suppressions::Change<'_>> = files
                    .iter()
                    .map(|f| suppressions::Change {
                        path: &f.path,
                        new: &f.new,
                        added_lines: f.added_lines.as_ref(),
                    })
                    .collect();
                let old = |p: &str| files.iter().find(|f| f.path == p)?.old.clone();
                Ok(suppressions::check(&changes, &old, baseline))
            }
        }
    }

    /// `--staged` without `--all-lines`: only findings on lines the staged
    /// change adds.
    fn narrow(&self, outcome: &mut ScanOutcome, all_lines: bool) {
        if let (GitSource::Staged { scan, .. }, false) = (self, all_lines) {
            let findings = std::mem::take(&mut outcome.findings);
            outcome.findings = git::filter_to_added_lines(findings, &scan.set);
        }
    }
}

/// `--min-confidence`: drops the secrets found with less confidence than
/// `min` (dependency findings have no such doubt and stay).
fn drop_below_confidence(findings: &mut Vec<Finding>, min: Confidence) {
    findings.retain(|f| f.kind != FindingKind::Secret || f.confidence >= min);
}

/// The dependency audit's settings from the command line. `deny` is a
/// report option (it also names `suppression`, which is not a dependency
/// kind), read with the config's `[deps] deny`.
fn audit_options(args: &DepsArgs, deny: &[String]) -> deps::AuditOptions {
    deps::AuditOptions {
        db: args.db.db.clone(),
        pypi_db: args.db.pypi_db.clone(),
        ecosystem: args.db.ecosystem.clone(),
        offline: args.db.offline,
        max_db_age: args.db.max_db_age,
        target_os: args.target_os.clone(),
        target_arch: args.target_arch.clone(),
        deny: deny.to_vec(),
        ignore: args.ignore.clone(),
        yanked: args.yanked,
        metadata: args.metadata,
        exclude_dev: args.exclude_dev,
    }
}

/// `--baseline FILE`: marks the findings the baseline accepts as
/// suppressed by it (they stay in the report, and never fail the run).
/// `shown` names the file in reports (`REV:path` under `--config-rev`).
fn apply_baseline(
    path: &Path,
    shown: &str,
    outcome: &mut ScanOutcome,
    console: &Console,
) -> Result<()> {
    let baseline = Baseline::load(path)?;
    let filtered = baseline.filter(std::mem::take(&mut outcome.findings));
    outcome.findings = filtered.kept;
    let by = format!("baseline {shown}");
    outcome
        .findings
        .extend(filtered.accepted.into_iter().map(|mut f| {
            f.suppressed = Some(Suppression::new(SuppressionMechanism::Baseline, by.clone()));
            f
        }));
    console.verbose(&format!(
        "baseline {shown}: {} findings accepted, {} of {} entries matched nothing",
        filtered.suppressed,
        filtered.unmatched.len(),
        baseline.len()
    ));
    for e in &filtered.unmatched {
        console.verbose(&format!("baseline entry matched nothing: {e}"));
    }
    Ok(())
}

/// `tripline baseline`: writes the findings present now (to `-o`, default
/// `tripline-baseline.json`) instead of a report.
fn record_baseline(args: &ScanArgs, outcome: &ScanOutcome, console: &Console) -> Result<ExitCode> {
    let path = args
        .report
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("tripline-baseline.json"));
    // What an inline comment or an allowlist already suppresses needs no
    // entry: the baseline holds what would otherwise fail the run. Nor does
    // a `suppression-added` finding, which is about one change, not the
    // code.
    let findings: Vec<Finding> = outcome
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none() && f.kind != FindingKind::Suppression)
        .cloned()
        .collect();
    let baseline = Baseline::write(&path, &findings)?;
    console.note(&format!(
        "wrote {} ({} entries for {} findings)",
        path.display(),
        baseline.len(),
        findings.len()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `--config-rev`: the config file as revision `t` has it (the explicit
/// `--config` path, else `tripline.toml` at `root`), with its rule paths
/// read from that revision too. A config path outside the work tree is read
/// from disk: it is not the revision's.
fn trusted_config(t: &TrustedTree, explicit: Option<&Path>, root: &Path) -> Result<Config> {
    let path = explicit.map_or_else(|| root.join(crate::config::DEFAULT_FILE), Path::to_path_buf);
    let Some(repo_path) = t.repo_path(&path) else {
        return Config::load(&path);
    };
    let shown = t.shown(&repo_path);
    let mut config = match t.read(&repo_path)? {
        Some(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("invalid config file {shown}: not UTF-8"))?;
            Config::parse(&text)
                .map_err(|e| anyhow::anyhow!("invalid config file {shown}: {}", e.trim_end()))?
        }
        None if explicit.is_some() => anyhow::bail!("{shown}: no such file in that revision"),
        None => Config::default(),
    };
    // Paths in the config resolve against its place in the work tree (an
    // advisory database folder is data, not configuration); the rule files
    // it names are read from the revision.
    config.source = Some(path);
    config.shown_as = Some(shown);
    config.rules.paths = config
        .rule_paths()
        .iter()
        .map(|p| t.materialize(p))
        .collect::<Result<_>>()?;
    Ok(config)
}

/// `--config-rev`: the revision's `.triplineignore` files under the scan
/// root, with the problems of their patterns (each names its file).
fn trusted_ignore(t: &TrustedTree, root: &Path) -> Result<(walk::TrustedIgnore, Vec<ScanError>)> {
    let files = match t.repo_path(root) {
        Some(dir) => t.files_named(&dir, walk::IGNORE_FILE)?,
        None => Vec::new(),
    };
    Ok(walk::TrustedIgnore::new(&files))
}

fn build_engine(args: &ScanArgs, extra_rules: &[PathBuf], config: &Config) -> Result<Engine> {
    let mut extra = config.rule_paths();
    extra.extend(extra_rules.iter().cloned());
    let mut disabled = config.rules.disable.clone();
    disabled.extend(args.secrets.disable_rule.iter().cloned());
    let rules = RuleSet::load(&extra, &disabled)?;
    Engine::new(rules, config)
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn into_inner<T: Default>(m: Mutex<T>) -> T {
    // A poisoned lock means a worker panicked mid-push; what it pushed
    // before is still valid data.
    m.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Whether the text report gets colour: never when asked not to (`--no-color`,
/// a non-empty `NO_COLOR`), never into a file or a pipe.
fn use_color(g: &GlobalArgs, args: &ScanArgs) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !g.no_color && !no_color_env && args.report.output.is_none() && io::stdout().is_terminal()
}

/// Writes the report to stdout, or to `path` whole or not at all: it goes to
/// a temporary file beside the target, renamed into place only once
/// complete, so an interrupted run never leaves half a SARIF file for CI to
/// upload.
fn emit_report(
    format: Format,
    outcome: &ScanOutcome,
    opts: &ReportOptions,
    path: Option<&Path>,
    guard: &InterruptGuard,
) -> Result<()> {
    match path {
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            let res = report::write(format, outcome, opts, &mut out).and_then(|()| out.flush());
            match res {
                // The reader went away (`tripline scan | head -1`): nothing
                // left to say and nobody to say it to.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write the report to standard output"),
            }
        }
        Some(path) => {
            write_atomically(path, guard, |out| report::write(format, outcome, opts, out))
                .with_context(|| format!("cannot write the report to {}", path.display()))
        }
    }
}

/// Exit status of a run stopped by Ctrl-C, as shells report SIGINT.
const EXIT_INTERRUPTED: i32 = 130;

/// On Ctrl-C, removes the report's temporary file (if one is being written)
/// and exits 130, so an interrupted run leaves neither half a report nor
/// litter beside it. The pending path is shared with `write_atomically`
/// through this handle, not through global state.
#[derive(Clone, Default)]
struct InterruptGuard {
    pending: std::sync::Arc<Mutex<Option<PathBuf>>>,
}

impl InterruptGuard {
    fn install() -> InterruptGuard {
        let guard = InterruptGuard::default();
        let pending = guard.pending.clone();
        // Failing to install (a handler already set by an embedding program)
        // only loses the clean-up; the report is still written atomically.
        let _ = ctrlc::set_handler(move || {
            if let Some(p) = lock(&pending).take() {
                let _ = std::fs::remove_file(p);
            }
            std::process::exit(EXIT_INTERRUPTED);
        });
        guard
    }

    fn set(&self, path: Option<PathBuf>) {
        *lock(&self.pending) = path;
    }
}

fn write_atomically(
    path: &Path,
    guard: &InterruptGuard,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    // A device or a pipe (`-o /dev/stdout`, `-o /dev/full`) is written in
    // place: renaming a file over it would replace the device node.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let mut out = io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
        write(&mut out)?;
        return out.flush();
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = new_file_beside(path, dir)?;
    guard.set(Some(tmp.path().to_path_buf()));
    let written = (|| {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        write(&mut out)?;
        out.flush()?;
        drop(out);
        tmp.as_file().sync_all()
    })();
    let result = written.and_then(|()| tmp.persist(path).map(drop).map_err(|e| e.error));
    guard.set(None);
    result
}

/// The temporary file a report is written to before it is renamed to
/// `path`, with the mode `path` is to have: that of the file it replaces,
/// else what a new file gets (0666 less the umask: 0644 under 022). The
/// temporary file's own 0600 would survive the rename, and a report made
/// in CI by one user could not be read by the upload step running as
/// another.
fn new_file_beside(path: &Path, dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tripline-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created with this mode, the kernel applies the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir)?;
    if let Ok(replaced) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(replaced.permissions())?;
    }
    Ok(tmp)
}

/// Receives files from the walker threads and runs the scanners on them.
struct Collector<'a> {
    engine: Option<&'a Engine>,
    /// Which files are lockfiles to audit; `None` without a dependency scan.
    want_lockfiles: Option<deps::LockfileNames>,
    /// Lockfiles larger than this are not audited (see `queue_lockfile`).
    max_file_size: u64,
    console: &'a Console,
    progress: Progress,
    findings: Mutex<Vec<Finding>>,
    lockfiles: Mutex<Vec<PathBuf>>,
    errors: Mutex<Vec<ScanError>>,
}

impl Visitor for Collector<'_> {
    fn file(&self, file: &WalkedFile<'_>) {
        self.progress.advance(file.content.len() as u64);
        if self.is_lockfile(file.rel_path) {
            // Without a secret scan the walk reads nothing, so the size
            // limit is checked here; with one, the walk already did.
            let too_large = self.engine.is_none()
                && std::fs::metadata(file.path).is_ok_and(|m| m.len() > self.max_file_size);
            self.queue_lockfile(file.rel_path, too_large);
        }
        let Some(engine) = self.engine else { return };
        let mut found = engine.scan(file.rel_path, file.content);
        if found.is_empty() {
            return;
        }
        attach_line_hashes(&mut found, file.content);
        lock(&self.findings).append(&mut found);
    }

    fn skipped(&self, rel_path: &str, reason: SkipReason) {
        self.console
            .verbose(&format!("skipped {rel_path}: {}", reason.as_str()));
        // What the secret scan skips is still a lockfile to audit: a
        // binary one fails to parse there, and says so; a huge one is
        // reported here.
        if self.is_lockfile(rel_path) {
            match reason {
                SkipReason::Binary => self.queue_lockfile(rel_path, false),
                SkipReason::TooLarge => self.queue_lockfile(rel_path, true),
                SkipReason::NotRegular | SkipReason::OutsideRoot => {}
            }
        }
    }

    fn error(&self, error: ScanError) {
        self.console.warn(&error);
        lock(&self.errors).push(error);
    }
}

impl Collector<'_> {
    fn is_lockfile(&self, rel_path: &str) -> bool {
        self.want_lockfiles
            .as_ref()
            .is_some_and(|names| names.wants(rel_path))
    }

    /// Hands a lockfile to the dependency audit, unless it is larger than
    /// `--max-file-size`: parsing one takes many times its size in memory
    /// and no real lockfile comes near the limit, so a huge one is an error
    /// naming it (the audit is incomplete), not a silent skip.
    fn queue_lockfile(&self, rel_path: &str, too_large: bool) {
        if too_large {
            self.error(ScanError {
                path: Some(rel_path.to_string()),
                message: format!(
                    "lockfile larger than --max-file-size ({} bytes), not audited; raise the limit to audit it",
                    self.max_file_size
                ),
            });
        } else {
            lock(&self.lockfiles).push(PathBuf::from(rel_path));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fills each finding's GitHub line hash. Only files with findings pay for
/// hashing, and each of those is hashed once.
pub fn attach_line_hashes(findings: &mut [Finding], content: &[u8]) {
    let lines: Vec<u32> = findings.iter().map(|f| f.location.start_line).collect();
    let hashes = linehash::line_hashes_at(content, &lines);
    for f in findings {
        f.location.line_hash = hashes.get(&f.location.start_line).cloned();
    }
}

/// A spinner on stderr, shown only when stderr is a terminal and the scan has
/// run for more than a second (a pre-commit run should print nothing).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    bytes: std::sync::atomic::AtomicU64,
}

impl Progress {
    const DELAY: Duration = Duration::from_secs(1);

    fn start(console: &Console, wanted: bool) -> Progress {
        if !wanted || console.quiet || !io::stderr().is_terminal() {
            return Progress {
                bar: None,
                bytes: Default::default(),
            };
        }
        let bar = indicatif::ProgressBar::hidden();
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} scanning: {pos} files, {msg} [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        bar.set_style(style);
        let shown = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Progress::DELAY);
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(120));
            }
        });
        Progress {
            bar: Some(bar),
            bytes: Default::default(),
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            use std::sync::atomic::Ordering;
            let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
            bar.inc(1);
            bar.set_message(human_bytes(total));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_nothing_behind_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.sarif");
        let guard = InterruptGuard::default();
        let err = write_atomically(&target, &guard, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(err.is_err());
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomically(&target, &guard, |out| out.write_all(b"whole")).unwrap();
        assert!(lock(&guard.pending).is_none(), "nothing left to clean up");
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
    }
}
