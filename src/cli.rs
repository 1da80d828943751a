//! Command-line interface: what the user can type, parsed by clap.
//!
//! This module only describes arguments; it does not decide what they mean
//! for a scan (that is `scan`) and it does no I/O.
//!
//! Each option lives with the subcommands it affects, in a group that says
//! what it is about; a new option goes into the group it belongs to and so
//! reaches every subcommand that group serves:
//!
//! | group | what | subcommands |
//! |---|---|---|
//! | [`GlobalArgs`] | `--config`, `-q`, `-v`, `--no-color` | all (clap's `global`) |
//! | [`SourceArgs`] | what is read: `--follow`, `--staged`, `--git`, `--threads`, `--max-file-size` | scan, secrets, deps, baseline |
//! | [`ReportArgs`] | the report and the exit status: `--format`, `-o`, `--fail-on`, `--baseline` | scan, secrets, deps |
//! | [`SecretsArgs`] | the secrets half: `--rules`, `--disable-rule`, `--stdin-name` | scan, secrets, baseline |
//! | [`RevealArgs`] | `--show-secrets` | scan, secrets |
//! | [`DepsArgs`] | the dependency half: `--deny`, `--ignore`, `--yanked`, ... | scan, deps, baseline |
//! | [`DbArgs`] | which advisory database: `--db`, `--offline`, `--max-db-age` | with `DepsArgs`, and `db info`/`db fetch` |
//!
//! Options were all global once, and scripts put them before the
//! subcommand (`tripline --format json scan .`): [`parse`] still takes any
//! subcommand option there, when the subcommand has it, and refuses one the
//! subcommand does not have. Options with a default are `Option`s here, so
//! that a value given after the subcommand can be told from none; the
//! accessors (`ReportArgs::format`, ...) apply the defaults.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::finding::{Confidence, Severity};
use crate::report::Format;

const AFTER_HELP: &str = "\
Exit status:
  0  no finding at or above --fail-on
  1  at least one finding at or above --fail-on
  2  usage or runtime error (bad flag, unreadable config, invalid rule, no database,
     --yanked and the crates.io index unreachable); also a partial report: `scan`
     without its advisory database reports the secrets it found and exits 2

A subcommand's options may also come before it: tripline --format json scan .

Examples:
  tripline scan .                              secrets and dependencies, text report
  tripline scan . --format sarif -o out.sarif  for GitHub code scanning
  tripline secrets --staged                    pre-commit: what is staged only
  kubectl get secret -o yaml | tripline secrets -   standard input, as one file
  tripline deps . --db ./advisory-db --offline audit every Cargo.lock";

/// The default of `--max-file-size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The name standard input goes by in reports when no `--stdin-name` is given.
pub const STDIN_NAME: &str = "<stdin>";

#[derive(Debug, Parser)]
#[command(
    name = "tripline",
    version,
    about = "Audit a source tree for committed secrets and vulnerable dependencies",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,

    /// Subcommand options given before the subcommand. [`parse`] hides
    /// them from `tripline --help`, refuses those the subcommand does not
    /// have, and moves the others into the subcommand's arguments, so this
    /// is empty once parsed.
    #[command(flatten)]
    pub before: BeforeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything tripline checks: secrets and dependencies.
    Scan(ScanCommand),
    /// Secrets only.
    Secrets(SecretsCommand),
    /// Dependencies only: every Cargo.lock under PATH against RustSec, every
    /// Python lockfile against the PyPI advisories (OSV).
    Deps(DepsCommand),
    /// Record the findings present now, for `--baseline`.
    Baseline(BaselineCommand),
    /// The secret-detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The RustSec advisory database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Git hooks.
    #[command(subcommand)]
    Hook(HookCommand),
}

/// The tree to scan: the positional argument of every scan.
#[derive(Debug, Args, Clone)]
pub struct Target {
    /// The tree to scan; `-` reads standard input as one file (secrets only).
    #[arg(default_value = ".")]
    pub path: PathBuf,
}

