"""`python -m bot` runs the qaloop command line."""

from bot.cli import main

main()
