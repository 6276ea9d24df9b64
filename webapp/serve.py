"""`newsindex serve`: the app under gunicorn, with one index handle per worker.

Workers are forked before the app is loaded (``preload_app=False``), so each
opens and warms its own :class:`~indexer.store.LiveIndex`; none is shared
across a fork. Sync workers: the search library keeps per-generation state
that is not meant to be used from several threads at once. The server starts
without an index too and answers 503 until a reindex creates one.
"""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from indexer.errors import NewsindexError
from indexer.memory import keep_large_arrays_off_the_heap
from indexer.search import index_info
from indexer.store import LiveIndex

from . import create_app, warm_index

GRACEFUL_TIMEOUT_SECONDS = 10


class NewsindexServer(BaseApplication):
    """gunicorn configured in code: no config file, no command-line parsing of its own."""

    def __init__(self, index_dir: str | os.PathLike, host: str, port: int, workers: int):
        self.index_dir = str(index_dir)
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
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(name, value)

    def load(self):
        """Runs in each worker: its own app, index handle and warm caches."""
        keep_large_arrays_off_the_heap()
        app = create_app({"INDEX": self.index_dir})
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


def run(index_dir: str | os.PathLike, host: str, port: int, workers: int) -> None:
    """Serve until Ctrl-C (SIGINT) or SIGTERM."""
    NewsindexServer(index_dir, host, port, workers).run()
