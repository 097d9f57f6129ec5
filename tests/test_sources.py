"""URL fetching against real HTTP(S) servers on loopback: only public (or trusted) addresses,
connected to the address that was checked, re-checked on every redirect, within one deadline and
a size cap."""

import datetime
import io
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

import plugin
from plugin.config import get_settings
from plugin.engine.intake.download import address_allowed
from plugin.engine.intake.images import load_image
from plugin.engine.intake.sources import fetch_url
from plugin.errors import AccessDeniedError, ImageError, InvalidInputError

PNG = io.BytesIO()
Image.new("RGB", (7, 5), (0, 255, 0)).save(PNG, "PNG")
PNG = PNG.getvalue()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/green.png":
            self._send(200, PNG)
        elif url.path == "/redirect":
            time.sleep(float(query.get("wait", ["0"])[0]))
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.end_headers()
        elif url.path == "/big":
            self._send(200, PNG + b"\0" * 200_000)
        elif url.path == "/endless":
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass
        elif url.path == "/slow":  # slow headers
            time.sleep(3)
            self._send(200, PNG)
        elif url.path == "/trickle":  # headers at once, then one byte every 0.3 s
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"\0")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
        elif url.path == "/hop":  # wait, then redirect to the next hop; the last hop is the image
            time.sleep(float(query.get("wait", ["0"])[0]))
            left = int(query["n"][0])
            if not left:
                self._send(200, PNG)
                return
            self.send_response(302)
            self.send_header("Location", f"/hop?n={left - 1}&wait={query.get('wait', ['0'])[0]}")
            self.end_headers()
        elif url.path == "/huge":  # declares 10 GB, then sends nothing for a while
            self.send_response(200)
            self.send_header("Content-Length", str(10**10))
            self.end_headers()
            time.sleep(3)
        elif url.path == "/host":  # the Host header the request came with
            self._send(200, self.headers["Host"].encode())
        else:
            self._send(404, b"not found")

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (the timeout test): expected
            pass


def serve(address="127.0.0.1", tls: ssl.SSLContext | None = None):
    httpd = ThreadingHTTPServer((address, 0), Handler)
    httpd.daemon_threads = True
    if tls:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture(scope="module")
def server():
    httpd = serve()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def other_server():
    """A second server, on 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback)."""
    try:
        httpd = serve("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    yield f"http://127.0.0.2:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def trust_loopback_host():
    """Let URLs reach 127.0.0.1 only (the test server), as a configured trusted network."""
    plugin.configure(trusted_networks=["127.0.0.1/32"])


def test_loopback_is_refused_by_default(server):
    with pytest.raises(AccessDeniedError, match=r"public address.*127\.0\.0\.1"):
        load_image(f"{server}/green.png")


@pytest.mark.parametrize("url", [
    "http://localhost:9/x.png", "http://[::1]/x.png", "http://10.1.2.3/x.png", "http://192.168.0.1/x.png",
    "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/x.png", "http://[::ffff:127.0.0.1]/x.png",
    "http://[::127.0.0.1]/x.png", "http://[64:ff9b::7f00:1]/x.png", "http://[2002:7f00:1::]/x.png",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x.png",
    # other spellings of 127.0.0.1: decimal, octal, hexadecimal, short
    "http://2130706433/x.png", "http://0177.0.0.1/x.png", "http://0x7f000001/x.png", "http://127.1/x.png",
    "http://0x7f.1/x.png",
])
def test_private_and_special_addresses_are_refused_without_connecting(url):
    started = time.monotonic()
    with pytest.raises(AccessDeniedError):
        load_image(url)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "gopher://example.com/"])
def test_only_http_and_https(url):
    with pytest.raises(AccessDeniedError, match="http or https"):
        load_image(url)


def test_trusted_host_is_fetched(server, trust_loopback_host):
    loaded = load_image(f"{server}/green.png")
    assert (loaded.width, loaded.height) == (7, 5)
    assert loaded.source == f"URL {server}/green.png"
    assert loaded.image.getpixel((0, 0)) == (0, 255, 0)


