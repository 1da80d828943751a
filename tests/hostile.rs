//! Hostile input, end to end (issue #6): the binary run on trees built here
//! at test time, one test per kind of bad input, each checking that the
//! message names the file and the problem, that the rest of the tree was
//! still scanned (a secret planted in a sibling file is found), and the exit
//! status. Then a malicious checkout (`fixtures/malicious`) that tries to
//! make cargo and rustup run its own tools, and one run of every output
//! format that must not leak a planted secret through any channel.
//!
//! Peak memory is measured by GNU time (`/usr/bin/time -f %M`), which
//! forks tripline from its own small process. Measuring from here is not
//! sound: `wait4`'s `ru_maxrss` includes the spawning process's memory
//! (Linux carries the pre-exec high-water mark into the child), and an
//! address-space limit (`ulimit -v`) measures reservations, not use.
//! Without `/usr/bin/time` the memory bounds are skipped, and say so.
//!
//! The heavy rows (100 MB file, 20 MB line, 200,000 files, 50 MB lockfile,
//! a million findings) are ignored by default; `.ci/run` runs them against
//! the release build, where each takes seconds. Linux only: inotify,
//! `/dev/zero`, `setpriv`, GNU time.

#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::assert_no_secret;

const GITHUB_TOKEN: &str = "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";
const AWS_ID: &str = "AKIAQYLPMN5HHHFPZAM2";
const AWS_ID_2: &str = "AKIAVZ3HRB6QK7XTCW4N";
const AWS_ID_3: &str = "AKIA5TJD6N2WQRLMXBEV";
const AWS_ID_4: &str = "AKIAU2ZQ4BN7XRTLW5HM";

const MIB: u64 = 1024 * 1024;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn advisory_db() -> PathBuf {
    repo("fixtures/deps/advisory-db")
}

/// The binary under test: `TRIPLINE_BIN` when set (`.ci/run` points the
/// heavy rows at the release build, which it builds anyway, instead of
/// compiling the tests a second time in release), else this build's.
fn tripline_bin() -> PathBuf {
    std::env::var_os("TRIPLINE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("tripline"))
}

/// The binary, with no colour and no database of the user's in reach.
fn tripline(home: &Path) -> Command {
    let mut c = Command::new(tripline_bin());
    c.env_remove("NO_COLOR")
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("CARGO_HOME", home.join("cargo"));
    c
}

/// What one run of the binary did.
struct Run {
    /// `None` when a signal ended it (a crash).
    code: Option<i32>,
    signal: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    /// Peak resident set size in KiB, when GNU time is there to tell.
    peak_kib: Option<u64>,
    wall: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&self.stdout),
                self.stderr
            )
        })
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The run ended by itself with `code`.
    fn assert_code(&self, code: i32) {
        assert_eq!(
            (self.code, self.signal),
            (Some(code), None),
            "exit status\n{}",
            self.stderr
        );
    }

    /// Some stderr line names `file` and says `problem`.
    fn assert_names(&self, file: &str, problem: &str) {
        assert!(
            self.stderr
                .lines()
                .any(|l| l.contains(file) && l.contains(problem)),
            "no line naming {file} with {problem:?}:\n{}",
            self.stderr
        );
    }

    /// The peak resident memory stayed under `mib` MiB.
    fn assert_peak_below(&self, mib: u64) {
        match self.peak_kib {
            Some(kib) => assert!(kib < mib * 1024, "peak {} MiB, bound {mib} MiB", kib / 1024),
            None => eprintln!("no /usr/bin/time: peak memory not measured"),
        }
    }
}

const GNU_TIME: &str = "/usr/bin/time";

/// A started run: output to files (nothing blocks on a pipe), in its own
/// process group (a hang is killed whole), under GNU time when present.
struct Running {
    child: std::process::Child,
    io: tempfile::TempDir,
    timed: bool,
    started: Instant,
}

fn spawn(cmd: Command) -> Running {
    use std::os::unix::process::CommandExt;
    let io = tempfile::tempdir().unwrap();
    let timed = Path::new(GNU_TIME).exists();
    let mut cmd = if timed {
        let mut t = Command::new(GNU_TIME);
        t.args(["-f", "%M", "-o"])
            .arg(io.path().join("rss"))
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => t.env(k, v),
                None => t.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            t.current_dir(d);
        }
        t
    } else {
        cmd
    };
    cmd.stdin(Stdio::null())
        .stdout(fs::File::create(io.path().join("stdout")).unwrap())
        .stderr(fs::File::create(io.path().join("stderr")).unwrap())
        .process_group(0);
    let started = Instant::now();
    let child = cmd.spawn().expect("tripline starts");
    Running {
        child,
        io,
        timed,
        started,
    }
}

impl Running {
    /// Waits for the end; past `limit` (a hang) kills the group and fails.
    fn finish(mut self, limit: Duration) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > limit {
                // SAFETY: signals the process group this test started.
                unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
                let _ = self.child.wait();
                panic!("tripline ran past {limit:?}: it hangs");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let wall = self.started.elapsed();
        let (mut code, mut signal) = (status.code(), status.signal());
        let mut peak_kib = None;
        if self.timed {
            // GNU time: "Command terminated by signal N" when one ended
            // the command, then the figure.
            let report = fs::read_to_string(self.io.path().join("rss")).unwrap();
            peak_kib = report.lines().last().and_then(|l| l.trim().parse().ok());
            if let Some(n) = report
                .lines()
                .find_map(|l| l.strip_prefix("Command terminated by signal "))
            {
                (code, signal) = (None, n.trim().parse().ok());
            }
        }
        Run {
            code,
            signal,
            stdout: fs::read(self.io.path().join("stdout")).unwrap(),
            stderr: fs::read_to_string(self.io.path().join("stderr")).unwrap(),
            peak_kib,
            wall,
        }
    }
}

/// Runs to the end; a minute is far more than any light row needs, so
/// running past it means a hang.
fn run(cmd: Command) -> Run {
    spawn(cmd).finish(Duration::from_secs(60))
}

/// For the heavy rows, and the rows whose figures README states: prints
/// time and peak memory. Ten minutes is a hang even for a debug build.
fn run_heavy(cmd: Command, what: &str) -> Run {
    let r = spawn(cmd).finish(Duration::from_secs(600));
    eprintln!(
        "{what}: {:.2?}, peak {} KiB, exit {:?}",
        r.wall,
        r.peak_kib
            .map_or("(not measured)".to_string(), |k| k.to_string()),
        r.code
    );
    r
}

/// `(path, line)` of every finding.
fn places(v: &Value) -> Vec<(String, u64)> {
    places_where(v, |_| true)
}

