//! Sources of bytes that every scanner reads: the working-tree walk and the
//! safe way to open a file found in a scanned tree.
//!
//! This layer sits below both scanners (`secrets`, `deps`) and knows
//! neither: it hands out paths and bytes, reports what it skipped, and never
//! decides what a file means. It may use `finding` (for `ScanError` and
//! `ScanStats`) and nothing else of the crate. The other sources (the git
//! index and history) live with the secrets scanner, the only one that
//! reads them.

#[cfg(unix)]
pub mod dir;
pub mod stdin;
pub mod walk;

/// How `content` is UTF-16 encoded, if it is: little-endian or not, and
/// the length of its byte-order mark. Without a mark, the first 8 KiB must
/// be nearly all ASCII characters in one byte order (every other byte NUL):
/// how Windows tools write text, and nothing a real binary file looks like.
pub fn utf16_encoding(content: &[u8]) -> Option<(bool, usize)> {
    match content {
        [0xFF, 0xFE, ..] => return Some((true, 2)),
        [0xFE, 0xFF, ..] => return Some((false, 2)),
        _ => {}
    }
    let head = &content[..content.len().min(8192)];
    // Without a BOM, nine pairs in ten must hold a NUL: a head with no NUL
    // at all (nearly every text file) is settled by one fast search.
    if head.len() < 4 || !head.contains(&0) {
        return None;
    }
    let pairs = head.len() / 2;
    let (mut le, mut be) = (0usize, 0usize);
    for p in head.chunks_exact(2) {
        if p[1] == 0 && p[0] != 0 {
            le += 1;
        } else if p[0] == 0 && p[1] != 0 {
            be += 1;
        }
    }
    if le * 10 >= pairs * 9 {
        Some((true, 0))
    } else if be * 10 >= pairs * 9 {
        Some((false, 0))
    } else {
        None
    }
}
