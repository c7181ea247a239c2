//! Headless commands (DESIGN.md §6): argument types, dispatch and exit codes.
//!
//! Owns: what the user typed, what they see (aligned tables, or one JSON document with `--json`)
//! and the exit code. Never writes SQL (that is `store/`) nor parses vCard/iCalendar text itself
//! (that is `format/`).

mod args;
mod import;
mod items;
mod list;
mod maintenance;
mod photos;
mod sync;
mod table;

use std::process::ExitCode;

pub use args::{Args, Command, ListKind, NewCommand, PhotosCommand};

use crate::config::{self, Config};
use crate::store::{Store, StoreError};

/// Exit codes of the CLI contract.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const ITEM_ERRORS: u8 = 3;
    pub const GUARD: u8 = 4;
    pub const UNREACHABLE: u8 = 5;
}

/// An error with the exit code it should end the process with.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error: anyhow::Error = e.into();
        let code = match error.downcast_ref::<StoreError>() {
            Some(
                StoreError::NotFound(_)
                | StoreError::Ambiguous { .. }
                | StoreError::Invalid(_)
                | StoreError::NewerSchema { .. },
            ) => exit::USAGE,
            _ if error.downcast_ref::<config::ConfigError>().is_some() => exit::USAGE,
            _ => exit::ERROR,
        };
        Failure { code, error }
    }
}

/// Writes command output to stdout. A closed pipe (`holdfast list … | head`) ends the process
/// quietly instead of panicking.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let r = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    if let Err(e) = r {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("holdfast: cannot write output: {e}");
        std::process::exit(i32::from(exit::ERROR));
    }
}

pub fn usage(msg: impl Into<String>) -> Failure {
    Failure {
        code: exit::USAGE,
        error: anyhow::anyhow!(msg.into()),
    }
}

pub type Outcome = Result<u8, Failure>;

/// What every command needs: the opened store and the config.
pub struct Context {
    pub store: Store,
    pub config: Config,
    pub json: bool,
}

fn context(args: &Args) -> Result<Context, Failure> {
    let config = Config::load(&config::config_path(args.config.as_deref()))?;
    for w in &config.warnings {
        eprintln!("holdfast: warning: {w}");
    }
    let data = config::data_dir(args.data_dir.as_deref());
    let store = Store::open(&data)?;
    Ok(Context {
        store,
        config,
        json: args.json,
    })
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(args: Args) -> ExitCode {
    let code = match dispatch(args) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("holdfast: {:#}", f.error);
            f.code
        }
    };
    ExitCode::from(code)
}

fn dispatch(args: Args) -> Outcome {
    if args.sync {
        let ctx = context(&args)?;
        return sync::run(
            &ctx,
            args.account.as_deref(),
            args.accept_remote_deletions,
            false,
        );
    }
    let mut ctx = context(&args)?;
    let Some(cmd) = args.command else {
        return overview(&ctx);
    };
    match cmd {
        Command::Import { files, collection } => import::import(&mut ctx, &files, collection),
        Command::Export {
            contacts,
            vcard_version,
            calendar,
            todos,
            all,
        } => import::export(
            &ctx,
            contacts.as_deref(),
            vcard_version.as_deref(),
            calendar.as_deref(),
            todos.as_deref(),
            all.as_deref(),
        ),
        Command::List(l) => list::list(&mut ctx, &l),
        Command::New(n) => items::new(&mut ctx, n),
        Command::Edit { uid, collection } => items::edit(&mut ctx, &uid, collection.as_deref()),
        Command::Done {
            uid,
            collection,
            undo,
        } => items::done(&mut ctx, &uid, collection.as_deref(), undo),
        Command::Delete { uid, collection } => items::delete(&mut ctx, &uid, collection.as_deref()),
        Command::Undelete { uid, collection } => {
            items::undelete(&mut ctx, &uid, collection.as_deref())
        }
        Command::History { uid, collection } => items::history(&ctx, &uid, collection.as_deref()),
        Command::Revert {
            uid,
            rev,
            collection,
        } => items::revert(&mut ctx, &uid, rev, collection.as_deref()),
        Command::Backup => maintenance::backup(&ctx),
        Command::RestoreBackup { file } => maintenance::restore(&mut ctx, file.as_deref()),
        Command::Doctor { deep, repair } => maintenance::doctor(&mut ctx, deep, repair),
        Command::RestoreRemote { account } => sync::run(&ctx, account.as_deref(), false, true),
        Command::Photos(p) => photos::run(&mut ctx, p),
    }
}

/// `holdfast` with no command: until the terminal UI lands, a summary of the local database.
fn overview(ctx: &Context) -> Outcome {
    println!("Holdfast — local database {}", ctx.store.path().display());
    let mut rows = Vec::new();
    for (name, n) in ctx.store.collections()? {
        rows.push(vec![name, n.to_string()]);
    }
    table::print(&["COLLECTION", "ITEMS"], &rows);
    println!();
    println!("The full-screen terminal UI is not in this build yet. Meanwhile:");
    println!("  holdfast import FILE.vcf FILE.ics     bring in contacts, events and to-dos");
    println!("  holdfast list contacts|events|todos   see them (--query, --from/--to, --json)");
    println!("  holdfast new contact|event|todo …     add one");
    println!("  holdfast --help                       every command");
    Ok(exit::OK)
}