/// (path, line) of the findings `keep` selects, sorted and deduplicated.
fn places_where(v: &Value, keep: impl Fn(&Value) -> bool) -> Vec<(String, u64)> {
    let mut p: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| keep(f))
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    p.sort();
    p.dedup();
    p
}

fn finding_at<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["path"] == path)
        .unwrap_or_else(|| panic!("no finding in {path}: {v}"))
}

fn errors(v: &Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A temporary tree holding `good.env` with an AWS key on line 1: the
/// sibling whose finding shows the rest of the tree was scanned.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.env"), format!("AWS_ID={AWS_ID}\n")).unwrap();
    dir
}

fn secrets_json(dir: &Path, extra: &[&str]) -> Command {
    let mut c = tripline(dir);
    c.args(["secrets", "--format", "json"]).args(extra).arg(dir);
    c
}

fn deps_json(dir: &Path, extra: &[&str]) -> Command {
    let mut c = tripline(dir);
    c.args(["deps", "--offline", "--format", "json", "--db"])
        .arg(advisory_db())
        .args(extra)
        .arg(dir);
    c
}

fn utf16(text: &str, bom: bool, little: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend(if little { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
    }
    for unit in text.encode_utf16() {
        out.extend(if little {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Encodings and line endings
// ---------------------------------------------------------------------------

#[test]
fn invalid_utf8_is_scanned_as_text() {
    let dir = tree();
    // "café", a space, two stray continuation bytes, then the token: the
    // token starts at UTF-16 column 4 + 1 + 2 + 9 + 1 = 17 (each invalid
    // byte counts as one column).
    let mut bad = b"\xc3(\xff\xfe\n".to_vec();
    bad.extend(b"caf\xc3\xa9 \x80\x80 token = ");
    bad.extend(GITHUB_TOKEN.as_bytes());
    bad.push(b'\n');
    fs::write(dir.path().join("bad.txt"), bad).unwrap();
    let r = run(secrets_json(dir.path(), &[]));
    r.assert_code(1);
    let v = r.json();
    assert_eq!(
        places(&v),
        [("bad.txt".into(), 2), ("good.env".into(), 1)],
        "{v}"
    );
    assert_eq!(finding_at(&v, "bad.txt")["location"]["start_column"], 17);
    assert!(errors(&v).is_empty(), "invalid UTF-8 is not an error");
    assert_eq!(v["scan"]["files_scanned"], 2, "not skipped as binary");
}

#[test]
fn utf16_with_a_bom_is_decoded_either_byte_order() {
    let dir = tree();
    let text = format!("x = 1\ntoken = {GITHUB_TOKEN}\n");
    fs::write(dir.path().join("le.txt"), utf16(&text, true, true)).unwrap();
    fs::write(dir.path().join("be.txt"), utf16(&text, true, false)).unwrap();
    let r = run(secrets_json(dir.path(), &[]));
    r.assert_code(1);
    let v = r.json();
    assert_eq!(
        places(&v),
        [
            ("be.txt".into(), 2),
            ("good.env".into(), 1),
            ("le.txt".into(), 2)
        ],
        "{v}"
    );
    assert_eq!(finding_at(&v, "le.txt")["location"]["start_column"], 9);
    assert!(errors(&v).is_empty());
}

#[test]
fn utf16_without_a_bom_is_decoded_either_byte_order() {
    let dir = tree();
    let text = format!("x = 1\ntoken = {GITHUB_TOKEN}\n");
    fs::write(dir.path().join("le.txt"), utf16(&text, false, true)).unwrap();
    fs::write(dir.path().join("be.txt"), utf16(&text, false, false)).unwrap();
    let r = run(secrets_json(dir.path(), &["-v"]));
    r.assert_code(1);
    let v = r.json();
    assert_eq!(v["scan"]["files_scanned"], 3, "not skipped as binary");
    assert_eq!(
        places(&v),
        [
            ("be.txt".into(), 2),
            ("good.env".into(), 1),
            ("le.txt".into(), 2)
        ],
        "{v}"
    );
}

#[test]
fn crlf_and_lone_cr_end_lines_as_github_counts_them() {
    let dir = tree();
    let files: [(&str, Vec<u8>); 3] = [
        (
            "crlf.txt",
            format!("a\r\nb\r\nAWS={AWS_ID_2}\r\n").into_bytes(),
        ),
        ("cr.txt", format!("a\rb\rAWS={AWS_ID_3}\r").into_bytes()),
        (
            "mixed.txt",
            format!("a\r\nb\rc\nAWS={AWS_ID_4}").into_bytes(),
        ),
    ];
    for (name, content) in &files {
        fs::write(dir.path().join(name), content).unwrap();
    }
    let r = run(secrets_json(dir.path(), &[]));
    r.assert_code(1);
    let v = r.json();
    assert_eq!(
        places(&v),
        [
            ("cr.txt".into(), 3),
            ("crlf.txt".into(), 3),
            ("good.env".into(), 1),
            ("mixed.txt".into(), 4)
        ]
    );
    for (name, content) in &files {
        let f = finding_at(&v, name);
        assert_eq!(f["location"]["start_column"], 5, "{name}");
        // The line hash is GitHub's for that same line: lines and hashes
        // agree on where a CR ends a line.
        let line = f["location"]["start_line"].as_u64().unwrap() as usize;
        let want = &tripline::finding::linehash::line_hashes(content)[line - 1];
        assert_eq!(f["location"]["line_hash"], *want, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Size and shape
// ---------------------------------------------------------------------------

#[test]
#[ignore = "slow: run by .ci/run"]
fn file_of_100_mb_is_skipped_by_size_or_scanned_in_bounded_memory() {
    let dir = tree();
    let big = dir.path().join("big.log");
    let line = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod\n";
    let mut out = std::io::BufWriter::new(fs::File::create(&big).unwrap());
    let lines = 100 * 1000 * 1000 / line.len() + 1;
    for _ in 0..lines {
        out.write_all(line).unwrap();
    }
    writeln!(out, "AWS_ID={AWS_ID_2}").unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
    let size = fs::metadata(&big).unwrap().len();
    assert!(size >= 100 * 1000 * 1000);

    // Default limit (10 MiB): skipped, counted, named under -v, never read.
    let r = run_heavy(secrets_json(dir.path(), &["-v"]), "100 MB file, skipped");
    r.assert_code(1);
    r.assert_names("big.log", "larger than --max-file-size");
    let v = r.json();
    assert_eq!(places(&v), [("good.env".into(), 1)]);
    assert_eq!(v["scan"]["files_skipped"], 1);
    r.assert_peak_below(64);

    // Allowed: scanned whole, in the file's size plus a bounded amount
    // (one read buffer, 8 bytes of line hash per line).
    let r = run_heavy(
        secrets_json(dir.path(), &["--max-file-size", "200000000"]),
        "100 MB file, scanned",
    );
    r.assert_code(1);
    let v = r.json();
    assert_eq!(
        places(&v),
        [("big.log".into(), lines as u64 + 1), ("good.env".into(), 1)]
    );
    r.assert_peak_below(size / MIB + 96);
}

#[test]
#[ignore = "slow: run by .ci/run"]
fn single_line_of_20_mb_is_scanned_in_bounded_memory() {
    let dir = tree();
    let mut line = vec![b'x'; 20 * 1000 * 1000];
    line.extend(format!(" AWS_ID={AWS_ID_2}\n").as_bytes());
    fs::write(dir.path().join("long.txt"), &line).unwrap();
    let r = run_heavy(
        secrets_json(dir.path(), &["--max-file-size", "32000000"]),
        "20 MB line",
    );
    r.assert_code(1);
    let v = r.json();
    assert_eq!(places(&v), [("good.env".into(), 1), ("long.txt".into(), 1)]);
    assert_eq!(
        finding_at(&v, "long.txt")["location"]["start_column"],
        20 * 1000 * 1000 + 9
    );
    r.assert_peak_below(line.len() as u64 / MIB + 64);
}

#[test]
#[ignore = "slow: run by .ci/run"]
fn two_hundred_thousand_small_files_in_bounded_memory() {
    let dir = tree();
    for d in 0..200 {
        let sub = dir.path().join(format!("d{d:03}"));
        fs::create_dir(&sub).unwrap();
        for i in 0..1000 {
            fs::write(sub.join(format!("f{i:04}.txt")), format!("file {d} {i}\n")).unwrap();
        }
    }
    fs::write(
        dir.path().join("d123/f0456.txt"),
        format!("token = {GITHUB_TOKEN}\n"),
    )
    .unwrap();
    let r = run_heavy(secrets_json(dir.path(), &[]), "200,000 files");
    r.assert_code(1);
    let v = r.json();
    assert_eq!(v["scan"]["files_scanned"], 200_001);
    assert_eq!(
        places(&v),
        [("d123/f0456.txt".into(), 1), ("good.env".into(), 1)]
    );
    assert!(errors(&v).is_empty());
    r.assert_peak_below(64);
}

/// Creates `depth` nested folders `d/d/.../d` under `root` and writes
/// `files` (level, name, content) on the way down, without ever naming a
/// path longer than one component: the deep end is past PATH_MAX.
fn nest(root: &Path, depth: usize, files: &[(usize, &str, String)]) {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    let root = CString::new(root.as_os_str().as_bytes()).unwrap();
    // SAFETY (all blocks): plain syscalls on NUL-terminated names and
    // descriptors this function owns; every result is checked.
    let mut fd = unsafe { libc::open(root.as_ptr(), flags) };
    assert!(fd >= 0);
    for level in 1..=depth {
        unsafe {
            assert_eq!(libc::mkdirat(fd, c"d".as_ptr(), 0o755), 0);
            let next = libc::openat(fd, c"d".as_ptr(), flags);
            assert!(next >= 0);
            libc::close(fd);
            fd = next;
        }
        for (_, name, content) in files.iter().filter(|f| f.0 == level) {
            let name = CString::new(*name).unwrap();
            unsafe {
                let f = libc::openat(
                    fd,
                    name.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC,
                    0o644 as libc::c_uint,
                );
                assert!(f >= 0);
                let n = libc::write(f, content.as_ptr().cast(), content.len());
                assert_eq!(n, content.len() as isize);
                libc::close(f);
            }
        }
    }
    // SAFETY: as above.
    unsafe { libc::close(fd) };
}

#[test]
fn directory_nested_5000_deep_is_walked_as_deep_as_the_os_allows() {
    let dir = tree();
    nest(
        dir.path(),
        5000,
        &[
            (100, "shallow.env", format!("AWS_ID={AWS_ID_2}\n")),
            (5000, "deep.env", format!("AWS_ID={AWS_ID_3}\n")),
        ],
    );
    let r = run_heavy(secrets_json(dir.path(), &[]), "5,000 levels");
    r.assert_code(1);
    let v = r.json();
    let shallow = format!("{}shallow.env", "d/".repeat(100));
    assert_eq!(places(&v), [(shallow, 1), ("good.env".into(), 1)]);
    // Past PATH_MAX (4096 bytes, about 2,000 levels of `d/`) no path can
    // be opened: one error names where the walk stopped and why.
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].0.starts_with("d/d/d/"), "{errs:?}");
    assert!(errs[0].1.contains("path too long"), "{errs:?}");
    r.assert_names("d/d/d/", "path too long");
    r.assert_peak_below(64);
}

// ---------------------------------------------------------------------------
// Links and special files
// ---------------------------------------------------------------------------

#[test]
fn symlink_loops_are_named_and_not_followed() {
    let dir = tree();
    fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
    std::os::unix::fs::symlink("me", dir.path().join("me")).unwrap();
    // Without --follow links are not content: nothing to say, nothing to loop.
    let r = run(secrets_json(dir.path(), &[]));
    r.assert_code(1);
    assert_eq!(places(&r.json()), [("good.env".into(), 1)]);
    assert!(errors(&r.json()).is_empty());

    let r = run(secrets_json(dir.path(), &["--follow"]));
    r.assert_code(1);
    let v = r.json();
    assert_eq!(places(&v), [("good.env".into(), 1)]);
    r.assert_names("sub/up", "symbolic link loop");
    r.assert_names("me", "symbolic link loop");
    assert_eq!(errors(&v).len(), 2, "{:?}", errors(&v));
}

#[test]
fn symlinks_leading_outside_the_root_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("credentials"),
        format!("token = {GITHUB_TOKEN}\n"),
    )
    .unwrap();
    let dir = tree();
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
    };
    link(&outside.path().join("credentials"), "to-file");
    link(outside.path(), "to-dir");
    link(Path::new("/"), "to-root");
    link(Path::new("good.env"), "inside.env");
    for follow in [false, true] {
        let extra: &[&str] = if follow { &["--follow", "-v"] } else { &["-v"] };
        let r = run(secrets_json(dir.path(), extra));
        r.assert_code(1);
        let v = r.json();
        let mut want = vec![("good.env".to_string(), 1)];
        if follow {
            // A link inside the root is followed.
            want.push(("inside.env".to_string(), 1));
        }
        assert_eq!(places(&v), want, "follow={follow}");
        assert!(errors(&v).is_empty(), "{:?}", errors(&v));
        if follow {
            for name in ["to-file", "to-dir", "to-root"] {
                r.assert_names(name, "outside the scan root");
            }
            assert_eq!(v["scan"]["files_skipped"], 3);
        }
    }
}

#[test]
fn fifos_sockets_and_devices_are_named_and_never_opened() {
    let dir = tree();
    let st = Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .unwrap();
    assert!(st.success());
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("../pipe", dir.path().join("sub/to-pipe")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
    for follow in [false, true] {
        let extra: &[&str] = if follow { &["--follow", "-v"] } else { &["-v"] };
        let r = run(secrets_json(dir.path(), extra));
        r.assert_code(1);
        let v = r.json();
        assert_eq!(places(&v), [("good.env".into(), 1)], "follow={follow}");
        r.assert_names("pipe", "not a regular file");
        r.assert_names("sock", "not a regular file");
        if follow {
            r.assert_names("sub/to-pipe", "not a regular file");
            r.assert_names("zero", "outside the scan root");
        }
        assert_eq!(v["scan"]["files_skipped"], if follow { 4 } else { 2 });
        assert!(errors(&v).is_empty());
    }
    // A special file as the scan root is skipped too, never read.
    for root in [dir.path().join("zero"), dir.path().join("pipe")] {
        let mut c = tripline(dir.path());
        c.args(["secrets", "-v"]).arg(&root);
        let r = run(c);
        r.assert_code(0);
        r.assert_names(
            root.file_name().unwrap().to_str().unwrap(),
            "not a regular file",
        );
    }
}

// ---------------------------------------------------------------------------
// Permissions, and files that change under the scan
// ---------------------------------------------------------------------------

// Unreadable files and folders: tests/cli.rs,
// `unreadable_file_is_a_warning_and_the_scan_completes`. Here, the lockfile
// the dependency audit cannot read.

/// The binary as an unprivileged user when the tests run as root (root
/// reads and writes whatever the modes say), with `dir`'s ancestors in the
/// temporary folder opened up so that user can reach it.
fn unprivileged(dir: &Path) -> Command {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return tripline(dir);
    }
    let tmp = std::env::temp_dir();
    let mut p = dir.to_path_buf();
    while p.starts_with(&tmp) && p != tmp {
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        p = p.parent().unwrap().to_path_buf();
    }
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(tripline_bin())
        .env_remove("NO_COLOR")
        .env("HOME", dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("CARGO_HOME", dir.join("cargo"));
    c
}

#[test]
fn unreadable_lockfile_is_named_and_the_other_lockfiles_audited() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["good", "locked"] {
        fs::create_dir(dir.path().join(sub)).unwrap();
        fs::copy(
            repo("fixtures/deps/versions/v3/Cargo.lock"),
            dir.path().join(sub).join("Cargo.lock"),
        )
        .unwrap();
    }
    let locked = dir.path().join("locked/Cargo.lock");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let mut c = unprivileged(dir.path());
    c.args(["deps", "--offline", "--format", "json", "--db"])
        .arg(advisory_db())
        .arg(dir.path());
    let r = run(c);
    r.assert_code(1);
    r.assert_names("locked/Cargo.lock", "ermission denied");
    let v = r.json();
    assert_eq!(v["scan"]["lockfiles_audited"], 1);
    assert!(places(&v).iter().all(|(p, _)| p == "good/Cargo.lock"));
    assert!(!places(&v).is_empty());
}

/// Tells when any process opens a file in one folder (inotify `IN_OPEN`),
/// so a test can change the tree while tripline is in the middle of it.
struct OpenWatch {
    fd: libc::c_int,
}

impl OpenWatch {
    fn new(dir: &Path) -> OpenWatch {
        let path = CString::new(dir.as_os_str().as_bytes()).unwrap();
        // SAFETY: plain syscalls; results checked.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
        assert!(fd >= 0, "inotify: {}", std::io::Error::last_os_error());
        let wd = unsafe { libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_OPEN) };
        assert!(wd >= 0, "inotify: {}", std::io::Error::last_os_error());
        OpenWatch { fd }
    }

    /// Blocks until a file in the folder (not the folder itself) is opened.
    fn wait_for_a_file_open(&self, limit: Duration) {
        const HEADER: usize = 16; // wd, mask, cookie, len
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no file was opened within {limit:?}");
            let mut pfd = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; then a read into a buffer we own.
            let ready = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as libc::c_int) };
            if ready <= 0 {
                continue;
            }
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            assert!(n > 0, "inotify read: {}", std::io::Error::last_os_error());
            let events = &buf[..n as usize];
            let mut at = 0;
            while at + HEADER <= events.len() {
                let word =
                    |i: usize| u32::from_ne_bytes(events[at + i..at + i + 4].try_into().unwrap());
                let (mask, len) = (word(4), word(12) as usize);
                if mask & libc::IN_OPEN != 0 && mask & libc::IN_ISDIR == 0 {
                    return;
                }
                at += HEADER + len;
            }
        }
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        // SAFETY: closing the descriptor this value owns.
        unsafe { libc::close(self.fd) };
    }
}

