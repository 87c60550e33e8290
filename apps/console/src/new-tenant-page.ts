import { api, ApiError } from './api.js';
import { MODELS, TIERS } from './api-types.js';
import { el, field, input, select } from './elements.js';
import { go, PageRender } from './route.js';

/** Starts the onboarding saga (`POST /v1/admin/onboardings`) and follows it on the tenant's page. */
export const newTenantPage: PageRender = async (outlet) => {
  const slug = input('slug', '', { required: '', pattern: '[a-z][a-z0-9\\-]{2,39}', autocomplete: 'off' });
  const name = input('name', '', { required: '', maxlength: '200', autocomplete: 'off' });
  const tier = select('tier', TIERS.map((t): [string, string] => [t, t]), 'free');
  const isolation = select('isolation', [['', "the tier's model"], ...MODELS.map((m): [string, string] => [m, m])]);
  const region = input('region', '', { placeholder: "this deployment's region" });
  const status = el('p', { class: 'error', attrs: { role: 'alert' } });
  const submit = async () => {
    status.textContent = '';
    try {
      const body: Record<string, string> = { slug: slug.value.trim(), name: name.value, tier: tier.value };
      if (isolation.value) body.isolation = isolation.value;
      if (region.value.trim()) body.region = region.value.trim();
      const accepted = await api.post<{ tenantId: string }>('/v1/admin/onboardings', body);
      go(`/tenants/${accepted.tenantId}`);
    } catch (error) {
      status.textContent = error instanceof ApiError ? `${error.code}: ${error.detail}` : (error as Error).message;
    }
  };
  outlet.append(
    el('h1', {}, 'Create a tenant'),
    el('p', {}, 'Runs the onboarding saga: storage, migrations, seeding, host name. Its steps show on the tenant’s page as they finish.'),
    el(
      'form',
      { class: 'stack', on: { submit: (event) => { event.preventDefault(); void submit(); } } },
      field('Slug', slug),
      field('Name', name),
      field('Tier', tier),
      field('Isolation model', isolation),
      field('Region', region),
      status,
      el('button', { class: 'primary', attrs: { type: 'submit' } }, 'Create tenant'),
    ),
  );
};
