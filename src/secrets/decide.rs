//! The decision stage for keyed candidates: does this name bound to this
//! value, in this file, look like a committed credential?
//!
//! Rules marked `decide = "model"` (the generic ones: a password, secret,
//! token or key name bound to a value; an `Authorization` header; a URL's
//! user information) propose candidates broadly, in every syntax and every
//! kind of file, tests and docs included. Each candidate is then described by
//! [`features`] (of the value, of its name, of the file and the lines
//! around it) and scored by a small gradient-boosted tree ensemble
//! ([`Model`]) trained offline (`bench/train/`) and embedded at build time
//! from `src/secrets/model/keyed-v1.txt`. Inference is plain arithmetic over
//! the trees: deterministic, no download, no state.
//!
//! The features never name a repository or a file: only the shape of the
//! path (its extension, whether it lies under a test or docs folder) goes
//! in, so what the model learns carries over to other repositories.
//!
//! This module does not find candidates (the rules' regexes do) and does
//! not filter by allowlists (the engine does, before asking).

use crate::finding::Confidence;
use crate::secrets::entropy;

/// The embedded model: the format is described at [`Model::parse`].
const MODEL_TEXT: &str = include_str!("model/keyed-v1.txt");

/// Names of the features, in the order [`features`] fills them and the
/// model reads them. The training script reads them from the dump's header.
pub const FEATURE_NAMES: &[&str] = &[
    "value_len",
    "value_entropy",
    "frac_digit",
    "frac_upper",
    "frac_lower",
    "frac_special",
    "char_classes",
    "is_hex",
    "is_base64ish",
    "has_space",
    "non_ascii",
    "placeholder",
    "code_like",
    "path_like",
    "url_like",
    "uuid_like",
    "hash_like",
    "template_like",
    "alpha_run_frac",
    "vowel_frac",
    "value_has_name_word",
    "capitalised_word",
    "quoted",
    "closed_quote",
    "max_char_frac",
    "all_digits",
    "common_word",
    "name_password",
    "name_secret",
    "name_token",
    "name_key",
    "name_auth",
    "name_credential",
    "name_url_scheme",
    "name_not_value",
    "name_len",
    "name_upper",
    "sep_kind",
    "scope_test",
    "scope_doc",
    "ext_class",
    "comment_line",
    "line_len",
    "i18n_path",
    "comparison",
    "user_nearby",
    "basic_user_pass",
    "value_repeats_name",
    "line_words",
    "name_exact",
    "name_path_like",
    "in_url_query",
    "jwt_like",
    "value_column",
    "percent_encoded",
    "upper_snake",
    "code_continues",
];

/// How many features [`features`] computes.
pub const FEATURE_COUNT: usize = FEATURE_NAMES.len();

/// Where a candidate was found, as the regex match gives it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Relative path of the file (`None` for rule examples).
    pub path: Option<&'a str>,
    /// The whole file.
    pub content: &'a [u8],
    /// The key or header name the value is bound to (may be empty), and
    /// where it starts in `content`.
    pub name: &'a [u8],
    pub name_start: usize,
    /// The value's byte range in `content`.
    pub value_start: usize,
    pub value_end: usize,
}

/// The features of one candidate, in [`FEATURE_NAMES`] order.
pub fn features(c: &Candidate) -> [f32; FEATURE_COUNT] {
    let value = &c.content[c.value_start..c.value_end];
    let name = c.name.to_ascii_lowercase();
    let (line_start, line_end) = line_bounds(c.content, c.value_start);
    let line = &c.content[line_start..line_end];
    let path = c.path.unwrap_or("").to_ascii_lowercase();
    let len = value.len().max(1) as f32;
    let count = |f: fn(&u8) -> bool| value.iter().filter(|b| f(b)).count() as f32;
    let digits = count(u8::is_ascii_digit);
    let upper = count(u8::is_ascii_uppercase);
    let lower = count(u8::is_ascii_lowercase);
    let special = count(|b| !b.is_ascii_alphanumeric());
    let classes = [digits, upper, lower, special]
        .iter()
        .filter(|&&n| n > 0.0)
        .count() as f32;
    let before = c.value_start.checked_sub(1).map(|i| c.content[i]);
    let after = c.content.get(c.value_end).copied();
    let quoted = matches!(before, Some(b'"' | b'\'' | b'`'));
    let closed = quoted && after == before;
    let lower_value = value.to_ascii_lowercase();
    let mut f = [0f32; FEATURE_COUNT];
    // The features below are set in FEATURE_NAMES order, so the name is
    // looked for from just after the last one set: one comparison each
    // instead of a scan of the list (which took a tenth of a Rust tree's
    // scan time, paid for every candidate of a model-decided rule).
    let mut next = 0;
    let mut set = |n: &str, v: f32| {
        let at = (next..FEATURE_COUNT)
            .chain(0..next)
            .find(|&i| FEATURE_NAMES[i] == n);
        if let Some(i) = at {
            f[i] = v;
            next = i + 1;
        }
    };
    set("value_len", value.len() as f32);
    set("value_entropy", entropy::shannon(value) as f32);
    set("frac_digit", digits / len);
    set("frac_upper", upper / len);
    set("frac_lower", lower / len);
    set("frac_special", special / len);
    set("char_classes", classes);
    set(
        "is_hex",
        flag(value.len() >= 8 && value.iter().all(u8::is_ascii_hexdigit)),
    );
    set("is_base64ish", flag(is_base64ish(value)));
    set("has_space", flag(value.contains(&b' ')));
    set("non_ascii", flag(!value.is_ascii()));
    set("placeholder", flag(is_placeholder(&lower_value)));
    set("code_like", flag(is_code_like(value)));
    set("path_like", flag(is_path_like(value)));
    set("url_like", flag(contains(&lower_value, b"://")));
    set("uuid_like", flag(is_uuid_like(value)));
    set("hash_like", flag(is_hash_like(value)));
    set("template_like", flag(is_template_like(value)));
    set("alpha_run_frac", longest_alpha_run(value) as f32 / len);
    set("vowel_frac", vowel_fraction(value));
    set(
        "value_has_name_word",
        flag(NAME_WORDS.iter().any(|w| contains(&lower_value, w))),
    );
    set("capitalised_word", flag(is_capitalised_word(value)));
    set("quoted", flag(quoted));
    set("closed_quote", flag(closed));
    set("max_char_frac", max_char_count(value) as f32 / len);
    set(
        "all_digits",
        flag(!value.is_empty() && value.iter().all(u8::is_ascii_digit)),
    );
    set("common_word", common_word_cover(&lower_value));
    set(
        "name_password",
        flag(
            ["pass", "pwd", "pw"]
                .iter()
                .any(|w| contains(&name, w.as_bytes())),
        ),
    );
    set("name_secret", flag(contains(&name, b"secret")));
    set("name_token", flag(contains(&name, b"token")));
    set("name_key", flag(contains(&name, b"key")));
    set(
        "name_auth",
        flag(
            ["auth", "bearer", "basic", "digest"]
                .iter()
                .any(|w| contains(&name, w.as_bytes())),
        ),
    );
    set(
        "name_credential",
        flag(contains(&name, b"credential") || contains(&name, b"cred")),
    );
    set(
        "name_url_scheme",
        flag(
            !name.is_empty()
                && name
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(b))
                && !["pass", "secret", "token", "key", "auth", "bearer", "basic"]
                    .iter()
                    .any(|w| contains(&name, w.as_bytes())),
        ),
    );
    set("name_not_value", flag(name_is_not_a_value(&name)));
    set("name_len", c.name.len() as f32);
    set(
        "name_upper",
        flag(
            c.name.iter().any(u8::is_ascii_uppercase) && !c.name.iter().any(u8::is_ascii_lowercase),
        ),
    );
    set(
        "sep_kind",
        separator_kind(c.content, line_start, c.value_start),
    );
    set("scope_test", flag(is_test_path(&path)));
    set("scope_doc", flag(is_doc_path(&path)));
    set("ext_class", extension_class(&path));
    set("comment_line", flag(is_comment_line(line)));
    set("line_len", line.len() as f32);
    set("i18n_path", flag(is_i18n_path(&path)));
    set(
        "comparison",
        flag(
            contains(line, b"==")
                || contains(line, b"!=")
                || contains(&line.to_ascii_lowercase(), b"assert"),
        ),
    );
    set(
        "user_nearby",
        flag(user_nearby(c.content, line_start, line_end)),
    );
    set("basic_user_pass", flag(decodes_to_user_pass(value)));
    set(
        "value_repeats_name",
        flag(value.len() >= 3 && contains(&name, &lower_value)),
    );
    set(
        "line_words",
        line.split(|b| b.is_ascii_whitespace())
            .filter(|w| w.len() >= 2 && w.iter().all(u8::is_ascii_alphabetic))
            .count() as f32,
    );
    let bare: &[u8] = {
        let s = name
            .iter()
            .position(|b| b.is_ascii_alphanumeric())
            .unwrap_or(name.len());
        &name[s..]
    };
    set(
        "name_exact",
        flag(EXACT_NAMES.iter().any(|n| bare == n.as_bytes())),
    );
    let before_name = c.name_start.checked_sub(1).map(|i| c.content[i]);
    let ext = bare.rsplit(|&b| b == b'.').next().unwrap_or(b"");
    set(
        "name_path_like",
        flag(
            before_name == Some(b'/')
                || (bare.contains(&b'.')
                    && (1..=4).contains(&ext.len())
                    && ext.iter().all(u8::is_ascii_lowercase)),
        ),
    );
    set(
        "in_url_query",
        flag(matches!(before_name, Some(b'?' | b'&'))),
    );
    set("jwt_like", flag(value.starts_with(b"eyJ")));
    set("value_column", (c.value_start - line_start) as f32);
    set(
        "percent_encoded",
        flag(
            value
                .windows(3)
                .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit()),
        ),
    );
    set(
        "upper_snake",
        flag(
            value.len() >= 3
                && value
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
                && value.iter().any(u8::is_ascii_uppercase),
        ),
    );
    set(
        "code_continues",
        flag(matches!(after, Some(b'(' | b'.' | b'[' | b'+'))),
    );
    f
}

