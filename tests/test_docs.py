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
