/** A session's progress: one bar split by outcome, and its counts per phase. Shared by the list and the session page. */
import type { SessionCounts } from '../queries.js';

/** Nodes that are through the session, one way or another. */
export function settled(c: SessionCounts): number {
  return c.succeeded + c.failed + c.rolledBack + c.staged + c.superseded;
}

const SEGMENTS: { key: keyof SessionCounts; label: string }[] = [
  { key: 'succeeded', label: 'succeeded' },
  { key: 'staged', label: 'staged' },
  { key: 'rolledBack', label: 'rolled back' },
  { key: 'failed', label: 'failed' },
  { key: 'superseded', label: 'superseded' },
  { key: 'inProgress', label: 'in progress' },
];

export function ProgressBar({ counts }: { counts: SessionCounts }) {
  const total = Math.max(counts.total, 1);
  const done = settled(counts);
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={counts.total} aria-valuenow={done} aria-label={`${done} of ${counts.total} nodes settled`}>
      {SEGMENTS.map(({ key, label }) => counts[key] > 0 && (
        <span key={key} className={`seg seg-${key}`} style={{ width: `${(100 * counts[key]) / total}%` }} title={`${counts[key]} ${label}`} />
      ))}
    </div>
  );
}

const PHASES: { key: keyof SessionCounts; label: string }[] = [
  { key: 'total', label: 'Total' },
  { key: 'pending', label: 'Pending' },
  { key: 'waiting', label: 'Waiting' },
  { key: 'inProgress', label: 'In progress' },
  { key: 'succeeded', label: 'Succeeded' },
  { key: 'failed', label: 'Failed' },
  { key: 'rolledBack', label: 'Rolled back' },
  { key: 'staged', label: 'Staged' },
  { key: 'superseded', label: 'Superseded' },
];

export function PhaseCounts({ counts }: { counts: SessionCounts }) {
  return (
    <dl className="counts" data-testid="session-counts">
      {PHASES.map(({ key, label }) => (
        <div key={key} data-phase={key}><dt>{label}</dt><dd>{counts[key].toLocaleString('en')}</dd></div>
      ))}
    </dl>
  );
}