/// `tripline scan`.
#[derive(Debug, Args, Clone)]
pub struct ScanCommand {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub secrets: SecretsArgs,
    #[command(flatten)]
    pub reveal: RevealArgs,
    #[command(flatten)]
    pub deps: DepsArgs,
}

/// `tripline secrets`.
#[derive(Debug, Args, Clone)]
pub struct SecretsCommand {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub secrets: SecretsArgs,
    #[command(flatten)]
    pub reveal: RevealArgs,
}

/// `tripline deps`.
#[derive(Debug, Args, Clone)]
pub struct DepsCommand {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub deps: DepsArgs,
}

/// `tripline baseline`: a scan whose output is a baseline file, not a report.
#[derive(Debug, Args, Clone)]
pub struct BaselineCommand {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Where to write the baseline [default: tripline-baseline.json].
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub secrets: SecretsArgs,
    #[command(flatten)]
    pub deps: DepsArgs,
}

/// Every scan subcommand's arguments in one shape, for the pipeline: a
/// group the subcommand does not have is at its defaults.
#[derive(Debug, Clone)]
pub struct ScanArgs {
    pub path: PathBuf,
    pub source: SourceArgs,
    pub report: ReportArgs,
    pub secrets: SecretsArgs,
    pub reveal: RevealArgs,
    pub deps: DepsArgs,
}

impl ScanArgs {
    /// `-`: standard input, read as one file.
    pub fn reads_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

impl From<&ScanCommand> for ScanArgs {
    fn from(c: &ScanCommand) -> ScanArgs {
        ScanArgs {
            path: c.target.path.clone(),
            source: c.source.clone(),
            report: c.report.clone(),
            secrets: c.secrets.clone(),
            reveal: c.reveal.clone(),
            deps: c.deps.clone(),
        }
    }
}

impl From<&SecretsCommand> for ScanArgs {
    fn from(c: &SecretsCommand) -> ScanArgs {
        ScanArgs {
            path: c.target.path.clone(),
            source: c.source.clone(),
            report: c.report.clone(),
            secrets: c.secrets.clone(),
            reveal: c.reveal.clone(),
            deps: DepsArgs::default(),
        }
    }
}

impl From<&DepsCommand> for ScanArgs {
    fn from(c: &DepsCommand) -> ScanArgs {
        ScanArgs {
            path: c.target.path.clone(),
            source: c.source.clone(),
            report: c.report.clone(),
            secrets: SecretsArgs::default(),
            reveal: RevealArgs::default(),
            deps: c.deps.clone(),
        }
    }
}

impl From<&BaselineCommand> for ScanArgs {
    fn from(c: &BaselineCommand) -> ScanArgs {
        ScanArgs {
            path: c.target.path.clone(),
            source: c.source.clone(),
            report: ReportArgs {
                output: c.output.clone(),
                ..ReportArgs::default()
            },
            secrets: c.secrets.clone(),
            reveal: RevealArgs::default(),
            deps: c.deps.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in force (built-in plus --rules, less disabled).
    List {
        /// Output format (json and sarif both print a JSON list) [default: text].
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Compile every rule and check its examples; PATH adds a rule file or folder.
    Test {
        /// Rule file or folder of rule files to test (besides the built-ins).
        path: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Clone or update the advisory databases with `git`: RustSec's and the
    /// PyPA's (PyPI, OSV format); `--ecosystem` for one.
    Fetch(DbArgs),
    /// Print each database's path, commit, date and advisory count.
    Info(DbInfoArgs),
}

/// `tripline db info`.
#[derive(Debug, Args, Clone)]
pub struct DbInfoArgs {
    /// Output format: text, or one JSON object [default: text].
    #[arg(long, value_enum)]
    pub format: Option<InfoFormat>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// `db info --format`: no SARIF, which describes findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write .git/hooks/pre-commit running `tripline secrets --staged`.
    Install {
        /// Overwrite a pre-commit hook that tripline did not write.
        #[arg(long)]
        force: bool,
    },
}

/// `--fail-on`: the lowest severity that fails the run, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

/// The options of every subcommand, before and after it.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: tripline.toml at the scan root, when present].
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// No colour (also when NO_COLOR is set, or output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Print nothing but the report (no warnings, no progress).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Say more on standard error (skipped files, timings, unmatched baseline entries).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// Subcommand options written before the subcommand; see [`parse`].
#[derive(Debug, Args, Default)]
pub struct BeforeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub secrets: SecretsArgs,
    #[command(flatten)]
    pub reveal: RevealArgs,
    #[command(flatten)]
    pub deps: DepsArgs,
}

/// What a scan reads, and how.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Source")]
pub struct SourceArgs {
    /// Follow symbolic links (loops are detected and skipped).
    #[arg(long)]
    pub follow: bool,

    /// Scan what is staged in the git index instead of the working tree.
    #[arg(long, conflicts_with = "git")]
    pub staged: bool,

    /// With --staged: report findings on every line of the staged files, not
    /// only on lines the change adds.
    #[arg(long, requires = "staged")]
    pub all_lines: bool,

    /// Scan git history: every blob reachable from REVS (default: all refs), once.
    #[arg(long, value_name = "REVS", num_args = 0..=1, default_missing_value = "")]
    pub git: Option<String>,

    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Skip files larger than this many bytes [default: 10485760].
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,

    /// Read tripline.toml, .triplineignore, rule files and the baseline from
    /// git revision REV (e.g. origin/main) instead of the working tree, so a
    /// pull request cannot loosen its own scan.
    #[arg(long, value_name = "REV")]
    pub config_rev: Option<String>,
}

impl SourceArgs {
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE)
    }

    /// Takes what `before` (the options before the subcommand) set and
    /// this does not.
    fn absorb(&mut self, before: SourceArgs) {
        // Destructured whole, so a new field cannot be forgotten here.
        let SourceArgs {
            follow,
            staged,
            all_lines,
            git,
            threads,
            max_file_size,
            config_rev,
        } = before;
        self.follow |= follow;
        self.staged |= staged;
        self.all_lines |= all_lines;
        self.git = self.git.take().or(git);
        self.threads = self.threads.or(threads);
        self.max_file_size = self.max_file_size.or(max_file_size);
        self.config_rev = self.config_rev.take().or(config_rev);
    }
}

/// The report, which findings it leaves out, and when the run fails.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Report")]
pub struct ReportArgs {
    /// Output format [default: text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Lowest severity that makes the exit status 1 [default: low].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// SARIF only: writes automationDetails.id = "NAME/" so uploads of
    /// different jobs do not replace each other.
    #[arg(long, value_name = "NAME")]
    pub sarif_category: Option<String>,

