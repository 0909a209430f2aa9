"""Readers: one module per input format, each ``read(stream, file) -> Iterator[Claim | ParseIssue]``.

``x12_837p`` (X12 837P), ``json`` (JSON / JSON Lines in the Claim schema), ``csv`` (exports through a
column mapping; ``read(stream, file, mapping)``), ``fhir`` (FHIR R4 Claim, Bundle, NDJSON; needs the
``[fhir]`` extra, imported only when used) and ``x12_835`` (remittances). None raises on bad input:
what cannot be read becomes a ``ParseIssue`` and the rest is still read. ``scrubber.inputs.read_file``
picks the reader from a file's content.

The two X12 readers share the tokenizer (``x12_tokens``), the loop-table walker (``x12_loops``), element
values (``x12_values``) and the driver with the envelope checks (``x12_reader``); every ``read_path``
opens its file through ``common.read_opened``.
"""