/// Files in `victims/`: enough that a one-thread scan is still among them
/// when the test acts on the first one it opens.
const VICTIMS: usize = 3000;
const VICTIM_SIZE: usize = 2048;

/// A tree with `good.env` and `victims/` full of harmless files, and a run
/// of `secrets --threads 1` over it during which `act` is called as soon as
/// tripline opens the first victim.
fn scan_while(act: impl FnOnce(&Path)) -> Run {
    let dir = tree();
    let victims = dir.path().join("victims");
    fs::create_dir(&victims).unwrap();
    let filler = "nothing to see here\n".repeat(VICTIM_SIZE / 20);
    for i in 0..VICTIMS {
        fs::write(victims.join(format!("f{i:04}.txt")), &filler).unwrap();
    }
    let watch = OpenWatch::new(&victims);
    let running = spawn(secrets_json(dir.path(), &["--threads", "1"]));
    watch.wait_for_a_file_open(Duration::from_secs(60));
    act(&victims);
    running.finish(Duration::from_secs(120))
}

#[test]
fn files_deleted_mid_scan_are_named_and_the_scan_completes() {
    // The scan may outrun the test between the first open and the rename;
    // then nothing vanished and the run is tried again.
    for attempt in 1..=3 {
        let aside = tempfile::tempdir().unwrap();
        // One rename takes every file not read yet out of the tree at once.
        let r = scan_while(|victims| fs::rename(victims, aside.path().join("gone")).unwrap());
        r.assert_code(1);
        let v = r.json();
        assert_eq!(places(&v), [("good.env".into(), 1)]);
        let errs = errors(&v);
        for (path, message) in &errs {
            assert!(path.starts_with("victims/f"), "{errs:?}");
            assert_eq!(message, "cannot read: vanished during the scan");
        }
        // Every file is accounted for: read before the rename, or named as
        // vanished. None is lost silently.
        let scanned = v["scan"]["files_scanned"].as_u64().unwrap() as usize;
        assert_eq!(scanned - 1 + errs.len(), VICTIMS, "{errs:?}");
        if !errs.is_empty() {
            r.assert_names(&errs[0].0, "vanished during the scan");
            return;
        }
        eprintln!("attempt {attempt}: the scan finished before the rename");
    }
    panic!("no run saw a file vanish");
}

