"""What the TLS tests need: throwaway certificates, a TLS node, a bare TLS server.

The node is scripts/local_tls_broker.sh's; the bare server fails handshakes on purpose."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from tests.local_nodes import LocalNodes
from utils import PROJECT_ROOT

CERTIFICATES_SCRIPT = PROJECT_ROOT / "scripts" / "make_tls_certificates.sh"
BROKER_SCRIPT = PROJECT_ROOT / "scripts" / "local_tls_broker.sh"
NODE = "rmqtls"
TLS_PORT = 5771  # the script's defaults
CLIENT_CN = "work-queues-client"  # the client certificate's CN: the EXTERNAL user


def make_certificates(directory: Path, client_cn: str = CLIENT_CN) -> Path:
    """A CA, and server, client and expired server certificates it signed, in directory
    (a CA already there signs them)."""
    result = subprocess.run(
        ["bash", str(CERTIFICATES_SCRIPT), str(directory)],
        env=dict(os.environ, TLS_CLIENT_CN=client_cn),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return directory


def tls_url(port: int, host: str = "localhost", login: str = "guest:guest@", **query: str) -> str:
    """amqps://login host:port/ with query parameters (values left readable, as users write)."""
    fields = "&".join(f"{name}={value}" for name, value in query.items())
    return f"amqps://{login}{host}:{port}/" + (f"?{fields}" if fields else "")


def client_certificate(certs: Path) -> dict[str, str]:
    """The query parameters that present the client certificate in certs."""
    return {
        "certfile": str(certs / "client_certificate.pem"),
        "keyfile": str(certs / "client_key.pem"),
    }


class LocalTLSBroker(LocalNodes):
    """scripts/local_tls_broker.sh: rmqtls@localhost, AMQP over TLS only, on TLS_PORT."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(BROKER_SCRIPT, "RMQ_TLS_DIR", state_dir)
        self.certs = state_dir / "certs"
        self.ca = self.certs / "ca_certificate.pem"

    def url(self, host: str = "localhost", login: str = "guest:guest@", **query: str) -> str:
        """A URL to the node that trusts its CA, with more query parameters."""
        return tls_url(TLS_PORT, host, login, cacertfile=str(self.ca), **query)

    def connections(self) -> list[dict[str, str]]:
        """The node's client connections: user, peer_cert_subject, auth_mechanism."""
        columns = ["user", "peer_cert_subject", "auth_mechanism"]
        out = self.ctl(NODE, "list_connections", "--no-table-headers", *columns)
        return [
            dict(zip(columns, line.split("\t"), strict=True)) for line in out.splitlines() if line
        ]


class HandshakeServer:
    """A TLS server on 127.0.0.1 that does the handshake and nothing more: enough for a
    client to meet a broker's certificate, or a broker's demand for one of its own."""

    def __init__(
        self,
        certs: Path,
        name: str = "server",
        require_client_certificate: bool = False,
        tls_1_2_only: bool = False,
    ) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certs / f"{name}_certificate.pem", certs / f"{name}_key.pem")
        if tls_1_2_only:  # an older broker: a missing client certificate is a handshake failure
            self.context.maximum_version = ssl.TLSVersion.TLSv1_2
        if require_client_certificate:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(certs / "ca_certificate.pem")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # accept() wakes up to see whether to stop
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, **query: str) -> str:
        return tls_url(self.port, login="guest:s3cret-pw@", **query)

    def __enter__(self) -> HandshakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            # the TLS socket takes over the connection's file descriptor: it is the one to
            # hang up on, and it must not close itself on a failed handshake
            tls = self.context.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
            try:
                tls.do_handshake()
                tls.recv(8)  # TLS 1.3: the client's certificate, or its absence, is seen here
            except OSError:  # the handshake failed, as it was meant to
                self._hang_up_gently(tls)
            finally:
                tls.close()

    @staticmethod
    def _hang_up_gently(connection: socket.socket) -> None:
        """Close without a reset, so that the client reads the alert the handshake sent.

        (Closing a socket with unread bytes, the client's AMQP header, sends a reset,
        which can overtake the alert: then the client learns nothing. On a TLS socket,
        shutdown drops TLS, and recv then reads the raw bytes.)
        """
        try:
            connection.shutdown(socket.SHUT_WR)
            while connection.recv(4096):
                pass
        except OSError:
            pass
