use super::{MetricError, Rgb8};
pub fn brisque(_img: &Rgb8) -> Result<f64, MetricError> {
    Err(MetricError::Undefined {
        metric: "brisque",
        reason: "not yet implemented",
    })
}
