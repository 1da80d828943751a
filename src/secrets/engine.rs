//! The secrets engine: one keyword pass, then the candidate rules' regexes.
//!
//! Per file, a single Aho-Corasick pass ([`super::keywords`], ASCII
//! case-insensitive) over every rule's keywords is the only full pass over
//! the bytes. Each keyword hit opens, for each rule owning the keyword, a
//! window of a bounded number of bytes around it: the rule's longest
//! possible match when its regex bounds it, else a fixed reach (larger for
//! multi-line rules such as PEM blocks).
//! So a minified one-line file costs the same as short lines. Each rule
//! runs its regex only over its merged windows, and the search, though
//! bounded to a window, sees the bytes around it for `\b` and `$`. So the
//! cost follows the number of hits, not the size of the catalog.
//!
//! Each regex match then goes through the same gauntlet, in order: secret
//! extraction (`secret_group`), entropy floor, the universal placeholder
//! filter, the rule's `allow`, the config's allowlists, inline suppression
//! on the line, and the rule's validator. `tripline rules test` runs the
//! rules' examples through this very path ([`check_examples`]).
//!
//! What a user can write to silence a finding (an inline comment, the
//! config's allowlists, the `allow` table of a user rule file) does not drop
//! it: the finding comes out marked [`Suppression`], so that reports keep a
//! trace of every bypass. Only the built-in rules' own `allow` tables, which
//! are part of what a rule detects, drop a match outright.
//!
//! This module does not walk trees, read files or compute line hashes.

use std::collections::HashMap;

use regex::bytes::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::Input;

use crate::config::Config;
use crate::finding::{
    fingerprint, Confidence, Finding, FindingKind, Location, RuleInfo, SecretValue, Suppression,
    SuppressionMechanism,
};
use crate::secrets::decide::{self, Model, FEATURE_COUNT};
use crate::secrets::entropy;
use crate::secrets::keywords::Keywords;
use crate::secrets::rules::{AllowList, Problem, Rule, RuleSet};
use crate::source::utf16_encoding;

/// How far a rule's window reaches before a keyword hit and after it. A
/// match must contain one of its rule's keywords (the loader checks this on
/// the examples), so a window around each hit holds every match that is at
/// most this long on either side of its keyword. Bounded in bytes, not
/// lines, so a minified one-line file costs what short lines cost.
const BACK_REACH: usize = 320;
const FORWARD_REACH: usize = 1024;
/// Window of multi-line or long rules (PEM, PGP armour, keys in JSON) on
/// both sides: a 4096-bit RSA key is about 3.3 KB, PGP blocks are larger.
const MULTILINE_REACH: usize = 64 * 1024;
/// How far around a match inline suppression comments are looked for.
const SUPPRESS_REACH: usize = 4096;

/// Why a regex match was not reported (for `rules test` messages).
type Drop = &'static str;

/// A rule that owns a keyword, and its window around each hit of it.
#[derive(Debug, Clone, Copy)]
struct Owner {
    rule: usize,
    keyword_len: usize,
}

impl Owner {
    /// How far the rule's window reaches before the hit's start and after
    /// its end. Worked out per hit, not when the engine is built: the
    /// bound comes from parsing the rule's regex, which waits until a
    /// keyword first selects the rule (see `RuleRegex`).
    fn reach(&self, rule: &Rule) -> (usize, usize) {
        let (back, forward) = if rule.multiline {
            (MULTILINE_REACH, MULTILINE_REACH)
        } else {
            (BACK_REACH, FORWARD_REACH)
        };
        // A match holds the keyword, so when the regex bounds its length
        // the match ends within that length of the hit's start and begins
        // within it of the hit's end. Bounded rules (most provider tokens)
        // thus get windows of a few dozen bytes, which keeps the windows
        // of a frequent keyword (`token`, `yc`) from merging into most of
        // a file.
        let bound = rule
            .max_match_len()
            .map_or(usize::MAX, |l| l.saturating_sub(self.keyword_len));
        (back.min(bound), forward.min(bound))
    }
}

/// One reported match, before it becomes a [`Finding`].
#[derive(Debug, Clone)]
struct Candidate {
    rule: usize,
    /// The whole regex match.
    match_start: usize,
    match_end: usize,
    /// The secret inside it.
    start: usize,
    end: usize,
    confidence: Confidence,
    /// For a rule decided by the model: the score, and (when the engine
    /// keeps undecided candidates, for training) the features.
    score: Option<f64>,
    features: Option<Box<[f32; FEATURE_COUNT]>>,
    /// Set when an allowlist or an inline comment silences the match.
    suppressed: Option<Suppression>,
}

/// A candidate of a model-decided rule with its features and score, for
/// the training dump (`examples/dump_candidates.rs`).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct DumpedCandidate {
    pub rule_id: String,
    pub start_line: u32,
    pub end_line: u32,
    pub score: f64,
    pub features: [f32; FEATURE_COUNT],
}

/// A compiled rule set plus the config's allowlists, shared by all threads.
pub struct Engine {
    rules: Vec<Rule>,
    /// All rules' keywords; `None` when there are no rules.
    keywords: Option<Keywords>,
    /// For each keyword pattern, the rules that own it and how far each
    /// one's window reaches around a hit.
    owners: Vec<Vec<Owner>>,
    /// Rules whose keywords select files by path (`keywords_in = "path"`):
    /// they run over the whole of a file whose path holds a keyword.
    path_rules: Vec<usize>,
    global_allow: AllowList,
    rule_allow: HashMap<String, AllowList>,
    /// How suppressions name the config file (`tripline.toml`,
    /// `origin/main:tripline.toml`).
    config_name: String,
    /// For each rule, whether it came from a user rule file: its `allow`
    /// table is then a user's suppression, reported as such.
    user_rule: Vec<bool>,
    placeholders: Placeholders,
    /// The decision stage, when some rule is decided by it.
    model: Option<Model>,
    /// Keep every candidate of a model-decided rule, whatever its score
    /// (for the training dump only).
    keep_undecided: bool,
}

