//! `terraform-provider-fansite`: process set-up only. Everything else is in the library.

use std::process::ExitCode;

use terraform_provider_fansite::{resources, tf};

/// The handshake cookie Terraform sets for every plugin it starts (go-plugin).
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

fn main() -> ExitCode {
    if matches!(
        std::env::args().nth(1).as_deref(),
        Some("--version" | "-v" | "version")
    ) {
        println!("terraform-provider-fansite {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "terraform-provider-fansite is a Terraform plugin: Terraform starts it; use it from a configuration with `provider \"fansite\" {{}}` (see README.md)."
        );
        return ExitCode::from(1);
    }
    // Backtraces stay out of diagnostics: an error is shown by its message.
    std::env::set_var("RUST_BACKTRACE", "0");
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    std::panic::set_hook(Box::new(|info| {
        tracing::error!("bug: the provider panicked: {info}");
        eprintln!("bug: the provider panicked: {info}");
    }));
    // One TLS stack: rustls on ring, for tonic and the AWS SDK's HTTP client
    // (`aws::https_client`). Chosen here rather than by crate features, so
    // that a dependency that enabled a second provider could not make the
    // first TLS handshake panic.
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("a rustls crypto provider was already installed");
    }
    init_logging();
    tracing::info!("terraform-provider-fansite {}", env!("CARGO_PKG_VERSION"));
    // tf-provider installs its own global logger when PLUGIN_LOG_FILE is set,
    // which would clash with ours: ours already goes where Terraform reads it.
    std::env::remove_var("PLUGIN_LOG_FILE");

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        ignore_sigint();
        match tf::serve(resources::served()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("provider server stopped: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// Terraform stops its plugins itself. A Ctrl-C reaches the whole process group;
/// a plugin that died of it mid-apply would lose the ids of what it just made.
fn ignore_sigint() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(mut sigint) => {
            tokio::spawn(async move {
                while sigint.recv().await.is_some() {
                    tracing::info!("SIGINT ignored: Terraform stops the provider when it is done");
                }
            });
        }
        Err(e) => eprintln!("cannot handle SIGINT: {e}"),
    }
}

/// Logs to stderr, which Terraform captures, at the level of TF_LOG_PROVIDER or TF_LOG.
fn init_logging() {
    let level = std::env::var("TF_LOG_PROVIDER")
        .or_else(|_| std::env::var("TF_LOG"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let filter = match level.as_str() {
        "trace" | "json" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" => "warn",
        "error" => "error",
        _ => "off",
    };
    // The AWS SDK's own logs at trace include request bodies; keep them at debug.
    let directives =
        format!("{filter},aws_smithy_runtime=warn,aws_sdk_ec2=warn,h2=warn,hyper=warn,tower=warn");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(directives))
        .try_init();
}