/// Names that are nothing but the credential's word.
const EXACT_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "token",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "auth",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret_key",
];

fn flag(b: bool) -> f32 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// How far the line features look on either side of a candidate. A line
/// longer than this is minified code or data: how much longer tells the
/// model nothing, and reading all of it for every candidate on it made a
/// minified file cost the square of its length.
const LINE_REACH: usize = 512;

/// The line holding `offset`: its start and end (without the newline),
/// each at most [`LINE_REACH`] bytes away.
fn line_bounds(content: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(content.len());
    let lo = offset.saturating_sub(LINE_REACH);
    let hi = offset.saturating_add(LINE_REACH).min(content.len());
    let start = memchr::memrchr(b'\n', &content[lo..offset]).map_or(lo, |i| lo + i + 1);
    let end = memchr::memchr(b'\n', &content[offset..hi]).map_or(hi, |i| offset + i);
    (start, end)
}

/// Words a credential's name is made of: a value containing one is more
/// likely a label or a reference to a credential than one.
const NAME_WORDS: &[&[u8]] = &[
    b"pass",
    b"secret",
    b"token",
    b"key",
    b"auth",
    b"credential",
    b"user",
    b"login",
];

fn is_base64ish(v: &[u8]) -> bool {
    v.len() >= 16
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(b))
}

/// Placeholder and template shapes: `<...>`, `${...}`, `{{...}}`, `%s`,
/// `xxxx`, `****`, "your ... here", `changeme`.
pub fn is_placeholder(lower: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"xxx",
        b"***",
        b"...",
        b"___",
        b"changeme",
        b"change_me",
        b"change-me",
        b"placeholder",
        b"example",
        b"your_",
        b"your-",
        b"yours",
        b"dummy",
        b"redacted",
        b"replace",
        b"insert",
        b"todo",
        b"fixme",
        b"<",
        b">",
    ];
    (lower.len() >= 3 && lower.iter().all(|&b| b == lower[0]))
        || WORDS.iter().any(|w| contains(lower, w))
        || lower.starts_with(b"your")
        || lower.starts_with(b"my")
}

/// Code rather than a literal: a call, an attribute or index access, a
/// reference to a variable, a camelCase or snake_case identifier.
fn is_code_like(v: &[u8]) -> bool {
    if v.is_empty() {
        return false;
    }
    let ident = v
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"_.$[]()".contains(b));
    let has_call = v.contains(&b'(') || v.contains(&b'[');
    let dotted = v
        .windows(2)
        .any(|w| w[0] == b'.' && w[1].is_ascii_alphabetic())
        && v[0].is_ascii_alphabetic();
    let snake = v.contains(&b'_')
        && v.iter()
            .all(|b| b.is_ascii_lowercase() || *b == b'_' || b.is_ascii_digit());
    let camel = v[0].is_ascii_lowercase()
        && v.iter().all(u8::is_ascii_alphabetic)
        && v.iter().any(u8::is_ascii_uppercase)
        && v.windows(2)
            .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
            .count()
            <= 3;
    ident && (has_call || dotted || snake || camel || v[0] == b'$')
}

fn is_path_like(v: &[u8]) -> bool {
    v.starts_with(b"/")
        || v.starts_with(b"./")
        || v.starts_with(b"../")
        || v.starts_with(b"~/")
        || (v.len() > 2 && v[1] == b':' && (v[2] == b'\\' || v[2] == b'/'))
        || {
            let l = v.to_ascii_lowercase();
            [
                &b".txt"[..],
                b".json",
                b".yml",
                b".yaml",
                b".pem",
                b".key",
                b".crt",
                b".env",
                b".conf",
                b".properties",
                b".p12",
                b".jks",
                b".html",
                b".js",
                b".py",
            ]
            .iter()
            .any(|e| l.ends_with(e))
        }
}

