"""Notification channels of the outbox: the log file (always on), e-mail over SMTP and an SMS gateway's webhook.

Each channel delivers one message and says whether it went. The log and the SMS webhook are exactly-once (the
message's idempotency key; the gateway drops keys it has seen); SMTP has no such key, so an e-mail may arrive twice
when the dispatcher dies between sending and recording it (see :mod:`subsidence.monitoring.outbox`).
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from subsidence.db.base import utcnow
from subsidence.monitoring.models import (
    OutboxMessage,
)

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------------
# outbox delivery


class Channel(Protocol):
    name: str

    def send(self, msg: OutboxMessage) -> None:
        """Deliver ``msg``; must be idempotent on ``msg.idempotency_key`` (or pass it on to a gateway that is)."""


class LogChannel:
    """Appends one JSON line per message to a file (and the log). Idempotent: a key already in the file is
    not written again, which is what makes redelivery after a crash harmless."""

    name = "log"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: set[str] | None = None
        self._lock = threading.Lock()

    def _load(self) -> set[str]:
        if self._seen is None:
            self._seen = set()
            if self.path.exists():
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    try:
                        self._seen.add(json.loads(line)["key"])
                    except (ValueError, KeyError):
                        continue
        return self._seen

    def send(self, msg: OutboxMessage) -> None:
        with self._lock:
            seen = self._load()
            if msg.idempotency_key in seen:
                log.info("outbox: %s already delivered to the log, skipped", msg.idempotency_key)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            rec = {
                "key": msg.idempotency_key,
                "to": msg.recipient,
                "role": msg.recipient_role,
                "subject": msg.subject,
                "body": msg.body,
                "at": utcnow().isoformat(),
            }
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            seen.add(msg.idempotency_key)
            log.warning("ALERT %s → %s: %s", msg.recipient_role or msg.recipient, msg.recipient, msg.subject)


class EmailChannel:
    """SMTP delivery; the Message-ID is derived from the idempotency key so a resent copy is recognisable
    (mail clients and most servers collapse identical Message-IDs)."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = "warning@localhost",
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 20.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def send(self, msg: OutboxMessage) -> None:
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = self.sender, msg.recipient, msg.subject
        m["Message-ID"] = f"<{msg.idempotency_key.replace(':', '.')}@subsidence>"
        m.set_content(msg.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(m)


class SmsWebhookChannel:
    """POSTs ``{"to", "text", "idempotency_key"}`` to an SMS gateway with an ``Idempotency-Key`` header;
    the gateway drops keys it has seen. Any non-2xx answer is a failure (retried later)."""

    name = "sms"

    def __init__(self, url: str, token: str | None = None, client: Any | None = None, timeout: float = 10.0) -> None:
        import httpx

        self.url, self.token = url, token
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, msg: OutboxMessage) -> None:
        headers = {"Idempotency-Key": msg.idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        r = self.client.post(
            self.url,
            json={
                "to": msg.recipient,
                "text": f"{msg.subject}\n{msg.body}"[:600],
                "idempotency_key": msg.idempotency_key,
            },
            headers=headers,
        )
        r.raise_for_status()


def channels_from_settings() -> dict[str, Channel]:
    """Channels from the settings: the log always; e-mail when ``smtp_host`` is set (SUBSIDENCE_SMTP_HOST, PORT,
    SENDER, USER, PASSWORD, STARTTLS); SMS when ``sms_webhook_url`` is set (SUBSIDENCE_SMS_WEBHOOK_URL, _TOKEN)."""
    from subsidence.settings import get_settings

    cfg = get_settings()
    out: dict[str, Channel] = {"log": LogChannel(cfg.data_dir / "alerts.log")}
    if cfg.smtp_host:
        out["email"] = EmailChannel(
            cfg.smtp_host, cfg.smtp_port, cfg.smtp_sender, cfg.smtp_user, cfg.smtp_password, cfg.smtp_starttls
        )
    if cfg.sms_webhook_url:
        out["sms"] = SmsWebhookChannel(cfg.sms_webhook_url, cfg.sms_webhook_token)
    return out
