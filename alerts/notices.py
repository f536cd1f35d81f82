"""Telling people: one notice when an alert opens and one when it resolves, by email
(the rule's addresses, else OPS_EMAIL) and by an outgoing webhook sent through the
postbacks' transport (SSRF guard, timeout, Standard Webhooks signature).

Each notice is claimed with an UPDATE before it is sent, so two workers never send the
same one twice; a worker killed between the claim and the send loses that one notice
(the alert itself stays, on /alerts/). What each channel answered is kept on the alert.
"""

import json
import logging
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertRule, AlertState
from postbacks.transport import OutgoingRequest, new_session, send, signature_headers

logger = logging.getLogger(__name__)
BATCH = 100


def send_due_notices() -> int:
    """Send every notice not sent yet; the number sent."""
    sent = 0
    for alert in Alert.objects.filter(open_notice_at__isnull=True)[:BATCH]:
        if _claim(alert, "open_notice_at"):
            _notify(alert, AlertState.OPEN)
            sent += 1
    resolved = Alert.objects.filter(
        state=AlertState.RESOLVED, resolved_notice_at__isnull=True, open_notice_at__isnull=False
    )
    for alert in resolved[:BATCH]:
        if _claim(alert, "resolved_notice_at"):
            _notify(alert, AlertState.RESOLVED)
            sent += 1
    return sent


def _claim(alert: Alert, field: str) -> bool:
    return bool(
        Alert.objects.filter(pk=alert.pk, **{f"{field}__isnull": True}).update(
            **{field: timezone.now()}
        )
    )


def _rules(alert: Alert) -> list[AlertRule]:
    """The rule that opened it; for an event, every enabled rule covering its config."""
    if alert.rule is not None:
        return [alert.rule]
    if alert.config is not None:
        return list(AlertRule.objects.covering(alert.config))
    return list(AlertRule.objects.filter(enabled=True, config__isnull=True, publisher__isnull=True))


def _notify(alert: Alert, state: str) -> None:
    rules = _rules(alert)
    results = [_email(alert, state, _addresses(rules))]
    webhooks = {(rule.webhook_url, rule.webhook_secret): rule for rule in rules if rule.webhook_url}
    results += [_webhook(alert, state, rule) for rule in webhooks.values()]
    line = f"{timezone.now():%Y-%m-%d %H:%M:%S} UTC, {state} notice: " + "; ".join(results)
    Alert.objects.filter(pk=alert.pk).update(notices=_append(alert.pk, line))


def _append(pk: int, line: str) -> str:
    before = Alert.objects.filter(pk=pk).values_list("notices", flat=True).first() or ""
    return (before + "\n" + line).strip()


def _addresses(rules: list[AlertRule]) -> list[str]:
    """Each rule's addresses, or OPS_EMAIL for a rule that names none (or no rule)."""
    wanted = [address for rule in rules for address in rule.emails or [settings.OPS_EMAIL]]
    if not rules:
        wanted = [settings.OPS_EMAIL]
    return list(dict.fromkeys(address for address in wanted if address))


def link(alert: Alert) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("alerts:list") + f"#alert-{alert.pk}"


def subject(alert: Alert, state: str) -> str:
    prefix = "Alert" if state == AlertState.OPEN else "Resolved"
    return f"[Integr8] {prefix}: {alert.summary}"[:250]


def message(alert: Alert, state: str) -> str:
    lines = [alert.summary, "", f"Opened: {alert.opened:%Y-%m-%d %H:%M} UTC"]
    if state == AlertState.RESOLVED and alert.resolved:
        lines.append(f"Resolved: {alert.resolved:%Y-%m-%d %H:%M} UTC. {alert.resolution}")
    lines += ["", f"Alerts: {link(alert)}"]
    return "\n".join(lines)


def _email(alert: Alert, state: str, addresses: list[str]) -> str:
    try:
        if addresses:
            send_mail(subject(alert, state), message(alert, state), None, addresses)
            return f"email to {', '.join(addresses)} sent"
        mail_admins(subject(alert, state), message(alert, state))
        return "email to ADMINS sent (no OPS_EMAIL)"
    except Exception as exc:  # a mail server down must not stop the webhook or the rest
        logger.warning("alert %s: email failed: %s", alert.pk, exc)
        return f"email failed: {exc}"


def webhook_body(alert: Alert, state: str, rule: AlertRule | None) -> str:
    word = "Alert" if state == AlertState.OPEN else "Resolved"
    text = f"*{word}*: {alert.summary}"
    if state == AlertState.RESOLVED:
        text += f" {alert.resolution}"
    text += f" <{link(alert)}|Open alerts>"
    return json.dumps(
        {
            "text": text,
            "state": state,
            "rule": {"id": rule.pk, "name": rule.name} if rule else None,
            "alert": {
                "id": alert.pk,
                "kind": alert.kind,
                "config": alert.config_id,
                "publisher": alert.publisher_id,
                "opened": alert.opened.isoformat(),
                "resolved": alert.resolved.isoformat() if alert.resolved else None,
                "count": alert.count,
                "url": link(alert),
            },
            "summary": alert.summary,
        }
    )


def _webhook(alert: Alert, state: str, rule: AlertRule) -> str:
    body = webhook_body(alert, state, alert.rule)
    webhook_id = f"alert_{alert.pk}_{state}"
    headers = signature_headers([rule.webhook_secret], webhook_id, int(time.time()), body)
    request = OutgoingRequest(
        method="POST",
        url=rule.webhook_url,
        body=body,
        content_type="application/json",
        headers=headers,
        timeout=float(settings.ALERT_WEBHOOK_TIMEOUT_SECONDS),
    )
    with new_session(pool_size=1) as session:
        outcome = send(request, session)
    # Only the host: webhook URLs (Slack's, say) carry their credential in the path.
    where = urlsplit(rule.webhook_url).hostname or "?"
    if outcome.ok:
        return f"webhook to {where} answered HTTP {outcome.response_code}"
    words = outcome.error or f"HTTP {outcome.response_code}"
    logger.warning("alert %s: webhook to %s failed: %s", alert.pk, where, words)
    return f"webhook to {where} failed: {words}"
