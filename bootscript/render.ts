/**
 * The iPXE boot-script renderer: written once, used by the cloud's `bootScript` preview and by
 * the agent, which serves it to nodes. Pure (no I/O, no AWS), so the agent bundles it.
 *
 * Every value that reaches the script is either validated here (kernel parameters, URLs) or
 * reduced to a safe character set (names in comments and echo lines), so no input can add an
 * iPXE command. The retry loop is unrolled into numbered labels: bounded by construction, and
 * free of iPXE arithmetic that older ROMs lack.
 */
import { BadUserInputError } from '../schema/errors.js';
import { BOOT_TOKEN_PARAM, bootTokenFor } from './bootToken.js';
import { MAX_KERNEL_PARAMETERS_LENGTH, validateKernelParameters } from './kernelParameters.js';

export type RootfsProvider = 'HTTP' | 'ISCSI';

export interface BootTarget {
  xname: string;
  nid: number | null;
  /** sha256 (hex) of the kernel, initrd and optional squashfs root the agent serves. */
  kernel: string;
  initrd: string | null;
  rootfs: string | null;
  rootfsProvider: RootfsProvider | null;
  /** The configuration's (already validated) kernel parameters. */
  kernelParameters: string;
  /** Which selector won, for the script's header comment (e.g. "group:compute"). */
  matchedSelector?: string;
  /** The image booted; part of the boot token (bootToken.ts), so two images never share one. */
  imageId?: string | null;
}

/** The boot token of a known node's target: what its heartbeat must echo (bootToken.ts). */
export function bootTokenOfTarget(node: BootTarget): string {
  return bootTokenFor(node.xname, {
    imageId: node.imageId ?? null,
    kernel: node.kernel,
    initrd: node.initrd,
    rootfs: node.rootfs,
    kernelParameters: node.kernelParameters,
    rootfsProvider: node.rootfsProvider,
  });
}

export interface DiscoveryTarget {
  kernel: string;
  initrd: string | null;
  kernelParameters: string;
}

export interface RetryPolicy {
  /** Boot attempts before giving up (1–10). */
  attempts: number;
  /** Delay after the first failure; doubled after each further one, capped at 60 s. */
  firstDelaySeconds: number;
  /** What the script does once every attempt failed. */
  finalAction: 'exit' | 'shell' | 'reboot';
}

export interface UnknownPolicy {
  /** The discovery image to boot for an unknown MAC (BSS's Unknown-<arch>); null: sleep and ask again. */
  discovery: DiscoveryTarget | null;
  /** Which ask this is (the agent passes it back through the chain URL's `attempt`). */
  attempt: number;
  maxAttempts: number;
  sleepSeconds: number;
  /** Why the MAC gets no boot target, for the header and echo lines. */
  message: string;
}

/**
 * A known node whose boot target is not servable yet (its iSCSI root is not exported by any
 * portal of the site): the script says why, sleeps and asks again, a bounded number of times.
 */
export interface WaitPolicy {
  /** Why the node waits, for the header and echo lines. */
  reason: string;
  /** Which ask this is (passed back through the chain URL's `attempt`). */
  attempt: number;
  maxAttempts: number;
  sleepSeconds: number;
}

export interface BootScriptInput {
  /** The booting NIC, normalised (aa:bb:cc:dd:ee:ff). */
  mac: string;
  /** Where the agent serves artifacts and scripts, e.g. http://10.0.0.1:8080 (no trailing slash needed). */
  agentBaseUrl: string;
  /** The resolved boot target; null when the MAC is unknown. */
  node: BootTarget | null;
  /** Parameters the agent adds (the iSCSI module's rd.iscsi/netroot); validated like any other. */
  extraKernelParameters?: string;
  retry?: Partial<RetryPolicy>;
  unknown?: Partial<UnknownPolicy>;
  /** Set for a known node that must wait instead of booting (then `node` must be set too). */
  wait?: Partial<WaitPolicy> & { reason: string };
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, firstDelaySeconds: 2, finalAction: 'exit' };
/** 20 asks 15 s apart: five minutes, the time a large rootfs may take to download and export. */
export const DEFAULT_WAIT: Omit<WaitPolicy, 'reason'> = { attempt: 1, maxAttempts: 20, sleepSeconds: 15 };
export const DEFAULT_UNKNOWN: UnknownPolicy = { discovery: null, attempt: 1, maxAttempts: 3, sleepSeconds: 30, message: 'is not in the inventory of this site' };

