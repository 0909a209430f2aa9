"""Writers: claims back to an input format (for tests, fixtures and benchmarks)."""
