"""Remittances (X12 835): read them, classify every adjustment, match them to submitted claims, and
measure each rule against what the payers did.

    load.py       find 835 files and read them into one RemitBatch
    classify.py   group code + CARC -> meaning, who pays, action (data: carc.yaml)
    match.py      835 CLP01 -> 837 CLM01 (date of service and charge break ties), lines, reversals
    backtest.py   per rule and per denial code: flagged, denied, hits, false alarms, misses
    summary.py    remittance totals: dollars by action, denials by code and payer, unknown codes
    html.py       the self-contained HTML report
"""
