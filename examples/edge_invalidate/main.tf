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

variable "distribution_id" {
  description = "The fansite_edge's distribution_id."
  type        = string
}

# After a deploy of the React build: `terraform apply -invoke=action.fansite_edge_invalidate.site`
# invalidates the pages that do not carry a content hash, and waits until
# every edge location serves the new ones.
action "fansite_edge_invalidate" "site" {
  config {
    distribution_id = var.distribution_id
    paths           = ["/index.html", "/manifest.json"]
  }
}
