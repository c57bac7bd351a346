//! The HTTP the layer needs: one request per connection (it answers
//! `Connection: close`), bodies by Content-Length or chunked.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

/// A request as it came, and what the layer reads from it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The head without its final blank line, every line ending in CRLF.
    pub head: String,
    pub body: Vec<u8>,
    pub method: String,
    /// The path without the query string, percent-decoded.
    pub path: String,
    /// `X-Amz-Target`'s operation (JSON protocol), the query protocol's
    /// `Action`, or for a REST call the name the layer gives it.
    pub op: String,
    /// The query protocol's parameters (EC2, RDS, ELB, IAM).
    pub form: BTreeMap<String, String>,
    /// The JSON protocol's body (ECS, Secrets Manager, Cognito, WAF, ...) and Lambda's.
    pub json: serde_json::Value,
}

impl Request {
    /// A query-protocol parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.form.get(key).map(String::as_str)
    }

    /// Every `Prefix.member.N` (or `Prefix.N`) parameter, in order.
    pub fn members(&self, prefix: &str) -> Vec<String> {
        let dotted = format!("{prefix}.");
        self.form
            .iter()
            .filter(|(k, _)| k.starts_with(&dotted))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A string field of the JSON body.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(|v| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_json(&self) -> bool {
        header(&self.head, "x-amz-target").is_some()
    }

    /// The region a SigV4-signed request is for, from its credential scope
    /// (`Credential=AKID/date/region/service/aws4_request`).
    pub fn region(&self) -> Option<&str> {
        let scope = header(&self.head, "authorization")?
            .split("Credential=")
            .nth(1)?;
        scope.split('/').nth(2).filter(|r| !r.is_empty())
    }

    /// EC2's query protocol (its own error shape).
    pub fn is_ec2(&self) -> bool {
        self.param("Version") == Some("2016-11-15")
    }
}

/// A response as it will be sent.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Header lines, without Content-Length, Transfer-Encoding and Connection.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn set_text(&mut self, body: String) {
        self.body = body.into_bytes();
    }

    pub fn set_json(&mut self, v: &serde_json::Value) {
        self.body = v.to_string().into_bytes();
    }

    pub fn new(status: u16, content_type: &str, body: String) -> Response {
        Response {
            status,
            reason: reason(status).into(),
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into_bytes(),
        }
    }

    pub fn write_to(&self, conn: &mut TcpStream) -> std::io::Result<()> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        conn.write_all(out.as_bytes())?;
        conn.write_all(&self.body)
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        _ => "Status",
    }
}

pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn read_head(conn: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i + 2]).into_owned();
            return Ok((head, buf[i + 4..].to_vec()));
        }
    }
}

