"""``scrubber remit ERA...``: read 835 remittances and classify every adjustment on them."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any, TextIO

from scrubber.commands.common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE


def add_parser(commands: argparse._SubParsersAction) -> None:
    remit = commands.add_parser("remit", help="classify every adjustment on X12 835 remittances")
    remit.add_argument("paths", nargs="+", metavar="PATH", help="835 files or directories of them")
    remit.add_argument("--format", choices=("text", "json"), default="text")
    remit.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    remit.add_argument(
        "--redact", action="store_true",
        help="hash claim ids (CLP01), payer claim numbers (CLP07) and patient names and ids in the report "
        "(key: $SCRUBBER_REDACT_KEY)",
    )


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def adjustment_rows(payment: Any, table: Any) -> list[dict[str, Any]]:
    """Every adjustment of one claim payment, claim level first, with its classification."""
    rows = []
    for adj in payment.adjustments:
        rows.append({"level": "claim", "line": None, "procedure": None, "adjustment": adj})
    for number, line in enumerate(payment.lines, start=1):
        for adj in line.adjustments:
            rows.append({"level": "line", "line": number, "procedure": line.procedure, "adjustment": adj})
    for row in rows:
        row["classification"] = table.classify_adjustment(row["adjustment"])
    return rows


def payment_to_dict(payment: Any, table: Any) -> dict[str, Any]:
    from scrubber.model.remit import CLAIM_STATUS

    adjustments = []
    for row in adjustment_rows(payment, table):
        adj = row["adjustment"]
        adjustments.append(
            {
                "level": row["level"],
                "line": row["line"],
                "procedure": row["procedure"],
                "segment": adj.segment,
                "amount": float(adj.amount),
                **row["classification"].to_dict(),
            }
        )
    return {
        "claim_id": payment.claim_id,
        "status": payment.status,
        "status_text": CLAIM_STATUS.get(payment.status),
        "charge": _money(payment.charge),
        "paid": _money(payment.paid),
        "patient_responsibility": _money(payment.patient_responsibility),
        "payer": payment.payer_name,
        "payer_id": payment.payer_id,
        "payer_claim_number": payment.payer_claim_number,
        "file": payment.source.file,
        "segment": payment.source.segment,
        "adjustments": adjustments,
        "remarks": [{"code": code, "meaning": table.remark(code)} for code in payment.all_remarks],
    }


def summarize(batch: Any, table: Any) -> dict[str, Any]:
    """Totals over the payments that stand once reversals are netted."""
    from scrubber.remit.summary import summarize as remit_totals

    totals = remit_totals(batch.payments, table)
    return {
        "files": len(batch.files),
        "payments": len(batch.payments),
        "remittances": len(batch.remittances),
        "adjustments": totals.adjustments,
        "by_action": {action: float(amount) for action, amount in totals.by_action.items()},
        "unknown_codes": sorted(totals.unknown),
        "errors": len(batch.errors),
        "warnings": len(batch.issues) - len(batch.errors),
    }


def _write_text(out: TextIO, batch: Any, table: Any, summary: dict[str, Any]) -> None:
    from scrubber.model.remit import CLAIM_STATUS

    for payment in batch.payments:
        status = CLAIM_STATUS.get(payment.status, "status " + payment.status)
        out.write(
            f"{payment.source.file}, segment {payment.source.segment}: claim {payment.claim_id} ({status}) "
            f"charge {payment.charge:.2f}, paid {payment.paid:.2f}, payer {payment.payer_name or '(unnamed)'}\n"
        )
        for row in adjustment_rows(payment, table):
            adj, c = row["adjustment"], row["classification"]
            where = f"line {row['line']} {row['procedure'] or '(no code)'}" if row["level"] == "line" else "claim"
            billable = {True: "yes", False: "no", None: "?"}[c.patient_billable]
            meaning = c.name if c.known else "UNKNOWN CODE: not in our code table"
            out.write(
                f"  {where:<18} {adj.code:<7} {adj.amount:>10.2f}  {c.action:<21} patient may be billed: "
                f"{billable:<3}  {meaning}\n"
            )
        for code in payment.all_remarks:
            out.write(f"  remark {code}: {table.remark(code) or 'not in our remark table'}\n")
    if batch.issues:
        out.write("\ninput problems:\n")
        for issue in batch.issues:
            claim = f" claim {issue.claim_id}:" if issue.claim_id else ""
            out.write(f"  {issue.where()}: {issue.severity}:{claim} {issue.message}\n")
    totals = ", ".join(f"{action} {amount:.2f}" for action, amount in summary["by_action"].items() if amount)
    out.write(
        f"\n{summary['files']} file(s), {summary['payments']} claim payment(s), {summary['adjustments']} "
        f"adjustment(s); dollars by action: {totals or 'none'}\n"
    )
    if summary["unknown_codes"]:
        out.write(f"unknown codes (not classified): {', '.join(summary['unknown_codes'])}\n")


def run(args: argparse.Namespace) -> int:
    from scrubber.remit.classify import load_table
    from scrubber.remit.load import read_remits

    table = load_table()
    batch = read_remits(args.paths)
    summary = summarize(batch, table)  # on the values as read (reversals are netted by CLP01/CLP07)
    if getattr(args, "redact", False):
        from scrubber.redact import Redactor, redact_remits

        batch = redact_remits(Redactor.from_env(), batch)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.format == "json":
            from scrubber.findings import issue_to_dict

            document = {
                "payments": [payment_to_dict(payment, table) for payment in batch.payments],
                "remittances": [
                    {
                        "file": remittance.source.file,
                        "segment": remittance.source.segment,
                        "payer": remittance.payer_name,
                        "payer_id": remittance.payer_id,
                        "amount": _money(remittance.amount),
                        "trace_number": remittance.trace_number,
                        "payment_date": remittance.payment_date.isoformat() if remittance.payment_date else None,
                        "claims": remittance.claim_count,
                        "provider_adjustments": [
                            {"reason": plb.reason, "reference": plb.reference, "amount": float(plb.amount),
                             "segment": plb.segment}
                            for plb in remittance.provider_adjustments
                        ],
                    }
                    for remittance in batch.remittances
                ],
                "errors": [issue_to_dict(issue) for issue in batch.issues],
                "summary": summary,
            }
            out.write(json.dumps(document, indent=2) + "\n")
        else:
            _write_text(out, batch, table, summary)
    finally:
        if out is not sys.stdout:
            out.close()
    if not batch.payments:
        print("scrubber: no claim payment could be read from the input", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FINDINGS if batch.errors else EXIT_CLEAN
