//! `bench.svg`, written by hand: two panels of grouped bars, one group per point of the
//! sweep and one bar per server: throughput on top, server CPU time per message below,
//! with axes, grid lines, a legend, and each bar's value as its tooltip.

use std::fmt::Write as _;

use super::report::{Row, bytes, thousands};

/// Bar colours (Tableau 10), one per server in order of first appearance.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// Width of one bar.
const BAR: f64 = 14.0;
/// Space between two groups.
const GAP: f64 = 26.0;
/// Left margin (the y axis labels).
const LEFT: f64 = 86.0;
/// Right margin.
const RIGHT: f64 = 24.0;
/// Height of a panel's plot area.
const PLOT: f64 = 240.0;

/// A panel: what it plots.
struct Panel {
    /// Its title.
    title: &'static str,
    /// The axis label.
    unit: &'static str,
    /// The value of a row, if known.
    value: fn(&Row) -> Option<f64>,
    /// How a value reads in a tooltip.
    show: fn(f64) -> String,
}

/// The chart of `rows`.
pub(crate) fn chart(rows: &[Row], title: &str) -> String {
    let mut servers: Vec<&str> = Vec::new();
    let mut points: Vec<(usize, usize)> = Vec::new();
    for r in rows {
        if !servers.contains(&r.server.as_str()) {
            servers.push(&r.server);
        }
        if !points.contains(&(r.connections, r.size)) {
            points.push((r.connections, r.size));
        }
    }
    let n = servers.len().max(1) as f64;
    let group = n * BAR + GAP;
    let plot_w = (points.len().max(1) as f64 * group).max(420.0);
    let width = LEFT + plot_w + RIGHT;
    let legend_rows = servers.len().div_ceil(4).max(1) as f64;
    let top = 44.0 + legend_rows * 18.0;
    let panel_h = PLOT + 78.0;
    let height = top + 2.0 * panel_h + 10.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/>
<text x="{:.0}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        width / 2.0,
        esc(title)
    );
    // Legend.
    for (i, name) in servers.iter().enumerate() {
        let x = LEFT + (i % 4) as f64 * 170.0;
        let y = 38.0 + (i / 4) as f64 * 18.0;
        let _ = writeln!(
            s,
            r#"<rect x="{x:.0}" y="{:.0}" width="12" height="12" fill="{}"/><text x="{:.0}" y="{:.0}">{}</text>"#,
            y - 10.0,
            PALETTE[i % PALETTE.len()],
            x + 17.0,
            y,
            esc(name)
        );
    }

    let panels = [
        Panel {
            title: "Throughput (higher is better)",
            unit: "messages / s",
            value: |r| Some(r.msgs_per_sec),
            show: |v| format!("{} msg/s", thousands(v)),
        },
        Panel {
            title: "Server CPU per message, user + system (lower is better)",
            unit: "µs / message",
            value: |r| r.server_cpu_us_per_msg,
            show: |v| format!("{v:.2} µs/msg"),
        },
    ];
    for (k, panel) in panels.iter().enumerate() {
        let y0 = top + k as f64 * panel_h + 22.0;
        let base = y0 + PLOT;
        let max = rows.iter().filter_map(panel.value).fold(0.0_f64, f64::max);
        let (step, ticks) = nice_ticks(max);
        let top_value = step * ticks as f64;
        let _ = writeln!(
            s,
            r#"<text x="{LEFT:.0}" y="{:.0}" font-size="13" font-weight="bold">{}</text>"#,
            y0 - 8.0,
            esc(panel.title)
        );
        let _ = writeln!(
            s,
            r#"<text transform="translate(16 {:.0}) rotate(-90)" text-anchor="middle">{}</text>"#,
            y0 + PLOT / 2.0,
            esc(panel.unit)
        );
        for t in 0..=ticks {
            let v = step * t as f64;
            let y = base - PLOT * v / top_value;
            let label = if step >= 1.0 {
                thousands(v)
            } else {
                format!("{v:.2}")
            };
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT:.0}" x2="{:.0}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.0}" y="{:.1}" text-anchor="end">{label}</text>"##,
                LEFT + plot_w,
                LEFT - 6.0,
                y + 4.0
            );
        }
        for (g, &(c, size)) in points.iter().enumerate() {
            let gx = LEFT + g as f64 * group + GAP / 2.0;
            for (i, name) in servers.iter().enumerate() {
                let Some(row) = rows
                    .iter()
                    .find(|r| r.server == *name && r.connections == c && r.size == size)
                else {
                    continue;
                };
                let Some(v) = (panel.value)(row) else {
                    continue;
                };
                let h = if top_value > 0.0 {
                    PLOT * v / top_value
                } else {
                    0.0
                };
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.0}" height="{h:.1}" fill="{}"><title>{}, {c} conn, {}: {}</title></rect>"#,
                    gx + i as f64 * BAR,
                    base - h,
                    BAR - 1.0,
                    PALETTE[i % PALETTE.len()],
                    esc(name),
                    bytes(size),
                    (panel.show)(v)
                );
            }
            let cx = gx + n * BAR / 2.0;
            let _ = writeln!(
                s,
                r##"<text x="{cx:.1}" y="{:.0}" text-anchor="middle">{c} conn</text><text x="{cx:.1}" y="{:.0}" text-anchor="middle" fill="#555">{}</text>"##,
                base + 16.0,
                base + 30.0,
                bytes(size)
            );
        }
        let _ = writeln!(
            s,
            r#"<line x1="{LEFT:.0}" x2="{LEFT:.0}" y1="{y0:.0}" y2="{base:.0}" stroke="black"/><line x1="{LEFT:.0}" x2="{:.0}" y1="{base:.0}" y2="{base:.0}" stroke="black"/>"#,
            LEFT + plot_w
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.0}" y="{:.0}" text-anchor="middle" fill="#555">connections, message size</text>"##,
            LEFT + plot_w / 2.0,
            base + 48.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A tick step of 1, 2 or 5 times a power of ten, and how many steps reach past `max`.
fn nice_ticks(max: f64) -> (f64, u32) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, 1);
    }
    let raw = max / 5.0;
    let pow = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * pow);
    let mut ticks = 1;
    while step * f64::from(ticks) < max {
        ticks += 1;
    }
    (step, ticks)
}

/// `s` with XML's special characters escaped.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_maximum() {
        assert_eq!(nice_ticks(0.0), (1.0, 1));
        let (step, n) = nice_ticks(123_456.0);
        assert_eq!(step, 50_000.0);
        assert_eq!(n, 3);
        let (step, n) = nice_ticks(3.7);
        assert!((step - 1.0).abs() < 1e-9 && n == 4);
    }

    #[test]
    fn escapes() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
