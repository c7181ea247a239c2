//! Configuration and paths (DESIGN.md §7).
//!
//! Defaults live in `assets/config.toml` (embedded); the user's file overrides only what it
//! names, and unknown keys are errors that name the file, the key and the reason. Raw values are
//! parsed into `Option`s first, then resolved and validated once. Secrets are never printed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The documented defaults, embedded.
pub const DEFAULT_CONFIG: &str = include_str!("../assets/config.toml");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    account: Option<Vec<RawAccount>>,
    sync: Option<RawSync>,
    keys: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    name: Option<String>,
    url: Option<String>,
    username: Option<String>,
    password_command: Option<Vec<String>>,
    password_env: Option<String>,
    password: Option<String>,
    photos_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    interval_secs: Option<u64>,
    guard_fraction: Option<f64>,
    guard_min: Option<u64>,
    keep_backups: Option<usize>,
    timeout_secs: Option<u64>,
    discover_secs: Option<u64>,
}

/// Where a password comes from. The value itself is only read when sync needs it.
#[derive(Clone, PartialEq)]
pub enum PasswordSource {
    Command(Vec<String>),
    Env(String),
    Inline(String),
    None,
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::Command(c) => write!(f, "Command({:?})", c.first()),
            PasswordSource::Env(v) => write!(f, "Env({v})"),
            PasswordSource::Inline(_) => write!(f, "Inline(<hidden>)"),
            PasswordSource::None => write!(f, "None"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub url: String,
    pub username: Option<String>,
    pub password: PasswordSource,
    pub photos_url: Option<String>,
}

impl Account {
    /// The password, from its command, variable or the file. The value is never printed:
    /// errors name the account and the source only.
    pub fn password_value(&self) -> Result<Option<String>, ConfigError> {
        let err = |reason: String| ConfigError {
            path: PathBuf::from(format!("account {:?}", self.name)),
            reason,
        };
        match &self.password {
            PasswordSource::None => Ok(None),
            PasswordSource::Inline(p) => Ok(Some(p.clone())),
            PasswordSource::Env(var) => std::env::var(var)
                .map(Some)
                .map_err(|_| err(format!("password_env names {var}, which is not set"))),
            PasswordSource::Command(cmd) => {
                let program = cmd.first().map(String::as_str).unwrap_or_default();
                let out = std::process::Command::new(program)
                    .args(&cmd[1..])
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(|e| err(format!("password_command {program:?} could not run: {e}")))?;
                if !out.status.success() {
                    return Err(err(format!(
                        "password_command {program:?} failed ({})",
                        out.status
                    )));
                }
                let text = String::from_utf8_lossy(&out.stdout);
                // `pass` prints the password on the first line and notes after it.
                let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
                Ok(Some(first.to_string()))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncSettings {
    pub interval_secs: u64,
    pub guard_fraction: f64,
    pub guard_min: u64,
    pub keep_backups: usize,
    /// Seconds before a silent server counts as unreachable.
    pub timeout_secs: u64,
    /// Seconds between looks for collections added on the server (0: at every sync).
    pub discover_secs: u64,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub accounts: Vec<Account>,
    pub sync: SyncSettings,
    /// Key binding overrides (`[keys]`: action = ["key", …]); checked by the UI's keymap.
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
    /// Things the user should know (a readable password file …).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub reason: String,
}

fn parse_raw(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        reason: e.to_string().trim_end().replace('\n', "\n  "),
    })
}

impl Config {
    /// The built-in defaults.
    pub fn defaults(path: &Path) -> Result<Config, ConfigError> {
        Self::resolve(
            parse_raw(DEFAULT_CONFIG, Path::new("assets/config.toml"))?,
            RawConfig::default(),
            path,
        )
    }

    /// Loads the file at `path` over the defaults; a missing file means defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let defaults = parse_raw(DEFAULT_CONFIG, Path::new("assets/config.toml"))?;
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    reason: format!("cannot read: {e}"),
                })
            }
        };
        let user = parse_raw(&text, path)?;
        let mut cfg = Self::resolve(defaults, user, path)?;
        let inline = cfg
            .accounts
            .iter()
            .any(|a| matches!(a.password, PasswordSource::Inline(_)));
        if inline {
            if let Ok(meta) = std::fs::metadata(path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    cfg.warnings.push(format!(
                        "{}: holds a password and is readable by others; run `chmod 600 {}` \
                         or use password_command / password_env",
                        path.display(),
                        path.display()
                    ));
                }
            }
        }
        Ok(cfg)
    }

    fn resolve(defaults: RawConfig, user: RawConfig, path: &Path) -> Result<Config, ConfigError> {
        let err = |key: &str, reason: &str| ConfigError {
            path: path.to_path_buf(),
            reason: format!("{key}: {reason}"),
        };
        let d = defaults.sync.unwrap_or_default();
        let u = user.sync.unwrap_or_default();
        let sync = SyncSettings {
            interval_secs: u.interval_secs.or(d.interval_secs).unwrap_or(300),
            guard_fraction: u.guard_fraction.or(d.guard_fraction).unwrap_or(0.2),
            guard_min: u.guard_min.or(d.guard_min).unwrap_or(5),
            keep_backups: u.keep_backups.or(d.keep_backups).unwrap_or(10),
            timeout_secs: u.timeout_secs.or(d.timeout_secs).unwrap_or(30),
            discover_secs: u.discover_secs.or(d.discover_secs).unwrap_or(3600),
        };
        if sync.timeout_secs == 0 {
            return Err(err("sync.timeout_secs", "must be at least 1"));
        }
        if !(0.0..=1.0).contains(&sync.guard_fraction) {
            return Err(err("sync.guard_fraction", "must be between 0 and 1"));
        }
        if sync.keep_backups == 0 {
            return Err(err("sync.keep_backups", "must be at least 1"));
        }
        let mut accounts = Vec::new();
        for (i, a) in user.account.unwrap_or_default().into_iter().enumerate() {
            let key = |k: &str| format!("account[{i}].{k}");
            let name = a
                .name
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| err(&key("name"), "missing"))?;
            let url = a
                .url
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                .ok_or_else(|| err(&key("url"), "missing, or not an http(s) URL"))?;
            let sources = [
                a.password_command.is_some(),
                a.password_env.is_some(),
                a.password.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if sources > 1 {
                return Err(err(
                    &key("password"),
                    "give only one of password_command, password_env, password",
                ));
            }
            let password = match (a.password_command, a.password_env, a.password) {
                (Some(c), _, _) if c.is_empty() => {
                    return Err(err(&key("password_command"), "must name a program"))
                }
                (Some(c), _, _) => PasswordSource::Command(c),
                (_, Some(v), _) => PasswordSource::Env(v),
                (_, _, Some(p)) => PasswordSource::Inline(p),
                _ => PasswordSource::None,
            };
            if accounts.iter().any(|x: &Account| x.name == name) {
                return Err(err(&key("name"), &format!("{name:?} is used twice")));
            }
            accounts.push(Account {
                name,
                url,
                username: a.username,
                password,
                photos_url: a.photos_url,
            });
        }
        Ok(Config {
            path: path.to_path_buf(),
            accounts,
            sync,
            keys: user.keys.unwrap_or_default(),
            warnings: Vec::new(),
        })
    }
}

