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

resource "fansite_network" "main" {
  name       = "fansite-db-demo"
  cidr_block = "10.21.0.0/16"
}

# Aurora MySQL in the network's private subnets: a writer, one reader in
# another zone, autoscaling to four readers at 60 % CPU. The master password
# stays with RDS in Secrets Manager; apps read connection_secret_arn.
resource "fansite_database" "main" {
  name       = "fansite-db"
  vpc_id     = fansite_network.main.vpc_id
  subnet_ids = fansite_network.main.private_subnet_ids

  readers {
    min        = 1
    max        = 4
    target_cpu = 60
  }

  # The demo destroys what it makes; keep the defaults (true, false) in production.
  deletion_protection = false
  skip_final_snapshot = true
}

output "writer_endpoint" {
  value = fansite_database.main.writer_endpoint
}

output "reader_endpoint" {
  value = fansite_database.main.reader_endpoint
}

output "master_secret_arn" {
  value = fansite_database.main.master_secret_arn
}

output "connection_secret_arn" {
  value = fansite_database.main.connection_secret_arn
}

output "security_group_id" {
  value = fansite_database.main.security_group_id
}
