"""``scrubber guard`` fails closed: every production marker is caught, and what it cannot read it refuses.

Each case below is a reproduction from the attacker's review (issue 14), where the old guard exited 0.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, run_cli
from scrubber.commands.guard import usage_indicators

SEED = ROOT / "fixtures" / "837p" / "seeds" / "co-111-assignment.837"


def interchange(usage: str = "T") -> str:
    text = SEED.read_text()
    isa = text.split("~", 1)[0]
    fields = isa.split("*")
    fields[15] = usage
    return "*".join(fields) + text[len(isa):]


def guard(*paths: Path | str):
    return run_cli("guard", *map(str, paths))


def test_test_data_passes_and_production_is_refused(tmp_path):
    test, production = tmp_path / "test.837", tmp_path / "prod.837"
    test.write_text(interchange("T"))
    production.write_text(interchange("P"))
    assert guard(test).returncode == 0
    result = guard(test, production)
    assert result.returncode == 1 and "prod.837" in result.stderr and "test.837" not in result.stderr


@pytest.mark.parametrize("usage", ["P", "p", " P", "I", "X", ""])
def test_every_marker_but_t_is_refused(tmp_path, usage):
    path = tmp_path / "batch.837"
    path.write_text(interchange(usage))
    result = guard(path)
    assert result.returncode == 1, result.stderr
    assert "batch.837" in result.stderr


def test_a_directory_is_searched_whatever_the_file_names(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "ok.837").write_text(interchange("T"))
    (tmp_path / "sub" / "claims-2026.txt").write_text(interchange("P"))
    (tmp_path / "notes.md").write_text("no interchange here")
    result = guard(tmp_path)
    assert result.returncode == 1 and "claims-2026.txt" in result.stderr


def test_a_missing_path_is_exit_2(tmp_path):
    result = guard(tmp_path / "nope.837")
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_exit_2(tmp_path):
    path = tmp_path / "locked.837"
    path.write_text(interchange("T"))
    path.chmod(0)
    assert guard(path).returncode == 2


def test_a_byte_order_mark_and_blanks_before_the_isa(tmp_path):
    path = tmp_path / "bom.837"
    path.write_bytes(b"\xef\xbb\xbf\r\n  " + interchange("P").encode())
    assert guard(path).returncode == 1


def test_a_second_interchange_in_the_file_is_read(tmp_path):
    path = tmp_path / "two.837"
    path.write_text(interchange("T") + "\n" + interchange("P"))
    assert usage_indicators(path) == ["T", "P"]
    assert guard(path).returncode == 1


def test_a_cut_header_or_an_x12_name_without_isa_is_refused(tmp_path):
    cut = tmp_path / "cut.837"
    cut.write_text(interchange("P")[:60])
    empty = tmp_path / "empty.edi"
    empty.write_text("")
    assert guard(cut).returncode == 2
    result = guard(empty)
    assert result.returncode == 2 and "holds no ISA" in result.stderr


def test_a_file_that_is_not_x12_is_left_alone(tmp_path):
    path = tmp_path / "readme.txt"
    path.write_text("LISA*went*home~ (not an interchange: ISA inside a word)")
    assert guard(path).returncode == 0


@settings(max_examples=40, deadline=None)
@given(prefix=st.binary(max_size=300).filter(lambda b: b"ISA" not in b), chunk_offset=st.integers(0, 200))
def test_an_interchange_is_found_wherever_it_starts(tmp_path_factory, prefix, chunk_offset):
    # the scan reads in chunks: put the ISA across a chunk boundary too (a tiny chunk size)
    import scrubber.commands.guard as module

    path = tmp_path_factory.mktemp("guard") / "x.837"
    path.write_bytes(prefix + b"~" + interchange("P").encode())
    saved = module.CHUNK
    module.CHUNK = 64 + chunk_offset
    try:
        assert "P" in usage_indicators(path)
    finally:
        module.CHUNK = saved
