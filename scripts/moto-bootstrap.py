#!/usr/bin/env python3
"""Prepares a moto server started with request authentication for the integration tests.

moto only accepts signatures made with access keys that exist in its IAM, and only lets the
first INITIAL_NO_AUTH_ACTION_COUNT calls through unauthenticated. This script uses those first
calls to create a user with an access key and an allow-everything policy, then turns
authentication on for every later call (POST /moto-api/reset-auth 0), and prints the key as
shell exports. It never prints anything else on stdout.
Usage: moto-bootstrap.py http://127.0.0.1:PORT
"""
import json
import sys
import urllib.request

import boto3

url = sys.argv[1]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="dr-test")
key = iam.create_access_key(UserName="dr-test")["AccessKey"]
iam.put_user_policy(UserName="dr-test", PolicyName="admin", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}))
# From now on every call must be signed with a key moto knows.
req = urllib.request.Request(f"{url}/moto-api/reset-auth", data=b"0", method="POST",
                             headers={"Content-Type": "text/plain"})
urllib.request.urlopen(req, timeout=10).read()
print(f"export DR_TEST_AWS_ACCESS_KEY_ID={key['AccessKeyId']}")
print(f"export DR_TEST_AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")
