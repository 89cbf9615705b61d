"""The SMTP transport: one connection and one login per run, failures sorted by class.

- Before DATA, 4xx replies, timeouts and dropped connections are *transient*: retried with
  exponential backoff and jitter, bounded by `max_attempts` and `max_retry_time`. Other 5xx
  replies are *permanent* for that message.
- From DATA on, a lost reply (dropped connection, timeout) leaves the message *in doubt*: the
  server may have stored it, so it is never retried.
- Every exchange has a total deadline of `[smtp].timeout` seconds: the connection (greeting,
  EHLO, STARTTLS, login) and each message (MAIL to the reply after DATA). A watchdog shuts the
  socket down when it passes, so a server that drips `220-` lines cannot hold a run: a message
  takes at most about `max_attempts` x (2 x timeout + backoff) in all.
- A mailbox with a non-ASCII local part goes out with SMTPUTF8 when the server offers it;
  otherwise that delivery alone fails (permanent).
- Setup failures (login refused, AUTH or STARTTLS not offered, an untrusted certificate,
  "authentication required") are *fatal* for the run: one attempt, one clear message, and every
  later message of the run fails at once without talking to the server again (a wrong password
  is tried once, not once a message).

AUTH is never sent in clear: `security = "none"` with a username is refused unless the host is
a loopback address or `[smtp] allow_plaintext_auth = true`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import SMTPUTF8 as SMTPUTF8_POLICY
from typing import Literal

from reportgen.config import PASSWORD_ENV, Config, ConfigError, SmtpConfig
from reportgen.mailtext import Mailbox

log = logging.getLogger(__name__)

Kind = Literal["transient", "permanent", "fatal"]
# auth required / too weak / credentials refused / encryption needed: the run stops
FATAL_CODES = {530, 534, 535, 538}


def mailer_for(config: Config, environ: Mapping[str, str] | None = None) -> Mailer:
    """The SMTP side, checked before anything is built: [smtp] present, the password (only ever
    from the environment) at hand, and no password in clear to a host that is not this machine."""
    where = str(config.path or "reportgen.toml")
    if config.smtp is None:
        raise ConfigError(f"{where}: [smtp] is required to send (host, port, security)")
    check_plaintext_auth(config.smtp, where)
    password = (os.environ if environ is None else environ).get(PASSWORD_ENV) or None
    if config.smtp.username and password is None:
        raise ConfigError(f"smtp.username is set: put the password in {PASSWORD_ENV}")
    return Mailer(config.smtp, password)


def check_plaintext_auth(smtp: SmtpConfig, where: str) -> None:
    """A username over `security = "none"` would send the password in clear: only to loopback."""
    clear = smtp.username and smtp.security == "none" and not smtp.allow_plaintext_auth
    if clear and not is_loopback(smtp.host):
        raise ConfigError(
            f'{where}: smtp.security: "none" with a username would send the password in clear'
            f" to {smtp.host}; use starttls or tls (or allow_plaintext_auth = true for a trusted relay)"
        )


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a connection that never leaves the machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SendOutcome:
    """How one message to one mailbox ended; `doubt`: handed over, its reply lost."""

    sent: bool
    code: int | None
    detail: str
    doubt: bool = False


@dataclass(frozen=True)
class Failure:
    kind: Kind
    code: int | None
    detail: str


def classify(exc: Exception, expired: bool = False) -> Failure:
    """Sort an smtplib/socket error into transient, permanent (this message) or fatal (the run);
    `expired`: the exchange's deadline shut the socket down."""
    if expired:
        return Failure("transient", None, "no complete answer within the [smtp].timeout deadline")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (None, b""))
        kind: Kind = "transient" if code is not None and 400 <= code < 500 else "permanent"
        return Failure(kind, code, f"recipient refused: {code} {_text(reply)}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Failure(
            "fatal", exc.smtp_code, f"login refused: {exc.smtp_code} {_text(exc.smtp_error)}"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        kind = "transient" if 400 <= code < 500 else "fatal" if code in FATAL_CODES else "permanent"
        return Failure(kind, code, f"{code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Failure("fatal", None, f"the server does not offer it: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Failure("transient", None, f"connection dropped: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Failure("fatal", None, f"TLS certificate refused: {exc.verify_message}")
    if isinstance(exc, TimeoutError):
        return Failure("transient", None, "timed out waiting for the server")
    if isinstance(exc, OSError):
        return Failure("transient", None, f"cannot connect: {exc.strerror or exc}")
    return Failure("permanent", None, f"{type(exc).__name__}: {exc}")  # this message only


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class Mailer(AbstractContextManager["Mailer"]):
    """One SMTP connection reused for a run's messages, reopened after a transient failure;
    once the server is unreachable after a message's retries, or the setup failed for good
    (login refused ...), later messages fail at once."""

    def __init__(self, smtp: SmtpConfig, password: str | None):
        self.smtp = smtp
        self._password = password
        self._conn: smtplib.SMTP | None = None
        self._stopped: str | None = None  # why nothing more is attempted this run
        self._expired = False  # the current exchange ran out of time

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """QUIT, within the deadline too (a server may drip its goodbye)."""
        self._politely(lambda conn: conn.quit())
        self._drop()

    def send(
        self,
        message: EmailMessage,
        sender: Mailbox,
        recipient: Mailbox,
        handover: Callable[[], None] = lambda: None,
    ) -> SendOutcome:
        """Send until the reply after DATA, a permanent refusal, or the retry budget is spent.
        `handover` runs just before DATA (the ledger's "handed"); if it raises, nothing is sent."""
        deadline = time.monotonic() + self.smtp.max_retry_time
        attempt = 0
        while True:
            if self._stopped:
                return SendOutcome(False, None, f"not attempted: {self._stopped}")
            attempt += 1
            try:
                return self._attempt(message, sender, recipient, handover)
            except Exception as exc:  # whatever one message raises fails that message only
                failure = classify(exc, self._expired)
            log.info("%s: attempt %d: %s", recipient.address, attempt, failure.detail)
            self._reset() if failure.kind == "permanent" else self._drop()
            delay = self.smtp.backoff * 2 ** (attempt - 1) * (0.5 + random.random())
            if (
                failure.kind != "transient"
                or attempt >= self.smtp.max_attempts
                or time.monotonic() + delay > deadline
            ):
                return self._give_up(failure, attempt)
            time.sleep(delay)

    def _attempt(
        self,
        message: EmailMessage,
        sender: Mailbox,
        recipient: Mailbox,
        handover: Callable[[], None],
    ) -> SendOutcome:
        """MAIL, RCPT, handover, DATA on the run's connection, within one deadline."""
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        utf8 = needs_utf8(sender, recipient)
        if utf8 and not conn.has_extn("smtputf8"):
            why = f"{recipient.address}: a non-ASCII local part needs SMTPUTF8, not offered"
            return SendOutcome(False, None, why)
        options = ["SMTPUTF8"] if utf8 else []
        options += ["BODY=8BITMIME"] if utf8 and conn.has_extn("8bitmime") else []
        data = as_sent(message, sender, recipient)
        with self._deadline(conn):
            code, reply = conn.mail(sender.address, options)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender.address)
            code, reply = conn.rcpt(recipient.address)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient.address: (code, reply)})
            try:
                handover()
            except Exception as exc:  # "handed" could not be written: nothing goes out
                self._reset()
                return SendOutcome(False, None, f"not sent: {exc}")
            try:
                code, reply = conn.data(data)
            except smtplib.SMTPDataError:
                raise  # DATA itself refused: nothing was handed over
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                why = classify(exc, self._expired).detail
                return SendOutcome(False, None, f"in doubt: {why} after DATA", doubt=True)
            if 400 <= code < 600:
                raise smtplib.SMTPDataError(code, reply)  # refused: not delivered
            if not 200 <= code < 300:  # no reply one can read: it may have been stored
                return SendOutcome(False, None, f"in doubt: reply {reply!r} after DATA", doubt=True)
        return SendOutcome(True, code, "accepted")

    @contextmanager
    def _deadline(self, conn: smtplib.SMTP) -> Iterator[None]:
        """At most `timeout` seconds for what runs inside: then the socket is shut down."""
        self._expired = False

        def expire() -> None:
            self._expired = True
            if conn.sock is not None:
                with suppress(OSError):
                    socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)

        timer = threading.Timer(self.smtp.timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _give_up(self, failure: Failure, attempts: int) -> SendOutcome:
        detail = failure.detail
        where = f"{self.smtp.host}:{self.smtp.port}"
        if failure.kind == "fatal":
            self._stopped = f"{where}: {failure.detail}"
        if failure.kind == "transient":
            detail += f" (gave up after {attempts} attempt{'s' * (attempts > 1)})"
            if failure.code is None:
                self._stopped = f"{where} unreachable ({failure.detail})"
        return SendOutcome(False, failure.code, detail)

    def _reset(self) -> None:
        """RSET after a refusal, so the connection's next MAIL starts a new transaction."""
        self._politely(lambda conn: conn.rset())

    def _politely(self, command: Callable[[smtplib.SMTP], object]) -> None:
        """One command on an open connection within the deadline; dropped when it fails."""
        conn = self._conn
        if conn is None:
            return
        try:
            with self._deadline(conn):
                command(conn)
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self) -> smtplib.SMTP:
        """Connect, greet, EHLO, STARTTLS and log in, all within one deadline."""
        smtp = self.smtp
        context = ssl.create_default_context()
        conn = (
            smtplib.SMTP_SSL(timeout=smtp.timeout, context=context)  # handshake: one deadline
            if smtp.security == "tls"
            else smtplib.SMTP(timeout=smtp.timeout)
        )
        conn._host = smtp.host  # type: ignore[attr-defined]  # the TLS name (__init__ sets it only when it connects)
        try:
            with self._deadline(conn):
                conn.connect(smtp.host, smtp.port)
                conn.ehlo()
                if smtp.security == "starttls":
                    conn.starttls(context=context)
                    conn.ehlo()
                if smtp.username:
                    _login(conn, smtp.username, self._password or "")
        except BaseException:
            conn.close()
            raise
        return conn


def _login(conn: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH with one mechanism, once (smtplib's login() tries each offered one on a refusal:
    a wrong password then counts several failed logins against the account)."""
    if not conn.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH (check host and security)")
    offered = conn.esmtp_features["auth"].upper().split()
    known = [name for name in ("CRAM-MD5", "PLAIN", "LOGIN") if name in offered]  # smtplib's order
    if not known:
        raise smtplib.SMTPNotSupportedError(
            f"no AUTH mechanism reportgen knows (offered: {' '.join(offered)})"
        )
    conn.user, conn.password = username, password
    conn.auth(known[0], getattr(conn, "auth_" + known[0].lower().replace("-", "_")))


def needs_utf8(sender: Mailbox, recipient: Mailbox) -> bool:
    """A non-ASCII local part on either side: the message goes out with SMTPUTF8."""
    return not (sender.ascii and recipient.ascii)


def as_sent(message: EmailMessage, sender: Mailbox, recipient: Mailbox) -> bytes:
    """The message's bytes exactly as DATA sends them (and --dry-run writes them)."""
    utf8 = needs_utf8(sender, recipient)
    return message.as_bytes(policy=SMTPUTF8_POLICY if utf8 else SMTP_POLICY)
