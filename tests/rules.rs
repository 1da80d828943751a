//! The secrets engine and the rule loader on real input: every built-in
//! rule's examples (through `tripline rules test` and the library), each
//! validator, each suppression form, encodings, a 5 MB one-line file, and
//! each loader error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use tripline::config::Config;
use tripline::finding::{Confidence, Finding, SuppressionKind, SuppressionMechanism};
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;
use tripline::secrets::validators::base62_checksum;

fn tripline() -> Command {
    let mut c = Command::cargo_bin("tripline").expect("binary builds");
    c.timeout(Duration::from_secs(60));
    c
}

/// A small deterministic generator: test bodies vary by seed without a
/// `rand` dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn string(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A token in GitHub's scheme: prefix, 30 random base62 characters, and
/// the base62 CRC32 of those 30.
fn checksummed(prefix: &str, rng: &mut XorShift) -> String {
    let body = rng.string(30, ALNUM);
    let sum = base62_checksum(crc32fast::hash(body.as_bytes()));
    format!("{prefix}{body}{}", String::from_utf8_lossy(&sum))
}

/// The same token with its checksum's last character changed.
fn broken_checksum(token: &str) -> String {
    let last = token.chars().last().unwrap();
    let other = if last == 'A' { 'B' } else { 'A' };
    format!("{}{other}", &token[..token.len() - 1])
}

fn builtin_engine() -> Engine {
    Engine::new(RuleSet::load(&[], &[]).unwrap(), &Config::default()).unwrap()
}