impl Engine {
    pub fn new(rules: RuleSet, config: &Config) -> anyhow::Result<Engine> {
        let user_rule = rules
            .rules
            .iter()
            .map(|r| rules.user_ids.contains(&r.id))
            .collect();
        let rules = rules.rules;
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut by_keyword: HashMap<String, usize> = HashMap::new();
        let mut path_rules = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.keywords_in_path {
                path_rules.push(i);
                continue;
            }
            for k in &r.keywords {
                let p = *by_keyword.entry(k.clone()).or_insert_with(|| {
                    patterns.push(k.clone());
                    owners.push(Vec::new());
                    patterns.len() - 1
                });
                if !owners[p].iter().any(|o| o.rule == i) {
                    owners[p].push(Owner {
                        rule: i,
                        keyword_len: k.len(),
                    });
                }
            }
        }
        let keywords = if patterns.is_empty() {
            None
        } else {
            Some(Keywords::new(&patterns)?)
        };
        let a = &config.allowlist;
        let global_allow = AllowList::compile(&a.regexes, &a.stopwords, &a.paths)
            .map_err(|e| anyhow::anyhow!("config [allowlist]: {e}"))?;
        let mut rule_allow = HashMap::new();
        for (id, a) in &config.rules.allow {
            let list = AllowList::compile(&a.regexes, &a.stopwords, &a.paths)
                .map_err(|e| anyhow::anyhow!("config [rules.allow.{id}]: {e}"))?;
            rule_allow.insert(id.clone(), list);
        }
        let model = if rules.iter().any(|r| r.decided_by_model) {
            Some(
                Model::builtin()
                    .map_err(|e| anyhow::anyhow!("the built-in decision model: {e}"))?,
            )
        } else {
            None
        };
        Ok(Engine {
            model,
            keep_undecided: false,
            rules,
            keywords,
            owners,
            path_rules,
            global_allow,
            rule_allow,
            config_name: config.name(),
            user_rule,
            placeholders: Placeholders::new(),
        })
    }

    /// Findings in one file. `path` is relative to the scan root with `/`
    /// separators. Locations carry lines and UTF-16 columns; `line_hash` is
    /// left to the caller, which holds the content.
    ///
    /// A UTF-16 file (with a byte order mark, or recognisably UTF-16
    /// without one) is decoded first, and its positions then refer to the
    /// decoded text (which, being UTF-16, is exactly what an editor shows
    /// in UTF-16 columns).
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<Finding> {
        let decoded;
        let content = match decode_utf16(content) {
            Some(text) => {
                decoded = text;
                decoded.as_bytes()
            }
            None => content,
        };
        let candidates = self.candidates(Some(path), content, None);
        if candidates.is_empty() {
            return Vec::new();
        }
        let pos = Positions::new(content, candidates.iter().flat_map(|c| [c.start, c.end]));
        let mut out = Vec::with_capacity(candidates.len());
        for c in candidates {
            let rule = &self.rules[c.rule];
            let (start_line, start_column) = pos.at(c.start);
            let (end_line, end_column) = pos.at(c.end);
            let secret = SecretValue::new(String::from_utf8_lossy(&content[c.start..c.end]));
            out.push(Finding {
                kind: FindingKind::Secret,
                rule_id: rule.id.clone(),
                rule_title: rule.title.clone(),
                severity: rule.severity,
                confidence: c.confidence,
                location: Location {
                    path: path.to_string(),
                    start_line,
                    start_column,
                    end_line,
                    end_column,
                    line_hash: None,
                    commit: None,
                    blob: None,
                },
                excerpt: secret.masked(),
                fingerprint: fingerprint(&[&rule.id, path, secret.expose()]),
                dependency: None,
                secret: Some(secret),
                suppressed: c.suppressed,
            });
        }
        out
    }

    /// Candidates of the model-decided rules in one file, each with its
    /// features and score, reported or not: the training data's rows.
    #[doc(hidden)]
    pub fn dump_candidates(&mut self, path: &str, content: &[u8]) -> Vec<DumpedCandidate> {
        self.keep_undecided = true;
        let found = self.candidates(Some(path), content, None);
        self.keep_undecided = false;
        let pos = Positions::new(content, found.iter().flat_map(|c| [c.start, c.end]));
        found
            .into_iter()
            .filter_map(|c| {
                let features = *c.features?;
                Some(DumpedCandidate {
                    rule_id: self.rules[c.rule].id.clone(),
                    start_line: pos.at(c.start).0,
                    end_line: pos.at(c.end).0,
                    score: c.score.unwrap_or(0.0),
                    features,
                })
            })
            .collect()
    }

    /// The description of a rule, for reports.
    pub fn rule_info(&self, id: &str) -> Option<RuleInfo> {
        let r = self.rules.iter().find(|r| r.id == id)?;
        Some(rule_info(r))
    }

    /// The rules in force, in catalog order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How often each keyword occurs in `content`, and how many rules own
    /// it: for the benchmark, to see which keywords make the regexes run.
    #[doc(hidden)]
    pub fn keyword_hits(&self, content: &[u8]) -> Vec<(String, usize, usize)> {
        let Some(keywords) = &self.keywords else {
            return Vec::new();
        };
        let mut counts = vec![0usize; self.owners.len()];
        keywords.for_each_hit(content, |hit| counts[hit.keyword] += 1);
        keywords
            .keywords()
            .iter()
            .zip(counts)
            .zip(&self.owners)
            .map(|((k, c), owners)| (k.clone(), c, owners.len()))
            .collect()
    }

    /// Every reported match in `content`, sorted by position, deduplicated.
    /// `path` is `None` for rule examples (path filters then do not apply);
    /// `only` restricts the run to one rule (still through the keyword pass).
    fn candidates(
        &self,
        path: Option<&str>,
        content: &[u8],
        only: Option<usize>,
    ) -> Vec<Candidate> {
        let mut found: Vec<Candidate> = Vec::new();
        for &r in &self.path_rules {
            if only.is_some_and(|o| o != r) {
                continue;
            }
            // Rule examples have no path: the rule runs on them as on a
            // file it selected.
            if path.is_none_or(|p| self.rules[r].path_has_keyword(p) && self.admits(r, p)) {
                self.run_rule(r, path, content, 0, content.len(), &mut found);
            }
        }
        let Some(keywords) = &self.keywords else {
            return dedupe(&self.rules, found);
        };
        // (rule, window start, window end) for every keyword hit and rule
        // owning the keyword. Keyed by rule, so a rule whose keywords hit
        // close together (`secret`, `secret_key`) runs once over the union.
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        // Whether this file is one that each rule with a `path` applies
        // to: asked once per file and rule, and only of a rule that a
        // keyword wakes. Asked before its windows are opened, because its
        // keywords are common words (`token` in a Rust file, for a rule
        // of configuration files) and their windows would be most of the
        // windows of a file.
        let mut admitted: Vec<Option<bool>> = vec![None; self.rules.len()];
        keywords.for_each_hit(content, |hit| {
            for o in &self.owners[hit.keyword] {
                if only.is_some_and(|r| r != o.rule) {
                    continue;
                }
                let rule = &self.rules[o.rule];
                if let (Some(_), Some(p)) = (&rule.path, path) {
                    if !*admitted[o.rule].get_or_insert_with(|| self.admits(o.rule, p)) {
                        continue;
                    }
                }
                let (back, forward) = o.reach(rule);
                let mut ws = hit.start.saturating_sub(back);
                let mut we = hit.end.saturating_add(forward).min(content.len());
                // A match that cannot span lines lies on its keyword's
                // line: searching only that line keeps a frequent keyword
                // (`token` in Rust code) from opening windows that merge
                // into most of a file.
                if rule.single_line() {
                    if let Some(nl) = memchr::memrchr(b'\n', &content[ws..hit.start]) {
                        ws += nl + 1;
                    }
                    if let Some(nl) = memchr::memchr(b'\n', &content[hit.end..we]) {
                        we = hit.end + nl;
                    }
                }
                windows.push((o.rule, ws, we));
            }
        });
        if windows.is_empty() {
            return dedupe(&self.rules, found);
        }
        windows.sort_unstable();
        let mut k = 0;
        while k < windows.len() {
            let (r, s, mut e) = windows[k];
            k += 1;
            while k < windows.len() && windows[k].0 == r && windows[k].1 <= e {
                e = e.max(windows[k].2);
                k += 1;
            }
            // Each rule runs alone. Searching a window once with all of a
            // keyword's rules as one regex set, to learn which match at
            // all, was tried and cost more: an overlapping multi-pattern
            // search gets no literal prefilter, while a rule's own does.
            self.run_rule(r, path, content, s, e, &mut found);
        }
        dedupe(&self.rules, found)
    }

    /// Whether rule `r` applies to the file at `path` (a rule without a
    /// `path` applies to every file).
    fn admits(&self, r: usize, path: &str) -> bool {
        self.rules[r]
            .path
            .as_ref()
            .is_none_or(|re| re.is_match(path.as_bytes()))
    }

    /// Runs one rule's regex over `content[start..end]` (looking behind
    /// `start` for assertions such as `\b`), pushing what survives. The
    /// caller has checked that the rule applies to the file's path.
    fn run_rule(
        &self,
        rule_idx: usize,
        path: Option<&str>,
        content: &[u8],
        start: usize,
        end: usize,
        out: &mut Vec<Candidate>,
    ) {
        let rule = &self.rules[rule_idx];
        if rule
            .required_bytes()
            .is_some_and(|r| !r.any_in(&content[start..end]))
        {
            return;
        }
        let Some(regex) = rule.regex.get() else {
            return;
        };
        // The search is bounded to the window, but its look-arounds see
        // the whole file.
        let mut input = Input::new(content).span(start..end);
        // Most windows hold no match: a plain search answers that without
        // the capture slots (an allocation per window) or a capture engine.
        // The capture search then starts where that match does (the same
        // leftmost match: look-behind still sees the whole file).
        let Some(first) = regex.search(&input) else {
            return;
        };
        input.set_start(first.start());
        let mut caps = regex.create_captures();
        loop {
            regex.search_captures(&input, &mut caps);
            let Some(whole) = caps.get_match() else { break };
            let next = if whole.is_empty() {
                whole.end() + 1
            } else {
                whole.end()
            };
            if let Ok(c) = self.judge(rule_idx, path, content, &caps) {
                out.push(c);
            }
            if next > end {
                break;
            }
            input.set_start(next);
        }
    }

    /// Puts one regex match through every filter; `Err` says which dropped it.
    fn judge(
        &self,
        rule_idx: usize,
        path: Option<&str>,
        content: &[u8],
        caps: &Captures,
    ) -> Result<Candidate, Drop> {
        let rule = &self.rules[rule_idx];
        let whole = caps.get_match().ok_or("no match")?;
        let secret_m = caps
            .get_group(rule.secret_group())
            .ok_or("the secret group did not take part in the match")?;
        let secret = &content[secret_m.range()];
        if secret.is_empty() {
            return Err("the secret is empty");
        }
        if let Some(min) = rule.entropy {
            if entropy::shannon(secret) < min {
                return Err("the secret's entropy is below the rule's floor");
            }
        }
        // Model-decided rules too: placeholder shapes are also one of the
        // model's features, but a placeholder is never reported.
        if self
            .placeholders
            .is_placeholder(secret, PlaceholderPolicy::of(rule))
        {
            return Err("the secret looks like a placeholder");
        }
        // The model first: it drops most candidates, and the suppression
        // checks below (an inline marker is looked for in the lines
        // around) cost more than its features.
        let mut confidence = rule.confidence;
        let (mut score, mut features) = (None, None);
        if rule.decided_by_model {
            let model = self.model.as_ref().ok_or("no decision model is loaded")?;
            let name_m = caps.get_group_by_name("name");
            let name = name_m.map_or(&b""[..], |m| &content[m.range()]);
            let candidate = decide::Candidate {
                path,
                content,
                name,
                name_start: name_m.map_or(secret_m.start, |m| m.start),
                value_start: secret_m.start,
                value_end: secret_m.end,
            };
            // Checked before the features are computed: in source code
            // most candidates are such names, and this costs a few bytes.
            if decide::unquoted_name_in_code(&candidate) {
                return Err("in source code, an unquoted value is a name, not a literal");
            }
            if decide::never_a_credential(name, secret) {
                return Err("the decision stage rules it out (a hash or a scheme name)");
            }
            let x = decide::features(&candidate);
            let p = if self.keep_undecided {
                // The training dump: every candidate, with its whole score.
                features = Some(Box::new(x));
                model.score(&x)
            } else {
                model
                    .reported_score(&x)
                    .ok_or("the decision model scores it below the reporting bar")?
            };
            score = Some(p);
            confidence = model.confidence(p).unwrap_or(Confidence::Low);
        }
        // The first mechanism that silences the match names it; the
        // validator below still decides whether it is a finding at all.
        let mut suppressed = None;
        if let Some(part) = rule.allow.allowed_by(path, secret) {
            if !self.user_rule[rule_idx] {
                return Err("the rule's allow list drops it");
            }
            suppressed = Some(Suppression::new(
                SuppressionMechanism::Allowlist,
                format!(
                    "rule file {} [allow] {part} of rule {}",
                    rule.source, rule.id
                ),
            ));
        }
        if suppressed.is_none() {
            if let Some(part) = self.global_allow.allowed_by(path, secret) {
                suppressed = Some(Suppression::new(
                    SuppressionMechanism::Allowlist,
                    format!("{} [allowlist] {part}", self.config_name),
                ));
            }
        }
        if suppressed.is_none() {
            if let Some(part) = self
                .rule_allow
                .get(&rule.id)
                .and_then(|a| a.allowed_by(path, secret))
            {
                suppressed = Some(Suppression::new(
                    SuppressionMechanism::Allowlist,
                    format!("{} [rules.allow.{}] {part}", self.config_name, rule.id),
                ));
            }
        }
        if suppressed.is_none() {
            if let Some(marker) = inline_marker(content, whole.start(), whole.end()) {
                suppressed = Some(Suppression::new(
                    SuppressionMechanism::InlineComment,
                    format!("inline comment `{marker}`"),
                ));
            }
        }
        if let Some(v) = rule.validator {
            if !v.check(secret) {
                return Err("the validator rejects it");
            }
            confidence = Confidence::High;
        }
        Ok(Candidate {
            rule: rule_idx,
            match_start: whole.start(),
            match_end: whole.end(),
            start: secret_m.start,
            end: secret_m.end,
            confidence,
            score,
            features,
            suppressed,
        })
    }

    /// Why the regex matches of rule `rule_idx` in `text` were all dropped.
    fn explain(&self, rule_idx: usize, text: &[u8]) -> String {
        let rule = &self.rules[rule_idx];
        let mut reasons: Vec<&str> = Vec::new();
        let Some(regex) = rule.regex.get() else {
            return "the regex does not compile".into();
        };
        for caps in regex.captures_iter(text) {
            match self.judge(rule_idx, None, text, &caps) {
                Err(r) => reasons.push(r),
                Ok(c) if c.suppressed.is_some() => {
                    reasons.push("an allowlist or an inline comment suppresses it")
                }
                Ok(_) => reasons.push("no keyword occurs near the match"),
            }
        }
        if reasons.is_empty() {
            "the regex does not match it".to_string()
        } else {
            reasons.dedup();
            format!("it matches the regex but {}", reasons.join("; "))
        }
    }
}

