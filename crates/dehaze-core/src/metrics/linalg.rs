//! Dense linear algebra for the small MVG models (12×12 and 36×36): inversion, symmetric
//! eigendecomposition and the Moore–Penrose pseudo-inverse. Row-major `n×n` slices.

/// Inverse of a non-singular matrix by Gauss–Jordan elimination with partial pivoting;
/// `None` if a pivot vanishes.
pub(crate) fn invert(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let piv =
            (col..n).max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))?;
        if m[piv * n + col] == 0.0 || !m[piv * n + col].is_finite() {
            return None;
        }
        if piv != col {
            for j in 0..n {
                m.swap(piv * n + j, col * n + j);
                inv.swap(piv * n + j, col * n + j);
            }
        }
        let d = m[col * n + col];
        for j in 0..n {
            m[col * n + j] /= d;
            inv[col * n + j] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = m[r * n + col];
                if f != 0.0 {
                    for j in 0..n {
                        m[r * n + j] -= f * m[col * n + j];
                        inv[r * n + j] -= f * inv[col * n + j];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations:
/// returns `(λ, V)` with `A = V·diag(λ)·Vᵀ`, eigenvectors in the columns of `V`.
pub(crate) fn sym_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        let diag: f64 = (0..n).map(|i| m[i * n + i] * m[i * n + i]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i * n + i]).collect(), v)
}

/// Pseudo-inverse of a symmetric matrix, as `numpy.linalg.pinv` (singular values below
/// `1e-15·σ_max` are treated as zero): `A⁺ = V·diag(1/λ)·Vᵀ` over the kept eigenvalues.
pub(crate) fn pinv_sym(a: &[f64], n: usize) -> Vec<f64> {
    let (lam, v) = sym_eigen(a, n);
    let smax = lam.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    let cut = 1e-15 * smax;
    let mut out = vec![0.0; n * n];
    for (k, &l) in lam.iter().enumerate() {
        if l.abs() <= cut {
            continue;
        }
        let inv = 1.0 / l;
        for i in 0..n {
            let vi = v[i * n + k] * inv;
            for j in 0..n {
                out[i * n + j] += vi * v[j * n + k];
            }
        }
    }
    out
}

/// `xᵀ·M·y` for a row-major `n×n` matrix.
pub(crate) fn quad(x: &[f64], m: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    (0..n)
        .map(|i| x[i] * (0..n).map(|j| m[i * n + j] * y[j]).sum::<f64>())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_and_pinv_agree_on_spd() {
        let n = 4;
        let b: Vec<f64> = (0..16).map(|i| ((i * 7) % 5) as f64 - 1.5).collect();
        // A = BᵀB + I (symmetric positive definite)
        let mut a = vec![0.0; 16];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let inv = invert(&a, n).unwrap();
        let pinv = pinv_sym(&a, n);
        for i in 0..n {
            for j in 0..n {
                let e: f64 = (0..n).map(|k| a[i * n + k] * inv[k * n + j]).sum();
                assert!((e - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
                assert!((inv[i * n + j] - pinv[i * n + j]).abs() < 1e-10);
            }
        }
    }
}
