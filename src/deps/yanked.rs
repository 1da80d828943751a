//! Yanked crates (`--yanked`): every crates.io package of the audited
//! lockfiles checked against the crates.io sparse index over HTTPS.
//!
//! The index holds one file per crate, a JSON object per published version
//! with its `yanked` flag; that is all this needs, so it fetches those files
//! directly (once per crate per run, however many lockfiles name it, a few
//! at a time, each request and the whole check bounded in time) instead of
//! keeping a local copy of the index as cargo does. Path, git and other
//! registries' packages are never looked up: they are not the crates.io
//! crate of that name.
//!
//! This module does not read the advisory database, keeps no cache, and
//! never runs cargo. It is the only part of tripline that speaks HTTP.

use crate::finding::linehash::line_hashes_at;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rustsec::semver::{Comparator, Op, Version};
use serde::Deserialize;

use crate::finding::{
    fingerprint, Confidence, DependencyInfo, Finding, FindingKind, Location, RuleInfo, Severity,
};

use super::audit::LockfileAudit;
use super::metadata::DependencyKinds;

/// The crates.io sparse index.
pub const DEFAULT_INDEX_URL: &str = "https://index.crates.io/";
/// Overrides `[deps] index_url` (a mirror, or a local server in tests).
pub const INDEX_URL_ENV: &str = "TRIPLINE_CRATES_INDEX";
/// Overrides the per-request timeout, in milliseconds.
pub const TIMEOUT_ENV: &str = "TRIPLINE_HTTP_TIMEOUT_MS";
/// The rule id of every yanked finding.
pub const RULE_ID: &str = "yanked";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole check may take this many request timeouts: a slow index makes
/// the run slower, never endless.
const DEADLINE_TIMEOUTS: u32 = 6;
/// Requests in flight at once: enough to hide latency, few enough to be
/// polite to the index (cargo uses a similar number per host).
const WORKERS: usize = 8;
/// The largest index file read (the biggest crates.io ones are a few MB).
const MAX_INDEX_FILE: u64 = 64 * 1024 * 1024;
/// Failed crates named one warning each; the rest are counted in one more.
const MAX_NAMED_FAILURES: usize = 10;

/// Where and how to ask the index.
#[derive(Clone, Debug)]
pub struct IndexClient {
    /// With a trailing `/`.
    base: String,
    timeout: Duration,
    deadline: Duration,
}

