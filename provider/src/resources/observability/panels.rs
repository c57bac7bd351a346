//! What the observability resource watches, written once: the metrics it may
//! use (each with the AWS documentation page that defines it), the panels of
//! the dashboard, the alarms and the Logs Insights queries. From these come
//! the CloudWatch dashboard body and the Grafana dashboard model, so that the
//! two show the same panels.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Where a namespace's metrics are defined.
pub struct Source {
    pub namespace: &'static str,
    pub page: &'static str,
}

pub const SOURCES: &[Source] = &[
    Source {
        namespace: "AWS/ApplicationELB",
        page: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html",
    },
    Source {
        namespace: "AWS/ECS",
        page: "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html",
    },
    Source {
        namespace: "ECS/ContainerInsights",
        page: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html",
    },
    Source {
        namespace: "AWS/RDS",
        page: "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html",
    },
    Source {
        namespace: "AWS/CloudFront",
        page: "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html",
    },
    Source {
        namespace: "AWS/WAFV2",
        page: "https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html",
    },
    Source {
        namespace: "AWS/Cognito",
        page: "https://docs.aws.amazon.com/cognito/latest/developerguide/metrics-for-cognito-user-pools.html",
    },
];

/// A metric AWS publishes: its namespace, name and the dimensions it is
/// published with, as the namespace's page ([`SOURCES`]) lists them.
pub struct Metric {
    pub namespace: &'static str,
    pub name: &'static str,
    pub dimensions: &'static [&'static str],
}

const fn m(
    namespace: &'static str,
    name: &'static str,
    dimensions: &'static [&'static str],
) -> Metric {
    Metric {
        namespace,
        name,
        dimensions,
    }
}

const ALB: &str = "AWS/ApplicationELB";
const ECS: &str = "AWS/ECS";
const INSIGHTS: &str = "ECS/ContainerInsights";
const RDS: &str = "AWS/RDS";
const CF: &str = "AWS/CloudFront";
const WAF: &str = "AWS/WAFV2";
const COGNITO: &str = "AWS/Cognito";

const LB: &[&str] = &["LoadBalancer"];
const SERVICE: &[&str] = &["ClusterName", "ServiceName"];
/// Aurora publishes instance metrics aggregated per cluster by this dimension
/// ("Amazon CloudWatch dimensions for Aurora").
const CLUSTER: &[&str] = &["DBClusterIdentifier"];
/// CloudFront's metrics are global: `Region` is always `Global`, and they are
/// in us-east-1.
const DIST: &[&str] = &["DistributionId", "Region"];
/// A web ACL for CloudFront has no `Region` dimension; `Rule` is `ALL` for
/// the web ACL as a whole. Its metrics are in us-east-1.
const ACL: &[&str] = &["WebACL", "Rule"];
const POOL: &[&str] = &["UserPool", "UserPoolClient"];

/// Every metric a panel or an alarm may use.
pub const METRICS: &[Metric] = &[
    m(ALB, "RequestCount", LB),
    m(ALB, "HTTPCode_ELB_5XX_Count", LB),
    m(ALB, "HTTPCode_Target_5XX_Count", LB),
    m(ALB, "HTTPCode_Target_4XX_Count", LB),
    m(ALB, "TargetResponseTime", LB),
    m(ALB, "ActiveConnectionCount", LB),
    m(ALB, "NewConnectionCount", LB),
    m(ALB, "RejectedConnectionCount", LB),
    m(ALB, "ConsumedLCUs", LB),
    m(ECS, "CPUUtilization", SERVICE),
    m(ECS, "MemoryUtilization", SERVICE),
    m(INSIGHTS, "RunningTaskCount", SERVICE),
    m(INSIGHTS, "DesiredTaskCount", SERVICE),
    m(INSIGHTS, "PendingTaskCount", SERVICE),
    m(RDS, "Queries", CLUSTER),
    m(RDS, "SelectThroughput", CLUSTER),
    m(RDS, "DMLThroughput", CLUSTER),
    m(RDS, "SelectLatency", CLUSTER),
    m(RDS, "DMLLatency", CLUSTER),
    m(RDS, "DatabaseConnections", CLUSTER),
    m(RDS, "CPUUtilization", CLUSTER),
    m(RDS, "FreeableMemory", CLUSTER),
    m(RDS, "AuroraReplicaLagMaximum", CLUSTER),
    m(CF, "Requests", DIST),
    m(CF, "BytesDownloaded", DIST),
    m(CF, "4xxErrorRate", DIST),
    m(CF, "5xxErrorRate", DIST),
    m(CF, "TotalErrorRate", DIST),
    // Additional metrics, which fansite_edge turns on (`additional_metrics`).
    m(CF, "CacheHitRate", DIST),
    m(CF, "OriginLatency", DIST),
    m(WAF, "AllowedRequests", ACL),
    m(WAF, "BlockedRequests", ACL),
    m(WAF, "CountedRequests", ACL),
    m(COGNITO, "SignUpSuccesses", POOL),
    m(COGNITO, "SignInSuccesses", POOL),
    m(COGNITO, "TokenRefreshSuccesses", POOL),
];

