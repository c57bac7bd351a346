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

variable "image_tag" {
  description = "The API version to run: a tag pushed to the service's repository, such as 1.4.2. The release workflow sets it."
  type        = string
  default     = "1.4.2"
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

resource "fansite_network" "main" {
  name         = "fansite-release"
  cidr_block   = "10.32.0.0/16"
  nat_strategy = "none"
}

# The API's image repository is the service's own: made with tag immutability,
# scan on push and a lifecycle policy. The service runs the digest that
# image_tag names in it, so a tag pushed again can never change what runs.
# The first apply makes the repository and every part but the ECS service;
# once the tag is pushed, the next apply starts the service.
resource "fansite_service" "api" {
  name      = "fansite-release"
  image_tag = var.image_tag

  repository {
    keep_images = 30

    # The demo destroys what it makes; keep false in production, so that a
    # destroy never deletes released images.
    force_delete = true
  }

  vpc_id             = fansite_network.main.vpc_id
  public_subnet_ids  = fansite_network.main.public_subnet_ids
  private_subnet_ids = fansite_network.main.private_subnet_ids
}

# The API's release workflow signs in with GitHub's OpenID Connect token and
# may push to this repository only, from a pushed version tag only.
resource "fansite_ci_access" "github" {
  name = "fansite-release"

  pipeline {
    name                = "api"
    repository          = "fansite/fansite-api"
    ecr_repository_arns = [fansite_service.api.repository_arn]
  }
}

# Where the workflow pushes: `docker push <repository_url>:<tag>`.
output "repository_url" {
  value = fansite_service.api.image
}

# What runs: the digest image_tag named when the revision was made.
output "image_digest" {
  value = fansite_service.api.image_digest
}

output "api_role_arn" {
  value = fansite_ci_access.github.role_arns["api"]
}