    /// Report only findings not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Fail on informational kinds too: unmaintained, unsound, notice, yanked
    /// (dependencies), suppression (a change that adds or widens a
    /// suppression, with --staged or --git A..B).
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub deny: Vec<String>,
}

impl ReportArgs {
    pub fn format(&self) -> Format {
        self.format.unwrap_or(Format::Text)
    }

    pub fn fail_on(&self) -> FailOn {
        self.fail_on.unwrap_or(FailOn::Low)
    }

    fn absorb(&mut self, before: ReportArgs) {
        let ReportArgs {
            format,
            output,
            fail_on,
            sarif_category,
            baseline,
            deny,
        } = before;
        self.format = self.format.or(format);
        self.output = self.output.take().or(output);
        self.fail_on = self.fail_on.or(fail_on);
        self.sarif_category = self.sarif_category.take().or(sarif_category);
        self.deny = [deny, std::mem::take(&mut self.deny)].concat();
        self.baseline = self.baseline.take().or(baseline);
    }
}

/// The secrets half of a scan.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Secrets")]
pub struct SecretsArgs {
    /// Add a rule file or folder of rule files (a rule with a built-in id replaces it).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Disable a rule by id (repeatable).
    #[arg(long = "disable-rule", value_name = "ID")]
    pub disable_rule: Vec<String>,

