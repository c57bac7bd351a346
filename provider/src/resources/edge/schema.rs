use crate::schema::{Attribute, Block, Schema, Ty};
use crate::value::Dyn;

use super::{
    rules, DEFAULT_MANAGED_RULE_GROUPS, DEFAULT_RATE_LIMIT, DEFAULT_WAF_LOG_RETENTION_DAYS,
};

pub fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: "The global front door of the site: a private S3 bucket for the built React app, CloudFront in front of it (Origin Access Control, HTTPS, HTTP/2 and HTTP/3, compression, security headers, and a CloudFront Function that serves `/index.html` for the single-page app's routes but never for the API) with an optional API origin, a WAF web ACL (managed rules, a per-IP rate limit, optional geo blocking) made in us-east-1 whatever the provider's region, and Route53 alias records.".into(),
            attributes: vec![
                Attribute::required("name", Ty::String, "Name of the S3 bucket (globally unique: 3 to 63 lowercase letters, digits, `-` and `.`), and the prefix of the origin access control (`<name>-oac`) and web ACL (`<name>-waf`). Changing it replaces the edge.").force_new().rule(rules::bucket_name, "an S3 bucket name: 3 to 63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit"),
                Attribute::optional("api_origin", Ty::String, "Host name of the API, such as the API's own domain, or a fansite_service's `alb_dns_name` with `api_origin_protocol = \"http-only\"`. Requests matching `api_path_pattern` go there, uncached, with every header, cookie and query string.").rule(rules::host_name, "a host name only, with no scheme and no path"),
                Attribute::optional_computed("api_path_pattern", Ty::String, "Path pattern routed to `api_origin`.").default("/api/*").rule(rules::api_path, "a path under the site, such as `/api/*` (not `/*`)"),
                Attribute::optional_computed("api_origin_protocol", Ty::String, "How CloudFront reaches `api_origin`: `https-only`, `http-only` (an ALB without a certificate) or `match-viewer`. `https-only` needs an `api_origin` that the origin's certificate covers, such as the API's own domain: it is refused for a load balancer's `*.elb.amazonaws.com` name, which no certificate of the load balancer covers (every request would fail with 502).").default("https-only").one_of(&["https-only", "http-only", "match-viewer"]),
                Attribute::optional("api_origin_secret_arn", Ty::String, "A fansite_service's `origin_secret_arn` (a service with `ingress = \"cloudfront\"`): its value is sent to `api_origin` in the `X-Origin-Verify` header, which that service's load balancer asks for. The value is read from Secrets Manager when the distribution is written (the provider's credentials need `secretsmanager:GetSecretValue` on it) and is never in the plan or the state; after the service rotates it, the next plan of the edge sends the new one.").rule(rules::secret_arn, "a Secrets Manager secret ARN").not_refreshed("a distribution holds the header's value, not the secret it came from; read compares the value with the secret's versions."),
                Attribute::optional_computed("api_origin_secret_version", Ty::String, "The version of `api_origin_secret_arn` to send: a fansite_service's `origin_secret_version`, so that a rotation of the service reaches the edge in the same apply. Left out: the secret's current version when the edge is applied, and a rotation shows in the edge's next plan."),
                Attribute::optional("aliases", Ty::list_of_strings(), "Domains the site answers on, such as `[\"fans.example.com\"]`; needs `certificate_arn`."),
                Attribute::optional("certificate_arn", Ty::String, "ARN of an ACM certificate in us-east-1 covering `aliases`; viewers then need TLS 1.2 or later. Without it, the distribution's own `*.cloudfront.net` name and certificate are used.").rule(rules::us_east_1_certificate, "an ACM certificate ARN in us-east-1"),
                Attribute::optional("hosted_zone_id", Ty::String, "Route53 hosted zone in which an A and an AAAA alias record is made for each of `aliases`. Read back from the zone: when a record is gone or points elsewhere, the zone reads as unset and the plan writes the records again."),
                Attribute::optional_computed("price_class", Ty::String, "Edge locations served from: `PriceClass_All` (every region, for fans worldwide), `PriceClass_200` or `PriceClass_100`.").default("PriceClass_All").one_of(&["PriceClass_All", "PriceClass_200", "PriceClass_100"]),
                Attribute::optional_computed("rate_limit", Ty::Number, &format!("Requests one IP may make in 5 minutes before WAF blocks it (default {DEFAULT_RATE_LIMIT}): the ticket-day flood guard.")).default(DEFAULT_RATE_LIMIT).range(100, 2_000_000_000),
                Attribute::optional_computed("managed_rule_groups", Ty::list_of_strings(), "AWS managed WAF rule groups, in order. Default: `AWSManagedRulesCommonRuleSet`, `AWSManagedRulesKnownBadInputsRuleSet`, `AWSManagedRulesAmazonIpReputationList`.").default(Dyn::from_strings(DEFAULT_MANAGED_RULE_GROUPS.iter().copied())).rule(rules::managed_rule_group, "AWS managed rule groups, such as `AWSManagedRulesCommonRuleSet`"),
                Attribute::optional("geo_block", Ty::list_of_strings(), "Countries whose requests WAF blocks, as ISO 3166 alpha-2 codes such as `[\"XX\"]`.").rule(rules::country_code, "ISO 3166 alpha-2 codes such as `KR`"),
                Attribute::optional("content_hash", Ty::String, "A hash of the built site (for example `filesha256` over the build). When it changes, every path is invalidated and the apply waits until the edge caches have dropped them.").not_refreshed("the provider's own trigger for an invalidation; AWS keeps no hash of the site."),
                Attribute::optional_computed("force_destroy", Ty::Bool, "Delete the site's files with the bucket on destroy. When false (the default), destroying an edge whose bucket still holds files fails and keeps them.").default(false).not_refreshed("how the provider deletes the bucket, not a setting of the bucket."),
                Attribute::optional_computed("waf_logs", Ty::Bool, "Log every request the web ACL sees (allowed, counted or blocked, and by which rule) to the CloudWatch Logs group `aws-waf-logs-<name>` in us-east-1, with the `authorization` and `cookie` headers redacted: what a dashboard of blocked requests and attackers reads. WAF sets the group's resource policy for log delivery (the caller needs `logs:PutResourcePolicy`). Turning it off stops the logging and deletes the group and its logs.").default(true),
                Attribute::optional_computed("waf_log_retention_days", Ty::Number, &format!("Days CloudWatch Logs keeps the web ACL's logs: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653 (default {DEFAULT_WAF_LOG_RETENTION_DAYS}).")).default(i64::from(DEFAULT_WAF_LOG_RETENTION_DAYS)),
                Attribute::optional_computed("additional_metrics", Ty::Bool, "CloudFront's additional metrics of the distribution in CloudWatch (us-east-1), each minute: cache hit rate, origin latency, and error rates by status (401, 403, 404, 502, 503, 504), what a dashboard of the edge reads. Each metric is billed as a CloudWatch custom metric.").default(true),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for the bucket, distribution, web ACL and its log group, on top of the provider's `default_tags`."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("bucket_name", Ty::String, "Name of the site bucket; upload the build here."),
                Attribute::computed("bucket_arn", Ty::String, "ARN of the site bucket."),
                Attribute::computed("origin_access_control_id", Ty::String, "ID of the origin access control through which CloudFront reads the bucket."),
                Attribute::computed("distribution_id", Ty::String, "ID of the CloudFront distribution."),
                Attribute::computed("distribution_arn", Ty::String, "ARN of the CloudFront distribution."),
                Attribute::computed("domain_name", Ty::String, "The distribution's own domain name, `*.cloudfront.net`."),
                Attribute::computed("url", Ty::String, "`https://` and the first alias, or the distribution's domain name."),
                Attribute::computed("web_acl_id", Ty::String, "ID of the WAF web ACL."),
                Attribute::computed("web_acl_arn", Ty::String, "ARN of the WAF web ACL (in us-east-1)."),
                Attribute::computed("site_routes_function_arn", Ty::String, "ARN of the CloudFront Function (`<name>-spa`, cloudfront-js-2.0) on the site's viewer requests: a path without a file extension, such as `/artists/123`, is served `/index.html`, so that the app's own routes open and reload. The API's path pattern has no function, and the distribution has no custom error responses: the API's 404s and WAF's 403s reach the client as they are."),
                Attribute::computed("invalidation_id", Ty::String, "ID of the invalidation made for the last change of `content_hash`."),
            ],
            blocks: vec![],
        },
    }
}
