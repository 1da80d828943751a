//! `--metadata`: what `cargo metadata` knows and a lockfile does not, namely
//! whether a package is a normal, build or dev dependency, and which
//! packages are built for the host platform at all.
//!
//! This is the one place tripline runs a program because of the scanned
//! tree, and only when asked. Cargo reads its configuration (`build.rustc`,
//! `rustc-wrapper`, runners...) from the *current directory* upwards, and
//! rustup picks the toolchain (`rust-toolchain.toml`, whose `path` may name
//! a binary in the tree) the same way; so cargo runs from the file-system
//! root, with `--manifest-path` pointing at the tree, and the environment
//! pins rustc and clears every wrapper. Not from a temporary folder: every
//! user can write `/tmp/.cargo/config.toml` or `/tmp/rust-toolchain.toml`,
//! and `TMPDIR` may well lie inside the checkout (CI runners set it so);
//! the root has no ancestor, and only the administrator writes there.
//! `cargo metadata` resolves but never builds: no build script or
//! proc-macro runs. `--locked --offline` keep it from touching the lockfile
//! or the network.
//!
//! The command is built and its JSON read by the `cargo_metadata` crate
//! (`MetadataCommand`), with the safety settings above applied to it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, NodeDep, PackageId};

/// The dependency kind of each `(name, version)` built for the host, as
/// "normal", "build" or "dev". A package absent from the map is not built
/// for this platform.
#[derive(Debug, Default)]
pub struct DependencyKinds {
    kinds: HashMap<(String, String), &'static str>,
}

impl DependencyKinds {
    pub fn get(&self, name: &str, version: &str) -> Option<&'static str> {
        self.kinds
            .get(&(name.to_string(), version.to_string()))
            .copied()
    }

    /// From `cargo metadata --format-version 1` JSON.
    pub fn from_json(json: &[u8]) -> Result<DependencyKinds> {
        let text = std::str::from_utf8(json).context("`cargo metadata` output is not UTF-8")?;
        let meta = MetadataCommand::parse(text).context("cannot read `cargo metadata` output")?;
        DependencyKinds::from_metadata(&meta)
    }

    fn from_metadata(meta: &Metadata) -> Result<DependencyKinds> {
        let Some(resolve) = &meta.resolve else {
            bail!("`cargo metadata` gave no dependency graph");
        };
        let edges: HashMap<&PackageId, &[NodeDep]> = resolve
            .nodes
            .iter()
            .map(|n| (&n.id, n.deps.as_slice()))
            .collect();
        let members: Vec<&PackageId> = meta.workspace_members.iter().collect();
        // Normal: reachable from a member through normal edges only. Build:
        // reachable once build edges count too (a build script's
        // dependencies are built). Dev: the rest of the resolved graph.
        let normal = reach(&members, &edges, &[DependencyKind::Normal]);
        let built = reach(
            &members,
            &edges,
            &[DependencyKind::Normal, DependencyKind::Build],
        );
        let mut kinds = HashMap::new();
        for p in &meta.packages {
            if !edges.contains_key(&p.id) {
                continue;
            }
            let kind = if normal.contains(&p.id) {
                "normal"
            } else if built.contains(&p.id) {
                "build"
            } else {
                "dev"
            };
            kinds.insert((p.name.to_string(), p.version.to_string()), kind);
        }
        Ok(DependencyKinds { kinds })
    }
}

fn reach<'a>(
    members: &[&'a PackageId],
    edges: &HashMap<&'a PackageId, &'a [NodeDep]>,
    allowed: &[DependencyKind],
) -> HashSet<&'a PackageId> {
    let mut seen: HashSet<&PackageId> = members.iter().copied().collect();
    let mut queue: VecDeque<&PackageId> = members.iter().copied().collect();
    while let Some(id) = queue.pop_front() {
        for d in edges.get(id).copied().unwrap_or_default() {
            let ok = d.dep_kinds.iter().any(|k| allowed.contains(&k.kind));
            if ok && seen.insert(&d.pkg) {
                queue.push_back(&d.pkg);
            }
        }
    }
    seen
}

/// Runs `cargo metadata` for the workspace whose `Cargo.toml` sits beside
/// `lockfile`, filtered to the host platform, with the tree's cargo and
/// rustup settings out of reach (see the module doc).
pub fn dependency_kinds(lockfile: &Path) -> Result<DependencyKinds> {
    let dir = lockfile.parent().unwrap_or(Path::new("."));
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!("--metadata: no Cargo.toml beside {}", lockfile.display());
    }
    let manifest = std::fs::canonicalize(&manifest)
        .with_context(|| format!("cannot resolve {}", manifest.display()))?;
    let neutral = neutral_dir();
    let host = host_triple(&neutral)?;
    // `cargo_path` keeps the `cargo` on PATH, as before: without it the
    // crate would prefer `$CARGO`.
    let mut cmd = MetadataCommand::new();
    cmd.cargo_path("cargo")
        .current_dir(&neutral)
        .manifest_path(&manifest)
        .other_options(vec![
            "--locked".to_string(),
            "--offline".to_string(),
            "--filter-platform".to_string(),
            host,
        ]);
    for (key, value) in NEUTRAL_ENV {
        cmd.env(*key, *value);
    }
    cmd.env_remove("RUSTC");
    let out = cmd
        .cargo_command()
        .output()
        .context("cannot run `cargo` for --metadata (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata --locked --offline` failed for {}: {}",
            manifest.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    DependencyKinds::from_json(&out.stdout)
}