/// Keeps one candidate per (rule, secret span) and, where rules overlap on
/// a secret, only the most specific: one not suppressed over a suppressed
/// one (so that allowlisting a rule never hides what another rule reports,
/// as when the allowlisted match was dropped), then a provider rule over a
/// generic one (it names the service to revoke the credential at, where the
/// decision stage may well be surer of the generic match), then higher
/// confidence.
fn dedupe(rules: &[Rule], mut found: Vec<Candidate>) -> Vec<Candidate> {
    found.sort_by_key(|c| (c.start, c.end, c.rule));
    found.dedup_by_key(|c| (c.start, c.end, c.rule));
    if found.len() < 2 {
        return found;
    }
    let specificity = |c: &Candidate| {
        let generic = rules[c.rule].family.starts_with("generic");
        (c.suppressed.is_none(), !generic, c.confidence)
    };
    let mut keep = vec![true; found.len()];
    for i in 0..found.len() {
        for j in (i + 1)..found.len() {
            if found[j].start >= found[i].end {
                break;
            }
            if found[i].rule == found[j].rule {
                // The same rule seen through two keywords' windows, one
                // cut short: keep the longer secret.
                let len = |c: &Candidate| c.end - c.start;
                if len(&found[j]) > len(&found[i]) {
                    keep[i] = false;
                } else {
                    keep[j] = false;
                }
                continue;
            }
            // Overlapping secrets from two rules.
            match specificity(&found[i]).cmp(&specificity(&found[j])) {
                std::cmp::Ordering::Less => keep[i] = false,
                std::cmp::Ordering::Greater => keep[j] = false,
                std::cmp::Ordering::Equal => {}
            }
        }
    }
    found
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect()
}

