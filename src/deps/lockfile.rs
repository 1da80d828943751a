//! One `Cargo.lock`: its packages, where each `[[package]]` block sits in the
//! file, and the dependency graph between them.
//!
//! Lockfiles as cargo writes them (versions 2 to 4, double-quoted strings,
//! one key per line) are read by a line parser of that exact shape: it is
//! about fifty times faster than a general TOML parser, and it gives each
//! package's line range for free. Anything else, from v1's `[metadata]` to a
//! hand-edited inline table, an escape or a syntax error, goes to the
//! `cargo-lock` crate that `rustsec` uses, so the packages we match are the
//! ones cargo-audit matches and a broken file gets that parser's message.
//! A test checks that both parsers agree on every lockfile in `fixtures/`.
//! This module does not know about advisories.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use rustsec::cargo_lock::{Lockfile, Name, Package, SourceId, Version};

use super::FastMap;

/// A parsed lockfile with line ranges and a graph.
#[derive(Debug)]
pub struct LockedTree {
    /// Every package, in the order the file lists them. A v1 lockfile's
    /// legacy `[root]` package is included, as a workspace member.
    pub packages: Vec<LockedPackage>,
    /// List `i`: indices of the packages package `i` depends on.
    deps: Lists<usize>,
    /// List `i`: indices of the packages that depend on package `i`.
    dependents: Lists<usize>,
    /// Indices of the workspace members: the starting points of paths.
    roots: Vec<usize>,
    /// Breadth-first parent pointers from the roots (`usize::MAX`: none).
    parent: Vec<usize>,
}

/// One package of a lockfile: the edges live in the tree's graph.
#[derive(Debug)]
pub struct LockedPackage {
    pub name: Name,
    pub version: Version,
    /// `None` for a path package. Shared between the packages and entries
    /// of the same source: a lockfile has a few sources for hundreds of
    /// packages, and a `SourceId` of their own (168 bytes and a URL on
    /// the heap each) made the parse's lists several times larger, paid
    /// for in allocations and page faults.
    pub source: Option<Arc<SourceId>>,
    /// 1-based, inclusive: the `[[package]]` header to the block's last line.
    pub start_line: u32,
    pub end_line: u32,
}

impl LockedPackage {
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
}

/// One entry of a package's `dependencies` list, before it is resolved to
/// a package of the same lockfile.
#[derive(Debug)]
struct DependencyRef<'a> {
    name: Cow<'a, str>,
    /// Omitted in v2+ when only one version of the crate is locked.
    version: Option<Cow<'a, str>>,
    source: Option<Arc<SourceId>>,
}

/// What either parser gives: the packages, each one's version as written,
/// and each one's dependency entries (list `i` for package `i`).
type Parsed<'a> = (
    Vec<LockedPackage>,
    Vec<Cow<'a, str>>,
    Lists<DependencyRef<'a>>,
);

/// Lists kept end to end in one vector: list `i` is
/// `items[starts[i]..starts[i + 1]]`, and only the last list grows. A
/// lockfile has three lists per package (its entries, its dependencies,
/// its dependents); a vector for each was thousands of allocations in a
/// parse of a few milliseconds.
#[derive(Debug)]
struct Lists<T> {
    items: Vec<T>,
    starts: Vec<usize>,
}

impl<T> Lists<T> {
    /// No lists yet, with room for `lists` lists of `items` items in all.
    fn with_capacity(lists: usize, items: usize) -> Lists<T> {
        let mut starts = Vec::with_capacity(lists + 1);
        starts.push(0);
        Lists {
            items: Vec::with_capacity(items),
            starts,
        }
    }

    /// Adds `item` to the list being built, the one after the last ended.
    fn push(&mut self, item: T) {
        self.items.push(item);
    }

    /// The items pushed since the last list was ended.
    fn open(&self) -> &[T] {
        let start = self.starts.last().copied().unwrap_or(0);
        &self.items[start..]
    }

    /// Ends the list being built: the next push starts another.
    fn end(&mut self) {
        self.starts.push(self.items.len());
    }

    /// How many lists were ended.
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn get(&self, i: usize) -> &[T] {
        &self.items[self.starts[i]..self.starts[i + 1]]
    }

    fn iter(&self) -> impl Iterator<Item = &[T]> {
        self.starts.windows(2).map(|w| &self.items[w[0]..w[1]])
    }
}

impl Lists<usize> {
    /// The same edges the other way round: list `j` holds every `i`
    /// whose list holds `j`, in increasing order. Every item must be
    /// below `len()`.
    fn reversed(&self) -> Lists<usize> {
        let n = self.len();
        let mut starts = vec![0usize; n + 1];
        for &j in &self.items {
            starts[j + 1] += 1;
        }
        for k in 0..n {
            starts[k + 1] += starts[k];
        }
        let mut next = starts.clone();
        let mut items = vec![0usize; self.items.len()];
        for (i, list) in self.iter().enumerate() {
            for &j in list {
                items[next[j]] = i;
                next[j] += 1;
            }
        }
        Lists { items, starts }
    }
}

