"""QA Loop: a Teams bot for a children's services quality assurance cycle."""