/// The inline allow markers: tripline's own, and those of gitleaks and
/// detect-secrets, so users can migrate without touching their
/// suppressions. Matched ASCII case-insensitively.
pub const INLINE_MARKERS: [&str; 3] = [
    "tripline:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// The first inline allow marker ([`INLINE_MARKERS`]) on `line`, if any.
pub fn marker_in(line: &[u8]) -> Option<&'static str> {
    INLINE_MARKERS.iter().copied().find(|m| {
        line.windows(m.len())
            .any(|w| w.eq_ignore_ascii_case(m.as_bytes()))
    })
}

/// Which inline allow marker the line(s) of the match carry, if any.
fn inline_marker(content: &[u8], start: usize, end: usize) -> Option<&'static str> {
    let (ls, _) = line_bounds_reach(content, start, start, SUPPRESS_REACH);
    let (_, le) = line_bounds_reach(
        content,
        end.saturating_sub(1).max(start),
        end,
        SUPPRESS_REACH,
    );
    marker_in(&content[ls..le])
}

fn line_bounds_reach(content: &[u8], start: usize, end: usize, reach: usize) -> (usize, usize) {
    let lo = start.saturating_sub(reach);
    let ls = content[lo..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(lo, |p| lo + p + 1);
    let hi = end.saturating_add(reach).min(content.len());
    let le = content[end..hi]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(hi, |p| end + p);
    (ls, le)
}

/// The text of a UTF-16 file (see [`utf16_encoding`]); `None` for any other.
fn decode_utf16(content: &[u8]) -> Option<String> {
    let (little, bom) = utf16_encoding(content)?;
    let units = content[bom..].chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

/// Turns byte offsets into 1-based lines and UTF-16 columns. Lines end at
/// LF, CRLF or a lone CR (as GitHub's line hash counts them); each invalid
/// UTF-8 byte counts as one column.
///
/// All offsets of a file are resolved in one sweep, carrying the column
/// along: a minified file is one long line, and counting its columns from
/// the line start for every finding made it cost many times its size.
struct Positions {
    /// Sorted, distinct offsets and their (line, column).
    resolved: Vec<(usize, (u32, u32))>,
}

impl Positions {
    fn new(content: &[u8], offsets: impl Iterator<Item = usize>) -> Positions {
        let mut offsets: Vec<usize> = offsets.map(|o| o.min(content.len())).collect();
        offsets.sort_unstable();
        offsets.dedup();
        let mut resolved = Vec::with_capacity(offsets.len());
        let (mut at, mut line, mut line_start, mut column) = (0usize, 1u32, 0usize, 0usize);
        for offset in offsets {
            for i in at..offset {
                let b = content[i];
                if b == b'\n' || (b == b'\r' && content.get(i + 1) != Some(&b'\n')) {
                    line += 1;
                    line_start = i + 1;
                }
            }
            // Counting on from the previous offset is exact when both it
            // and this one sit on character boundaries of the same line;
            // otherwise count from the line start.
            let boundary = |o: usize| content.get(o).is_none_or(|&b| (b & 0xC0) != 0x80);
            column = if line_start <= at && boundary(at) && boundary(offset) {
                column + utf16_len(&content[at..offset])
            } else {
                utf16_len(&content[line_start..offset])
            };
            at = offset;
            resolved.push((
                offset,
                (line, u32::try_from(column + 1).unwrap_or(u32::MAX)),
            ));
        }
        Positions { resolved }
    }

    fn at(&self, offset: usize) -> (u32, u32) {
        match self.resolved.binary_search_by_key(&offset, |&(o, _)| o) {
            Ok(i) => self.resolved[i].1,
            // Every offset asked was resolved; the clamp to the content's
            // length is the only way to miss, and then the last one is it.
            Err(i) => self.resolved[i.saturating_sub(1)].1,
        }
    }
}

/// Length in UTF-16 code units of `bytes` read as UTF-8, invalid bytes
/// counting one unit each.
fn utf16_len(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|ch| ch.valid().chars().map(char::len_utf16).sum::<usize>() + ch.invalid().len())
        .sum()
}

/// The rule family of credential stores (`.pgpass`, `.netrc`, FileZilla and
/// DBeaver connection lists, mail client configurations): a value saved
/// there is the credential in use, however plain it looks.
const CREDENTIAL_FILE_FAMILY: &str = "credential-files";

/// Which placeholders a rule drops (see [`Placeholders`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlaceholderPolicy {
    /// Shapes, placeholder words and stock values: provider token rules.
    All,
    /// Shapes and placeholder words; stock values are left to the model.
    KeepStock,
    /// Shapes only: the rules of credential stores.
    ShapesOnly,
}