/// A `[[package]]` (or v1 `[root]`) block as written in the file.
#[derive(Debug, Default, Clone)]
struct Block {
    start: u32,
    end: u32,
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
}

impl LockedTree {
    /// Parses lockfile text. The error is the `cargo-lock` parser's message.
    pub fn parse(text: &str) -> Result<LockedTree, String> {
        let (packages, versions, dependencies) = match parse_cargo_written(text) {
            Some(parsed) => parsed,
            None => parse_any_toml(text)?,
        };
        Ok(LockedTree::with_graph(packages, &versions, &dependencies))
    }

    /// `versions[i]` is package `i`'s version as written: dependency
    /// entries name versions as text, and comparing text spares parsing
    /// each of them.
    fn with_graph(
        packages: Vec<LockedPackage>,
        versions: &[Cow<'_, str>],
        dependencies: &Lists<DependencyRef<'_>>,
    ) -> LockedTree {
        let by_name = NameIndex::new(&packages);
        let n = packages.len();
        let mut deps = Lists::with_capacity(n, dependencies.items.len());
        for (i, refs) in dependencies.iter().enumerate() {
            for d in refs {
                let Some(j) = resolve(d, &packages, versions, &by_name) else {
                    continue;
                };
                if j != i && !deps.open().contains(&j) {
                    deps.push(j);
                }
            }
            deps.end();
        }
        let dependents = deps.reversed();
        let roots = find_roots(&packages, &dependents);
        let parent = bfs_parents(n, &roots, &deps);
        LockedTree {
            packages,
            deps,
            dependents,
            roots,
            parent,
        }
    }

    /// The workspace members: packages without a source that nothing else
    /// depends on; failing that every path package; failing that every
    /// package nothing depends on.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// Crate names from a workspace member down to package `i`, along the
    /// shortest path. A package no member reaches gives just its own name.
    pub fn shortest_path(&self, i: usize) -> Vec<String> {
        let mut path = vec![self.packages[i].name().to_string()];
        let mut cur = i;
        let mut steps = 0;
        while self.parent[cur] != usize::MAX && steps < self.packages.len() {
            cur = self.parent[cur];
            path.push(self.packages[cur].name().to_string());
            steps += 1;
        }
        path.reverse();
        path
    }

    /// How many distinct paths lead from the workspace members to package
    /// `i` (saturating; edges that would close a cycle are not followed).
    pub fn path_count(&self, i: usize) -> u64 {
        let n = self.packages.len();
        let mut is_root = vec![false; n];
        for &r in &self.roots {
            is_root[r] = true;
        }
        let mut memo: Vec<Option<u64>> = vec![None; n];
        let mut on_stack = vec![false; n];
        self.count_paths(i, &is_root, &mut memo, &mut on_stack)
    }

    /// A depth-first walk up the dependents, memoised by package in a
    /// vector (a hash map cost more than the walk). It keeps its own stack
    /// of frames: a scanned lockfile may chain packages deeper than the
    /// thread's stack holds frames.
    fn count_paths(
        &self,
        start: usize,
        is_root: &[bool],
        memo: &mut [Option<u64>],
        on_stack: &mut [bool],
    ) -> u64 {
        let known = |i: usize, memo: &[Option<u64>]| memo[i].or(is_root[i].then_some(1));
        if let Some(c) = known(start, memo) {
            return c;
        }
        // (package, next dependent to visit, paths counted so far)
        let mut frames: Vec<(usize, usize, u64)> = vec![(start, 0, 0)];
        on_stack[start] = true;
        while let Some(frame) = frames.last_mut() {
            let (node, next) = (frame.0, frame.1);
            match self.dependents.get(node).get(next) {
                Some(&d) => {
                    frame.1 += 1;
                    if on_stack[d] {
                        continue;
                    }
                    match known(d, memo) {
                        Some(c) => frame.2 = frame.2.saturating_add(c),
                        None => {
                            on_stack[d] = true;
                            frames.push((d, 0, 0));
                        }
                    }
                }
                None => {
                    let total = frame.2;
                    frames.pop();
                    on_stack[node] = false;
                    memo[node] = Some(total);
                    if let Some(parent) = frames.last_mut() {
                        parent.2 = parent.2.saturating_add(total);
                    }
                }
            }
        }
        memo[start].unwrap_or(0)
    }

    /// Direct dependencies of package `i`.
    pub fn dependencies(&self, i: usize) -> &[usize] {
        self.deps.get(i)
    }
}

/// The package a dependency entry names. Like `cargo-lock`: an entry
/// without a source is the first package of that name (and version, when
/// given); one with a source prefers the package from that source.
/// The packages of each name, without a list per name: the first index
/// of a name, then a chain through `next`.
struct NameIndex<'a> {
    first: FastMap<&'a str, usize>,
    /// `next[i]`: the next package with package `i`'s name (`usize::MAX`: none).
    next: Vec<usize>,
}