/// An engine with only the rules whose ids start with one of `keep`: the
/// full catalog's generic rules would otherwise also (rightly) report the
/// test lines, and these tests are about one rule's path through the engine.
fn engine_keeping(rule_files: &[PathBuf], config: &str, keep: &[&str]) -> Engine {
    let config = Config::parse(config).unwrap();
    let all = RuleSet::load(rule_files, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    let disabled: Vec<String> = all
        .rules
        .iter()
        .filter(|r| !keep.iter().any(|k| r.id.starts_with(k)))
        .map(|r| r.id.clone())
        .collect();
    let set = RuleSet::load(rule_files, &disabled).unwrap();
    Engine::new(set, &config).unwrap()
}

fn ids(found: &[Finding]) -> Vec<&str> {
    found.iter().map(|f| f.rule_id.as_str()).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ---------------------------------------------------------------- built-ins

#[test]
fn rules_test_passes_over_the_built_ins() {
    let out = tripline().args(["rules", "test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("ok: "), "{stdout}");
}

#[test]
fn every_built_in_rule_has_examples_both_ways_and_they_hold() {
    let (set, problems) = RuleSet::load_checked(&[], &[], true).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(set.len() >= 20, "only {} rules", set.len());
    for r in &set.rules {
        assert!(!r.examples.is_empty(), "{} has no example", r.id);
        assert!(
            !r.negative_examples.is_empty(),
            "{} has no negative example",
            r.id
        );
        assert!(!r.references.is_empty(), "{} has no reference", r.id);
    }
}

#[test]
fn rules_list_json_names_every_rule() {
    let out = tripline()
        .args(["--format", "json", "rules", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    let set = RuleSet::load(&[], &[]).unwrap();
    assert_eq!(rows.len(), set.len());
    assert!(rows
        .iter()
        .any(|r| r["id"] == "github-pat-classic" && r["validator"] == "github-crc32"));
    // Whether keywords are looked for in content or in the path.
    assert!(rows
        .iter()
        .any(|r| r["id"] == "rails-master-key" && r["keywords_in"] == "path"));
    assert!(rows
        .iter()
        .all(|r| r["keywords_in"] == "path" || r["keywords_in"] == "content"));
}

// ---------------------------------------------------------------- validators

#[test]
fn github_tokens_are_reported_only_with_a_valid_checksum() {
    let engine = engine_keeping(&[], "", &["github-"]);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        for _ in 0..5 {
            let good = checksummed(prefix, &mut rng);
            let found = engine.scan("a.env", format!("TOKEN={good}\n").as_bytes());
            assert_eq!(found.len(), 1, "{prefix} valid token not found once");
            assert_eq!(found[0].confidence, Confidence::High);
            assert_eq!(found[0].secret.as_ref().unwrap().expose(), good);
            let bad = broken_checksum(&good);
            let found = engine.scan("a.env", format!("TOKEN={bad}\n").as_bytes());
            assert!(
                found.is_empty(),
                "{prefix} token with a bad checksum reported"
            );
        }
    }
}

#[test]
fn validators_used_by_user_rules_go_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = XorShift(42);
    let npm = checksummed("npm_", &mut rng);
    // A PyPI macaroon: version 2, location "pypi.org", an identifier.
    let mut raw = vec![2u8, 1, 8];
    raw.extend_from_slice(b"pypi.org");
    raw.extend_from_slice(&[2, 16]);
    raw.extend_from_slice(rng.string(16, ALNUM).as_bytes());
    raw.push(0);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pypi = format!("pypi-{}", b64.encode(&raw));
    let mut wrong_place = raw.clone();
    wrong_place[3..11].copy_from_slice(b"evil.org");
    let pypi_bad = format!("pypi-{}", b64.encode(&wrong_place));
    let jwt = format!(
        "{}.{}.{}",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(br#"{"sub":"42"}"#),
        rng.string(43, ALNUM)
    );
    let jwt_bad = format!(
        "{}.{}.{}",
        b64.encode(br#"{"typ":"JWT"}"#),
        b64.encode(br#"{"sub":"42"}"#),
        rng.string(43, ALNUM)
    );
    let rules = format!(
        r#"
[[rule]]
id = "t-npm"
title = "npm"
description = "d"
severity = "high"
confidence = "low"
keywords = ["npm_"]
regex = '''\b(npm_[A-Za-z0-9]{{36}})\b'''
validator = "npm-crc32"
examples = ["{npm}"]

[[rule]]
id = "t-pypi"
title = "pypi"
description = "d"
severity = "high"
confidence = "low"
keywords = ["pypi-"]
regex = '''\b(pypi-[A-Za-z0-9_-]{{20,}})'''
validator = "pypi-macaroon"
examples = ["{pypi}"]

[[rule]]
id = "t-jwt"
title = "jwt"
description = "d"
severity = "high"
confidence = "low"
keywords = ["eyj"]
regex = '''\b(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)'''
validator = "jwt"
examples = ["{jwt}"]
"#
    );
    let file = write(dir.path(), "v.toml", &rules);
    let engine = engine_keeping(&[file], "", &["t-"]);
    for (good, bad, id) in [
        (npm.clone(), broken_checksum(&npm), "t-npm"),
        (pypi, pypi_bad, "t-pypi"),
        (jwt, jwt_bad, "t-jwt"),
    ] {
        let found = engine.scan("x", format!("v = {good}\n").as_bytes());
        assert_eq!(ids(&found), vec![id], "{id} valid");
        assert_eq!(found[0].confidence, Confidence::High, "{id} validated");
        assert!(
            engine
                .scan("x", format!("v = {bad}\n").as_bytes())
                .is_empty(),
            "{id} invalid one reported"
        );
    }
}

#[test]
fn aws_key_ids_need_their_alphabet_and_pem_keys_a_decodable_body() {
    let engine = builtin_engine();
    let found = engine.scan("c", b"id = AKIAQYLPMN5HHHFPZAM2\n");
    assert_eq!(ids(&found), vec!["aws-access-key-id"]);
    // `0`, `1`, `8` and `9` are not in base32: same shape, not a key id.
    assert!(engine.scan("c", b"id = AKIAQYLPMN5HHHFPZ891\n").is_empty());

    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode([0x5au8; 200]);
    let key = format!("-----BEGIN EC PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----\n");
    assert_eq!(
        ids(&engine.scan("k.pem", key.as_bytes())),
        vec!["private-key-ec"]
    );
    let broken = key.replace(&body[..8], "not-b64!");
    assert!(engine.scan("k.pem", broken.as_bytes()).is_empty());
}

// ---------------------------------------------------------------- suppression

const KEY_LINE: &str = "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2";

#[test]
fn inline_suppression_markers_each_silence_their_line_only() {
    let engine = builtin_engine();
    for marker in [
        "# tripline:allow",
        "// gitleaks:allow",
        "# pragma: allowlist secret",
        "# TRIPLINE:ALLOW",
    ] {
        let text = format!("{KEY_LINE} {marker}\nOTHER=AKIAVZ3HRB6QK7XTCW4N\n");
        let found = engine.scan("x.env", text.as_bytes());
        // The marked line's finding is still produced, suppressed in
        // source; the next line's is not suppressed.
        let (silenced, reported): (Vec<&Finding>, Vec<&Finding>) =
            found.iter().partition(|f| f.suppressed.is_some());
        assert_eq!(reported.len(), 1, "{marker}");
        assert_eq!(reported[0].location.start_line, 2, "{marker}");
        assert_eq!(silenced.len(), 1, "{marker}");
        assert_eq!(silenced[0].location.start_line, 1, "{marker}");
        let s = silenced[0].suppressed.as_ref().unwrap();
        assert_eq!(s.kind, SuppressionKind::InSource, "{marker}");
        assert_eq!(s.mechanism, SuppressionMechanism::InlineComment, "{marker}");
        assert!(
            s.by.to_ascii_lowercase().contains(
                marker
                    .trim_start_matches(['#', '/', ' '])
                    .to_ascii_lowercase()
                    .as_str()
            ),
            "{marker}: {}",
            s.by
        );
    }
}

#[test]
fn config_allowlists_global_and_per_rule() {
    let cases = [
        ("[allowlist]\npaths = [\"docs/**\"]\n", "docs/a.md", true),
        ("[allowlist]\npaths = [\"docs/**\"]\n", "src/a.rs", false),
        ("[allowlist]\nregexes = ['''^AKIAQYLP''']\n", "a", true),
        ("[allowlist]\nstopwords = [\"hhhfp\"]\n", "a", true),
        (
            "[rules.allow.aws-access-key-id]\nstopwords = [\"hhhfp\"]\n",
            "a",
            true,
        ),
        (
            "[rules.allow.github-pat-classic]\nstopwords = [\"hhhfp\"]\n",
            "a",
            false,
        ),
    ];
    for (config, path, dropped) in cases {
        let engine = engine_keeping(&[], config, &["aws-"]);
        let found = engine.scan(path, KEY_LINE.as_bytes());
        // An allowlisted finding is still produced, suppressed externally.
        let reported = found.iter().filter(|f| f.suppressed.is_none()).count();
        assert_eq!(reported == 0, dropped, "{config} on {path}");
        assert_eq!(found.len(), 1, "{config} on {path}");
        if dropped {
            let s = found[0].suppressed.as_ref().unwrap();
            assert_eq!(s.kind, SuppressionKind::External, "{config}");
            assert_eq!(s.mechanism, SuppressionMechanism::Allowlist, "{config}");
            let section = config.lines().next().unwrap();
            assert!(s.by.contains(section), "{config}: {}", s.by);
        }
    }
}

#[test]
fn disabled_rules_and_user_rules_replacing_built_ins() {
    let engine = engine_keeping(&[], "", &["aws-access-key-id"]);
    assert_eq!(
        ids(&engine.scan("a", KEY_LINE.as_bytes())),
        vec!["aws-access-key-id"]
    );
    let all_but: Vec<String> = vec!["aws-access-key-id".to_string()];
    let set = RuleSet::load(&[], &all_but).unwrap();
    let engine = Engine::new(set, &Config::default()).unwrap();
    assert!(!ids(&engine.scan("a", KEY_LINE.as_bytes())).contains(&"aws-access-key-id"));

    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mine.toml",
        r#"
[[rule]]
id = "aws-access-key-id"
title = "Replaced"
description = "d"
severity = "low"
confidence = "low"
keywords = ["akia"]
regex = '''(AKIA[A-Z2-7]{16})'''
examples = ["AKIAQYLPMN5HHHFPZAM2"]
[rule.allow]
paths = ["vendor/**"]
"#,
    );
    let engine = engine_keeping(&[file], "", &["aws-access-key-id"]);
    let found = engine.scan("src/a", KEY_LINE.as_bytes());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule_title, "Replaced");
    // The user rule's own allow table suppresses (a user wrote it), and the
    // finding says so.
    let found = engine.scan("vendor/a", KEY_LINE.as_bytes());
    assert_eq!(found.len(), 1);
    let s = found[0].suppressed.as_ref().expect("suppressed");
    assert_eq!(s.kind, SuppressionKind::External);
    assert!(
        s.by.contains("mine.toml [allow] paths of rule aws-access-key-id"),
        "{}",
        s.by
    );
}

#[test]
fn placeholders_are_never_reported() {
    let engine = builtin_engine();
    for line in [
        "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}",
        "aws_secret_access_key = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    ] {
        assert!(engine.scan("a", line.as_bytes()).is_empty(), "{line}");
    }
}

#[test]
fn the_specific_rule_wins_over_a_generic_one_on_the_same_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "generic-test.toml",
        r#"
[[rule]]
id = "any-token-assignment"
title = "t"
description = "d"
severity = "medium"
confidence = "low"
keywords = ["token"]
regex = '''(?i)token\s*=\s*([A-Za-z0-9_]{20,})'''
examples = ["token = abcdefghijklmnopqrstuvwxyz"]
"#,
    );
    let engine = engine_keeping(&[file], "", &["github-", "any-token"]);
    let mut rng = XorShift(7);
    let good = checksummed("ghp_", &mut rng);
    let found = engine.scan("a", format!("token = {good}\n").as_bytes());
    assert_eq!(ids(&found), vec!["github-pat-classic"]);
    let found = engine.scan("a", b"token = abcdefghijklmnopqrstuvwxyz\n");
    assert_eq!(ids(&found), vec!["any-token-assignment"]);
}

// ---------------------------------------------------------------- encodings and positions

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

#[test]
fn utf16_files_with_a_bom_are_decoded() {
    let engine = builtin_engine();
    let text = "# é\r\nkey: AKIAQYLPMN5HHHFPZAM2\r\n";
    for little in [true, false] {
        let found = engine.scan("w.txt", &utf16(text, little));
        assert_eq!(ids(&found), vec!["aws-access-key-id"], "little={little}");
        let l = &found[0].location;
        assert_eq!((l.start_line, l.start_column, l.end_column), (2, 6, 26));
    }
}

#[test]
fn non_utf8_files_are_scanned_and_columns_count_utf16_units() {
    let engine = builtin_engine();
    // Two invalid bytes (one unit each), then "é" (1 unit), "😀" (2 units).
    let mut content = b"\x80\x81\x00x\n".to_vec();
    content.extend_from_slice(b"\xc3\x28 \xc3\xa9 \xf0\x9f\x98\x80 = ");
    content.extend_from_slice(b"AKIAQYLPMN5HHHFPZAM2\n");
    let found = engine.scan("bin.dat", &content);
    assert_eq!(ids(&found), vec!["aws-access-key-id"]);
    let l = &found[0].location;
    // \xc3 ( space é space 😀 space = space -> 2+1+1+1+2+1+1+1 = 10 units.
    assert_eq!((l.start_line, l.start_column), (2, 11));
    assert_eq!(l.end_column, 31);
}

#[test]
fn a_5_mb_single_line_file_finds_the_secret_at_its_end() {
    let engine = builtin_engine();
    let mut rng = XorShift(99);
    let mut content = rng
        .string(5 * 1024 * 1024, b"abcdefghijklmnopqrstuvwxyz{}();,.= ")
        .into_bytes();
    let token = checksummed("ghp_", &mut rng);
    content.extend_from_slice(format!(";t=\"{token}\"").as_bytes());
    let found = engine.scan("min.js", &content);
    assert_eq!(ids(&found), vec!["github-pat-classic"]);
    let l = &found[0].location;
    assert_eq!(l.start_line, 1);
    assert_eq!(l.start_column as usize, 5 * 1024 * 1024 + 5);
}

#[test]
fn findings_carry_fingerprint_mask_and_no_line_hash() {
    let engine = builtin_engine();
    let a = engine.scan("p/.env", format!("{KEY_LINE}\n").as_bytes());
    let b = engine.scan("p/.env", format!("\n\n{KEY_LINE}\n").as_bytes());
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
    assert_eq!(b[0].location.start_line, 3);
    assert_eq!(a[0].excerpt, "AKIA****************");
    assert!(a[0].location.line_hash.is_none());
    let info = engine.rule_info("aws-access-key-id").unwrap();
    assert!(info.help_text.contains("rotate"));
    assert!(info.tags.contains(&"aws".to_string()));
}

// ---------------------------------------------------------------- loader errors

fn problems_of(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "user.toml", text);
    let (_, problems) = RuleSet::load_checked(&[file], &[], false).unwrap();
    problems.iter().map(|p| p.to_string()).collect()
}

fn rule(id: &str, extra: &str) -> String {
    format!(
        r#"
[[rule]]
id = "{id}"
title = "t"
description = "d"
severity = "high"
confidence = "low"
{extra}
"#
    )
}

#[test]
fn each_loader_error_names_file_rule_and_problem() {
    let ok = "keywords = [\"tok_\"]\nregex = '''(tok_[a-z]{8})'''\nexamples = [\"tok_abcdefgh\"]";
    let cases: Vec<(String, &str)> = vec![
        (rule("r-unknown", &format!("{ok}\ncolour = \"red\"")), "unknown field `colour`"),
        (
            rule("r-regex", "keywords = [\"tok_\"]\nregex = '''(tok_'''\nexamples = [\"tok_\"]"),
            "regex does not compile",
        ),
        (
            rule("r-big", "keywords = [\"tok_\"]\nregex = '''tok_(?:\\w{1000}){200}'''\nexamples = [\"tok_\"]"),
            "too large",
        ),
        (
            rule("r-nokw", "keywords = []\nregex = '''(tok_[a-z]{8})'''\nexamples = [\"tok_abcdefgh\"]"),
            "no keywords",
        ),
        (
            rule("r-kw", "keywords = [\"tok_\", \"zzz\"]\nregex = '''(tok_[a-z]{8})'''\nexamples = [\"tok_abcdefgh\"]"),
            "keyword \"zzz\" occurs in none",
        ),
        (
            rule("r-ex", "keywords = [\"tok_\"]\nregex = '''(tok_[a-z]{8})'''\nexamples = [\"tok_abc\"]"),
            "example 1 (\"tok_abc\") is not found",
        ),
        (
            rule("r-neg", &format!("{ok}\nnegative_examples = [\"tok_zyxwvuts\"]")),
            "negative example 1",
        ),
        (
            rule("r-val", &format!("{ok}\nvalidator = \"nope\"")),
            "unknown validator",
        ),
        (format!("{}{}", rule("r-dup", ok), rule("r-dup", ok)), "duplicate rule id"),
        (
            rule("r-in", &format!("{ok}\nkeywords_in = \"name\"")),
            "expected \"content\" or \"path\"",
        ),
        (
            rule("r-nopath", &format!("{ok}\nkeywords_in = \"path\"\nexample_paths = [\"a/tok_\"]")),
            "needs a `path` regex",
        ),
        (
            rule("r-noex", &format!("{ok}\nkeywords_in = \"path\"\npath = 'tok_'")),
            "needs example_paths",
        ),
        (
            rule(
                "r-expath",
                &format!("{ok}\nkeywords_in = \"path\"\npath = '^keys/tok_'\nexample_paths = [\"other/tok_\"]"),
            ),
            "example path 1 (\"other/tok_\") does not match the rule's path",
        ),
    ];
    for (text, expected) in cases {
        let problems = problems_of(&text);
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("id = \""))
            .unwrap()
            .trim_end_matches('"');
        assert!(
            problems.iter().any(|p| p.contains("user.toml")
                && p.contains(&format!("rule {id}:"))
                && p.contains(expected)),
            "{expected}: {problems:#?}"
        );
    }
}

#[test]
fn rules_test_on_a_user_file_exits_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.toml",
        &rule(
            "r-ex",
            "keywords = [\"tok_\"]\nregex = '''(tok_[a-z]{8})'''\nexamples = [\"tok_abc\"]",
        ),
    );
    let out = tripline()
        .args(["rules", "test"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml: rule r-ex: example 1"), "{err}");

    let good = write(
        dir.path(),
        "good.toml",
        &rule(
            "r-ok",
            "keywords = [\"tok_\"]\nregex = '''(tok_[a-z]{8})'''\nexamples = [\"tok_abcdefgh\"]",
        ),
    );
    let out = tripline()
        .args(["rules", "test"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // A scan with a broken user rule is a usage error.
    let out = tripline()
        .args(["secrets", "--rules"])
        .arg(&file)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// ------------------------------------------------------- files known by name

#[test]
fn a_rails_master_key_is_found_by_its_path_and_only_there() {
    let dir = tempfile::tempdir().unwrap();
    let key = "9f2c4a7e1b8d3f60a5c2e9b7d4f1a086\n";
    for path in [
        "config/master.key",
        "config/credentials/production.key",
        "notes/master.txt",
        "config/master.key.example",
        "config/other.key",
    ] {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, key).unwrap();
    }
    // The right path holding something that is not a key: nothing.
    std::fs::create_dir_all(dir.path().join("app/config")).unwrap();
    std::fs::write(
        dir.path().join("app/config/master.key"),
        "put the key from the password manager here\n",
    )
    .unwrap();
    let out = tripline()
        .args(["secrets", "--format", "json", "--fail-on", "never"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "rails-master-key")
        .map(|f| f["location"]["path"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    assert_eq!(
        found,
        ["config/credentials/production.key", "config/master.key"]
    );
    // The value itself never leaves unmasked.
    assert!(!String::from_utf8_lossy(&out.stdout).contains(key.trim()));
}