const HEX64 = /^[0-9a-f]{64}$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const BASE_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;

/** Names in comments and echo lines: anything outside this set becomes `?`. */
function safeText(s: string): string {
  return s.replace(/[^A-Za-z0-9._:=/,+@ -]/g, '?');
}

function checkSha(sha: string, field: string): string {
  if (!HEX64.test(sha)) throw new BadUserInputError(field, `"${safeText(sha)}" is not a lower-case hex sha256`);
  return sha;
}

export function artifactUrl(agentBaseUrl: string, sha256: string): string {
  return urlFor(normaliseBaseUrl(agentBaseUrl), sha256);
}

/** For a base URL already normalised (the renderer checks it once per script). */
function urlFor(base: string, sha256: string): string {
  return `${base}/artifacts/sha256/${checkSha(sha256, 'sha256')}`;
}

export function normaliseBaseUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  if (!BASE_URL.test(trimmed)) {
    throw new BadUserInputError('agentBaseUrl', `"${safeText(url)}" is not an http(s) URL made of host, port and a plain path`);
  }
  return trimmed;
}

/** BOOTIF as pxelinux and dracut expect it: hardware type 01, then the MAC with dashes. */
export function bootif(mac: string): string {
  return `01-${mac.replace(/:/g, '-')}`;
}

function checkMac(mac: string): string {
  if (!MAC.test(mac)) throw new BadUserInputError('mac', `"${safeText(mac)}" is not a normalised MAC (aa:bb:cc:dd:ee:ff)`);
  return mac;
}

function retryPolicy(p: Partial<RetryPolicy> | undefined): RetryPolicy {
  const r = { ...DEFAULT_RETRY, ...p };
  if (!Number.isInteger(r.attempts) || r.attempts < 1 || r.attempts > 10) throw new BadUserInputError('retry.attempts', 'must be an integer from 1 to 10');
  if (!Number.isInteger(r.firstDelaySeconds) || r.firstDelaySeconds < 1 || r.firstDelaySeconds > 60) {
    throw new BadUserInputError('retry.firstDelaySeconds', 'must be an integer from 1 to 60');
  }
  return r;
}

/** The sleeps between attempts: 2, 4, 8, 16 for the defaults. */
export function backoffDelays(policy: Partial<RetryPolicy> = {}): number[] {
  const r = retryPolicy(policy);
  return Array.from({ length: r.attempts - 1 }, (_, i) => Math.min(60, r.firstDelaySeconds * 2 ** i));
}

interface Loadable {
  what: string;
  kernelUrl: string;
  initrdUrl: string | null;
  cmdline: string;
}

function finalLines(action: RetryPolicy['finalAction']): string[] {
  switch (action) {
    case 'shell':
      return ['shell'];
    case 'reboot':
      return ['sleep 60', 'reboot'];
    default:
      return ['sleep 10', 'exit 1'];
  }
}

function attemptLoop(target: Loadable, policy: RetryPolicy, agentBaseUrl: string): string[] {
  const lines: string[] = [];
  const delays = backoffDelays(policy);
  const n = policy.attempts;
  for (let i = 1; i <= n; i++) {
    lines.push(`:attempt${i}`);
    lines.push(`echo Skyboot: booting ${target.what} (attempt ${i} of ${n})`);
    lines.push(`kernel --name kernel ${target.kernelUrl} ${target.cmdline} || goto failed${i}`);
    if (target.initrdUrl) lines.push(`initrd --name initrd ${target.initrdUrl} || goto failed${i}`);
    lines.push(`boot || goto failed${i}`);
    lines.push(`:failed${i}`);
    lines.push('imgfree');
    if (i < n) {
      lines.push(`echo Skyboot: attempt ${i} of ${n} failed, retrying in ${delays[i - 1]} s`);
      lines.push(`sleep ${delays[i - 1]}`);
    }
  }
  lines.push(`echo Skyboot: could not boot ${target.what} after ${n} attempts. Check the agent at ${agentBaseUrl} and its artifact cache.`);
  lines.push(...finalLines(policy.finalAction));
  return lines;
}

