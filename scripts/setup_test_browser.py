"""Get the browser the browser tests need, on any machine `make test` runs on (called by make).

- Already there (BIGMODEL_CHROMIUM, or Debian's /usr/bin/chromium, or Playwright's own): nothing to do.
- Root on Debian/Ubuntu (CI, a container, a classroom server): apt-get install chromium with
  fonts-noto-cjk (the Chinese pages need CJK glyphs) and nginx (the multi-process load smoke test).
- Anywhere else (a learner's or teacher's laptop: macOS, Windows, Linux without root):
  `python -m playwright install chromium`, Playwright's own build in the user's cache.

Prints what it did; exits non-zero only when no browser could be found or installed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def playwright_chromium() -> Path | None:
    """Playwright's own Chromium, if it has been installed for this Playwright version."""
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            path = Path(p.chromium.executable_path)
        return path if path.exists() else None
    except Exception:
        return None


def is_root_debian() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/etc/debian_version").exists() \
        and shutil.which("apt-get") is not None


def apt_install(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], check=True, env=env)


def main() -> int:
    custom = os.environ.get("BIGMODEL_CHROMIUM")
    if custom and Path(custom).exists():
        print(f"browser: {custom} (BIGMODEL_CHROMIUM)")
        return 0
    if is_root_debian():
        missing = [pkg for pkg, there in (("chromium", DEBIAN_CHROMIUM.exists()),
                                          ("fonts-noto-cjk", Path("/usr/share/fonts/opentype/noto").exists()),
                                          ("nginx", shutil.which("nginx") or Path("/usr/sbin/nginx").exists()))
                   if not there]
        if missing:
            print(f"installing from Debian's packages: {' '.join(missing)}")
            apt_install(missing)
    if DEBIAN_CHROMIUM.exists():
        print(f"browser: {DEBIAN_CHROMIUM}")
        return 0
    found = playwright_chromium()
    if found is None:
        print("installing Playwright's Chromium (python -m playwright install chromium)")
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=False)
        found = playwright_chromium()
    if found is None:
        print("No Chromium: install Debian's 'chromium' package, or run "
              "'python -m playwright install chromium' (see README, Set-up).", file=sys.stderr)
        return 1
    print(f"browser: {found} (Playwright's)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
