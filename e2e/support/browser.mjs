// Headless Chromium from Debian's package, driven by playwright-core.
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // LocalNetworkAccessChecks: a page served from a test's route cache
    // (tests/persist.test.mjs) is not "local", so its WebSocket to the
    // loopback relay would be blocked.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-features=LocalNetworkAccessChecks'],
  });
}

// A page of the demo on `docId`, in its own browser context (its own tab
// storage and replica), once the sync is live.
export async function openDemo(browser, relay, docId, query = '') {
  const context = await browser.newContext({ viewport: { width: 980, height: 640 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.errors = errors;
  await page.goto(`${relay.http}/?doc=${docId}${query}`);
  await waitLive(page);
  return page;
}

export async function waitLive(page, timeout = 15_000) {
  await page.waitForFunction(() => document.querySelector('#status')?.dataset.status === 'live', null, { timeout });
}

export const editorText = (page) => page.$eval('#editor', (e) => e.value);

// Puts the caret at UTF-16 index `at` (or the end) and types `text`.
export async function typeAt(page, at, text) {
  await page.focus('#editor');
  await page.$eval('#editor', (e, at) => {
    const i = at ?? e.value.length;
    e.setSelectionRange(i, i);
  }, at);
  await page.keyboard.type(text, { delay: 5 });
}

// Waits until every page shows the same text and it satisfies `check`.
export async function converged(pages, check = () => true, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let texts = [];
  while (Date.now() < deadline) {
    texts = await Promise.all(pages.map(editorText));
    if (texts.every((t) => t === texts[0]) && check(texts[0])) return texts[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pages did not converge in ${timeout} ms: ${JSON.stringify(texts)}`);
}

export async function setOnline(page, on) {
  const box = page.locator('#online');
  if ((await box.isChecked()) !== on) await box.click();
}
