"""Bundled CSV column mappings (``scrubber.readers.csv``): pass a file stem as ``mapping=`` or ``--mapping``."""