/// Where cargo and rustc run from: a folder whose ancestors hold no cargo
/// or rustup settings that anyone but the administrator can write.
fn neutral_dir() -> PathBuf {
    if cfg!(unix) {
        PathBuf::from("/")
    } else {
        std::env::temp_dir()
    }
}

fn host_triple(cwd: &Path) -> Result<String> {
    let out = neutral_command("rustc", cwd)
        .arg("-vV")
        .output()
        .context("cannot run `rustc -vV` for --metadata")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
        .context("`rustc -vV` printed no host triple")
}

/// The environment cargo and rustc run with: rustc pinned to the one on
/// PATH and every wrapper cleared, whatever a config says (and `RUSTC`
/// removed).
const NEUTRAL_ENV: &[(&str, &str)] = &[
    ("CARGO_BUILD_RUSTC", "rustc"),
    ("CARGO_BUILD_RUSTC_WRAPPER", ""),
    ("CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER", ""),
    ("RUSTC_WRAPPER", ""),
    ("RUSTC_WORKSPACE_WRAPPER", ""),
    ("CARGO_NET_OFFLINE", "true"),
];

/// A command run from `cwd` (never the scanned tree), in the neutral
/// environment.
fn neutral_command(program: &str, cwd: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(cwd)
        .envs(NEUTRAL_ENV.iter().copied())
        .env_remove("RUSTC");
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_the_resolve_graph() {
        let json = br#"{
          "packages": [
            {"id": "app 0.1.0 (path+file:///w/app)", "name": "app", "version": "0.1.0", "dependencies": [], "targets": [], "features": {}, "manifest_path": "/w/Cargo.toml"},
            {"id": "serde 1.0.0 (registry)", "name": "serde", "version": "1.0.0", "dependencies": [], "targets": [], "features": {}, "manifest_path": "/w/Cargo.toml"},
            {"id": "cc 1.0.0 (registry)", "name": "cc", "version": "1.0.0", "dependencies": [], "targets": [], "features": {}, "manifest_path": "/w/Cargo.toml"},
            {"id": "proptest 1.0.0 (registry)", "name": "proptest", "version": "1.0.0", "dependencies": [], "targets": [], "features": {}, "manifest_path": "/w/Cargo.toml"},
            {"id": "rand 0.8.0 (registry)", "name": "rand", "version": "0.8.0", "dependencies": [], "targets": [], "features": {}, "manifest_path": "/w/Cargo.toml"}
          ],
          "workspace_members": ["app 0.1.0 (path+file:///w/app)"],
          "workspace_root": "/w", "target_directory": "/w/target", "version": 1,
          "resolve": {"root": null, "nodes": [
            {"id": "app 0.1.0 (path+file:///w/app)", "dependencies": [], "features": [], "deps": [
              {"name": "serde", "pkg": "serde 1.0.0 (registry)", "dep_kinds": [{"kind": null}]},
              {"name": "cc", "pkg": "cc 1.0.0 (registry)", "dep_kinds": [{"kind": "build"}]},
              {"name": "proptest", "pkg": "proptest 1.0.0 (registry)", "dep_kinds": [{"kind": "dev"}]},
              {"name": "rand", "pkg": "rand 0.8.0 (registry)", "dep_kinds": [{"kind": "dev"}, {"kind": null}]}
            ]},
            {"id": "serde 1.0.0 (registry)", "dependencies": [], "features": [], "deps": []},
            {"id": "cc 1.0.0 (registry)", "dependencies": [], "features": [], "deps": []},
            {"id": "proptest 1.0.0 (registry)", "dependencies": [], "features": [], "deps": []},
            {"id": "rand 0.8.0 (registry)", "dependencies": [], "features": [], "deps": []}
          ]}
        }"#;
        let k = DependencyKinds::from_json(json).unwrap();
        assert_eq!(k.get("serde", "1.0.0"), Some("normal"));
        assert_eq!(k.get("cc", "1.0.0"), Some("build"));
        assert_eq!(k.get("proptest", "1.0.0"), Some("dev"));
        assert_eq!(
            k.get("rand", "0.8.0"),
            Some("normal"),
            "normal and dev: normal"
        );
        assert_eq!(
            k.get("winapi", "0.3.9"),
            None,
            "not built for this platform"
        );
    }
}
