"""E-mail to officers (escalations, pending work), beside their SMS: the same sms.outbound topic and adapter,
a message with an `email` address goes to the mail gateway. In dev the gateway is a mailbox that keeps nothing
beyond otp.sms_delivery's record; outside dev it is the state's SMTP relay (stdlib smtplib, STARTTLS)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from urllib.parse import urlparse

from services.common.errors import Transient
from services.common.settings import OtpSettings

from .sms import GatewayRefused


class DevMailbox:
    """Dev: accepted and kept only as otp.sms_delivery's record (channel email). Not allowed outside dev."""

    def __init__(self, settings: OtpSettings):
        self.settings = settings

    async def send(self, address: str, subject: str, body: str) -> None:
        return None


class SmtpMailGateway:
    """The state's SMTP relay, `smtp://host:port` with STARTTLS; its URL and sender are required settings."""

    def __init__(self, settings: OtpSettings):
        if not settings.smtp_url or not settings.mail_from:
            from services.common.settings import ConfigurationError

            raise ConfigurationError("SEVA_SMTP_URL and SEVA_MAIL_FROM must be set for SmtpMailGateway")
        url = urlparse(settings.smtp_url)
        self.host, self.port, self.sender = url.hostname or "", url.port or 587, settings.mail_from

    async def send(self, address: str, subject: str, body: str) -> None:
        """Returns once the relay took the message; a refusal (5xx) is GatewayRefused, parked with the relay's
        words; a relay down, busy (4xx) or unreachable is transient, waited out."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, address, subject
        message.set_content(body)

        def deliver() -> None:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.starttls()
                smtp.send_message(message)

        try:
            await asyncio.to_thread(deliver)
        except smtplib.SMTPRecipientsRefused as err:
            raise GatewayRefused("mail", f"recipient refused: {err.recipients}") from err
        except smtplib.SMTPResponseException as err:
            if err.smtp_code >= 500:
                raise GatewayRefused("mail", f"{err.smtp_code} {err.smtp_error!r}") from err
            raise Transient(f"the mail relay answered {err.smtp_code}") from err
