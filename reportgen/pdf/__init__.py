"""Lay the HTML out as a PDF (WeasyPrint, confined fetcher) and read it back to verify it."""
