"""`newsindex serve`: the app under gunicorn, with one index handle per worker.

Workers are forked before the app is loaded (``preload_app=False``), so each
opens and warms its own :class:`~indexer.live.LiveIndex`; none is shared
across a fork. Sync workers: the search library keeps per-generation state
that is not meant to be used from several threads at once. The server starts
without an index too and answers 503 until a reindex creates one.

Everything comes from one :class:`~indexer.config.Settings` (index, host,
port, workers, and what the app passes to the library).
"""
from __future__ import annotations

import errno
import socket

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from indexer.config import SETTINGS, Settings
from indexer.errors import NewsindexError
from indexer.live import LiveIndex
from indexer.memory import HeapTrimmer
from indexer.search import index_info

from . import create_app, warm_index

GRACEFUL_TIMEOUT_SECONDS = 10


class NewsindexServer(BaseApplication):
    """gunicorn configured in code: no config file, no command-line parsing of its own."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.index_dir = str(settings.index)
        host, port, workers = settings.host, settings.port, settings.web_workers
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "preload_app": False,
            "proc_name": "newsindex",
            "loglevel": "warning",
            "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
            # gunicorn's own limit tops out at 8,190 bytes and answers in its own format; a
            # 2,000-character query in a non-Latin script needs more once percent-encoded, so
            # the app checks the length itself (MAX_URL_BYTES) and answers in the site's format.
            "limit_request_line": 0,
            "when_ready": self.announce,
            "on_exit": lambda server: print("newsindex: stopped", flush=True),
            # no $HOME/.gunicorn/gunicorn.ctl shared by every server on the machine (gunicorn ≥ 25.1)
            "control_socket_disable": True,
            # each worker keeps its heap warm for the next search, up to a slack (indexer/memory.py)
            "post_request": lambda worker, req, environ, resp: self.heap.after_request(),
        }
        self.heap = HeapTrimmer()
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(name, value)

    def load(self):
        """Runs in each worker: its own app, index handle and warm caches."""
        app = create_app(settings=self.settings)
        warm_index(app)
        return app

    def run(self) -> None:
        _GracefulArbiter(self).run()

    def announce(self, server) -> None:
        """Print where the site is (the real port when port 0 asked for any free one)."""
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        shown_host = f"[{host}]" if ":" in host else host
        print(f"newsindex: {serving(self.index_dir, f'http://{shown_host}:{port}/')}", flush=True)


class _GracefulArbiter(Arbiter):
    """Ctrl-C stops like SIGTERM: requests in flight are answered first (a second Ctrl-C hurries it)."""

    def handle_int(self):
        self.handle_term()


def serving(index_dir: str, url: str) -> str:
    """What the server is serving where, read once in the master (which then lets the index go)."""
    index = LiveIndex(index_dir)
    try:
        return f"serving {index_info(index)['articles']:,} articles from {index_dir} at {url}"
    except NewsindexError as exc:
        return f"serving at {url}, answering 503 until there is a usable index: {exc}"
    finally:
        index.close()


class AddressUnavailable(NewsindexError):
    code = "address_unavailable"


def check_address(host: str, port: int) -> None:
    """Fail in one line, before gunicorn starts, when the address cannot be listened on.

    gunicorn would retry for five seconds, log each attempt and exit with a
    traceback-like report; a busy port is almost always a server already running.
    """
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise AddressUnavailable(f"cannot listen on {host}: {exc.strerror}; give an address of this "
                                 f"machine with --host") from None
    family, kind, proto, _, address = infos[0]
    probe = socket.socket(family, kind, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        probe.bind(address)
    except OSError as exc:
        option = SETTINGS["port"].env
        if exc.errno == errno.EADDRINUSE:
            raise AddressUnavailable(f"port {port} is in use on {host} (is newsindex serve already running?); "
                                     f"stop the other server or choose another port with --port or "
                                     f"{option}") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise AddressUnavailable(f"no permission to listen on port {port}; ports below 1024 need "
                                     f"root: choose another with --port or {option}") from None
        raise AddressUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}; check --host "
                                 f"and --port") from None
    finally:
        probe.close()


def run(settings: Settings) -> None:
    """Serve until Ctrl-C (SIGINT) or SIGTERM."""
    check_address(settings.host, settings.port)
    NewsindexServer(settings).run()
