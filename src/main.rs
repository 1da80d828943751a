//! The `tripline` binary: parse arguments, run, map the outcome to an exit
//! status. Everything else lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = tripline::cli::parse();
    tripline::scan::main(cli)
}
