"""Jinja templates for the HTML and Markdown reports."""
