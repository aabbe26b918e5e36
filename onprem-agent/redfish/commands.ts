/**
 * CLI: `simulate-bmcs`, `discover`, `power`, `boot-pxe`. Human output and machine output
 * (`--json`) go to stdout; progress and notes to stderr.
 */
import { readFile } from 'node:fs/promises';
import { Argument, Option, type Command } from 'commander';
import { knownValues } from '../../schema/cli/commandTree.js';
import { BadUserInputError, SkybootError } from '../../schema/errors.js';
import type { ObservationSink } from '../outbox/sink.js';
import { CredentialResolver, ENV_PASSWORD, ENV_USERNAME, importCredentialsFile, loadStoredCredentials, parseCredentials, storeEnvironmentCredentials } from './credentials.js';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, discover, type DiscoveryProgress } from './discover.js';
import { loadXNameMap, normaliseXNameMap } from './identity.js';
import { PinStore, type UnknownCertificatePolicy } from './pins.js';
import { POWER_ACTIONS, powerAction, type PowerActionName, type PowerResult } from './power.js';
import { DiscoveryFileSink, loadLastReport, reportIdempotencyKey, updateDiscoveryMap } from './report-store.js';
import { DATA_DIR_HELP, loadDataDir } from '../config.js';
import type { BusyBursts } from './simulator/fleet.js';
import { VENDOR_NAMES } from './simulator/vendors.js';
import { parseTargets } from './targets.js';
import type { TlsPolicy } from './transport.js';
import { REPORT_DISCOVERY_KIND, toDiscoveryReportInput } from './cloud-input.js';
import type { DiscoveryReport, InventoryEndpointMap } from './types.js';

export interface RedfishCommandDeps {
  /** The durable outbox; until it is wired in, reports are written to the data dir. */
  sink?: ObservationSink;
  /** The agent's outbox in this data dir (with a line saying where the report went), or null. */
  sinkFor?: (dataDir: string) => Promise<(ObservationSink & { note(): string }) | null>;
  /** Redfish endpoints the cloud inventory already knows (from the site snapshot). */
  inventoryEndpoints?: (dataDir: string) => Promise<InventoryEndpointMap>;
}

function positiveInt(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new BadUserInputError(field, `"${v}" is not a positive integer`);
    return n;
  };
}

function nonNegativeInt(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new BadUserInputError(field, `"${v}" is not a non-negative integer`);
    return n;
  };
}

function seconds(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new BadUserInputError(field, `"${v}" is not a positive number of seconds`);
    return Math.round(n * 1000);
  };
}

/** A duration given in seconds and held in ms; the help shows the default in seconds too (commander would print the ms). */
function secondsOption(flags: string, description: string, field: string, defaultMs: number): Option {
  return new Option(flags, description).argParser(seconds(field)).default(defaultMs, String(defaultMs / 1000));
}

function probability(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new BadUserInputError(field, `"${v}" is not a probability from 0 to 1`);
    return n;
  };
}

function agentUrl(v: string): string {
  if (!/^https?:\/\/[^\s/]+(\/.*)?$/.test(v)) throw new BadUserInputError('boot-from', `"${v}" is not the agent's HTTP URL, e.g. http://127.0.0.1:8080`);
  return v;
}

