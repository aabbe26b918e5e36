/**
 * Parses `tgtadm --mode target --op show`. tgt has no machine-readable output, so this reads
 * its indented text: targets, their I_T nexuses (sessions), LUNs, accounts and ACLs.
 */

export interface TgtLun {
  lun: number;
  type: string;
  scsiId: string;
  scsiSn: string;
  sizeMb: number;
  readonly: boolean;
  backingStoreType: string;
  backingStorePath: string;
}

export interface TgtTarget {
  tid: number;
  name: string;
  /** Initiator name of each I_T nexus. */
  nexusInitiators: string[];
  luns: TgtLun[];
  accounts: string[];
  outgoingAccounts: string[];
  acl: string[];
}

type Section = 'none' | 'system' | 'nexus' | 'lun' | 'account' | 'acl';

export function parseTgtShow(text: string): TgtTarget[] {
  const targets: TgtTarget[] = [];
  let t: TgtTarget | undefined;
  let lun: TgtLun | undefined;
  let section: Section = 'none';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const head = /^Target (\d+): (.+)$/.exec(raw);
    if (head) {
      t = { tid: Number(head[1]), name: head[2]!.trim(), nexusInitiators: [], luns: [], accounts: [], outgoingAccounts: [], acl: [] };
      targets.push(t);
      section = 'none';
      continue;
    }
    if (!t) continue;
    if (line === 'System information:') section = 'system';
    else if (line === 'I_T nexus information:') section = 'nexus';
    else if (line === 'LUN information:') section = 'lun';
    else if (line === 'Account information:') section = 'account';
    else if (line === 'ACL information:') section = 'acl';
    else if (section === 'nexus') {
      const m = /^Initiator: (\S+)/.exec(line);
      if (m) t.nexusInitiators.push(m[1]!);
    } else if (section === 'lun') {
      const start = /^LUN: (\d+)$/.exec(line);
      if (start) {
        lun = { lun: Number(start[1]), type: '', scsiId: '', scsiSn: '', sizeMb: 0, readonly: false, backingStoreType: '', backingStorePath: '' };
        t.luns.push(lun);
      } else if (lun) readLunField(lun, line);
    } else if (section === 'account') {
      const m = /^(\S+)( \(outgoing\))?$/.exec(line);
      if (m) (m[2] ? t.outgoingAccounts : t.accounts).push(m[1]!);
    } else if (section === 'acl') t.acl.push(line);
  }
  return targets;
}

function readLunField(lun: TgtLun, line: string): void {
  const idx = line.indexOf(':');
  if (idx < 0) return;
  const key = line.slice(0, idx);
  const value = line.slice(idx + 1).trim();
  switch (key) {
    case 'Type': lun.type = value; break;
    case 'SCSI ID': lun.scsiId = value; break;
    case 'SCSI SN': lun.scsiSn = value; break;
    case 'Size': lun.sizeMb = Number(/^(\d+) MB/.exec(value)?.[1] ?? 0); break;
    case 'Readonly': lun.readonly = value === 'Yes'; break;
    case 'Backing store type': lun.backingStoreType = value; break;
    case 'Backing store path': lun.backingStorePath = value; break;
    default: break;
  }
}

/** `tgtadm --mode account --op show`: "Account list:" then one name per line. */
export function parseTgtAccounts(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && l !== 'Account list:');
}
