"""CI cannot pass without running the browser and system-tool tests (.ci/run sets CI=true)."""
from __future__ import annotations

from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")


def test_a_skipped_browser_test_fails_on_ci_and_only_there(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    browser: drives a real headless Chromium\n    tool: needs rsync\n")
    pytester.makepyfile(test_scratch="""
        import pytest

        @pytest.mark.browser
        def test_needs_a_browser():
            pytest.skip("/usr/bin/chromium is missing")

        @pytest.mark.tool
        def test_needs_rsync():
            pytest.skip("rsync is not installed")

        def test_other_skips_stay_skips():
            pytest.skip("not a browser test")
    """)
    monkeypatch.setenv("CI", "true")
    on_ci = pytester.runpytest("-p", "no:cacheprovider")
    on_ci.assert_outcomes(failed=2, skipped=1)
    on_ci.stdout.fnmatch_lines(["*a browser test was skipped on CI*chromium is missing*"])
    on_ci.stdout.fnmatch_lines(["*a tool test was skipped on CI*rsync is not installed*"])
    monkeypatch.delenv("CI")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(skipped=3)
