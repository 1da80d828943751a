//! Dumps the candidates of the model-decided rules with their features, for
//! training the decision stage (`bench/train/train.py`).
//!
//!     cargo run --release --example dump_candidates -- DIR > candidates.tsv
//!
//! One row per candidate: the path relative to DIR, the rule, the first and
//! last line, the current model's score, then the features in
//! `decide::FEATURE_NAMES` order. The features come from the very code the
//! scanner runs, so training and inference cannot drift apart. Values are
//! never written.

use std::io::Write;
use std::path::Path;

use tripline::config::Config;
use tripline::secrets::decide::FEATURE_NAMES;
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&entry.path(), out)?;
        } else if ty.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let root = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: dump_candidates DIR"))?;
    let root = Path::new(&root);
    let mut engine = Engine::new(RuleSet::load(&[], &[])?, &Config::default())?;
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(
        out,
        "path\trule\tstart_line\tend_line\tscore\t{}",
        FEATURE_NAMES.join("\t")
    )?;
    for f in files {
        let Ok(content) = std::fs::read(&f) else {
            continue;
        };
        let rel = f
            .strip_prefix(root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        for c in engine.dump_candidates(&rel, &content) {
            let feats: Vec<String> = c.features.iter().map(|x| x.to_string()).collect();
            writeln!(
                out,
                "{rel}\t{}\t{}\t{}\t{:.4}\t{}",
                c.rule_id,
                c.start_line,
                c.end_line,
                c.score,
                feats.join("\t")
            )?;
        }
    }
    Ok(())
}
