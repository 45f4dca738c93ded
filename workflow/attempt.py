"""One delivery attempt's deadline, over every socket operation of the attempt.

A socket timeout bounds one read: a server that sends a byte a second never trips a 3 s timeout,
and holds the attempt (and the notice's lease) as long as it likes. Here the attempt has one
monotonic deadline, and the sockets it opens (plain or TLS) set their timeout to the time left
before each connect, read, write and handshake, so a dripping server is cut at the deadline.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

__all__ = ["Deadline", "PermanentError", "TemporaryError", "open_socket", "tls_context"]


class PermanentError(Exception):
    """Delivery can never succeed (a malformed address, a refused mailbox, a redirect): no retry."""


class TemporaryError(Exception):
    """The receiver said to try again later (an SMTP 4xx): retried with backoff."""


class Deadline:
    """The end of the current attempt, on the monotonic clock; :meth:`start` begins the next one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = time.monotonic() + seconds

    def start(self) -> None:
        self.until = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left; raises TimeoutError (a temporary failure) once the deadline has passed."""
        left = self.until - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the delivery attempt ran past its deadline of {self.seconds:g} s (timeout_seconds)")
        return left


class _Armed:
    """Each socket operation first sets the socket's timeout to the time left before the deadline."""

    def _arm(self) -> None:
        raise NotImplementedError

    def recv(self, *args: Any) -> bytes:
        self._arm()
        return super().recv(*args)  # type: ignore[misc, no-any-return]

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return super().recv_into(*args)  # type: ignore[misc, no-any-return]

    def send(self, *args: Any) -> int:  # SSLSocket.sendall sends in pieces through send
        self._arm()
        return super().send(*args)  # type: ignore[misc, no-any-return]

    def sendall(self, *args: Any) -> None:  # the timeout bounds the whole sendall (Python >= 3.5)
        self._arm()
        super().sendall(*args)  # type: ignore[misc]


class _DeadlineSocket(_Armed, socket.socket):
    deadline: Deadline

    def _arm(self) -> None:
        self.settimeout(self.deadline.remaining())


class _DeadlineSSLSocket(_Armed, ssl.SSLSocket):
    def _arm(self) -> None:
        self.settimeout(self.context.deadline.remaining())  # type: ignore[attr-defined]

    def do_handshake(self, *args: Any) -> None:
        self._arm()
        super().do_handshake(*args)


class _Context(ssl.SSLContext):
    sslsocket_class = _DeadlineSSLSocket
    deadline: Deadline


def tls_context(deadline: Deadline, ca_file: str | None = None) -> ssl.SSLContext:
    """A client TLS context that verifies the server (the system's CAs, and *ca_file* if given) and
    whose sockets keep to *deadline*."""
    context = _Context(ssl.PROTOCOL_TLS_CLIENT)
    context.deadline = deadline
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_default_certs()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def open_socket(host: str, port: int, deadline: Deadline) -> socket.socket:
    """A TCP connection to *host*:*port* whose every operation keeps to *deadline*."""
    error: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = _DeadlineSocket(family, kind, proto)
        sock.deadline = deadline
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address for {host}")
