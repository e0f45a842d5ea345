//! The results: a markdown table, CSV lines and an SVG plot, written by
//! hand (no plotting dependency).

use std::fmt::Write as _;

use super::{Options, Row};

pub(crate) const CSV_HEADER: &str = "round,way,clients,secs,updates,updates_per_sec,\
    p50_ms,p99_ms,max_ms,up_bytes_per_update,down_bytes_per_update,requests_per_sec,\
    server_cpu_us_per_update,server_runs_per_sec,setup_bytes,missed,repeated,errors\n";

pub(crate) fn csv_line(round: usize, row: &Row) -> String {
    format!(
        "{round},{},{},{:.2},{},{:.1},{:.3},{:.3},{:.3},{:.1},{:.1},{:.1},{},{},{},{},{},{}",
        row.way.short_label(),
        row.clients,
        row.secs,
        row.updates,
        row.updates as f64 / row.secs,
        row.p50_ms,
        row.p99_ms,
        row.max_ms,
        row.up_per_update,
        row.down_per_update,
        row.requests_per_sec,
        row.cpu_us_per_update
            .map_or(String::new(), |us| format!("{us:.2}")),
        row.runs_per_sec
            .map_or(String::new(), |runs| format!("{runs:.0}")),
        row.setup_bytes
            .map_or(String::new(), |bytes| format!("{bytes:.0}")),
        row.missed,
        row.repeated,
        row.errors,
    )
}

/// Milliseconds with three significant digits at most (0.214, 21.4, 214).
fn ms(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.3}")
    } else if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// Thousands separated by commas.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn markdown(rows: &[Row], options: &Options, load: &str) -> String {
    let mut out = String::new();
    out.push_str(
        "| way | latency p50 | latency p99 | bytes per update, up + down | HTTP requests/s | server CPU per update | server runs/s | bytes to connect |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
        let cpu = row
            .cpu_us_per_update
            .map_or("n/a".into(), |us| format!("{us:.1} µs"));
        let runs = row.runs_per_sec.map_or("n/a".into(), thousands);
        let setup = row
            .setup_bytes
            .map_or("–".into(), |bytes| format!("{bytes:.0}"));
        let _ = writeln!(
            out,
            "| {} | {} ms | {} ms | {:.1} + {:.1} = {:.1} | {} | {cpu} | {runs} | {setup} |",
            row.way.label(),
            ms(row.p50_ms),
            ms(row.p99_ms),
            row.up_per_update,
            row.down_per_update,
            row.up_per_update + row.down_per_update,
            thousands(row.requests_per_sec),
        );
    }
    let rates: Vec<f64> = rows.iter().map(|r| r.updates as f64 / r.secs).collect();
    let lowest = rates.iter().copied().fold(f64::MAX, f64::min);
    let highest = rates.iter().copied().fold(0.0, f64::max);
    let lost: u64 = rows.iter().map(|r| r.missed + r.repeated).sum();
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    let delivered = if thousands(lowest) == thousands(highest) {
        thousands(lowest)
    } else {
        format!("{} to {}", thousands(lowest), thousands(highest))
    };
    let rounds = match options.rounds {
        1 => "one round".to_owned(),
        n => format!("{n} rounds of the ways in turn"),
    };
    let _ = writeln!(
        out,
        "\n{} clients per way, one update every {} ms; {rounds}, each {:.0} s measured after \
         {:.0} s of warm-up; medians of the rounds. Delivered: {delivered} updates a second; \
         {lost} missed or repeated; {errors} connection errors. Server CPU and runs (times \
         its threads were given the CPU) from its `/proc/PID/task/*/schedstat`. Load average \
         {load}.",
        options.clients,
        options.interval_ms,
        options.secs.as_secs_f64(),
        options.warmup.as_secs_f64(),
    );
    out
}

// ---------------------------------------------------------------------------
// The plot: three panels of horizontal bars, one row per way.

const PLOT_FONT: &str =
    "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\"";

