//! The `holdfast` binary: parses the command line and hands over to `cli/`. No logic here.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    holdfast::cli::run(holdfast::cli::Args::parse())
}
