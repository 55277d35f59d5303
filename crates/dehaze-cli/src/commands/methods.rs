//! `dehaze methods`: what `--method` accepts; for networks, their size and whether this build
//! can run them without `--weights`.

use dehaze_nn::restorer::MethodChoice;
use std::process::ExitCode;

pub fn run() -> anyhow::Result<ExitCode> {
    let all = MethodChoice::all();
    let width = all.iter().map(|m| m.name().len()).max().unwrap_or(0);
    println!(
        "{:<width$} {:>11}  {:<15} description",
        "method", "parameters", "weights"
    );
    for m in all {
        let (params, weights) = match m {
            MethodChoice::Prior(_) => ("-".to_string(), "none needed"),
            MethodChoice::Network(k) => (
                thousands(k.num_params()),
                if crate::bundled::WEIGHTS.get(k).is_some() {
                    "bundled"
                } else {
                    "--weights FILE"
                },
            ),
        };
        let default = if m == MethodChoice::DEFAULT {
            " [default]"
        } else {
            ""
        };
        println!(
            "{:<width$} {params:>11}  {weights:<15} {}{default}",
            m.name(),
            m.description()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `55657426` as `55,657,426`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(55_657_426), "55,657,426");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(0), "0");
    }
}
