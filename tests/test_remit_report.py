"""``scrubber report --html``: one self-contained file, checked as a browser shows it.

The browser test renders the report in headless Chromium (skipped when Chromium is not installed; CI
installs it with ``apt-get install -y chromium``). A probe script is appended to a *copy* of the report
(the report itself has no script): it reads what the page lays out (visible text of the tables, the
rendered width of each chart bar) into a ``<pre>`` that ``--dump-dom`` prints.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

PAIRED = ROOT / "fixtures" / "paired"
SELECT = "CO-111,CO-21,CO-23"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars",
]

PROBE = """<pre id="probe"></pre><script>
const text = (el) => el ? el.innerText.trim() : null;
const rows = (selector, key) => Object.fromEntries([...document.querySelectorAll(selector + ' tbody tr')]
  .map(tr => [tr.dataset[key], [...tr.cells].map(td => td.innerText.trim())]));
const chart = document.getElementById('backtest-chart');
document.getElementById('probe').textContent = JSON.stringify({
  title: document.title,
  headings: [...document.querySelectorAll('h2')].map(h => h.innerText.trim()),
  codes: rows('#backtest-codes', 'code'),
  rules: rows('#backtest-rules', 'rule'),
  denials: rows('#denials-table', 'code'),
  actions: rows('#actions-table', 'action'),
  summary: rows('#summary-table', 'summary'),
  chartHeight: chart.getBoundingClientRect().height,
  bars: [...chart.querySelectorAll('rect.bar')].map(r => ({rule: r.dataset.rule, series: r.dataset.series,
    value: Number(r.dataset.value), width: r.getBBox().width})),
  resources: performance.getEntriesByType('resource').map(e => e.name),
});
</script>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    result = run_cli(
        "report", "--claims", str(PAIRED / "claims.837"), "--remits", str(PAIRED / "era-1.835"),
        str(PAIRED / "era-2.835"), "--select", SELECT, "--html", str(path),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "wrote" in result.stderr
    return path


def test_report_is_one_self_contained_file(report):
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=|url\(|@import|https?:""", text, re.IGNORECASE), "nothing to fetch"
    assert text.count('<svg id="backtest-chart"') == 1 and 'id="action-chart"' in text


def test_report_escapes_what_it_reads(tmp_path):
    claims = (PAIRED / "claims.837").read_bytes().replace(b"CLM*P01*", b"CLM*<b>P01</b>*")
    remits = (PAIRED / "era-1.835").read_bytes().replace(b"CLP*P01*", b"CLP*<i>Z</i>*")
    (tmp_path / "c.837").write_bytes(claims)
    (tmp_path / "r.835").write_bytes(remits)
    out = tmp_path / "r.html"
    result = run_cli("report", "--claims", str(tmp_path / "c.837"), "--remits", str(tmp_path / "r.835"), "--html", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "<b>P01" not in text and "&lt;b&gt;P01&lt;/b&gt;" in text and "&lt;i&gt;Z&lt;/i&gt;" in text


def test_report_usage_error(tmp_path):
    result = run_cli("report", "--claims", str(PAIRED / "claims.837"), "--remits", str(tmp_path / "none.835"),
                     "--html", str(tmp_path / "r.html"))
    assert result.returncode == 2 and "Traceback" not in result.stderr and not (tmp_path / "r.html").exists()


def _render(report: Path, tmp_path: Path) -> dict:
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    result = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1300,2400",
         "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=180,
    )
    match = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.DOTALL)
    assert match, f"chromium printed no probe (exit {result.returncode}): {result.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_report_as_chromium_shows_it(report, tmp_path):
    shown = _render(report, tmp_path)
    assert shown["title"] == "claim-scrubber remittance report"
    assert shown["headings"][:4] == [
        "Summary", "Denials by code and payer", "Dollars by action", "Backtest: each rule against what the payers did",
    ]
    assert shown["resources"] == [], "the page fetched something"
    # The backtest table as a reader sees it (numbers from tests/test_backtest.py).
    assert shown["codes"]["CO-111"][:9] == ["CO-111", "4", "3", "2", "2", "1", "50%", "67%", "180.00"]
    assert shown["codes"]["CO-21"][:9] == ["CO-21", "4", "3", "1", "3", "2", "25%", "33%", "200.00"]
    assert shown["codes"]["CO-23"][:9] == ["CO-23", "2", "2", "2", "0", "0", "100%", "100%", "220.00"]
    assert shown["rules"]["secondary-claim-without-prior-payer"][1:4] == ["2", "2", "2"]
    assert shown["summary"]["matched"] == ["claims matched to a payment", "16"]
    # Denials by code and payer: CO-21 only at ACME (P06, P09, P14: 200 + 200 + 90).
    assert shown["denials"]["CO-21"][2:] == ["3 / 490.00", "–", "3 / 490.00"]
    assert shown["actions"]["correct and resubmit"] == ["correct and resubmit", "7", "630.00"]
    assert shown["actions"]["bill other payer"] == ["bill other payer", "3", "490.00"]
    # The chart: three bars per rule, drawn to scale (the longest bar is 3 claims, 360 px wide).
    assert shown["chartHeight"] > 100
    bars = shown["bars"]
    assert len(bars) == 3 * len(shown["rules"])
    assert {(b["rule"], b["series"]): b["value"] for b in bars if b["value"]} == {
        ("missing-assignment-indicator", "hits"): 1, ("missing-assignment-indicator", "misses"): 2,
        ("unassigned-mandatory-assignment-service", "hits"): 1,
        ("unassigned-mandatory-assignment-service", "false_alarms"): 2,
        ("unassigned-mandatory-assignment-service", "misses"): 1,
        ("lab-only-assignment-on-non-lab-service", "misses"): 2, ("unassigned-dual-eligible", "misses"): 2,
        ("unassigned-mandatory-practitioner", "misses"): 2,
        ("auto-accident-billed-to-health-plan", "hits"): 1, ("auto-accident-billed-to-health-plan", "false_alarms"): 2,
        ("auto-accident-billed-to-health-plan", "misses"): 2,
        ("auto-accident-billed-to-health-plan-tort-state", "false_alarms"): 1,
        ("auto-accident-billed-to-health-plan-tort-state", "misses"): 3,
        ("secondary-claim-without-prior-payer", "hits"): 2,
        ("prior-payer-paid-amount-missing", "misses"): 2, ("prior-payer-adjudication-date-missing", "misses"): 2,
        ("line-without-prior-adjudication", "misses"): 2,
        # --select CO-21 also runs the rules derived from the CO-21 seed; their CO-16 has no remark to narrow it
        ("auto-accident-without-state", "misses"): 3, ("external-cause-as-principal-diagnosis", "misses"): 3,
    }
    for bar in bars:
        assert bar["width"] == pytest.approx(360 * bar["value"] / 3, abs=0.2), bar


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_report_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1300,1600",
         f"--screenshot={shot}", report.as_uri()],
        capture_output=True, timeout=180,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 30_000  # a blank page of this size is a few kB
