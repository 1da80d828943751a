//! A temporary git repository driven by the `git` CLI, isolated from the
//! user's and the system's git configuration: what the integration tests
//! of `--staged`, `--git` and `--config-rev` share. Each test file adds the
//! methods that run tripline its own way.

use std::path::Path;

pub struct GitRepo(tempfile::TempDir);

impl GitRepo {
    pub fn new() -> GitRepo {
        let r = GitRepo(tempfile::tempdir().expect("temp dir"));
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.name", "Ada Tester"]);
        r.git(&["config", "user.email", "ada@example.com"]);
        r.git(&["config", "commit.gpgsign", "false"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn git_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new("git");
        c.args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        c
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_cmd(args).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Stages everything and commits; returns the commit id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }
}
