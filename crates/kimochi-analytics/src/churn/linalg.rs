//! Cholesky factorisation of the small symmetric positive-definite matrices of the driver fit
//! (one row per driver plus the intercept), stored row-major in a flat slice.

/// The lower-triangular Cholesky factor L of `matrix` (n × n), or `None` when the matrix is
/// not positive definite, which for the penalised information only happens with non-finite
/// input.
pub(crate) fn cholesky(matrix: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut lower = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = matrix[i * n + j];
            for k in 0..j {
                sum -= lower[i * n + k] * lower[j * n + k];
            }
            if i == j {
                if !(sum > 0.0 && sum.is_finite()) {
                    return None;
                }
                lower[i * n + i] = sum.sqrt();
            } else {
                lower[i * n + j] = sum / lower[j * n + j];
            }
        }
    }
    Some(lower)
}

/// Solves L Lᵀ x = b for x, given the Cholesky factor L.
pub(crate) fn cholesky_solve(lower: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut sum = b[i];
        for k in 0..i {
            sum -= lower[i * n + k] * y[k];
        }
        y[i] = sum / lower[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut sum = y[i];
        for k in i + 1..n {
            sum -= lower[k * n + i] * x[k];
        }
        x[i] = sum / lower[i * n + i];
    }
    x
}

/// The diagonal of the inverse of the matrix whose Cholesky factor is `lower`.
pub(crate) fn inverse_diagonal(lower: &[f64], n: usize) -> Vec<f64> {
    (0..n)
        .map(|column| {
            let mut unit = vec![0.0; n];
            unit[column] = 1.0;
            cholesky_solve(lower, n, &unit)[column]
        })
        .collect()
}