impl PlaceholderPolicy {
    fn of(rule: &Rule) -> PlaceholderPolicy {
        if rule.family == CREDENTIAL_FILE_FAMILY {
            PlaceholderPolicy::ShapesOnly
        } else if rule.decided_by_model {
            PlaceholderPolicy::KeepStock
        } else {
            PlaceholderPolicy::All
        }
    }
}

/// The universal placeholder filter, applied to every candidate secret of
/// every rule, in three tiers:
/// - shapes: template markers, format strings, variable references,
///   function calls, environment lookups, runs of one character;
/// - placeholder words: "your key here" phrases, `example`, `changeme`;
/// - stock values: `password`, `admin`, `123456`.
///
/// Provider token rules drop all three. The decision stage's rules keep
/// stock values for the model to weigh, because a default password in a
/// compose file or a test set-up is a credential committed all the same,
/// and its name and context tell it from a label. The rules of credential
/// stores ([`CREDENTIAL_FILE_FAMILY`]) drop shapes only: a FileZilla or
/// `.pgpass` file holds what its user saved, whatever it looks like.
struct Placeholders {
    shapes: Vec<Regex>,
    words: Vec<Regex>,
    stock: Option<Regex>,
}

impl Placeholders {
    fn new() -> Placeholders {
        const SHAPES: &[&str] = &[
            // Template and variable syntax: <...>, ${...}, {{...}}, $VAR, %s, %(name)s.
            r"^<[^<>]*>$",
            r"\$\{[^}]*\}",
            r"\{\{[^}]*\}\}",
            r"^\$[A-Za-z_][A-Za-z0-9_]*$",
            r"^%(\([A-Za-z0-9_]+\))?[sd]$",
            r"^%[A-Za-z_][A-Za-z0-9_]*%$",
            // A function call or an environment lookup instead of a value.
            r"^[A-Za-z_][A-Za-z0-9_.:]*\(.*\)$",
            r"(?i)os\.environ|process\.env|getenv\(|\benv\[|\benv\(|System\.getenv",
            // Runs of one character where a random token has none.
            r"(?i)x{4}|\*{4}|#{4}|0{6}|\.{3}|_{5}",
        ];
        const WORDS: &[&str] = &[
            // "Your key here" phrases and words that say the value is none.
            r"(?i)^(change[-_ ]?me|changeit|placeholder|redacted|dummy|example|sample|todo|fixme|none|null|nil|undefined|empty|string|value|your|insert|enter|replace)[-_ ]?(here|me)?$",
            r"(?i)^(your|my|insert|enter|put|replace|add)[-_ ]?(your|the|a)?[-_ ]?[a-z0-9_-]*?(key|token|secret|password|passwd|pass|pwd|id|here)([-_ ]?here)?$",
            r"(?i)example|placeholder|redacted|changeme|dummy|fake[-_]?(key|token|secret|password)|not[-_]?a[-_]?real",
        ];
        // Whole-value stock words.
        const STOCK: &str = r"(?i)^(secret|password|passwd|token|test|testing|foobar|foo|bar|xyz|abc123|123456|qwerty|letmein|admin|default)[-_ ]?(here|me)?$";
        let compile = |list: &[&str]| list.iter().filter_map(|s| Regex::new(s).ok()).collect();
        Placeholders {
            shapes: compile(SHAPES),
            words: compile(WORDS),
            stock: Regex::new(STOCK).ok(),
        }
    }

