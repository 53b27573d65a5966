"""Rendering: model → planned files (``plan``) → Jinja2 (``env``) → black → disk (``write``)."""
