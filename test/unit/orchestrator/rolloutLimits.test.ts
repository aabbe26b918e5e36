/**
 * The rollout operator's own gates: the failure limit counts this agent's failures the cloud has
 * not recorded yet, and the claim token a repeated claim is answered under survives a restart.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureLimitReached } from '../../../onprem-agent/orchestrator/rollout/operator.js';
import { RolloutJournal } from '../../../onprem-agent/orchestrator/rollout/rolloutJournal.js';

describe('rollout operator: failure limit and claim token', () => {
  it('stops starting nodes once the cloud count plus unreported failures reach maxFailures, never without maxFailures', () => {
    expect(failureLimitReached({ failuresLeft: null }, 50)).toBe(false);
    expect(failureLimitReached({ failuresLeft: 2 }, 0)).toBe(false);
    expect(failureLimitReached({ failuresLeft: 2 }, 1)).toBe(false);
    expect(failureLimitReached({ failuresLeft: 2 }, 2)).toBe(true);
    expect(failureLimitReached({ failuresLeft: 0 }, 0)).toBe(true);
  });

  it('keeps one claim token per data dir, private, not listed as a journal entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-rollout-token-'));
    try {
      const first = await new RolloutJournal(dir).init();
      const token = await first.claimToken();
      expect(token).toMatch(/^[0-9a-f-]{36}$/);
      expect(await first.claimToken()).toBe(token);
      // A restarted agent on the same data dir: the same token, so its held claims are answered again.
      expect(await (await new RolloutJournal(dir).init()).claimToken()).toBe(token);
      expect(statSync(join(first.dir, 'claim-token')).mode & 0o777).toBe(0o600);
      expect(await first.list()).toEqual([]);
      // Another data dir is another agent instance.
      const other = mkdtempSync(join(tmpdir(), 'skyboot-rollout-token-'));
      try {
        expect(await (await new RolloutJournal(other).init()).claimToken()).not.toBe(token);
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
