"""Hoedan in Microsoft Teams, on the Microsoft 365 Agents SDK.

Only what the service needs before it knows whether Teams is configured lives here: the SDK
and MSAL take about a second to import, which a Slack-only installation should not pay.
"""

MESSAGES_PATH = "/api/messages"
