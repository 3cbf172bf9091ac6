//! What runs inside the page: selectors that pierce open shadow roots, reading a login or consent
//! page, filling and submitting it, and the page's own session probes.

/// Helpers every script starts with. `pierce("a >>> b >>> c")` finds `a` anywhere (inside open
/// shadow roots too), then `b` inside the shadow root of each match (or the match itself when it
/// has none), and so on; commas separate whole alternatives (`a >>> b, c >>> d`).
pub const HELPERS: &str = r#"
const deepAll = (root, sel) => {
  const out = [...root.querySelectorAll(sel)];
  for (const el of root.querySelectorAll('*')) if (el.shadowRoot) out.push(...deepAll(el.shadowRoot, sel));
  return out;
};
const chain = (selector) => {
  const parts = selector.split('>>>').map((s) => s.trim()).filter(Boolean);
  let roots = [document];
  let found = [];
  parts.forEach((part, i) => {
    found = [];
    for (const r of roots) found.push(...(i === 0 ? deepAll(r, part) : r.querySelectorAll(part)));
    roots = found.map((e) => e.shadowRoot || e);
  });
  return found;
};
// Commas outside brackets and parentheses separate whole alternatives, as in CSS.
const alternatives = (selector) => {
  const out = [];
  let depth = 0, start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === ',' && depth === 0) { out.push(selector.slice(start, i)); start = i + 1; }
  }
  out.push(selector.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
};
const pierce = (selector) => [...new Set(alternatives(selector).flatMap(chain))];
const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
const text = (e) => (e.innerText || e.textContent || '').replace(/\s+/g, ' ').trim();
const setValue = (input, value) => {
  input.focus();
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  input.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
};
const DENY = /\b(deny|abort|cancel|reject|decline|refuse|no)\b/i;
const describe = (b) => [b.getAttribute('name'), b.value, text(b), b.form && b.form.getAttribute('action')].join(' ');
const message = () => {
  const e = deepAll(document, '[role=alert], .error, .errors, .alert, .alert-error, .alert-danger, .form-error, .invalid-feedback, #error, .pf-m-error')
    .find((e) => text(e));
  return e ? text(e).slice(0, 200) : null;
};
"#;

/// Reads the page: `{url, ready, kind: "login"|"consent"|"denied"|"other", password, action,
/// message, sig, status, contentType, html, body, alert}` (`action` is the path the login form
/// posts to; `status` the document's HTTP status where Chromium tells it; `html` the markup of
/// an HTML document, `body` the text of any other; `alert` whether an error is shown).
/// A page with only a username field (a username-first stage) is a login page too. `sig` changes
/// whenever what the page offers changes, also without a navigation (single-page flows).
/// `selectors` holds the adapter's `password`, `username`, `submit` and `consent` selectors.
pub const INSPECT: &str = r#"
const [s] = arguments;
const password = pierce(s.password).filter(visible)[0];
const username = pierce(s.username).filter(visible)[0];
const consent = pierce(s.consent).filter(visible);
const denied = pierce(s.denied)[0];
const kind = denied ? 'denied' : (password || username) ? 'login' : (consent.length ? 'consent' : 'other');
const field = password || username;
const action = field && field.form ? new URL(field.form.action, location.href).pathname : location.pathname;
const msg = denied ? (text((denied.shadowRoot || denied)) || 'access denied').slice(0, 200) : message();
const sig = [location.href, kind, !!password, !!username, consent.length, msg].join('|');
const nav = performance.getEntriesByType('navigation')[0];
const status = nav && nav.responseStatus ? nav.responseStatus : null;
const contentType = document.contentType || '';
const isHtml = /html|xml/.test(contentType);
const html = isHtml ? document.documentElement.outerHTML.slice(0, 500000) : null;
const body = isHtml ? null : text(document.body || document.documentElement).slice(0, 4000);
const alert = !denied && (!!msg || deepAll(document, '[aria-invalid=true]').length > 0);
return { url: location.href, ready: document.readyState, kind, password: !!password, action, message: msg, sig, status, contentType, html, body, alert };
"#;

/// Fills the username (when the page asks for it) and the password (when it asks for it), and
/// submits.
pub const LOGIN: &str = r#"
const [s, user, pass] = arguments;
const password = pierce(s.password).filter(visible)[0];
let username = pierce(s.username).filter(visible)[0];
const field = password || username;
if (!field) return 'no field matches the password selector `' + s.password + '` nor the username selector `' + s.username + '`';
if (!username && password && password.form) {
  const inputs = [...password.form.querySelectorAll('input')].filter((i) => visible(i) && /^(text|email|tel)?$/.test(i.type || ''));
  username = inputs.find((i) => /user|login|email|uid|ident/i.test(i.name || '')) || inputs[inputs.length - 1];
}
if (username) setValue(username, user);
if (password) setValue(password, pass);
window.__authchain_page = 1;
const scope = field.form || field.getRootNode();
const submit = pierce(s.submit).filter(visible).find((b) => scope.contains(b)) || (scope.querySelector && scope.querySelector('[type=submit], button:not([type])'));
if (submit) submit.click(); else if (field.form) field.form.requestSubmit(); else return 'no submit button matches `' + s.submit + '`';
return null;
"#;