/// The table's entry for `namespace`/`name`, if the table has it.
pub fn metric(namespace: &str, name: &str) -> Option<&'static Metric> {
    METRICS
        .iter()
        .find(|x| x.namespace == namespace && x.name == name)
}

/// CloudFront and its web ACL publish only here.
pub const GLOBAL_REGION: &str = "us-east-1";

/// What the dashboard watches: the parts of a stack, by the values their
/// metrics and logs are named by.
#[derive(Clone, Debug, PartialEq)]
pub struct Watched {
    pub name: String,
    pub region: String,
    pub cluster: String,
    pub service: String,
    /// `app/<name>/<id>`: the load balancer's `LoadBalancer` dimension.
    pub load_balancer: String,
    pub service_log_group: String,
    pub database: Option<String>,
    pub distribution: Option<String>,
    /// The web ACL's metric name (its name).
    pub web_acl: Option<String>,
    pub waf_log_group: Option<String>,
    pub user_pool: Option<(String, String)>,
    pub session_log_group: Option<String>,
}

/// One line of a metric panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub namespace: &'static str,
    pub metric: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    /// `Sum`, `Average`, `Maximum`, `Minimum` or a percentile such as `p95`.
    pub stat: &'static str,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Metrics(Vec<Line>),
    /// A Logs Insights query over one log group.
    Logs {
        log_group: String,
        query: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub region: String,
    pub body: Body,
}

/// A row of panels under a heading.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub title: &'static str,
    pub panels: Vec<Panel>,
}

