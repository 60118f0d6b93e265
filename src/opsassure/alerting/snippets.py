"""Configuration snippets shown on the integration page (and in docs/alerting.md)."""

from __future__ import annotations

ZABBIX_SCRIPT = """var params = JSON.parse(value);
var request = new HttpRequest();
request.addHeader('Content-Type: application/json');
if (params.bearer_token) {
    request.addHeader('Authorization: Bearer ' + params.bearer_token);
}
var body = {
    event_id: params.event_id,
    event_value: params.event_value,
    event_name: params.event_name,
    trigger_id: params.trigger_id,
    trigger_name: params.trigger_name,
    severity: params.severity,
    host: params.host,
    host_name: params.host_name,
    host_ip: params.host_ip,
    event_tags: params.event_tags,
    message: params.message,
    url: params.url,
    event_time: new Date().toISOString()
};
var response = request.post(params.opsassure_url, JSON.stringify(body));
if (request.getStatus() < 200 || request.getStatus() >= 300) {
    throw 'OpsAssure answered ' + request.getStatus() + ': ' + response;
}
return 'OK';"""

ZABBIX_PARAMETERS = [
    ("opsassure_url", ""),  # the integration's URL
    ("bearer_token", ""),
    ("event_id", "{EVENT.ID}"),
    ("event_value", "{EVENT.VALUE}"),
    ("event_name", "{EVENT.NAME}"),
    ("trigger_id", "{TRIGGER.ID}"),
    ("trigger_name", "{TRIGGER.NAME}"),
    ("severity", "{EVENT.NSEVERITY}"),
    ("host", "{HOST.HOST}"),
    ("host_name", "{HOST.NAME}"),
    ("host_ip", "{HOST.IP}"),
    ("event_tags", "{EVENT.TAGSJSON}"),
    ("message", "{ALERT.MESSAGE}"),
    ("url", "{TRIGGER.URL}"),
]


def _zabbix_value(name: str, value: str, url: str, token: str) -> str:
    if name == "opsassure_url":
        return url
    if name == "bearer_token":
        return token
    return value


def snippet(kind: str, url: str, bearer: bool) -> str:
    """The text to paste into the sender's configuration."""
    token = "<your bearer token>"
    if kind == "alertmanager":
        auth = (
            f'        http_config:\n          authorization:\n            credentials: "{token}"\n'
            if bearer
            else ""
        )
        return (
            "route:\n  receiver: opsassure\n  group_wait: 30s\n  group_interval: 5m\n"
            "  repeat_interval: 4h\nreceivers:\n  - name: opsassure\n    webhook_configs:\n"
            f'      - url: "{url}"\n        send_resolved: true\n        max_alerts: 0\n{auth}'
        )
    if kind == "grafana":
        lines = [
            "Alerting → Contact points → New contact point → Integration: Webhook",
            f"URL: {url}",
            "HTTP Method: POST",
        ]
        if bearer:
            lines += [
                "Authorization header scheme: Bearer",
                f"Authorization header credentials: {token}",
            ]
        return "\n".join(lines)
    if kind == "zabbix":
        params = "\n".join(
            f"  {name} = {_zabbix_value(name, value, url, token if bearer else '')}"
            for name, value in ZABBIX_PARAMETERS
        )
        return (
            "Alerts → Media types → Create media type → Type: Webhook, name OpsAssure\n"
            f"Parameters:\n{params}\nScript:\n{ZABBIX_SCRIPT}"
        )
    if kind == "n9e":
        return (
            "Alert rule → Notify → Callback URL (or a 'callback' notify channel):\n"
            f"{url}\n"
            "Nightingale posts each event (AlertCurEvent JSON) there, firing and recovered."
        )
    auth = f" \\\n  -H 'Authorization: Bearer {token}'" if bearer else ""
    return (
        f"curl -X POST '{url}' -H 'Content-Type: application/json'{auth} -d '"
        '{"event_action": "trigger", "dedup_key": "disk-db-01", '
        '"payload": {"summary": "Disk full on db-01", "source": "db-01", "severity": "critical"}}'
        "'\n# acknowledge / resolve: the same dedup_key with event_action acknowledge or resolve"
    )