impl<'a> NameIndex<'a> {
    fn new(packages: &'a [LockedPackage]) -> NameIndex<'a> {
        let mut first = FastMap::with_capacity_and_hasher(packages.len(), Default::default());
        let mut next = vec![usize::MAX; packages.len()];
        // Backwards, so each chain runs in file order.
        for (i, p) in packages.iter().enumerate().rev() {
            if let Some(after) = first.insert(p.name(), i) {
                next[i] = after;
            }
        }
        NameIndex { first, next }
    }

    fn get(&self, name: &str) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.first.get(name).copied().unwrap_or(usize::MAX);
        std::iter::from_fn(move || {
            let here = (at != usize::MAX).then_some(at)?;
            at = self.next[here];
            Some(here)
        })
    }
}

fn resolve(
    d: &DependencyRef<'_>,
    packages: &[LockedPackage],
    versions: &[Cow<'_, str>],
    by_name: &NameIndex<'_>,
) -> Option<usize> {
    let mut cands = by_name
        .get(d.name.as_ref())
        .filter(|&j| d.version.as_deref().is_none_or(|v| versions[j] == v));
    let first = cands.next()?;
    if d.source.is_none() {
        return Some(first);
    }
    std::iter::once(first)
        .chain(cands)
        .find(|&j| same_source(packages[j].source.as_deref(), d.source.as_deref()))
        .or(Some(first))
}

/// A `[[package]]` block as the line parser reads it.
struct RawPackage<'a> {
    start: u32,
    end: u32,
    name: Option<&'a str>,
    version: Option<&'a str>,
    source: Option<&'a str>,
    /// This package's range of the parser's shared list of entries, once
    /// its `dependencies` key is seen.
    dependencies: Option<std::ops::Range<usize>>,
}

impl<'a> RawPackage<'a> {
    fn new(line: u32) -> RawPackage<'a> {
        RawPackage {
            start: line,
            end: line,
            name: None,
            version: None,
            source: None,
            dependencies: None,
        }
    }

    /// The package, its dependency entries added to `refs` as a list of
    /// their own; `None` when a field is missing or does not parse.
    fn resolve(
        self,
        entries: &[&'a str],
        sources: &mut SourceCache<'a>,
        refs: &mut Lists<DependencyRef<'a>>,
    ) -> Option<LockedPackage> {
        let source = match self.source {
            Some(s) => Some(source_id(s, sources)?),
            None => None,
        };
        let mine = match self.dependencies {
            Some(range) => entries.get(range)?,
            None => &[],
        };
        for entry in mine {
            refs.push(dependency_ref(entry, sources)?);
        }
        refs.end();
        let locked = LockedPackage {
            name: Name::from_str(self.name?).ok()?,
            version: Version::parse(self.version?).ok()?,
            source,
            start_line: self.start,
            end_line: self.end,
        };
        Some(locked)
    }
}

