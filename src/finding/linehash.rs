//! GitHub's `primaryLocationLineHash`: the per-line fingerprint code scanning
//! uses to recognise an alert again after the lines around it have moved.
//!
//! GitHub's upload action (`codeql-action`, `fingerprints.ts`) computes it
//! when a SARIF file lacks it; tripline computes the same values itself so
//! that a SARIF file uploaded through the raw API, or by an older action,
//! tracks alerts the same way. The algorithm is reproduced exactly,
//! including its quirks, because a hash that differs from GitHub's by one
//! unit makes every alert look new:
//!
//! - the file is read as UTF-8 (invalid bytes become U+FFFD, as Node's
//!   decoder does) and hashed as UTF-16 code units;
//! - spaces and tabs are skipped; CR and CRLF become one LF;
//! - a rolling polynomial hash (base 37, wrapping at 64 bits) runs over a
//!   window of the last 100 kept units; a line's hash is the value once the
//!   100 units starting at the line's first kept unit have entered, with the
//!   end of the file padded by one unit 65535 and then zeros;
//! - the value is written as lowercase hex without leading zeros, followed
//!   by `:n`, where n counts that value's occurrences so far in the file.
//!
//! The padding unit 65535 can itself start a line: a file that ends with a
//! newline (or is empty) gets one more hash than it has text lines, exactly
//! as GitHub counts.
//!
//! [`line_hashes`] computes every line's hash by the algorithm as written.
//! [`line_hashes_at`], what the scanners use, computes only the hashes of
//! the lines asked for, and of the lines that could share their value,
//! without running the rolling hash over the whole file; see there for the
//! one way its numbering could differ from GitHub's.
//!
//! This module only hashes bytes it is given; it never reads files (the
//! scanner calls it while it still holds the content).

use std::collections::{HashMap, HashSet, VecDeque};

/// Units in the rolling window.
const WINDOW: usize = 100;
/// The polynomial base.
const BASE: u64 = 37;
/// The unit that marks the end of the file.
const END_OF_FILE: u16 = 65535;

const SPACE: u16 = b' ' as u16;
const TAB: u16 = b'\t' as u16;
const LF: u16 = b'\n' as u16;
const CR: u16 = b'\r' as u16;

/// One hash per line of `content` (index 0 is line 1), as GitHub's upload
/// action computes them.
///
/// Lines are counted as GitHub counts them: LF, CRLF and a lone CR each end
/// a line, and a final newline (or an empty file) is followed by one more,
/// empty line.
pub fn line_hashes(content: &[u8]) -> Vec<String> {
    let mut seen: HashMap<u64, u32> = HashMap::new();
    line_values(content, usize::MAX)
        .into_iter()
        .map(|value| format_hash(value, &mut seen))
        .collect()
}

/// The hashes of the 1-based `lines` only, by line: what a scanner needs
/// for the findings of one file (a line past the end has none).
///
/// A line's value depends only on the 100 units from its start, so the
/// wanted lines' values are computed from their windows alone. Their `:n`
/// counts the earlier lines with the same value, and rather than compute
/// every earlier line's value, this computes it only for lines whose
/// window could be the same: starting with the same unit, then with the
/// same 32. A line whose window equals a wanted one always passes; what
/// is passed over is a line whose different window has the same 64-bit
/// value, which takes windows built for the purpose (the hash is a
/// polynomial, not a cryptographic one). For such a file, the one alert
/// would be numbered `:1` where GitHub's action says `:2`. On a lockfile
/// this is a tenth of the work of hashing every line (fifty lockfiles
/// spent a quarter of their audit on it).
///
/// Content that is not UTF-8 takes the full computation, which decodes it
/// as GitHub does.
pub fn line_hashes_at(content: &[u8], lines: &[u32]) -> HashMap<u32, String> {
    match std::str::from_utf8(content) {
        Ok(text) => hashes_from_windows(text, lines),
        Err(_) => hashes_by_rolling(content, lines),
    }
}

/// How many units of a window pass for a sign that it may equal another.
const KEY_UNITS: usize = 32;

