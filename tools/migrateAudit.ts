/**
 * Moves audit records of earlier versions to the sharded keys (functions/shared/auditMigration.ts).
 * Run once after upgrading, against the deployment's table (SKYBOOT_TABLE, AWS credentials and
 * region as for any SDK call): `node --import tsx tools/migrateAudit.ts`. Safe to re-run.
 */
import { clients } from '../functions/shared/clients.js';
import { migrateLegacyAudit } from '../functions/shared/auditMigration.js';

const result = await migrateLegacyAudit(clients());
process.stdout.write(`${JSON.stringify(result)}\n`);
