"""reportgen: curated company data to a polished investment brief (HTML and PDF)."""

# Written here, not read from the installed metadata: importlib.metadata costs every
# process (the CLI, each worker's fork server) 50 ms and 7 MiB. pyproject.toml reads it.
__version__ = "0.1.0"

__all__ = ["__version__"]
