"""The remittance report as one self-contained HTML file: inline CSS and SVG, no script, no network.

Sections: summary, denials by code and payer, dollars by action, the backtest (chart + tables for
denial codes and rules), claims and payments left unmatched, input problems. Tables and chart marks
carry ``id``/``data-*`` attributes so a browser test can read what the page shows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any, Iterable

from scrubber.remit.backtest import Backtest, Stats
from scrubber.remit.classify import CarcTable, load_table
from scrubber.remit.summary import RemitSummary, summarize

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; max-width: 72rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccd; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccd; padding: .25rem .6rem; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.muted { color: #5a6270; } .warning { color: #8a5300; } .error { color: #a4000f; }
.legend span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
"""
_SERIES = (("hits", "hits", "#2e7d32"), ("false_alarms", "false alarms", "#ef8f00"), ("misses", "misses", "#c62828"))


def _money(value: Decimal | float) -> str:
    return f"{Decimal(str(value)):,.2f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _table(table_id: str, caption: str, headers: Iterable[tuple[str, bool]], rows: list[str]) -> str:
    head = "".join(f'<th class="num">{escape(h)}</th>' if num else f"<th>{escape(h)}</th>" for h, num in headers)
    body = "".join(rows) if rows else f'<tr><td colspan="20" class="muted">none</td></tr>'
    return f'<table id="{table_id}"><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _stats_rows(kind: str, stats: dict[str, Stats]) -> list[str]:
    rows = []
    for name, s in stats.items():
        cells = [
            f"<td>{escape(name)}</td>",
            *(
                f'<td class="num" data-field="{field}">{value}</td>'
                for field, value in (
                    ("flagged", s.flagged), ("denied", s.denied), ("hits", s.hits),
                    ("false_alarms", s.false_alarms), ("misses", s.misses),
                )
            ),
            f'<td class="num" data-field="precision">{_ratio(s.precision)}</td>',
            f'<td class="num" data-field="recall">{_ratio(s.recall)}</td>',
            f'<td class="num" data-field="dollars_caught">{_money(s.dollars_caught)}</td>',
            f'<td class="muted">{escape(", ".join(s.signature))}</td>',
        ]
        rows.append(f'<tr data-{kind}="{escape(name)}">{"".join(cells)}</tr>')
    return rows


_STATS_HEADERS = (
    ("flagged", True), ("denied", True), ("hits", True), ("false alarms", True), ("misses", True),
    ("precision", True), ("recall", True), ("$ caught", True), ("remit codes counted", False),
)


