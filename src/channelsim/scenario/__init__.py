"""Scenario files: the schema of every lever, and loading with extends: and --set."""
