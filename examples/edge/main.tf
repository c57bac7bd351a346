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
}

# The front door: the React build in a private bucket behind CloudFront, /api/*
# to the API's load balancer, WAF (made in us-east-1 by the resource itself)
# blocking floods of more than 2000 requests per IP in 5 minutes.
resource "fansite_edge" "site" {
  name                = "fansite-web-demo"
  api_origin          = "api.fans.example.com"
  api_origin_protocol = "https-only"
  rate_limit          = 2000
  content_hash        = "build-2026-11-25"

  # The demo destroys what it makes; keep false in production.
  force_destroy = true
}

output "url" {
  value = fansite_edge.site.url
}

output "bucket_name" {
  value = fansite_edge.site.bucket_name
}

output "distribution_id" {
  value = fansite_edge.site.distribution_id
}

output "web_acl_arn" {
  value = fansite_edge.site.web_acl_arn
}
