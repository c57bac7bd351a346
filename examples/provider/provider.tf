terraform {
  required_providers {
    fansite = {
      source = "fansite/fansite"
    }
  }
}

provider "fansite" {
  region = "ap-northeast-2"

  default_tags {
    tags = {
      project = "fansite"
      owner   = "platform-team"
    }
  }
}
