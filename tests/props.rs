//! Property tests of the derivations every report relies on: where a
//! finding is (lines and UTF-16 columns, through the public engine, against
//! a reference computed here from `char`s and `encode_utf16`), how a secret
//! is masked, and that the engine's line numbers are the lines GitHub's
//! line hash counts.

use std::sync::LazyLock;

use proptest::prelude::*;
use tripline::config::Config;
use tripline::finding::linehash::line_hashes;
use tripline::finding::{
    fingerprint, Confidence, Finding, FindingKind, Location, SecretValue, Severity,
};
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;

/// A GitHub classic token with a valid checksum, made up for tests.
const TOKEN: &str = "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";
const RULE: &str = "github-pat-classic";

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let set = RuleSet::load(&[], &[]).expect("the built-in rules load");
    Engine::new(set, &Config::default()).expect("the engine builds")
});

/// Pieces of text that matter to line and column arithmetic: one- to
/// four-byte characters (two UTF-16 units for the astral ones), combining
/// marks, a byte order mark inside the text, LF, CRLF, lone CR, CR before
/// a blank, and bytes that are not UTF-8 (lone, truncated, overlong).
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        &b"a"[..],
        b"Z9",
        b" ",
        b"\t",
        b"=",
        "\u{e9}".as_bytes(),
        "e\u{301}".as_bytes(),
        "\u{20ac}".as_bytes(),
        "\u{65e5}\u{672c}".as_bytes(),
        "\u{1f600}".as_bytes(),
        "\u{10348}".as_bytes(),
        "\u{feff}".as_bytes(),
        "\u{fffd}".as_bytes(),
        b"\n",
        b"\r\n",
        b"\r",
        b"\r \n",
        b"\n\r",
        b"\xff",
        b"\xe2\x82",
        b"\xc0\xaf",
        b"\xf0\x9f\x98",
    ])
    .prop_map(<[u8]>::to_vec)
}

/// Pieces that end a word, so `\b` holds on either side of the token.
fn boundary() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        &b" "[..],
        b"\n",
        b"\r\n",
        b"\r",
        b"=",
        "\u{e9}".as_bytes(),
        "\u{1f600}".as_bytes(),
        b"\xff",
        b"\"",
    ])
    .prop_map(<[u8]>::to_vec)
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(piece(), 0..60).prop_map(|v| v.concat())
}

/// `before`, a separator, the token, a separator, `after`; and the token's
/// byte offset.
fn planted() -> impl Strategy<Value = (Vec<u8>, usize)> {
    (text(), boundary(), boundary(), text()).prop_map(|(before, l, r, after)| {
        let mut content = before;
        content.extend_from_slice(&l);
        let at = content.len();
        content.extend_from_slice(TOKEN.as_bytes());
        content.extend_from_slice(&r);
        content.extend_from_slice(&after);
        (content, at)
    })
}

/// The reference position of byte `offset`: 1-based line (LF, CRLF and a
/// lone CR each end one) and 1-based UTF-16 column (each byte that is not
/// part of a whole UTF-8 character counting one unit).
fn reference_position(content: &[u8], offset: usize) -> (u32, u32) {
    let prefix = &content[..offset];
    let mut line = 1;
    let mut line_start = 0;
    for (i, &b) in prefix.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && content.get(i + 1) != Some(&b'\n')) {
            line += 1;
            line_start = i + 1;
        }
    }
    let mut units = 0;
    let mut rest = &prefix[line_start..];
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                units += s
                    .chars()
                    .map(|c| c.encode_utf16(&mut [0; 2]).len())
                    .sum::<usize>();
                rest = &[];
            }
            Err(e) => {
                let good = &rest[..e.valid_up_to()];
                let s = std::str::from_utf8(good).expect("the valid prefix");
                units += s
                    .chars()
                    .map(|c| c.encode_utf16(&mut [0; 2]).len())
                    .sum::<usize>();
                let bad = e.error_len().unwrap_or(rest.len() - good.len());
                units += bad;
                rest = &rest[good.len() + bad..];
            }
        }
    }
    (line, 1 + units as u32)
}

