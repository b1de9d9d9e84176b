"""Views: turning library results into text tables and JSON-ready data for the CLI."""
