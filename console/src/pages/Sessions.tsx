/**
 * Boot sessions of every site the person may see, newest first, with their progress: read again
 * every two seconds while any of them is still moving.
 */
import { recentSessions, LIVE_STATUSES, SESSIONS_PER_SITE, type SessionRow } from '../queries.js';
import { usePolled } from '../useQuery.js';
import { href } from '../router.js';
import { ProgressBar, settled } from './sessionProgress.js';

export const SESSION_REFRESH_MS = 2000;

const anyLive = (rows: SessionRow[]) => rows.some((s) => LIVE_STATUSES.includes(s.status));

export function Sessions() {
  const loaded = usePolled(recentSessions, 'sessions', SESSION_REFRESH_MS, anyLive);
  if (loaded.status === 'loading') return <p>Loading boot sessions…</p>;
  if (loaded.status === 'error') return <p className="error" role="alert">{loaded.error.message}</p>;
  const rows = loaded.data;
  return (
    <section className="sessions">
      <h1>Boot sessions</h1>
      <p>The newest {SESSIONS_PER_SITE} of each site. Create them with <code>skyboot session create</code> (docs/orchestration.md).</p>
      {rows.length === 0 ? <p>No boot sessions yet.</p> : (
        <table className="list" data-testid="sessions">
          <thead><tr><th>Session</th><th>Site</th><th>Template</th><th>Operation</th><th>Status</th><th>Progress</th><th>Nodes</th><th>Created</th><th>By</th></tr></thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.id} data-session={s.id} data-status={s.status}>
                <td><a href={href({ page: 'session', id: s.id })}>{s.id}</a></td>
                <td>{s.site}</td>
                <td>{s.template} v{s.templateVersion}</td>
                <td>{s.operation}{s.stage ? ' (stage)' : ''}</td>
                <td><span className={`status status-${s.status}`}>{s.status}</span></td>
                <td className="progress-cell"><ProgressBar counts={s.counts} /></td>
                <td className="num">{settled(s.counts)} / {s.counts.total}</td>
                <td>{s.createdAt}</td>
                <td>{s.createdBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
