//! Secret-detection rules: the TOML format, strict loading, the built-in catalog.
//!
//! A rule file holds `[[rule]]` tables (see README). Loading is strict: an
//! unknown key, a regex that does not compile, a rule without keywords, a
//! keyword that no example match contains, a duplicate id or an unknown
//! validator is a [`Problem`] naming the file, the rule and what is wrong.
//! Whether the examples match is checked by running them through the
//! engine (`Engine::check_examples`), not here: this module compiles, the
//! engine decides.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::meta::Regex as MetaRegex;
use serde::Deserialize;

use crate::finding::{Confidence, Severity};
use crate::secrets::validators::Validator;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The compiled size a rule's regex may take. Generous for any sane token
/// pattern, small enough that a runaway `{1,10000}` is refused at load time
/// instead of eating memory on every file.
const REGEX_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// The lazy DFA's cache, per rule regex and thread. The generic rules'
/// names (`[\w.$@-]{0,48}?(?:secret|token|...)[\w.$@-]{0,48}`) make many
/// DFA states; with a 2 MiB cache, Rust code (where `token` and `_key` hit
/// everywhere) filled it over and over, and rebuilding cleared states took
/// a fifth of a scan. The cache grows only as states are built, so rules
/// with small automata never use more. Speed only: what matches is the same.
/// Larger caches gained little more and took peak memory on the crates
/// corpus past bench/secrets.sh's 100 MiB bar (12 MiB: 109 MiB).
const HYBRID_CACHE_CAPACITY: usize = 6 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFileToml {
    #[serde(default)]
    rule: Vec<RuleToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    id: String,
    title: String,
    description: String,
    severity: Severity,
    confidence: Confidence,
    #[serde(default)]
    keywords: Vec<String>,
    /// `"path"`: the keywords are looked for in the file's path, not its
    /// content (credential files known by name, such as Rails' master.key).
    keywords_in: Option<String>,
    /// For `keywords_in = "path"`: paths the rule must apply to.
    #[serde(default)]
    example_paths: Vec<String>,
    regex: String,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    validator: Option<String>,
    path: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    negative_examples: Vec<String>,
    #[serde(default)]
    allow: Option<AllowToml>,
    /// `"model"`: each match is scored by the decision stage
    /// ([`crate::secrets::decide`]) instead of being reported as found.
    decide: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowToml {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
}

/// A compiled allowlist: the rule's own `allow` table or one from the config.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    /// Matched against the secret.
    pub regexes: Vec<DeferredRegex>,
    /// Lowercased; a secret containing one is dropped.
    pub stopwords: Vec<String>,
    /// Globs on the relative path.
    pub paths: Option<GlobSet>,
}

impl AllowList {
    /// Compiles an allowlist; errors say which entry is wrong.
    pub fn compile(
        regexes: &[String],
        stopwords: &[String],
        paths: &[String],
    ) -> Result<AllowList, String> {
        AllowList::build(regexes, stopwords, paths, true)
    }

