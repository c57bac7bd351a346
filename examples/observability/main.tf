terraform {
  required_providers {
    fansite = {
      source = "fansite/fansite"
    }
  }
}

variable "aws_endpoint" {
  description = "One endpoint URL for every AWS service, such as a local AWS endpoint; null for AWS itself."
  type        = string
  default     = null
}

provider "fansite" {
  region   = "ap-northeast-2"
  endpoint = var.aws_endpoint

  default_tags {
    tags = {
      project = "fansite"
    }
  }
}

# The stack being watched: network, database, sign-in, the API and the site.
resource "fansite_network" "main" {
  name       = "fansite-obs-demo"
  cidr_block = "10.32.0.0/16"
}

resource "fansite_database" "main" {
  name       = "fansite-obs-db"
  vpc_id     = fansite_network.main.vpc_id
  subnet_ids = fansite_network.main.private_subnet_ids

  # The demo destroys what it makes; keep the defaults (true, false) in production.
  deletion_protection = false
  skip_final_snapshot = true
}

resource "fansite_auth" "fans" {
  name = "fansite-obs-fans"

  # The demo destroys what it makes; keep this true in production.
  deletion_protection = false
}

resource "fansite_service" "api" {
  name      = "fansite-obs-api"
  image     = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api"
  image_tag = "1.4.2"

  vpc_id             = fansite_network.main.vpc_id
  public_subnet_ids  = fansite_network.main.public_subnet_ids
  private_subnet_ids = fansite_network.main.private_subnet_ids

  allow_to {
    security_group_id = fansite_database.main.security_group_id
    port              = 3306
  }
}

resource "fansite_edge" "site" {
  name         = "fansite-obs-site"
  api_origin   = "api.fans.example.com"
  content_hash = "build-2026-12-06"

  # The demo destroys what it makes; keep false in production.
  force_destroy = true
}

# Everything above on one dashboard, with alarms beyond the service's CPU one
# to the same topic (and so to Slack), and the Logs Insights queries saved.
resource "fansite_observability" "main" {
  name                   = "fansite-obs"
  alarm_topic_arn        = fansite_service.api.alarm_topic_arn
  service_arn            = fansite_service.api.service_arn
  alb_arn                = fansite_service.api.alb_arn
  service_log_group_name = fansite_service.api.log_group_name

  database_cluster_id = fansite_database.main.cluster_id
  distribution_id     = fansite_edge.site.distribution_id
  web_acl_arn         = fansite_edge.site.web_acl_arn
  waf_log_group_name  = "aws-waf-logs-${fansite_edge.site.name}"
  user_pool_id        = fansite_auth.fans.user_pool_id
  user_pool_client_id = fansite_auth.fans.client_id

  # A ticket day: page sooner when the API slows down.
  response_time_p95_ms = 800
}

output "dashboard_name" {
  value = fansite_observability.main.name
}

output "dashboard_url" {
  value = fansite_observability.main.dashboard_url
}

output "alarm_names" {
  value = fansite_observability.main.alarm_names
}

output "edge_alarm_topic_arn" {
  value = fansite_observability.main.edge_alarm_topic_arn
}

output "saved_queries" {
  value = keys(fansite_observability.main.saved_query_ids)
}
