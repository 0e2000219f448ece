"""Secure connections the RabbitMQ way: amqps:// with RabbitMQ's TLS query parameters.

Unit tests of the URL handling need no broker. The tests marked `tls` run the six scripts
against real servers: the TLS node of scripts/local_tls_broker.sh (rmqtls@localhost on
127.0.0.1:5771, started once for this module and always torn down; it boots in 6-30 s),
bare Python TLS servers for the handshake failures the node cannot easily show (an
expired certificate, a broker that requires a client certificate, one that hangs up), and
the main broker on 5672 (only to be spoken TLS to, which it refuses). Select them with
`pytest -m tls`; they take about 20 s.
"""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess

import pika
import pika.credentials
import pytest

from harness.children import run_script, script_env, wait_until
from tests.tls_support import (
    CLIENT_CN,
    TLS_PORT,
    HandshakeServer,
    LocalTLSBroker,
    client_certificate,
    make_certificates,
    tls_url,
)
from utils.errors import BrokerError, SettingsError
from utils.parameters import connection_parameters
from utils.tls import TLSOptions
from utils.urls import redact

EMITTERS = ["v1_emitter_of_tasks.py", "v2_emitter_of_tasks.py", "v3_emitter_of_tasks.py"]
WORKERS = ["v1_listening_worker.py", "v2_listening_worker.py", "v3_listening_worker.py"]
SECRET = "s3cret-pw"  # the password in every failing URL: it must never be printed


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """Throwaway certificates (a CA, server, client, expired server), no broker."""
    return make_certificates(tmp_path_factory.mktemp("tls") / "certs")


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory):
    """Certificates of another CA: one that neither the node nor the client trusts."""
    return make_certificates(tmp_path_factory.mktemp("tls") / "other")


@pytest.fixture
def env(tmp_path):
    """A script's environment: RABBITMQ_URL and `extra`, its log in the test's tmp_path."""

    def make(url: str, seconds_per_dot: str = "0.01", **extra: str) -> dict[str, str]:
        return script_env(url, log_dir=tmp_path, seconds_per_dot=seconds_per_dot, **extra)

    return make


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    """The TLS node for this module, torn down whatever happens."""
    broker = LocalTLSBroker(tmp_path_factory.mktemp("tls-node") / "state")
    try:
        result = broker.up()
        print(f"\nTLS node up in {broker.up_seconds:.1f} s:\n{result.stdout}")
        yield broker
    finally:
        broker.down()


# --- the URL handling: no broker needed -----------------------------------------------------


def one(url: str, warn: bool = True) -> pika.URLParameters:
    [params] = connection_parameters(url, warn=warn)
    return params


def test_rabbitmqs_tls_parameters_become_a_checking_context_and_leave_the_url(certs):
    ca = certs / "ca_certificate.pem"
    params = one(f"amqps://u:p@broker.example:5999/v?cacertfile={ca}&heartbeat=7")
    assert (params.host, params.port, params.virtual_host, params.heartbeat) == (
        "broker.example",
        5999,
        "v",
        7,
    )
    options = params.ssl_options
    assert isinstance(options, TLSOptions)
    assert options.server_hostname == "broker.example"  # the name the certificate must cover
    assert options.context.verify_mode == ssl.CERT_REQUIRED
    assert options.context.check_hostname
    assert [cert["subject"] for cert in options.context.get_ca_certs()] == [
        ((("commonName", "work-queues throwaway CA"),),)
    ]
    assert not options.client_certificate
    assert isinstance(params.credentials, pika.credentials.PlainCredentials)


def test_a_bare_amqps_url_checks_the_host_name_against_this_machines_cas(monkeypatch):
    # pika 1.4 alone does too (it falls back on the host when server_hostname is None);
    # the scripts say so themselves rather than rely on it
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    params = one("amqps://u:p@broker.example/")
    assert params.port == 5671
    assert params.ssl_options.server_hostname == "broker.example"
    assert params.ssl_options.context.check_hostname
    assert params.ssl_options.context.verify_mode == ssl.CERT_REQUIRED


