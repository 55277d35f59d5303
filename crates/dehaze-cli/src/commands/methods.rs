//! `dehaze methods`: what `--method` accepts.

use dehaze_core::Method;
use std::process::ExitCode;

pub fn run() -> anyhow::Result<ExitCode> {
    println!("{:<6} description", "method");
    for m in Method::ALL {
        let default = if m == Method::Dcp { " [default]" } else { "" };
        println!("{:<6} {}{default}", m.name(), m.description());
    }
    Ok(ExitCode::SUCCESS)
}
