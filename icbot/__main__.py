"""`python -m icbot` runs the CLI."""

from icbot.cli.app import main

main()
