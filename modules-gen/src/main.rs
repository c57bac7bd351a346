//! `fansite-gen`: renders per-workspace Terraform and the Terraform Cloud
//! set-up from the specs in workspaces/. This version only reports itself;
//! rendering arrives with its own change.

use std::process::ExitCode;

const USAGE: &str = "usage: fansite-gen --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V" | "version") => {
            println!("fansite-gen {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_the_workspace_version() {
        assert_eq!(env!("CARGO_PKG_VERSION"), "0.1.0");
    }
}