pub(crate) fn svg(rows: &[Row], options: &Options) -> String {
    const LABEL_W: f64 = 150.0;
    const PANEL_W: f64 = 230.0;
    const GAP: f64 = 45.0;
    const ROW_H: f64 = 40.0;
    const TOP: f64 = 62.0;
    let panels_x = |i: usize| LABEL_W + i as f64 * (PANEL_W + GAP);
    let width = panels_x(3) - GAP + 40.0;
    let bottom = TOP + ROW_H * rows.len() as f64;
    let height = bottom + 62.0;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" {PLOT_FONT} font-size=\"11\">"
    );
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"600\">{} clients, one update every {} ms: \
         what each way costs per update delivered</text>",
        options.clients, options.interval_ms
    );
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64 + ROW_H / 2.0 + 4.0;
        let _ = writeln!(
            out,
            "<text x=\"{:.0}\" y=\"{y:.1}\" text-anchor=\"end\">{}</text>",
            LABEL_W - 10.0,
            escape(&row.way.short_label())
        );
    }

    // Latency: p50 and p99, log scale.
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.p50_ms, r.p99_ms])
        .filter(|v| *v > 0.0)
        .collect();
    let lo = 10f64.powf(
        values
            .iter()
            .copied()
            .fold(f64::MAX, f64::min)
            .log10()
            .floor(),
    );
    let hi = 10f64.powf(values.iter().copied().fold(0.0, f64::max).log10().ceil());
    let (lo, hi) = if values.is_empty() {
        (0.01, 1000.0)
    } else {
        (lo, hi.max(lo * 10.0))
    };
    let x0 = panels_x(0);
    let log_x =
        |v: f64| x0 + PANEL_W * (v.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10());
    panel_title(&mut out, x0, "latency, ms (log scale)");
    let mut tick = lo;
    while tick <= hi * 1.001 {
        axis_tick(&mut out, log_x(tick), TOP, bottom, &trim_number(tick));
        tick *= 10.0;
    }
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        for (j, (value, color)) in [(row.p50_ms, P50), (row.p99_ms, P99)]
            .into_iter()
            .enumerate()
        {
            let bar_y = y + 7.0 + 13.0 * j as f64;
            bar(&mut out, x0, log_x(value) - x0, bar_y, 11.0, color);
            value_label(&mut out, log_x(value) + 3.0, bar_y + 9.0, &ms(value));
        }
    }
    legend(&mut out, x0, bottom + 40.0, &[(P50, "p50"), (P99, "p99")]);

    // Bytes per update: client → server and server → client, stacked.
    let x1 = panels_x(1);
    let max_bytes = rows
        .iter()
        .map(|r| r.up_per_update + r.down_per_update)
        .fold(0.0, f64::max);
    let (bytes_hi, bytes_step) = nice_scale(max_bytes * 1.2);
    let bytes_x = |v: f64| x1 + PANEL_W * v / bytes_hi;
    panel_title(&mut out, x1, "bytes on the wire per update");
    let mut tick = 0.0;
    while tick <= bytes_hi * 1.001 {
        axis_tick(&mut out, bytes_x(tick), TOP, bottom, &trim_number(tick));
        tick += bytes_step;
    }
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64 + 10.0;
        let up_end = bytes_x(row.up_per_update);
        bar(&mut out, x1, up_end - x1, y, 20.0, UP);
        let total_end = bytes_x(row.up_per_update + row.down_per_update);
        bar(&mut out, up_end, total_end - up_end, y, 20.0, DOWN);
        let total = row.up_per_update + row.down_per_update;
        value_label(&mut out, total_end + 3.0, y + 14.0, &format!("{total:.0}"));
    }
    legend(
        &mut out,
        x1,
        bottom + 40.0,
        &[(UP, "client → server"), (DOWN, "server → client")],
    );

    // Server CPU per update.
    let x2 = panels_x(2);
    let max_cpu = rows
        .iter()
        .filter_map(|r| r.cpu_us_per_update)
        .fold(0.0, f64::max);
    let (cpu_hi, cpu_step) = nice_scale(max_cpu * 1.2);
    let cpu_x = |v: f64| x2 + PANEL_W * v / cpu_hi;
    panel_title(&mut out, x2, "server CPU time per update, µs");
    let mut tick = 0.0;
    while tick <= cpu_hi * 1.001 {
        axis_tick(&mut out, cpu_x(tick), TOP, bottom, &trim_number(tick));
        tick += cpu_step;
    }
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64 + 10.0;
        match row.cpu_us_per_update {
            Some(us) => {
                bar(&mut out, x2, cpu_x(us) - x2, y, 20.0, CPU);
                value_label(&mut out, cpu_x(us) + 3.0, y + 14.0, &format!("{us:.1}"));
            }
            None => value_label(&mut out, x2 + 3.0, y + 14.0, "n/a"),
        }
    }
    out.push_str("</svg>\n");
    out
}

const P50: &str = "#4c78a8";
const P99: &str = "#f58518";
const UP: &str = "#e45756";
const DOWN: &str = "#4c78a8";
const CPU: &str = "#54a24b";

fn panel_title(out: &mut String, x: f64, title: &str) {
    let _ = writeln!(
        out,
        "<text x=\"{x:.1}\" y=\"48\" font-size=\"12\" font-weight=\"600\">{}</text>",
        escape(title)
    );
}

fn axis_tick(out: &mut String, x: f64, top: f64, bottom: f64, label: &str) {
    let _ = writeln!(
        out,
        "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#dde2ea\"/>\
         <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#6b7385\">{label}</text>",
        bottom + 14.0
    );
}

fn bar(out: &mut String, x: f64, width: f64, y: f64, height: f64, color: &str) {
    let _ = writeln!(
        out,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"{color}\"/>",
        width.max(0.5)
    );
}

fn value_label(out: &mut String, x: f64, y: f64, text: &str) {
    let _ = writeln!(
        out,
        "<text x=\"{x:.1}\" y=\"{y:.1}\">{}</text>",
        escape(text)
    );
}

fn legend(out: &mut String, x: f64, y: f64, entries: &[(&str, &str)]) {
    let mut x = x;
    for (color, label) in entries {
        let _ = writeln!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
            y - 9.0,
            x + 14.0,
            escape(label)
        );
        x += 24.0 + 6.5 * label.chars().count() as f64;
    }
}

/// An axis end at or above `max` and a step between ticks: 1, 2 or 5
/// times a power of ten, four or five ticks.
fn nice_scale(max: f64) -> (f64, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, 0.25);
    }
    let raw = max / 4.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    ((max / step).ceil() * step, step)
}

/// A tick label: no trailing zeros.
fn trim_number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
