"""Exports (issue 11): every match, exactly the search's total, readable back by csv and json."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from indexer.exports import HIT_FIELDS, export, guard_formula
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import QueryError, SearchFilters, parse_day, search
from tests.conftest import REPO, SAMPLE, run_cli
from tests.issue11_data import FORMULA_RECORDS, formula_source, reuters_index
from tests.servers import build_web_index
from webapp import create_app

QUERIES = ["oil", "cocoa -bahia", '"crude oil"', "", "source:reuters wheat", "nego*", "quokka"]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    work = tmp_path_factory.mktemp("exports")
    index_dir = build_web_index(work)
    reindex(index_dir, [SAMPLE, work / "hostile", formula_source(work / "formulas")])
    return index_dir


@pytest.fixture(scope="module")
def reuters(tmp_path_factory):
    return reuters_index(tmp_path_factory.mktemp("reuters-exports"))


@pytest.fixture(scope="module")
def client(sample_index):
    return create_app({"INDEX": str(sample_index), "TESTING": True}).test_client()


def body(prepared) -> bytes:
    return b"".join(prepared.chunks())


def all_search_ids(index, query, filters=None) -> tuple[int, list[str]]:
    """Every id search() pages through, in its order (the reference an export must equal)."""
    first = search(index, query, per_page=100, filters=filters, cache=False)
    ids = [h.id for h in first.hits]
    for page in range(2, first.pages + 1):
        ids += [h.id for h in search(index, query, page=page, per_page=100, filters=filters, cache=False).hits]
    return first.total, ids


@pytest.mark.parametrize("which", ["sample_index", "reuters"])
def test_exports_hold_exactly_the_search_results_and_round_trip(which, request):
    index = LiveIndex(request.getfixturevalue(which))
    for query in QUERIES + ["wheat", "dollar yen"]:
        total, ids = all_search_ids(index, query)
        if total > 10_000:
            continue  # search pages through the first 10,000 only
        if search(index, query, per_page=1).corrected_from:  # nothing matched: search showed a correction
            assert export(index, query).total == 0, query  # an export never swaps the query
            continue
        as_csv = export(index, query, format="csv")
        as_jsonl = export(index, query, format="jsonl")
        assert as_csv.total == as_jsonl.total == as_csv.count == total, query
        rows = list(csv.DictReader(io.StringIO(body(as_csv).decode("utf-8"), newline="")))
        lines = [json.loads(line) for line in body(as_jsonl).decode("utf-8").splitlines()]
        assert [r["id"].removeprefix("'") for r in rows] == [line["id"] for line in lines] == ids, query
        for row, line in zip(rows, lines):
            assert list(row) == list(line) == list(HIT_FIELDS)
            for name in HIT_FIELDS:  # the same values, CSV as text (empty for null)
                value = line[name]
                text = "" if value is None else repr(value) if isinstance(value, float) else str(value)
                assert row[name].removeprefix("'") == text.removeprefix("'") or row[name] == "'" + text


def test_reuters_export_with_filters_and_sort_matches_search(reuters):
    index = LiveIndex(reuters)
    filters = SearchFilters(sources=("Reuters",), date_from=parse_day("1987-03", "from"),
                            date_to=parse_day("1987-03", "to", end=True))
    for sort in ("newest", "oldest", "relevance"):
        total, ids = all_search_ids(index, "oil prices", filters) if sort == "relevance" else (None, None)
        prepared = export(index, "oil prices", filters, sort, format="jsonl", fields="id,published")
        lines = [json.loads(line) for line in body(prepared).decode().splitlines()]
        assert len(lines) == prepared.total == search(index, "oil prices", filters=filters, sort=sort).total > 0
        assert all(line["published"].startswith("1987-03") for line in lines)
        stamps = [line["published"] for line in lines]
        if sort == "newest":
            assert stamps == sorted(stamps, reverse=True)
        elif sort == "oldest":
            assert stamps == sorted(stamps)
        else:
            assert [line["id"] for line in lines] == ids


def test_formula_injection_is_guarded_in_csv_only(sample_index):
    index = LiveIndex(sample_index)
    prepared = export(index, "zebra", format="csv", fields="id,title,source,author,body")
    raw = body(prepared).decode("utf-8")
    rows = {r["id"].removeprefix("'"): r for r in csv.DictReader(io.StringIO(raw, newline=""))}
    assert len(rows) == len(FORMULA_RECORDS)
    for record in FORMULA_RECORDS:
        row = rows[record["id"]]
        for name in ("title", "source", "author"):
            original = record.get(name, "")
            if original.startswith(("=", "+", "-", "@", "\t")):
                assert row[name] == "'" + original, (name, row[name])
    assert rows["-formula-minus"]["id"] == "'-formula-minus"  # every text cell, ids too
    assert guard_formula("\tx") == "'\tx" and guard_formula("\rx") == "'\rx"  # ingest strips these from titles
    assert guard_formula("x=1") == "x=1" and guard_formula("") == ""
    assert rows["formula-at"]["body"] == "Zebra formula four, \"quoted\", with, commas\nand lines."  # RFC 4180
    assert raw.count("\r\n") == len(FORMULA_RECORDS) + 1  # rows end in CRLF; the line inside a cell stays \n
    unguarded = export(index, "zebra", format="csv", fields="id,title", guard_formulas=False)
    titles = {r["title"] for r in csv.DictReader(io.StringIO(body(unguarded).decode(), newline=""))}
    assert {r["title"] for r in FORMULA_RECORDS} == titles
    lines = [json.loads(x) for x in body(export(index, "zebra", format="jsonl", fields="title")).decode().splitlines()]
    assert {line["title"] for line in lines} == titles  # JSON Lines is data for programs: never altered


def test_byte_order_mark_and_fields(sample_index):
    index = LiveIndex(sample_index)
    with_bom = body(export(index, "cocoa", format="csv", bom=True, fields="id,snippet"))
    assert with_bom.startswith(b"\xef\xbb\xbfid,snippet\r\n")
    assert not body(export(index, "cocoa", format="csv")).startswith(b"\xef\xbb\xbf")
    assert not body(export(index, "cocoa", format="jsonl", bom=True)).startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(with_bom.decode("utf-8-sig"), newline="")))
    assert all("<mark>" not in r["snippet"] and r["snippet"] for r in rows)
    line = json.loads(body(export(index, "cocoa", format="jsonl", fields=["title", "id"], with_body=True))
                      .decode().splitlines()[0])
    assert list(line) == ["title", "id", "body"] and len(line["body"]) > 100
    for bad, message in (("id,nope", "no field 'nope'"), ("id,,title", "empty")):
        with pytest.raises(QueryError, match=message) as error:
            export(index, "cocoa", fields=bad)
        assert error.value.param == "fields"
    with pytest.raises(QueryError, match="format must be"):
        export(index, "cocoa", format="xlsx")


def test_the_export_limit_cuts_off_with_a_notice(sample_index, monkeypatch):
    index = LiveIndex(sample_index)
    monkeypatch.setenv("NEWSINDEX_EXPORT_LIMIT", "7")
    prepared = export(index, "", format="jsonl")
    assert prepared.total > 300 and prepared.count == 7 and prepared.truncated
    assert len(body(prepared).splitlines()) == 7
    assert "first 7 of" in prepared.notice() and "NEWSINDEX_EXPORT_LIMIT" in prepared.notice()
    with pytest.raises(QueryError, match="between 1 and 7"):
        export(index, "", limit=8)
    asked = export(index, "", limit=3)
    assert asked.count == 3 and "as asked" in asked.notice()
    assert export(index, "cocoa -bahia").notice() is None


def test_api_export_streams_the_file_with_its_counts(client, sample_index):
    response = client.get("/api/export?q=oil&format=csv&bom=true")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=newsindex-oil.csv"
    accented = client.get("/api/export", query_string={"q": 'Flüchtlinge "a/b" Ölpreis', "format": "jsonl"})
    assert accented.headers["Content-Disposition"] == "attachment; filename=newsindex-fluchtlinge-a-b-olpreis.jsonl"
    total = search(LiveIndex(sample_index), "oil").total
    assert response.headers["X-Total-Count"] == response.headers["X-Export-Count"] == str(total)
    assert response.headers["X-Export-Truncated"] == "false" and "X-Export-Notice" not in response.headers
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    assert len(rows) == total
    jsonl = client.get("/api/export?q=oil&format=jsonl&fields=id,title&with_body=true&sort=oldest")
    assert jsonl.mimetype == "application/x-ndjson"
    lines = [json.loads(x) for x in jsonl.get_data(as_text=True).splitlines()]
    assert len(lines) == total and list(lines[0]) == ["id", "title", "body"]
    cut = client.get("/api/export?q=&limit=5")
    assert cut.headers["X-Export-Truncated"] == "true" and cut.headers["X-Export-Count"] == "5"
    assert "first 5 of" in cut.headers["X-Export-Notice"]
    repeat = client.get("/api/export?q=oil&format=csv&bom=true", headers={"If-None-Match": response.headers["ETag"]})
    assert repeat.status_code == 304 and repeat.get_data() == b""


@pytest.mark.parametrize("query, param", [("format=xlsx", "format"), ("fields=id,nope", "fields"),
                                          ("bom=yes", "bom"), ("with_body=1", "with_body"),
                                          ("limit=0", "limit"), ("limit=100001", "limit"),
                                          ("from=1988&to=1987", "from"), ("sort=best", "sort")])
def test_api_export_refuses_bad_parameters_in_the_error_shape(client, query, param):
    response = client.get(f"/api/export?q=oil&{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and error["param"] == param and error["message"]


def test_cli_export_to_stdout_and_file(sample_index, tmp_path):
    done = run_cli("export", "oil", "--index", str(sample_index), "--fields", "id,title")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert len(rows) == search(LiveIndex(sample_index), "oil").total and done.stderr == ""
    target = tmp_path / "all.jsonl"
    done = run_cli("export", "", "--index", str(sample_index), "--format", "jsonl", "--output", str(target),
                   env={"NEWSINDEX_EXPORT_LIMIT": "10"})
    assert done.returncode == 0, done.stderr
    assert len(target.read_text().splitlines()) == 10
    assert "note: exported the first 10 of" in done.stderr and "NEWSINDEX_EXPORT_LIMIT" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["all.jsonl"]  # no temporary file left
    bad = run_cli("export", "oil", "--index", str(sample_index), "--fields", "id,nope")
    assert bad.returncode != 0 and "no field 'nope'" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_export_into_a_closed_pipe_ends_quietly(sample_index):
    """`newsindex export … | head -1`: the reader stops early; no traceback, no error."""
    done = subprocess.run(f"{sys.executable} -m indexer export '' --format jsonl --with-body "
                          f"--index {sample_index} | head -1", shell=True, capture_output=True, text=True,
                          cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert len(done.stdout.splitlines()) == 1 and json.loads(done.stdout)["id"]
    assert done.stderr == ""
