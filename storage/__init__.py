"""Persistence: SQLModel tables, async engines, migrations and one query module per aggregate."""
