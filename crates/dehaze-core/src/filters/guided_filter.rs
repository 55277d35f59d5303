//! PLACEHOLDER (naive): to be replaced by a fused running-sum implementation, same API.
use super::box_filter::box_mean;
use crate::buffer::Plane;

/// He et al.'s guided filter of `src` with the grey `guide`, radius `radius`, regulariser `eps`:
/// `a = cov(g,p)/(var(g)+eps)`, `b = mean(p) − a·mean(g)`, `q = mean(a)·g + mean(b)`,
/// box means clipped to the image.
pub fn guided_filter(guide: &Plane, src: &Plane, radius: usize, eps: f32) -> Plane {
    let (w, h) = (src.width(), src.height());
    let prod = |a: &Plane, b: &Plane| {
        Plane::from_vec(
            w,
            h,
            a.data().iter().zip(b.data()).map(|(x, y)| x * y).collect(),
        )
    };
    let mg = box_mean(guide, radius);
    let mp = box_mean(src, radius);
    let mgp = box_mean(&prod(guide, src), radius);
    let mgg = box_mean(&prod(guide, guide), radius);
    let mut a = vec![0.0f32; w * h];
    let mut b = vec![0.0f32; w * h];
    for i in 0..w * h {
        let (g, p) = (mg.data()[i], mp.data()[i]);
        a[i] = (mgp.data()[i] - g * p) / (mgg.data()[i] - g * g + eps);
        b[i] = p - a[i] * g;
    }
    let ma = box_mean(&Plane::from_vec(w, h, a), radius);
    let mb = box_mean(&Plane::from_vec(w, h, b), radius);
    Plane::from_vec(
        w,
        h,
        (0..w * h)
            .map(|i| ma.data()[i] * guide.data()[i] + mb.data()[i])
            .collect(),
    )
}
