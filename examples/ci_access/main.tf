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

resource "fansite_edge" "site" {
  name         = "fansite-ci-site"
  api_origin   = "api.fans.example.com"
  content_hash = "build-2026-12-06"

  # The demo destroys what it makes; keep false in production.
  force_destroy = true
}

# The release pipelines sign in to AWS with GitHub's OpenID Connect token: no
# access keys anywhere. A pushed version tag of the API's repository may push
# its image; one of the site's repository may sync its bucket and invalidate
# its distribution. Nothing else, and no branch or pull request.
resource "fansite_ci_access" "github" {
  name = "fansite-release"

  pipeline {
    name                = "api"
    repository          = "fansite/fansite-api"
    ecr_repository_arns = ["arn:aws:ecr:ap-northeast-2:123456789012:repository/fansite-api"]
  }

  pipeline {
    name              = "site"
    repository        = "fansite/fansite-web"
    bucket_arns       = [fansite_edge.site.bucket_arn]
    distribution_arns = [fansite_edge.site.distribution_arn]
  }
}

# Each workflow's `role-to-assume` (a repository variable of its repository).
output "role_arns" {
  value = fansite_ci_access.github.role_arns
}

output "oidc_provider_arn" {
  value = fansite_ci_access.github.oidc_provider_arn
}