/// [`line_hashes_at`] for valid UTF-8, from the windows of the lines that
/// may share a wanted line's value.
fn hashes_from_windows(text: &str, lines: &[u32]) -> HashMap<u32, String> {
    let last = lines.iter().copied().max().unwrap_or(0) as usize;
    let starts = line_starts(text.as_bytes(), last);
    let wanted: HashSet<u32> = lines
        .iter()
        .copied()
        .filter(|&l| (1..=starts.len()).contains(&(l as usize)))
        .collect();
    // For each wanted window: its first unit, its key, and its value.
    let mut first_units = UnitSet::default();
    let mut keys = HashSet::new();
    let mut values = HashSet::new();
    for &line in &wanted {
        let mut units = Units::at(text, starts[line as usize - 1]);
        let (first, key, value) = window_parts(&mut units);
        first_units.insert(first);
        keys.insert(key);
        values.insert(value);
    }
    let mut numbering = Numbering::new(&wanted);
    for (i, &start) in starts.iter().enumerate() {
        let mut units = Units::at(text, start);
        let first = units.next_unit();
        if !first_units.contains(first) {
            continue;
        }
        let key = fold(&mut units, u64::from(first), KEY_UNITS - 1);
        if !keys.contains(&key) {
            continue;
        }
        let value = fold(&mut units, key, WINDOW - KEY_UNITS);
        if values.contains(&value) {
            numbering.count(i, value);
        }
    }
    numbering.hashes
}

/// The `:n` numbering of the values that may belong to wanted lines, fed
/// in line order, and the hashes of the wanted lines it gives.
struct Numbering<'a> {
    wanted: &'a HashSet<u32>,
    seen: HashMap<u64, u32>,
    hashes: HashMap<u32, String>,
}

impl<'a> Numbering<'a> {
    fn new(wanted: &'a HashSet<u32>) -> Numbering<'a> {
        Numbering {
            wanted,
            seen: HashMap::new(),
            hashes: HashMap::new(),
        }
    }

    /// Counts `value` for the line at 0-based `index`; keeps its hash when
    /// that line is wanted.
    fn count(&mut self, index: usize, value: u64) {
        let hash = format_hash(value, &mut self.seen);
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if self.wanted.contains(&line) {
            self.hashes.insert(line, hash);
        }
    }
}

/// The byte offsets where lines 1 to `last` start (fewer when the text
/// has fewer lines). LF, CRLF and a lone CR each end a line, and a final
/// line end starts one more line, empty, as GitHub counts.
fn line_starts(text: &[u8], last: usize) -> Vec<usize> {
    let mut starts = vec![0];
    // One search over the text: a search per line costs its setup each
    // time, more than a short line's bytes.
    for end in memchr::memchr2_iter(b'\n', b'\r', text) {
        if starts.len() >= last {
            break;
        }
        // The LF of a CRLF: its CR ended the line already.
        if text[end] == b'\n' && end > 0 && text[end - 1] == b'\r' {
            continue;
        }
        let next = if text[end] == b'\r' && text.get(end + 1) == Some(&b'\n') {
            end + 2
        } else {
            end + 1
        };
        starts.push(next);
    }
    starts
}

/// A window's first unit, its key (the polynomial of its first
/// [`KEY_UNITS`] units) and its value (that of all [`WINDOW`]).
fn window_parts(units: &mut Units<'_>) -> (u16, u64, u64) {
    let first = units.next_unit();
    let key = fold(units, u64::from(first), KEY_UNITS - 1);
    (first, key, fold(units, key, WINDOW - KEY_UNITS))
}

/// The rolling polynomial carried from `hash` over the next `n` units.
fn fold(units: &mut Units<'_>, hash: u64, n: usize) -> u64 {
    (0..n).fold(hash, |h, _| {
        h.wrapping_mul(BASE)
            .wrapping_add(u64::from(units.next_unit()))
    })
}

/// The units GitHub hashes, from a line start on: blanks skipped, CR and
/// CRLF as one LF, UTF-16; after the text, the end-of-file unit and then
/// zeros, without end.
struct Units<'a> {
    chars: std::str::Chars<'a>,
    /// The second half of a surrogate pair.
    low: Option<u16>,
    ended: bool,
}

