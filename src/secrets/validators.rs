//! Offline validators: checks a candidate secret's structure can pass
//! without any network call (checksums, encodings, prefixes), so that a
//! format-valid but random string stops being reported.
//!
//! A candidate that fails its rule's validator is dropped; one that passes
//! is reported with high confidence. These checks say "this is shaped like
//! a real token", never "this token is live".

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// A named offline check, as written in a rule's `validator` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`): 30 random
    /// base62 characters then 6 characters of base62 CRC32 of those 30.
    GithubCrc32,
    /// npm tokens (`npm_`): the same scheme as GitHub's.
    NpmCrc32,
    /// PyPI API tokens: `pypi-` + a base64url macaroon whose location is PyPI.
    PypiMacaroon,
    /// JSON Web Tokens: three base64url parts, a JSON header with `alg`.
    Jwt,
    /// PEM private key blocks: the body base64-decodes.
    PemPrivateKey,
    /// AWS access key ids: a known prefix, then 16 base32 characters.
    AwsAccessKeyId,
}

/// The names accepted in rule files.
pub const NAMES: &[&str] = &[
    "github-crc32",
    "npm-crc32",
    "pypi-macaroon",
    "jwt",
    "pem-private-key",
    "aws-access-key-id",
];

impl Validator {
    pub fn from_name(name: &str) -> Result<Validator, String> {
        Ok(match name {
            "github-crc32" => Validator::GithubCrc32,
            "npm-crc32" => Validator::NpmCrc32,
            "pypi-macaroon" => Validator::PypiMacaroon,
            "jwt" => Validator::Jwt,
            "pem-private-key" => Validator::PemPrivateKey,
            "aws-access-key-id" => Validator::AwsAccessKeyId,
            other => {
                return Err(format!(
                    "unknown validator {other:?} (known: {})",
                    NAMES.join(", ")
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Validator::GithubCrc32 => "github-crc32",
            Validator::NpmCrc32 => "npm-crc32",
            Validator::PypiMacaroon => "pypi-macaroon",
            Validator::Jwt => "jwt",
            Validator::PemPrivateKey => "pem-private-key",
            Validator::AwsAccessKeyId => "aws-access-key-id",
        }
    }

    /// Whether `secret` passes this check.
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubCrc32 => {
                ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
                    .iter()
                    .any(|p| secret.starts_with(p.as_bytes()))
                    && crc32_token(&secret[4..])
            }
            Validator::NpmCrc32 => secret.starts_with(b"npm_") && crc32_token(&secret[4..]),
            Validator::PypiMacaroon => pypi_macaroon(secret),
            Validator::Jwt => jwt(secret),
            Validator::PemPrivateKey => pem_private_key(secret),
            Validator::AwsAccessKeyId => aws_access_key_id(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base62 (digits, upper, lower), left-padded with `0` to 6 places:
/// the checksum GitHub and npm append to their tokens.
pub fn base62_checksum(n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    let mut n = u64::from(n);
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// The 36 characters after a GitHub/npm prefix: 30 base62 characters whose
/// CRC32, in base62, is the last 6.
fn crc32_token(rest: &[u8]) -> bool {
    if rest.len() != 36 || !rest.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (body, sum) = rest.split_at(30);
    base62_checksum(crc32fast::hash(body)) == sum
}

/// Decodes base64 in any of its common spellings (standard or URL-safe,
/// padded or not).
fn decode_base64_any(data: &[u8]) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(data)
        .or_else(|_| URL_SAFE.decode(data))
        .or_else(|_| STANDARD.decode(data))
        .or_else(|_| STANDARD_NO_PAD.decode(data))
        .ok()
}

/// A PyPI token is `pypi-` and a serialized macaroon (version 2 binary
/// format) whose location field names PyPI (`pypi.org`, `test.pypi.org`).
fn pypi_macaroon(secret: &[u8]) -> bool {
    let Some(body) = secret.strip_prefix(b"pypi-") else {
        return false;
    };
    let Some(raw) = decode_base64_any(body) else {
        return false;
    };
    // Version byte 2, then field type 1 (location), its length, the text.
    if raw.len() < 3 || raw[0] != 2 || raw[1] != 1 {
        return false;
    }
    let len = raw[2] as usize;
    let Some(location) = raw.get(3..3 + len) else {
        return false;
    };
    location.ends_with(b"pypi.org")
}

/// Three base64url parts; the header decodes to a JSON object with `alg`,
/// the payload to JSON.
fn jwt(secret: &[u8]) -> bool {
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'.').collect();
    if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() {
        return false;
    }
    let Some(header) = decode_base64_any(parts[0]) else {
        return false;
    };
    let Ok(serde_json::Value::Object(h)) = serde_json::from_slice::<serde_json::Value>(&header)
    else {
        return false;
    };
    if !h.get("alg").is_some_and(serde_json::Value::is_string) {
        return false;
    }
    let Some(payload) = decode_base64_any(parts[1]) else {
        return false;
    };
    if serde_json::from_slice::<serde_json::Value>(&payload).is_err() {
        return false;
    }
    // The signature is opaque: only its alphabet is checked (decoders also
    // insist on zero trailing bits, which says nothing about a token).
    parts[2]
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
}

/// The body of a `-----BEGIN ... PRIVATE KEY-----` block (minus RFC 1421
/// headers such as `Proc-Type:` and `DEK-Info:`) decodes as base64 to
/// something at least as long as the smallest real key.
fn pem_private_key(secret: &[u8]) -> bool {
    // A key pasted into a JSON or code string has escaped newlines.
    let text = String::from_utf8_lossy(secret).replace("\\n", "\n");
    let mut lines = text.lines().map(str::trim);
    if !lines
        .next()
        .is_some_and(|l| l.starts_with("-----BEGIN") && l.contains("PRIVATE KEY"))
    {
        return false;
    }
    let mut body_lines: Vec<String> = Vec::new();
    let mut ended = false;
    for l in lines {
        if l.starts_with("-----END") {
            ended = true;
            break;
        }
        if l.contains(':') || l.is_empty() {
            continue; // header lines and the blank line after them
        }
        body_lines.push(l.to_string());
    }
    if !ended {
        return false;
    }
    // PGP armour ends with a `=XXXX` CRC-24 line; it is not part of the body.
    if body_lines
        .last()
        .is_some_and(|l| l.len() == 5 && l.starts_with('='))
    {
        body_lines.pop();
    }
    let body = body_lines.concat();
    match STANDARD.decode(body.as_bytes()) {
        Ok(raw) => raw.len() >= 32,
        Err(_) => false,
    }
}

/// AWS access key ids: a known four-letter prefix and 16 base32 characters
/// (`A`-`Z`, `2`-`7`).
fn aws_access_key_id(secret: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AGPA", b"AIDA", b"AIPA", b"ANPA", b"ANVA", b"APKA",
        b"AROA", b"ASCA",
    ];
    secret.len() == 20
        && PREFIXES.iter().any(|p| secret.starts_with(p))
        && secret[4..]
            .iter()
            .all(|&b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_token(prefix: &str, body: &str) -> String {
        let sum = base62_checksum(crc32fast::hash(body.as_bytes()));
        format!("{prefix}{body}{}", String::from_utf8_lossy(&sum))
    }

    #[test]
    fn github_checksum_accepts_a_valid_token_and_rejects_a_changed_one() {
        let t = github_token("ghp_", "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y");
        assert_eq!(t, "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");
        assert!(Validator::GithubCrc32.check(t.as_bytes()));
        let bad = t.replace("Ky9", "Ky8");
        assert!(!Validator::GithubCrc32.check(bad.as_bytes()));
        assert!(!Validator::GithubCrc32.check(b"ghp_short"));
        let npm = github_token("npm_", "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y");
        assert!(Validator::NpmCrc32.check(npm.as_bytes()));
        assert!(!Validator::GithubCrc32.check(npm.as_bytes()));
    }

    #[test]
    fn aws_key_id_alphabet_and_prefix() {
        assert!(Validator::AwsAccessKeyId.check(b"AKIAQYLPMN5HHHFPZAM2"));
        assert!(!Validator::AwsAccessKeyId.check(b"AKIAQYLPMN5HHHFPZAM1")); // 1 is not base32
        assert!(!Validator::AwsAccessKeyId.check(b"AXXAQYLPMN5HHHFPZAM2"));
        assert!(!Validator::AwsAccessKeyId.check(b"AKIAQYLPMN5HHHFPZAM"));
    }

    #[test]
    fn jwt_needs_a_json_header_with_alg() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"1234"}"#);
        let good = format!("{h}.{p}.c2lnbmF0dXJl");
        assert!(Validator::Jwt.check(good.as_bytes()));
        let no_alg = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT"}"#);
        assert!(!Validator::Jwt.check(format!("{no_alg}.{p}.c2ln").as_bytes()));
        assert!(!Validator::Jwt.check(b"eyJhbGciOi.not-base64!.x"));
    }

    #[test]
    fn pypi_macaroon_names_pypi() {
        let mut raw = vec![2u8, 1, 8];
        raw.extend_from_slice(b"pypi.org");
        raw.extend_from_slice(&[2, 5, 1, 2, 3, 4, 5, 0]);
        let good = format!("pypi-{}", URL_SAFE_NO_PAD.encode(&raw));
        assert!(Validator::PypiMacaroon.check(good.as_bytes()));
        raw[3] = b'q';
        let bad = format!("pypi-{}", URL_SAFE_NO_PAD.encode(&raw));
        assert!(!Validator::PypiMacaroon.check(bad.as_bytes()));
        assert!(!Validator::PypiMacaroon.check(b"pypi-!!!notbase64"));
    }

    #[test]
    fn pem_body_must_decode() {
        let body = STANDARD.encode([7u8; 48]);
        let good =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----");
        assert!(Validator::PemPrivateKey.check(good.as_bytes()));
        let bad = "-----BEGIN RSA PRIVATE KEY-----\nthis is not base64 at all!\n-----END RSA PRIVATE KEY-----";
        assert!(!Validator::PemPrivateKey.check(bad.as_bytes()));
        let truncated = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n");
        assert!(!Validator::PemPrivateKey.check(truncated.as_bytes()));
    }
}