/// The packages of a lockfile written by cargo (v2 to v4), read line by
/// line; `None` as soon as a line is not of the shapes cargo writes, and
/// the caller falls back to [`parse_any_toml`].
fn parse_cargo_written(text: &str) -> Option<Parsed<'_>> {
    // Cargo writes no escapes: one search of the whole text spares looking
    // for them in every value. `memchr`'s, as the slice's own `contains`
    // reads a word at a time (a ninth of the parse on a large lockfile).
    if memchr::memchr(b'\\', text.as_bytes()).is_some() {
        return None;
    }
    // Sized from the text (a package block is rarely under 100 bytes, a
    // dependency entry under 10): growing them a push at a time copied
    // them over and over.
    let mut raw: Vec<RawPackage<'_>> = Vec::with_capacity(text.len() / 100 + 1);
    // Every package's dependency entries, one list for the file.
    let mut entries: Vec<&str> = Vec::with_capacity(text.len() / 10 + 1);
    let mut in_dependencies = false;
    for (idx, line) in short_lines(text).enumerate() {
        let lineno = u32::try_from(idx + 1).ok()?;
        // Cargo's blanks are ASCII: the Unicode-aware `trim_end` cost more.
        let line = line.trim_end_matches([' ', '\t']);
        if in_dependencies {
            let block = raw.last_mut()?;
            block.end = lineno;
            if line == "]" {
                in_dependencies = false;
            } else {
                let entry = line.trim_start_matches(' ').strip_suffix(',')?;
                entries.push(quoted(entry)?);
                if let Some(range) = block.dependencies.as_mut() {
                    range.end = entries.len();
                }
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[package]]" {
            raw.push(RawPackage::new(lineno));
            continue;
        }
        let (key, value) = key_value(line)?;
        let Some(block) = raw.last_mut() else {
            // Before the first package only `version = 3` or `4` may appear.
            if key == "version" && matches!(value, "3" | "4") {
                continue;
            }
            return None;
        };
        block.end = lineno;
        match key {
            "name" if block.name.is_none() => block.name = Some(quoted(value)?),
            "version" if block.version.is_none() => block.version = Some(quoted(value)?),
            "source" if block.source.is_none() => block.source = Some(quoted(value)?),
            "checksum" => {
                // Cargo writes lowercase hex; anything else goes to the
                // full parser. A fold rather than `all`: no early exit, so
                // the check vectorises.
                let sum = quoted(value)?;
                let hex = sum
                    .bytes()
                    .fold(true, |ok, b| ok & matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if sum.len() != 64 || !hex {
                    return None;
                }
            }
            "dependencies" if value == "[" && block.dependencies.is_none() => {
                in_dependencies = true;
                block.dependencies = Some(entries.len()..entries.len());
            }
            _ => return None,
        }
    }
    if in_dependencies {
        return None;
    }
    let mut sources = SourceCache::default();
    let mut packages = Vec::with_capacity(raw.len());
    let mut versions = Vec::with_capacity(raw.len());
    let mut dependencies = Lists::with_capacity(raw.len(), entries.len());
    for block in raw {
        let version = block.version;
        packages.push(block.resolve(&entries, &mut sources, &mut dependencies)?);
        versions.push(Cow::Borrowed(version?));
    }
    Some((packages, versions, dependencies))
}

/// The crates on the `name = "..."` lines of lockfile `bytes`, each with
/// the version on the line after when that is a `version = "..."` line,
/// read without parsing the lockfile, so that loading their advisories can
/// start beside the parse. For a lockfile cargo wrote, these are the
/// locked packages; for any other it is only a guess (a crate or version
/// may be missed, or be one a parse would refuse), and the parse has the
/// last word.
pub fn locked_crates(bytes: &[u8]) -> impl Iterator<Item = (&str, Option<&str>)> {
    const KEY: &[u8] = b"name = \"";
    // Searching for the key (vectorised) rather than testing every line:
    // a lockfile has ten lines for each name.
    let first = bytes.starts_with(KEY).then_some(KEY.len());
    let later = memchr::memmem::find_iter(bytes, b"\nname = \"").map(|at| at + 1 + KEY.len());
    first.into_iter().chain(later).filter_map(move |start| {
        let (name, next) = quoted_line_value(bytes, start)?;
        let version = next
            .and_then(|at| bytes.get(at..)?.strip_prefix(b"version = \""))
            .and_then(|rest| quoted_line_value(rest, 0))
            .map(|(version, _)| version);
        Some((name, version))
    })
}

/// The rest of the line at `start` in `bytes`, which must end with `"`,
/// without that quote, and where the next line starts (if one does).
fn quoted_line_value(bytes: &[u8], start: usize) -> Option<(&str, Option<usize>)> {
    let rest = bytes.get(start..)?;
    let end = memchr::memchr(b'\n', rest);
    let line = &rest[..end.unwrap_or(rest.len())];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let value = std::str::from_utf8(line.strip_suffix(b"\"")?).ok()?;
    Some((value, end.map(|e| start + e + 1)))
}

/// The text of a TOML basic string: `"abc"` → `abc`. Escapes need not be
/// looked for: a text with a backslash never reaches this parser.
fn quoted(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    // `memchr`: `str::contains` goes through the slice's word-at-a-time
    // search, whose setup outweighs these short values.
    memchr::memchr(b'"', inner.as_bytes())
        .is_none()
        .then_some(inner)
}

/// The lines of `text`, as [`str::lines`] gives them. One `memchr`
/// iterator over the whole text finds the line ends: a byte loop per line
/// was a quarter of the parse, and `memchr` called anew for each short
/// line spends its time setting up.
fn short_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let (end, newline) = match ends.next() {
            Some(at) => (at, true),
            None => (text.len(), false),
        };
        // Both ends are at a newline or the text's ends: char boundaries.
        let line = text.get(start..end)?;
        start = end + 1;
        // Only `\r\n` ends a line: a last line's bare `\r` stays, as in
        // `str::lines`.
        if newline {
            Some(line.strip_suffix('\r').unwrap_or(line))
        } else {
            Some(line)
        }
    })
}

