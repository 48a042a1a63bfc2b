// Sign-in by pasting a token, and the "no workspace yet" state.

import { h, put } from '../dom.js';

export function render(root, { message, onToken }) {
  const input = h('input', {
    type: 'password', id: 'token', name: 'token', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'hgr_u_…', required: true, 'aria-describedby': 'token-help',
  });
  const problem = h('p', { class: 'form-error', role: 'alert', hidden: !message }, message || '');
  const form = h('form', {
    class: 'signin panel',
    onsubmit: (e) => {
      e.preventDefault();
      const value = input.value.trim();
      if (value.startsWith('hgr_d_')) {
        problem.textContent = 'That is a daemon token: daemons use it. Sign in with a user token (hgr_u_…).';
        problem.hidden = false;
        return;
      }
      if (!value.startsWith('hgr_u_')) {
        problem.textContent = 'A user token starts with hgr_u_.';
        problem.hidden = false;
        return;
      }
      onToken(value);
    },
  },
  h('h1', {}, h('img', { src: '/favicon.svg', alt: '', width: 28, height: 28 }), ' Sign in to hangar'),
  h('label', { for: 'token' }, 'Your API token'),
  input,
  h('p', { id: 'token-help', class: 'muted' },
    'Paste a user token. An administrator can make one with ', h('code', {}, 'hangar token create --email you@example.com'),
    '; the first one comes from ', h('code', {}, 'hangar init'), '. It is kept in this browser only.'),
  problem,
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  put(root, form);
  input.focus();
}

export function renderNoWorkspace(root, create) {
  const name = h('input', { type: 'text', id: 'ws-name', required: true, maxlength: 200, placeholder: 'e.g. Platform team' });
  const problem = h('p', { class: 'form-error', role: 'alert', hidden: true });
  put(root, h('form', {
    class: 'panel signin',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        await create(name.value.trim());
      } catch (err) {
        problem.textContent = err.message;
        problem.hidden = false;
      }
    },
  },
  h('h1', {}, 'No workspace yet'),
  h('p', {}, 'You are not a member of any workspace. Ask an admin to add you, or create one.'),
  h('label', { for: 'ws-name' }, 'Workspace name'), name, problem,
  h('button', { type: 'submit', class: 'primary' }, 'Create workspace')));
}