    /// Whether `secret` is a placeholder under `policy`.
    fn is_placeholder(&self, secret: &[u8], policy: PlaceholderPolicy) -> bool {
        let trimmed = trim_quotes(secret);
        if trimmed.len() >= 3 && trimmed.iter().all(|&b| b == trimmed[0]) {
            return true;
        }
        let any = |list: &[Regex]| list.iter().any(|p| p.is_match(trimmed));
        any(&self.shapes)
            || (policy != PlaceholderPolicy::ShapesOnly && any(&self.words))
            || (policy == PlaceholderPolicy::All
                && self.stock.as_ref().is_some_and(|re| re.is_match(trimmed)))
    }
}

fn trim_quotes(s: &[u8]) -> &[u8] {
    let mut s = s;
    while let [b'"' | b'\'' | b'`', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'"' | b'\'' | b'`'] = s {
        s = rest;
    }
    s
}

/// Checks the examples and negative examples of the rules at `wanted`
/// through the engine, and that each keyword occurs in some example match.
pub fn check_examples(set: &RuleSet, wanted: &[usize]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if wanted.is_empty() {
        return problems;
    }
    let engine = match Engine::new(set.clone(), &Config::default()) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem {
                file: "(rules)".into(),
                rule: None,
                message: format!("cannot build the engine: {e:#}"),
            });
            return problems;
        }
    };
    for &i in wanted {
        let rule = &engine.rules[i];
        let problem = |message: String| Problem {
            file: rule.source.clone(),
            rule: Some(rule.id.clone()),
            message,
        };
        let mut keyword_seen = vec![false; rule.keywords.len()];
        if rule.keywords_in_path {
            check_example_paths(rule, &mut keyword_seen, &mut problems);
        }
        for (n, ex) in rule.examples.iter().enumerate() {
            // An example must be reported, not merely found and suppressed
            // (by a user rule's own `allow` table).
            let found = engine.candidates(None, ex.as_bytes(), Some(i));
            let Some(c) = found.iter().find(|c| c.suppressed.is_none()) else {
                problems.push(problem(format!(
                    "example {} ({}) is not found: {}",
                    n + 1,
                    shorten(ex),
                    engine.explain(i, ex.as_bytes())
                )));
                continue;
            };
            if rule.keywords_in_path {
                continue;
            }
            let matched = ex.as_bytes()[c.match_start..c.match_end].to_ascii_lowercase();
            let mut any = false;
            for (k, kw) in rule.keywords.iter().enumerate() {
                if matched.windows(kw.len()).any(|w| w == kw.as_bytes()) {
                    keyword_seen[k] = true;
                    any = true;
                }
            }
            if !any {
                problems.push(problem(format!(
                    "example {} ({}): its match contains none of the keywords {:?}",
                    n + 1,
                    shorten(ex),
                    rule.keywords
                )));
            }
        }
        for (k, seen) in keyword_seen.iter().enumerate() {
            if !seen && !rule.examples.is_empty() {
                problems.push(problem(format!(
                    "keyword {:?} occurs in none of the example matches, so it cannot be shown to occur in a match",
                    rule.keywords[k]
                )));
            }
        }
        for (n, ex) in rule.negative_examples.iter().enumerate() {
            if engine
                .candidates(None, ex.as_bytes(), Some(i))
                .iter()
                .any(|c| c.suppressed.is_none())
            {
                problems.push(problem(format!(
                    "negative example {} ({}) is found, but must not be",
                    n + 1,
                    shorten(ex)
                )));
            }
        }
    }
    problems
}

/// For a rule that selects files by path: each example path must hold one
/// of its keywords and match its `path`, and each keyword must occur in
/// some example path.
fn check_example_paths(rule: &Rule, keyword_seen: &mut [bool], problems: &mut Vec<Problem>) {
    for (n, p) in rule.example_paths.iter().enumerate() {
        let lower = p.to_ascii_lowercase();
        let mut any = false;
        for (k, kw) in rule.keywords.iter().enumerate() {
            if lower.contains(kw.as_str()) {
                keyword_seen[k] = true;
                any = true;
            }
        }
        let selected = rule
            .path
            .as_ref()
            .is_some_and(|re| re.is_match(p.as_bytes()));
        if !any || !selected {
            problems.push(Problem {
                file: rule.source.clone(),
                rule: Some(rule.id.clone()),
                message: format!(
                    "example path {} ({p:?}) {}",
                    n + 1,
                    if any {
                        "does not match the rule's path"
                    } else {
                        "holds none of the keywords"
                    }
                ),
            });
        }
    }
}

/// An example, cut for an error message.
fn shorten(s: &str) -> String {
    let one_line = s.replace('\n', "\\n");
    if one_line.chars().count() > 60 {
        let head: String = one_line.chars().take(57).collect();
        format!("{head:?}...")
    } else {
        format!("{one_line:?}")
    }
}