/// Reads the rest of a body after its head: by Content-Length, chunked, or to the end.
fn read_body(
    conn: &mut TcpStream,
    head: &str,
    mut got: Vec<u8>,
    until_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let mut chunk = [0u8; 16384];
    let chunked = header(head, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let len = header(head, "content-length").and_then(|v| v.parse::<usize>().ok());
    loop {
        let complete = if chunked {
            got.windows(5).any(|w| w == b"0\r\n\r\n")
        } else if let Some(len) = len {
            got.len() >= len
        } else {
            !until_eof
        };
        if complete {
            break;
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
    }
    Ok(if chunked { dechunk(&got) } else { got })
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = raw.windows(2).position(|w| w == b"\r\n") {
        let size_line = String::from_utf8_lossy(&raw[..i]).into_owned();
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        raw = &raw[i + 2..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
    out
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one request from a client.
pub fn read_request(conn: &mut TcpStream) -> std::io::Result<Request> {
    let (head, rest) = read_head(conn)?;
    let body = read_body(conn, &head, rest, false)?;
    let chunked = header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
    // Forwarded with a Content-Length from here on.
    let head: String = head
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.starts_with("connection:")
                && !(chunked
                    && (l.starts_with("transfer-encoding:") || l.starts_with("content-length:")))
        })
        .map(|l| format!("{l}\r\n"))
        .collect();
    let head = if chunked {
        format!("{head}Content-Length: {}\r\n", body.len())
    } else {
        head
    };
    let line = head.lines().next().unwrap_or_default().to_string();
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let path = percent_decode(target.split('?').next().unwrap_or_default());
    let text = String::from_utf8_lossy(&body).into_owned();
    let form: BTreeMap<String, String> = if header(&head, "content-type")
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        text.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (percent_decode(k), percent_decode(v)))
            .collect()
    } else {
        BTreeMap::new()
    };
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let op = match header(&head, "x-amz-target") {
        Some(t) => t.rsplit('.').next().unwrap_or_default().to_string(),
        None => match form.get("Action") {
            Some(a) => a.clone(),
            None => rest_op(&method, &path),
        },
    };
    Ok(Request {
        head,
        body,
        method,
        path,
        op,
        form,
        json,
    })
}

/// The names the layer gives the REST calls it looks at (Lambda, CloudFront, Route53).
fn rest_op(method: &str, path: &str) -> String {
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    let op = match (method, seg.as_slice()) {
        ("POST", ["2015-03-31", "functions"]) => "CreateFunction",
        ("GET", ["2015-03-31", "functions", _]) => "GetFunction",
        ("GET", ["2015-03-31", "functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("PUT", ["2015-03-31", "functions", _, "configuration"]) => "UpdateFunctionConfiguration",
        ("PUT", ["2015-03-31", "functions", _, "code"]) => "UpdateFunctionCode",
        ("POST", ["2015-03-31", "functions", _, "policy"]) => "AddPermission",
        ("POST", ["2020-05-31", "distribution"]) => "CreateDistribution",
        ("GET", ["2020-05-31", "distribution"]) => "ListDistributions",
        ("GET", ["2020-05-31", "distribution", _]) => "GetDistribution",
        ("PUT", ["2020-05-31", "distribution", _, "config"]) => "UpdateDistribution",
        ("DELETE", ["2020-05-31", "distribution", _]) => "DeleteDistribution",
        ("POST", ["2020-05-31", "distribution", _, "invalidation"]) => "CreateInvalidation",
        ("GET", ["2020-05-31", "distribution", _, "invalidation", _]) => "GetInvalidation",
        ("DELETE", ["2020-05-31", "origin-access-control", _]) => "DeleteOriginAccessControl",
        // CloudFront Functions (named apart from Lambda's functions).
        ("POST", ["2020-05-31", "function", _, "publish"]) => "PublishFunction",
        ("DELETE", ["2020-05-31", "function", _]) => "DeleteCloudFrontFunction",
        ("POST", ["2020-05-31", "distributions", _, "monitoring-subscription"]) => {
            "CreateMonitoringSubscription"
        }
        ("GET", ["2020-05-31", "distributions", _, "monitoring-subscription"]) => {
            "GetMonitoringSubscription"
        }
        ("DELETE", ["2020-05-31", "distributions", _, "monitoring-subscription"]) => {
            "DeleteMonitoringSubscription"
        }
        ("POST", ["2013-04-01", "hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        ("GET", ["2013-04-01", "change", _]) => "GetChange",
        _ => "",
    };
    op.to_string()
}

/// The path segment at `i` (`/2015-03-31/functions/{name}` → 2 is the name).
pub fn segment(path: &str, i: usize) -> String {
    path.trim_matches('/')
        .split('/')
        .nth(i)
        .unwrap_or_default()
        .to_string()
}

/// Sends `req` to `upstream` as it came and reads the whole answer.
pub fn forward(upstream: &str, req: &Request) -> std::io::Result<Response> {
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(req.head.as_bytes())?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&req.body)?;
    let (head, rest) = read_head(&mut up)?;
    let body = read_body(&mut up, &head, rest, true)?;
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let _version = parts.next();
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(502);
    let reason = parts.next().unwrap_or_default().to_string();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k != "content-length" && k != "transfer-encoding" && k != "connection"
        })
        .collect();
    Ok(Response {
        status,
        reason,
        headers,
        body,
    })
}

/// The error AWS sends for `req`'s protocol: JSON (`__type`), Lambda's REST
/// JSON (`x-amzn-ErrorType`), EC2's XML, or the other query and REST XML
/// services' `ErrorResponse`.
pub fn aws_error(req: &Request, status: u16, code: &str, message: &str) -> Response {
    if req.is_json() {
        let body = serde_json::json!({"__type": code, "message": message}).to_string();
        return Response::new(status, "application/x-amz-json-1.1", body);
    }
    if req.path.starts_with("/2015-03-31/") {
        let body = serde_json::json!({"Type": "User", "message": message}).to_string();
        let mut res = Response::new(status, "application/json", body);
        res.headers.push(("x-amzn-ErrorType".into(), code.into()));
        return res;
    }
    let body = if req.is_ec2() {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>realistic-layer</RequestID></Response>")
    } else {
        format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>realistic-layer</RequestId></ErrorResponse>")
    };
    Response::new(status, "text/xml", body)
}