impl IndexClient {
    /// The index named by `TRIPLINE_CRATES_INDEX`, else `[deps] index_url`,
    /// else crates.io's; the timeout from `TRIPLINE_HTTP_TIMEOUT_MS`, else
    /// 10 s. A malformed setting is an error naming it.
    pub fn from_settings(config_url: Option<&str>) -> Result<IndexClient> {
        let env_url = std::env::var(INDEX_URL_ENV).ok().filter(|s| !s.is_empty());
        let (url, from) = match (&env_url, config_url) {
            (Some(u), _) => (u.as_str(), INDEX_URL_ENV),
            (None, Some(u)) => (u, "[deps] index_url"),
            (None, None) => (DEFAULT_INDEX_URL, "the default index URL"),
        };
        let timeout = match std::env::var(TIMEOUT_ENV) {
            Ok(ms) => match ms.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => bail!("{TIMEOUT_ENV}=`{ms}` is not a positive number of milliseconds"),
            },
            Err(_) => DEFAULT_TIMEOUT,
        };
        IndexClient::new(url, timeout).map_err(|e| anyhow::anyhow!("{from}: {e}"))
    }

    /// A client for the sparse index at `url` (`sparse+` prefix allowed, as
    /// cargo writes it).
    pub fn new(url: &str, timeout: Duration) -> Result<IndexClient> {
        let url = url.trim();
        let url = url.strip_prefix("sparse+").unwrap_or(url);
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("`{url}` is not an http(s) URL of a sparse index (like {DEFAULT_INDEX_URL})");
        }
        let base = if url.ends_with('/') {
            url.to_string()
        } else {
            format!("{url}/")
        };
        Ok(IndexClient {
            base,
            timeout,
            deadline: timeout * DEADLINE_TIMEOUTS,
        })
    }

    /// The URL of `name`'s index file.
    pub fn url_of(&self, name: &str) -> String {
        format!("{}{}", self.base, index_path(name))
    }

    /// Fetches the index file of each crate in `names`, [`WORKERS`] at a
    /// time. A crate the index does not have (404) is left out; a failed
    /// request is a warning and the rest go on. An `Err` only when not one
    /// crate could be checked: then the check did not happen, and a run that
    /// asked for it must not pass as if it had.
    pub fn fetch_all(&self, names: &BTreeSet<String>) -> Result<IndexAnswers> {
        let mut answers = IndexAnswers::default();
        if names.is_empty() {
            return Ok(answers);
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let outcomes = self.fetch_outcomes(&names);

        let mut failed: Vec<(&str, String)> = Vec::new();
        let mut unanswered = Vec::new();
        let mut given_up = Vec::new();
        let mut any_answer = false;
        let mut checked = 0;
        for (name, outcome) in names.iter().zip(outcomes) {
            match outcome {
                Fetched::Found(versions) => {
                    checked += 1;
                    answers.crates.insert(name.to_string(), versions);
                }
                Fetched::NotFound => checked += 1,
                Fetched::Failed {
                    error, answered, ..
                } => {
                    any_answer |= answered;
                    failed.push((name, error));
                }
                Fetched::PastDeadline => unanswered.push(*name),
                Fetched::GaveUp => given_up.push(*name),
            }
        }
        if checked == 0 {
            let first = failed
                .first()
                .map(|(name, e)| format!("{}: {e}", self.url_of(name)))
                .unwrap_or_else(|| format!("no answer within {:?}", self.deadline));
            if any_answer {
                bail!(
                    "the crates.io index at {} answered no request usefully ({first}); run without --yanked",
                    self.base
                );
            }
            bail!(
                "cannot reach the crates.io index at {} (offline?): {first}; run without --yanked",
                self.base
            );
        }
        if answers.crates.is_empty() && checked > 1 {
            // Real lockfiles name real crates: an index that has none of
            // them is most likely not the index meant.
            answers.warnings.push(format!(
                "--yanked: the index at {} has none of the {checked} crates asked for (all 404); is it a crates.io sparse index?",
                self.base
            ));
        }
        for (name, e) in failed.iter().take(MAX_NAMED_FAILURES) {
            answers.warnings.push(format!(
                "--yanked: cannot check {name} ({}): {e}; it may be yanked",
                self.url_of(name)
            ));
        }
        if failed.len() > MAX_NAMED_FAILURES {
            let rest: Vec<&str> = failed[MAX_NAMED_FAILURES..].iter().map(|f| f.0).collect();
            answers.warnings.push(format!(
                "--yanked: {} more crates could not be checked: {}",
                rest.len(),
                rest.join(", ")
            ));
        }
        if !given_up.is_empty() {
            answers.warnings.push(format!(
                "--yanked: the index looked unreachable; {} crates not checked: {}",
                given_up.len(),
                given_up.join(", ")
            ));
        }
        if !unanswered.is_empty() {
            answers.warnings.push(format!(
                "--yanked: the check ran past its {:?} deadline; {} crates not checked: {}",
                self.deadline,
                unanswered.len(),
                unanswered.join(", ")
            ));
        }
        Ok(answers)
    }

    /// One outcome per name, in order.
    fn fetch_outcomes(&self, names: &[&str]) -> Vec<Fetched> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!(
                "tripline/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/tripline/tripline)"
            ))
            .timeout_global(Some(self.timeout))
            .max_idle_connections_per_host(WORKERS)
            // The system's roots, as cargo and git use: a company proxy's
            // own CA is trusted there, and only there.
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build();
        let agent = ureq::Agent::with_parts(
            agent,
            ureq::unversioned::transport::DefaultConnector::new(),
            CachingResolver::default(),
        );
        let deadline = Instant::now() + self.deadline;
        let next = AtomicUsize::new(0);
        let breaker = Breaker::default();
        let workers = WORKERS.min(names.len());
        let mut outcomes: Vec<Option<Fetched>> = (0..names.len()).map(|_| None).collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(name) = names.get(i) else { break };
                            let outcome = self.fetch_retrying(&agent, name, deadline, &breaker);
                            done.push((i, outcome));
                        }
                        done
                    })
                })
                .collect();
            for h in handles {
                // A worker that panicked leaves its crates unanswered
                // (`None` below), reported as failures.
                if let Ok(done) = h.join() {
                    for (i, o) in done {
                        outcomes[i] = Some(o);
                    }
                }
            }
        });
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or(Fetched::Failed {
                    error: "the request thread panicked".to_string(),
                    answered: false,
                    transient: false,
                })
            })
            .collect()
    }

    /// Fetches `name`, asking twice when the first failure may be
    /// passing (a timeout, a dropped connection, a 5xx), as cargo does; not
    /// at all once the deadline has passed or the index proved unreachable.
    fn fetch_retrying(
        &self,
        agent: &ureq::Agent,
        name: &str,
        deadline: Instant,
        breaker: &Breaker,
    ) -> Fetched {
        const ATTEMPTS: usize = 2;
        const PAUSE: Duration = Duration::from_millis(250);
        let mut outcome = Fetched::PastDeadline;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(PAUSE);
            }
            if breaker.tripped() {
                // Keep the first attempt's failure, if there was one.
                return if attempt == 0 {
                    Fetched::GaveUp
                } else {
                    outcome
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Keep the first attempt's failure, if there was one.
                return outcome;
            }
            outcome = self.fetch_one(agent, name, left.min(self.timeout));
            breaker.record(&outcome);
            if !matches!(
                outcome,
                Fetched::Failed {
                    transient: true,
                    ..
                }
            ) {
                break;
            }
        }
        outcome
    }

    fn fetch_one(&self, agent: &ureq::Agent, name: &str, timeout: Duration) -> Fetched {
        let url = self.url_of(name);
        let response = agent
            .get(&url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call();
        let mut response = match response {
            Ok(r) => r,
            Err(e) => {
                return Fetched::Failed {
                    error: describe(&e, timeout),
                    answered: false,
                    transient: !matches!(
                        e,
                        ureq::Error::Tls(_)
                            | ureq::Error::Rustls(_)
                            | ureq::Error::BadUri(_)
                            | ureq::Error::InvalidProxyUrl
                    ),
                }
            }
        };
        match response.status().as_u16() {
            200 => {}
            // What cargo takes for "no such crate" from a sparse index.
            404 | 410 | 451 => return Fetched::NotFound,
            code => {
                return Fetched::Failed {
                    error: format!("HTTP {code}"),
                    answered: true,
                    transient: code == 429 || code >= 500,
                }
            }
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_INDEX_FILE)
            .read_to_vec();
        match body {
            Ok(bytes) => match CrateVersions::parse(&String::from_utf8_lossy(&bytes)) {
                Some(v) => Fetched::Found(v),
                // A captive portal's login page, say: not an index file.
                None => Fetched::Failed {
                    error: "the answer is not a sparse index file (no version in it)".to_string(),
                    answered: true,
                    transient: false,
                },
            },
            Err(e) => Fetched::Failed {
                error: describe(&e, timeout),
                answered: true,
                transient: true,
            },
        }
    }
}

