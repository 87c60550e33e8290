import { api, ApiError } from './api.js';
import type { Flag } from './api-types.js';
import { append, button, el, field, input, select, table } from './elements.js';
import { PageRender } from './route.js';

/** Feature flags: each one's default, rollout and overrides; create one. Overrides are set on a tenant's page. */
export const flagsPage: PageRender = async (outlet) => {
  const status = el('p', { class: 'notice', attrs: { role: 'status', 'aria-live': 'polite' } });
  const list = el('div');
  const draw = async () => {
    const flags = (await api.get<{ items: Flag[] }>('/v1/admin/flags')).items;
    list.replaceChildren(
      table('Flags', ['Key', 'Description', 'Default', 'Rollout', 'Overrides', ''], flags.map((f) => [
        f.key,
        f.description,
        String(f.defaultValue),
        f.rolloutPercent === null ? '—' : `${f.rolloutPercent} %`,
        f.overrides.length,
        button('Delete', async () => {
          await api.delete(`/v1/admin/flags/${f.id}`);
          status.textContent = `Flag ${f.key} deleted.`;
          await draw();
        }, 'danger'),
      ])),
    );
  };
  const key = input('flag-key', '', { required: '', autocomplete: 'off', placeholder: 'exports.v2' });
  const description = input('flag-description', '');
  const defaultValue = select('flag-default', [['false', 'off'], ['true', 'on']]);
  const rollout = input('flag-rollout', '', { type: 'number', min: '0', max: '100' });
  const create = async () => {
    try {
      await api.post('/v1/admin/flags', {
        key: key.value.trim(),
        description: description.value,
        defaultValue: defaultValue.value === 'true',
        ...(rollout.value === '' ? {} : { rolloutPercent: Number(rollout.value) }),
      });
      status.textContent = `Flag ${key.value.trim()} created.`;
      key.value = '';
      description.value = '';
      await draw();
    } catch (error) {
      status.textContent = error instanceof ApiError ? `${error.code}: ${error.detail}` : (error as Error).message;
    }
  };
  append(
    outlet,
    el('h1', {}, 'Feature flags'),
    status,
    list,
    el(
      'form',
      { class: 'inline', attrs: { 'aria-label': 'Create a flag' }, on: { submit: (e) => { e.preventDefault(); void create(); } } },
      field('Key', key),
      field('Description', description),
      field('Default', defaultValue),
      field('Rollout %', rollout),
      el('button', { class: 'primary', attrs: { type: 'submit' } }, 'Create flag'),
    ),
  );
  await draw();
};
