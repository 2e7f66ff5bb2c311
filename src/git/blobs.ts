// File contents at a commit through one long-lived `git cat-file --batch` process: one request
// line in, one object out, so reading thousands of files costs one process, not thousands.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GIT_FLAGS, gitEnv } from './exec.js';

export type BlobResult = { kind: 'blob'; data: Buffer } | { kind: 'missing' } | { kind: 'too-large'; size: number };

interface Pending {
  resolve(result: BlobResult): void;
  reject(error: Error): void;
}

export class BlobReader {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private readonly pending: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** the object being received: its size and type, once its header line has arrived */
  private body: { size: number; type: string; remaining: number } | undefined;
  private failed: Error | undefined;

  constructor(
    private readonly cwd: string,
    /** objects larger than this are drained, not kept */
    private readonly maxBytes: number,
  ) {}

  /** `spec` is `<commit>:<path>`. Resolves `missing` for paths that do not exist or are not files. */
  read(spec: string): Promise<BlobResult> {
    // the batch protocol is line-based: a path with a newline cannot be asked for
    if (spec.includes('\n') || spec.includes('\r')) return Promise.resolve({ kind: 'missing' });
    if (this.failed) return Promise.reject(this.failed);
    const proc = this.start();
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      proc.stdin.write(`${spec}\n`);
    });
  }

  close(): void {
    if (!this.proc) return;
    this.proc.stdin.end();
    this.proc = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = spawn('git', [...GIT_FLAGS, 'cat-file', '--batch'], { cwd: this.cwd, env: gitEnv(), windowsHide: true });
    proc.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    proc.stdin.on('error', (error) => this.fail(error));
    proc.on('error', (error) => this.fail(error));
    proc.on('close', (code) => {
      if (this.pending.length) this.fail(new Error(`git cat-file exited (${code}) with ${this.pending.length} reads unanswered`));
      if (this.proc === proc) this.proc = undefined;
    });
    this.proc = proc;
    return proc;
  }

  private fail(error: Error): void {
    this.failed = error;
    for (const p of this.pending.splice(0)) p.reject(error);
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (!this.body) {
        const data = this.take();
        const eol = data.indexOf(10);
        if (eol === -1) return;
        const header = data.subarray(0, eol).toString('utf8');
        this.chunks = [];
        this.buffered = 0;
        this.keep(data.subarray(eol + 1));
        // `<sha> <type> <size>`, or `<spec> missing` / `<spec> ambiguous`
        const parts = header.split(' ');
        const size = Number(parts[2]);
        if (parts.length === 3 && Number.isInteger(size) && size >= 0) {
          this.body = { size, type: parts[1]!, remaining: size + 1 };
        } else {
          this.pending.shift()?.resolve({ kind: 'missing' });
        }
        continue;
      }
      const body = this.body;
      if (body.size > this.maxBytes) {
        // an object over the limit is counted off as it streams in, never held whole
        const data = this.take();
        const drop = Math.min(data.length, body.remaining);
        body.remaining -= drop;
        this.chunks = [];
        this.buffered = 0;
        this.keep(data.subarray(drop));
        if (body.remaining > 0) return;
        this.body = undefined;
        this.pending.shift()?.resolve(body.type === 'blob' ? { kind: 'too-large', size: body.size } : { kind: 'missing' });
        continue;
      }
      // the object, then a newline
      if (this.buffered < body.remaining) return;
      const data = this.take();
      this.chunks = [];
      this.buffered = 0;
      this.keep(data.subarray(body.remaining));
      this.body = undefined;
      this.pending.shift()?.resolve(body.type === 'blob' ? { kind: 'blob', data: Buffer.from(data.subarray(0, body.size)) } : { kind: 'missing' });
    }
  }

  /** All buffered bytes as one buffer (the chunks stay until the caller clears them). */
  private take(): Buffer {
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [data];
    return data;
  }

  private keep(rest: Buffer): void {
    if (rest.length) {
      this.chunks.push(rest);
      this.buffered += rest.length;
    }
  }
}
