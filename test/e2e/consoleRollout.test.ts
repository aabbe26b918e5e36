/**
 * The web console watching a real rollout, in Debian's headless Chromium: a simulated site of
 * 6 nodes (each its own BMC and simulated OS, rollingSite.ts) with a real agent, a REBOOT session
 * rolled by the agent, and a person logged in through the authorization server's own login page.
 * The session page follows the rollout live (no reload) to COMPLETE, pause and resume go through
 * its buttons, and a node's page shows the boot timeline the agent reported: what it served the
 * node and the node's heartbeat, as the API has them.
 */
import { launchChromium, loginThroughProvider, type HeadlessBrowser } from '../support/chromium.js';
import { startRollingSite, until, type RollingSite } from '../integration/orchestration/rollingSite.js';

const COUNT = 6;
const SITE = 'console-lab';

interface TimelineEvent { stage: string; bootToken: string | null }

let site: RollingSite;
let browser: HeadlessBrowser;

const counts = async (page: HeadlessBrowser['page']): Promise<Record<string, number>> =>
  page.$$eval('[data-testid="session-counts"] [data-phase]', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-phase'), Number(e.querySelector('dd')?.textContent?.replace(/,/g, ''))])));

beforeAll(async () => {
  process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL = '0.5';
  // Long enough a boot that the page is read several times while nodes are out.
  site = await startRollingSite({ site: SITE, count: COUNT, bootDelayMs: 2500, console: true });
  await site.putTemplate('to-b', site.imageB, 'console=ttyS0');
  await site.putTemplate('to-a', site.imageA, 'console=ttyS0');
  browser = await launchChromium();
  const { page, step } = browser;
  await step('console-rollout-login', async () => {
    const gw = site.cloud.gw;
    await page.goto(`${gw.url}/console/`);
    await page.waitForURL((u) => u.origin === gw.auth.issuer, { timeout: 30_000 });
    await loginThroughProvider(page, 'operator', gw.auth.users.find((u) => u.username === 'operator')!.password);
    await page.waitForSelector('[data-testid="node-total"]', { timeout: 30_000 });
  });
}, 180_000);

afterAll(async () => {
  delete process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL;
  await browser?.close();
  await site?.close();
});

test('a session\'s page follows the rollout live to COMPLETE, showing every node record as the API has it', async () => {
  const { page, step } = browser;
  const s = await site.createSession({ template: 'to-b', operation: 'REBOOT', maxConcurrent: 2, bootTimeoutSeconds: 30 });
  await step('console-session-live', async () => {
    await page.goto(`${site.cloud.gw.url}/console/#/sessions/${s.id}`);
    await page.waitForSelector('[data-testid="session-status"]');
    // Sampled from the page as it re-reads itself: the succeeded count climbs while nodes are out.
    const seen = new Set<number>();
    let status = '';
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      status = (await page.textContent('[data-testid="session-status"]')) ?? '';
      seen.add((await counts(page)).succeeded!);
      if (status === 'COMPLETE') break;
      await page.waitForTimeout(250);
    }
    expect(status).toBe('COMPLETE');
    // Live: at least one value between none and all was on screen without a reload.
    expect([...seen].some((v) => v > 0 && v < COUNT)).toBe(true);
    const final = await site.session(s.id);
    expect(await counts(page)).toEqual(final.counts);
    expect(final.counts).toMatchObject({ total: COUNT, succeeded: COUNT });
    const rows = await page.$$eval('[data-testid="session-nodes"] tbody tr', (trs) => trs.map((tr) => ({ xname: tr.getAttribute('data-xname'), phase: tr.getAttribute('data-phase'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })));
    const records = await site.sessionNodes(s.id);
    expect(rows.map((r) => [r.xname, r.phase]).sort()).toEqual(records.map((r) => [r.xname, r.phase]).sort());
    for (const r of records) {
      const row = rows.find((x) => x.xname === r.xname)!;
      // From image, to image, out of service, back: the record's own values.
      expect(row.cells.slice(4, 8)).toEqual([r.previousImageId, r.targetImageId, r.startedAt, r.endedAt]);
    }
  });
  await step('console-sessions-list', async () => {
    await page.click('a[href="#/sessions"]');
    const row = await page.waitForSelector(`[data-testid="sessions"] tr[data-session="${s.id}"]`);
    expect(await row.getAttribute('data-status')).toBe('COMPLETE');
    expect(await row.textContent()).toContain(`${COUNT} / ${COUNT}`);
    expect(await row.textContent()).toContain(SITE);
  });
}, 180_000);

test('pause and resume from the session page change the session in the API, and it completes', async () => {
  const { page, step } = browser;
  const s = await site.createSession({ template: 'to-a', operation: 'REBOOT', maxConcurrent: 1, bootTimeoutSeconds: 30 });
  await step('console-session-pause', async () => {
    await page.goto(`${site.cloud.gw.url}/console/#/sessions/${s.id}`);
    await page.click('button:text-is("pause")');
    await page.waitForSelector('[data-testid="session-status"]:text-is("PAUSED")');
    expect((await site.session(s.id)).status).toBe('PAUSED');
    expect(await page.textContent('[data-testid="session-message"]')).toBe('pause: the session is PAUSED');
    await page.click('button:text-is("resume")');
    await page.waitForSelector('[data-testid="session-status"]:text-is("RUNNING")');
    await page.waitForSelector('[data-testid="session-status"]:text-is("COMPLETE")', { timeout: 120_000 });
    expect((await site.session(s.id)).counts).toMatchObject({ total: COUNT, succeeded: COUNT });
  });
}, 180_000);

test('a node\'s page shows the boot timeline the agent reported for its last boot, and its boot state', async () => {
  const { page, step } = browser;
  const node = site.nodes[0]!;
  const timeline = async () => (await site.op<{ component: { bootTimeline: TimelineEvent[] } }>(
    'query($x: XName!, $s: String) { component(xname: $x, site: $s) { bootTimeline(last: 100) { stage bootToken } } }', { x: node.xname, s: SITE },
  )).component.bootTimeline;
  // The agent's reporter batches and its outbox delivers: wait until the API has every event the
  // agent recorded for the node (its own record of what it served), ending with the last heartbeat.
  const recorded = () => site.agent.timeline.events(node.xname).map((e) => e.stage.toUpperCase().replace('.', '_'));
  const events = await until('the agent\'s timeline of the node in Component.bootTimeline', async () => {
    const ev = await timeline();
    const stages = ev.map((e) => e.stage);
    return stages.at(-1) === 'HEARTBEAT' && JSON.stringify(stages) === JSON.stringify(recorded()) ? ev : null;
  }, 30_000);
  await step('console-node-timeline', async () => {
    await page.click('a[href="#/sessions"]');
    await page.click(`a[href^="#/sessions/"]`);
    await page.click(`[data-testid="session-nodes"] a[href="#/nodes/${node.xname}?site=${SITE}"]`);
    await page.waitForSelector('[data-testid="node-timeline"]');
    expect(await page.textContent('[data-testid="node-xname"]')).toBe(node.xname);
    const stages = await page.$$eval('[data-testid="node-timeline"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-stage')));
    // The page shows the API's events, oldest first.
    expect(stages).toEqual(events.map((e) => e.stage));
    expect(stages.slice(-4)).toEqual(['HTTP_SCRIPT', 'HTTP_KERNEL', 'HTTP_INITRD', 'HEARTBEAT']);
    expect(await page.textContent('[data-testid="timeline-last"]')).toContain('HEARTBEAT');
    // The last session (to-a) put it back on image A, and it validated there.
    const state = await page.textContent('[data-testid="node-boot-state"]');
    expect(state).toContain(`Desired${site.imageA}`);
    expect(state).toContain(`Actual${site.imageA}`);
  });
}, 120_000);
