"""A weights mirror for the tests: a folder laid out as
``<host>/<path>`` (what ``MMREGNET_WEIGHTS_MIRROR`` maps a URL to), served
by an HTTP server on 127.0.0.1 in a thread. Nothing leaves the machine."""
import contextlib
import http.server
import threading
import urllib.parse
from functools import partial
from pathlib import Path
from typing import Iterator


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; a request for a file named in ``cut_short``
    announces the whole file and sends half of it."""

    def __init__(self, *args, cut_short=(), **kwargs):
        self.cut_short = cut_short
        super().__init__(*args, **kwargs)

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.name not in self.cut_short:
            return super().do_GET()
        data = path.read_bytes()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


class Mirror:
    """The folder of a mirror and, while served, its root URL."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.url = None

    def place(self, url: str) -> Path:
        """The path where the mirror keeps the file of ``url``."""
        parts = urllib.parse.urlsplit(url)
        path = self.folder / parts.netloc / parts.path.lstrip('/')
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def serve(self, cut_short=()) -> Iterator[str]:
        """Serve the folder over HTTP; yields the root URL. Files named in
        ``cut_short`` arrive truncated."""
        handler = partial(
            _Handler, directory=str(self.folder), cut_short=set(cut_short))
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f'http://127.0.0.1:{server.server_address[1]}'
        try:
            yield self.url
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            self.url = None