    /// As [`AllowList::compile`], but with `eager` off its regexes compile
    /// on first use (for built-ins, see [`RuleRegex`]).
    fn build(
        regexes: &[String],
        stopwords: &[String],
        paths: &[String],
        eager: bool,
    ) -> Result<AllowList, String> {
        let mut out = AllowList::default();
        for r in regexes {
            out.regexes
                .push(DeferredRegex::regex(r, eager).map_err(|e| format!("allow regex: {e}"))?);
        }
        out.stopwords = stopwords.iter().map(|s| s.to_ascii_lowercase()).collect();
        if !paths.is_empty() {
            let mut b = GlobSetBuilder::new();
            for p in paths {
                let g = Glob::new(p).map_err(|e| format!("allow path glob {p:?}: {e}"))?;
                b.add(g);
            }
            out.paths = Some(b.build().map_err(|e| format!("allow path globs: {e}"))?);
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.regexes.is_empty() && self.stopwords.is_empty() && self.paths.is_none()
    }

    /// Whether this list drops the secret `secret` found in `path`.
    /// `path` is `None` when checking a rule's examples, which have no path.
    pub fn allows(&self, path: Option<&str>, secret: &[u8]) -> bool {
        self.allowed_by(path, secret).is_some()
    }

    /// Which part of this list drops the secret (`paths`, `regexes` or
    /// `stopwords`), if one does: what a suppressed finding names.
    pub fn allowed_by(&self, path: Option<&str>, secret: &[u8]) -> Option<&'static str> {
        if let (Some(globs), Some(p)) = (&self.paths, path) {
            if globs.is_match(p) {
                return Some("paths");
            }
        }
        if self.regexes.iter().any(|r| r.is_match(secret)) {
            return Some("regexes");
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            if self
                .stopwords
                .iter()
                .any(|w| !w.is_empty() && contains(&lower, w.as_bytes()))
            {
                return Some("stopwords");
            }
        }
        None
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Lowercased ASCII literals.
    pub keywords: Vec<String>,
    /// The keywords select files by path, and the regex then runs over the
    /// whole file (`keywords_in = "path"`); else they are found in content.
    pub keywords_in_path: bool,
    pub example_paths: Vec<String>,
    pub regex: RuleRegex,
    /// `secret_group` as the rule file gives it; see [`Rule::secret_group`].
    pub explicit_secret_group: Option<usize>,
    pub entropy: Option<f64>,
    pub validator: Option<Validator>,
    pub path: Option<DeferredRegex>,
    pub references: Vec<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    pub allow: AllowList,
    /// The file the rule came from (a built-in's file name, or the user's path).
    pub source: String,
    /// The provider family: the rule file's stem (`github`, `aws`).
    pub family: String,
    /// Whether a match can span lines or run long (PEM blocks, keys in JSON
    /// strings): such rules get a larger window after each keyword hit.
    pub multiline: bool,
    /// Whether the decision stage scores each match (`decide = "model"`);
    /// the regex then captures the key's name in a group named `name`.
    pub decided_by_model: bool,
}

impl Rule {
    /// The capture group holding the secret: the rule's `secret_group`,
    /// else the first group, else (0) the whole match.
    pub fn secret_group(&self) -> usize {
        self.explicit_secret_group
            .unwrap_or_else(|| usize::from(self.regex.shape().groups >= 1))
    }

    /// The longest match the regex can make, in bytes, when it is bounded.
    /// A match holds a keyword, so it lies within this many bytes of the
    /// keyword hit on either side, and the rule's window need reach no
    /// further.
    pub fn max_match_len(&self) -> Option<usize> {
        self.regex.shape().max_len
    }

    /// Bytes one of which every match holds (see [`RegexShape`]).
    pub fn required_bytes(&self) -> Option<RequiredBytes> {
        self.regex.shape().required
    }

    /// Whether the rule's matches never span lines (see [`RegexShape`]).
    pub fn single_line(&self) -> bool {
        self.regex.shape().single_line
    }

    /// For a rule with `keywords_in = "path"`: whether `path` (relative, `/`
    /// separated) holds one of its keywords, ASCII case-insensitively.
    pub fn path_has_keyword(&self, path: &str) -> bool {
        // Called for every scanned file: compared in place, not lowercased
        // into a new string.
        self.keywords.iter().any(|k| {
            path.as_bytes()
                .windows(k.len())
                .any(|w| w.eq_ignore_ascii_case(k.as_bytes()))
        })
    }
}

/// A rule's regex, compiled on first use.
///
/// Compiling 400 regexes costs far more than a pre-commit scan of three
/// staged files, and most rules never see their keyword in a given run. So
/// built-in regexes, which the test suite compiles and checks example by
/// example, are compiled only when a keyword first selects them; user rules
/// and `tripline rules test` compile eagerly, so a bad user regex is still
/// an error at load time.
///
/// Its shape (capture groups, longest match) is learnt the same way: even
/// parsing every regex, without compiling it, cost a third of a one-file
/// scan.
#[derive(Debug, Clone)]
pub struct RuleRegex {
    regex: Deferred<MetaRegex>,
    shape: OnceLock<RegexShape>,
}

impl RuleRegex {
    fn new(source: &str, eager: bool) -> Result<RuleRegex, String> {
        let regex = Deferred::new(source, eager, compile_rule_regex)?;
        let shape = if eager {
            OnceLock::from(regex_shape(source)?)
        } else {
            OnceLock::new()
        };
        Ok(RuleRegex { regex, shape })
    }

