"""Microsoft 365 audit-log coverage and licensing assessor."""

__version__ = "0.1.0"
