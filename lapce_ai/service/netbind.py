"""Binding the listening socket first, so a busy port is one line and a non-zero exit."""

from __future__ import annotations

import errno
import socket


class StartupError(Exception):
    """The service cannot start; the message is the one line the operator sees."""


def bind_socket(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot resolve listen address {host!r}: {exc.strerror}") from exc
    family, kind, proto, _name, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            reason = f"address already in use (another process is listening; `ss -tulpn | grep {port}`)"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need privileges)"
        else:
            reason = exc.strerror or str(exc)
        raise StartupError(f"cannot listen on {shown}: {reason}") from exc
    sock.set_inheritable(True)
    return sock
