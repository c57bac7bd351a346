//! `fansite-gen`: renders per-workspace Terraform and the Terraform Cloud
//! set-up from the specs in `workspaces/`. A thin CLI over the `fansite_gen` core.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fansite_gen::{diff, generate, is_generated, load, provider_sources, Backend, GenError};

const USAGE: &str = "usage: fansite-gen <render|check|diff|sources> [--root DIR] [--out DIR] [--backend cloud|local]

  render   write the generated files (refuses to overwrite a file without the fansite-gen header)
  check    exit 1 and print a unified diff when the files on disk differ from what the specs render
  diff     print what render would change, write nothing
  sources  print the provider source addresses the workspaces install fansite from, one a line

  --root DIR       the repository: reads DIR/workspaces/*.toml and DIR/templates (default: .)
  --out DIR        where the files go (default: the root)
  --backend local  a local state file instead of Terraform Cloud, no bootstrap, no Grafana part and no release workflows (for a local demo)";

struct Args {
    command: String,
    root: PathBuf,
    out: Option<PathBuf>,
    backend: Backend,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    let command = it.next().cloned().ok_or("no command")?;
    let mut out = Args {
        command,
        root: PathBuf::from("."),
        out: None,
        backend: Backend::Cloud,
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--root" => out.root = PathBuf::from(it.next().ok_or("--root needs a directory")?),
            "--out" => out.out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            "--backend" => {
                out.backend = match it.next().map(String::as_str) {
                    Some("cloud") => Backend::Cloud,
                    Some("local") => Backend::Local,
                    other => return Err(format!("--backend {other:?}: use cloud or local")),
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out)
}

fn run(args: &Args) -> Result<bool, String> {
    let specs = load(&args.root).map_err(|e| e.to_string())?;
    if args.command == "sources" {
        for s in provider_sources(&specs).map_err(|e| e.to_string())? {
            println!("{s}");
        }
        return Ok(true);
    }
    let files =
        generate(&specs, &args.root.join("templates"), args.backend).map_err(|e| e.to_string())?;
    let out_root: &Path = args.out.as_deref().unwrap_or(&args.root);
    let on_disk = |rel: &str| std::fs::read_to_string(out_root.join(rel)).ok();
    match args.command.as_str() {
        "render" => {
            // Refuse before writing anything.
            let foreign: Vec<String> = files
                .keys()
                .filter(|rel| on_disk(rel).is_some_and(|t| !is_generated(&t)))
                .map(|rel| GenError::NotGenerated { path: rel.clone() }.to_string())
                .collect();
            if !foreign.is_empty() {
                return Err(foreign.join("\n"));
            }
            let mut written = 0;
            for (rel, text) in &files {
                if on_disk(rel).as_deref() == Some(text.as_str()) {
                    continue;
                }
                let path = out_root.join(rel);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
                written += 1;
            }
            println!(
                "fansite-gen: {} files from {} specs, {written} written",
                files.len(),
                specs.len()
            );
            Ok(true)
        }
        "check" | "diff" => {
            let mut same = true;
            for (rel, text) in &files {
                if let Some(d) = diff(rel, on_disk(rel).as_deref(), text) {
                    same = false;
                    print!("{d}");
                }
            }
            if args.command == "check" {
                if same {
                    println!("fansite-gen: {} files match the specs", files.len());
                } else {
                    eprintln!("fansite-gen: generated files differ from the specs; run `fansite-gen render`");
                }
                Ok(same)
            } else {
                Ok(true)
            }
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if matches!(
        argv.first().map(String::as_str),
        Some("--version" | "-V" | "version")
    ) {
        println!("fansite-gen {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fansite-gen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprint!("{e}");
            if !e.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(1)
        }
    }
}
