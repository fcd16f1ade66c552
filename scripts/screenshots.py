"""Screenshots of a running Dagster UI (and of local HTML files) with Debian's headless chromium, driven over
the DevTools protocol so that a page can settle and its first-visit dialog be dismissed before the capture:

    .venv/bin/python scripts/screenshots.py OUT.png URL [--wait S] [--width W --height H] [--click TEXT ...]

`--click TEXT` clicks the first button whose text is TEXT (e.g. "Skip" for Dagster's community dialog, or
"Expand all" in the asset graph) after the page has loaded; `--wait` is how long the page may keep loading
and drawing before the capture (default 20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import websockets

START_TIMEOUT_S = 60.0
CLICK_JS = """
(() => {
  const want = %s;
  const el = [...document.querySelectorAll('button, [role=button], a')]
    .find(b => (b.innerText || '').trim() === want);
  if (el) { el.click(); return true; }
  return false;
})()
"""


class Tab:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        await self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result


def _port(port_file: Path) -> str | None:
    text = port_file.read_text().strip() if port_file.exists() else ""
    return text.split()[0] if text else None


def _browser(profile: str, width: int, height: int) -> subprocess.Popen[bytes]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    return subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", f"--window-size={width},{height}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _save(out: Path, data: str, url: str) -> None:
    out.write_bytes(base64.b64decode(data))
    print(f"{out}: {out.stat().st_size} bytes from {url}")


async def _page_socket(port_file: Path) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    while loop.time() < deadline:
        port = _port(port_file)
        if port is not None:
            proc = await asyncio.create_subprocess_exec(
                "curl", "-s", "-X", "PUT", f"http://127.0.0.1:{port}/json/new?about:blank",
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, _ = await proc.communicate()
            if out:
                url: str = json.loads(out)["webSocketDebuggerUrl"]
                return url
        await asyncio.sleep(0.5)
    raise SystemExit("chromium did not open its DevTools port")


async def capture(out: Path, url: str, wait_s: float, width: int, height: int, clicks: list[str]) -> None:
    with tempfile.TemporaryDirectory() as profile:
        browser = _browser(profile, width, height)
        try:
            socket_url = await _page_socket(Path(profile) / "DevToolsActivePort")
            async with websockets.connect(socket_url, max_size=None) as socket:
                tab = Tab(socket)
                await tab.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                               deviceScaleFactor=1, mobile=False)  # fmt: skip
                await tab.call("Page.enable")
                await tab.call("Page.navigate", url=url)
                await asyncio.sleep(wait_s / 2)
                for text in clicks:
                    done = await tab.call("Runtime.evaluate", expression=CLICK_JS % json.dumps(text))
                    print(f"click {text!r}: {done.get('result', {}).get('value')}")
                    await asyncio.sleep(2)
                await asyncio.sleep(wait_s / 2)
                shot = await tab.call("Page.captureScreenshot", format="png")
                _save(out, shot["data"], url)
        finally:
            browser.terminate()
            browser.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("url")
    parser.add_argument("--wait", type=float, default=20.0)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--click", action="append", default=[])
    args = parser.parse_args()
    asyncio.run(capture(args.out, args.url, args.wait, args.width, args.height, args.click))


if __name__ == "__main__":
    main()
