/**
 * A real Slurm cluster on this host, from Debian's slurm-wlm and munge: one munged, one
 * slurmctld, and one slurmd per simulated node. Each slurmd runs in its own UTS namespace
 * (`unshare --uts`) whose hostname is the node's name, so it finds its NodeName the way a real
 * node does (by hostname; Debian's build has no multiple-slurmd support); the nodes share the
 * host's network and differ by port (NodeAddr=127.0.0.1 Port=<free port> per node). slurm.conf,
 * the munge key, state and logs live in a fresh temp dir. A reboot is simulated by restarting a
 * node's slurmd with -b (report a reboot now), which is what a rebooted node's slurmd tells slurmctld.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.js';

const NEEDED = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'scontrol', 'sbatch', 'squeue', 'unshare'];

export interface SlurmCluster {
  dir: string;
  conf: string;
  env: NodeJS.ProcessEnv;
  nodes: string[];
  /** Runs a Slurm client command against this cluster; throws with its stderr on failure. */
  run(cmd: string, args: string[]): string;
  /** `scontrol show node -o`'s State= for a node, e.g. IDLE+DRAIN. */
  nodeState(name: string): string;
  nodeReason(name: string): string | null;
  /** `scontrol show job`'s fields for a job id (JobState, Restarts, Requeue, NodeList, …). */
  job(id: string): Record<string, string>;
  /** Restarts the node's slurmd as a rebooted node's would start (-b). */
  rebootNode(name: string): Promise<void>;
  waitFor(what: string, check: () => boolean, timeoutMs?: number): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

export interface SlurmClusterOptions {
  nodes: string[];
  /** Extra slurm.conf lines (RebootProgram, SlurmctldParameters, ResumeTimeout, …). */
  extraConf?: string[];
  /** Environment for slurmctld (and so for its RebootProgram). */
  ctldEnv?: NodeJS.ProcessEnv;
}

function missingTools(): string[] {
  return NEEDED.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).status !== 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startSlurmCluster(opts: SlurmClusterOptions): Promise<SlurmCluster> {
  const missing = missingTools();
  if (missing.length) throw new Error(`Slurm test cluster: ${missing.join(', ')} not found on PATH (apt-get install slurm-wlm munge util-linux)`);
  if (process.getuid?.() !== 0) throw new Error('Slurm test cluster: needs root (slurmd in its own UTS namespace, SlurmUser=root)');
  const dir = mkdtempSync(join(tmpdir(), 'slurm-cluster-'));
  const conf = join(dir, 'slurm.conf');
  const sock = join(dir, 'munge.sock');
  mkdirSync(join(dir, 'state'));
  for (const n of opts.nodes) mkdirSync(join(dir, 'spool', n), { recursive: true });
  const key = spawnSync('mungekey', ['-c', '-f', '-k', join(dir, 'munge.key')], { encoding: 'utf8' });
  if (key.status !== 0) throw new Error(`mungekey failed: ${key.stderr}`);
  const munged = spawn('munged', ['-F', `--socket=${sock}`, `--key-file=${join(dir, 'munge.key')}`, `--pid-file=${join(dir, 'munged.pid')}`,
    `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munge.seed')}`, '--force'], { stdio: 'ignore' });
  const ctldPort = await freeTcpPort();
  const nodePorts = await Promise.all(opts.nodes.map(() => freeTcpPort()));
  const cluster = `sky${process.pid}`.slice(0, 10);
  writeFileSync(conf, [
    `ClusterName=${cluster}`,
    `SlurmctldHost=${hostname()}(127.0.0.1)`,
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${nodePorts[0]}`,
    'SlurmUser=root', 'SlurmdUser=root',
    'AuthType=auth/munge', `AuthInfo=socket=${sock}`, 'CredType=cred/munge',
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool', '%n')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`, `SlurmdPidFile=${join(dir, 'slurmd-%n.pid')}`,
    `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`, `SlurmdLogFile=${join(dir, 'slurmd-%n.log')}`,
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'SwitchType=switch/none', 'MpiDefault=none',
    'SchedulerType=sched/backfill', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core',
    'ReturnToService=2', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none', 'MailProg=/bin/true', 'SlurmdTimeout=60', 'MinJobAge=3600', 'SchedulerParameters=sched_interval=2',
    ...(opts.extraConf ?? []),
    ...opts.nodes.map((n, i) => `NodeName=${n} NodeHostname=${n} NodeAddr=127.0.0.1 Port=${nodePorts[i]} CPUs=1 State=UNKNOWN`),
    'PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n'));
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [munged];
  const slurmds = new Map<string, ChildProcess>();
  for (let i = 0; i < 50 && !existsSync(sock); i++) await sleep(100);
  if (!existsSync(sock)) throw new Error(`munged did not create ${sock}: ${safeRead(join(dir, 'munged.log'))}`);
  const ctld = spawn('slurmctld', ['-D', '-f', conf], { env: { ...env, ...opts.ctldEnv }, stdio: 'ignore' });
  children.push(ctld);
  const startSlurmd = (n: string, reboot: boolean) => {
    const child = spawn('unshare', ['--uts', 'sh', '-c', `hostname ${n} && exec slurmd -D ${reboot ? '-b ' : ''}-f ${conf}`], { env, stdio: 'ignore' });
    slurmds.set(n, child);
  };

  const run = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const showNode = (name: string) => run('scontrol', ['show', 'node', '-o', name]);
  const logs = () => ['slurmctld.log', ...opts.nodes.map((n) => `slurmd-${n}.log`)].map((f) => `--- ${f}\n${safeRead(join(dir, f)).split('\n').slice(-15).join('\n')}`).join('\n');
  const waitFor = async (what: string, check: () => boolean, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (check()) return;
      } catch {
        // not yet answerable (slurmctld still starting)
      }
      if (Date.now() > until) throw new Error(`Slurm test cluster: timed out waiting for ${what}\n${logs()}`);
      await sleep(250);
    }
  };
  const self: SlurmCluster = {
    dir, conf, env, nodes: opts.nodes, run, logs, waitFor,
    nodeState: (name) => /(?:^| )State=(\S+)/.exec(showNode(name))?.[1] ?? '',
    nodeReason: (name) => /(?:^| )Reason=(.*)$/.exec(showNode(name).trim())?.[1] ?? null,
    job: (id) => Object.fromEntries(run('scontrol', ['show', 'job', '-o', id]).trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    async rebootNode(name) {
      const old = slurmds.get(name);
      if (old) await stopChild(old);
      startSlurmd(name, true);
    },
    async stop() {
      for (const c of slurmds.values()) await stopChild(c);
      for (const c of children.reverse()) await stopChild(c);
      // Job steps outlive their slurmd; ours are the ones started under this cluster's slurm.conf.
      for (const pid of processesWithEnv(`SLURM_CONF=${conf}`)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor('slurmctld to answer', () => run('scontrol', ['ping']).includes('UP'));
    for (const n of opts.nodes) startSlurmd(n, false);
    await waitFor('every slurmd to register IDLE', () => opts.nodes.every((n) => self.nodeState(n) === 'IDLE'));
  } catch (err) {
    await self.stop();
    throw err;
  }
  return self;
}

function processesWithEnv(entry: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(entry)) out.push(Number(d));
    } catch {
      // exited, or not ours to read
    }
  }
  return out;
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '(none)';
  }
}
