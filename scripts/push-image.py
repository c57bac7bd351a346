#!/usr/bin/env python3
"""Pushes an image manifest to an ECR repository through the ECR API, as the
end of a `docker push` does: the demo's stand-in for a release build, on the
local endpoint. On AWS the release workflow builds and pushes a real image.

usage: push-image.py ENDPOINT REGION REPOSITORY TAG
Prints the digest ECR gives the image."""
import hashlib
import json
import sys

import boto3


def main() -> None:
    endpoint, region, repository, tag = sys.argv[1:5]
    layer = hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + hashlib.sha256(b"config").hexdigest(),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 32654,
                "digest": "sha256:" + layer,
            }
        ],
    }
    ecr = boto3.client(
        "ecr",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    out = ecr.put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )
    print(out["image"]["imageId"]["imageDigest"])


if __name__ == "__main__":
    main()
