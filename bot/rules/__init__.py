"""Pure domain rules: no database, no botbuilder."""
