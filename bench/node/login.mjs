// The fixture login in headless Chromium with playwright-core, doing what authchain's browser
// driver does (fixture.mjs).
//   node login.mjs APP_ORIGIN USER PASSWORD
import { launch, login } from './fixture.mjs';

const [app, user, password] = process.argv.slice(2);
const browser = await launch();
try {
  await login(await browser.newPage(), app, user, password);
} finally {
  await browser.close();
}
