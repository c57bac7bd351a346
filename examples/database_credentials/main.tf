terraform {
  required_version = ">= 1.10"
  required_providers {
    fansite = {
      source = "fansite/fansite"
    }
    mysql = {
      source = "petoju/mysql"
    }
  }
}

provider "fansite" {
  region = "ap-northeast-2"
}

# The database's master credentials, opened for this run only: read from the
# secret RDS manages, never written to plan or state.
ephemeral "fansite_database_credentials" "admin" {
  cluster_identifier = "fansite-db"
}

# A MySQL provider configured with them, to make the application's own user.
provider "mysql" {
  endpoint = "${ephemeral.fansite_database_credentials.admin.host}:${ephemeral.fansite_database_credentials.admin.port}"
  username = ephemeral.fansite_database_credentials.admin.username
  password = ephemeral.fansite_database_credentials.admin.password
}