function joinCmdline(parts: string[]): string {
  const cmdline = parts.filter((p) => p.length > 0).join(' ');
  if (cmdline.length > MAX_KERNEL_PARAMETERS_LENGTH) {
    throw new BadUserInputError('kernelParameters', `the rendered kernel command line is ${cmdline.length} characters long; the limit is ${MAX_KERNEL_PARAMETERS_LENGTH}`);
  }
  return cmdline;
}

function renderNode(input: BootScriptInput, node: BootTarget, base: string): string {
  const mac = input.mac;
  const user = validateKernelParameters(node.kernelParameters);
  // The agent's additions may legitimately carry root=/netroot=, so only the syntax checks apply.
  const extra = input.extraKernelParameters ? validateKernelParameters(input.extraKernelParameters, { field: 'extraKernelParameters', reserved: [] }) : '';
  const provider: string[] = [];
  const header = [`#!ipxe`, `# Skyboot boot script for ${safeText(node.xname)} (mac ${mac}${node.matchedSelector ? `, matched ${safeText(node.matchedSelector)}` : ''})`];
  if (node.rootfsProvider === 'HTTP') {
    if (!node.rootfs) throw new BadUserInputError('rootfsProvider', 'HTTP needs an image with a ROOTFS_SQUASHFS artifact');
    provider.push(`root=live:${urlFor(base, node.rootfs)}`);
  } else if (node.rootfsProvider === 'ISCSI' && !extra) {
    header.push('# rootfs over iSCSI: the site agent adds its rd.iscsi.initiator and netroot parameters here');
  }
  const cmdline = joinCmdline([
    node.initrd ? 'initrd=initrd' : '',
    `BOOTIF=${bootif(mac)}`,
    `xname=${node.xname}`,
    node.nid === null ? '' : `nid=${node.nid}`,
    ...provider,
    user,
    extra,
    // Last, so the node's heartbeat hook finds it whatever else the line holds.
    `${BOOT_TOKEN_PARAM}=${bootTokenOfTarget(node)}`,
  ]);
  const target: Loadable = {
    what: safeText(node.xname),
    kernelUrl: urlFor(base, node.kernel),
    initrdUrl: node.initrd ? urlFor(base, node.initrd) : null,
    cmdline,
  };
  return [...header, ...attemptLoop(target, retryPolicy(input.retry), base), ''].join('\n');
}

/** The chain URL back to this agent for the next ask. */
function askAgainUrl(base: string, mac: string, attempt: number): string {
  return `${base}/boot/v1/bootscript?mac=${mac}&attempt=${attempt}`;
}

function renderWait(input: BootScriptInput, node: BootTarget, base: string): string {
  const w: WaitPolicy = { ...DEFAULT_WAIT, ...input.wait! };
  const mac = input.mac;
  if (!Number.isInteger(w.attempt) || w.attempt < 1) throw new BadUserInputError('attempt', 'must be a positive integer');
  if (!Number.isInteger(w.maxAttempts) || w.maxAttempts < 1 || w.maxAttempts > 100) throw new BadUserInputError('wait.maxAttempts', 'must be from 1 to 100');
  if (!Number.isInteger(w.sleepSeconds) || w.sleepSeconds < 1 || w.sleepSeconds > 600) throw new BadUserInputError('wait.sleepSeconds', 'must be from 1 to 600');
  const who = safeText(node.xname);
  const why = safeText(w.reason);
  const header = ['#!ipxe', `# Skyboot boot script for ${who} (mac ${mac}): waiting, ${why}`];
  if (w.attempt >= w.maxAttempts) {
    return [
      ...header,
      `echo Skyboot: ${who} cannot boot yet: ${why}. Gave up after ${w.maxAttempts} attempts; check the agent at ${base} (skyboot-agent status), then reboot this machine.`,
      ...finalLines(retryPolicy(input.retry).finalAction),
      '',
    ].join('\n');
  }
  return [
    ...header,
    `echo Skyboot: ${who} waits: ${why} (attempt ${w.attempt} of ${w.maxAttempts}), asking again in ${w.sleepSeconds} s`,
    `sleep ${w.sleepSeconds}`,
    `chain --replace --autofree ${askAgainUrl(base, mac, w.attempt + 1)} || goto failed`,
    ':failed',
    `echo Skyboot: could not reach the agent at ${base}.`,
    ...finalLines(retryPolicy(input.retry).finalAction),
    '',
  ].join('\n');
}