impl<'a> Units<'a> {
    /// From byte `start` of `text`, a line start (so a char boundary).
    fn at(text: &'a str, start: usize) -> Units<'a> {
        Units {
            chars: text.get(start..).unwrap_or("").chars(),
            low: None,
            ended: false,
        }
    }

    fn next_unit(&mut self) -> u16 {
        if let Some(low) = self.low.take() {
            return low;
        }
        loop {
            match self.chars.next() {
                None if self.ended => return 0,
                None => {
                    self.ended = true;
                    return END_OF_FILE;
                }
                Some(' ' | '\t') => continue,
                Some('\r') => {
                    if self.chars.as_str().starts_with('\n') {
                        self.chars.next();
                    }
                    return LF;
                }
                Some(c) => {
                    let mut pair = [0u16; 2];
                    let units = c.encode_utf16(&mut pair);
                    if let [high, low] = units {
                        self.low = Some(*low);
                        return *high;
                    }
                    return units[0];
                }
            }
        }
    }
}

/// A set of UTF-16 units, one bit each.
struct UnitSet(Vec<u64>);

impl Default for UnitSet {
    fn default() -> UnitSet {
        UnitSet(vec![0; 1 << 10])
    }
}

impl UnitSet {
    fn insert(&mut self, unit: u16) {
        self.0[usize::from(unit >> 6)] |= 1 << (unit & 63);
    }

    fn contains(&self, unit: u16) -> bool {
        self.0[usize::from(unit >> 6)] & (1 << (unit & 63)) != 0
    }
}

/// [`line_hashes_at`] by the rolling hash over the file up to the last
/// line wanted, decoding it as GitHub does: for content that is not UTF-8.
/// It costs 8 bytes per line of the file rather than a string per line.
fn hashes_by_rolling(content: &[u8], lines: &[u32]) -> HashMap<u32, String> {
    let last = lines.iter().copied().max().unwrap_or(0) as usize;
    let values = line_values(content, last);
    let wanted: HashSet<u32> = lines.iter().copied().collect();
    let wanted_values: HashSet<u64> = wanted
        .iter()
        .filter_map(|&l| values.get((l as usize).checked_sub(1)?))
        .copied()
        .collect();
    // The `:n` suffix counts earlier lines with the same value, so those
    // values are counted up to the last line wanted; no other value is.
    // Most lines are not wanted: a bit filter turns them away before the
    // set is consulted (a hash per line was a sixth of the time).
    let filter = ValueFilter::of(&wanted_values);
    let mut numbering = Numbering::new(&wanted);
    for (i, &value) in values.iter().enumerate().take(last) {
        if filter.may_contain(value) && wanted_values.contains(&value) {
            numbering.count(i, value);
        }
    }
    numbering.hashes
}

/// A 1,024-bit filter over a set of line values: `false` means surely
/// not in the set. Values are rolling hashes, so their bits are spread;
/// crafted values only make the filter pass more, never answer wrong.
struct ValueFilter([u64; 16]);

impl ValueFilter {
    fn of(values: &HashSet<u64>) -> ValueFilter {
        let mut bits = [0u64; 16];
        for &v in values {
            let (word, bit) = ValueFilter::slot(v);
            bits[word] |= 1 << bit;
        }
        ValueFilter(bits)
    }

    #[inline]
    fn may_contain(&self, value: u64) -> bool {
        let (word, bit) = ValueFilter::slot(value);
        self.0[word] & (1 << bit) != 0
    }