def test_ssl_cert_file_is_honoured_for_a_bare_amqps_url(certs, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certs / "ca_certificate.pem"))
    context = one("amqps://u:p@localhost/").ssl_options.context
    assert ((("commonName", "work-queues throwaway CA"),),) in [
        cert["subject"] for cert in context.get_ca_certs()
    ]


def test_server_name_indication_is_the_name_expected_of_the_certificate(certs):
    ca = certs / "ca_certificate.pem"
    params = one(f"amqps://u:p@127.0.0.1/?cacertfile={ca}&server_name_indication=localhost")
    assert (params.host, params.ssl_options.server_hostname) == ("127.0.0.1", "localhost")


def test_a_client_certificate_and_external_login(certs):
    query = "&".join(f"{key}={value}" for key, value in client_certificate(certs).items())
    params = one(f"amqps://localhost/?{query}&auth_mechanism=external")
    assert params.ssl_options.client_certificate
    assert isinstance(params.credentials, pika.credentials.ExternalCredentials)
    with_password = one(f"amqps://u:p@localhost/?{query}&auth_mechanism=PLAIN")
    assert isinstance(with_password.credentials, pika.credentials.PlainCredentials)


def test_verify_none_checks_nothing_and_says_so_each_run(caplog):
    with caplog.at_level(logging.WARNING, logger="utils.tls"):
        params = one("amqps://u:p@rabbit.example:5671/?verify=verify_none")
        one("amqps://u:p@rabbit.example:5671/?verify=verify_none", warn=False)
    assert params.ssl_options.context.verify_mode == ssl.CERT_NONE
    assert not params.ssl_options.context.check_hostname
    assert [record.getMessage() for record in caplog.records] == [
        " [!] verify=verify_none: the certificate of the broker at rabbit.example:5671 is not "
        "checked, so anyone on the way can pose as the broker; trust its CA with cacertfile= "
        "instead"
    ]


def test_pikas_own_ssl_options_keep_working(certs):
    ca = certs / "ca_certificate.pem"
    params = one(f"amqps://u:p@localhost/?ssl_options={{'ca_certs':'{ca}'}}")
    assert type(params.ssl_options) is pika.SSLOptions  # pika's, untouched
    assert params.ssl_options.context.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("cacertfile=/ca.pem", "has TLS parameters (cacertfile=) but starts with amqp://"),
        ("certfile=/c.pem&keyfile=/k.pem", "(certfile=, keyfile=)"),
        ("auth_mechanism=external", "(auth_mechanism=)"),
        ("verify=verify_none", "use amqps:// (TLS; port 5671 by default)"),
    ],
)
def test_tls_parameters_on_amqp_are_a_usage_error_saying_use_amqps(query, says):
    with pytest.raises(SettingsError, match="use amqps://") as caught:
        one(f"amqp://u:{SECRET}@h/?{query}")
    assert says in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("verify=maybe", "verify=maybe is not one of verify_peer"),
        ("verify=verify_none&verify=verify_peer", "gives verify= twice"),
        ("keyfile=/k.pem", "gives keyfile= without certfile="),
        ("auth_mechanism=external", "but gives none: add certfile= and keyfile="),
        ("auth_mechanism=kerberos", "auth_mechanism=kerberos is not supported"),
        ("server_name_indication=disable", "server_name_indication=disable is not supported"),
        ("ssl_options={}&cacertfile=/ca.pem", "both pika's ssl_options= and RabbitMQ's"),
        ("cacertfiel=/ca.pem", "Unknown URL parameter: 'cacertfiel'"),
    ],
)
def test_bad_tls_settings_are_usage_errors(query, says):
    with pytest.raises(SettingsError) as caught:
        one(f"amqps://u:{SECRET}@h/?{query}")
    assert says in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_password_in_the_query_is_redacted_too():
    url = f"amqps://u:{SECRET}@h/?keyfile=/k.pem&password={SECRET}&heartbeat=5"
    assert redact(url) == "amqps://u:***@h/?keyfile=/k.pem&password=***&heartbeat=5"


