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
