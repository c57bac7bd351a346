terraform {
  required_version = ">= 1.14"
  required_providers {
    fansite = {
      source = "fansite/fansite"
    }
  }
}

provider "fansite" {
  region = "ap-northeast-2"
}

# `terraform apply -invoke=action.fansite_service_redeploy.api` starts new
# tasks of the current revision (new secrets values, say), one batch at a
# time, and waits for the service to be steady; a rollback is an error.
action "fansite_service_redeploy" "api" {
  config {
    cluster = "fan-api"
    service = "fan-api"
  }
}
