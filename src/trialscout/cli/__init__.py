"""Command-line interface: parses options, calls the stages, prints."""
