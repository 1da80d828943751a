//! Shannon entropy of a candidate secret, in bits per byte.
//!
//! Rules use it as a floor (`entropy = 3.5`): random tokens score high,
//! words and repeated characters low. It measures the string, not how it
//! was made, so it is a filter for obvious non-secrets and nothing more.

/// Shannon entropy of `data` over its byte distribution: 0 for an empty or
/// one-symbol string, at most `log2(len)` and at most 8.
pub fn shannon(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-9);
        assert!((shannon(b"abcd") - 2.0).abs() < 1e-9);
        let all: Vec<u8> = (0..=255).collect();
        assert!((shannon(&all) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn random_token_beats_a_word() {
        assert!(shannon(b"Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y") > 4.0);
        assert!(shannon(b"passwordpassword") < 3.0);
    }
}
