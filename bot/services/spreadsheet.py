"""What every file QA Loop writes for a spreadsheet shares: text that Excel never runs."""

from __future__ import annotations

# A cell starting with one of these is a formula (or starts one) in Excel, LibreOffice and Google
# Sheets; tab and carriage return let one hide behind white space (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def no_formula(cell: str) -> str:
    """Text that a spreadsheet shows as it is: one that could start a formula gets a leading '."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
