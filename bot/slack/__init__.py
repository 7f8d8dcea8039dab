"""Hoedan on Slack: Bolt over HTTP or Socket Mode."""