/// `key = value` as cargo writes it: one space each side of the first `=`.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let eq = line.bytes().position(|b| b == b'=')?;
    let key = line[..eq].strip_suffix(' ')?;
    let value = line[eq + 1..].strip_prefix(' ')?;
    Some((key, value))
}

/// Sources parsed so far, by their text. Nearly every package of a
/// lockfile has the same source as the one before it (crates.io), so that
/// one is checked first, without hashing.
#[derive(Default)]
struct SourceCache<'a> {
    last: Option<(&'a str, Arc<SourceId>)>,
    all: FastMap<&'a str, Arc<SourceId>>,
}

/// A source, parsed once per distinct text.
fn source_id<'a>(text: &'a str, cache: &mut SourceCache<'a>) -> Option<Arc<SourceId>> {
    if let Some((last, id)) = &cache.last {
        if *last == text {
            return Some(id.clone());
        }
    }
    let id = match cache.all.get(text) {
        Some(id) => id.clone(),
        None => {
            let id = Arc::new(SourceId::from_str(text).ok()?);
            cache.all.insert(text, id.clone());
            id
        }
    };
    cache.last = Some((text, id.clone()));
    Some(id)
}

/// `name`, `name version` or `name version (source)`.
fn dependency_ref<'a>(entry: &'a str, sources: &mut SourceCache<'a>) -> Option<DependencyRef<'a>> {
    // Split at spaces by hand: `splitn`'s searcher was a twentieth of
    // parsing a large lockfile, for entries of a few bytes.
    let split = |s: &'a str| match s.bytes().position(|b| b == b' ') {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (name, rest) = split(entry);
    if name.is_empty() {
        return None;
    }
    let (version, source) = match rest {
        Some(rest) => {
            let (version, source) = split(rest);
            (Some(version), source)
        }
        None => (None, None),
    };
    let source = match source {
        Some(s) => Some(source_id(s.strip_prefix('(')?.strip_suffix(')')?, sources)?),
        None => None,
    };
    if let Some(v) = version {
        Version::parse(v).ok()?;
    }
    Some(DependencyRef {
        name: Cow::Borrowed(name),
        version: version.map(Cow::Borrowed),
        source,
    })
}

/// Any lockfile `cargo-lock` reads (v1 `[root]` and `[metadata]`, inline
/// tables, escapes), with line ranges from a separate scan of the text.
fn parse_any_toml(text: &str) -> Result<Parsed<'static>, String> {
    non_ascii_checksum(text)?;
    let lockfile: Lockfile = text
        .parse()
        .map_err(|e: rustsec::cargo_lock::Error| describe_parse_error(text, &e.to_string()))?;
    let blocks = scan_blocks(text);
    let mut by_key: FastMap<(&str, &str), Vec<&Block>> = FastMap::default();
    for b in &blocks {
        if let (Some(n), Some(v)) = (&b.name, &b.version) {
            by_key.entry((n.as_str(), v.as_str())).or_default().push(b);
        }
    }
    let mut all: Vec<Package> = Vec::with_capacity(lockfile.packages.len() + 1);
    all.extend(lockfile.root);
    all.extend(lockfile.packages);
    let entries = all.iter().map(|p| p.dependencies.len()).sum();
    let mut dependencies = Lists::with_capacity(all.len(), entries);
    let mut versions = Vec::with_capacity(all.len());
    let packages = all
        .into_iter()
        .map(|package| {
            for d in package.dependencies {
                dependencies.push(DependencyRef {
                    name: Cow::Owned(d.name.as_str().to_string()),
                    version: Some(Cow::Owned(d.version.to_string())),
                    source: d.source.map(Arc::new),
                });
            }
            dependencies.end();
            let version = package.version.to_string();
            let block = by_key
                .get(&(package.name.as_str(), version.as_str()))
                .and_then(|cands| pick_block(cands, package.source.as_ref()));
            versions.push(Cow::Owned(version));
            let (start_line, end_line) = block.map_or((1, 1), |b| (b.start, b.end));
            LockedPackage {
                name: package.name,
                version: package.version,
                source: package.source.map(Arc::new),
                start_line,
                end_line,
            }
        })
        .collect();
    Ok((packages, versions, dependencies))
}

