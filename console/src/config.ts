/** Where the API and the authorization server are: config.json beside index.html (the gateway answers it locally, the CDK app writes it in AWS). */
export interface ConsoleConfig {
  api: string;
  issuer: string;
  clientId: string;
  scope: string;
}

export class ConsoleConfigError extends Error {
  override name = 'ConsoleConfigError';
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const url = new URL('config.json', document.baseURI);
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new ConsoleConfigError(`${url.href} answered HTTP ${res.status}`);
  const c = (await res.json()) as Partial<ConsoleConfig>;
  for (const key of ['api', 'issuer', 'clientId'] as const) {
    if (typeof c[key] !== 'string' || !c[key]) throw new ConsoleConfigError(`${url.href}: "${key}" is missing`);
  }
  return { api: c.api!, issuer: c.issuer!, clientId: c.clientId!, scope: c.scope ?? 'openid profile' };
}
