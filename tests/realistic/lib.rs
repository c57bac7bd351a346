//! The realistic layer: an HTTP proxy between the provider and the local AWS
//! endpoint that makes the endpoint behave as AWS does, where it matters to a
//! provider: parts that take a while to become ready or to go, network
//! interfaces that outlive their owners, roles not yet assumable, updates in
//! progress.
//!
//! The local endpoint (moto) is instant and forgiving: a NAT gateway is
//! `available` at once, a deleted load balancer leaves nothing behind, a role
//! works the moment it exists. The provider's waits, retries and delete order
//! never meet AWS there. This layer gives each behaviour a time window
//! ([`Windows`]), a few seconds each so that the suite stays fast; one
//! constant, `FANSITE_REALISTIC_SCALE` (default 1), scales them all. Each
//! behaviour below names the AWS documentation or the terraform-provider-aws
//! retry condition it comes from.
//!
//! The layer never fakes a result the endpoint gives: it forwards every call,
//! rewrites only the status fields of what the endpoint answered while a
//! window is open, refuses a call with AWS's own error code and message, or
//! holds an RDS delete back and sends it at the end of its window. What the
//! endpoint does not serve at all (CloudFront's PublishFunction and monitoring
//! subscriptions, CloudWatch Logs' query definitions, SSM's
//! DescribeInstanceInformation) it answers itself, as AWS documents those
//! calls, from what it keeps or from what the endpoint has (ARCHITECTURE.md
//! lists them). What it did is kept in [`Layer::effects`], so that a test can
//! show the behaviour happened.

pub mod http;
mod world;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use world::Windows;
use world::World;

/// A running layer: `url` is what the provider's `endpoint` is set to.
pub struct Layer {
    pub url: String,
    world: Arc<Mutex<World>>,
}

impl Layer {
    /// Starts the layer in front of `upstream` on a free loopback port, with
    /// the windows from the environment ([`Windows::from_env`]).
    pub fn start(upstream: &str) -> Layer {
        Self::start_on(upstream, "127.0.0.1:0", Windows::from_env())
    }

    pub fn start_on(upstream: &str, bind: &str, windows: Windows) -> Layer {
        let listener = TcpListener::bind(bind).expect("bind the realistic layer");
        let url = format!("http://{}", listener.local_addr().expect("layer address"));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let world = Arc::new(Mutex::new(World::new(windows)));
        let accepting = world.clone();
        let up = upstream.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (world, up) = (accepting.clone(), up.clone());
                std::thread::spawn(move || {
                    let _ = world::serve(conn, &up, &world);
                });
            }
        });
        let ticking = world.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            world::send_due(&upstream, &ticking);
        });
        Layer { url, world }
    }

    /// What the layer did, in order: "DeleteSubnet subnet-… refused: DependencyViolation", ...
    pub fn effects(&self) -> Vec<String> {
        self.world
            .lock()
            .map(|w| w.effects.clone())
            .unwrap_or_default()
    }

    /// The windows it runs with.
    pub fn windows(&self) -> Windows {
        self.world.lock().map(|w| w.win).unwrap_or_default()
    }
}
