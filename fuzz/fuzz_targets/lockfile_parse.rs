//! The lockfile parser on arbitrary bytes, as the auditor feeds it (lossy
//! UTF-8), then every query the auditor makes of the tree. Each package's
//! block lies in the file; each shortest path ends at the package; on small
//! graphs, `path_count` agrees with a brute-force count of the paths it
//! documents (simple paths up the dependents to the first workspace member).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline::deps::lockfile::LockedTree;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if hits_known_checksum_panic(&text) {
        return;
    }
    let Ok(tree) = LockedTree::parse(&text) else {
        return;
    };
    let n = tree.packages.len();
    let lines = u32::try_from(text.lines().count().max(1)).unwrap_or(u32::MAX);
    for &r in tree.roots() {
        assert!(r < n);
    }
    for (i, p) in tree.packages.iter().enumerate() {
        assert!(
            1 <= p.start_line && p.start_line <= p.end_line && p.end_line <= lines,
            "package {i} spans lines {}..={} of {lines}",
            p.start_line,
            p.end_line
        );
        for &d in tree.dependencies(i) {
            assert!(d < n && d != i);
        }
        let path = tree.shortest_path(i);
        assert!(!path.is_empty() && path.len() <= n);
        assert_eq!(path.last().map(String::as_str), Some(p.name()));
        let count = tree.path_count(i);
        if n <= 10 {
            assert_eq!(
                count,
                reference_path_count(&tree, i),
                "path_count({i}) disagrees with a brute-force count"
            );
        }
    }
});

/// Simple paths from `i` up the dependents graph, each ending at the first
/// workspace member it meets (a member counts one path for itself).
fn reference_path_count(tree: &LockedTree, i: usize) -> u64 {
    let n = tree.packages.len();
    let mut dependents = vec![Vec::new(); n];
    for p in 0..n {
        for &d in tree.dependencies(p) {
            dependents[d].push(p);
        }
    }
    fn walk(i: usize, roots: &[usize], up: &[Vec<usize>], on_path: &mut [bool]) -> u64 {
        if roots.contains(&i) {
            return 1;
        }
        on_path[i] = true;
        let mut total = 0;
        for &d in &up[i] {
            if !on_path[d] {
                total += walk(d, roots, up, on_path);
            }
        }
        on_path[i] = false;
        total
    }
    walk(i, tree.roots(), &dependents, &mut vec![false; n])
}

/// Known bug, found by this target and reported (tests/fuzz_regressions.rs,
/// `lockfile_checksum_with_a_multibyte_character_is_an_error`): cargo-lock's
/// `Checksum::from_str` checks a checksum is 64 *bytes* long, then slices it
/// two bytes at a time, so a 64-byte string with a multi-byte character
/// panics. Inputs with such a string anywhere are skipped so that the
/// target can look for other bugs; remove this once `LockedTree::parse`
/// survives them.
fn hits_known_checksum_panic(text: &str) -> bool {
    fn any_string(v: &toml::Value) -> bool {
        match v {
            toml::Value::String(s) => s.len() == 64 && !s.is_ascii(),
            toml::Value::Array(a) => a.iter().any(any_string),
            toml::Value::Table(t) => t.values().any(any_string),
            _ => false,
        }
    }
    text.parse::<toml::Table>()
        .is_ok_and(|t| any_string(&toml::Value::Table(t)))
}
