"""Hoedan's storage: SQLModel models, repositories (the only place that writes SQL) and migrations.

Nothing in this package knows about Slack, Teams or the terminal.
"""
