"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it got and plays scripted faults.

Used by test_smtp.py, test_message.py, test_ledger.py, test_editions.py and
test_nightly.py. Faults are queued per DATA command ("421 ...", "554 ...",
DROP to store the message then cut the connection before the 250, WAIT to hold
DATA until released) and per RCPT address (a refusal reply); `after_store`
runs once a message is stored, just before its 250 (a fault right after the
server accepted it). `login_server` adds AUTH (PLAIN/LOGIN, over plain text:
a loopback test server) and records every attempt.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

DROP = "drop-after-store"
WAIT = "wait-for-release"


@dataclass
class Received:
    sender: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Recorder:
    """The handler: every stored message, every DATA command seen, and the fault script."""

    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    data_calls: int = 0
    mail_calls: int = 0
    waiting: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    after_store: Callable[[], None] | None = None
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    require_auth: bool = False

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.mail_calls += 1
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        reply = self.data_replies.pop(0) if self.data_replies else "250 OK"
        if reply == WAIT:
            self.waiting.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            reply = "250 OK"
        if reply.startswith("2") or reply == DROP:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
            if self.after_store is not None:
                self.after_store()
        if reply == DROP:
            server.transport.abort()  # stored, but the client never hears the 250
        return "250 OK" if reply == DROP else reply

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Recorder, int]]:
    """aiosmtpd's Controller on a free loopback port (options: TLS, auth ...); stopped afterwards."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield recorder, port
    finally:
        recorder.release.set()
        controller.stop()


@contextmanager
def login_server(password: bytes, **options: Any) -> Iterator[tuple[Recorder, int]]:
    """A server that requires AUTH (accepting `password` for any user), without TLS."""
    holder: list[Recorder] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        holder[0].logins.append((data.login, data.password))
        return AuthResult(
            success=data.password == password, handled=False
        )  # the server replies 535

    # AUTH required by the handler (MAIL before AUTH gets 530), not by aiosmtpd's auth_required,
    # which warns about plain-text AUTH: the point here is a loopback server without TLS.
    with smtp_server(authenticator=authenticator, auth_require_tls=False, **options) as (
        recorder,
        port,
    ):
        recorder.require_auth = True
        holder.append(recorder)
        yield recorder, port


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (the kernel's backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@contextmanager
def drip_server(
    script: tuple[bytes, ...] = (), interval: float = 0.02, tls: bool = False
) -> Iterator[int]:
    """A tarpit: the greeting, then one scripted reply per line received, then `NNN-still
    here` every `interval` seconds, never finishing (every read succeeds, so no per-read
    timeout fires). No script: it drips its greeting. `tls`: it drips a TLS handshake
    record a byte at a time instead (implicit TLS)."""
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(interval)

    def serve(client: socket.socket) -> None:
        replies, reader = list(script), client.makefile("rb")
        with client, reader:
            if replies:
                client.sendall(replies.pop(0))
            while replies and not stop.is_set() and reader.readline():
                client.sendall(replies.pop(0))
            drip = b"250-still here\r\n" if script else b"220-still here\r\n"
            if tls:  # a handshake record of 16 KiB, sent a byte at a time
                client.sendall(b"\x16\x03\x03\x40\x00")
                drip = b"\x00"
            while not stop.is_set():
                try:
                    client.sendall(drip)
                except OSError:
                    return
                stop.wait(interval)

    def accept() -> None:
        while not stop.is_set():
            try:
                client = listener.accept()[0]
            except OSError:
                continue
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def write_config(folder: Path, port: int, **settings: Any) -> Path:
    """reportgen.toml for a test project: briefs/ in, out/ out, the server on `port`, tiny backoff."""
    values: dict[str, Any] = {
        "timeout": 5,
        "max_attempts": 3,
        "backoff": 0.01,
        "security": "none",
        "username": "",
        "sender": "Research Desk <desk@example.com>",
        "to": ["pm@example.com", "cio@example.com"],
        "subject": "{title}: {verdict} (data as of {as_of})",
        "failures_to": "ops@example.com",
        "only_changed": False,
        "allow_plaintext_auth": False,
        **settings,
    }
    text = f"""\
[build]
briefs = ["briefs"]
out = "out"

[smtp]
host = "127.0.0.1"
port = {port}
security = "{values["security"]}"
username = "{values["username"]}"
timeout = {values["timeout"]}
max_attempts = {values["max_attempts"]}
backoff = {values["backoff"]}
allow_plaintext_auth = {str(values["allow_plaintext_auth"]).lower()}

[mail]
from = {json.dumps(values["sender"])}
to = {json.dumps(values["to"])}
subject = {json.dumps(values["subject"])}
failures_to = {json.dumps(values["failures_to"])}
only_changed = {str(values["only_changed"]).lower()}

[schedule]
time = "06:00"
timezone = "Asia/Shanghai"
"""
    path = folder / "reportgen.toml"
    path.write_text(text, encoding="utf-8")
    return path