    /// What a parse tells of the regex; for a built-in that fails to parse
    /// (which the test suite rules out), no groups and no bound.
    pub fn shape(&self) -> RegexShape {
        *self.shape.get_or_init(|| {
            regex_shape(self.as_str()).unwrap_or(RegexShape {
                groups: 0,
                max_len: None,
                single_line: false,
                required: None,
            })
        })
    }

    /// The compiled regex; `None` only for a built-in that fails to compile,
    /// which the test suite rules out.
    pub fn get(&self) -> Option<&MetaRegex> {
        self.regex.get()
    }

    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }
}

/// A regex kept as its source and compiled on first use when deferred, at
/// once when eager (so a bad regex in user input is an error at load time).
/// Built-ins defer: compiling them all cost more than a pre-commit scan.
#[derive(Debug, Clone)]
pub struct Deferred<R> {
    source: String,
    compiled: OnceLock<Option<R>>,
    compile: fn(&str) -> Result<R, String>,
}

impl<R> Deferred<R> {
    fn new(
        source: &str,
        eager: bool,
        compile: fn(&str) -> Result<R, String>,
    ) -> Result<Deferred<R>, String> {
        let compiled = if eager {
            OnceLock::from(Some(compile(source)?))
        } else {
            OnceLock::new()
        };
        Ok(Deferred {
            source: source.to_string(),
            compiled,
            compile,
        })
    }

    /// The compiled regex; `None` only for a built-in that fails to compile,
    /// which the test suite rules out.
    pub fn get(&self) -> Option<&R> {
        self.compiled
            .get_or_init(|| (self.compile)(&self.source).ok())
            .as_ref()
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// A regex on secrets or paths (a rule's `allow.regexes` and `path`),
/// compiled as [`compile_regex`] compiles.
pub type DeferredRegex = Deferred<Regex>;

impl DeferredRegex {
    fn regex(source: &str, eager: bool) -> Result<DeferredRegex, String> {
        Deferred::new(source, eager, compile_regex)
    }

    /// Whether it matches `haystack`; never, for a built-in that fails to
    /// compile.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.get().is_some_and(|re| re.is_match(haystack))
    }
}

/// What a parse of a regex alone tells (no automaton is built).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegexShape {
    /// Explicit capture groups, for the `secret_group` default.
    pub groups: usize,
    /// The longest match it can make, in bytes, when bounded.
    pub max_len: Option<usize>,
    /// Whether no match can hold a line feed: a match then lies on the
    /// line of the keyword it contains, and the engine searches that line
    /// only.
    pub single_line: bool,
    /// Up to three punctuation bytes of which every match holds at least
    /// one (the quote before a quoted value): a window without any of
    /// them cannot match, and a `memchr3` says so faster than the regex.
    pub required: Option<RequiredBytes>,
}

/// One to three bytes, at least one of which occurs in every match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequiredBytes {
    bytes: [u8; 3],
}

impl RequiredBytes {
    /// Whether `haystack` holds one of the bytes.
    pub fn any_in(&self, haystack: &[u8]) -> bool {
        let [a, b, c] = self.bytes;
        memchr::memchr3(a, b, c, haystack).is_some()
    }
}

pub(crate) fn regex_shape(source: &str) -> Result<RegexShape, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(source)
        .map(|hir| RegexShape {
            groups: hir.properties().explicit_captures_len(),
            max_len: hir.properties().maximum_len(),
            single_line: !can_match_byte(&hir, b'\n'),
            required: required_bytes(&hir).and_then(|set| {
                // Padded with a repeat of the first: memchr3 wants three.
                let mut bytes = [*set.first()?; 3];
                bytes[..set.len()].copy_from_slice(&set);
                Some(RequiredBytes { bytes })
            }),
        })
        .map_err(|e| format!("regex does not compile: {e}"))
}

/// Whether some match of `hir` can hold the byte `b` (conservatively: a
/// class or literal anywhere in it that holds `b` counts).
fn can_match_byte(hir: &regex_syntax::hir::Hir, b: u8) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(lit) => lit.0.contains(&b),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&b)),
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&char::from(b))),
        HirKind::Repetition(r) => r.max != Some(0) && can_match_byte(&r.sub, b),
        HirKind::Capture(c) => can_match_byte(&c.sub, b),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().any(|h| can_match_byte(h, b))
        }
    }
}

