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

# One NAT gateway: the host in the private subnet reaches Systems Manager
# through it.
resource "fansite_network" "main" {
  name         = "fansite-bastion-demo"
  cidr_block   = "10.41.0.0/16"
  nat_strategy = "single"
}

resource "fansite_database" "main" {
  name       = "fansite-bastion-db"
  vpc_id     = fansite_network.main.vpc_id
  subnet_ids = fansite_network.main.private_subnet_ids

  # The demo destroys what it makes; keep the defaults (true, false) in production.
  deletion_protection = false
  skip_final_snapshot = true
}

# Developers reach the database through Session Manager: a small host in a
# private subnet with no inbound rule and no SSH key, every session logged to
# CloudWatch Logs. The host may reach the database on 3306; a developer runs
# port_forward_command, then connects to 127.0.0.1:3306. Attach
# developer_policy_json to the developers' group: sessions on this host with
# this bastion's documents only.
resource "fansite_bastion" "dev" {
  name      = "fansite-example-dev"
  mode      = "ssm"
  vpc_id    = fansite_network.main.vpc_id
  subnet_id = fansite_network.main.private_subnet_ids[0]

  allow_to {
    security_group_id = fansite_database.main.security_group_id
    port              = 3306
  }

  port_forward {
    host = fansite_database.main.writer_endpoint
    port = 3306
  }
}

output "port_forward_command" {
  value = fansite_bastion.dev.port_forward_command
}

output "developer_policy_json" {
  value = fansite_bastion.dev.developer_policy_json
}

output "session_document_name" {
  value = fansite_bastion.dev.session_document_name
}
