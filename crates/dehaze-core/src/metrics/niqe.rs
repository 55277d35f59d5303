use super::{MetricError, Rgb8};
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NiqeLuma {
    Y,
    Gray,
}
pub fn niqe(_img: &Rgb8, _l: NiqeLuma) -> Result<f64, MetricError> {
    Err(MetricError::Undefined {
        metric: "niqe",
        reason: "not yet implemented",
    })
}