    /// With `-` (standard input): the path the input is reported under, and
    /// that path rules, allowlists and path keywords see [default: <stdin>].
    #[arg(long, value_name = "PATH")]
    pub stdin_name: Option<String>,

    /// Report only secrets found with at least this confidence
    /// [default: low, or `[scan] min_confidence`].
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_confidence: Option<Confidence>,
}

impl SecretsArgs {
    fn absorb(&mut self, before: SecretsArgs) {
        let SecretsArgs {
            rules,
            disable_rule,
            stdin_name,
            min_confidence,
        } = before;
        self.min_confidence = self.min_confidence.or(min_confidence);
        // Repeatable options: those before the subcommand come first.
        self.rules = [rules, std::mem::take(&mut self.rules)].concat();
        self.disable_rule = [disable_rule, std::mem::take(&mut self.disable_rule)].concat();
        self.stdin_name = self.stdin_name.take().or(stdin_name);
    }
}

/// The secret values in a report: for the subcommands that report secrets
/// (`baseline` records none).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Secrets")]
pub struct RevealArgs {
    /// Print secret values unmasked in every format. Off by default, for a reason.
    #[arg(long)]
    pub show_secrets: bool,
}

impl RevealArgs {
    fn absorb(&mut self, before: RevealArgs) {
        let RevealArgs { show_secrets } = before;
        self.show_secrets |= show_secrets;
    }
}

/// The dependency half of a scan.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Dependencies")]
pub struct DepsArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Only advisories that apply to this target OS (e.g. linux, windows, macos).
    #[arg(long, value_name = "OS")]
    pub target_os: Option<String>,

    /// Only advisories that apply to this target architecture (e.g. x86_64, aarch64).
    #[arg(long, value_name = "ARCH")]
    pub target_arch: Option<String>,

    /// Ignore an advisory id (repeatable); `[deps] ignore` in the config can expire.
    #[arg(long = "ignore", value_name = "ID")]
    pub ignore: Vec<String>,

    /// Check for yanked crates against the crates.io sparse index (network;
    /// [deps] index_url or TRIPLINE_CRATES_INDEX for a mirror).
    #[arg(long)]
    pub yanked: bool,

    /// Use `cargo metadata --locked --offline` for dependency kinds and
    /// platform filtering. Runs cargo, with the tree's cargo settings neutralised.
    #[arg(long)]
    pub metadata: bool,

    /// With --metadata: drop findings in dev-only dependencies.
    #[arg(long, requires = "metadata")]
    pub exclude_dev: bool,
}

impl DepsArgs {
    fn absorb(&mut self, before: DepsArgs) {
        let DepsArgs {
            db,
            target_os,
            target_arch,
            ignore,
            yanked,
            metadata,
            exclude_dev,
        } = before;
        self.db.absorb(db);
        self.target_os = self.target_os.take().or(target_os);
        self.target_arch = self.target_arch.take().or(target_arch);
        self.ignore = [ignore, std::mem::take(&mut self.ignore)].concat();
        self.yanked |= yanked;
        self.metadata |= metadata;
        self.exclude_dev |= exclude_dev;
    }
}

/// Which advisory database, and whether it may be fetched: everything the
/// audit and `db info`/`db fetch` share.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Advisory database")]
pub struct DbArgs {
    /// Advisory database: a directory or git checkout in RustSec's layout.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Never touch the network (no database fetch, no yanked check).
    #[arg(long)]
    pub offline: bool,

    /// Warn when the database is older than this many days.
    #[arg(long, value_name = "DAYS")]
    pub max_db_age: Option<u64>,

    /// PyPI advisory database: a folder of OSV records (YAML or JSON) or OSV's all.zip.
    #[arg(long, value_name = "PATH")]
    pub pypi_db: Option<PathBuf>,

