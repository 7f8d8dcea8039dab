"""Local mode: Hoedan in the terminal, through the same flows and storage as Slack and Teams."""
