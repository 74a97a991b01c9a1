"""Scheduled jobs: registered in one place, each a function of its dependencies and the clock."""
