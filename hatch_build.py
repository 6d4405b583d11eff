"""Wheel build hook: pack the front-end files the pages and /docs load, from npm.

The wheel then serves a working dashboard and API docs with no Node.js where it is installed;
building it (from a checkout or from the source distribution) needs Node.js and npm.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WEB = Path("src") / "lakeguard" / "web"
PACKED = "lakeguard/web/vendor"


class VendorHook(BuildHookInterface):
    """Run ``npm ci`` when the install is stale, then force-include the listed files."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install serves node_modules from the checkout itself
        web = Path(self.root) / WEB
        install_npm_packages(web)
        modules = web / "node_modules"
        manifest = tomllib.loads((web / "vendor.toml").read_text(encoding="utf-8"))
        for pattern in manifest["files"]:
            found = sorted(p for p in modules.glob(pattern) if p.is_file())
            if not found:
                raise RuntimeError(f"vendor.toml lists {pattern}, which npm did not install")
            for path in found:
                target = f"{PACKED}/{path.relative_to(modules).as_posix()}"
                build_data["force_include"][str(path)] = target


def install_npm_packages(web: Path) -> None:
    """``npm ci`` in ``web`` unless ``make`` or an earlier build already did it since the lock."""
    stamp = web / "node_modules" / ".installed"
    sources = (web / "package.json", web / "package-lock.json")
    if stamp.exists() and all(stamp.stat().st_mtime >= s.stat().st_mtime for s in sources):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "building the LakeGuard wheel needs Node.js and npm to fetch the dashboard's "
            "libraries (on Debian: apt-get install nodejs npm); installing the built wheel "
            "does not"
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=web, check=True)
    stamp.touch()