/// The offsets where a UTF-16 unit may start: each whole character's
/// first byte, each byte that is not part of one, and the end.
fn unit_boundaries(content: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut base = 0;
    let mut rest = content;
    loop {
        let (good, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s.len(), 0),
            Err(e) => (
                e.valid_up_to(),
                e.error_len().unwrap_or(rest.len() - e.valid_up_to()),
            ),
        };
        let s = std::str::from_utf8(&rest[..good]).expect("the valid prefix");
        out.extend(s.char_indices().map(|(i, _)| base + i));
        out.extend((0..bad).map(|i| base + good + i));
        if good + bad == rest.len() {
            out.push(base + rest.len());
            return out;
        }
        base += good + bad;
        rest = &rest[good + bad..];
    }
}

/// The byte offset where a 1-based line starts, by the same line rules.
fn line_start(content: &[u8], line: u32) -> usize {
    let mut current = 1;
    for (i, &b) in content.iter().enumerate() {
        if current == line {
            return i;
        }
        if b == b'\n' || (b == b'\r' && content.get(i + 1) != Some(&b'\n')) {
            current += 1;
            if current == line {
                return i + 1;
            }
        }
    }
    content.len()
}

fn token_findings(path: &str, content: &[u8]) -> Vec<Finding> {
    ENGINE
        .scan(path, content)
        .into_iter()
        .filter(|f| f.rule_id == RULE)
        .collect()
}

