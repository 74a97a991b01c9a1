"""Dependency audit for CI: pip-audit against the advisory database, and known-bad floors offline.

Where this machine cannot reach an advisory database, pip-audit skips every package and passes
vacuously; we say so loudly and still enforce the floors DESIGN §10 names.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version

# Versions below these have published vulnerabilities (DESIGN §10 and well-known advisories).
FLOORS = {
    "aiohttp": "3.13.4",
    "PyJWT": "2.12.0",
    "APScheduler": "3.11.2",
    "requests": "2.32.4",
    "urllib3": "2.5.0",
    "cryptography": "44.0.1",
}


def floors_ok() -> bool:
    ok = True
    for name, floor in FLOORS.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue
        if Version(installed) < Version(floor):
            print(f"FAIL {name} {installed} is below the safe floor {floor}")
            ok = False
        else:
            print(f"ok   {name} {installed} (floor {floor})")
    return ok


def main() -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--skip-editable",
            "--progress-spinner",
            "off",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout, result.stderr)
        return 1
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"VULNERABLE {dep['name']} {dep['version']}: {ids}")
    if not audited:
        print(
            f"pip-audit could not reach an advisory database ({len(deps)} packages skipped); "
            "checking the known floors only."
        )
    else:
        print(f"pip-audit: {len(audited)} packages audited, {len(vulnerable)} vulnerable.")
    return 0 if floors_ok() and not vulnerable else 1


if __name__ == "__main__":
    sys.exit(main())
