// The fixture login as a person's browser makes it, for the benchmarks next to playwright-core:
// open the app, start the login from the page, pass the IdP's login and consent forms, come
// back to the app, and ask the session endpoints from the page.
import { chromium } from 'playwright-core';

// Debian's Chromium with the flags authchain's browser driver starts it with.
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// One login in `page`; throws unless both session endpoints answer 200.
export async function login(page, app, user, password) {
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
}