def test_redirect_within_allowed_hosts_is_followed(server, trust_loopback_host):
    target = urllib.parse.quote(f"{server}/green.png")
    assert load_image(f"{server}/redirect?to={target}").width == 7


def test_redirect_to_a_forbidden_address_is_refused(server, trust_loopback_host):
    port = server.rsplit(":", 1)[1]
    target = urllib.parse.quote(f"http://127.0.0.2:{port}/green.png")
    with pytest.raises(AccessDeniedError, match=r"127\.0\.0\.2"):
        load_image(f"{server}/redirect?to={target}")


def test_redirect_to_another_scheme_is_refused(server, trust_loopback_host):
    with pytest.raises(AccessDeniedError, match="redirected from"):
        load_image(f"{server}/redirect?to=file:///etc/passwd")


def test_http_errors_are_reported(server, trust_loopback_host):
    with pytest.raises(ImageError, match="HTTP 404"):
        load_image(f"{server}/missing.png")


def test_size_cap_by_declared_length_and_by_stream(server, trust_loopback_host):
    plugin.configure(max_image_bytes=100_000)
    with pytest.raises(ImageError, match="declares 200,"):
        load_image(f"{server}/big")
    with pytest.raises(ImageError, match="sent more"):
        load_image(f"{server}/endless")


