//! Standard input as a source: `tripline secrets -` reads it as one file.
//!
//! The bytes go through the checks the walker makes on a file it reads
//! (the size limit, the binary test that lets UTF-16 text through), so the
//! scanner sees them exactly as it would see the same bytes in a file.
//! Naming the input, and deciding what a refusal means, is the caller's.

use std::io::{self, Read};

use super::walk::looks_binary;

/// What reading standard input gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// All of it (empty when the input was empty or closed).
    Read(Vec<u8>),
    /// More than the size limit: a file the walker skips as too large.
    TooLarge,
    /// Binary by the walker's test.
    Binary,
}

/// Reads `reader` to its end, or to one byte past `max`: an input over the
/// limit is refused without holding more of it than that.
pub fn read(reader: impl Read, max: u64) -> io::Result<Input> {
    let mut buf = Vec::new();
    let n = reader.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if n as u64 > max {
        return Ok(Input::TooLarge);
    }
    if looks_binary(&buf) {
        return Ok(Input::Binary);
    }
    Ok(Input::Read(buf))
}

/// The name standard input is reported under, from `--stdin-name` as the
/// user wrote it: `/`-separated and without a leading `./`, as the walker
/// names a file, so path rules and allowlists match it alike.
pub fn report_name(given: &str) -> String {
    let mut name = given.replace('\\', "/");
    while let Some(rest) = name.strip_prefix("./") {
        name = rest.to_string();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walkers_limits_apply() {
        assert_eq!(read(&b""[..], 10).unwrap(), Input::Read(Vec::new()));
        assert_eq!(
            read(&b"0123456789"[..], 10).unwrap(),
            Input::Read(b"0123456789".to_vec())
        );
        assert_eq!(read(&b"0123456789x"[..], 10).unwrap(), Input::TooLarge);
        assert_eq!(read(&b"\x7fELF\0\0\x01"[..], 100).unwrap(), Input::Binary);
        // UTF-16 text is full of NULs and still text.
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("key = value\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(read(&utf16[..], 100).unwrap(), Input::Read(utf16.clone()));
    }

    #[test]
    fn names_read_as_the_walker_writes_them() {
        assert_eq!(report_name("./config/deploy.yml"), "config/deploy.yml");
        assert_eq!(report_name("config\\app.env"), "config/app.env");
        assert_eq!(report_name("<stdin>"), "<stdin>");
    }
}
