//! A small HTTP proxy between the provider and the endpoint that fails one
//! chosen AWS action with a non-retryable error and forwards everything else,
//! or only records the calls. The provider is pointed at it through its
//! per-service `endpoints {}` block or its `endpoint`.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use realistic::http::{aws_error, forward, read_request, Request};

/// Every request the proxy saw, in order: its operation (as `op_name` names it) and its body.
type Log = Arc<Mutex<Vec<(String, String)>>>;

pub struct FaultProxy {
    pub url: String,
    matched: Arc<AtomicUsize>,
    log: Log,
    answers: Log,
}

/// What the proxy answers instead of forwarding.
#[derive(Clone, Copy)]
pub struct Fault {
    pub status: u16,
    pub code: &'static str,
    /// How many matching requests fail; the rest are forwarded.
    pub times: usize,
}

impl FaultProxy {
    /// Fails every request for `action` with `InjectedFault`, a client error
    /// that is not retried. The action is `Action=<action>` in a query-protocol
    /// body (EC2, RDS) or the `X-Amz-Target` header of a JSON-protocol call
    /// (Cognito, Secrets Manager, Application Auto Scaling), or the method and
    /// path a REST call starts with (`"POST /2020-05-31/distribution"`).
    pub fn start(upstream: &str, action: &str) -> FaultProxy {
        Self::start_with(
            upstream,
            action,
            Fault {
                status: 400,
                code: "InjectedFault",
                times: usize::MAX,
            },
        )
    }

    pub fn start_with(upstream: &str, action: &str, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy addr"));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let needle = action.to_string();
        let matched = Arc::new(AtomicUsize::new(0));
        let counter = matched.clone();
        let log: Log = Arc::new(Mutex::new(Vec::new()));
        let answers: Log = Arc::new(Mutex::new(Vec::new()));
        let writers = (log.clone(), answers.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (upstream, needle, counter, writers) = (
                    upstream.clone(),
                    needle.clone(),
                    counter.clone(),
                    writers.clone(),
                );
                std::thread::spawn(move || {
                    let _ = handle(conn, &upstream, &needle, &counter, fault, &writers);
                });
            }
        });
        FaultProxy {
            url,
            matched,
            log,
            answers,
        }
    }

    /// A proxy that fails nothing and only records the calls it forwards.
    pub fn record(upstream: &str) -> FaultProxy {
        Self::start_with(
            upstream,
            "no such operation",
            Fault {
                status: 400,
                code: "InjectedFault",
                times: 0,
            },
        )
    }

    /// The calls seen so far: (operation, body), operation being the
    /// `X-Amz-Target` operation, the query `Action`, or for a REST call (S3,
    /// CloudFront, Lambda) its method and path without the query string
    /// (`"GET /2015-03-31/functions/fansite-slack"`).
    pub fn calls(&self) -> Vec<(String, String)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The answers given so far, in order: (operation, response body).
    pub fn answers(&self) -> Vec<(String, String)> {
        self.answers.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// How many matching requests came (failed on purpose, or forwarded after the faults ran out).
    pub fn matched(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

fn handle(
    mut conn: TcpStream,
    upstream: &str,
    needle: &str,
    matched: &AtomicUsize,
    fault: Fault,
    (log, answers): &(Log, Log),
) -> std::io::Result<()> {
    let req = read_request(&mut conn)?;
    let op = op_name(&req);
    if let Ok(mut l) = log.lock() {
        l.push((op.clone(), req.body_text()));
    }
    // A REST API (CloudFront) is matched by method and path: "POST /2020-05-31/distribution".
    let hit = if is_rest(&req) {
        op.starts_with(needle)
    } else {
        op == needle
    };
    let res = if hit && matched.fetch_add(1, Ordering::SeqCst) < fault.times {
        aws_error(
            &req,
            fault.status,
            fault.code,
            "the test proxy failed this call on purpose",
        )
    } else {
        forward(upstream, &req)?
    };
    if let Ok(mut l) = answers.lock() {
        l.push((op, res.text()));
    }
    res.write_to(&mut conn)
}

/// A call of a REST API (S3, CloudFront, Lambda, Route53): neither an
/// `X-Amz-Target` header nor a query-protocol body names its operation.
fn is_rest(req: &Request) -> bool {
    !req.is_json() && req.form.is_empty()
}

/// The name a call is logged under: the `X-Amz-Target` operation or the
/// query `Action`; for a REST call, its method and path without the query
/// (`"GET /2020-05-31/distribution/E2QWRUHEXAMPLE"`, `"HEAD /my-bucket"`).
fn op_name(req: &Request) -> String {
    if is_rest(req) {
        format!("{} {}", req.method, req.path)
    } else {
        req.op.clone()
    }
}