/// What SARIF and `rules list` say about a rule.
pub fn rule_info(r: &Rule) -> RuleInfo {
    const ROTATE: &str = "Treat the value as compromised: revoke or rotate it with its issuer \
        first, then remove it from the code and load it at run time from a secret store or \
        the environment. Deleting the line is not enough: the value stays in git history, \
        forks and clones, so rewrite history (git filter-repo) only after rotating. If the \
        match is a test value, mark the line with a `tripline:allow` comment or add an \
        allowlist entry in tripline.toml.";
    let mut text = format!("{}\n\n{}\n\n{ROTATE}", r.title, r.description.trim());
    let mut md = format!("**{}**\n\n{}\n\n{ROTATE}", r.title, r.description.trim());
    if !r.references.is_empty() {
        text.push_str("\n\nReferences:");
        md.push_str("\n\nReferences:\n");
        for u in &r.references {
            text.push_str(&format!("\n- {u}"));
            md.push_str(&format!("\n- <{u}>"));
        }
    }
    let mut tags = vec!["secret".to_string()];
    if !r.family.is_empty() && !tags.contains(&r.family) {
        tags.push(r.family.clone());
    }
    if r.validator.is_some() {
        tags.push("validated".into());
    }
    RuleInfo {
        id: r.id.clone(),
        title: r.title.clone(),
        description: r.description.trim().to_string(),
        help_text: text,
        help_markdown: md,
        severity: r.severity,
        confidence: r.confidence,
        tags,
        security_severity: None,
        help_uri: r.references.first().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Line and column of `offset` counted from the start, the slow way.
    fn reference(content: &[u8], offset: usize) -> (u32, u32) {
        let mut line = 1;
        let mut line_start = 0;
        for i in 0..offset {
            let b = content[i];
            if b == b'\n' || (b == b'\r' && content.get(i + 1) != Some(&b'\n')) {
                line += 1;
                line_start = i + 1;
            }
        }
        (line, utf16_len(&content[line_start..offset]) as u32 + 1)
    }

    fn text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"a".to_vec()),
            Just(b"key".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just("é".as_bytes().to_vec()),
            Just("𝄞".as_bytes().to_vec()),
            Just(b"\xff".to_vec()),
        ];
        prop::collection::vec(piece, 0..200).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn positions_agree_with_counting_from_the_start(
            content in text(),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let offsets: Vec<usize> = picks.iter().map(|p| p.index(content.len() + 1)).collect();
            let pos = Positions::new(&content, offsets.iter().copied());
            for &o in &offsets {
                prop_assert_eq!(pos.at(o), reference(&content, o), "offset {}", o);
            }
        }
    }

    #[test]
    fn one_long_line_resolves_each_offset_in_one_sweep() {
        let unit = "é𝄞 x ".repeat(10_000);
        let content = unit.as_bytes();
        // Out of order and repeated, as overlapping findings ask them.
        let offsets = [content.len(), 27, 45_000, 27, 6];
        let pos = Positions::new(content, offsets.iter().copied());
        assert_eq!(pos.at(45_000), (1, 5_000 * 6 + 1));
        for o in offsets {
            assert_eq!(pos.at(o), reference(content, o));
        }
    }

    /// An engine over one user rule file, without the built-ins.
    fn engine_of(rules: &str) -> Engine {
        let (set, problems) = RuleSet::load_user_text("t.toml", rules);
        assert!(problems.is_empty(), "{problems:?}");
        Engine::new(set, &Config::default()).expect("engine")
    }

    #[test]
    fn a_path_restricted_rule_runs_only_on_the_files_its_path_admits() {
        let engine = engine_of(
            r#"
[[rule]]
id = "t-conf"
title = "t"
description = "d"
severity = "high"
confidence = "low"
keywords = ["cfgx_"]
path = '''\.(?:ini|conf)$'''
regex = '''cfgx_([a-z]{8})'''
examples = ["cfgx_abcdefgh"]
negative_examples = ["cfgx_abc"]

[[rule]]
id = "t-any"
title = "t"
description = "d"
severity = "high"
confidence = "low"
keywords = ["cfgx_"]
regex = '''cfgx_([a-z]{8})\b'''
examples = ["cfgx_abcdefgh"]
negative_examples = ["cfgx_abc"]
"#,
        );
        let ids = |path: &str| -> Vec<String> {
            let text = "a = cfgx_abcdefgh\nb = cfgx_ijklmnop\n";
            let mut ids: Vec<String> = engine
                .scan(path, text.as_bytes())
                .into_iter()
                .map(|f| f.rule_id)
                .collect();
            ids.sort();
            ids.dedup();
            ids
        };
        // The keyword wakes both rules; the path decides for the first.
        assert_eq!(ids("etc/app.ini"), ["t-any", "t-conf"]);
        assert_eq!(ids("deploy/app.conf"), ["t-any", "t-conf"]);
        assert_eq!(ids("src/app.rs"), ["t-any"]);
    }

    /// Rules whose longest match is bounded, so their windows are cut to it.
    const BOUNDED: &str = r#"
[[rule]]
id = "t-tail"
title = "t"
description = "d"
severity = "high"
confidence = "low"
keywords = ["tokx_"]
regex = '''tokx_([a-z]{10})$'''
examples = ["tokx_abcdefghij"]
negative_examples = ["tokx_abcdefghijk"]

[[rule]]
id = "t-word"
title = "t"
description = "d"
severity = "high"
confidence = "low"
keywords = ["wrdx_"]
regex = '''\bwrdx_([a-z]{10})\b'''
examples = ["wrdx_abcdefghij"]
negative_examples = ["wrdx_abcdefghijk"]

