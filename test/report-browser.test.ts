// The bench report opens in headless Chromium (Debian's chromium package)
// without errors, with no network, and the screenshot shows the charts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countColour, readPng } from './helpers/png';

const root = path.join(__dirname, '..');
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
// CI installs chromium (.ci/run); elsewhere the test says it is skipped.
const maybe = chromium || process.env.CI ? test : test.skip;
if (!chromium && !process.env.CI) console.warn('report-browser.test: no chromium here; skipped (CI installs it)');

maybe('the HTML report renders its charts in headless Chromium', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-report-'));
  try {
    const bench = spawnSync(
      process.execPath,
      [path.join(root, 'bin', 'xbzrle.js'), 'bench', '--quick', '--workload', 'unchanged', '--workload', 'scattered-10', '--report', tmp],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(bench.status).toBe(0);
    expect(chromium).toBeDefined();
    const shot = path.join(tmp, 'shot.png');
    const r = spawnSync(
      chromium!,
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--user-data-dir=${path.join(tmp, 'profile')}`, '--enable-logging=stderr', '--v=0',
        '--window-size=1100,1000', `--screenshot=${shot}`, `file://${path.join(tmp, 'index.html')}`,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(fs.existsSync(shot)).toBe(true);
    // No console errors and no failed loads (the page needs no network at all).
    expect(r.stderr).not.toMatch(/CONSOLE.*(Error|Uncaught)|net::ERR_|Failed to load resource/);
    const img = readPng(fs.readFileSync(shot));
    expect(img.width).toBeGreaterThan(500);
    // The first two series colours of the charts are drawn in quantity.
    expect(countColour(img, [0x1f, 0x77, 0xb4])).toBeGreaterThan(2000);
    expect(countColour(img, [0xff, 0x7f, 0x0e])).toBeGreaterThan(300);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
