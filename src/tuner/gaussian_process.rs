//! A small Gaussian-process regressor for Bayesian optimization, as KerasTuner configures
//! scikit-learn's (`GaussianProcessRegressor(kernel=Matern(nu=2.5), normalize_y=True,
//! alpha=...)`): an isotropic Matérn 5/2 kernel whose length scale maximizes the log marginal
//! likelihood (searched on a log grid here, where scikit-learn runs L-BFGS-B from restarts),
//! solved by a hand-written Cholesky factorization.

use crate::{Error, Result};

/// A fitted Gaussian process.
pub struct GaussianProcess {
    x: Vec<Vec<f64>>,
    chol: Vec<Vec<f64>>,
    alpha: Vec<f64>,
    length_scale: f64,
    y_mean: f64,
    y_std: f64,
}

/// The Matérn kernel with ν = 5/2: `(1 + √5 d/l + 5 d²/3l²) exp(-√5 d/l)`.
pub fn matern52(a: &[f64], b: &[f64], length_scale: f64) -> f64 {
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
        / length_scale;
    let s = 5f64.sqrt() * d;
    (1.0 + s + s * s / 3.0) * (-s).exp()
}

/// The lower-triangular `L` with `L Lᵀ = a`, or `None` if `a` is not positive definite.
pub fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves `L z = b` (forward substitution).
fn forward(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; b.len()];
    for i in 0..b.len() {
        let s: f64 = (0..i).map(|k| l[i][k] * z[k]).sum();
        z[i] = (b[i] - s) / l[i][i];
    }
    z
}

/// Solves `Lᵀ x = z` (back substitution).
fn backward(l: &[Vec<f64>], z: &[f64]) -> Vec<f64> {
    let n = z.len();
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k][i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i][i];
    }
    x
}

impl GaussianProcess {
    /// Fits the process to points `x` and targets `y`; `noise` is added to the kernel's
    /// diagonal (scikit-learn's `alpha`).
    pub fn fit(x: &[Vec<f64>], y: &[f64], noise: f64) -> Result<Self> {
        if x.is_empty() || x.len() != y.len() {
            return Err(Error::value(format!(
                "GaussianProcess.fit: need as many targets as points, got {} and {}",
                x.len(),
                y.len()
            )));
        }
        let n = y.len() as f64;
        let y_mean = y.iter().sum::<f64>() / n;
        let var = y.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / n;
        let y_std = if var > 0.0 { var.sqrt() } else { 1.0 };
        let yn: Vec<f64> = y.iter().map(|v| (v - y_mean) / y_std).collect();
        let mut best: Option<(f64, GaussianProcess)> = None;
        for i in 0..=40 {
            let ls = 10f64.powf(-2.0 + 4.0 * i as f64 / 40.0);
            let k: Vec<Vec<f64>> = x
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    x.iter()
                        .enumerate()
                        .map(|(j, b)| matern52(a, b, ls) + if i == j { noise } else { 0.0 })
                        .collect()
                })
                .collect();
            let Some(l) = cholesky(&k) else { continue };
            let alpha = backward(&l, &forward(&l, &yn));
            let fit: f64 = yn.iter().zip(&alpha).map(|(a, b)| a * b).sum();
            let logdet: f64 = (0..l.len()).map(|i| l[i][i].ln()).sum();
            let lml = -0.5 * fit - logdet - 0.5 * n * (2.0 * std::f64::consts::PI).ln();
            if best.as_ref().is_none_or(|(b, _)| lml > *b) {
                best = Some((
                    lml,
                    GaussianProcess {
                        x: x.to_vec(),
                        chol: l,
                        alpha,
                        length_scale: ls,
                        y_mean,
                        y_std,
                    },
                ));
            }
        }
        best.map(|(_, g)| g).ok_or_else(|| {
            Error::runtime("GaussianProcess.fit: the kernel matrix is not positive definite")
        })
    }

    /// The predicted mean and standard deviation at `p`.
    pub fn predict(&self, p: &[f64]) -> (f64, f64) {
        let ks: Vec<f64> = self
            .x
            .iter()
            .map(|a| matern52(a, p, self.length_scale))
            .collect();
        let mu: f64 = ks.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let v = forward(&self.chol, &ks);
        let var = (1.0 - v.iter().map(|x| x * x).sum::<f64>()).max(0.0);
        (mu * self.y_std + self.y_mean, var.sqrt() * self.y_std)
    }

    /// The length scale chosen by the marginal likelihood.
    pub fn length_scale(&self) -> f64 {
        self.length_scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reconstructs() {
        let a = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let l = cholesky(&a).unwrap();
        assert!((l[0][0] - 2.0).abs() < 1e-12 && (l[1][0] - 1.0).abs() < 1e-12);
        assert!((l[1][1] - 2f64.sqrt()).abs() < 1e-12);
        assert!(cholesky(&[vec![-1.0]]).is_none());
    }

    #[test]
    fn interpolates_and_is_uncertain_far_away() {
        let x: Vec<Vec<f64>> = (0..6).map(|i| vec![i as f64 / 5.0]).collect();
        let y: Vec<f64> = x.iter().map(|p| (3.0 * p[0]).sin()).collect();
        let gp = GaussianProcess::fit(&x, &y, 1e-6).unwrap();
        let (m, s) = gp.predict(&[0.4]);
        assert!((m - (1.2f64).sin()).abs() < 1e-3, "{m}");
        assert!(s < 1e-2);
        let (_, far) = gp.predict(&[5.0]);
        assert!(far > s * 10.0);
    }
}