    #[inline]
    fn slot(value: u64) -> (usize, u32) {
        let v = value ^ (value >> 29) ^ (value >> 47);
        (((v >> 6) & 15) as usize, (v & 63) as u32)
    }
}

/// `value` as GitHub writes it: lowercase hex, then `:n` for its n-th
/// occurrence in the file.
fn format_hash(value: u64, seen: &mut HashMap<u64, u32>) -> String {
    let n = seen.entry(value).or_insert(0);
    *n += 1;
    format!("{value:x}:{n}")
}

/// The rolling-hash value of each line from 1 to `last_line` at least (all
/// of them when the file is shorter), before numbering occurrences. A
/// line's value depends only on the 100 units from its start, so stopping
/// early changes nothing. The bytes are decoded as
/// `String::from_utf8_lossy` would (one U+FFFD per invalid sequence),
/// without copying the file.
fn line_values(content: &[u8], last_line: usize) -> Vec<u64> {
    const REPLACEMENT: u16 = 0xFFFD;
    let mut hasher = LineHasher::new();
    if content.is_ascii() {
        // Most files: every byte is its own UTF-16 unit.
        if !hasher.push_ascii(content, last_line) {
            return hasher.values;
        }
    } else {
        for chunk in content.utf8_chunks() {
            if !hasher.push_all(chunk.valid().encode_utf16(), last_line) {
                return hasher.values;
            }
            if !chunk.invalid().is_empty()
                && !hasher.push_all(std::iter::once(REPLACEMENT), last_line)
            {
                return hasher.values;
            }
        }
    }
    hasher.finish()
}

/// Whether an ASCII byte is a unit that only extends the hash: not a blank
/// (skipped) and not a line end.
#[inline(always)]
fn is_plain(b: u8) -> bool {
    !matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// [`LineHasher`]'s per-unit state, held in locals over a run of units.
#[derive(Clone, Copy)]
struct Cursor {
    prefix: u64,
    kept: u64,
    at_line_start: bool,
    previous_was_cr: bool,
    /// Where the oldest pending line's window completes (`u64::MAX`: none).
    next_completion: u64,
}

/// The state of GitHub's rolling hash over one file.
///
/// GitHub's code keeps a ring of the last 100 units and subtracts the one
/// leaving. The same value is computed here from prefix hashes: with `P(k)`
/// the polynomial over the first `k` kept units, the window of 100 units
/// from `k` is `P(k + 100) - P(k) * 37^100` (wrapping). So only the prefix
/// hash is carried per unit, and per line the prefix where it starts: no
/// ring to read and write on every unit, which halved the time.
struct LineHasher {
    /// `P(kept)`.
    prefix: u64,
    /// Units kept so far (spaces and tabs are not).
    kept: u64,
    /// `(k, P(k))` for each line whose window is not complete yet, in
    /// order; at most `WINDOW` of them, as each line keeps a unit.
    pending: VecDeque<(u64, u64)>,
    /// `BASE^WINDOW`, wrapping.
    window_weight: u64,
    line_number: u32,
    at_line_start: bool,
    previous_was_cr: bool,
    /// Each completed line's value, in line order.
    values: Vec<u64>,
}

impl LineHasher {
    fn new() -> LineHasher {
        LineHasher {
            prefix: 0,
            kept: 0,
            pending: VecDeque::with_capacity(WINDOW),
            window_weight: (0..WINDOW).fold(1u64, |w, _| w.wrapping_mul(BASE)),
            line_number: 0,
            at_line_start: true,
            previous_was_cr: false,
            values: Vec::new(),
        }
    }

    /// Where the oldest pending line's window completes (`u64::MAX`: none).
    fn next_completion(&self) -> u64 {
        self.pending
            .front()
            .map_or(u64::MAX, |&(start, _)| start + WINDOW as u64)
    }

    /// Records the oldest pending line's value: its window is complete.
    fn complete_line(&mut self, prefix: u64) {
        if let Some((_, at_start)) = self.pending.pop_front() {
            // Lines complete in order, so the vector index is the line
            // number less one.
            debug_assert!(self.values.len() < self.line_number as usize);
            self.values
                .push(prefix.wrapping_sub(at_start.wrapping_mul(self.window_weight)));
        }
    }

    /// The per-unit state, copied out for a run of units so that it lives
    /// in registers, and written back after.
    #[inline(always)]
    fn cursor(&self) -> Cursor {
        Cursor {
            prefix: self.prefix,
            kept: self.kept,
            at_line_start: self.at_line_start,
            previous_was_cr: self.previous_was_cr,
            next_completion: self.next_completion(),
        }
    }

    #[inline(always)]
    fn store(&mut self, c: &Cursor) {
        self.prefix = c.prefix;
        self.kept = c.kept;
        self.at_line_start = c.at_line_start;
        self.previous_was_cr = c.previous_was_cr;
    }

    /// Feeds one UTF-16 unit; `false` once the values of lines 1 to
    /// `last_line` are known (checked at line ends only, as the test is on
    /// the hot path), and the caller may stop.
    #[inline(always)]
    fn step(&mut self, c: &mut Cursor, raw: u16, last_line: usize) -> bool {
        // The LF of a CRLF was already counted by its CR. Note that a space
        // or tab between CR and LF also clears the flag, as in GitHub's code.
        if raw == SPACE || raw == TAB || (c.previous_was_cr && raw == LF) {
            c.previous_was_cr = false;
            return !(raw == LF && self.values.len() >= last_line);
        }
        c.previous_was_cr = raw == CR;
        let unit = if raw == CR { LF } else { raw };
        // The window of the line that started 100 kept units ago is
        // complete before this unit enters.
        if c.kept == c.next_completion {
            self.complete_line(c.prefix);
            c.next_completion = self.next_completion();
        }
        if c.at_line_start {
            c.at_line_start = false;
            self.line_number += 1;
            self.pending.push_back((c.kept, c.prefix));
            c.next_completion = c.next_completion.min(c.kept + WINDOW as u64);
        }
        c.prefix = c.prefix.wrapping_mul(BASE).wrapping_add(u64::from(unit));
        c.kept += 1;
        if unit == LF {
            c.at_line_start = true;
            return !(raw == LF && self.values.len() >= last_line);
        }
        true
    }

    /// Feeds UTF-16 units of the file; `false` once the values of lines 1
    /// to `last_line` are known, and the caller may stop.
    #[inline(always)]
    fn push_all(&mut self, units: impl Iterator<Item = u16>, last_line: usize) -> bool {
        let mut c = self.cursor();
        let mut going = true;
        for raw in units {
            if !self.step(&mut c, raw, last_line) {
                going = false;
                break;
            }
        }
        self.store(&c);
        going
    }

    /// [`push_all`](Self::push_all) for ASCII bytes, each its own unit.
    /// Inside a line, most bytes start no line and complete no window:
    /// those only extend the prefix hash, or are blanks and skipped, in a
    /// loop that does nothing else; line ends, line starts and completed
    /// windows take the general step. Calling `push_all` for each of those
    /// (several a line) was half the time of a lockfile's hashes.
    fn push_ascii(&mut self, bytes: &[u8], last_line: usize) -> bool {
        let mut c = self.cursor();
        let mut i = 0;
        let mut going = true;
        while i < bytes.len() {
            if !c.at_line_start {
                // Not at a line start, so the previous unit was no CR: a
                // blank here has no CRLF to break, and is simply skipped.
                debug_assert!(!c.previous_was_cr);
                let (mut prefix, mut kept) = (c.prefix, c.kept);
                while i < bytes.len() && kept < c.next_completion {
                    let b = bytes[i];
                    if is_plain(b) {
                        prefix = prefix.wrapping_mul(BASE).wrapping_add(u64::from(b));
                        kept += 1;
                    } else if b != b' ' && b != b'\t' {
                        break;
                    }
                    i += 1;
                }
                (c.prefix, c.kept) = (prefix, kept);
                if i == bytes.len() {
                    break;
                }
            }
            if !self.step(&mut c, u16::from(bytes[i]), last_line) {
                going = false;
                break;
            }
            i += 1;
        }
        self.store(&c);
        going
    }

    /// Pads the end of the file (one unit 65535, then zeros until every
    /// line's window is complete) and returns every line's value.
    fn finish(mut self) -> Vec<u64> {
        self.push_all(std::iter::once(END_OF_FILE), usize::MAX);
        for _ in 0..WINDOW {
            if self.kept == self.next_completion() {
                self.complete_line(self.prefix);
            }
            self.prefix = self.prefix.wrapping_mul(BASE);
            self.kept += 1;
        }
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn github_vector_spaces_and_final_newline() {
        assert_eq!(
            line_hashes(b"hello; \n world\n"),
            [
                "f64340c30348512a:1",
                "53f9e022cffbf0f1:1",
                "c129715d7a2bc9a3:1"
            ]
        );
    }

    #[test]
    fn github_vector_mixed_line_endings() {
        assert_eq!(
            line_hashes(b"a\nb\r\nc\rd"),
            [
                "271789c17abda88f:1",
                "54703d4cd895b18:1",
                "180aee12dab6264:1",
                "a23a3dc5e078b07b:1"
            ]
        );
    }

    #[test]
    fn github_vector_secret_line() {
        let hashes = line_hashes(b"AWS_KEY = \"AKIAIOSFODNN7EXAMPLE\"\n");
        assert_eq!(hashes[0], "25f83c7549fd7fde:1");
        assert_eq!(hashes.len(), 2);
    }

    #[test]
    fn empty_file_has_one_line() {
        assert_eq!(line_hashes(b"").len(), 1);
        // Only the end-of-file unit and zeros: 65535 * 37^99.
        let expected = (0..99).fold(65535u64, |h, _| h.wrapping_mul(37));
        assert_eq!(line_hashes(b""), [format!("{expected:x}:1")]);
    }

    #[test]
    fn repeated_lines_are_numbered_by_occurrence() {
        // Lines far from the end whose next 100 kept units are equal.
        let block = "x\n".repeat(200);
        let hashes = line_hashes(block.as_bytes());
        assert_eq!(hashes.len(), 201);
        assert!(hashes[0].ends_with(":1"));
        assert_eq!(hashes[1], hashes[0].replace(":1", ":2"));
        assert_eq!(hashes[49], hashes[0].replace(":1", ":50"));
    }

    #[test]
    fn invalid_utf8_hashes_like_the_replacement_character() {
        assert_eq!(
            line_hashes(b"key = \xff\xfe\n"),
            line_hashes("key = \u{fffd}\u{fffd}\n".as_bytes())
        );
    }

    #[test]
    fn non_ascii_counts_utf16_units() {
        // U+1F600 is the surrogate pair D83D DE00: two units in the window,
        // then the end-of-file unit and zeros.
        let expected = [0xD83Du64, 0xDE00, 65535]
            .into_iter()
            .chain(std::iter::repeat(0))
            .take(WINDOW)
            .fold(0u64, |h, u| h.wrapping_mul(37).wrapping_add(u));
        assert_eq!(line_hashes("😀".as_bytes()), [format!("{expected:x}:1")]);
    }

    /// A direct (non-rolling) rendering of the specification, to check the
    /// rolling implementation against: normalise, find line starts, and hash
    /// each line's 100 units as a polynomial.
    fn reference(content: &str) -> Vec<String> {
        let mut kept: Vec<u16> = Vec::new();
        let mut previous_was_cr = false;
        for u in content.encode_utf16() {
            if u == SPACE || u == TAB || (previous_was_cr && u == LF) {
                previous_was_cr = false;
                continue;
            }
            previous_was_cr = u == CR;
            kept.push(if u == CR { LF } else { u });
        }
        kept.push(END_OF_FILE);
        let starts = std::iter::once(0)
            .chain((0..kept.len()).filter(|&i| kept[i] == LF).map(|i| i + 1))
            .filter(|&s| s < kept.len());
        let mut seen: HashMap<u64, u32> = HashMap::new();
        starts
            .map(|s| {
                let h = (0..WINDOW).fold(0u64, |h, i| {
                    let unit = kept.get(s + i).copied().unwrap_or(0);
                    h.wrapping_mul(37).wrapping_add(u64::from(unit))
                });
                let n = seen.entry(h).or_insert(0);
                *n += 1;
                format!("{h:x}:{n}")
            })
            .collect()
    }

    #[test]
    fn reference_agrees_with_github_vectors() {
        assert_eq!(reference("a\nb\r\nc\rd")[1], "54703d4cd895b18:1");
        assert_eq!(reference("hello; \n world\n")[2], "c129715d7a2bc9a3:1");
    }

    /// Text drawn from the characters that matter to the algorithm.
    fn text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a", "b", "Z", "=", " ", "\t", "\n", "\r", "\r\n", "\r \n", "é", "😀", "\u{fffd}",
            "token_",
        ]);
        prop::collection::vec(pieces, 0..400).prop_map(|v| v.concat())
    }

