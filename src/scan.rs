//! The pipeline.
pub fn main(_cli: crate::cli::Cli) -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