/// What became of one crate's request.
enum Fetched {
    Found(CrateVersions),
    NotFound,
    /// `answered`: the server sent an HTTP response (it is reachable);
    /// `transient`: asking again may work.
    Failed {
        error: String,
        answered: bool,
        transient: bool,
    },
    /// Not asked: the whole check's deadline had passed.
    PastDeadline,
    /// Not asked: the index had proved unreachable.
    GaveUp,
}

/// Stops the check early when the index is plainly out of reach: a full
/// round of requests failed without a single HTTP answer (offline, a DNS
/// failure, a firewall). Without it an offline run would wait out every
/// timeout before saying so.
#[derive(Default)]
struct Breaker {
    answered: AtomicUsize,
    unreachable: AtomicUsize,
}

impl Breaker {
    fn record(&self, outcome: &Fetched) {
        match outcome {
            Fetched::Found(_) | Fetched::NotFound | Fetched::Failed { answered: true, .. } => {
                self.answered.fetch_add(1, Ordering::Relaxed);
            }
            Fetched::Failed {
                answered: false, ..
            } => {
                self.unreachable.fetch_add(1, Ordering::Relaxed);
            }
            Fetched::PastDeadline | Fetched::GaveUp => {}
        }
    }

    fn tripped(&self) -> bool {
        self.answered.load(Ordering::Relaxed) == 0
            && self.unreachable.load(Ordering::Relaxed) >= WORKERS
    }
}

