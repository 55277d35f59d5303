//! The published model parameters, embedded as little-endian `f64` blobs.
//!
//! The blobs in `models/` are the arrays of `shared/reference/iqa_models/*.npy` with the `.npy`
//! header stripped (`tools/npy_to_f64.py`); sources and licences are in `models/README.md`.

use std::sync::OnceLock;

fn decode(bytes: &[u8], expected: usize) -> Vec<f64> {
    assert_eq!(
        bytes.len(),
        8 * expected,
        "embedded model blob has the wrong size"
    );
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("chunk of 8")))
        .collect()
}

macro_rules! model {
    ($(#[$m:meta])* $name:ident, $file:literal, $len:expr) => {
        $(#[$m])*
        pub(crate) fn $name() -> &'static [f64] {
            static CELL: OnceLock<Vec<f64>> = OnceLock::new();
            CELL.get_or_init(|| decode(include_bytes!(concat!("models/", $file)), $len))
        }
    };
}

model!(/// FADE fog-free MVG mean (12).
    fade_fogfree_mu, "fade_fogfree_mu.f64", 12);
model!(/// FADE fog-free MVG covariance (12×12, row-major).
    fade_fogfree_cov, "fade_fogfree_cov.f64", 144);
model!(/// FADE foggy MVG mean (12).
    fade_foggy_mu, "fade_foggy_mu.f64", 12);
model!(/// FADE foggy MVG covariance (12×12).
    fade_foggy_cov, "fade_foggy_cov.f64", 144);
model!(/// MATLAB constant-window rounding offsets of the local mean, by grey value.
    fade_constwin_mu_offsets, "fade_constwin_mu_offsets.f64", 256);
model!(/// MATLAB constant-window rounding offsets of the local second moment, by grey value.
    fade_constwin_m2_offsets, "fade_constwin_m2_offsets.f64", 256);
model!(/// FADE contrast-energy kernel: Gaussian second derivative, σ = 3.25, 20 taps.
    fade_ce_kernel, "fade_ce_kernel.f64", 20);
model!(/// `fspecial('gaussian', 7, 7/6)` normalised, float64 (FADE MSCN window).
    fade_mscn_window, "fade_mscn_window.f64", 49);
model!(/// NIQE pristine MVG mean (36).
    niqe_pris_mu, "niqe_pris_mu.f64", 36);
model!(/// NIQE pristine MVG covariance (36×36).
    niqe_pris_cov, "niqe_pris_cov.f64", 1296);
model!(/// NIQE 7×7 Gaussian window (σ 7/6), float64.
    niqe_gaussian_window, "niqe_gaussian_window.f64", 49);
model!(/// BRISQUE support vectors (774×36, scaled feature space).
    brisque_sv, "brisque_sv.f64", 774 * 36);
model!(/// BRISQUE dual coefficients (774).
    brisque_sv_coef, "brisque_sv_coef.f64", 774);
model!(/// BRISQUE SVR bias ρ (−153.591).
    brisque_rho, "brisque_rho.f64", 1);
model!(/// BRISQUE RBF γ (0.05).
    brisque_gamma, "brisque_gamma.f64", 1);
model!(/// BRISQUE feature range lower ends (36).
    brisque_feature_min, "brisque_feature_min.f64", 36);
model!(/// BRISQUE feature range upper ends (36).
    brisque_feature_max, "brisque_feature_max.f64", 36);
model!(/// BRISQUE 7×7 Gaussian window with float32-rounded taps, as pyiqa applies it.
    brisque_gaussian_window_f32, "brisque_gaussian_window_f32.f64", 49);