@pytest.fixture
def encrypted_key(certs, tmp_path):
    """The client's key, protected by a passphrase (openssl can do it, Python's ssl cannot)."""
    encrypted = tmp_path / "encrypted_key.pem"
    subprocess.run(
        ["openssl", "pkey", "-in", str(certs / "client_key.pem"), "-aes256"]
        + ["-passout", "pass:x", "-out", str(encrypted)],
        check=True,
    )
    return encrypted


@pytest.mark.parametrize(
    ("query", "says"),
    [
        (
            "cacertfile=/nowhere/ca.pem",
            "cannot read the cacertfile /nowhere/ca.pem (No such file or directory); check the "
            "path given to cacertfile=",
        ),
        (
            "cacertfile={certs}/client_key.pem",
            "the cacertfile {certs}/client_key.pem holds no PEM certificate; give cacertfile= "
            "the certificate (PEM) of the CA that signed the broker's certificate",
        ),
        (
            "certfile=/nowhere/c.pem&keyfile={certs}/client_key.pem",
            "cannot read the certfile /nowhere/c.pem (No such file or directory)",
        ),
        (
            "certfile={certs}/client_certificate.pem&keyfile={certs}",
            "cannot read the keyfile {certs} (Is a directory)",
        ),
        (
            "certfile={certs}/client_key.pem&keyfile={certs}/client_key.pem",
            "the certfile {certs}/client_key.pem holds no PEM certificate; give certfile= the "
            "client certificate (PEM)",
        ),
        (
            "certfile={certs}/client_certificate.pem",
            "the certfile {certs}/client_certificate.pem holds no private key; add keyfile=",
        ),
        (
            "certfile={certs}/client_certificate.pem&keyfile={certs}/server_key.pem",
            "the keyfile {certs}/server_key.pem is not the key of the certfile "
            "{certs}/client_certificate.pem; give the key that goes with the certificate",
        ),
        (
            "certfile={certs}/client_certificate.pem&keyfile={certs}/ca_certificate.pem",
            "the keyfile {certs}/ca_certificate.pem holds no PEM private key",
        ),
        (
            "certfile={certs}/client_certificate.pem&keyfile={encrypted}",
            "the keyfile {encrypted} is protected by a passphrase, which the scripts cannot "
            "ask for; give keyfile= a key without one",
        ),
    ],
)
def test_certificate_files_that_cannot_serve_are_named(certs, encrypted_key, query, says):
    values = {"certs": certs, "encrypted": encrypted_key}
    with pytest.raises(BrokerError) as caught:
        one(f"amqps://u:{SECRET}@rabbit.example:5671/?" + query.format(**values))
    message = str(caught.value)
    assert message.startswith("cannot connect to RabbitMQ at rabbit.example:5671: ")
    assert says.format(**values) in message
    assert SECRET not in message


# --- the six scripts over TLS ----------------------------------------------------------------


def assert_one_line_failure(result, line: str, status: int = 1) -> None:
    """A failure: `line` alone on stderr, the exit status, no traceback, no password."""
    output = result.stdout + result.stderr
    assert (result.returncode, result.stderr) == (status, line + "\n"), output
    assert "Traceback" not in output
    assert SECRET not in output


