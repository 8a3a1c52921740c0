//! `neotrav neo4j start|stop|status`: the bundled Neo4j from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use neotrav_neo4j::bundled::{
    self, Bundle, DEFAULT_BOLT_PORT, MemorySize, Password, ServerConfig, Status,
};

/// Exit code of `status` when no server runs (as LSB init scripts use it).
const EXIT_NOT_RUNNING: u8 = 3;

#[derive(Debug, Subcommand)]
pub(super) enum Neo4jCommand {
    /// Start Neo4j in the background and wait until Bolt answers a query.
    ///
    /// The first start builds the Maven project under neo4j/ (downloading Neo4j 5.26, APOC and
    /// GDS from Maven Central); later starts reuse it and need no network. Prints the Bolt URI
    /// on stdout when the server answers. The password of user `neo4j` is NEO4J_PASSWORD
    /// (default: `neotrav-dev`), fixed when the home's database is first created.
    Start(StartArgs),
    /// Stop the server: SIGTERM, then wait for a clean shutdown.
    Stop(StopArgs),
    /// Say whether a server runs, where, and which Neo4j, APOC and GDS versions it has.
    ///
    /// Exits 0 when it runs, 3 when it does not.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
struct Location {
    /// The server's home: configuration, data, logs and pid file [default: neo4j/home in the
    /// neotrav checkout].
    #[arg(long, env = "NEOTRAV_NEO4J_HOME", value_name = "DIR")]
    home: Option<PathBuf>,

    /// The Maven project that provides Neo4j [default: the neo4j/ folder of the checkout this
    /// binary was built from].
    #[arg(long, env = "NEOTRAV_NEO4J_PROJECT", value_name = "DIR")]
    project: Option<PathBuf>,
}

impl Location {
    fn resolve(&self) -> Result<(Bundle, PathBuf)> {
        let bundle = Bundle::locate(self.project.as_deref())?;
        let home = match &self.home {
            Some(home) => home.clone(),
            // The Maven project is neo4j/maven/; the home sits beside it.
            None => bundle
                .project()
                .parent()
                .unwrap_or(bundle.project())
                .join("home"),
        };
        Ok((bundle, home))
    }
}

#[derive(Debug, Args)]
pub(super) struct StartArgs {
    #[command(flatten)]
    location: Location,

    /// The Bolt port, on 127.0.0.1.
    #[arg(long, default_value_t = DEFAULT_BOLT_PORT, value_name = "PORT",
          value_parser = clap::value_parser!(u16).range(1..))]
    bolt_port: u16,

    /// JVM heap (initial and maximum), e.g. 2g or 512m.
    #[arg(long, default_value = "4g", value_name = "SIZE")]
    heap: MemorySize,

    /// Page cache for the store files, e.g. 4g. Size it to the store for benchmarks.
    #[arg(long, default_value = "4g", value_name = "SIZE")]
    pagecache: MemorySize,

    /// Seconds to wait for Bolt to answer before giving up (the server is then stopped).
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    timeout: u64,
}

#[derive(Debug, Args)]
pub(super) struct StopArgs {
    #[command(flatten)]
    location: Location,

    /// Seconds to wait for a clean shutdown after SIGTERM.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    timeout: u64,

    /// Send SIGKILL if the server has not stopped within --timeout.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub(super) struct StatusArgs {
    #[command(flatten)]
    location: Location,

    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(command: Neo4jCommand) -> Result<ExitCode> {
    match command {
        Neo4jCommand::Start(args) => start(args).await,
        Neo4jCommand::Stop(args) => stop(args),
        Neo4jCommand::Status(args) => status(args).await,
    }
}

async fn start(args: StartArgs) -> Result<ExitCode> {
    let (bundle, home) = args.location.resolve()?;
    let artifacts = bundle.ensure_built(&mut |msg| eprintln!("{msg}"))?;
    let config = ServerConfig {
        bolt_port: args.bolt_port,
        heap: args.heap,
        pagecache: args.pagecache,
        startup_timeout: Duration::from_secs(args.timeout),
        ..ServerConfig::new(&home)
    };
    eprintln!(
        "starting Neo4j in {} (Bolt 127.0.0.1:{}, heap {}, page cache {})",
        home.display(),
        config.bolt_port,
        config.heap,
        config.pagecache
    );
    let server = bundled::start(&artifacts, &config).await?;
    eprintln!(
        "Neo4j is up after {:.1} s (pid {}, Java {}); logs in {}; stop it with `neotrav neo4j stop{}`",
        server.startup.as_secs_f64(),
        server.state.pid,
        server.java_version,
        server.home.join("logs").display(),
        home_flag(&args.location, &server.home),
    );
    println!("{}", server.state.bolt_uri);
    Ok(ExitCode::SUCCESS)
}

fn stop(args: StopArgs) -> Result<ExitCode> {
    let (_, home) = args.location.resolve()?;
    let report = bundled::stop(&home, Duration::from_secs(args.timeout), args.force)?;
    match report.stopped {
        Some(state) => println!(
            "stopped Neo4j (pid {}, {}) in {:.1} s{}",
            state.pid,
            state.bolt_uri,
            report.elapsed.as_secs_f64(),
            if report.killed {
                " with SIGKILL after it ignored SIGTERM"
            } else {
                ""
            }
        ),
        None => println!(
            "Neo4j from {} was not running; removed its stale pid file",
            home.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

async fn status(args: StatusArgs) -> Result<ExitCode> {
    let (_, home) = args.location.resolve()?;
    let status = bundled::status(&home, &Password::from_env()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print_status(&status);
    }
    Ok(if status.running.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NOT_RUNNING)
    })
}

fn print_status(status: &Status) {
    let Some(state) = &status.running else {
        println!("Neo4j is not running from {}", status.home.display());
        return;
    };
    println!("Neo4j is running");
    println!("  bolt:       {}", state.bolt_uri);
    println!("  pid:        {}", state.pid);
    println!("  home:       {}", status.home.display());
    println!("  heap:       {}", state.heap);
    println!("  page cache: {}", state.pagecache);
    match (&status.versions, &status.versions_error) {
        (Some(v), _) => {
            println!("  neo4j:      {} ({})", v.neo4j, v.edition);
            println!("  apoc:       {}", v.apoc);
            println!("  gds:        {}", v.gds);
        }
        (None, Some(e)) => println!("  versions:   unknown ({e})"),
        (None, None) => {}
    }
}

/// The `--home` flag to repeat in a hint, if the home is not the default one.
fn home_flag(location: &Location, home: &Path) -> String {
    match &location.home {
        Some(_) => format!(" --home {}", home.display()),
        None => String::new(),
    }
}