#[test]
fn files_truncated_mid_scan_are_read_as_they_are_and_never_crash() {
    for attempt in 1..=3 {
        let r = scan_while(|victims| {
            let mut names: Vec<PathBuf> = fs::read_dir(victims)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for p in names.iter().rev() {
                fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
        });
        // No SIGBUS (as a scanner that maps files would get), no error: a
        // file cut short is scanned as what is left of it.
        r.assert_code(1);
        let v = r.json();
        assert_eq!(places(&v), [("good.env".into(), 1)]);
        assert!(errors(&v).is_empty(), "{:?}", errors(&v));
        assert_eq!(v["scan"]["files_scanned"], VICTIMS as u64 + 1);
        let bytes = v["scan"]["bytes_scanned"].as_u64().unwrap() as usize;
        let whole = VICTIMS * VICTIM_SIZE + format!("AWS_ID={AWS_ID}\n").len();
        if bytes < whole {
            return;
        }
        eprintln!("attempt {attempt}: the scan finished before the truncation");
    }
    panic!("no run saw a file truncated");
}

#[test]
fn empty_tree_scans_clean_without_a_database() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // No --db, no --offline: with no lockfile there is nothing to fetch.
    let mut c = tripline(home.path());
    c.arg("scan").arg(dir.path());
    let r = run(c);
    r.assert_code(0);
    assert!(r.stdout().contains("No findings."), "{}", r.stdout());
    assert!(r.stdout().contains("Scanned 0 files"), "{}", r.stdout());
    assert_eq!(r.stderr, "");
    for format in ["json", "sarif"] {
        let mut c = tripline(home.path());
        c.args(["scan", "--format", format]).arg(dir.path());
        let r = run(c);
        r.assert_code(0);
        let v = r.json();
        if format == "json" {
            assert_eq!(v["findings"], serde_json::json!([]));
            assert_eq!(v["errors"], serde_json::json!([]));
        } else {
            assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
        }
    }
    assert!(
        !home.path().join("cache").exists(),
        "nothing fetched or cached"
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------
// Lockfiles, advisories, configuration, rules
// ---------------------------------------------------------------------------

/// A tree with `good/Cargo.lock` (the v3 fixture: six advisories match)
/// and `bad/Cargo.lock` holding `bad`.
fn lockfile_tree(bad: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["good", "bad"] {
        fs::create_dir(dir.path().join(sub)).unwrap();
    }
    fs::copy(
        repo("fixtures/deps/versions/v3/Cargo.lock"),
        dir.path().join("good/Cargo.lock"),
    )
    .unwrap();
    fs::write(dir.path().join("bad/Cargo.lock"), bad).unwrap();
    dir
}

fn assert_good_lockfile_audited(v: &Value) {
    let ids: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] == "good/Cargo.lock")
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
}

