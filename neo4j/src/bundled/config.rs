//! How to run one bundled server: [`ServerConfig`] and [`MemorySize`], and what they become on
//! disk (`conf/neo4j.conf`) and on the JVM's command line.

use super::maven::Artifacts;
use super::{BundleError, DEFAULT_BOLT_PORT};
use crate::connect::Password;
use std::fmt;
use std::fs::{self};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// A memory size as Neo4j and the JVM write it: a number with an optional `k`, `m` or `g`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemorySize {
    pub(crate) bytes: u64,
}
impl MemorySize {
    /// `n` mebibytes.
    pub const fn mib(n: u64) -> MemorySize {
        MemorySize { bytes: n << 20 }
    }

    /// `n` gibibytes.
    pub const fn gib(n: u64) -> MemorySize {
        MemorySize { bytes: n << 30 }
    }

    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.bytes
    }

    /// The form the JVM's `-Xmx` and neo4j.conf accept: whole mebibytes, e.g. `4096m`.
    pub(crate) fn conf_value(self) -> String {
        format!("{}m", self.bytes.div_ceil(1 << 20))
    }
}
impl FromStr for MemorySize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str =
            "expected a whole number with an optional unit k, m or g, as in 512m or 4g";
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let shift = match unit.to_ascii_lowercase().as_str() {
            "" => 0,
            "k" => 10,
            "m" => 20,
            "g" => 30,
            _ => return Err(EXPECTED.to_string()),
        };
        let n: u64 = digits.parse().map_err(|_| EXPECTED.to_string())?;
        let bytes = n
            .checked_mul(1 << shift)
            .ok_or("too large to be a memory size")?;
        Ok(MemorySize { bytes })
    }
}
impl fmt::Display for MemorySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.bytes;
        if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
            write!(f, "{}g", b >> 30)
        } else if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
            write!(f, "{}m", b >> 20)
        } else {
            write!(f, "{b}")
        }
    }
}
/// How to run one bundled server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The server's home directory: configuration, data, logs and pid file.
    pub home: PathBuf,
    /// The Bolt port on 127.0.0.1.
    pub bolt_port: u16,
    /// JVM heap, initial and maximum alike.
    pub heap: MemorySize,
    /// Neo4j's page cache, which holds the store files.
    pub pagecache: MemorySize,
    /// The password of user `neo4j`. It takes effect when the home's database is first created;
    /// later starts check that it still matches.
    pub password: Password,
    /// How long to wait for Bolt to answer a query.
    pub startup_timeout: Duration,
    /// Neo4j ends any transaction running longer than this (`db.transaction.timeout`); none
    /// by default. The benchmark bounds pathological Cypher with it.
    pub transaction_timeout: Option<Duration>,
    /// Halt the JVM as soon as this process exits (the test kit's choice: no JVM outlives a test
    /// run). `neotrav neo4j start` leaves it off: that server keeps running after the CLI returns.
    pub tie_to_this_process: bool,
}
impl ServerConfig {
    /// A configuration with neotrav's defaults: port 7687, 4 GiB heap, 4 GiB page cache, the
    /// password from `NEO4J_PASSWORD`, two minutes to start.
    pub fn new(home: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            home: home.into(),
            bolt_port: DEFAULT_BOLT_PORT,
            heap: MemorySize::gib(4),
            pagecache: MemorySize::gib(4),
            password: Password::from_env(),
            startup_timeout: Duration::from_secs(120),
            transaction_timeout: None,
            tie_to_this_process: false,
        }
    }

    /// The Bolt URI the server answers on.
    pub fn bolt_uri(&self) -> String {
        format!("bolt://127.0.0.1:{}", self.bolt_port)
    }

    pub(crate) fn validate(&self) -> Result<(), BundleError> {
        if self.bolt_port == 0 {
            return Err(BundleError::InvalidConfig {
                what: "Bolt port",
                value: "0".into(),
                why: "choose a port between 1 and 65535".into(),
            });
        }
        if self.heap < MemorySize::mib(256) {
            return Err(BundleError::InvalidConfig {
                what: "heap size",
                value: self.heap.to_string(),
                why: "Neo4j with APOC and GDS needs at least 256m".into(),
            });
        }
        if self.pagecache < MemorySize::mib(8) {
            return Err(BundleError::InvalidConfig {
                what: "page cache size",
                value: self.pagecache.to_string(),
                why: "use at least 8m".into(),
            });
        }
        if self.password.expose().chars().count() < 8 {
            return Err(BundleError::InvalidConfig {
                what: "password",
                value: "(hidden)".into(),
                why: "Neo4j requires at least 8 characters; set NEO4J_PASSWORD to a longer one"
                    .into(),
            });
        }
        Ok(())
    }
}
impl PartialOrd for MemorySize {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MemorySize {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
pub(crate) fn jvm_options(config: &ServerConfig) -> Vec<String> {
    let heap = config.heap.conf_value();
    let mut options = vec![
        format!("-Xms{heap}"),
        format!("-Xmx{heap}"),
        // The options of Neo4j's own launcher that matter off a terminal.
        "-XX:+UseG1GC".into(),
        "-XX:-OmitStackTraceInFastThrow".into(),
        "-XX:+UnlockExperimentalVMOptions".into(),
        "-XX:+TrustFinalNonStaticFields".into(),
        "-XX:+DisableExplicitGC".into(),
        "-Djdk.nio.maxCachedBufferSize=1024".into(),
        "-Dio.netty.tryReflectionSetAccessible=true".into(),
        "-Dlog4j2.disable.jmx=true".into(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED".into(),
        "--add-opens=java.base/java.io=ALL-UNNAMED".into(),
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED".into(),
        "--enable-native-access=ALL-UNNAMED".into(),
    ];
    if config.tie_to_this_process {
        options.push(format!("-Dneotrav.parent.pid={}", std::process::id()));
    }
    options
}
pub(crate) fn write_conf(
    home: &Path,
    artifacts: &Artifacts,
    config: &ServerConfig,
) -> Result<(), BundleError> {
    let port = config.bolt_port;
    let conf = format!(
        "# Generated by neotrav at every start of this server; edits here are overwritten.\n\
         server.directories.plugins={plugins}\n\
         server.default_listen_address=127.0.0.1\n\
         server.default_advertised_address=127.0.0.1\n\
         server.bolt.enabled=true\n\
         server.bolt.listen_address=127.0.0.1:{port}\n\
         server.bolt.advertised_address=127.0.0.1:{port}\n\
         server.http.enabled=false\n\
         server.https.enabled=false\n\
         server.memory.heap.initial_size={heap}\n\
         server.memory.heap.max_size={heap}\n\
         server.memory.pagecache.size={pagecache}\n\
         dbms.security.auth_enabled=true\n\
         dbms.security.procedures.unrestricted=apoc.*,gds.*\n\
         dbms.security.procedures.allowlist=apoc.*,gds.*\n\
         dbms.usage_report.enabled=false\n\
         db.tx_log.rotation.retention_policy=1 files\n\
         db.transaction.timeout={timeout}ms\n",
        plugins = artifacts.plugins.display(),
        heap = config.heap.conf_value(),
        pagecache = config.pagecache.conf_value(),
        // 0 is Neo4j's "no timeout".
        timeout = config
            .transaction_timeout
            .map_or(0, |t| t.as_millis().max(1)),
    );
    let path = home.join("conf").join("neo4j.conf");
    fs::write(&path, conf).map_err(BundleError::io(format!("writing {}", path.display())))
}
