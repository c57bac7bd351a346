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
  region   = "us-east-1"
  endpoint = var.aws_endpoint

  default_tags {
    tags = {
      project = "fansite"
    }
  }
}

# Two zones, one NAT gateway: the cost choice. Use nat_strategy = "per_az"
# to survive a zone outage.
resource "fansite_network" "main" {
  name               = "fansite"
  cidr_block         = "10.20.0.0/16"
  availability_zones = ["us-east-1a", "us-east-1b"]
  nat_strategy       = "single"

  tags = {
    tier = "shared"
  }
}

output "vpc_id" {
  value = fansite_network.main.vpc_id
}

output "public_subnet_ids" {
  value = fansite_network.main.public_subnet_ids
}

output "private_subnet_ids" {
  value = fansite_network.main.private_subnet_ids
}

output "nat_gateway_ids" {
  value = fansite_network.main.nat_gateway_ids
}

output "subnets_by_az" {
  value = fansite_network.main.subnets_by_az
}
