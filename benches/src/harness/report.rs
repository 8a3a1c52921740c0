//! The run's report: a markdown table per case and an SVG chart of p50 per case and system on a
//! log scale (plotters).

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use super::{BenchError, Measurement, Results};

/// The systems in the order of the report's columns.
const ORDER: [&str; 6] = [
    "neotrav",
    "neotrav-http",
    "cypher",
    "cypher-tuned",
    "apoc",
    "gds",
];

fn cases(results: &Results) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for m in &results.cases {
        if !names.contains(&m.name.as_str()) {
            names.push(&m.name);
        }
    }
    names
}

fn find<'a>(results: &'a Results, case: &str, system: &str) -> Option<&'a Measurement> {
    results
        .cases
        .iter()
        .find(|m| m.name == case && m.system == system)
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{:.0} µs", v * 1e3)
    }
}

/// A time, or "> bound" for a system that timed out.
fn time(m: &Measurement, v: f64) -> String {
    format!("{}{}", over(m), ms(v))
}

fn over(m: &Measurement) -> &'static str {
    if m.timed_out { "> " } else { "" }
}

fn ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.1}x")
    }
}

/// The headline table: p50 per case and system, with each system's ratio to neotrav
/// in-process.
pub fn headline(results: &Results) -> String {
    let mut out = String::new();
    let systems: Vec<&str> = ORDER
        .iter()
        .copied()
        .filter(|s| results.cases.iter().any(|m| m.system == *s))
        .collect();
    let _ = writeln!(out, "| case (p50) | {} |", systems.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(systems.len()));
    for case in cases(results) {
        let base = find(results, case, "neotrav").map(|m| m.p50_ms);
        let cells: Vec<String> = systems
            .iter()
            .map(|s| match (find(results, case, s), base) {
                (None, _) => "n/a".to_string(),
                (Some(m), Some(b)) if *s != "neotrav" && b > 0.0 => {
                    format!("{} ({}{})", time(m, m.p50_ms), over(m), ratio(m.p50_ms / b))
                }
                (Some(m), _) => time(m, m.p50_ms),
            })
            .collect();
        let _ = writeln!(out, "| {case} | {} |", cells.join(" | "));
    }
    out
}

/// The whole markdown report.
pub fn markdown(results: &Results, runs: usize, svg: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# neotrav benchmark: suite `{}`\n", results.suite);
    let _ = writeln!(
        out,
        "- date: {}\n- machine: {}\n- Neo4j: {} (bundled, APOC core, Open GDS)\n- datasets: {}\n- \
         scale: {}, seed: {}\n- runs: {runs} timed passes over every input after one warm-up pass; \
         p50/p95/p99 over every timed query; a system past the query timeout shows \"> bound\"\n- answers: {}\n",
        results.date,
        results.machine,
        results.neo4j_version,
        results.dataset,
        results.scale,
        results.seed,
        if results.mismatches.is_empty() {
            "every system's answer digest equal within each case".to_string()
        } else {
            format!("**{} MISMATCHES** (see the end)", results.mismatches.len())
        }
    );
    let _ = writeln!(
        out,
        "Ratios are each system's p50 over neotrav in-process's p50, from the same run.\n"
    );
    out.push_str(&headline(results));
    if let Some(svg) = svg {
        let _ = writeln!(out, "\n![p50 per case and system, log scale]({svg})\n");
    }
    let _ = writeln!(out, "\n## Setup (not in any query time)\n");
    let _ = writeln!(out, "| step | seconds |\n|---|---|");
    for s in &results.setup {
        let _ = writeln!(out, "| {} | {:.1} |", s.what, s.seconds);
    }
    let _ = writeln!(out, "\n## Every case\n");
    for case in cases(results) {
        let _ = writeln!(out, "### {case}\n");
        let _ = writeln!(
            out,
            "| system | p50 | p95 | p99 | queries | answer size | digest |\n|---|---|---|---|---|---|---|"
        );
        for m in results.cases.iter().filter(|m| m.name == case) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | `{}` |",
                m.system,
                time(m, m.p50_ms),
                time(m, m.p95_ms),
                time(m, m.p99_ms),
                m.runs,
                m.answer_size,
                m.answer_digest
            );
        }
        out.push('\n');
    }
    if !results.mismatches.is_empty() {
        let _ = writeln!(out, "## Mismatches\n");
        for m in &results.mismatches {
            let _ = writeln!(out, "- {m}");
        }
    }
    out
}

