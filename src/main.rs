//! The `holdfast` binary: parses the command line and hands over to `tui/` (no command, on a
//! terminal) or `cli/` (everything else). No logic here.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use holdfast::{cli, config, tui};

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let ui = args.command.is_none()
        && !args.sync
        && (args.exit_after_first_frame || std::io::stdout().is_terminal());
    if !ui {
        return cli::run(args);
    }
    let config = match config::Config::load(&config::config_path(args.config.as_deref())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("holdfast: {e}");
            return ExitCode::from(cli::exit::USAGE);
        }
    };
    for w in &config.warnings {
        eprintln!("holdfast: warning: {w}");
    }
    let launch = tui::Launch {
        data_dir: config::data_dir(args.data_dir.as_deref()),
        config,
        exit_after_first_frame: args.exit_after_first_frame,
    };
    match tui::run(launch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("holdfast: {e:#}");
            ExitCode::from(cli::exit::ERROR)
        }
    }
}
