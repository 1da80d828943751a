//! The secrets engine with the full built-in catalog on arbitrary bytes.
//! Beyond "no panic, no hang", every finding must point at its secret: its
//! start and end (line, UTF-16 column) must be positions in the scanned
//! text, computed here independently, between which lies exactly the
//! secret the finding carries.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tripline::config::Config;
use tripline::finding::FindingKind;
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let set = RuleSet::load(&[], &[]).expect("the built-in rules load");
    Engine::new(set, &Config::default()).expect("the engine builds")
});

/// Paths that some built-in rules' `path` filters select; a leading byte
/// below `PATHS.len()` picks one, otherwise the first is used.
const PATHS: &[&str] = &[
    "config/app.env",
    "src/main.rs",
    ".npmrc",
    ".git-credentials",
    "infra/terraform.tfstate",
    "home/.pgpass",
    "site/wp-config.php",
    "tests/fixtures/keys.py",
    ".idea/dataSources.xml",
    "deploy/settings.yml",
    // Selected by path keywords (`keywords_in = "path"`): the whole file
    // goes through the rule's regex.
    "config/master.key",
];

fuzz_target!(|data: &[u8]| {
    let (path, content) = match data.split_first() {
        Some((&b, rest)) if usize::from(b) < PATHS.len() => (PATHS[usize::from(b)], rest),
        _ => (PATHS[0], data),
    };
    let findings = ENGINE.scan(path, content);
    if findings.is_empty() {
        return;
    }
    let text = decoded(content);
    let positions = reference_positions(&text);
    for f in &findings {
        assert_eq!(f.kind, FindingKind::Secret);
        assert_eq!(f.location.path, path);
        assert!(
            ENGINE.rule_info(&f.rule_id).is_some(),
            "unknown rule {}",
            f.rule_id
        );
        assert_eq!(f.fingerprint.len(), 32);
        let secret = f
            .secret
            .as_ref()
            .expect("a secret finding carries its value");
        let value = secret.expose();
        assert!(!value.is_empty(), "empty secret from {}", f.rule_id);
        assert_eq!(f.excerpt, secret.masked());
        let loc = &f.location;
        assert!(loc.start_line >= 1 && loc.start_column >= 1);
        assert!(loc.end_line >= 1 && loc.end_column >= 1);
        let start = (loc.start_line, loc.start_column);
        let end = (loc.end_line, loc.end_column);
        let starts: Vec<usize> = (0..positions.len())
            .filter(|&o| positions[o] == start)
            .collect();
        let ends: Vec<usize> = (0..positions.len())
            .filter(|&o| positions[o] == end)
            .collect();
        assert!(
            !starts.is_empty() && !ends.is_empty(),
            "{}: {start:?}..{end:?} is not a position in the text",
            f.rule_id
        );
        let spans_secret = starts.iter().any(|&s| {
            ends.iter()
                .any(|&e| s < e && String::from_utf8_lossy(&text[s..e]) == value)
        });
        assert!(
            spans_secret,
            "{}: {start:?}..{end:?} does not span the secret {value:?}",
            f.rule_id
        );
    }
});

/// What the engine scans: a file with a UTF-16 byte order mark is decoded
/// (unpaired surrogates as U+FFFD, an odd last byte dropped).
fn decoded(content: &[u8]) -> Vec<u8> {
    let little = match content {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return content.to_vec(),
    };
    let units: Vec<u16> = content[2..]
        .chunks_exact(2)
        .map(|p| {
            if little {
                u16::from_le_bytes([p[0], p[1]])
            } else {
                u16::from_be_bytes([p[0], p[1]])
            }
        })
        .collect();
    String::from_utf16_lossy(&units).into_bytes()
}

/// For every byte offset `0..=len`, its 1-based (line, UTF-16 column) by
/// the documented rules: lines end at LF, CRLF or a lone CR; the column
/// counts the UTF-16 units of the line's text before the offset, each
/// byte that is not part of a whole UTF-8 character counting one.
fn reference_positions(text: &[u8]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(text.len() + 1);
    let mut line = 1u32;
    let mut line_start = 0usize;
    for off in 0..=text.len() {
        if off > 0 {
            let b = text[off - 1];
            let lone_cr = b == b'\r' && text.get(off) != Some(&b'\n');
            if b == b'\n' || lone_cr {
                line += 1;
                line_start = off;
            }
        }
        out.push((line, 1 + units(&text[line_start..off])));
    }
    out
}

/// UTF-16 units of `bytes`, decoding with `str::from_utf8` piece by piece.
fn units(mut bytes: &[u8]) -> u32 {
    let mut n = 0u32;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => return n + s.encode_utf16().count() as u32,
            Err(e) => {
                let good = e.valid_up_to();
                let s = std::str::from_utf8(&bytes[..good]).expect("valid prefix");
                n += s.encode_utf16().count() as u32;
                let bad = e.error_len().unwrap_or(bytes.len() - good);
                n += bad as u32;
                bytes = &bytes[good + bad..];
            }
        }
    }
}