fn utf16_file(text: &str, little_endian: bool) -> Vec<u8> {
    let mut out = if little_endian {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend(if little_endian {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

/// How many characters `masked` may show: four, or a quarter of a value
/// under 16 characters.
fn shown(secret: &str) -> usize {
    let n = secret.chars().count();
    if n >= 16 {
        4
    } else {
        n / 4
    }
}

fn secret_finding(secret: Option<SecretValue>, excerpt: String) -> Finding {
    Finding {
        kind: FindingKind::Secret,
        rule_id: RULE.into(),
        rule_title: "GitHub personal access token (classic)".into(),
        severity: Severity::Critical,
        confidence: Confidence::High,
        location: Location::lines("src/main.rs", 3, 3),
        excerpt,
        fingerprint: fingerprint(&[RULE, "src/main.rs", "x"]),
        dependency: None,
        secret,
        suppressed: None,
    }
}

/// Secrets of every shape: ASCII tokens, multi-byte and astral
/// characters, combining marks, short and long.
fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_+/=-]{0,80}",
        "[a-z\u{e9}\u{20ac}\u{65e5}\u{1f600}\u{10348}\u{301}0-9]{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_finding_points_at_its_secret((content, at) in planted()) {
        let found = token_findings("src/main.rs", &content);
        prop_assert_eq!(found.len(), 1, "one token planted: {:?}", found);
        let f = &found[0];
        prop_assert_eq!(f.secret.as_ref().map(SecretValue::expose), Some(TOKEN));
        let (line, column) = reference_position(&content, at);
        let (end_line, end_column) = reference_position(&content, at + TOKEN.len());
        let loc = &f.location;
        prop_assert_eq!(
            (loc.start_line, loc.start_column, loc.end_line, loc.end_column),
            (line, column, end_line, end_column)
        );
        // The ASCII token spans 40 UTF-16 units on one line.
        prop_assert_eq!((end_line, end_column), (line, column + 40));
        // And the reference maps the location back to the token's bytes:
        // the first character boundary at that position.
        let offset = unit_boundaries(&content)
            .into_iter()
            .find(|&o| reference_position(&content, o) == (loc.start_line, loc.start_column));
        prop_assert_eq!(offset, Some(at));
        prop_assert_eq!(&content[at..at + TOKEN.len()], TOKEN.as_bytes());
    }

    #[test]
    fn a_utf16_file_gives_the_utf8_positions(
        (content, _) in planted(),
        little_endian in any::<bool>(),
    ) {
        // Only valid UTF-8 can be written as UTF-16: drop what is not.
        let text = String::from_utf8_lossy(&content).into_owned();
        let utf8 = token_findings("src/main.rs", text.as_bytes());
        let utf16 = token_findings("src/main.rs", &utf16_file(&text, little_endian));
        prop_assert_eq!(utf8.len(), 1);
        prop_assert_eq!(utf16.len(), 1);
        prop_assert_eq!(&utf16[0].location, &utf8[0].location);
        prop_assert_eq!(&utf16[0].secret, &utf8[0].secret);
    }

    #[test]
    fn the_engines_lines_are_githubs_lines((content, _) in planted()) {
        // The SARIF writer pairs a finding's start line with the line hash
        // of that line: both must count lines alike. A line's hash, less
        // its occurrence counter, is the first hash of the text from that
        // line on.
        let found = token_findings("src/main.rs", &content);
        prop_assert_eq!(found.len(), 1);
        let line = found[0].location.start_line as usize;
        let hashes = line_hashes(&content);
        prop_assert!(line <= hashes.len());
        let from_line = line_hashes(&content[line_start(&content, line as u32)..]);
        let value = |h: &str| h.split(':').next().map(str::to_owned);
        prop_assert_eq!(value(&hashes[line - 1]), value(&from_line[0]));
    }

    #[test]
    fn masking_shows_at_most_the_documented_prefix(s in secret()) {
        let masked = SecretValue::new(s.clone()).masked();
        let n = s.chars().count();
        let shown = shown(&s);
        prop_assert!(shown <= 4 && (n >= 16 || shown * 4 <= n));
        let prefix: String = s.chars().take(shown).collect();
        prop_assert!(masked.starts_with(&prefix));
        let stars = &masked[prefix.len()..];
        prop_assert!(!stars.is_empty() && stars.len() <= 24, "{} stars", stars.len());
        prop_assert!(stars.bytes().all(|b| b == b'*'));
        prop_assert_eq!(stars.len(), (n - shown).clamp(1, 24));
    }

    #[test]
    fn masking_never_contains_the_secret(s in secret()) {
        // The one exception is a value that already is its own mask: stars
        // after the shown prefix (then nothing is hidden to begin with).
        let shown = shown(&s);
        prop_assume!(s.chars().skip(shown).any(|c| c != '*'));
        let value = SecretValue::new(s.clone());
        prop_assert!(!value.masked().contains(&s));
        // Debug prints the mask and nothing else of the value.
        prop_assert_eq!(format!("{value:?}"), format!("SecretValue({})", value.masked()));
    }

    #[test]
    fn the_mask_depends_only_on_the_prefix_and_length(s in secret(), t in secret()) {
        // Two values of the same length and prefix mask alike: the mask
        // says nothing of the hidden characters.
        let n = s.chars().count();
        let shown = shown(&s);
        let other: String = s
            .chars()
            .take(shown)
            .chain(t.chars().chain(std::iter::repeat('x')).take(n - shown))
            .collect();
        prop_assert_eq!(
            SecretValue::new(other).masked(),
            SecretValue::new(s).masked()
        );
    }

    #[test]
    fn serde_never_writes_the_value(s in secret()) {
        let value = SecretValue::new(s.clone());
        let with = serde_json::to_string(&secret_finding(Some(value.clone()), value.masked()))
            .expect("a finding serializes");
        let without = serde_json::to_string(&secret_finding(None, value.masked()))
            .expect("a finding serializes");
        prop_assert_eq!(&with, &without);
        let shown = shown(&s);
        if s.chars().count() >= 8 && s.chars().skip(shown).any(|c| c != '*') {
            let parsed: serde_json::Value = serde_json::from_str(&with).expect("parses");
            let mut strings = Vec::new();
            collect_strings(&parsed, &mut strings);
            for text in strings {
                prop_assert!(!text.contains(&s), "{:?} in {:?}", s, text);
            }
        }
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            collect_strings(x, out)
        }),
        _ => {}
    }
}

#[test]
fn the_planted_token_is_valid() {
    // Guards the properties above against a token the validator refuses.
    let found = token_findings("src/main.rs", format!("t = {TOKEN}\n").as_bytes());
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].location.start_column, found[0].location.end_column),
        (5, 45)
    );
}