/// Draws p50 per case (x) and system (bars) on a log scale into an SVG file.
pub fn svg(results: &Results, path: &Path) -> Result<(), BenchError> {
    let names = cases(results);
    let systems: Vec<&str> = ORDER
        .iter()
        .copied()
        .filter(|s| results.cases.iter().any(|m| m.system == *s))
        .collect();
    let lo = results
        .cases
        .iter()
        .map(|m| m.p50_ms)
        .fold(f64::INFINITY, f64::min)
        .max(1e-4)
        / 2.0;
    let hi = results
        .cases
        .iter()
        .map(|m| m.p50_ms)
        .fold(0.0, f64::max)
        .max(lo * 10.0)
        * 2.0;
    let width = (220 * names.len().max(1) as u32).clamp(800, 3200);
    let root = SVGBackend::new(path, (width, 560)).into_drawing_area();
    let draw = || -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("p50 per query, log scale ({})", results.dataset),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..names.len() as f64, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(names.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 1e-6 {
                    names.get(i).map_or(String::new(), |n| n.to_string())
                } else {
                    String::new()
                }
            })
            .y_desc("milliseconds")
            .draw()?;
        let k = systems.len() as f64;
        for (j, system) in systems.iter().enumerate() {
            let color = Palette99::pick(j).to_rgba();
            let bars = names.iter().enumerate().filter_map(|(i, case)| {
                let m = find(results, case, system)?;
                let x0 = i as f64 + 0.1 + 0.8 * j as f64 / k;
                let x1 = x0 + 0.8 / k * 0.9;
                Some(Rectangle::new([(x0, lo), (x1, m.p50_ms)], color.filled()))
            });
            chart
                .draw_series(bars)?
                .label(*system)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|source| BenchError::Draw {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `--json`, `--report` (and the SVG beside it).
pub fn write(
    results: &Results,
    runs: usize,
    json: Option<&Path>,
    md: Option<&Path>,
) -> Result<(), BenchError> {
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(results).map_err(|source| BenchError::Json {
            what: format!("the results for {}", path.display()),
            source,
        })?;
        std::fs::write(path, text).map_err(BenchError::io("writing", path))?;
    }
    if let Some(path) = md {
        let svg_path = path.with_extension("svg");
        svg(results, &svg_path)?;
        let name = svg_path
            .file_name()
            .map(|n| n.to_string_lossy().to_string());
        let text = markdown(results, runs, name.as_deref());
        std::fs::write(path, text).map_err(BenchError::io("writing", path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> Results {
        let m = |name: &str, system: &str, p50: f64| Measurement {
            name: name.into(),
            system: system.into(),
            runs: 5,
            p50_ms: p50,
            p95_ms: p50 * 1.5,
            p99_ms: p50 * 2.0,
            answer_digest: "00ff".into(),
            answer_size: 3,
            timed_out: system == "apoc",
        };
        Results {
            suite: "tree".into(),
            dataset: "tree 140000 nodes".into(),
            scale: 0.1,
            seed: 42,
            machine: "2 cores".into(),
            neo4j_version: "5.26.19".into(),
            date: "2026-11-26T00:00:00Z".into(),
            setup: vec![],
            cases: vec![
                m("tree/a", "neotrav", 2.0),
                m("tree/a", "cypher", 500.0),
                m("tree/b", "neotrav", 0.05),
                m("tree/b", "apoc", 5.0),
            ],
            mismatches: vec![],
        }
    }

    #[test]
    fn the_headline_gives_ratios_to_neotrav() {
        let h = headline(&results());
        assert!(
            h.contains("| tree/a | 2.0 ms | 500 ms (250x) | n/a |"),
            "{h}"
        );
        assert!(
            h.contains("| tree/b | 50 µs | n/a | > 5.0 ms (> 100x) |"),
            "{h}"
        );
    }

    #[test]
    fn the_chart_is_an_svg_with_every_case_and_system() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("r.md");
        write(&results(), 5, None, Some(&md)).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("r.svg")).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        for text in ["tree/a", "tree/b", "neotrav", "cypher", "apoc"] {
            assert!(svg.contains(text), "{text} missing from the chart");
        }
        let text = std::fs::read_to_string(md).unwrap();
        assert!(text.contains("![p50 per case and system, log scale](r.svg)"));
    }
}
