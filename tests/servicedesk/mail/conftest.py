"""Fixtures for the e-mail channel: one Dovecot per test process, an SMTP sink per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from opsassure.core.models import Customer
from opsassure.servicedesk.models import Mailbox
from tests.servicedesk.mail import servers


@pytest.fixture(scope="session")
def dovecot() -> Iterator[servers.Dovecot]:
    server = servers.start_dovecot()
    try:
        yield server
    finally:
        servers.stop_dovecot(server)


@pytest.fixture
def smtp() -> Iterator[servers.SmtpSink]:
    with (
        servers.smtp_sink() as sink,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=sink.host,
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_MESSAGE_ID_DOMAIN="desk.opsassure.test",
        ),
    ):
        yield sink


def make_mailbox(
    dovecot: servers.Dovecot,
    customer: Customer | None,
    *,
    address: str | None = None,
    unknown_sender: str = Mailbox.UnknownSender.REJECT,
    folder: str = "INBOX",
) -> Mailbox:
    """A Mailbox row pointing at a fresh Dovecot user."""
    user, password = dovecot.add_user()
    return Mailbox.objects.create(
        customer=customer,
        name=f"Desk {user}",
        address=address or f"{user}@desk.opsassure.test",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_ssl=False,
        imap_username=user,
        imap_password=password,
        imap_folder=folder,
        unknown_sender=unknown_sender,
    )