/// The user's editor: `$VISUAL`, else `$EDITOR`, else `vi`, split into program and arguments.
pub fn editor_command() -> Vec<String> {
    let cmd = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    cmd.split_whitespace().map(str::to_string).collect()
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("org", "holdfast", "holdfast")
}

/// The data directory: the flag or HOLDFAST_DATA_DIR (clap reads both), else the platform's.
pub fn data_dir(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(p) => p.to_path_buf(),
        None => project_dirs()
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".holdfast")),
    }
}

/// The config file: the flag or HOLDFAST_CONFIG, else `<config_dir>/holdfast/config.toml`.
pub fn config_path(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(p) => p.to_path_buf(),
        None => project_dirs()
            .map(|d| d.config_dir().join("config.toml"))
            .unwrap_or_else(|| PathBuf::from("holdfast.toml")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_are_the_documented_ones() {
        let c = Config::defaults(Path::new("x")).expect("defaults parse");
        assert_eq!(
            c.sync,
            SyncSettings {
                interval_secs: 300,
                guard_fraction: 0.2,
                guard_min: 5,
                keep_backups: 10,
                timeout_secs: 30,
                discover_secs: 3600,
            }
        );
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[sync]\nguard_fractoin = 0.5\n").expect("write");
        let e = Config::load(&p).expect_err("must fail").to_string();
        assert!(e.contains("c.toml") && e.contains("guard_fractoin"), "{e}");
    }

    #[test]
    fn password_is_never_in_debug_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[[account]]\nname='a'\nurl='http://127.0.0.1:1/'\npassword='hunter2secret'\n",
        )
        .expect("write");
        let c = Config::load(&p).expect("loads");
        assert!(!format!("{c:?}").contains("hunter2secret"));
    }
}