/// `cargo-lock` slices checksums two bytes at a time after checking their
/// length in bytes, so a multi-byte character in one made it panic (found
/// by fuzzing). Such a file is refused before it gets there.
fn non_ascii_checksum(text: &str) -> Result<(), String> {
    for (idx, line) in text.lines().enumerate() {
        if line.is_ascii() {
            continue;
        }
        // Every `checksum` key on the line (also inside an inline table, and
        // v1's `"checksum NAME VERSION (SOURCE)" = "..."`): its string value.
        for (at, _) in line.match_indices("checksum") {
            let Some((_, after)) = line[at..].split_once('=') else {
                continue;
            };
            let value = after
                .trim_start()
                .strip_prefix('"')
                .and_then(|v| v.split('"').next());
            if value.is_some_and(|v| !v.is_ascii()) {
                return Err(format!(
                    "line {}: a checksum that is not hexadecimal",
                    idx + 1
                ));
            }
        }
    }
    Ok(())
}

/// The parser's message on one line, without the source it quotes: TOML
/// errors draw the offending line under a caret, and that line may hold a
/// token (a lockfile is a scanned file). What remains is the position and
/// the complaint; a quoted string in it that comes from the file is masked.
pub(crate) fn describe_parse_error(text: &str, message: &str) -> String {
    let is_snippet = |l: &str| {
        let t = l.trim_start();
        t.starts_with('|')
            || t.split_once('|')
                .is_some_and(|(n, _)| n.trim().parse::<u32>().is_ok())
    };
    let mut out = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_snippet(l))
        .collect::<Vec<_>>()
        .join(": ");
    for quote in ['"', '`', '\''] {
        let quoted: Vec<String> = out
            .split(quote)
            .skip(1)
            .step_by(2)
            .filter(|piece| piece.len() >= 8 && text.contains(*piece))
            .map(str::to_string)
            .collect();
        for piece in quoted {
            let masked = crate::finding::SecretValue::new(piece.as_str()).masked();
            out = out.replace(&piece, &masked);
        }
    }
    out
}

/// Among blocks with the same name and version, the one whose `source` line
/// says the package's source.
fn pick_block<'a>(cands: &[&'a Block], source: Option<&SourceId>) -> Option<&'a Block> {
    if cands.len() == 1 {
        return cands.first().copied();
    }
    let want = source.map(|s| s.to_string());
    cands
        .iter()
        .find(|b| b.source == want)
        .or_else(|| {
            // Git sources may be written with or without the `#commit`
            // fragment that the parser normalises; compare the bases.
            let base = |s: &Option<String>| {
                s.as_deref()
                    .map(|s| s.split('#').next().unwrap_or(s).to_string())
            };
            cands.iter().find(|b| base(&b.source) == base(&want))
        })
        .or(cands.first())
        .copied()
}

fn same_source(a: Option<&SourceId>, b: Option<&SourceId>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.kind() == b.kind() && a.url() == b.url(),
        (None, None) => true,
        _ => false,
    }
}

fn find_roots(packages: &[LockedPackage], dependents: &Lists<usize>) -> Vec<usize> {
    let pathlike = |p: &LockedPackage| p.source.is_none();
    let members: Vec<usize> = (0..packages.len())
        .filter(|&i| pathlike(&packages[i]) && dependents.get(i).is_empty())
        .collect();
    if !members.is_empty() {
        return members;
    }
    let path_pkgs: Vec<usize> = (0..packages.len())
        .filter(|&i| pathlike(&packages[i]))
        .collect();
    if !path_pkgs.is_empty() {
        return path_pkgs;
    }
    (0..packages.len())
        .filter(|&i| dependents.get(i).is_empty())
        .collect()
}

fn bfs_parents(n: usize, roots: &[usize], deps: &Lists<usize>) -> Vec<usize> {
    let mut parent = vec![usize::MAX; n];
    let mut seen = vec![false; n];
    let mut queue = std::collections::VecDeque::new();
    for &r in roots {
        seen[r] = true;
        queue.push_back(r);
    }
    while let Some(i) = queue.pop_front() {
        for &d in deps.get(i) {
            if !seen[d] {
                seen[d] = true;
                parent[d] = i;
                queue.push_back(d);
            }
        }
    }
    parent
}

