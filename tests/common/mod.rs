//! What the integration tests that look for leaks share: the secret values
//! planted in `fixtures/leaky`, and the check that none is in an output.

use std::path::Path;

/// Every secret value planted in `fixtures/leaky`: the AWS key ids, the
/// GitHub token, and each body line of the two private keys.
pub fn planted_secrets() -> Vec<String> {
    let mut v: Vec<String> = [
        "AKIAQYLPMN5HHHFPZAM2",
        "AKIAVZ3HRB6QK7XTCW4N",
        "AKIA5TJD6N2WQRLMXBEV",
        "AKIAU2ZQ4BN7XRTLW5HM",
        "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",
    ]
    .map(String::from)
    .to_vec();
    let leaky = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/leaky");
    for key in ["keys/id_ed25519", "keys/server.pem"] {
        let text = std::fs::read_to_string(leaky.join(key)).unwrap();
        v.extend(
            text.lines()
                .filter(|l| !l.starts_with("-----"))
                .map(String::from),
        );
    }
    v
}

/// Fails naming `what` when `bytes` hold a planted secret.
pub fn assert_no_secret(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    for s in planted_secrets() {
        assert!(!text.contains(&s), "{what} leaks a planted secret: {s}");
    }
}