/// A set of at most three bytes, none a letter or digit, at least one of
/// which every match of `hir` holds; `None` when no such set is known.
/// Letters and digits are left out because a rule's keyword (always in the
/// window) is made of them: such a set would rule nothing out.
fn required_bytes(hir: &regex_syntax::hir::Hir) -> Option<Vec<u8>> {
    use regex_syntax::hir::{Class, HirKind};
    let usable = |set: Vec<u8>| {
        (!set.is_empty() && set.len() <= 3 && !set.iter().any(u8::is_ascii_alphanumeric))
            .then_some(set)
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(lit) => lit
            .0
            .iter()
            .find(|b| !b.is_ascii_alphanumeric())
            .map(|&b| vec![b]),
        HirKind::Class(Class::Bytes(c)) => {
            let size: usize = c
                .ranges()
                .iter()
                .map(|r| usize::from(r.end() - r.start()) + 1)
                .sum();
            if size > 3 {
                return None;
            }
            usable(
                c.ranges()
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .collect(),
            )
        }
        HirKind::Class(Class::Unicode(c)) => {
            let size: u32 = c
                .ranges()
                .iter()
                .map(|r| u32::from(r.end()) - u32::from(r.start()) + 1)
                .sum();
            if size > 3 || c.ranges().iter().any(|r| !r.end().is_ascii()) {
                return None;
            }
            usable(
                c.ranges()
                    .iter()
                    .flat_map(|r| u32::from(r.start())..=u32::from(r.end()))
                    .filter_map(|b| u8::try_from(b).ok())
                    .collect(),
            )
        }
        HirKind::Repetition(r) if r.min >= 1 => required_bytes(&r.sub),
        HirKind::Repetition(_) => None,
        HirKind::Capture(c) => required_bytes(&c.sub),
        // Any one part's set will do: the smallest.
        HirKind::Concat(subs) => subs.iter().filter_map(required_bytes).min_by_key(Vec::len),
        // Every branch needs a set; the union must still be small.
        HirKind::Alternation(subs) => {
            let mut union = Vec::new();
            for sub in subs {
                union.extend(required_bytes(sub)?);
            }
            union.sort_unstable();
            union.dedup();
            usable(union)
        }
    }
}

/// What is wrong with one rule or rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub rule: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(r) => write!(f, "{}: rule {}: {}", self.file, r, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Every rule in force, compiled.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Ids of the rules that came from user files: their examples are
    /// checked at every load, the built-ins' by the test suite.
    pub user_ids: Vec<String>,
}

