// N fixture logins in headless Chromium with playwright-core, J at a time, each in a fresh
// context of one browser: what `authchain run -j J` over N browser scenarios does.
//   node many.mjs APP_ORIGIN USER PASSWORD N J
import { launch, login } from './fixture.mjs';

const [app, user, password, n, j] = process.argv.slice(2);
const browser = await launch();
try {
  let next = 0;
  const worker = async () => {
    while (next < Number(n)) {
      next += 1;
      const context = await browser.newContext();
      try {
        await login(await context.newPage(), app, user, password);
      } finally {
        await context.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Number(j) }, worker));
} finally {
  await browser.close();
}
