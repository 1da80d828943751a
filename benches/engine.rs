//! Micro-benchmark of the secrets engine on one large generated file
//! (`cargo bench --bench engine`, plain harness). It times
//! `Engine::scan` alone, after the rules are compiled, and prints MB/s.
//!
//! - `TRIPLINE_BENCH_RULES=DIR` adds a folder of rule files (rules with
//!   problems are dropped, as `tripline rules test` would report them);
//! - `TRIPLINE_BENCH_MB=N` sets the generated file's size (default 64);
//! - `TRIPLINE_BENCH_CORPUS=DIR` also scans every file under DIR (read
//!   into memory first, so only the engine is timed).
//!
//! Whole-process comparisons with peers live in `bench/`; this only says
//! where the engine stands and whether a change made it slower.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tripline::config::Config;
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;

/// Source-like text: identifiers, strings, comments, some lines with the
/// words generic rules key on (key, token, password, secret), and a planted
/// AWS key id every few thousand lines.
fn generate(bytes: usize) -> Vec<u8> {
    const LINES: &[&str] = &[
        "    let mut buffer = Vec::with_capacity(request.len() + HEADER_SIZE);",
        "    if let Some(value) = headers.get(\"content-type\") {",
        "        return Err(Error::new(ErrorKind::InvalidData, \"unexpected end of stream\"));",
        "/// Returns the number of bytes written to the underlying writer.",
        "    pub fn token_count(&self) -> usize { self.tokens.len() }",
        "    let key = map.entry(name.to_string()).or_insert_with(Vec::new);",
        "    // The password hash is computed with argon2 before it is stored.",
        "    config.secret_store = SecretStore::from_env()?;",
        "    assert_eq!(parse(\"0x1f\"), Ok(31), \"hex literal\");",
        "}",
        "",
        "impl<T: AsRef<[u8]>> Encoder for Base64Encoder<T> {",
        "    fn encode(&self, input: &[u8], output: &mut String) -> fmt::Result {",
        "        for chunk in input.chunks(3) { output.push_str(&ALPHABET[..]); }",
        "    \"integrity\": \"sha512-9Qs7cE2f8tV4JkX0rLmN1aZyBbQp3oW6uHdGiFjKlCnMvSxYt\",",
    ];
    let mut out = Vec::with_capacity(bytes + 256);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut n = 0u64;
    while out.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        n += 1;
        if n.is_multiple_of(5000) {
            out.extend_from_slice(b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n");
            continue;
        }
        out.extend_from_slice(LINES[(state % LINES.len() as u64) as usize].as_bytes());
        out.push(b'\n');
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => files_under(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

fn main() {
    let extra: Vec<PathBuf> = std::env::var_os("TRIPLINE_BENCH_RULES")
        .map(|p| vec![PathBuf::from(p)])
        .unwrap_or_default();
    let started = Instant::now();
    let (set, problems) = RuleSet::load_checked(&extra, &[], false).expect("rules load");
    let rules = set.len();
    let engine = Engine::new(set, &Config::default()).expect("engine builds");
    println!(
        "rules: {rules} ({} with problems dropped), loaded and compiled in {:.1?}",
        problems.len(),
        started.elapsed()
    );

    let mb: usize = std::env::var("TRIPLINE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let content = generate(mb * 1024 * 1024);
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        let t = Instant::now();
        found = engine.scan("bench.rs", &content).len();
        times.push(t.elapsed());
    }
    let m = median(times);
    println!(
        "generated {mb} MiB, short lines: median {m:.1?}, {:.0} MB/s, {found} findings",
        content.len() as f64 / m.as_secs_f64() / 1e6
    );

    // The same bytes as one line: must cost about the same.
    let one_line: Vec<u8> = content
        .iter()
        .map(|&b| if b == b'\n' { b' ' } else { b })
        .collect();
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        found = engine.scan("bench.min.js", &one_line).len();
        times.push(t.elapsed());
    }
    let m = median(times);
    println!(
        "same bytes as one line: median {m:.1?}, {:.0} MB/s, {found} findings",
        one_line.len() as f64 / m.as_secs_f64() / 1e6
    );

    if let Some(dir) = std::env::var_os("TRIPLINE_BENCH_CORPUS") {
        let mut paths = Vec::new();
        files_under(Path::new(&dir), &mut paths);
        let mut total = 0usize;
        let mut findings = 0usize;
        let mut spent = Duration::ZERO;
        let mut hits: std::collections::HashMap<String, (usize, usize)> = Default::default();
        for p in &paths {
            let Ok(bytes) = std::fs::read(p) else {
                continue;
            };
            if bytes.len() > 10 * 1024 * 1024 || bytes[..bytes.len().min(8192)].contains(&0) {
                continue;
            }
            let rel = p.strip_prefix(&dir).unwrap_or(p).to_string_lossy();
            let t = Instant::now();
            findings += engine.scan(&rel, &bytes).len();
            spent += t.elapsed();
            total += bytes.len();
            for (k, n, owners) in engine.keyword_hits(&bytes) {
                let e = hits.entry(k).or_default();
                e.0 += n;
                e.1 = owners;
            }
        }
        println!(
            "corpus {}: {} files, {:.0} MB in {spent:.2?} of engine time, {:.0} MB/s, {findings} findings",
            Path::new(&dir).display(),
            paths.len(),
            total as f64 / 1e6,
            total as f64 / spent.as_secs_f64() / 1e6
        );
        // Regex work follows hits times owning rules: the top of this list
        // is where the time goes.
        let mut hot: Vec<(String, (usize, usize))> = hits.into_iter().collect();
        hot.sort_by_key(|(_, (n, owners))| std::cmp::Reverse(n * owners));
        for (k, (n, owners)) in hot.iter().take(15) {
            println!("  keyword {k:?}: {n} hits x {owners} rules");
        }
    }
}