impl RuleSet {
    /// The built-in rules, plus the rule files or folders in `extra` (a rule
    /// with a built-in id replaces it), less the `disabled` ids. Any problem
    /// in a rule, including a user rule's failing example, is an error
    /// listing every problem found.
    pub fn load(extra: &[PathBuf], disabled: &[String]) -> anyhow::Result<RuleSet> {
        let (set, problems) = RuleSet::load_checked(extra, disabled, false)?;
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            anyhow::bail!("invalid rules:\n{}", list.join("\n"));
        }
        Ok(set)
    }

    /// Loads like [`RuleSet::load`] but returns the problems instead of
    /// failing on them, for `tripline rules test`. `all_examples` checks the
    /// built-ins' examples too. The rules that have problems are left out of
    /// the set. Only an unreadable `extra` path is an `Err`.
    pub fn load_checked(
        extra: &[PathBuf],
        disabled: &[String],
        all_examples: bool,
    ) -> anyhow::Result<(RuleSet, Vec<Problem>)> {
        let mut problems = Vec::new();
        let mut rules: Vec<Rule> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (name, text) in BUILTIN_RULES {
            for r in parse_file(name, family_of(name), text, all_examples, &mut problems) {
                if index.contains_key(&r.id) {
                    problems.push(Problem {
                        file: r.source.clone(),
                        rule: Some(r.id.clone()),
                        message: "duplicate rule id".into(),
                    });
                    continue;
                }
                index.insert(r.id.clone(), rules.len());
                rules.push(r);
            }
        }
        let builtin_count = rules.len();
        let mut user_ids: Vec<String> = Vec::new();
        for p in extra {
            for file in rule_files(p)? {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read rule file {}", file.display()))?;
                let shown = file.display().to_string();
                let family = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                for r in parse_file(&shown, &family, &text, true, &mut problems) {
                    if user_ids.contains(&r.id) {
                        problems.push(Problem {
                            file: r.source.clone(),
                            rule: Some(r.id.clone()),
                            message: "duplicate rule id (already defined in another user rule)"
                                .into(),
                        });
                        continue;
                    }
                    user_ids.push(r.id.clone());
                    match index.get(&r.id) {
                        Some(&i) if i < builtin_count => rules[i] = r,
                        Some(_) => problems.push(Problem {
                            file: r.source.clone(),
                            rule: Some(r.id.clone()),
                            message: "duplicate rule id".into(),
                        }),
                        None => {
                            index.insert(r.id.clone(), rules.len());
                            rules.push(r);
                        }
                    }
                }
            }
        }
        rules.retain(|r| !disabled.iter().any(|d| d == &r.id));
        let mut set = RuleSet { rules, user_ids };
        set.drop_failing_examples(all_examples, &mut problems);
        Ok((set, problems))
    }

    /// One user rule file's text, loaded as [`RuleSet::load_checked`] loads
    /// a file given with `--rules` (parsed, compiled eagerly, its examples
    /// run through the engine), without the built-ins and without reading
    /// a file: the entry point of the `rules_load` fuzz target.
    #[doc(hidden)]
    pub fn load_user_text(file: &str, text: &str) -> (RuleSet, Vec<Problem>) {
        let mut problems = Vec::new();
        let rules = parse_file(file, family_of(file), text, true, &mut problems);
        let user_ids = rules.iter().map(|r| r.id.clone()).collect();
        let mut set = RuleSet { rules, user_ids };
        set.drop_failing_examples(false, &mut problems);
        (set, problems)
    }

    /// Runs the examples of the user rules (of every rule with
    /// `all_examples`) through the engine and leaves out the rules that fail.
    fn drop_failing_examples(&mut self, all_examples: bool, problems: &mut Vec<Problem>) {
        let wanted: Vec<usize> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| all_examples || self.user_ids.contains(&r.id))
            .map(|(i, _)| i)
            .collect();
        let mut bad_ids: Vec<String> = Vec::new();
        for p in crate::secrets::engine::check_examples(self, &wanted) {
            if let Some(id) = &p.rule {
                bad_ids.push(id.clone());
            }
            problems.push(p);
        }
        self.rules.retain(|r| !bad_ids.contains(&r.id));
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The provider family of a built-in file: its stem (`github.toml` → `github`).
fn family_of(name: &str) -> &str {
    name.strip_suffix(".toml").unwrap_or(name)
}

/// The rule files named by a `--rules` argument: the file itself, or the
/// `*.toml` files directly inside a folder, sorted by name.
fn rule_files(p: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let meta =
        std::fs::metadata(p).with_context(|| format!("cannot read rule path {}", p.display()))?;
    if !meta.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut files = Vec::new();
    for e in std::fs::read_dir(p).with_context(|| format!("cannot list {}", p.display()))? {
        let e = e.with_context(|| format!("cannot list {}", p.display()))?;
        let path = e.path();
        if path.extension().is_some_and(|x| x == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// A regex as every rule regex is compiled: on bytes, with Unicode classes
/// off, so `\w`, `\d`, `\s` and `\b` are ASCII and `.` is any byte but a
/// newline. Tokens are ASCII; the ASCII forms compile an order of magnitude
/// faster and smaller than their Unicode tables, match faster, and behave
/// the same on files that are not UTF-8. A rule that wants Unicode says
/// `(?u)`. With a size limit, so a runaway pattern is refused at load time.
pub fn compile_regex(source: &str) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => too_large(limit),
            other => format!("regex does not compile: {other}"),
        })
}

fn too_large(limit: usize) -> String {
    format!(
        "regex is too large once compiled (over {limit} bytes): \
         bound its repetitions or split the rule"
    )
}

