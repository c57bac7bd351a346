"""fansite Slack notifier: posts a CloudWatch alarm that SNS delivers to a Slack webhook.

The webhook URL is read from Secrets Manager (the secret named by
SLACK_WEBHOOK_SECRET_ARN), never from the function's settings.
"""
import json
import os
import urllib.parse
import urllib.request

import boto3

STATE_ICONS = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:", "INSUFFICIENT_DATA": ":grey_question:"}


def console_link(alarm):
    arn = alarm.get("AlarmArn", "")
    parts = arn.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else os.environ.get("AWS_REGION", "us-east-1")
    name = urllib.parse.quote(alarm.get("AlarmName", ""), safe="")
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}"


def message(alarm):
    state = alarm.get("NewStateValue", "UNKNOWN")
    icon = STATE_ICONS.get(state, ":bell:")
    name = alarm.get("AlarmName", "unnamed alarm")
    reason = alarm.get("NewStateReason", "")
    return {"text": f"{icon} *{name}* is {state}\n{reason}\n<{console_link(alarm)}|Open in CloudWatch>"}


def webhook_url():
    secrets = boto3.client("secretsmanager")
    return secrets.get_secret_value(SecretId=os.environ["SLACK_WEBHOOK_SECRET_ARN"])["SecretString"]


def handler(event, context):
    url = webhook_url()
    posted = 0
    for record in event.get("Records", []):
        raw = record.get("Sns", {}).get("Message", "{}")
        try:
            alarm = json.loads(raw)
        except ValueError:
            alarm = {"AlarmName": "SNS message", "NewStateValue": "UNKNOWN", "NewStateReason": raw}
        body = json.dumps(message(alarm)).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
        posted += 1
    return {"posted": posted}