/// Finds each `[[package]]` and `[root]` block and the lines it spans: from
/// its header to its last non-blank line before the next header.
fn scan_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut cur: Option<Block> = None;
    for (idx, raw) in text.lines().enumerate() {
        let lineno = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let line = raw.trim();
        if line.starts_with('[') {
            blocks.extend(cur.take());
            if line == "[[package]]" || line == "[root]" {
                cur = Some(Block {
                    start: lineno,
                    end: lineno,
                    ..Block::default()
                });
            }
            continue;
        }
        let Some(b) = cur.as_mut() else { continue };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        b.end = lineno;
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().trim_matches('"').to_string();
            match key.trim() {
                "name" => b.name = Some(value),
                "version" => b.version = Some(value),
                "source" => b.source = Some(value),
                _ => {}
            }
        }
    }
    blocks.extend(cur);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lists end to end read back as pushed, empty ones included, and
    /// reverse into every edge the other way, in increasing order.
    #[test]
    fn lists_end_to_end_and_reversed() {
        let mut lists = Lists::with_capacity(4, 0);
        for list in [&[1usize, 2][..], &[], &[0, 1, 3], &[2]] {
            for &j in list {
                lists.push(j);
            }
            assert_eq!(lists.open(), list);
            lists.end();
            assert_eq!(lists.open(), &[] as &[usize]);
        }
        assert_eq!(lists.len(), 4);
        let got: Vec<&[usize]> = lists.iter().collect();
        assert_eq!(got, [&[1, 2][..], &[], &[0, 1, 3], &[2]]);
        assert_eq!(lists.get(2), &[0, 1, 3]);
        let back = lists.reversed();
        let got: Vec<&[usize]> = back.iter().collect();
        assert_eq!(got, [&[2][..], &[0, 2], &[0, 3], &[2]]);
    }

    const V3: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "mid",
 "leaf 1.0.0",
]

[[package]]
name = "leaf"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000000000000000000000000000000000000000000000000000000000000001"

[[package]]
name = "leaf"
version = "2.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000000000000000000000000000000000000000000000000000000000000002"