[[rule]]
id = "t-end"
title = "t"
description = "d"
severity = "high"
confidence = "low"
keywords = ["_kwend"]
regex = '''\b([a-z0-9]{30})_kwend'''
examples = ["abcdefghijklmnopqrstuvwxyz0123_kwend"]
negative_examples = ["abcdefghijklmnopqrstuvwxyz012_kwend"]
"#;

    #[test]
    fn a_bounded_rule_finds_its_match_on_either_side_of_its_keyword() {
        let engine = engine_of(BOUNDED);
        let pad = "x = 1;\n".repeat(2000);
        let text = format!(
            "{pad}a = \"abcdefghijklmnopqrstuvwxyz0123_kwend\";\n{pad}b = wrdx_abcdefghij;\n{pad}"
        );
        let found: Vec<String> = engine
            .scan("a.rs", text.as_bytes())
            .into_iter()
            .map(|f| f.rule_id)
            .collect();
        assert_eq!(found, ["t-end", "t-word"]);
    }

    #[test]
    fn a_window_edge_is_not_a_boundary_for_dollar_or_word_assertions() {
        // Each window ends right after the longest match its rule can make,
        // which here falls inside a longer token: `$` and `\b` must see the
        // letters beyond the window and not match there.
        let engine = engine_of(BOUNDED);
        for text in [
            "tokx_abcdefghijklmnop",
            "wrdx_abcdefghijklmnop",
            "a wrdx_abcdefghijk",
        ] {
            let found = engine.scan("a.rs", text.as_bytes());
            assert!(found.is_empty(), "{text}: {:?}", found[0].rule_id);
        }
        // The same tokens at their true end are found.
        for text in ["tokx_abcdefghij", "a wrdx_abcdefghij."] {
            assert_eq!(engine.scan("a.rs", text.as_bytes()).len(), 1, "{text}");
        }
    }

    #[test]
    fn stock_values_are_left_to_the_model_and_kept_in_credential_stores() {
        let p = Placeholders::new();
        for v in ["password", "admin", "123456"] {
            assert!(
                p.is_placeholder(v.as_bytes(), PlaceholderPolicy::All),
                "{v}"
            );
            assert!(
                !p.is_placeholder(v.as_bytes(), PlaceholderPolicy::KeepStock),
                "{v}"
            );
            assert!(
                !p.is_placeholder(v.as_bytes(), PlaceholderPolicy::ShapesOnly),
                "{v}"
            );
        }
        for v in ["changeme", "your_api_key_here", "ExamplePass1"] {
            assert!(
                p.is_placeholder(v.as_bytes(), PlaceholderPolicy::KeepStock),
                "{v}"
            );
            assert!(
                !p.is_placeholder(v.as_bytes(), PlaceholderPolicy::ShapesOnly),
                "{v}"
            );
        }
        for v in [
            "${DB_PASSWORD}",
            "<password>",
            "xxxxxxxx",
            "os.environ['X']",
        ] {
            assert!(
                p.is_placeholder(v.as_bytes(), PlaceholderPolicy::ShapesOnly),
                "{v}"
            );
        }
        assert!(!p.is_placeholder(b"Zq8vLm2Tx", PlaceholderPolicy::All));
    }

    #[test]
    fn a_single_line_rule_finds_its_match_amid_thousands_of_keyword_lines() {
        // An unbounded single-line regex: its windows are the keyword's
        // lines, and the one match among them is still found, once.
        let engine = engine_of(
            r#"
[[rule]]
id = "t-keyed"
title = "t"
description = "d"
severity = "high"
confidence = "low"
keywords = ["token"]
regex = '''token[ \t]*=[ \t]*"(tk_[a-z0-9]+)"'''
examples = ['token = "tk_abcdefghij12"']
"#,
        );
        assert!(engine.rules()[0].single_line());
        let mut text = "let token = next_token();\n".repeat(5000);
        text.push_str("token = \"tk_abcdefghij12\"\n");
        text.push_str(&"token.len()\n".repeat(5000));
        let found = engine.scan("a.rs", text.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location.start_line, 5001);
    }

    #[test]
    fn a_regex_that_can_hold_a_line_feed_is_not_single_line() {
        for (re, single) in [
            (r#"key[ \t]*=[ \t]*"([^"\s]+)""#, true),
            (r"key\s*=\s*(\w+)", false),
            (r"-----BEGIN[^-]*-----[\s\S]*?-----END", false),
            (r"key=([^,]+)", false),
            (r"key=(.+)", true),
        ] {
            let shape = crate::secrets::rules::regex_shape(re).expect("parses");
            assert_eq!(shape.single_line, single, "{re}");
        }
    }

    #[test]
    fn required_bytes_are_the_punctuation_every_match_holds() {
        let set = |re: &str| {
            crate::secrets::rules::regex_shape(re)
                .expect("parses")
                .required
                .map(|r| (0u8..=255).filter(|&b| r.any_in(&[b])).collect::<Vec<u8>>())
        };
        // A quoted value: one of the three quotes.
        assert_eq!(
            set(r#"(?i)(?P<name>\w*key\w*)(?:=|:|[ \t])[ \t]*(?:\\?["'`]|[rb]["'])(\w{6,})"#),
            Some(b"\"'`".to_vec())
        );
        // The smallest part wins; letters and digits never count.
        assert_eq!(set(r"token=([a-z0-9]{20})"), Some(b"=".to_vec()));
        assert_eq!(set(r"(?i)token\s*([a-z0-9]{20})"), None);
        // An optional part, or a branch without a set, gives nothing.
        assert_eq!(set(r#"key=?"?(\w+)"#), None);
        assert_eq!(set(r#"key(?:=|\s)(\w+)"#), None);
        // And the engine still finds what the regex finds.
        let engine = engine_of(
            r#"
[[rule]]
id = "t-quoted"
title = "t"
description = "d"
severity = "high"
confidence = "low"
keywords = ["key"]
regex = '''key[ \t]*=[ \t]*"(k_[a-z0-9]{10})"'''
examples = ['key = "k_abcdefghij"']
"#,
        );
        assert_eq!(engine.scan("a.rs", b"key = \"k_abcdefghij\"\n").len(), 1);
        assert!(engine.scan("a.rs", b"key = k_abcdefghij\n").is_empty());
    }
}
