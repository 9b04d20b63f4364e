import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { ARTIFACTS, SystemUnderTest, eventually } from './system-under-test.js';

const SCREENSHOTS = join(ARTIFACTS, 'screenshots');

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // try the next name
    }
  }
  throw new Error('Chromium not found: npm test installs Debian chromium; or set CHROMIUM_PATH');
}

let system: SystemUnderTest;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  system = await SystemUnderTest.start({ label: 'browser', scanSeconds: 1, attempts: 1 });
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // One completed and one failed job for Bull Board to show.
  const ok = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets: '10.70.0.1', name: 'browser ok' }) });
  const okId = ((await ok.json()) as { task_id: string }).task_id;
  await eventually(
    async () => ((await (await system.api(`/api/v1/tasks/${okId}`)).json()) as { status: string }).status === 'completed',
    60000,
    'completed job',
  );
  await system.setFaults({ licence_412: 'clean' });
  const bad = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets: '10.70.0.2', name: 'browser failed' }) });
  const badId = ((await bad.json()) as { task_id: string }).task_id;
  await eventually(async () => ((await (await system.api(`/api/v1/tasks/${badId}`)).json()) as { status: string }).status === 'failed', 60000, 'failed job');
  await system.setFaults({ licence_412: null });
}, 150000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

describe('a human in a browser', () => {
  it('sees the REST endpoints in Swagger UI and can try one out with the token', async () => {
    // The docs are behind auth like everything else; browsers get in with Basic (password = token).
    const context = await browser.newContext({ httpCredentials: { username: 'human', password: system.token }, viewport: { width: 1280, height: 1600 } });
    const page = await context.newPage();
    await page.goto(`${system.gatewayUrl}/docs`);
    await page.waitForSelector('.opblock-tag', { timeout: 30000 });
    const text = await page.textContent('body');
    for (const path of ['/api/v1/scans/untrusted', '/api/v1/tasks/{task_id}/results', '/api/v1/scanners']) expect(text).toContain(path);

    // Authorize with the bearer token, then "Try it out" on GET /api/v1/scanners.
    await page.click('button.authorize');
    await page.fill('.modal-ux input[type=text], .modal-ux input:not([type])', system.token);
    await page.click('.modal-ux button.authorize');
    await page.click('.modal-ux button.btn-done, .modal-ux .close-modal');
    const operation = page.locator('.opblock', { hasText: '/api/v1/scanners' }).first();
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    await operation.locator('.responses-wrapper .live-responses-table .response-col_status').first().waitFor({ timeout: 15000 });
    const status = await operation.locator('.live-responses-table .response .response-col_status').first().textContent();
    expect(status?.trim()).toMatch(/^200/);
    await page.screenshot({ path: join(SCREENSHOTS, 'swagger-ui.png'), fullPage: false });
    await context.close();
  }, 90000);

  it('sees the queues and a completed and a failed job in Bull Board after Basic auth', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'operator', password: system.token }, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${system.gatewayUrl}/admin/queues`);
    await page.waitForSelector('text=scans-nessus', { timeout: 30000 });
    await page.goto(`${system.gatewayUrl}/admin/queues/queue/scans-nessus?status=completed`);
    await page.waitForSelector('text=browser ok', { timeout: 30000 }).catch(() => undefined);
    await page.screenshot({ path: join(SCREENSHOTS, 'bull-board-completed.png') });
    expect(await page.textContent('body')).toMatch(/completed/i);
    await page.goto(`${system.gatewayUrl}/admin/queues/queue/scans-nessus?status=failed`);
    await page.waitForSelector('text=/API is not available|licen[cs]e/i', { timeout: 30000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'bull-board-failed.png') });
    expect(existsSync(join(SCREENSHOTS, 'bull-board-failed.png'))).toBe(true);
    await context.close();
  }, 90000);
});