/// A rule's regex, compiled as [`compile_regex`] compiles (bytes, ASCII
/// classes, the same size limits) but as the engine underneath `regex`, for
/// the one thing its wrapper does not offer: a search bounded to a window
/// whose look-arounds still see the bytes around it. So `$` or `\b` never
/// match at a window's edge that is not a boundary in the file, and windows
/// can be cut as tight as a rule's longest match.
pub fn compile_rule_regex(source: &str) -> Result<MetaRegex, String> {
    let syntax = regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false);
    let config = MetaRegex::config()
        .utf8_empty(false)
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(HYBRID_CACHE_CAPACITY);
    MetaRegex::builder()
        .syntax(syntax)
        .configure(config)
        .build(source)
        .map_err(|e| match e.size_limit() {
            Some(limit) => too_large(limit),
            None => format!("regex does not compile: {e}"),
        })
}

/// Whether a regex's source writes `\n` other than inside a negated class:
/// `[^\n]{0,80}` keeps a match on one line, `(?:\\n|\s)` lets it cross
/// lines. The text is read, not the compiled regex, because `\s*` can
/// match a line feed too, yet a rule written with it still means one line;
/// what marks a rule as multi-line is that its author wrote a line feed.
fn names_a_line_feed(regex: &str) -> bool {
    let bytes = regex.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b'n') => return true,
            // Any other escape, `\]` included, is one unit.
            b'\\' => i += 2,
            b'[' if bytes.get(i + 1) == Some(&b'^') => {
                // Skip to the class's closing bracket: a `]` first in the
                // class is a member, and escapes are passed over.
                i += 2;
                if bytes.get(i) == Some(&b']') {
                    i += 1;
                }
                while i < bytes.len() && bytes[i] != b']' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    false
}

