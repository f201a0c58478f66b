"""Importing `firectl billing export-metrics` CSV files into the archive (issue 15)."""
