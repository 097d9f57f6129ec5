"""URL fetching against a real HTTP server on loopback: only public (or trusted) addresses,
re-checked on every redirect, with a time limit and a size cap."""

import io
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

import plugin
from plugin.engine.intake.images import load_image
from plugin.errors import AccessDeniedError, ImageError

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
        elif url.path == "/slow":
            time.sleep(3)
            self._send(200, PNG)
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


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
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