def test_slow_server_times_out(server, trust_loopback_host):
    plugin.configure(url_timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(ImageError, match="0.5 s"):
        load_image(f"{server}/slow")
    assert time.monotonic() - started < 2.5


def test_unresolvable_host_is_a_clear_error():
    with pytest.raises(ImageError, match="resolves"):
        load_image("http://no-such-host.invalid/cat.png")


@pytest.mark.parametrize("address", [
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # Teredo, server 10.0.0.1
    "::", "::1", "fe80::1%eth0", "fc00::1", "ff02::1", "224.0.0.1", "100.64.0.1", "240.0.0.1", "127.0.0.1",
])
def test_local_addresses_and_ipv6_forms_that_wrap_them_are_refused(address):
    assert not address_allowed(address, get_settings())


@pytest.mark.parametrize("address", [
    "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::",
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo, server 65.54.227.120, client 8.8.8.8
])
def test_public_addresses_pass(address):
    assert address_allowed(address, get_settings())


def test_trusted_networks_also_admit_their_ipv4_mapped_form():
    settings = plugin.configure(trusted_networks=["10.0.0.0/8"])
    assert address_allowed("10.1.2.3", settings) and address_allowed("::ffff:10.1.2.3", settings)
    assert not address_allowed("64:ff9b::a01:203", settings)  # NAT64 goes through a gateway: still refused


def test_slow_headers_stop_at_the_deadline(server, trust_loopback_host):
    plugin.configure(url_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(ImageError, match="within 1 s") as caught:
        fetch_url(f"{server}/slow")
    assert time.monotonic() - started < 2
    assert caught.value.key == "url_timeout" and caught.value.params["seconds"] == "1"


def test_a_byte_trickle_stops_at_the_deadline(server, trust_loopback_host):
    """Each byte comes well within the time limit; the download as a whole does not."""
    plugin.configure(url_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(ImageError, match="within 1 s"):
        fetch_url(f"{server}/trickle")
    assert time.monotonic() - started < 2


def test_one_deadline_covers_every_redirect(server, trust_loopback_host):
    """Four hops of 0.4 s each: every hop is quick, the chain is not."""
    plugin.configure(url_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(ImageError, match="within 1 s"):
        fetch_url(f"{server}/hop?n=4&wait=0.4")
    assert time.monotonic() - started < 2
    plugin.configure(url_timeout_s=5)
    assert fetch_url(f"{server}/hop?n=4&wait=0") == PNG


def test_a_step_begun_just_before_the_deadline_ends_at_the_deadline(server, trust_loopback_host):
    """The redirect comes after 0.6 s; waiting for the next headers gets the 0.4 s left, not a fresh second."""
    plugin.configure(url_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(ImageError, match="within 1 s"):
        fetch_url(f"{server}/redirect?wait=0.6&to=/slow")
    assert time.monotonic() - started < 1.5


def test_redirects_are_limited(server, trust_loopback_host):
    plugin.configure(max_redirects=3)
    assert fetch_url(f"{server}/hop?n=3") == PNG
    with pytest.raises(ImageError, match="at most 3 redirects") as caught:
        fetch_url(f"{server}/hop?n=4")
    assert caught.value.key == "url_redirects"


def test_redirect_to_loopback_is_refused_when_loopback_is_not_trusted(server, other_server):
    plugin.configure(trusted_networks=["127.0.0.2/32"])
    assert fetch_url(f"{other_server}/green.png") == PNG
    target = urllib.parse.quote(f"{server}/green.png")
    with pytest.raises(AccessDeniedError, match=r"public address.*127\.0\.0\.1") as caught:
        fetch_url(f"{other_server}/redirect?to={target}")
    assert caught.value.key == "url_not_public"


def test_declared_length_over_the_cap_is_refused_before_reading(server, trust_loopback_host):
    plugin.configure(url_timeout_s=5)
    started = time.monotonic()
    with pytest.raises(ImageError, match="declares 10,000,000,000 bytes"):
        fetch_url(f"{server}/huge")
    assert time.monotonic() - started < 2  # the server sends nothing after the headers for 3 s


@pytest.mark.parametrize("host", ["☃.example", "a\u200db..example", "xn--ü.example"])
def test_a_host_name_idna_cannot_encode_is_a_clear_error(host):
    with pytest.raises(InvalidInputError, match="IDNA") as caught:
        fetch_url(f"http://{host}/cat.png")
    assert caught.value.key == "url_bad_host"


@pytest.mark.parametrize("url", ["http://user:secret@example.com/a.png", "http://user@example.com/a.png",
                                 "http://example.com:99999/a.png"])
def test_user_info_and_bad_ports_are_refused(url):
    with pytest.raises(InvalidInputError):
        fetch_url(url)


@pytest.fixture
def rebinding_dns(monkeypatch):
    """A resolver for made-up names: 127.0.0.1 (trusted, the test server) the first time, then
    127.0.0.2 (not trusted, nothing listening), as a rebinding DNS server would answer."""
    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host.endswith(".test"):
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_the_connection_goes_to_the_checked_address_with_the_name_in_the_host_header(
        server, trust_loopback_host, rebinding_dns):
    port = server.rsplit(":", 1)[1]
    assert fetch_url(f"http://bücher.test:{port}/host") == f"xn--bcher-kva.test:{port}".encode()
    assert rebinding_dns == ["xn--bcher-kva.test"]  # one lookup, of the IDNA name; no second one


def test_environment_proxies_are_not_used(server, trust_loopback_host, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    assert fetch_url(f"{server}/green.png") == PNG


def _certificates(tmp_path, name: str):
    """A test CA (written to a PEM file) and a server context with a certificate for `name` only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject, issuer, key, signer, *, ca):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CNN Study Lab test CA")])
    ca = certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    leaf = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), ca_name, leaf_key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem) + leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "leaf.pem")
    return tmp_path / "ca.pem", context


def test_https_checks_the_certificate_against_the_name_while_connecting_to_the_checked_address(
        tmp_path, trust_loopback_host, rebinding_dns, monkeypatch):
    ca_file, context = _certificates(tmp_path, "images.test")
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    httpd = serve(tls=context)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # trust the test CA, as an administrator would
        port = httpd.server_address[1]
        assert fetch_url(f"https://images.test:{port}/green.png") == PNG
        assert names == ["images.test"] and rebinding_dns == ["images.test"]
        with pytest.raises(ImageError, match="CERTIFICATE_VERIFY_FAILED") as caught:  # no certificate for the bare address
            fetch_url(f"https://127.0.0.1:{port}/green.png")
        assert caught.value.key == "url_unreachable"
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("location", ["http:127.0.0.2/", "http://[::1", "http://xn--.example/", "http://exa mple.org/"])
def test_a_malformed_redirect_is_a_clear_error(server, trust_loopback_host, location):
    with pytest.raises(plugin.PluginError) as raised:
        load_image(f"{server}/redirect?to={urllib.parse.quote(location)}")
    assert raised.value.type in ("InvalidInputError", "AccessDeniedError", "ImageError")
