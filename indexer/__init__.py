"""newsindex's library: read articles, analyse them, keep a Whoosh index, search it.

Data flows one way: files -> readers -> ingest -> store; query -> search ->
(cli | webapp). ``webapp`` never imports Whoosh: it calls this package.
"""
__version__ = "0.1.0"
