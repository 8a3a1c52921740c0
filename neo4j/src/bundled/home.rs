//! A server's home directory as neotrav keeps it: the lock that lets one start run at a time,
//! the state file naming the running JVM, and the console log's tail for error messages.

use super::BundleError;
use super::maven::last_lines;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::server::LAUNCHER;

pub(crate) const STATE_FILE: &str = "neotrav-server.json";
pub(crate) const LOCK_FILE: &str = "neotrav.lock";
/// The pid file's contents: what a running server is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerState {
    /// The JVM's process id.
    pub pid: u32,
    /// The Bolt port.
    pub bolt_port: u16,
    /// The Bolt URI.
    pub bolt_uri: String,
    /// The heap it runs with, as given.
    pub heap: String,
    /// The page cache it runs with, as given.
    pub pagecache: String,
    /// Seconds since the Unix epoch when it was started.
    pub started_at: u64,
}
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, BundleError> {
    std::path::absolute(path).map_err(BundleError::io(format!("resolving {}", path.display())))
}
/// Holds the exclusive lock of a home directory; released when dropped.
pub(crate) struct HomeLock(#[allow(dead_code)] File);
pub(crate) fn lock_home(home: &Path) -> Result<HomeLock, BundleError> {
    let path = home.join(LOCK_FILE);
    let file =
        File::create(&path).map_err(BundleError::io(format!("creating {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(HomeLock(file)),
        Err(fs::TryLockError::WouldBlock) => Err(BundleError::Busy {
            home: home.to_path_buf(),
        }),
        Err(fs::TryLockError::Error(e)) => Err(BundleError::Io {
            context: format!("locking {}", path.display()),
            source: e,
        }),
    }
}
pub(crate) fn read_state(home: &Path) -> Result<Option<ServerState>, BundleError> {
    let path = home.join(STATE_FILE);
    match fs::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(BundleError::Io {
            context: format!("reading {}", path.display()),
            source: e,
        }),
    }
}
pub(crate) fn write_state(home: &Path, state: &ServerState) -> Result<(), BundleError> {
    let path = home.join(STATE_FILE);
    let tmp = home.join(format!("{STATE_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(state).expect("ServerState serialises");
    fs::write(&tmp, json)
        .and_then(|()| fs::rename(&tmp, &path))
        .map_err(BundleError::io(format!("writing {}", path.display())))
}
pub(crate) fn remove_state(home: &Path) -> Result<(), BundleError> {
    let path = home.join(STATE_FILE);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(BundleError::Io {
            context: format!("removing {}", path.display()),
            source: e,
        }),
        _ => Ok(()),
    }
}
/// Whether `pid` is a live (not zombie) bundled-Neo4j JVM running from `home`: a pid file can
/// outlive its server, and the pid can be reused by an unrelated process.
pub(crate) fn is_our_server(pid: u32, home: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(cmdline) = fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let zombie = fs::read_to_string(proc_dir.join("stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true);
    if zombie {
        return false;
    }
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let home_arg = format!("--home-dir={}", home.display());
    args.contains(&LAUNCHER.as_bytes()) && args.contains(&home_arg.as_bytes())
}
pub(crate) fn wait_until_gone(pid: u32, home: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while is_our_server(pid, home) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}
/// The last lines of neo4j.log, and of what the JVM printed since `console_start`.
pub(crate) fn log_tail(home: &Path, console_start: u64) -> String {
    let logs = home.join("logs");
    let mut out = String::new();
    if let Ok(text) = fs::read_to_string(logs.join("neo4j.log"))
        && !text.trim().is_empty()
    {
        out.push_str(&format!("--- {}\n", logs.join("neo4j.log").display()));
        out.push_str(&last_lines(&text, 25));
        out.push('\n');
    }
    let console = logs.join("console.log");
    if let Ok(mut file) = File::open(&console) {
        let mut text = String::new();
        if file.seek(SeekFrom::Start(console_start)).is_ok()
            && file.read_to_string(&mut text).is_ok()
            && !text.trim().is_empty()
        {
            out.push_str(&format!("--- {}\n", console.display()));
            out.push_str(&last_lines(&text, 15));
            out.push('\n');
        }
    }
    if out.is_empty() {
        out = format!("(nothing was logged under {})", logs.display());
    }
    out
}
