/**
 * GET/HEAD /boot/v1/ipxe/<file>: the iPXE binaries of the TFTP root, for UEFI HTTP-boot clients.
 * A plain file name only (no '/', so no '..'): what the admin put in the iPXE directory,
 * symlinks included (Debian links ipxe.efi into /boot), and nothing else.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HttpError } from './respond.js';
import type { HttpServices, Route } from './route.js';

export function ipxeRoutes(s: HttpServices): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/boot\/v1\/ipxe\/([A-Za-z0-9][\w.-]*)$/,
      handle: async ({ req, res, params }) => {
        const name = params[0]!;
        if (!s.opts.ipxeDir) throw new HttpError(404, 'no iPXE directory configured (--tftp-root)');
        const file = join(s.opts.ipxeDir, name);
        const st = await stat(file).catch(() => null);
        if (!st?.isFile()) throw new HttpError(404, `no iPXE binary ${name}`);
        res.writeHead(200, { 'content-type': 'application/efi', 'content-length': st.size });
        if (req.method === 'HEAD') return void res.end();
        await pipeline(createReadStream(file), res);
      },
    },
  ];
}
