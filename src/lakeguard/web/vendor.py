"""The front-end libraries (``/vendor``): packed in the wheel, or installed by npm in a checkout.

A built wheel carries the files listed in ``vendor.toml`` under ``vendor/`` (the build hook
packs them); a source checkout serves ``node_modules/``, where ``make`` runs ``npm ci``.
"""

from __future__ import annotations

from pathlib import Path

from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from lakeguard.api.problems import problem

HERE = Path(__file__).parent
PACKED = HERE / "vendor"
NPM_INSTALLED = HERE / "node_modules"

NOT_INSTALLED = (
    "the dashboard's front-end libraries are not installed: run `make demo` (or `npm ci` in "
    "src/lakeguard/web), or install LakeGuard from a built wheel, which carries them"
)


def vendor_dir() -> Path:
    """Where the libraries are served from: the wheel's packed files, else npm's."""
    return PACKED if PACKED.is_dir() else NPM_INSTALLED


class VendorFiles(StaticFiles):
    """Static files that answer a 404 problem saying what to install when the folder is missing.

    Starlette's own answer is a plain-text 500; the folder is looked for again on each request
    until it appears, so ``npm ci`` needs no restart.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.directory is None or not Path(self.directory).is_dir():
            answer = problem(404, "Front-end libraries not installed", NOT_INSTALLED)
            await answer(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