def emit(script: str, environment: dict[str, str], text: str, tmp_path) -> None:
    """Send one task with an emitter; it must say it sent it."""
    if script.startswith("v3"):
        csv_file = tmp_path / "task.csv"
        csv_file.write_text(text + "\n")
        result = run_script(script, str(csv_file), env=environment)
    else:
        result = run_script(script, text, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sent" in result.stdout and text in result.stdout, result.stdout


def work(script: str, environment: dict[str, str], text: str, workers) -> str:
    """Start a worker, wait until it has done the task `text`, stop it; its output."""
    worker = workers(script, env=environment)
    worker.wait_for(text)
    wait_until(lambda: "Done" in worker.output.split(text, 1)[1], what=f"{text!r} done")
    assert worker.stop().code == 0, worker.output
    return worker.output


@pytest.mark.tls
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_each_script_works_over_amqps_with_cacertfile(tls_broker, workers, tmp_path, version, env):
    environment = env(tls_broker.url())
    text = f"TLS task for {version}."
    emit(f"{version}_emitter_of_tasks.py", environment, text, tmp_path)
    output = work(f"{version}_listening_worker.py", environment, text, workers)
    assert "Received" in output and "Traceback" not in output


@pytest.mark.tls
def test_ssl_cert_file_trusts_the_broker_instead_of_cacertfile(tls_broker, workers, tmp_path, env):
    environment = env(tls_url(TLS_PORT), SSL_CERT_FILE=str(tls_broker.ca))
    emit("v2_emitter_of_tasks.py", environment, "Trusted by SSL_CERT_FILE.", tmp_path)
    work("v2_listening_worker.py", environment, "Trusted by SSL_CERT_FILE.", workers)


@pytest.mark.tls
def test_server_name_indication_reaches_a_broker_by_another_name(
    tls_broker, workers, tmp_path, env
):
    """Connected by address, the certificate checked against the name: through that URL the
    v3 emitter's task is confirmed, and a v3 worker consumes it."""
    environment = env(tls_broker.url("127.0.0.1", server_name_indication="localhost"))
    text = "By address and checked by name."
    emit("v3_emitter_of_tasks.py", environment, text, tmp_path)
    output = work("v3_listening_worker.py", environment, text, workers)
    assert "Traceback" not in output


@pytest.mark.tls
def test_verify_none_connects_with_a_warning_every_run(tls_broker, workers, env):
    environment = env(tls_url(TLS_PORT, verify="verify_none"))
    warning = (
        f" [!] verify=verify_none: the certificate of the broker at localhost:{TLS_PORT} is not "
        "checked, so anyone on the way can pose as the broker; trust its CA with cacertfile= "
        "instead"
    )
    for run in ("first", "second"):
        result = run_script("v2_emitter_of_tasks.py", f"Unverified, {run} run.", env=environment)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stderr == warning + "\n"
    output = work("v2_listening_worker.py", environment, "Unverified, second run.", workers)
    assert output.startswith(warning + "\n"), output


@pytest.mark.tls
def test_the_broker_sees_the_client_certificate_and_external_logs_in_by_it(
    tls_broker, workers, tmp_path, env
):
    certificate = client_certificate(tls_broker.certs)
    by_password = workers(
        "v3_listening_worker.py", "--name", "pw", env=env(tls_broker.url(**certificate))
    )
    external_url = tls_broker.url(login="", **certificate, auth_mechanism="external")
    external_env = env(external_url)
    by_certificate = workers("v3_listening_worker.py", "--name", "cert", env=external_env)
    by_password.wait_for("ready for work")
    by_certificate.wait_for("ready for work")

    with_certificate = [c for c in tls_broker.connections() if c["peer_cert_subject"]]
    seen = sorted(with_certificate, key=lambda c: c["auth_mechanism"])
    subject = f"CN={CLIENT_CN}"
    assert seen == [
        {"user": CLIENT_CN, "peer_cert_subject": subject, "auth_mechanism": "EXTERNAL"},
        {"user": "guest", "peer_cert_subject": subject, "auth_mechanism": "PLAIN"},
    ]
    assert by_password.stop().code == 0
    emit("v3_emitter_of_tasks.py", external_env, "Sent by certificate.", tmp_path)
    by_certificate.wait_for("Done row 1 by worker cert")
    assert by_certificate.stop().code == 0


# --- failures: one line each, naming host:port, the cause and the fix ----------------------


@pytest.mark.tls
@pytest.mark.parametrize("script", EMITTERS + WORKERS)
def test_an_unknown_ca_is_one_line_saying_cacertfile(tls_broker, script, env):
    result = run_script(script, env=env(tls_url(TLS_PORT, login=f"guest:{SECRET}@")))
    assert_one_line_failure(
        result,
        f"{script[:-3]}: error: cannot connect to RabbitMQ at localhost:{TLS_PORT}: the broker's "
        "certificate is signed by a CA this machine does not trust (self-signed certificate "
        "in certificate chain): trust that CA with cacertfile=/path/to/ca_certificate.pem in "
        "the URL (or SSL_CERT_FILE)",
    )


@pytest.mark.tls
def test_the_wrong_ca_file_is_named(tls_broker, other_certs, env):
    ca = other_certs / "ca_certificate.pem"
    url = tls_url(TLS_PORT, login=f"guest:{SECRET}@", cacertfile=str(ca))
    assert_one_line_failure(
        run_script("v3_listening_worker.py", env=env(url)),
        f"v3_listening_worker: error: cannot connect to RabbitMQ at localhost:{TLS_PORT}: the "
        f"broker's certificate is not signed by the CA in cacertfile {ca} (self-signed "
        "certificate in certificate chain): give cacertfile= the CA that signed it",
    )


@pytest.mark.tls
@pytest.mark.parametrize(
    ("host", "query", "name", "kind"),
    [
        ("127.0.0.1", {}, "127.0.0.1", "IP address mismatch"),
        ("localhost", {"server_name_indication": "rabbit.example"}, "rabbit.example", "Hostname"),
    ],
)
def test_a_name_the_certificate_does_not_cover_is_one_line(
    tls_broker, host, query, name, kind, env
):
    url = tls_broker.url(host, f"guest:{SECRET}@", **query)
    kind = "Hostname mismatch" if kind == "Hostname" else kind
    assert_one_line_failure(
        run_script("v1_listening_worker.py", env=env(url)),
        f"v1_listening_worker: error: cannot connect to RabbitMQ at {host}:{TLS_PORT}: the "
        f"broker's certificate is not valid for {name!r} ({kind}): connect by a name the "
        "certificate covers, or set server_name_indication= to one",
    )


@pytest.mark.tls
@pytest.mark.parametrize(
    ("server", "script", "cause"),
    [
        (
            {"name": "expired_server"},
            "v2_emitter_of_tasks.py",
            "the broker's certificate has expired (certificate has expired): the broker needs "
            "a new one (or this machine's clock is wrong)",
        ),
        (
            {"require_client_certificate": True},
            "v3_emitter_of_tasks.py",
            "the broker requires a client certificate (tlsv13 alert certificate required): add "
            "certfile= and keyfile= (a certificate the broker trusts and its key, PEM) to the "
            "URL",
        ),
        (
            {"require_client_certificate": True, "tls_1_2_only": True},
            "v1_listening_worker.py",
            "the broker refused the TLS handshake (sslv3 alert handshake failure); if it "
            "requires a client certificate, add certfile= and keyfile= (a certificate the "
            "broker trusts and its key, PEM) to the URL",
        ),
        (
            {},  # a TLS server that is not RabbitMQ, or RabbitMQ whose alert was lost
            "v2_listening_worker.py",
            "the server closed the connection after the TLS handshake, saying nothing; if it is "
            "RabbitMQ, it may require a client certificate: add certfile= and keyfile= (a "
            "certificate the broker trusts and its key, PEM) to the URL; if not, check the port",
        ),
    ],
    ids=[
        "expired certificate",
        "client certificate required",
        "TLS 1.2 handshake failure",
        "closed after the handshake",
    ],
)
def test_handshake_failures_a_node_cannot_easily_show_are_one_line(
    certs, server, script, cause, env
):
    with HandshakeServer(certs, **server) as bare:
        url = bare.url(cacertfile=str(certs / "ca_certificate.pem"))
        result = run_script(script, env=env(url))
    assert_one_line_failure(
        result,
        f"{script[:-3]}: error: cannot connect to RabbitMQ at localhost:{bare.port}: {cause}",
    )


@pytest.mark.tls
def test_a_client_certificate_the_broker_does_not_trust_is_one_line(tls_broker, other_certs, env):
    url = tls_broker.url(login=f"guest:{SECRET}@", **client_certificate(other_certs))
    result = run_script("v2_listening_worker.py", env=env(url))
    start = f"v2_listening_worker: error: cannot connect to RabbitMQ at localhost:{TLS_PORT}: "
    told = (
        "the broker does not trust this client's certificate (tlsv1 alert unknown ca): use one "
        "signed by a CA the broker trusts (its ssl_options.cacertfile)"
    )
    # the node closes as it sends its alert: about one time in thirty the close wins
    not_told = (
        "the server closed the connection after the TLS handshake, saying nothing; if it is "
        "RabbitMQ, it may not trust this client's certificate: use one signed by a CA it "
        "trusts; if not, check the port"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert result.stderr in (start + told + "\n", start + not_told + "\n"), output
    assert "Traceback" not in output and SECRET not in output


@pytest.mark.tls
def test_plain_amqp_to_the_tls_port_says_use_amqps(tls_broker, env):
    url = f"amqp://guest:{SECRET}@localhost:{TLS_PORT}/"
    assert_one_line_failure(
        run_script("v1_emitter_of_tasks.py", env=env(url)),
        f"v1_emitter_of_tasks: error: cannot connect to RabbitMQ at localhost:{TLS_PORT}: the "
        "server there speaks TLS, not plain AMQP: use amqps:// for this port",
    )


@pytest.mark.tls
def test_amqps_to_the_plain_port_says_use_amqp(certs, env):
    url = tls_url(5672, login=f"guest:{SECRET}@", cacertfile=str(certs / "ca_certificate.pem"))
    assert_one_line_failure(
        run_script("v3_listening_worker.py", env=env(url)),
        "v3_listening_worker: error: cannot connect to RabbitMQ at localhost:5672: the server "
        "there does not speak TLS (wrong version number): use amqp:// for a plain AMQP port, "
        "or the broker's TLS port (5671 by default)",
    )


@pytest.mark.tls
def test_an_external_login_without_its_user_is_one_line(tls_broker, tmp_path, env):
    """A client certificate the broker trusts, for a CN it has no user of."""
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    for name in ("ca_certificate.pem", "ca_key.pem"):  # signed by the node's own CA
        shutil.copy(tls_broker.certs / name, stranger / name)
    make_certificates(stranger, client_cn="stranger")
    certificate = client_certificate(stranger)
    url = tls_broker.url(login=f"guest:{SECRET}@", **certificate, auth_mechanism="external")
    assert_one_line_failure(
        run_script("v1_emitter_of_tasks.py", env=env(url)),
        f"v1_emitter_of_tasks: error: cannot connect to RabbitMQ at localhost:{TLS_PORT}: login "
        "by client certificate (EXTERNAL) refused: the broker needs a user named after the "
        "certificate's subject (its CN, by default), with permissions on the virtual host '/'",
    )


@pytest.mark.tls
def test_unreadable_files_and_usage_errors_through_a_script(certs, env):
    url = tls_url(5671, "rabbit.example", f"guest:{SECRET}@", cacertfile="/nowhere/ca.pem")
    assert_one_line_failure(
        run_script("v2_listening_worker.py", env=env(url)),
        "v2_listening_worker: error: cannot connect to RabbitMQ at rabbit.example:5671: cannot "
        "read the cacertfile /nowhere/ca.pem (No such file or directory); check the path given "
        "to cacertfile=",
    )
    plain = f"amqp://guest:{SECRET}@localhost/?cacertfile=/ca.pem"
    assert_one_line_failure(
        run_script("v1_listening_worker.py", env=env(plain)),
        "v1_listening_worker: error: RABBITMQ_URL 'amqp://guest:***@localhost/?cacertfile=/ca.pem'"
        " has TLS parameters (cacertfile=) but starts with amqp://, which is not encrypted: use "
        "amqps:// (TLS; port 5671 by default)",
        status=2,
    )
