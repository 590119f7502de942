"""End-to-end tests of ``scslab dashboard`` in a real browser (Chromium via Playwright).

The app is started as ``scslab dashboard`` in a subprocess on a free loopback port; the
tests drive the page as a person would and write a screenshot of every step into
``test-artifacts/dashboard/`` (not committed). They skip only when /usr/bin/chromium is
missing (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "dashboard"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: generous: the first run in a fresh worker loads (or compiles) the Numba kernels
RUN_TIMEOUT_MS = 180_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``scslab dashboard`` on a free loopback port; yields (url, results folder)."""
    results = tmp_path_factory.mktemp("dashboard") / "results"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scslab", "dashboard", "--port", str(port), "--results",
         str(results)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("scslab dashboard: http://") or not line and proc.poll() is not None:
            break
    if not line.startswith("scslab dashboard: http://127.0.0.1:"):
        proc.kill()
        pytest.fail(f"the dashboard did not start: {line!r} {proc.stdout.read()}")
    try:
        yield url, results
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright import sync_api  # the test extra installs it: missing is a failure

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1300, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_page(browser, url: str):
    page = browser.new_page()
    page.goto(url)
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=120_000)
    return page


def set_field(page, path: str, value) -> None:
    box = page.locator(f".field-{path.replace('.', '-')} input")
    box.fill(str(value))
    box.press("Enter")


def set_size(page, people: int, days: int, seed: int | None = None) -> None:
    set_field(page, "population.people", people)
    set_field(page, "time.days", days)
    set_field(page, "time.burn_in", 0)
    if seed is not None:
        set_field(page, "seed", seed)
    page.wait_for_timeout(300)  # let the last value reach the server


def status(page, css: str) -> str:
    """The text of a pane (Panel renders it inside the element's shadow root)."""
    return page.locator(f"{css} div").first.inner_text()