#[test]
fn truncated_lockfile_is_named_and_the_others_audited() {
    let whole = fs::read(repo("fixtures/deps/versions/v3/Cargo.lock")).unwrap();
    let dir = lockfile_tree(&whole[..300]);
    let r = run(deps_json(dir.path(), &[]));
    r.assert_code(1);
    r.assert_names("bad/Cargo.lock", "cannot parse lockfile");
    let v = r.json();
    assert_good_lockfile_audited(&v);
    let errs = errors(&v);
    let bad = errs.iter().find(|(p, _)| p == "bad/Cargo.lock").unwrap();
    assert!(bad.1.contains("line 19"), "where it broke: {bad:?}");
    assert_eq!(v["scan"]["lockfiles_audited"], 1);
}

#[test]
fn lockfile_of_an_unknown_version_is_named_and_the_others_audited() {
    let whole = fs::read_to_string(repo("fixtures/deps/versions/v3/Cargo.lock")).unwrap();
    let dir = lockfile_tree(whole.replace("version = 3", "version = 99").as_bytes());
    let r = run(deps_json(dir.path(), &[]));
    r.assert_code(1);
    r.assert_names("bad/Cargo.lock", "format version");
    r.assert_names("bad/Cargo.lock", "99");
    assert_good_lockfile_audited(&r.json());
}

#[test]
fn binary_lockfile_is_named_by_scan_as_by_deps() {
    // The secret scan skips a file with a NUL as binary; the dependency
    // audit still parses it, and says why it cannot.
    let dir = lockfile_tree(b"version = 3\n\0\0\0[[package]]\n");
    for command in ["deps", "scan"] {
        let mut c = tripline(dir.path());
        c.args([command, "--offline", "--format", "json", "--db"])
            .arg(advisory_db())
            .arg(dir.path());
        let r = run(c);
        r.assert_code(1);
        r.assert_names("bad/Cargo.lock", "cannot parse lockfile");
        assert_good_lockfile_audited(&r.json());
    }
}

#[test]
#[ignore = "slow: run by .ci/run"]
fn lockfile_of_50_mb_is_reported_or_audited_when_allowed() {
    let mut text = String::from(
        "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"tinyhttp\",\n]\n\n\
         [[package]]\nname = \"tinyhttp\"\nversion = \"1.0.0\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    let mut i = 0u64;
    while text.len() < 50 * 1000 * 1000 {
        text.push_str(&format!(
            "\n[[package]]\nname = \"filler-{i:06}\"\nversion = \"1.{}.0\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{i:064x}\"\n",
            i % 7
        ));
        i += 1;
    }
    let dir = lockfile_tree(text.as_bytes());
    let size = text.len() as u64;
    drop(text);
    // Over --max-file-size (10 MiB): not parsed, and said so, by `deps`
    // and by `scan` alike; the other lockfile is audited.
    for command in ["deps", "scan"] {
        let mut c = tripline(dir.path());
        c.args([command, "--offline", "--format", "json", "--db"])
            .arg(advisory_db())
            .arg(dir.path());
        let r = run_heavy(c, &format!("50 MB lockfile, {command}, over the limit"));
        r.assert_code(1);
        r.assert_names("bad/Cargo.lock", "larger than --max-file-size");
        r.assert_names("bad/Cargo.lock", "not audited");
        assert_good_lockfile_audited(&r.json());
        r.assert_peak_below(64);
    }
    // Allowed: audited, the finding at its lines.
    let r = run_heavy(
        deps_json(dir.path(), &["--max-file-size", "64000000"]),
        "50 MB lockfile, audited",
    );
    r.assert_code(1);
    let v = r.json();
    assert_good_lockfile_audited(&v);
    let in_big: Vec<(&Value, &Value)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] == "bad/Cargo.lock")
        .map(|f| (&f["rule_id"], &f["location"]["start_line"]))
        .collect();
    // tinyhttp 1.0.0, whose block starts on line 10.
    assert_eq!(
        in_big,
        [(&Value::from("RUSTSEC-2024-9001"), &Value::from(10))]
    );
    // The parser (cargo-lock, through src/deps) holds about 14 times the
    // file; this bound is that, with room, not a target.
    r.assert_peak_below(20 * size / MIB);
}

