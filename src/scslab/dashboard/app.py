"""The dashboard's page (Panel) and its server.

Every browser tab gets its own :class:`Dashboard` (Panel builds a session per tab): its
scenario, its form, its jobs. Nothing is shared between tabs except the results folder,
where each job writes under a name made by :class:`~scslab.dashboard.jobs.JobRunner`.

Security: the server listens on 127.0.0.1 unless told otherwise; the page offers no way to
run code or name a path. An uploaded YAML file is parsed from memory with the project's
safe loader (it may extend builtin scenarios only) and never written anywhere; the only
files the server hands out are those under the results folder.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from scslab.dashboard.forms import OPEN_SECTIONS, FormSection, overrides, scenario_sections
from scslab.dashboard.jobs import LIVE_BY_GROUP, Job, JobRunner
from scslab.dashboard.limits import limits_markdown

#: largest upload accepted (a scenario file is a few kB)
MAX_UPLOAD_BYTES = 1_000_000
#: how often a page polls its jobs, ms
POLL_MS = 250
#: URL prefix under which the results folder is served
RESULTS_URL = "results"
EDITED = "(the scenario on the left, as edited)"
#: width of the scenario column, px (results take the rest)
SCENARIO_WIDTH = 600
RESULTS_WIDTH = 680
NO_RESULT = "Shown with each result."
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
          "#17becf")

CSS = """
.field-meaning { font-size: 0.85em; color: #555; }
.error-line { color: #a40000; font-family: monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
"""


def html_table(header: list[str], rows: list[list[str]], css: str = "") -> str:
    e = html.escape
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{e(h)}</th>" for h in header)
    body = "".join(f"<tr data-key='{e(str(row[0]))}'>"
                   + "".join(f"<td style='padding:2px 8px'>{e(str(c))}</td>" for c in row)
                   + "</tr>" for row in rows)
    return (f"<table class='{css}' style='border-collapse:collapse;font-size:0.9em'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _error_text(exc: Exception) -> str:
    """The line the CLI prints for the same bad input."""
    return f"scslab: error: {' '.join(str(exc).split())}"


class Dashboard:
    """One browser tab's page."""

    def __init__(self, runner: JobRunner) -> None:
        from scslab.scenario import builtin_names

        self.runner = runner
        self.base: Any = None  # the picked scenario (validated), before form edits
        self.sections: list[FormSection] = []
        self.widgets: dict[str, Any] = {}
        self.jobs: dict[str, Job | None] = {"run": None, "compare": None, "explain": None}

        names = builtin_names()
        self.builtin = pn.widgets.Select(name="Builtin scenario", options=names, width=250,
                                         value="baseline" if "baseline" in names else names[0],
                                         css_classes=["pick-builtin"])
        self.upload = pn.widgets.FileInput(accept=".yaml,.yml", multiple=False,
                                           css_classes=["pick-upload"])
        self.error = pn.pane.HTML("", css_classes=["scenario-error"], visible=False,
                                  stylesheets=[CSS])
        self.picked = pn.pane.HTML("", css_classes=["scenario-picked"])
        self.form = pn.Column(sizing_mode="stretch_width")
        self.builtin.param.watch(lambda e: self.pick_builtin(e.new), "value")
        self.upload.param.watch(lambda e: self.pick_upload(), "value")

        # run
        self.run_button = pn.widgets.Button(name="Run", button_type="primary",
                                            css_classes=["run-button"])
        self.run_cancel = pn.widgets.Button(name="Cancel run", disabled=True,
                                            css_classes=["run-cancel"])
        self.run_progress = pn.indicators.Progress(value=0, max=100, width=400,
                                                   css_classes=["run-progress"])
        self.run_status = pn.pane.Markdown("No run yet.", css_classes=["run-status"])
        self.run_charts = pn.Column(css_classes=["run-charts"], sizing_mode="stretch_width")
        self.run_summary = pn.pane.HTML("", css_classes=["run-summary"])
        self.run_limits = pn.pane.Markdown(NO_RESULT, css_classes=["run-limits"])
        self.run_button.on_click(lambda e: self.start_run())
        self.run_cancel.on_click(lambda e: self.cancel("run"))
        self.sources: list[tuple[ColumnDataSource, list[str]]] = []
        self.run_scenario: dict | None = None

        # compare
        self.cmp_pick = pn.widgets.MultiChoice(name="Scenarios to compare",
                                               options=[EDITED, *names],
                                               value=[EDITED, "rongcheng"] if "rongcheng"
                                               in names else [EDITED],
                                               width=480, css_classes=["compare-pick"])
        self.cmp_reps = pn.widgets.IntInput(name="Replicates", value=3, start=2, end=50, width=100,
                                            css_classes=["compare-replicates"])
        self.cmp_button = pn.widgets.Button(name="Compare", button_type="primary",
                                            css_classes=["compare-button"])
        self.cmp_cancel = pn.widgets.Button(name="Cancel comparison", disabled=True,
                                            css_classes=["compare-cancel"])
        self.cmp_progress = pn.indicators.Progress(value=0, max=100, width=400)
        self.cmp_status = pn.pane.Markdown("", css_classes=["compare-status"])
        self.cmp_result = pn.pane.HTML("", css_classes=["compare-result"])
        self.cmp_limits = pn.pane.Markdown(NO_RESULT, css_classes=["compare-limits"])
        self.cmp_button.on_click(lambda e: self.start_compare())
        self.cmp_cancel.on_click(lambda e: self.cancel("compare"))

        # explain
        self.exp_metric = pn.widgets.Select(name="Metric", options=[], width=230,
                                            css_classes=["explain-metric"])
        self.exp_a = pn.widgets.Select(name="Group A", options=[], width=140,
                                       css_classes=["explain-a"])
        self.exp_b = pn.widgets.Select(name="Group B (reference)", options=[], width=140,
                                       css_classes=["explain-b"])
        self.exp_reps = pn.widgets.IntInput(name="Replicates", value=3, start=2, end=50,
                                            width=100, css_classes=["explain-replicates"])
        self.exp_button = pn.widgets.Button(name="Explain", button_type="primary",
                                            css_classes=["explain-button"])
        self.exp_cancel = pn.widgets.Button(name="Cancel explanation", disabled=True)
        self.exp_progress = pn.indicators.Progress(value=0, max=100, width=400)
        self.exp_status = pn.pane.Markdown("", css_classes=["explain-status"])
        self.exp_result = pn.pane.HTML("", css_classes=["explain-result"])
        self.exp_figure = pn.pane.PNG(None, width=700, visible=False,
                                      css_classes=["explain-figure"])
        self.exp_limits = pn.pane.Markdown(NO_RESULT, css_classes=["explain-limits"])
        self.exp_button.on_click(lambda e: self.start_explain())
        self.exp_cancel.on_click(lambda e: self.cancel("explain"))

        # stored results
        self.stored = pn.widgets.Select(name="Stored results", options=[],
                                        width=420, css_classes=["stored-pick"])
        self.stored_refresh = pn.widgets.Button(name="Refresh")
        self.stored_link = pn.pane.HTML("", css_classes=["stored-link"])
        self.stored_refresh.on_click(lambda e: self.refresh_stored())
        self.stored.param.watch(lambda e: self.show_stored(e.new), "value")

        self.layout = self._layout()
        self.pick_builtin(self.builtin.value)
        self.refresh_stored()

    # ------------------------------------------------------------------ layout

    def _layout(self) -> Any:
        header = pn.pane.Markdown(
            "# scslab dashboard\nBuild a synthetic society, switch scoring and surveillance "
            "systems on, watch what they do, and compare. Synthetic people only.")
        scenario = pn.Column(
            "## 1. Scenario",
            pn.Row(self.builtin, pn.Column("or upload a YAML scenario file", self.upload)),
            self.error, self.picked, self.form, width=SCENARIO_WIDTH)
        run = pn.Column(
            pn.Row(self.run_button, self.run_cancel), self.run_progress, self.run_status,
            self.run_charts, self.run_summary,
            pn.Card(self.run_limits, title="What this does not show", collapsed=False),
            sizing_mode="stretch_width")
        compare = pn.Column(
            "Replicate r of every scenario shares its people and random numbers (common "
            "random numbers); the edited scenario's size, days, burn-in and seed apply to all.",
            pn.Row(self.cmp_pick, self.cmp_reps), pn.Row(self.cmp_button, self.cmp_cancel),
            self.cmp_progress, self.cmp_status, self.cmp_result,
            pn.Card(self.cmp_limits, title="What this does not show", collapsed=False),
            sizing_mode="stretch_width")
        explain = pn.Column(
            "Equalise one cause of a group disparity at a time (income, behaviour, exposure) "
            "and measure how much of the disparity goes.",
            pn.Row(self.exp_metric, self.exp_a, self.exp_b, self.exp_reps),
            pn.Row(self.exp_button, self.exp_cancel), self.exp_progress, self.exp_status,
            self.exp_result, self.exp_figure,
            pn.Card(self.exp_limits, title="What this does not show", collapsed=False),
            sizing_mode="stretch_width")
        stored = pn.Column(pn.Row(self.stored, self.stored_refresh), self.stored_link)
        tabs = pn.Tabs(("Run", run), ("Compare", compare), ("Explain", explain),
                       ("Stored results", stored), dynamic=False)
        results = pn.Column("## 2. Watch, compare, explain", tabs, width=RESULTS_WIDTH)
        return pn.Column(header, pn.Row(scenario, results), stylesheets=[CSS])

    def _field_widget(self, f: Any) -> Any:
        css = ["field-" + f.path.replace(".", "-")]
        if f.kind == "bool":
            w = pn.widgets.Checkbox(name=f.label, value=bool(f.value), css_classes=css)
        elif f.kind == "int":
            kw = {k: int(v) for k, v in (("start", f.low), ("end", f.high))
                  if v is not None and abs(v) < 2**53}
            w = pn.widgets.IntInput(name=f.label, value=int(f.value), width=170,
                                    css_classes=css, **kw)
        else:
            kw = {k: float(v) for k, v in (("start", f.low), ("end", f.high)) if v is not None}
            w = pn.widgets.FloatInput(name=f.label, value=float(f.value), width=170,
                                      css_classes=css, **kw)
        self.widgets[f.path] = w
        meaning = pn.pane.HTML(f"<span class='field-meaning'>{html.escape(f.meaning)}</span>",
                               stylesheets=[CSS], width=SCENARIO_WIDTH - 230)
        return pn.Row(w, meaning)

    def _build_form(self) -> None:
        """One card per section; folded cards get their widgets when first unfolded (a
        page with every field built up front takes seconds to send)."""
        self.widgets = {}
        cards = []
        for section in self.sections:
            folded = section.title not in OPEN_SECTIONS
            card = pn.Card(title=f"{section.title} ({len(section.fields)})", collapsed=folded,
                           sizing_mode="stretch_width",
                           css_classes=["section-" + section.title.split(":")[-1].strip()
                                        .lower().replace(" ", "-")])
            if folded:
                card.param.watch(lambda e, c=card, s=section: self._unfold(c, s), "collapsed")
            else:
                card.objects = [self._field_widget(f) for f in section.fields]
            cards.append(card)
        self.form.objects = cards

    def _unfold(self, card: Any, section: FormSection) -> None:
        if not card.collapsed and not card.objects:
            card.objects = [self._field_widget(f) for f in section.fields]

    # ------------------------------------------------------------------ scenario

    def _show_error(self, text: str | None) -> None:
        self.error.object = "" if not text else (
            f"<div class='error-line'>{html.escape(text)}</div>")
        self.error.visible = bool(text)

    def _set_scenario(self, scenario: Any, label: str) -> None:
        from scslab.analysis.compare import metric_names

        self.base = scenario
        self.sections = scenario_sections(scenario)
        self._build_form()
        # names and descriptions may come from an uploaded file: shown as text, not markup
        desc = f" — {html.escape(scenario.description)}" if scenario.description else ""
        self.picked.object = f"<b>Scenario: {html.escape(label)}</b>{desc}"
        overall = [m for m in metric_names(scenario) if "[" not in m]
        self.exp_metric.options = overall
        self.exp_metric.value = "detection_rate" if "detection_rate" in overall else (
            overall[0] if overall else None)
        groups = list(scenario.population.groups)
        self.exp_a.options = groups
        self.exp_b.options = groups
        ref = scenario.population.reference_group
        self.exp_b.value = ref
        self.exp_a.value = next((g for g in groups if g != ref), groups[0])
        self._show_error(None)

    def pick_builtin(self, name: str) -> None:
        from scslab.scenario import ScenarioError, load_scenario

        try:
            sc = load_scenario(name)
        except ScenarioError as exc:
            self._show_error(_error_text(exc))
            return
        self._set_scenario(sc, f"builtin {name}")

    def pick_upload(self) -> None:
        from scslab.scenario import ScenarioError, load_scenario_text

        data = self.upload.value
        if not data:
            return
        where = Path(str(self.upload.filename or "upload.yaml")).name
        if len(data) > MAX_UPLOAD_BYTES:
            self._show_error(f"scslab: error: {where}: larger than {MAX_UPLOAD_BYTES:,} "
                             "bytes; a scenario file is a few kB")
            return
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            self._show_error(f"scslab: error: {where}: cannot read: not UTF-8 text")
            return
        try:
            sc = load_scenario_text(text, where)
        except ScenarioError as exc:
            self._show_error(_error_text(exc))
            return
        self._set_scenario(sc, f"uploaded {where}")

    def scenario(self) -> Any:
        """The picked scenario with the form's edits, validated (None and an error shown
        when an edit is invalid)."""
        from scslab.analysis.compare import with_overrides
        from scslab.scenario import ScenarioError

        if self.base is None:
            self._show_error("scslab: error: no scenario picked")
            return None
        values = {p: w.value for p, w in self.widgets.items()}
        try:
            sc = with_overrides(self.base, overrides(self.sections, values), "form")
        except ScenarioError as exc:
            self._show_error(_error_text(exc))
            return None
        self._show_error(None)
        return sc

    def size_overrides(self, sc: Any) -> list[str]:
        return [f"population.people={sc.population.people}", f"time.days={sc.time.days}",
                f"time.burn_in={sc.time.burn_in}", f"seed={sc.seed}"]

    # ------------------------------------------------------------------ jobs

    def _busy(self, kind: str) -> bool:
        job = self.jobs[kind]
        return job is not None and job.status == "running"

    def start_run(self) -> None:
        from scslab.scenario import resolved_dict

        if self._busy("run"):
            return
        sc = self.scenario()
        if sc is None:
            return
        self.run_scenario = resolved_dict(sc)
        self.jobs["run"] = self.runner.start("run", {"scenario": self.run_scenario})
        self.run_summary.object = ""
        self.run_limits.object = NO_RESULT
        self.run_progress.value = 0
        self.run_status.object = "Starting a worker process…"
        self.run_charts.objects = []
        self.sources = []
        self.run_button.disabled = True
        self.run_cancel.disabled = False

    def start_compare(self) -> None:
        from scslab.scenario import ScenarioError, load_scenario, resolved_dict

        if self._busy("compare"):
            return
        sc = self.scenario()
        if sc is None:
            return
        picked = list(self.cmp_pick.value)
        if len(picked) < 2:
            self.cmp_status.object = "Pick two or more scenarios."
            return
        scenarios = []
        try:
            for p in picked:
                scenarios.append(sc if p == EDITED else
                                 load_scenario(p, self.size_overrides(sc)))
        except ScenarioError as exc:
            self.cmp_status.object = html.escape(_error_text(exc))
            return
        names = [s.name for s in scenarios]
        for i, s in enumerate(scenarios):
            if names.count(s.name) > 1 and picked[i] == EDITED:
                scenarios[i] = s.model_copy(update={"name": f"{s.name} (edited)"})
        self.jobs["compare"] = self.runner.start("compare", {
            "scenarios": [resolved_dict(s) for s in scenarios],
            "replicates": int(self.cmp_reps.value)})
        self.cmp_result.object = ""
        self.cmp_limits.object = NO_RESULT
        self.cmp_progress.value = 0
        self.cmp_status.object = "Starting a worker process…"
        self.cmp_button.disabled = True
        self.cmp_cancel.disabled = False

    def start_explain(self) -> None:
        from scslab.scenario import resolved_dict

        if self._busy("explain"):
            return
        sc = self.scenario()
        if sc is None:
            return
        if self.exp_a.value == self.exp_b.value:
            self.exp_status.object = "Pick two different groups."
            return
        self.jobs["explain"] = self.runner.start("explain", {
            "scenario": resolved_dict(sc), "metric": self.exp_metric.value,
            "group_a": self.exp_a.value, "group_b": self.exp_b.value,
            "replicates": int(self.exp_reps.value)})
        self.exp_result.object = ""
        self.exp_limits.object = NO_RESULT
        self.exp_figure.visible = False
        self.exp_progress.value = 0
        self.exp_status.object = "Starting a worker process…"
        self.exp_button.disabled = True
        self.exp_cancel.disabled = False

    def cancel(self, kind: str) -> None:
        job = self.jobs[kind]
        if job is not None:
            job.cancel()
            getattr(self, f"_update_{kind}")(job)

    def close(self) -> None:
        for job in self.jobs.values():
            if job is not None:
                job.cancel()

    # ------------------------------------------------------------------ polling

    def poll(self) -> None:
        for kind, job in self.jobs.items():
            if job is None or not job.poll():
                continue
            getattr(self, f"_update_{kind}")(job)

    def _buttons(self, kind: str, running: bool) -> None:
        prefix = {"run": "run", "compare": "cmp", "explain": "exp"}[kind]
        getattr(self, f"{prefix}_button").disabled = running
        getattr(self, f"{prefix}_cancel").disabled = not running

    def _percent(self, job: Job) -> int:
        return int(100 * job.done / job.total) if job.total else 0

    def _ended(self, job: Job) -> str | None:
        if job.status == "failed":
            return f"Failed: {html.escape(job.error or '')}"
        if job.status == "cancelled":
            return "Cancelled."
        return None

    def _charts(self, job: Job) -> None:
        names = list(job.series)
        if not self.sources and names:
            overall = [n for n in names if "[" not in n and n not in LIVE_BY_GROUP]
            by_group = [n for n in names if n not in overall]
            for title, group in (("Rates per day (burn-in included)", overall),
                                 ("Detentions per day, by group", by_group)):
                if not group:
                    continue
                src = ColumnDataSource({"day": [], **{n: [] for n in group}})
                fig = figure(title=title, height=260, sizing_mode="stretch_width",
                             x_axis_label="day", tools="pan,wheel_zoom,box_zoom,reset,save")
                for i, n in enumerate(group):
                    fig.line("day", n, source=src, legend_label=n,
                             color=COLORS[i % len(COLORS)], line_width=1.5)
                fig.legend.location = "top_left"
                fig.legend.click_policy = "hide"
                self.sources.append((src, group))
                self.run_charts.append(pn.pane.Bokeh(fig, sizing_mode="stretch_width"))
        for src, group in self.sources:
            n = len(job.series[group[0]])
            data = {"day": list(range(n))}
            for name in group:
                data[name] = [math.nan if v is None else v for v in job.series[name]]
            src.data = data

    def _update_run(self, job: Job) -> None:
        self.run_progress.value = self._percent(job)
        self._charts(job)
        drawn = len(next(iter(job.series.values()), []))
        ended = self._ended(job)
        if ended:
            self.run_status.object = ended
            self._buttons("run", False)
            return
        if job.status == "running":
            self.run_status.object = f"Day {job.done} of {job.total} — {drawn} days drawn."
            return
        from scslab.analysis.summary import fmt

        r = job.result or {}
        groups = r.get("groups", [])
        summary = r.get("summary", {})
        rows = [[k, fmt(v), *[fmt(summary.get(f"{k}[group={g}]")) for g in groups]]
                for k, v in summary.items() if "[" not in k and v is not None]
        self.run_summary.object = (
            "<h3>Summary (measured period, after burn-in)</h3>"
            + html_table(["metric", "all", *[f"group={g}" for g in groups]], rows,
                         "summary-table")
            + f"<p>Stored as <code>{html.escape(r.get('folder', ''))}</code> in the "
              "results folder.</p>")
        self.run_status.object = (f"Done: day {job.total} of {job.total} — {drawn} days "
                                  f"drawn, {r.get('wall', 0):.1f} s.")
        self.run_limits.object = limits_markdown(
            "run", self.run_scenario, 1, r.get("people"), r.get("days"))
        self._buttons("run", False)
        self.refresh_stored()

    def _report_link(self, folder: str) -> str:
        href = f"./{RESULTS_URL}/{folder}/report.html"
        return (f"<p><a class='report-link' href='{html.escape(href)}' target='_blank'>"
                f"Open the HTML report</a> (stored as <code>{html.escape(folder)}</code>)</p>")

    def _update_compare(self, job: Job) -> None:
        self.cmp_progress.value = self._percent(job)
        ended = self._ended(job)
        if ended:
            self.cmp_status.object = ended
            self._buttons("compare", False)
            return
        if job.status == "running":
            self.cmp_status.object = f"{job.done} of {job.total} runs done."
            return
        r = job.result or {}
        self.cmp_status.object = (f"Done: {len(r['labels'])} scenarios, {r['replicates']} "
                                  f"replicates each, {r['people']:,} people.")
        self.cmp_result.object = (
            "<p>mean [95 % interval]; Δ = paired difference against the first scenario</p>"
            + html_table(r["header"], r["rows"], "compare-table")
            + self._report_link(r["folder"]))
        self.cmp_limits.object = limits_markdown(
            "compare", r.get("scenario"), r["replicates"], r["people"], r.get("days"))
        self._buttons("compare", False)
        self.refresh_stored()

    def _update_explain(self, job: Job) -> None:
        self.exp_progress.value = self._percent(job)
        ended = self._ended(job)
        if ended:
            self.exp_status.object = ended
            self._buttons("explain", False)
            return
        if job.status == "running":
            self.exp_status.object = f"{job.done} of {job.total} runs done."
            return
        r = job.result or {}
        warn = (" **Warning:** the base disparity's interval includes 0; the shares are "
                "ratios of noise (more replicates or people)." if r.get("unstable") else "")
        self.exp_status.object = f"Done: base disparity {r.get('base', '')}.{warn}"
        self.exp_result.object = (html_table(r["header"], r["rows"], "explain-table")
                                  + self._report_link(r["folder"]))
        folder = self.runner.folder(r["folder"])
        if folder is not None and r.get("figure"):
            self.exp_figure.object = (folder / "figures" / r["figure"]).read_bytes()
            self.exp_figure.visible = True
        scenario = r.get("scenario")
        self.exp_limits.object = limits_markdown(
            "explain", scenario, r["replicates"], r["people"],
            scenario["time"]["days"] if scenario else None)
        self._buttons("explain", False)
        self.refresh_stored()

    # ------------------------------------------------------------------ stored

    def refresh_stored(self) -> None:
        items = self.runner.stored()
        self.stored.options = {f"{name} ({kind})": name for name, kind in items}

    def show_stored(self, name: str | None) -> None:
        folder = self.runner.folder(name or "")
        if folder is None:
            self.stored_link.object = ""
            return
        if (folder / "report.html").is_file():
            self.stored_link.object = self._report_link(folder.name)
        else:
            files = ", ".join(sorted(p.name for p in folder.iterdir() if p.is_file()))
            self.stored_link.object = (f"<p>A single run: {html.escape(files)} (no HTML "
                                       "report; compare or explain to get one).</p>")


def make_page(runner: JobRunner) -> Any:
    """A new page for one browser tab, with its poller stopped when the tab closes."""
    page = Dashboard(runner)
    callback = pn.state.add_periodic_callback(page.poll, period=POLL_MS)

    def closed(_context: Any) -> None:
        callback.stop()
        page.close()

    pn.state.on_session_destroyed(closed)
    return page.layout


def free_port(address: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def serve(port: int = 0, address: str = "127.0.0.1", results_dir: Path | str = "results",
          show: bool = False, ready: Any = None) -> None:
    """Serve the dashboard until interrupted. ``ready(port)`` is called once listening."""
    runner = JobRunner(Path(results_dir))
    # load the engine once before the first page, so a tab does not wait for Numba
    from scslab.scenario import load_scenario

    scenario_sections(load_scenario("baseline"))
    pn.extension(raw_css=[CSS])
    port = port or free_port(address)
    origins = [f"{host}:{port}" for host in dict.fromkeys((address, "localhost", "127.0.0.1"))]
    server = pn.serve(
        {"/": lambda: make_page(runner)}, port=port, address=address,
        websocket_origin=origins, show=show, start=False, title="scslab dashboard",
        static_dirs={RESULTS_URL: str(runner.results_dir)}, verbose=False)
    if ready is not None:
        ready(server.port)
    server.start()
    server.io_loop.start()