    /// Only these ecosystems' lockfiles and databases: cargo, pypi (default both).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub ecosystem: Vec<String>,
}

impl DbArgs {
    fn absorb(&mut self, before: DbArgs) {
        let DbArgs {
            db,
            offline,
            max_db_age,
            pypi_db,
            ecosystem,
        } = before;
        self.db = self.db.take().or(db);
        self.offline |= offline;
        self.max_db_age = self.max_db_age.or(max_db_age);
        self.pypi_db = self.pypi_db.take().or(pypi_db);
        self.ecosystem = [ecosystem, std::mem::take(&mut self.ecosystem)].concat();
    }
}

/// Parses the process's command line; on a usage error prints clap's
/// message and exits 2 (0 for `--help` and `--version`).
pub fn parse() -> Cli {
    try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// Parses `args` (the program name first). Subcommand options given before
/// the subcommand are moved into it when it has them, and refused with a
/// usage error naming the option and the subcommand when it does not.
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // The options before the subcommand are the subcommands' own, listed
    // in their help: `tripline --help` lists the global ones only.
    let mut cmd = Cli::command().mut_args(|a| {
        if a.is_global_set() || matches!(a.get_id().as_str(), "help" | "version") {
            a
        } else {
            a.hide(true)
        }
    });
    let matches = cmd.try_get_matches_from_mut(args)?;
    refuse_inapplicable_before(&mut cmd, &matches)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.move_before_into_command()
        .map_err(|msg| cmd.error(clap::error::ErrorKind::ArgumentConflict, msg))?;
    Ok(cli)
}

/// An option before the subcommand applies when the subcommand (the
/// innermost one: `db info`) has an option of the same id.
fn refuse_inapplicable_before(
    cmd: &mut clap::Command,
    matches: &ArgMatches,
) -> Result<(), clap::Error> {
    let mut leaf: &clap::Command = cmd;
    let mut leaf_matches = matches;
    let mut name = String::from("tripline");
    while let Some((sub, sub_matches)) = leaf_matches.subcommand() {
        let Some(found) = leaf.find_subcommand(sub) else {
            break;
        };
        name.push(' ');
        name.push_str(sub);
        leaf = found;
        leaf_matches = sub_matches;
    }
    let given_before = cmd.get_arguments().filter(|a| {
        !a.is_global_set()
            && matches.value_source(a.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
    });
    for arg in given_before {
        if !leaf.get_arguments().any(|a| a.get_id() == arg.get_id()) {
            let flag = arg
                .get_long()
                .map_or_else(|| arg.get_id().to_string(), |l| format!("--{l}"));
            let msg = format!("{flag} does not apply to `{name}` (see `{name} --help`)");
            return Err(cmd
                .clone()
                .error(clap::error::ErrorKind::ArgumentConflict, msg));
        }
    }
    Ok(())
}

impl Cli {
    /// Moves the options given before the subcommand into its arguments;
    /// those given after it win. Only options the subcommand has can be
    /// set here (see `refuse_inapplicable_before`).
    fn move_before_into_command(&mut self) -> Result<(), String> {
        let BeforeArgs {
            source,
            mut report,
            secrets,
            reveal,
            deps,
        } = std::mem::take(&mut self.before);
        match &mut self.command {
            Command::Scan(c) => {
                c.source.absorb(source);
                c.report.absorb(report);
                c.secrets.absorb(secrets);
                c.reveal.absorb(reveal);
                c.deps.absorb(deps);
            }
            Command::Secrets(c) => {
                c.source.absorb(source);
                c.report.absorb(report);
                c.secrets.absorb(secrets);
                c.reveal.absorb(reveal);
            }
            Command::Deps(c) => {
                c.source.absorb(source);
                c.report.absorb(report);
                c.deps.absorb(deps);
            }
            Command::Baseline(c) => {
                c.source.absorb(source);
                c.output = c.output.take().or(report.output.take());
                c.secrets.absorb(secrets);
                c.deps.absorb(deps);
            }
            Command::Rules(RulesCommand::List { format }) => *format = format.or(report.format),
            Command::Db(DbCommand::Fetch(db)) => db.absorb(deps.db),
            Command::Db(DbCommand::Info(info)) => {
                info.db.absorb(deps.db);
                if info.format.is_none() {
                    info.format = match report.format {
                        None => None,
                        Some(Format::Text) => Some(InfoFormat::Text),
                        Some(Format::Json) => Some(InfoFormat::Json),
                        Some(Format::Sarif) => {
                            return Err(
                                "`tripline db info` prints text or json, not sarif".to_string()
                            )
                        }
                    };
                }
            }
            Command::Rules(RulesCommand::Test { .. }) | Command::Hook(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        try_parse_from(std::iter::once("tripline").chain(args.iter().copied()))
    }

    fn scan_args(cli: &Cli) -> ScanArgs {
        match &cli.command {
            Command::Scan(c) => c.into(),
            Command::Secrets(c) => c.into(),
            Command::Deps(c) => c.into(),
            Command::Baseline(c) => c.into(),
            other => panic!("not a scan: {other:?}"),
        }
    }

    #[test]
    fn options_before_the_subcommand_join_those_after_it() {
        let cli = parse(&[
            "--format",
            "json",
            "--threads",
            "3",
            "--rules",
            "a.toml",
            "scan",
            ".",
            "--rules",
            "b.toml",
            "--db",
            "x",
        ])
        .unwrap();
        let a = scan_args(&cli);
        assert_eq!(a.report.format(), Format::Json);
        assert_eq!(a.source.threads, Some(3));
        assert_eq!(
            a.secrets.rules,
            [PathBuf::from("a.toml"), PathBuf::from("b.toml")]
        );
        assert_eq!(a.deps.db.db, Some(PathBuf::from("x")));
        // After the subcommand wins.
        let cli = parse(&["--format", "json", "secrets", "--format", "sarif"]).unwrap();
        assert_eq!(scan_args(&cli).report.format(), Format::Sarif);
        // Defaults when given nowhere.
        let a = scan_args(&parse(&["deps"]).unwrap());
        assert_eq!(a.report.format(), Format::Text);
        assert_eq!(a.report.fail_on(), FailOn::Low);
        assert_eq!(a.source.max_file_size(), DEFAULT_MAX_FILE_SIZE);
        assert_eq!(a.path, PathBuf::from("."));
    }

    #[test]
    fn an_option_before_a_subcommand_without_it_is_refused() {
        for args in [
            &["--threads", "2", "db", "info"][..],
            &["--show-secrets", "deps", "."],
            &["--show-secrets", "baseline"],
            &["--db", "x", "secrets", "."],
            &["--fail-on", "high", "baseline"],
            &["--format", "json", "rules", "test"],
            &["-o", "x", "hook", "install"],
        ] {
            let err = parse(args).expect_err(&format!("{args:?}"));
            assert_eq!(err.exit_code(), 2, "{args:?}");
            let msg = err.to_string();
            assert!(msg.contains("does not apply to `tripline "), "{msg}");
        }
        let err = parse(&["--format", "sarif", "db", "info"]).unwrap_err();
        assert!(err.to_string().contains("not sarif"), "{err}");
    }

    #[test]
    fn database_commands_take_the_database_options_from_either_side() {
        let cli = parse(&["--db", "a", "--format", "json", "db", "info", "--offline"]).unwrap();
        let Command::Db(DbCommand::Info(info)) = &cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(info.db.db, Some(PathBuf::from("a")));
        assert!(info.db.offline);
        assert_eq!(info.format, Some(InfoFormat::Json));
        let cli = parse(&["db", "fetch", "--db", "b"]).unwrap();
        let Command::Db(DbCommand::Fetch(db)) = &cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(db.db, Some(PathBuf::from("b")));
        let cli = parse(&["--format", "json", "rules", "list"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Rules(RulesCommand::List {
                format: Some(Format::Json)
            })
        ));
    }

    #[test]
    fn baseline_takes_its_output_from_either_side() {
        let a = scan_args(&parse(&["-o", "b.json", "baseline", "."]).unwrap());
        assert_eq!(a.report.output, Some(PathBuf::from("b.json")));
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
