//! Command-line interface: what the user can type, parsed by clap.
//!
//! This module only describes arguments; it does not decide what they mean
//! for a scan (that is `scan::ScanPlan`) and it does no I/O.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::{Confidence, Severity};

const AFTER_HELP: &str = "\
Exit status:
  0  no finding at or above --fail-on
  1  at least one finding at or above --fail-on
  2  usage or runtime error (bad flag, unreadable config, invalid rule, no database,
     --yanked and the crates.io index unreachable)

Examples:
  tripline scan .                              secrets and dependencies, text report
  tripline scan . --format sarif -o out.sarif  for GitHub code scanning
  tripline secrets --staged                    pre-commit: what is staged only
  tripline deps . --db ./advisory-db --offline audit every Cargo.lock";

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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything tripline checks: secrets and dependencies.
    Scan(ScanArgs),
    /// Secrets only.
    Secrets(ScanArgs),
    /// Dependencies only: every Cargo.lock under PATH against RustSec.
    Deps(ScanArgs),
    /// Record the findings present now, for `--baseline`.
    Baseline(ScanArgs),
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

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in force (built-in plus --rules, less disabled).
    List,
    /// Compile every rule and check its examples; PATH adds a rule file or folder.
    Test {
        /// Rule file or folder of rule files to test (besides the built-ins).
        path: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Clone or update the advisory database with `git`.
    Fetch,
    /// Print the database's path, commit, date and advisory count.
    Info,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
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

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,

    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(short = 'o', long, value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,

    /// Configuration file [default: tripline.toml at the scan root, when present].
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Lowest severity that makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Low, global = true)]
    pub fail_on: FailOn,

    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N", global = true)]
    pub threads: Option<usize>,

    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024, global = true)]
    pub max_file_size: u64,

    /// Print secret values unmasked in every format. Off by default, for a reason.
    #[arg(long, global = true)]
    pub show_secrets: bool,

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

#[derive(Debug, Args, Clone, Default)]
pub struct ScanArgs {
    /// The tree to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Follow symbolic links (loops are detected and skipped).
    #[arg(long)]
    pub follow: bool,

    /// SARIF only: writes automationDetails.id = "NAME/" so uploads of
    /// different jobs do not replace each other.
    #[arg(long, value_name = "NAME")]
    pub sarif_category: Option<String>,

    // --- secrets ---
    /// Add a rule file or folder of rule files (a rule with a built-in id replaces it).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Disable a rule by id (repeatable).
    #[arg(long = "disable-rule", value_name = "ID")]
    pub disable_rule: Vec<String>,

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

    /// Report only secrets found with at least this confidence
    /// [default: low, or `[scan] min_confidence`].
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_confidence: Option<Confidence>,

    /// Report only findings not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    // --- dependencies ---
    /// Advisory database: a directory or git checkout in RustSec's layout.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Never touch the network (no database fetch, no yanked check).
    #[arg(long)]
    pub offline: bool,

    /// Warn when the database is older than this many days.
    #[arg(long, value_name = "DAYS")]
    pub max_db_age: Option<u64>,

    /// Only advisories that apply to this target OS (e.g. linux, windows, macos).
    #[arg(long, value_name = "OS")]
    pub target_os: Option<String>,

    /// Only advisories that apply to this target architecture (e.g. x86_64, aarch64).
    #[arg(long, value_name = "ARCH")]
    pub target_arch: Option<String>,

    /// Fail on informational kinds too: unmaintained, unsound, notice, yanked.
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub deny: Vec<String>,

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
