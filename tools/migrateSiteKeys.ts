/**
 * Rewrites a table written before sites were in the inventory's keys to the per-site layout
 * (functions/inventory/migrateSiteKeys.ts; docs/data-model.md "Migrating to per-site keys").
 * Uses the deployment's settings (SKYBOOT_TABLE, AWS_REGION, endpoints) like the Lambdas.
 *
 *   node --import tsx tools/migrateSiteKeys.ts [--dry-run] [--max-items N]
 *
 * Prints the report as JSON; exits 1 while items remain or problems were found.
 */
import { clients } from '../functions/shared/clients.js';
import { migrateSiteKeys } from '../functions/inventory/migrateSiteKeys.js';

const args = process.argv.slice(2);
const max = args.indexOf('--max-items');
const maxItems = max >= 0 ? Number(args[max + 1]) : undefined;
if (maxItems !== undefined && !(Number.isInteger(maxItems) && maxItems > 0)) {
  process.stderr.write(`--max-items: "${args[max + 1]}" is not a positive integer\n`);
  process.exit(2);
}
const report = await migrateSiteKeys(clients(), { dryRun: args.includes('--dry-run'), ...(maxItems !== undefined ? { maxItems } : {}) });
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.remaining || report.problems.length ? 1 : 0);