fn describe(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {timeout:?}"),
        ureq::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// The path of a crate's file in a sparse index, as cargo lays it out:
/// `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`, all lowercase.
pub fn index_path(name: &str) -> String {
    let name = name.to_lowercase();
    let mut chars = name.chars();
    match name.chars().count() {
        0 => String::new(),
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", chars.next().unwrap_or_default()),
        _ => {
            let first: String = chars.by_ref().take(2).collect();
            let second: String = chars.take(2).collect();
            format!("{first}/{second}/{name}")
        }
    }
}

/// What the index says about one crate: each published version and whether
/// it is yanked.
#[derive(Debug, Default, Clone)]
pub struct CrateVersions {
    versions: Vec<(Version, bool)>,
}

#[derive(Deserialize)]
struct IndexLine {
    vers: String,
    #[serde(default)]
    yanked: bool,
}

impl CrateVersions {
    /// Parses an index file (one JSON object per line). Lines that are not
    /// a version record are skipped; `None` when none is.
    pub fn parse(text: &str) -> Option<CrateVersions> {
        let versions: Vec<(Version, bool)> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str::<IndexLine>(l).ok())
            .filter_map(|l| Some((Version::parse(&l.vers).ok()?, l.yanked)))
            .collect();
        (!versions.is_empty()).then_some(CrateVersions { versions })
    }

    /// Whether `version` is yanked; `None` when the index does not list it.
    pub fn is_yanked(&self, version: &Version) -> Option<bool> {
        self.versions
            .iter()
            .find(|(v, _)| v == version)
            .map(|(_, y)| *y)
    }

    /// What to do about a yanked `locked` version: the newest version not
    /// yanked (a stable one when there is one), and the newest that is
    /// semver-compatible with `locked` when that differs (`cargo update`
    /// reaches it without touching Cargo.toml).
    pub fn fix(&self, locked: &Version) -> String {
        let usable: Vec<&Version> = self
            .versions
            .iter()
            .filter(|(_, y)| !y)
            .map(|(v, _)| v)
            .collect();
        let newest = usable
            .iter()
            .filter(|v| v.pre.is_empty())
            .max()
            .or_else(|| usable.iter().max());
        let Some(newest) = newest else {
            return "no version of this crate is left unyanked; replace it".to_string();
        };
        let caret = Comparator {
            op: Op::Caret,
            major: locked.major,
            minor: Some(locked.minor),
            patch: Some(locked.patch),
            pre: locked.pre.clone(),
        };
        let compatible = usable.iter().filter(|v| caret.matches(v)).max();
        let verb = if *newest > locked {
            "upgrade"
        } else {
            "downgrade"
        };
        match compatible {
            Some(c) if c != newest => {
                format!("{verb} to a non-yanked version (newest: {newest}; semver-compatible: {c})")
            }
            _ => format!("{verb} to a non-yanked version (newest: {newest})"),
        }
    }
}

/// The index files fetched, and warnings about the ones that could not be.
#[derive(Debug, Default)]
pub struct IndexAnswers {
    /// By crate name as the lockfiles write it.
    pub crates: HashMap<String, CrateVersions>,
    pub warnings: Vec<String>,
}