#[test]
fn advisories_with_broken_front_matter_are_named_and_the_rest_load() {
    let db = tempfile::tempdir().unwrap();
    copy_tree(&advisory_db(), db.path());
    let crates = db.path().join("crates");
    let broken: [(&str, &[u8], &str); 4] = [
        (
            "oldlog/RUSTSEC-2024-9002.md",
            b"```toml\n[advisory]\nid = \"RUSTSEC-2024-9002\"\npackage = \"oldlog\"\n",
            "end of TOML front matter",
        ),
        (
            "rawcell/RUSTSEC-2024-9003.md",
            b"# no front matter at all\n",
            "unexpected start of advisory",
        ),
        ("licensekit/RUSTSEC-2024-9004.md", b"", "malformed advisory"),
        (
            "winpipe/RUSTSEC-2024-9006.md",
            b"\xff\xfe\x00```toml\n",
            "valid UTF-8",
        ),
    ];
    for (file, content, _) in &broken {
        fs::write(crates.join(file), content).unwrap();
    }
    let mut c = tripline(db.path());
    c.args(["deps", "--offline", "--format", "json", "--db"])
        .arg(db.path())
        .arg(repo("fixtures/deps/versions/v3"));
    let r = run(c);
    r.assert_code(1);
    for (file, _, problem) in &broken {
        r.assert_names(file, problem);
    }
    let v = r.json();
    let ids: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    // The intact advisories still match.
    assert_eq!(
        ids,
        ["RUSTSEC-2024-9001", "RUSTSEC-2024-9007"].into(),
        "{ids:?}"
    );
}

#[test]
fn config_with_a_wrong_type_names_file_and_line() {
    let dir = tree();
    let config = dir.path().join("tripline.toml");
    fs::write(&config, "[scan]\nexclude = []\n\nmax_file_size = \"big\"\n").unwrap();
    // Found at the scan root, and given with --config: the same error.
    for explicit in [false, true] {
        let mut c = tripline(dir.path());
        c.arg("secrets");
        if explicit {
            c.arg("--config").arg(&config);
        }
        c.arg(dir.path());
        let r = run(c);
        r.assert_code(2);
        r.assert_names("tripline.toml", "line 4, column 17");
        r.assert_names("tripline.toml", "expected u64");
        assert_eq!(r.stderr.lines().count(), 1, "one line:\n{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn user_rule_with_a_regex_too_large_names_file_rule_and_limit() {
    let dir = tree();
    let rules = dir.path().join("huge.toml");
    fs::write(
        &rules,
        "[[rule]]\nid = \"acme-huge\"\ntitle = \"t\"\ndescription = \"d\"\nseverity = \"high\"\n\
         confidence = \"low\"\nkeywords = [\"acme_\"]\nregex = '''acme_(?:\\w{1000}){200}'''\n\
         examples = [\"acme_x\"]\n",
    )
    .unwrap();
    let mut c = tripline(dir.path());
    c.args(["secrets", "--rules"]).arg(&rules).arg(dir.path());
    let r = run(c);
    r.assert_code(2);
    r.assert_names("huge.toml", "acme-huge");
    r.assert_names("acme-huge", "too large once compiled (over 2097152 bytes)");
    let mut c = tripline(dir.path());
    c.args(["rules", "test"]).arg(&rules);
    let r = run(c);
    r.assert_code(2);
    assert!(
        format!("{}{}", r.stdout(), r.stderr).contains("too large"),
        "{}{}",
        r.stdout(),
        r.stderr
    );
}

#[test]
#[ignore = "slow: run by .ci/run"]
fn a_million_findings_sarif_keeps_25000_and_says_so() {
    let dir = tree();
    let line = format!("AWS_ID={AWS_ID_2}\n");
    for i in 0..10 {
        fs::write(
            dir.path().join(format!("dump{i}.env")),
            line.repeat(100_000),
        )
        .unwrap();
    }
    let mut c = tripline(dir.path());
    c.args(["secrets", "--format", "sarif"]).arg(dir.path());
    let r = run_heavy(c, "a million findings, SARIF");
    r.assert_code(1);
    assert!(
        r.stderr.contains(
            "GitHub accepts at most 25000 SARIF results: kept the 25000 most severe, \
             dropped 975001 of 1000001"
        ),
        "{}",
        r.stderr
    );
    let v = r.json();
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 25_000);
    // Every finding is held until the report is written (text and JSON
    // list them all): memory grows with the findings, about 1 KB each.
    // This bound is that growth with room, not a target.
    r.assert_peak_below(1_500);
}

// ---------------------------------------------------------------------------
// The malicious checkout
// ---------------------------------------------------------------------------

/// Copies a tree, keeping modes and links.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_tree(&src, &dst);
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Everything about a tree a write would change: each entry's kind, mode,
/// modification time and bytes (or link target). A file created and
/// removed again still changes its folder's modification time.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (String, u32, i128, Vec<u8>)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = fs::symlink_metadata(&p).unwrap();
        let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
        let (kind, bytes) = if m.is_dir() {
            for e in fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
            ("dir", Vec::new())
        } else if m.file_type().is_symlink() {
            (
                "link",
                fs::read_link(&p).unwrap().as_os_str().as_bytes().to_vec(),
            )
        } else {
            ("file", fs::read(&p).unwrap())
        };
        let rel = p.strip_prefix(root).unwrap().to_path_buf();
        out.insert(rel, (kind.to_string(), m.mode(), mtime, bytes));
    }
    out
}

/// A copy of `fixtures/malicious` at `at`, with the toolchain path made
/// absolute (rustup takes no other), as an attacker who knows where CI
/// checks out would write it.
fn malicious_checkout(at: &Path) -> PathBuf {
    copy_tree(&repo("fixtures/malicious"), at);
    let toolchain = at.join("rust-toolchain.toml");
    let text = fs::read_to_string(&toolchain).unwrap();
    assert!(text.contains("@CHECKOUT@"));
    fs::write(&toolchain, text.replace("@CHECKOUT@", at.to_str().unwrap())).unwrap();
    at.to_path_buf()
}

/// Where the payload records that it ran: outside the checkout, writable by
/// anyone, so a run as another user or on a read-only tree could still
/// record it. (Without the variable it writes `RAN` inside the checkout,
/// which the snapshot would catch.)
fn marker_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o777)).unwrap();
    d
}

