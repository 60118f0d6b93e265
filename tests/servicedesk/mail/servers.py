"""Real mail servers for the e-mail channel tests: Dovecot IMAP and an aiosmtpd SMTP sink.

Dovecot (Debian package ``dovecot-imapd``) runs from a generated config in a temporary
directory: a passwd-file user database, maildirs, plain IMAP on a free port on 127.0.0.1,
and never as root (under root it is started as ``nobody``). Mail is delivered with IMAP
APPEND, exactly as a mail server would make it appear to our poller.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import imaplib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

USER_POOL = 500
DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: a mail test that silently skips proves nothing."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (mail server tests must run in CI)")
    pytest.skip(reason)


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or next(
        (path for path in DOVECOT_PATHS if Path(path).exists()), None
    )
    if found is None:
        unavailable("Dovecot is not installed (apt-get install dovecot-imapd)")
    assert found is not None
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service stats {{
  user = {user}
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP
    tls_port: int  # IMAPS with a self-signed certificate for 127.0.0.1 (root / "cert.pem")
    process: subprocess.Popen[bytes]
    run_as: str
    pool: list[str]
    users: dict[str, str] = field(default_factory=dict)

    host = "127.0.0.1"

    def add_user(self) -> tuple[str, str]:
        """Take a fresh IMAP user from the pool written into the passwd-file at start
        (Dovecot caches that file; a fixed pool avoids racing its reload)."""
        name = self.pool.pop(0)
        self.users[name] = f"pw-{name}"
        return name, self.users[name]

    @contextlib.contextmanager
    def client(self, user: str) -> Iterator[imaplib.IMAP4]:
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        connection.login(user, self.users[user])
        try:
            yield connection
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                connection.logout()

    def deliver(self, user: str, message: EmailMessage | bytes, folder: str = "INBOX") -> None:
        """Put ``message`` into the user's folder (IMAP APPEND), unseen."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        with self.client(user) as connection:
            if folder != "INBOX":
                connection.create(folder)
            status, data = connection.append(folder, "", None, raw)
            assert status == "OK", data

    def seen_flags(self, user: str, folder: str = "INBOX") -> list[bool]:
        with self.client(user) as connection:
            connection.select(folder, readonly=True)
            status, data = connection.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK"
            return [b"\\Seen" in item for item in data if isinstance(item, bytes)]

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _self_signed_certificate(root: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("openssl is not installed (it comes with dovecot-core)")
    assert openssl is not None
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )


def _chown(path: Path, user: str) -> None:
    if os.getuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def start_dovecot() -> Dovecot:
    binary = dovecot_binary()
    # Not under pytest's 0700 tmp tree: the unprivileged Dovecot must reach its files.
    root = Path(tempfile.mkdtemp(prefix="opsassure-dovecot-"))
    run_as = "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    entry = pwd.getpwnam(run_as)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    port, tls_port = free_port(), free_port()
    _self_signed_certificate(root)
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            tls_port=tls_port,
            user=run_as,
            group=_group_name(entry.pw_gid),
            uid=entry.pw_uid,
            gid=entry.pw_gid,
        )
    )
    # Users "desk1"... with passwords "pw-desk1"...: a pool handed out by add_user().
    names = [f"desk{number}" for number in range(1, USER_POOL + 1)]
    (root / "passwd").write_text("".join(f"{name}:{{PLAIN}}pw-{name}\n" for name in names))
    for path in [root, *root.rglob("*")]:
        _chown(path, run_as)
    extra: dict[str, Any] = {}
    if os.getuid() == 0:
        extra = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=root,
        **extra,
    )
    server = Dovecot(
        root=root,
        port=port,
        tls_port=tls_port,
        process=process,
        run_as=run_as,
        pool=names,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"dovecot exited ({process.returncode}): {output}\n{server.log()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return server
        time.sleep(0.1)
    stop_dovecot(server)
    pytest.fail(f"dovecot did not listen on {port}: {server.log()}")


def stop_dovecot(server: Dovecot) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
    if server.process.stdout:
        server.process.stdout.close()
    shutil.rmtree(server.root, ignore_errors=True)


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


class CapturingHandler:
    """aiosmtpd handler that keeps every message it receives, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    host: str
    port: int
    handler: CapturingHandler

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


@contextlib.contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    # aiosmtpd logs every disconnect at INFO from its own thread, sometimes after pytest
    # closed the captured stream ("--- Logging error ---"): keep only its warnings.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = CapturingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSink("127.0.0.1", port, handler)
    finally:
        controller.stop()