function renderUnknown(input: BootScriptInput, base: string): string {
  const u: UnknownPolicy = { ...DEFAULT_UNKNOWN, ...input.unknown };
  const mac = input.mac;
  const header = ['#!ipxe', `# Skyboot: MAC ${mac} ${safeText(u.message)}`];
  if (u.discovery) {
    const cmdline = joinCmdline([
      u.discovery.initrd ? 'initrd=initrd' : '',
      `BOOTIF=${bootif(mac)}`,
      validateKernelParameters(u.discovery.kernelParameters, { field: 'discovery.kernelParameters' }),
    ]);
    const target: Loadable = {
      what: `the discovery image for unknown MAC ${mac}`,
      kernelUrl: urlFor(base, u.discovery.kernel),
      initrdUrl: u.discovery.initrd ? urlFor(base, u.discovery.initrd) : null,
      cmdline,
    };
    return [...header, ...attemptLoop(target, retryPolicy(input.retry), base), ''].join('\n');
  }
  if (!Number.isInteger(u.attempt) || u.attempt < 1) throw new BadUserInputError('attempt', 'must be a positive integer');
  if (!Number.isInteger(u.sleepSeconds) || u.sleepSeconds < 1 || u.sleepSeconds > 600) throw new BadUserInputError('unknown.sleepSeconds', 'must be from 1 to 600');
  if (u.attempt >= u.maxAttempts) {
    return [
      ...header,
      `echo Skyboot: MAC ${mac} ${safeText(u.message)} after ${u.maxAttempts} attempts. Fix that in Skyboot, then reboot this machine.`,
      ...finalLines(retryPolicy(input.retry).finalAction),
      '',
    ].join('\n');
  }
  const next = askAgainUrl(base, mac, u.attempt + 1);
  return [
    ...header,
    `echo Skyboot: MAC ${mac} ${safeText(u.message)} (attempt ${u.attempt} of ${u.maxAttempts}), asking again in ${u.sleepSeconds} s`,
    `sleep ${u.sleepSeconds}`,
    `chain --replace --autofree ${next} || goto failed`,
    ':failed',
    `echo Skyboot: could not reach the agent at ${base}.`,
    ...finalLines(retryPolicy(input.retry).finalAction),
    '',
  ].join('\n');
}

/** Renders the iPXE script for one booting MAC; throws BadUserInputError on any unsafe input. */
export function renderBootScript(input: BootScriptInput): string {
  checkMac(input.mac);
  const base = normaliseBaseUrl(input.agentBaseUrl);
  if (input.node) {
    checkSha(input.node.kernel, 'kernel');
    if (input.node.initrd) checkSha(input.node.initrd, 'initrd');
    if (input.node.rootfs) checkSha(input.node.rootfs, 'rootfs');
    if (input.node.nid !== null && (!Number.isInteger(input.node.nid) || input.node.nid < 0)) throw new BadUserInputError('nid', 'must be a non-negative integer');
    if (!/^[a-z0-9]+$/.test(input.node.xname)) throw new BadUserInputError('xname', `"${safeText(input.node.xname)}" is not a normalised xname`);
    return input.wait ? renderWait(input, input.node, base) : renderNode(input, input.node, base);
  }
  return renderUnknown(input, base);
}