/// Parses and compiles one rule file. Problems go to `problems`; the rules
/// that compiled are returned.
fn parse_file(
    file: &str,
    family: &str,
    text: &str,
    eager: bool,
    problems: &mut Vec<Problem>,
) -> Vec<Rule> {
    let problem = |rule: Option<String>, message: String| Problem {
        file: file.to_string(),
        rule,
        message,
    };
    // Parsed in two steps, the file then each rule, so that an error in
    // one rule (an unknown key, a wrong type) names that rule and does not
    // hide the others.
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            problems.push(problem(
                None,
                format!(
                    "invalid rule file: {}",
                    crate::config::describe_toml_error(text, &e)
                ),
            ));
            return Vec::new();
        }
    };
    let mut rule_tables = Vec::new();
    for (key, value) in table {
        match (key.as_str(), value) {
            ("rule", toml::Value::Array(items)) => rule_tables = items,
            ("rule", _) => problems.push(problem(
                None,
                "`rule` must be an array of tables ([[rule]])".into(),
            )),
            (other, _) => problems.push(problem(
                None,
                format!("unknown top-level key `{other}` (a rule file holds only [[rule]] tables)"),
            )),
        }
    }
    let mut parsed = RuleFileToml { rule: Vec::new() };
    for (n, item) in rule_tables.into_iter().enumerate() {
        let id = item
            .get("id")
            .and_then(toml::Value::as_str)
            .map_or_else(|| format!("#{} (no id)", n + 1), str::to_string);
        match RuleToml::deserialize(item) {
            Ok(r) => parsed.rule.push(r),
            Err(e) => problems.push(problem(Some(id), e.to_string().trim_end().to_string())),
        }
    }
    let mut out: Vec<Rule> = Vec::new();
    for t in parsed.rule {
        let id = t.id.clone();
        match compile_rule(t, file, family, eager) {
            Ok(r) => {
                if out.iter().any(|o| o.id == r.id) {
                    problems.push(Problem {
                        file: file.to_string(),
                        rule: Some(id),
                        message: "duplicate rule id".into(),
                    });
                } else {
                    out.push(r);
                }
            }
            Err(msgs) => problems.extend(msgs.into_iter().map(|m| Problem {
                file: file.to_string(),
                rule: Some(id.clone()),
                message: m,
            })),
        }
    }
    out
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn compile_rule(t: RuleToml, file: &str, family: &str, eager: bool) -> Result<Rule, Vec<String>> {
    let mut errs = Vec::new();
    if !is_kebab_case(&t.id) {
        errs.push("id must be kebab-case (a-z, 0-9, single dashes)".to_string());
    }
    if t.title.trim().is_empty() {
        errs.push("title is empty".into());
    }
    if t.keywords.is_empty() {
        errs.push("no keywords: at least one is needed for the prefilter".into());
    }
    for k in &t.keywords {
        if k.is_empty() {
            errs.push("empty keyword".into());
        } else if !k.is_ascii() {
            errs.push(format!("keyword {k:?} is not ASCII"));
        }
    }
    if t.examples.is_empty() {
        errs.push("no examples: at least one string the rule must find is needed".into());
    }
    let keywords_in_path = match t.keywords_in.as_deref() {
        None | Some("content") => false,
        Some("path") => true,
        Some(other) => {
            errs.push(format!(
                "keywords_in = {other:?}: expected \"content\" or \"path\""
            ));
            false
        }
    };
    if keywords_in_path {
        if t.path.is_none() {
            errs.push("keywords_in = \"path\" needs a `path` regex".into());
        }
        if t.example_paths.is_empty() {
            errs.push(
                "keywords_in = \"path\" needs example_paths: paths the rule applies to".into(),
            );
        }
    } else if !t.example_paths.is_empty() {
        errs.push("example_paths is only for keywords_in = \"path\"".into());
    }
    let decided_by_model = match t.decide.as_deref() {
        None => false,
        Some("model") => true,
        Some(other) => {
            errs.push(format!("decide = {other:?}: expected \"model\""));
            false
        }
    };
    if let Some(e) = t.entropy {
        if !(0.0..=8.0).contains(&e) {
            errs.push(format!("entropy {e} is outside 0..=8 bits per byte"));
        }
    }
    let regex = match RuleRegex::new(&t.regex, eager) {
        Ok(r) => Some(r),
        Err(e) => {
            errs.push(e);
            None
        }
    };
    // Deferred (built-in) regexes are checked by the test suite, which
    // loads them eagerly.
    if let (Some(r), Some(g)) = (regex.as_ref().filter(|_| eager), t.secret_group) {
        let groups = r.shape().groups;
        if g > groups {
            errs.push(format!(
                "secret_group {g} does not exist (the regex has {groups} groups)"
            ));
        }
    }
    let validator = match t.validator.as_deref().map(Validator::from_name) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            errs.push(e);
            None
        }
    };
    let path = match t.path.as_deref().map(|p| DeferredRegex::regex(p, eager)) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            errs.push(format!("path: {e}"));
            None
        }
    };
    let allow_t = t.allow.unwrap_or_default();
    let allow = match AllowList::build(&allow_t.regexes, &allow_t.stopwords, &allow_t.paths, eager)
    {
        Ok(a) => a,
        Err(e) => {
            errs.push(e);
            AllowList::default()
        }
    };
    let Some(regex) = regex else {
        return Err(errs);
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    let multiline = names_a_line_feed(&t.regex)
        || t.regex.contains("(?s")
        || t.regex.contains("(?ms")
        || t.regex.contains("PRIVATE KEY");
    let mut keywords: Vec<String> = t.keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
    keywords.dedup();
    Ok(Rule {
        id: t.id,
        title: t.title,
        description: t.description,
        severity: t.severity,
        confidence: t.confidence,
        keywords,
        keywords_in_path,
        example_paths: t.example_paths,
        regex,
        explicit_secret_group: t.secret_group,
        entropy: t.entropy,
        validator,
        path,
        references: t.references,
        examples: t.examples,
        negative_examples: t.negative_examples,
        allow,
        source: file.to_string(),
        family: family.to_string(),
        multiline,
        decided_by_model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_line_feed_outside_a_negated_class_marks_a_rule_multi_line() {
        assert!(names_a_line_feed(r"kind: Secret\n(?:[^\n]*\n){0,30}"));
        assert!(names_a_line_feed(r"BEGIN(?:\n|\s)+END"));
        assert!(names_a_line_feed(r"[\n ]+x"));
        assert!(!names_a_line_feed(r"(?i:ably)[^\n]{0,80}?\b(key)"));
        assert!(!names_a_line_feed(r"=[^;'\n]*;(?:[^;\n]*;){0,12}"));
        // An escaped bracket does not end the class; a leading `]` is a member.
        assert!(!names_a_line_feed(r"[^\]\n]x"));
        assert!(!names_a_line_feed(r"[^]\n]x"));
        // `\\n` is a backslash and an `n`, not a line feed.
        assert!(!names_a_line_feed(r"a\\nb"));
        assert!(!names_a_line_feed(r"\s*=\s*(\w+)"));
    }
}
