/**
 * Boot-script rendering for 10,000 nodes, in one run:
 *  - resolve + render in memory: candidateValues → pickBinding over a site's bindings (what the
 *    agent does from its snapshot for every request) → renderBootScript (validated, retry loop);
 *  - the peer: a bare template (the same kernel/initrd/boot lines, no validation, no retry loop),
 *    i.e. what serving a pre-rendered static script per node costs to produce;
 *  - the cloud preview: the boot domain's bootScript operation against DynamoDB Local (MAC claim,
 *    component item, one BatchGet of bindings) for a 1,000-node sample, 8 calls in flight.
 *
 *   node --import tsx bench/bootscript/run.ts [--nodes 10000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { renderBootScript, bootif } from '../../bootscript/render.js';
import { candidateValues } from '../../functions/boot/selector.js';
import { pickBinding, type Binding } from '../../functions/boot/resolve.js';
import type { NodeFactsRecord } from '../../functions/boot/nodeFacts.js';
import { bindingKey } from '../../functions/boot/keys.js';
import { componentKey, macKey } from '../../functions/inventory/keys.js';
import { startDynamoDbLocal } from '../../local/emulators.js';
import { clients, resetClients } from '../../functions/shared/clients.js';
import { tableDefinition } from '../../functions/shared/table.js';
import { handler } from '../../functions/boot/handler.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const nodesArg = process.argv.indexOf('--nodes');
const N = nodesArg > 0 ? Number(process.argv[nodesArg + 1]) : 10_000;
const SAMPLE = Math.min(1000, N);
const AGENT = 'http://10.0.0.1:8080';
const say = (s: string) => process.stderr.write(`[bench/bootscript] ${s}\n`);
const sha = (i: number) => i.toString(16).padStart(64, '0');

// A site: 10 groups, 2 roles, per-xname overrides for 1 % of nodes, defaults per arch.
const nodes: NodeFactsRecord[] = Array.from({ length: N }, (_, i) => ({
  xname: `x${1000 + Math.floor(i / 256)}c${Math.floor(i / 64) % 4}s${Math.floor(i / 4) % 16}b0n${i % 4}`,
  site: 'local',
  macs: [`02:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`],
  nid: i + 1,
  groups: [`rack${i % 10}`, ...(i % 3 === 0 ? ['gpu'] : [])],
  role: i % 20 === 0 ? 'SERVICE' : 'COMPUTE',
  subRole: i % 20 === 0 ? 'login' : null,
  arch: 'X86',
}));
const binding = (value: string, n: number, priority = 0): Binding => ({
  value,
  configId: `bc-${n}`,
  site: 'local',
  imageId: `img-${n}`,
  kernel: sha(n * 3 + 1),
  initrd: sha(n * 3 + 2),
  rootfs: sha(n * 3 + 3),
  kernelParameters: `console=ttyS0,115200n8 ip=dhcp rd.live.overlay.overlayfs=1 config=${n}`,
  rootfsProvider: 'HTTP',
  priority,
});
const bindings = new Map<string, Binding>();
bindings.set('DEFAULT#X86', binding('DEFAULT#X86', 1));
bindings.set('ROLE#COMPUTE', binding('ROLE#COMPUTE', 2));
bindings.set('ROLE#SERVICE#login', binding('ROLE#SERVICE#login', 3));
bindings.set('GROUP#gpu', binding('GROUP#gpu', 4, 5));
for (let g = 0; g < 10; g += 2) bindings.set(`GROUP#rack${g}`, binding(`GROUP#rack${g}`, 10 + g));
for (let i = 0; i < N; i += 100) bindings.set(`XNAME#${nodes[i]!.xname}`, binding(`XNAME#${nodes[i]!.xname}`, 100 + i));

function renderOne(f: NodeFactsRecord): string {
  const r = pickBinding(candidateValues(f, f.macs[0]), bindings)!;
  const b = r.binding;
  return renderBootScript({
    mac: f.macs[0]!,
    agentBaseUrl: AGENT,
    node: { xname: f.xname, nid: f.nid, kernel: b.kernel, initrd: b.initrd, rootfs: b.rootfs, rootfsProvider: b.rootfsProvider, kernelParameters: b.kernelParameters, matchedSelector: r.matchedSelector },
  });
}

function bare(f: NodeFactsRecord): string {
  const b = bindings.get('ROLE#COMPUTE')!;
  return `#!ipxe\nkernel ${AGENT}/artifacts/sha256/${b.kernel} initrd=initrd BOOTIF=${bootif(f.macs[0]!)} xname=${f.xname} nid=${f.nid} root=live:${AGENT}/artifacts/sha256/${b.rootfs} ${b.kernelParameters}\ninitrd --name initrd ${AGENT}/artifacts/sha256/${b.initrd}\nboot\n`;
}

function timed(fn: (f: NodeFactsRecord) => string, rounds = 3): { perSecond: number; bytes: number } {
  let best = Infinity;
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    bytes = 0;
    const t = performance.now();
    for (const f of nodes) bytes += fn(f).length;
    best = Math.min(best, performance.now() - t);
  }
  return { perSecond: Math.round((N / best) * 1000), bytes };
}

say(`${N} nodes, ${bindings.size} bindings`);
timed(renderOne, 1); // warm-up
const ours = timed(renderOne);
const peer = timed(bare);
const winners = new Map<string, number>();
for (const f of nodes) {
  const k = pickBinding(candidateValues(f), bindings)!.matchedKind;
  winners.set(k, (winners.get(k) ?? 0) + 1);
}

say(`cloud preview: bootScript through the domain handler on DynamoDB Local, ${SAMPLE} nodes`);
const dynamo = await startDynamoDbLocal();
let preview: { perSecond: number; sample: number } | undefined;
try {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.SKYBOOT_TABLE = 'bench-bootscript';
  process.env.SKYBOOT_LOCAL = '1';
  resetClients();
  const c = clients();
  await c.ddb.send(new CreateTableCommand(tableDefinition('bench-bootscript')));
  while ((await c.ddb.send(new DescribeTableCommand({ TableName: 'bench-bootscript' }))).Table?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 100));
  const sample = nodes.slice(0, SAMPLE);
  // The Component fields the inventory always writes: reads decode the item and refuse one without them.
  const STORED_AT = new Date().toISOString();
  const items: Record<string, unknown>[] = [
    ...[...bindings.values()].map((b) => ({ ...bindingKey('local', b.value), entity: 'BootBinding', ...b })),
    ...sample.flatMap((f) => [
      { ...componentKey('local', f.xname), entity: 'Component', xname: f.xname, type: 'Node', site: 'local', state: 'ON', flag: 'OK', enabled: true, version: 1, createdAt: STORED_AT, updatedAt: STORED_AT, nid: f.nid, role: f.role, ...(f.subRole ? { subRole: f.subRole } : {}), arch: f.arch, groups: new Set(f.groups), interfaces: f.macs.map((mac) => ({ mac, ipAddresses: [], network: 'default' })) },
      ...f.macs.map((mac) => ({ ...macKey('local', mac), entity: 'MacClaim', mac, site: 'local', xname: f.xname })),
    ]),
  ];
  for (let i = 0; i < items.length; i += 25) {
    await c.doc.send(new BatchWriteCommand({ RequestItems: { 'bench-bootscript': items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  const identity = { subject: 'bench', roles: ['viewer' as const], site: null };
  const queue = [...sample];
  const t = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const { results } = await handler({ domain: 'boot', identity, requestId: 'bench', calls: [{ operation: 'bootScript', args: { mac: f.macs[0], agentBaseUrl: AGENT } }] });
        if (!results[0]!.ok) throw new Error(JSON.stringify(results[0]));
      }
    }),
  );
  preview = { perSecond: Math.round((SAMPLE / (performance.now() - t)) * 1000), sample: SAMPLE };
} finally {
  await dynamo.stop();
  resetClients();
}

const result = {
  nodes: N,
  bindings: bindings.size,
  winners: Object.fromEntries(winners),
  resolveAndRenderPerSecond: ours.perSecond,
  bareTemplatePerSecond: peer.perSecond,
  ratioVsBareTemplate: +(ours.perSecond / peer.perSecond).toFixed(3),
  averageScriptBytes: Math.round(ours.bytes / N),
  cloudPreviewPerSecond: preview?.perSecond ?? null,
  cloudPreviewSample: preview?.sample ?? null,
  at: new Date().toISOString(),
};
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/bootscript.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `bootscript ${N} nodes: resolve+render ${result.resolveAndRenderPerSecond}/s vs bare template ${result.bareTemplatePerSecond}/s (ratio ${result.ratioVsBareTemplate}); ` +
    `cloud preview via DynamoDB Local ${result.cloudPreviewPerSecond}/s`,
);
