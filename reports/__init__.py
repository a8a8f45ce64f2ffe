"""Conformance results (``env.json`` + ``checks-*.jsonl`` + optional ``benchmarks.json`` per
run) -> one self-contained HTML report: ``python -m reports build DIR... -o report.html``."""

from reports.schema import SCHEMA_VERSION, ReportError

__all__ = ["SCHEMA_VERSION", "ReportError"]
