//! The 2-D discrete Fourier transform of image batches, as matrix products, for MNCD's frequency
//! term (spec §2.3).
//!
//! For an H×W channel X, with `C_N[k, m] = cos(2πkm/N)/√N` and `S_N[k, m] = sin(2πkm/N)/√N`
//! (both symmetric), the orthonormal DFT `F = W_H·X·W_Wᵀ`, `W_N = C_N − i·S_N`, is
//!
//! ```text
//! Re F = C_H·X·C_W − S_H·X·S_W
//! Im F = −(S_H·X·C_W + C_H·X·S_W)
//! ```
//!
//! the same values as `torch.fft.fft2(x, norm="ortho")`. Why matrices rather than an FFT:
//! burn-signal's `rfft` handles only power-of-two lengths, while training crops are 224–256 px
//! and evaluation images any size; the matrix form is exact for every size, is built from
//! matmuls that every backend (and autodiff) supports, and costs `O(HW(H+W))` — at a 256×256
//! crop about 0.2 GFLOP per image and channel set, small next to the VGG features of the
//! spatial term. The angles `2π·(km mod N)/N` are reduced and evaluated in f64 before rounding
//! to f32, so the matrices are accurate to f32 rounding for any N.
//!
//! [`amplitude_phasor`] turns the spectrum into amplitude and phase. The phase angle
//! `atan2(Im, Re)` is ill-conditioned where the amplitude is near zero (its gradient grows like
//! 1/|F| and its value jumps by 2π across the negative real axis), so phase is represented by
//! the unit phasor `(cos θ, sin θ) = (Re, Im)/|F|_δ` with `|F|_δ = sqrt(Re² + Im² + δ²)`: it is
//! continuous everywhere, has no 2π wrap, and fades to 0 (instead of pointing in a random
//! direction) for coefficients whose amplitude is below δ, so near-empty frequencies contribute
//! little phase difference. Its gradient is bounded by 1/δ, and the amplitude's by 1.

use burn::tensor::{Device, Tensor, TensorData};

/// Real and imaginary parts of the orthonormal 2-D DFT over the last two dimensions.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// Real part, `[N, C, H, W]`.
    pub re: Tensor<4>,
    /// Imaginary part, `[N, C, H, W]`.
    pub im: Tensor<4>,
}

/// The orthonormal 2-D DFT of every channel of `x` (`[N, C, H, W]`, any H, W ≥ 1).
pub fn dft2(x: Tensor<4>) -> Spectrum {
    let [n, c, h, w] = x.dims();
    let device = x.device();
    let (cos_h, sin_h) = dft_matrices(h, &device);
    let (cos_w, sin_w) = dft_matrices(w, &device);
    // Along W (right products), with the batch folded into rows.
    let rows = x.reshape([n * c * h, w]);
    let xc = rows.clone().matmul(cos_w).reshape([n * c, h, w]);
    let xs = rows.matmul(sin_w).reshape([n * c, h, w]);
    // Along H (left products M·Y = (Yᵀ·M)ᵀ, M symmetric).
    let left = |m: Tensor<2>, y: Tensor<3>| -> Tensor<3> {
        y.swap_dims(1, 2)
            .reshape([n * c * w, h])
            .matmul(m)
            .reshape([n * c, w, h])
            .swap_dims(1, 2)
    };
    let re = left(cos_h.clone(), xc.clone()) - left(sin_h.clone(), xs.clone());
    let im = (left(sin_h, xc) + left(cos_h, xs)).neg();
    Spectrum {
        re: re.reshape([n, c, h, w]),
        im: im.reshape([n, c, h, w]),
    }
}

/// `(C_N, S_N)`: cosine and sine DFT matrices of size N×N, scaled by 1/√N.
pub fn dft_matrices(size: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let scale = 1.0 / (size as f64).sqrt();
    let mut cos = Vec::with_capacity(size * size);
    let mut sin = Vec::with_capacity(size * size);
    for k in 0..size {
        for m in 0..size {
            let angle = std::f64::consts::TAU * ((k * m) % size) as f64 / size as f64;
            cos.push((angle.cos() * scale) as f32);
            sin.push((angle.sin() * scale) as f32);
        }
    }
    (
        Tensor::from_data(TensorData::new(cos, [size, size]), device),
        Tensor::from_data(TensorData::new(sin, [size, size]), device),
    )
}

/// Amplitude `|F|_δ = sqrt(Re² + Im² + δ²)` and unit phasor `(Re/|F|_δ, Im/|F|_δ)` of a
/// spectrum: `(amplitude, cos θ, sin θ)`.
pub fn amplitude_phasor(spectrum: Spectrum, delta: f64) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
    let Spectrum { re, im } = spectrum;
    let amp = (re.clone() * re.clone() + im.clone() * im.clone())
        .add_scalar(delta * delta)
        .sqrt();
    (amp.clone(), re / amp.clone(), im / amp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;
    use crate::losses::test_util::*;

    #[test]
    fn matches_torch_fft2_on_a_non_square_non_power_of_two_image() {
        let dev = cpu();
        let r = Reference::load();
        let s = dft2(r.tensor("spec_x", &dev));
        assert_eq!(s.re.dims(), [2, 3, 12, 10]);
        assert_close(
            "re",
            &host(s.re),
            r.values("expected_spectrum_re"),
            1e-4,
            1e-5,
        );
        assert_close(
            "im",
            &host(s.im),
            r.values("expected_spectrum_im"),
            1e-4,
            1e-5,
        );
    }

    #[test]
    fn hand_computed_dc_and_nyquist() {
        // 1x2 image [a, b]: orthonormal DFT = [(a+b)/√2, (a−b)/√2], no imaginary part.
        let dev = cpu();
        let x = Tensor::<4>::from_data(TensorData::new(vec![3f32, 1.0], [1, 1, 1, 2]), &dev);
        let s = dft2(x);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert_close("re", &host(s.re), &[4.0 * h, 2.0 * h], 1e-6, 1e-6);
        assert_close("im", &host(s.im), &[0.0, 0.0], 0.0, 1e-6);
    }

    #[test]
    fn parseval_holds() {
        // Orthonormal: Σ|F|² = Σ x².
        let dev = cpu();
        let x = Tensor::<4>::random(
            [1, 2, 9, 7],
            burn::tensor::Distribution::Uniform(-1.0, 1.0),
            &dev,
        );
        let energy: f64 = host(x.clone() * x.clone()).iter().sum();
        let s = dft2(x);
        let spec: f64 = host(s.re.clone() * s.re + s.im.clone() * s.im).iter().sum();
        assert!((energy - spec).abs() < 1e-4 * energy, "{energy} vs {spec}");
    }

    #[test]
    fn phasor_is_finite_and_differentiable_at_zero_amplitude() {
        // A constant image has zero amplitude at every non-DC frequency.
        let dev = cpu();
        let x = Tensor::<4>::ones([1, 1, 4, 4], &dev).mul_scalar(0.5);
        let g = input_grad(x, |x| {
            let (amp, cos, sin) = amplitude_phasor(dft2(x), 1e-3);
            amp.sum() + cos.sum() + sin.sum()
        });
        assert_finite_nonzero("phasor grad", &host(g));
    }
}
