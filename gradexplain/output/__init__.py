"""The output formats: one view that the terminal, Markdown and JSON write, and files."""
