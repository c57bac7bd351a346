# The API behind CloudFront over HTTPS, end to end: fans reach the site and
# /api/* only through CloudFront and its WAF; CloudFront reaches the load
# balancer over HTTPS on the API's own domain (which the load balancer's
# certificate covers), sending the origin secret; the load balancer lets in
# only CloudFront's origin-facing addresses, on 443, and answers 403 to any
# request without the secret.
#
# The certificates and the API's DNS record come from the hashicorp/aws
# provider: fansite makes the stack, not the account's domains.

terraform {
  required_providers {
    fansite = {
      source = "fansite/fansite"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

variable "zone_id" {
  description = "Route53 hosted zone of the site's domain, such as fans.example.com."
  type        = string
}

variable "site_domain" {
  description = "Where fans open the site."
  type        = string
  default     = "fans.example.com"
}

variable "api_domain" {
  description = "The API's own domain: CloudFront's origin, covered by the load balancer's certificate. Fans never call it; only CloudFront can."
  type        = string
  default     = "origin-api.fans.example.com"
}

variable "origin_secret_rotation" {
  description = "Change it (a date will do) to rotate the origin secret in place."
  type        = string
  default     = "2026-12"
}

provider "fansite" {
  region = "ap-northeast-2"
}

provider "aws" {
  region = "ap-northeast-2"
}

# CloudFront takes certificates from us-east-1 only.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

# The load balancer's certificate, for the API's own domain, in its region.
resource "aws_acm_certificate" "api" {
  domain_name       = var.api_domain
  validation_method = "DNS"
}

# The site's certificate, for CloudFront.
resource "aws_acm_certificate" "site" {
  provider          = aws.us_east_1
  domain_name       = var.site_domain
  validation_method = "DNS"
}

resource "aws_route53_record" "validation" {
  for_each = {
    for o in concat(
      tolist(aws_acm_certificate.api.domain_validation_options),
      tolist(aws_acm_certificate.site.domain_validation_options),
    ) : o.domain_name => o
  }
  zone_id = var.zone_id
  name    = each.value.resource_record_name
  type    = each.value.resource_record_type
  records = [each.value.resource_record_value]
  ttl     = 300
}

resource "aws_acm_certificate_validation" "api" {
  certificate_arn         = aws_acm_certificate.api.arn
  validation_record_fqdns = [aws_route53_record.validation[var.api_domain].fqdn]
}

resource "aws_acm_certificate_validation" "site" {
  provider                = aws.us_east_1
  certificate_arn         = aws_acm_certificate.site.arn
  validation_record_fqdns = [aws_route53_record.validation[var.site_domain].fqdn]
}

resource "fansite_network" "main" {
  name       = "fansite"
  cidr_block = "10.20.0.0/16"
}

resource "fansite_service" "api" {
  name      = "fansite-api"
  image     = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api"
  image_tag = "1.4.2"

  vpc_id             = fansite_network.main.vpc_id
  public_subnet_ids  = fansite_network.main.public_subnet_ids
  private_subnet_ids = fansite_network.main.private_subnet_ids

  # HTTPS on 443 (80 redirects), open to CloudFront's origin-facing
  # addresses only, forwarding only requests with the origin secret.
  certificate_arn        = aws_acm_certificate_validation.api.certificate_arn
  ingress                = "cloudfront"
  origin_secret_rotation = var.origin_secret_rotation
}

# The API's own domain points at the load balancer, so that CloudFront's
# TLS connection (SNI and certificate check on this name) succeeds.
resource "aws_route53_record" "api" {
  zone_id = var.zone_id
  name    = var.api_domain
  type    = "A"
  alias {
    name                   = fansite_service.api.alb_dns_name
    zone_id                = fansite_service.api.alb_zone_id
    evaluate_target_health = true
  }
}

resource "fansite_edge" "site" {
  name            = "fansite-site-ap-northeast-2"
  aliases         = [var.site_domain]
  certificate_arn = aws_acm_certificate_validation.site.certificate_arn
  hosted_zone_id  = var.zone_id

  # HTTPS to the API's own domain, with the service's origin secret; a
  # rotation of the service reaches the edge in the same apply.
  api_origin                = aws_route53_record.api.fqdn
  api_origin_protocol       = "https-only"
  api_origin_secret_arn     = fansite_service.api.origin_secret_arn
  api_origin_secret_version = fansite_service.api.origin_secret_version
}

output "site_url" {
  value = fansite_edge.site.url
}