/// Presses the consent button that gives the wanted answer.
pub const CONSENT: &str = r#"
const [s, deny] = arguments;
const buttons = pierce(s.consent).filter(visible);
const button = buttons.find((b) => DENY.test(describe(b)) === deny);
if (!button) return 'no button to ' + (deny ? 'deny' : 'accept') + ' consent matches `' + s.consent + '`';
window.__authchain_page = 1;
button.click();
return null;
"#;

/// Whether the page that was acted on has been replaced by a loaded one.
pub const NAVIGATED: &str = r#"
return window.__authchain_page === undefined && document.readyState === 'complete';
"#;

/// Sends one start request from the page, as the app's own client does, and gives its answer
/// (`{status, location, body, error}`); what it means is decided outside the page.
pub const START: &str = r#"
const [a] = arguments;
return (async () => {
  const init = { method: a.method, credentials: 'include', headers: Object.assign({}, a.headers || {}) };
  try {
    let form = a.form;
    if (a.csrf) {
      const c = await fetch(a.csrf.url, { credentials: 'include' });
      const text = await c.text();
      let token = null;
      try { token = JSON.parse(text)[a.csrf.json_field]; } catch (e) {}
      if (!c.ok || typeof token !== 'string') {
        return { status: c.status, location: null, body: text, error: null };
      }
      form = (form || []).concat([[a.csrf.form_field, token]]);
    }
    if (a.json !== null) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(a.json); }
    if (form !== null && form !== undefined) { init.body = new URLSearchParams(form); }
    const r = await fetch(a.url, init);
    return { status: r.status, location: r.headers.get('location'), body: await r.text(),
      headers: [...r.headers.entries()], error: null };

  } catch (e) {
    return { status: 0, location: null, body: '', error: String(e) };
  }
})();
"#;

/// Presses a page's sign-in button, as a person does: the element `selector` names, or the
/// first link, form or button whose words say sign in; a link is clicked, a form submitted, a
/// scripted button clicked. Gives `{kind, method, url}` or `{error}`.
pub const PRESS: &str = r#"
const [selector, words] = arguments;
// Whole words: "sso" is not in "lessons"; a sign-out is never a sign-in.
const norm = (s) => ' ' + s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim() + ' ';
const says = (e) => {
  const parts = [e.getAttribute('href') || '', e.getAttribute('action') || '',
    e.getAttribute('aria-label') || '', e.getAttribute('value') || ''];
  // A link by its text; a form by its buttons, not by everything it wraps.
  if (e.tagName === 'FORM') {
    for (const b of e.querySelectorAll('input[type=submit], button')) parts.push(b.value || b.innerText || '');
  } else {
    parts.push(e.innerText || '');
  }
  const text = norm(parts.join(' '));
  if ([' logout ', ' log out ', ' sign out ', ' signout '].some((w) => text.includes(w))) return false;
  return words.some((w) => text.includes(norm(w)));
};
let el = null;
if (selector) {
  el = document.querySelector(selector);
  if (!el) return { error: 'nothing on the page matches `' + selector + '`' };
} else {
  el = [...document.querySelectorAll('a[href], form, button')].find(says);
  if (!el) return { error: 'no link, form or button on the page says sign in or log in: name the one to press with --start-selector' };
}
const submitter = (el.tagName === 'BUTTON' && (el.getAttribute('type') || 'submit') === 'submit')
  || (el.tagName === 'INPUT' && el.type === 'submit') ? el : undefined;
// A scripted button (type=button) does what its handler does.
if (el.tagName === 'BUTTON' && el.getAttribute('type') === 'button') {
  el.click();
  return { kind: 'button', method: null, url: null };
}
for (let e = el; e; e = e.parentElement) {
  if (e.tagName === 'A' && e.href) { const url = e.href; e.click(); return { kind: 'link', method: 'GET', url }; }
  if (e.tagName === 'FORM') {
    const method = ((submitter && submitter.getAttribute('formmethod')) || e.getAttribute('method') || 'get').toUpperCase();
    const url = (submitter && submitter.getAttribute('formaction')) ? submitter.formAction : e.action;
    if (e.requestSubmit) e.requestSubmit(submitter); else e.submit();
    return { kind: 'form', method, url };
  }
}
el.click();
return { kind: 'button', method: null, url: null };
"#;

/// The page's own probe: `fetch` with the browser's cookies, from the app's origin.
pub const PROBE: &str = r#"
const [url, method] = arguments;
return (async () => {
  try {
    const r = await fetch(url, { method, credentials: 'include' });
    return { status: r.status, body: await r.text(), error: null };
  } catch (e) {
    return { status: 0, body: '', error: String(e) };
  }
})();
"#;

/// Posts a form from the page, as a browser does: a navigation, not a `fetch`.
pub const FORM_POST: &str = r#"
const [url, method, fields] = arguments;
const form = document.createElement('form');
form.method = method;
form.action = url;
for (const [name, value] of fields) {
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = name;
  input.value = value;
  form.appendChild(input);
}
document.body.appendChild(form);
window.__authchain_page = 1;
form.submit();
return null;
"#;
