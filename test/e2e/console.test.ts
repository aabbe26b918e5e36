/**
 * The web console in Debian's headless Chromium against the real gateway, the local
 * authorization server's own login pages, and 10,000 seeded nodes.
 */
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { launchChromium, loginThroughProvider, type HeadlessBrowser } from '../support/chromium.js';

// 10,000 by default; SKYBOOT_CONSOLE_TEST_NODES (a multiple of 4) runs it smaller on a loaded machine.
const NODES = Number(process.env.SKYBOOT_CONSOLE_TEST_NODES ?? 10_000);
const PER_STATE = NODES / 4;
const n = (x: number) => x.toLocaleString('en');
const BATCH = 1000;
const STATES = ['ON', 'OFF', 'READY', 'STANDBY'] as const;

const xnameOf = (i: number) => `x${1000 + Math.floor(i / 512)}c${Math.floor(i / 64) % 8}s${Math.floor(i / 2) % 32}b0n${i % 2}`;
const stateOf = (i: number) => STATES[i % STATES.length]!;
const macOf = (i: number) => `02:00:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

let gw: TestGateway;
let browser: HeadlessBrowser;
const password = () => gw.auth.users.find((u) => u.username === 'operator')!.password;

beforeAll(async () => {
  gw = await startTestGateway({ console: true, ownDynamoDb: true });
  // One batch at a time (concurrent batches contend for DynamoDB Local's table lock); the first
  // 100 nodes carry a NID and an interface, the rest are bare nodes with a state.
  const seedStart = Date.now();
  for (let s = 0; s < NODES; s += BATCH) {
    const input = Array.from({ length: Math.min(BATCH, NODES - s) }, (_, k) => {
      const i = s + k;
      const node = { xname: xnameOf(i), role: 'COMPUTE', arch: 'X86', state: stateOf(i) };
      return i < 100 ? { ...node, nid: i + 1, interfaces: [{ mac: macOf(i), ipAddresses: [`10.100.${i}.10`] }] } : node;
    });
    for (let attempt = 1; ; attempt++) {
      const r = await gw.gql<{ upsertComponents: { created: number; failed: number; errors: { path: string; message: string }[] } }>(
        'mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created failed errors { path message } } }',
        { input },
      );
      // DynamoDB Local (not DynamoDB) times out waiting for its own lock on a loaded machine; the
      // upsert is idempotent, so the batch is sent again as any client would.
      if (attempt < 4 && r.errors?.every((e) => e.message.includes('waiting for a lock'))) continue;
      if (r.errors || r.data?.upsertComponents.failed) throw new Error(`seeding nodes ${s}..: ${JSON.stringify(r.errors ?? r.data?.upsertComponents.errors.slice(0, 3))}`);
      break;
    }
  }
  process.stderr.write(`seeded ${NODES} nodes in ${Date.now() - seedStart} ms\n`);
  await gw.gql('mutation($x: XName!, $inv: HardwareInventoryInput!) { setHardwareInventory(xname: $x, inventory: $inv) { version } }', {
    x: xnameOf(7),
    inv: { manufacturer: 'Skyboot Test', model: 'SB-2', serialNumber: 'SN0007', processors: [{ socket: 'CPU0', model: 'Test CPU 9000', cores: 32, threads: 64 }], memory: [{ slot: 'DIMM0', capacityMiB: 65536 }] },
  });
  browser = await launchChromium();
}, 1_500_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

test('a person logs in through the authorization server\'s own login page (code + PKCE) and the overview counts every node by state', async () => {
  const { page, step } = browser;
  await step('console-login', async () => {
    await page.goto(`${gw.url}/console/`);
    // Without a token the console sends the browser to the provider's login page.
    await page.waitForURL((u) => u.origin === gw.auth.issuer, { timeout: 30_000 });
    await loginThroughProvider(page, 'operator', password());
    await page.waitForURL(`${gw.url}/console/**`);
    // The code is exchanged from the page, which then drops ?code=&state= from its address.
    await page.waitForSelector('[data-testid="node-total"]', { timeout: 30_000 });
    expect(new URL(page.url()).search).toBe('');
    const stored = await page.evaluate<string | null>("sessionStorage.getItem('skyboot.token')");
    expect(stored).toMatch(/^ey/);
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);
  });
  await step('console-overview', async () => {
    await page.waitForSelector('[data-testid="node-total"][data-done="true"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="node-total"]')).toBe(`${NODES.toLocaleString('en')} nodes`);
    const byState = await page.$$eval('[data-testid="nodes-by-state"] tr', (rows) => rows.map((r) => r.textContent));
    expect(byState).toEqual(['OFF', 'ON', 'STANDBY', 'READY'].map((st) => `${st}${n(PER_STATE)}`));
  });
}, 120_000);

test('the node table filtered to a state lists exactly that state\'s nodes (a quarter of them), renders only the rows on screen, and searches', async () => {
  const { page, step } = browser;
  await step('console-nodes-filter', async () => {
    await page.goto(`${gw.url}/console/#/nodes`);
    await page.selectOption('select[aria-label="State"]', 'STANDBY');
    await page.waitForSelector('[data-testid="node-count"][data-loading="false"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="node-count"]')).toBe(`${n(PER_STATE)} of ${n(PER_STATE)} nodes`);
    expect(page.url()).toContain('#/nodes?state=STANDBY');
    const rendered = await page.$$eval('[data-testid="node-rows"] [role="row"]', (rows) => rows.map((r) => r.querySelector('.state')?.textContent));
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(100);
    expect(new Set(rendered)).toEqual(new Set(['STANDBY']));
    // Scrolling to the end brings the last node into view (the table holds every one of them).
    await page.$eval('[data-testid="node-rows"]', (el) => el.scrollTo(0, el.scrollHeight));
    const lastStandby = [...Array(NODES).keys()].filter((i) => stateOf(i) === 'STANDBY').pop()!;
    await page.waitForSelector(`[data-xname="${xnameOf(lastStandby)}"]`);
  });
  await step('console-nodes-search', async () => {
    await page.fill('input[aria-label="Search"]', macOf(7));
    await page.waitForFunction(`document.querySelector('[data-testid="node-count"]')?.textContent === '1 of ${n(PER_STATE)} nodes'`);
    expect(await page.$$eval('[data-testid="node-rows"] [role="row"]', (rows) => rows.map((r) => r.getAttribute('data-xname')))).toEqual([xnameOf(7)]);
  });
}, 120_000);

test('a node\'s page shows its interfaces and the hardware discovery reported', async () => {
  const { page, step } = browser;
  await step('console-node-page', async () => {
    // Links name the node's site too: an xname is unique within a site only.
    await page.click(`a[href^="#/nodes/${xnameOf(7)}?site="]`);
    await page.waitForSelector('[data-testid="node-xname"]');
    expect(await page.textContent('[data-testid="node-xname"]')).toBe(xnameOf(7));
    const hw = await page.textContent('[data-testid="node-hardware"]');
    expect(hw).toContain('SB-2');
    expect(hw).toContain('Test CPU 9000 (32 cores, 64 threads)');
    expect(await page.textContent('.node')).toContain(macOf(7));
  });
}, 60_000);

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the GraphQL IDE takes the console login\'s token from the tab, keeps it out of sight, and fetches the schema only with a token', async () => {
  const { page, context, step } = browser;
  const introspections = (p: typeof page) => {
    const seen: (string | null)[] = [];
    p.on('request', (req) => {
      if (req.url().endsWith('/graphql') && req.method() === 'POST' && (req.postData() ?? '').includes('__schema')) seen.push(req.headers().authorization ?? null);
    });
    return seen;
  };
  const token = await page.evaluate<string | null>("sessionStorage.getItem('skyboot.token')");
  await step('ide-token-from-login', async () => {
    const seen = introspections(page);
    await page.goto(`${gw.url}/graphql`, { waitUntil: 'load', referer: `${gw.url}/console/` });
    expect(await page.getAttribute('#token', 'type')).toBe('password');
    expect(await page.inputValue('#token')).toBe(token);
    await until('the IDE to fetch the schema', () => seen.length > 0);
    expect(seen.every((a) => a === `Bearer ${token}`)).toBe(true);
  });
  // Another tab has no login: nothing is fetched until a token is entered, then the schema is.
  const fresh = await context.newPage();
  try {
    await step('ide-token-pasted', async () => {
      const seen = introspections(fresh);
      await fresh.goto(`${gw.url}/graphql`, { waitUntil: 'load' });
      await fresh.waitForTimeout(1000);
      expect(seen).toEqual([]);
      await fresh.fill('#token', token!);
      await until('the IDE to fetch the schema with the pasted token', () => seen.length > 0);
      expect(seen[0]).toBe(`Bearer ${token}`);
      expect(await fresh.textContent('#token-state')).toBe(`token set (${token!.length} characters)`);
      expect(await fresh.content()).not.toContain(token!);
    });
  } finally {
    await fresh.close();
  }
}, 60_000);
