/**
 * One node: identity, interfaces, the boot configuration it gets, its boot state and boot timeline
 * (what the site's agent served it, and its heartbeat), hardware, iSCSI sessions and power actions.
 * Read again every few seconds: a node being rebooted is watched here.
 */
import { useState } from 'react';
import { nodeDetail, requestPower, type BootTimelineEvent } from '../queries.js';
import { usePolled } from '../useQuery.js';
import { href } from '../router.js';
import { rememberPowerRequest } from './Power.js';

const POWER_ACTIONS = ['STATUS', 'ON', 'OFF', 'SOFT_OFF', 'RESET', 'CYCLE', 'PXE_ONCE'] as const;

function Field({ name, value }: { name: string; value: string | number | null | undefined }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{value === null || value === undefined || value === '' ? '—' : value}</dd>
    </>
  );
}

/** How often the page reads the node again. */
const NODE_REFRESH_MS = 3000;

/** Boot tokens are long; their head tells two boots apart on screen, the title holds the rest. */
const shortToken = (t: string | null) => (t ? `${t.slice(0, 12)}…` : '');

function Timeline({ events }: { events: BootTimelineEvent[] }) {
  if (events.length === 0) return <p>No boot seen yet: the site's agent records what it serves this node (DHCP, TFTP, script, kernel, initrd, rootfs, iSCSI login) and its heartbeat.</p>;
  const last = events[events.length - 1]!;
  return (
    <>
      <p data-testid="timeline-last">Last seen: <b>{last.stage}</b> at {last.at}</p>
      <table className="list" data-testid="node-timeline">
        <thead><tr><th>At</th><th>Stage</th><th>Detail</th><th>Boot token</th><th>Agent</th></tr></thead>
        <tbody>
          {events.map((e, n) => (
            <tr key={n} data-stage={e.stage}>
              <td>{e.at}</td><td>{e.stage}</td><td>{e.detail ?? ''}</td><td title={e.bootToken ?? ''}>{shortToken(e.bootToken)}</td><td>{e.agent ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Node({ xname, site }: { xname: string; site: string | null }) {
  const [reload, setReload] = useState(0);
  const loaded = usePolled(() => nodeDetail(xname, site), `${site ?? ''}/${xname}#${reload}`, NODE_REFRESH_MS, () => true);
  const [powerMessage, setPowerMessage] = useState<string | null>(null);
  if (loaded.status === 'loading') return <p>Loading {xname}…</p>;
  if (loaded.status === 'error') return <p className="error" role="alert">{loaded.error.message}</p>;
  const c = loaded.data.component;
  if (!c) return <p className="error" role="alert">No component {xname} in site {site ?? '(the default site)'}.</p>;
  const boot = loaded.data.bootConfigurationFor;
  const hw = c.hardware;
  const power = async (action: string) => {
    try {
      const [req] = await requestPower([c.xname], action, c.site);
      if (req) rememberPowerRequest(req.id);
      setPowerMessage(req ? `${action} requested: ${req.id} (${req.status})` : `${action}: no request returned`);
    } catch (err) {
      setPowerMessage((err as Error).message);
    }
  };
  return (
    <section className="node">
      <p><a href={href({ page: 'nodes', state: null, q: '' })}>Nodes</a> / {c.xname}</p>
      <h1 data-testid="node-xname">{c.xname}</h1>
      <div className="cards">
        <div className="card">
          <h2>Component</h2>
          <dl>
            <Field name="Type" value={c.type} />
            <Field name="State" value={c.state} />
            <Field name="Flag" value={c.flag} />
            <Field name="Enabled" value={c.enabled ? 'yes' : 'no'} />
            <Field name="Role" value={[c.role, c.subRole].filter(Boolean).join(' / ')} />
            <Field name="NID" value={c.nid} />
            <Field name="Arch" value={c.arch} />
            <Field name="Site" value={c.site} />
            <Field name="Groups" value={c.groups.join(', ')} />
            <Field name="Partition" value={c.partition} />
            <Field name="Updated" value={c.updatedAt} />
            <Field name="Version" value={c.version} />
          </dl>
          <button onClick={() => setReload((n) => n + 1)}>Refresh</button>
        </div>
        <div className="card">
          <h2>Interfaces</h2>
          <table>
            <thead><tr><th>MAC</th><th>IP</th><th>Network</th></tr></thead>
            <tbody>
              {c.interfaces.map((i) => (
                <tr key={i.mac}><td>{i.mac}</td><td>{i.ipAddresses.join(', ')}</td><td>{i.network}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="card" data-testid="node-boot">
          <h2>Boot</h2>
          {boot ? (
            <dl>
              <Field name="Matched" value={boot.matchedSelector} />
              <Field name="Image" value={boot.imageId} />
              <Field name="Kernel" value={boot.kernel} />
              <Field name="Initrd" value={boot.initrd} />
            </dl>
          ) : (
            <p>No boot configuration matches this node.</p>
          )}
          <h3>iSCSI sessions</h3>
          {c.iscsiSessions.length === 0 ? <p>None reported.</p> : (
            <ul>{c.iscsiSessions.map((s) => <li key={`${s.targetIqn}/${s.lun}`}>{s.targetIqn} LUN {s.lun} via {s.agent}, {s.reportedAt}</li>)}</ul>
          )}
        </div>
        <div className="card" data-testid="node-boot-state">
          <h2>Boot state</h2>
          <dl>
            <Field name="Desired" value={c.bootState.desired?.imageId} />
            <Field name="Staged" value={c.bootState.staged?.imageId ? `${c.bootState.staged.imageId} (session ${c.bootState.staged.sessionId ?? '?'})` : null} />
            <Field name="Actual" value={c.bootState.actual?.imageId} />
            <Field name="Booted" value={c.bootState.actual?.bootedAt} />
            <Field name="Workload hold" value={c.bootState.workloadHold ? 'held' : 'no'} />
          </dl>
        </div>
        <div className="card wide" data-testid="node-timeline-card">
          <h2>Boot timeline</h2>
          <Timeline events={c.bootTimeline} />
        </div>
        <div className="card" data-testid="node-hardware">
          <h2>Hardware</h2>
          {hw ? (
            <>
              <dl>
                <Field name="Manufacturer" value={hw.manufacturer} />
                <Field name="Model" value={hw.model} />
                <Field name="Serial" value={hw.serialNumber} />
                <Field name="Memory" value={`${hw.totalMemoryMiB.toLocaleString('en')} MiB`} />
                <Field name="Reported" value={hw.updatedAt} />
              </dl>
              <h3>Processors</h3>
              <ul>{hw.processors.map((p, n) => <li key={n}>{p.socket ?? `#${n}`}: {p.model ?? 'unknown'} ({p.cores ?? '?'} cores, {p.threads ?? '?'} threads)</li>)}</ul>
              <h3>NICs</h3>
              <ul>{hw.nics.map((nic, n) => <li key={n}>{nic.name ?? `#${n}`} {nic.model ?? ''} {nic.macAddresses.join(', ')}</li>)}</ul>
              {hw.firmware.length > 0 && (
                <>
                  <h3>Firmware</h3>
                  <ul>{hw.firmware.map((f) => <li key={f.name}>{f.name} {f.version}</li>)}</ul>
                </>
              )}
            </>
          ) : (
            <p>Never reported (Redfish discovery or setHardwareInventory fills it in).</p>
          )}
        </div>
        <div className="card">
          <h2>Power</h2>
          <div className="buttons">
            {POWER_ACTIONS.map((a) => <button key={a} onClick={() => void power(a)}>{a}</button>)}
          </div>
          {powerMessage && <p data-testid="power-message">{powerMessage} — <a href={href({ page: 'power' })}>power requests</a></p>}
        </div>
      </div>
    </section>
  );
}
