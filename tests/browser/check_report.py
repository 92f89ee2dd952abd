"""Opens a trek HTML report in headless Chromium (Debian's, driven by
Playwright) and checks it as a reader would get it: no console error, no
request to anything but the file itself, the verdict shown, every chart
drawn with data, and sortable tables that sort. Saves a screenshot.

usage: check_report.py REPORT.html SCREENSHOT.png
Prints one JSON object; exits 1 when a check fails.
"""
import json
import pathlib
import sys

from playwright.sync_api import sync_playwright

report = pathlib.Path(sys.argv[1]).resolve()
shot = pathlib.Path(sys.argv[2])
url = report.as_uri()
problems, console, requests = [], [], []

with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)

    verdict = page.inner_text("#verdict").strip().lower()
    charts = page.eval_on_selector_all(
        "svg.chart",
        """svgs => svgs.map(s => ({
            title: s.querySelector('title').textContent,
            lines: Array.from(s.querySelectorAll('polyline')).filter(l => l.getAttribute('points').trim().split(' ').length >= 2).length,
            empty: s.querySelector('.no-data') !== null,
        }))""",
    )
    # Sorting: click "count" in the step table twice; the first row changes
    # to the largest count.
    counts_before = page.eval_on_selector_all("#step-table tbody tr td:nth-child(4)", "c => c.map(x => +x.dataset.v)")
    page.click("#step-table thead th:nth-child(4)")
    page.click("#step-table thead th:nth-child(4)")
    counts_after = page.eval_on_selector_all("#step-table tbody tr td:nth-child(4)", "c => c.map(x => +x.dataset.v)")
    page.screenshot(path=str(shot), full_page=True)
    browser.close()

if console:
    problems.append(f"console: {console}")
others = [u for u in requests if u != url]
if others:
    problems.append(f"requests other than the file: {others}")
if verdict not in ("pass", "warn", "fail", "aborted"):
    problems.append(f"no verdict shown: {verdict!r}")
drawn = [c for c in charts if c["lines"] > 0]
if len(drawn) < 4:
    problems.append(f"too few charts with data: {charts}")
if counts_after != sorted(counts_before, reverse=True):
    problems.append(f"sorting by count failed: {counts_before} -> {counts_after}")

print(json.dumps({"verdict": verdict, "charts": len(charts), "charts_with_data": len(drawn),
                  "requests": requests, "problems": problems}))
sys.exit(1 if problems else 0)
