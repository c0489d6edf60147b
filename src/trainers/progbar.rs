//! Keras's progress bar:
//! `1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 2ms/step - accuracy: 0.9000 - loss: 0.3000`.
//!
//! On a terminal the line is redrawn in place (through `indicatif`, on stderr); otherwise only
//! the final line of each epoch is printed, as plain text.

use crate::callbacks::Logs;
use std::io::Write;
use std::time::Instant;

const WIDTH: usize = 20;

/// A progress bar over `target` steps (`None`: unknown, drawn `12/Unknown` as Keras does),
/// with Keras's layout and timing rules.
pub struct Progbar {
    target: Option<usize>,
    verbose: u8,
    start: Instant,
    after_first: Option<Instant>,
    bar: Option<indicatif::ProgressBar>,
    color: bool,
}

impl Progbar {
    /// A bar for `target` steps; `verbose` 1 draws it, 2 prints one line at the end, 0 nothing.
    pub fn new(target: Option<usize>, verbose: u8) -> Self {
        let term = console::Term::stderr().is_term();
        let bar = (verbose == 1 && term).then(|| {
            let b = indicatif::ProgressBar::with_draw_target(
                target.map(|t| t as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            b.set_style(indicatif::ProgressStyle::with_template("{msg}").expect("static template"));
            b
        });
        Progbar {
            target,
            verbose,
            start: Instant::now(),
            after_first: None,
            bar,
            color: term && console::colors_enabled_stderr(),
        }
    }

    /// Changes the number of steps (once a source of unknown length is exhausted).
    pub fn set_target(&mut self, target: usize) {
        if Some(target) != self.target {
            self.target = Some(target);
            if let Some(b) = &self.bar {
                b.set_length(target as u64);
            }
        }
    }

    fn step_time(&mut self, current: usize, now: Instant) -> f64 {
        if current == 0 {
            return 0.0;
        }
        let t = match self.after_first {
            Some(t0) if current > 1 => (now - t0).as_secs_f64() / (current - 1) as f64,
            _ => (now - self.start).as_secs_f64() / current as f64,
        };
        if current == 1 {
            self.after_first = Some(now);
        }
        t
    }

    /// Shows progress after `current` steps with these metric values.
    pub fn update(&mut self, current: usize, logs: &Logs, finalize: bool) {
        if self.verbose == 0 {
            return;
        }
        let now = Instant::now();
        let per_step = self.step_time(current, now);
        let elapsed = (now - self.start).as_secs_f64();
        match self.verbose {
            1 => {
                if self.bar.is_none() && !finalize {
                    return;
                }
                let line = self.line(current, elapsed, per_step, logs, finalize, self.color);
                match &self.bar {
                    Some(b) => {
                        b.set_position(current as u64);
                        b.set_message(line);
                        if finalize {
                            b.finish();
                        }
                    }
                    None => eprintln!(
                        "{}",
                        self.line(current, elapsed, per_step, logs, true, false)
                    ),
                }
            }
            _ if finalize => {
                let Some(target) = self.target.filter(|&t| t > 0) else {
                    return;
                };
                let d = digits(target);
                eprintln!(
                    "{current:>d$}/{target} - {elapsed:.0}s -{}{}",
                    format_time(per_step),
                    metrics(logs)
                );
            }
            _ => {}
        }
        let _ = std::io::stderr().flush();
    }

    fn line(
        &self,
        current: usize,
        elapsed: f64,
        per_step: f64,
        logs: &Logs,
        finalize: bool,
        color: bool,
    ) -> String {
        let (b0, b1, g, w, r) = if color {
            ("\x1b[1m", "\x1b[0m", "\x1b[32m", "\x1b[37m", "\x1b[0m")
        } else {
            ("", "", "", "", "")
        };
        let Some(target) = self.target.filter(|&t| t > 0) else {
            // Keras's `%7d/Unknown`, then the time so far.
            let mut s = format!("{current:>7}/Unknown {b0}{elapsed:.0}s{b1}");
            s.push_str(&format_time(per_step));
            s.push_str(&metrics(logs));
            return s;
        };
        let d = digits(target);
        let filled = ((WIDTH as f64 * current as f64 / target as f64) as usize).min(WIDTH);
        let mut s = format!("{b0}{current:>d$}/{target}{b1} ");
        if filled > 0 {
            s.push_str(&format!("{g}{}{r}", "━".repeat(filled)));
        }
        s.push_str(&format!("{w}{}{r}", "━".repeat(WIDTH - filled)));
        if finalize {
            s.push_str(&format!(" {b0}{elapsed:.0}s{b1}"));
        } else {
            let eta = per_step * (target.saturating_sub(current)) as f64;
            let eta = if eta > 3600.0 {
                format!(
                    "{}:{:02}:{:02}",
                    (eta / 3600.0) as u64,
                    ((eta % 3600.0) / 60.0) as u64,
                    (eta % 60.0) as u64
                )
            } else if eta > 60.0 {
                format!("{}:{:02}", (eta / 60.0) as u64, (eta % 60.0) as u64)
            } else {
                format!("{}s", eta as u64)
            };
            s.push_str(&format!(" {b0}{eta}{b1}"));
        }
        s.push_str(&format_time(per_step));
        s.push_str(&metrics(logs));
        s
    }
}

fn digits(n: usize) -> usize {
    n.max(1).to_string().len()
}

/// Keras's `_format_time`: ` 2ms/step`, ` 1s/step`, ` 731us/step`.
fn format_time(t: f64) -> String {
    if t >= 1.0 || t == 0.0 {
        format!(" {t:.0}s/step")
    } else if t >= 1e-3 {
        format!(" {:.0}ms/step", t * 1e3)
    } else {
        format!(" {:.0}us/step", t * 1e6)
    }
}

fn metrics(logs: &Logs) -> String {
    if logs.is_empty() {
        String::new()
    } else {
        format!(" - {logs}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_layout() {
        let p = Progbar {
            target: Some(1875),
            verbose: 1,
            start: Instant::now(),
            after_first: None,
            bar: None,
            color: false,
        };
        let mut logs = Logs::default();
        logs.insert("accuracy", 0.9);
        logs.insert("loss", 0.3);
        let l = p.line(1875, 3.2, 0.0021, &logs, true, false);
        assert_eq!(
            l,
            "1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 2ms/step - accuracy: 0.9000 - loss: 0.3000"
        );
        let l = p.line(100, 1.0, 0.002, &logs, false, false);
        assert_eq!(
            l,
            format!(
                " 100/1875 {} 3s 2ms/step - accuracy: 0.9000 - loss: 0.3000",
                "━".repeat(20)
            )
        );
        let colored = p.line(100, 1.0, 0.002, &logs, false, true);
        assert!(
            colored.contains("\x1b[32m━\x1b[0m\x1b[37m"),
            "one green step of twenty: {colored:?}"
        );
        assert_eq!(format_time(0.000731), " 731us/step");
    }

    #[test]
    fn unknown_target_counts_up() {
        let p = Progbar {
            target: None,
            verbose: 1,
            start: Instant::now(),
            after_first: None,
            bar: None,
            color: false,
        };
        let mut logs = Logs::default();
        logs.insert("loss", 0.25);
        // Keras's `%7d/Unknown`, then the seconds so far.
        assert_eq!(
            p.line(12, 3.2, 0.02, &logs, false, false),
            "     12/Unknown 3s 20ms/step - loss: 0.2500"
        );
    }
}
