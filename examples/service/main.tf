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
  description = "The API version to run: a pushed semver tag, such as 1.4.2. A new one rolls the service without downtime."
  type        = string
  default     = "1.4.2"
}

variable "slack_webhook_url" {
  description = "Slack incoming webhook for the CPU alarm; in Terraform Cloud, a sensitive variable. Ephemeral: it is passed to a write-only argument and kept nowhere."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
}

variable "slack_webhook_url_version" {
  description = "Change it whenever slack_webhook_url changes: Terraform keeps no copy of a write-only value, so the version is what sends the new one to Secrets Manager."
  type        = string
  default     = "1"
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
  name       = "fansite-api-demo"
  cidr_block = "10.31.0.0/16"
}

resource "fansite_database" "main" {
  name       = "fansite-api-db"
  vpc_id     = fansite_network.main.vpc_id
  subnet_ids = fansite_network.main.private_subnet_ids

  # The demo destroys what it makes; keep the defaults (true, false) in production.
  deletion_protection = false
  skip_final_snapshot = true
}

# The Fastify API: Fargate tasks in the private subnets, the load balancer in
# the public ones, the database reachable on 3306 and its settings read from
# Secrets Manager when a task starts.
resource "fansite_service" "api" {
  name      = "fansite-api"
  image     = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api"
  image_tag = var.image_tag

  vpc_id             = fansite_network.main.vpc_id
  public_subnet_ids  = fansite_network.main.public_subnet_ids
  private_subnet_ids = fansite_network.main.private_subnet_ids

  environment = {
    NODE_ENV = "production"
  }
  secrets = {
    DB_HOST = "${fansite_database.main.connection_secret_arn}:host::"
    DB_USER = "${fansite_database.main.connection_secret_arn}:username::"
    DB_NAME = "${fansite_database.main.connection_secret_arn}:dbname::"
  }

  allow_to {
    security_group_id = fansite_database.main.security_group_id
    port              = 3306
  }

  autoscaling {
    min                 = 2
    max                 = 20
    target_cpu          = 60
    requests_per_target = 1000

    # Ticket sales open: have 10 tasks warm before the rush, back after.
    scheduled {
      name     = "ticket-day"
      schedule = "at(2026-12-12T19:45:00)"
      min      = 10
      max      = 40
    }
    scheduled {
      name     = "ticket-day-end"
      schedule = "at(2026-12-12T23:00:00)"
      min      = 2
      max      = 20
    }
  }

  health_check {
    path = "/health"
  }

  alerts {
    cpu_threshold                = 80
    evaluation_periods           = 3
    slack_webhook_url_wo         = var.slack_webhook_url
    slack_webhook_url_wo_version = var.slack_webhook_url_version
  }
}

output "url" {
  value = fansite_service.api.url
}

output "revision" {
  value = fansite_service.api.revision
}

output "task_definition_arn" {
  value = fansite_service.api.task_definition_arn
}

output "alarm_topic_arn" {
  value = fansite_service.api.alarm_topic_arn
}