fn assert_never_ran(marker: &Path) {
    assert!(
        !marker.exists(),
        "the checkout's payload ran:\n{}",
        fs::read_to_string(marker).unwrap_or_default()
    );
}

/// The real toolchain, as a user's shell has it: rustup picks the
/// toolchain from the current folder (`RUSTUP_TOOLCHAIN`, which rustup sets
/// for `cargo test`, would hide that).
fn as_a_user(c: &mut Command, marker: &Path) {
    c.env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_HOME")
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("TRIPLINE_MARKER", marker);
}

/// The fixture is armed: run the naive way, from inside the checkout,
/// cargo and rustup do run its payload. Without this the tests below could
/// pass by the payload being broken.
#[test]
fn malicious_fixture_runs_its_payload_when_cargo_runs_inside_it() {
    let top = tempfile::tempdir().unwrap();
    let tree = malicious_checkout(&top.path().join("checkout"));
    let markers = marker_dir();
    let rustup = Command::new("rustup").arg("--version").output();
    if rustup.is_ok_and(|o| o.status.success()) {
        let marker = markers.path().join("rustup");
        let mut c = Command::new("cargo");
        as_a_user(&mut c, &marker);
        let _ = c.arg("--version").current_dir(&tree).output().unwrap();
        let ran = fs::read_to_string(&marker).unwrap_or_default();
        assert!(ran.contains("evil-toolchain/bin/cargo"), "{ran:?}");
    } else {
        eprintln!("no rustup: the rust-toolchain.toml half is not checked");
    }
    // With the toolchain pinned, cargo's own config runs the payload as
    // rustc (and its wrappers) to learn the target.
    let marker = markers.path().join("cargo");
    let mut c = Command::new("cargo");
    as_a_user(&mut c, &marker);
    c.env(
        "RUSTUP_TOOLCHAIN",
        std::env::var_os("RUSTUP_TOOLCHAIN").unwrap_or_else(|| "stable".into()),
    );
    let _ = c
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(&tree)
        .output()
        .unwrap();
    let ran = fs::read_to_string(&marker).unwrap_or_default();
    assert!(ran.contains("evil/payload.sh"), "{ran:?}");
}

#[test]
fn malicious_checkout_scan_and_deps_run_nothing_and_write_nothing() {
    let top = tempfile::tempdir().unwrap();
    let tree = malicious_checkout(&top.path().join("checkout"));
    let markers = marker_dir();
    let marker = markers.path().join("ran");
    let before = snapshot(&tree);
    for command in ["scan", "secrets", "deps"] {
        let mut c = tripline(top.path());
        as_a_user(&mut c, &marker);
        c.args([command, "--format", "json"]);
        // `secrets` has no database options (issue 21: options only where
        // they apply).
        if command != "secrets" {
            c.args(["--offline", "--db"]).arg(advisory_db());
        }
        c.arg(&tree).current_dir(&tree);
        let r = run(c);
        let v = r.json();
        if command == "deps" {
            r.assert_code(0);
            assert_eq!(v["scan"]["lockfiles_audited"], 1);
        } else {
            // The tree was read: the token planted in src/main.rs is found.
            r.assert_code(1);
            assert_eq!(places(&v), [("src/main.rs".into(), 2)]);
        }
        assert!(errors(&v).is_empty(), "{:?}", errors(&v));
        assert_never_ran(&marker);
    }
    assert!(before == snapshot(&tree), "the scans changed the tree");
}

