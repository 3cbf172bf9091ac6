// N fixture logins in headless Chromium with playwright-core, J at a time, each in a fresh
// context of one browser: what `authchain run -j J` over N browser scenarios does.
//   node many.mjs APP_ORIGIN USER PASSWORD N J
import { chromium } from 'playwright-core';

const [app, user, password, n, j] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function login() {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(app);
    const start = await page.evaluate(async (origin) => {
      const r = await fetch(`${origin}/api/auth/sign-in/social`, {
        method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'fixture', callbackURL: `${origin}/` }),
      });
      return (await r.json()).url;
    }, app);
    await page.goto(start);
    await page.fill('input[name=username]', user);
    await page.fill('input[type=password]', password);
    await Promise.all([page.waitForNavigation(), page.click('[type=submit]')]);
    await Promise.all([page.waitForURL(`${app}/**`), page.click('form[action$="/confirm"] [type=submit]')]);
    const statuses = await page.evaluate(async (origin) => {
      const out = [];
      for (const path of ['/api/auth/get-session', '/auth/session']) {
        out.push((await fetch(origin + path, { credentials: 'include' })).status);
      }
      return out;
    }, app);
    if (statuses.some((s) => s !== 200)) throw new Error(`probes answered ${statuses}`);
  } finally {
    await context.close();
  }
}

try {
  let next = 0;
  const worker = async () => {
    while (next < Number(n)) {
      next += 1;
      await login();
    }
  };
  await Promise.all(Array.from({ length: Number(j) }, worker));
} finally {
  await browser.close();
}
