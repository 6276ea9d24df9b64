"""The README's configuration table lists every setting with its real default."""
from __future__ import annotations

import re
from pathlib import Path

from indexer.config import ENV_PREFIX, SETTINGS

README = Path(__file__).resolve().parent.parent / "README.md"


def configuration_rows() -> dict[str, str]:
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            names = re.findall(r"`(NEWSINDEX_\w+)`", cells[0])
            defaults = [d.strip() for d in cells[1].split(",")]
            for i, name in enumerate(names):
                rows[name] = defaults[i] if len(defaults) == len(names) else cells[1]
    return rows


def test_every_setting_is_in_the_readme_with_its_default():
    rows = configuration_rows()
    assert set(rows) == {ENV_PREFIX + name.upper() for name in SETTINGS}
    for name, setting in SETTINGS.items():
        shown = rows[ENV_PREFIX + name.upper()]
        if name == "workers":
            assert shown == "number of cores"
        elif setting.default == "":
            assert shown.startswith("(empty")
        else:
            assert shown.strip("`") == str(setting.default), name


def test_the_readme_names_every_field_of_a_search_response(tmp_path):
    """The endpoint table's /api/search row against a real response of the sample index."""
    from indexer.ingest import reindex
    from tests.conftest import SAMPLE
    from webapp import create_app

    row = next(line for line in README.read_text(encoding="utf-8").splitlines()
               if line.startswith("| `GET /api/search?"))
    named = set(re.findall(r'"(\w+)"', row.split("|")[2]))
    reindex(tmp_path / "index", [SAMPLE])
    client = create_app({"TESTING": True, "INDEX": str(tmp_path / "index")}).test_client()
    response = client.get("/api/search?q=cocoa").get_json()
    real = set(response) | set(response["hits"][0]) | set(response["facets"]) | {"value", "count"}
    assert named == real


def test_the_readme_lists_every_api_operation():
    """The endpoint table against the OpenAPI document: each /api/ path (bar the document itself)."""
    from indexer.config import Settings
    from webapp.openapi import openapi_document

    table = README.read_text(encoding="utf-8").split("| endpoint | returns |", 1)[1].split("\n\n", 1)[0]
    listed = {re.sub(r"<(\w+)>", r"{\1}", m.split("?")[0]) for m in re.findall(r"^\| `GET ([^`]+)`", table, re.M)}
    documented = {path for path in openapi_document(Settings.load())["paths"] if path.startswith("/api/")}
    assert documented <= listed
