//! A small HTTP proxy between the provider and the endpoint that fails one
//! chosen AWS action with a non-retryable error and forwards everything else.
//! The provider is pointed at it through its per-service `endpoints {}` block.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Every request the proxy saw, in order: its operation and its body.
type Log = Arc<Mutex<Vec<(String, String)>>>;

pub struct FaultProxy {
    pub url: String,
    matched: Arc<AtomicUsize>,
    log: Log,
}

/// What the proxy answers instead of forwarding.
#[derive(Clone, Copy)]
pub struct Fault {
    pub status: &'static str,
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
                status: "400 Bad Request",
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
        let writer = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (upstream, needle, counter, writer) = (
                    upstream.clone(),
                    needle.clone(),
                    counter.clone(),
                    writer.clone(),
                );
                std::thread::spawn(move || {
                    let _ = handle(conn, &upstream, &needle, &counter, fault, &writer);
                });
            }
        });
        FaultProxy { url, matched, log }
    }

    /// A proxy that fails nothing and only records the calls it forwards.
    pub fn record(upstream: &str) -> FaultProxy {
        Self::start_with(
            upstream,
            "no such operation",
            Fault {
                status: "400 Bad Request",
                code: "InjectedFault",
                times: 0,
            },
        )
    }

    /// The calls seen so far: (operation, body), operation being the
    /// `X-Amz-Target` operation or the query `Action`.
    pub fn calls(&self) -> Vec<(String, String)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// How many matching requests came (failed on purpose, or forwarded after the faults ran out).
    pub fn matched(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

fn read_request(conn: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[header_end..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

fn handle(
    mut conn: TcpStream,
    upstream: &str,
    needle: &str,
    matched: &AtomicUsize,
    fault: Fault,
    log: &Log,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut conn)?;
    let form = format!("{}&", String::from_utf8_lossy(&body));
    let target = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("x-amz-target")
            .then(|| v.trim().rsplit('.').next().unwrap_or_default().to_string())
    });
    let operation = target.clone().unwrap_or_else(|| {
        form.split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or_default()
            .to_string()
    });
    if let Ok(mut l) = log.lock() {
        l.push((operation, String::from_utf8_lossy(&body).into_owned()));
    }
    // A REST API (CloudFront) is matched by method and path: "POST /2020-05-31/distribution".
    let request_line = head.lines().next().unwrap_or_default();
    let hit = match &target {
        Some(op) => op == needle,
        None if needle.contains(' ') => request_line.starts_with(needle),
        None => form.contains(&format!("Action={needle}&")),
    };
    if hit && matched.fetch_add(1, Ordering::SeqCst) < fault.times {
        let message = "the test proxy failed this call on purpose";
        let (content_type, payload) = if target.is_some() {
            (
                "application/x-amz-json-1.1",
                format!(
                    "{{\"__type\":\"{}\",\"message\":\"{message}\"}}",
                    fault.code
                ),
            )
        } else if form.contains("Version=2016-11-15&") {
            // EC2's own error shape.
            (
                "text/xml",
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>", fault.code),
            )
        } else {
            // The other query-protocol services (RDS, ...).
            (
                "text/xml",
                format!("<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>", fault.code),
            )
        };
        let resp = format!(
            "HTTP/1.1 {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            fault.status,
            payload.len()
        );
        conn.write_all(resp.as_bytes())?;
        return Ok(());
    }
    let head: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\r\n"))
        .collect();
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(head.as_bytes())?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    conn.write_all(&resp)?;
    Ok(())
}