#[test]
fn malicious_checkout_read_only_is_scanned_all_the_same() {
    let top = tempfile::tempdir().unwrap();
    let tree = malicious_checkout(&top.path().join("checkout"));
    let markers = marker_dir();
    let marker = markers.path().join("ran");
    // Read-only for everyone; the scan runs as an unprivileged user when
    // the tests run as root, for whom modes mean nothing.
    let mut stack = vec![tree.clone()];
    while let Some(p) = stack.pop() {
        let m = fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            stack.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
        let mode = m.permissions().mode() & 0o555;
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }
    let before = snapshot(&tree);
    for command in ["scan", "deps"] {
        let mut c = unprivileged(top.path());
        c.env("TRIPLINE_MARKER", &marker)
            .env("HOME", top.path())
            .args([command, "--offline", "--format", "json", "--db"])
            .arg(advisory_db())
            .arg(&tree)
            .current_dir(&tree);
        let r = run(c);
        let v = r.json();
        r.assert_code(if command == "scan" { 1 } else { 0 });
        assert!(errors(&v).is_empty(), "{:?}", errors(&v));
        assert_eq!(v["scan"]["lockfiles_audited"], 1);
        assert_never_ran(&marker);
    }
    assert!(before == snapshot(&tree), "the scans changed the tree");
    // Writable again, so the temporary folder can be removed.
    let mut stack = vec![tree.clone()];
    while let Some(p) = stack.pop() {
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        if p.is_dir() && !p.is_symlink() {
            stack.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
}

/// `--metadata` runs cargo, and only cargo from the user's toolchain: not
/// the checkout's rustc, wrappers or toolchain, nor those of a folder
/// above it, nor when `TMPDIR` lies inside the checkout (CI runners often
/// set it so), nor a wrapper left in the environment.
#[test]
fn malicious_checkout_metadata_runs_none_of_its_tools() {
    let top = tempfile::tempdir().unwrap();
    let tree = malicious_checkout(&top.path().join("checkout"));
    let payload = tree.join("evil/payload.sh");
    fs::create_dir(top.path().join(".cargo")).unwrap();
    fs::write(
        top.path().join(".cargo/config.toml"),
        format!(
            "[build]\nrustc = \"{0}\"\nrustc-wrapper = \"{0}\"\n",
            payload.display()
        ),
    )
    .unwrap();
    fs::copy(
        tree.join("rust-toolchain.toml"),
        top.path().join("rust-toolchain.toml"),
    )
    .unwrap();
    fs::create_dir(tree.join("tmp")).unwrap();
    let markers = marker_dir();
    let marker = markers.path().join("ran");
    let before = snapshot(&tree);
    let mut c = tripline(top.path());
    as_a_user(&mut c, &marker);
    c.env("TMPDIR", tree.join("tmp"))
        .env("RUSTC_WRAPPER", &payload)
        .env("CARGO_BUILD_RUSTC_WRAPPER", &payload)
        .args([
            "deps",
            "--metadata",
            "--offline",
            "--format",
            "json",
            "--db",
        ])
        .arg(advisory_db())
        .arg(&tree)
        .current_dir(&tree);
    let r = run(c);
    assert_never_ran(&marker);
    r.assert_code(0);
    // cargo did run, and answered: the metadata half is not vacuous.
    assert_eq!(r.json()["errors"], serde_json::json!([]), "{}", r.stderr);
    assert!(before == snapshot(&tree), "--metadata changed the tree");
}

// ---------------------------------------------------------------------------
// No second leak
// ---------------------------------------------------------------------------

/// Every report format with `-v`, to stdout and to `-o`, then a baseline
/// and a scan against it, over a tree with planted secrets and errors
/// forced on files that hold secrets: an unreadable file, a link out of the
/// root to a file of secrets, a lockfile that does not parse. No planted
/// value may appear in stdout, stderr, a report file or the baseline.
#[test]
fn no_secret_leaks_through_any_format_log_report_file_or_baseline() {
    let top = tempfile::tempdir().unwrap();
    let tree = top.path().join("tree");
    copy_tree(&repo("fixtures/leaky"), &tree);
    let locked = tree.join("locked.env");
    fs::write(
        &locked,
        format!("AWS_ID={AWS_ID_4}\ntoken = {GITHUB_TOKEN}\n"),
    )
    .unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let outside = top.path().join("outside.env");
    fs::write(&outside, format!("AWS_ID={AWS_ID_3}\n")).unwrap();
    std::os::unix::fs::symlink(&outside, tree.join("out.env")).unwrap();
    fs::write(
        tree.join("Cargo.lock"),
        "version = 3\n[[package]]\nname = \n",
    )
    .unwrap();
    let reports = top.path().join("reports");
    fs::create_dir(&reports).unwrap();
    fs::set_permissions(&reports, fs::Permissions::from_mode(0o777)).unwrap();

    let tripline_at = |args: &[&str]| {
        let mut c = unprivileged(top.path());
        c.args(args)
            .args(["-v", "--follow", "--offline", "--db"])
            .arg(advisory_db())
            .arg(&tree);
        c
    };
    let check = |r: &Run, what: &str| {
        assert!(r.code == Some(1), "{what}: exit {:?}\n{}", r.code, r.stderr);
        assert_no_secret(&r.stdout, &format!("{what}, stdout"));
        assert_no_secret(r.stderr.as_bytes(), &format!("{what}, stderr"));
    };
    let mut errors_seen = false;
    for format in ["text", "json", "sarif"] {
        let r = run(tripline_at(&["scan", "--format", format]));
        check(&r, format);
        // The forced errors did happen, and were reported.
        r.assert_names("locked.env", "permission denied");
        r.assert_names("out.env", "outside the scan root");
        r.assert_names("Cargo.lock", "cannot parse lockfile");
        let file = reports.join(format!("report.{format}"));
        let r = run(tripline_at(&[
            "scan",
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ]));
        check(&r, &format!("{format} -o"));
        let written = fs::read(&file).unwrap();
        assert!(!written.is_empty());
        assert_no_secret(&written, &format!("{format} report file"));
        if format == "json" {
            let v: Value = serde_json::from_slice(&written).unwrap();
            errors_seen = errors(&v).len() == 2;
            assert!(!places(&v).is_empty());
        }
    }
    assert!(errors_seen, "both errors are in the JSON report");

    let baseline = reports.join("baseline.json");
    let r = run(tripline_at(&["baseline", "-o", baseline.to_str().unwrap()]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_no_secret(&r.stdout, "baseline stdout");
    assert_no_secret(r.stderr.as_bytes(), "baseline stderr");
    let written = fs::read(&baseline).unwrap();
    assert!(written.len() > 100);
    assert_no_secret(&written, "baseline file");
    // Against the baseline, with one entry that matches nothing (-v lists it).
    fs::write(tree.join("new.env"), format!("AWS_ID={AWS_ID_2}\n")).unwrap();
    fs::remove_file(tree.join(".env")).unwrap();
    let r = run(tripline_at(&[
        "scan",
        "--format",
        "json",
        "--baseline",
        baseline.to_str().unwrap(),
    ]));
    check(&r, "scan --baseline");
    assert!(
        r.stderr.contains("baseline entry matched nothing"),
        "{}",
        r.stderr
    );
    // The baseline's findings are reported as suppressed by it; only the
    // new one is not.
    let v = r.json();
    assert_eq!(
        places_where(&v, |f| f.get("suppressed").is_none()),
        [("new.env".into(), 1)]
    );
    let accepted = places_where(&v, |f| f["suppressed"]["mechanism"] == "baseline");
    assert!(!accepted.is_empty(), "{v:#}");
    assert!(!accepted.contains(&("new.env".into(), 1)), "{v:#}");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
}

/// A config or rule file that fails to load is named with its line, and
/// the line (which may hold a token) is never quoted.
#[test]
fn config_and_rule_errors_never_quote_a_secret() {
    let dir = tree();
    let cases: [(&str, String, &str); 4] = [
        (
            "syntax.toml",
            format!("[deps]\ndb_url = https://u:{GITHUB_TOKEN}@example.com/db\n"),
            "line 2, column 10",
        ),
        (
            "type.toml",
            format!("[deps]\nmax_db_age = \"{GITHUB_TOKEN}\"\n"),
            "line 2, column 14",
        ),
        (
            "variant.toml",
            format!("[deps]\ninformational_severity = \"{GITHUB_TOKEN}\"\n"),
            "line 2, column 26",
        ),
        (
            "key.toml",
            format!("[deps]\ndb_url = \"https://u:{GITHUB_TOKEN}@example.com/db\"\ndbb = 1\n"),
            "line 3, column 1",
        ),
    ];
    for (name, text, place) in &cases {
        let file = dir.path().join(name);
        fs::write(&file, text).unwrap();
        let mut c = tripline(dir.path());
        c.args(["secrets", "--config"]).arg(&file).arg(dir.path());
        let r = run(c);
        r.assert_code(2);
        r.assert_names(name, place);
        assert_no_secret(r.stderr.as_bytes(), name);
    }
    let rules = dir.path().join("rules.toml");
    fs::write(
        &rules,
        format!("[[rule]]\nid = \"x\"\nregex = {GITHUB_TOKEN}\n"),
    )
    .unwrap();
    let mut c = tripline(dir.path());
    c.args(["secrets", "--rules"]).arg(&rules).arg(dir.path());
    let r = run(c);
    r.assert_code(2);
    r.assert_names("rules.toml", "line 3, column 9");
    assert_no_secret(r.stderr.as_bytes(), "rule file error");
}

#[test]
fn lockfile_parse_error_never_quotes_a_secret() {
    let dir = lockfile_tree(
        format!("version = 3\n\n[[package]]\nname = \"x\"\nversion = \"{GITHUB_TOKEN}\"\n")
            .as_bytes(),
    );
    let r = run(deps_json(dir.path(), &["-v"]));
    r.assert_code(1);
    r.assert_names("bad/Cargo.lock", "line 5");
    assert_no_secret(r.stderr.as_bytes(), "stderr");
    assert_no_secret(&r.stdout, "JSON report");
    assert_good_lockfile_audited(&r.json());
}
