"""Downloads against a local HTTP server on 127.0.0.1 (never the internet): verified, atomic, clear errors."""
import hashlib
import io
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.datasets import download as download_module
from engine.datasets import load_dataset
from engine.datasets import mnist as mnist_module
from engine.datasets.download import CHECKSUMS, download_dataset, mirrors_for
from engine.errors import DataError

SOURCE = Path(os.environ.get("MNIST_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist")
pytestmark = pytest.mark.skipif(not (SOURCE / "t10k-labels-idx1-ubyte.gz").is_file(),
                                reason=f"real MNIST files not found in {SOURCE} (set MNIST_DIR)")
TEST_FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]   # byte-identical to the published ones


class Handler(BaseHTTPRequestHandler):
    """/good/<file>, /corrupt/<file> (bytes changed, same length), /truncated/<file> (half, then hang up)."""
    requests: list[str] = []

    def do_GET(self):
        Handler.requests.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        path = SOURCE / name
        if mode not in ("good", "corrupt", "truncated") or not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "corrupt":
            body = body[:100] + bytes(b ^ 0xFF for b in body[100:200]) + body[200:]
        if mode == "truncated":
            body = body[: len(body) // 2]
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NNPLAY_MNIST_MIRROR", "")
    monkeypatch.delenv("NNPLAY_DATA", raising=False)
    monkeypatch.delenv("MNIST_DIR", raising=False)
    Handler.requests = []


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_verifies_published_checksums_and_shows_progress(server, tmp_path):
    progress = io.StringIO()
    download_dataset("mnist", tmp_path / "dl", mirrors=[server + "/good/"], files=TEST_FILES, progress=progress)
    assert sorted(os.listdir(tmp_path / "dl")) == sorted(TEST_FILES)      # no temp files left
    for name in TEST_FILES:
        assert md5(tmp_path / "dl" / name) == CHECKSUMS["mnist"][name]
    assert "100.0%" in progress.getvalue() and "t10k-images-idx3-ubyte.gz" in progress.getvalue()


def test_checksum_mismatch_is_an_error_and_leaves_no_file(server, tmp_path):
    with pytest.raises(DataError, match="checksum mismatch"):
        download_dataset("mnist", tmp_path / "dl", mirrors=[server + "/corrupt/"], files=TEST_FILES[:1],
                         progress=None)
    assert os.listdir(tmp_path / "dl") == []


def test_truncated_response_is_an_error_and_leaves_no_half_file(server, tmp_path):
    with pytest.raises(DataError, match="truncated download"):
        download_dataset("mnist", tmp_path / "dl", mirrors=[server + "/truncated/"], files=TEST_FILES[:1],
                         progress=None)
    assert os.listdir(tmp_path / "dl") == []


def test_mirrors_are_tried_in_order_until_one_verifies(server, tmp_path):
    mirrors = [server + "/missing/", server + "/corrupt/", server + "/good/"]
    download_dataset("mnist", tmp_path / "dl", mirrors=mirrors, files=TEST_FILES[1:], progress=None)
    assert md5(tmp_path / "dl" / TEST_FILES[1]) == CHECKSUMS["mnist"][TEST_FILES[1]]
    assert [r.split("/")[1] for r in Handler.requests] == ["missing", "corrupt", "good"]


def test_a_verified_file_already_in_place_is_not_fetched_again(server, tmp_path):
    download_dataset("mnist", tmp_path / "dl", mirrors=[server + "/good/"], files=TEST_FILES[1:], progress=None)
    download_dataset("mnist", tmp_path / "dl", mirrors=[server + "/good/"], files=TEST_FILES[1:], progress=None)
    assert len(Handler.requests) == 1


def test_a_damaged_file_in_place_is_replaced(server, tmp_path):
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / TEST_FILES[1]).write_bytes(b"junk")
    download_dataset("mnist", tmp_path / "dl", mirrors=[server + "/good/"], files=TEST_FILES[1:], progress=None)
    assert md5(tmp_path / "dl" / TEST_FILES[1]) == CHECKSUMS["mnist"][TEST_FILES[1]]


def test_unreachable_mirrors_give_an_offline_message_naming_the_folder(tmp_path):
    import socket
    with socket.socket() as s:                     # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError) as e:
        download_dataset("mnist", tmp_path / "dl", mirrors=[f"http://127.0.0.1:{port}/"], files=TEST_FILES[:1],
                         progress=None)
    assert "Without network access, put the files" in str(e.value) and str(tmp_path / "dl") in str(e.value)
    assert f"127.0.0.1:{port}" in str(e.value)


def test_mirror_env_var_is_a_comma_separated_override(monkeypatch):
    monkeypatch.setenv("NNPLAY_MNIST_MIRROR", "http://127.0.0.1:1/a/, http://127.0.0.1:2/b/")
    assert mirrors_for("mnist") == ["http://127.0.0.1:1/a/", "http://127.0.0.1:2/b/"]
    monkeypatch.setenv("NNPLAY_MNIST_MIRROR", "")
    assert mirrors_for("mnist") == []
    monkeypatch.delenv("NNPLAY_MNIST_MIRROR")
    assert mirrors_for("mnist")[0].startswith("https://") and len(mirrors_for("fashion_mnist")) >= 1


def test_load_dataset_downloads_into_the_user_cache_when_nothing_is_on_disk(server, monkeypatch, tmp_path):
    monkeypatch.setattr(mnist_module, "SHARED_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("NNPLAY_MNIST_MIRROR", server + "/good/")
    # the local training files are the first 22,699 images, so their checksums differ from the published ones
    sums = dict(CHECKSUMS["mnist"])
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        sums[name] = md5(SOURCE / name)
    monkeypatch.setitem(download_module.CHECKSUMS, "mnist", sums)
    d = load_dataset({"name": "mnist", "limit": 10})
    cache = tmp_path / "cache" / "nnplay" / "mnist"
    assert d.extra["source"] == str(cache.resolve()) and d.y_test[0] == 7
    assert len(os.listdir(cache)) == 4 and len(Handler.requests) == 4
