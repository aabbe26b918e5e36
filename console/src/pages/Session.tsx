/**
 * One boot session, live: status, rolling policy, a progress bar and counts per phase, the error
 * summary, every node's record (phase, attempts, images, when it went out and came back, the step
 * that failed), and pause / resume / cancel. Read again every two seconds until it ends.
 */
import { useState } from 'react';
import { controlSession, sessionDetail, LIVE_STATUSES, type SessionControl, type SessionRow } from '../queries.js';
import { usePolled } from '../useQuery.js';
import { href } from '../router.js';
import { PhaseCounts, ProgressBar } from './sessionProgress.js';
import { SESSION_REFRESH_MS } from './Sessions.js';

/** What each status allows (the API refuses the rest, naming the status). */
const CONTROLS: Record<string, SessionControl[]> = {
  PENDING: ['cancel'],
  RUNNING: ['pause', 'cancel'],
  PAUSED: ['resume', 'cancel'],
};

function Policy({ s }: { s: SessionRow }) {
  const rows: [string, string][] = [
    ['Site', s.site],
    ['Template', `${s.template} v${s.templateVersion}`],
    ['Operation', s.operation + (s.stage ? ' (stage only)' : '')],
    ['Limit', s.limit ?? 'all the template\'s nodes'],
    ['Max concurrent', String(s.maxConcurrent)],
    ['Canary', String(s.canary)],
    ['Max failures', s.maxFailures === null ? 'none' : String(s.maxFailures)],
    ['Boot timeout', `${s.bootTimeoutSeconds} s`],
    ['Rollback', s.rollback ? 'yes' : 'no'],
    ['Respect workload', s.respectWorkload ? 'yes' : 'no'],
    ['Created', `${s.createdAt} by ${s.createdBy}`],
    ['Ended', s.endedAt ?? '—'],
  ];
  return <dl>{rows.map(([k, v]) => <div key={k} style={{ display: 'contents' }}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>;
}

export function Session({ id }: { id: string }) {
  const [reload, setReload] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const loaded = usePolled(() => sessionDetail(id), `${id}#${reload}`, SESSION_REFRESH_MS, (d) => !!d && LIVE_STATUSES.includes(d.session.status));
  if (loaded.status === 'loading') return <p>Loading session {id}…</p>;
  if (loaded.status === 'error') return <p className="error" role="alert">{loaded.error.message}</p>;
  if (!loaded.data) return <p className="error" role="alert">No boot session {id}.</p>;
  const { session: s, nodes, errors } = loaded.data;
  const control = async (c: SessionControl) => {
    try {
      const after = await controlSession(s.id, c);
      setMessage(`${c}: the session is ${after.status}`);
    } catch (err) {
      setMessage((err as Error).message);
    }
    setReload((n) => n + 1);
  };
  return (
    <section className="session">
      <p><a href={href({ page: 'sessions' })}>Boot sessions</a> / {s.id}</p>
      <h1>Session {s.id} <span className={`status status-${s.status}`} data-testid="session-status">{s.status}</span></h1>
      {s.statusReason && <p data-testid="session-reason">{s.statusReason}</p>}
      <ProgressBar counts={s.counts} />
      <PhaseCounts counts={s.counts} />
      <div className="buttons">
        {(CONTROLS[s.status] ?? []).map((c) => <button key={c} onClick={() => void control(c)}>{c}</button>)}
      </div>
      {message && <p data-testid="session-message">{message}</p>}
      <div className="cards">
        <div className="card"><h2>Policy</h2><Policy s={s} /></div>
        <div className="card">
          <h2>Errors</h2>
          {errors.length === 0 ? <p>None.</p> : (
            <ul data-testid="session-errors">{errors.map((e) => <li key={`${e.step}/${e.message}`}><b>{e.step}</b>: {e.message} ({e.count}: {e.xnames.slice(0, 8).join(', ')}{e.xnames.length > 8 ? ', …' : ''})</li>)}</ul>
          )}
        </div>
      </div>
      <h2>Nodes</h2>
      <table className="list" data-testid="session-nodes">
        <thead><tr><th>Node</th><th>Phase</th><th>Canary</th><th>Attempts</th><th>From image</th><th>To image</th><th>Out of service</th><th>Back</th><th>Agent</th><th>Error</th></tr></thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.xname} data-xname={n.xname} data-phase={n.phase}>
              <td><a href={href({ page: 'node', xname: n.xname, site: s.site })}>{n.xname}</a></td>
              <td><span className={`phase phase-${n.phase}`}>{n.phase}</span>{n.supersededBy ? ` by ${n.supersededBy}` : ''}</td>
              <td>{n.canary ? 'yes' : ''}</td>
              <td className="num">{n.attempts}</td>
              <td>{n.previousImageId ?? ''}</td>
              <td>{n.targetImageId ?? ''}</td>
              <td>{n.startedAt ?? ''}</td>
              <td>{n.endedAt ?? ''}</td>
              <td>{n.claimedBy ?? ''}</td>
              <td>{n.error ? `${n.error.step}: ${n.error.message}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
