//! Progress for long commands: an indicatif bar with rate and ETA on a terminal, a plain log line
//! every few seconds otherwise (CI logs, pipes).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use neotrav_snapshot::Progress;

/// Reports to stderr.
pub(super) struct Reporter {
    bar: Option<ProgressBar>,
    plain: Mutex<Plain>,
}

struct Plain {
    phase: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last: Instant,
}

const LOG_EVERY: Duration = Duration::from_secs(5);

impl Reporter {
    pub(super) fn new() -> Reporter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        Reporter {
            bar,
            plain: Mutex::new(Plain {
                phase: String::new(),
                total: None,
                done: 0,
                started: now,
                last: now,
            }),
        }
    }

    /// Prints a line above the bar (or on its own without one).
    pub(super) fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Clears the bar before a final summary is printed.
    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
    fn phase(&self, name: &str, total: Option<u64>) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(total.unwrap_or(0));
            let template = if total.is_some() {
                "{msg}: [{bar:30}] {human_pos}/{human_len} ({per_sec}, ETA {eta})"
            } else {
                "{spinner} {msg} ({elapsed})"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar.set_message(name.to_string());
            return;
        }
        let mut plain = self.plain.lock().expect("progress lock");
        *plain = Plain {
            phase: name.to_string(),
            total,
            done: 0,
            started: Instant::now(),
            last: Instant::now(),
        };
        eprintln!("{name}...");
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        let mut plain = self.plain.lock().expect("progress lock");
        plain.done += n;
        if plain.last.elapsed() >= LOG_EVERY {
            plain.last = Instant::now();
            let rate = plain.done as f64 / plain.started.elapsed().as_secs_f64().max(1e-9);
            match plain.total {
                Some(total) if total > 0 => eprintln!(
                    "{}: {}/{} ({:.0}%, {:.0}/s)",
                    plain.phase,
                    plain.done,
                    total,
                    100.0 * plain.done as f64 / total as f64,
                    rate
                ),
                _ => eprintln!("{}: {} ({:.0}/s)", plain.phase, plain.done, rate),
            }
        }
    }
}