fn line(
    namespace: &'static str,
    metric: &'static str,
    dimensions: &[(&'static str, &str)],
    stat: &'static str,
    label: &str,
) -> Line {
    Line {
        namespace,
        metric,
        dimensions: dimensions
            .iter()
            .map(|(k, v)| (*k, (*v).to_string()))
            .collect(),
        stat,
        label: label.to_string(),
    }
}

fn metrics(title: &str, region: &str, lines: Vec<Line>) -> Panel {
    Panel {
        title: title.to_string(),
        region: region.to_string(),
        body: Body::Metrics(lines),
    }
}

fn logs(title: &str, region: &str, log_group: &str, query: &str) -> Panel {
    Panel {
        title: title.to_string(),
        region: region.to_string(),
        body: Body::Logs {
            log_group: log_group.to_string(),
            query: query.to_string(),
        },
    }
}

/// A saved Logs Insights query: its key, the group it reads, the query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub key: &'static str,
    pub title: &'static str,
    pub region: String,
    pub log_group: String,
    pub query: &'static str,
}

impl Query {
    /// The query as a dashboard's log panel and the `saved_queries` output write it.
    pub fn with_source(&self) -> String {
        format!("SOURCE '{}' | {}", self.log_group, self.query)
    }
}

/// Fastify (pino) logs one JSON line per response with `res.statusCode`.
pub const RESPONSES_BY_STATUS: &str = "filter ispresent(res.statusCode) | stats count(*) as responses by bin(1m), floor(res.statusCode / 100) * 100 as status_class";
/// Fastify logs `incoming request` once per request.
pub const REQUESTS: &str =
    "filter msg = \"incoming request\" | stats count(*) as requests by bin(1m)";
/// WAF log fields (WAF Developer Guide, "Log fields for web ACL traffic").
pub const WAF_COUNTRIES: &str =
    "stats count(*) as requests by httpRequest.country | sort requests desc | limit 20";
pub const WAF_BLOCKING_RULES: &str = "filter action = \"BLOCK\" | stats count(*) as blocked by terminatingRuleId | sort blocked desc | limit 20";
pub const WAF_ACTIONS: &str = "stats count(*) as requests by bin(5m), action";
/// Session Manager writes each session to its own log stream.
pub const SESSIONS: &str = "stats earliest(@timestamp) as started, latest(@timestamp) as ended, count(*) as lines by @logStream | sort started desc | limit 50";

/// The saved queries for what is watched.
pub fn queries(w: &Watched) -> Vec<Query> {
    let q = |key, title, region: &str, group: &str, query| Query {
        key,
        title,
        region: region.to_string(),
        log_group: group.to_string(),
        query,
    };
    let mut out = vec![
        q(
            "ecs-responses-by-status",
            "API responses by status class",
            &w.region,
            &w.service_log_group,
            RESPONSES_BY_STATUS,
        ),
        q(
            "ecs-requests",
            "API requests",
            &w.region,
            &w.service_log_group,
            REQUESTS,
        ),
    ];
    if let Some(group) = &w.waf_log_group {
        out.push(q(
            "waf-top-countries",
            "Requests by country",
            GLOBAL_REGION,
            group,
            WAF_COUNTRIES,
        ));
        out.push(q(
            "waf-blocking-rules",
            "Blocked requests by rule",
            GLOBAL_REGION,
            group,
            WAF_BLOCKING_RULES,
        ));
        out.push(q(
            "waf-actions",
            "Allowed and blocked requests",
            GLOBAL_REGION,
            group,
            WAF_ACTIONS,
        ));
    }
    if let Some(group) = &w.session_log_group {
        out.push(q(
            "ssm-sessions",
            "Session Manager sessions",
            &w.region,
            group,
            SESSIONS,
        ));
    }
    out
}

/// The dashboard's rows, in order.
pub fn rows(w: &Watched) -> Vec<Row> {
    let r = w.region.as_str();
    let lb = [("LoadBalancer", w.load_balancer.as_str())];
    let svc = [
        ("ClusterName", w.cluster.as_str()),
        ("ServiceName", w.service.as_str()),
    ];
    let saved: BTreeMap<&str, Query> = queries(w).into_iter().map(|q| (q.key, q)).collect();
    let log_panel = |key: &str| {
        saved
            .get(key)
            .map(|q| logs(q.title, &q.region, &q.log_group, q.query))
    };
    let mut rows = vec![Row {
        title: "Load balancer",
        panels: vec![
            metrics(
                "Requests",
                r,
                vec![line(ALB, "RequestCount", &lb, "Sum", "requests")],
            ),
            metrics(
                "Errors",
                r,
                vec![
                    line(
                        ALB,
                        "HTTPCode_ELB_5XX_Count",
                        &lb,
                        "Sum",
                        "load balancer 5xx",
                    ),
                    line(ALB, "HTTPCode_Target_5XX_Count", &lb, "Sum", "API 5xx"),
                    line(ALB, "HTTPCode_Target_4XX_Count", &lb, "Sum", "API 4xx"),
                ],
            ),
            metrics(
                "Latency",
                r,
                vec![
                    line(ALB, "TargetResponseTime", &lb, "p50", "p50"),
                    line(ALB, "TargetResponseTime", &lb, "p95", "p95"),
                    line(ALB, "TargetResponseTime", &lb, "p99", "p99"),
                ],
            ),
            metrics(
                "Connections and capacity",
                r,
                vec![
                    line(ALB, "ActiveConnectionCount", &lb, "Sum", "active"),
                    line(ALB, "NewConnectionCount", &lb, "Sum", "new"),
                    line(ALB, "RejectedConnectionCount", &lb, "Sum", "rejected"),
                    line(ALB, "ConsumedLCUs", &lb, "Sum", "LCUs"),
                ],
            ),
        ],
    }];
    let mut service = vec![
        metrics(
            "Tasks",
            r,
            vec![
                line(INSIGHTS, "RunningTaskCount", &svc, "Average", "running"),
                line(INSIGHTS, "DesiredTaskCount", &svc, "Average", "desired"),
                line(INSIGHTS, "PendingTaskCount", &svc, "Average", "pending"),
            ],
        ),
        metrics(
            "CPU and memory",
            r,
            vec![
                line(ECS, "CPUUtilization", &svc, "Average", "CPU %"),
                line(ECS, "MemoryUtilization", &svc, "Average", "memory %"),
            ],
        ),
    ];
    service.extend(log_panel("ecs-responses-by-status"));
    service.extend(log_panel("ecs-requests"));
    rows.push(Row {
        title: "API service",
        panels: service,
    });
    if let Some(db) = &w.database {
        let c = [("DBClusterIdentifier", db.as_str())];
        rows.push(Row {
            title: "Database",
            panels: vec![
                metrics(
                    "Query throughput",
                    r,
                    vec![
                        line(RDS, "Queries", &c, "Average", "queries/s"),
                        line(RDS, "SelectThroughput", &c, "Average", "selects/s"),
                        line(RDS, "DMLThroughput", &c, "Average", "writes/s"),
                    ],
                ),
                metrics(
                    "Query latency",
                    r,
                    vec![
                        line(RDS, "SelectLatency", &c, "Average", "select ms"),
                        line(RDS, "DMLLatency", &c, "Average", "write ms"),
                    ],
                ),
                metrics(
                    "Connections",
                    r,
                    vec![line(RDS, "DatabaseConnections", &c, "Sum", "connections")],
                ),
                metrics(
                    "Resources",
                    r,
                    vec![
                        line(RDS, "CPUUtilization", &c, "Maximum", "CPU %"),
                        line(RDS, "FreeableMemory", &c, "Minimum", "free memory"),
                    ],
                ),
                metrics(
                    "Replica lag",
                    r,
                    vec![line(
                        RDS,
                        "AuroraReplicaLagMaximum",
                        &c,
                        "Maximum",
                        "lag ms",
                    )],
                ),
            ],
        });
    }
    if let Some(dist) = &w.distribution {
        let d = [("DistributionId", dist.as_str()), ("Region", "Global")];
        let g = GLOBAL_REGION;
        rows.push(Row {
            title: "CloudFront",
            panels: vec![
                metrics(
                    "Requests",
                    g,
                    vec![line(CF, "Requests", &d, "Sum", "requests")],
                ),
                metrics(
                    "Error rates",
                    g,
                    vec![
                        line(CF, "4xxErrorRate", &d, "Average", "4xx %"),
                        line(CF, "5xxErrorRate", &d, "Average", "5xx %"),
                        line(CF, "TotalErrorRate", &d, "Average", "all errors %"),
                    ],
                ),
                metrics(
                    "Caching",
                    g,
                    vec![line(CF, "CacheHitRate", &d, "Average", "cache hit %")],
                ),
                metrics(
                    "Traffic and origin latency",
                    g,
                    vec![
                        line(CF, "BytesDownloaded", &d, "Sum", "bytes"),
                        line(CF, "OriginLatency", &d, "p95", "origin p95 ms"),
                    ],
                ),
            ],
        });
    }
    if w.web_acl.is_some() || w.waf_log_group.is_some() {
        let mut panels = Vec::new();
        if let Some(acl) = &w.web_acl {
            let a = [("WebACL", acl.as_str()), ("Rule", "ALL")];
            panels.push(metrics(
                "Allowed and blocked",
                GLOBAL_REGION,
                vec![
                    line(WAF, "AllowedRequests", &a, "Sum", "allowed"),
                    line(WAF, "BlockedRequests", &a, "Sum", "blocked"),
                    line(WAF, "CountedRequests", &a, "Sum", "counted"),
                ],
            ));
        }
        panels.extend(log_panel("waf-top-countries"));
        panels.extend(log_panel("waf-blocking-rules"));
        panels.extend(log_panel("waf-actions"));
        rows.push(Row {
            title: "WAF",
            panels,
        });
    }
    if let Some((pool, client)) = &w.user_pool {
        let p = [
            ("UserPool", pool.as_str()),
            ("UserPoolClient", client.as_str()),
        ];
        rows.push(Row {
            title: "Sign-up and log-in",
            panels: vec![metrics(
                "Sign-ups and log-ins",
                r,
                vec![
                    line(COGNITO, "SignUpSuccesses", &p, "Sum", "sign-ups"),
                    line(COGNITO, "SignInSuccesses", &p, "Sum", "log-ins"),
                    line(
                        COGNITO,
                        "TokenRefreshSuccesses",
                        &p,
                        "Sum",
                        "token refreshes",
                    ),
                ],
            )],
        });
    }
    if let Some(panel) = log_panel("ssm-sessions") {
        rows.push(Row {
            title: "Developer access",
            panels: vec![panel],
        });
    }
    rows
}

/// Panels are this wide and high, on the 24-column grid both dashboards use.
const WIDTH: i64 = 8;
const HEIGHT: i64 = 6;
const COLUMNS: i64 = 24;

/// Where each panel goes: `(row index, panel index) → (x, y)`, rows under
/// their headings, three panels a line. Returns the heading's y per row too.
fn layout(rows: &[Row], top: i64) -> (Vec<i64>, Vec<Vec<(i64, i64)>>) {
    let mut y = top;
    let mut headings = Vec::new();
    let mut at = Vec::new();
    for row in rows {
        headings.push(y);
        y += 1;
        let mut places = Vec::new();
        for (i, _) in row.panels.iter().enumerate() {
            let i = i64::try_from(i).unwrap_or(0);
            let per_line = COLUMNS / WIDTH;
            places.push(((i % per_line) * WIDTH, y + (i / per_line) * HEIGHT));
        }
        let per_line = COLUMNS / WIDTH;
        let lines = (i64::try_from(row.panels.len()).unwrap_or(0) + per_line - 1) / per_line;
        y += lines * HEIGHT;
        at.push(places);
    }
    (headings, at)
}

/// The header panel's Markdown: what the dashboard watches, one input a row.
/// Import reads the inputs back from it ([`inputs_from_header`]).
pub fn header(name: &str, inputs: &[(&'static str, String)]) -> String {
    let mut md = format!(
        "# {name}\nThe fan site's stack, as `fansite_observability` watches it.\n\n| input | value |\n|---|---|\n"
    );
    for (k, v) in inputs {
        md.push_str(&format!("| `{k}` | `{v}` |\n"));
    }
    md
}

/// The inputs a dashboard's header panel names, by attribute name.
pub fn inputs_from_header(body: &Value) -> BTreeMap<String, String> {
    let markdown = body["widgets"]
        .as_array()
        .and_then(|w| w.first())
        .and_then(|w| w["properties"]["markdown"].as_str())
        .unwrap_or_default();
    markdown
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", k, v, ""] if k.starts_with('`') && v.starts_with('`') => Some((
                    k.trim_matches('`').to_string(),
                    v.trim_matches('`').to_string(),
                )),
                _ => None,
            }
        })
        .collect()
}