def backtest_chart(stats: dict[str, Stats]) -> str:
    """Grouped horizontal bars per rule: hits, false alarms, misses (claim counts)."""
    label_width, bar_width, bar_height, gap = 330, 360, 9, 10
    top = 8
    largest = max([max(s.hits, s.false_alarms, s.misses) for s in stats.values()] + [1])
    group_height = bar_height * len(_SERIES) + gap
    height = top + group_height * len(stats) + 24
    parts = [
        f'<svg id="backtest-chart" role="img" width="{label_width + bar_width + 60}" '
        f'height="{height}" viewBox="0 0 {label_width + bar_width + 60} {height}" '
        f'aria-label="Hits, false alarms and misses per rule">'
    ]
    for row, (name, s) in enumerate(stats.items()):
        y = top + row * group_height
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 2 - 1}" text-anchor="end" font-size="12">{escape(name)}</text>'
        )
        for position, (field, label, colour) in enumerate(_SERIES):
            value = getattr(s, field)
            width = round(bar_width * value / largest, 1)
            bar_y = y + position * bar_height
            parts.append(
                f'<rect class="bar {field}" data-rule="{escape(name)}" data-series="{field}" data-value="{value}" '
                f'x="{label_width}" y="{bar_y}" width="{width}" height="{bar_height - 1}" fill="{colour}">'
                f"<title>{escape(name)}: {value} {label}</title></rect>"
            )
            parts.append(
                f'<text x="{label_width + width + 4}" y="{bar_y + bar_height - 1}" font-size="9">{value}</text>'
            )
    axis_y = top + group_height * len(stats)
    parts.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{axis_y}" stroke="#889"/>')
    parts.append(f'<text x="{label_width}" y="{axis_y + 14}" font-size="10" fill="#5a6270">0</text>')
    parts.append(
        f'<text x="{label_width + bar_width}" y="{axis_y + 14}" font-size="10" fill="#5a6270" '
        f'text-anchor="end">{largest} claims</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _action_chart(summary: RemitSummary) -> str:
    actions = [(action, amount) for action, amount in summary.by_action.items() if amount]
    largest = max([abs(amount) for _, amount in actions] + [Decimal(1)])
    width, label_width, row_height = 320, 170, 18
    parts = [
        f'<svg id="action-chart" role="img" width="{label_width + width + 110}" '
        f'height="{row_height * len(actions) + 8}" aria-label="Dollars by action">'
    ]
    for row, (action, amount) in enumerate(actions):
        y = 4 + row * row_height
        bar = round(float(width * abs(amount) / largest), 1)
        parts.append(f'<text x="{label_width - 6}" y="{y + 12}" text-anchor="end" font-size="12">{escape(action)}</text>')
        parts.append(
            f'<rect class="bar action" data-action="{escape(action)}" x="{label_width}" y="{y}" width="{bar}" '
            f'height="{row_height - 4}" fill="#3f6fb5"><title>{escape(action)}: {_money(amount)}</title></rect>'
        )
        parts.append(f'<text x="{label_width + bar + 4}" y="{y + 12}" font-size="11">{_money(amount)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(result: Backtest, *, table: CarcTable | None = None, generated: dt.datetime | None = None) -> str:
    table = table or load_table()
    summary = summarize(result.remits.payments, table)
    matching = result.matching
    when = (generated or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    files = [str(f) for f in result.claims.files] + [str(f) for f in result.remits.files]
    out: list[str] = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>claim-scrubber remittance report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>claim-scrubber: remittances and backtest</h1>",
        f'<p class="muted">Generated {escape(when)} from {escape(", ".join(files))}.</p>',
        '<section id="summary"><h2>Summary</h2><table id="summary-table"><tbody>',
    ]
    for label, key, value in (
        ("claims read", "claims", len(result.claims.claims)),
        ("claim payments read", "payments", len(result.remits.payments)),
        ("claims matched to a payment", "matched", len(matching.matches)),
        ("reversals netted", "reversals", sum(len(m.reversed) for m in matching.matches)),
        ("claims without a payment", "unmatched-claims", len(matching.unmatched_claims)),
        ("payments without a claim", "unmatched-payments", len(matching.unmatched_payments)),
        ("input problems", "problems", len(result.claims.issues) + len(result.remits.issues)),
    ):
        out.append(f'<tr data-summary="{key}"><th>{escape(label)}</th><td class="num">{value}</td></tr>')
    out.append("</tbody></table></section>")

    # Denials by code and payer
    payers = summary.payers
    rows = []
    for code in sorted(summary.denials):
        by_payer = summary.denials[code]
        name = next(iter(by_payer.values())).name or ""
        cells = [f"<td>{escape(code)}</td>", f"<td>{escape(name)}</td>"]
        for payer in payers:
            total = by_payer.get(payer)
            cells.append(
                f'<td class="num" data-payer="{escape(payer)}">{total.claims} / {_money(total.amount)}</td>'
                if total else f'<td class="num muted" data-payer="{escape(payer)}">–</td>'
            )
        all_claims = sum(t.claims for t in by_payer.values())
        all_amount = sum((t.amount for t in by_payer.values()), Decimal(0))
        cells.append(f'<td class="num" data-field="total">{all_claims} / {_money(all_amount)}</td>')
        rows.append(f'<tr data-code="{escape(code)}">{"".join(cells)}</tr>')
    out.append('<section id="denials"><h2>Denials by code and payer</h2>')
    out.append('<p class="muted">Claims / dollars denied, per payer, after reversals are netted.</p>')
    out.append(
        _table("denials-table", "Denials", [("code", False), ("meaning", False)] + [(p, True) for p in payers] + [("total", True)], rows)
    )
    if summary.unknown:
        unknown_rows = [
            f'<tr data-code="{escape(code)}"><td>{escape(code)}</td><td class="num">{total.claims}</td>'
            f'<td class="num">{_money(total.amount)}</td></tr>'
            for code, total in sorted(summary.unknown.items())
        ]
        out.append(
            _table("unknown-codes", "Codes not in our code table (not classified)",
                   [("code", False), ("claims", True), ("dollars", True)], unknown_rows)
        )
    out.append("</section>")

    # Dollars by action
    action_rows = [
        f'<tr data-action="{escape(action)}"><td>{escape(action)}</td><td class="num">{summary.count_by_action[action]}</td>'
        f'<td class="num">{_money(amount)}</td></tr>'
        for action, amount in summary.by_action.items()
        if summary.count_by_action[action]
    ]
    out.append('<section id="actions"><h2>Dollars by action</h2>')
    out.append(_action_chart(summary))
    out.append(_table("actions-table", "Adjustments by what to do about them",
                      [("action", False), ("adjustments", True), ("dollars", True)], action_rows))
    out.append("</section>")

    # Backtest
    out.append('<section id="backtest"><h2>Backtest: each rule against what the payers did</h2>')
    out.append(
        '<p class="muted">Counts are claims matched to a remittance. A hit was flagged and then denied with the '
        "rule's code (or a remit code it declares); a false alarm was flagged and not denied; a miss was denied "
        "and not flagged.</p>"
    )
    out.append('<p class="legend">' + "".join(
        f'<span><span class="swatch" style="background:{colour}"></span>{escape(label)}</span>' for _, label, colour in _SERIES
    ) + "</p>")
    out.append(backtest_chart(result.rules))
    out.append(_table("backtest-codes", "By denial code", [("denial code", False), *_STATS_HEADERS], _stats_rows("code", result.codes)))
    out.append(_table("backtest-rules", "By rule", [("rule", False), *_STATS_HEADERS], _stats_rows("rule", result.rules)))
    out.append("</section>")

    # Unmatched
    unmatched = [
        f'<tr data-unmatched="claim"><td>claim {escape(c.claim_id)}</td><td>{escape(str(c.source.file))}</td>'
        f'<td class="num">{c.source.segment}</td><td>no payment in the remittances</td></tr>'
        for c in matching.unmatched_claims
    ] + [
        f'<tr data-unmatched="payment"><td>payment {escape(p.claim_id)}</td><td>{escape(str(p.source.file))}</td>'
        f'<td class="num">{p.source.segment}</td><td>no claim with this CLM01 ({escape(p.payer_name or "")})</td></tr>'
        for p in matching.unmatched_payments
    ] + [f'<tr data-unmatched="note"><td colspan="4">{escape(note)}</td></tr>' for note in matching.notes]
    out.append('<section id="unmatched"><h2>Left unmatched</h2>')
    out.append(_table("unmatched-table", "Claims and payments that found no partner",
                      [("what", False), ("file", False), ("segment", True), ("why", False)], unmatched))
    out.append("</section>")

    problems = [
        f'<tr class="{escape(i.severity)}"><td>{escape(i.where())}</td><td>{escape(i.severity)}</td>'
        f"<td>{escape(i.claim_id or '')}</td><td>{escape(i.message)}</td></tr>"
        for i in result.claims.issues + result.remits.issues
    ]
    out.append('<section id="problems"><h2>Input problems</h2>')
    out.append(_table("problems-table", "Read but not as declared, or not read",
                      [("where", False), ("severity", False), ("claim", False), ("message", False)], problems))
    out.append("</section></body></html>\n")
    return "\n".join(out)


def render_to(path: Any, result: Backtest, **options: Any) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(render(result, **options))
