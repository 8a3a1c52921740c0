//! Running one bundled server: start (and wait for Bolt), stop, status and versions.

use std::fs::{self, OpenOptions};
use std::io::{self};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use neo4rs::Graph;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;

use crate::connect::Connection;
pub use crate::connect::Password;

use super::maven::{self, Artifacts, last_lines};
use super::{BundleError, DEFAULT_USER};

use crate::bundled::config::{ServerConfig, jvm_options, write_conf};
use crate::bundled::home::{
    STATE_FILE, ServerState, absolute, is_our_server, lock_home, log_tail, read_state,
    remove_state, wait_until_gone, write_state,
};

/// The Java class every bundled server runs; also how a process is recognised as ours.
pub(super) const LAUNCHER: &str = "dev.neotrav.neo4j.Launcher";

/// A server that [`start`] started and that answered on Bolt.
#[derive(Debug)]
pub struct RunningServer {
    /// What was written to the pid file.
    pub state: ServerState,
    /// The home directory.
    pub home: PathBuf,
    /// The Java version it runs on.
    pub java_version: String,
    /// From spawning the JVM to the first answered query.
    pub startup: Duration,
    /// The JVM, when the caller wants to keep it (it is reaped if dropped after exit).
    pub child: Child,
}

/// Versions reported by a running server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Versions {
    /// Neo4j's version, e.g. `5.26.19`.
    pub neo4j: String,
    /// Neo4j's edition, e.g. `community`.
    pub edition: String,
    /// `apoc.version()`.
    pub apoc: String,
    /// `gds.version()`.
    pub gds: String,
}

/// What [`status`] found.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The home directory asked about.
    pub home: PathBuf,
    /// The pid file's contents if a server from this home is alive.
    pub running: Option<ServerState>,
    /// The versions it reports, when it could be asked.
    pub versions: Option<Versions>,
    /// Why the versions could not be read, when they could not.
    pub versions_error: Option<String>,
}

/// What [`stop`] did.
#[derive(Debug, Clone)]
pub struct StopReport {
    /// The server that was stopped, or `None` when none was running (a stale pid file is
    /// removed).
    pub stopped: Option<ServerState>,
    /// How long it took to exit.
    pub elapsed: Duration,
    /// Whether SIGKILL was needed.
    pub killed: bool,
}

/// Connects a driver to a bundled server's Bolt URI, with a long read timeout (loads and wipes
/// in tests can take minutes). The connection is made by the first query.
pub fn connect(uri: &str, user: &str, password: &Password) -> Result<Graph, BundleError> {
    Connection::new(uri, user, password.clone())
        .read_timeout(Duration::from_secs(600))
        .graph()
        .map_err(|e| BundleError::Query {
            uri: crate::connect::redact(uri),
            message: e.to_string(),
        })
}

