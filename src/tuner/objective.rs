//! KerasTuner's `Objective`: the metric a search optimizes and its direction.

use crate::{Error, Result};

/// The metric to optimize (`"val_loss"`, `"val_accuracy"`, ...) and whether to minimize or
/// maximize it.
///
/// ```
/// use keras::tuner::Objective;
/// assert_eq!(Objective::infer("val_accuracy")?.to_string(), r#"Objective(name="val_accuracy", direction="max")"#);
/// assert_eq!(Objective::infer("val_loss")?.direction, "min");
/// assert!(Objective::infer("my_score").is_err());
/// let o = Objective::new("my_score", "max")?;
/// assert!(o.better_than(2.0, 1.0));
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The metric's name as in the History (`val_` prefix for validation).
    pub name: String,
    /// `"min"` or `"max"`.
    pub direction: String,
}

impl Objective {
    /// `Objective(name, direction)`.
    pub fn new(name: &str, direction: &str) -> Result<Self> {
        if direction != "min" && direction != "max" {
            return Err(Error::value(format!(
                "`direction` should be one of {{\"min\", \"max\"}}, but got: {direction}"
            )));
        }
        Ok(Objective {
            name: name.to_string(),
            direction: direction.to_string(),
        })
    }

    /// The objective for a metric name, its direction inferred as KerasTuner's
    /// `infer_metric_direction`: `loss` and cross-entropies are minimized, `acc` maximized,
    /// other built-in metrics by the way they improve.
    pub fn infer(name: &str) -> Result<Self> {
        let direction = infer_direction(name).ok_or_else(|| {
            Error::value(format!(
                "Could not infer optimization direction (\"min\" or \"max\") for unknown metric \"{name}\". \
                 Please specify the objective  as a `keras_tuner.Objective`, for example \
                 `keras_tuner.Objective(\"{name}\", direction=\"min\")`."
            ))
        })?;
        Objective::new(name, direction)
    }

    /// Whether `a` is better than `b`.
    pub fn better_than(&self, a: f64, b: f64) -> bool {
        if self.direction == "max" {
            a > b
        } else {
            a < b
        }
    }

    /// The worst possible value (the start of a running best).
    pub fn worst(&self) -> f64 {
        if self.direction == "max" {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Objective(name=\"{}\", direction=\"{}\")",
            self.name, self.direction
        )
    }
}

/// What a tuner's `objective` takes: a metric name (direction inferred) or an [`Objective`].
#[derive(Clone, Debug)]
pub enum ObjectiveArg {
    /// A metric name.
    Name(String),
    /// A full objective.
    Objective(Objective),
}

impl From<&str> for ObjectiveArg {
    fn from(s: &str) -> Self {
        ObjectiveArg::Name(s.to_string())
    }
}
impl From<Objective> for ObjectiveArg {
    fn from(o: Objective) -> Self {
        ObjectiveArg::Objective(o)
    }
}
impl ObjectiveArg {
    pub(crate) fn resolve(&self) -> Result<Objective> {
        match self {
            ObjectiveArg::Name(n) => Objective::infer(n),
            ObjectiveArg::Objective(o) => Ok(o.clone()),
        }
    }
}

fn infer_direction(name: &str) -> Option<&'static str> {
    let n = name.strip_prefix("val_").unwrap_or(name);
    let n = n.strip_prefix("weighted_").unwrap_or(n);
    if matches!(n, "loss" | "crossentropy" | "ce") {
        return Some("min");
    }
    if n == "acc" {
        return Some("max");
    }
    let metric = crate::metrics::get(n).ok()?;
    match metric.direction()? {
        crate::metrics::Direction::Up => Some("max"),
        crate::metrics::Direction::Down => Some("min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions() {
        assert_eq!(Objective::infer("val_mae").unwrap().direction, "min");
        assert_eq!(Objective::infer("accuracy").unwrap().direction, "max");
        assert_eq!(Objective::infer("val_acc").unwrap().direction, "max");
        assert!(Objective::new("x", "up").is_err());
    }
}
