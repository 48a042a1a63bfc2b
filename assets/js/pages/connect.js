// Connecting a machine: make a daemon token and show what to run with it. Used as its own
// page and as the empty state of the runtimes page.

import * as api from '../api.js';
import { confirmDialog, h, put, snippet, toast } from '../dom.js';
import { ago } from '../format.js';

/** The commands a machine runs to register its runtimes and stay online. */
export function daemonSnippet(token) {
  const origin = location.origin;
  return [
    '# On the machine that runs Claude Code, Codex, …',
    `export HANGAR_URL=${origin}`,
    `export HANGAR_DAEMON_TOKEN=${token || '<daemon token>'}`,
    '',
    '# Register this machine\'s runtimes (safe to repeat: it updates, never duplicates)',
    'curl -fsS "$HANGAR_URL/api/daemon/register" \\',
    '  -H "Authorization: Bearer $HANGAR_DAEMON_TOKEN" -H "Content-Type: application/json" \\',
    '  -d "{\\"daemon_id\\":\\"$(hostname)\\",\\"runtimes\\":[{\\"name\\":\\"Claude Code\\",\\"provider\\":\\"claude\\"}]}"',
    '',
    '# Then every 15 s, with the ids it returned, to stay online',
    'curl -fsS "$HANGAR_URL/api/daemon/heartbeat" \\',
    '  -H "Authorization: Bearer $HANGAR_DAEMON_TOKEN" -H "Content-Type: application/json" \\',
    '  -d \'{"runtime_ids":["<runtime id>"]}\'',
  ].join('\n');
}

/** A panel that explains how to connect a daemon and can mint a token for it. */
export function connectGuide(ctx, { title = 'Connect a machine' } = {}) {
  const code = h('div', {}, snippet(daemonSnippet(null)));
  const name = h('input', { type: 'text', id: 'dt-name', value: `daemon on ${ctx.me.name}`, maxlength: 200, required: true });
  const result = h('div', { class: 'token-result', 'aria-live': 'polite' });
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const created = await api.post(`/api/workspaces/${ctx.ws.id}/daemon-tokens`, { name: name.value.trim() });
        put(result, h('p', { class: 'notice' }, 'Your daemon token (shown once — copy it now):'), snippet(created.token, 'Copy token'));
        put(code, snippet(daemonSnippet(created.token)));
        form.dispatchEvent(new CustomEvent('token-created', { bubbles: true }));
      } catch (err) {
        toast(err.message, 'error');
      }
    },
  },
  h('label', { for: 'dt-name' }, 'Token name'), name,
  h('button', { type: 'submit', class: 'primary' }, 'Create daemon token'));
  return h('section', { class: 'panel connect' },
    h('h2', {}, title),
    h('p', {}, 'A daemon on each machine registers the runtimes it can run (one per provider) and sends a heartbeat every 15 seconds. ',
      'It authenticates with a daemon token of this workspace; the runtimes it registers are owned by you and start private.'),
    h('ol', { class: 'steps' },
      h('li', {}, 'Create a daemon token for the machine.'),
      h('li', {}, 'Give it to the daemon, or try the protocol by hand:')),
    form, result, code);
}

export async function render(ctx, root) {
  ctx.setTitle('Connect a machine');
  const list = h('div', {});
  const load = async () => {
    const tokens = await api.get(`/api/workspaces/${ctx.ws.id}/daemon-tokens`);
    put(list, tokens.length
      ? h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Created'), h('th', {}, 'Last used'), h('th', {}, ''))),
        h('tbody', {}, tokens.map((t) => h('tr', {},
          h('td', {}, t.name), h('td', {}, ago(t.created_at)), h('td', {}, ago(t.last_used_at)),
          h('td', { class: 'actions' }, h('button', {
            type: 'button', class: 'small danger',
            onclick: async () => {
              if (!await confirmDialog('Revoke daemon token', `Revoke "${t.name}"? Daemons using it stop being accepted.`, 'Revoke', { danger: true })) return;
              try { await api.del(`/api/workspaces/${ctx.ws.id}/daemon-tokens/${t.id}`); load(); } catch (e) { toast(e.message, 'error'); }
            },
          }, 'Revoke'))))))
      : h('p', { class: 'muted' }, 'No daemon tokens yet.'));
  };
  const guide = connectGuide(ctx, { title: 'Create a daemon token' });
  guide.addEventListener('token-created', load);
  put(root, h('h1', {}, 'Connect a machine'), guide,
    h('section', { class: 'panel' }, h('h2', {}, ctx.isAdmin ? 'Daemon tokens of this workspace' : 'Your daemon tokens'), list));
  await load();
  root.dataset.ready = 'true';
  return {};
}
