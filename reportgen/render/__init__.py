"""Compose the view of a checked brief and render it: Markdown, tables, charts, theme, the Jinja environment."""
