//! `fansite-realistic`: the realistic layer as a process of its own, for
//! `REALISTIC=1 make demo`. Prints the URL to point `endpoint` at and runs
//! until it is killed.
//!
//! Usage: fansite-realistic <upstream URL> [port]

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(upstream) = args.next() else {
        eprintln!("usage: fansite-realistic <upstream URL> [port]");
        std::process::exit(2);
    };
    let port = args.next().unwrap_or_else(|| "0".into());
    let layer = realistic::Layer::start_on(
        &upstream,
        &format!("127.0.0.1:{port}"),
        realistic::Windows::from_env(),
    );
    println!("{}", layer.url);
    let mut seen = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let effects = layer.effects();
        for e in &effects[seen.min(effects.len())..] {
            eprintln!("realistic: {e}");
        }
        seen = effects.len();
    }
}