/// The names of the crates.io packages in `audits`, each once.
pub fn crates_io_names(audits: &[LockfileAudit<'_>]) -> BTreeSet<String> {
    audits
        .iter()
        .flat_map(|a| a.tree.packages.iter())
        .filter(|p| is_crates_io(p))
        .map(|p| p.name().to_string())
        .collect()
}

fn is_crates_io(p: &super::lockfile::LockedPackage) -> bool {
    p.source.as_deref().is_some_and(|s| s.is_default_registry())
}

/// What the yanked check adds to an audit.
#[derive(Debug, Default)]
pub struct YankedFindings {
    pub findings: Vec<Finding>,
    /// The `yanked` rule, when there is a finding.
    pub rule: Option<RuleInfo>,
    pub warnings: Vec<String>,
}

/// One finding per yanked crates.io package of each lockfile, located at
/// its `[[package]]` block. With `--metadata` (`dep_kinds`), packages not
/// built for the platform are left out, and dev-only ones with
/// `exclude_dev`, as for advisories.
pub fn findings(
    audits: &[LockfileAudit<'_>],
    answers: IndexAnswers,
    severity: Severity,
    dep_kinds: &BTreeMap<usize, DependencyKinds>,
    exclude_dev: bool,
) -> YankedFindings {
    let mut out = YankedFindings {
        warnings: answers.warnings,
        ..YankedFindings::default()
    };
    let mut unlisted = BTreeSet::new();
    for (li, lf) in audits.iter().enumerate() {
        let first_of_lockfile = out.findings.len();
        for (pi, pkg) in lf.tree.packages.iter().enumerate() {
            if !is_crates_io(pkg) {
                continue;
            }
            let Some(index) = answers.crates.get(pkg.name()) else {
                continue;
            };
            let version = &pkg.version;
            match index.is_yanked(version) {
                Some(true) => {}
                Some(false) => continue,
                None => {
                    unlisted.insert(format!("{}@{version}", pkg.name()));
                    continue;
                }
            }
            let version_text = version.to_string();
            let mut dependency_kind = None;
            if let Some(kinds) = dep_kinds.get(&li) {
                match kinds.get(pkg.name(), &version_text) {
                    None => continue,
                    Some("dev") if exclude_dev => continue,
                    Some(k) => dependency_kind = Some(k.to_string()),
                }
            }
            let location = Location::lines(lf.rel_path.clone(), pkg.start_line, pkg.end_line);
            out.findings.push(Finding {
                kind: FindingKind::Yanked,
                rule_id: RULE_ID.to_string(),
                rule_title: RULE_TITLE.to_string(),
                severity,
                confidence: Confidence::High,
                location,
                excerpt: format!("{}@{version_text}", pkg.name()),
                fingerprint: fingerprint(&[RULE_ID, pkg.name(), &version_text, &lf.rel_path]),
                dependency: Some(DependencyInfo {
                    package: pkg.name().to_string(),
                    version: version_text.clone(),
                    aliases: Vec::new(),
                    fix: index.fix(version),
                    dependency_path: lf.tree.shortest_path(pi),
                    other_paths: lf.tree.path_count(pi).saturating_sub(1),
                    url: Some(format!(
                        "https://crates.io/crates/{}/{version_text}",
                        pkg.name()
                    )),
                    dependency_kind,
                    cvss: None,
                    date: None,
                }),
                secret: None,
                suppressed: None,
            });
        }
        let found = &mut out.findings[first_of_lockfile..];
        if !found.is_empty() {
            let lines: Vec<u32> = found.iter().map(|f| f.location.start_line).collect();
            let hashes = line_hashes_at(lf.content, &lines);
            for f in found {
                f.location.line_hash = hashes.get(&f.location.start_line).cloned();
            }
        }
    }
    if !unlisted.is_empty() {
        let list: Vec<String> = unlisted.into_iter().collect();
        out.warnings.push(format!(
            "--yanked: {} locked versions are not in the index (deleted from crates.io, or a stale mirror): {}",
            list.len(),
            list.join(", ")
        ));
    }
    if !out.findings.is_empty() {
        out.rule = Some(rule_info(&out.findings, severity));
    }
    out
}

const RULE_TITLE: &str = "Crate version yanked from crates.io";

/// The `yanked` rule, with help listing the yanked packages and what to do.
fn rule_info(findings: &[Finding], severity: Severity) -> RuleInfo {
    const WHY: &str = "The locked version of this crate was yanked from crates.io by its \
        authors: cargo no longer selects it for new lockfiles, usually because it is broken, \
        was published by mistake, or has a security problem.";
    let mut md = format!("**{RULE_ID}**: {RULE_TITLE}\n\n{WHY}\n\n");
    let lines = super::audit::path_lines(findings, |d| format!(" ({})", d.fix));
    let _ = writeln!(md, "**Yanked packages:**\n\n{}\n", lines.join("\n"));
    let _ = writeln!(
        md,
        "**To fix:** `cargo update -p NAME` picks the newest semver-compatible version; \
         otherwise raise the requirement in `Cargo.toml`. Yanked versions fail the run only \
         with `--deny yanked` (or `[deps] deny = [\"yanked\"]`).\n\n\
         **More:** <https://doc.rust-lang.org/cargo/commands/cargo-yank.html>"
    );
    RuleInfo {
        id: RULE_ID.to_string(),
        title: RULE_TITLE.to_string(),
        description: WHY.to_string(),
        help_text: format!(
            "{WHY} Run `cargo update -p NAME` for the newest semver-compatible version, or raise \
             the requirement in Cargo.toml. Fails the run only with --deny yanked."
        ),
        help_markdown: md,
        severity,
        confidence: Confidence::High,
        tags: vec![FindingKind::Yanked.to_string(), "dependency".to_string()],
        security_severity: None,
        help_uri: Some("https://doc.rust-lang.org/cargo/commands/cargo-yank.html".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_cargo_s_layout() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("serde"), "se/rd/serde");
        assert_eq!(index_path("Inflector"), "in/fl/inflector");
        assert_eq!(index_path("cc"), "2/cc");
        assert_eq!(index_path("Syn"), "3/s/syn");
    }

    #[test]
    fn the_index_url_keeps_one_slash_and_drops_sparse_plus() {
        let d = Duration::from_secs(1);
        let c = IndexClient::new("https://index.crates.io", d).unwrap();
        assert_eq!(c.url_of("serde"), "https://index.crates.io/se/rd/serde");
        let c = IndexClient::new("sparse+https://mirror.example/index/", d).unwrap();
        assert_eq!(c.url_of("ab"), "https://mirror.example/index/2/ab");
        let e = IndexClient::new("git://github.com/rust-lang/crates.io-index", d).unwrap_err();
        assert!(e.to_string().contains("not an http(s) URL"), "{e}");
    }

    const INDEX: &str = concat!(
        r#"{"name":"foo","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}"#,
        "\n",
        r#"{"name":"foo","vers":"1.1.0","deps":[],"cksum":"00","features":{},"yanked":true}"#,
        "\n",
        r#"{"name":"foo","vers":"1.2.0","deps":[],"cksum":"00","features":{},"yanked":false}"#,
        "\n",
        "not json\n",
        r#"{"name":"foo","vers":"2.0.0","deps":[],"cksum":"00","features":{},"yanked":false,"v":2}"#,
        "\n",
        r#"{"name":"foo","vers":"3.0.0-rc.1","deps":[],"cksum":"00","features":{},"yanked":false}"#,
        "\n",
        r#"{"name":"foo","vers":"3.0.0","deps":[],"cksum":"00","features":{},"yanked":true}"#,
        "\n",
    );

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn index_lines_give_each_version_s_yanked_flag() {
        let c = CrateVersions::parse(INDEX).unwrap();
        assert_eq!(c.is_yanked(&v("1.0.0")), Some(false));
        assert_eq!(c.is_yanked(&v("1.1.0")), Some(true));
        assert_eq!(c.is_yanked(&v("3.0.0")), Some(true));
        assert_eq!(c.is_yanked(&v("1.3.0")), None, "not published");
        assert!(CrateVersions::parse("<html>log in</html>\n").is_none());
        assert!(CrateVersions::parse("").is_none());
    }

    #[test]
    fn the_fix_names_the_newest_and_the_compatible_unyanked_versions() {
        let c = CrateVersions::parse(INDEX).unwrap();
        assert_eq!(
            c.fix(&v("1.1.0")),
            "upgrade to a non-yanked version (newest: 2.0.0; semver-compatible: 1.2.0)"
        );
        // 3.0.0 is yanked and only a pre-release of it is left: the newest
        // stable version is lower.
        assert_eq!(
            c.fix(&v("3.0.0")),
            "downgrade to a non-yanked version (newest: 2.0.0)"
        );
        let all_yanked = CrateVersions::parse(
            "{\"vers\":\"0.1.0\",\"yanked\":true}\n{\"vers\":\"0.2.0\",\"yanked\":true}\n",
        )
        .unwrap();
        assert!(all_yanked.fix(&v("0.1.0")).contains("replace it"));
    }
}

/// Resolves each host once per run. ureq asks its resolver before every
/// request, even one that reuses a pooled connection: hundreds of lookups
/// of the same name, and on a network that drops the odd DNS packet, a
/// five-second resolver retry now and then.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    known: std::sync::Mutex<HashMap<String, ureq::unversioned::resolver::ResolvedSocketAddrs>>,
}

impl ureq::unversioned::resolver::Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{:?}://{:?}", uri.scheme_str(), uri.authority());
        let cached = self.known.lock().ok().and_then(|k| k.get(&key).cloned());
        if let Some(addrs) = cached {
            return Ok(addrs);
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if let Ok(mut k) = self.known.lock() {
            k.insert(key, addrs.clone());
        }
        Ok(addrs)
    }
}
