/** The console's login settings, as `/console/settings.json` serves them (from the API's configuration). */
export interface ConsoleSettings {
  devLogin: boolean;
  oidc: { issuer: string; clientId: string; scope: string } | null;
  operatorScope: string;
}

export async function loadSettings(): Promise<ConsoleSettings> {
  const response = await fetch('/console/settings.json', { credentials: 'omit', cache: 'no-store' });
  if (!response.ok) throw new Error(`console settings: ${response.status}`);
  return (await response.json()) as ConsoleSettings;
}
