import { api, ApiError } from './api.js';
import { button, el, field } from './elements.js';
import { startOidcLogin } from './oidc-login.js';
import type { ConsoleSettings } from './settings.js';

/**
 * The login: OpenID Connect when the console has a client id, and while the development issuer
 * is on, a development login that takes an operator token minted by
 * `npm run bulkhead -- token --operator` (the console never mints one: it has no key).
 */
export function loginPage(settings: ConsoleSettings, onSignedIn: () => void, message = ''): HTMLElement {
  const status = el('p', { class: 'error', attrs: { role: 'alert' } }, message);
  const parts: HTMLElement[] = [];
  const oidc = settings.oidc;
  if (oidc) {
    parts.push(
      el('section', { attrs: { 'aria-labelledby': 'oidc-title' } }, el('h2', { id: 'oidc-title' }, 'Single sign-on'), el('p', {}, 'Signs in at ', el('code', {}, oidc.issuer), '.'),
        button('Sign in with single sign-on', async () => {
          try {
            await startOidcLogin(oidc);
          } catch (error) {
            status.textContent = (error as Error).message;
          }
        }, 'primary'),
      ),
    );
  }
  if (settings.devLogin) {
    const token = el('textarea', { attrs: { name: 'token', rows: '4', autocomplete: 'off', spellcheck: 'false' } });
    const submit = async () => {
      api.signIn(token.value.trim());
      try {
        // Proves the token is an operator's before any page is drawn.
        await api.get('/v1/admin/tenants?limit=1');
        onSignedIn();
      } catch (error) {
        api.signOut();
        status.textContent = error instanceof ApiError && error.status === 403 ? 'That token is not an operator token.' : `Sign-in failed: ${(error as Error).message}`;
      }
    };
    parts.push(
      el('section', { attrs: { 'aria-labelledby': 'dev-title' } },
        el('h2', { id: 'dev-title' }, 'Development login'),
        el('p', {}, 'The development issuer is on. Paste an operator token from ', el('code', {}, 'npm run bulkhead -- token --operator'), '.'),
        el('form', { on: { submit: (event) => { event.preventDefault(); void submit(); } } }, field('Operator token', token), el('button', { class: 'primary', attrs: { type: 'submit' } }, 'Sign in')),
      ),
    );
  }
  if (parts.length === 0) parts.push(el('p', {}, 'No login is configured: set CONSOLE_OIDC_CLIENT_ID (or DEV_ISSUER=true in development).'));
  return el('div', { class: 'login' }, el('h1', {}, 'Bulkhead operator console'), status, ...parts);
}