/// Starts a server and waits until Bolt answers `RETURN 1`.
///
/// Fails, naming the fix, when a server already runs from this home, another start holds its
/// lock, the port is taken, Java is missing, the JVM exits, Bolt does not answer in time (the
/// server is stopped and the last lines of its log are shown) or the password is refused.
pub async fn start(
    artifacts: &Artifacts,
    config: &ServerConfig,
) -> Result<RunningServer, BundleError> {
    config.validate()?;
    let home = absolute(&config.home)?;
    for dir in ["conf", "data", "logs"] {
        let dir = home.join(dir);
        fs::create_dir_all(&dir).map_err(BundleError::io(format!("creating {}", dir.display())))?;
    }
    let _lock = lock_home(&home)?;

    if let Some(state) = read_state(&home)? {
        if is_our_server(state.pid, &home) {
            return Err(BundleError::AlreadyRunning {
                home,
                pid: state.pid,
                uri: state.bolt_uri,
            });
        }
        remove_state(&home)?;
    }
    check_port_free(config.bolt_port)?;
    let java_version = maven::check_java()?;

    write_conf(&home, artifacts, config)?;
    set_initial_password(&home, artifacts, config)?;

    let console = home.join("logs").join("console.log");
    let console_start = fs::metadata(&console).map(|m| m.len()).unwrap_or(0);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&console)
        .map_err(BundleError::io(format!("opening {}", console.display())))?;
    let log_err = log
        .try_clone()
        .map_err(BundleError::io(format!("opening {}", console.display())))?;
    let mut command = Command::new(maven::java_binary());
    command
        .args(jvm_options(config))
        .arg("-cp")
        .arg(artifacts.classpath())
        .arg(LAUNCHER)
        .arg(format!("--home-dir={}", home.display()))
        .arg(format!("--config-dir={}", home.join("conf").display()))
        .env("NEO4J_HOME", &home)
        .env("NEO4J_CONF", home.join("conf"))
        .current_dir(&home)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        // Its own process group: a Ctrl-C meant for the CLI does not reach the server.
        .process_group(0);
    let spawned = Instant::now();
    let mut child = command.spawn().map_err(|e| BundleError::JavaMissing {
        detail: format!("starting {}: {e}", maven::java_binary().display()),
    })?;

    let state = ServerState {
        pid: child.id(),
        bolt_port: config.bolt_port,
        bolt_uri: config.bolt_uri(),
        heap: config.heap.to_string(),
        pagecache: config.pagecache.to_string(),
        started_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    write_state(&home, &state)?;

    match wait_for_bolt(&mut child, config, &home, console_start).await {
        Ok(()) => Ok(RunningServer {
            state,
            home,
            java_version,
            startup: spawned.elapsed(),
            child,
        }),
        Err(e) => {
            // Never leave a half-started server behind.
            terminate(&mut child, Duration::from_secs(30));
            remove_state(&home)?;
            Err(e)
        }
    }
}