def wait_run(page, timeout_ms: int = RUN_TIMEOUT_MS, live_shot: str | None = None) -> list[str]:
    """Wait until the run is done; return every status line seen on the way (with
    ``live_shot``, a screenshot of the first part-drawn chart)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        text = status(page, ".run-status").strip()
        if not seen or seen[-1] != text:
            seen.append(text)
            if live_shot and text.startswith("Day ") and page.locator("canvas").count():
                shot(page, live_shot)
                live_shot = None
        if text.startswith(("Done", "Failed", "Cancelled")):
            return seen
        page.wait_for_timeout(30)
    raise AssertionError(f"the run did not finish; statuses seen: {seen}")


def stored_folder(page, css: str) -> str:
    m = re.search(r"((?:run|compare|explain)-\d{8}-\d{6}-[0-9a-f]{8})", status(page, css))
    assert m, status(page, css)
    return m.group(1)


def summary_value(page, metric: str) -> str:
    return page.locator(f".run-summary tr[data-key='{metric}'] td").nth(1).inner_text()


def test_run_small_scenario_live(server, browser):
    url, results = server
    page = open_page(browser, url)
    shot(page, "01-start")
    set_size(page, 2000, 60)
    page.get_by_role("button", name="Run", exact=True).click()
    seen = wait_run(page)
    page.locator(".run-limits").get_by_text("One replicate").wait_for(timeout=30_000)
    shot(page, "02-run-done")
    assert seen[-1].startswith("Done: day 60 of 60 — 60 days drawn"), seen
    assert page.locator(".run-charts canvas").count() >= 1
    folder = results / stored_folder(page, ".run-summary")
    summary = json.loads((folder / "summary.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["population"]["people"] == 2000
    assert manifest["scenario"]["time"]["days"] == 60
    from scslab.analysis.summary import fmt

    assert summary_value(page, "violation_rate") == fmt(summary["violation_rate"])
    limits = status(page, ".run-limits")
    assert "Synthetic people only" in limits and "One replicate" in limits

    # a long run draws as it goes, and is cancelled half-way: nothing is stored
    before = sorted(p.name for p in results.iterdir())
    set_size(page, 2000, 30_000)
    page.get_by_role("button", name="Run", exact=True).click()
    seen, drawn = [], []
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while len(set(drawn)) < 3 and time.monotonic() < deadline:
        text = status(page, ".run-status")
        if m := re.match(r"Day \d+ of 30000 — (\d+) days drawn", text):
            drawn.append(int(m.group(1)))
        seen.append(text)
        page.wait_for_timeout(50)
    assert len(set(drawn)) >= 3, f"the chart did not update during the run: {seen[-5:]}"
    assert drawn == sorted(drawn) and 0 < drawn[-1] < 30_000
    shot(page, "03-run-live")
    page.get_by_role("button", name="Cancel run").click()
    page.locator(".run-status").get_by_text("Cancelled.").wait_for(timeout=30_000)
    shot(page, "04-run-cancelled")
    assert sorted(p.name for p in results.iterdir()) == before
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()
    page.close()


def test_bad_upload_shows_the_cli_line(server, browser, tmp_path):
    url, _ = server
    bad = "extends: baseline\npopulation:\n  people: -5\n"
    (tmp_path / "bad.yaml").write_text(bad)
    cli = subprocess.run([sys.executable, "-m", "scslab", "show", "bad.yaml"], cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    assert cli.returncode == 2
    page = open_page(browser, url)
    page.locator(".pick-upload input[type=file]").set_input_files(
        files=[{"name": "bad.yaml", "mimeType": "application/x-yaml",
                "buffer": bad.encode()}])
    err = page.locator(".scenario-error .error-line")
    err.wait_for(timeout=30_000)
    shot(page, "05-bad-upload")
    assert err.inner_text().strip() == cli.stderr.strip()
    # a good upload replaces the error and becomes the scenario
    good = ("extends: rongcheng\nname: my-upload\ndescription: '<i>not markup</i>'\n"
            "population:\n  people: 1500\n")
    page.locator(".pick-upload input[type=file]").set_input_files(
        files=[{"name": "good.yaml", "mimeType": "application/x-yaml",
                "buffer": good.encode()}])
    page.locator(".scenario-picked").get_by_text("uploaded good.yaml").wait_for(timeout=30_000)
    assert not err.is_visible()
    assert page.locator(".field-population-people input").input_value() == "1500"
    assert "<i>not markup</i>" in status(page, ".scenario-picked")  # text, not HTML
    shot(page, "06-good-upload")
    page.close()


def test_compare_two_scenarios(server, browser):
    url, results = server
    page = open_page(browser, url)
    set_size(page, 2000, 30)
    page.locator(".bk-tab", has_text="Compare").click()
    reps = page.locator(".compare-replicates input")
    reps.fill("2")
    reps.press("Enter")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Compare", exact=True).click()
    table = page.locator(".compare-result table")
    table.wait_for(timeout=RUN_TIMEOUT_MS)
    page.locator(".compare-limits").get_by_text("Differences are paired").wait_for(
        timeout=30_000)
    shot(page, "07-compare-done")
    text = table.inner_text()
    assert "baseline" in text and "rongcheng" in text and "listed_share" in text
    assert "Δ" in text
    folder = stored_folder(page, ".compare-result")
    manifest = json.loads((results / folder / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["crn"] is True
    assert manifest["people"] == 2000 and manifest["replicates"] == 2
    href = page.locator(".compare-result a.report-link").get_attribute("href")
    report = page.request.get(url + href.removeprefix("./"))
    assert report.ok and "scslab comparison" in report.text()
    assert page.request.get(url + "results/../pyproject.toml").status in (403, 404)
    assert "Differences are paired" in status(page, ".compare-limits")
    page.close()


@pytest.mark.slow
def test_explain_with_figure_and_stored_report(server, browser):
    url, results = server
    page = open_page(browser, url)
    set_size(page, 2000, 30)
    page.locator(".bk-tab", has_text="Explain").click()
    set_replicates = page.locator(".explain-replicates input")
    set_replicates.fill("2")
    set_replicates.press("Enter")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Explain", exact=True).click()
    table = page.locator(".explain-result table")
    table.wait_for(timeout=RUN_TIMEOUT_MS)
    page.locator(".explain-figure img").wait_for(timeout=30_000)
    page.locator(".explain-limits").get_by_text("registered causes").wait_for(timeout=30_000)
    shot(page, "08-explain-done")
    text = table.inner_text()
    for run in ("income", "behaviour", "exposure", "all causes"):
        assert run in text
    folder = stored_folder(page, ".explain-result")
    manifest = json.loads((results / folder / "manifest.json").read_text())
    assert manifest["kind"] == "explain" and manifest["metric"] == "detection_rate"
    assert (manifest["group_a"], manifest["group_b"]) == ("minority", "majority")
    assert "registered causes" in status(page, ".explain-limits")
    # the stored-results tab lists it and links its report
    page.locator(".bk-tab", has_text="Stored results").click()
    page.locator(".stored-pick select").select_option(label=f"{folder} (explain)")
    link = page.locator(".stored-link a.report-link")
    link.wait_for(timeout=30_000)
    shot(page, "09-stored")
    report = page.request.get(url + link.get_attribute("href").removeprefix("./"))
    assert report.ok and "detection_rate" in report.text()
    page.close()


def test_two_tabs_run_at_once_separately(server, browser):
    """Two tabs, two different societies, running at the same time: each tab shows its
    own result, equal to the same scenario run here in one piece."""
    from scslab.analysis.summary import fmt
    from scslab.run.engine import Sim
    from scslab.run.results import replicate_result
    from scslab.scenario import load_scenario

    url, results = server
    specs = [(2000, 30, 11), (2500, 30, 12)]
    pages = [open_page(browser, url) for _ in specs]
    for page, (people, days, seed) in zip(pages, specs, strict=True):
        set_size(page, people, days, seed)
    for page in pages:
        page.get_by_role("button", name="Run", exact=True).click()
    for page in pages:
        wait_run(page)
    for i, (page, (people, days, seed)) in enumerate(zip(pages, specs, strict=True)):
        shot(page, f"10-tab{i + 1}-done")
        folder = results / stored_folder(page, ".run-summary")
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["scenario"]["population"]["people"] == people
        assert manifest["seed"] == seed
        ref = replicate_result(Sim(load_scenario("baseline", people=people, days=days,
                                                 burn_in=0, seed=seed)).run())
        assert summary_value(page, "violation_rate") == fmt(ref.summary["violation_rate"])
        page.close()


@pytest.mark.slow
def test_load_five_tabs_of_ten_thousand(server, browser):
    """Load: five tabs at once, each running its own 10^4-person society to completion;
    every tab shows its own result, equal to the same scenario run here in one piece."""
    from scslab.analysis.summary import fmt
    from scslab.run.engine import Sim
    from scslab.run.results import replicate_result
    from scslab.scenario import load_scenario

    url, results = server
    days = 100
    seeds = [101, 102, 103, 104, 105]
    pages = [open_page(browser, url) for _ in seeds]
    for page, seed in zip(pages, seeds, strict=True):
        set_size(page, 10_000, days, seed)
    t0 = time.monotonic()
    for page in pages:
        page.get_by_role("button", name="Run", exact=True).click()
    for page in pages:
        seen = wait_run(page, timeout_ms=600_000)
        assert seen[-1].startswith(f"Done: day {days} of {days}"), seen
    wall = time.monotonic() - t0
    print(f"five tabs of 10^4 people x {days} days: {wall:.1f} s")
    folders = set()
    for i, (page, seed) in enumerate(zip(pages, seeds, strict=True)):
        shot(page, f"11-load-tab{i + 1}")
        folder = results / stored_folder(page, ".run-summary")
        folders.add(folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["seed"] == seed
        assert manifest["scenario"]["population"]["people"] == 10_000
        ref = replicate_result(Sim(load_scenario("baseline", people=10_000, days=days,
                                                 burn_in=0, seed=seed)).run())
        for metric in ("violation_rate", "detection_rate", "expression_rate"):
            assert summary_value(page, metric) == fmt(ref.summary[metric]), (seed, metric)
        page.close()
    assert len(folders) == len(seeds)
