"""The Teams app package's template and icons, shipped with QA Loop so `qaloop manifest build`
works from an installed copy as well as from a checkout."""

from pathlib import Path

MANIFEST_DIR = Path(__file__).resolve().parent