fn is_uuid_like(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// A password hash (crypt formats, Django's `algo$...`) or a hex digest
/// of a common length: stored to check a password, not to log in with.
fn is_hash_like(v: &[u8]) -> bool {
    let hex_digest =
        [32, 40, 56, 64, 96, 128].contains(&v.len()) && v.iter().all(u8::is_ascii_hexdigit);
    let crypt = v.starts_with(b"$2a$")
        || v.starts_with(b"$2b$")
        || v.starts_with(b"$2y$")
        || v.starts_with(b"$1$")
        || v.starts_with(b"$5$")
        || v.starts_with(b"$6$")
        || v.starts_with(b"$argon2")
        || v.starts_with(b"$apr1$")
        || v.starts_with(b"{SSHA}")
        || v.starts_with(b"{SHA}");
    let django = [
        &b"pbkdf2_sha256$"[..],
        b"bcrypt$",
        b"argon2$",
        b"sha1$",
        b"md5$",
    ]
    .iter()
    .any(|p| v.starts_with(p));
    hex_digest || crypt || django
}

fn is_template_like(v: &[u8]) -> bool {
    contains(v, b"${")
        || contains(v, b"{{")
        || contains(v, b"#{")
        || contains(v, b"%(")
        || v.starts_with(b"$")
        || v.starts_with(b"%")
        || v.starts_with(b"@")
        || v.starts_with(b"{")
        || contains(v, b"%s")
        || contains(v, b"{0}")
}

fn longest_alpha_run(v: &[u8]) -> usize {
    let (mut best, mut run) = (0, 0);
    for b in v {
        if b.is_ascii_alphabetic() {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

fn vowel_fraction(v: &[u8]) -> f32 {
    let letters = v.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 {
        return 0.0;
    }
    let vowels = v.iter().filter(|b| b"aeiouAEIOU".contains(b)).count();
    vowels as f32 / letters as f32
}

/// `Passwort`, `Secret`: one capitalised word, as interface text is.
fn is_capitalised_word(v: &[u8]) -> bool {
    v.len() >= 3 && v[0].is_ascii_uppercase() && v[1..].iter().all(u8::is_ascii_lowercase)
}

fn max_char_count(v: &[u8]) -> usize {
    let mut counts = [0usize; 256];
    for &b in v {
        counts[b as usize] += 1;
    }
    counts.into_iter().max().unwrap_or(0)
}

/// Common English words and the stock words of sample credentials; a value
/// built mostly of them reads as text or as a stock example. Written for
/// this module (not taken from any data set).
/// In byte order, so that the words starting with a letter are one run.
const COMMON_WORDS: &[&str] = &[
    "a", "abc", "access", "account", "admin", "an", "and", "api", "app", "are", "as", "at", "auth",
    "bar", "baz", "be", "button", "by", "change", "client", "config", "confirm", "data",
    "database", "db", "default", "demo", "dev", "email", "empty", "enter", "error", "example",
    "false", "field", "file", "foo", "for", "forgot", "from", "get", "guest", "have", "hello",
    "here", "host", "id", "in", "input", "invalid", "is", "it", "key", "label", "letmein", "local",
    "login", "mail", "master", "message", "mongo", "my", "mysql", "name", "new", "none", "not",
    "null", "of", "old", "on", "option", "or", "our", "pass", "path", "please", "port", "postgres",
    "private", "prod", "public", "qux", "qwerty", "redis", "required", "reset", "root", "sample",
    "secret", "server", "service", "set", "setting", "staging", "string", "test", "text", "that",
    "the", "there", "this", "to", "token", "true", "type", "uri", "url", "user", "value", "web",
    "welcome", "with", "word", "world", "xyz", "you", "your",
];

/// The fraction of the value's letters covered by [`COMMON_WORDS`] (words
/// of three letters or more, matched greedily in runs of letters).
fn common_word_cover(lower: &[u8]) -> f32 {
    let letters = lower.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 {
        return 0.0;
    }
    let mut covered = 0;
    let mut i = 0;
    while i < lower.len() {
        // Only letters start a word: a digit or a symbol is passed over
        // without comparing it with every word.
        if !lower[i].is_ascii_lowercase() {
            i += 1;
            continue;
        }
        let c = lower[i];
        let from = COMMON_WORDS.partition_point(|w| w.as_bytes()[0] < c);
        let to = COMMON_WORDS.partition_point(|w| w.as_bytes()[0] <= c);
        let best = COMMON_WORDS[from..to]
            .iter()
            .filter(|w| w.len() >= 3 && lower[i..].starts_with(w.as_bytes()))
            .map(|w| w.len())
            .max();
        match best {
            Some(n) => {
                covered += n;
                i += n;
            }
            None => i += 1,
        }
    }
    covered as f32 / letters as f32
}

/// Names that hold something about a credential, not the credential:
/// `password_field`, `token_url`, `secret_name`, `PASSWORD_MIN_LENGTH`.
fn name_is_not_a_value(lower_name: &[u8]) -> bool {
    const PARTS: &[&str] = &[
        "name",
        "file",
        "path",
        "url",
        "uri",
        "length",
        "len",
        "field",
        "label",
        "type",
        "hash",
        "env",
        "prompt",
        "placeholder",
        "format",
        "pattern",
        "regex",
        "header",
        "policy",
        "id",
        "input",
        "confirm",
        "reset",
        "forgot",
        "expire",
        "count",
        "size",
        "min",
        "max",
        "enabled",
        "required",
        "valid",
        "error",
        "message",
        "msg",
        "text",
        "title",
        "mode",
        "method",
        "param",
        "ref",
        "dir",
        "location",
        "endpoint",
        "provider",
        "store",
        "manager",
        "helper",
        "class",
        "form",
        "view",
        "button",
        "link",
        "salt",
        "_encrypted",
        "encrypted",
        "digest",
        "check",
        "strength",
        "chars",
        "rule",
        "version",
        "index",
        "timeout",
        "ttl",
        "cache",
        "storage",
    ];
    let parts: Vec<&[u8]> = lower_name
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect();
    let last = parts.last().copied().unwrap_or(b"");
    PARTS.iter().any(|p| {
        last == p.as_bytes()
            || (p.len() >= 4 && last.ends_with(p.as_bytes()) && last.len() > p.len() + 3)
    })
}

/// How the value is bound: 1 `=`, 2 `:`, 3 `=>` or `:=`, 4 `==`, 5 a space
/// (`--password x`, `Bearer x`), 6 a comma (`("password", "x")`), 0 other.
fn separator_kind(content: &[u8], line_start: usize, value_start: usize) -> f32 {
    let before = &content[line_start..value_start];
    let trimmed: Vec<u8> = before
        .iter()
        .rev()
        .skip_while(|b| b"\"'` \t@rbuf".contains(b))
        .take(2)
        .copied()
        .collect();
    match trimmed.as_slice() {
        [b'=', b'='] | [b'=', b'!'] => 4.0,
        [b'>', b'='] | [b'=', b':'] => 3.0,
        [b'=', ..] => 1.0,
        [b':', ..] => 2.0,
        [b',', ..] => 6.0,
        _ if before.last().is_some_and(|b| *b == b' ' || *b == b'\t') => 5.0,
        _ => 0.0,
    }
}

fn path_parts(path: &str) -> impl Iterator<Item = &str> {
    path.split(['/', '.', '_', '-']).filter(|p| !p.is_empty())
}

/// Tests, specs, fixtures, mocks: credentials there are often made up,
/// though still committed.
fn is_test_path(lower: &str) -> bool {
    path_parts(lower).any(|p| {
        matches!(
            p,
            "test"
                | "tests"
                | "spec"
                | "specs"
                | "testdata"
                | "fixture"
                | "fixtures"
                | "mock"
                | "mocks"
                | "testing"
                | "unittest"
                | "e2e"
                | "stub"
                | "stubs"
                | "fake"
        )
    }) || lower.contains("test")
}

fn is_doc_path(lower: &str) -> bool {
    path_parts(lower).any(|p| {
        matches!(
            p,
            "doc"
                | "docs"
                | "example"
                | "examples"
                | "sample"
                | "samples"
                | "demo"
                | "readme"
                | "tutorial"
                | "md"
                | "rst"
                | "adoc"
                | "txt"
                | "ipynb"
                | "html"
        )
    })
}

fn is_i18n_path(lower: &str) -> bool {
    path_parts(lower).any(|p| {
        matches!(
            p,
            "locale"
                | "locales"
                | "i18n"
                | "l10n"
                | "lang"
                | "langs"
                | "translations"
                | "translation"
                | "messages"
                | "po"
                | "strings"
                | "resx"
        )
    })
}

/// 1 source code, 2 structured configuration, 3 docs and markup, 4 shell
/// and env files, 0 anything else.
fn extension_class(lower: &str) -> f32 {
    let name = lower.rsplit('/').next().unwrap_or(lower);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "py" | "js" | "ts" | "jsx" | "tsx" | "java" | "go" | "rb" | "php" | "cs" | "c" | "cc"
        | "cpp" | "h" | "hpp" | "kt" | "swift" | "scala" | "rs" | "m" | "groovy" | "pl" | "lua"
        | "dart" | "r" | "vue" => 1.0,
        "json" | "yml" | "yaml" | "toml" | "ini" | "cfg" | "conf" | "config" | "properties"
        | "xml" | "tf" | "tfvars" | "cnf" | "plist" => 2.0,
        "md" | "rst" | "txt" | "html" | "htm" | "adoc" | "ipynb" | "tex" => 3.0,
        "sh" | "bash" | "zsh" | "env" | "ps1" | "bat" | "cmd" | "dockerfile" => 4.0,
        "" if name.starts_with(".env") || name == "dockerfile" => 4.0,
        _ => 0.0,
    }
}

fn is_comment_line(line: &[u8]) -> bool {
    let t: &[u8] = {
        let s = line
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(line.len());
        &line[s..]
    };
    t.starts_with(b"#")
        || t.starts_with(b"//")
        || t.starts_with(b"/*")
        || t.starts_with(b"* ")
        || t.starts_with(b"<!--")
        || t.starts_with(b"--")
        || t.starts_with(b";")
        || t.starts_with(b"%")
}

/// Whether a user name is set on the same line or within two lines.
fn user_nearby(content: &[u8], line_start: usize, line_end: usize) -> bool {
    let mut s = line_start;
    for _ in 0..2 {
        if s == 0 {
            break;
        }
        s = line_bounds(content, s - 1).0;
    }
    let mut e = line_end;
    for _ in 0..2 {
        if e >= content.len() {
            break;
        }
        e = line_bounds(content, e + 1).1;
    }
    let around = content[s..e.min(content.len())].to_ascii_lowercase();
    contains(&around, b"user") || contains(&around, b"login") || contains(&around, b"email")
}

/// A `Basic` credential: base64 of `user:password`.
fn decodes_to_user_pass(v: &[u8]) -> bool {
    use base64::Engine as _;
    if v.len() < 8 || v.len() > 512 {
        return false;
    }
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .ok()
        .is_some_and(|d| {
            d.iter().all(|b| (0x20..0x7f).contains(b))
                && d.iter().filter(|&&b| b == b':').count() == 1
                && d.first() != Some(&b':')
        })
}

/// What is never a credential whatever the model says: a password hash
/// in a crypt format (stored to check a password, not to log in with), a
/// value bound to a name that says it is a hash or checksum, and an
/// authentication scheme's name (`"Authorization": "Bearer"`).
pub fn never_a_credential(name: &[u8], value: &[u8]) -> bool {
    let lower_name = name.to_ascii_lowercase();
    let last = lower_name
        .split(|b| !b.is_ascii_alphanumeric())
        .rfind(|p| !p.is_empty())
        .unwrap_or(b"");
    let crypt = [
        &b"$2a$"[..],
        b"$2b$",
        b"$2y$",
        b"$1$",
        b"$5$",
        b"$6$",
        b"$argon2",
        b"$apr1$",
        b"{SSHA}",
        b"{SHA}",
        b"pbkdf2_sha256$",
        b"bcrypt$",
    ]
    .iter()
    .any(|p| value.starts_with(p));
    let hash_name = [
        "hash", "hashed", "digest", "checksum", "sha1", "sha256", "md5",
    ]
    .iter()
    .any(|w| last == w.as_bytes());
    let scheme = [
        "bearer",
        "basic",
        "digest",
        "token",
        "negotiate",
        "ntlm",
        "oauth",
        "aws4-hmac-sha256",
        "aws4-ecdsa-p256-sha256",
        "hmac-sha256",
    ]
    .iter()
    .any(|w| value.eq_ignore_ascii_case(w.as_bytes()));
    // `"src/token.rs": "aa41..."`: a file's name and its checksum.
    let ext = lower_name.rsplit(|&b| b == b'.').next().unwrap_or(b"");
    let file_name = lower_name.contains(&b'.')
        && [
            "rs", "py", "js", "ts", "go", "rb", "java", "c", "h", "cc", "cpp", "json", "toml",
            "yml", "yaml", "md", "txt", "html", "pem", "der", "crt", "key", "pub", "bin",
        ]
        .iter()
        .any(|e| ext == e.as_bytes());
    crypt || hash_name || scheme || file_name || pass_only_inside_another_word(&lower_name)
}

/// Whether the name's only credential word is a `pass` that belongs to
/// another word: `needless_pass_by_value`, `bypass_cache`, `passthrough`,
/// `compass`, `passive_mode`, `passed`. A name that also holds `password`,
/// `pwd`, `secret`, `token`, ... is a credential's name all the same.
fn pass_only_inside_another_word(lower_name: &[u8]) -> bool {
    const CREDENTIAL_WORDS: &[&[u8]] = &[
        b"password",
        b"passwd",
        b"passphrase",
        b"passwort",
        b"pwd",
        b"secret",
        b"token",
        b"key",
        b"auth",
        b"cred",
        b"nonce",
        b"salt",
    ];
    const BEFORE: &[&[u8]] = &[b"by", b"com", b"sur", b"tres"];
    const AFTER: &[&[u8]] = &[
        b"_by",
        b"by",
        b"through",
        b"_through",
        b"thru",
        b"_thru",
        b"ive",
        b"age",
        b"enger",
        b"ed",
        b"es",
        b"ing",
    ];
    if CREDENTIAL_WORDS.iter().any(|w| contains(lower_name, w)) {
        return false;
    }
    let mut any = false;
    for (at, _) in lower_name
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"pass")
    {
        any = true;
        let before = &lower_name[..at];
        let after = &lower_name[at + 4..];
        if !BEFORE.iter().any(|w| before.ends_with(w))
            && !AFTER.iter().any(|w| after.starts_with(w))
        {
            return false;
        }
    }
    any
}

/// In source code, a credential is a string literal: a value bound by
/// `=`, `:` or `=>` without a quote before it is a variable, a constant or
/// an expression (`KEY: u32 = NDIS_KEY_SIZE`). Comments are left to the
/// model: `# password=...` there is prose, or a credential.
pub fn unquoted_name_in_code(c: &Candidate) -> bool {
    // Only the file name is lowercased: this runs on every candidate.
    let file_name = c.path.unwrap_or("").rsplit('/').next().unwrap_or("");
    if extension_class(&file_name.to_ascii_lowercase()) != 1.0 {
        return false;
    }
    let before = c.value_start.checked_sub(1).map(|i| c.content[i]);
    if matches!(before, Some(b'"' | b'\'' | b'`')) {
        return false;
    }
    let (line_start, _) = line_bounds(c.content, c.value_start);
    !is_comment_line(&c.content[line_start..c.value_start])
        && (1.0..=4.0).contains(&separator_kind(c.content, line_start, c.value_start))
}

/// One node of a tree as read from the model file: a split, or a leaf
/// when `feature` is `None`.
#[derive(Debug, Clone, Copy)]
struct ParsedNode {
    feature: Option<usize>,
    threshold: f64,
    left: usize,
    right: usize,
    value: f64,
}

/// One node as the walk reads it: 16 bytes, so that the whole ensemble
/// (some 6,000 nodes) stays in the cache that a scan also fills with text.
/// A split sends `x[feature] <= threshold` to `left`, others to `right`
/// (indices into [`Model::nodes`]); a leaf (`feature == LEAF`) holds in
/// `left` the index of its value in [`Model::leaf_values`].
#[derive(Debug, Clone, Copy)]
struct Node {
    feature: u32,
    threshold: f32,
    left: u32,
    right: u32,
}

const LEAF: u32 = u32::MAX;

/// The largest `f32` at most `t`: for every `f32` x, `x <= t` (compared as
/// `f64`, as the trainer compares) exactly when `x <= at_most(t)`.
fn f32_at_most(t: f64) -> f32 {
    let r = t as f32;
    if f64::from(r) > t {
        r.next_down()
    } else {
        r
    }
}

/// A gradient-boosted ensemble of regression trees over [`features`],
/// giving the log-odds that a candidate is a credential.
#[derive(Debug, Clone)]
pub struct Model {
    base: f64,
    /// Every tree's nodes, one tree after another; `roots[k]` is where
    /// tree `k` starts.
    nodes: Vec<Node>,
    roots: Vec<u32>,
    leaf_values: Vec<f64>,
    /// `best_rest[k]`: the most that trees `k..` can still add to the log
    /// odds (the sum of their largest leaves), so that a walk can stop as
    /// soon as a candidate can no longer reach the reporting score.
    best_rest: Vec<f64>,
    /// Scores (probabilities) at or above which a candidate is reported,
    /// and reported at medium and at high confidence.
    pub report_at: f64,
    pub medium_at: f64,
    pub high_at: f64,
}

impl Model {
    /// The model built into the binary.
    pub fn builtin() -> Result<Model, String> {
        Model::parse(MODEL_TEXT)
    }

    /// Parses the model format, line by line:
    ///
    /// ```text
    /// tripline-keyed-model 1
    /// features N            (must equal FEATURE_COUNT)
    /// base LOGODDS
    /// report P  medium P  high P
    /// tree
    /// FEATURE THRESHOLD LEFT RIGHT VALUE   (FEATURE -1 for a leaf)
    /// ...
    /// ```
    ///
    /// A sample goes left when its feature is at most the threshold.
    pub fn parse(text: &str) -> Result<Model, String> {
        let mut lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
        let header = lines.next().ok_or("empty model")?;
        if header.trim() != "tripline-keyed-model 1" {
            return Err(format!("unknown model header {header:?}"));
        }
        let mut trees: Vec<Vec<ParsedNode>> = Vec::new();
        let mut model = Model {
            base: 0.0,
            nodes: Vec::new(),
            roots: Vec::new(),
            leaf_values: Vec::new(),
            best_rest: Vec::new(),
            report_at: 0.5,
            medium_at: 0.7,
            high_at: 0.9,
        };
        let num = |s: Option<&str>, what: &str| -> Result<f64, String> {
            s.ok_or(format!("{what}: missing number"))?
                .parse::<f64>()
                .map_err(|e| format!("{what}: {e}"))
        };
        for line in lines {
            let mut w = line.split_whitespace();
            match w.next() {
                Some("features") => {
                    let n = num(w.next(), "features")? as usize;
                    if n != FEATURE_COUNT {
                        return Err(format!("model has {n} features, the code {FEATURE_COUNT}"));
                    }
                }
                Some("base") => model.base = num(w.next(), "base")?,
                Some("report") => {
                    model.report_at = num(w.next(), "report")?;
                    w.next();
                    model.medium_at = num(w.next(), "medium")?;
                    w.next();
                    model.high_at = num(w.next(), "high")?;
                }
                Some("tree") => trees.push(Vec::new()),
                Some(first) => {
                    let feature: i64 = first.parse().map_err(|e| format!("node: {e}"))?;
                    let threshold = num(w.next(), "threshold")?;
                    let left = num(w.next(), "left")? as usize;
                    let right = num(w.next(), "right")? as usize;
                    let value = num(w.next(), "value")?;
                    let tree = trees.last_mut().ok_or("node before any tree")?;
                    let feature = usize::try_from(feature).ok();
                    if feature.is_some_and(|f| f >= FEATURE_COUNT) {
                        return Err(format!("node feature {first} out of range"));
                    }
                    tree.push(ParsedNode {
                        feature,
                        threshold,
                        left,
                        right,
                        value,
                    });
                }
                None => {}
            }
        }
        for (t, tree) in trees.iter().enumerate() {
            for n in tree {
                if n.feature.is_some() && (n.left >= tree.len() || n.right >= tree.len()) {
                    return Err(format!("tree {t}: a child index is out of range"));
                }
            }
        }
        model.flatten(&trees)?;
        model.best_rest = vec![0.0; trees.len() + 1];
        for (k, tree) in trees.iter().enumerate().rev() {
            let best = tree
                .iter()
                .filter(|n| n.feature.is_none())
                .map(|n| n.value)
                .fold(f64::NEG_INFINITY, f64::max);
            model.best_rest[k] = model.best_rest[k + 1] + best.max(0.0);
        }
        Ok(model)
    }

    /// Lays the parsed trees out as [`Model::nodes`], children indexed
    /// from the start of the whole array.
    fn flatten(&mut self, trees: &[Vec<ParsedNode>]) -> Result<(), String> {
        let index = |i: usize| u32::try_from(i).map_err(|_| "the model is too large".to_string());
        for tree in trees {
            let root = self.nodes.len();
            self.roots.push(index(root)?);
            for n in tree {
                self.nodes.push(match n.feature {
                    Some(f) => Node {
                        feature: index(f)?,
                        threshold: f32_at_most(n.threshold),
                        left: index(root + n.left)?,
                        right: index(root + n.right)?,
                    },
                    None => {
                        self.leaf_values.push(n.value);
                        Node {
                            feature: LEAF,
                            threshold: 0.0,
                            left: index(self.leaf_values.len() - 1)?,
                            right: 0,
                        }
                    }
                });
            }
        }
        Ok(())
    }

    /// The probability that a candidate with features `x` is a credential.
    pub fn score(&self, x: &[f32; FEATURE_COUNT]) -> f64 {
        let sum = self
            .log_odds(x, f64::NEG_INFINITY)
            .unwrap_or(f64::NEG_INFINITY);
        1.0 / (1.0 + (-sum).exp())
    }

    /// The score of a candidate that reaches the reporting score, `None`
    /// for one that does not. Most candidates are far below it: the walk
    /// stops once the trees left cannot lift the sum to it, which gives
    /// the same answer as [`Model::score`] for a fraction of the trees.
    pub fn reported_score(&self, x: &[f32; FEATURE_COUNT]) -> Option<f64> {
        // The reporting score as log odds, less a margin for the rounding
        // of sums taken in another order.
        let bar = (self.report_at / (1.0 - self.report_at)).ln() - 1e-9;
        let p = 1.0 / (1.0 + (-self.log_odds(x, bar)?).exp());
        (p >= self.report_at).then_some(p)
    }

    /// The summed log odds of `x`; `None` as soon as the trees left cannot
    /// bring the sum to `bar`.
    fn log_odds(&self, x: &[f32; FEATURE_COUNT], bar: f64) -> Option<f64> {
        let mut sum = self.base;
        for (k, &root) in self.roots.iter().enumerate() {
            if sum + self.best_rest[k] < bar {
                return None;
            }
            let mut n = self.nodes[root as usize];
            // Children come after their parent in the file, so a walk ends;
            // the step bound guards a malformed file all the same.
            for _ in 0..self.nodes.len() {
                if n.feature == LEAF {
                    sum += self.leaf_values[n.left as usize];
                    break;
                }
                let next = if x[n.feature as usize] <= n.threshold {
                    n.left
                } else {
                    n.right
                };
                n = self.nodes[next as usize];
            }
        }
        Some(sum)
    }

    /// The confidence of a reported candidate with score `p`, or `None`
    /// when it is not reported.
    pub fn confidence(&self, p: f64) -> Option<Confidence> {
        if p >= self.high_at {
            Some(Confidence::High)
        } else if p >= self.medium_at {
            Some(Confidence::Medium)
        } else if p >= self.report_at {
            Some(Confidence::Low)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The features of the candidate `value` bound to `name` on the first
    /// line of `text` holding both (name first), in a file at `path`.
    fn fx(path: &str, text: &str, name: &str, value: &str) -> [f32; FEATURE_COUNT] {
        let name_start = text.find(name).expect("name in text");
        let value_start = name_start
            + name.len()
            + text[name_start + name.len()..]
                .find(value)
                .expect("value after name");
        features(&Candidate {
            path: Some(path),
            content: text.as_bytes(),
            name: &text.as_bytes()[name_start..name_start + name.len()],
            name_start,
            value_start,
            value_end: value_start + value.len(),
        })
    }

    fn get(f: &[f32; FEATURE_COUNT], name: &str) -> f32 {
        let i = FEATURE_NAMES
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("no feature {name}"));
        f[i]
    }

    /// One row per feature: a candidate where the feature is higher, and
    /// one where it is lower. Every feature has a row (checked below).
    /// (path, text, name, value) of one candidate.
    type Case = (&'static str, &'static str, &'static str, &'static str);

    const CASES: &[(&str, Case, Case)] = &[
        (
            "value_len",
            ("a.py", "password = 'Zk4mQ9xT2p'", "password", "Zk4mQ9xT2p"),
            ("a.py", "password = 'Zk4m'", "password", "Zk4m"),
        ),
        (
            "value_entropy",
            ("a.py", "token = 'Zk4mQ9xT2p'", "token", "Zk4mQ9xT2p"),
            ("a.py", "token = 'aaaaaaab'", "token", "aaaaaaab"),
        ),
        (
            "frac_digit",
            ("a.py", "pwd = '12345a'", "pwd", "12345a"),
            ("a.py", "pwd = 'abcdea'", "pwd", "abcdea"),
        ),
        (
            "frac_upper",
            ("a.py", "pwd = 'ABCDEa'", "pwd", "ABCDEa"),
            ("a.py", "pwd = 'abcdea'", "pwd", "abcdea"),
        ),
        (
            "frac_lower",
            ("a.py", "pwd = 'abcdeA'", "pwd", "abcdeA"),
            ("a.py", "pwd = 'ABCDEA'", "pwd", "ABCDEA"),
        ),
        (
            "frac_special",
            ("a.py", "pwd = '!@#$%a'", "pwd", "!@#$%a"),
            ("a.py", "pwd = 'abcdea'", "pwd", "abcdea"),
        ),
        (
            "char_classes",
            ("a.py", "pwd = 'aB3!xy'", "pwd", "aB3!xy"),
            ("a.py", "pwd = 'abcdxy'", "pwd", "abcdxy"),
        ),
        (
            "is_hex",
            ("a.py", "key = '0a1b2c3d4e'", "key", "0a1b2c3d4e"),
            ("a.py", "key = '0a1b2c3d4z'", "key", "0a1b2c3d4z"),
        ),
        (
            "is_base64ish",
            (
                "a.py",
                "key = 'Zk4mQ9xT2pLw7Rv5+/'",
                "key",
                "Zk4mQ9xT2pLw7Rv5+/",
            ),
            (
                "a.py",
                "key = 'Zk4m!9xT2pLw7Rv5+/'",
                "key",
                "Zk4m!9xT2pLw7Rv5+/",
            ),
        ),
        (
            "has_space",
            ("a.py", "pwd = 'ab cd'", "pwd", "ab cd"),
            ("a.py", "pwd = 'abcd'", "pwd", "abcd"),
        ),
        (
            "non_ascii",
            ("a.py", "pwd = 'Пароль'", "pwd", "Пароль"),
            ("a.py", "pwd = 'Parol'", "pwd", "Parol"),
        ),
        (
            "placeholder",
            ("a.py", "pwd = 'your_password'", "pwd", "your_password"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "code_like",
            ("a.py", "pwd = settings.DB_PASS", "pwd", "settings.DB_PASS"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "path_like",
            ("a.py", "key = '/etc/key.pem'", "key", "/etc/key.pem"),
            ("a.py", "key = 'Zk4mQ9xT'", "key", "Zk4mQ9xT"),
        ),
        (
            "url_like",
            ("a.py", "token = 'https://a.b/c'", "token", "https://a.b/c"),
            ("a.py", "token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
        ),
        (
            "uuid_like",
            (
                "a.py",
                "key = '123e4567-e89b-12d3-a456-426614174000'",
                "key",
                "123e4567-e89b-12d3-a456-426614174000",
            ),
            (
                "a.py",
                "key = '123e4567e89b12d3a456426614174000'",
                "key",
                "123e4567e89b12d3a456426614174000",
            ),
        ),
        (
            "hash_like",
            (
                "a.py",
                "pwd = '$2b$12$abcdefghijklmnopqrstuv'",
                "pwd",
                "$2b$12$abcdefghijklmnopqrstuv",
            ),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "template_like",
            ("a.py", "pwd = '${DB_PASS}'", "pwd", "${DB_PASS}"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "alpha_run_frac",
            ("a.py", "pwd = 'abcdef1'", "pwd", "abcdef1"),
            ("a.py", "pwd = 'a1b2c3d'", "pwd", "a1b2c3d"),
        ),
        (
            "vowel_frac",
            ("a.py", "pwd = 'aeioux'", "pwd", "aeioux"),
            ("a.py", "pwd = 'bcdfgx'", "pwd", "bcdfgx"),
        ),
        (
            "value_has_name_word",
            ("a.py", "pwd = 'mypassword1'", "pwd", "mypassword1"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "capitalised_word",
            (
                "de.json",
                "\"password\": \"Passwort\"",
                "password",
                "Passwort",
            ),
            ("a.py", "pwd = 'passwort'", "pwd", "passwort"),
        ),
        (
            "quoted",
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("a.env", "PWD=Zk4mQ9xT", "PWD", "Zk4mQ9xT"),
        ),
        (
            "closed_quote",
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("a.py", "pwd = 'Zk4mQ9xT and more'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "max_char_frac",
            ("a.py", "pwd = 'aaaab'", "pwd", "aaaab"),
            ("a.py", "pwd = 'abcde'", "pwd", "abcde"),
        ),
        (
            "all_digits",
            ("a.py", "pwd = '123456'", "pwd", "123456"),
            ("a.py", "pwd = '12345a'", "pwd", "12345a"),
        ),
        (
            "common_word",
            ("a.py", "pwd = 'adminpass'", "pwd", "adminpass"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "name_password",
            ("a.py", "db_pass = 'Zk4mQ9xT'", "db_pass", "Zk4mQ9xT"),
            ("a.py", "db_token = 'Zk4mQ9xT'", "db_token", "Zk4mQ9xT"),
        ),
        (
            "name_secret",
            (
                "a.py",
                "client_secret = 'Zk4mQ9xT'",
                "client_secret",
                "Zk4mQ9xT",
            ),
            ("a.py", "db_token = 'Zk4mQ9xT'", "db_token", "Zk4mQ9xT"),
        ),
        (
            "name_token",
            ("a.py", "db_token = 'Zk4mQ9xT'", "db_token", "Zk4mQ9xT"),
            (
                "a.py",
                "client_secret = 'Zk4mQ9xT'",
                "client_secret",
                "Zk4mQ9xT",
            ),
        ),
        (
            "name_key",
            ("a.py", "api_key = 'Zk4mQ9xT'", "api_key", "Zk4mQ9xT"),
            ("a.py", "db_token = 'Zk4mQ9xT'", "db_token", "Zk4mQ9xT"),
        ),
        (
            "name_auth",
            (
                "a.py",
                "Authorization: Bearer Zk4mQ9xT",
                "Bearer",
                "Zk4mQ9xT",
            ),
            ("a.py", "db_token = 'Zk4mQ9xT'", "db_token", "Zk4mQ9xT"),
        ),
        (
            "name_credential",
            (
                "a.py",
                "credentials = 'Zk4mQ9xT'",
                "credentials",
                "Zk4mQ9xT",
            ),
            ("a.py", "db_token = 'Zk4mQ9xT'", "db_token", "Zk4mQ9xT"),
        ),
        (
            "name_url_scheme",
            ("a.py", "postgres://app:Zk4mQ9xT@db", "postgres", "Zk4mQ9xT"),
            ("a.py", "db_token = 'Zk4mQ9xT'", "db_token", "Zk4mQ9xT"),
        ),
        (
            "name_not_value",
            (
                "a.py",
                "password_field = 'Zk4mQ9xT'",
                "password_field",
                "Zk4mQ9xT",
            ),
            ("a.py", "password = 'Zk4mQ9xT'", "password", "Zk4mQ9xT"),
        ),
        (
            "name_len",
            (
                "a.py",
                "database_password = 'Zk4mQ9xT'",
                "database_password",
                "Zk4mQ9xT",
            ),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "name_upper",
            ("a.env", "DB_PASSWORD=Zk4mQ9xT", "DB_PASSWORD", "Zk4mQ9xT"),
            (
                "a.py",
                "db_password = 'Zk4mQ9xT'",
                "db_password",
                "Zk4mQ9xT",
            ),
        ),
        (
            "sep_kind",
            (
                "a.py",
                "check(password, 'Zk4mQ9xT')",
                "password",
                "Zk4mQ9xT",
            ),
            ("a.py", "password = 'Zk4mQ9xT'", "password", "Zk4mQ9xT"),
        ),
        (
            "scope_test",
            ("tests/a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("src/a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "scope_doc",
            ("docs/a.md", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("src/a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "ext_class",
            ("a.md", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "comment_line",
            ("a.py", "# pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "line_len",
            (
                "a.py",
                "    pwd = 'Zk4mQ9xT'  # a long comment",
                "pwd",
                "Zk4mQ9xT",
            ),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "i18n_path",
            (
                "locale/de/messages.json",
                "\"password\": \"Zk4mQ9xT\"",
                "password",
                "Zk4mQ9xT",
            ),
            (
                "conf/app.json",
                "\"password\": \"Zk4mQ9xT\"",
                "password",
                "Zk4mQ9xT",
            ),
        ),
        (
            "comparison",
            ("a.py", "assert pwd == 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "user_nearby",
            ("a.py", "user = 'app'\npwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
            ("a.py", "host = 'db'\npwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "basic_user_pass",
            (
                "a.py",
                "Authorization: Basic ZGVwbG95Olpr",
                "Basic",
                "ZGVwbG95Olpr",
            ),
            (
                "a.py",
                "Authorization: Basic ZGVwbG95Wnpr",
                "Basic",
                "ZGVwbG95Wnpr",
            ),
        ),
        (
            "value_repeats_name",
            ("a.py", "password = 'password'", "password", "password"),
            ("a.py", "password = 'Zk4mQ9xT'", "password", "Zk4mQ9xT"),
        ),
        (
            "line_words",
            (
                "a.md",
                "set the pwd to Zk4mQ9xT and then log in",
                "pwd",
                "Zk4mQ9xT",
            ),
            ("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT"),
        ),
        (
            "name_exact",
            ("a.py", "password = 'Zk4mQ9xT'", "password", "Zk4mQ9xT"),
            (
                "a.py",
                "db_password = 'Zk4mQ9xT'",
                "db_password",
                "Zk4mQ9xT",
            ),
        ),
        (
            "name_path_like",
            (
                "a.json",
                "\"lib/keys.rb\": \"Zk4mQ9xT\"",
                "keys.rb",
                "Zk4mQ9xT",
            ),
            ("a.json", "\"keys\": \"Zk4mQ9xT\"", "keys", "Zk4mQ9xT"),
        ),
        (
            "in_url_query",
            ("a.md", "https://a.b/c?token=Zk4mQ9xT", "token", "Zk4mQ9xT"),
            ("a.py", "token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
        ),
        (
            "jwt_like",
            (
                "a.py",
                "token = 'eyJhbGciOi.eyJzdWIi.c2ln'",
                "token",
                "eyJhbGciOi.eyJzdWIi.c2ln",
            ),
            ("a.py", "token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
        ),
        (
            "value_column",
            ("a.py", "        token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
            ("a.py", "token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
        ),
        (
            "percent_encoded",
            ("a.py", "token = 'Zk4m%2FQ9xT'", "token", "Zk4m%2FQ9xT"),
            ("a.py", "token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
        ),
        (
            "upper_snake",
            ("a.py", "token = ACCESS_TOKEN", "token", "ACCESS_TOKEN"),
            ("a.py", "token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
        ),
        (
            "code_continues",
            ("a.js", "token = config.get('t')", "token", "config.get"),
            ("a.py", "token = 'Zk4mQ9xT'", "token", "Zk4mQ9xT"),
        ),
    ];

    #[test]
    fn each_feature_tells_its_two_cases_apart() {
        for (feature, hi, lo) in CASES {
            let h = get(&fx(hi.0, hi.1, hi.2, hi.3), feature);
            let l = get(&fx(lo.0, lo.1, lo.2, lo.3), feature);
            assert!(h > l, "{feature}: {h} <= {l} for {hi:?} / {lo:?}");
        }
        for name in FEATURE_NAMES {
            assert!(
                CASES.iter().any(|(f, _, _)| f == name),
                "feature {name} has no test case"
            );
        }
    }

    #[test]
    fn hashes_hash_names_scheme_words_and_pass_in_other_words_are_never_credentials() {
        for (name, value) in [
            ("ADMIN_PASSWORD_HASH", "Kq8vLm2TxZp4Rw9NcYd1GeHf5JbS3a"),
            (
                "password",
                "$2b$12$Kq8vLm2TxZp4Rw9NcYd1GeHf5JbS3aUoQiWtXyEvBnMk7",
            ),
            ("password", "pbkdf2_sha256$260000$abc$def"),
            ("token_checksum", "380a5176e6ba7262e104bfbcf4b2617b"),
            ("Authorization", "Bearer"),
            ("Authorization", "AWS4-HMAC-SHA256"),
            ("token.rs", "aa41c2b0e9d87f6a5b4c3d2e1f0a9b8c"),
            ("needless_pass_by_value", "allow"),
            ("bypass_cache", "Zk4mQ9xT2pLw"),
            ("passthrough", "Zk4mQ9xT2pLw"),
            ("compass-heading", "Zk4mQ9xT2pLw"),
            ("PASSIVE_MODE", "Zk4mQ9xT2pLw"),
        ] {
            assert!(
                never_a_credential(name.as_bytes(), value.as_bytes()),
                "{name}={value}"
            );
        }
        for (name, value) in [
            ("password", "Kq8vLm2TxZp4Rw9N"),
            ("hash_secret", "Kq8vLm2TxZp4Rw9N"),
            ("Authorization", "Bearer0Zk4mQ9xT"),
            ("config.api_key", "Zk4mQ9xT2pLw7Rv5"),
            ("db_pass", "Zk4mQ9xT2pLw"),
            ("smtp_pass_word", "Zk4mQ9xT2pLw"),
            // `pass` in another word, but a credential word as well.
            ("bypass_password", "Zk4mQ9xT2pLw"),
            ("passthrough_token", "Zk4mQ9xT2pLw"),
            ("pass_by_ref_secret", "Zk4mQ9xT2pLw"),
        ] {
            assert!(
                !never_a_credential(name.as_bytes(), value.as_bytes()),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn unquoted_values_in_code_are_names_but_not_in_config_or_comments() {
        let name = |path: &str, text: &str, n: &str, v: &str| {
            let name_start = text.find(n).expect("name");
            let value_start = text.rfind(v).expect("value");
            unquoted_name_in_code(&Candidate {
                path: Some(path),
                content: text.as_bytes(),
                name: n.as_bytes(),
                name_start,
                value_start,
                value_end: value_start + v.len(),
            })
        };
        assert!(name(
            "a.rs",
            "const KEY_LEN: usize = KEY_SIZE_MAX;",
            "KEY_LEN",
            "KEY_SIZE_MAX"
        ));
        assert!(name(
            "a.py",
            "password = get_password",
            "password",
            "get_password"
        ));
        assert!(!name(
            "a.py",
            "password = 'Zk4mQ9xT'",
            "password",
            "Zk4mQ9xT"
        ));
        assert!(!name("a.env", "PASSWORD=Zk4mQ9xT", "PASSWORD", "Zk4mQ9xT"));
        assert!(!name("a.py", "# password=Zk4mQ9xT", "password", "Zk4mQ9xT"));
    }

    #[test]
    fn the_built_in_model_parses_and_scores_within_zero_and_one() {
        let model = Model::builtin().expect("built-in model");
        assert!(!model.roots.is_empty());
        assert!(model.report_at <= model.medium_at && model.medium_at <= model.high_at);
        let x = fx("a.py", "pwd = 'Zk4mQ9xT'", "pwd", "Zk4mQ9xT");
        let p = model.score(&x);
        assert!((0.0..=1.0).contains(&p));
        // Deterministic: the same features, the same score.
        assert_eq!(p, model.score(&x));
    }

    #[test]
    fn a_hand_written_model_is_walked_as_written() {
        // One tree on value_len (feature 0): <= 5 goes left (-2), else +2.
        let text = format!(
            "tripline-keyed-model 1\nfeatures {FEATURE_COUNT}\nbase 0\nreport 0.5 medium 0.8 high 0.95\ntree\n0 5 1 2 0\n-1 0 0 0 -2\n-1 0 0 0 2\n"
        );
        let model = Model::parse(&text).expect("parses");
        let short = fx("a.py", "pwd = 'abc'", "pwd", "abc");
        let long = fx("a.py", "pwd = 'abcdefgh'", "pwd", "abcdefgh");
        let (ps, pl) = (model.score(&short), model.score(&long));
        assert!((ps - 1.0 / (1.0 + 2f64.exp())).abs() < 1e-9, "{ps}");
        assert!((pl - 1.0 / (1.0 + (-2f64).exp())).abs() < 1e-9, "{pl}");
        assert_eq!(model.confidence(ps), None);
        assert_eq!(model.confidence(pl), Some(Confidence::Medium));
        assert_eq!(model.confidence(0.99), Some(Confidence::High));
        assert_eq!(model.confidence(0.6), Some(Confidence::Low));
    }

    #[test]
    fn malformed_models_are_refused_with_a_reason() {
        for (text, want) in [
            ("", "empty model"),
            ("other 1\n", "unknown model header"),
            ("tripline-keyed-model 1\nfeatures 3\n", "features"),
            (
                "tripline-keyed-model 1\n0 1 1 2 0\n",
                "node before any tree",
            ),
            ("tripline-keyed-model 1\ntree\n0 1 5 6 0\n", "out of range"),
            (
                "tripline-keyed-model 1\ntree\n999 1 1 2 0\n",
                "out of range",
            ),
        ] {
            let e = Model::parse(text).expect_err(text);
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn line_features_read_a_bounded_part_of_a_long_line() {
        // A minified line: the features see at most LINE_REACH bytes on
        // either side, so each candidate on it costs the same.
        let line = format!(
            "{}password = \"Zq8vLm2Tx\"{}",
            "a ".repeat(50_000),
            " b".repeat(50_000)
        );
        let at = line.find("Zq8").expect("value");
        let (s, e) = line_bounds(line.as_bytes(), at);
        assert!(at - s <= LINE_REACH && e - at <= LINE_REACH, "{s}..{e}");
        assert_eq!(line_bounds(b"ab\ncd\nef", 4), (3, 5));
    }

    #[test]
    fn common_words_are_in_byte_order_for_the_first_letter_lookup() {
        assert!(COMMON_WORDS.windows(2).all(|w| w[0] < w[1]));
        // Longest word wins, wherever it sits in its letter's run.
        assert_eq!(common_word_cover(b"passwordtest"), 1.0);
        assert_eq!(common_word_cover(b"zzzz"), 0.0);
        // Six of the nine letters are "secret".
        assert!((common_word_cover(b"x9secretqq") - 6.0 / 9.0).abs() < 1e-6);
    }

    #[test]
    fn an_f32_threshold_splits_f32_features_as_the_f64_one_does() {
        // Thresholds as the trainer writes them: midpoints of f32 values,
        // which an f32 cannot hold exactly, and plain numbers.
        let thresholds = [
            0.075_757_578_015_327_45,
            37.0,
            0.1,
            1.0 / 3.0,
            -2.5,
            1e-40,
            3.5e38,
        ];
        for t in thresholds {
            let t32 = f32_at_most(t);
            let mut x = t as f32;
            for _ in 0..4 {
                x = x.next_down();
            }
            for _ in 0..9 {
                assert_eq!(f64::from(x) <= t, x <= t32, "x {x:e}, t {t:e}");
                x = x.next_up();
            }
        }
    }

    #[test]
    fn the_early_stopping_walk_reports_exactly_what_the_whole_walk_reports() {
        let model = Model::builtin().expect("built-in model");
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut reported = 0;
        for _ in 0..20_000 {
            let mut x = [0f32; FEATURE_COUNT];
            for v in x.iter_mut() {
                // Mostly flags and small counts, as the features are.
                *v = match next() % 4 {
                    0 => 0.0,
                    1 => 1.0,
                    2 => (next() % 8) as f32,
                    _ => (next() % 200) as f32 / 10.0,
                };
            }
            let whole = model.score(&x);
            let early = model.reported_score(&x);
            assert_eq!(early.is_some(), whole >= model.report_at, "{x:?}");
            if let Some(p) = early {
                assert_eq!(p, whole);
                reported += 1;
            }
        }
        // Both sides of the bar were exercised.
        assert!(reported > 0 && reported < 20_000, "{reported}");
        let real = fx(
            "settings.py",
            "DB_PASSWORD = 'Zq8vLm2Tx'",
            "DB_PASSWORD",
            "Zq8vLm2Tx",
        );
        assert_eq!(
            model.reported_score(&real).is_some(),
            model.score(&real) >= model.report_at
        );
    }
}
