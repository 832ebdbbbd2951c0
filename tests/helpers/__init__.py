"""Helpers shared by the tests, imported as ``tests.helpers.<module>`` (pytest's ``pythonpath`` puts the
repository root on the import path; no test edits ``sys.path``)."""