[[package]]
name = "mid"
version = "0.3.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000000000000000000000000000000000000000000000000000000000000003"
dependencies = [
 "leaf 2.0.0",
 "leaf 1.0.0",
]
"#;

    fn find(t: &LockedTree, name: &str, version: &str) -> usize {
        t.packages
            .iter()
            .position(|p| p.name() == name && p.version.to_string() == version)
            .unwrap()
    }

    #[test]
    fn blocks_span_header_to_last_line() {
        let t = LockedTree::parse(V3).unwrap();
        let app = &t.packages[find(&t, "app", "0.1.0")];
        assert_eq!((app.start_line, app.end_line), (5, 11));
        let leaf2 = &t.packages[find(&t, "leaf", "2.0.0")];
        assert_eq!((leaf2.start_line, leaf2.end_line), (19, 23));
        let mid = &t.packages[find(&t, "mid", "0.3.0")];
        assert_eq!((mid.start_line, mid.end_line), (25, 33));
    }

    #[test]
    fn a_dependency_chain_deeper_than_the_stack_is_counted() {
        // A scanned lockfile may chain packages as deep as it likes: path
        // counting must not recurse once per link (a test thread's stack
        // held a few thousand frames).
        let n = 50_000;
        let mut text = String::from("version = 3\n");
        for i in 0..n {
            text.push_str(&format!(
                "\n[[package]]\nname = \"c{i}\"\nversion = \"1.0.0\"\n"
            ));
            if i + 1 < n {
                text.push_str(&format!("dependencies = [\n \"c{}\",\n]\n", i + 1));
            }
        }
        let t = LockedTree::parse(&text).unwrap();
        let leaf = n - 1;
        assert_eq!(t.roots(), &[0]);
        assert_eq!(t.path_count(leaf), 1);
        assert_eq!(t.shortest_path(leaf).len(), n);
    }

    #[test]
    fn shortest_path_and_other_paths_from_the_member() {
        let t = LockedTree::parse(V3).unwrap();
        assert_eq!(t.roots(), &[find(&t, "app", "0.1.0")]);
        let leaf1 = find(&t, "leaf", "1.0.0");
        assert_eq!(t.shortest_path(leaf1), vec!["app", "leaf"]);
        assert_eq!(t.path_count(leaf1), 2, "app→leaf and app→mid→leaf");
        let leaf2 = find(&t, "leaf", "2.0.0");
        assert_eq!(t.shortest_path(leaf2), vec!["app", "mid", "leaf"]);
        assert_eq!(t.path_count(leaf2), 1);
    }

    /// Name, version, source, lines and sorted dependencies of one package.
    type PackageSummary = (String, String, Option<String>, u32, u32, Vec<String>);

    /// Everything a report or a match reads from a tree, in file order.
    fn summary(t: &LockedTree) -> Vec<PackageSummary> {
        let key = |i: usize| {
            let p = &t.packages[i];
            format!("{} {}", p.name, p.version)
        };
        (0..t.packages.len())
            .map(|i| {
                let p = &t.packages[i];
                let mut deps: Vec<String> = t.dependencies(i).iter().map(|&j| key(j)).collect();
                deps.sort();
                (
                    p.name().to_string(),
                    p.version.to_string(),
                    p.source.as_ref().map(|s| s.to_string()),
                    p.start_line,
                    p.end_line,
                    deps,
                )
            })
            .collect()
    }

    fn lockfiles_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                lockfiles_under(&p, out);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                // Cargo lockfiles only: not the Python ones beside them.
                .is_some_and(|n| {
                    n.ends_with(".lock") && crate::deps::python::format_of(n).is_none()
                })
            {
                out.push(p);
            }
        }
    }

    /// The line parser must read exactly what `cargo-lock` reads: same
    /// packages, sources, line ranges and edges, on every fixture lockfile
    /// and, when `TRIPLINE_SHARED` is set, on the real ones of deps-oracle.
    #[test]
    fn line_parser_agrees_with_cargo_lock() {
        let mut files = Vec::new();
        lockfiles_under(std::path::Path::new("fixtures/deps"), &mut files);
        if let Ok(shared) = std::env::var("TRIPLINE_SHARED") {
            lockfiles_under(
                &std::path::Path::new(&shared).join("deps-oracle"),
                &mut files,
            );
        }
        let mut fast = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let (p, v, d) = parse_any_toml(&text).unwrap();
            let full = LockedTree::with_graph(p, &v, &d);
            let Some((p, v, d)) = parse_cargo_written(&text) else {
                // Only v1 (legacy `[root]`/`[metadata]`) is left to cargo-lock.
                assert!(
                    text.contains("[metadata]") || text.contains("[root]"),
                    "{}",
                    f.display()
                );
                continue;
            };
            fast += 1;
            let lines = LockedTree::with_graph(p, &v, &d);
            assert_eq!(summary(&lines), summary(&full), "{}", f.display());
            assert_eq!(lines.roots(), full.roots(), "{}", f.display());
        }
        assert!(fast >= 6, "only {fast} lockfiles took the line parser");
    }

    #[test]
    fn unusual_toml_falls_back_to_the_full_parser() {
        // An inline array, a literal string and an escape: valid TOML that
        // cargo does not write. The full parser still reads each.
        for text in [
            "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b\"]\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n",
            "version = 3\n\n[[package]]\nname = 'a'\nversion = \"1.0.0\"\n",
            "version = 3\n\n[[package]]\nname = \"\\u0061\"\nversion = \"1.0.0\"\n",
        ] {
            assert!(parse_cargo_written(text).is_none(), "{text}");
            let t = LockedTree::parse(text).unwrap();
            assert_eq!(t.packages[0].name(), "a", "{text}");
        }
        let t = LockedTree::parse(
            "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b\"]\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n",
        )
        .unwrap();
        assert_eq!(t.shortest_path(1), vec!["a", "b"]);
    }

    #[test]
    fn truncated_and_unknown_versions_are_errors() {
        let cut = &V3[..V3.len() - 20];
        assert!(LockedTree::parse(cut).is_err());
        assert!(LockedTree::parse(&V3.replace("version = 3", "version = 99")).is_err());
    }

    #[test]
    fn parse_errors_quote_no_source_line() {
        let token = "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";
        for text in [
            format!("version = 3\n\n[[package]]\nname = \"x\"\nversion = \"{token}\"\n"),
            format!("version = 3\n\n[[package]]\nname = \"x\"\nversion = {token}\n"),
            format!("version = 3\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\nsource = \"{token}\"\n"),
        ] {
            let e = LockedTree::parse(&text).unwrap_err();
            assert!(!e.contains(token), "{e}");
            assert!(!e.contains('\n'), "{e}");
            assert!(e.contains("line 5") || e.contains("line 6"), "{e}");
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(LockedTree::parse("[[package]]\nname = 3\n").is_err());
    }

    #[test]
    fn locked_crates_are_the_whole_name_lines_with_the_version_after() {
        let text = b"name = \"first\"\nversion = \"1.0.0\"\n[[package]]\r\nname = \"crlf\"\r\nversion = \"2.0.0\"\r\n  name = \"indented\"\nname = \"a\" # note\nxname = \"no\"\nname = \"\xff\"\nname = \"noversion\"\nsource = \"x\"\nversion = \"3.0.0\"\nname = \"badversion\"\nversion = 3\nname = \"last\"";
        let crates: Vec<_> = locked_crates(text).collect();
        assert_eq!(
            crates,
            [
                ("first", Some("1.0.0")),
                ("crlf", Some("2.0.0")),
                ("noversion", None),
                ("badversion", None),
                ("last", None)
            ]
        );
        assert_eq!(
            locked_crates(V3.as_bytes()).collect::<Vec<_>>(),
            [
                ("app", Some("0.1.0")),
                ("leaf", Some("1.0.0")),
                ("leaf", Some("2.0.0")),
                ("mid", Some("0.3.0"))
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn short_lines_are_the_lines_str_gives(text in "[a\r\n é]{0,40}") {
            let ours: Vec<&str> = short_lines(&text).collect();
            let std: Vec<&str> = text.lines().collect();
            proptest::prop_assert_eq!(ours, std);
        }
    }
}
