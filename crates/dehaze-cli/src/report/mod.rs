//! What `dehaze eval` writes: the results model ([`model`]), its tables ([`tables`]:
//! `results.csv`, `summary.md`, `summary.json`), the self-contained `report.html` ([`html`])
//! and the images it shows ([`thumbnail`]). Commands fill the model; nothing here runs a
//! method or reads an image file.

pub mod html;
pub mod model;
pub mod tables;
pub mod thumbnail;
