import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Checkpoint } from './checkpoint';

/** Somewhere outside the database that keeps signed checkpoints. */
export interface CheckpointSink {
  readonly name: string;
  write(checkpoints: readonly Checkpoint[]): Promise<void>;
}

/** Appends one JSON line per checkpoint (the format `audit verify --checkpoints` reads). */
export class FileCheckpointSink implements CheckpointSink {
  readonly name: string;

  constructor(private readonly file: string) {
    this.name = `file ${file}`;
  }

  async write(checkpoints: readonly Checkpoint[]): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, checkpoints.map((checkpoint) => JSON.stringify(checkpoint) + '\n').join(''), { mode: 0o600 });
  }
}

const HTTP_TIMEOUT_MS = 5000;

/** POSTs `{"checkpoints": [...]}` as JSON; anything but a 2xx is a failure (retried next round). */
export class HttpCheckpointSink implements CheckpointSink {
  readonly name: string;

  constructor(private readonly url: string) {
    this.name = `http ${new URL(url).origin}`;
  }

  async write(checkpoints: readonly Checkpoint[]): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ checkpoints }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`checkpoint sink answered ${response.status}`);
  }
}
