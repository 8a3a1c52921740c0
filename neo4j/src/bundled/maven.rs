use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::BundleError;

/// The Maven project under `neo4j/` that resolves Neo4j, APOC and GDS from Maven Central.
#[derive(Debug, Clone)]
pub struct Bundle {
    project: PathBuf,
}

/// What a built [`Bundle`] provides: everything needed to run the server, offline.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// The compiled launcher (`dev.neotrav.neo4j.Launcher`).
    pub classes: PathBuf,
    /// The server classpath: Neo4j, APOC, GDS and their dependencies.
    pub lib: PathBuf,
    /// The APOC and GDS jars Neo4j scans for procedures.
    pub plugins: PathBuf,
}

/// Written after a successful build: a copy of the pom.xml it was built from. A build is reused
/// as long as the pom is unchanged.
const STAMP: &str = "neotrav-build.stamp";

impl Bundle {
    /// Finds the Maven project: `explicit` if given, else the `NEOTRAV_NEO4J_PROJECT` environment
    /// variable, else the `neo4j/maven/` folder of the checkout this crate was built from.
    pub fn locate(explicit: Option<&Path>) -> Result<Bundle, BundleError> {
        let project = match explicit {
            Some(path) => path.to_path_buf(),
            None => match std::env::var_os(super::PROJECT_ENV) {
                Some(path) if !path.is_empty() => PathBuf::from(path),
                _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("maven"),
            },
        };
        let project = project.canonicalize().unwrap_or(project);
        if !project.join("pom.xml").is_file() {
            return Err(BundleError::ProjectNotFound { path: project });
        }
        Ok(Bundle { project })
    }

    /// The folder holding pom.xml.
    pub fn project(&self) -> &Path {
        &self.project
    }

    fn target(&self) -> PathBuf {
        self.project.join("target")
    }

    fn artifacts(&self) -> Artifacts {
        let target = self.target();
        Artifacts {
            classes: target.join("classes"),
            lib: target.join("lib"),
            plugins: target.join("plugins"),
        }
    }

    /// Whether the last build is complete and matches the current pom.xml.
    pub fn is_built(&self) -> bool {
        let artifacts = self.artifacts();
        let launcher = artifacts
            .classes
            .join("dev/neotrav/neo4j/Launcher.class")
            .is_file();
        let stamp = fs::read(self.target().join(STAMP)).ok();
        let pom = fs::read(self.project.join("pom.xml")).ok();
        launcher
            && stamp.is_some()
            && stamp == pom
            && has_jars(&artifacts.lib)
            && has_jars(&artifacts.plugins)
    }

    /// Returns the artifacts, running `mvn package` first if the project was never built or its
    /// pom.xml changed. Concurrent callers (several test processes) wait for one build.
    /// `progress` hears about a build before it starts; it is not called when nothing is built.
    pub fn ensure_built(&self, progress: &mut dyn FnMut(&str)) -> Result<Artifacts, BundleError> {
        if self.is_built() {
            return Ok(self.artifacts());
        }
        let target = self.target();
        fs::create_dir_all(&target)
            .map_err(BundleError::io(format!("creating {}", target.display())))?;
        let lock_path = target.join("neotrav-build.lock");
        let lock = File::create(&lock_path)
            .map_err(BundleError::io(format!("creating {}", lock_path.display())))?;
        lock.lock()
            .map_err(BundleError::io(format!("locking {}", lock_path.display())))?;
        // Someone else may have built it while we waited for the lock.
        if self.is_built() {
            return Ok(self.artifacts());
        }
        progress(&format!(
            "building the bundled Neo4j with Maven in {} (the first build downloads about 150 MB \
             from Maven Central)",
            self.project.display()
        ));
        self.run_maven()?;
        let pom = self.project.join("pom.xml");
        let stamp = target.join(STAMP);
        fs::copy(&pom, &stamp).map_err(BundleError::io(format!(
            "writing the build stamp {}",
            stamp.display()
        )))?;
        if !self.is_built() {
            return Err(BundleError::MavenFailed {
                status: "it succeeded but target/lib, target/plugins or the launcher is missing"
                    .to_string(),
                tail: String::new(),
                pom,
            });
        }
        Ok(self.artifacts())
    }

    fn run_maven(&self) -> Result<(), BundleError> {
        let pom = self.project.join("pom.xml");
        let output = Command::new("mvn")
            .args(["-B", "-q", "-Dstyle.color=never", "-f"])
            .arg(&pom)
            .arg("package")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| BundleError::MavenMissing {
                detail: e.to_string(),
            })?;
        if output.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(BundleError::MavenFailed {
            status: output.status.to_string(),
            tail: last_lines(&text, 30),
            pom,
        })
    }
}

impl Artifacts {
    /// The Java classpath: the launcher first, then every jar of the server.
    pub fn classpath(&self) -> OsString {
        let mut cp = self.classes.clone().into_os_string();
        cp.push(":");
        cp.push(self.lib.join("*"));
        cp
    }
}

fn has_jars(dir: &Path) -> bool {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "jar"))
        })
        .unwrap_or(false)
}

/// The `java` to run: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from PATH.
pub(crate) fn java_binary() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(home) if !home.is_empty() => Path::new(&home).join("bin").join("java"),
        _ => PathBuf::from("java"),
    }
}

/// Checks that Java runs and is at least 17; returns its version string.
pub(crate) fn check_java() -> Result<String, BundleError> {
    let java = java_binary();
    let output = Command::new(&java)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BundleError::JavaMissing {
            detail: format!("running {}: {e}", java.display()),
        })?;
    // `java -version` prints to stderr: `openjdk version "17.0.15" 2025-04-15`.
    let text = String::from_utf8_lossy(&output.stderr);
    let version =
        text.split('"')
            .nth(1)
            .map(str::to_string)
            .ok_or_else(|| BundleError::JavaMissing {
                detail: format!(
                    "`{} -version` printed no version: {}",
                    java.display(),
                    text.trim()
                ),
            })?;
    let major = java_major(&version);
    if major.is_some_and(|m| m >= 17) {
        Ok(version)
    } else {
        Err(BundleError::JavaTooOld { found: version })
    }
}

/// The major version of a Java version string: "17.0.15" is 17, "1.8.0_392" is 8.
fn java_major(version: &str) -> Option<u32> {
    let mut parts = version.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// The last `n` lines of `text`.
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_major_versions() {
        assert_eq!(java_major("17.0.15"), Some(17));
        assert_eq!(java_major("21"), Some(21));
        assert_eq!(java_major("1.8.0_392"), Some(8));
        assert_eq!(java_major("11.0.2-ea"), Some(11));
        assert_eq!(java_major("garbage"), None);
    }

    #[test]
    fn last_lines_keeps_the_tail() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a", 5), "a");
        assert_eq!(last_lines("", 5), "");
    }

    #[test]
    fn locate_rejects_a_folder_without_pom() {
        let dir = tempfile::tempdir().unwrap();
        let err = Bundle::locate(Some(dir.path())).unwrap_err();
        assert!(matches!(err, BundleError::ProjectNotFound { .. }), "{err}");
        assert!(err.to_string().contains("NEOTRAV_NEO4J_PROJECT"), "{err}");
    }

    #[test]
    fn the_checkout_has_the_project() {
        let bundle = Bundle::locate(None).expect("neo4j/maven/pom.xml next to the sources");
        assert!(bundle.project().join("pom.xml").is_file());
    }
}
