terraform {
  required_providers {
    fansite = { source = "fansite/fansite" }
  }
}

variable "aws_endpoint" {
  description = "Local AWS endpoint for the demo; leave null for real AWS."
  type        = string
  default     = null
}

provider "fansite" {
  region   = "us-east-1"
  endpoint = var.aws_endpoint
}

# Sign-up and log-in for fans: email as the username, a required nickname,
# TOTP MFA optional per fan, a public client for the React frontend.
resource "fansite_auth" "fans" {
  name          = "fansite-fans"
  callback_urls = ["https://fans.example.com/auth/callback", "http://localhost:5173/auth/callback"]
  logout_urls   = ["https://fans.example.com/"]
  domain_prefix = "fansite-fans-login"
  groups = {
    admin     = "Site staff"
    moderator = "Removes posts that break the rules"
  }

  # The demo destroys what it makes; keep this true in production.
  deletion_protection = false
}

output "user_pool_id" {
  value = fansite_auth.fans.user_pool_id
}

output "client_id" {
  value = fansite_auth.fans.client_id
}

output "issuer_url" {
  value = fansite_auth.fans.issuer_url
}

output "hosted_ui" {
  value = fansite_auth.fans.domain
}
