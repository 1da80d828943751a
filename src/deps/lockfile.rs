//! One `Cargo.lock`: its packages, where each `[[package]]` block sits in the
//! file, and the dependency graph between them.
//!
//! Parsing the TOML (lockfile versions 1 to 4, path, git and registry
//! sources) is left to the `cargo-lock` crate that `rustsec` uses, so the
//! packages we match are exactly the ones cargo-audit matches. What that
//! crate does not give is *where* a package is written, which a SARIF result
//! needs; that comes from a line scan of the same text. This module does not
//! know about advisories.

use std::collections::HashMap;

use rustsec::cargo_lock::{Lockfile, Package, SourceId};

/// A parsed lockfile with line ranges and a graph.
#[derive(Debug)]
pub struct LockedTree {
    /// Every package, in the order the parser gave them. A v1 lockfile's
    /// legacy `[root]` package is included, as a workspace member.
    pub packages: Vec<LockedPackage>,
    /// `deps[i]`: indices of the packages package `i` depends on.
    deps: Vec<Vec<usize>>,
    /// `dependents[i]`: indices of the packages that depend on package `i`.
    dependents: Vec<Vec<usize>>,
    /// Indices of the workspace members: the starting points of paths.
    roots: Vec<usize>,
    /// Breadth-first parent pointers from the roots (`usize::MAX`: none).
    parent: Vec<usize>,
}

#[derive(Debug)]
pub struct LockedPackage {
    pub package: Package,
    /// 1-based, inclusive: the `[[package]]` header to the block's last line.
    pub start_line: u32,
    pub end_line: u32,
}

impl LockedPackage {
    pub fn name(&self) -> &str {
        self.package.name.as_str()
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
    /// Parses lockfile text. The error is the parser's message.
    pub fn parse(text: &str) -> Result<LockedTree, String> {
        let lockfile: Lockfile = text
            .parse()
            .map_err(|e: rustsec::cargo_lock::Error| e.to_string())?;
        let blocks = scan_blocks(text);
        let mut by_key: HashMap<(&str, &str), Vec<&Block>> = HashMap::new();
        for b in &blocks {
            if let (Some(n), Some(v)) = (&b.name, &b.version) {
                by_key.entry((n.as_str(), v.as_str())).or_default().push(b);
            }
        }
        let mut all: Vec<Package> = Vec::with_capacity(lockfile.packages.len() + 1);
        all.extend(lockfile.root);
        all.extend(lockfile.packages);
        let packages: Vec<LockedPackage> = all
            .into_iter()
            .map(|package| {
                let version = package.version.to_string();
                let block = by_key
                    .get(&(package.name.as_str(), version.as_str()))
                    .and_then(|cands| pick_block(cands, package.source.as_ref()));
                let (start_line, end_line) = block.map_or((1, 1), |b| (b.start, b.end));
                LockedPackage {
                    package,
                    start_line,
                    end_line,
                }
            })
            .collect();
        Ok(LockedTree::with_graph(packages))
    }

    fn with_graph(packages: Vec<LockedPackage>) -> LockedTree {
        let mut index: HashMap<(&str, String), Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            index
                .entry((p.name(), p.package.version.to_string()))
                .or_default()
                .push(i);
        }
        let n = packages.len();
        let mut deps = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        for (i, p) in packages.iter().enumerate() {
            for d in &p.package.dependencies {
                let Some(cands) = index.get(&(d.name.as_str(), d.version.to_string())) else {
                    continue;
                };
                let j = match cands.as_slice() {
                    [only] => *only,
                    many => *many
                        .iter()
                        .find(|&&j| {
                            same_source(packages[j].package.source.as_ref(), d.source.as_ref())
                        })
                        .unwrap_or(&many[0]),
                };
                if j != i && !deps[i].contains(&j) {
                    deps[i].push(j);
                    dependents[j].push(i);
                }
            }
        }
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
        let mut memo: HashMap<usize, u64> = HashMap::new();
        let mut on_stack = vec![false; self.packages.len()];
        self.count_paths(i, &mut memo, &mut on_stack)
    }

    fn count_paths(&self, i: usize, memo: &mut HashMap<usize, u64>, on_stack: &mut [bool]) -> u64 {
        if let Some(&c) = memo.get(&i) {
            return c;
        }
        if self.roots.contains(&i) {
            return 1;
        }
        on_stack[i] = true;
        let mut total: u64 = 0;
        for &d in &self.dependents[i] {
            if !on_stack[d] {
                total = total.saturating_add(self.count_paths(d, memo, on_stack));
            }
        }
        on_stack[i] = false;
        memo.insert(i, total);
        total
    }

    /// Direct dependencies of package `i`.
    pub fn dependencies(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }
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

fn find_roots(packages: &[LockedPackage], dependents: &[Vec<usize>]) -> Vec<usize> {
    let pathlike = |p: &LockedPackage| p.package.source.is_none();
    let members: Vec<usize> = (0..packages.len())
        .filter(|&i| pathlike(&packages[i]) && dependents[i].is_empty())
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
        .filter(|&i| dependents[i].is_empty())
        .collect()
}

fn bfs_parents(n: usize, roots: &[usize], deps: &[Vec<usize>]) -> Vec<usize> {
    let mut parent = vec![usize::MAX; n];
    let mut seen = vec![false; n];
    let mut queue = std::collections::VecDeque::new();
    for &r in roots {
        seen[r] = true;
        queue.push_back(r);
    }
    while let Some(i) = queue.pop_front() {
        for &d in &deps[i] {
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
            .position(|p| p.name() == name && p.package.version.to_string() == version)
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

    #[test]
    fn garbage_is_an_error() {
        assert!(LockedTree::parse("[[package]]\nname = 3\n").is_err());
    }
}