    /// ASCII only: such files take the fast path, which mixed text (nearly
    /// always holding a non-ASCII piece) does not reach.
    fn ascii_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a",
            "b",
            "Z",
            "=",
            " ",
            "\t",
            "\n",
            "\r",
            "\r\n",
            "\r \n",
            "token_",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ]);
        prop::collection::vec(pieces, 0..400).prop_map(|v| v.concat())
    }

    /// Few distinct lines in long runs: windows that repeat, so the `:n`
    /// numbering is put to work.
    fn repetitive_text() -> impl Strategy<Value = String> {
        let lines = prop::sample::select(vec![
            "[[package]]\n",
            "name = \"a\"\n",
            "name = \"b\"\n",
            " \"dep\",\n",
            "\n",
            "\r\n",
            "x\r",
            "é😀\n",
        ]);
        prop::collection::vec((lines, 1..60usize), 0..12)
            .prop_map(|runs| runs.iter().map(|(line, n)| line.repeat(*n)).collect())
    }

    proptest! {
        #[test]
        fn repeated_windows_are_numbered_as_github_numbers_them(s in repetitive_text(), picks in prop::collection::vec(0u32..320, 0..8)) {
            let all = line_hashes(s.as_bytes());
            prop_assert_eq!(&all, &reference(&s));
            let some = line_hashes_at(s.as_bytes(), &picks);
            for line in picks {
                let want = (line as usize).checked_sub(1).and_then(|i| all.get(i));
                prop_assert_eq!(some.get(&line), want);
            }
        }

        #[test]
        fn content_that_is_not_utf8_is_hashed_as_github_decodes_it(s in text(), at in 0usize..400, picks in prop::collection::vec(0u32..60, 0..6)) {
            let mut bytes = s.into_bytes();
            bytes.insert(at.min(bytes.len()), 0xff);
            let all = line_hashes(&bytes);
            let some = line_hashes_at(&bytes, &picks);
            for line in picks {
                let want = (line as usize).checked_sub(1).and_then(|i| all.get(i));
                prop_assert_eq!(some.get(&line), want);
            }
        }

        #[test]
        fn rolling_hash_matches_the_direct_definition(s in text()) {
            prop_assert_eq!(line_hashes(s.as_bytes()), reference(&s));
        }

        #[test]
        fn ascii_files_hash_as_the_direct_definition(s in ascii_text()) {
            prop_assert!(s.is_ascii());
            prop_assert_eq!(line_hashes(s.as_bytes()), reference(&s));
        }

        #[test]
        fn ascii_files_stopped_early_hash_the_same(s in ascii_text(), last in 0u32..60) {
            let all = line_hashes(s.as_bytes());
            let some = line_hashes_at(s.as_bytes(), &[last]);
            let want = (last as usize).checked_sub(1).and_then(|i| all.get(i));
            prop_assert_eq!(some.get(&last), want);
        }

        #[test]
        fn hashes_of_some_lines_are_those_of_all_lines(s in text(), picks in prop::collection::vec(0u32..60, 0..6)) {
            let all = line_hashes(s.as_bytes());
            let some = line_hashes_at(s.as_bytes(), &picks);
            for line in picks {
                let want = (line as usize).checked_sub(1).and_then(|i| all.get(i));
                prop_assert_eq!(some.get(&line), want);
            }
        }

        #[test]
        fn one_hash_per_github_line(s in text()) {
            // GitHub's lines: LF, CR and CRLF each end one (an LF directly
            // after a CR is absorbed; a blank between them clears that), and
            // the end of the file starts one more.
            let ends = s.matches(['\n', '\r']).count() - s.matches("\r\n").count();
            prop_assert_eq!(line_hashes(s.as_bytes()).len(), ends + 1);
        }

        #[test]
        fn blanks_do_not_change_hashes(s in text(), at in 0usize..400) {
            // Inserting spaces or tabs anywhere but between a CR and its LF
            // changes nothing.
            let mut boundaries: Vec<usize> =
                (0..=s.len()).filter(|&i| s.is_char_boundary(i)).collect();
            boundaries.retain(|&i| !(s[..i].ends_with('\r') && s[i..].starts_with('\n')));
            let i = boundaries[at % boundaries.len()];
            let padded = format!("{} \t {}", &s[..i], &s[i..]);
            prop_assert_eq!(line_hashes(padded.as_bytes()), line_hashes(s.as_bytes()));
        }

        #[test]
        fn line_endings_do_not_change_hashes(s in text()) {
            let lf_only = s.replace("\r\n", "\n").replace('\r', "\n");
            let crlf = lf_only.replace('\n', "\r\n");
            let cr = lf_only.replace('\n', "\r");
            let want = line_hashes(lf_only.as_bytes());
            prop_assert_eq!(line_hashes(crlf.as_bytes()), want.clone());
            prop_assert_eq!(line_hashes(cr.as_bytes()), want);
        }

        #[test]
        fn a_line_hash_ignores_the_lines_before_it(head in text(), tail in text()) {
            // Apart from the occurrence counter, the hash of a line depends
            // only on what follows it.
            let head = format!("{head}\n");
            let whole = line_hashes(format!("{head}{tail}").as_bytes());
            let alone = line_hashes(tail.as_bytes());
            let value = |h: &String| h.split(':').next().map(str::to_owned);
            let suffix: Vec<_> = whole[whole.len() - alone.len()..].iter().map(value).collect();
            prop_assert_eq!(suffix, alone.iter().map(value).collect::<Vec<_>>());
        }

        #[test]
        fn stopping_early_changes_no_hash(s in text(), last in 0u32..40) {
            let all = line_hashes(s.as_bytes());
            let lines: Vec<u32> = (1..=last).collect();
            let some = line_hashes_at(s.as_bytes(), &lines);
            for line in lines {
                prop_assert_eq!(some.get(&line), all.get(line as usize - 1));
            }
        }
    }
}
