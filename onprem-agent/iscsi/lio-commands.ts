/**
 * targetcli command lists for LIO. Generated as plain lists so tests compare the exact sequence
 * (LIO needs the kernel's target modules, which a test host may not have).
 *
 * LIO differs from tgt in where things live: read-only is a property of each ACL's mapped LUN
 * (`write_protect=1`), and CHAP credentials live on each node ACL, not on the target.
 */
import { BadUserInputError } from '../../schema/errors.js';
import { nodeChapAccount, targetChapAccount, type ChapSecrets } from './chap.js';
import type { ExportSpec } from './backend.js';
import { lioUnitSerial, parsePortal, xnameOfInitiator } from './naming.js';

/** The fileio backstore name of an export: the digest prefix its target name carries. */
export function lioBackstoreName(targetIqn: string): string {
  return `skyboot-${targetIqn.slice(targetIqn.lastIndexOf(':img-') + 5)}`;
}

const tpg = (targetIqn: string): string => `/iscsi/${targetIqn}/tpg1`;

export function lioCreateExportCommands(spec: ExportSpec, portals: string[]): string[] {
  const bs = lioBackstoreName(spec.targetIqn);
  const cmds = [
    `/backstores/fileio create name=${bs} file_or_dev=${spec.rootfsPath} write_back=false wwn=${lioUnitSerial(spec.rootfsSha256)}`,
    `/iscsi create ${spec.targetIqn}`,
    // targetcli adds 0.0.0.0:3260 to a new TPG; an agent serves only the portals it advertises.
    `${tpg(spec.targetIqn)}/portals delete 0.0.0.0 3260`,
  ];
  for (const p of portals) {
    const { address, port } = parsePortal(p, 'iscsiPortal');
    cmds.push(`${tpg(spec.targetIqn)}/portals create ${address} ${port}`);
  }
  cmds.push(
    `${tpg(spec.targetIqn)}/luns create /backstores/fileio/${bs} lun=${spec.lun} add_mapped_luns=false`,
    `${tpg(spec.targetIqn)} set attribute generate_node_acls=0 demo_mode_write_protect=1 authentication=0`,
  );
  return cmds;
}

/** A node ACL with the image mapped write-protected, and the site's CHAP when it is on. */
export function lioBindCommands(targetIqn: string, initiatorIqn: string, lun: number, chap: ChapSecrets | null): string[] {
  const acl = `${tpg(targetIqn)}/acls/${initiatorIqn}`;
  return [
    `${tpg(targetIqn)}/acls create ${initiatorIqn} add_mapped_luns=false`,
    `${acl} create mapped_lun=${lun} tpg_lun_or_backstore=lun${lun} write_protect=1`,
    ...lioAclAuthCommands(targetIqn, initiatorIqn, chap),
  ];
}

export function lioUnbindCommands(targetIqn: string, initiatorIqn: string): string[] {
  return [`${tpg(targetIqn)}/acls delete ${initiatorIqn}`];
}

/** LIO keeps CHAP per node ACL: each node's own account (nodeChapAccount) on its own ACL. */
function lioAclAuthCommands(targetIqn: string, initiatorIqn: string, chap: ChapSecrets | null): string[] {
  if (!chap) return [];
  const xname = xnameOfInitiator(initiatorIqn);
  if (!xname) throw new BadUserInputError('initiatorIqn', `${initiatorIqn} is not a Skyboot node initiator; CHAP secrets exist only for those`);
  const own = nodeChapAccount(chap, xname);
  const target = targetChapAccount(chap);
  const mutual = target ? ` mutual_userid=${target.user} mutual_password=${target.secret.reveal()}` : ' mutual_userid= mutual_password=';
  return [`${tpg(targetIqn)}/acls/${initiatorIqn} set auth userid=${own.user} password=${own.secret.reveal()}${mutual}`];
}

/** CHAP on every ACL of the target, and the TPG's authentication switch to match. */
export function lioSetChapCommands(targetIqn: string, acl: string[], chap: ChapSecrets | null): string[] {
  const perAcl = acl.flatMap((i) => (chap ? lioAclAuthCommands(targetIqn, i, chap)
    : [`${tpg(targetIqn)}/acls/${i} set auth userid= password= mutual_userid= mutual_password=`]));
  return [...perAcl, `${tpg(targetIqn)} set attribute authentication=${chap ? 1 : 0}`];
}

export function lioRemoveExportCommands(targetIqn: string): string[] {
  return [`/iscsi delete ${targetIqn}`, `/backstores/fileio delete ${lioBackstoreName(targetIqn)}`];
}

/** targetcli forgets everything at reboot unless the running config is saved. */
export const LIO_SAVE = 'saveconfig';
