/**
 * Where a transfer's bytes come from. Boot binaries are small and fetched by every node
 * of a rack at once, so files up to `maxFileBytes` are held in memory (checked against
 * size, mtime and inode on every request, so a replaced file is never served stale);
 * larger files are read per window from an open descriptor.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';

export interface FileSource {
  size: number;
  /** Returns `length` bytes at `position` (fewer at the end of the file). */
  read(position: number, length: number): Buffer | Promise<Buffer>;
  close(): Promise<void>;
}

interface Entry {
  key: string;
  data: Buffer;
}

export class FileCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly maxFileBytes = 16 * 2 ** 20, private readonly maxTotalBytes = 128 * 2 ** 20) {}

  async open(path: string, netascii: boolean): Promise<FileSource> {
    const st = await stat(path);
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    if (st.size <= this.maxFileBytes) {
      let entry = this.entries.get(path);
      if (!entry || entry.key !== key) {
        entry = { key, data: await readFile(path) };
        this.remember(path, entry);
      } else {
        // Map order doubles as recency order for eviction.
        this.entries.delete(path);
        this.entries.set(path, entry);
      }
      const data = netascii ? toNetascii(entry.data) : entry.data;
      return { size: data.length, read: (pos, len) => data.subarray(pos, pos + len), close: async () => {} };
    }
    if (netascii) throw new Error(`netascii transfers are limited to ${this.maxFileBytes} bytes`);
    return handleSource(await open(path, 'r'), st.size);
  }

  private remember(path: string, entry: Entry): void {
    const old = this.entries.get(path);
    if (old) {
      this.bytes -= old.data.length;
      this.entries.delete(path);
    }
    this.entries.set(path, entry);
    this.bytes += entry.data.length;
    for (const [p, e] of this.entries) {
      if (this.bytes <= this.maxTotalBytes || p === path) break;
      this.entries.delete(p);
      this.bytes -= e.data.length;
    }
  }
}

function handleSource(fh: FileHandle, size: number): FileSource {
  return {
    size,
    read: async (position, length) => {
      const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - position)));
      const { bytesRead } = await fh.read(buf, 0, buf.length, position);
      return buf.subarray(0, bytesRead);
    },
    close: () => fh.close(),
  };
}

/** RFC 764 netascii: LF → CR LF, CR → CR NUL. */
export function toNetascii(data: Buffer): Buffer {
  let extra = 0;
  for (const b of data) if (b === 0x0a || b === 0x0d) extra++;
  if (extra === 0) return data;
  const out = Buffer.allocUnsafe(data.length + extra);
  let j = 0;
  for (const b of data) {
    if (b === 0x0a) { out[j++] = 0x0d; out[j++] = 0x0a; } else if (b === 0x0d) { out[j++] = 0x0d; out[j++] = 0; } else out[j++] = b;
  }
  return out;
}
