/** `skyboot discovery show`: what the site agent's last discovery reports did, and what the inventory refused. */
import type { Command } from 'commander';
import type { CliIo } from './imageCommands.js';
import { isMachineFormat, render, withOutput, type Column, type OutputOptions } from './output.js';
import { intValue, siteOption } from './options.js';

interface Rejected {
  index: number;
  path: string;
  xname: string;
  code: string;
  message: string;
}
interface ReceiptJson {
  idempotencyKey: string;
  site: string;
  agent: string | null;
  at: string;
  endpoints: number;
  components: number;
  rejected: Rejected[];
}

const RECEIPTS: Column<ReceiptJson>[] = [
  { header: 'AT', value: (r) => r.at },
  { header: 'AGENT', value: (r) => r.agent },
  { header: 'ENDPOINTS', value: (r) => r.endpoints },
  { header: 'COMPONENTS', value: (r) => r.components },
  { header: 'REJECTED', value: (r) => r.rejected.length },
  { header: 'KEY', value: (r) => r.idempotencyKey, wide: true },
  { header: 'SITE', value: (r) => r.site, wide: true },
];
const REJECTED: Column<Rejected & { at: string }>[] = [
  { header: 'AT', value: (r) => r.at },
  { header: 'PATH', value: (r) => r.path },
  { header: 'XNAME', value: (r) => r.xname },
  { header: 'CODE', value: (r) => r.code },
  { header: 'REASON', value: (r) => r.message },
];

export function registerDiscoveryCommands(program: Command, io: CliIo): void {
  const discovery = program.command('discovery').description("discovery reports from the site's agent");
  withOutput(siteOption(discovery.command('show')))
    .description('the latest discovery reports, newest first, then every item the inventory rejected')
    .option('--last <n>', 'how many reports (1-100)', intValue, 10)
    .action(async (o: OutputOptions & { site?: string; last: number }) => {
      const { discoveryReceipts: rows } = await io.gql<{ discoveryReceipts: ReceiptJson[] }>(
        'query($site: String, $first: Int) { discoveryReceipts(site: $site, first: $first) { idempotencyKey site agent at endpoints components rejected { index path xname code message } } }',
        { site: o.site ?? null, first: o.last },
      );
      await render(rows, RECEIPTS, o, io.out);
      const rejected = rows.flatMap((r) => r.rejected.map((x) => ({ ...x, at: r.at })));
      if (isMachineFormat(o) || !rejected.length) return;
      io.out('');
      await render(rejected, REJECTED, o, io.out);
    });
}