function busyBursts(v: string): BusyBursts {
  const m = /^(\d+)\/(\d+)\/(\d+)$/.exec(v);
  const [every, length, retryAfterSeconds] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  if (!m || every < 1 || length >= every) throw new BadUserInputError('busy', `"${v}" is not EVERY/LENGTH/SECONDS with LENGTH < EVERY, e.g. 20/3/1`);
  return { every, length, retryAfterSeconds };
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** Runs a command body, turning errors into a message on stderr and a non-zero exit code. */
async function guarded(fn: () => Promise<number | void>): Promise<void> {
  try {
    const code = await fn();
    if (typeof code === 'number') process.exitCode = code;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = err instanceof SkybootError && err.code === 'BAD_USER_INPUT' ? 2 : 1;
  }
}

interface TlsFlags {
  insecure?: boolean;
  ca?: string;
  trustOnFirstUse?: boolean;
}

/** `onUnknown`: what an unpinned certificate gets when neither --insecure nor --ca is given. */
async function tlsPolicy(flags: TlsFlags, dataDir: string, onUnknown: UnknownCertificatePolicy): Promise<{ policy: TlsPolicy; pins: PinStore | null }> {
  if (flags.insecure && flags.ca) throw new BadUserInputError('insecure', '--insecure and --ca exclude each other');
  if (flags.trustOnFirstUse && (flags.insecure || flags.ca)) throw new BadUserInputError('trust-on-first-use', '--trust-on-first-use pins certificates; it excludes --insecure and --ca');
  if (flags.insecure) return { policy: { mode: 'insecure' }, pins: null };
  if (flags.ca) {
    try {
      return { policy: { mode: 'ca', ca: await readFile(flags.ca, 'utf8') }, pins: null };
    } catch (err) {
      throw new BadUserInputError('ca', `cannot read ${flags.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const pins = await PinStore.load(dataDir, flags.trustOnFirstUse ? 'pin' : onUnknown);
  return { policy: { mode: 'pin', pins }, pins };
}

function progressPrinter(): ((p: DiscoveryProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.done !== p.total) return;
    last = now;
    process.stderr.write(`\rdiscovery: ${p.done}/${p.total} addresses, ${p.found} BMCs, ${p.unreachable} unreachable${p.done === p.total ? '\n' : ''}`);
  };
}

function summary(r: DiscoveryReport): string {
  const lines = [
    `${r.redfishEndpoints.length} BMCs, ${r.hardware.length} nodes, ${r.interfaces.length} MACs, ${r.unreachable.length} unreachable `
      + `(${r.stats.requests} requests in ${(r.stats.durationMs / 1000).toFixed(1)}s)`,
  ];
  for (const e of r.redfishEndpoints) {
    lines.push(`  ${e.xname}  ${e.scheme}://${e.host}:${e.port}  ${e.vendor ?? '?'}  fw ${e.managers.map((m) => m.firmwareVersion ?? '?').join(',')}  nodes ${e.systems.map((s) => s.xname).join(' ')}`);
  }
  for (const u of r.unreachable) lines.push(u.stage === 'untrusted' ? `  untrusted ${u.host}:${u.port}: ${u.reason}` : `  unreachable ${u.host}:${u.port} (${u.stage}): ${u.reason}`);
  if (r.changes) {
    const c = r.changes;
    lines.push(`changes: ${c.added.length} added, ${c.removed.length} removed, ${c.modified.length} modified, ${c.macsAdded.length} MACs added, ${c.macsRemoved.length} MACs removed`);
  }
  return lines.join('\n') + '\n';
}

function printPowerResults(results: PowerResult[], json: boolean): number {
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else {
    for (const r of results) {
      process.stdout.write(r.ok ? `${r.xname}: ok, ${r.detail}${r.powerState ? ` (PowerState ${r.powerState})` : ''}\n` : `${r.xname}: FAILED: ${r.error}\n`);
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

export function registerRedfishCommands(program: Command, deps: RedfishCommandDeps = {}): void {
  program
    .command('simulate-bmcs')
    .description('serve simulated Redfish BMCs on 127.0.0.1 until interrupted')
    .option('--count <n>', 'number of BMCs', positiveInt('count'), 4)
    .option('--vendors <list>', `vendor profiles, round-robin (${VENDOR_NAMES.join(',')})`, collect)
    .option('--latency-ms <ms>', 'milliseconds added to every response', nonNegativeInt('latency-ms'), 0)
    .option('--port-base <port>', 'BMC i listens on port-base + i (0: ephemeral ports)', nonNegativeInt('port-base'), 0)
    .option('--seed <seed>', 'seed for MACs, serials and UUIDs', 'skyboot')
    .option('--tls', 'serve HTTPS with a self-signed certificate (needs the openssl command)')
    .option('--busy <every/length/seconds>', 'of every EVERY requests to a BMC, the last LENGTH answer 503 with Retry-After SECONDS', busyBursts)
    .option('--username <name>', 'BMC account name', 'root')
    .option('--password-env <var>', 'environment variable holding the BMC password (default: the simulator default)')
    .option('--boot-from <url>', 'give each system a simulated OS that boots from this agent HTTP URL after each power-on and heartbeats', agentUrl)
    .addOption(secondsOption('--boot-delay <seconds>', 'with --boot-from: seconds from kernel fetch to the first heartbeat (kernel parameter sim.bootDelay overrides)', 'boot-delay', 1000))
    .addOption(secondsOption('--heartbeat-interval <seconds>', 'with --boot-from: seconds between heartbeats while powered on', 'heartbeat-interval', 30_000))
    .option('--fail-rate <p>', 'with --boot-from: probability that a boot fails (never heartbeats), drawn from --seed', probability('fail-rate'), 0)
    .option('--json', 'print the BMC list as JSON on stdout')
    .action((o: { count: number; vendors?: string[]; latencyMs: number; portBase: number; seed: string; tls?: boolean; busy?: BusyBursts; username: string; passwordEnv?: string; json?: boolean; bootFrom?: string; bootDelay: number; heartbeatInterval: number; failRate: number }) => guarded(async () => {
      // Only this command runs the simulator: loaded when it does, so others start without it.
      const { startSimulatedFleet } = await import('./simulator/fleet.js');
      const fleet = await startSimulatedFleet({
        count: o.count, vendors: o.vendors, latencyMs: o.latencyMs, portBase: o.portBase, seed: o.seed, tls: o.tls === true, busy: o.busy,
        username: o.username, ...(o.passwordEnv ? { password: process.env[o.passwordEnv] ?? '' } : {}),
        ...(o.bootFrom ? { os: { bootFrom: o.bootFrom, bootDelayMs: o.bootDelay, heartbeatIntervalMs: o.heartbeatInterval, failRate: o.failRate, seed: o.seed } } : {}),
      });
      if (o.json) process.stdout.write(JSON.stringify({ bmcs: fleet.bmcs, username: fleet.username }, null, 2) + '\n');
      else {
        for (const b of fleet.bmcs) process.stdout.write(`${b.scheme}://${b.host}:${b.port}  ${b.vendor}  systems ${b.systems.join(',')}\n`);
        const ports = fleet.bmcs.map((b) => b.port);
        const first = ports[0]!;
        // Only a contiguous block (--port-base) can be named as one port range.
        const ranges = ports.every((p, i) => p === first + i)
          ? `--range ${fleet.bmcs[0]!.scheme}://127.0.0.1:${first}-${first + ports.length - 1}`
          : fleet.bmcs.map((b) => `--range ${b.scheme}://${b.host}:${b.port}`).join(' ');
        process.stderr.write(`${fleet.bmcs.length} simulated BMCs (user ${fleet.username}); discover them with ${ranges}; Ctrl-C stops\n`);
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await fleet.close();
    }));

  program
    .command('discover')
    .description('scan address ranges for Redfish BMCs and record their inventory')
    .requiredOption('--range <range...>', 'CIDR, HOST, HOST:PORT or HOST:FIRST-LAST, optionally with http:// or https://')
    .option('--concurrency <n>', 'requests in flight across all BMCs', positiveInt('concurrency'), DEFAULT_CONCURRENCY)
    .addOption(secondsOption('--timeout <seconds>', 'per-request timeout, in seconds', 'timeout', DEFAULT_TIMEOUT_MS))
    .option('--insecure', 'accept any BMC certificate (explicit opt-in)')
    .option('--ca <file>', 'verify BMC certificates against this CA bundle')
    .option('--trust-on-first-use', 'pin the certificate of each HTTPS BMC seen for the first time and send it credentials (without it, unpinned BMCs get none and are reported untrusted)')
    .option('--credentials <file>', 'credential rules (JSON or YAML-lite); stored encrypted in the data dir')
    .option('--map <file>', 'HOST[:PORT] → BMC xname map')
    .option('--inventory <file>', 'the inventory\'s known Redfish endpoints (JSON HOST[:PORT] → xname)')
    .option('--scheme <scheme>', 'scheme for ranges that do not name one', 'https')
    .option('--config <file>', 'agent config file (only its dataDir is used here)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print the report as JSON on stdout')
    .option('--dry-run', 'print what would be sent; store nothing but TLS pins')
    .option('--prune', 'the ranges cover the whole site: BMCs this scan does not reach leave the stored map')
    .action((o: TlsFlags & { range: string[]; concurrency: number; timeout: number; credentials?: string; map?: string; inventory?: string; scheme: string; dataDir?: string; config?: string; json?: boolean; dryRun?: boolean; prune?: boolean }) => guarded(async () => {
      if (o.scheme !== 'http' && o.scheme !== 'https') throw new BadUserInputError('scheme', `"${o.scheme}" is neither http nor https`);
      const dataDir = loadDataDir(o);
      const targets = parseTargets(o.range, o.scheme);
      const { policy, pins } = await tlsPolicy(o, dataDir, 'observe');
      let rules = await loadStoredCredentials(dataDir);
      if (o.credentials) {
        if (o.dryRun) rules = [...rules, ...parseCredentials(await readFile(o.credentials, 'utf8'), `credentials ${o.credentials}`)];
        else {
          const n = await importCredentialsFile(dataDir, o.credentials);
          rules = await loadStoredCredentials(dataDir);
          process.stderr.write(`credentials from ${o.credentials} stored encrypted in ${dataDir}/redfish (${n} rules); the file is no longer needed\n`);
        }
      }
      const inventory = o.inventory
        ? normaliseXNameMap(JSON.parse(await readFile(o.inventory, 'utf8')) as Record<string, string>, `inventory ${o.inventory}`)
        : deps.inventoryEndpoints ? await deps.inventoryEndpoints(dataDir) : {};
      const report = await discover({
        targets, ranges: o.range, concurrency: o.concurrency, timeoutMs: o.timeout, tls: policy, credentials: new CredentialResolver(rules),
        inventory, userMap: o.map ? await loadXNameMap(o.map) : {}, previous: await loadLastReport(dataDir), onProgress: progressPrinter(),
      });
      await pins?.save();
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
      if (o.dryRun) {
        process.stderr.write('dry run: nothing stored, nothing sent\n');
        return 0;
      }
      if (await storeEnvironmentCredentials(dataDir)) {
        process.stderr.write(`the BMC account from ${ENV_USERNAME}/${ENV_PASSWORD} stored encrypted in ${dataDir}/redfish as the "*" rule, so \`power\` and the running agent use it too\n`);
      }
      const update = await updateDiscoveryMap(dataDir, report, { prune: o.prune === true });
      if (!update.written) {
        process.stderr.write(`error: ${update.reason}: the last discovery map (${update.kept} BMCs, ${update.file}) is kept, and nothing was sent to the cloud\n`);
        return 1;
      }
      const saved = update.file;
      if (update.carriedOver.length > 0) {
        process.stderr.write(`not reached by this scan, kept in the map from an earlier one: ${update.carriedOver.join(' ')} (--prune drops BMCs a scan does not reach)\n`);
      }
      if (update.pruned.length > 0) process.stderr.write(`pruned from the map (not reached, --prune): ${update.pruned.join(' ')}\n`);
      const outbox = deps.sinkFor ? await deps.sinkFor(dataDir) : null;
      const sink = outbox ?? deps.sink ?? new DiscoveryFileSink(dataDir);
      const key = reportIdempotencyKey(report);
      await sink.enqueue(REPORT_DISCOVERY_KIND, toDiscoveryReportInput(report, key, inventory), key);
      if (sink instanceof DiscoveryFileSink) {
        process.stderr.write(`note: ${dataDir} holds no agent outbox (no \`skyboot-agent run\` used it), so the report was NOT sent to the cloud; it was written to ${sink.written.join(', ')} (last report: ${saved})\n`);
      } else process.stderr.write(`${outbox ? outbox.note() : 'report queued for the cloud'}; last report: ${saved}\n`);
      return 0;
    }));

  const powerOptions = (cmd: Command): Command => cmd
    .option('--config <file>', 'agent config file (only its dataDir is used here)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--insecure', 'accept any BMC certificate (explicit opt-in)')
    .option('--ca <file>', 'verify BMC certificates against this CA bundle')
    .addOption(secondsOption('--timeout <seconds>', 'per-request timeout, in seconds', 'timeout', DEFAULT_TIMEOUT_MS))
    .addOption(secondsOption('--confirm-timeout <seconds>', 'how long to wait for the power state to confirm, in seconds', 'confirm-timeout', 120_000))
    .option('--json', 'print results as JSON on stdout');

  type PowerFlags = TlsFlags & { dataDir?: string; config?: string; timeout: number; confirmTimeout: number; json?: boolean };
  const runPower = async (action: PowerActionName, xnames: string[], o: PowerFlags): Promise<number> => {
    const dataDir = loadDataDir(o);
    const { policy, pins } = await tlsPolicy(o, dataDir, 'refuse');
    const results = await powerAction(xnames, action, {
      dataDir, tls: policy, timeoutMs: o.timeout, confirmTimeoutMs: o.confirmTimeout,
      credentials: new CredentialResolver(await loadStoredCredentials(dataDir)),
    });
    await pins?.save();
    return printPowerResults(results, o.json === true);
  };

  powerOptions(program
    .command('power')
    .description(`power actions on nodes by xname: ${POWER_ACTIONS.filter((a) => a !== 'boot-pxe').join('|')}`)
    .addArgument(new Argument('<action>', 'on, off, soft-off, reset, cycle or status').argParser(knownValues(POWER_ACTIONS.filter((a) => a !== 'boot-pxe'))))
    .argument('<xnames...>', 'node xnames from the last discovery'))
    .action((action: string, xnames: string[], o: PowerFlags) => guarded(async () => {
      if (!POWER_ACTIONS.includes(action as PowerActionName) || action === 'boot-pxe') {
        throw new BadUserInputError('action', `"${action}" is not one of on, off, soft-off, reset, cycle, status`);
      }
      return runPower(action as PowerActionName, xnames, o);
    }));

  powerOptions(program
    .command('boot-pxe')
    .description('set a one-time PXE boot override on nodes (UEFI where the node is UEFI) and read it back')
    .argument('<xnames...>', 'node xnames from the last discovery'))
    .action((xnames: string[], o: PowerFlags) => guarded(() => runPower('boot-pxe', xnames, o)));
}