async fn wait_for_bolt(
    child: &mut Child,
    config: &ServerConfig,
    home: &Path,
    console_start: u64,
) -> Result<(), BundleError> {
    let uri = config.bolt_uri();
    let deadline = Instant::now() + config.startup_timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.bolt_port));
    let mut graph: Option<Graph> = None;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(BundleError::io("waiting for the Neo4j JVM"))?
        {
            return Err(BundleError::Exited {
                status: status.to_string(),
                tail: log_tail(home, console_start),
            });
        }
        if Instant::now() >= deadline {
            return Err(BundleError::StartTimeout {
                uri,
                secs: config.startup_timeout.as_secs(),
                tail: log_tail(home, console_start),
            });
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            let g = match &graph {
                Some(g) => g,
                None => graph.insert(connect(&uri, DEFAULT_USER, &config.password)?),
            };
            let attempt = tokio::time::timeout(Duration::from_secs(10), async {
                crate::cypher::rows(g, neo4rs::query("RETURN 1 AS one"), true)
                    .await
                    .map(|rows| rows.into_iter().next())
            })
            .await;
            match attempt {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) if is_auth_error(&e) => {
                    return Err(BundleError::WrongPassword {
                        uri,
                        user: DEFAULT_USER.to_string(),
                        home: home.to_path_buf(),
                    });
                }
                // Bolt listens before the databases are up; keep asking.
                Ok(Err(e)) => tracing::debug!("Neo4j not ready yet: {e}"),
                Err(_) => tracing::debug!("Neo4j did not answer within 10 s; asking again"),
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Whether a driver error means the credentials were refused.
pub(crate) fn is_auth_error(e: &neo4rs::Error) -> bool {
    match e {
        neo4rs::Error::AuthenticationError(_) => true,
        neo4rs::Error::Neo4j(e) => e.code().starts_with("Neo.ClientError.Security."),
        other => {
            let text = other.to_string();
            text.contains("Neo.ClientError.Security.Unauthorized")
                || text.contains("authentication failure")
        }
    }
}

/// Stops the server running from `home`: SIGTERM, then waits up to `timeout` for a clean
/// shutdown; with `force`, SIGKILL after that. A stale pid file (its process gone) is removed
/// and reported as nothing stopped.
pub fn stop(home: &Path, timeout: Duration, force: bool) -> Result<StopReport, BundleError> {
    let home = absolute(home)?;
    if !home.join(STATE_FILE).exists() {
        return Err(BundleError::NotRunning { home });
    }
    let _lock = lock_home(&home)?;
    let started = Instant::now();
    let Some(state) = read_state(&home)? else {
        return Err(BundleError::NotRunning { home });
    };
    if !is_our_server(state.pid, &home) {
        remove_state(&home)?;
        return Ok(StopReport {
            stopped: None,
            elapsed: started.elapsed(),
            killed: false,
        });
    }
    let pid = Pid::from_raw(state.pid as i32);
    kill(pid, Signal::SIGTERM).map_err(|e| BundleError::Io {
        context: format!("sending SIGTERM to Neo4j (pid {})", state.pid),
        source: io::Error::from(e),
    })?;
    let mut killed = false;
    if !wait_until_gone(state.pid, &home, timeout) {
        if !force {
            return Err(BundleError::StopTimeout {
                pid: state.pid,
                secs: timeout.as_secs(),
                home,
            });
        }
        let _ = kill(pid, Signal::SIGKILL);
        killed = true;
        wait_until_gone(state.pid, &home, Duration::from_secs(10));
    }
    remove_state(&home)?;
    Ok(StopReport {
        stopped: Some(state),
        elapsed: started.elapsed(),
        killed,
    })
}

/// Says whether a server runs from `home` and, if it does and the password is right, which
/// versions of Neo4j, APOC and GDS it has.
pub async fn status(home: &Path, password: &Password) -> Result<Status, BundleError> {
    let home = absolute(home)?;
    let running = read_state(&home)?.filter(|s| is_our_server(s.pid, &home));
    let (versions, versions_error) = match &running {
        None => (None, None),
        Some(state) => match versions(&state.bolt_uri, password, &home).await {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    Ok(Status {
        home,
        running,
        versions,
        versions_error,
    })
}

async fn versions(uri: &str, password: &Password, home: &Path) -> Result<Versions, BundleError> {
    let graph = connect(uri, DEFAULT_USER, password)?;
    let fail = |e: neo4rs::Error| {
        if is_auth_error(&e) {
            BundleError::WrongPassword {
                uri: uri.to_string(),
                user: DEFAULT_USER.to_string(),
                home: home.to_path_buf(),
            }
        } else {
            BundleError::Query {
                uri: uri.to_string(),
                message: e.to_string(),
            }
        }
    };
    let query = neo4rs::query(
        "CALL dbms.components() YIELD name, versions, edition \
         WHERE name = 'Neo4j Kernel' \
         RETURN versions[0] AS neo4j, edition, apoc.version() AS apoc, gds.version() AS gds",
    );
    let work = async {
        crate::cypher::rows(&graph, query, true)
            .await
            .map(|rows| rows.into_iter().next())
    };
    let row = tokio::time::timeout(Duration::from_secs(20), work)
        .await
        .map_err(|_| BundleError::Query {
            uri: uri.to_string(),
            message: "no answer within 20 s".into(),
        })?
        .map_err(fail)?
        .ok_or_else(|| BundleError::Query {
            uri: uri.to_string(),
            message: "dbms.components() returned no Neo4j Kernel row".into(),
        })?;
    let get = |key: &str| {
        row.get::<String>(key).map_err(|e| BundleError::Query {
            uri: uri.to_string(),
            message: format!("reading `{key}`: {e}"),
        })
    };
    Ok(Versions {
        neo4j: get("neo4j")?,
        edition: get("edition")?,
        apoc: get("apoc")?,
        gds: get("gds")?,
    })
}

/// Fixes the password of user `neo4j` before the first start; Neo4j ignores it afterwards.
fn set_initial_password(
    home: &Path,
    artifacts: &Artifacts,
    config: &ServerConfig,
) -> Result<(), BundleError> {
    let created = home.join("data").join("databases").join("system").exists()
        || home.join("data").join("dbms").join("auth.ini").exists();
    if created {
        return Ok(());
    }
    // neo4j-admin takes the password as an argument; it is visible to local `ps` for the
    // second this runs, and never logged.
    let output = Command::new(maven::java_binary())
        .arg("-cp")
        .arg(artifacts.classpath())
        .arg("org.neo4j.cli.AdminTool")
        .args(["dbms", "set-initial-password", config.password.expose()])
        .env("NEO4J_HOME", home)
        .env("NEO4J_CONF", home.join("conf"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BundleError::JavaMissing {
            detail: format!("running neo4j-admin: {e}"),
        })?;
    if output.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stderr).replace(config.password.expose(), "***");
    Err(BundleError::Io {
        context: format!("setting the initial password in {}", home.display()),
        source: io::Error::other(last_lines(&text, 10)),
    })
}

fn check_port_free(port: u16) -> Result<(), BundleError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .map(drop)
        .map_err(|e| BundleError::PortTaken {
            port,
            detail: e.to_string(),
        })
}

/// Stops a child this process started: SIGTERM, then SIGKILL after `grace`; reaps it.
fn terminate(child: &mut Child, grace: Duration) {
    let pid = Pid::from_raw(child.id() as i32);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled::home::{is_our_server, write_state};
    use crate::bundled::{MemorySize, ServerConfig, ServerState};

    #[test]
    fn memory_sizes_parse_and_print() {
        assert_eq!("4g".parse::<MemorySize>().unwrap(), MemorySize::gib(4));
        assert_eq!("512M".parse::<MemorySize>().unwrap(), MemorySize::mib(512));
        assert_eq!("2048k".parse::<MemorySize>().unwrap(), MemorySize::mib(2));
        assert_eq!("1048576".parse::<MemorySize>().unwrap(), MemorySize::mib(1));
        assert_eq!(MemorySize::gib(4).to_string(), "4g");
        assert_eq!(MemorySize::mib(1536).to_string(), "1536m");
        assert_eq!(MemorySize::gib(4).conf_value(), "4096m");
        for bad in ["", "g", "4x", "-1g", "1.5g", "99999999999999999999g"] {
            assert!(
                bad.parse::<MemorySize>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn passwords_do_not_debug_print() {
        let p = Password::new("hunter2-secret");
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        let config = ServerConfig {
            password: p,
            ..ServerConfig::new("/tmp/x")
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn configs_that_cannot_work_are_refused() {
        let base = ServerConfig {
            password: Password::new("long-enough"),
            ..ServerConfig::new("/tmp/x")
        };
        assert!(base.validate().is_ok());
        let short = ServerConfig {
            password: Password::new("short"),
            ..base.clone()
        };
        let err = short.validate().unwrap_err().to_string();
        assert!(
            err.contains("8 characters") && !err.contains("short\""),
            "{err}"
        );
        let tiny_heap = ServerConfig {
            heap: MemorySize::mib(64),
            ..base.clone()
        };
        assert!(
            tiny_heap
                .validate()
                .unwrap_err()
                .to_string()
                .contains("heap")
        );
        let port0 = ServerConfig {
            bolt_port: 0,
            ..base
        };
        assert!(port0.validate().is_err());
    }

    #[test]
    fn a_taken_port_is_reported() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = check_port_free(port).unwrap_err();
        assert!(matches!(err, BundleError::PortTaken { port: p, .. } if p == port));
        assert!(err.to_string().contains("--bolt-port"));
    }

    #[test]
    fn a_pid_that_is_not_our_server_is_not_running() {
        // This test process is alive but is not a bundled Neo4j.
        assert!(!is_our_server(std::process::id(), Path::new("/tmp")));
        assert!(!is_our_server(u32::MAX - 1, Path::new("/tmp")));
    }

    #[test]
    fn stopping_a_home_without_server_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = stop(dir.path(), Duration::from_secs(1), false).unwrap_err();
        assert!(matches!(err, BundleError::NotRunning { .. }), "{err}");
    }

    #[test]
    fn a_stale_pid_file_is_cleared_by_stop() {
        let dir = tempfile::tempdir().unwrap();
        let state = ServerState {
            pid: std::process::id(),
            bolt_port: 1,
            bolt_uri: "bolt://127.0.0.1:1".into(),
            heap: "1g".into(),
            pagecache: "1g".into(),
            started_at: 0,
        };
        write_state(dir.path(), &state).unwrap();
        let report = stop(dir.path(), Duration::from_secs(1), false).unwrap();
        assert!(report.stopped.is_none());
        assert!(!dir.path().join(STATE_FILE).exists());
    }
}
