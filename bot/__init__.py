"""Everything platform-shaped: adapters (console, later Slack and Teams), the CLI, settings,
logging and the outbox dispatcher."""
