//! `tripline rules list|test`: the rule catalog as the user asks to see it.
//!
//! The command layer: it turns the subcommand's arguments into calls of the
//! secrets scanner's library ([`RuleSet`]) and prints their answers. The
//! scanner itself knows nothing of this command.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::RulesCommand;
use crate::config::Config;
use crate::report::Format;
use crate::secrets::rules::RuleSet;

/// `tripline rules list|test`.
pub fn run(cmd: &RulesCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let mut extra = config.rule_paths();
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCommand::List { format } => {
            let set = RuleSet::load(&extra, &config.rules.disable)?;
            list(&set, format.unwrap_or(Format::Text), &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Test { path } => {
            extra.extend(path.iter().cloned());
            // Every rule is tested, disabled or not: a disabled rule may be
            // enabled again tomorrow.
            let (set, problems) = RuleSet::load_checked(&extra, &[], true)?;
            if problems.is_empty() {
                let examples: usize = set.rules.iter().map(|r| r.examples.len()).sum();
                let negatives: usize = set.rules.iter().map(|r| r.negative_examples.len()).sum();
                writeln!(
                    out,
                    "ok: {} rules compiled, {examples} examples found and {negatives} negative examples not found",
                    set.len()
                )?;
                Ok(ExitCode::SUCCESS)
            } else {
                let mut err = std::io::stderr().lock();
                for p in &problems {
                    writeln!(err, "error: {p}")?;
                }
                writeln!(
                    err,
                    "{} problem(s); {} rules passed",
                    problems.len(),
                    set.len()
                )?;
                Ok(ExitCode::from(2))
            }
        }
    }
}

fn list(set: &RuleSet, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    match format {
        Format::Json | Format::Sarif => {
            let rows: Vec<serde_json::Value> = set
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "title": r.title,
                        "description": r.description.trim(),
                        "severity": r.severity,
                        "confidence": r.confidence,
                        "family": r.family,
                        "keywords": r.keywords,
                        "keywords_in": if r.keywords_in_path { "path" } else { "content" },
                        "validator": r.validator.map(|v| v.name()),
                        "entropy": r.entropy,
                        "path": r.path.as_ref().map(|p| p.as_str()),
                        "source": r.source,
                        "references": r.references,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
        Format::Text => {
            let width = set.rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            for r in &set.rules {
                writeln!(
                    out,
                    "{:width$}  {:8}  {:6}  {}",
                    r.id,
                    r.severity.as_str(),
                    r.confidence.as_str(),
                    r.title
                )?;
            }
            writeln!(out, "{} rules", set.len())?;
        }
    }
    Ok(())
}
