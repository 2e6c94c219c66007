// Login: paste a token; it is checked with /whoami and kept in localStorage.
import { api, setToken } from '../api.js';
import { h } from '../dom.js';

export async function render(main, { query }) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'token-help token-error', placeholder: 'stk_…' });
  const error = h('p', { id: 'token-error', class: 'field-error', role: 'alert' });
  const form = h('form', { class: 'panel login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, '⚡ Stoke'),
    h('label', { for: 'token' }, 'API token', input),
    h('p', { id: 'token-help', class: 'muted' },
      'The admin token is in <data-dir>/admin.token; other tokens come from `stoke token create`.'),
    error,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Log in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    const token = input.value.trim();
    try {
      await api('/whoami', { token });
      setToken(token);
      location.hash = query.get('next') || '#/jobs';
    } catch (e) {
      input.setAttribute('aria-invalid', 'true');
      error.textContent = e.status === 401 ? 'This token is not valid.' : `Cannot log in: ${e.message}`;
      input.focus();
    }
  });
  main.append(form);
  input.focus();
}