fn cloudwatch_line(l: &Line) -> Value {
    let mut row = vec![json!(l.namespace), json!(l.metric)];
    for (k, v) in &l.dimensions {
        row.push(json!(k));
        row.push(json!(v));
    }
    row.push(json!({ "stat": l.stat, "label": l.label }));
    Value::Array(row)
}

/// The CloudWatch dashboard body (the "Dashboard Body Structure and Syntax"
/// reference), as canonical JSON.
pub fn cloudwatch_body(w: &Watched, inputs: &[(&'static str, String)]) -> String {
    let rows = rows(w);
    let (headings, places) = layout(&rows, HEIGHT);
    let mut widgets = vec![json!({
        "type": "text", "x": 0, "y": 0, "width": COLUMNS, "height": HEIGHT,
        "properties": { "markdown": header(&w.name, inputs) },
    })];
    for ((row, y), places) in rows.iter().zip(&headings).zip(&places) {
        widgets.push(json!({
            "type": "text", "x": 0, "y": y, "width": COLUMNS, "height": 1,
            "properties": { "markdown": format!("## {}", row.title) },
        }));
        for (panel, (x, y)) in row.panels.iter().zip(places) {
            let properties = match &panel.body {
                Body::Metrics(lines) => json!({
                    "title": panel.title,
                    "region": panel.region,
                    "view": "timeSeries",
                    "stacked": false,
                    "period": 60,
                    "metrics": lines.iter().map(cloudwatch_line).collect::<Vec<_>>(),
                }),
                Body::Logs { log_group, query } => json!({
                    "title": panel.title,
                    "region": panel.region,
                    "view": "table",
                    "query": format!("SOURCE '{log_group}' | {query}"),
                }),
            };
            let kind = match panel.body {
                Body::Metrics(_) => "metric",
                Body::Logs { .. } => "log",
            };
            widgets.push(json!({
                "type": kind, "x": x, "y": y, "width": WIDTH, "height": HEIGHT,
                "properties": properties,
            }));
        }
    }
    canonical(&json!({ "widgets": widgets }))
}

/// A stable Grafana `uid` for the dashboard named `name`: at most 40
/// characters, the same on every plan.
pub fn grafana_uid(name: &str) -> String {
    // FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fansite-{h:016x}")
}

/// The same dashboard as a Grafana dashboard model, over a CloudWatch data
/// source picked by the `datasource` variable: no nulls, sorted keys, and
/// no `id` or `version` (Grafana's own, which the grafana provider drops).
pub fn grafana_dashboard(w: &Watched) -> String {
    let rows = rows(w);
    let (headings, places) = layout(&rows, 0);
    let ds = json!({ "type": "cloudwatch", "uid": "${datasource}" });
    let mut panels = Vec::new();
    let mut id = 0;
    let mut next_id = || {
        id += 1;
        id
    };
    for ((row, y), places) in rows.iter().zip(&headings).zip(&places) {
        panels.push(json!({
            "id": next_id(), "type": "row", "title": row.title, "collapsed": false,
            "gridPos": { "x": 0, "y": y, "w": COLUMNS, "h": 1 },
            "panels": [],
        }));
        for (panel, (x, y)) in row.panels.iter().zip(places) {
            let grid = json!({ "x": x, "y": y, "w": WIDTH, "h": HEIGHT });
            let p = match &panel.body {
                Body::Metrics(lines) => {
                    let targets: Vec<Value> = lines
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            let dims: serde_json::Map<String, Value> = l
                                .dimensions
                                .iter()
                                .map(|(k, v)| ((*k).to_string(), json!(v)))
                                .collect();
                            json!({
                                "datasource": ds,
                                "refId": ref_id(i),
                                "queryMode": "Metrics",
                                "metricQueryType": 0,
                                "metricEditorMode": 0,
                                "namespace": l.namespace,
                                "metricName": l.metric,
                                "dimensions": dims,
                                "matchExact": true,
                                "statistic": l.stat,
                                "period": "60",
                                "region": panel.region,
                                "label": l.label,
                                "id": "",
                                "expression": "",
                            })
                        })
                        .collect();
                    json!({
                        "id": next_id(), "type": "timeseries", "title": panel.title,
                        "datasource": ds, "gridPos": grid, "targets": targets,
                        "fieldConfig": { "defaults": {}, "overrides": [] },
                        "options": { "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true } },
                    })
                }
                Body::Logs { log_group, query } => json!({
                    "id": next_id(), "type": "table", "title": panel.title,
                    "datasource": ds, "gridPos": grid,
                    "targets": [{
                        "datasource": ds,
                        "refId": "A",
                        "queryMode": "Logs",
                        "region": panel.region,
                        "logGroupNames": [log_group],
                        "expression": query,
                        "id": "",
                        "statsGroups": [],
                    }],
                    "fieldConfig": { "defaults": {}, "overrides": [] },
                    "options": {},
                }),
            };
            panels.push(p);
        }
    }
    let model = json!({
        "uid": grafana_uid(&w.name),
        "title": w.name,
        "tags": ["fansite"],
        "timezone": "browser",
        "schemaVersion": 39,
        "editable": true,
        "graphTooltip": 1,
        "refresh": "1m",
        "time": { "from": "now-3h", "to": "now" },
        "timepicker": {},
        "annotations": { "list": [] },
        "links": [],
        "templating": { "list": [{
            "name": "datasource",
            "label": "CloudWatch",
            "type": "datasource",
            "query": "cloudwatch",
            "refresh": 1,
            "hide": 0,
            "includeAll": false,
            "multi": false,
            "options": [],
            "current": {},
            "regex": "",
        }] },
        "panels": panels,
    });
    canonical(&model)
}

/// `A`, `B`, … `Z`, `AA`, …: Grafana's query ids.
fn ref_id(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = String::new();
    let mut n = i + 1;
    while n > 0 {
        n -= 1;
        s.insert(0, char::from(letters[n % 26]));
        n /= 26;
    }
    s
}

/// JSON with every object's keys sorted and no whitespace, whatever
/// serde_json's map order is: the same value is always the same text.
pub fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    write(&m[*k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(&sorted(v), &mut out);
    out
}

/// Every metric line of a set of rows, for the check against [`METRICS`].
pub fn lines(rows: &[Row]) -> Vec<&Line> {
    rows.iter()
        .flat_map(|r| &r.panels)
        .filter_map(|p| match &p.body {
            Body::Metrics(lines) => Some(lines),
            Body::Logs { .. } => None,
        })
        .flatten()
        .collect()
}
